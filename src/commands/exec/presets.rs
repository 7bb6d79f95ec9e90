//! `sealctl exec --preset NAME` and `--file VAR=KEY`: a tool's environment filled from the
//! profile (the presets themselves are data, in `sealctl_exec::preset`), and tokens handed over
//! as sealed in-memory files. Everything a preset or `--file` needs is checked before anything
//! is opened, and each token is opened only when a variable needs it.

use std::ffi::OsString;

use clap::builder::{PossibleValue, PossibleValuesParser};
use sealctl_exec::TokenFile;
use sealctl_exec::preset::{self, PRESETS, Preset, ProfileFields, Setting, Source};
use sealctl_profile::ProfileDocument;
use sealctl_profile::schema::{SECRET_KEYS, same_key};
use sealctl_seal::{Endpoint, Place};
use secrecy::SecretString;

use super::{ExecArgs, check_variable_name, open_or_stop};
use crate::commands::target;
use crate::error::{CommandError, Status, write_stdout};

/// The `--preset` value that lists the presets instead of running a program.
pub const LIST: &str = "list";

/// `--preset`'s values: `list`, then every preset, each with what it is for (shell completion
/// shows it).
pub fn names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        std::iter::once(PossibleValue::new(LIST).help("show every preset and its variables"))
            .chain(
                PRESETS
                    .iter()
                    .map(|preset| PossibleValue::new(preset.name).help(preset.description)),
            ),
    )
}

/// `--file VAR=KEY`: VAR as `--env` takes it; KEY one of the profile's token keys, read as
/// influxctl reads it (`MGMT_TOKEN` is `mgmt_token`).
pub fn parse_file(text: &str) -> Result<(String, String), String> {
    let (var, key) = text
        .split_once('=')
        .filter(|(_, key)| !key.is_empty())
        .ok_or("expected VAR=KEY, as in INFLUX_TOKEN_FILE=token")?;
    check_variable_name(var)?;
    let key = SECRET_KEYS
        .iter()
        .find(|name| same_key(key, name))
        .ok_or_else(|| {
            format!(
                "`{}` is not a token key: --file takes {}",
                key.escape_debug(),
                SECRET_KEYS.join(" or ")
            )
        })?;
    Ok((var.to_owned(), (*key).to_owned()))
}

/// `--preset list`: each preset, what it is for, and where each of its variables comes from.
pub fn list() -> Result<Status, CommandError> {
    let mut text = String::new();
    for preset in PRESETS {
        text.push_str(&format!("{}: {}\n", preset.name, preset.description));
        for variable in preset.variables {
            let from = match variable.source {
                Source::Field(key) => format!("the profile's {key}"),
                Source::Token(key) => format!("the profile's {key}, opened"),
                Source::HostUrl => "a URL from the profile's host, port and tls.disable".to_owned(),
                Source::InsecureTls => {
                    "true when the profile's tls.insecure is true, else left unset".to_owned()
                }
                _ => "derived from the profile".to_owned(),
            };
            let optional = if variable.required || variable.source == Source::InsecureTls {
                ""
            } else {
                " (left unset when the profile has none)"
            };
            text.push_str(&format!("  {:<28} {from}{optional}\n", variable.name));
        }
    }
    write_stdout(text.as_bytes(), "the presets")
}

/// A variable given by both `--env` and `--file`, or twice by `--file`, if one is.
pub fn given_twice(args: &ExecArgs) -> Result<(), CommandError> {
    for (index, (var, _)) in args.file.iter().enumerate() {
        let by = if args.env.iter().any(|(env, _)| env == var) {
            "--env and --file"
        } else if args.file[..index].iter().any(|(seen, _)| seen == var) {
            "--file twice"
        } else {
            continue;
        };
        return Err(CommandError::setup(format!(
            "{var} is given by {by}: give each variable once"
        )));
    }
    if !args.file.is_empty() && !cfg!(target_os = "linux") {
        return Err(CommandError::setup(
            "--file needs an in-memory file (Linux memfd), which this system does not have; a token is never written to a file on disk",
        )
        .hint("give the token in a variable with --env VAR=KEY instead"));
    }
    Ok(())
}

/// The keys of one profile that a preset reads, read once (an error in the file is said here,
/// not taken for a missing key).
struct Fields {
    strings: Vec<(&'static str, String)>,
    flags: Vec<(&'static str, bool)>,
}

impl Fields {
    fn read(
        document: &ProfileDocument,
        profile: &str,
        preset: &Preset,
    ) -> Result<Fields, CommandError> {
        let mut fields = Fields {
            strings: Vec::new(),
            flags: Vec::new(),
        };
        for variable in preset.variables {
            for key in variable.source.strings() {
                if let Some(value) = document.get(profile, key)? {
                    fields.strings.push((key, value));
                }
            }
            for key in variable.source.flags() {
                if let Some(value) = document.get_bool(profile, key)? {
                    fields.flags.push((key, value));
                }
            }
        }
        Ok(fields)
    }
}

impl ProfileFields for Fields {
    fn string(&self, key: &str) -> Option<String> {
        self.strings
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value.clone())
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.flags
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }
}

/// What the chosen preset sets for `profile`, minus the variables `--env` or `--file` give;
/// a key it needs that the profile lacks stops here, before anything is opened.
pub fn plan(
    args: &ExecArgs,
    document: &ProfileDocument,
    profile: &str,
) -> Result<Vec<(&'static str, Setting)>, CommandError> {
    let Some(preset) = args.preset.as_deref().and_then(preset::preset_named) else {
        return Ok(Vec::new());
    };
    let fields = Fields::read(document, profile, preset)?;
    let given = |var: &str| args.env.iter().chain(&args.file).any(|(v, _)| v == var);
    preset.fill(profile, &fields, given).map_err(|missing| {
        let config = document.path();
        let fix = if SECRET_KEYS.contains(&missing.field) {
            let mut set = crate::ui::CommandLine::sealctl(&["token", "set"])
                .file(config)
                .profile(profile);
            if missing.field != "mgmt_token" {
                set = set.args(["--key", missing.field]);
            }
            format!("set it: {set}")
        } else {
            format!(
                "add `{}` to profile `{profile}` in {}, or choose another profile with --profile",
                missing.field,
                config.display()
            )
        };
        CommandError::setup(missing.to_string()).hint(format!("{fix}; the program was not started"))
    })
}

/// The token keys the planned preset and `--file` will open, so that they are opened together
/// with the others.
pub fn token_keys<'a>(
    planned: &'a [(&'static str, Setting)],
    args: &'a ExecArgs,
) -> impl Iterator<Item = &'a str> {
    let preset = planned.iter().filter_map(|(_, setting)| match setting {
        Setting::Token(key) => Some(*key),
        Setting::Clear(_) => None,
    });
    preset.chain(args.file.iter().map(|(_, key)| key.as_str()))
}

/// What the preset and `--file` give the program.
pub struct Opened {
    /// Variables to set, some holding opened tokens.
    pub env: Vec<(OsString, SecretString)>,
    /// The token files, which must stay open until the program starts: it inherits them.
    pub files: Vec<TokenFile>,
    /// Every token opened for them, once each (what `--mask` hides).
    pub secrets: Vec<SecretString>,
}

/// The variables and token files of the preset (as planned) and of `--file`, each token opened
/// once however many variables take it, and each expiry warned about once: `warned` holds the
/// keys warned about already, and gains the ones warned about here.
pub fn open(
    planned: Vec<(&'static str, Setting)>,
    args: &ExecArgs,
    document: &ProfileDocument,
    profile: &str,
    endpoint: &Endpoint,
    opener: &mut target::Opener,
    warned: &mut Vec<String>,
) -> Result<Opened, CommandError> {
    let mut opened: Vec<(String, SecretString)> = Vec::new();
    let mut token = |key: &str, var: &str, flag: &str| -> Result<SecretString, CommandError> {
        if let Some((_, secret)) = opened.iter().find(|(name, _)| name == key) {
            return Ok(secret.clone());
        }
        let value = document.get(profile, key)?.ok_or_else(|| {
            CommandError::setup(format!(
                "profile `{profile}` has no `{key}` for {flag} {var}={key}"
            ))
        })?;
        let place = Place::new(profile.to_owned(), key.to_owned());
        let secret = open_or_stop(opener, &value, &place, endpoint)?;
        if !warned.iter().any(|seen| seen == key) {
            target::warn_expiry(&value, &place, document);
            warned.push(key.to_owned());
        }
        opened.push((key.to_owned(), secret.clone()));
        Ok(secret)
    };
    let mut env = Vec::new();
    for (var, setting) in planned {
        let value = match setting {
            Setting::Clear(value) => SecretString::from(value),
            Setting::Token(key) => token(key, var, "--preset")?,
        };
        env.push((OsString::from(var), value));
    }
    let mut files = Vec::new();
    for (var, key) in &args.file {
        let secret = token(key, var, "--file")?;
        let file = TokenFile::new(&secret)
            .map_err(|error| CommandError::setup(error.to_string()).source(error))?;
        env.push((
            OsString::from(var),
            SecretString::from(file.path().to_string_lossy().into_owned()),
        ));
        files.push(file);
    }
    Ok(Opened {
        env,
        files,
        secrets: opened.into_iter().map(|(_, secret)| secret).collect(),
    })
}
