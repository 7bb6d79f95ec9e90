//! The one error type of the binary: its kind decides the exit status, its hints say what to do.

use std::fmt;
use std::process::ExitCode;

/// The documented exit statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything went as asked.
    Success,
    /// `check` found problems.
    Findings,
    /// A usage or setup error: wrong flags, a missing or unreadable file.
    Setup,
    /// The status of the program `exec` ran (or 126/127 when it could not start).
    Child(u8),
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Success => 0,
            Status::Findings => 1,
            Status::Setup => 2,
            Status::Child(code) => code,
        })
    }
}

/// An error that stops a command, printed as `error: …` with its causes and hints.
#[derive(Debug)]
pub struct CommandError {
    status: Status,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// What a lower layer said in its own words (a keyring's raw error), shown with -v.
    detail: Option<String>,
    hints: Vec<String>,
}

impl CommandError {
    /// A usage or setup error (exit status 2).
    pub fn setup(message: impl Into<String>) -> CommandError {
        CommandError {
            status: Status::Setup,
            message: message.into(),
            source: None,
            detail: None,
            hints: Vec::new(),
        }
    }

    /// An error with its own exit status.
    pub fn with_status(status: Status, message: impl Into<String>) -> CommandError {
        CommandError {
            status,
            message: message.into(),
            source: None,
            detail: None,
            hints: Vec::new(),
        }
    }

    /// Adds what the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> CommandError {
        self.hints.push(hint.into());
        self
    }

    /// Adds the underlying error, printed as `caused by:`.
    pub fn source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> CommandError {
        self.source = Some(Box::new(source));
        self
    }

    /// What the user can do about it, in order.
    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// Adds what a lower layer said in its own words, shown only with -v.
    pub fn detail(mut self, detail: impl Into<String>) -> CommandError {
        self.detail = Some(detail.into());
        self
    }

    /// Prints the error to stderr and returns its exit status. With `verbose`, also the lower
    /// layer's own words.
    pub fn report(self, verbose: bool) -> ExitCode {
        let mut text = format!("error: {}\n", self.message);
        let mut cause: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|source| source as _);
        while let Some(error) = cause {
            // An error given as its own source (a library error wrapped whole) is said once.
            let said = error.to_string();
            if said != self.message {
                text.push_str(&format!("  caused by: {said}\n"));
            }
            cause = error.source();
        }
        match (&self.detail, verbose) {
            (Some(detail), true) => text.push_str(&format!("  raw error: {detail}\n")),
            (Some(_), false) => text.push_str("  (-v shows the raw error)\n"),
            (None, _) => {}
        }
        for hint in &self.hints {
            text.push_str(&format!("hint: {hint}\n"));
        }
        anstream::eprint!("{}", crate::ui::visible_message(&text));
        self.status.into()
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Writes to stdout that end early because the reader went away (`| head`) are not errors.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// Writes a command's output (`what`, for the message) to stdout; a reader that went away ends
/// it quietly.
pub fn write_stdout(bytes: &[u8], what: &str) -> Result<Status, CommandError> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if !is_broken_pipe(&error) => {
            Err(CommandError::setup(format!("cannot write {what}")).source(error))
        }
        _ => Ok(Status::Success),
    }
}

/// The error a backend gave as its own (a keyring's, with its hints), else its words.
pub fn from_backend(error: Box<dyn std::error::Error + Send + Sync>) -> CommandError {
    match error.downcast::<sealctl_seal::keyring::KeyringError>() {
        Ok(keyring) => (*keyring).into(),
        Err(other) => match other.downcast::<sealctl_seal::LoadError>() {
            Ok(load) => loaded(*load),
            Err(other) => match other.downcast::<sealctl_seal::ServiceError>() {
                Ok(service) => (*service).into(),
                Err(other) => CommandError::setup(other.to_string()),
            },
        },
    }
}

/// The error of a loader the library called (identities, keyring settings): the command's own,
/// with its hints and exit status.
pub fn loaded(error: sealctl_seal::LoadError) -> CommandError {
    match error.0.downcast::<CommandError>() {
        Ok(error) => *error,
        Err(other) => CommandError::setup(other.to_string()),
    }
}

// So that a loader the library calls (identities, keyring settings) can hand back the error
// with its hints: see `target::loaded_error`.
impl std::error::Error for CommandError {}

impl From<sealctl_profile::ProfileError> for CommandError {
    fn from(error: sealctl_profile::ProfileError) -> CommandError {
        use sealctl_profile::ProfileError as E;
        let hint = match &error {
            E::Syntax { path, .. } | E::Schema { path, .. } => {
                Some(format!(
                    "`sealctl check {}` shows where",
                    crate::ui::shell_quote(&path.to_string_lossy())
                ))
            }
            E::UnknownProfile { .. } => Some("choose one with --profile NAME".to_owned()),
            E::DuplicateProfile { path, .. } => Some(format!(
                "`sealctl check {}` shows where; rename or remove all but one by hand, then run this again",
                path.display()
            )),
            E::ReadOnly { path, .. } => Some(format!(
                "make it writable with `chmod u+w {}`, or pass --force to write it anyway (it keeps its mode)",
                path.display()
            )),
            E::HardLinks { path, .. } => Some(format!(
                "make each other name a symbolic link to it (`ln -sf {} OTHER`), then run this again",
                path.display()
            )),
            E::LinkLoop { path } => Some(format!(
                "point the link at the profile file: ln -sfn FILE {}",
                path.display()
            )),
            E::Read { source, .. } if source.kind() == std::io::ErrorKind::FileTooLarge => {
                Some("is this the right file? name the profile file with --config FILE".to_owned())
            }
            E::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("name the file with --config FILE".to_owned())
            }
            E::Write { source, .. } => match source.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    Some("free some space on that file system, then run it again".to_owned())
                }
                std::io::ErrorKind::ReadOnlyFilesystem => Some(
                    "the file system is read-only: remount it read-write, or work on a copy with --config".to_owned(),
                ),
                std::io::ErrorKind::PermissionDenied => {
                    Some("you may not write in that folder: sealctl writes the new file beside the old one".to_owned())
                }
                _ => None,
            },
            _ => None,
        };
        let message = error.to_string();
        let mut command_error = match std::error::Error::source(&error) {
            Some(_) => CommandError::setup(message).source(error),
            None => CommandError::setup(message),
        };
        if let Some(hint) = hint {
            command_error = command_error.hint(hint);
        }
        command_error
    }
}

impl From<sealctl_seal::OpenError> for CommandError {
    fn from(error: sealctl_seal::OpenError) -> CommandError {
        use sealctl_seal::OpenError as E;
        let set = crate::ui::CommandLine::sealctl(&["token", "set"]);
        let hint = match error {
            E::Keyring(keyring) => return keyring.into(),
            E::Service(service) => return service.into(),
            E::OtherBackend(_) => "this is a bug in sealctl; please report it".to_owned(),
            E::Load(load) => return loaded(load),
            E::UnknownBackend(_) => {
                "upgrade sealctl to open it (the value itself is unchanged)".to_owned()
            }
            E::NoIdentity => {
                "pass --identity FILE, set SEALCTL_IDENTITY_FILE or SEALCTL_IDENTITY, or create one with `sealctl identity new`".to_owned()
            }
            E::NoMatchingIdentity(_) => {
                format!("ask someone who can open it to add your recipient (`sealctl recipients add`) and run `{}`", crate::ui::CommandLine::sealctl(&["rekey"]))
            }
            E::IdentityLocked => {
                "type the passphrase at the prompt; in CI, give the identity unprotected in SEALCTL_IDENTITY".to_owned()
            }
            E::WrongPassphrase(_) => {
                "run it again and type that identity's passphrase (the value itself is intact)".to_owned()
            }
            E::PassphraseCancelled(_) => {
                "run it again and enter the passphrase, or pass another identity with --identity FILE".to_owned()
            }
            E::NoTerminal(_) => {
                "run it from a terminal, set PINENTRY_PROGRAM to a graphical pinentry, or give an unprotected identity in SEALCTL_IDENTITY (in CI: docs/ci.md)".to_owned()
            }
            E::PromptFailed(_) => {
                "the line above says why; if PINENTRY_PROGRAM names a pinentry that cannot run here, unset it to be asked on the terminal".to_owned()
            }
            E::TooMuchWork { .. } => {
                "re-encrypt the identity on this machine (`age -d` it, then `age -p` again), or unlock it on a faster machine".to_owned()
            }
            E::MissingPlugin(ref plugin) => format!(
                "install {plugin} (docs/identities.md says where each plugin comes from), or open it with another identity (--identity FILE); the file is unchanged"
            ),
            E::Plugin { .. } => {
                "is the hardware key plugged in? Then run it again, or open it with another identity (--identity FILE)".to_owned()
            }
            E::PluginNoTerminal { .. } => {
                "run it from a terminal (or set PINENTRY_PROGRAM to a graphical pinentry for a PIN), or in CI give an identity that needs no prompt in SEALCTL_IDENTITY".to_owned()
            }
            E::PluginCancelled { .. } => "run it again and answer the prompt".to_owned(),
            E::Misplaced { .. } => {
                format!("values cannot be moved between profiles or keys; set the token here with `{set}`")
            }
            E::EndpointChanged { .. } => {
                "if the profile was not meant to move, restore its product, host, port and ids from version control".to_owned()
            }
            E::EndpointEdited { .. } => {
                format!("restore the value from version control, or set the token again with `{set}`")
            }
            // The expiry is written in clear, beside the ciphertext, so a bad one is damage or
            // an edit; the token itself may be intact.
            E::Framing(sealctl_profile::sealed::FramingError::BadExpiry(_)) => {
                "the expiry is only a reminder (the server decides): remove `;exp=…` from the value to open it, or restore the value from version control".to_owned()
            }
            // The id is in clear too, and only names the token for `token rotate` and `status`.
            E::Framing(sealctl_profile::sealed::FramingError::BadId(_)) => {
                "the id only names the token (`influxctl management list` shows it): remove `;id=…` from the value to open it, or restore the value from version control".to_owned()
            }
            E::Damaged(_) | E::NotAnEnvelope | E::Framing(_) => {
                format!("restore the value from version control, or set the token again with `{set}`")
            }
            // A failure a later sealctl-seal adds says itself what is wrong.
            _ => return CommandError::setup(error.to_string()),
        };
        CommandError::setup(error.to_string()).hint(hint)
    }
}

impl From<sealctl_seal::IdentityError> for CommandError {
    fn from(error: sealctl_seal::IdentityError) -> CommandError {
        use sealctl_seal::IdentityError as E;
        let hint = match &error {
            E::Permissions { path, .. } => Some(format!(
                "chmod 600 {}",
                crate::ui::shell_quote(&path.to_string_lossy())
            )),
            E::Exists(_) => Some("choose another file with --out FILE".to_owned()),
            _ => None,
        };
        let command_error = CommandError::setup(error.to_string());
        match hint {
            Some(hint) => command_error.hint(hint),
            None => command_error,
        }
    }
}

impl From<sealctl_seal::SealError> for CommandError {
    fn from(error: sealctl_seal::SealError) -> CommandError {
        match error {
            sealctl_seal::SealError::Keyring(keyring) => keyring.into(),
            sealctl_seal::SealError::Load(load) => loaded(load),
            sealctl_seal::SealError::MissingPlugin(ref plugin) => {
                let hint = format!(
                    "install {plugin} (docs/identities.md says where each plugin comes from), or remove its recipients (sealctl recipients rm …); nothing was sealed"
                );
                CommandError::setup(error.to_string()).hint(hint)
            }
            sealctl_seal::SealError::IncompatibleRecipients => CommandError::setup(error.to_string())
                .hint("seal to post-quantum recipients only (remove the others with `sealctl recipients rm`), or drop the age1tagpq1… ones"),
            sealctl_seal::SealError::PluginUnanswered(_) => CommandError::setup(error.to_string())
                .hint("run it from a terminal, or set PINENTRY_PROGRAM to a graphical pinentry"),
            sealctl_seal::SealError::Service(service) => service.into(),
            other => CommandError::setup(other.to_string()),
        }
    }
}

impl From<sealctl_seal::ServiceError> for CommandError {
    fn from(error: sealctl_seal::ServiceError) -> CommandError {
        let hint = error.hint();
        let command_error = match error {
            sealctl_seal::ServiceError::Load(load) => return loaded(load),
            // The hint a user may paste: the file's (untrusted) address shell-quoted here.
            sealctl_seal::ServiceError::AddressOnlyInFile { ref address } => {
                return CommandError::setup(error.to_string()).hint(format!(
                    "if you trust that server, name it on this machine: export BAO_ADDR={}",
                    crate::ui::shell_quote(address)
                ));
            }
            other => CommandError::setup(other.to_string()),
        };
        match hint {
            Some(hint) => command_error.hint(hint),
            None => command_error,
        }
    }
}

impl From<sealctl_seal::TokenError> for CommandError {
    fn from(error: sealctl_seal::TokenError) -> CommandError {
        CommandError::setup(error.to_string())
            .hint("pipe in the bare token, or the whole output of `influxctl management create`")
    }
}

impl From<sealctl_seal::RecipientError> for CommandError {
    fn from(error: sealctl_seal::RecipientError) -> CommandError {
        use sealctl_seal::RecipientError as E;
        let hint = match &error {
            E::Invalid { problem, .. } | E::InvalidLine { problem, .. } => Some(problem.help()),
            // `Read`, `NoneInFile`, and any a later sealctl-seal adds: the message is enough.
            _ => None,
        };
        let error = CommandError::setup(error.to_string());
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<sealctl_seal::keyring::KeyringError> for CommandError {
    fn from(error: sealctl_seal::keyring::KeyringError) -> CommandError {
        let mut command_error = CommandError::setup(error.to_string());
        if let Some(detail) = error.detail() {
            command_error = command_error.detail(detail);
        }
        for hint in keyring_hints(&error) {
            command_error = command_error.hint(hint);
        }
        command_error
    }
}

/// What to do about a keyring failure. Each hint is printed on its own `hint:` line, so each
/// must read alone: none begins with "or".
fn keyring_hints(error: &sealctl_seal::keyring::KeyringError) -> Vec<String> {
    use sealctl_profile::sealed::KeyringStore;
    use sealctl_seal::keyring::KeyringError as E;
    let elsewhere = format!(
        "to do without a keyring, keep the token with age instead: `{}` (docs/keyring.md)",
        crate::ui::CommandLine::sealctl(&["token", "move"]).args(["--to", "age"])
    );
    let set_here =
        crate::ui::CommandLine::sealctl(&["token", "set"]).args(["--backend", "keyring"]);
    match error {
        E::NoSession { .. } => vec![
            "a headless machine has no session bus: use the age backend, or the kernel keyring (`--keyring-store keyutils`)".to_owned(),
            "to use the Secret Service there, start a session with one: `dbus-run-session -- sh`, then `gnome-keyring-daemon --unlock --components=secrets` (docs/keyring.md)".to_owned(),
        ],
        E::NoProvider { .. } => vec![
            "start one (`gnome-keyring-daemon --start --components=secrets`, KWallet or KeePassXC with its Secret Service enabled)".to_owned(),
            elsewhere.clone(),
        ],
        E::Locked { .. } => vec![
            "unlock it (log in to the desktop, open Seahorse, or `gnome-keyring-daemon --unlock` on a headless machine) and try again".to_owned(),
        ],
        E::Missing { .. } if error.set_on_this_machine() => vec![
            format!("set the token again with `{set_here}`"),
        ],
        E::Missing { .. } => vec![
            format!("a token kept in a keyring stays on the machine where it was set; set it here with `{set_here}` (or keep shared files sealed with age)"),
        ],
        E::Ambiguous { reference, .. } => vec![
            format!(
                "another program stored an entry with the same attributes; list them with `secret-tool search --all service sealctl username {}`",
                reference.id
            ),
            format!(
                "delete the one not labelled `sealctl: …` (in Seahorse), or delete them all with `{}` and set the token again with `{set_here}`",
                sealctl_seal::keyring::removal_command(reference)
            ),
        ],
        E::AccessDenied { store, .. } => vec![match store {
            KeyringStore::Keyutils => {
                "the kernel keyring needs a session keyring: run inside a login session, or under `keyctl session -`".to_owned()
            }
            _ => "allow sealctl to use the entry in the keyring's prompt or settings, then try again".to_owned(),
        }],
        E::TimedOut { .. } => vec![
            "is the keyring waiting on a prompt no one can see? Unlock it and try again".to_owned(),
            format!("{} sets the limit in seconds", crate::commands::KEYRING_TIMEOUT_ENV),
        ],
        E::Unsupported(_) => vec![
            format!("the token was set on another kind of machine; set it here with `{set_here}`"),
        ],
        E::Token(_) => vec![
            "pipe in the bare token, or the whole output of `influxctl management create`".to_owned(),
        ],
        E::LeftBehind { error, reference } => {
            let mut hints = keyring_hints(error);
            hints.push(format!(
                "once the keyring answers, remove the entry: {}",
                sealctl_seal::keyring::removal_command(reference)
            ));
            hints
        }
        // `Failed`, and any failure a later sealctl-seal adds.
        _ => vec![elsewhere],
    }
}

#[cfg(test)]
mod tests {
    use sealctl_profile::sealed::{KeyringRef, KeyringStore};
    use sealctl_seal::keyring::KeyringError as E;

    use super::*;

    /// Every keyring failure says what to do, in hints that each read alone.
    #[test]
    fn every_keyring_hint_stands_on_its_own() {
        let entry = || KeyringRef {
            store: KeyringStore::SecretService,
            id: "0123456789abcdef0123456789abcdef".to_owned(),
        };
        let detail = || "raw".to_owned();
        let errors = |store| {
            vec![
                E::NoSession { detail: detail() },
                E::NoProvider { detail: detail() },
                E::Locked {
                    store,
                    detail: detail(),
                },
                E::Missing {
                    reference: entry(),
                    set_on: Some("vm".to_owned()),
                    here: Some("vm".to_owned()),
                },
                E::Missing {
                    reference: entry(),
                    set_on: Some("build-7".to_owned()),
                    here: Some("vm".to_owned()),
                },
                E::Ambiguous {
                    reference: entry(),
                    count: 2,
                },
                E::AccessDenied {
                    store,
                    detail: detail(),
                },
                E::TimedOut {
                    store,
                    after: std::time::Duration::from_secs(5),
                },
                E::Unsupported(store),
                E::Token(sealctl_seal::TokenError::Empty),
                E::LeftBehind {
                    error: Box::new(E::Failed {
                        store,
                        detail: detail(),
                    }),
                    reference: entry(),
                },
                E::Failed {
                    store,
                    detail: detail(),
                },
            ]
        };
        for store in KeyringStore::ALL {
            for error in errors(*store) {
                let said = error.to_string();
                let error = CommandError::from(error);
                assert!(!error.hints().is_empty(), "{said}: no hint");
                for hint in error.hints() {
                    let first = hint.split_whitespace().next().unwrap_or_default();
                    assert!(
                        !["or", "and", "also"].contains(&first),
                        "{said}: the hint leans on another: {hint}"
                    );
                }
            }
        }
    }
}
