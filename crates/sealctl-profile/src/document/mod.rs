//! A profile file open for editing: every edit replaces only the bytes it must.
//!
//! Edits are splices into the original text, not re-renderings of a parsed tree: the span-keeping
//! parser says which bytes hold the value, key or profile to change, only those bytes are
//! replaced, and the result is parsed again and checked before it is accepted. Comments, order,
//! indentation, quoting and line endings (LF or CRLF) elsewhere in the file cannot change.
//!
//! - `save`: the advisory lock and the atomic save, the code that can lose a
//!   user's file; read its guarantees first.
//! - `read`: finding a profile and a key as influxctl reads them; values, endpoints, typed
//!   profiles, recipients.
//! - `edit`: the edits (set, remove, add, remove and rename a profile, set recipients) and the
//!   rule that keeps a splice only if the result parses and says what was asked.
//! - `merge`: the three-way merge of `sealctl git merge`, per profile and key.
//! - `splice`: where an edit's bytes are, and new text written in the file's own style.

mod edit;
pub mod merge;
mod read;
mod save;
mod splice;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use toml_edit::Document;

use crate::error::ProfileError;
use crate::file::read_limited;
use crate::place::ProfileValue;

pub use save::FileLock;

/// A profile file held as its exact text.
pub struct ProfileDocument {
    path: PathBuf,
    text: String,
    /// Whether [`ProfileDocument::save`] may replace a read-only file.
    overwrite_read_only: bool,
}

impl std::fmt::Debug for ProfileDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text may hold plaintext secrets.
        f.debug_struct("ProfileDocument")
            .field("path", &self.path)
            .field("bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl ProfileDocument {
    /// Reads and parses a file, refusing one over [`crate::file::MAX_FILE_BYTES`].
    pub fn load(path: impl Into<PathBuf>) -> Result<ProfileDocument, ProfileError> {
        let path = path.into();
        let bytes = read_limited(&path)?;
        let text = String::from_utf8(bytes).map_err(|_| ProfileError::Read {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
        })?;
        ProfileDocument::parse(path, &text)
    }

    /// Parses `text` as the content of the file at `path` (where it will be saved).
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<ProfileDocument, ProfileError> {
        let path = path.into();
        Document::parse(text).map_err(|source| ProfileError::Syntax {
            path: path.clone(),
            source,
        })?;
        Ok(ProfileDocument {
            path,
            text: text.to_owned(),
            overwrite_read_only: false,
        })
    }

    /// The file this document was loaded from, and will be saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The document's text, exactly as it would be saved.
    pub fn to_toml(&self) -> &str {
        &self.text
    }

    fn document(&self) -> Document<&str> {
        // `parse` and every edit keep the text valid TOML, so this cannot fail.
        Document::parse(self.text.as_str()).expect("the text was checked when it was set")
    }
}
