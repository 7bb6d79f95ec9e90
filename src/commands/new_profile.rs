//! What `sealctl init` and `sealctl profile add` share: a new profile (or a replaced one) written
//! into the profile file, with its token sealed, then the file checked. `init` may ask for the
//! settings on a terminal (`questions`); `profile add` never does.

use std::path::Path;

use clap::Args;
use sealctl_profile::file::{read_limited, resolve_links};
use sealctl_profile::{ProfileDocument, Severity, setting_problem};
use sealctl_seal::{Destination, Needs};
use sealctl_seal::{
    IdentitySource, Place, Recipient, default_identity_path, new_identity_file, prompt,
};

use super::backend::{self, BackendArgs, Sealer};
use super::questions;
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status};

/// What a new profile is made of: the flags of `init` and `profile add`.
#[derive(Debug, Args)]
pub struct NewProfileArgs {
    /// The profile's name (default: `default`, the one influxctl uses when none is named).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// `clustered` (InfluxDB 3 Clustered) or `dedicated` (InfluxDB 3 Cloud Dedicated).
    #[arg(long, value_name = "PRODUCT", value_parser = ["clustered", "dedicated"])]
    pub product: Option<String>,

    /// The cluster's host name, without scheme or port (Clustered; optional for Dedicated).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// The port (Clustered; default 443).
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,

    /// The account id (Dedicated).
    #[arg(long, value_name = "UUID")]
    pub account_id: Option<String>,

    /// The cluster id (Dedicated).
    #[arg(long, value_name = "UUID")]
    pub cluster_id: Option<String>,

    #[command(flatten)]
    pub backend: BackendArgs,

    /// A recipient to seal the file's tokens to, besides any it lists (age1…, ssh-ed25519 …,
    /// ssh-rsa …); repeatable. Default: your own identity's, made if there is none.
    #[arg(long, value_name = "RECIPIENT")]
    pub recipient: Vec<String>,

    /// Read the management token from standard input: the bare token, or the whole output of
    /// `influxctl management create`.
    #[arg(long)]
    pub token_stdin: bool,

    /// Replace a profile of the same name, and write the profile file even if it is read-only
    /// (it keeps its mode).
    #[arg(long)]
    pub force: bool,
}

/// `profile add`: `init` without questions, and without requiring a token.
pub fn add(global: &GlobalArgs, args: NewProfileArgs) -> Result<Status, CommandError> {
    create(global, args, false, false)
}

/// The keys a replaced profile loses unless the new settings give them.
const REPLACED_KEYS: &[&str] = &[
    "host",
    "port",
    "account_id",
    "cluster_id",
    "mgmt_token",
    "token",
];

/// The settings of the new profile, checked.
pub(super) struct Settings {
    /// The profile's name.
    pub(super) name: String,
    /// Its connection settings, as keys and values.
    pub(super) fields: Vec<(&'static str, String)>,
    /// Where its token is kept.
    pub(super) to: Destination,
}

/// Adds (or with `--force`, replaces) the profile and seals its token: what the flags do not
/// give is asked on the terminal when `ask`, and a missing token is an error when
/// `token_required` (`init`), else the note says how to set it later (`profile add`).
pub(super) fn create(
    global: &GlobalArgs,
    args: NewProfileArgs,
    ask: bool,
    token_required: bool,
) -> Result<Status, CommandError> {
    args.backend.check()?;
    let path = config_path::resolve(global.config.clone(), Need::MayCreate)?;
    let settings = if ask {
        questions::interrupted_questions_end_cleanly();
        questions::ask_settings(&args)?
    } else {
        flag_settings(&args)?
    };
    // Asked before the token, so that nobody pastes a token only to learn that the profile
    // exists and will not be replaced, or that the file will not be written.
    if path.exists() {
        let mut existing = ProfileDocument::load(&path)?;
        if args.force {
            existing.overwrite_read_only();
        }
        existing.check_writable()?;
    }
    let mut replace = args.force;
    if ask && !replace && path.exists() {
        let existing = ProfileDocument::load(&path)?;
        if existing.profile_names().contains(&settings.name) {
            replace = prompt::confirm(&format!(
                "{} has a profile `{}` already. Replace it?",
                path.display(),
                crate::ui::visible(&settings.name)
            ))
            .map_err(|error| CommandError::setup("cannot ask").source(error))?;
            if !replace {
                return Err(profile_exists(&path, &settings.name));
            }
        }
    }
    let token = if ask && !args.token_stdin {
        Some(questions::ask_token(&settings.name)?)
    } else if args.token_stdin {
        Some(crate::token_input::from_stdin()?)
    } else if token_required {
        return Err(CommandError::setup("no management token given")
            .hint("pipe it in with --token-stdin (the bare token, or the output of `influxctl management create`)"));
    } else {
        None
    };

    // Everything is asked: from here Ctrl-C no longer means "nothing was changed".
    questions::done_asking();
    // An existing file is locked while it changes; a new one is written (mode 0600) only once
    // everything else has worked.
    let new_file = !path.exists();
    let (mut document, _lock) = if new_file {
        // Through a link to a file not made yet (a dotfiles link), the file is made at the
        // link's target, and its folder is the one to make.
        let target = resolve_links(&path)?;
        make_private_folder(target.parent().unwrap_or(Path::new(".")))?;
        (ProfileDocument::parse(path.clone(), "")?, None)
    } else {
        let (document, lock) = super::target::load_for_writing(&path, args.force)?;
        (document, Some(lock))
    };
    let mut replaced = Vec::new();
    let existed = document.profile_names().contains(&settings.name);
    if existed {
        if !replace {
            return Err(profile_exists(&path, &settings.name));
        }
        // Replaced in place, so that its comments and position stay: the connection settings
        // and tokens are the new ones; other settings (database, tls, auth) are kept.
        replaced = document
            .values(
                std::slice::from_ref(&settings.name),
                sealctl_profile::schema::SECRET_KEYS,
            )?
            .into_iter()
            .map(|found| found.value)
            .collect();
        for key in REPLACED_KEYS {
            if !settings.fields.iter().any(|(field, _)| field == key) {
                document.remove(&settings.name, key)?;
            }
        }
        for (key, value) in &settings.fields {
            document.set(&settings.name, key, value)?;
        }
    } else {
        let fields: Vec<(&str, &str)> = settings
            .fields
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        document.add_profile(&settings.name, &fields)?;
    }

    let mut sealer = None;
    if let Some(token) = &token {
        if settings.to.backend().needs() == Needs::Recipients {
            prepare_recipients(&mut document, global, &args.recipient)?;
        }
        let mut made = Sealer::new(global, &mut document, settings.to.clone())?;
        let place = Place::new(settings.name.clone(), "mgmt_token");
        let endpoint = document.endpoint(&settings.name)?;
        let value = made.seal(&token.token, &place, &endpoint, &path, token.expires_at)?;
        document.set(&settings.name, "mgmt_token", &value)?;
        sealer = Some(made);
    }
    match sealer {
        Some(sealer) => sealer.save(&mut document)?,
        None => document.save()?,
    }
    backend::forget_replaced(replaced.iter().map(String::as_str))?;

    note!(
        "{} profile `{}` {} {}{}",
        if existed { "replaced" } else { "added" },
        crate::ui::visible(&settings.name),
        if existed { "in" } else { "to" },
        path.display(),
        if new_file {
            " (a new file, mode 0600)"
        } else {
            ""
        }
    );
    report_check(&path)?;
    // Pasted as they are, these act on this file and this profile.
    if token.is_none() {
        note!(
            "next: set its management token with `{}`",
            crate::ui::CommandLine::sealctl(&["token", "set"])
                .file(&path)
                .profile(&settings.name)
        );
    } else {
        note!(
            "next: {}",
            crate::ui::CommandLine::sealctl(&["exec"])
                .file(&path)
                .profile(&settings.name)
                .args(["--", "influxctl", "database", "list"])
        );
    }
    Ok(Status::Success)
}

/// The settings from flags alone; a missing one is an error that names its flag.
fn flag_settings(args: &NewProfileArgs) -> Result<Settings, CommandError> {
    let missing = |flag: &str, what: &str| {
        CommandError::setup(format!("{what} is missing: pass {flag}")).hint(
            "without a terminal (or with --no-input) nothing is asked; see `sealctl init --help`",
        )
    };
    let name = args.name.clone().unwrap_or_else(|| "default".to_owned());
    let product = args
        .product
        .clone()
        .ok_or_else(|| missing("--product clustered|dedicated", "the product"))?;
    let mut fields = vec![("product", product.clone())];
    if product == "clustered" {
        let host = args
            .host
            .clone()
            .ok_or_else(|| missing("--host HOST", "the cluster's host"))?;
        fields.push(("host", host));
        fields.push((
            "port",
            args.port.clone().unwrap_or_else(|| "443".to_owned()),
        ));
    } else {
        let account = args
            .account_id
            .clone()
            .ok_or_else(|| missing("--account-id UUID", "the account id"))?;
        let cluster = args
            .cluster_id
            .clone()
            .ok_or_else(|| missing("--cluster-id UUID", "the cluster id"))?;
        fields.push(("account_id", account));
        fields.push(("cluster_id", cluster));
        if let Some(host) = &args.host {
            fields.push(("host", host.clone()));
        }
        if let Some(port) = &args.port {
            fields.push(("port", port.clone()));
        }
    }
    for (key, value) in std::iter::once(("name", &name)).chain(fields.iter().map(|(k, v)| (*k, v)))
    {
        if let Some(problem) = setting_problem(key, value) {
            return Err(CommandError::setup(format!(
                "--{} {value:?}: {problem}",
                key.replace('_', "-")
            )));
        }
    }
    Ok(Settings {
        name,
        fields,
        to: args.backend.destination_or(None),
    })
}

fn profile_exists(path: &Path, name: &str) -> CommandError {
    CommandError::setup(format!("{} has a profile `{name}` already", path.display()))
        .hint("pass --force to replace it, or --name to add another")
}

/// Makes sure the file will have recipients for age. A file that lists none gets yours (your
/// identity is made first if you have none) and the ones given; a file that lists some keeps
/// them and gets the ones given.
fn prepare_recipients(
    document: &mut ProfileDocument,
    global: &GlobalArgs,
    given: &[String],
) -> Result<(), CommandError> {
    let mut recipients = document.recipients();
    if recipients.is_empty() {
        let mut sources = IdentitySource::discover_from_env(&global.identity);
        if sources.is_empty() {
            let path = default_identity_path().ok_or_else(|| {
                CommandError::setup("this system has no home folder for the default identity").hint(
                    "make one with `sealctl identity new --out FILE` and pass --identity FILE",
                )
            })?;
            let recipient = new_identity_file(&path)?;
            // Said even with -q: losing this file loses every value sealed only to it.
            eprintln!(
                "made your age identity: {} (recipient {recipient})\n\
                 back it up: values sealed only to it cannot be opened without it",
                crate::ui::visible(&path.to_string_lossy())
            );
            sources.push(IdentitySource::File(path));
        }
        let own = sources.swap_remove(0).recipients()?;
        recipients.extend(own.iter().map(ToString::to_string));
    }
    for text in given {
        let recipient: Recipient =
            text.parse()
                .map_err(|problem| sealctl_seal::RecipientError::Invalid {
                    shown: sealctl_profile::recipient::show_entry(text),
                    problem,
                })?;
        let canonical = recipient.to_string();
        if !recipients.contains(&canonical) {
            recipients.push(canonical);
        }
    }
    if recipients != document.recipients() {
        document.set_recipients(&recipients)?;
    }
    Ok(())
}

/// Runs `check` on the new file and says what it found.
fn report_check(path: &Path) -> Result<(), CommandError> {
    let bytes = read_limited(path)?;
    let checked = sealctl_profile::check(&bytes);
    let errors = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = checked.diagnostics.len() - errors;
    if errors + warnings == 0 {
        note!("checked {}: no problems found", path.display());
    } else {
        note!(
            "checked {}: {errors} error(s), {warnings} warning(s); `sealctl check {}` shows them",
            path.display(),
            crate::ui::shell_quote(&path.to_string_lossy())
        );
    }
    Ok(())
}

/// Creates a folder (and its parents) with mode 0700, as influxctl's own config folder is.
fn make_private_folder(folder: &Path) -> Result<(), CommandError> {
    if folder.as_os_str().is_empty() || folder.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder).map_err(|error| {
        CommandError::setup(format!("cannot create {}", folder.display())).source(error)
    })
}
