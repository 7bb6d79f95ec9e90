//! A stand-in for influxctl in sealctl's tests (influxctl cannot be installed here). It does what
//! influxctl does as far as a wrapper can tell: reads the global flags before the command
//! (`--config`, `--profile`, also `=` and single-dash forms), reads the file with a strict TOML
//! parser, picks the profile (`--profile`, else INFLUXCTL_PROFILE, else `default`) and fails
//! clearly when it is missing. It reports what it received as SHA-256 digests, never a token.
//!
//! Commands:
//! - `report`: one JSON line: the profile, how many profiles the file holds, whether it holds a
//!   `[sealctl]` table, the digests of `mgmt_token` and `token`, `SEALCTL_PROFILE`, the config path;
//! - `env-sha256 VAR`: the digest of an environment variable;
//! - `exit N`: exit with status N;
//! - `wait-signal`: say `ready PID`, wait for SIGINT, SIGTERM, SIGHUP or SIGQUIT, say which, exit 0;
//! - `pipe`: copy standard input to standard output;
//! - `version`: say which influxctl it stands in for, as `influxctl version` does;
//! - `management create | list | revoke`: a stateful emulation of influxctl's management tokens
//!   (testing/fake-influxctl/management.rs says how a test names its state and injects faults).
//!
//! Built only with the `test-fakes` feature, so `cargo install` never installs it.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use sha2::{Digest as _, Sha256};

#[path = "fake-influxctl/management.rs"]
mod management;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn fail(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut config, mut profile) = (None, None);
    let mut index = 0;
    while index < args.len() {
        let Some(flag) = args[index]
            .strip_prefix("--")
            .or_else(|| args[index].strip_prefix('-'))
        else {
            break;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        let value = match (name, inline) {
            ("config" | "profile" | "timeout" | "account" | "cluster", Some(value)) => Some(value),
            ("config" | "profile" | "timeout" | "account" | "cluster", None) => {
                index += 1;
                match args.get(index) {
                    Some(value) => Some(value.clone()),
                    None => return fail(&format!("flag needs an argument: -{name}")),
                }
            }
            _ => None,
        };
        match name {
            "config" => config = value,
            "profile" => profile = value,
            _ => {}
        }
        index += 1;
    }
    let command = args.get(index).map(String::as_str).unwrap_or("report");
    let operands = &args[(index + 1).min(args.len())..];
    match command {
        "exit" => ExitCode::from(operands.first().and_then(|n| n.parse().ok()).unwrap_or(0)),
        "env-sha256" => {
            let var = operands.first().map(String::as_str).unwrap_or_default();
            match std::env::var(var) {
                Ok(value) => println!("{}", sha256(value.as_bytes())),
                Err(_) => println!("unset"),
            }
            ExitCode::SUCCESS
        }
        "pipe" => {
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input).expect("stdin");
            std::io::stdout().write_all(&input).expect("stdout");
            ExitCode::SUCCESS
        }
        "wait-signal" => {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
            let mut signals =
                signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
                    .expect("signals");
            println!("ready {}", std::process::id());
            std::io::stdout().flush().expect("stdout");
            let name = match signals.forever().next() {
                Some(SIGINT) => "SIGINT",
                Some(SIGTERM) => "SIGTERM",
                Some(SIGHUP) => "SIGHUP",
                Some(SIGQUIT) => "SIGQUIT",
                _ => "?",
            };
            println!("received {name}");
            ExitCode::SUCCESS
        }
        "report" => report(config, profile),
        "management" => management::run(config, profile, operands),
        "version" => {
            let release = std::env::var(management::RELEASE_ENV);
            let release = release.as_deref().unwrap_or("2.10.3");
            println!("influxctl {release} (sealctl's test stand-in)");
            ExitCode::SUCCESS
        }
        other => fail(&format!("unknown command \"{other}\"")),
    }
}

/// The profile influxctl would use: its name, the whole file, its path, and the profile's table.
struct Chosen {
    name: String,
    document: toml_edit::DocumentMut,
    path: std::path::PathBuf,
    profiles: toml_edit::ArrayOfTables,
    index: usize,
}

impl Chosen {
    fn table(&self) -> &toml_edit::Table {
        self.profiles.get(self.index).expect("found")
    }

    /// A string key of the profile, as go-toml v2 matches it.
    fn string(&self, key: &str) -> Option<String> {
        sealctl_profile::schema::keys_for(self.table(), key)
            .last()
            .and_then(|(_, item)| item.as_str().map(str::to_owned))
    }
}

/// Reads the config and picks the profile as influxctl does; the message when it cannot.
fn choose(config: Option<String>, profile: Option<String>) -> Result<Chosen, String> {
    let path = match config {
        Some(path) => std::path::PathBuf::from(path),
        None => sealctl_profile::paths::default_config_path().ok_or("no home folder")?,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("reading config {}: {error}", path.display()))?;
    let document: toml_edit::DocumentMut =
        text.parse().map_err(|error: toml_edit::TomlError| {
            format!("parsing config {}: {}", path.display(), error.message())
        })?;
    let name = profile
        .or_else(|| {
            std::env::var("INFLUXCTL_PROFILE")
                .ok()
                .filter(|name| !name.is_empty())
        })
        .unwrap_or_else(|| "default".to_owned());
    // Keys as go-toml v2 matches them to influxctl's fields: without regard to case, the last
    // spelling written winning.
    let read = |table: &dyn toml_edit::TableLike, field: &str| {
        sealctl_profile::schema::keys_for(table, field)
            .last()
            .map(|(_, item)| item.clone())
    };
    let profiles = read(document.as_table(), "profile")
        .and_then(|item| item.into_array_of_tables().ok())
        .ok_or("no [[profile]] in config")?;
    let index = profiles
        .iter()
        .position(|table| {
            read(table, "name").and_then(|n| n.as_str().map(str::to_owned)) == Some(name.clone())
        })
        .ok_or_else(|| format!("profile \"{name}\" not found in {}", path.display()))?;
    Ok(Chosen {
        name,
        document,
        path,
        profiles,
        index,
    })
}

fn report(config: Option<String>, profile: Option<String>) -> ExitCode {
    let chosen = match choose(config, profile) {
        Ok(chosen) => chosen,
        Err(message) => return fail(&message),
    };
    let digest = |key: &str| {
        chosen.string(key).map_or("null".to_owned(), |value| {
            format!("\"{}\"", sha256(value.as_bytes()))
        })
    };
    let Chosen {
        name,
        document,
        path,
        profiles,
        ..
    } = &chosen;
    println!(
        "{{\"profile\":\"{name}\",\"profiles_in_file\":{},\"has_sealctl_table\":{},\"mgmt_token_sha256\":{},\"token_sha256\":{},\"sealctl_profile_env\":\"{}\",\"config\":\"{}\"}}",
        profiles.len(),
        document.contains_key("sealctl"),
        digest("mgmt_token"),
        digest("token"),
        std::env::var("SEALCTL_PROFILE").unwrap_or_default(),
        path.display(),
    );
    ExitCode::SUCCESS
}
