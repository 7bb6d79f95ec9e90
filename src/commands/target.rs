//! What a command acts on: the profile file, the profiles in scope,
//! their secret values, and the identities and recipients to open and seal them with.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use sealctl_profile::paths::{choose_profile_from_env, default_config_path};
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::{Backend, SealedValue, looks_sealed};
use sealctl_profile::{FileLock, ProfileDocument, ProfileError, ProfileValue};
use sealctl_seal::keyring::{Keyring, KeyringRef};
use sealctl_seal::{Identities, IdentitySource, OpenError, Place, Recipient};
use secrecy::SecretString;

use crate::cli::GlobalArgs;
use crate::error::CommandError;

/// `--all`, beside the global `--profile`.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Every profile in the file, instead of the one --profile (or INFLUXCTL_PROFILE) names.
    #[arg(long, conflicts_with = "profile")]
    pub all: bool,
}

/// The profile file: --config, else influxctl's default, which must exist.
pub fn config_path(global: &GlobalArgs) -> Result<PathBuf, CommandError> {
    existing_config(global.config.clone())
}

/// The profile file named by `explicit`, else influxctl's default, which must exist.
pub fn existing_config(explicit: Option<PathBuf>) -> Result<PathBuf, CommandError> {
    let path = match explicit {
        Some(path) => path,
        None => default_config_path().ok_or_else(|| {
            CommandError::setup(
                "cannot find influxctl's profile file: this system has no home folder",
            )
            .hint("name the file with --config FILE")
        })?,
    };
    if !path.exists() {
        return Err(
            CommandError::setup(format!("there is no profile file at {}", path.display())).hint(
                format!(
                    "name the file with --config FILE, or create one with `{}`",
                    crate::ui::CommandLine::sealctl(&["init"]).file(&path)
                ),
            ),
        );
    }
    Ok(path)
}

/// The names of the profiles in scope: all of them with --all, else the chosen one, which
/// must exist.
pub fn profiles(
    document: &ProfileDocument,
    global: &GlobalArgs,
    all: bool,
) -> Result<Vec<String>, CommandError> {
    if all {
        return Ok(document.profile_names());
    }
    Ok(vec![profile(document, global.profile.as_deref())?])
}

/// The profile chosen as influxctl chooses it (`flag`, else INFLUXCTL_PROFILE, else `default`),
/// which must exist in the file.
pub fn profile(document: &ProfileDocument, flag: Option<&str>) -> Result<String, CommandError> {
    let chosen = choose_profile_from_env(flag).name;
    let names = document.profile_names();
    if names.contains(&chosen) {
        Ok(chosen)
    } else {
        Err(ProfileError::UnknownProfile {
            path: document.path().to_owned(),
            name: chosen,
            known: names,
        }
        .into())
    }
}

/// A secret key's value in a profile, as written (sealed or plaintext).
pub struct SecretValue {
    pub place: Place,
    pub value: String,
}

/// The values of the secret keys (`mgmt_token`, `token`) of these profiles that are present.
pub fn secret_values(
    document: &ProfileDocument,
    profiles: &[String],
) -> Result<Vec<SecretValue>, CommandError> {
    Ok(document
        .values(profiles, SECRET_KEYS)?
        .into_iter()
        .map(|found| SecretValue {
            place: Place::new(found.profile, found.key),
            value: found.value,
        })
        .collect())
}

/// The profile file, locked for as long as this lives, and the secret values in scope that a
/// command works on.
pub struct LockedValues {
    pub path: PathBuf,
    pub document: ProfileDocument,
    pub values: Vec<SecretValue>,
    _lock: FileLock,
}

/// Which secret values a command works on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// Sealed ones (unseal, rekey).
    Sealed,
    /// Non-empty plaintext ones (seal).
    Plaintext,
}

/// Locks and loads the file and finds the values in scope a command works on. With none, says
/// there is nothing to `verb` and returns `None`.
pub fn locked_values(
    global: &GlobalArgs,
    all: bool,
    wanted: Wanted,
    verb: &str,
) -> Result<Option<LockedValues>, CommandError> {
    let path = config_path(global)?;
    let (document, lock) = ProfileDocument::load_locked(&path)?;
    let profiles = profiles(&document, global, all)?;
    let values: Vec<SecretValue> = secret_values(&document, &profiles)?
        .into_iter()
        .filter(|secret| match wanted {
            Wanted::Sealed => looks_sealed(&secret.value),
            Wanted::Plaintext => !secret.value.is_empty() && !looks_sealed(&secret.value),
        })
        .collect();
    if values.is_empty() {
        let kind = if wanted == Wanted::Sealed {
            "sealed"
        } else {
            "plaintext"
        };
        note!(
            "nothing to {verb}: no {kind} token in {}",
            profiles.join(", ")
        );
        return Ok(None);
    }
    Ok(Some(LockedValues {
        path,
        document,
        values,
        _lock: lock,
    }))
}

/// Writes new values for these places, all at once.
pub fn write_values(
    document: &mut ProfileDocument,
    values: Vec<(Place, String)>,
) -> Result<(), CommandError> {
    let edits: Vec<ProfileValue> = values
        .into_iter()
        .map(|(place, value)| ProfileValue {
            profile: place.profile,
            key: place.key,
            value,
        })
        .collect();
    Ok(document.set_many(&edits)?)
}

/// The identities from --identity, the environment and the default file.
pub fn identities(global: &GlobalArgs) -> Result<Identities, CommandError> {
    Ok(Identities::load(IdentitySource::discover_from_env(
        &global.identity,
    ))?)
}

/// The file's recipients. A file that lists none is sealed to the first identity found (the
/// default one, usually), which is then recorded in its `[sealctl]` table.
pub fn recipients(
    document: &mut ProfileDocument,
    global: &GlobalArgs,
) -> Result<Vec<Recipient>, CommandError> {
    let listed = document.recipients();
    if !listed.is_empty() {
        return listed
            .iter()
            .map(|recipient| {
                recipient
                    .parse()
                    .map_err(|error: sealctl_seal::RecipientError| {
                        CommandError::setup(format!(
                            "{}: [sealctl] recipients: {error}",
                            document.path().display()
                        ))
                        .hint(format!(
                            "fix or remove it with `{}`",
                            crate::ui::CommandLine::sealctl(&["recipients", "rm"])
                                .file(document.path())
                                .no_profile()
                                .args([recipient.as_str()])
                        ))
                    })
            })
            .collect();
    }
    let source = IdentitySource::discover_from_env(&global.identity).into_iter().next().ok_or_else(|| {
        CommandError::setup(format!("{} lists no recipients to seal to, and there is no identity", document.path().display()))
            .hint(format!("create your identity with `sealctl identity new`, or add recipients with `{} RECIPIENT`", crate::ui::CommandLine::sealctl(&["recipients", "add"]).file(document.path()).no_profile()))
    })?;
    let recipients = source.recipients()?;
    document.set_recipients(
        &recipients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    )?;
    note!("recorded the recipients of {source} in [sealctl] recipients");
    Ok(recipients)
}

/// The variable that bounds each keyring call, in seconds (default 5).
pub const KEYRING_TIMEOUT_ENV: &str = "SEALCTL_KEYRING_TIMEOUT";

/// This machine's keyrings, each call bounded by SEALCTL_KEYRING_TIMEOUT. Making one connects
/// to nothing.
pub fn keyring() -> Result<Keyring, CommandError> {
    let Some(text) = std::env::var_os(KEYRING_TIMEOUT_ENV) else {
        return Ok(Keyring::default());
    };
    text.to_str()
        .and_then(|text| text.parse::<f64>().ok())
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|timeout| !timeout.is_zero())
        .map(|timeout| Keyring { timeout })
        .ok_or_else(|| {
            CommandError::setup(format!(
                "{KEYRING_TIMEOUT_ENV} must be a positive number of seconds"
            ))
        })
}

/// The keyring entry a value refers to, if it is a `keyring` value.
pub fn keyring_ref(value: &str) -> Option<KeyringRef> {
    SealedValue::parse(value).ok()?.keyring_ref()
}

/// Opens values of any backend, reaching for the identities or the keyring only when the first
/// value that needs them comes: opening age values never touches D-Bus, and opening keyring
/// values needs no identity.
pub struct Opener<'g> {
    global: &'g GlobalArgs,
    identities: Option<Identities>,
    keyring: Option<Keyring>,
}

impl<'g> Opener<'g> {
    pub fn new(global: &'g GlobalArgs) -> Opener<'g> {
        Opener {
            global,
            identities: None,
            keyring: None,
        }
    }

    /// The secret of `value` at `place`: opened if sealed, as is if plaintext.
    pub fn open(&mut self, value: &str, place: &Place) -> Result<SecretString, CommandError> {
        if !looks_sealed(value) {
            return Ok(SecretString::from(value.to_owned()));
        }
        let sealed = SealedValue::parse(value).map_err(OpenError::from)?;
        match sealed.backend {
            Backend::Age => {
                if self.identities.is_none() {
                    self.identities = Some(identities(self.global)?);
                }
                let identities = self.identities.as_ref().expect("just loaded");
                Ok(sealctl_seal::open(value, place, identities)?)
            }
            Backend::Keyring => {
                if self.keyring.is_none() {
                    self.keyring = Some(keyring()?);
                }
                let keyring = self.keyring.as_ref().expect("just made");
                Ok(keyring.open(&sealed, place)?)
            }
        }
    }
}
