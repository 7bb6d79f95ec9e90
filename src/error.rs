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
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Success => 0,
            Status::Findings => 1,
            Status::Setup => 2,
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
