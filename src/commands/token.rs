//! `sealctl token set|get|rm|move|rotate|status`: one token, sealed as it is set, opened for
//! scripts, removed, moved between age and the keyring, replaced by a new one from the cluster
//! (`rotate.rs`), or compared with what the cluster says of it (`status.rs`).

use std::io::IsTerminal as _;
use std::time::SystemTime;

use clap::{Args, Subcommand, ValueEnum};
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::{SealedValue, looks_sealed};
use sealctl_seal::{Place, TokenInput, parse_token_input, prompt};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::backend::{self, BackendArgs, Sealer};
use super::target::{self, WriteArgs};
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status, write_stdout};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    influxctl management create --description laptop | sealctl token set --profile prod\n  \
    sealctl token get --profile prod --key token")]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Seal a token into a profile: typed at a hidden prompt, or piped in.
    ///
    /// The input may be the bare token or the whole output of `influxctl management create`
    /// (table or JSON): sealctl finds the token and its expiry. Needs only the file's
    /// recipients, never an identity.
    #[command(after_help = "Examples:\n  \
        sealctl token set --profile prod                       # asks, hidden\n  \
        influxctl management create --description ci | sealctl token set --profile prod\n  \
        sealctl token set --key token --expires-at 2027-01-31T00:00:00Z < token.txt\n  \
        sealctl token set --backend keyring                    # in the OS keyring instead\n\n\
The backend is the one the value has now, else age. With --backend keyring the file holds only\n\
a reference; the keyring holds the token (docs/keyring.md).")]
    Set(SetArgs),
    /// Print a token in plaintext on standard output, for scripts.
    #[command(after_help = "Example:\n  \
        export INFLUX_TOKEN=\"$(sealctl token get --key token --profile prod)\"")]
    Get(GetArgs),
    /// Remove a token from a profile, and its keyring entry if it has one.
    #[command(after_help = "Example:\n  \
        sealctl token rm --profile old --key token")]
    Rm(RmArgs),
    /// Move a token between age and the OS keyring, or between keyrings.
    #[command(after_help = "Examples:\n  \
        sealctl token move --to keyring --profile prod      # out of the file, into the keyring\n  \
        sealctl token move --to age --profile prod          # back, for a file shared in git")]
    Move(MoveArgs),
    /// Replace the management token with a new one from influxctl, and revoke the old one.
    ///
    /// The new token goes from `influxctl management create` (its output read in memory) into
    /// the profile, sealed as the old one was, with its id and expiry; it is checked before it
    /// is recorded, and recorded before the old one is revoked (docs/rotation.md).
    #[command(after_help = "Examples:\n  \
        sealctl token rotate --profile prod --expires-in 90d\n  \
        sealctl token rotate --dry-run\n  \
        sealctl token rotate --keep-old --description \"ci, 2027\"\n\n\
Exit status: 0 rotated; 2 usage or setup error (nothing changed); 3 influxctl could not create a\n\
token (nothing changed); 4 the new token did not work in time, 5 it could not be recorded (it\n\
was revoked; nothing changed); 6 the new token is recorded but the old one could not be revoked.")]
    Rotate(RotateArgs),
    /// Compare each profile's management token with what the cluster says of it.
    ///
    /// Active, expiring, expired, revoked or unknown to the cluster, from `influxctl management
    /// list --format json`, asked with the profile's own token (docs/rotation.md).
    #[command(after_help = "Examples:\n  \
        sealctl token status --all\n  \
        sealctl token status --profile prod --format json\n\n\
Exit status: 0 all well (or expiring); 1 a token is expired, revoked, unknown to the cluster,\n\
refused by it or cannot be opened, or an interrupted rotation left a token live; 2 usage error.")]
    Status(StatusArgs),
}

/// The influxctl `token rotate` and `token status` run.
#[derive(Debug, Args)]
pub struct InfluxctlProgram {
    /// The influxctl to run (default: `influxctl` on PATH).
    #[arg(long = "influxctl", value_name = "PATH", env = "SEALCTL_INFLUXCTL")]
    pub program: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// When the new token expires (RFC 3339, in the future). Default: it does not expire.
    #[arg(long, value_name = "TIME", value_parser = parse_expires_at)]
    pub expires_at: Option<SystemTime>,

    /// How long from now the new token lasts (as in 90d), instead of --expires-at.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_expires_in,
        allow_hyphen_values = true,
        conflicts_with = "expires_at"
    )]
    pub expires_in: Option<SystemTime>,

    /// The new token's description. Default: `sealctl token rotate of PROFILE at TIME`.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Leave the old token live (revoke it yourself once nothing uses it).
    #[arg(long)]
    pub keep_old: bool,

    /// Say what would be done; run nothing, change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How long to wait for the new token to become active (it can take minutes).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        env = "SEALCTL_ROTATE_WAIT",
        value_parser = humantime::parse_duration
    )]
    pub wait_active: std::time::Duration,

    #[command(flatten)]
    pub influxctl: InfluxctlProgram,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub scope: target::ScopeArgs,

    /// `human` (one line per profile) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: StatusFormat,

    #[command(flatten)]
    pub influxctl: InfluxctlProgram,
}

/// How `token status` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusFormat {
    /// One line per profile.
    Human,
    /// A JSON object, for monitoring.
    Json,
}

/// Which secret key.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Key {
    /// The management token.
    #[value(name = "mgmt_token")]
    MgmtToken,
    /// The database token.
    #[value(name = "token")]
    Token,
}

/// `--key token` for a command about the database token; nothing for the default key.
fn key_flag(key: Key) -> Vec<&'static str> {
    match key {
        Key::MgmtToken => Vec::new(),
        Key::Token => vec!["--key", "token"],
    }
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::MgmtToken => "mgmt_token",
            Key::Token => "token",
        }
    }
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The key to set.
    #[arg(long, value_enum, default_value = "mgmt_token")]
    pub key: Key,

    /// When the token expires (RFC 3339, in the future), if the input does not say; `check`
    /// warns 14 days before.
    #[arg(long, value_name = "TIME", value_parser = parse_expires_at)]
    pub expires_at: Option<SystemTime>,

    /// How long from now the token lasts (as in 90d, 1y), instead of --expires-at.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_expires_in,
        allow_hyphen_values = true,
        conflicts_with = "expires_at"
    )]
    pub expires_in: Option<SystemTime>,

    /// The token's id, as `influxctl management list` shows it, if the input does not say:
    /// recorded in clear beside the value (`id=`), so that `token rotate` can revoke it and
    /// `token status` find it.
    #[arg(long, value_name = "ID", value_parser = parse_token_id)]
    pub id: Option<String>,

    #[command(flatten)]
    pub backend: BackendArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// `--id`: a token id as influxctl shows them.
fn parse_token_id(text: &str) -> Result<String, String> {
    if sealctl_profile::sealed::is_token_id(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "not a token id: give the ID column of `influxctl management list` (letters, digits and `-`, at most {})",
            sealctl_profile::sealed::ID_MAX
        ))
    }
}

/// `--expires-at`: a time still to come; one already past is a mistyped date, and would seal a
/// token recorded as expired.
fn parse_expires_at(text: &str) -> Result<SystemTime, String> {
    let time = humantime::parse_rfc3339_weak(text)
        .map_err(|error| format!("{error}: write an RFC 3339 time, as in 2027-01-31T00:00:00Z"))?;
    if time <= SystemTime::now() {
        return Err(format!(
            "{} is not in the future: give the time the token expires (`influxctl management list` shows it), --expires-in, or neither",
            humantime::format_rfc3339_seconds(time)
        ));
    }
    Ok(time)
}

/// `--expires-in`: a duration longer than zero, as the time it ends.
fn parse_expires_in(text: &str) -> Result<SystemTime, String> {
    if text.trim_start().starts_with('-') {
        return Err(
            "a token cannot expire in the past: give how long from now it lasts, as in 90d"
                .to_owned(),
        );
    }
    let duration = humantime::parse_duration(text).map_err(|error| {
        format!("{error}: give how long from now the token lasts, as in 90d or 1y")
    })?;
    if duration.is_zero() {
        return Err("a token that lasts no time is expired already: give how long from now it lasts, as in 90d".to_owned());
    }
    SystemTime::now()
        .checked_add(duration)
        // The framing writes years of four digits.
        .filter(|time| {
            *time < humantime::parse_rfc3339("9999-12-31T23:59:59Z").expect("a valid time")
        })
        .ok_or_else(|| "that is past the year 9999: give a shorter duration, as in 1y".to_owned())
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key to read.
    #[arg(long, value_enum, default_value = "mgmt_token")]
    pub key: Key,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The key to remove.
    #[arg(long, value_enum, default_value = "mgmt_token")]
    pub key: Key,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// The key to move.
    #[arg(long, value_enum, default_value = "mgmt_token")]
    pub key: Key,

    /// Where to: `age` (sealed in the file) or `keyring`.
    #[arg(long, value_name = "BACKEND", value_parser = backend::backend_names())]
    pub to: String,

    /// Which keyring, with --to keyring (see `token set --help`).
    #[arg(
        long,
        value_name = "STORE",
        value_parser = |name: &str| BackendArgs::parse_store(name),
        add = clap_complete::ArgValueCompleter::new(super::candidates::keyring_stores)
    )]
    pub keyring_store: Option<sealctl_profile::sealed::KeyringStore>,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn cmd_token(global: &GlobalArgs, args: TokenArgs) -> Result<Status, CommandError> {
    match args.command {
        TokenCommand::Set(args) => set(global, args),
        TokenCommand::Get(args) => get(global, args),
        TokenCommand::Rm(args) => rm(global, args),
        TokenCommand::Move(args) => move_token(global, args),
        TokenCommand::Rotate(args) => super::rotate::rotate(
            global,
            super::rotate::Rotation {
                expires_at: args.expires_at.or(args.expires_in),
                description: args.description,
                keep_old: args.keep_old,
                dry_run: args.dry_run,
                influxctl: args.influxctl.program,
                wait: args.wait_active,
                force: args.write.force,
            },
        ),
        TokenCommand::Status(args) => super::status::status(
            global,
            super::status::StatusRequest {
                all: args.scope.all,
                json: matches!(args.format, StatusFormat::Json),
                influxctl: args.influxctl.program,
            },
        ),
    }
}

fn set(global: &GlobalArgs, args: SetArgs) -> Result<Status, CommandError> {
    args.backend.check()?;
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let old = document.get(&profile, args.key.name())?;
    let now = old
        .as_deref()
        .filter(|value| looks_sealed(value))
        .and_then(|value| SealedValue::parse(value).ok());
    let kept = now
        .as_ref()
        .and_then(|sealed| sealctl_seal::Destination::of(sealed).ok());
    let to = args.backend.destination_or(kept);
    let input = read_token(&place)?;
    let endpoint = target::endpoint(&document, &profile)?;
    let mut sealer = Sealer::new(global, &mut document, to)?;
    let expires_at = args.expires_at.or(args.expires_in).or(input.expires_at);
    let sealed = sealer.seal(&input.token, &place, &endpoint, &path, expires_at)?;
    let sealed = backend::with_token_id(sealed, args.id.as_deref().or(input.id.as_deref()));
    document.set(&profile, args.key.name(), &sealed)?;
    let done = sealer.done(&place.to_string(), &path);
    sealer.save(&mut document)?;
    note!("{done}");
    // Only the input can say so: the flags refuse a past time.
    if let Some(expiry) = expires_at.filter(|time| *time <= SystemTime::now()) {
        warning!(
            "the input says this token expired at {}; it was set all the same (the server decides)",
            humantime::format_rfc3339_seconds(expiry)
        );
    }
    backend::forget_replaced(old.as_deref())?;
    Ok(Status::Success)
}

fn rm(global: &GlobalArgs, args: RmArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let Some(old) = document.get(&profile, args.key.name())? else {
        note!(
            "nothing to remove: {place} is not set in {}",
            path.display()
        );
        return Ok(Status::Success);
    };
    document.remove(&profile, args.key.name())?;
    document.save()?;
    note!("removed {place} from {}", path.display());
    backend::forget_replaced(Some(old.as_str()))?;
    Ok(Status::Success)
}

fn move_token(global: &GlobalArgs, args: MoveArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let old = document.get(&profile, args.key.name())?.ok_or_else(|| {
        CommandError::setup(format!("{place} is not set in {}", path.display())).hint(format!(
            "set it with `{}`",
            crate::ui::CommandLine::sealctl(&["token", "set"])
                .file(&path)
                .profile(&profile)
                .args(key_flag(args.key))
        ))
    })?;
    let to = backend::destination(&args.to, args.keyring_store);
    let now = SealedValue::parse(&old).ok();
    let already = now.as_ref().is_some_and(|sealed| to.holds(sealed));
    if already {
        note!("nothing to move: {place} is there already");
        return Ok(Status::Success);
    }
    let endpoint = target::endpoint(&document, &profile)?;
    let token = target::Opener::new(global, &path)
        .resealing()
        .open(&old, &place, &endpoint)?;
    let expires_at = now.as_ref().and_then(SealedValue::expires_at);
    let mut sealer = Sealer::new(global, &mut document, to)?;
    let sealed = sealer.seal(&token, &place, &endpoint, &path, expires_at)?;
    let sealed = backend::with_token_id(sealed, now.as_ref().and_then(SealedValue::token_id));
    document.set(&profile, args.key.name(), &sealed)?;
    let done = sealer.done(&place.to_string(), &path);
    sealer.save(&mut document)?;
    note!("{done}");
    backend::forget_replaced(Some(old.as_str()))?;
    Ok(Status::Success)
}

/// The token from a hidden prompt on a terminal, else from standard input.
fn read_token(place: &Place) -> Result<TokenInput, CommandError> {
    if std::io::stdin().is_terminal() {
        let token = prompt::hidden_paste(&format!("Token for {place} (input hidden): ")).map_err(
            |error| CommandError::setup("cannot read the token from the terminal").source(error),
        )?;
        return Ok(parse_token_input(token.expose_secret())?);
    }
    crate::token_input::from_stdin()
}

fn get(global: &GlobalArgs, args: GetArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let document = ProfileDocument::load(&path)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let value = document.get(&profile, args.key.name())?.ok_or_else(|| {
        CommandError::setup(format!("{place} is not set in {}", path.display())).hint(format!(
            "set it with `{}`",
            crate::ui::CommandLine::sealctl(&["token", "set"])
                .file(&path)
                .profile(&profile)
                .args(key_flag(args.key))
        ))
    })?;
    if !looks_sealed(&value) {
        warning!(
            "{place} is in plaintext; seal it with `{}`",
            crate::ui::CommandLine::sealctl(&["seal"])
                .file(&path)
                .profile(&profile)
        );
    }
    let endpoint = target::endpoint(&document, &profile)?;
    let token = target::Opener::new(global, &path).open(&value, &place, &endpoint)?;
    target::warn_expiry(&value, &place, &document);
    let line = Zeroizing::new(format!("{}\n", token.expose_secret()));
    write_stdout(line.as_bytes(), "the token")
}
