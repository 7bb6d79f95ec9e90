//! `check`: every rule, applied to the bytes of one file.
//!
//! A file is checked in parts ([`parts`]): the text before the first `[[profile]]`, each
//! profile, and the tables after the last one, each parsed on its own and walked by the same
//! rules ([`Walk`]), so that memory stays small however large the file is. A file that cannot be
//! split that way (a parse error, tables out of the usual order) is parsed in one piece; both
//! ways find the same diagnostics, which the tests and the fuzz target compare.
//!
//! This module holds the entry points, the walk's state and how it reports. The rules live by
//! concern, each an `impl Walk` of its own: [`top_level`] (the file's tables, `[sealctl]`),
//! [`profiles`] (one profile's keys and values, names across profiles), [`schema`] (unknown keys,
//! types, duplicates), [`secrets`] (marking secrets, plaintext tokens) and [`sealed`] (sealed
//! values and their binding).

mod other;
mod parts;
mod profiles;
mod schema;
mod sealed;
mod secrets;
mod syntax;
mod toml10;
mod top_level;
mod values;

pub use other::is_other_toml;
pub use values::{EXPIRY_WARNING_KEY, parse_expiry_warning, setting_problem};

use std::collections::HashSet;
use std::io::{self, Read, Seek};
use std::ops::Range;
use std::time::{Duration, SystemTime};

use toml_edit::{Document, TableLike};

use crate::diagnostic::{Diagnostic, Fix, Rule};
use crate::endpoint::Endpoint;
use crate::schema::key_for;
use crate::source::SourceText;

/// What `check` found in one file, in file order.
#[derive(Debug)]
pub struct CheckedFile {
    /// Every finding, ordered by position, each with its line ready to show.
    pub diagnostics: Vec<Diagnostic>,
}

/// How close to its expiry a sealed token is reported (`token-expiring`) when the file's
/// `[sealctl] expiry_warning` does not say.
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
        Ok(parts::Checked::NeedsWhole(_)) | Err(_) => check_whole(bytes, now),
    }
}

/// [`check`] of a file read from `reader`, a part at a time: memory stays small however large
/// the file is. A file that must be parsed in one piece is read again from its start.
pub fn check_reader(reader: &mut (impl Read + Seek)) -> io::Result<CheckedFile> {
    let now = SystemTime::now();
    match parts::check(reader, now, parts::READ_BYTES)? {
        parts::Checked::Found(diagnostics) => Ok(finish(diagnostics)),
        parts::Checked::NeedsWhole(Some(bytes)) => Ok(check_whole(&bytes, now)),
        parts::Checked::NeedsWhole(None) => {
            reader.rewind()?;
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            Ok(check_whole(&bytes, now))
        }
    }
}

/// [`check_at`] with the file parsed in one piece. For the tests that compare the two ways
/// (feature `testing`).
#[cfg(feature = "testing")]
#[doc(hidden)]
pub fn check_whole_at(bytes: &[u8], now: SystemTime) -> CheckedFile {
    check_whole(bytes, now)
}

/// [`check_at`] with the file parsed in one piece.
fn check_whole(bytes: &[u8], now: SystemTime) -> CheckedFile {
    let (source, diagnostics) = match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut source = SourceText::new(text.to_owned());
            let (diagnostics, secrets) = {
                let mut walk = Walk::new(&source, now, 0);
                walk.text();
                let mut found = walk.found;
                found.extend(within_window(walk.expiring, walk.window));
                (found, walk.secrets)
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
/// in one piece. For the tests that compare the two ways (feature `testing`).
#[cfg(feature = "testing")]
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

/// The `token-expiring` findings of tokens that expire within `window` (the file's `[sealctl]
/// expiry_warning`, else [`EXPIRY_WARNING`]). They wait for the window, which the file may set
/// after its profiles.
fn within_window(
    expiring: Vec<(Diagnostic, Duration)>,
    window: Option<Duration>,
) -> impl Iterator<Item = Diagnostic> {
    let window = window.unwrap_or(EXPIRY_WARNING);
    expiring
        .into_iter()
        .filter(move |(_, left)| *left <= window)
        .map(|(diagnostic, _)| diagnostic)
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
    /// The file's `[sealctl] expiry_warning`, when it sets a valid one.
    window: Option<Duration>,
    /// `token-expiring` findings with the time their token has left, judged against the window
    /// once the whole file is walked.
    expiring: Vec<(Diagnostic, Duration)>,
}

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
            window: None,
            expiring: Vec::new(),
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
}
