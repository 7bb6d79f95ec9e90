//! `sealctl exec`: run influxctl, or any program, with the profile's tokens opened for one command.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use sealctl_exec::influxctl::{self, InfluxctlArgs};
use sealctl_exec::mask::Secrets;
use sealctl_exec::{CannotRunWhy, ConfigCopy, ExecError, Launch};
use sealctl_profile::{ProfileDocument, ProfileValue};
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::looks_sealed;
use sealctl_seal::{Endpoint, Place};
use secrecy::SecretString;

use super::target::{self, KEY_VARIABLES};
use crate::cli::GlobalArgs;

mod presets;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl exec -- influxctl database list\n  \
    sealctl exec -- influxctl --profile prod management list\n  \
    alias influxctl='sealctl exec -- influxctl'\n  \
    sealctl exec --profile prod --env INFLUX_TOKEN=token -- ./deploy.sh\n  \
    sealctl exec --preset terraform-influxdb3 -- terraform plan\n  \
    sealctl exec --file TOKEN_FILE=token -- ./reads-a-token-file.sh\n  \
    sealctl exec --preset list\n\n\
For influxctl, the program gets `--config <private copy> --profile NAME`: a copy of the config with\n\
only that profile, its tokens opened, kept in memory (Linux) and never on disk. Its own --config\n\
and --profile are honoured. The exit status is the program's (128+N if a signal N killed it; 127\n\
if it is not found, 126 if it cannot run); sealctl's own errors exit with 2 and the program is not\n\
started.")]
pub struct ExecArgs {
    /// Set VAR in the program's environment to the opened value of KEY (mgmt_token, token, or
    /// any key) of the profile. Repeatable. VAR is a variable name (letters, digits, `_`, not
    /// starting with a digit), given once, and not one that decides how programs start (PATH,
    /// LD_*, …) or that sealctl sets or removes itself.
    #[arg(long = "env", value_name = "VAR=KEY", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// Set the variables another tool reads the profile's tokens and ids from (`--preset list`
    /// shows each preset's variables). A preset needing a key the profile lacks stops before
    /// the program starts. An --env or --file of one of its variables replaces it.
    #[arg(long, value_name = "NAME", value_parser = presets::names())]
    pub preset: Option<String>,

    /// Set VAR to the path (/proc/self/fd/N) of a sealed in-memory file holding the opened value
    /// of KEY (mgmt_token or token), for programs that read a token from a file. Repeatable.
    /// Linux only; never a file on disk.
    #[arg(long = "file", value_name = "VAR=KEY", value_parser = presets::parse_file)]
    pub file: Vec<(String, String)>,

    /// How the program gets its tokens: `influxctl` (a private copy of the config, given as
    /// --config) or `env` (only --env). Default: `influxctl` for a program named influxctl.
    #[arg(long, value_enum)]
    pub adapter: Option<Adapter>,

    /// Keep the config copy in a private 0600 file (removed when the program exits) instead of
    /// memory, for programs that need a regular file. Always so where memory files are missing.
    /// The file goes in XDG_RUNTIME_DIR when only you can write to it, else in a
    /// sealctl-UID folder of the temporary folder.
    #[arg(long)]
    pub private_file: bool,

    /// Replace every opened token in the program's standard output and error with `***`, as the
    /// output streams. sealctl then stays to read the output; where sealctl's output is a
    /// terminal, the program's is a pseudo-terminal of the same size.
    #[arg(long)]
    pub mask: bool,

    /// The program and its arguments. Options before it are sealctl's (an unknown one is an
    /// error); to run a program whose name starts with `-`, put `--` before it.
    // No allow_hyphen_values: an unknown `--opt` before the program must be a usage error, not
    // the program's name. Once the program is named, everything after it is its own.
    #[arg(
        required_unless_present = "preset",
        trailing_var_arg = true,
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
    let (var, key) = text
        .split_once('=')
        .filter(|(_, key)| !key.is_empty())
        .ok_or("expected VAR=KEY, as in INFLUX_TOKEN=token")?;
    check_variable_name(var)?;
    // `MGMT_TOKEN` is `mgmt_token`, as influxctl reads it: the value is opened for that key.
    let key = sealctl_profile::schema::field_named(sealctl_profile::schema::PROFILE_FIELDS, key)
        .map_or(key, |field| field.name);
    Ok((var.to_owned(), key.to_owned()))
}

/// Variables that decide how a program is found, loaded or started, or where it finds its
/// files: a token in one of them breaks the start (or runs a library named by it).
const START_VARIABLES: [&str; 8] = [
    "PATH", "HOME", "SHELL", "IFS", "ENV", "BASH_ENV", "PWD", "TMPDIR",
];

/// Prefixes of the dynamic loader's variables (Linux, macOS).
const LOADER_PREFIXES: [&str; 2] = ["LD_", "DYLD_"];

/// Why `name` cannot be given with `--env`, if it cannot.
fn check_variable_name(name: &str) -> Result<(), String> {
    let well_formed = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        return Err(
            "the variable name is empty: expected VAR=KEY, as in INFLUX_TOKEN=token".into(),
        );
    }
    if !well_formed {
        return Err(format!(
            "`{}` is not an environment variable name: use letters, digits and `_`, not starting \
             with a digit, as in INFLUX_TOKEN",
            name.escape_debug()
        ));
    }
    if START_VARIABLES.contains(&name)
        || LOADER_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
    {
        return Err(format!(
            "{name} decides how programs are found and started; a token in it would break the \
             program's start: choose another name, as in INFLUX_TOKEN"
        ));
    }
    if name == "SEALCTL_PROFILE" || KEY_VARIABLES.contains(&name) {
        return Err(format!(
            "{name} is sealctl's own (it sets or removes it for the program): choose another \
             name, as in INFLUX_TOKEN"
        ));
    }
    Ok(())
}

/// A variable given twice with `--env`, if one is.
fn repeated_variable(env: &[(String, String)]) -> Option<&str> {
    env.iter()
        .enumerate()
        .find(|(index, (var, _))| env[..*index].iter().any(|(seen, _)| seen == var))
        .map(|(_, (var, _))| var.as_str())
}

pub fn cmd_exec(global: &GlobalArgs, args: ExecArgs) -> Result<Status, CommandError> {
    if args.preset.as_deref() == Some(presets::LIST) {
        return presets::list();
    }
    // Before anything is read or opened.
    if let Some(var) = repeated_variable(&args.env) {
        return Err(CommandError::setup(format!(
            "--env {var}=… is given more than once: give each variable once"
        )));
    }
    presets::given_twice(&args)?;
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(CommandError::setup(format!(
            "--preset {} needs a program to run",
            args.preset.as_deref().unwrap_or_default()
        ))
        .hint("name it after the options: sealctl exec --preset NAME -- PROGRAM [ARGS…]"));
    };
    // Copies left by runs that were killed outright (SIGKILL, a crash) go first.
    sealctl_exec::private_folder::remove_left_copies();
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

    let path = config_path::resolve(
        scanned
            .config
            .clone()
            .map(PathBuf::from)
            .or_else(|| global.config.clone()),
        Need::Existing,
    )?;
    let document = ProfileDocument::load(&path)?;
    // influxctl's own --profile first, as influxctl would read it.
    let profile = target::profile(
        &document,
        scanned.profile.as_deref().or(global.profile.as_deref()),
    )?;

    let endpoint = target::endpoint(&document, &profile)?;
    if adapter == Adapter::Influxctl {
        refuse_other_ids(&document, &profile, &endpoint, &scanned)?;
    }
    let preset = presets::plan(&args, &document, &profile)?;
    let mut opener = target::Opener::new(global, &path);
    // Every token opened, for --mask: sealed values and the secret keys, not a `--env H=host`.
    let mut opened_secrets: Vec<SecretString> = Vec::new();
    // Every value this run will open, opened together: one session of an age plugin (one PIN or
    // touch of a hardware key) for them all.
    let mut wanted = Vec::new();
    let keys = args.env.iter().map(|(_, key)| key.as_str());
    for key in keys.chain(presets::token_keys(&preset, &args)) {
        if let Some(value) = document.get(&profile, key)? {
            let place = Place::new(profile.clone(), key.to_owned());
            wanted.push(ProfileValue::new(place, value));
        }
    }
    if adapter == Adapter::Influxctl {
        wanted.extend(document.values(std::slice::from_ref(&profile), SECRET_KEYS)?);
    }
    opener.open_together(&wanted);
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
        let opened = open_or_stop(&mut opener, &value, &place, &endpoint)?;
        if args.mask && (looks_sealed(&value) || SECRET_KEYS.contains(&key.as_str())) {
            opened_secrets.push(opened.clone());
        }
        env.push((OsString::from(var), opened));
        // Said once per key, however many variables it goes to.
        if !args
            .env
            .iter()
            .take_while(|(v, _)| v != var)
            .any(|(_, k)| k == key)
        {
            target::warn_expiry(&value, &place, &document);
        }
    }

    let mut warned: Vec<String> = args.env.iter().map(|(_, key)| key.clone()).collect();
    let opened = presets::open(
        preset,
        &args,
        &document,
        &profile,
        &endpoint,
        &mut opener,
        &mut warned,
    )?;
    env.extend(opened.env);
    if args.mask {
        opened_secrets.extend(opened.secrets);
    }
    // Kept open until the program starts: it inherits them.
    let _token_files = opened.files;

    let (copy, program_args) = match adapter {
        Adapter::Env => (None, scanned.rest),
        Adapter::Influxctl => {
            let mut opened = Vec::new();
            for value in document.values(std::slice::from_ref(&profile), SECRET_KEYS)? {
                if looks_sealed(&value.value) {
                    let place = &value.place;
                    opened.push((
                        place.key.clone(),
                        open_or_stop(&mut opener, &value.value, place, &endpoint)?,
                    ));
                    if !warned.contains(&place.key) {
                        target::warn_expiry(&value.value, place, &document);
                    }
                } else if args.mask {
                    // A token left in plaintext is as secret in the output.
                    opened_secrets.push(SecretString::from(value.value.clone()));
                }
            }
            if args.mask {
                opened_secrets.extend(opened.iter().map(|(_, value)| value.clone()));
            }
            let text = influxctl::config_copy(document.to_toml(), &profile, &opened)
                .map_err(|error| CommandError::setup(error.to_string()))?;
            let copy = if args.private_file {
                ConfigCopy::private_file(text.as_bytes())
            } else {
                ConfigCopy::new(text.as_bytes())
            }
            .map_err(|error| match &error {
                ExecError::NotPrivate { .. } => CommandError::setup(error.to_string()).hint(
                    "set XDG_RUNTIME_DIR to a folder of your own with mode 0700 (systemd \
                     makes /run/user/UID at login), or remove or fix the folder named",
                ),
                _ => CommandError::setup(error.to_string()).source(error),
            })?;
            if let Some(why) = copy.runtime_dir_passed_over() {
                warning!(
                    "{why}; the private copy is kept in {} instead",
                    copy.path()
                        .parent()
                        .and_then(|run| run.parent())
                        .unwrap_or(copy.path())
                        .display()
                );
            }
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
        env_remove: KEY_VARIABLES.iter().map(OsString::from).collect(),
        mask: args.mask.then(|| Secrets::new(opened_secrets)),
    };
    crate::harden::core_limit_for_the_program();
    match launch.run() {
        Ok(code) => Ok(Status::Child(code)),
        Err(error @ (ExecError::NotFound(_) | ExecError::CannotRun { .. })) => {
            let hint = match &error {
                ExecError::CannotRun { why, .. } => cannot_run_hint(why),
                _ => "is it installed and on PATH?".to_owned(),
            };
            let status = error.exit_status();
            Err(
                CommandError::with_status(Status::Child(status), format!("sealctl exec: {error}"))
                    .hint(hint),
            )
        }
        Err(error) => Err(CommandError::setup(error.to_string())),
    }
}

/// What to do about a program that was found but cannot be run.
fn cannot_run_hint(why: &CannotRunWhy) -> String {
    match why {
        CannotRunWhy::Folder(_) => "name the program inside it".to_owned(),
        CannotRunWhy::NotExecutable(path) => format!(
            "make it executable: chmod +x {}",
            crate::ui::shell_quote(&path.to_string_lossy())
        ),
        CannotRunWhy::NoInterpreter { .. } => {
            "install that interpreter, or fix the script's first line".to_owned()
        }
        CannotRunWhy::NotAProgram(_) => {
            "a script needs a first line such as #!/bin/sh; a program must be built for this system"
                .to_owned()
        }
        // `Other`, and any reason a later sealctl-exec adds: the message says it.
        _ => "check the file and its permissions".to_owned(),
    }
}

/// influxctl's `--account` and `--cluster` override a Dedicated profile's ids. Its sealed tokens
/// are bound to the profile's ids, so other ids would use them for another cluster: refused, as
/// a changed profile is.
fn refuse_other_ids(
    document: &ProfileDocument,
    profile: &str,
    endpoint: &Endpoint,
    scanned: &InfluxctlArgs,
) -> Result<(), CommandError> {
    if endpoint.product() != "dedicated" {
        return Ok(());
    }
    let sealed = document
        .values(&[profile.to_owned()], SECRET_KEYS)?
        .iter()
        .any(|value| looks_sealed(&value.value));
    let overrides = [
        (
            "--account",
            "account",
            &scanned.account,
            endpoint.account_id(),
        ),
        (
            "--cluster",
            "cluster",
            &scanned.cluster,
            endpoint.cluster_id(),
        ),
    ];
    for (flag, what, given, bound) in overrides {
        let Some(given) = given.as_deref().filter(|_| sealed) else {
            continue;
        };
        if Some(given.to_ascii_lowercase().as_str()) != bound {
            return Err(CommandError::setup(format!(
                "influxctl's {flag} {} is not the {what} that profile `{profile}`'s tokens are sealed for ({})",
                given.escape_debug(),
                bound.unwrap_or("none")
            ))
            .hint("leave the flag out, or use a profile of that cluster with its own token (`sealctl profile add`); the program was not started"));
        }
    }
    Ok(())
}

/// Opens a value for the program; failing, says the program was not started (fail closed).
fn open_or_stop(
    opener: &mut target::Opener,
    value: &str,
    place: &Place,
    endpoint: &Endpoint,
) -> Result<SecretString, CommandError> {
    opener
        .open(value, place, endpoint)
        .map_err(|error| error.hint(format!("in {place}; the program was not started")))
}
