//! Finding the token in what a user pipes in: the bare token, or the whole output of
//! `influxctl management create`, in its table form or its `--format json` form.

use std::time::SystemTime;

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::TokenError;
use crate::seal::validate_token;

/// A token read from input, with its expiry and id when the input said them.
pub struct TokenInput {
    /// The token.
    pub token: SecretString,
    /// When it expires, if the input said.
    pub expires_at: Option<SystemTime>,
    /// The id influxctl gave it, if the input said (the `id` row of the table, or JSON's `id`).
    pub id: Option<String>,
}

impl std::fmt::Debug for TokenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInput")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("id", &self.id)
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
            id: table_id(&lines),
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
    // A time as text, or as `management list --format json` writes times: `{"seconds": N}`
    // (zero for none).
    let time = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => rfc3339(text),
        serde_json::Value::Object(parts) => parts
            .get("seconds")
            .and_then(serde_json::Value::as_u64)
            .filter(|seconds| *seconds > 0)
            .map(|seconds| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds)),
        _ => None,
    };
    let expires_at = ["expires_at", "expiresAt", "expiry"]
        .iter()
        .find_map(|field| object.get(*field).and_then(time));
    let id = object
        .get("id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| sealctl_profile::sealed::is_token_id(id))
        .map(str::to_owned);
    Ok(TokenInput {
        token: SecretString::from(token.as_str()),
        expires_at,
        id,
    })
}

/// The id in the table `management create` prints (since influxctl 2.11): the row `| id | … |`.
fn table_id(lines: &[&str]) -> Option<String> {
    lines.iter().find_map(|line| {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        match cells.as_slice() {
            ["", "id", id, ""] if sealctl_profile::sealed::is_token_id(id) => {
                Some((*id).to_owned())
            }
            _ => None,
        }
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
    fn the_documented_forms_of_create_give_the_id() {
        // As the influxctl 2.11 release notes show it.
        let table = "\
+-------------+--------------------------------------+
|          id | 11111111-1111-1111-1111-111111111111 |
| description | Example Token                        |
|  expires at | 2025-10-24T00:00:00Z                 |
|  revoked at |                                      |
+-------------+--------------------------------------+
warn\tplease copy the token and store in a safe place
warn\tthis is the *only time* you will see the token
M.V1.+5JkTOKEN
";
        let input = parse_token_input(table).unwrap();
        assert_eq!(input.token.expose_secret(), "M.V1.+5JkTOKEN");
        assert_eq!(
            input.id.as_deref(),
            Some("11111111-1111-1111-1111-111111111111")
        );
        assert_eq!(
            input.expires_at,
            Some(humantime::parse_rfc3339("2025-10-24T00:00:00Z").unwrap())
        );
        // Before 2.11: the warnings and the token, no id.
        let old = "warn\tplease copy the token and store in a safe place\nwarn\tthis is the *only time* you will see the token\nM.V1.+5JkTOKEN\n";
        let input = parse_token_input(old).unwrap();
        assert_eq!(input.token.expose_secret(), "M.V1.+5JkTOKEN");
        assert_eq!((input.id, input.expires_at), (None, None));
        // JSON, with times as `management list` writes them; an id that is not one is dropped.
        let json = r#"{"id":"22222222-2222-2222-2222-222222222222","expires_at":{"seconds":1800000000,"nanos":0},"token":"M.V1.x"}"#;
        let input = parse_token_input(json).unwrap();
        assert_eq!(
            input.id.as_deref(),
            Some("22222222-2222-2222-2222-222222222222")
        );
        assert!(input.expires_at.is_some());
        let input = parse_token_input(r#"{"id":"a;b","token":"M.V1.x"}"#).unwrap();
        assert_eq!(input.id, None);
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
