//! What a command acts on: the profile file, the profiles in scope,
//! their secret values, and the identities and recipients to open and seal them with.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Args;
use sealctl_profile::paths::choose_profile_from_env;
use sealctl_profile::recipient::{RecipientProblem, show_entry};
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::{SealedValue, canonical_recipient, looks_sealed};
use sealctl_profile::{FileLock, ProfileDocument, ProfileError, ProfileValue};
use sealctl_seal::keyring::Keyring;
use sealctl_seal::{
    Access, Endpoint, Identities, IdentitySource, LoadError, OpenError, Place, Recipient,
};
use secrecy::SecretString;

use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::CommandError;

/// sealctl's own variables that hold a key, or lead to one: the program never sees them, so that
/// neither it nor anything it starts can open every sealed value. `SEALCTL_CI_IDENTITY` is the
/// name docs/ci.md gives the CI secret, which some CI systems export as it is.
pub const KEY_VARIABLES: [&str; 3] = [
    sealctl_seal::IDENTITY_ENV,
    sealctl_seal::IDENTITY_FILE_ENV,
    "SEALCTL_CI_IDENTITY",
];

/// `--all`, beside the global `--profile`.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Every profile in the file, instead of the one --profile (or INFLUXCTL_PROFILE) names.
    #[arg(long, conflicts_with = "profile")]
    pub all: bool,
}

/// `--force`, on every command that writes the profile file.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Write the profile file even if it is read-only; it keeps its mode.
    #[arg(long)]
    pub force: bool,
}

/// Locks and loads a file that the command will change, refusing at once (before any question
/// or token) a file that cannot be written: a read-only one without `force`, or one that is not a
/// regular file.
pub fn load_for_writing(
    path: &std::path::Path,
    force: bool,
) -> Result<(ProfileDocument, FileLock), CommandError> {
    let (mut document, lock) = ProfileDocument::load_locked(path)?;
    if force {
        document.overwrite_read_only();
    }
    document.check_writable()?;
    Ok((document, lock))
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

/// The values of the secret keys (`mgmt_token`, `token`) of these profiles that are present, as
/// written (sealed or plaintext), each with where its profile sends it now.
pub fn secret_values(
    document: &ProfileDocument,
    profiles: &[String],
) -> Result<Vec<(ProfileValue, Endpoint)>, CommandError> {
    Ok(document.values_with_endpoints(profiles, SECRET_KEYS)?)
}

/// The command that re-seals a profile's values for its current endpoint, to paste as it is.
pub fn rebind_command(config: &Path, profile: &str) -> String {
    crate::ui::CommandLine::sealctl(&["rekey", "--rebind"])
        .file(config)
        .profile(profile)
        .to_string()
}

/// What to do about a value that will not open for its profile's endpoint, as hints.
pub fn explain_binding(error: OpenError, config: &Path) -> CommandError {
    let profile = match &error {
        OpenError::EndpointChanged { place, .. } | OpenError::EndpointEdited { place, .. } => {
            place.profile.clone()
        }
        _ => return error.into(),
    };
    let message = error.to_string();
    let generic = CommandError::from(error);
    let mut explained = CommandError::setup(message).hint(format!(
        "if the profile moved on purpose, re-seal its tokens for where it points now (needs the identity): {}",
        rebind_command(config, &profile)
    ));
    for hint in generic.hints() {
        explained = explained.hint(hint.clone());
    }
    explained
}

/// The profile file, locked for as long as this lives, and the secret values in scope that a
/// command works on.
pub struct LockedValues {
    pub path: PathBuf,
    pub document: ProfileDocument,
    /// Each with where its profile sends it now.
    pub values: Vec<(ProfileValue, Endpoint)>,
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
    write: &WriteArgs,
    wanted: Wanted,
    verb: &str,
) -> Result<Option<LockedValues>, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (document, lock) = load_for_writing(&path, write.force)?;
    let profiles = profiles(&document, global, all)?;
    let values: Vec<(ProfileValue, Endpoint)> = secret_values(&document, &profiles)?
        .into_iter()
        .filter(|(secret, _)| match wanted {
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

/// The file's recipients. A file that lists none is sealed to the first identity found (the
/// default one, usually), which is then recorded in its `[sealctl]` table: the note that says so
/// comes back too, to be told once the file is saved, not before.
pub fn recipients(
    document: &mut ProfileDocument,
    global: &GlobalArgs,
) -> Result<(Vec<Recipient>, Option<String>), CommandError> {
    let listed = document.recipients();
    if !listed.is_empty() {
        return listed
            .iter()
            .map(|recipient| {
                recipient.parse().map_err(|problem: RecipientProblem| {
                    let entry = if matches!(
                        problem,
                        RecipientProblem::PrivateKey | RecipientProblem::Empty
                    ) {
                        "an entry".to_owned()
                    } else {
                        format!("entry `{}`", show_entry(recipient))
                    };
                    CommandError::setup(format!(
                        "{}: [sealctl] recipients {entry} {problem}",
                        document.path().display()
                    ))
                    .hint(problem.help())
                    .hint(format!(
                        "`sealctl check {}` lists every such entry; `{}` removes one",
                        crate::ui::shell_quote(&document.path().to_string_lossy()),
                        crate::ui::CommandLine::sealctl(&["recipients", "rm"])
                            .file(document.path())
                            .no_profile()
                            .args([if entry == "an entry" {
                                "ENTRY"
                            } else {
                                recipient.as_str()
                            }])
                    ))
                })
            })
            .collect::<Result<_, _>>()
            .map(|recipients| (recipients, None));
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
    let recorded = format!("recorded the recipients of {source} in [sealctl] recipients");
    Ok((recipients, Some(recorded)))
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

/// What the library's backends reach for, each loaded only when the first value that needs it
/// comes: the identities (`--identity`, the environment, the default file) and the keyrings
/// (with `SEALCTL_KEYRING_TIMEOUT`).
pub fn access(global: &GlobalArgs, config: &Path) -> Access {
    let _ = CONFIG.set(config.to_owned());
    let explicit = global.identity.clone();
    let verbose = global.verbose > 0;
    Access::new(
        Box::new(move || {
            let identities = Identities::load(IdentitySource::discover_from_env(&explicit))
                .map_err(|error| LoadError(Box::new(CommandError::from(error))))?;
            // A line sealctl cannot use is skipped, as age would use the rest: said at -v.
            if verbose {
                for skipped in identities.skipped() {
                    note!("skipped {skipped}");
                }
            }
            Ok(identities)
        }),
        keyring_loader(),
    )
    .with_settings(
        settings_loader(config),
        Box::new(|warning| warning!("{warning}")),
    )
}

/// The profile file this command works on, once a sealer or opener named it: deleting what
/// replaced values kept reads the file's backend settings from it.
static CONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// [`access`] for deleting what replaced values kept: no identity is needed for that.
pub fn access_without_identities() -> Access {
    let config = CONFIG.get().cloned().unwrap_or_default();
    Access::new(
        Box::new(|| {
            Err(LoadError(
                "no identity is needed to delete a stored value".into(),
            ))
        }),
        keyring_loader(),
    )
    .with_settings(
        settings_loader(&config),
        Box::new(|warning| warning!("{warning}")),
    )
}

/// The `[sealctl.<backend>]` tables of the profile file at `config`, read when a backend with
/// settings first needs them; none if the file is not there (yet).
pub fn settings_loader(config: &Path) -> sealctl_seal::Loader<sealctl_seal::BackendSettings> {
    let config = config.to_owned();
    Box::new(move || {
        if config.as_os_str().is_empty() || !config.exists() {
            return Ok(sealctl_seal::BackendSettings::new());
        }
        sealctl_profile::ProfileDocument::load(&config)
            .map(|document| document.backend_settings())
            .map_err(|error| LoadError(Box::new(CommandError::from(error))))
    })
}

fn keyring_loader() -> sealctl_seal::Loader<Keyring> {
    Box::new(|| keyring().map_err(|error| LoadError(Box::new(error))))
}

/// Opens values of any backend through the library's [`sealctl_seal::Opener`], which checks
/// each one's place and endpoint; this adds what the user is told: the hints of a binding that
/// failed, and a warning for a value bound to no endpoint.
pub struct Opener {
    inner: sealctl_seal::Opener,
    /// The profile file the values are in, for the hints.
    config: PathBuf,
    /// Whether an unbound value is warned about: not by a command that seals it again, which
    /// binds it.
    warn_unbound: bool,
}

impl Opener {
    pub fn new(global: &GlobalArgs, config: &Path) -> Opener {
        Opener::with_access(access(global, config), config)
    }

    /// An opener reaching what the values need through `access`.
    pub fn with_access(access: Access, config: &Path) -> Opener {
        Opener {
            inner: sealctl_seal::Opener::new(access),
            config: config.to_owned(),
            warn_unbound: true,
        }
    }

    /// For a command that seals what it opens again, and so binds an unbound value: no warning
    /// that it is unbound.
    pub fn resealing(mut self) -> Opener {
        self.warn_unbound = false;
        self
    }

    /// The secret of `value` at `place`, whose profile points at `endpoint`: opened if sealed
    /// (and bound there), as is if plaintext.
    pub fn open(
        &mut self,
        value: &str,
        place: &Place,
        endpoint: &Endpoint,
    ) -> Result<SecretString, CommandError> {
        if !looks_sealed(value) {
            return Ok(SecretString::from(value.to_owned()));
        }
        let sealed = SealedValue::parse(value).map_err(OpenError::from)?;
        let opened = self
            .inner
            .open(&sealed, place, endpoint)
            .map_err(|error| explain_binding(error, &self.config))?;
        self.warn_if_unbound(&sealed, place, endpoint);
        Ok(opened)
    }

    /// Opens the sealed ones of `values` together ahead of use, so that an age plugin (a hardware
    /// key) is started once and asks once for them all; each is still judged where `open` hands
    /// it out.
    pub fn open_together<'v>(&mut self, values: impl IntoIterator<Item = &'v ProfileValue>) {
        let sealed: Vec<(SealedValue, &Place)> = values
            .into_iter()
            .filter(|value| looks_sealed(&value.value))
            .filter_map(|value| Some((SealedValue::parse(&value.value).ok()?, &value.place)))
            .collect();
        if sealed.len() > 1 {
            let together: Vec<_> = sealed.iter().map(|(sealed, place)| (sealed, *place)).collect();
            self.inner.open_together(&together);
        }
    }

    /// The whole envelope of `sealed` at `place`, whatever endpoint it is bound to (`rekey
    /// --rebind`).
    pub fn open_envelope(
        &mut self,
        sealed: &SealedValue,
        place: &Place,
    ) -> Result<sealctl_seal::Envelope, OpenError> {
        self.inner.open_envelope(sealed, place)
    }

    /// `sealed` at `place` re-sealed in its store without being opened, if its backend can.
    pub fn refresh(
        &mut self,
        sealed: &SealedValue,
        place: &Place,
    ) -> Option<Result<String, OpenError>> {
        self.inner.refresh(sealed, place)
    }

    /// A value without `ep=` is one `check` calls unbound: it would have opened for any endpoint,
    /// so say so where it is used too.
    fn warn_if_unbound(&self, sealed: &SealedValue, place: &Place, endpoint: &Endpoint) {
        if self.warn_unbound && sealed.endpoint_digest().is_none() {
            warning!(
                "{place} is not bound to an endpoint (sealed by an earlier sealctl): it would open for whatever host the profile names\nhint: if {endpoint} is where it belongs, bind it there: {}",
                rebind_command(&self.config, &place.profile)
            );
        }
    }
}

/// The endpoint of one profile: where its tokens go.
pub fn endpoint(document: &ProfileDocument, profile: &str) -> Result<Endpoint, CommandError> {
    Ok(document.endpoint(profile)?)
}

/// Warns on standard error when a sealed value's token has expired (always), or expires within
/// the window `check` warns about (unless -q): the file's `[sealctl] expiry_warning`, else 14
/// days. Never on standard output, which scripts read; the token is given all the same: the
/// server decides.
pub fn warn_expiry(value: &str, place: &Place, document: &ProfileDocument) {
    let config = document.path();
    let Some(expiry) = SealedValue::parse(value)
        .ok()
        .and_then(|sealed| sealed.expires_at())
    else {
        return;
    };
    let at = humantime::format_rfc3339_seconds(expiry);
    let renew = format!(
        "create a new token (influxctl management create) and set it: {}",
        crate::ui::CommandLine::sealctl(&["token", "set"])
            .file(config)
            .profile(&place.profile)
            .args(["--key", place.key.as_str()])
    );
    match expiry.duration_since(SystemTime::now()) {
        Err(ago) => warning!(
            "the token in {place} expired at {at}, {} ago; the server will probably refuse it\nhint: {renew}",
            span_in_words(ago.duration())
        ),
        Ok(left) if left <= document.expiry_warning() && !crate::ui::quiet() => warning!(
            "the token in {place} expires at {at}, in {}\nhint: {renew}",
            span_in_words(left)
        ),
        Ok(_) => {}
    }
}

/// A time span as a person says it: days, else hours, else minutes.
fn span_in_words(span: Duration) -> String {
    let (count, unit) = match span.as_secs() {
        secs if secs >= 86_400 => (secs / 86_400, "day"),
        secs if secs >= 3_600 => (secs / 3_600, "hour"),
        secs => (secs / 60, "minute"),
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// The warning for sealing to `recipients` when none of them is one of the user's identities:
/// the user could not open what is sealed. `None` when one is, and when there is nothing to
/// compare with: no identity at all (sealing needs none: a CI job or a teammate setting a token
/// for others), or one whose recipient shows only once it is unlocked.
pub fn not_yours_warning(
    recipients: &[Recipient],
    global: &GlobalArgs,
    config: &Path,
) -> Option<String> {
    let sources = IdentitySource::discover_from_env(&global.identity);
    let mut own = Vec::new();
    for source in &sources {
        match source.recipients() {
            Ok(found) if !found.is_empty() => own.extend(found),
            _ => return None,
        }
    }
    let first = own.first()?;
    let listed: Vec<String> = recipients
        .iter()
        .map(|recipient| canonical_recipient(&recipient.to_string()))
        .collect();
    if own
        .iter()
        .any(|recipient| listed.contains(&canonical_recipient(&recipient.to_string())))
    {
        return None;
    }
    let names: Vec<String> = sources.iter().map(ToString::to_string).collect();
    let first = first.to_string();
    Some(format!(
        "none of your identities ({}) is a recipient of {}: you will not be able to open what was sealed\n\
         hint: to open it yourself, add your recipient with `{}`, then have someone who can open it run `{}` (or set the token again)",
        names.join(", "),
        config.display(),
        crate::ui::CommandLine::sealctl(&["recipients", "add"])
            .file(config)
            .no_profile()
            .args([first.as_str()]),
        crate::ui::CommandLine::sealctl(&["rekey"])
            .file(config)
            .all(),
    ))
}
