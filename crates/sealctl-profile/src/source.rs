//! A checked file's text: positions as line and column, and lines that are safe to show.

use std::ops::Range;

/// What a redacted secret is shown as in a source line.
pub const REDACTED: &str = "[redacted]";

/// The text of a file as `check` saw it, or of one part of it, with the byte ranges that hold
/// secrets.
///
/// Offsets and line numbers are always the file's: a part knows where in the file it starts.
/// Invalid UTF-8 is replaced (U+FFFD) so that positions before the first bad byte stay exact.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceText {
    text: String,
    /// The file offset of `text`'s first byte.
    base: usize,
    /// The 0-based line of the file that `text` starts on (at the start of that line).
    first_line: usize,
    line_starts: Vec<usize>,
    /// File offsets.
    secrets: Vec<Range<usize>>,
}

impl std::fmt::Debug for SourceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text may hold plaintext secrets: never print it.
        f.debug_struct("SourceText")
            .field("bytes", &self.text.len())
            .field("lines", &self.line_starts.len())
            .finish_non_exhaustive()
    }
}

/// One line prepared for display: secrets replaced, control characters made visible.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayLine {
    /// The line as it may be shown, without its line ending.
    pub text: String,
    /// 1-based line number.
    pub number: usize,
    /// Where in `text` the original byte offset `span.start` lands.
    pub start: usize,
    /// Where in `text` the original byte offset `span.end` (clamped to the line) lands.
    pub end: usize,
}

impl SourceText {
    /// Wraps the text of a file.
    pub fn new(text: String) -> SourceText {
        SourceText::part(text, 0, 0)
    }

    /// Wraps one part of a file: `text` starts at file offset `base`, at the start of the
    /// 0-based line `first_line`.
    pub(crate) fn part(text: String, base: usize, first_line: usize) -> SourceText {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|at| at + 1))
            .collect();
        SourceText {
            text,
            base,
            first_line,
            line_starts,
            secrets: Vec::new(),
        }
    }

    /// The text. It may hold plaintext secrets: display it only through [`SourceText::display_line`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file offset just past the text.
    pub(crate) fn end(&self) -> usize {
        self.base + self.text.len()
    }

    /// The number of line breaks in the text.
    pub(crate) fn line_breaks(&self) -> usize {
        self.line_starts.len() - 1
    }

    /// A file offset as an offset into the text (clamped to it).
    fn relative(&self, offset: usize) -> usize {
        offset.saturating_sub(self.base).min(self.text.len())
    }

    /// Marks a byte range as secret, so that [`SourceText::display_line`] never shows it.
    pub(crate) fn add_secret(&mut self, range: Range<usize>) {
        self.secrets.push(range);
    }

    /// The byte ranges marked secret, as file offsets.
    pub fn secrets(&self) -> &[Range<usize>] {
        &self.secrets
    }

    /// 1-based line and column (in Unicode scalar values) of a file offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = self.floor_char_boundary(self.relative(offset));
        let index = self.line_index(offset);
        let column = self.text[self.line_starts[index]..offset].chars().count() + 1;
        (self.first_line + index + 1, column)
    }

    fn line_index(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn line_range(&self, index: usize) -> Range<usize> {
        let start = self.line_starts[index];
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        start..end
    }

    /// The line holding `span.start`, safe to print: every secret on it is replaced by
    /// [`REDACTED`] and every control character by a visible symbol, so that neither a token nor
    /// a terminal escape sequence from the file ever reaches the screen.
    pub fn display_line(&self, span: Range<usize>) -> DisplayLine {
        let start = self.floor_char_boundary(self.relative(span.start));
        let index = self.line_index(start);
        let line = self.line_range(index);
        let mut secrets: Vec<Range<usize>> = self
            .secrets
            .iter()
            .map(|secret| self.relative(secret.start)..self.relative(secret.end))
            .filter(|secret| secret.start < line.end && secret.end > line.start)
            .map(|secret| secret.start.max(line.start)..secret.end.min(line.end))
            .collect();
        // A line the parser could not read may still hold a secret: hide the value of a
        // secret-looking assignment wherever the tree could not say where the value is.
        if secrets.is_empty()
            && let Some(value) = secret_assignment_value(&self.text[line.clone()])
        {
            secrets.push(line.start + value.start..line.start + value.end);
        }
        secrets.sort_by_key(|secret| secret.start);

        let mut text = String::new();
        let mut display_start = None;
        let mut display_end = None;
        let mut at = line.start;
        // Not `clamp`: a span may start on the `\n` of a CRLF line, past the line's end.
        let span_end = self.relative(span.end).max(start).min(line.end);
        let mut secrets = secrets.into_iter().peekable();
        while at < line.end {
            if at == start && display_start.is_none() {
                display_start = Some(text.len());
            }
            if at >= span_end && display_end.is_none() {
                display_end = Some(text.len());
            }
            if let Some(secret) = secrets.next_if(|secret| secret.start <= at) {
                if secret.end > at {
                    text.push_str(REDACTED);
                    at = self.ceil_char_boundary(secret.end);
                }
                continue;
            }
            let ch = self.text[at..].chars().next().expect("inside the line");
            text.push(visible(ch));
            at += ch.len_utf8();
        }
        let end_of_text = text.len();
        let start = display_start.unwrap_or(end_of_text);
        DisplayLine {
            text,
            number: self.first_line + index + 1,
            start,
            end: display_end.unwrap_or(end_of_text).max(start),
        }
    }

    fn ceil_char_boundary(&self, mut offset: usize) -> usize {
        while offset < self.text.len() && !self.text.is_char_boundary(offset) {
            offset += 1;
        }
        offset
    }
}

/// Control characters as Unicode "control pictures", so a file cannot drive the terminal.
fn visible(ch: char) -> char {
    match ch {
        '\t' => ch,
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + ch as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        _ => ch,
    }
}

/// Whether a key's name says that its value is a secret. The schema's own secrets
/// (`mgmt_token`, `token`) match, and so do keys a user might invent or remember
/// (`client_secret`, `password`, `api_token`).
pub fn is_secret_key(name: &str) -> bool {
    secret_name(name)
        || !name.is_ascii() && {
            // influxctl reads `mgmt_toKen` (a Kelvin sign) as `mgmt_token`: Go's case mapping
            // takes these three to ASCII letters.
            let folded: String = name
                .chars()
                .map(|ch| match ch {
                    '\u{212A}' => 'k',
                    '\u{017F}' => 's',
                    '\u{0130}' => 'i',
                    _ => ch,
                })
                .collect();
            secret_name(&folded)
        }
}

fn secret_name(name: &str) -> bool {
    // "token" only at the end: `mgmt_token` and `api_token` are secrets, `token_url` is not.
    // Called for every key of every file, so it compares without allocating.
    let ends_with = |suffix: &str| {
        name.len() >= suffix.len() && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    let contains = |word: &str| {
        name.as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    };
    name.is_ascii() && (ends_with("token") || ends_with("tokens"))
        || ["secret", "password", "passwd", "credential", "private"]
            .iter()
            .any(|word| contains(word))
}

/// The byte range of the value in a line such as `mgmt_token = "…"`, judged from the text
/// alone, for lines the parser could not read.
fn secret_assignment_value(line: &str) -> Option<Range<usize>> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let key = key.rsplit('.').next().unwrap_or(key);
    if !is_secret_key(key) {
        return None;
    }
    let after_eq = line.find('=')? + 1;
    let value_start = after_eq + (line.len() - after_eq - line[after_eq..].trim_start().len());
    (value_start < line.len()).then_some(value_start..line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let source = SourceText::new("a = 1\nné = \"x\"\n".to_owned());
        assert_eq!(source.line_column(0), (1, 1));
        assert_eq!(source.line_column(6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(source.line_column(9), (2, 3));
        assert_eq!(source.line_column(1000), (3, 1));
    }

    #[test]
    fn display_line_hides_secrets_and_keeps_the_caret_on_the_key() {
        let text = "  mgmt_token = \"abcdef\" # c\n";
        let mut source = SourceText::new(text.to_owned());
        source.add_secret(15..23);
        let line = source.display_line(2..12);
        assert_eq!(line.text, "  mgmt_token = [redacted] # c");
        assert_eq!((line.start, line.end), (2, 12));
    }

    #[test]
    fn display_line_hides_an_unparsed_secret_assignment() {
        let source = SourceText::new("token = \"abc\\q\"\n".to_owned());
        let line = source.display_line(13..13);
        assert_eq!(line.text, "token = [redacted]");
        assert!(!line.text.contains("abc"));
    }

    /// influxctl reads these spellings as its secret keys: a line the parser could not read
    /// hides their values as it hides `mgmt_token`'s.
    #[test]
    fn display_line_hides_an_unparsed_case_variant_secret() {
        for line in [
            "MGMT_TOKEN = \"abc\\q\"\n",
            "\"mgmt_to\u{212A}en\" = \"abc\\q\"\n",
            "profile.To\u{212A}en = \"abc\\q\"\n",
        ] {
            let source = SourceText::new(line.to_owned());
            let shown = source.display_line(0..1);
            assert!(!shown.text.contains("abc"), "{line}");
            assert!(shown.text.ends_with(REDACTED), "{line}");
        }
    }

    #[test]
    fn display_line_of_a_span_on_a_crlf_line_break() {
        let source = SourceText::new("a = \"x\r\nb = 1\r\n".to_owned());
        let line = source.display_line(7..8);
        assert_eq!((line.text.as_str(), line.number), ("a = \"x", 1));
    }

    #[test]
    fn display_line_makes_escape_sequences_harmless() {
        let source = SourceText::new("# \u{1b}[31mred\r\n".to_owned());
        let line = source.display_line(0..1);
        assert_eq!(line.text, "# \u{241b}[31mred");
    }

    #[test]
    fn secret_keys() {
        for key in [
            "mgmt_token",
            "token",
            "client_secret",
            "Password",
            "api_token",
            "MGMT_TOKEN",
            "mgmt_to\u{212A}en",
            "\u{017F}ecret",
            "to\u{212A}en",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "name",
            "host",
            "key",
            "cert",
            "client_id",
            "token_url",
            "device_url",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}
