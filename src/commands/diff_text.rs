//! `sealctl git diff-text FILE`: a profile file as git's textconv shows it, each sealed value
//! replaced by a summary a reviewer can read (backend, recipients, endpoint, expiry).
//!
//! The summary depends only on what is in clear in the value and the file, so the same value
//! always reads the same, and a value sealed again with nothing changed shows as no change. With
//! `--reveal-changes`, each value also gets a tag keyed by the reader's identity (HMAC-SHA-256,
//! never a plain hash of the token): equal tags, same secret; the tag says nothing of the secret
//! to anyone without that identity.

use std::ops::Range;
use std::path::Path;

use hmac::{Hmac, Mac as _};
use sealctl_profile::sealed::{SealedValue, looks_sealed, recipients_fingerprint};
use sealctl_profile::{Place, ProfileDocument};
use sealctl_seal::{Destination, IdentitySource};
use secrecy::ExposeSecret as _;
use sha2::Sha256;
use toml_edit::{Document, Item, TableLike, Value};
use zeroize::Zeroizing;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status, write_stdout};
use crate::ui::plural;

/// What the tag key is derived under, so that it is never the key of anything else.
const TAG_CONTEXT: &[u8] = b"sealctl git diff-text --reveal-changes v1";

/// Hexadecimal digits of a tag shown: 48 bits, so two secrets collide by chance 1 in 2^48.
const TAG_DIGITS: usize = 12;

/// Prints `path` as textconv shows it. A file that is not a profile file, or not TOML at all,
/// is printed as it is: git must still show a diff of it.
pub fn run(global: &GlobalArgs, path: &Path, reveal: bool) -> Result<Status, CommandError> {
    let bytes = std::fs::read(path).map_err(|error| {
        CommandError::setup(format!("cannot read {}", path.display())).source(error)
    })?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(_) => return write_stdout(&bytes, "the file"),
    };
    let Some(values) = sealed_values(text) else {
        return write_stdout(&bytes, "the file");
    };
    let recipients = ProfileDocument::parse(path, text)
        .map(|document| document.recipients())
        .unwrap_or_default();
    let mut tagger = reveal.then(|| Tagger::new(global, path));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (span, value, place) in values {
        let mut shown = summary(&value, &recipients);
        if let Some(tagger) = &mut tagger {
            shown.push_str(", ");
            shown.push_str(&tagger.tag(&value, place.as_ref()));
        }
        out.push_str(&text[at..span.start]);
        out.push_str(&Value::from(format!("<sealed: {shown}>")).to_string());
        at = span.end;
    }
    out.push_str(&text[at..]);
    write_stdout(out.as_bytes(), "the file")
}

/// A string that looks sealed: its span (quotes included), its text, and its place when it is a
/// key of a named profile.
type Found = (Range<usize>, String, Option<Place>);

/// Every string of the file that looks sealed: its span (quotes included), its text, and its
/// place when it is a key of a named profile. `None` when the text is not TOML.
fn sealed_values(text: &str) -> Option<Vec<Found>> {
    fn walk(table: &dyn TableLike, profile: Option<&str>, prefix: &str, out: &mut Vec<Found>) {
        for (key, item) in table.iter() {
            let dotted = format!("{prefix}{key}");
            let top_profiles =
                profile.is_none() && prefix.is_empty() && key.eq_ignore_ascii_case("profile");
            match item {
                Item::ArrayOfTables(array) if top_profiles => {
                    for table in array.iter() {
                        walk(table, Some(name_of(table)), "", out);
                    }
                }
                Item::Value(Value::Array(array)) if top_profiles => {
                    for value in array.iter() {
                        match value.as_inline_table() {
                            Some(table) => walk(table, Some(name_of(table)), "", out),
                            None => string(value, None, out),
                        }
                    }
                }
                Item::Table(inner) => walk(inner, profile, &format!("{dotted}."), out),
                Item::ArrayOfTables(array) => {
                    for inner in array.iter() {
                        walk(inner, None, &format!("{dotted}."), out);
                    }
                }
                Item::Value(Value::InlineTable(inner)) => {
                    walk(inner, profile, &format!("{dotted}."), out);
                }
                Item::Value(value) => {
                    let place = profile.map(|profile| Place::new(profile, dotted.as_str()));
                    string(value, place, out);
                }
                Item::None => {}
            }
        }
    }
    fn string(value: &Value, place: Option<Place>, out: &mut Vec<Found>) {
        match value {
            Value::String(text) if looks_sealed(text.value()) => {
                if let Some(span) = text.span() {
                    out.push((span, text.value().to_owned(), place));
                }
            }
            Value::Array(array) => array.iter().for_each(|value| string(value, None, out)),
            Value::InlineTable(table) => {
                for (_, value) in table.iter() {
                    string(value, None, out);
                }
            }
            _ => {}
        }
    }
    fn name_of(table: &dyn TableLike) -> &str {
        table
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("name"))
            .and_then(|(_, item)| item.as_str())
            .unwrap_or("")
    }
    let document = Document::parse(text).ok()?;
    let mut out = Vec::new();
    walk(document.as_table(), None, "", &mut out);
    out.sort_by_key(|(span, _, _)| span.start);
    Some(out)
}

/// What a reviewer needs of a sealed value, from what is in clear: the same value, the same text.
fn summary(value: &str, recipients: &[String]) -> String {
    let sealed = match SealedValue::parse(value) {
        Ok(sealed) => sealed,
        Err(error) => return format!("malformed ({error})"),
    };
    let mut parts = vec![sealed.backend.to_string()];
    if !sealed.backend.is_known() {
        parts[0].push_str(" (a backend this sealctl does not know)");
    }
    if let Some(reference) = sealed.keyring_ref() {
        parts[0].push_str(&format!(" in {}", reference.store));
    }
    if let Some(host) = sealed.param("host") {
        parts.push(format!("on host {host}"));
    }
    match sealed.recipients_fingerprint() {
        Some(r) if !recipients.is_empty() && recipients_fingerprint(recipients) == r => {
            parts.push(format!("{} (r={r})", plural(recipients.len(), "recipient")));
        }
        Some(r) => parts.push(format!("recipients changed since (r={r})")),
        None => {}
    }
    match sealed.endpoint_digest() {
        Some(ep) => parts.push(format!("ep={ep}")),
        None => parts.push("not bound to an endpoint".to_owned()),
    }
    if let Some(expiry) = sealed.param("exp") {
        let day = expiry.strip_suffix("T00:00:00Z").unwrap_or(expiry);
        parts.push(format!("expires {day}"));
    }
    if let Some(id) = sealed.param("id") {
        parts.push(format!("id={id}"));
    }
    parts.join(", ")
}

/// Tags secrets with a key derived from the reader's identities, opening each value.
struct Tagger {
    opener: target::Opener,
    /// `None` when no identity was found: nothing can be tagged.
    key: Option<Zeroizing<[u8; 32]>>,
}

impl Tagger {
    fn new(global: &GlobalArgs, path: &Path) -> Tagger {
        Tagger {
            opener: target::Opener::new(global, path),
            key: tag_key(&IdentitySource::discover_from_env(&global.identity)),
        }
    }

    /// `secret #…`, or why there is none. Never the secret.
    fn tag(&mut self, value: &str, place: Option<&Place>) -> String {
        let (Some(key), Some(place)) = (&self.key, place) else {
            return "secret not opened".to_owned();
        };
        let Ok(sealed) = SealedValue::parse(value) else {
            return "secret not opened".to_owned();
        };
        // A value kept outside the file (a keyring entry, a KV secret) opens to what is kept
        // there now, the same for every revision of the file: a tag would say "unchanged" of
        // any change.
        if let Ok(kept) = Destination::of(&sealed)
            && kept.backend().kept_in(kept.store()).is_some()
        {
            return "secret kept outside the file, not compared".to_owned();
        }
        let Ok(envelope) = self.opener.open_envelope(&sealed, place) else {
            return "secret not opened".to_owned();
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key[..]).expect("HMAC takes any key");
        for part in [place.profile.as_str(), place.key.as_str()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(envelope.secret.expose_secret().as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("secret #{}", &hex[..TAG_DIGITS])
    }
}

/// The tag key: HMAC-SHA-256 under [`TAG_CONTEXT`] of the identities' own text (files as
/// stored, `SEALCTL_IDENTITY` as given), each with its length. Only their holder can compute it.
fn tag_key(sources: &[IdentitySource]) -> Option<Zeroizing<[u8; 32]>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(TAG_CONTEXT).expect("HMAC takes any key");
    let mut any = false;
    for source in sources {
        let bytes = match source {
            IdentitySource::File(path) => match std::fs::read(path) {
                Ok(bytes) => Zeroizing::new(bytes),
                Err(_) => continue,
            },
            IdentitySource::Environment(text) => {
                Zeroizing::new(text.expose_secret().as_bytes().to_vec())
            }
        };
        mac.update(&(bytes.len() as u64).to_be_bytes());
        mac.update(&bytes);
        any = true;
    }
    any.then(|| Zeroizing::new(mac.finalize().into_bytes().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_what_is_in_clear_and_is_stable() {
        let recipients =
            vec!["age1umu9adwafhua9ax58k3pe3k9qurg49mmwlczxyddjtrlm5jv0fzsw87gsg".to_owned()];
        // Two ciphertexts: base64 of two age files.
        let (one, another) = (
            "YWdlLWVuY3J5cHRpb24ub3JnL3YxCmFiYw==",
            "YWdlLWVuY3J5cHRpb24ub3JnL3YxCnh5eg==",
        );
        let value = format!("sealctl:v1:age:{one};r=4ebd1b38;ep=aa02797f;exp=2027-06-30T00:00:00Z");
        let value = value.as_str();
        let shown = summary(value, &recipients);
        assert_eq!(
            shown,
            "age, 1 recipient (r=4ebd1b38), ep=aa02797f, expires 2027-06-30"
        );
        // Another ciphertext of the same sealing reads the same.
        assert_eq!(summary(&value.replace(one, another), &recipients), shown);
        assert_eq!(
            summary(value, &[]),
            "age, recipients changed since (r=4ebd1b38), ep=aa02797f, expires 2027-06-30"
        );
        // A value that does not parse says so, and shows nothing of itself.
        assert_eq!(
            summary("sealctl:v1:age:YWJj", &recipients),
            "malformed (the age payload does not decode to an age file)"
        );
        assert_eq!(
            summary(
                "sealctl:v1:keyring:secret-service/0f1e2d3c4b5a69788796a5b4c3d2e1f0;host=laptop",
                &[]
            ),
            "keyring in secret-service, on host laptop, not bound to an endpoint"
        );
    }

    #[test]
    fn sealed_values_are_found_with_their_places() {
        let text = "[[profile]]\n  name = \"p\"\n  mgmt_token = \"sealctl:v1:age:YWJj\"\n  [profile.auth]\n    token = \"sealctl:v1:age:eHl6\"\n[other]\nx = \"sealctl:v1:age:cXJz\"\n";
        let found = sealed_values(text).unwrap();
        let places: Vec<Option<String>> = found
            .iter()
            .map(|(_, _, place)| place.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            places,
            [
                Some("profile `p` key `mgmt_token`".to_owned()),
                Some("profile `p` key `auth.token`".to_owned()),
                None
            ]
        );
        assert_eq!(&text[found[0].0.clone()], "\"sealctl:v1:age:YWJj\"");
        assert!(sealed_values("not [toml").is_none());
    }
}
