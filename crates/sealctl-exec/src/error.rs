//! Why a program could not be started. Messages never hold a secret.

use std::ffi::OsString;

/// A program that could not be started, or a copy of the config that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program is not on PATH (or the path does not exist): exit status 127, as a shell.
    #[error("{}: command not found", .0.to_string_lossy())]
    NotFound(OsString),
    /// The program exists but cannot be run: exit status 126, as a shell.
    #[error("{}: cannot run it", .program.to_string_lossy())]
    CannotRun {
        /// The program.
        program: OsString,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A global flag that needs a value was last on the command line.
    #[error("influxctl's {0} needs a value")]
    MissingFlagValue(&'static str),
    /// The profile to copy is not in the file.
    #[error("no profile named `{0}` in the file")]
    UnknownProfile(String),
    /// Two spellings of one key (`mgmt_token`, `MGMT_TOKEN`), which influxctl reads as one.
    #[error("{}has both `{first}` and `{second}`, which influxctl reads as the same key, keeping only one of them; keep one and remove the other", if .profile.is_empty() { "the file ".to_owned() } else { format!("profile `{}` ", .profile) })]
    DuplicateKey {
        /// The profile, or empty at the top level.
        profile: String,
        /// The first spelling.
        first: String,
        /// The second spelling.
        second: String,
    },
    /// The file is not valid TOML (run `sealctl check`).
    #[error("the profile file is not valid TOML: {0}")]
    Syntax(String),
    /// Forwarding signals to the program, or waiting for it, failed.
    #[error("cannot watch over the program (its signals, or its end)")]
    Supervise(#[source] std::io::Error),
    /// The in-memory or private copy could not be made.
    #[error("cannot make the private copy of the config")]
    Copy(#[source] std::io::Error),
}

impl ExecError {
    /// The exit status a shell would give for this failure to start a program.
    pub fn exit_status(&self) -> u8 {
        match self {
            ExecError::NotFound(_) => 127,
            ExecError::CannotRun { .. } => 126,
            _ => 2,
        }
    }
}
