//! The first TOML syntax error of a text, by position.
//!
//! `toml_edit` reports one error: the first one *reported*, which is not the first in the file.
//! Its parser reports the grammar's errors first (a stray `=`, an unterminated string, in an
//! order of its own) and the errors found while building the tree (a key defined twice, a bad
//! escape, a value missing after `=`) only after them, so a file with errors on lines 3 and 40
//! was reported at line 40. A person fixes a file from the top: `check` reports the first.

use std::ops::Range;

use toml_edit::Document;
use toml_parser::parser::{RecursionGuard, ValidateWhitespace};
use toml_parser::{ParseError, Source};

/// How deep arrays and tables may nest, as in `toml_edit`.
const NESTING_LIMIT: u32 = 80;

/// A syntax error: where, and what `toml_edit` would say about it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub span: Range<usize>,
    pub message: String,
}

/// The first syntax error of `text` by position, or `None` when it is valid TOML.
pub(super) fn first_error(text: &str) -> Option<SyntaxError> {
    let error = Document::parse(text).err()?;
    let reported = SyntaxError {
        span: error.span().unwrap_or(0..0),
        message: error.message().to_owned(),
    };
    let Some(grammar) = grammar_errors(text)
        .into_iter()
        .min_by_key(|error| (error.span.start, error.span.end))
    else {
        // Only tree errors, which are reported in file order.
        return Some(reported);
    };
    // A tree error before the first grammar error is hidden behind it: look for one in the
    // lines above, which have no grammar error. Cutting the text may leave a string, array or
    // table unclosed at the cut; the prefix's grammar errors say so, and then it is not judged.
    let cut = text[..grammar.span.start]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let above = &text[..cut];
    if cut > 0
        && grammar_errors(above).is_empty()
        && let Err(error) = Document::parse(above)
    {
        return Some(SyntaxError {
            span: error.span().unwrap_or(0..0),
            message: error.message().to_owned(),
        });
    }
    Some(grammar)
}

/// Every error of the grammar pass, in no particular order.
fn grammar_errors(text: &str) -> Vec<SyntaxError> {
    let source = Source::new(text);
    let tokens = source.lex().into_vec();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut sink = |error: ParseError| errors.push(error);
    let mut whitespace = ValidateWhitespace::new(&mut events, source);
    let mut receiver = RecursionGuard::new(&mut whitespace, NESTING_LIMIT);
    toml_parser::parser::parse_document(&tokens, &mut receiver, &mut sink);
    errors.iter().map(describe).collect()
}

/// An error as `toml_edit` words it (`extra `=`, expected nothing`), so that messages stay the
/// same whichever pass found the error.
fn describe(error: &ParseError) -> SyntaxError {
    let mut message = error.description().to_owned();
    if let Some(expected) = error.expected() {
        message.push_str(", expected ");
        if expected.is_empty() {
            message.push_str("nothing");
        }
        for (at, expected) in expected.iter().enumerate() {
            if at > 0 {
                message.push_str(", ");
            }
            match expected {
                toml_parser::Expected::Literal(literal) => message.push_str(&literal_name(literal)),
                toml_parser::Expected::Description(description) => message.push_str(description),
                _ => message.push_str("etc"),
            }
        }
    }
    let span = error
        .unexpected()
        .or(error.context())
        .map_or(0..0, |span| span.start()..span.end());
    SyntaxError { span, message }
}

fn literal_name(literal: &str) -> String {
    match literal {
        "\n" => "newline".to_owned(),
        "`" => "'`'".to_owned(),
        s if s.chars().all(|c| c.is_ascii_control()) => format!("`{}`", s.escape_debug()),
        s => format!("`{s}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str, error: &SyntaxError) -> usize {
        text[..error.span.start].matches('\n').count() + 1
    }

    #[test]
    fn the_first_error_by_position_is_reported() {
        // A tree error (no value after `=`) before a grammar error (a second `=`).
        let text = "a = \nb = = 2\n";
        assert_eq!(line_of(text, &first_error(text).unwrap()), 1);
        // Two grammar errors.
        let text = "a = 1\nb = = 2\nc = = 3\n";
        assert_eq!(line_of(text, &first_error(text).unwrap()), 2);
        // A bad escape, then a stray `=`.
        let text = "a = \"\\q\"\nb = 1\nc = = 3\n";
        assert_eq!(line_of(text, &first_error(text).unwrap()), 1);
        // A key defined twice, then an unterminated string.
        let text = "a = 1\na = 2\n[t]\nb = \"x\n";
        assert_eq!(line_of(text, &first_error(text).unwrap()), 2);
        assert_eq!(first_error("a = 1\n[t]\nb = 2\n"), None);
    }

    #[test]
    fn a_cut_inside_a_multi_line_value_is_not_taken_for_an_error() {
        // The grammar error is on a line inside a multi-line array: the lines above it end
        // with the array open, which must not be reported instead.
        let text = "a = [\n  1,\n  = 2,\n]\n";
        let error = first_error(text).unwrap();
        assert_eq!(line_of(text, &error), 3, "{error:?}");
        let text = "s = \"\"\"\nx\n\"\"\"\nb = = 1\n";
        assert_eq!(line_of(text, &first_error(text).unwrap()), 4);
    }
}
