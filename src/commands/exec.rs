//! `sealctl exec`: run influxctl, or any program, with the profile's tokens opened for one command.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use sealctl_exec::influxctl::{self, InfluxctlArgs};
use sealctl_exec::{ConfigCopy, ExecError, Launch};
use sealctl_profile::ProfileDocument;
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::looks_sealed;
use sealctl_seal::Place;
use secrecy::SecretString;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl exec -- influxctl database list\n  \
    sealctl exec -- influxctl --profile prod management list\n  \
    alias influxctl='sealctl exec -- influxctl'\n  \
    sealctl exec --profile prod --env INFLUX_TOKEN=token -- ./deploy.sh\n\n\
For influxctl, the program gets `--config <private copy> --profile NAME`: a copy of the config with\n\
only that profile, its tokens opened, kept in memory (Linux) and never on disk. Its own --config\n\
and --profile are honoured. The exit status is the program's (128+N if a signal N killed it; 127\n\
if it is not found, 126 if it cannot run); sealctl's own errors exit with 2 and the program is not\n\
started.")]
pub struct ExecArgs {
    /// Set VAR in the program's environment to the opened value of KEY (mgmt_token, token, or
    /// any key) of the profile. Repeatable.
    #[arg(long = "env", value_name = "VAR=KEY", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// How the program gets its tokens: `influxctl` (a private copy of the config, given as
    /// --config) or `env` (only --env). Default: `influxctl` for a program named influxctl.
    #[arg(long, value_enum)]
    pub adapter: Option<Adapter>,

    /// Keep the config copy in a private 0600 file (removed when the program exits) instead of
    /// memory, for programs that need a regular file. Always so where memory files are missing.
    #[arg(long)]
    pub private_file: bool,

    /// The program and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub command: Vec<OsString>,
}

/// How the program receives its tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Adapter {
    /// A private copy of the config with the profile's tokens opened, given as --config.
    Influxctl,
    /// Environment variables only (--env).
    Env,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((var, key)) if !var.is_empty() && !key.is_empty() && !var.contains('\0') => {
            Ok((var.to_owned(), key.to_owned()))
        }
        _ => Err("expected VAR=KEY, as in INFLUX_TOKEN=token".to_owned()),
    }
}

pub fn cmd_exec(global: &GlobalArgs, args: ExecArgs) -> Result<Status, CommandError> {
    let (program, program_args) = args.command.split_first().expect("clap requires PROGRAM");
    let adapter = args.adapter.unwrap_or(if influxctl::is_influxctl(program) {
        Adapter::Influxctl
    } else {
        Adapter::Env
    });
    let scanned = match adapter {
        Adapter::Influxctl => {
            influxctl::scan(program_args).map_err(|error| CommandError::setup(error.to_string()))?
        }
        Adapter::Env => InfluxctlArgs {
            rest: program_args.to_vec(),
            ..InfluxctlArgs::default()
        },
    };

    let path = target::existing_config(
        scanned
            .config
            .clone()
            .map(PathBuf::from)
            .or_else(|| global.config.clone()),
    )?;
    let document = ProfileDocument::load(&path)?;
    // influxctl's own --profile first, as influxctl would read it.
    let profile = target::profile(
        &document,
        scanned.profile.as_deref().or(global.profile.as_deref()),
    )?;

    let mut opener = target::Opener::new(global);
    let mut env = vec![(
        OsString::from("SEALCTL_PROFILE"),
        SecretString::from(profile.clone()),
    )];
    for (var, key) in &args.env {
        let value = document.get(&profile, key)?.ok_or_else(|| {
            CommandError::setup(format!(
                "profile `{profile}` has no `{key}` for --env {var}={key}"
            ))
        })?;
        let place = Place::new(profile.clone(), key.clone());
        env.push((
            OsString::from(var),
            open_or_stop(&mut opener, &value, &place)?,
        ));
        // Said once per key, however many variables it goes to.
        if !args
            .env
            .iter()
            .take_while(|(v, _)| v != var)
            .any(|(_, k)| k == key)
        {
            target::warn_expiry(&value, &place, &path);
        }
    }

    let (copy, program_args) = match adapter {
        Adapter::Env => (None, scanned.rest),
        Adapter::Influxctl => {
            let mut opened = Vec::new();
            for value in document.values(std::slice::from_ref(&profile), SECRET_KEYS)? {
                if looks_sealed(&value.value) {
                    let place = Place::new(value.profile, value.key.clone());
                    opened.push((
                        value.key.clone(),
                        open_or_stop(&mut opener, &value.value, &place)?,
                    ));
                    if !args.env.iter().any(|(_, key)| *key == value.key) {
                        target::warn_expiry(&value.value, &place, &path);
                    }
                }
            }
            let text = influxctl::config_copy(document.to_toml(), &profile, &opened)
                .map_err(|error| CommandError::setup(error.to_string()))?;
            let copy = if args.private_file {
                ConfigCopy::private_file(text.as_bytes())
            } else {
                ConfigCopy::new(text.as_bytes())
            }
            .map_err(|error| CommandError::setup(error.to_string()).source(error))?;
            let mut with_flags = vec![
                OsString::from("--config"),
                copy.path().as_os_str().to_owned(),
                OsString::from("--profile"),
                OsString::from(&profile),
            ];
            with_flags.extend(scanned.rest);
            (Some(copy), with_flags)
        }
    };

    let launch = Launch {
        program: program.clone(),
        args: program_args,
        env,
        copy,
    };
    crate::harden::core_limit_for_the_program();
    match launch.run() {
        Ok(code) => Ok(Status::Child(code)),
        Err(error @ (ExecError::NotFound(_) | ExecError::CannotRun { .. })) => {
            let status = error.exit_status();
            Err(
                CommandError::with_status(Status::Child(status), format!("sealctl exec: {error}"))
                    .hint("is it installed and on PATH?"),
            )
        }
        Err(error) => Err(CommandError::setup(error.to_string())),
    }
}

/// Opens a value for the program; failing, says the program was not started (fail closed).
fn open_or_stop(
    opener: &mut target::Opener<'_>,
    value: &str,
    place: &Place,
) -> Result<SecretString, CommandError> {
    opener
        .open(value, place)
        .map_err(|error| error.hint(format!("in {place}; the program was not started")))
}
