//! The edits: set and remove values, add, remove and rename profiles, set recipients.
//!
//! Each edit finds the bytes it replaces (see `splice`) and hands them to
//! `ProfileDocument::apply_all`, which keeps the new text only if it parses and `verify` says
//! it holds what was asked; otherwise the document is left as it was and the edit is refused.

use std::ops::Range;

use toml_edit::{Document, Item, Value};

use super::read::{ProfileRef, profiles};
use super::splice::{
    Place, encode_key, encode_string, ends_with_blank_line, first_key_indent, indentation,
    line_end, line_start, newline,
};
use super::{ProfileDocument, ProfileValue};
use crate::error::ProfileError;
use crate::schema::{SEALCTL_TABLE, key_for};

impl ProfileDocument {
    /// Sets a dotted `key` of a profile to a string. An existing string keeps its surrounding
    /// whitespace and comment; a new key goes on a line of its own after the table's last key,
    /// indented like its neighbours (a key of a table that does not exist yet is written dotted,
    /// `tls.ca = "…"`). A key that holds a table or a non-string value is not replaced.
    pub fn set(&mut self, profile: &str, key: &str, value: &str) -> Result<(), ProfileError> {
        self.set_many(&[ProfileValue::new(crate::Place::new(profile, key), value)])
    }

    /// Sets many values at once, as [`ProfileDocument::set`] sets one: every splice is found in
    /// one parse and the result checked in one more, so that sealing a thousand tokens costs two
    /// parses, not two thousand. Two edits of the same key are refused.
    pub fn set_many(&mut self, edits: &[ProfileValue]) -> Result<(), ProfileError> {
        let what = match edits {
            [one] => format!("set `{}` in profile `{}`", one.place.key, one.place.profile),
            _ => format!("set {} values", edits.len()),
        };
        let splices = {
            let document = self.document();
            edits
                .iter()
                .map(|edit| {
                    let place = &edit.place;
                    self.set_splice(&document, &place.profile, &place.key, &edit.value)
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        self.apply_all(splices, what, |candidate| {
            let document = candidate.document();
            edits.iter().all(|edit| {
                candidate
                    .lookup(&document, &edit.place.profile, &edit.place.key)
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

    /// Replaces `range` with `text`, keeping the result only if it parses and `verify` holds.
    pub(super) fn apply(
        &mut self,
        splice: (Range<usize>, String),
        what: String,
        verify: impl FnOnce(&ProfileDocument) -> bool,
    ) -> Result<(), ProfileError> {
        self.apply_all(vec![splice], what, verify)
    }

    /// Makes every splice (ranges of the current text, which must not overlap; insertions at one
    /// place keep their order), keeping the result only if it parses and `verify` holds.
    pub(super) fn apply_all(
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

    pub(super) fn edit_error(&self, what: String) -> ProfileError {
        ProfileError::Edit {
            path: self.path.clone(),
            what,
        }
    }
}
