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
    hints: Vec<String>,
}

impl CommandError {
    /// A usage or setup error (exit status 2).
    pub fn setup(message: impl Into<String>) -> CommandError {
        CommandError {
            status: Status::Setup,
            message: message.into(),
            source: None,
            hints: Vec::new(),
        }
    }

    /// An error with its own exit status.
    pub fn with_status(status: Status, message: impl Into<String>) -> CommandError {
        CommandError {
            status,
            message: message.into(),
            source: None,
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

    /// Prints the error to stderr and returns its exit status.
    pub fn report(self) -> ExitCode {
        let mut text = format!("error: {}\n", self.message);
        let mut cause: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|source| source as _);
        while let Some(error) = cause {
            text.push_str(&format!("  caused by: {error}\n"));
            cause = error.source();
        }
        for hint in &self.hints {
            text.push_str(&format!("hint: {hint}\n"));
        }
        anstream::eprint!("{text}");
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

impl From<sealctl_profile::ProfileError> for CommandError {
    fn from(error: sealctl_profile::ProfileError) -> CommandError {
        use sealctl_profile::ProfileError as E;
        let hint = match &error {
            E::Syntax { path, .. } | E::Schema { path, .. } => {
                Some(format!("`sealctl check {}` shows where", path.display()))
            }
            E::UnknownProfile { .. } => Some("choose one with --profile NAME".to_owned()),
            E::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("name the file with --config FILE".to_owned())
            }
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
        let hint = match &error {
            E::NoIdentity => {
                "pass --identity FILE, set SEALCTL_IDENTITY_FILE or SEALCTL_IDENTITY, or create one with `sealctl identity new`"
            }
            E::NoMatchingIdentity(_) => {
                "ask someone who can open it to add your recipient (`sealctl recipients add`) and run `sealctl rekey`"
            }
            E::IdentityLocked => {
                "type the passphrase at the prompt; in CI, give the identity unprotected in SEALCTL_IDENTITY"
            }
            E::Misplaced { .. } => {
                "values cannot be moved between profiles or keys; set the token here with `sealctl token set`"
            }
            E::Damaged(_) | E::NotAnEnvelope | E::Framing(_) => {
                "restore the value from version control, or set the token again with `sealctl token set`"
            }
        };
        CommandError::setup(error.to_string()).hint(hint)
    }
}

impl From<sealctl_seal::IdentityError> for CommandError {
    fn from(error: sealctl_seal::IdentityError) -> CommandError {
        use sealctl_seal::IdentityError as E;
        let hint = match &error {
            E::Permissions { path, .. } => Some(format!("chmod 600 {}", path.display())),
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
        CommandError::setup(error.to_string())
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
        CommandError::setup(error.to_string())
    }
}
