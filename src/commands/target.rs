//! What a command acts on: the profile file, the profiles in scope,
//! their secret values, and the identities and recipients to open and seal them with.

use std::path::PathBuf;

use clap::Args;
use sealctl_profile::paths::{choose_profile_from_env, default_config_path};
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::looks_sealed;
use sealctl_profile::{FileLock, ProfileDocument, ProfileError, ProfileValue};
use sealctl_seal::{Identities, IdentitySource, Place, Recipient};

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
            CommandError::setup(format!("there is no profile file at {}", path.display()))
                .hint("name the file with --config FILE, or create one with `influxctl init`"),
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
        eprintln!(
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
                        .hint("fix or remove it with `sealctl recipients rm`")
                    })
            })
            .collect();
    }
    let source = IdentitySource::discover_from_env(&global.identity).into_iter().next().ok_or_else(|| {
        CommandError::setup(format!("{} lists no recipients to seal to, and there is no identity", document.path().display()))
            .hint("create your identity with `sealctl identity new`, or add recipients with `sealctl recipients add`")
    })?;
    let recipients = source.recipients()?;
    document.set_recipients(
        &recipients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    )?;
    eprintln!("recorded the recipients of {source} in [sealctl] recipients");
    Ok(recipients)
}
