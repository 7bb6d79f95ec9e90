//! Why loading, editing or saving a profile file failed.

use std::path::PathBuf;

/// An error from loading, editing or saving a profile file. Messages name the file and the
/// profile, never a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML at all; `sealctl check` says exactly where.
    #[error("{path} is not valid TOML")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        #[source]
        source: toml_edit::TomlError,
    },
    /// The file is TOML but its profiles do not match the schema; `sealctl check` says where.
    #[error("{path} has a profile that influxctl cannot read: {message}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// `profile` is there but is not an array of tables.
    #[error("{path}: `profile` is not an array of [[profile]] tables")]
    NotProfiles {
        /// The file.
        path: PathBuf,
    },
    /// No profile has this name.
    #[error("no profile named `{name}` in {path}{}", known_names(.known))]
    UnknownProfile {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// Two or more profiles have this name, so an edit by name cannot tell which one is meant.
    #[error("{path} has {count} profiles named `{name}`; sealctl cannot tell which one is meant")]
    DuplicateProfile {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// How many profiles have it.
        count: usize,
    },
    /// A profile with this name exists already.
    #[error("a profile named `{name}` already exists in {path}")]
    ProfileExists {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
    },
    /// The key is not one the edit can set (a table, or a path through a non-table).
    #[error("cannot set `{key}` in profile `{profile}`: {reason}")]
    BadKey {
        /// The profile.
        profile: String,
        /// The dotted key.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// Two keys of one table that influxctl reads as one (`mgmt_token` and `MGMT_TOKEN`): which
    /// one it takes is not known, so nothing is read or changed through them.
    #[error(
        "{path}: {place}has both `{first}` and `{second}`, which influxctl reads as the same key, keeping only one of them; keep one and remove the other"
    )]
    DuplicateKey {
        /// The file.
        path: PathBuf,
        /// `profile `prod` ` where the keys are in a profile, or nothing at the top level.
        place: String,
        /// The first key, as written.
        first: String,
        /// The second key, as written.
        second: String,
    },
    /// An edit could not be made without disturbing the rest of the file; nothing was changed.
    #[error("cannot {what} in {path} without disturbing the rest of the file; edit it by hand")]
    Edit {
        /// The file.
        path: PathBuf,
        /// The edit, in words ("remove `tls.cert` from profile `prod`").
        what: String,
    },
    /// The path leads through a loop of symbolic links, so there is no file to read or write.
    #[error("{path} is a symbolic link that leads round in a loop; there is no file at its end")]
    LinkLoop {
        /// The path as given.
        path: PathBuf,
    },
    /// The file is read-only and the command was not told to write it anyway.
    #[error("{path} is read-only (mode {mode:04o}); sealctl did not change it")]
    ReadOnly {
        /// The file as named (the link, for a linked file).
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file has other names (hard links), which a save, replacing it with a new file, would
    /// leave holding the old text: plaintext tokens would stay there.
    #[error(
        "{path} has {links} names (hard links); sealctl did not change it, since writing a new file would leave the old text under the other names"
    )]
    HardLinks {
        /// The file as named.
        path: PathBuf,
        /// How many names it has.
        links: u64,
    },
    /// The file could not be written; the original is unchanged.
    #[error("cannot write {path} (the file is unchanged)")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

fn known_names(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no profiles)".to_owned()
    } else {
        format!(" (it has: {})", known.join(", "))
    }
}
