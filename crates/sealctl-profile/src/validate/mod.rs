//! `check`: every rule, applied to the bytes of one file.
//!
//! A file is checked in parts ([`parts`]): the text before the first `[[profile]]`, each
//! profile, and the tables after the last one, each parsed on its own and walked by the same
//! rules ([`Walk`]), so that memory stays small however large the file is. A file that cannot be
//! split that way (a parse error, tables out of the usual order) is parsed in one piece; both
//! ways find the same diagnostics, which the tests and the fuzz target compare.

mod other;
mod parts;
mod syntax;
mod toml10;
mod values;

pub use other::is_other_toml;
pub use values::setting_problem;

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek};
use std::ops::Range;
use std::time::{Duration, SystemTime};

use toml_edit::{Document, Item, TableLike, Value};

use crate::diagnostic::{Diagnostic, Fix, Rule};
use crate::endpoint::Endpoint;
use crate::recipient::{Recipient, RecipientProblem, show_entry};
use crate::schema::{
    Field, Kind, PROFILE_FIELDS, Product, SEALCTL_FIELDS, SEALCTL_TABLE, SECRET_KEYS, field_named,
    key_for, keys_for, same_key,
};
use crate::sealed::{
    ENDPOINT_PARAM, EXPIRY_PARAM, FramingError, RECIPIENTS_PARAM, SealedValue, canonical_recipient,
    is_known_backend, looks_sealed, parse_expiry, recipients_fingerprint, value_backend,
    value_param,
};
use crate::source::{SourceText, is_secret_key};

/// The name influxctl uses when no profile is named.
const DEFAULT_PROFILE: &str = "default";

/// Top-level keys of an influxctl 1.x file.
const LEGACY_KEYS: &[&str] = &["account_id", "cluster_id"];

/// What `check` found in one file, in file order.
#[derive(Debug)]
pub struct CheckedFile {
    /// Every finding, ordered by position, each with its line ready to show.
    pub diagnostics: Vec<Diagnostic>,
}

/// How close to its expiry a sealed token is reported (`token-expiring`).
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// Checks the bytes of one profile file against every rule. Needs no key, file system or network.
pub fn check(bytes: &[u8]) -> CheckedFile {
    check_at(bytes, SystemTime::now())
}

/// [`check`], judging token expiry as of `now`.
pub fn check_at(bytes: &[u8], now: SystemTime) -> CheckedFile {
    match parts::check(&mut &*bytes, now, parts::READ_BYTES) {
        Ok(parts::Checked::Found(diagnostics)) => finish(diagnostics),
        // Reading from memory cannot fail.
        Ok(parts::Checked::NeedsWhole(_)) | Err(_) => check_whole_at(bytes, now),
    }
}

/// [`check`] of a file read from `reader`, a part at a time: memory stays small however large
/// the file is. A file that must be parsed in one piece is read again from its start.
pub fn check_reader(reader: &mut (impl Read + Seek)) -> io::Result<CheckedFile> {
    let now = SystemTime::now();
    match parts::check(reader, now, parts::READ_BYTES)? {
        parts::Checked::Found(diagnostics) => Ok(finish(diagnostics)),
        parts::Checked::NeedsWhole(Some(bytes)) => Ok(check_whole_at(&bytes, now)),
        parts::Checked::NeedsWhole(None) => {
            reader.rewind()?;
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            Ok(check_whole_at(&bytes, now))
        }
    }
}

/// [`check_at`] with the file parsed in one piece. For the tests that compare the two ways.
#[doc(hidden)]
pub fn check_whole_at(bytes: &[u8], now: SystemTime) -> CheckedFile {
    let (source, diagnostics) = match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut source = SourceText::new(text.to_owned());
            let (diagnostics, secrets) = {
                let mut walk = Walk::new(&source, now, 0);
                walk.text();
                (walk.found, walk.secrets)
            };
            for secret in secrets {
                source.add_secret(secret);
            }
            (source, diagnostics)
        }
        Err(error) => {
            let source = SourceText::new(String::from_utf8_lossy(bytes).into_owned());
            let at = error.valid_up_to();
            let mut walk = Walk::new(&source, now, 0);
            walk.report(
                Rule::TomlSyntax,
                at..at,
                format!(
                    "the file is not UTF-8 text (byte 0x{:02X} at offset {at})",
                    bytes[at]
                ),
                Some("a TOML file must be UTF-8 encoded; is this the right file?".to_owned()),
            );
            let found = walk.found;
            (source, found)
        }
    };
    finish(show_lines(&source, diagnostics))
}

/// [`check_at`] in parts of about `read_bytes` each, or `None` where the file must be parsed
/// in one piece. For the tests that compare the two ways.
#[doc(hidden)]
pub fn check_in_parts_at(bytes: &[u8], now: SystemTime, read_bytes: usize) -> Option<CheckedFile> {
    match parts::check(&mut &*bytes, now, read_bytes) {
        Ok(parts::Checked::Found(diagnostics)) => Some(finish(diagnostics)),
        _ => None,
    }
}

/// Fills in each diagnostic's line, once every secret of `source` is marked.
fn show_lines(source: &SourceText, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    for diagnostic in &mut diagnostics {
        diagnostic.source_line = source.display_line(diagnostic.span.clone());
    }
    diagnostics
}

fn finish(mut diagnostics: Vec<Diagnostic>) -> CheckedFile {
    diagnostics.sort_by_key(|d| (d.span.start, d.rule));
    CheckedFile { diagnostics }
}

/// Where in the file a walk is: which profile, and the dotted key of the table being walked.
#[derive(Clone, Default)]
struct Scope {
    profile: Option<String>,
    prefix: String,
}

impl Scope {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// The rules, walked over a parsed file or one part of it.
struct Walk<'s> {
    source: &'s SourceText,
    /// The file offset of the parsed text: spans in the tree are relative to it.
    offset: usize,
    found: Vec<Diagnostic>,
    /// File offsets.
    secrets: Vec<Range<usize>>,
    scope: Scope,
    key: Option<String>,
    now: SystemTime,
    /// The fingerprint of the file's `[sealctl] recipients`, when it lists any.
    recipients: Option<String>,
    /// The recipients fingerprints of sealed values met before the file's recipients were
    /// known (they may come after the profiles).
    unjudged: HashSet<String>,
    /// The endpoint of the profile being walked, which its sealed values must be bound to.
    endpoint: Option<Endpoint>,
}

/// A profile's name, and where its key is (file offsets), for the duplicate-name rule.
struct ProfileName {
    value: String,
    key_span: Range<usize>,
}

/// The profile names met so far, with the line each was first defined on.
type Names = HashMap<String, usize>;

/// A string value, and the table and name to find its key's span by (only when reporting).
struct Located<'d> {
    value: &'d str,
    table: &'d dyn TableLike,
    name: &'d str,
}

impl Located<'_> {
    fn key_span(&self) -> Range<usize> {
        key_span(self.table, self.name)
    }
}

fn key_span(table: &dyn TableLike, name: &str) -> Range<usize> {
    table
        .get_key_value(name)
        .and_then(|(key, item)| key.span().or_else(|| item.span()))
        .unwrap_or(0..0)
}

/// The string influxctl reads as the key `field`: written so, or as a case variant of it
/// (`name` is then the key as written).
fn get_str<'d>(table: &'d dyn TableLike, field: &str) -> Option<Located<'d>> {
    let (name, item) = key_for(table, field)?;
    let value = item.as_str()?;
    Some(Located { value, table, name })
}

/// The table influxctl reads as the key `field`, written so or as a case variant of it.
fn get_table<'d>(table: &'d dyn TableLike, field: &str) -> Option<&'d dyn TableLike> {
    key_for(table, field).and_then(|(_, item)| item.as_table_like())
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(value) => match value {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl<'s> Walk<'s> {
    fn new(source: &'s SourceText, now: SystemTime, offset: usize) -> Walk<'s> {
        Walk {
            source,
            offset,
            found: Vec::new(),
            secrets: Vec::new(),
            scope: Scope::default(),
            key: None,
            now,
            recipients: None,
            unjudged: HashSet::new(),
            endpoint: None,
        }
    }

    /// Records a finding in the current scope (profile and key). `span` is in the walk's text.
    fn report(&mut self, rule: Rule, span: Range<usize>, message: String, help: Option<String>) {
        let span = span.start + self.offset..span.end + self.offset;
        let (line, column) = self.source.line_column(span.start);
        self.found.push(Diagnostic {
            rule,
            severity: rule.severity(),
            message,
            help,
            fix: None,
            span,
            line,
            column,
            profile: self.scope.profile.clone(),
            key: self.key.clone(),
            source_line: Default::default(),
        });
    }

    /// Gives the finding just reported the command that fixes it.
    fn with_fix(&mut self, args: &[&str], profile: bool) {
        let profile = profile.then(|| self.scope.profile.clone()).flatten();
        if let Some(found) = self.found.last_mut() {
            found.fix = Some(Fix {
                args: args.iter().map(|arg| (*arg).to_owned()).collect(),
                profile,
            });
        }
    }

    /// Marks a span of the walk's text as secret.
    fn secret(&mut self, span: Range<usize>) {
        self.secrets
            .push(span.start + self.offset..span.end + self.offset);
    }

    fn report_at_key(
        &mut self,
        rule: Rule,
        key: &str,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) {
        self.key = Some(self.scope.key(key));
        self.report(rule, span, message, help);
        self.key = None;
    }

    /// Parses and walks the whole text.
    fn text(&mut self) {
        let text = self.source.text();
        let Ok(document) = Document::parse(text) else {
            // The first error by position, not the one the parser happened to report.
            let error = syntax::first_error(text).unwrap_or(syntax::SyntaxError {
                span: 0..0,
                message: "not valid TOML".to_owned(),
            });
            let message = if error.message.starts_with("missing escaped value") {
                "invalid escape sequence; TOML 1.0 allows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX and \\UXXXXXXXX".to_owned()
            } else {
                error.message.trim_end().to_owned()
            };
            self.report(Rule::TomlSyntax, error.span, message, None);
            return;
        };
        self.toml11_forms(toml10::scan(text.as_bytes()).forms);
        self.document(document.as_table());
    }

    fn toml11_forms(&mut self, forms: impl IntoIterator<Item = toml10::Toml11Form>) {
        for form in forms {
            self.report(
                Rule::TomlSyntax,
                form.span,
                form.message.to_owned(),
                Some(form.help.to_owned()),
            );
        }
    }

    /// Marks `item` as secret if its key's name looks secret, and looks inside it for more, so
    /// that no line shown to a user ever carries a secret. The schema walk ([`Walk::types`])
    /// marks profiles as it goes; this covers everything else.
    fn mark_item(&mut self, name: &str, item: &Item) {
        if is_secret_key(name)
            && let Some(span) = item.span()
        {
            self.secret(span);
        }
        self.mark_inside(item);
    }

    fn mark_inside(&mut self, item: &Item) {
        match item {
            Item::Value(value) => self.mark_inside_value(value),
            Item::Table(table) => self.mark_table(table),
            Item::ArrayOfTables(array) => array.iter().for_each(|table| self.mark_table(table)),
            Item::None => {}
        }
    }

    fn mark_inside_value(&mut self, value: &Value) {
        match value {
            Value::InlineTable(table) => self.mark_table(table),
            Value::Array(array) => array.iter().for_each(|value| self.mark_inside_value(value)),
            _ => {}
        }
    }

    fn mark_table(&mut self, table: &dyn TableLike) {
        for (name, item) in table.iter() {
            self.mark_item(name, item);
        }
    }

    fn document(&mut self, root: &toml_edit::Table) {
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
    fn top_level<'d>(&mut self, root: &'d toml_edit::Table) -> Vec<&'d str> {
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
                    let recipients: Vec<&str> = table
                        .get("recipients")
                        .and_then(Item::as_array)
                        .map(|array| array.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if !recipients.is_empty() {
                        self.recipients = Some(recipients_fingerprint(&recipients));
                    }
                    self.recipient_entries(table);
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

    /// The rules on `[sealctl] recipients` entries: each can be sealed to, as judged by the
    /// parser sealing uses, and none is listed twice.
    fn recipient_entries(&mut self, table: &dyn TableLike) {
        let Some(array) = table.get("recipients").and_then(Item::as_array) else {
            return;
        };
        const KEY: &str = "sealctl.recipients";
        // Canonical recipient, and the line it is first listed on.
        let mut listed: HashMap<String, usize> = HashMap::new();
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
                Ok(_) => {
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
    }

    /// Walks one profile, and returns its name for the duplicate-name rule.
    fn profile_entry(
        &mut self,
        header: Range<usize>,
        table: &dyn TableLike,
    ) -> Option<ProfileName> {
        let name = get_str(table, "name");
        self.scope = Scope {
            profile: name.as_ref().map(|name| name.value.to_owned()),
            prefix: String::new(),
        };
        self.profile(header, table);
        self.scope = Scope::default();
        name.map(|name| {
            let span = name.key_span();
            ProfileName {
                value: name.value.to_owned(),
                key_span: span.start + self.offset..span.end + self.offset,
            }
        })
    }

    /// The duplicate-name rule, for profiles in file order. Spans in `name` are file offsets.
    fn name(&mut self, names: &mut Names, name: ProfileName) {
        let outer = std::mem::replace(
            &mut self.scope,
            Scope {
                profile: Some(name.value.clone()),
                prefix: String::new(),
            },
        );
        let span = name.key_span.start - self.offset..name.key_span.end - self.offset;
        if name.value.is_empty() {
            self.report_at_key(
                Rule::DuplicateProfile,
                "name",
                span,
                "the profile's name is empty: --profile can never select it".to_owned(),
                Some("give the profile a name".to_owned()),
            );
        } else if let Some(line) = names.get(&name.value) {
            self.report_at_key(
                Rule::DuplicateProfile,
                "name",
                span,
                format!(
                    "a profile named `{}` is already defined on line {line}",
                    name.value
                ),
                Some("influxctl uses only one of them; rename or remove this one".to_owned()),
            );
        } else {
            let (line, _) = self.source.line_column(name.key_span.start);
            names.insert(name.value, line);
        }
        self.scope = outer;
    }

    /// The rule that influxctl's default profile exists, once every profile is named.
    fn default_profile(&mut self, names: &Names) {
        if !names.contains_key(DEFAULT_PROFILE) {
            self.report(
                Rule::NoDefaultProfile,
                0..0,
                "no profile is named `default`, which influxctl uses when no profile is given".to_owned(),
                Some("name one profile `default`, or always pass --profile (or set INFLUXCTL_PROFILE)".to_owned()),
            );
        }
    }

    fn unknown_top_level(&mut self, root: &toml_edit::Table, names: &[&str]) {
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

    /// Checks that every key of `table` is known and of the right type, recursing into sub-tables.
    fn types(&mut self, table: &dyn TableLike, fields: &[Field]) {
        // sealctl's own table is read by sealctl, which matches its keys exactly.
        let influxctl_reads = !std::ptr::eq(fields, SEALCTL_FIELDS);
        if influxctl_reads {
            let names: Vec<&str> = fields.iter().map(|field| field.name).collect();
            self.duplicates(table, &names);
        }
        for (name, item) in table.iter() {
            let span = || key_span(table, name);
            if is_secret_key(name)
                && let Some(value) = item.span()
            {
                self.secret(value);
            }
            let field = if influxctl_reads {
                field_named(fields, name)
            } else {
                fields.iter().find(|field| field.name == name)
            };
            let Some(field) = field else {
                self.mark_inside(item);
                self.unknown_key(name, span(), fields);
                continue;
            };
            if !matches!(field.kind, Kind::Table(_)) || !item.is_table_like() {
                // Sub-tables are walked (and marked) below; anything else may hide a secret inside.
                self.mark_inside(item);
            }
            if let Some(value) = item.as_str()
                && looks_sealed(value)
            {
                self.sealed(name, value, span);
            }
            match field.kind {
                Kind::String if item.is_str() => {}
                Kind::Bool if item.is_bool() => {}
                Kind::StringArray
                    if item
                        .as_array()
                        .is_some_and(|array| array.iter().all(Value::is_str)) => {}
                Kind::StringMap if item.is_table_like() => {
                    let map = item.as_table_like().expect("checked");
                    for (entry, value) in map.iter() {
                        if !value.is_str() {
                            self.report_at_key(
                                Rule::WrongType,
                                &format!("{name}.{entry}"),
                                key_span(map, entry),
                                format!(
                                    "`{}` must be a string, found {}",
                                    self.scope.key(&format!("{name}.{entry}")),
                                    type_name(value)
                                ),
                                None,
                            );
                        }
                    }
                }
                Kind::Table(fields) if item.is_table_like() => {
                    let inner = format!("{}.", self.scope.key(name));
                    let outer = std::mem::replace(&mut self.scope.prefix, inner);
                    self.types(item.as_table_like().expect("checked"), fields);
                    self.scope.prefix = outer;
                }
                kind => self.wrong_type(name, span(), item, kind),
            }
        }
    }

    /// The rules on a value that looks sealed: its framing, recipients and expiry.
    fn sealed(&mut self, name: &str, value: &str, span: impl Fn() -> Range<usize>) {
        let key = self.scope.key(name);
        if let Err(error) = SealedValue::check(value) {
            let help = match error {
                FramingError::BadExpiry(_) => {
                    "the expiry is only a reminder (the server decides): remove `;exp=…` from the value, restore the value from version control, or set the token again"
                }
                _ => "restore the value from version control, or seal the token again",
            };
            self.report_at_key(
                Rule::MalformedSealed,
                name,
                span(),
                format!("`{key}` looks sealed, but {error}"),
                Some(help.to_owned()),
            );
            return;
        }
        // A newer sealctl's backend: its payload cannot be judged here, its clear parameters can.
        if let Some(backend) = value_backend(value).filter(|name| !is_known_backend(name)) {
            self.report_at_key(
                Rule::UnknownBackend,
                name,
                span(),
                format!("`{key}` is kept by backend `{backend}`, which this sealctl does not know: written by a newer sealctl?"),
                Some("upgrade sealctl to open it; until then its recipients, endpoint and expiry are still checked".to_owned()),
            );
        }
        if self.recipients.is_none()
            && let Some(sealed) = value_param(value, RECIPIENTS_PARAM)
        {
            self.unjudged.insert(sealed.to_owned());
        }
        if let (Some(file), Some(sealed)) = (&self.recipients, value_param(value, RECIPIENTS_PARAM))
            && file != sealed
        {
            let file = file.clone();
            self.report_at_key(
                Rule::StaleRecipients,
                name,
                span(),
                format!("`{key}` is sealed to other recipients (r={sealed}) than the file lists now (r={file})"),
                Some("re-seal it to the current recipients".to_owned()),
            );
            self.with_fix(&["rekey", "--all"], false);
        }
        self.binding(name, value, &span);
        let Some(expiry) = value_param(value, EXPIRY_PARAM) else {
            return;
        };
        // The framing check above has refused an unreadable expiry.
        let Ok(expires_at) = parse_expiry(expiry) else {
            return;
        };
        let renew = "create a new token (influxctl management create) and set it";
        // `token set` sets these two keys; it is the fix only for them.
        let set: Option<&[&str]> = if same_key(name, "mgmt_token") {
            Some(&["token", "set"])
        } else if same_key(name, "token") {
            Some(&["token", "set", "--key", "token"])
        } else {
            None
        };
        match expires_at.duration_since(self.now) {
            Err(_) => self.report_at_key(
                Rule::TokenExpired,
                name,
                span(),
                format!("`{key}` expired at {expiry}"),
                Some(renew.to_owned()),
            ),
            Ok(left) if left <= EXPIRY_WARNING => self.report_at_key(
                Rule::TokenExpiring,
                name,
                span(),
                format!(
                    "`{key}` expires at {expiry}, in {} days",
                    left.as_secs() / 86_400
                ),
                Some(renew.to_owned()),
            ),
            Ok(_) => return,
        }
        if let Some(set) = set {
            self.with_fix(set, true);
        }
    }

    /// The rules on a sealed value's binding to its profile's endpoint, judged by the clear `ep=`
    /// digest. Opening judges by the endpoint sealed inside, which this digest only copies.
    fn binding(&mut self, name: &str, value: &str, span: &impl Fn() -> Range<usize>) {
        // sealctl seals only a profile's own tokens; only they are bound.
        let token = self.scope.prefix.is_empty()
            && SECRET_KEYS.iter().any(|key| key.eq_ignore_ascii_case(name));
        let Some(endpoint) = self.endpoint.as_ref().filter(|_| token) else {
            return;
        };
        let key = self.scope.key(name);
        match value_param(value, ENDPOINT_PARAM) {
            None => {
                let message = format!(
                    "`{key}` is not bound to an endpoint: it would open for whatever host the profile names"
                );
                let help = format!(
                    "if {endpoint} is where it belongs, bind it there (needs the identity)"
                );
                self.report_at_key(Rule::Unbound, name, span(), message, Some(help));
                self.with_fix(&["rekey", "--rebind"], true);
            }
            Some(sealed) if sealed != endpoint.digest() => {
                let message = format!(
                    "`{key}` was sealed for another endpoint (ep={sealed}) than the profile's {endpoint} (ep={}); it will not open",
                    endpoint.digest()
                );
                let help = format!(
                    "restore the profile's settings from version control; or, if the profile moved on purpose, re-seal its tokens for {endpoint} (needs the identity)"
                );
                self.report_at_key(Rule::EndpointChanged, name, span(), message, Some(help));
                self.with_fix(&["rekey", "--rebind"], true);
            }
            Some(_) => {}
        }
    }

    fn wrong_type(&mut self, name: &str, span: Range<usize>, item: &Item, kind: Kind) {
        let key = self.scope.key(name);
        let help = match (kind, item) {
            (Kind::String, Item::Value(Value::Integer(number))) if !is_secret_key(name) => {
                Some(format!("quote it: {name} = \"{}\"", number.value()))
            }
            (Kind::Bool, Item::Value(Value::String(text)))
                if matches!(text.value().as_str(), "true" | "false") =>
            {
                Some(format!("remove the quotes: {name} = {}", text.value()))
            }
            _ => None,
        };
        self.report_at_key(
            Rule::WrongType,
            name,
            span,
            format!(
                "`{key}` must be {}, found {}",
                kind.describe(),
                type_name(item)
            ),
            help,
        );
    }

    fn unknown_key(&mut self, name: &str, span: Range<usize>, fields: &[Field]) {
        let key = self.scope.key(name);
        let help = if name == "client_secret" && self.scope.prefix == "auth.oauth2." {
            Some("influxctl 2.9.8 removed `client_secret`; remove it from the file".to_owned())
        } else if let Some(near) = values::nearest(name, fields.iter().map(|field| field.name)) {
            Some(format!("did you mean `{}`?", self.scope.key(near)))
        } else {
            nested_home(name).map(|home| format!("did you mean `{home}`?"))
        };
        self.report_at_key(
            Rule::UnknownKey,
            name,
            span,
            format!("unknown key `{key}`"),
            help,
        );
    }

    fn profile(&mut self, header: Range<usize>, table: &dyn TableLike) {
        // Read as influxctl and `ProfileDocument::endpoint` read them: `HOST` is `host`.
        self.endpoint = Some(Endpoint::from_fields(|key| {
            key_for(table, key).and_then(|(_, item)| item.as_str())
        }));
        self.types(table, PROFILE_FIELDS);
        self.endpoint = None;
        let mut missing = Vec::new();
        let has = |field: &str| key_for(table, field).is_some();
        if !has("name") {
            missing.push(("name", "every profile needs a name for --profile to select"));
        }
        let product = get_str(table, "product");
        if !has("product") {
            missing.push((
                "product",
                "write product = \"clustered\" or product = \"dedicated\"",
            ));
        }
        match product.as_ref().map(|product| product.value) {
            Some("clustered") => {
                for key in ["host", "port"] {
                    if !has(key) {
                        missing.push((key, "a Clustered profile connects to host and port"));
                    }
                }
            }
            Some("dedicated") => {
                for key in ["account_id", "cluster_id"] {
                    if !has(key) {
                        missing.push((key, "a Dedicated profile names its account and cluster"));
                    }
                }
            }
            Some(other) => {
                let near = values::nearest(other, Product::NAMES.iter().copied());
                let product = product.expect("matched Some");
                self.report_at_key(
                    Rule::InvalidProduct,
                    product.name,
                    product.key_span(),
                    format!("product `{other}` is neither `clustered` nor `dedicated`"),
                    Some(match near {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => {
                            "write product = \"clustered\" or product = \"dedicated\"".to_owned()
                        }
                    }),
                );
            }
            None => {}
        }
        if !missing.is_empty() {
            let label = self
                .scope
                .profile
                .as_deref()
                .map_or("this profile".to_owned(), |name| {
                    format!("profile `{name}`")
                });
            for (key, help) in missing {
                self.report_at_key(
                    Rule::MissingKey,
                    key,
                    header.clone(),
                    format!("{label} has no `{key}`"),
                    Some(help.to_owned()),
                );
            }
        }

        if let Some(host) = get_str(table, "host")
            && let Some(problem) = values::host_problem(host.value)
        {
            let help = match problem.meant {
                Some((host, Some(port))) => {
                    Some(format!("write host = \"{host}\" and port = \"{port}\""))
                }
                Some((host, None)) => Some(format!("write host = \"{host}\"")),
                None => Some(
                    "write the bare host name, as in host = \"cluster-host.example.com\""
                        .to_owned(),
                ),
            };
            self.report_at_key(
                Rule::InvalidHost,
                host.name,
                host.key_span(),
                format!("`{}` {}", host.name, problem.reason),
                help,
            );
        }
        if let Some(port) = get_str(table, "port")
            && let Some(reason) = values::port_problem(port.value)
        {
            self.report_at_key(
                Rule::InvalidPort,
                port.name,
                port.key_span(),
                format!(
                    "`{}` {reason}: it must be a decimal number from 1 to 65535",
                    port.name
                ),
                Some("write it as a quoted number, as in port = \"443\"".to_owned()),
            );
        }
        for key in ["account_id", "cluster_id"] {
            if let Some(id) = get_str(table, key)
                && !values::is_uuid(id.value)
            {
                self.report_at_key(
                        Rule::InvalidUuid,
                        id.name,
                        id.key_span(),
                        format!("`{}` is not a UUID", id.name),
                        Some("influxctl prints ids as 8-4-4-4-12 hexadecimal digits, as in 0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11".to_owned()),
                    );
            }
        }
        for key in SECRET_KEYS {
            // Every spelling influxctl may read: with two, which one it takes is not known.
            for (written, item) in keys_for(table, key) {
                let Some(value) = item.as_str() else { continue };
                if value.is_empty() || looks_sealed(value) {
                    continue;
                }
                let what = if *key == "mgmt_token" {
                    "a management token, which has administrative rights over the cluster,"
                } else {
                    "a database token"
                };
                let read_as = if written == *key {
                    String::new()
                } else {
                    format!(" (influxctl reads it as `{key}`)")
                };
                self.report_at_key(
                    Rule::PlaintextSecret,
                    written,
                    key_span(table, written),
                    format!("`{written}` holds {what} in plaintext{read_as}"),
                    Some("seal it in place".to_owned()),
                );
                self.with_fix(&["seal"], true);
            }
        }
        if let Some(tls) = get_table(table, "tls") {
            self.scope.prefix = "tls.".to_owned();
            self.tls(tls);
            self.scope.prefix.clear();
        }
        if let Some(oauth2) = get_table(table, "auth").and_then(|auth| get_table(auth, "oauth2")) {
            self.scope.prefix = "auth.oauth2.".to_owned();
            for key in ["token_url", "device_url"] {
                if let Some(url) = get_str(oauth2, key)
                    && let Some(reason) = values::url_problem(url.value)
                {
                    self.report_at_key(
                        Rule::InvalidUrl,
                        url.name,
                        url.key_span(),
                        format!("`auth.oauth2.{}` {reason}", url.name),
                        Some(
                            "write the full URL, as in https://auth.example.com/oauth/token"
                                .to_owned(),
                        ),
                    );
                }
            }
            self.scope.prefix.clear();
        }
    }

    fn tls(&mut self, tls: &dyn TableLike) {
        let cert = get_str(tls, "cert");
        let key = get_str(tls, "key");
        if let (Some(present), None, absent) | (None, Some(present), absent) = (
            cert.as_ref(),
            key.as_ref(),
            if cert.is_some() { "key" } else { "cert" },
        ) {
            self.report_at_key(
                Rule::TlsPair,
                present.name,
                present.key_span(),
                format!(
                    "`tls.{}` is set but `tls.{absent}` is not: a client certificate needs both",
                    present.name
                ),
                Some(format!("add tls.{absent}, or remove tls.{}", present.name)),
            );
        }
        if let Some((insecure, item)) = key_for(tls, "insecure")
            && item.as_bool() == Some(true)
        {
            self.report_at_key(
                Rule::InsecureTls,
                insecure,
                key_span(tls, insecure),
                format!(
                    "`tls.{insecure} = true`: influxctl will not check the server's certificate"
                ),
                Some("use tls.ca to trust a private CA instead".to_owned()),
            );
        }
    }

    /// The duplicate-key rule: two keys of `table` that influxctl reads as the same one of
    /// `fields` (`mgmt_token` and `MGMT_TOKEN`); it keeps one, and which is not to be relied on.
    fn duplicates(&mut self, table: &dyn TableLike, fields: &[&str]) {
        for field in fields {
            let mut written = keys_for(table, field).map(|(key, _)| key);
            let Some(first) = written.next() else {
                continue;
            };
            for again in written {
                let (line, _) = self
                    .source
                    .line_column(key_span(table, first).start + self.offset);
                self.report_at_key(
                    Rule::DuplicateKey,
                    again,
                    key_span(table, again),
                    format!(
                        "`{}` and `{}` (line {line}) are the same key to influxctl, which reads keys without regard to case and keeps only one of them",
                        self.scope.key(again),
                        self.scope.key(first),
                    ),
                    Some(format!("keep one `{field}` and remove the other")),
                );
            }
        }
    }
}

/// Where a key that belongs to a nested table lives, for one written at the wrong level.
fn nested_home(name: &str) -> Option<String> {
    PROFILE_FIELDS.iter().find_map(|outer| match outer.kind {
        Kind::Table(inner) => inner.iter().find_map(|field| match field.kind {
            _ if field.name == name => Some(format!("{}.{name}", outer.name)),
            Kind::Table(deeper) if deeper.iter().any(|deep| deep.name == name) => {
                Some(format!("{}.{}.{name}", outer.name, field.name))
            }
            _ => None,
        }),
        _ => None,
    })
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
