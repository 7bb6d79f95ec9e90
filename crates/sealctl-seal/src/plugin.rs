//! age plugins (`age-plugin-<name>` on PATH, found as age finds it): the prompts a plugin asks
//! for (a PIN, a touch, a confirmation), and one plugin session that opens the file keys of
//! several values at once, so that a hardware key asks once per command, not once per value.
//!
//! The `age` crate starts a plugin process for each file it decrypts. The plugin protocol
//! (`identity-v1`) lets one session unwrap the stanzas of many files: each `recipient-stanza`
//! line carries the index of its file, and the plugin answers a `file-key` per file. That is
//! what [`unwrap_in_one_session`] drives, over age-core's own `Connection`. What crosses the
//! protocol is the identities, the values' stanzas (wrapped file keys) and the file keys the
//! plugin sends back, never a token: the token stays inside each value's payload.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use age_core::format::{FileKey, Stanza};
use age_core::plugin::Connection;
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

/// The name of a plugin's program: `age-plugin-<name>`.
pub(crate) fn binary_name(plugin: &str) -> String {
    format!("age-plugin-{plugin}")
}

/// The plugin's program, found on PATH as age finds it; `None` when it is not installed.
pub(crate) fn find(plugin: &str) -> Option<PathBuf> {
    which::which(binary_name(plugin)).ok()
}

/// What a plugin asked the user for and could not get, for the error that follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unanswered {
    /// There was no terminal (nor `PINENTRY_PROGRAM`) to ask on.
    NoTerminal(String),
    /// The prompt was cancelled (an empty answer, Escape in pinentry).
    Cancelled(String),
}

/// The callbacks a plugin's requests reach: messages go to standard error; a PIN or passphrase
/// is asked through pinentry or on the terminal, as age asks (age's `read_secret`); a
/// confirmation or a public value on the terminal. Without a terminal (and without
/// `PINENTRY_PROGRAM` for a secret) nothing is asked: the request fails at once and what was
/// asked is kept, so the error can say so; a plugin never waits on a prompt no one sees.
#[derive(Clone, Default)]
pub(crate) struct Asker {
    unanswered: Arc<Mutex<Option<Unanswered>>>,
}

impl Asker {
    /// The first request this asker could not answer, if any.
    pub(crate) fn unanswered(&self) -> Option<Unanswered> {
        self.unanswered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn note(&self, what: Unanswered) {
        self.unanswered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(what);
    }

    fn terminal() -> bool {
        io::stdin().is_terminal() && io::stderr().is_terminal()
    }

    /// A line typed on the terminal, shown as typed.
    fn read_line(&self, prompt: &str, request: &str) -> Option<String> {
        if !Asker::terminal() {
            self.note(Unanswered::NoTerminal(request.to_owned()));
            return None;
        }
        let mut stderr = io::stderr();
        write!(stderr, "{prompt}").ok()?;
        stderr.flush().ok()?;
        let mut answer = String::new();
        match io::stdin().lock().read_line(&mut answer) {
            Ok(read) if read > 0 => Some(answer.trim_end_matches(['\r', '\n']).to_owned()),
            _ => {
                self.note(Unanswered::Cancelled(request.to_owned()));
                None
            }
        }
    }
}

/// A plugin's words, made safe to show on a terminal.
fn visible(text: &str) -> String {
    sealctl_profile::terminal::visible_message(text).into_owned()
}

impl age::Callbacks for Asker {
    fn display_message(&self, message: &str) {
        eprintln!("{}", visible(message));
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        let (yes, no) = (visible(yes_string), no_string.map(visible));
        let choices = match &no {
            Some(no) => format!("[{yes}/{no}]"),
            None => format!("[{yes}]"),
        };
        let answer = self.read_line(&format!("{} {choices} ", visible(message)), message)?;
        let answer = answer.trim();
        if answer.eq_ignore_ascii_case(&yes) || answer.is_empty() && no.is_none() {
            Some(true)
        } else if no
            .as_deref()
            .is_some_and(|no| answer.eq_ignore_ascii_case(no))
        {
            Some(false)
        } else {
            self.note(Unanswered::Cancelled(message.to_owned()));
            None
        }
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.read_line(&format!("{}: ", visible(description)), description)
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        if !io::stdin().is_terminal() && std::env::var_os("PINENTRY_PROGRAM").is_none() {
            self.note(Unanswered::NoTerminal(description.to_owned()));
            return None;
        }
        match age::cli_common::read_secret(&visible(description), "PIN", None) {
            Ok(secret) if !secret.expose_secret().is_empty() => Some(secret),
            Ok(_) | Err(_) => {
                self.note(Unanswered::Cancelled(description.to_owned()));
                None
            }
        }
    }
}

/// Why a plugin session gave no file key for some files.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// The plugin's program is not on PATH.
    Missing,
    /// The plugin could not be started, died, or broke the protocol.
    Failed(String),
}

/// What one session gave back: a file key for each file it could open (by index), and the
/// plugin's errors about its identities or itself (a device absent), in its own words.
pub(crate) struct Unwrapped {
    pub(crate) keys: Vec<Option<FileKey>>,
    pub(crate) errors: Vec<String>,
}

/// Unwraps the file keys of `files` (each file's stanzas) in one session of the plugin `name`,
/// with its `identities` (their text, `AGE-PLUGIN-…`), asking the user through `asker`.
pub(crate) fn unwrap_in_one_session(
    name: &str,
    identities: &[SecretString],
    files: &[Vec<Stanza>],
    asker: &Asker,
) -> Result<Unwrapped, SessionError> {
    use age::Callbacks as _;
    let path = find(name).ok_or(SessionError::Missing)?;
    let failed = |error: io::Error| SessionError::Failed(error.to_string());
    let mut connection = Connection::open(&path, "identity-v1").map_err(failed)?;
    connection
        .unidir_send(|mut phase| {
            for identity in identities {
                phase.send("add-identity", &[identity.expose_secret()], &[])?;
            }
            for (index, stanzas) in files.iter().enumerate() {
                let index = index.to_string();
                for stanza in stanzas {
                    phase.send_stanza("recipient-stanza", &[&index], stanza)?;
                }
            }
            Ok(())
        })
        .map_err(failed)?;

    let mut keys: Vec<Option<FileKey>> = files.iter().map(|_| None).collect();
    let mut errors = Vec::new();
    connection
        .bidir_receive(
            &[
                "msg",
                "confirm",
                "request-public",
                "request-secret",
                "file-key",
                "error",
            ],
            |command, reply| match command.tag.as_str() {
                "msg" => {
                    asker.display_message(&String::from_utf8_lossy(&command.body));
                    reply.ok(None)
                }
                "confirm" => {
                    let mut labels = command
                        .args
                        .iter()
                        .take(2)
                        .map(|label| BASE64_STANDARD_NO_PAD.decode(label).ok());
                    let yes = labels.next().flatten();
                    let no = labels.next().flatten();
                    let answer = yes.and_then(|yes| {
                        asker.confirm(
                            &String::from_utf8_lossy(&command.body),
                            &String::from_utf8_lossy(&yes),
                            no.as_deref().map(String::from_utf8_lossy).as_deref(),
                        )
                    });
                    match answer {
                        Some(answer) => {
                            reply.ok_with_metadata(&[if answer { "yes" } else { "no" }], None)
                        }
                        None => reply.fail(),
                    }
                }
                "request-public" => {
                    match asker.request_public_string(&String::from_utf8_lossy(&command.body)) {
                        Some(value) => reply.ok(Some(value.as_bytes())),
                        None => reply.fail(),
                    }
                }
                "request-secret" => {
                    match asker.request_passphrase(&String::from_utf8_lossy(&command.body)) {
                        Some(secret) => reply.ok(Some(secret.expose_secret().as_bytes())),
                        None => reply.fail(),
                    }
                }
                "file-key" => {
                    let index = command
                        .args
                        .first()
                        .and_then(|index| index.parse::<usize>().ok());
                    let body = Zeroizing::new(command.body);
                    match (index, <[u8; 16]>::try_from(&body[..])) {
                        (Some(index), Ok(bytes))
                            if keys.get(index).is_some_and(Option::is_none) =>
                        {
                            let bytes = Zeroizing::new(bytes);
                            keys[index] = Some(FileKey::init_with_mut(|key| {
                                key.copy_from_slice(&bytes[..]);
                            }));
                            reply.ok(None)
                        }
                        _ => reply.fail(),
                    }
                }
                // "error": the plugin's words, which hold no secret. One about a stanza only
                // says this plugin's identities do not open that value (it may be sealed to
                // other recipients): not an error of the plugin's, as when no identity matches.
                _ => {
                    if command.args.first().map(String::as_str) != Some("stanza") {
                        errors.push(visible(&String::from_utf8_lossy(&command.body)));
                    }
                    reply.ok(None)
                }
            },
        )
        .map_err(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => {
                SessionError::Failed(format!("{} stopped before it finished", binary_name(name)))
            }
            _ => failed(error),
        })?;
    Ok(Unwrapped { keys, errors })
}
