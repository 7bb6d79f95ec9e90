//! Finding a profile by name as influxctl reads the file: the one lookup that the editor
//! ([`ProfileDocument`](crate::ProfileDocument)) and the config copy of `sealctl-exec` share, so
//! that the profile a command edits or opens is the profile influxctl is given.
//!
//! It reads parsed TOML (`toml_edit`), spanned or not; it does not load, edit or save a file.

use toml_edit::{InlineTable, Item, Table, TableLike, Value};

use crate::schema::{key_for, keys_for, only_key_for};

/// One profile of a file: a `[[profile]]` table, or an inline `{ … }` in `profile = [ … ]`.
#[derive(Clone, Copy, Debug)]
pub enum ProfileTable<'d> {
    /// A `[[profile]]` table.
    Table(&'d Table),
    /// An inline table in a `profile = [ … ]` array.
    Inline(&'d InlineTable),
}

impl<'d> ProfileTable<'d> {
    /// Its keys, however it is written.
    pub fn as_table_like(self) -> &'d dyn TableLike {
        match self {
            ProfileTable::Table(table) => table,
            ProfileTable::Inline(table) => table,
        }
    }

    /// A copy of it as a standard table, to write as `[[profile]]`.
    pub fn to_table(self) -> Table {
        match self {
            ProfileTable::Table(table) => table.clone(),
            ProfileTable::Inline(table) => table.clone().into_table(),
        }
    }
}

/// Every profile of a file, in file order: the tables under the top-level key influxctl reads
/// as `profile`, whatever its case.
pub fn profile_tables(root: &Table) -> Vec<ProfileTable<'_>> {
    match key_for(root, "profile").map(|(_, item)| item) {
        Some(Item::ArrayOfTables(array)) => array.iter().map(ProfileTable::Table).collect(),
        Some(Item::Value(Value::Array(array))) => array
            .iter()
            .filter_map(Value::as_inline_table)
            .map(ProfileTable::Inline)
            .collect(),
        _ => Vec::new(),
    }
}

/// Why [`find_profile`] found no one profile. The caller names the file in its own error.
///
/// Not `#[non_exhaustive]`, unlike the crate's other errors: a lookup by name can only find
/// none, several, or a name it cannot read, and each caller maps every case to its own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// No profile has the name.
    Unknown,
    /// Several profiles have the name: which one influxctl or an edit would take is not known.
    Duplicate {
        /// How many have it.
        count: usize,
    },
    /// Two spellings of one key that influxctl reads as one (`profile` and `Profile` at the top
    /// level, or `name` and `Name` in the profile looked for).
    DuplicateKey {
        /// The profile looked for, or empty where the keys are at the top level.
        profile: String,
        /// The first spelling, as written.
        first: String,
        /// The second spelling, as written.
        second: String,
    },
}

/// The one profile named `name`, with its index in [`profile_tables`]. A profile matches when
/// a key influxctl reads as `name` holds the name; a profile that matches with two spellings of
/// `name`, and a file with two spellings of `profile`, are refused rather than guessed at.
pub fn find_profile<'d>(
    root: &'d Table,
    name: &str,
) -> Result<(usize, ProfileTable<'d>), LookupError> {
    let duplicate = |profile: &str, [first, second]: [&str; 2]| LookupError::DuplicateKey {
        profile: profile.to_owned(),
        first: first.to_owned(),
        second: second.to_owned(),
    };
    // `[[profile]]` and `[[Profile]]` both: influxctl keeps the profiles of one of them.
    only_key_for(root, "profile").map_err(|pair| duplicate("", pair))?;
    let mut named = Vec::new();
    for (index, profile) in profile_tables(root).into_iter().enumerate() {
        let table = profile.as_table_like();
        if !keys_for(table, "name").any(|(_, item)| item.as_str() == Some(name)) {
            continue;
        }
        only_key_for(table, "name").map_err(|pair| duplicate(name, pair))?;
        named.push((index, profile));
    }
    match named.len() {
        0 => Err(LookupError::Unknown),
        1 => Ok(named.remove(0)),
        count => Err(LookupError::Duplicate { count }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, name: &str) -> Result<(usize, String), LookupError> {
        let document: toml_edit::DocumentMut = text.parse().unwrap();
        find_profile(document.as_table(), name).map(|(index, table)| {
            let found = key_for(table.as_table_like(), "name")
                .and_then(|(_, item)| item.as_str())
                .unwrap_or_default()
                .to_owned();
            (index, found)
        })
    }

    #[test]
    fn a_profile_is_found_as_influxctl_reads_it() {
        let tables = "[[profile]]\nname = \"a\"\n\n[[Profile]]\nNAME = \"b\"\n";
        assert_eq!(find(tables, "a"), Err(dup("", "profile", "Profile")));
        let cased = "[[PROFILE]]\nname = \"a\"\n\n[[PROFILE]]\nNAME = \"b\"\n";
        assert_eq!(find(cased, "b"), Ok((1, "b".to_owned())));
        let inline = "profile = [{ name = \"a\" }, { Name = \"b\" }]\n";
        assert_eq!(find(inline, "b"), Ok((1, "b".to_owned())));
        assert_eq!(find(inline, "c"), Err(LookupError::Unknown));
        assert_eq!(find("title = \"x\"\n", "a"), Err(LookupError::Unknown));
    }

    /// Regression: the copy exec gives influxctl took the first of two profiles of one name,
    /// where the editor refused; and refused a file for another profile's two spellings of
    /// `name`, where the editor did not.
    #[test]
    fn two_profiles_of_one_name_are_refused_and_others_do_not_matter() {
        let twice = "[[profile]]\nname = \"a\"\n\n[[profile]]\nname = \"a\"\n";
        assert_eq!(find(twice, "a"), Err(LookupError::Duplicate { count: 2 }));
        let other = "[[profile]]\nname = \"x\"\nName = \"y\"\n\n[[profile]]\nname = \"a\"\n";
        assert_eq!(find(other, "a"), Ok((1, "a".to_owned())));
        assert_eq!(find(other, "y"), Err(dup("y", "name", "Name")));
    }

    fn dup(profile: &str, first: &str, second: &str) -> LookupError {
        LookupError::DuplicateKey {
            profile: profile.to_owned(),
            first: first.to_owned(),
            second: second.to_owned(),
        }
    }
}
