//! Why a program could not be started. Messages never hold a secret.

use std::ffi::OsString;
use std::path::PathBuf;

/// A program that could not be started, or a copy of the config that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The program is not on PATH (or the path does not exist): exit status 127, as a shell.
    #[error("{}: command not found", .0.to_string_lossy())]
    NotFound(OsString),
    /// The program exists but cannot be run: exit status 126, as a shell.
    #[error("{}: cannot run it: {why}", .program.to_string_lossy())]
    CannotRun {
        /// The program.
        program: OsString,
        /// Why, as far as can be told from the file.
        why: CannotRunWhy,
        /// The system's own error.
        #[source]
        source: std::io::Error,
    },
    /// A global flag that needs a value was last on the command line.
    #[error("influxctl's {0} needs a value")]
    MissingFlagValue(&'static str),
    /// The profile to copy is not in the file.
    #[error("no profile named `{0}` in the file")]
    UnknownProfile(String),
    /// Two or more profiles have the name: which one influxctl would take is not known.
    #[error(
        "the file has {count} profiles named `{name}`; sealctl cannot tell which one influxctl would read"
    )]
    DuplicateProfile {
        /// The name.
        name: String,
        /// How many profiles have it.
        count: usize,
    },
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
    /// The folder a private copy would go in is not private to the user.
    #[error("cannot keep the private copy of the config in {}: it {why}", .folder.display())]
    NotPrivate {
        /// The folder.
        folder: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The in-memory or private copy could not be made.
    #[error("cannot make the private copy of the config")]
    Copy(#[source] std::io::Error),
    /// The in-memory file of a `--file` token could not be made.
    #[error("cannot make the in-memory file of a token")]
    TokenFile(#[source] std::io::Error),
    /// `--file` needs in-memory files, which only Linux has: a token never goes in a file on disk.
    #[error(
        "--file needs an in-memory file (Linux memfd), which this system does not have; a token is never written to a file on disk"
    )]
    NoMemoryFile,
}

/// Why a program that was found cannot be run.
///
/// Like the other errors of this crate it may grow, so a `match` needs a `_` arm:
///
/// ```compile_fail,E0004
/// use sealctl_exec::CannotRunWhy;
/// fn is_folder(why: &CannotRunWhy) -> bool {
///     match why {
///         CannotRunWhy::Folder(_) => true,
///         CannotRunWhy::NotExecutable(_)
///         | CannotRunWhy::NoInterpreter { .. }
///         | CannotRunWhy::NotAProgram(_)
///         | CannotRunWhy::Other(_) => false,
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CannotRunWhy {
    /// The name is a folder.
    Folder(PathBuf),
    /// The file has no permission to be run.
    NotExecutable(PathBuf),
    /// A script whose `#!` interpreter does not exist (status 127, as a shell).
    NoInterpreter {
        /// The script.
        path: PathBuf,
        /// The interpreter its first line names, if it names one.
        interpreter: Option<String>,
    },
    /// Not a format this system runs (no `#!` line, or built for another system).
    NotAProgram(PathBuf),
    /// Something else: the system's own error.
    Other(String),
}

impl std::fmt::Display for CannotRunWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CannotRunWhy::Folder(path) => write!(f, "{} is a folder", path.display()),
            CannotRunWhy::NotExecutable(path) => {
                write!(f, "{} is not executable", path.display())
            }
            CannotRunWhy::NoInterpreter {
                path,
                interpreter: Some(interpreter),
            } => write!(
                f,
                "the interpreter {interpreter} named on the first line of {} does not exist",
                path.display()
            ),
            CannotRunWhy::NoInterpreter { path, .. } => {
                write!(f, "{} needs a program that does not exist", path.display())
            }
            CannotRunWhy::NotAProgram(path) => {
                write!(f, "{} is not a program this system can run", path.display())
            }
            CannotRunWhy::Other(error) => f.write_str(error),
        }
    }
}

impl ExecError {
    /// The exit status a shell would give for this failure to start a program.
    pub fn exit_status(&self) -> u8 {
        match self {
            ExecError::NotFound(_) => 127,
            ExecError::CannotRun {
                why: CannotRunWhy::NoInterpreter { .. },
                ..
            } => 127,
            ExecError::CannotRun { .. } => 126,
            _ => 2,
        }
    }
}
