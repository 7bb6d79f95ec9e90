//! The framing of a sealed value, as far as it can be read without any key.
//!
//! A sealed value replaces a secret in place, as one TOML string:
//!
//! ```text
//! sealctl:v1:<backend>:<payload>[;<name>=<value>]...
//! ```
//!
//! `v1` is the format version, `<backend>` names who can open it (`age` or `keyring` today; the
//! name is open, so that a value of a backend a newer sealctl adds still parses), `<payload>`
//! is the backend's ciphertext or reference, and the optional `;name=value` parameters carry
//! non-secret metadata in clear: `r`, the [fingerprint](recipients_fingerprint) of the recipients
//! it was sealed to, `exp`, the token's expiry (RFC 3339, UTC), `host`, the machine whose
//! keyring holds a `keyring` value, and `ep`, the [digest](crate::endpoint::Endpoint::digest) of
//! the endpoint the value is bound to. For `age`, the payload is a binary age file in standard base64
//! (with padding), so `base64 -d | age -d` opens it. For `keyring`, it is a [reference](KeyringRef)
//! to an entry of an OS keyring: `<store>/<entry id>`. Opening the payload is `sealctl-seal`'s
//! work; this module reads only what `check` needs, without any key or keyring. Each payload
//! grammar this version knows is one submodule ([`age`], [`keyring`]); the payload of a backend it
//! does not know is only required to be non-empty.
//! `docs/sealed-values.md` specifies the whole format.

use std::fmt;

use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

pub mod age;
pub mod keyring;
pub mod openbao;

pub use self::keyring::{ENTRY_ID_LEN, KeyringRef, KeyringStore};
pub use self::openbao::{KvRef, TransitRef};

/// What every sealed value starts with.
pub const PREFIX: &str = "sealctl:";

/// The format version this library reads and writes.
pub const VERSION: u32 = 1;

/// [`VERSION`] as written in the framing.
const VERSION_TAG: &str = "v1";

/// The parameter naming the recipients' fingerprint.
pub const RECIPIENTS_PARAM: &str = "r";

/// The parameter holding the token's expiry.
pub const EXPIRY_PARAM: &str = "exp";

/// The parameter naming the machine whose keyring holds a `keyring` value.
pub const HOST_PARAM: &str = "host";

/// The parameter holding the digest of the endpoint a value is bound to, so that `check` sees a
/// changed endpoint without any key. What is sealed inside is authoritative; this is a copy.
pub const ENDPOINT_PARAM: &str = "ep";

/// The parameter holding the id influxctl gave the token (`management list` shows it), so that
/// `token rotate` can revoke it and `token status` find it without opening the value.
pub const ID_PARAM: &str = "id";

/// The longest token id: influxctl's are UUIDs (36 characters).
pub const ID_MAX: usize = 64;

/// The parameters sealctl reads, each of which may be given once.
const READ_PARAMS: &[&str] = &[
    RECIPIENTS_PARAM,
    EXPIRY_PARAM,
    HOST_PARAM,
    ENDPOINT_PARAM,
    ID_PARAM,
];

/// The name of a backend that can hold a sealed secret, as written in the framing: a lower-case
/// ASCII letter, then up to 31 lower-case letters, digits or `-`. Any well-formed name parses, so
/// that a value of a backend this sealctl does not know (a newer sealctl's) is still read;
/// [`BackendName::is_known`] says whether this version's framing knows its payload grammar.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendName(String);

/// The longest backend name.
pub const BACKEND_NAME_MAX: usize = 32;

/// The backends whose payload grammar this version knows, each checked by its own module.
type PayloadCheck = fn(&str) -> Result<(), FramingError>;
const KNOWN_BACKENDS: &[(&str, PayloadCheck)] = &[
    (age::NAME, age::check_payload),
    (keyring::NAME, keyring::check_payload),
    (openbao::TRANSIT, openbao::check_transit),
    (openbao::KV, openbao::check_kv),
];

impl BackendName {
    /// The backend named `name`, if the name is well-formed.
    pub fn new(name: &str) -> Option<BackendName> {
        is_backend_name(name).then(|| BackendName(name.to_owned()))
    }

    /// The name as written in the framing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this version knows the backend's payload grammar (and so can judge its payload).
    pub fn is_known(&self) -> bool {
        is_known_backend(&self.0)
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for BackendName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// The names of the backends whose payload grammar this version knows.
pub fn known_backends() -> impl Iterator<Item = &'static str> {
    KNOWN_BACKENDS.iter().map(|(name, _)| *name)
}

/// Whether this version knows the payload grammar of the backend called `name`.
pub fn is_known_backend(name: &str) -> bool {
    known_backends().any(|known| known == name)
}

/// A sealed value whose framing parsed. It holds only ciphertext or a reference, never a secret,
/// so it may be printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedValue {
    /// Who can open it.
    pub backend: BackendName,
    /// The backend's payload, as written (for `age`: base64 of a binary age file).
    pub payload: String,
    /// Non-secret metadata, in the order written.
    pub params: Vec<(String, String)>,
}

/// Why a value that starts with [`PREFIX`] is not a well-formed sealed value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// No `v<N>:` after the prefix.
    MissingVersion,
    /// A version this sealctl does not read.
    UnsupportedVersion(String),
    /// No `<backend>:` after the version.
    MissingBackend,
    /// A backend name that is not a lower-case word of at most 32 letters, digits and `-`.
    BadBackendName(String),
    /// Nothing after the backend.
    EmptyPayload,
    /// A `;name=value` parameter that is not of that form.
    BadParameter(String),
    /// An age payload that is not standard base64.
    NotBase64,
    /// An age payload that decodes, but not to an age file.
    NotAgeFile,
    /// A keyring payload that is not `<store>/<entry id>`.
    BadKeyringReference,
    /// A keyring store this sealctl does not know.
    UnknownKeyringStore(String),
    /// A transit payload that is not `<mount>/<key>/vault:v<N>:<base64>`.
    BadTransitPayload,
    /// A kv payload that is not `<mount>:<path>#<field>[@<version>]`.
    BadKvReference,
    /// An `exp` parameter that is not an RFC 3339 time: the clear-text framing was damaged or
    /// edited, so the value is refused as a whole.
    BadExpiry(String),
    /// A parameter sealctl reads, given twice: which one counts would be a guess.
    DuplicateParameter(String),
    /// An `id` parameter that is not a token id (letters, digits and `-`, at most [`ID_MAX`]).
    BadId(String),
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::MissingVersion => write!(f, "no format version after `{PREFIX}`"),
            FramingError::UnsupportedVersion(version) => write!(
                f,
                "format version `{version}` is not one this sealctl reads (it reads v{VERSION})"
            ),
            FramingError::MissingBackend => f.write_str("no backend name after the version"),
            FramingError::BadBackendName(name) => write!(
                f,
                "backend name `{name}` is not a lower-case word of letters, digits and `-` (at most {BACKEND_NAME_MAX})"
            ),
            FramingError::EmptyPayload => f.write_str("the sealed payload is empty"),
            FramingError::BadParameter(name) => {
                write!(f, "parameter `{name}` is not of the form `;name=value`")
            }
            FramingError::NotBase64 => f.write_str("the age payload is not standard base64"),
            FramingError::NotAgeFile => {
                f.write_str("the age payload does not decode to an age file")
            }
            FramingError::BadKeyringReference => write!(
                f,
                "the keyring reference is not `<store>/<entry id>` with a {ENTRY_ID_LEN}-digit hexadecimal id"
            ),
            FramingError::UnknownKeyringStore(name) => {
                let known: Vec<_> = KeyringStore::ALL.iter().map(|s| s.name()).collect();
                write!(
                    f,
                    "unknown keyring store `{name}` (this sealctl knows: {})",
                    known.join(", ")
                )
            }
            FramingError::BadTransitPayload => f.write_str(
                "the transit payload is not `<mount>/<key>/vault:v<N>:<base64>` (names of letters, digits, `.`, `_` and `-`)",
            ),
            FramingError::BadKvReference => f.write_str(
                "the kv reference is not `<mount>:<path>#<field>` or `…#<field>@<version>` (names of letters, digits, `.`, `_` and `-`)",
            ),
            FramingError::BadExpiry(text) => write!(
                f,
                "its expiry `{EXPIRY_PARAM}={text}` is not an RFC 3339 time (as in 2027-01-31T00:00:00Z)"
            ),
            FramingError::DuplicateParameter(name) => {
                write!(f, "parameter `{name}` is given twice")
            }
            FramingError::BadId(text) => write!(
                f,
                "its token id `{ID_PARAM}={text}` is not an id as influxctl shows them (letters, digits and `-`, at most {ID_MAX})"
            ),
        }
    }
}

impl std::error::Error for FramingError {}

/// Reads an `exp` parameter: an RFC 3339 time. The one reading of it, for `check` and for
/// opening alike.
pub fn parse_expiry(text: &str) -> Result<SystemTime, FramingError> {
    humantime::parse_rfc3339(text).map_err(|_| FramingError::BadExpiry(short(text)))
}

/// Whether `text` is a token id as `id=` may hold it: what `management list` shows in its ID
/// column (a UUID), or any word of ASCII letters, digits and `-` up to [`ID_MAX`] long.
pub fn is_token_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= ID_MAX
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether a value claims to be sealed (and so must not be judged as plaintext).
pub fn looks_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

impl SealedValue {
    /// Parses the framing of a value that starts with [`PREFIX`].
    ///
    /// Error messages may quote the version, backend and parameter names, which are short
    /// framing tokens, but never the payload.
    pub fn parse(value: &str) -> Result<SealedValue, FramingError> {
        let framing = Framing::read(value)?;
        Ok(SealedValue {
            backend: BackendName(framing.backend.to_owned()),
            payload: framing.payload.to_owned(),
            params: framing
                .params()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        })
    }

    /// Checks the framing of a value that starts with [`PREFIX`] without keeping it: what
    /// `check` needs, for every sealed value of every file, without allocating.
    pub fn check(value: &str) -> Result<(), FramingError> {
        Framing::read(value).map(drop)
    }

    /// The fingerprint of the recipients it was sealed to, if recorded.
    pub fn recipients_fingerprint(&self) -> Option<&str> {
        self.param(RECIPIENTS_PARAM)
    }

    /// The digest of the endpoint the value is bound to, if recorded.
    pub fn endpoint_digest(&self) -> Option<&str> {
        self.param(ENDPOINT_PARAM)
    }

    /// The token's expiry, if recorded ([`SealedValue::parse`] has refused an unreadable one).
    pub fn expires_at(&self) -> Option<SystemTime> {
        parse_expiry(self.param(EXPIRY_PARAM)?).ok()
    }

    /// The id influxctl gave the token, if recorded.
    pub fn token_id(&self) -> Option<&str> {
        self.param(ID_PARAM)
    }

    /// The same value with its token id recorded (replacing any recorded before).
    pub fn with_token_id(mut self, id: &str) -> SealedValue {
        self.params.retain(|(name, _)| name != ID_PARAM);
        self.params.push((ID_PARAM.to_owned(), id.to_owned()));
        self
    }

    /// The keyring entry of a `keyring` value.
    pub fn keyring_ref(&self) -> Option<KeyringRef> {
        if self.backend == *keyring::NAME {
            KeyringRef::parse(&self.payload).ok()
        } else {
            None
        }
    }

    /// The value of a parameter, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl fmt::Display for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}v{VERSION}:{}:{}", self.backend, self.payload)?;
        for (name, value) in &self.params {
            write!(f, ";{name}={value}")?;
        }
        Ok(())
    }
}

/// The parts of a sealed value, borrowed from it, after every part was checked.
struct Framing<'v> {
    backend: &'v str,
    payload: &'v str,
    params: &'v str,
}

impl<'v> Framing<'v> {
    fn read(value: &'v str) -> Result<Framing<'v>, FramingError> {
        let rest = value.strip_prefix(PREFIX).unwrap_or(value);
        let (version, rest) = rest.split_once(':').ok_or(FramingError::MissingVersion)?;
        if !is_version(version) {
            return Err(FramingError::MissingVersion);
        }
        if version != VERSION_TAG {
            return Err(FramingError::UnsupportedVersion(short(version)));
        }
        let (backend, rest) = rest.split_once(':').ok_or(FramingError::MissingBackend)?;
        if !is_backend_name(backend) {
            return Err(FramingError::BadBackendName(short(backend)));
        }
        let (payload, params) = rest.split_once(';').unwrap_or((rest, ""));
        if payload.is_empty() {
            return Err(FramingError::EmptyPayload);
        }
        let framing = Framing {
            backend,
            payload,
            params,
        };
        // Which of the parameters sealctl reads were met, to refuse one given twice.
        let mut met = [false; READ_PARAMS.len()];
        for param in framing.params.split(';').filter(|_| !params.is_empty()) {
            match param.split_once('=') {
                Some((name, value)) if is_param_name(name) && is_param_value(value) => {
                    if let Some(index) = READ_PARAMS.iter().position(|known| *known == name) {
                        if met[index] {
                            return Err(FramingError::DuplicateParameter(name.to_owned()));
                        }
                        met[index] = true;
                    }
                    if name == EXPIRY_PARAM {
                        parse_expiry(value)?;
                    }
                    if name == ID_PARAM && !is_token_id(value) {
                        return Err(FramingError::BadId(short(value)));
                    }
                }
                _ => {
                    return Err(FramingError::BadParameter(short(
                        param.split('=').next().unwrap_or_default(),
                    )));
                }
            }
        }
        // The one lookup by name in the framing: a known backend's payload must follow its
        // grammar; an unknown one's is its own business (`check` warns that it is unknown).
        if let Some((_, check_payload)) = KNOWN_BACKENDS.iter().find(|(name, _)| *name == backend) {
            check_payload(payload)?;
        }
        Ok(framing)
    }

    /// The parameters, which [`Framing::read`] has checked.
    fn params(&self) -> impl Iterator<Item = (&'v str, &'v str)> {
        self.params
            .split(';')
            .filter(|param| !param.is_empty())
            .filter_map(|param| param.split_once('='))
    }
}

/// The backend name of a sealed value, read from its text without parsing the rest; `None` if
/// the framing has none.
pub fn value_backend(value: &str) -> Option<&str> {
    let rest = value.strip_prefix(PREFIX)?;
    let (_, rest) = rest.split_once(':')?;
    rest.split_once(':').map(|(backend, _)| backend)
}

/// A parameter of a sealed value, read from its text without parsing the rest.
pub fn value_param<'v>(value: &'v str, name: &str) -> Option<&'v str> {
    let (_, params) = value.split_once(';')?;
    params
        .split(';')
        .filter_map(|param| param.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A recipient as it counts for the fingerprint: without surrounding white space, an SSH key
/// without its comment, an age recipient in lower case (bech32 is case-insensitive).
pub fn canonical_recipient(recipient: &str) -> String {
    let recipient = recipient.trim();
    if recipient.starts_with("ssh-") {
        recipient
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        recipient.to_ascii_lowercase()
    }
}

/// A short fingerprint of a set of recipients: the first 8 hexadecimal digits of SHA-256 over
/// the sorted, distinct [canonical](canonical_recipient) recipients, each followed by `\n`.
/// Order, duplicates and SSH comments do not change it; adding or removing a recipient does.
pub fn recipients_fingerprint<S: AsRef<str>>(recipients: &[S]) -> String {
    let mut canonical: Vec<String> = recipients
        .iter()
        .map(|r| canonical_recipient(r.as_ref()))
        .collect();
    canonical.sort();
    canonical.dedup();
    let mut hasher = Sha256::new();
    for recipient in &canonical {
        hasher.update(recipient.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize()[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn is_backend_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= BACKEND_NAME_MAX
        && bytes.next().is_some_and(|first| first.is_ascii_lowercase())
        && bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

fn is_version(token: &str) -> bool {
    token.len() > 1
        && token.starts_with('v')
        && token[1..].bytes().all(|byte| byte.is_ascii_digit())
}

fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

fn is_param_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b';' && byte != b'"')
}

/// Framing tokens quoted in messages are cut short, so that a mangled value cannot smuggle a long
/// run of its text into a diagnostic.
pub(crate) fn short(token: &str) -> String {
    const MAX: usize = 16;
    match token.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &token[..end]),
        None => token.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn age_payload() -> String {
        base64::engine::general_purpose::STANDARD
            .encode(b"age-encryption.org/v1\n-> X25519 abc\nxyz\n--- mac\n\x00\x01")
    }

    #[test]
    fn well_formed_values_parse_and_print_back() {
        let value = format!("sealctl:v1:age:{};r=1a2b3c4d", age_payload());
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.backend.as_str(), "age");
        assert_eq!(sealed.param("r"), Some("1a2b3c4d"));
        assert_eq!(sealed.to_string(), value);
    }

    #[test]
    fn a_token_id_is_kept_beside_the_expiry_and_replaced_not_repeated() {
        let id = "0a1b2c3d-0000-4000-8000-123456789abc";
        let value = format!(
            "sealctl:v1:age:{};r=1a2b3c4d;exp=2027-01-02T03:04:05Z;id={id}",
            age_payload()
        );
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.token_id(), Some(id));
        assert_eq!(sealed.to_string(), value);
        let again = sealed.with_token_id("ffff");
        assert_eq!(again.token_id(), Some("ffff"));
        assert_eq!(again.params.iter().filter(|(n, _)| n == "id").count(), 1);
        assert!(SealedValue::parse(&again.to_string()).is_ok());
    }

    #[test]
    fn a_backend_this_version_does_not_know_parses_and_prints_back() {
        let value = "sealctl:v1:openbao-transit:vault:v1:abc==;r=1a2b3c4d;ep=0badf00d";
        let sealed = SealedValue::parse(value).unwrap();
        assert_eq!(sealed.backend.as_str(), "openbao-transit");
        assert!(!sealed.backend.is_known());
        assert_eq!(sealed.payload, "vault:v1:abc==");
        assert_eq!(sealed.endpoint_digest(), Some("0badf00d"));
        assert_eq!(sealed.keyring_ref(), None);
        assert_eq!(sealed.to_string(), value);
        assert_eq!(SealedValue::check(value), Ok(()));
        assert_eq!(value_backend(value), Some("openbao-transit"));
        for known in ["age", "keyring"] {
            assert!(is_known_backend(known));
            assert!(BackendName::new(known).unwrap().is_known());
        }
        // Its generic parameters are still held to the framing's rules.
        assert_eq!(
            SealedValue::parse("sealctl:v1:vault:x;exp=soon"),
            Err(FramingError::BadExpiry("soon".into()))
        );
        assert_eq!(
            SealedValue::parse("sealctl:v1:vault:x;r=1;r=2"),
            Err(FramingError::DuplicateParameter("r".into()))
        );
    }

    #[test]
    fn backend_names_are_lower_case_words_of_at_most_32() {
        assert!(BackendName::new("a").is_some());
        assert!(BackendName::new("vault-kv2").is_some());
        assert!(BackendName::new(&"a".repeat(32)).is_some());
        for bad in ["", "2fa", "-x", "Vault", "vault_kv", "vault kv", "é"] {
            assert!(BackendName::new(bad).is_none(), "{bad}");
        }
        assert!(BackendName::new(&"a".repeat(33)).is_none());
    }

    #[test]
    fn check_agrees_with_parse_for_any_payload_size() {
        for size in [0, 100, 2000, 5000] {
            let mut file = b"age-encryption.org/v1\n".to_vec();
            file.resize(file.len() + size, 7);
            let value = format!(
                "sealctl:v1:age:{}",
                base64::engine::general_purpose::STANDARD.encode(&file)
            );
            assert_eq!(
                SealedValue::check(&value),
                SealedValue::parse(&value).map(drop),
                "{size}"
            );
            assert!(SealedValue::check(&value).is_ok(), "{size}");
            let broken = format!("{}!", &value[..value.len() - 1]);
            assert_eq!(
                SealedValue::check(&broken),
                Err(FramingError::NotBase64),
                "{size}"
            );
        }
    }

    #[test]
    fn fingerprints_ignore_order_duplicates_and_ssh_comments() {
        let a = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq";
        let b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAbCdEf alice@laptop";
        let fingerprint = recipients_fingerprint(&[a, b]);
        assert_eq!(fingerprint.len(), 8);
        assert_eq!(recipients_fingerprint(&[b, a, a]), fingerprint);
        assert_eq!(
            recipients_fingerprint(&[
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAbCdEf",
                &a.to_uppercase()
            ]),
            fingerprint
        );
        assert_ne!(recipients_fingerprint(&[a]), fingerprint);
    }

    #[test]
    fn keyring_references_parse_and_print_back() {
        let value = "sealctl:v1:keyring:secret-service/0123456789abcdef0123456789abcdef;host=laptop;exp=2027-01-02T03:04:05Z";
        let sealed = SealedValue::parse(value).unwrap();
        assert_eq!(sealed.backend.as_str(), "keyring");
        let reference = sealed.keyring_ref().unwrap();
        assert_eq!(reference.store, KeyringStore::SecretService);
        assert_eq!(reference.id, "0123456789abcdef0123456789abcdef");
        assert_eq!(sealed.param(HOST_PARAM), Some("laptop"));
        assert_eq!(sealed.to_string(), value);
        for store in KeyringStore::ALL {
            let value = format!("sealctl:v1:keyring:{store}/{}", "a".repeat(ENTRY_ID_LEN));
            assert_eq!(SealedValue::check(&value), Ok(()), "{value}");
        }
    }

    #[test]
    fn broken_keyring_references_are_named() {
        let id = "0123456789abcdef0123456789abcdef";
        for (payload, expected) in [
            (id.to_owned(), FramingError::BadKeyringReference),
            (
                format!("vault/{id}"),
                FramingError::UnknownKeyringStore("vault".into()),
            ),
            ("keyutils/abc".to_owned(), FramingError::BadKeyringReference),
            (
                format!("keyutils/{}", id.to_uppercase()),
                FramingError::BadKeyringReference,
            ),
            (format!("keyutils/{id}0"), FramingError::BadKeyringReference),
        ] {
            let value = format!("sealctl:v1:keyring:{payload}");
            assert_eq!(SealedValue::parse(&value), Err(expected), "{value}");
        }
    }

    #[test]
    fn metadata_is_read_from_the_parameters() {
        let value = format!(
            "sealctl:v1:age:{};r=1a2b3c4d;exp=2027-01-02T03:04:05Z",
            age_payload()
        );
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.recipients_fingerprint(), Some("1a2b3c4d"));
        assert_eq!(
            sealed.expires_at(),
            Some(humantime::parse_rfc3339("2027-01-02T03:04:05Z").unwrap())
        );
    }

    #[test]
    fn broken_framing_is_named() {
        let payload = age_payload();
        let cases = [
            ("sealctl:".to_owned(), FramingError::MissingVersion),
            ("sealctl:x1:age:AA".to_owned(), FramingError::MissingVersion),
            (
                format!("sealctl:v9:age:{payload}"),
                FramingError::UnsupportedVersion("v9".into()),
            ),
            ("sealctl:v1:age".to_owned(), FramingError::MissingBackend),
            (
                "sealctl:v1:Vault:x".to_owned(),
                FramingError::BadBackendName("Vault".into()),
            ),
            (
                "sealctl:v1::x".to_owned(),
                FramingError::BadBackendName("".into()),
            ),
            (
                format!("sealctl:v1:{}:x", "a".repeat(33)),
                FramingError::BadBackendName(format!("{}…", "a".repeat(16))),
            ),
            ("sealctl:v1:vault:".to_owned(), FramingError::EmptyPayload),
            (
                "sealctl:v9:vault:x".to_owned(),
                FramingError::UnsupportedVersion("v9".into()),
            ),
            ("sealctl:v1:age:".to_owned(), FramingError::EmptyPayload),
            ("sealctl:v1:age:!!!".to_owned(), FramingError::NotBase64),
            (
                "sealctl:v1:age:aGVsbG8=".to_owned(),
                FramingError::NotAgeFile,
            ),
            (
                format!("sealctl:v1:age:{payload};novalue"),
                FramingError::BadParameter("novalue".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};exp=tomorrow"),
                FramingError::BadExpiry("tomorrow".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};exp=2027-13-01T00:00:00Z"),
                FramingError::BadExpiry("2027-13-01T00:00…".into()),
            ),
            (
                format!(
                    "sealctl:v1:age:{payload};exp=2027-01-02T03:04:05Z;exp=2020-01-01T00:00:00Z"
                ),
                FramingError::DuplicateParameter("exp".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};r=1a2b3c4d;r=1a2b3c4d"),
                FramingError::DuplicateParameter("r".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};id=1111;id=2222"),
                FramingError::DuplicateParameter("id".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};id=a_b!"),
                FramingError::BadId("a_b!".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};id=../x"),
                FramingError::BadId("../x".into()),
            ),
            (
                format!("sealctl:v1:age:{payload};id={}", "a".repeat(65)),
                FramingError::BadId(format!("{}…", "a".repeat(16))),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(SealedValue::parse(&value), Err(expected.clone()), "{value}");
            // check and open read the framing alike.
            assert_eq!(SealedValue::check(&value), Err(expected), "{value}");
        }
    }
}
