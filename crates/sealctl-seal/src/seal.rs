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
use crate::identity::{Entry, Identities};
use crate::passphrase::Locked;
use crate::plugin::{Asker, SessionError, Unanswered};
use crate::recipient::Recipient;
use age_core::format::{FileKey, Stanza};

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
    let asker = Asker::default();
    let plugins = recipient_plugins(recipients, &asker)?;
    let encryptor = age::Encryptor::with_recipients(
        recipients
            .iter()
            .filter_map(Recipient::as_age)
            .chain(plugins.iter().map(|plugin| plugin as &dyn age::Recipient)),
    )
    .map_err(|error| match error {
        age::EncryptError::IncompatibleRecipients { .. } => SealError::IncompatibleRecipients,
        age::EncryptError::Plugin(errors) => match asker.unanswered() {
            Some(Unanswered::NoTerminal(asked) | Unanswered::Cancelled(asked)) => {
                SealError::PluginUnanswered(
                    sealctl_profile::terminal::visible_message(&asked).into_owned(),
                )
            }
            None => SealError::Plugin(
                errors
                    .iter()
                    .map(|error| {
                        sealctl_profile::terminal::visible_message(&error.to_string()).into_owned()
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        },
        other => SealError::Encrypt(std::io::Error::other(other.to_string())),
    })?;
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

/// One age plugin for each plugin the recipients name, each with its recipients; a plugin that
/// is not installed is an error naming it, before anything is sealed.
fn recipient_plugins(
    recipients: &[Recipient],
    asker: &Asker,
) -> Result<Vec<age::plugin::RecipientPluginV1<Asker>>, SealError> {
    let of_plugins: Vec<age::plugin::Recipient> = recipients
        .iter()
        .filter_map(|recipient| match recipient {
            Recipient::Plugin(recipient) => Some(recipient.clone()),
            _ => None,
        })
        .collect();
    let mut seen = Vec::new();
    let mut plugins = Vec::new();
    for name in of_plugins.iter().map(age::plugin::Recipient::plugin) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let plugin = age::plugin::RecipientPluginV1::new(name, &of_plugins, &[], asker.clone())
            .map_err(|_| SealError::MissingPlugin(crate::plugin::binary_name(name)))?;
        plugins.push(plugin);
    }
    Ok(plugins)
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
    decrypt_many(&[sealed], identities)
        .pop()
        .expect("one result for one value")
}

/// A value being opened: its ciphertext, its stanzas, and what each identity said of it.
struct Pending {
    ciphertext: Vec<u8>,
    stanzas: Vec<Stanza>,
    file_key: Option<Zeroizing<[u8; 16]>>,
    /// What the first native identity that failed said (not "not mine").
    native_error: Option<age::DecryptError>,
    /// What a plugin said, as (`age-plugin-<name>`, its words).
    plugin_error: Option<(String, String)>,
    /// A plugin that could not be started because it is not installed.
    missing_plugin: Option<String>,
    /// A plugin's request no one could answer, as (`age-plugin-<name>`, what).
    unanswered: Option<(String, Unanswered)>,
}

/// Decrypts age values into their envelopes, judging nothing of where they belong, each result
/// in the order of `values`. Identities are tried in the order they were found; the identities of
/// one plugin are tried in one plugin session for every value still unopened, so a hardware key
/// asks once (a PIN, a touch) however many values it opens. A plugin that fails (its device is
/// absent) or is not installed does not stop the next identities from being tried.
pub(crate) fn decrypt_many(
    values: &[&SealedValue],
    identities: &Identities,
) -> Vec<Result<Envelope, OpenError>> {
    let mut results: Vec<Option<Result<Envelope, OpenError>>> = Vec::new();
    let mut pending: Vec<(usize, Pending)> = Vec::new();
    for (index, sealed) in values.iter().enumerate() {
        match start_opening(sealed, identities) {
            Ok(opening) => {
                pending.push((index, opening));
                results.push(None);
            }
            Err(error) => results.push(Some(Err(error))),
        }
    }
    let asker = Asker::default();
    for entry in identities.entries() {
        let unopened: Vec<usize> = (0..pending.len())
            .filter(|&at| pending[at].1.file_key.is_none())
            .collect();
        if unopened.is_empty() {
            break;
        }
        match entry {
            Entry::Native(identity) => {
                for &at in &unopened {
                    let opening = &mut pending[at].1;
                    match identity.unwrap_stanzas(&opening.stanzas) {
                        Some(Ok(key)) => {
                            opening.file_key = Some(Zeroizing::new(*key.expose_secret()));
                        }
                        Some(Err(error)) => {
                            opening.native_error.get_or_insert(error);
                        }
                        None => {}
                    }
                }
            }
            Entry::Plugin { name, identities } => {
                let files: Vec<Vec<Stanza>> = unopened
                    .iter()
                    .map(|&at| pending[at].1.stanzas.iter().map(copy_stanza).collect())
                    .collect();
                let binary = crate::plugin::binary_name(name);
                match crate::plugin::unwrap_in_one_session(name, identities, &files, &asker) {
                    Ok(unwrapped) => {
                        for (file, key) in unwrapped.keys.into_iter().enumerate() {
                            let opening = &mut pending[unopened[file]].1;
                            match key {
                                Some(key) => {
                                    opening.file_key = Some(Zeroizing::new(*key.expose_secret()));
                                }
                                None => {
                                    if let Some(error) = unwrapped.errors.first() {
                                        opening
                                            .plugin_error
                                            .get_or_insert((binary.clone(), error.clone()));
                                    }
                                }
                            }
                        }
                    }
                    Err(SessionError::Missing) => {
                        for &at in &unopened {
                            pending[at].1.missing_plugin.get_or_insert(binary.clone());
                        }
                    }
                    Err(SessionError::Failed(why)) => {
                        for &at in &unopened {
                            pending[at]
                                .1
                                .plugin_error
                                .get_or_insert((binary.clone(), why.clone()));
                        }
                    }
                }
                if let Some(what) = asker.unanswered() {
                    for &at in &unopened {
                        pending[at]
                            .1
                            .unanswered
                            .get_or_insert((binary.clone(), what.clone()));
                    }
                }
            }
        }
    }
    for (index, opening) in pending {
        results[index] = Some(finish_opening(opening, identities));
    }
    results
        .into_iter()
        .map(|result| result.expect("every value has its result"))
        .collect()
}

/// A copy of a stanza (age-core's has no `Clone`).
fn copy_stanza(stanza: &Stanza) -> Stanza {
    Stanza {
        tag: stanza.tag.clone(),
        args: stanza.args.clone(),
        body: stanza.body.clone(),
    }
}

/// An identity that opens nothing and keeps the stanzas it was shown: how the header of an age
/// value is read with age's own parser.
#[derive(Default)]
struct StanzaCollector(std::sync::Mutex<Vec<Stanza>>);

impl age::Identity for StanzaCollector {
    fn unwrap_stanza(&self, _: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        None
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(stanzas.iter().map(copy_stanza));
        None
    }
}

/// An identity that knows the file key of one value, unwrapped beforehand.
struct KnownFileKey(Zeroizing<[u8; 16]>);

impl age::Identity for KnownFileKey {
    fn unwrap_stanza(&self, _: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        Some(Ok(FileKey::init_with_mut(|key| {
            key.copy_from_slice(&self.0[..]);
        })))
    }
}

/// The ciphertext and stanzas of an age value, read with age's own parser.
fn start_opening(sealed: &SealedValue, identities: &Identities) -> Result<Pending, OpenError> {
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
    let collector = StanzaCollector::default();
    // It opens nothing: the stanzas are what it is for.
    let _ = decryptor.decrypt(std::iter::once(&collector as &dyn age::Identity));
    let stanzas = collector
        .0
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(Pending {
        ciphertext,
        stanzas,
        file_key: None,
        native_error: None,
        plugin_error: None,
        missing_plugin: None,
        unanswered: None,
    })
}

/// The envelope of a value whose file key was found, or why none was.
fn finish_opening(opening: Pending, identities: &Identities) -> Result<Envelope, OpenError> {
    let Some(file_key) = opening.file_key else {
        return Err(why_unopened(opening, identities));
    };
    let decryptor = age::Decryptor::new(&opening.ciphertext[..])
        .map_err(|error| OpenError::Damaged(error.to_string()))?;
    let known = KnownFileKey(file_key);
    let mut reader = decryptor
        .decrypt(std::iter::once(&known as &dyn age::Identity))
        .map_err(|error| OpenError::Damaged(error.to_string()))?;
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

/// Why no identity opened a value: a protected identity that stayed locked, then a plugin's
/// request no one could answer, what a plugin said, a plugin not installed, and only then what
/// age said of the value.
fn why_unopened(opening: Pending, identities: &Identities) -> OpenError {
    let native = opening
        .native_error
        .unwrap_or(age::DecryptError::NoMatchingKeys);
    match (native, identities.locked()) {
        (
            age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::ExcessiveWork { .. },
            Some((source, why)),
        ) => locked_error(source, why),
        _ if opening.unanswered.is_some() => {
            let (plugin, what) = opening.unanswered.expect("checked");
            match what {
                Unanswered::NoTerminal(asked) => OpenError::PluginNoTerminal {
                    plugin,
                    asked: sealctl_profile::terminal::visible_message(&asked).into_owned(),
                },
                Unanswered::Cancelled(asked) => OpenError::PluginCancelled {
                    plugin,
                    asked: sealctl_profile::terminal::visible_message(&asked).into_owned(),
                },
            }
        }
        _ if opening.plugin_error.is_some() => {
            let (plugin, said) = opening.plugin_error.expect("checked");
            OpenError::Plugin { plugin, said }
        }
        _ if opening.missing_plugin.is_some() => {
            OpenError::MissingPlugin(opening.missing_plugin.expect("checked"))
        }
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
        let encryptor = age::Encryptor::with_recipients(recipient.as_age().into_iter()).unwrap();
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

    /// A valid `age1tag1…` recipient: P-256's generator, compressed.
    const TAG: &str = "age1tag1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvt5hxye";

    /// A valid `age1tagpq1…` recipient: an all-zero ML-KEM-768 key and P-256's generator.
    const TAG_PQ: &str = "age1tagpq1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqydvtaruhp93py079uumjk8fzq7fmsxlvp9h4n8g855yu5tkycc2tylc6zutlp5lum3mn7kjnup70pv27wxdtkkv27em9mvsrgx7l4rag8q3agq";

    #[test]
    fn tagged_recipients_are_sealed_to_natively_and_post_quantum_ones_alone() {
        let place = Place::new("p", "token");
        let token = SecretString::from("t");
        let (_, x25519) = identity();
        let tag: Recipient = TAG.parse().unwrap();
        let pq: Recipient = TAG_PQ.parse().unwrap();
        assert!(pq.is_post_quantum() && pq.post_quantum_only());
        assert!(seal(&token, &place, &prod(), &[tag, x25519.clone()], None).is_ok());
        assert!(seal(&token, &place, &prod(), std::slice::from_ref(&pq), None).is_ok());
        assert!(matches!(
            seal(&token, &place, &prod(), &[pq, x25519], None),
            Err(SealError::IncompatibleRecipients)
        ));
    }

    /// The identity text of a plugin that is not installed anywhere.
    fn missing_plugin_identity() -> String {
        age::plugin::Identity::default_for_plugin("sealctl-test-absent")
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_plugin_that_is_not_installed_does_not_stop_the_next_identity() {
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
        // The plugin's identity first, as in a mixed identity file.
        let mixed = SecretString::from(format!(
            "# a hardware key\n{}\n{}\n",
            missing_plugin_identity(),
            key.expose_secret()
        ));
        let opened = open(&value, &place, &prod(), &identities(&mixed)).unwrap();
        assert_eq!(opened.expose_secret(), "t");
        // Alone, it names the program to install.
        let alone = SecretString::from(missing_plugin_identity());
        let error = open(&value, &place, &prod(), &identities(&alone)).unwrap_err();
        assert!(
            matches!(&error, OpenError::MissingPlugin(name) if name == "age-plugin-sealctl-test-absent"),
            "{error}"
        );
    }

    #[test]
    fn sealing_to_a_plugin_that_is_not_installed_names_it() {
        let recipient: Recipient =
            "age1sealctl-test-absent1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0spkjd89"
                .parse()
                .unwrap();
        let (_, mine) = identity();
        let error = seal(
            &SecretString::from("t"),
            &Place::new("p", "token"),
            &prod(),
            &[mine, recipient],
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&error, SealError::MissingPlugin(name) if name == "age-plugin-sealctl-test-absent"),
            "{error}"
        );
    }

    #[test]
    fn identity_lines_sealctl_cannot_use_are_skipped_and_named_by_number() {
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
        let text = SecretString::from(format!(
            "AGE-SECRET-KEY-PQ-1QQQQ\nnot a key\n{}\n",
            key.expose_secret()
        ));
        let loaded = identities(&text);
        assert_eq!(loaded.skipped().len(), 2, "{:?}", loaded.skipped());
        assert!(loaded.skipped()[0].contains("line 1"));
        assert!(loaded.skipped()[1].contains("line 2: not an age identity"));
        assert!(loaded.skipped().iter().all(|note| !note.contains("QQQQ")));
        assert_eq!(
            open(&value, &place, &prod(), &loaded)
                .unwrap()
                .expose_secret(),
            "t"
        );
    }
}
