//! Properties over generated profile files: an edit changes only the bytes of the value it edits,
//! whatever the file's quoting, spacing, comments and line endings; checking such a file in
//! parts finds what checking it whole finds; and `check` finds no error in any profile built by
//! the schema's rules.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use sealctl_profile::{ProfileDocument, Severity, check, check_in_parts_at, check_whole_at};

/// How one key-value line is written: the key's quoting, the spaces around `=`, the string's
/// quoting, and a trailing comment.
#[derive(Clone, Debug)]
struct Style {
    quoted_key: bool,
    before_eq: &'static str,
    after_eq: &'static str,
    literal: bool,
    comment: Option<String>,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        prop::sample::select(vec!["", " ", "\t", "  "]),
        prop::sample::select(vec!["", " ", "   "]),
        any::<bool>(),
        prop::option::of("[ a-z#=\"']{0,12}"),
    )
        .prop_map(
            |(quoted_key, before_eq, after_eq, literal, comment)| Style {
                quoted_key,
                before_eq,
                after_eq,
                literal,
                comment,
            },
        )
}

/// A string value as TOML writes it: literal ('…') when it holds no `'`, else basic ("…").
fn encode(value: &str, literal: bool) -> String {
    if literal && !value.contains('\'') {
        format!("'{value}'")
    } else {
        let escaped: String = value
            .chars()
            .map(|c| match c {
                '"' => "\\\"".to_owned(),
                '\\' => "\\\\".to_owned(),
                c => c.to_string(),
            })
            .collect();
        format!("\"{escaped}\"")
    }
}

/// A generated file and where each profile's `host` value and whole block lie in it.
#[derive(Debug)]
struct File {
    text: String,
    names: Vec<String>,
    hosts: Vec<std::ops::Range<usize>>,
    /// Each profile from the blank line before its header to its last line's end.
    blocks: Vec<std::ops::Range<usize>>,
    /// Whether the file opens with a comment.
    comment: bool,
}

fn file() -> impl Strategy<Value = File> {
    (
        prop::collection::vec(("[a-z][a-z0-9_-]{0,8}", style(), style()), 1..6),
        any::<bool>(),
        prop::option::of("[ a-z]{0,20}"),
    )
        .prop_map(|(profiles, crlf, header)| {
            let newline = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            let comment = header.is_some();
            if let Some(header) = header {
                text.push_str(&format!("#{header}{newline}"));
            }
            let mut names = Vec::new();
            let mut hosts = Vec::new();
            let mut blocks = Vec::new();
            for (index, (name, name_style, host_style)) in profiles.into_iter().enumerate() {
                let name = format!("{name}{index}");
                let block_start = text.len();
                text.push_str(&format!("{newline}[[profile]]{newline}"));
                for (key, value, style) in [
                    ("name", name.clone(), &name_style),
                    ("product", "clustered".to_owned(), &name_style),
                    ("host", format!("h{index}.example.com"), &host_style),
                ] {
                    let key_text = if style.quoted_key {
                        format!("\"{key}\"")
                    } else {
                        key.to_owned()
                    };
                    text.push_str(&format!(
                        "  {key_text}{}={}",
                        style.before_eq, style.after_eq
                    ));
                    let start = text.len();
                    text.push_str(&encode(&value, style.literal));
                    if key == "host" {
                        hosts.push(start..text.len());
                    }
                    if let Some(comment) = &style.comment {
                        text.push_str(&format!(" #{comment}"));
                    }
                    text.push_str(newline);
                }
                names.push(name);
                blocks.push(block_start..text.len());
            }
            File {
                text,
                names,
                hosts,
                blocks,
                comment,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn an_edit_changes_only_the_bytes_of_its_value(
        file in file(),
        pick in any::<prop::sample::Index>(),
        value in "[ -~]{0,30}",
    ) {
        let mut document = ProfileDocument::parse("generated.toml", &file.text).unwrap();
        let index = pick.index(file.names.len());
        let name = &file.names[index];
        document.set(name, "host", &value).unwrap();
        let new = document.to_toml();
        let span = &file.hosts[index];
        // Everything before and after the old value is as it was, byte for byte.
        prop_assert!(new.starts_with(&file.text[..span.start]));
        prop_assert!(new.ends_with(&file.text[span.end..]));
        // And what replaced it reads back as the new value.
        let again = ProfileDocument::parse("generated.toml", new).unwrap();
        prop_assert_eq!(again.get(name, "host").unwrap(), Some(value));
        for other in file.names.iter().filter(|other| *other != name) {
            prop_assert_eq!(again.get(other, "name").unwrap(), Some(other.clone()));
        }
    }

    #[test]
    fn removing_a_profile_removes_its_bytes_only(
        file in file(),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut document = ProfileDocument::parse("generated.toml", &file.text).unwrap();
        let index = pick.index(file.names.len());
        document.remove_profile(&file.names[index]).unwrap();
        let block = &file.blocks[index];
        let expected = format!("{}{}", &file.text[..block.start], &file.text[block.end..]);
        let new = document.to_toml();
        // A file left with nothing before its first profile does not begin with a blank line.
        let opens_bare = index == 0 && !file.comment;
        prop_assert!(
            new == expected || (opens_bare && new == expected.trim_start_matches(['\r', '\n'])),
            "removing {}:\n{:?}\nbecame\n{:?}", file.names[index], file.text, new
        );
        let mut others = file.names.clone();
        others.remove(index);
        prop_assert_eq!(document.profile_names(), others);
    }

    #[test]
    fn renaming_a_profile_changes_only_its_name(
        file in file(),
        pick in any::<prop::sample::Index>(),
        new_name in "[a-z][a-z0-9 _-]{0,12}",
    ) {
        let mut document = ProfileDocument::parse("generated.toml", &file.text).unwrap();
        let index = pick.index(file.names.len());
        let new_name = format!("{new_name}!");
        document.rename_profile(&file.names[index], &new_name).unwrap();
        let mut names = file.names.clone();
        names[index] = new_name.clone();
        prop_assert_eq!(document.profile_names(), names);
        // The rest of the file, the profile's own other lines included, is as it was.
        let block = &file.blocks[index];
        let new = document.to_toml();
        prop_assert!(new.starts_with(&file.text[..block.start]));
        prop_assert!(new.ends_with(&file.text[file.hosts[index].start..]));
    }

    #[test]
    fn checking_in_parts_finds_what_the_whole_file_finds(
        file in file(),
        tail in prop::option::of("\\[sealctl\\]\n(recipients = \\[\"age1[a-z]{3}\"\\]\n)?"),
        read_bytes in 1usize..200,
    ) {
        let text = file.text + tail.as_deref().unwrap_or("");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
        let whole = check_whole_at(text.as_bytes(), now).diagnostics;
        let parts = check_in_parts_at(text.as_bytes(), now, read_bytes);
        // Generated files have the usual shape: they are always checked in parts.
        prop_assert!(parts.is_some());
        prop_assert_eq!(parts.unwrap().diagnostics, whole);
    }

    #[test]
    fn check_finds_no_error_in_profiles_built_by_the_rules(
        profiles in prop::collection::vec(
            (
                "[a-z][a-z0-9_-]{0,10}",
                prop::sample::select(vec!["clustered", "dedicated"]),
                "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){1,3}",
                1u32..=65535,
                "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            ),
            1..8,
        ),
    ) {
        let mut text = String::new();
        for (index, (name, product, host, port, account, cluster)) in profiles.iter().enumerate() {
            // The first is `default`, which influxctl uses when none is named; names are unique.
            let name = if index == 0 { "default".to_owned() } else { format!("{name}-{index}") };
            text.push_str(&format!(
                "[[profile]]\n  name = \"{name}\"\n  product = \"{product}\"\n  host = \"{host}\"\n  port = \"{port}\"\n"
            ));
            if *product == "dedicated" {
                text.push_str(&format!(
                    "  account_id = \"{account}\"\n  cluster_id = \"{cluster}\"\n"
                ));
            }
            text.push('\n');
        }
        let errors: Vec<String> = check(text.as_bytes())
            .diagnostics
            .into_iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .map(|diagnostic| format!("{} {}", diagnostic.rule.id(), diagnostic.message))
            .collect();
        prop_assert!(errors.is_empty(), "{errors:?}\n{text}");
    }
}
