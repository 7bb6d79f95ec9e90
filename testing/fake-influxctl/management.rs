//! `management create | list | revoke`, emulated statefully, in the formats InfluxData documents
//! (the reference page on influxctl, `management create`/`list`/`revoke`), for the tests of
//! `sealctl token rotate` and `token status`.
//!
//! The test names everything in the environment:
//! - `FAKE_INFLUXCTL_STATE`: the state file, JSON `{"tokens":[…]}`; each token holds the SHA-256 of
//!   its string (never the string), its id, description, prefix and times (Unix seconds, 0 for
//!   none), and `pending`, how many more uses it fails before it is active. A test seeds tokens by
//!   writing this file.
//! - `FAKE_INFLUXCTL_RELEASE`: the release to mimic; before 2.11.0, `create` knows no `--format`
//!   (urfave/cli's "flag provided but not defined") and prints only the two warnings and the token.
//! - `FAKE_INFLUXCTL_CREATE_FORMAT=table`: `create` prints its table even when asked for JSON
//!   (whose form influxctl does not document), so that a reader of both forms is tested with each.
//! - `FAKE_INFLUXCTL_ACTIVATION`: a new token fails authentication for its first N uses.
//! - `FAKE_INFLUXCTL_FAIL`: `create`, `list` or `revoke`: that command fails once authenticated.
//! - `FAKE_INFLUXCTL_PAUSE`: `STEP` or `STEP:after` (STEP `create`, `list`, `revoke`): the command
//!   stops before (or after) it changes anything, writes `paused PID` to `FAKE_INFLUXCTL_PAUSE_FILE`
//!   and waits to be killed; a test kills whoever ran it there.
//!
//! Authentication is the profile's `mgmt_token` from the config given: it must be in the state,
//! not revoked, not expired and active. A profile with none logs in as influxctl does (a device
//! code on standard error, an answer on the terminal): the line `approve` on standard input.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{choose, fail, sha256};

/// The release to mimic.
pub const RELEASE_ENV: &str = "FAKE_INFLUXCTL_RELEASE";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn state_path() -> Result<std::path::PathBuf, String> {
    std::env::var_os("FAKE_INFLUXCTL_STATE")
        .map(std::path::PathBuf::from)
        .ok_or_else(|| "the stand-in has no FAKE_INFLUXCTL_STATE".to_owned())
}

fn load() -> Result<Vec<Value>, String> {
    let path = state_path()?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| "{\"tokens\":[]}".to_owned());
    let state: Value = serde_json::from_str(&text).map_err(|error| error.to_string())?;
    Ok(state["tokens"].as_array().cloned().unwrap_or_default())
}

fn save(tokens: &[Value]) -> Result<(), String> {
    let path = state_path()?;
    let temporary = path.with_extension("writing");
    let text = serde_json::to_string_pretty(&json!({ "tokens": tokens })).expect("JSON");
    std::fs::write(&temporary, text).map_err(|error| error.to_string())?;
    std::fs::rename(&temporary, &path).map_err(|error| error.to_string())
}

/// Stops here if the test asked to, until killed.
fn pause_at(step: &str) {
    if std::env::var("FAKE_INFLUXCTL_PAUSE").as_deref() == Ok(step) {
        if let Some(file) = std::env::var_os("FAKE_INFLUXCTL_PAUSE_FILE") {
            let _ = std::fs::write(file, format!("paused {}\n", std::process::id()));
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}

fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0; count];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("/dev/urandom"),
        &mut bytes,
    )
    .expect("random bytes");
    bytes
}

/// A new id, as influxctl shows them: a UUID.
fn new_id() -> String {
    let hex: String = random_bytes(16)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A new management token: `M.V1.` and random characters of the standard base64 alphabet, as
/// the documented prefix `M.V1.+5Jk` is.
fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let tail: String = random_bytes(43)
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % 64] as char)
        .collect();
    format!("M.V1.{tail}")
}

fn rfc3339(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(seconds))
        .to_string()
}

fn time_object(seconds: u64) -> Value {
    json!({ "seconds": seconds, "nanos": 0 })
}

/// The flags of a management command (`--name value`, `--name=value`, `--force`) and its
/// operands.
fn flags(operands: &[String]) -> (Vec<(String, String)>, Vec<String>) {
    let (mut named, mut rest) = (Vec::new(), Vec::new());
    let mut index = 0;
    while index < operands.len() {
        let arg = &operands[index];
        match arg.strip_prefix("--") {
            Some("force") => named.push(("force".to_owned(), String::new())),
            Some(flag) => match flag.split_once('=') {
                Some((name, value)) => named.push((name.to_owned(), value.to_owned())),
                None => {
                    index += 1;
                    let value = operands.get(index).cloned().unwrap_or_default();
                    named.push((flag.to_owned(), value));
                }
            },
            None => rest.push(arg.clone()),
        }
        index += 1;
    }
    (named, rest)
}

fn flag<'f>(named: &'f [(String, String)], name: &str) -> Option<&'f str> {
    named
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn old_release() -> bool {
    let release = std::env::var(RELEASE_ENV).unwrap_or_else(|_| "2.11.0".to_owned());
    let parts: Vec<u32> = release.split('.').filter_map(|p| p.parse().ok()).collect();
    parts < vec![2, 11]
}

/// Who the command runs as: the profile's management token, which must be live; else a login.
fn authenticate(config: Option<String>, profile: Option<String>) -> Result<(), String> {
    let chosen = choose(config, profile)?;
    let Some(token) = chosen.string("mgmt_token") else {
        eprintln!("Visit https://auth.example.com/device and enter the code WXYZ-1234");
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| error.to_string())?;
        return if line.trim() == "approve" {
            Ok(())
        } else {
            Err("login failed: the device code was not approved".to_owned())
        };
    };
    let digest = sha256(token.as_bytes());
    let mut tokens = load()?;
    let found = tokens
        .iter_mut()
        .find(|entry| entry["sha256"] == digest)
        .ok_or("unauthenticated: the management token is not known")?;
    if found["revoked_at"].as_u64().unwrap_or(0) != 0 {
        return Err("unauthenticated: the management token was revoked".to_owned());
    }
    let expires = found["expires_at"].as_u64().unwrap_or(0);
    if expires != 0 && expires <= now() {
        return Err("unauthenticated: the management token has expired".to_owned());
    }
    let pending = found["pending"].as_u64().unwrap_or(0);
    if pending > 0 {
        found["pending"] = json!(pending - 1);
        save(&tokens)?;
        return Err("unauthenticated: the management token is not active yet".to_owned());
    }
    Ok(())
}

/// `management create | list | revoke`.
pub fn run(config: Option<String>, profile: Option<String>, operands: &[String]) -> ExitCode {
    let Some((command, operands)) = operands.split_first() else {
        return fail("management needs a command: create, list or revoke");
    };
    let (named, rest) = flags(operands);
    if command == "create" && old_release() && flag(&named, "format").is_some() {
        eprintln!("Incorrect Usage: flag provided but not defined: -format");
        return ExitCode::from(1);
    }
    if let Err(message) = authenticate(config, profile) {
        return fail(&message);
    }
    if std::env::var("FAKE_INFLUXCTL_FAIL").as_deref() == Ok(command.as_str()) {
        return fail(&format!("injected failure of management {command}"));
    }
    pause_at(command);
    let done = match command.as_str() {
        "create" => create(&named),
        "list" => list(&named),
        "revoke" => revoke(&named, &rest),
        other => Err(format!("unknown management command \"{other}\"")),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn create(named: &[(String, String)]) -> Result<(), String> {
    let expires_at = match flag(named, "expires-at") {
        Some(text) => humantime::parse_rfc3339(text)
            .map_err(|error| format!("--expires-at: {error}"))?
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "--expires-at before 1970")?
            .as_secs(),
        None => 0,
    };
    let description = flag(named, "description").unwrap_or_default().to_owned();
    let (id, token) = (new_id(), new_token());
    let mut tokens = load()?;
    let pending: u64 = std::env::var("FAKE_INFLUXCTL_ACTIVATION")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    tokens.push(json!({
        "id": id,
        "description": description,
        "prefix": &token[..9],
        "sha256": sha256(token.as_bytes()),
        "created_at": now(),
        "expires_at": expires_at,
        "revoked_at": 0,
        "pending": pending,
    }));
    save(&tokens)?;
    pause_at("create:after");
    let mut out = std::io::stdout().lock();
    let warnings = "warn\tplease copy the token and store in a safe place\nwarn\tthis is the *only time* you will see the token\n";
    if old_release() {
        writeln!(out, "{warnings}{token}").map_err(|error| error.to_string())?;
        return Ok(());
    }
    let table = std::env::var("FAKE_INFLUXCTL_CREATE_FORMAT").as_deref() == Ok("table");
    if flag(named, "format") == Some("json") && !table {
        let mut object = json!({
            "id": id,
            "description": description,
            "token_prefix": &token[..9],
            "created_at": time_object(now()),
            "token": token,
        });
        if expires_at != 0 {
            object["expires_at"] = time_object(expires_at);
        }
        writeln!(out, "{object}").map_err(|error| error.to_string())?;
        return Ok(());
    }
    let expires = if expires_at == 0 {
        String::new()
    } else {
        rfc3339(expires_at)
    };
    let rows = [
        ("id", id.as_str()),
        ("description", description.as_str()),
        ("expires at", expires.as_str()),
        ("revoked at", ""),
    ];
    let width = rows.iter().map(|(_, value)| value.len()).max().unwrap_or(0);
    let rule = format!("+-------------+-{}-+", "-".repeat(width));
    let mut text = format!("{rule}\n");
    for (name, value) in rows {
        text.push_str(&format!("| {name:>11} | {value:<width$} |\n"));
    }
    text.push_str(&format!("{rule}\n{warnings}{token}\n"));
    out.write_all(text.as_bytes())
        .map_err(|error| error.to_string())
}

fn list(named: &[(String, String)]) -> Result<(), String> {
    let tokens = load()?;
    if flag(named, "format") == Some("json") {
        let objects: Vec<Value> = tokens
            .iter()
            .map(|entry| {
                let mut object = json!({
                    "id": entry["id"],
                    "account_id": "00000000-0000-0000-0000-000000000000",
                    "token_prefix": entry["prefix"],
                    "created_at": time_object(entry["created_at"].as_u64().unwrap_or(0)),
                    "revoked_at": time_object(entry["revoked_at"].as_u64().unwrap_or(0)),
                    "description": entry["description"],
                    "created_by": "sealctl-tests",
                });
                let expires = entry["expires_at"].as_u64().unwrap_or(0);
                if expires != 0 {
                    object["expires_at"] = time_object(expires);
                }
                object
            })
            .collect();
        println!("{}", Value::Array(objects));
        return Ok(());
    }
    let rows: Vec<[String; 6]> = tokens
        .iter()
        .map(|entry| {
            let time = |key: &str| rfc3339(entry[key].as_u64().unwrap_or(0));
            [
                entry["id"].as_str().unwrap_or_default().to_owned(),
                entry["description"].as_str().unwrap_or_default().to_owned(),
                entry["prefix"].as_str().unwrap_or_default().to_owned(),
                time("created_at"),
                time("expires_at"),
                time("revoked_at"),
            ]
        })
        .collect();
    let header = [
        "ID",
        "DESCRIPTION",
        "PREFIX",
        "CREATED AT",
        "EXPIRES AT",
        "REVOKED AT",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].len())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths.iter().fold("+".to_owned(), |rule, width| {
        format!("{rule}{}+", "-".repeat(width + 2))
    });
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .fold("|".to_owned(), |line, (cell, width)| {
                format!("{line} {cell:<width$} |")
            })
    };
    println!("{rule}\n{}\n{rule}", line(header.to_vec()));
    for row in &rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
    println!("{rule}");
    Ok(())
}

fn revoke(named: &[(String, String)], ids: &[String]) -> Result<(), String> {
    if ids.is_empty() {
        return Err("revoke needs at least one token id".to_owned());
    }
    if flag(named, "force").is_none() {
        eprint!("Are you sure you want to revoke {}? (y/N) ", ids.join(", "));
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        if line.trim() != "y" {
            return Err("revocation cancelled".to_owned());
        }
    }
    let mut tokens = load()?;
    for id in ids {
        let entry = tokens
            .iter_mut()
            .find(|entry| entry["id"] == id.as_str())
            .ok_or_else(|| format!("token {id} not found"))?;
        if entry["revoked_at"].as_u64().unwrap_or(0) == 0 {
            entry["revoked_at"] = json!(now());
        }
    }
    save(&tokens)?;
    pause_at("revoke:after");
    for id in ids {
        println!("revoked token {id}");
    }
    Ok(())
}
