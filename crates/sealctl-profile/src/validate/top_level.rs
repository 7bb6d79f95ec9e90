//! The file's top level: the `profile` array and its spellings, a file with no profiles or in
//! influxctl 1.x form, unknown top-level keys, and the `[sealctl]` table with its recipients.
//!
//! It walks each profile through [`Walk::profile_entry`] and each table through the schema walk;
//! the rules on what is inside a profile are not here.

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::profiles::Names;
use super::schema::type_name;
use super::values::{EXPIRY_WARNING_KEY, parse_expiry_warning};
use super::{EXPIRY_WARNING, Walk, get_str, key_span, values};
use crate::diagnostic::Rule;
use crate::recipient::{Recipient, RecipientProblem, show_entry};
use crate::schema::{
    PROFILE_FIELDS, REQUIRE_POST_QUANTUM, SEALCTL_FIELDS, SEALCTL_TABLE, field_named, key_for,
    keys_for, same_key,
};
use crate::sealed::{canonical_recipient, recipients_fingerprint};

/// Top-level keys of an influxctl 1.x file.
const LEGACY_KEYS: &[&str] = &["account_id", "cluster_id"];

impl Walk<'_> {
    pub(super) fn document(&mut self, root: &toml_edit::Table) {
        let top_level_unknown = self.top_level(root);
        let Some((profile_key, _)) = key_for(root, "profile") else {
            let legacy = top_level_unknown
                .iter()
                .filter(|name| LEGACY_KEYS.iter().any(|legacy| same_key(name, legacy)))
                .map(|name| (key_span(root, name), *name))
                .min_by_key(|(span, _)| span.start);
            if let Some((span, name)) = legacy {
                let help = legacy_help(root);
                self.report_at_key(
                    Rule::LegacyFormat,
                    name,
                    span,
                    "this is an influxctl 1.x file: top-level account and cluster ids, no [[profile]]; influxctl 2.x does not read it".to_owned(),
                    Some(help),
                );
                return;
            }
            self.report(
                Rule::NoProfiles,
                0..0,
                "no [[profile]] table: influxctl finds no profile in this file".to_owned(),
                Some("add a profile:\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"cluster-host.example.com\"\n  port = \"443\"".to_owned()),
            );
            self.unknown_top_level(root, &top_level_unknown);
            return;
        };
        self.unknown_top_level(root, &top_level_unknown);

        // Every spelling of `profile` (a second one is a duplicate-key error): each profile is
        // walked, so that a plaintext token under `[[Profile]]` is reported as well.
        let mut tables: Vec<(Range<usize>, &dyn TableLike)> = Vec::new();
        for (profile_key, profiles) in keys_for(root, "profile") {
            match profiles {
                Item::ArrayOfTables(array) => tables.extend(
                    array
                        .iter()
                        .map(|table| (table.span().unwrap_or(0..0), table as &dyn TableLike)),
                ),
                Item::Value(Value::Array(array))
                    if array.iter().all(|value| value.is_inline_table()) =>
                {
                    tables.extend(
                        array
                            .iter()
                            .filter_map(|value| value.as_inline_table())
                            .map(|table| (table.span().unwrap_or(0..0), table as &dyn TableLike)),
                    );
                }
                other => {
                    self.mark_item(profile_key, other);
                    self.report_at_key(
                        Rule::WrongType,
                        profile_key,
                        key_span(root, profile_key),
                        format!(
                            "`{profile_key}` must be an array of tables, found {}",
                            type_name(other)
                        ),
                        Some(
                            "write each profile under its own [[profile]] header, with two brackets"
                                .to_owned(),
                        ),
                    );
                    return;
                }
            }
        }
        if tables.is_empty() {
            self.report(
                Rule::NoProfiles,
                key_span(root, profile_key),
                format!("`{profile_key}` is empty: influxctl finds no profile in this file"),
                None,
            );
            return;
        }

        let mut names = Names::new();
        for (header, table) in tables {
            if let Some(name) = self.profile_entry(header, table) {
                self.name(&mut names, name);
            }
        }
        self.default_profile(&names);
    }

    /// Walks the top-level keys other than `profile`, and returns the unknown ones. Notes the
    /// file's recipients from `[sealctl]`.
    pub(super) fn top_level<'d>(&mut self, root: &'d toml_edit::Table) -> Vec<&'d str> {
        let mut unknown = Vec::new();
        self.duplicates(root, &["profile"]);
        for (name, item) in root.iter() {
            let profile = same_key(name, "profile");
            if !profile {
                self.mark_item(name, item);
            }
            match name {
                _ if profile => {}
                SEALCTL_TABLE if item.is_table_like() => {
                    let table = item.as_table_like().expect("checked");
                    self.scope.prefix = format!("{SEALCTL_TABLE}.");
                    self.types(table, SEALCTL_FIELDS);
                    self.scope.prefix.clear();
                    self.expiry_warning(table);
                    let recipients: Vec<&str> = table
                        .get("recipients")
                        .and_then(Item::as_array)
                        .map(|array| array.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if !recipients.is_empty() {
                        self.recipients = Some(recipients_fingerprint(&recipients));
                    }
                    self.recipient_entries(table);
                    self.openbao_settings(table);
                }
                SEALCTL_TABLE => self.report_at_key(
                    Rule::WrongType,
                    name,
                    key_span(root, name),
                    format!("`{name}` must be a table, found {}", type_name(item)),
                    Some("sealctl keeps its own settings under a [sealctl] table".to_owned()),
                ),
                _ => unknown.push(name),
            }
        }
        unknown
    }

    /// `[sealctl] expiry_warning`: the window of `token-expiring`, when it reads as a duration;
    /// else an `invalid-setting` finding, and the default window stays.
    fn expiry_warning(&mut self, table: &dyn TableLike) {
        let Some(value) = table.get(EXPIRY_WARNING_KEY).and_then(Item::as_value) else {
            return;
        };
        // Another type is `wrong-type`'s.
        let Some(text) = value.as_str() else {
            return;
        };
        match parse_expiry_warning(text) {
            Ok(window) => self.window = Some(window),
            Err(problem) => self.report_at_key(
                Rule::InvalidSetting,
                &format!("{SEALCTL_TABLE}.{EXPIRY_WARNING_KEY}"),
                value.span().unwrap_or(0..0),
                format!("`[sealctl] {EXPIRY_WARNING_KEY}` {problem}"),
                Some(format!(
                    "until it is fixed, tokens are warned about {} days before they expire, the default",
                    EXPIRY_WARNING.as_secs() / 86_400
                )),
            ),
        }
    }

    /// The `[sealctl.openbao]` settings: each value one the backends can use.
    fn openbao_settings(&mut self, table: &dyn toml_edit::TableLike) {
        let Some(settings) = table.get("openbao").and_then(Item::as_table_like) else {
            return;
        };
        for (key, item) in settings.iter() {
            let Some(value) = item.as_str() else {
                continue; // `types` reported it
            };
            if !crate::schema::OPENBAO_FIELDS
                .iter()
                .any(|field| field.name == key)
            {
                continue; // `types` reported it
            }
            if let Some(problem) = crate::sealed::openbao::check_setting(key, value) {
                self.report_at_key(
                    Rule::WrongType,
                    key,
                    super::key_span(settings, key),
                    format!(
                        "`[sealctl.openbao] {key}` = \"{}\" {problem}",
                        crate::terminal::visible(value)
                    ),
                    Some("the transit and kv backends read it (docs/openbao.md)".to_owned()),
                );
            }
        }
    }

    /// The rules on `[sealctl] recipients` entries: each can be sealed to, as judged by the
    /// parser sealing uses, and none is listed twice.
    fn recipient_entries(&mut self, table: &dyn TableLike) {
        let Some(array) = table.get("recipients").and_then(Item::as_array) else {
            return;
        };
        const KEY: &str = "sealctl.recipients";
        // Canonical recipient, and the line it is first listed on.
        let mut listed: HashMap<String, usize> = HashMap::new();
        // The recipients that parse, with where each is.
        let mut usable: Vec<(Recipient, std::ops::Range<usize>)> = Vec::new();
        for value in array.iter() {
            let Some(entry) = value.as_str() else {
                continue;
            };
            let span = value.span().unwrap_or(0..0);
            match entry.parse::<Recipient>() {
                Err(problem) => {
                    let message = if problem == RecipientProblem::PrivateKey {
                        // Never shown, in the message nor in the line under it.
                        self.secret(span.clone());
                        format!("a `[sealctl] recipients` entry {problem}")
                    } else if problem == RecipientProblem::Empty {
                        format!("a `[sealctl] recipients` entry {problem}")
                    } else {
                        format!(
                            "`[sealctl] recipients` entry `{}` {problem}",
                            show_entry(entry)
                        )
                    };
                    // A private key is never repeated, not even in the command that removes it.
                    let removable =
                        !entry.trim().is_empty() && problem != RecipientProblem::PrivateKey;
                    let help = if removable {
                        format!("{}; or remove it", problem.help())
                    } else {
                        problem.help().to_owned()
                    };
                    self.report_at_key(Rule::InvalidRecipient, KEY, span, message, Some(help));
                    if removable {
                        self.with_fix(&["recipients", "rm", entry.trim()], false);
                    }
                }
                Ok(recipient) => {
                    usable.push((recipient, span.clone()));
                    let (line, _) = self.source.line_column(span.start + self.offset);
                    match listed.get(&canonical_recipient(entry)) {
                        Some(first) => self.report_at_key(
                            Rule::DuplicateRecipient,
                            KEY,
                            span,
                            format!(
                                "`[sealctl] recipients` lists `{}` again (first on line {first})",
                                show_entry(entry)
                            ),
                            Some("delete this entry: each recipient counts once".to_owned()),
                        ),
                        None => {
                            listed.insert(canonical_recipient(entry), line);
                        }
                    }
                }
            }
        }
        self.post_quantum(table, &usable);
    }

    /// The rules on the recipients as a set: age seals to post-quantum `age1tagpq1…` recipients
    /// only without classical ones beside them (`incompatible-recipients`), and a file that sets
    /// `require_post_quantum = true` wants at least one post-quantum recipient
    /// (`no-post-quantum-recipient`).
    fn post_quantum(
        &mut self,
        table: &dyn TableLike,
        usable: &[(Recipient, std::ops::Range<usize>)],
    ) {
        const KEY: &str = "sealctl.recipients";
        let only = usable
            .iter()
            .find(|(recipient, _)| recipient.post_quantum_only());
        let classical = usable
            .iter()
            .find(|(recipient, _)| !recipient.post_quantum_only());
        if let (Some((pq, _)), Some((other, span))) = (only, classical) {
            self.report_at_key(
                Rule::IncompatibleRecipients,
                KEY,
                span.clone(),
                format!(
                    "`[sealctl] recipients` mixes the post-quantum `{}` with `{}`: age refuses to seal to both, as the classical one would undo the post-quantum protection",
                    show_entry(&pq.to_string()),
                    show_entry(&other.to_string())
                ),
                Some("list only post-quantum recipients (age1tagpq1…, or a post-quantum plugin's such as age1xwing1…), or drop the age1tagpq1… ones".to_owned()),
            );
        }
        let required = table
            .get(REQUIRE_POST_QUANTUM)
            .and_then(Item::as_bool)
            .unwrap_or(false);
        if required
            && !usable.is_empty()
            && !usable
                .iter()
                .any(|(recipient, _)| recipient.is_post_quantum())
        {
            let span = table
                .get("recipients")
                .and_then(Item::as_array)
                .and_then(|array| array.span())
                .unwrap_or(0..0);
            self.report_at_key(
                Rule::NoPostQuantumRecipient,
                KEY,
                span,
                format!(
                    "none of the {} `[sealctl] recipients` is post-quantum, and `{REQUIRE_POST_QUANTUM} = true` asks for one",
                    usable.len()
                ),
                Some("add a post-quantum recipient (an age1xwing1… of age-plugin-xwing, an age1pq1… of age 1.3, or an age1tagpq1…) and rekey, or set require_post_quantum = false".to_owned()),
            );
        }
    }

    pub(super) fn unknown_top_level(&mut self, root: &toml_edit::Table, names: &[&str]) {
        for name in names {
            let help = if field_named(PROFILE_FIELDS, name).is_some() {
                Some(format!(
                    "keys above the first [[profile]] belong to no profile; move `{name}` into a [[profile]] table"
                ))
            } else {
                values::nearest(name, ["profile", SEALCTL_TABLE])
                    .map(|near| format!("did you mean `{near}`?"))
            };
            self.report_at_key(
                Rule::UnknownKey,
                name,
                key_span(root, name),
                format!("unknown top-level key `{name}`"),
                help,
            );
        }
    }
}

fn legacy_help(root: &toml_edit::Table) -> String {
    let id = |key: &str, placeholder: &str| match get_str(root, key).map(|id| id.value) {
        Some(id) if values::is_uuid(id) => id.to_owned(),
        _ => placeholder.to_owned(),
    };
    format!(
        "influxctl 2.x reads every connection from [[profile]] tables; write this file as:\n[[profile]]\n  name = \"default\"\n  product = \"dedicated\"\n  account_id = \"{}\"\n  cluster_id = \"{}\"",
        id("account_id", "ACCOUNT_ID"),
        id("cluster_id", "CLUSTER_ID"),
    )
}
