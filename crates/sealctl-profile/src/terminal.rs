//! Text from a file or a command line (profile names, keys, paths, hosts), made safe to show on
//! a terminal: a name such as `x\u001b]0;TITLE\u0007` is shown as written, never obeyed.
//!
//! Not for machine output: JSON and SARIF keep exact names (their own escaping is safe).

use std::borrow::Cow;

/// `text` with every character that could drive a terminal, or hide or reorder what is shown,
/// written as a TOML-style escape (`\u001B`): C0 controls (newline and tab included), DEL, C1
/// controls (U+009B is a one-byte CSI), bidirectional overrides and isolates, zero-width and
/// other invisible formatting characters. For names and other single values.
pub fn visible(text: &str) -> Cow<'_, str> {
    escape(text, |_| false, |_| false)
}

/// A whole message for a terminal: as [`visible`], except that its newlines and tabs stay, and
/// the isolates U+2068 and U+2069 are dropped: `age`'s translated messages put them around every
/// value they quote, and they would only show as noise. A name that must show its own isolates
/// goes through [`visible`] first.
pub fn visible_message(text: &str) -> Cow<'_, str> {
    escape(
        text,
        |ch| matches!(ch, '\n' | '\t'),
        |ch| matches!(ch, '\u{2068}' | '\u{2069}'),
    )
}

/// Whether a character would act on the terminal or hide text rather than show as itself.
pub fn is_hidden(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

fn escape(text: &str, keep: impl Fn(char) -> bool, drop: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if !is_hidden(ch) || keep(ch) {
            shown.push(ch);
        } else if !drop(ch) {
            shown.push_str(&format!("\\u{:04X}", ch as u32));
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(visible("x\u{1b}]0;TITLE\u{7}"), "x\\u001B]0;TITLE\\u0007");
        assert_eq!(visible("c\u{9b}31m"), "c\\u009B31m");
        assert_eq!(visible("a\u{7f}b\nc\td"), "a\\u007Fb\\u000Ac\\u0009d");
        assert_eq!(visible("evil\u{202E}txt.exe"), "evil\\u202Etxt.exe");
        assert_eq!(visible("\u{2066}x\u{2069}"), "\\u2066x\\u2069");
        assert_eq!(visible("zero\u{200B}width"), "zero\\u200Bwidth");
        assert!(matches!(visible("prod-eu 1 · ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn messages_keep_their_lines_and_lose_ages_isolates() {
        assert_eq!(
            visible_message("a\n\tb \u{2068}key.txt\u{2069}\u{1b}[2J"),
            "a\n\tb key.txt\\u001B[2J"
        );
        assert_eq!(visible_message("\u{202E}"), "\\u202E");
    }
}
