//! Where an edit's bytes are, and new text written in the file's own style.
//!
//! The byte ranges an edit replaces (a key's line, a pair inside an inline table, a profile with
//! its comments) and the text it puts there: indented like its neighbours, with the file's line
//! ending, as TOML 1.0 strings and keys that influxctl's parser reads.

use std::ops::Range;

use toml_edit::{Document, Item, Table, TableLike, Value};

use super::ProfileDocument;
use crate::error::ProfileError;
use crate::schema::same_key;

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
pub(super) struct Place<'d> {
    pub(super) table: &'d dyn TableLike,
    /// The span of the inline table holding the key, if it is inline.
    pub(super) inline: Option<Range<usize>>,
    /// Key text to put before a new key: the dotted path from the nearest header (`auth.oauth2.`).
    pub(super) dotted: String,
    /// Parts of the key that have no table yet, to be written as a dotted key.
    pub(super) missing: Vec<String>,
    /// Where the table's header line is, for a table without keys.
    pub(super) header: Option<Range<usize>>,
}

impl ProfileDocument {
    /// The bytes to remove with the `[[profile]]` whose header begins at `own`: the header, its
    /// keys and sub-tables, the comment lines directly above the header (no blank line between),
    /// and the blank lines that set it apart from what comes before. A comment at the very start
    /// of the file is the file's, and stays; so do comments at its very end.
    pub(super) fn profile_removal(&self, document: &Document<&str>, own: usize) -> Range<usize> {
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

    /// Walks to the table that holds `key`, noting how a new key there must be written.
    pub(super) fn place<'d>(
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
    pub(super) fn insertion(
        &self,
        place: &Place<'_>,
        leaf: &str,
        value: &str,
    ) -> (Range<usize>, String) {
        self.insertion_raw(place, leaf, &encode_string(value))
    }

    /// Where and what to insert for a new key at `place`, its value already written as TOML.
    pub(super) fn insertion_raw(
        &self,
        place: &Place<'_>,
        leaf: &str,
        value: &str,
    ) -> (Range<usize>, String) {
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
    pub(super) fn inline_removal(
        &self,
        key_start: usize,
        value_end: usize,
    ) -> (Range<usize>, String) {
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
    pub(super) fn end_of_last_profile(&self, document: &Document<&str>) -> usize {
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

pub(super) fn first_key_indent(text: &str, table: &dyn TableLike) -> Option<String> {
    table
        .iter()
        .filter(|(_, item)| item.is_value() || item.as_table().is_some_and(Table::is_dotted))
        .find_map(|(name, _)| table.get_key_value(name)?.0.span())
        .map(|span| indentation(text, span.start))
}

/// The white space at the start of the line holding `at` (empty if anything else precedes `at`).
pub(super) fn indentation(text: &str, at: usize) -> String {
    let before = &text[line_start(text, at)..at];
    if before.chars().all(|c| c == ' ' || c == '\t') {
        before.to_owned()
    } else {
        String::new()
    }
}

pub(super) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// Just past the line ending of the line holding `at`, or the end of the text.
pub(super) fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map_or(text.len(), |newline| at + newline + 1)
}

pub(super) fn ends_with_blank_line(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['\n', '\r']);
    text[trimmed.len()..].matches('\n').count() >= 2
}

/// The file's line ending: CRLF if it uses CRLF anywhere, else LF.
pub(super) fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// A TOML 1.0 basic string holding `value`.
pub(super) fn encode_string(value: &str) -> String {
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

pub(super) fn encode_key(key: &str) -> String {
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
