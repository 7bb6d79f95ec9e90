//! Load, edit and validate influxctl connection profile files (`config.toml`).
//!
//! This crate is what every part of sealctl uses to understand a profile file:
//!
//! - [`check`] validates the bytes of a file against influxctl's schema and reports
//!   [`Diagnostic`]s with stable [`Rule`] ids, line and column. It needs no key and no network,
//!   and no diagnostic ever holds a secret. [`check_reader`] does the same a part at a time, in
//!   a few MiB however large the file.
//! - [`ProfileDocument`] loads a file for editing and saves it back changing only the bytes of
//!   the edited values: comments, order and formatting survive.
//! - [`file`](mod@file) bounds what is read ([`file::MAX_FILE_BYTES`]) and finds the file a linked path
//!   names, which is what is written.
//! - [`paths`] finds influxctl's default file and chooses the profile as influxctl does.
//! - [`lookup`] finds a profile by name in a parsed file as influxctl reads it, for the editor
//!   and for the copy of the config that `sealctl-exec` gives influxctl.
//! - [`recipient`] reads `[sealctl] recipients` entries with age's own parsers: `check` and
//!   sealing judge them alike.
//! - [`terminal`] makes names and messages safe to show on a terminal.
//! - [`sealed`] reads the framing of sealed values, so that `check` can tell a sealed token from a
//!   plaintext one, and [`endpoint`] says where a profile's tokens go, which sealed values are
//!   bound to.
//!
//! ```
//! use sealctl_profile::{Rule, check};
//!
//! let file = b"[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = 443\n";
//! let checked = check(file);
//! let finding = &checked.diagnostics[0];
//! assert_eq!(finding.rule, Rule::WrongType);
//! assert_eq!((finding.line, finding.column), (5, 3));
//! assert_eq!(finding.message, "`port` must be a string, found an integer");
//! ```
//!
//! It is not for opening sealed values (that is `sealctl-seal`) nor for running programs
//! (`sealctl-exec`), and it knows nothing of the command line.

#![warn(missing_docs)]

mod diagnostic;
mod document;
pub mod endpoint;
mod error;
pub mod file;
pub mod lookup;
pub mod paths;
mod place;
pub mod recipient;
pub mod schema;
pub mod sealed;
mod source;
pub mod terminal;
mod validate;

pub use diagnostic::{Diagnostic, Fix, Rule, Severity};
pub use document::merge;
pub use document::{FileLock, ProfileDocument};
pub use error::ProfileError;
pub use place::{Place, ProfileValue};
pub use source::{DisplayLine, REDACTED, SourceText, is_secret_key};
pub use validate::{
    CheckedFile, EXPIRY_WARNING, check, check_at, check_reader, is_other_toml, setting_problem,
};
#[cfg(feature = "testing")]
pub use validate::{check_in_parts_at, check_whole_at};
