//! Running `influxctl management …` for `token rotate` and `token status`: influxctl gets a
//! private copy of the config (in memory on Linux, as `exec` gives it) holding one management
//! token, its standard output is read into memory (it may hold a new token), and its standard
//! error and input stay the user's (influxctl's own login asks there).

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use sealctl_exec::ConfigCopy;
use sealctl_profile::ProfileDocument;
use sealctl_seal::{IDENTITY_ENV, IDENTITY_FILE_ENV};
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{CommandError, Status};

/// sealctl's variables that hold or lead to a key: influxctl never sees them (as with `exec`).
const KEY_VARIABLES: [&str; 3] = [IDENTITY_ENV, IDENTITY_FILE_ENV, "SEALCTL_CI_IDENTITY"];

/// The influxctl that `token rotate` and `token status` run.
#[derive(Debug, Clone)]
pub struct Influxctl {
    program: OsString,
}

/// What one run of influxctl gave back.
pub struct Ran {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output, which may hold a token: kept in memory, zeroed when dropped.
    pub stdout: Zeroizing<Vec<u8>>,
    /// Its standard error (already shown to the user as it came).
    pub stderr: String,
}

impl std::fmt::Debug for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ran")
            .field("success", &self.success)
            .field("stdout", &"[redacted]")
            .field("stderr", &self.stderr)
            .finish()
    }
}

impl Influxctl {
    /// `program` if given (`--influxctl`, SEALCTL_INFLUXCTL), else `influxctl` on PATH.
    pub fn new(program: Option<PathBuf>) -> Influxctl {
        Influxctl {
            program: program.map_or_else(|| OsString::from("influxctl"), PathBuf::into_os_string),
        }
    }

    /// The program, as shown in messages.
    pub fn name(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    /// Runs `influxctl --config <copy> --profile PROFILE management ARGS`, the copy holding
    /// `token` as the profile's `mgmt_token` (none, for a profile that has none: influxctl logs
    /// in its own way, on the terminal).
    pub fn management(
        &self,
        document: &ProfileDocument,
        profile: &str,
        token: Option<&SecretString>,
        args: &[&str],
    ) -> Result<Ran, CommandError> {
        let opened: Vec<(String, SecretString)> = token
            .map(|token| ("mgmt_token".to_owned(), token.clone()))
            .into_iter()
            .collect();
        let text = sealctl_exec::influxctl::config_copy(document.to_toml(), profile, &opened)
            .map_err(|error| CommandError::setup(error.to_string()))?;
        let copy = ConfigCopy::new(text.as_bytes())
            .map_err(|error| CommandError::setup(error.to_string()).source(error))?;
        let mut command = Command::new(&self.program);
        command
            .arg("--config")
            .arg(copy.path())
            .args(["--profile", profile, "management"])
            .args(args)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in KEY_VARIABLES {
            command.env_remove(name);
        }
        let mut child = command.spawn().map_err(|error| {
            CommandError::setup(format!("cannot run {}: {error}", self.name()))
                .hint("install influxctl, or name it with --influxctl PATH (or SEALCTL_INFLUXCTL)")
        })?;
        let mut stderr = child.stderr.take().expect("piped");
        // Shown as it comes (a login asks there), and kept to read influxctl's refusals.
        let relay = std::thread::spawn(move || {
            let (mut kept, mut chunk) = (Vec::new(), [0u8; 4096]);
            while let Ok(read) = stderr.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                let _ = std::io::stderr().write_all(&chunk[..read]);
                kept.extend_from_slice(&chunk[..read]);
            }
            kept
        });
        let mut stdout = Zeroizing::new(Vec::new());
        let read = child.stdout.take().expect("piped").read_to_end(&mut stdout);
        let status = child.wait();
        let stderr = String::from_utf8_lossy(&relay.join().unwrap_or_default()).into_owned();
        drop(copy);
        read.map_err(|error| CommandError::setup(format!("reading influxctl's output: {error}")))?;
        let status = status
            .map_err(|error| CommandError::setup(format!("waiting for influxctl: {error}")))?;
        Ok(Ran {
            success: status.success(),
            stdout,
            stderr,
        })
    }

    /// The management tokens the cluster knows (`management list --format json`), as seen with
    /// `token`; the message influxctl gave if it refused.
    pub fn list(
        &self,
        document: &ProfileDocument,
        profile: &str,
        token: Option<&SecretString>,
    ) -> Result<Result<Vec<ListedToken>, String>, CommandError> {
        let ran = self.management(document, profile, token, &["list", "--format", "json"])?;
        if !ran.success {
            return Ok(Err(last_line(&ran.stderr)));
        }
        Ok(parse_list(&ran.stdout).map_err(|why| format!("influxctl's list: {why}")))
    }
}

/// The last non-empty line of what influxctl said: its error.
pub fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("influxctl failed without a message")
        .to_owned()
}

/// One management token as `management list` shows it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ListedToken {
    /// Its id.
    pub id: String,
    /// The first characters of the token.
    pub prefix: String,
    /// Its description.
    pub description: String,
    /// When it was created.
    #[serde(skip)]
    pub created_at: Option<SystemTime>,
    /// When it expires; none: not until revoked.
    #[serde(skip)]
    pub expires_at: Option<SystemTime>,
    /// When it was revoked; none: it was not.
    #[serde(skip)]
    pub revoked_at: Option<SystemTime>,
}

impl ListedToken {
    /// Whether it has expired or was revoked.
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > SystemTime::now())
    }
}

/// Reads `management list --format json`: an array of objects with `id`, `token_prefix`,
/// `description`, and times as `{"seconds": N, "nanos": N}` (zero, or missing, for none).
pub fn parse_list(output: &[u8]) -> Result<Vec<ListedToken>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(output).map_err(|error| format!("not JSON: {error}"))?;
    let items = value.as_array().ok_or("not a JSON array")?;
    let time = |item: &serde_json::Value| match item {
        serde_json::Value::Object(parts) => parts
            .get("seconds")
            .and_then(serde_json::Value::as_u64)
            .filter(|seconds| *seconds > 0)
            .map(|seconds| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)),
        serde_json::Value::String(text) => humantime::parse_rfc3339_weak(text)
            .ok()
            .filter(|at| *at > SystemTime::UNIX_EPOCH),
        _ => None,
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            if text("id").is_empty() {
                return Err("a token without an id".to_owned());
            }
            let at = |key: &str| item.get(key).and_then(time);
            Ok(ListedToken {
                id: text("id").to_owned(),
                prefix: text("token_prefix").to_owned(),
                description: text("description").to_owned(),
                created_at: at("created_at"),
                expires_at: at("expires_at"),
                revoked_at: at("revoked_at"),
            })
        })
        .collect()
}

/// The listed token that is `token`: by `id` when known, else the one live token whose prefix
/// `token` starts with (none if several match: which one would be a guess).
pub fn find<'l>(
    listed: &'l [ListedToken],
    id: Option<&str>,
    token: Option<&SecretString>,
) -> Option<&'l ListedToken> {
    if let Some(id) = id {
        return listed.iter().find(|listed| listed.id == id);
    }
    let token = token?;
    let mut matches = listed.iter().filter(|listed| {
        !listed.prefix.is_empty()
            && secrecy::ExposeSecret::expose_secret(token).starts_with(&listed.prefix)
    });
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

/// The command that revokes a token by hand.
pub fn revoke_by_hand(config: &std::path::Path, profile: &str, id: &str) -> String {
    format!(
        "{} -- influxctl management revoke --force {id}",
        crate::ui::CommandLine::sealctl(&["exec"])
            .file(config)
            .profile(profile)
    )
}

/// A failed step of `token rotate`: its own exit status (docs/rotation.md).
pub fn step_failed(code: u8, message: impl Into<String>) -> CommandError {
    CommandError::with_status(Status::Child(code), message)
}
