//! Finds the TOML 1.1 forms that `toml_edit` accepts but influxctl's TOML 1.0.0 parser rejects.
//!
//! The scan runs only on text that `toml_edit` already parsed, so it can assume the text is
//! well-formed TOML 1.1 and needs to track only what separates the two grammars: strings
//! (for escapes), comments (to skip), the nesting of inline tables and arrays (for line breaks
//! and trailing commas), and bare tokens (for times written without seconds).

use std::ops::Range;

/// A TOML 1.1-only form, found at `span`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Toml11Form {
    pub span: Range<usize>,
    pub message: &'static str,
    pub help: &'static str,
}

pub(crate) fn find_toml11_forms(text: &str) -> Vec<Toml11Form> {
    Scanner {
        bytes: text.as_bytes(),
        at: 0,
        found: Vec::new(),
    }
    .scan()
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    found: Vec<Toml11Form>,
}

/// An open `{` or `[` inside a value, with where it opened.
#[derive(Clone, Copy)]
enum Open {
    InlineTable { at: usize, reported: bool },
    Array,
}

impl Scanner<'_> {
    fn scan(mut self) -> Vec<Toml11Form> {
        let mut open: Vec<Open> = Vec::new();
        // At top level, `[` opens an array only as a value (after `=`); otherwise it is a table header.
        let mut expecting_value = false;
        let mut last_significant = None;
        while let Some(&byte) = self.bytes.get(self.at) {
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
                        self.found.push(Toml11Form {
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
                        self.found.push(Toml11Form {
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
            let Some(next) = memchr::memchr2(b'\\', quote, &self.bytes[self.at..]) else {
                self.at = self.bytes.len();
                return;
            };
            self.at += next;
            let byte = self.bytes[self.at];
            if byte == b'\\' && quote == b'"' {
                match self.bytes.get(self.at + 1) {
                    Some(b'e') => self.found.push(Toml11Form {
                        span: self.at..self.at + 2,
                        message: "the escape `\\e` is TOML 1.1, which influxctl's TOML 1.0 parser rejects",
                        help: "write the escape character as `\\u001B`",
                    }),
                    Some(b'x') => self.found.push(Toml11Form {
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
                self.found.push(Toml11Form {
                    span: start + hours..start + minutes_end.min(token.len()),
                    message: "a time without seconds is TOML 1.1, which influxctl's TOML 1.0 parser rejects",
                    help: "add the seconds, as in `07:32:00`",
                });
            }
        }
    }
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
