//! A three-way merge of profile files, per profile and key, for `sealctl git merge`.
//!
//! The result is "ours" edited with the document's own byte-preserving edits: a profile or key
//! that only "theirs" changed is taken from theirs, one both changed alike stays, and one both
//! changed differently is a conflict, written with git's markers around its own lines only.
//! Whether two sealed values hold the same secret is the caller's to say (it needs a key); this
//! module only asks. What it cannot merge structurally (a file that does not parse, inline
//! profiles, changes outside the profiles and recipients on their side) it refuses, so that the
//! caller falls back to a line merge that loses no text.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::ProfileDocument;
use super::read::profiles;
use super::splice::{line_end, line_start, newline};
use crate::place::{Place, ProfileValue};
use crate::schema::SEALCTL_TABLE;
use crate::schema::key_for;
use crate::sealed::{canonical_recipient, looks_sealed, recipients_fingerprint, value_param};

/// What a merge asks its caller: whether two sealed values hold the same secret.
pub type SameSecret<'a> = dyn FnMut(&Place, &str, &str) -> bool + 'a;

/// How the conflict markers are written.
#[derive(Clone, Debug)]
pub struct Markers {
    /// The length of each marker (git's `%L`, 7 by default).
    pub size: usize,
    /// The label after `<<<<<<<`.
    pub ours: String,
    /// The label after `>>>>>>>`.
    pub theirs: String,
}

/// The merged text, and what could not be merged.
pub struct Merged {
    /// The result, with conflict markers where `conflicts` says.
    pub text: String,
    /// What both sides changed differently, in words ("profile `prod` key `mgmt_token`").
    pub conflicts: Vec<String>,
    /// Values both sides sealed again with the same secret, neither to the merged recipients:
    /// ours is kept, and `rekey` seals it to them.
    pub stale: Vec<Place>,
}

impl std::fmt::Debug for Merged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text may hold plaintext secrets.
        f.debug_struct("Merged")
            .field("bytes", &self.text.len())
            .field("conflicts", &self.conflicts)
            .field("stale", &self.stale)
            .finish()
    }
}

/// One value of a profile: a string, or any other value as written.
#[derive(Clone, PartialEq, Eq)]
enum Leaf {
    Text(String),
    Other(String),
}

/// A profile's text in one version of the file.
struct Block {
    /// Its header, keys, sub-tables and the comments above, without whitespace around them.
    text: String,
    /// Where `text` is.
    range: Range<usize>,
    /// What removing the profile removes: with the blank lines that set it apart.
    whole: Range<usize>,
}

/// Where a conflict goes, and what each side holds there.
struct Conflict {
    /// The profile, and the key (none for a whole profile).
    profile: String,
    key: Option<String>,
    ours: String,
    theirs: String,
}

/// Merges `base`, `ours` and `theirs` (the texts of one profile file). `None` when they cannot be
/// merged per profile and key: the caller merges them line by line instead.
pub fn merge(
    base: &str,
    ours: &str,
    theirs: &str,
    markers: &Markers,
    same_secret: &mut SameSecret<'_>,
) -> Option<Merged> {
    let parse = |text: &str| ProfileDocument::parse("merged", text).ok();
    let (base, ours, theirs) = (parse(base)?, parse(ours)?, parse(theirs)?);
    for document in [&base, &ours, &theirs] {
        let names = document.profile_names();
        let distinct: BTreeSet<&String> = names.iter().collect();
        let parsed = document.document();
        if distinct.len() != names.len()
            || profiles(&parsed)
                .iter()
                .any(|profile| profile.inline.is_some())
            || profiles(&parsed).len() != names.len()
        {
            return None;
        }
    }
    // A change outside the profiles and the recipients is merged by lines: only ours may have one.
    let outside = base.outside();
    if theirs.outside() != outside && theirs.outside() != ours.outside() {
        return None;
    }
    let (base_blocks, ours_blocks, theirs_blocks) = (base.blocks(), ours.blocks(), theirs.blocks());
    let (base_leaves, ours_leaves, theirs_leaves) = (base.leaves(), ours.leaves(), theirs.leaves());
    let mut conflicts = Vec::new();
    let mut stale = Vec::new();
    // Whole profiles replaced, removed or added: splices of ours' text, made at once.
    let mut splices: Vec<(Range<usize>, String)> = Vec::new();
    let mut added = String::new();
    // Keys set and removed afterwards, by name.
    let mut sets: Vec<ProfileValue> = Vec::new();
    let mut removals: Vec<Place> = Vec::new();

    let recipients = merge_recipients(&base.recipients(), &ours.recipients(), &theirs.recipients());
    let fingerprint = recipients_fingerprint(&recipients);

    let mut names = ours.profile_names();
    let mut known: BTreeSet<String> = names.iter().cloned().collect();
    for name in theirs
        .profile_names()
        .into_iter()
        .chain(base.profile_names())
    {
        if known.insert(name.clone()) {
            names.push(name);
        }
    }
    let newline = newline(ours.to_toml());
    for name in &names {
        let text =
            |blocks: &BTreeMap<String, Block>| blocks.get(name).map(|block| block.text.clone());
        let (o, a, b) = (text(&base_blocks), text(&ours_blocks), text(&theirs_blocks));
        let whole = |ours: &Option<String>, theirs: &Option<String>| Conflict {
            profile: name.clone(),
            key: None,
            ours: ours.clone().unwrap_or_default(),
            theirs: theirs.clone().unwrap_or_default(),
        };
        let own = ours_blocks.get(name);
        match (&o, &a, &b) {
            (_, None, None) => {}
            (_, Some(a), Some(b)) if a == b => {}
            (_, _, None) if a == o => {
                if let Some(own) = own {
                    splices.push((own.whole.clone(), String::new()));
                }
            }
            (_, _, _) if b == o => {}
            (None, None, Some(b)) => {
                added.push_str(&format!("{newline}{newline}{b}"));
            }
            (Some(_), Some(_), Some(b)) if a == o => {
                splices.push((own.expect("ours has it").range.clone(), b.clone()));
            }
            (Some(o), Some(a), Some(b)) => {
                if comments(b) != comments(o) && comments(a) != comments(o) {
                    conflicts.push(whole(&Some(a.clone()), &Some(b.clone())));
                    continue;
                }
                let base_is_theirs = comments(b) != comments(o);
                if base_is_theirs {
                    splices.push((own.expect("ours has it").range.clone(), b.clone()));
                }
                let empty = Vec::new();
                let values = |all: &BTreeMap<String, Vec<(String, Leaf)>>| {
                    all.get(name).unwrap_or(&empty).clone()
                };
                let (ov, av, bv) = (
                    values(&base_leaves),
                    values(&ours_leaves),
                    values(&theirs_leaves),
                );
                let mut keys: Vec<&String> = av.iter().map(|(key, _)| key).collect();
                for (key, _) in bv.iter().chain(&ov) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                for key in keys {
                    let find = |values: &[(String, Leaf)]| {
                        values
                            .iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, leaf)| leaf.clone())
                    };
                    let (o, a, b) = (find(&ov), find(&av), find(&bv));
                    let place = Place::new(name.as_str(), key.as_str());
                    let wanted = if a == b || b == o {
                        Some(a.clone())
                    } else if a == o {
                        Some(b.clone())
                    } else {
                        match (&a, &b) {
                            (Some(Leaf::Text(x)), Some(Leaf::Text(y)))
                                if looks_sealed(x)
                                    && looks_sealed(y)
                                    && same_secret(&place, x, y) =>
                            {
                                let to_merged =
                                    |value: &str| value_param(value, "r") == Some(&fingerprint);
                                if to_merged(y) && !to_merged(x) {
                                    Some(b.clone())
                                } else {
                                    if !to_merged(x) {
                                        stale.push(place.clone());
                                    }
                                    Some(a.clone())
                                }
                            }
                            _ => None,
                        }
                    };
                    let now = if base_is_theirs { &b } else { &a };
                    let conflict = || Conflict {
                        profile: name.clone(),
                        key: Some(key.clone()),
                        ours: ours.key_text(name, key).unwrap_or_default(),
                        theirs: theirs.key_text(name, key).unwrap_or_default(),
                    };
                    match wanted {
                        Some(wanted) if wanted == *now => {}
                        Some(Some(Leaf::Text(value))) => sets.push(ProfileValue::new(place, value)),
                        Some(None) => removals.push(place),
                        Some(Some(Leaf::Other(_))) | None => conflicts.push(conflict()),
                    }
                }
            }
            _ => conflicts.push(whole(&a, &b)),
        }
    }
    let mut result = ProfileDocument::parse("merged", ours.to_toml()).ok()?;
    if !added.is_empty() {
        let mut at = result.after_profiles(&ours_blocks);
        // Not inside a profile removed with the blank lines after it: after them.
        for (range, _) in &splices {
            if range.start < at && at < range.end {
                at = range.end;
            }
        }
        if at == result.text.len() {
            added.push_str(newline);
        }
        splices.push((at..at, added));
    }
    if !splices.is_empty() {
        result
            .apply_all(splices, "merge profiles".to_owned(), |_| true)
            .ok()?;
    }
    if !sets.is_empty() {
        result.set_many(&sets).ok()?;
    }
    for place in &removals {
        result.remove(&place.profile, &place.key).ok()?;
    }
    if recipients != result.recipients() {
        result.set_recipients(&recipients).ok()?;
    }
    let described = conflicts
        .iter()
        .map(|conflict| match &conflict.key {
            Some(key) => Place::new(conflict.profile.as_str(), key.as_str()).to_string(),
            None => format!("profile `{}`", crate::terminal::visible(&conflict.profile)),
        })
        .collect();
    let text = result.with_markers(&conflicts, markers)?;
    Some(Merged {
        text,
        conflicts: described,
        stale,
    })
}

/// The recipients both sides keep, in ours' order, then those theirs added; one either side
/// removed is gone.
fn merge_recipients(base: &[String], ours: &[String], theirs: &[String]) -> Vec<String> {
    if ours == theirs || theirs == base {
        return ours.to_vec();
    }
    if ours == base {
        return theirs.to_vec();
    }
    let canonical = |list: &[String]| -> BTreeSet<String> {
        list.iter()
            .map(|entry| canonical_recipient(entry))
            .collect()
    };
    let (base_set, ours_set, theirs_set) = (canonical(base), canonical(ours), canonical(theirs));
    let mut merged: Vec<String> = ours
        .iter()
        .filter(|entry| {
            let entry = canonical_recipient(entry);
            !base_set.contains(&entry) || theirs_set.contains(&entry)
        })
        .cloned()
        .collect();
    merged.extend(
        theirs
            .iter()
            .filter(|entry| {
                let entry = canonical_recipient(entry);
                !base_set.contains(&entry) && !ours_set.contains(&entry)
            })
            .cloned(),
    );
    merged.dedup();
    merged
}

/// The comment lines of a profile's text, in order: a change to them is kept whole.
fn comments(block: &str) -> Vec<&str> {
    block
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with('#'))
        .collect()
}

/// `range` of `text` without the whitespace at either end.
fn trimmed(text: &str, range: Range<usize>) -> Range<usize> {
    let inner = &text[range.clone()];
    let start = range.start + (inner.len() - inner.trim_start().len());
    let end = range.start + inner.trim_end().len();
    start..end.max(start)
}

impl ProfileDocument {
    /// Every `[[profile]]`'s text, by name, from one parse.
    fn blocks(&self) -> BTreeMap<String, Block> {
        let document = self.document();
        let mut blocks = BTreeMap::new();
        for profile in profiles(&document) {
            let (Some(header), Some((_, name))) = (profile.header, key_for(profile.table, "name"))
            else {
                continue;
            };
            let Some(name) = name.as_str() else {
                continue;
            };
            let whole = self.profile_removal(&document, header.start);
            let range = trimmed(&self.text, whole.clone());
            blocks.insert(
                name.to_owned(),
                Block {
                    text: self.text[range.clone()].to_owned(),
                    range,
                    whole,
                },
            );
        }
        blocks
    }

    /// Everything but the profiles and the recipients, its lines trimmed, blank lines left out.
    fn outside(&self) -> Vec<String> {
        let document = self.document();
        let mut ranges: Vec<Range<usize>> = self
            .blocks()
            .into_values()
            .map(|block| block.range)
            .collect();
        if let Some(span) = document
            .get(SEALCTL_TABLE)
            .and_then(|table| table.get("recipients"))
            .and_then(Item::span)
        {
            ranges.push(span);
        }
        ranges.sort_by_key(|range| range.start);
        let mut rest = String::new();
        let mut at = 0;
        for range in ranges {
            if range.start >= at {
                rest.push_str(&self.text[at..range.start]);
                rest.push('\n');
                at = range.end;
            }
        }
        rest.push_str(&self.text[at..]);
        rest.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every value of every profile, by profile name and dotted key, in file order.
    fn leaves(&self) -> BTreeMap<String, Vec<(String, Leaf)>> {
        fn walk(table: &dyn TableLike, prefix: &str, out: &mut Vec<(String, Leaf)>) {
            for (key, item) in table.iter() {
                let dotted = format!("{prefix}{key}");
                match item {
                    Item::Value(Value::String(text)) => {
                        out.push((dotted, Leaf::Text(text.value().to_owned())));
                    }
                    Item::Value(Value::InlineTable(inner)) => {
                        walk(inner, &format!("{dotted}."), out);
                    }
                    Item::Table(inner) => walk(inner, &format!("{dotted}."), out),
                    Item::Value(other) => {
                        out.push((dotted, Leaf::Other(other.to_string().trim().to_owned())));
                    }
                    other => out.push((dotted, Leaf::Other(other.to_string().trim().to_owned()))),
                }
            }
        }
        let document = self.document();
        let mut all = BTreeMap::new();
        for profile in profiles(&document) {
            let Some(name) = key_for(profile.table, "name").and_then(|(_, item)| item.as_str())
            else {
                continue;
            };
            let mut out = Vec::new();
            walk(profile.table, "", &mut out);
            all.insert(name.to_owned(), out);
        }
        all
    }

    /// Where text added after the last profile goes: the end of its last non-blank byte.
    fn after_profiles(&self, blocks: &BTreeMap<String, Block>) -> usize {
        blocks
            .values()
            .map(|block| block.range.end)
            .max()
            .unwrap_or_else(|| self.text.trim_end().len())
    }

    /// The lines that hold a key of a profile.
    fn key_lines(&self, profile: &str, key: &str) -> Option<Range<usize>> {
        let document = self.document();
        let place = self.place(&document, profile, key).ok()?;
        if !place.missing.is_empty() {
            return None;
        }
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let (written, item) = self.one_key(place.table, leaf, profile).ok()??;
        let (leaf_key, _) = place.table.get_key_value(written)?;
        let start = line_start(&self.text, leaf_key.span()?.start);
        Some(start..line_end(&self.text, item.span()?.end))
    }

    fn key_text(&self, profile: &str, key: &str) -> Option<String> {
        self.key_lines(profile, key)
            .map(|range| self.text[range].to_owned())
    }

    /// The text with each conflict's region replaced by both sides between markers. Not a
    /// document any more: markers are not TOML.
    fn with_markers(&self, conflicts: &[Conflict], markers: &Markers) -> Option<String> {
        let newline = newline(&self.text);
        let blocks = self.blocks();
        let block_range = |name: &str| blocks.get(name).map(|block| block.range.clone());
        let mut regions: Vec<(Range<usize>, String)> = Vec::new();
        for conflict in conflicts {
            let range = match &conflict.key {
                Some(key) => self.key_lines(&conflict.profile, key).or_else(|| {
                    let block = block_range(&conflict.profile)?;
                    let end = line_end(&self.text, block.end);
                    Some(end..end)
                }),
                None => block_range(&conflict.profile).map(|range| {
                    line_start(&self.text, range.start)..line_end(&self.text, range.end)
                }),
            };
            let range = match range {
                Some(range) => range,
                None => {
                    let end = line_end(&self.text, self.after_profiles(&blocks));
                    end..end
                }
            };
            let mut text = String::new();
            if range.start > 0 && !self.text[..range.start].ends_with('\n') {
                text.push_str(newline);
            }
            let side = |text: &mut String, lines: &str| {
                text.push_str(lines);
                if !lines.is_empty() && !lines.ends_with('\n') {
                    text.push_str(newline);
                }
            };
            let marker = |c: char| c.to_string().repeat(markers.size);
            text.push_str(&format!("{} {}{newline}", marker('<'), markers.ours));
            side(&mut text, &conflict.ours);
            text.push_str(&format!("{}{newline}", marker('=')));
            side(&mut text, &conflict.theirs);
            text.push_str(&format!("{} {}{newline}", marker('>'), markers.theirs));
            regions.push((range, text));
        }
        regions.sort_by_key(|(range, _)| (range.start, range.end));
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for (range, text) in regions {
            if range.start < at {
                return None;
            }
            out.push_str(&self.text[at..range.start]);
            out.push_str(&text);
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers() -> Markers {
        Markers {
            size: 7,
            ours: "ours".to_owned(),
            theirs: "theirs".to_owned(),
        }
    }

    const BASE: &str = "# team\n[[profile]]\n  name = \"a\"\n  host = \"a.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"b\"\n  host = \"b.example.com\"\n";

    fn merged(base: &str, ours: &str, theirs: &str) -> Merged {
        merge(base, ours, theirs, &markers(), &mut |_, _, _| false).expect("merges")
    }

    #[test]
    fn a_change_on_one_side_takes_that_side_and_keeps_the_rest_byte_for_byte() {
        let ours = BASE.replace("a.example.com", "a2.example.com");
        let theirs = BASE.replace(
            "\"b.example.com\"\n",
            "\"b.example.com\" # kept\n  port = \"8443\"\n",
        );
        let result = merged(BASE, &ours, &theirs);
        assert!(result.conflicts.is_empty());
        assert_eq!(
            result.text,
            ours.replace(
                "\"b.example.com\"\n",
                "\"b.example.com\" # kept\n  port = \"8443\"\n"
            )
        );
    }

    #[test]
    fn both_sides_adding_profiles_keeps_both() {
        let ours = format!("{BASE}\n[[profile]]\n  name = \"c\"\n");
        let theirs = format!("{BASE}\n# d's\n[[profile]]\n  name = \"d\"\n");
        let result = merged(BASE, &ours, &theirs);
        assert!(result.conflicts.is_empty());
        assert_eq!(
            result.text,
            format!("{BASE}\n[[profile]]\n  name = \"c\"\n\n# d's\n[[profile]]\n  name = \"d\"\n")
        );
    }

    #[test]
    fn a_key_both_changed_differently_is_a_conflict_around_its_line_only() {
        let ours = BASE.replace("a.example.com", "ours.example.com");
        let theirs = BASE.replace("a.example.com", "theirs.example.com");
        let result = merged(BASE, &ours, &theirs);
        assert_eq!(result.conflicts, ["profile `a` key `host`"]);
        assert_eq!(
            result.text,
            BASE.replace(
                "  host = \"a.example.com\"\n",
                "<<<<<<< ours\n  host = \"ours.example.com\"\n=======\n  host = \"theirs.example.com\"\n>>>>>>> theirs\n"
            )
        );
    }

    #[test]
    fn a_profile_removed_on_one_side_and_changed_on_the_other_is_a_conflict() {
        let ours = BASE.replace(
            "\n\n[[profile]]\n  name = \"b\"\n  host = \"b.example.com\"\n",
            "\n",
        );
        let theirs = BASE.replace("b.example.com", "b2.example.com");
        let result = merged(BASE, &ours, &theirs);
        assert_eq!(result.conflicts, ["profile `b`"]);
        assert!(result.text.contains("<<<<<<< ours\n=======\n[[profile]]\n  name = \"b\"\n  host = \"b2.example.com\"\n>>>>>>> theirs\n"), "{}", result.text);
        // Removed on one side and unchanged on the other: removed.
        let result = merged(BASE, BASE, &ours);
        assert!(result.conflicts.is_empty());
        assert_eq!(result.text, ours);
    }

    #[test]
    fn the_same_secret_sealed_on_both_sides_takes_the_one_sealed_to_the_merged_recipients() {
        let base = format!("{BASE}\n[sealctl]\nrecipients = [\"age1old\"]\n");
        let fingerprint = recipients_fingerprint(&["age1old", "age1new"]);
        let sealed = |payload: &str, r: &str| format!("sealctl:v1:age:{payload};r={r}");
        let ours = base.replace(
            "  port = \"443\"\n",
            &format!(
                "  port = \"443\"\n  mgmt_token = \"{}\"\n",
                sealed("T3Vycw==", "00000000")
            ),
        );
        let theirs = base
            .replace(
                "  port = \"443\"\n",
                &format!(
                    "  port = \"443\"\n  mgmt_token = \"{}\"\n",
                    sealed("VGhlaXJz", &fingerprint)
                ),
            )
            .replace("[\"age1old\"]", "[\"age1old\", \"age1new\"]");
        let mut asked = Vec::new();
        let result = merge(&base, &ours, &theirs, &markers(), &mut |place, _, _| {
            asked.push(place.to_string());
            true
        })
        .unwrap();
        assert_eq!(asked, ["profile `a` key `mgmt_token`"]);
        assert!(result.conflicts.is_empty());
        assert!(result.text.contains(&sealed("VGhlaXJz", &fingerprint)));
        // Not the same secret (or not known to be): a conflict.
        let result = merged(&base, &ours, &theirs);
        assert_eq!(result.conflicts, ["profile `a` key `mgmt_token`"]);
    }

    #[test]
    fn recipients_merge_as_sets() {
        let merged = merge_recipients(
            &["age1a".into(), "age1b".into()],
            &["age1a".into(), "age1b".into(), "age1c".into()],
            &["age1a".into(), "age1d".into()],
        );
        assert_eq!(merged, ["age1a", "age1c", "age1d"]);
    }

    #[test]
    fn what_cannot_be_merged_per_key_is_refused() {
        assert!(merge(BASE, "not = [toml", BASE, &markers(), &mut |_, _, _| false).is_none());
        let theirs = BASE.replace("# team", "# their team");
        let ours = BASE.replace("# team", "# our team");
        assert!(merge(BASE, &ours, &theirs, &markers(), &mut |_, _, _| false).is_none());
        // Inline profiles and two profiles of one name are not merged per profile.
        let inline = "profile = [{ name = \"a\" }]\n";
        assert!(merge(inline, inline, inline, &markers(), &mut |_, _, _| false).is_none());
        let twice = format!("{BASE}\n[[profile]]\n  name = \"a\"\n");
        assert!(merge(BASE, BASE, &twice, &markers(), &mut |_, _, _| false).is_none());
        // Only ours changed outside the profiles: ours is kept.
        let result = merged(BASE, &ours, BASE);
        assert_eq!(result.text, ours);
    }
}
