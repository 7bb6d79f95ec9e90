//! A profile file open for editing: every edit replaces only the bytes it must.
//!
//! Edits are splices into the original text, not re-renderings of a parsed tree: the span-keeping
//! parser says which bytes hold the value, key or profile to change, only those bytes are
//! replaced, and the result is parsed again and checked before it is accepted. Comments, order,
//! indentation, quoting and line endings (LF or CRLF) elsewhere in the file cannot change.

use std::fs;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Table, TableLike, Value};

use crate::endpoint::{ENDPOINT_KEYS, Endpoint};
use crate::error::ProfileError;
use crate::file::{is_read_only, read_limited, resolve_links};
use crate::lookup::{LookupError, ProfileTable, find_profile, profile_tables};
use crate::schema::{
    Field, Kind, PROFILE_FIELDS, Profile, ProfilesFile, SEALCTL_TABLE, key_for, keys_for,
    only_key_for, same_key,
};

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

/// A string value at a key of a profile: what [`ProfileDocument::values`] reads and
/// [`ProfileDocument::set_many`] writes.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileValue {
    /// The profile's name.
    pub profile: String,
    /// The dotted key.
    pub key: String,
    /// The value, which may be a plaintext secret.
    pub value: String,
}

impl std::fmt::Debug for ProfileValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value may be a plaintext secret.
        f.debug_struct("ProfileValue")
            .field("profile", &self.profile)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// An advisory lock on a profile file, held until dropped.
///
/// Every sealctl command that changes a file takes it before reading, so two of them never lose
/// each other's update. The lock is on the file itself; since saving renames a new file over
/// it, a waiter checks after locking that it still holds the file at the path, and tries again
/// if not.
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Waits for the lock on the file at `path`.
    pub fn acquire(path: &Path) -> Result<FileLock, ProfileError> {
        let read_error = |source| ProfileError::Read {
            path: path.to_owned(),
            source,
        };
        loop {
            let file = fs::File::open(path).map_err(read_error)?;
            file.lock().map_err(read_error)?;
            if same_file(&file, path) {
                return Ok(FileLock { _file: file });
            }
        }
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(held), Ok(current)) => held.dev() == current.dev() && held.ino() == current.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &fs::File, path: &Path) -> bool {
    path.exists()
}

/// One profile as the span-keeping parser sees it.
struct ProfileRef<'d> {
    table: &'d dyn TableLike,
    /// The `[[profile]]` header's span, for a profile written as a table.
    header: Option<Range<usize>>,
    /// The `{ … }` span for a profile written as an inline table.
    inline: Option<Range<usize>>,
}

/// A table header, with where the comments and blank lines above it begin.
struct Header {
    path: Vec<String>,
    is_array: bool,
    /// Where the header's leading comments and blank lines begin.
    start: usize,
    /// Where the header itself begins.
    header_start: usize,
}

/// Where an edit lands: the table that holds (or will hold) the key.
struct Place<'d> {
    table: &'d dyn TableLike,
    /// The span of the inline table holding the key, if it is inline.
    inline: Option<Range<usize>>,
    /// Key text to put before a new key: the dotted path from the nearest header (`auth.oauth2.`).
    dotted: String,
    /// Parts of the key that have no table yet, to be written as a dotted key.
    missing: Vec<String>,
    /// Where the table's header line is, for a table without keys.
    header: Option<Range<usize>>,
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

    /// The names of the profiles, in file order.
    pub fn profile_names(&self) -> Vec<String> {
        let document = self.document();
        profiles(&document)
            .iter()
            .filter_map(|profile| {
                key_for(profile.table, "name")?
                    .1
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// The typed profiles. Fails when a profile does not match the schema (`check` says where).
    pub fn profiles(&self) -> Result<Vec<Profile>, ProfileError> {
        let mut document: toml_edit::DocumentMut =
            self.text.parse().map_err(|source| ProfileError::Syntax {
                path: self.path.clone(),
                source,
            })?;
        // Keys as influxctl reads them: `MGMT_TOKEN` is `mgmt_token`, `[[Profile]]` is
        // `[[profile]]`; the typed view matches names exactly.
        let root: &mut dyn TableLike = document.as_table_mut();
        self.canonical_keys(root, &[PROFILE_TABLE], None)?;
        if let Some(profiles) = document.get_mut("profile") {
            let tables: Vec<&mut dyn TableLike> = match profiles {
                Item::ArrayOfTables(array) => array
                    .iter_mut()
                    .map(|table| table as &mut dyn TableLike)
                    .collect(),
                Item::Value(Value::Array(array)) => array
                    .iter_mut()
                    .filter_map(Value::as_inline_table_mut)
                    .map(|table| table as &mut dyn TableLike)
                    .collect(),
                _ => Vec::new(),
            };
            for table in tables {
                let name = key_for(table, "name")
                    .and_then(|(_, item)| item.as_str())
                    .map(str::to_owned);
                self.canonical_keys(table, PROFILE_FIELDS, name.as_deref())?;
            }
        }
        toml_edit::de::from_document::<ProfilesFile>(document)
            .map(|file| file.profile)
            .map_err(|error| ProfileError::Schema {
                path: self.path.clone(),
                message: error.message().to_owned(),
            })
    }

    /// The typed profile with this name.
    pub fn profile(&self, name: &str) -> Result<Profile, ProfileError> {
        self.profiles()?
            .into_iter()
            .find(|profile| profile.name == name)
            .ok_or_else(|| self.unknown(name))
    }

    /// The string at a dotted `key` (`mgmt_token`, `tls.cert`) of a profile, if it is a string.
    pub fn get(&self, profile: &str, key: &str) -> Result<Option<String>, ProfileError> {
        self.lookup(&self.document(), profile, key)
    }

    /// The strings at these keys of these profiles, where present, read in one pass.
    pub fn values(
        &self,
        profiles: &[String],
        keys: &[&str],
    ) -> Result<Vec<ProfileValue>, ProfileError> {
        let document = self.document();
        let mut values = Vec::new();
        for profile in profiles {
            for key in keys {
                if let Some(value) = self.lookup(&document, profile, key)? {
                    values.push(ProfileValue {
                        profile: profile.clone(),
                        key: (*key).to_owned(),
                        value,
                    });
                }
            }
        }
        Ok(values)
    }

    /// The endpoints of these profiles (where their tokens go), in the same order, read in one
    /// pass.
    pub fn endpoints(&self, profiles: &[String]) -> Result<Vec<Endpoint>, ProfileError> {
        let document = self.document();
        profiles
            .iter()
            .map(|profile| {
                let mut fields = Vec::with_capacity(ENDPOINT_KEYS.len());
                for key in ENDPOINT_KEYS {
                    fields.push((*key, self.lookup(&document, profile, key)?));
                }
                Ok(Endpoint::from_fields(|key| {
                    fields
                        .iter()
                        .find(|(name, _)| *name == key)
                        .and_then(|(_, value)| value.as_deref())
                }))
            })
            .collect()
    }

    /// The endpoint of one profile.
    pub fn endpoint(&self, profile: &str) -> Result<Endpoint, ProfileError> {
        let mut endpoints = self.endpoints(&[profile.to_owned()])?;
        Ok(endpoints.remove(0))
    }

    fn lookup(
        &self,
        document: &Document<&str>,
        profile: &str,
        key: &str,
    ) -> Result<Option<String>, ProfileError> {
        let found = self.find(document, profile)?;
        let mut table = found.table;
        let parts: Vec<&str> = key.split('.').collect();
        let (leaf, parents) = parts.split_last().expect("split yields one part");
        for part in parents {
            match self
                .one_key(table, part, profile)?
                .map(|(_, item)| item.as_table_like())
            {
                Some(Some(inner)) => table = inner,
                _ => return Ok(None),
            }
        }
        Ok(self
            .one_key(table, leaf, profile)?
            .and_then(|(_, item)| item.as_str())
            .map(str::to_owned))
    }

    /// Sets a dotted `key` of a profile to a string. An existing string keeps its surrounding
    /// whitespace and comment; a new key goes on a line of its own after the table's last key,
    /// indented like its neighbours (a key of a table that does not exist yet is written dotted,
    /// `tls.ca = "…"`). A key that holds a table or a non-string value is not replaced.
    pub fn set(&mut self, profile: &str, key: &str, value: &str) -> Result<(), ProfileError> {
        self.set_many(&[ProfileValue {
            profile: profile.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
        }])
    }

    /// Sets many values at once, as [`ProfileDocument::set`] sets one: every splice is found in
    /// one parse and the result checked in one more, so that sealing a thousand tokens costs two
    /// parses, not two thousand. Two edits of the same key are refused.
    pub fn set_many(&mut self, edits: &[ProfileValue]) -> Result<(), ProfileError> {
        let what = match edits {
            [one] => format!("set `{}` in profile `{}`", one.key, one.profile),
            _ => format!("set {} values", edits.len()),
        };
        let splices = {
            let document = self.document();
            edits
                .iter()
                .map(|edit| self.set_splice(&document, &edit.profile, &edit.key, &edit.value))
                .collect::<Result<Vec<_>, _>>()?
        };
        self.apply_all(splices, what, |candidate| {
            let document = candidate.document();
            edits.iter().all(|edit| {
                candidate
                    .lookup(&document, &edit.profile, &edit.key)
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some(edit.value.as_str())
            })
        })
    }

    fn set_splice(
        &self,
        document: &Document<&str>,
        profile: &str,
        key: &str,
        value: &str,
    ) -> Result<(Range<usize>, String), ProfileError> {
        let place = self.place(document, profile, key)?;
        let leaf = key.rsplit('.').next().unwrap_or(key);
        // The key as written, if it is there in any case: its value is replaced, so that a
        // plaintext `MGMT_TOKEN` is sealed in place rather than left beside a new `mgmt_token`.
        let old = self
            .one_key(place.table, leaf, profile)?
            .map(|(_, item)| item)
            .filter(|_| place.missing.is_empty());
        match old {
            Some(Item::Value(Value::String(old))) => {
                let span = old.span().expect("parsed values have spans");
                Ok((span, encode_string(value)))
            }
            Some(_) => Err(ProfileError::BadKey {
                profile: profile.to_owned(),
                key: key.to_owned(),
                reason: "it holds a value that is not a string",
            }),
            None => Ok(self.insertion(&place, leaf, value)),
        }
    }

    /// Removes a dotted `key` of a profile, with its line. Returns whether it was there.
    pub fn remove(&mut self, profile: &str, key: &str) -> Result<bool, ProfileError> {
        let splice = {
            let document = self.document();
            let place = self.place(&document, profile, key)?;
            let leaf = key.rsplit('.').next().unwrap_or(key);
            // The key as influxctl reads it: `MGMT_TOKEN` is `mgmt_token`. Two spellings are
            // refused, as every other edit refuses them.
            if !place.missing.is_empty() {
                return Ok(false);
            }
            let Some((written, item)) = self.one_key(place.table, leaf, profile)? else {
                return Ok(false);
            };
            let (leaf_key, _) = place
                .table
                .get_key_value(written)
                .expect("the key was just found");
            let key_start = leaf_key.span().expect("parsed keys have spans").start;
            let value_end = item.span().expect("parsed items have spans").end;
            match &place.inline {
                Some(_) => self.inline_removal(key_start, value_end),
                None => {
                    let start = line_start(&self.text, key_start);
                    let end = line_end(&self.text, value_end);
                    let before = &self.text[start..key_start];
                    let after = self.text[value_end..end].trim_start();
                    if before.contains('=') || !(after.is_empty() || after.starts_with('#')) {
                        return Err(
                            self.edit_error(format!("remove `{key}` from profile `{profile}`"))
                        );
                    }
                    (start..end, String::new())
                }
            }
        };
        self.apply(
            splice,
            format!("remove `{key}` from profile `{profile}`"),
            |doc| doc.get(profile, key).is_ok_and(|value| value.is_none()),
        )?;
        Ok(true)
    }

    /// Appends a profile with these string keys (after `name`, in this order), formatted like the
    /// file's first profile, after the last profile.
    pub fn add_profile(
        &mut self,
        name: &str,
        entries: &[(&str, &str)],
    ) -> Result<(), ProfileError> {
        let splice = {
            let document = self.document();
            let existing = profiles(&document);
            if self.has_profile(name) {
                return Err(ProfileError::ProfileExists {
                    path: self.path.clone(),
                    name: name.to_owned(),
                });
            }
            let fields: Vec<(&str, &str)> = std::iter::once(("name", name))
                .chain(entries.iter().copied())
                .collect();
            match existing.last() {
                Some(ProfileRef {
                    inline: Some(span), ..
                }) => {
                    let body: Vec<String> = fields
                        .iter()
                        .map(|(key, value)| {
                            format!("{} = {}", encode_key(key), encode_string(value))
                        })
                        .collect();
                    (span.end..span.end, format!(", {{ {} }}", body.join(", ")))
                }
                last => {
                    let newline = newline(&self.text);
                    let (header_indent, key_indent) = match existing.first() {
                        Some(first) => (
                            first
                                .header
                                .clone()
                                .map(|header| indentation(&self.text, header.start))
                                .unwrap_or_default(),
                            first_key_indent(&self.text, first.table).unwrap_or_default(),
                        ),
                        None => (String::new(), "  ".to_owned()),
                    };
                    let at = match last {
                        Some(_) => self.end_of_last_profile(&document),
                        None => self.text.len(),
                    };
                    let mut block = String::new();
                    let before = &self.text[..at];
                    if !before.is_empty() && !before.ends_with('\n') {
                        block.push_str(newline);
                    }
                    if !before.trim().is_empty() && !ends_with_blank_line(before) {
                        block.push_str(newline);
                    }
                    block.push_str(&format!("{header_indent}[[profile]]{newline}"));
                    for (key, value) in fields {
                        block.push_str(&format!(
                            "{key_indent}{} = {}{newline}",
                            encode_key(key),
                            encode_string(value)
                        ));
                    }
                    if at < self.text.len() && !self.text[at..].starts_with(['\n', '\r']) {
                        block.push_str(newline);
                    }
                    (at..at, block)
                }
            }
        };
        self.apply(splice, format!("add profile `{name}`"), |doc| {
            doc.profile_names().iter().any(|known| known == name)
        })
    }

    /// Removes a profile: its header, keys and sub-tables, and the comments just above its header.
    pub fn remove_profile(&mut self, name: &str) -> Result<(), ProfileError> {
        let count = self.profile_names().len();
        let splice = {
            let document = self.document();
            let index = self.index_of(&document, name)?;
            let all = profiles(&document);
            match &all[index].inline {
                Some(_) => {
                    let array = key_for(document.as_table(), "profile")
                        .and_then(|(_, item)| item.as_array())
                        .expect("inline profiles");
                    let span = array.span().expect("parsed arrays have spans");
                    let mut value: Value = self.text[span.clone()]
                        .parse()
                        .map_err(|_| self.edit_error(format!("remove profile `{name}`")))?;
                    let array = value.as_array_mut().expect("parsed as an array");
                    let removed = array.remove(index);
                    // The spacing after `[` and before `]` stays: a new first (or last) element
                    // takes the removed one's, unless a comment lays it out on lines of its own.
                    let raw = |text: Option<&toml_edit::RawString>| {
                        text.and_then(toml_edit::RawString::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let blank = |text: &str| text.trim().is_empty();
                    let (removed_prefix, removed_suffix) =
                        (raw(removed.decor().prefix()), raw(removed.decor().suffix()));
                    let last = array.len().checked_sub(1);
                    if index == 0
                        && let Some(first) = array.get_mut(0)
                        && blank(&raw(first.decor().prefix()))
                        && blank(&removed_prefix)
                    {
                        first.decor_mut().set_prefix(removed_prefix);
                    }
                    if Some(index) == last.map(|last| last + 1)
                        && let Some(new_last) = last.and_then(|last| array.get_mut(last))
                        && blank(&raw(new_last.decor().suffix()))
                        && blank(&removed_suffix)
                    {
                        new_last.decor_mut().set_suffix(removed_suffix);
                    }
                    let mut rendered = value.to_string();
                    // toml_edit writes the array's line breaks as LF; a CRLF file keeps CRLF.
                    let original = &self.text[span.clone()];
                    if original.contains("\r\n") && !original.replace("\r\n", "").contains('\n') {
                        rendered = rendered.replace("\r\n", "\n").replace('\n', "\r\n");
                    }
                    (span, rendered)
                }
                None => {
                    let own = all[index]
                        .header
                        .clone()
                        .expect("array-of-tables profiles have headers")
                        .start;
                    (self.profile_removal(&document, own), String::new())
                }
            }
        };
        self.apply(splice, format!("remove profile `{name}`"), |doc| {
            doc.profile_names().len() == count - 1
        })
    }

    /// Renames a profile. Sealed values bound to the old name must be re-bound by the caller.
    pub fn rename_profile(&mut self, old: &str, new: &str) -> Result<(), ProfileError> {
        self.index_of(&self.document(), old)?;
        if old != new && self.has_profile(new) {
            return Err(ProfileError::ProfileExists {
                path: self.path.clone(),
                name: new.to_owned(),
            });
        }
        let splice = self.set_splice(&self.document(), old, "name", new)?;
        let names = self.profile_names();
        self.apply(splice, format!("rename profile `{old}`"), |doc| {
            let renamed = names
                .iter()
                .map(|name| if name == old { new } else { name });
            doc.profile_names().iter().map(String::as_str).eq(renamed)
        })
    }

    /// The recipients listed in the file's `[sealctl]` table, as written.
    pub fn recipients(&self) -> Vec<String> {
        self.document()
            .get(SEALCTL_TABLE)
            .and_then(|table| table.get("recipients"))
            .and_then(Item::as_array)
            .map(|array| {
                array
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets `[sealctl] recipients`, one per line, making the table at the end of the file if
    /// there is none.
    pub fn set_recipients(&mut self, recipients: &[String]) -> Result<(), ProfileError> {
        let newline = newline(&self.text);
        let array = if recipients.is_empty() {
            "[]".to_owned()
        } else {
            let lines: String = recipients
                .iter()
                .map(|recipient| format!("  {},{newline}", encode_string(recipient)))
                .collect();
            format!("[{newline}{lines}]")
        };
        let splice = {
            let document = self.document();
            match document.get(SEALCTL_TABLE) {
                Some(Item::Table(table)) => match table.get("recipients") {
                    Some(item) => (item.span().expect("parsed items have spans"), array),
                    None => {
                        let place = Place {
                            table,
                            inline: None,
                            dotted: String::new(),
                            missing: Vec::new(),
                            header: table.span(),
                        };
                        self.insertion_raw(&place, "recipients", &array)
                    }
                },
                Some(_) => {
                    return Err(ProfileError::Edit {
                        path: self.path.clone(),
                        what: "set [sealctl] recipients (sealctl is not a table)".to_owned(),
                    });
                }
                None => {
                    let at = self.text.len();
                    let mut block = String::new();
                    if !self.text.is_empty() && !self.text.ends_with('\n') {
                        block.push_str(newline);
                    }
                    if !self.text.trim().is_empty() && !ends_with_blank_line(&self.text) {
                        block.push_str(newline);
                    }
                    block.push_str(&format!(
                        "[{SEALCTL_TABLE}]{newline}recipients = {array}{newline}"
                    ));
                    (at..at, block)
                }
            }
        };
        self.apply(splice, "set [sealctl] recipients".to_owned(), |doc| {
            doc.recipients() == recipients
        })
    }

    /// Takes the file's advisory lock, then loads it: the way to read, change and save a file
    /// without losing another sealctl's update. The lock is released when the guard is dropped;
    /// save before dropping it.
    ///
    /// Through a symbolic link, the lock is on the link's final target, and the leftovers removed
    /// are those beside it, where [`ProfileDocument::save`] writes.
    pub fn load_locked(
        path: impl Into<PathBuf>,
    ) -> Result<(ProfileDocument, FileLock), ProfileError> {
        let path = path.into();
        let target = resolve_links(&path)?;
        let lock = FileLock::acquire(&target)?;
        remove_leftovers(&target);
        Ok((ProfileDocument::load(path)?, lock))
    }

    /// Lets [`ProfileDocument::save`] replace the file even if it is read-only (`--force`); the
    /// file keeps its mode.
    pub fn overwrite_read_only(&mut self) {
        self.overwrite_read_only = true;
    }

    /// Whether [`ProfileDocument::save`] would write the file: it is not read-only (or may be
    /// overwritten anyway), and it is a regular file or does not exist yet. Commands ask before
    /// their work, so that nobody types a token for a file that will not be written.
    pub fn check_writable(&self) -> Result<(), ProfileError> {
        self.writable_target().map(|_| ())
    }

    /// The file a save replaces (the final target of a link), once it is known to be writable.
    fn writable_target(&self) -> Result<PathBuf, ProfileError> {
        let target = resolve_links(&self.path)?;
        let Ok(metadata) = fs::metadata(&target) else {
            // A new file, at the path or at a link's target.
            return Ok(target);
        };
        if !metadata.is_file() {
            return Err(ProfileError::Write {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is not a regular file; sealctl writes only regular files",
                ),
            });
        }
        let links = link_count(&metadata);
        if links > 1 {
            return Err(ProfileError::HardLinks {
                path: self.path.clone(),
                links,
            });
        }
        if !self.overwrite_read_only && is_read_only(&target, &metadata) {
            return Err(ProfileError::ReadOnly {
                path: self.path.clone(),
                mode: mode_of(&metadata),
            });
        }
        Ok(target)
    }

    /// Writes the document back to its file atomically: the new text is written to a file in the
    /// same folder, flushed to disk and renamed over the original, which keeps its permissions and
    /// owner (a new file is made readable by its owner only). A failure leaves the original
    /// untouched. On Linux the new text is written to an anonymous file that gets a name only for
    /// the rename, so a process killed while writing leaves nothing behind; a name left by a kill
    /// between those two steps is removed by the next [`ProfileDocument::load_locked`].
    ///
    /// A path that is a symbolic link (or a chain of them) stays one: the file replaced is the
    /// link's final target, in the target's folder; a link to a file not made yet gets it made.
    /// A read-only file is refused ([`ProfileError::ReadOnly`]) unless
    /// [`ProfileDocument::overwrite_read_only`] was called.
    pub fn save(&self) -> Result<(), ProfileError> {
        let target = self.writable_target()?;
        let write_error = |source| ProfileError::Write {
            path: target.clone(),
            source,
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let original = fs::metadata(&target).ok();
        let prepare = |file: &mut fs::File| -> std::io::Result<()> {
            file.write_all(self.text.as_bytes())?;
            match &original {
                Some(metadata) => {
                    file.set_permissions(metadata.permissions())?;
                    keep_owner(file, metadata)?;
                }
                None => file.set_permissions(owner_only())?,
            }
            file.sync_all()
        };
        #[cfg(target_os = "linux")]
        if let Some(mut file) = anonymous_file(folder).map_err(write_error)? {
            prepare(&mut file).map_err(write_error)?;
            if let Some(()) = rename_anonymous(&file, folder, &target).map_err(write_error)? {
                sync_folder(folder);
                return Ok(());
            }
        }
        let mut temporary = tempfile::Builder::new()
            .prefix(&temporary_prefix(&target))
            .suffix(TEMPORARY_SUFFIX)
            .tempfile_in(folder)
            .map_err(write_error)?;
        prepare(temporary.as_file_mut()).map_err(write_error)?;
        temporary
            .persist(&target)
            .map_err(|error| write_error(error.error))?;
        sync_folder(folder);
        Ok(())
    }

    /// Replaces `range` with `text`, keeping the result only if it parses and `verify` holds.
    fn apply(
        &mut self,
        splice: (Range<usize>, String),
        what: String,
        verify: impl FnOnce(&ProfileDocument) -> bool,
    ) -> Result<(), ProfileError> {
        self.apply_all(vec![splice], what, verify)
    }

    /// Makes every splice (ranges of the current text, which must not overlap; insertions at one
    /// place keep their order), keeping the result only if it parses and `verify` holds.
    fn apply_all(
        &mut self,
        splices: Vec<(Range<usize>, String)>,
        what: String,
        verify: impl FnOnce(&ProfileDocument) -> bool,
    ) -> Result<(), ProfileError> {
        let mut order: Vec<usize> = (0..splices.len()).collect();
        order.sort_by_key(|&index| (splices[index].0.start, splices[index].0.end, index));
        let mut edited = String::with_capacity(
            self.text.len() + splices.iter().map(|(_, text)| text.len()).sum::<usize>(),
        );
        let mut at = 0;
        for index in order {
            let (range, text) = &splices[index];
            if range.start < at {
                return Err(self.edit_error(what));
            }
            edited.push_str(&self.text[at..range.start]);
            edited.push_str(text);
            at = range.end;
        }
        edited.push_str(&self.text[at..]);
        let candidate = ProfileDocument {
            path: self.path.clone(),
            text: edited,
            overwrite_read_only: self.overwrite_read_only,
        };
        if Document::parse(candidate.text.as_str()).is_ok() && verify(&candidate) {
            self.text = candidate.text;
            Ok(())
        } else {
            Err(self.edit_error(what))
        }
    }

    fn edit_error(&self, what: String) -> ProfileError {
        ProfileError::Edit {
            path: self.path.clone(),
            what,
        }
    }

    fn unknown(&self, name: &str) -> ProfileError {
        ProfileError::UnknownProfile {
            path: self.path.clone(),
            name: name.to_owned(),
            known: self.profile_names(),
        }
    }

    /// The index of the one profile named `name`. Two of that name are refused: which one an edit
    /// or influxctl would take is not something to guess.
    fn index_of(&self, document: &Document<&str>, name: &str) -> Result<usize, ProfileError> {
        match find_profile(document.as_table(), name) {
            Ok((index, _)) => Ok(index),
            Err(LookupError::Unknown) => Err(self.unknown(name)),
            Err(LookupError::Duplicate { count }) => Err(ProfileError::DuplicateProfile {
                path: self.path.clone(),
                name: name.to_owned(),
                count,
            }),
            Err(LookupError::DuplicateKey {
                profile,
                first,
                second,
            }) => Err(self.duplicate_key(&profile, &first, &second)),
        }
    }

    /// Whether one profile or more has this name.
    fn has_profile(&self, name: &str) -> bool {
        self.profile_names().iter().any(|known| known == name)
    }

    /// The bytes to remove with the `[[profile]]` whose header begins at `own`: the header, its
    /// keys and sub-tables, the comment lines directly above the header (no blank line between),
    /// and the blank lines that set it apart from what comes before. A comment at the very start
    /// of the file is the file's, and stays; so do comments at its very end.
    fn profile_removal(&self, document: &Document<&str>, own: usize) -> Range<usize> {
        let text = &self.text;
        let is_blank = |line: &str| line.trim().is_empty();
        let is_comment = |line: &str| line.trim_start().starts_with('#');
        let headers = headers(document);
        let position = headers
            .iter()
            .position(|header| header.header_start == own)
            .expect("the profile's own header is listed");
        // The comments and blank lines between what comes before and the header.
        let header_line = line_start(text, own);
        let gap_start = line_start(text, headers[position].start.min(header_line));
        // What comes after: the next header that is not one of this profile's sub-tables, with
        // its own comments; else the end of the file, less its closing comments.
        let mut end = match headers[position + 1..].iter().find(|header| {
            !header
                .path
                .first()
                .is_some_and(|first| same_key(first, "profile"))
                || header.path.len() == 1
        }) {
            Some(next) => line_start(text, next.start),
            None => {
                let mut end = text.len();
                while end > header_line {
                    let line = line_start(text, end - 1);
                    if !(is_blank(&text[line..end]) || is_comment(&text[line..end])) {
                        break;
                    }
                    end = line;
                }
                if text[end..].trim().is_empty() {
                    end = text.len();
                }
                end
            }
        };
        let mut start = header_line;
        while start > gap_start {
            let line = line_start(text, start - 1);
            if !is_comment(&text[line..start]) {
                break;
            }
            start = line;
        }
        if start < header_line && text[..start].trim().is_empty() {
            // Comments that open the file are the file's, not this profile's.
            start = header_line;
        } else {
            while start > gap_start && is_blank(&text[line_start(text, start - 1)..start]) {
                start = line_start(text, start - 1);
            }
        }
        if text[..start].trim().is_empty() {
            // Nothing is left before: the file does not begin with the blank lines that
            // separated the removed profile from the next.
            while end < text.len() && is_blank(&text[end..line_end(text, end)]) {
                end = line_end(text, end);
            }
        }
        start..end
    }

    /// The one key of `table` that influxctl reads as `field` (as written, with its item), or
    /// an error naming both when there are two spellings of it. `profile` names the place in
    /// the error; empty for the top level.
    fn one_key<'t>(
        &self,
        table: &'t dyn TableLike,
        field: &str,
        profile: &str,
    ) -> Result<Option<(&'t str, &'t Item)>, ProfileError> {
        only_key_for(table, field)
            .map_err(|[first, second]| self.duplicate_key(profile, first, second))
    }

    fn duplicate_key(&self, profile: &str, first: &str, second: &str) -> ProfileError {
        ProfileError::DuplicateKey {
            path: self.path.clone(),
            place: if profile.is_empty() {
                String::new()
            } else {
                format!("profile `{profile}` ")
            },
            first: first.to_owned(),
            second: second.to_owned(),
        }
    }

    /// Renames the keys of `table` that are case variants of `fields` to the names influxctl
    /// reads them by, in sub-tables too; two spellings of one key are an error.
    fn canonical_keys(
        &self,
        table: &mut dyn TableLike,
        fields: &[Field],
        profile: Option<&str>,
    ) -> Result<(), ProfileError> {
        for field in fields {
            let written: Vec<String> = keys_for(table, field.name)
                .map(|(key, _)| key.to_owned())
                .collect();
            if let [first, second, ..] = written.as_slice() {
                return Err(self.duplicate_key(profile.unwrap_or(""), first, second));
            }
            if let Some(key) = written.first()
                && key != field.name
                && let Some(item) = table.remove(key)
            {
                table.insert(field.name, item);
            }
            if let Kind::Table(inner) = field.kind
                && let Some(inner_table) =
                    table.get_mut(field.name).and_then(Item::as_table_like_mut)
            {
                self.canonical_keys(inner_table, inner, profile)?;
            }
        }
        Ok(())
    }

    fn find<'d>(
        &self,
        document: &'d Document<&str>,
        name: &str,
    ) -> Result<ProfileRef<'d>, ProfileError> {
        let index = self.index_of(document, name)?;
        Ok(profiles(document).swap_remove(index))
    }

    /// Walks to the table that holds `key`, noting how a new key there must be written.
    fn place<'d>(
        &self,
        document: &'d Document<&str>,
        profile: &str,
        key: &str,
    ) -> Result<Place<'d>, ProfileError> {
        let found = self.find(document, profile)?;
        let mut place = Place {
            header: found.header.clone(),
            table: found.table,
            inline: found.inline,
            dotted: String::new(),
            missing: Vec::new(),
        };
        let parts: Vec<&str> = key.split('.').collect();
        for (at, part) in parts[..parts.len() - 1].iter().enumerate() {
            let written = self.one_key(place.table, part, profile)?;
            let part = written.map_or(*part, |(key, _)| key);
            match written.map(|(_, item)| item) {
                None => {
                    place.missing = parts[at..parts.len() - 1]
                        .iter()
                        .map(|part| (*part).to_owned())
                        .collect();
                    break;
                }
                Some(Item::Table(table)) if table.is_dotted() => {
                    place.dotted.push_str(&format!("{}.", encode_key(part)));
                    place.table = table;
                }
                Some(Item::Table(table)) => {
                    place.dotted.clear();
                    place.header = table.span();
                    place.table = table;
                }
                Some(Item::Value(Value::InlineTable(table))) if place.inline.is_none() => {
                    place.inline = table.span();
                    place.table = table;
                }
                Some(item) if item.is_table_like() => {
                    place.table = item.as_table_like().expect("checked");
                }
                Some(_) => {
                    return Err(ProfileError::BadKey {
                        profile: profile.to_owned(),
                        key: key.to_owned(),
                        reason: "a part of the key is not a table",
                    });
                }
            }
        }
        Ok(place)
    }

    /// Where and what to insert for a new string key at `place`.
    fn insertion(&self, place: &Place<'_>, leaf: &str, value: &str) -> (Range<usize>, String) {
        self.insertion_raw(place, leaf, &encode_string(value))
    }

    /// Where and what to insert for a new key at `place`, its value already written as TOML.
    fn insertion_raw(&self, place: &Place<'_>, leaf: &str, value: &str) -> (Range<usize>, String) {
        let mut key_text = place.dotted.clone();
        for part in &place.missing {
            key_text.push_str(&format!("{}.", encode_key(part)));
        }
        key_text.push_str(&encode_key(leaf));
        let assignment = format!("{key_text} = {value}");
        if let Some(span) = &place.inline {
            let inner = &self.text[span.start + 1..span.end - 1];
            let content_end = span.start + 1 + inner.trim_end().len();
            return if inner.trim().is_empty() {
                (span.start + 1..span.end - 1, format!(" {assignment} "))
            } else {
                (content_end..content_end, format!(", {assignment}"))
            };
        }
        let newline = newline(&self.text);
        let last_value_end = last_value_end(place.table);
        let indent = first_key_indent(&self.text, place.table)
            .or_else(|| {
                place
                    .header
                    .as_ref()
                    .map(|header| format!("{}  ", indentation(&self.text, header.start)))
            })
            .unwrap_or_default();
        let after = last_value_end
            .or_else(|| place.header.as_ref().map(|header| header.end))
            .unwrap_or(0);
        let at = line_end(&self.text, after);
        let lead = if at > 0 && !self.text[..at].ends_with('\n') {
            newline
        } else {
            ""
        };
        (at..at, format!("{lead}{indent}{assignment}{newline}"))
    }

    /// The bytes to remove for the key-value from `key_start` to `value_end` inside an inline
    /// table: the pair, with the comma that separates it from its neighbour.
    fn inline_removal(&self, key_start: usize, value_end: usize) -> (Range<usize>, String) {
        let text = &self.text;
        // A dotted key (`tls.cert = …`) starts before its last part: back to the `{` or `,`.
        let pair_start = text[..key_start]
            .rfind(['{', ','])
            .map_or(key_start, |at| at + 1);
        let pair_start = pair_start
            + (text[pair_start..key_start].len() - text[pair_start..key_start].trim_start().len());
        let after = &text[value_end..];
        let gap = after.len() - after.trim_start().len();
        if after[gap..].starts_with(',') {
            let rest = &after[gap + 1..];
            let end = value_end + gap + 1 + (rest.len() - rest.trim_start().len());
            return (pair_start..end, String::new());
        }
        let before = text[..pair_start].trim_end();
        match before.strip_suffix(',') {
            Some(kept) => (kept.len()..value_end, String::new()),
            None => (pair_start..value_end + gap, String::new()),
        }
    }

    /// The byte offset just past the last profile and its sub-tables.
    fn end_of_last_profile(&self, document: &Document<&str>) -> usize {
        let headers = headers(document);
        let last_profile = headers
            .iter()
            .rposition(|header| {
                header.is_array && header.path.len() == 1 && same_key(&header.path[0], "profile")
            })
            .unwrap_or(0);
        headers[last_profile + 1..]
            .iter()
            .find(|header| {
                !header
                    .path
                    .first()
                    .is_some_and(|first| same_key(first, "profile"))
            })
            .map_or(self.text.len(), |next| next.start)
    }
}

/// The top-level key of the profiles, for [`ProfileDocument::canonical_keys`].
const PROFILE_TABLE: Field = Field {
    name: "profile",
    kind: Kind::StringMap,
};

fn profiles<'d>(document: &'d Document<&str>) -> Vec<ProfileRef<'d>> {
    profile_tables(document.as_table())
        .into_iter()
        .map(|profile| match profile {
            ProfileTable::Table(table) => ProfileRef {
                table,
                header: table.span(),
                inline: None,
            },
            ProfileTable::Inline(table) => ProfileRef {
                table,
                header: None,
                inline: table.span(),
            },
        })
        .collect()
}

/// Every table header in the file, in file order, with where its leading comments begin.
fn headers(document: &Document<&str>) -> Vec<Header> {
    fn visit(table: &Table, path: &mut Vec<String>, is_array: bool, out: &mut Vec<Header>) {
        // The root table has a span too (empty, at 0), but no header.
        if let Some(span) = table
            .span()
            .filter(|_| !path.is_empty() && !table.is_dotted() && !table.is_implicit())
        {
            let start = table
                .decor()
                .prefix()
                .and_then(|prefix| prefix.span())
                .map_or(span.start, |prefix| prefix.start.min(span.start));
            out.push(Header {
                path: path.clone(),
                is_array,
                start,
                header_start: span.start,
            });
        }
        for (name, item) in table.iter() {
            path.push(name.to_owned());
            match item {
                Item::Table(inner) => visit(inner, path, false, out),
                Item::ArrayOfTables(array) => {
                    array.iter().for_each(|inner| visit(inner, path, true, out))
                }
                _ => {}
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    visit(document.as_table(), &mut Vec::new(), false, &mut out);
    out.sort_by_key(|header| header.start);
    out
}

/// The end of the last key-value written in `table`'s own body (not in its sub-table sections).
fn last_value_end(table: &dyn TableLike) -> Option<usize> {
    table
        .iter()
        .filter_map(|(_, item)| match item {
            Item::Value(value) => value.span().map(|span| span.end),
            Item::Table(inner) if inner.is_dotted() => last_value_end(inner),
            _ => None,
        })
        .max()
}

fn first_key_indent(text: &str, table: &dyn TableLike) -> Option<String> {
    table
        .iter()
        .filter(|(_, item)| item.is_value() || item.as_table().is_some_and(Table::is_dotted))
        .find_map(|(name, _)| table.get_key_value(name)?.0.span())
        .map(|span| indentation(text, span.start))
}

/// The white space at the start of the line holding `at` (empty if anything else precedes `at`).
fn indentation(text: &str, at: usize) -> String {
    let before = &text[line_start(text, at)..at];
    if before.chars().all(|c| c == ' ' || c == '\t') {
        before.to_owned()
    } else {
        String::new()
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// Just past the line ending of the line holding `at`, or the end of the text.
fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map_or(text.len(), |newline| at + newline + 1)
}

fn ends_with_blank_line(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['\n', '\r']);
    text[trimmed.len()..].matches('\n').count() >= 2
}

/// The file's line ending: CRLF if it uses CRLF anywhere, else LF.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// A TOML 1.0 basic string holding `value`.
fn encode_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn encode_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_owned()
    } else {
        encode_string(key)
    }
}

/// Gives the new file the original's owner and group, as an editor running as root must.
#[cfg(unix)]
fn keep_owner(file: &fs::File, original: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let new = file.metadata()?;
    if new.uid() == original.uid() && new.gid() == original.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _original: &fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn link_count(metadata: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    metadata.nlink()
}

#[cfg(not(unix))]
fn link_count(_metadata: &fs::Metadata) -> u64 {
    1
}

#[cfg(unix)]
fn mode_of(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(metadata: &fs::Metadata) -> u32 {
    if metadata.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(unix)]
fn owner_only() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt as _;
    fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn owner_only() -> fs::Permissions {
    // Windows has no mode bits; a new file inherits its folder's access list.
    tempfile::tempfile()
        .and_then(|file| file.metadata())
        .map(|metadata| metadata.permissions())
        .expect("a temporary file can be made")
}

/// Temporary files are named `.<file name>.sealctl-<random>.tmp`, beside the file they replace.
const TEMPORARY_SUFFIX: &str = ".tmp";

fn temporary_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.sealctl-")
}

/// Removes the temporary files a killed sealctl left beside `path`. Called with the file locked,
/// so no other sealctl is writing one for it.
fn remove_leftovers(path: &Path) {
    let prefix = temporary_prefix(path);
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMPORARY_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A file with no name in `folder` (`O_TMPFILE`), or `None` where the file system cannot make one.
#[cfg(target_os = "linux")]
fn anonymous_file(folder: &Path) -> std::io::Result<Option<fs::File>> {
    use rustix::fs::{Mode, OFlags};
    match rustix::fs::open(
        folder,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(fd) => Ok(Some(fs::File::from(fd))),
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL) => {
            Ok(None)
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Gives an anonymous file a temporary name beside `path` and renames it over `path`. `None`
/// where it cannot be given a name (no `/proc`), so that the caller writes a named file instead.
#[cfg(target_os = "linux")]
fn rename_anonymous(file: &fs::File, folder: &Path, path: &Path) -> std::io::Result<Option<()>> {
    use std::os::fd::AsRawFd as _;
    let unique = format!(
        "{}{}-{}{TEMPORARY_SUFFIX}",
        temporary_prefix(path),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.as_nanos())
            .unwrap_or_default()
    );
    let name = folder.join(unique);
    let linked = rustix::fs::linkat(
        rustix::fs::CWD,
        format!("/proc/self/fd/{}", file.as_raw_fd()),
        rustix::fs::CWD,
        &name,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    );
    if linked.is_err() {
        return Ok(None);
    }
    if let Err(error) = fs::rename(&name, path) {
        let _ = fs::remove_file(&name);
        return Err(error);
    }
    Ok(Some(()))
}

/// Makes the rename durable. Best effort: not every platform or file system can sync a folder.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(folder) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# Team profiles
[[profile]]
  # production
  name = "prod"   # the live one
  product = "clustered"
  host = "prod.example.com"
  port = "443"
  mgmt_token = "OLD"  # rotate monthly

[[profile]]
  name = "staging"
  product = "dedicated"
  account_id = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11"
  cluster_id = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12"

  [profile.tls]
    insecure = false

[sealctl]
recipients = []
"#;

    fn document() -> ProfileDocument {
        ProfileDocument::parse("config.toml", FILE).unwrap()
    }

    #[test]
    fn unchanged_documents_round_trip_byte_for_byte() {
        assert_eq!(document().to_toml(), FILE);
    }

    #[test]
    fn setting_a_value_changes_only_its_bytes() {
        let mut doc = document();
        doc.set("prod", "mgmt_token", "NEW").unwrap();
        assert_eq!(doc.to_toml(), FILE.replace("\"OLD\"", "\"NEW\""));
        assert_eq!(
            doc.get("prod", "mgmt_token").unwrap().as_deref(),
            Some("NEW")
        );
    }

    #[test]
    fn a_new_key_is_indented_like_its_neighbours() {
        let mut doc = document();
        doc.set("staging", "token", "T").unwrap();
        let expected = FILE.replace(
            "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n",
            "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n  token = \"T\"\n",
        );
        assert_eq!(doc.to_toml(), expected);
    }

    #[test]
    fn nested_keys_are_set_in_place() {
        let mut doc = document();
        doc.set("staging", "tls.insecure", "x").unwrap_err();
        doc.remove("staging", "tls.insecure").unwrap();
        doc.set("staging", "tls.ca", "/etc/ca.pem").unwrap();
        assert_eq!(
            doc.get("staging", "tls.ca").unwrap().as_deref(),
            Some("/etc/ca.pem")
        );
        assert!(
            doc.to_toml()
                .contains("  [profile.tls]\n    ca = \"/etc/ca.pem\"\n"),
            "{}",
            doc.to_toml()
        );
        // A table that does not exist yet is written as a dotted key, in the profile's own body.
        doc.set("prod", "tls.cert", "/etc/c.pem").unwrap();
        assert!(
            doc.to_toml().contains(
                "  mgmt_token = \"OLD\"  # rotate monthly\n  tls.cert = \"/etc/c.pem\"\n\n"
            ),
            "{}",
            doc.to_toml()
        );
    }

    #[test]
    fn removing_a_key_removes_its_line_only() {
        let mut doc = document();
        assert!(doc.remove("prod", "mgmt_token").unwrap());
        assert!(!doc.remove("prod", "mgmt_token").unwrap());
        assert_eq!(
            doc.to_toml(),
            FILE.replace("  mgmt_token = \"OLD\"  # rotate monthly\n", "")
        );
    }

    #[test]
    fn profiles_are_added_renamed_and_removed() {
        let mut doc = document();
        doc.add_profile(
            "dev",
            &[
                ("product", "clustered"),
                ("host", "localhost"),
                ("port", "8086"),
            ],
        )
        .unwrap();
        let added = "\n[[profile]]\n  name = \"dev\"\n  product = \"clustered\"\n  host = \"localhost\"\n  port = \"8086\"\n";
        assert!(
            doc.to_toml()
                .starts_with(FILE.split("[sealctl]").next().unwrap())
        );
        assert!(doc.to_toml().contains(added), "{}", doc.to_toml());
        assert!(matches!(
            doc.add_profile("dev", &[]),
            Err(ProfileError::ProfileExists { .. })
        ));

        doc.rename_profile("dev", "local").unwrap();
        assert_eq!(doc.profile_names(), ["prod", "staging", "local"]);
        assert!(matches!(
            doc.rename_profile("local", "prod"),
            Err(ProfileError::ProfileExists { .. })
        ));

        doc.remove_profile("local").unwrap();
        assert_eq!(doc.to_toml(), FILE);
    }

    /// Removing a profile keeps every byte that is not the profile's, on every layout that
    /// `init`, `profile add` and people write.
    #[test]
    fn profiles_are_removed_from_every_layout() {
        let p =
            |name: &str| format!("[[profile]]\n  name = \"{name}\"\n  product = \"clustered\"\n");
        let (a, b, c) = (p("a"), p("b"), p("c"));
        let sealctl = "[sealctl]\nrecipients = [\n  \"age1x\",\n]\n";
        let cases: Vec<(String, &str, String)> = vec![
            // As `init` and `profile add` write it: the first, the last, the only one.
            (
                format!("{a}\n{b}\n{sealctl}"),
                "a",
                format!("{b}\n{sealctl}"),
            ),
            (
                format!("{a}\n{b}\n{sealctl}"),
                "b",
                format!("{a}\n{sealctl}"),
            ),
            (format!("{a}\n{sealctl}"), "a", sealctl.to_owned()),
            (a.clone(), "a", String::new()),
            (format!("{a}\n{b}\n{c}"), "b", format!("{a}\n{c}")),
            (format!("{a}\n{b}\n{c}"), "c", format!("{a}\n{b}")),
            (format!("{a}\n{b}"), "a", b.clone()),
            // A comment that opens the file stays, with or without a blank line after it.
            (format!("# team\n{a}"), "a", "# team\n".to_owned()),
            (format!("# team\n\n{a}"), "a", "# team\n".to_owned()),
            (format!("# team\n{a}\n{b}"), "a", format!("# team\n\n{b}")),
            (format!("# team\n\n{a}\n{b}"), "a", format!("# team\n\n{b}")),
            // A comment directly above a profile is that profile's; one set apart by a blank
            // line is not.
            (
                format!("{a}\n# about b\n{b}\n{c}"),
                "b",
                format!("{a}\n{c}"),
            ),
            (
                format!("{a}\n# about c\n\n{b}\n{c}"),
                "b",
                format!("{a}\n# about c\n\n{c}"),
            ),
            (
                format!("{a}\n{b}\n# about c\n{c}"),
                "b",
                format!("{a}\n# about c\n{c}"),
            ),
            // Closing comments of the file stay.
            (
                format!("{a}\n{b}\n# the end\n"),
                "b",
                format!("{a}\n# the end\n"),
            ),
            // Sub-tables go with their profile; other tables stay.
            (
                format!("{a}\n  [profile.tls]\n    insecure = true\n\n{b}"),
                "a",
                b.clone(),
            ),
            (
                format!(
                    "{a}\n[profile.tls]\ninsecure = true\n[profile.auth.oauth2]\nclient_id = \"x\"\n\n{sealctl}"
                ),
                "a",
                sealctl.to_owned(),
            ),
            (format!("{a}tls.insecure = true\n\n{b}"), "a", b.clone()),
            // Indented headers, and top-level keys before the first profile.
            (
                "top = 1\n\n  [[profile]]\n    name = \"a\"\n\n  [[profile]]\n    name = \"b\"\n"
                    .to_owned(),
                "a",
                "top = 1\n\n  [[profile]]\n    name = \"b\"\n".to_owned(),
            ),
            // Inline tables, on one line or one per line with comments.
            (
                "profile = [{ name = \"a\" }, { name = \"b\" }]\n".to_owned(),
                "a",
                "profile = [{ name = \"b\" }]\n".to_owned(),
            ),
            (
                "profile = [ { name = \"a\" }, { name = \"b\" } ] # two\n".to_owned(),
                "b",
                "profile = [ { name = \"a\" } ] # two\n".to_owned(),
            ),
            (
                "profile = [\n  # a\n  { name = \"a\" },\n  # b\n  { name = \"b\" },\n]\n"
                    .to_owned(),
                "a",
                "profile = [\n  # b\n  { name = \"b\" },\n]\n".to_owned(),
            ),
        ];
        for (file, name, expected) in cases {
            for crlf in [false, true] {
                let (file, expected) = if crlf {
                    (file.replace('\n', "\r\n"), expected.replace('\n', "\r\n"))
                } else {
                    (file.clone(), expected.clone())
                };
                let mut doc = ProfileDocument::parse("c.toml", &file).unwrap();
                doc.remove_profile(name)
                    .unwrap_or_else(|error| panic!("{error}\n{file}"));
                assert_eq!(doc.to_toml(), expected, "removing {name} from\n{file}");
            }
        }
    }

    #[test]
    fn profiles_of_one_name_are_refused_not_guessed() {
        let file = "[[profile]]\nname = \"a\"\n\n[[profile]]\nname = \"a\"\nmgmt_token = \"x\"\n";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        for error in [
            doc.remove_profile("a").unwrap_err(),
            doc.rename_profile("a", "b").unwrap_err(),
            doc.set("a", "mgmt_token", "y").unwrap_err(),
            doc.add_profile("a", &[]).unwrap_err(),
        ] {
            assert!(
                matches!(
                    error,
                    ProfileError::DuplicateProfile { count: 2, .. }
                        | ProfileError::ProfileExists { .. }
                ),
                "{error}"
            );
        }
        assert_eq!(
            doc.rename_profile("a", "b").unwrap_err().to_string(),
            "c.toml has 2 profiles named `a`; sealctl cannot tell which one is meant"
        );
        assert_eq!(doc.to_toml(), file);
    }

    #[test]
    fn line_endings_quoting_and_a_missing_final_newline_survive_edits() {
        let file = "[[profile]]\r\n\"name\" = 'a'\r\nproduct = \"clustered\"\r\nauth . oauth2 . client_id = \"x\"\r\nmgmt_token = \"OLD\"";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        doc.set("a", "mgmt_token", "NEW").unwrap();
        doc.set("a", "host", "h").unwrap();
        doc.set("a", "auth.oauth2.token_url", "https://t").unwrap();
        assert_eq!(
            doc.to_toml(),
            // A new dotted key joins its siblings.
            "[[profile]]\r\n\"name\" = 'a'\r\nproduct = \"clustered\"\r\nauth . oauth2 . client_id = \"x\"\r\nauth.oauth2.token_url = \"https://t\"\r\nmgmt_token = \"NEW\"\r\nhost = \"h\"\r\n"
        );
        doc.add_profile("b", &[("product", "dedicated")]).unwrap();
        assert!(doc.to_toml().ends_with(
            "host = \"h\"\r\n\r\n[[profile]]\r\nname = \"b\"\r\nproduct = \"dedicated\"\r\n"
        ));
    }

    #[test]
    fn inline_table_profiles_are_edited_inside_their_braces() {
        let file =
            "profile = [ { name = \"a\", product = \"clustered\" }, { name = \"b\" } ] # two\n";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        doc.set("b", "host", "h").unwrap();
        assert_eq!(
            doc.to_toml(),
            "profile = [ { name = \"a\", product = \"clustered\" }, { name = \"b\", host = \"h\" } ] # two\n"
        );
        assert!(doc.remove("a", "product").unwrap());
        assert_eq!(
            doc.to_toml(),
            "profile = [ { name = \"a\" }, { name = \"b\", host = \"h\" } ] # two\n"
        );
        doc.add_profile("c", &[]).unwrap();
        doc.remove_profile("a").unwrap();
        assert_eq!(doc.profile_names(), ["b", "c"]);
    }

    #[test]
    fn strings_are_written_as_toml_1_0_basic_strings() {
        let mut doc = document();
        doc.set("prod", "database", "a\"b\\c\u{1b}").unwrap();
        assert!(
            doc.to_toml()
                .contains("database = \"a\\\"b\\\\c\\u001B\"\n"),
            "{}",
            doc.to_toml()
        );
        assert_eq!(
            doc.get("prod", "database").unwrap().as_deref(),
            Some("a\"b\\c\u{1b}")
        );
    }

    #[test]
    fn recipients_are_set_in_the_sealctl_table() {
        let mut doc = ProfileDocument::parse("c.toml", "[[profile]]\n  name = \"a\"\n").unwrap();
        assert!(doc.recipients().is_empty());
        doc.set_recipients(&["age1x".to_owned()]).unwrap();
        assert_eq!(
            doc.to_toml(),
            "[[profile]]\n  name = \"a\"\n\n[sealctl]\nrecipients = [\n  \"age1x\",\n]\n"
        );
        doc.set_recipients(&["age1x".to_owned(), "ssh-ed25519 AAAA bob".to_owned()])
            .unwrap();
        assert_eq!(doc.recipients(), ["age1x", "ssh-ed25519 AAAA bob"]);
        assert!(doc.to_toml().ends_with(
            "[sealctl]\nrecipients = [\n  \"age1x\",\n  \"ssh-ed25519 AAAA bob\",\n]\n"
        ));
        let mut doc =
            ProfileDocument::parse("c.toml", "[sealctl] # ours\n[[profile]]\nname = \"a\"\n")
                .unwrap();
        doc.set_recipients(&["age1y".to_owned()]).unwrap();
        assert_eq!(
            doc.to_toml(),
            "[sealctl] # ours\n  recipients = [\n  \"age1y\",\n]\n[[profile]]\nname = \"a\"\n"
        );
    }

    #[test]
    fn many_values_are_set_at_once_and_overlaps_refused() {
        let mut doc = document();
        let edit = |profile: &str, key: &str, value: &str| ProfileValue {
            profile: profile.into(),
            key: key.into(),
            value: value.into(),
        };
        doc.set_many(&[
            edit("prod", "mgmt_token", "A"),
            edit("staging", "token", "B"),
            edit("staging", "database", "C"),
        ])
        .unwrap();
        let expected = FILE.replace("\"OLD\"", "\"A\"").replace(
            "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n",
            "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n  token = \"B\"\n  database = \"C\"\n",
        );
        assert_eq!(doc.to_toml(), expected);
        let read = doc
            .values(&["prod".into(), "staging".into()], &["mgmt_token", "token"])
            .unwrap();
        assert_eq!(
            read,
            [
                edit("prod", "mgmt_token", "A"),
                edit("staging", "token", "B")
            ]
        );
        let error = doc
            .set_many(&[
                edit("prod", "mgmt_token", "X"),
                edit("prod", "mgmt_token", "Y"),
            ])
            .unwrap_err();
        assert!(matches!(error, ProfileError::Edit { .. }));
        assert_eq!(doc.to_toml(), expected);
    }

    #[test]
    fn a_profile_is_added_to_an_empty_file() {
        let mut doc = ProfileDocument::parse("config.toml", "").unwrap();
        doc.add_profile("default", &[("product", "clustered")])
            .unwrap();
        assert_eq!(
            doc.to_toml(),
            "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n"
        );
        let mut doc = ProfileDocument::parse("config.toml", "# profiles\n").unwrap();
        doc.add_profile("default", &[]).unwrap();
        assert_eq!(
            doc.to_toml(),
            "# profiles\n\n[[profile]]\n  name = \"default\"\n"
        );
    }

    /// Keys are read as influxctl reads them: `MGMT_TOKEN`, `[[Profile]]`, `NAME`, and the
    /// Kelvin sign for `k`, are the keys they spell; a value set replaces the one written.
    #[test]
    fn case_variant_keys_are_read_and_set_in_place() {
        let file = "[[Profile]]\n  NAME = \"prod\"\n  Product = \"clustered\"\n  MGMT_TOKEN = \"old\"\n  \"to\u{212A}en\" = \"db\"\n  [Profile.TLS]\n    CA = \"/ca.pem\"\n";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        assert_eq!(doc.profile_names(), ["prod"]);
        assert_eq!(
            doc.get("prod", "mgmt_token").unwrap().as_deref(),
            Some("old")
        );
        assert_eq!(doc.get("prod", "token").unwrap().as_deref(), Some("db"));
        assert_eq!(
            doc.get("prod", "tls.ca").unwrap().as_deref(),
            Some("/ca.pem")
        );
        let values = doc
            .values(&["prod".to_owned()], &["mgmt_token", "token"])
            .unwrap();
        let keys: Vec<&str> = values.iter().map(|value| value.key.as_str()).collect();
        assert_eq!(keys, ["mgmt_token", "token"]);
        doc.set("prod", "mgmt_token", "new").unwrap();
        doc.set("prod", "tls.cert", "/c.pem").unwrap();
        assert_eq!(
            doc.to_toml(),
            file.replace("\"old\"", "\"new\"")
                .replace("/ca.pem\"\n", "/ca.pem\"\n    cert = \"/c.pem\"\n")
        );
        let typed = doc.profile("prod").unwrap();
        assert!(typed.mgmt_token.is_some() && typed.token.is_some());
        assert_eq!(typed.tls.unwrap().ca.as_deref(), Some("/ca.pem"));
    }

    /// Removing reads keys and tables as influxctl does too: `token rm` finds `MGMT_TOKEN`, and
    /// `profile rm`/`rename` work on `[[Profile]]` tables and their `[Profile.TLS]` sub-tables.
    #[test]
    fn case_variant_keys_and_tables_are_removed_and_renamed() {
        let file = "# team\n[[Profile]]\n  NAME = \"prod\"\n  MGMT_TOKEN = \"old\"\n  [Profile.TLS]\n    CA = \"/ca.pem\"\n\n[[Profile]]\n  Name = \"dev\"\n  host = \"d\"\n";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        assert!(doc.remove("prod", "mgmt_token").unwrap());
        assert_eq!(doc.get("prod", "mgmt_token").unwrap(), None);
        assert_eq!(doc.to_toml(), file.replace("  MGMT_TOKEN = \"old\"\n", ""));
        doc.rename_profile("dev", "staging").unwrap();
        assert_eq!(doc.profile_names(), ["prod", "staging"]);
        doc.remove_profile("prod").unwrap();
        assert_eq!(
            doc.to_toml(),
            "# team\n\n[[Profile]]\n  Name = \"staging\"\n  host = \"d\"\n"
        );
        let inline = "Profile = [ { NAME = \"a\" }, { name = \"b\" } ]\n";
        let mut doc = ProfileDocument::parse("c.toml", inline).unwrap();
        doc.remove_profile("a").unwrap();
        assert_eq!(doc.profile_names(), ["b"]);
    }

    /// Two spellings of one key: which one influxctl takes is not known, so nothing is read or
    /// changed through them, and the error names both as written.
    #[test]
    fn two_spellings_of_one_key_are_refused() {
        let file = "[[profile]]\n  name = \"prod\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n  Mgmt_Token = \"plain\"\n";
        let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
        for error in [
            doc.get("prod", "mgmt_token").unwrap_err(),
            doc.values(&["prod".to_owned()], &["mgmt_token"])
                .unwrap_err(),
            doc.profiles().unwrap_err(),
            doc.set("prod", "mgmt_token", "x").unwrap_err(),
        ] {
            let message = error.to_string();
            assert!(
                matches!(error, ProfileError::DuplicateKey { .. }),
                "{message}"
            );
            assert!(
                message.contains("`mgmt_token` and `Mgmt_Token`"),
                "{message}"
            );
            assert!(!message.contains("plain\""), "{message}");
        }
        assert_eq!(doc.to_toml(), file);
        let both = "[[profile]]\n  name = \"a\"\n[[Profile]]\n  name = \"b\"\n";
        let doc = ProfileDocument::parse("c.toml", both).unwrap();
        assert!(matches!(
            doc.get("a", "name"),
            Err(ProfileError::DuplicateKey { .. })
        ));
        let names = "[[profile]]\n  name = \"a\"\n  NAME = \"b\"\n";
        let doc = ProfileDocument::parse("c.toml", names).unwrap();
        assert!(matches!(
            doc.get("a", "name"),
            Err(ProfileError::DuplicateKey { .. })
        ));
        assert!(matches!(
            doc.get("b", "name"),
            Err(ProfileError::DuplicateKey { .. })
        ));
    }

    #[test]
    fn unknown_profiles_list_the_known_ones() {
        let error = document().set("nope", "host", "x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "no profile named `nope` in config.toml (it has: prod, staging)"
        );
    }

    #[test]
    fn typed_profiles_hide_plaintext_in_debug() {
        let profiles = document().profiles().unwrap();
        assert_eq!(profiles[0].endpoint(), "prod.example.com:443");
        let debug = format!("{:?}", profiles[0]);
        assert!(debug.contains("Plaintext([redacted])"), "{debug}");
        assert!(!debug.contains("OLD"), "{debug}");
    }

    #[cfg(unix)]
    #[test]
    fn save_replaces_the_file_atomically_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        fs::write(&path, FILE).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut doc = ProfileDocument::load(&path).unwrap();
        doc.set("prod", "mgmt_token", "NEW").unwrap();
        doc.save().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            FILE.replace("OLD", "NEW")
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers: Vec<_> = fs::read_dir(folder.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
