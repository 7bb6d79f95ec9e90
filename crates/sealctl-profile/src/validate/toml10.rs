//! One pass over a file's bytes that finds its table headers (where `check` may split the file
//! into parts) and the TOML 1.1 forms that `toml_edit` accepts but influxctl's TOML 1.0.0 parser
//! rejects.
//!
//! The scan trusts that the text is well-formed TOML 1.1, and tracks only what separates the two
//! grammars and finds headers: strings (for escapes), comments (to skip), the nesting of inline
//! tables and arrays (for line breaks and trailing commas), and bare tokens (for times written
//! without seconds). On text that is not well-formed its findings may be wrong, never unsafe:
//! every part it splits off is parsed by `toml_edit`, and a part that does not parse sends the
//! whole file to the parser in one piece.

use std::ops::Range;

/// A TOML 1.1-only form, found at `span`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Toml11Form {
    pub span: Range<usize>,
    pub message: &'static str,
    pub help: &'static str,
}

/// A table header (`[a.b]` or `[[a.b]]`) at the start of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Where its line starts (before any indentation): where a part of the file may begin.
    pub at: usize,
    pub kind: HeaderKind,
}

/// What a header opens, as far as splitting a profile file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderKind {
    /// `[[profile]]`: a new profile.
    Profile,
    /// `[profile.tls]`, `[[profile.x]]`: a table inside the profile above it.
    InsideProfile,
    /// A table outside the profiles, such as `[sealctl]`.
    Other,
    /// Anything the scan does not judge (`[profile]`, quoted keys, a header cut off): only the
    /// parser of the whole file can say what it means.
    Unclear,
}

/// What one pass found: headers and TOML 1.1 forms, in file order.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub headers: Vec<Header>,
    pub forms: Vec<Toml11Form>,
}

pub(crate) fn scan(text: &[u8]) -> Scan {
    Scanner {
        bytes: text,
        at: 0,
        found: Scan::default(),
    }
    .scan()
}

#[cfg(test)]
fn find_toml11_forms(text: &str) -> Vec<Toml11Form> {
    scan(text.as_bytes()).forms
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    found: Scan,
}

/// An open `{` or `[` inside a value, with where it opened.
#[derive(Clone, Copy)]
enum Open {
    InlineTable { at: usize, reported: bool },
    Array,
}

impl Scanner<'_> {
    fn scan(mut self) -> Scan {
        let mut open: Vec<Open> = Vec::new();
        // At top level, `[` opens an array only as a value (after `=`); otherwise it is a table header.
        let mut expecting_value = false;
        let mut last_significant = None;
        // Where the current line began, and whether only blanks stand between there and `at`.
        let mut line_begin = 0;
        let mut line_start = true;
        while let Some(&byte) = self.bytes.get(self.at) {
            if line_start && byte == b'[' && open.is_empty() && !expecting_value {
                let kind = header_kind(&self.bytes[self.at..]);
                self.found.headers.push(Header {
                    at: line_begin,
                    kind,
                });
            }
            if byte == b'\n' {
                line_start = true;
                line_begin = self.at + 1;
            } else if !matches!(byte, b' ' | b'\t') {
                line_start = false;
            }
            match byte {
                b'#' => {
                    self.skip_comment();
                    continue;
                }
                b'"' | b'\'' => {
                    self.string(byte);
                    last_significant = Some(byte);
                    expecting_value = false;
                    continue;
                }
                b'\n' => {
                    if let Some(Open::InlineTable { at, reported }) = open.last_mut()
                        && !*reported
                    {
                        *reported = true;
                        self.found.forms.push(Toml11Form {
                                span: *at..*at + 1,
                                message: "inline table spans several lines, which TOML 1.0 does not allow",
                                help: "write the inline table on one line, or as a [table] section",
                            });
                    }
                }
                b'=' => expecting_value = open.is_empty(),
                b'{' => open.push(Open::InlineTable {
                    at: self.at,
                    reported: false,
                }),
                b'[' if !open.is_empty() || expecting_value => open.push(Open::Array),
                b'}' => {
                    if last_significant == Some(b',') {
                        self.found.forms.push(Toml11Form {
                            span: self.at..self.at + 1,
                            message: "trailing comma in an inline table, which TOML 1.0 does not allow",
                            help: "remove the comma before `}`",
                        });
                    }
                    open.pop();
                }
                b']' => {
                    open.pop();
                }
                b if is_bare(b) => {
                    self.bare_token();
                    last_significant = Some(b'a');
                    expecting_value = false;
                    continue;
                }
                _ => {}
            }
            if !byte.is_ascii_whitespace() {
                last_significant = Some(byte);
                if byte != b'=' {
                    expecting_value = false;
                }
            }
            self.at += 1;
        }
        self.found
    }

    fn skip_comment(&mut self) {
        self.at = memchr::memchr(b'\n', &self.bytes[self.at..])
            .map_or(self.bytes.len(), |end| self.at + end);
    }

    fn quote_run(&self, from: usize, quote: u8) -> usize {
        self.bytes[from..]
            .iter()
            .take_while(|&&byte| byte == quote)
            .count()
    }

    /// Consumes a string of any of the four kinds, reporting 1.1-only escapes in basic strings.
    fn string(&mut self, quote: u8) {
        let multiline = self.quote_run(self.at, quote) >= 3;
        self.at += if multiline { 3 } else { 1 };
        loop {
            // Only a backslash or the quote can end or change a string: jump to the next one.
            // (A backslash as the last byte, in text that is not TOML, steps past the end.)
            let rest = self.bytes.get(self.at..).unwrap_or_default();
            let Some(next) = memchr::memchr2(b'\\', quote, rest) else {
                self.at = self.bytes.len();
                return;
            };
            self.at += next;
            let byte = self.bytes[self.at];
            if byte == b'\\' && quote == b'"' {
                match self.bytes.get(self.at + 1) {
                    Some(b'e') => self.found.forms.push(Toml11Form {
                        span: self.at..self.at + 2,
                        message: "the escape `\\e` is TOML 1.1, which influxctl's TOML 1.0 parser rejects",
                        help: "write the escape character as `\\u001B`",
                    }),
                    Some(b'x') => self.found.forms.push(Toml11Form {
                        span: self.at..self.at + 4,
                        message: "the escape `\\xHH` is TOML 1.1, which influxctl's TOML 1.0 parser rejects",
                        help: "write the character as `\\u00HH`",
                    }),
                    _ => {}
                }
                self.at += 2;
                continue;
            }
            if byte == quote {
                let run = self.quote_run(self.at, quote);
                if !multiline {
                    self.at += 1;
                    return;
                }
                if run >= 3 {
                    // Up to two quotes may stand just before the closing delimiter.
                    self.at += run;
                    return;
                }
                self.at += run;
                continue;
            }
            // A backslash in a literal string is an ordinary character.
            self.at += 1;
        }
    }

    /// Consumes a bare key, number, boolean, date or time. Only times hold `:` outside strings,
    /// so the first `:` in a token is the one between hours and minutes.
    fn bare_token(&mut self) {
        let start = self.at;
        while self.at < self.bytes.len() && is_bare(self.bytes[self.at]) {
            self.at += 1;
        }
        let token = &self.bytes[start..self.at];
        if let Some(colon) = token.iter().position(|&byte| byte == b':') {
            let minutes_end = colon + 3;
            if token.get(minutes_end) != Some(&b':') {
                let hours = colon.saturating_sub(2);
                self.found.forms.push(Toml11Form {
                    span: start + hours..start + minutes_end.min(token.len()),
                    message: "a time without seconds is TOML 1.1, which influxctl's TOML 1.0 parser rejects",
                    help: "add the seconds, as in `07:32:00`",
                });
            }
        }
    }
}

/// The kind of the header starting at `bytes[0]` (a `[`).
fn header_kind(bytes: &[u8]) -> HeaderKind {
    let array = bytes.starts_with(b"[[");
    let rest = trim_blank(&bytes[if array { 2 } else { 1 }..]);
    let key_len = rest
        .iter()
        .take_while(|&&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
        .count();
    let (key, after) = rest.split_at(key_len);
    let after = trim_blank(after);
    let profile = key == b"profile";
    match after.first() {
        // `[[Profile]]` is read by influxctl as `[[profile]]`: the whole file's walk judges it.
        _ if key.is_empty() || (!profile && key.eq_ignore_ascii_case(b"profile")) => {
            HeaderKind::Unclear
        }
        Some(b'.') if profile => HeaderKind::InsideProfile,
        Some(b']') if profile && array && after.starts_with(b"]]") => HeaderKind::Profile,
        Some(b'.' | b']') if !profile => HeaderKind::Other,
        _ => HeaderKind::Unclear,
    }
}

fn trim_blank(bytes: &[u8]) -> &[u8] {
    let blank = bytes
        .iter()
        .take_while(|&&byte| matches!(byte, b' ' | b'\t'))
        .count();
    &bytes[blank..]
}

fn is_bare(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+' | b'.' | b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<(usize, &'static str)> {
        find_toml11_forms(text)
            .into_iter()
            .map(|form| (form.span.start, form.message))
            .collect()
    }

    #[test]
    fn toml_1_0_forms_pass() {
        for text in [
            "a = { b = 1, c = [\n 1,\n 2,\n] }\n",
            "t = 07:32:00\nd = 1979-05-27T07:32:00-07:00\nl = 1979-05-27 07:32:00.999Z\n",
            "s = \"a\\\\e\\\\x\"\nm = \"\"\"\nq\\\"\"\"\"\"\nl = 'a\\e'\n",
            "[a.\"b]c\".d]\nx = [[1], [2]]\n[[t]]\n",
            "# { unclosed in a comment, 07:32\nk = \"{\"\n",
        ] {
            assert_eq!(messages(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn headers_are_found_and_judged() {
        let text = "# [[profile]]\nk = [\n[1]]\ns = \"\"\"\n[[profile]]\"\"\"\n[[profile]]\n  [profile.tls]\n[[ profile ]] # c\n[[profile.x]]\n[sealctl]\n[profile]\n[\"q\"]\n[[profiles]]\n[profile";
        let found: Vec<(usize, HeaderKind)> = scan(text.as_bytes())
            .headers
            .iter()
            .map(|header| (header.at, header.kind))
            .collect();
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(
            found,
            [
                (at("[[profile]]\n  "), HeaderKind::Profile),
                (at("  [profile.tls]"), HeaderKind::InsideProfile),
                (at("[[ profile ]]"), HeaderKind::Profile),
                (at("[[profile.x]]"), HeaderKind::InsideProfile),
                (at("[sealctl]"), HeaderKind::Other),
                (at("[profile]\n"), HeaderKind::Unclear),
                (at("[\"q\"]"), HeaderKind::Unclear),
                (at("[[profiles]]"), HeaderKind::Other),
                (text.len() - "[profile".len(), HeaderKind::Unclear),
            ]
        );
    }

    #[test]
    fn text_that_is_not_toml_is_scanned_without_a_panic() {
        for text in [
            "s = \"abc\\",
            "s = \"\"\"\\",
            "[",
            "[[",
            "[[profile",
            "'",
            "t = 07:",
        ] {
            scan(text.as_bytes());
        }
    }

    #[test]
    fn toml_1_1_forms_are_found() {
        assert_eq!(messages("a = { b = 1,\n c = 2 }\n").len(), 1);
        assert_eq!(messages("a = { b = 1, }\n").len(), 1);
        assert_eq!(messages("s = \"\\e\"\n").len(), 1);
        assert_eq!(messages("s = \"\"\"\n\\x41\"\"\"\n").len(), 1);
        assert_eq!(messages("\"k\\e\" = 1\n").len(), 1);
        assert_eq!(messages("t = 07:32\n").len(), 1);
        assert_eq!(messages("t = 1979-05-27T07:32Z\n").len(), 1);
        assert_eq!(messages("t = 1979-05-27 07:32-07:00\n").len(), 1);
        assert_eq!(messages("a = [{ b = 07:32 }]\n").len(), 1);
    }
}
