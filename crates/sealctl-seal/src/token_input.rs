//! Finding the token in what a user pipes in: the bare token, or the whole output of
//! `influxctl management create`, in its table form or its `--format json` form.

use std::time::SystemTime;

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::TokenError;
use crate::seal::validate_token;

/// A token read from input, with its expiry when the input said it.
pub struct TokenInput {
    /// The token.
    pub token: SecretString,
    /// When it expires, if the input said.
    pub expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for TokenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInput")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Reads the token (and expiry) from input:
///
/// - JSON (`influxctl management create --format json`): the `token` field, and `expires_at`
///   (or `expiresAt`, `expiry`) if present;
/// - the table form (influxctl 2.11 and later): the token is the last non-empty line, after the
///   table and its warnings; the expiry is the RFC 3339 time in the table, if any;
/// - anything else on one line: the bare token.
pub fn parse_token_input(input: &str) -> Result<TokenInput, TokenError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(TokenError::Empty);
    }
    let parsed = if input.starts_with('{') {
        from_json(input)?
    } else {
        let lines: Vec<&str> = input
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        let last = lines.last().copied().unwrap_or_default();
        // Several lines are influxctl's table output only if something before the token reads
        // like a table or a sentence; bare words on several lines are a token broken in two.
        let looks_like_output = lines[..lines.len() - 1]
            .iter()
            .any(|line| line.contains(char::is_whitespace) || line.starts_with(['+', '|']));
        if last.split_whitespace().count() != 1 {
            return Err(TokenError::NotFound(
                "the last line of the input is not a token; pipe in the bare token or the whole output of `influxctl management create`",
            ));
        }
        if lines.len() > 1 && !looks_like_output {
            return Err(TokenError::ControlCharacter("line break"));
        }
        TokenInput {
            token: SecretString::from(last.to_owned()),
            expires_at: input
                .lines()
                .flat_map(|line| line.split(['|', ' ', '\t']))
                .find_map(rfc3339),
        }
    };
    validate_token(&parsed.token)?;
    Ok(parsed)
}

fn from_json(input: &str) -> Result<TokenInput, TokenError> {
    let value: serde_json::Value = serde_json::from_str(input)
        .map_err(|_| TokenError::NotFound("the input starts like JSON but is not JSON"))?;
    let object = value
        .as_object()
        .ok_or(TokenError::NotFound("the JSON input is not an object"))?;
    let token = object
        .get("token")
        .and_then(serde_json::Value::as_str)
        .ok_or(TokenError::NotFound(
            "the JSON input has no \"token\" field",
        ))?;
    let token = Zeroizing::new(token.to_owned());
    let expires_at = ["expires_at", "expiresAt", "expiry"]
        .iter()
        .find_map(|field| {
            object
                .get(*field)
                .and_then(serde_json::Value::as_str)
                .and_then(rfc3339)
        });
    Ok(TokenInput {
        token: SecretString::from(token.as_str()),
        expires_at,
    })
}

fn rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    (text.len() >= 20 && text.as_bytes()[4] == b'-')
        .then(|| {
            humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
                .ok()
                .or_else(|| humantime::parse_rfc3339(text).ok())
        })
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn bare_tokens() {
        let input = parse_token_input("apiv3_abcDEF123==\n").unwrap();
        assert_eq!(input.token.expose_secret(), "apiv3_abcDEF123==");
        assert_eq!(input.expires_at, None);
    }

    #[test]
    fn the_table_form_of_management_create() {
        let output = "\
+--------------------------------------+-------------+----------------------+
| ID                                   | DESCRIPTION | EXPIRES AT           |
+--------------------------------------+-------------+----------------------+
| 6b4d4a39-8a28-4f0d-9a0e-8f6f0a1b2c3d | ci          | 2027-02-01T00:00:00Z |
+--------------------------------------+-------------+----------------------+
Warning: the token is shown once; store it in a secure place.

apiv3_mgmtTOKEN-abc123
";
        let input = parse_token_input(output).unwrap();
        assert_eq!(input.token.expose_secret(), "apiv3_mgmtTOKEN-abc123");
        assert_eq!(
            input.expires_at,
            Some(humantime::parse_rfc3339("2027-02-01T00:00:00Z").unwrap())
        );
    }

    #[test]
    fn the_json_form_of_management_create() {
        let output = r#"{"id":"6b4d","description":"ci","expires_at":"2027-02-01T00:00:00Z","token":"apiv3_json"}"#;
        let input = parse_token_input(output).unwrap();
        assert_eq!(input.token.expose_secret(), "apiv3_json");
        assert!(input.expires_at.is_some());
        assert!(matches!(
            parse_token_input(r#"{"id":"x"}"#),
            Err(TokenError::NotFound(_))
        ));
    }

    #[test]
    fn what_is_not_a_token_is_refused() {
        assert!(matches!(parse_token_input("  \n"), Err(TokenError::Empty)));
        // Regression: a token broken over two lines is not taken for its second half.
        assert!(matches!(
            parse_token_input("apiv3_abc\ndef"),
            Err(TokenError::ControlCharacter("line break"))
        ));
        assert!(matches!(
            parse_token_input("two words"),
            Err(TokenError::NotFound(_))
        ));
    }
}
