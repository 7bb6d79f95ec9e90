//! `sealctl init` and `sealctl profile add`: a new profile with its token sealed, in one command.
//! On a terminal `init` asks for what the flags do not give, checking each answer by the rules of
//! `check`; without one (or with `--no-input`) everything comes from flags and nothing is asked.

use std::path::Path;

use clap::Args;
use dialoguer::{Input, Select};
use sealctl_profile::file::{read_limited, resolve_links};
use sealctl_profile::paths::default_config_path;
use sealctl_profile::{ProfileDocument, Severity, setting_problem};
use sealctl_seal::{Destination, Needs};
use sealctl_seal::{
    IdentitySource, Place, Recipient, TokenInput, default_identity_path, new_identity_file,
    parse_token_input, prompt,
};
use secrecy::ExposeSecret as _;

use super::backend::{self, BackendArgs, Sealer};
use super::token::read_stdin_token;
use crate::cli::GlobalArgs;
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

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl init                                   # asks, on a terminal\n  \
    sealctl init --no-input --product clustered --host cluster.example.com --token-stdin < token\n  \
    influxctl management create --description laptop | \\\n    \
    sealctl init --no-input --product dedicated --account-id … --cluster-id … --token-stdin\n\n\
Makes the age identity if there is none, the profile file at influxctl's default path (or --config)\n\
with folder 0700 and file 0600, adds the profile without disturbing the rest of the file, seals\n\
the token, and checks the result. An existing profile is replaced only with --force.")]
pub struct InitArgs {
    #[command(flatten)]
    pub profile: NewProfileArgs,

    /// Never ask: everything comes from flags (also when there is no terminal).
    #[arg(long)]
    pub no_input: bool,
}

pub fn cmd_init(global: &GlobalArgs, args: InitArgs) -> Result<Status, CommandError> {
    let ask = !args.no_input && prompt::can_prompt();
    create(global, args.profile, ask, true)
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
struct Settings {
    name: String,
    fields: Vec<(&'static str, String)>,
    to: Destination,
}

fn create(
    global: &GlobalArgs,
    args: NewProfileArgs,
    ask: bool,
    token_required: bool,
) -> Result<Status, CommandError> {
    args.backend.check()?;
    let path = match global.config.clone().or_else(default_config_path) {
        Some(path) => path,
        None => {
            return Err(CommandError::setup(
                "cannot find influxctl's profile file: this system has no home folder",
            )
            .hint("name the file with --config FILE"));
        }
    };
    let settings = if ask {
        interrupted_questions_end_cleanly();
        ask_settings(&args)?
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
        Some(ask_token(&settings.name)?)
    } else if args.token_stdin {
        Some(read_stdin_token()?)
    } else if token_required {
        return Err(CommandError::setup("no management token given")
            .hint("pipe it in with --token-stdin (the bare token, or the output of `influxctl management create`)"));
    } else {
        None
    };

    // Everything is asked: from here Ctrl-C no longer means "nothing was changed".
    ASKING.store(false, std::sync::atomic::Ordering::SeqCst);
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

/// The settings asked on the terminal, with the flags' values as the defaults.
fn ask_settings(args: &NewProfileArgs) -> Result<Settings, CommandError> {
    let asked = |error: dialoguer::Error| {
        // A menu hides the cursor and, interrupted, does not show it again: the terminal is
        // given it back before anything else is said.
        let _ = dialoguer::console::Term::stderr().show_cursor();
        let dialoguer::Error::IO(io) = &error;
        if io.kind() == std::io::ErrorKind::Interrupted {
            CommandError::setup("cancelled; nothing was changed")
        } else {
            CommandError::setup("cannot ask").source(error)
        }
    };
    let text = |label: &str, key: &'static str, default: Option<String>| {
        // Empty answers reach the check, so that a required one says why it is asked again.
        let mut input = Input::<String>::new()
            .with_prompt(label)
            .allow_empty(true)
            .validate_with(move |value: &String| {
                if value.trim().is_empty() {
                    return Err(format!("an answer is needed: {}", needed(key)));
                }
                match setting_problem(key, value) {
                    Some(problem) => Err(problem),
                    None => Ok(()),
                }
            });
        if let Some(default) = default {
            input = input.default(default);
        }
        input.interact_text().map_err(asked)
    };
    let name = text(
        "Profile name",
        "name",
        Some(args.name.clone().unwrap_or_else(|| "default".to_owned())),
    )?;
    let products = ["clustered", "dedicated"];
    let product = match &args.product {
        Some(product) => product.clone(),
        None => {
            let chosen = Select::new()
                .with_prompt("Product")
                .items([
                    "clustered (InfluxDB 3 Clustered)",
                    "dedicated (InfluxDB 3 Cloud Dedicated)",
                ])
                .default(0)
                .interact()
                .map_err(asked)?;
            products[chosen].to_owned()
        }
    };
    let mut fields = vec![("product", product.clone())];
    if product == "clustered" {
        fields.push(("host", text("Host", "host", args.host.clone())?));
        fields.push((
            "port",
            text(
                "Port",
                "port",
                Some(args.port.clone().unwrap_or_else(|| "443".to_owned())),
            )?,
        ));
    } else {
        fields.push((
            "account_id",
            text("Account id", "account_id", args.account_id.clone())?,
        ));
        fields.push((
            "cluster_id",
            text("Cluster id", "cluster_id", args.cluster_id.clone())?,
        ));
    }
    let to = if args.backend.backend.is_some() {
        args.backend.destination_or(None)
    } else {
        let offered = offered_backends(&args.backend);
        if offered.len() > 1 {
            let chosen = Select::new()
                .with_prompt("Keep the token")
                .items(offered.iter().map(|(_, offer)| offer))
                .default(0)
                .interact()
                .map_err(asked)?;
            offered.into_iter().nth(chosen).map(|(to, _)| to)
        } else {
            offered.into_iter().next().map(|(to, _)| to)
        }
        .unwrap_or_else(|| Destination::chosen(None, None, None))
    };
    Ok(Settings { name, fields, to })
}

/// Where a token can be kept, as `init` offers it: every backend this build has, the first
/// (sealed in the file) always; another only where it works (not where no D-Bus session or
/// Secret Service answers), with a note saying why not.
fn offered_backends(flags: &BackendArgs) -> Vec<(Destination, String)> {
    let mut access = sealctl_seal::Access::new(
        Box::new(|| {
            Err(sealctl_seal::LoadError(
                "no identity is needed to ask".into(),
            ))
        }),
        Box::new(|| super::target::keyring().map_err(|e| sealctl_seal::LoadError(Box::new(e)))),
    );
    let first = Destination::chosen(None, None, None);
    let mut offered = Vec::new();
    for backend in sealctl_seal::BACKENDS {
        // --keyring-store goes to the backend that has stores; the others have none.
        let store = flags.keyring_store.map(|store| store.name().to_owned());
        let Some(to) = Destination::new(backend.name(), store) else {
            continue;
        };
        let Some(offer) = backend.offer(to.store()) else {
            continue;
        };
        match backend.usable_here(to.store(), &mut access) {
            Ok(()) => offered.push((to, offer)),
            Err(why) => note!(
                "the token will be sealed with {}: {why}",
                first.backend().name()
            ),
        }
    }
    offered
}

/// The menus and text questions turn Ctrl-C into SIGINT, which would end the process with the
/// cursor they hid still hidden. While questions are asked, SIGINT shows the cursor again and
/// ends the run before anything is written; once they are answered, it ends the run as it would
/// have.
#[cfg(unix)]
fn interrupted_questions_end_cleanly() {
    use signal_hook::consts::SIGINT;
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            if ASKING.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                eprintln!("\nerror: cancelled; nothing was changed");
                std::process::exit(2);
            }
            let _ = signal_hook::low_level::emulate_default_handler(SIGINT);
        }
    });
}

/// Elsewhere Ctrl-C reaches the console's own handler, which ends the process as before.
#[cfg(not(unix))]
fn interrupted_questions_end_cleanly() {}

/// Whether `init` is still asking, so that Ctrl-C can end it without a trace.
static ASKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// What a question of `init` wants, said when it is answered with nothing.
fn needed(key: &str) -> &'static str {
    match key {
        "name" => "the profile's name, as --profile will select it",
        "host" => "the cluster's host name, as in cluster-host.example.com",
        "port" => "the port, as in 443",
        "account_id" | "cluster_id" => {
            "the id as influxctl prints it (8-4-4-4-12 hexadecimal digits)"
        }
        _ => "it has no default",
    }
}

fn profile_exists(path: &Path, name: &str) -> CommandError {
    CommandError::setup(format!("{} has a profile `{name}` already", path.display()))
        .hint("pass --force to replace it, or --name to add another")
}

/// The management token, asked without echo: the bare token, or the whole output of
/// `influxctl management create`, pasted.
fn ask_token(name: &str) -> Result<TokenInput, CommandError> {
    note!("Paste the token, or the whole output of `influxctl management create`.");
    let question = format!(
        "Management token for profile `{}` (input hidden): ",
        crate::ui::visible(name)
    );
    // An empty answer (Enter pressed too early) or one holding no token is asked again, saying
    // why; the end of input or Ctrl-C ends it.
    loop {
        let token = prompt::hidden_paste(&question).map_err(|error| {
            if error.kind() == std::io::ErrorKind::Interrupted {
                CommandError::setup("cancelled; nothing was changed")
            } else {
                CommandError::setup("cannot read the token from the terminal").source(error)
            }
        })?;
        match parse_token_input(token.expose_secret()) {
            Ok(input) => return Ok(input),
            Err(error) => eprintln!("{error}; paste it again (Ctrl-C cancels)"),
        }
    }
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
