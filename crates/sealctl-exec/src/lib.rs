//! Runs influxctl, or any other program, with the opened tokens of one profile, for the length of
//! one command.
//!
//! - [`influxctl`] reads influxctl's own global flags from a command line (`--config`,
//!   `--profile`) and builds the plaintext copy of the config that influxctl is given: the one
//!   selected profile, its sealed values opened, sealctl's own table left out.
//! - [`ConfigCopy`] is where that copy lives without touching a persistent disk: on Linux an
//!   anonymous in-memory file, sealed against writes and inherited by the program as
//!   `/proc/self/fd/N`; elsewhere (or when asked) a 0600 file in a folder private to the user
//!   ([`private_folder`]), removed as soon as the program exits, also when sealctl gets a signal,
//!   and by a later run when sealctl was killed outright.
//! - [`Launch`] starts the program, without sealctl's own key-bearing variables: where nothing
//!   needs cleaning up afterwards it replaces sealctl (`exec`), so the program's exit status and
//!   signals are its own with no process in between; otherwise it waits for the program, passes
//!   on to it every signal that would end sealctl, and exits with its status (128+N for a
//!   program killed by signal N).
//!
//! - [`preset`] holds the environments of other tools that take the same tokens (the Terraform
//!   provider, the MCP server, the `influxdb3` CLI, the client libraries), as data.
//! - [`TokenFile`] hands one opened token to a program as a path (`--file`), a sealed in-memory
//!   file on Linux.
//! - [`mask`] (`exec --mask`): the program's output read by sealctl, every opened secret in it
//!   replaced with `***` as it streams; the program gets a pseudo-terminal where sealctl has a
//!   terminal.
//!
//! Opening sealed values is `sealctl-seal`'s work; this crate receives them opened.

#![warn(missing_docs)]

mod copy;
mod error;
pub mod influxctl;
mod launch;
pub mod mask;
#[cfg(unix)]
mod masked_output;
#[cfg(target_os = "linux")]
mod memory_file;
pub mod preset;
pub mod private_folder;
mod token_file;

pub use copy::{ConfigCopy, PrivateCopy};
pub use error::{CannotRunWhy, ExecError};
pub use launch::{Edited, Launch, exit_code};
pub use token_file::TokenFile;
