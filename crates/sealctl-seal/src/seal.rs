//! Sealing a token to recipients, and opening it with an identity.

use std::io::{Read as _, Write as _};
use std::time::SystemTime;

use base64::Engine as _;
use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::{self, RECIPIENTS_PARAM, SealedValue, recipients_fingerprint};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::envelope::{Envelope, Place};
use crate::error::{OpenError, SealError, TokenError};
use crate::identity::Identities;
use crate::passphrase::Locked;
use crate::recipient::Recipient;

/// The longest envelope sealctl opens: far more than any token needs, small enough that a
/// damaged or hostile value cannot make it allocate much.
pub const SEALED_VALUE_LIMIT: usize = 64 * 1024;

/// The longest token sealctl seals.
const TOKEN_LIMIT: usize = 16 * 1024;

/// Checks that a token can be sealed: not empty, not too long, and without a line break, NUL or
/// other control character (a sign of a broken paste, or of two tokens).
pub fn validate_token(token: &SecretString) -> Result<(), TokenError> {
    let token = token.expose_secret();
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > TOKEN_LIMIT {
        return Err(TokenError::TooLong(token.len()));
    }
    match token.chars().find(|c| c.is_control()) {
        Some('\n' | '\r') => Err(TokenError::ControlCharacter("line break")),
        Some('\0') => Err(TokenError::ControlCharacter("NUL byte")),
        Some(_) => Err(TokenError::ControlCharacter("control character")),
        None => Ok(()),
    }
}

/// Seals `secret` for `place`, bound to `endpoint`, to `recipients`, returning the sealed value
/// to write in its place. Needs no identity.
pub fn seal(
    secret: &SecretString,
    place: &Place,
    endpoint: &Endpoint,
    recipients: &[Recipient],
    expires_at: Option<SystemTime>,
) -> Result<String, SealError> {
    let envelope = Envelope::sealing(secret, place, endpoint)?;
    seal_envelope(&envelope, recipients, expires_at)
}

/// Seals `envelope` to `recipients`: the `age` backend's sealing.
pub(crate) fn seal_envelope(
    envelope: &Envelope,
    recipients: &[Recipient],
    expires_at: Option<SystemTime>,
) -> Result<String, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(Recipient::as_age))
        .map_err(|error| SealError::Encrypt(std::io::Error::other(error.to_string())))?;
    let mut ciphertext = Vec::with_capacity(512);
    let mut writer = encryptor
        .wrap_output(&mut ciphertext)
        .map_err(SealError::Encrypt)?;
    writer
        .write_all(&envelope.to_bytes())
        .map_err(SealError::Encrypt)?;
    writer.finish().map_err(SealError::Encrypt)?;

    let names: Vec<String> = recipients.iter().map(ToString::to_string).collect();
    Ok(envelope.framed(
        sealed::age::NAME,
        base64::engine::general_purpose::STANDARD.encode(&ciphertext),
        vec![(RECIPIENTS_PARAM.to_owned(), recipients_fingerprint(&names))],
        expires_at,
    ))
}

/// Opens a sealed value found at `place`, whose profile now points at `endpoint`, with any of
/// `identities`. Refuses a value sealed for another place or another endpoint, naming both. A
/// value sealed by an earlier sealctl, bound to no endpoint, opens.
pub fn open(
    value: &str,
    place: &Place,
    endpoint: &Endpoint,
    identities: &Identities,
) -> Result<SecretString, OpenError> {
    let sealed = SealedValue::parse(value)?;
    let envelope = decrypt(&sealed, identities)?;
    Ok(envelope.bound_to(&sealed, place, Some(endpoint))?.secret)
}

/// Opens a sealed value found at `place` without judging the endpoint it is bound to, and
/// returns its whole envelope: for re-sealing it to its profile's current endpoint (`rekey
/// --rebind`), which is the one way to move a token to another endpoint. Still refuses a value
/// sealed for another place.
pub fn open_envelope(
    value: &str,
    place: &Place,
    identities: &Identities,
) -> Result<Envelope, OpenError> {
    let sealed = SealedValue::parse(value)?;
    decrypt(&sealed, identities)?.bound_to(&sealed, place, None)
}

/// Decrypts an age value into its envelope, judging nothing of where it belongs: the `age`
/// backend's opening.
pub(crate) fn decrypt(
    sealed: &SealedValue,
    identities: &Identities,
) -> Result<Envelope, OpenError> {
    if sealed.backend != *sealed::age::NAME {
        return Err(OpenError::OtherBackend(sealed.backend.clone()));
    }
    if identities.is_empty() {
        return Err(OpenError::NoIdentity);
    }
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(&sealed.payload)
        .map_err(|_| OpenError::Damaged("not base64".to_owned()))?;
    let decryptor = age::Decryptor::new(&ciphertext[..])
        .map_err(|error| OpenError::Damaged(error.to_string()))?;
    let mut reader = decryptor.decrypt(identities.iter()).map_err(|error| {
        match (error, identities.locked()) {
            // A protected identity that stayed locked is why, before "none can open it".
            (
                age::DecryptError::NoMatchingKeys
                | age::DecryptError::KeyDecryptionFailed
                | age::DecryptError::ExcessiveWork { .. },
                Some((source, why)),
            ) => locked_error(source, why),
            (age::DecryptError::NoMatchingKeys, None) => OpenError::NoMatchingIdentity(
                identities
                    .sources()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (age::DecryptError::KeyDecryptionFailed, None) => OpenError::IdentityLocked,
            (other, _) => OpenError::Damaged(other.to_string()),
        }
    })?;
    // Sized once, so that no partial copy of the secret is left behind by a reallocation.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(SEALED_VALUE_LIMIT + 1));
    (&mut reader)
        .take(SEALED_VALUE_LIMIT as u64 + 1)
        .read_to_end(&mut plaintext)
        .map_err(|error| OpenError::Damaged(error.to_string()))?;
    if plaintext.len() > SEALED_VALUE_LIMIT {
        return Err(OpenError::NotAnEnvelope);
    }
    Envelope::from_bytes(&plaintext).ok_or(OpenError::NotAnEnvelope)
}

/// Why a protected identity stayed locked, as an error that says what happened.
fn locked_error(source: &str, why: Locked) -> OpenError {
    let source = source.to_owned();
    match why {
        Locked::WrongPassphrase => OpenError::WrongPassphrase(source),
        Locked::Cancelled => OpenError::PassphraseCancelled(source),
        Locked::NoTerminal => OpenError::NoTerminal(source),
        Locked::PromptFailed => OpenError::PromptFailed(source),
        Locked::TooMuchWork { required, target } => OpenError::TooMuchWork {
            identity: source,
            required,
            target,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentitySource;
    use sealctl_profile::sealed::ENDPOINT_PARAM;

    fn identity() -> (SecretString, Recipient) {
        let identity = age::x25519::Identity::generate();
        let recipient = Recipient::X25519(identity.to_public());
        (
            SecretString::from(identity.to_string().expose_secret().to_owned()),
            recipient,
        )
    }

    fn identities(text: &SecretString) -> Identities {
        Identities::load(vec![IdentitySource::Environment(text.clone())]).unwrap()
    }

    fn at(host: &str) -> Endpoint {
        Endpoint::from_fields(|key| match key {
            "product" => Some("clustered"),
            "host" => Some(host),
            _ => None,
        })
    }

    fn prod() -> Endpoint {
        at("prod.example.com")
    }

    #[test]
    fn sealed_values_open_only_where_they_were_sealed() {
        let (key, recipient) = identity();
        let place = Place::new("prod", "mgmt_token");
        let token = SecretString::from("apiv3_abc");
        let value = seal(&token, &place, &prod(), &[recipient], None).unwrap();
        assert!(value.starts_with("sealctl:v1:age:"));
        assert!(!value.contains("apiv3"));
        let opened = open(&value, &place, &prod(), &identities(&key)).unwrap();
        assert_eq!(opened.expose_secret(), "apiv3_abc");
        let moved = open(
            &value,
            &Place::new("staging", "mgmt_token"),
            &prod(),
            &identities(&key),
        )
        .unwrap_err();
        assert_eq!(
            moved.to_string(),
            "this value was sealed for profile `prod` key `mgmt_token`, but it is in profile `staging` key `mgmt_token`"
        );
    }

    #[test]
    fn each_recipient_alone_opens_it() {
        let keys: Vec<_> = (0..3).map(|_| identity()).collect();
        let recipients: Vec<Recipient> = keys.iter().map(|(_, r)| r.clone()).collect();
        let place = Place::new("p", "token");
        let value = seal(&SecretString::from("t"), &place, &prod(), &recipients, None).unwrap();
        for (key, _) in &keys {
            assert_eq!(
                open(&value, &place, &prod(), &identities(key))
                    .unwrap()
                    .expose_secret(),
                "t"
            );
        }
        let (stranger, _) = identity();
        assert!(matches!(
            open(&value, &place, &prod(), &identities(&stranger)),
            Err(OpenError::NoMatchingIdentity(_))
        ));
    }

    #[test]
    fn damaged_values_are_refused() {
        let (key, recipient) = identity();
        let place = Place::new("p", "token");
        let value = seal(
            &SecretString::from("t"),
            &place,
            &prod(),
            &[recipient],
            None,
        )
        .unwrap();
        let payload = SealedValue::parse(&value).unwrap().payload;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&payload)
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let flipped = value.replace(
            &payload,
            &base64::engine::general_purpose::STANDARD.encode(&bytes),
        );
        assert!(matches!(
            open(&flipped, &place, &prod(), &identities(&key)),
            Err(OpenError::Damaged(_))
        ));
        bytes.truncate(bytes.len() - 20);
        let truncated = value.replace(
            &payload,
            &base64::engine::general_purpose::STANDARD.encode(&bytes),
        );
        assert!(matches!(
            open(&truncated, &place, &prod(), &identities(&key)),
            Err(OpenError::Damaged(_))
        ));
    }

    #[test]
    fn expiry_and_fingerprint_are_recorded() {
        let (_, recipient) = identity();
        let expiry = humantime::parse_rfc3339("2027-03-01T12:00:00Z").unwrap();
        let value = seal(
            &SecretString::from("t"),
            &Place::new("p", "token"),
            &prod(),
            std::slice::from_ref(&recipient),
            Some(expiry),
        )
        .unwrap();
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.expires_at(), Some(expiry));
        assert_eq!(
            sealed.recipients_fingerprint(),
            Some(recipients_fingerprint(&[recipient.to_string()]).as_str())
        );
    }

    #[test]
    fn unsealable_tokens_are_named_without_their_value() {
        let (_, recipient) = identity();
        let place = Place::new("p", "token");
        for (token, expected) in [
            ("", "the token is empty"),
            (
                "abc\ndef",
                "the token holds a line break, which no influxctl token has",
            ),
            (
                "abc\0def",
                "the token holds a NUL byte, which no influxctl token has",
            ),
        ] {
            let error = seal(
                &SecretString::from(token),
                &place,
                &prod(),
                std::slice::from_ref(&recipient),
                None,
            )
            .unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }

    /// The envelope of `value` sealed again with `bytes` inside, as the reference age would.
    fn with_envelope(value: &str, recipient: &Recipient, bytes: &[u8]) -> String {
        let sealed = SealedValue::parse(value).unwrap();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient.as_age())).unwrap();
        let mut ciphertext = Vec::new();
        let mut writer = encryptor.wrap_output(&mut ciphertext).unwrap();
        writer.write_all(bytes).unwrap();
        writer.finish().unwrap();
        SealedValue {
            payload: base64::engine::general_purpose::STANDARD.encode(&ciphertext),
            ..sealed
        }
        .to_string()
    }

    fn without_param(value: &str, name: &str) -> String {
        let mut sealed = SealedValue::parse(value).unwrap();
        sealed.params.retain(|(key, _)| key != name);
        sealed.to_string()
    }

    fn with_param(value: &str, name: &str, new: &str) -> String {
        let mut sealed = SealedValue::parse(value).unwrap();
        sealed.params.retain(|(key, _)| key != name);
        sealed.params.push((name.to_owned(), new.to_owned()));
        sealed.to_string()
    }

    #[test]
    fn sealed_values_open_only_for_the_endpoint_they_were_sealed_for() {
        let (key, recipient) = identity();
        let place = Place::new("prod", "mgmt_token");
        let value = seal(
            &SecretString::from("t"),
            &place,
            &prod(),
            &[recipient],
            None,
        )
        .unwrap();
        assert_eq!(
            SealedValue::parse(&value).unwrap().endpoint_digest(),
            Some(prod().digest().as_str())
        );
        // Spellings influxctl treats alike are the same endpoint.
        assert!(open(&value, &place, &at("PROD.example.COM"), &identities(&key)).is_ok());
        let moved = open(&value, &place, &at("evil.example.com"), &identities(&key)).unwrap_err();
        assert_eq!(
            moved.to_string(),
            "profile `prod` key `mgmt_token` was sealed for clustered prod.example.com:443, but the profile now points at clustered evil.example.com:443"
        );
        // The clear digest changed to match the new host: what is sealed inside decides.
        let forged = with_param(&value, ENDPOINT_PARAM, &at("evil.example.com").digest());
        assert!(matches!(
            open(&forged, &place, &at("evil.example.com"), &identities(&key)),
            Err(OpenError::EndpointChanged { .. })
        ));
        // The clear digest removed: still bound.
        let stripped = without_param(&value, ENDPOINT_PARAM);
        assert!(matches!(
            open(
                &stripped,
                &place,
                &at("evil.example.com"),
                &identities(&key)
            ),
            Err(OpenError::EndpointChanged { .. })
        ));
        assert!(open(&stripped, &place, &prod(), &identities(&key)).is_ok());
        // The clear digest edited alone: `check` would report it, so opening refuses too.
        assert!(matches!(
            open(&forged, &place, &prod(), &identities(&key)),
            Err(OpenError::EndpointEdited {
                sealed_for: Some(_),
                ..
            })
        ));
        // For re-binding: the envelope, whatever the endpoint, but only in its place.
        let envelope = open_envelope(&forged, &place, &identities(&key)).unwrap();
        assert_eq!(envelope.endpoint, Some(prod()));
        assert!(matches!(
            open_envelope(&value, &Place::new("dev", "mgmt_token"), &identities(&key)),
            Err(OpenError::Misplaced { .. })
        ));
    }

    #[test]
    fn version_1_values_open_unbound_unless_they_claim_a_binding() {
        let (key, recipient) = identity();
        let place = Place::new("prod", "mgmt_token");
        let bound = seal(
            &SecretString::from("t"),
            &place,
            &prod(),
            std::slice::from_ref(&recipient),
            None,
        )
        .unwrap();
        let v1 = br#"{"v":1,"profile":"prod","key":"mgmt_token","secret":"t"}"#;
        let unbound = without_param(&with_envelope(&bound, &recipient, v1), ENDPOINT_PARAM);
        let opened = open(&unbound, &place, &at("anywhere.example"), &identities(&key)).unwrap();
        assert_eq!(opened.expose_secret(), "t");
        // An old value put back with a forged `ep=` to pass `check` quietly.
        let claimed = with_param(&unbound, ENDPOINT_PARAM, &prod().digest());
        let error = open(&claimed, &place, &prod(), &identities(&key)).unwrap_err();
        assert!(matches!(
            error,
            OpenError::EndpointEdited {
                sealed_for: None,
                ..
            }
        ));
        assert!(
            error.to_string().contains("not bound to any endpoint"),
            "{error}"
        );
        // A version 2 envelope that names no endpoint is not an envelope.
        let v2 = br#"{"v":2,"profile":"prod","key":"mgmt_token","secret":"t"}"#;
        assert!(matches!(
            open(
                &with_envelope(&bound, &recipient, v2),
                &place,
                &prod(),
                &identities(&key)
            ),
            Err(OpenError::NotAnEnvelope)
        ));
    }
}
