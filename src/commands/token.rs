//! `sealctl token set|get`: one token, sealed as it is set, opened for scripts.

use std::io::{IsTerminal as _, Read as _, Write as _};

use clap::{Args, Subcommand, ValueEnum};
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::looks_sealed;
use sealctl_seal::{Place, TokenInput, parse_token_input, prompt};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status, is_broken_pipe};

#[derive(Debug, Args)]
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
        sealctl token set --key token --expires-at 2027-01-31T00:00:00Z < token.txt")]
    Set(SetArgs),
    /// Print a token in plaintext on standard output, for scripts.
    #[command(after_help = "Example:\n  \
        export INFLUX_TOKEN=\"$(sealctl token get --key token --profile prod)\"")]
    Get(GetArgs),
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

    /// When the token expires (RFC 3339), if the input does not say; `check` warns 14 days before.
    #[arg(long, value_name = "TIME", value_parser = humantime::parse_rfc3339_weak)]
    pub expires_at: Option<std::time::SystemTime>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key to read.
    #[arg(long, value_enum, default_value = "mgmt_token")]
    pub key: Key,
}

pub fn cmd_token(global: &GlobalArgs, args: TokenArgs) -> Result<Status, CommandError> {
    match args.command {
        TokenCommand::Set(args) => set(global, args),
        TokenCommand::Get(args) => get(global, args),
    }
}

fn set(global: &GlobalArgs, args: SetArgs) -> Result<Status, CommandError> {
    let path = target::config_path(global)?;
    let (mut document, _lock) = ProfileDocument::load_locked(&path)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let input = read_token(&place)?;
    let recipients = target::recipients(&mut document, global)?;
    let sealed = sealctl_seal::seal(
        &input.token,
        &place,
        &recipients,
        args.expires_at.or(input.expires_at),
    )?;
    document.set(&profile, args.key.name(), &sealed)?;
    document.save()?;
    eprintln!("sealed {place} in {}", path.display());
    Ok(Status::Success)
}

/// The token from a hidden prompt on a terminal, else from standard input.
fn read_token(place: &Place) -> Result<TokenInput, CommandError> {
    if std::io::stdin().is_terminal() {
        let token =
            prompt::hidden(&format!("Token for {place} (input hidden): ")).map_err(|error| {
                CommandError::setup("cannot read the token from the terminal").source(error)
            })?;
        return Ok(parse_token_input(token.expose_secret())?);
    }
    let mut input = Zeroizing::new(Vec::with_capacity(64 * 1024 + 1));
    std::io::stdin()
        .lock()
        .take(64 * 1024 + 1)
        .read_to_end(&mut input)
        .map_err(|error| {
            CommandError::setup("cannot read the token from standard input").source(error)
        })?;
    if input.len() > 64 * 1024 {
        return Err(CommandError::setup(
            "the input is over 64 KiB: that is not a token",
        ));
    }
    let text = std::str::from_utf8(&input)
        .map_err(|_| CommandError::setup("the input is not UTF-8 text"))?;
    Ok(parse_token_input(text)?)
}

fn get(global: &GlobalArgs, args: GetArgs) -> Result<Status, CommandError> {
    let path = target::config_path(global)?;
    let document = ProfileDocument::load(&path)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), args.key.name());
    let value = document.get(&profile, args.key.name())?.ok_or_else(|| {
        CommandError::setup(format!("{place} is not set in {}", path.display())).hint(format!(
            "set it with `sealctl token set --profile {profile}`"
        ))
    })?;
    let token = if looks_sealed(&value) {
        sealctl_seal::open(&value, &place, &target::identities(global)?)?
    } else {
        eprintln!("warning: {place} is in plaintext; seal it with `sealctl seal`");
        value.into()
    };
    let mut stdout = std::io::stdout().lock();
    let line = Zeroizing::new(format!("{}\n", token.expose_secret()));
    match stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if !is_broken_pipe(&error) => {
            Err(CommandError::setup("cannot write the token").source(error))
        }
        _ => Ok(Status::Success),
    }
}
