//! The framing of a sealed value, as far as it can be read without any key.
//!
//! A sealed value replaces a secret in place, as one TOML string:
//!
//! ```text
//! sealctl:v1:<backend>:<payload>[;<name>=<value>]...
//! ```
//!
//! `v1` is the format version, `<backend>` names who can open it (`age` or `keyring`), `<payload>`
//! is the backend's ciphertext or reference, and the optional `;name=value` parameters carry
//! non-secret metadata in clear: `r`, the [fingerprint](recipients_fingerprint) of the recipients
//! it was sealed to, `exp`, the token's expiry (RFC 3339, UTC), `host`, the machine whose
//! keyring holds a `keyring` value, and `ep`, the [digest](crate::endpoint::Endpoint::digest) of
//! the endpoint the value is bound to. For `age`, the payload is a binary age file in standard base64
//! (with padding), so `base64 -d | age -d` opens it. For `keyring`, it is a [reference](KeyringRef)
//! to an entry of an OS keyring: `<store>/<entry id>`. Opening the payload is `sealctl-seal`'s
//! work; this module reads only what `check` needs, without any key or keyring.
//! `docs/sealed-values.md` specifies the whole format.

use std::fmt;

use std::time::SystemTime;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

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

/// The parameters sealctl reads, each of which may be given once.
const READ_PARAMS: &[&str] = &[RECIPIENTS_PARAM, EXPIRY_PARAM, HOST_PARAM, ENDPOINT_PARAM];

/// The first line of every binary age file.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

/// A backend that can hold a sealed secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Encrypted with age to the file's recipients.
    Age,
    /// Kept in an OS keyring; the file holds a reference.
    Keyring,
}

impl Backend {
    /// Every backend this version knows.
    pub const ALL: &'static [Backend] = &[Backend::Age, Backend::Keyring];

    /// The backend's name in the framing.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Age => "age",
            Backend::Keyring => "keyring",
        }
    }
}

/// An OS keyring that can hold a `keyring` value. Every store is known on every platform, so
/// that `check` reads a file written on another one.
///
/// More stores will come, so a `match` outside this crate needs a `_` arm:
///
/// ```compile_fail,E0004
/// use sealctl_profile::sealed::KeyringStore;
/// fn name(store: KeyringStore) -> &'static str {
///     match store {
///         KeyringStore::SecretService => "secret service",
///         KeyringStore::Keyutils => "keyutils",
///         KeyringStore::Keychain => "keychain",
///         KeyringStore::CredentialManager => "credential manager",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyringStore {
    /// The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC), over D-Bus.
    SecretService,
    /// The Linux kernel's key retention service (`keyctl`): in memory, gone at reboot.
    Keyutils,
    /// The macOS login keychain.
    Keychain,
    /// The Windows Credential Manager.
    CredentialManager,
}

impl KeyringStore {
    /// Every store this version knows.
    pub const ALL: &'static [KeyringStore] = &[
        KeyringStore::SecretService,
        KeyringStore::Keyutils,
        KeyringStore::Keychain,
        KeyringStore::CredentialManager,
    ];

    /// The store's name in references and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            KeyringStore::SecretService => "secret-service",
            KeyringStore::Keyutils => "keyutils",
            KeyringStore::Keychain => "keychain",
            KeyringStore::CredentialManager => "credential-manager",
        }
    }

    /// The store of that name.
    pub fn from_name(name: &str) -> Option<KeyringStore> {
        KeyringStore::ALL
            .iter()
            .copied()
            .find(|store| store.name() == name)
    }
}

impl fmt::Display for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a `keyring` value lives: a store and the id of an entry in it. The id is random, made
/// when the token is set, so that two files with a profile of the same name never share an entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyringRef {
    /// The keyring.
    pub store: KeyringStore,
    /// The entry's id: [`ENTRY_ID_LEN`] lower-case hexadecimal digits.
    pub id: String,
}

/// The length of a keyring entry id (128 random bits in hexadecimal).
pub const ENTRY_ID_LEN: usize = 32;

impl KeyringRef {
    /// Reads a `keyring` payload, `<store>/<entry id>`.
    pub fn parse(payload: &str) -> Result<KeyringRef, FramingError> {
        let (store, id) = payload
            .split_once('/')
            .ok_or(FramingError::BadKeyringReference)?;
        let store = KeyringStore::from_name(store)
            .ok_or_else(|| FramingError::UnknownKeyringStore(short(store)))?;
        if !is_entry_id(id) {
            return Err(FramingError::BadKeyringReference);
        }
        Ok(KeyringRef {
            store,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for KeyringRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.store, self.id)
    }
}

fn is_entry_id(id: &str) -> bool {
    id.len() == ENTRY_ID_LEN
        && id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A sealed value whose framing parsed. It holds only ciphertext or a reference, never a secret,
/// so it may be printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedValue {
    /// Who can open it.
    pub backend: Backend,
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
    /// A backend name this sealctl does not know.
    UnknownBackend(String),
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
    /// An `exp` parameter that is not an RFC 3339 time: the clear-text framing was damaged or
    /// edited, so the value is refused as a whole.
    BadExpiry(String),
    /// A parameter sealctl reads, given twice: which one counts would be a guess.
    DuplicateParameter(String),
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
            FramingError::UnknownBackend(name) => {
                let known: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
                write!(
                    f,
                    "unknown backend `{name}` (this sealctl knows: {})",
                    known.join(", ")
                )
            }
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
            FramingError::BadExpiry(text) => write!(
                f,
                "its expiry `{EXPIRY_PARAM}={text}` is not an RFC 3339 time (as in 2027-01-31T00:00:00Z)"
            ),
            FramingError::DuplicateParameter(name) => {
                write!(f, "parameter `{name}` is given twice")
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Reads an `exp` parameter: an RFC 3339 time. The one reading of it, for `check` and for
/// opening alike.
pub fn parse_expiry(text: &str) -> Result<SystemTime, FramingError> {
    humantime::parse_rfc3339(text).map_err(|_| FramingError::BadExpiry(short(text)))
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
            backend: framing.backend,
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

    /// The keyring entry of a `keyring` value.
    pub fn keyring_ref(&self) -> Option<KeyringRef> {
        match self.backend {
            Backend::Keyring => KeyringRef::parse(&self.payload).ok(),
            Backend::Age => None,
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
        write!(
            f,
            "{PREFIX}v{VERSION}:{}:{}",
            self.backend.name(),
            self.payload
        )?;
        for (name, value) in &self.params {
            write!(f, ";{name}={value}")?;
        }
        Ok(())
    }
}

/// The parts of a sealed value, borrowed from it, after every part was checked.
struct Framing<'v> {
    backend: Backend,
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
        let backend = Backend::ALL
            .iter()
            .copied()
            .find(|known| known.name() == backend)
            .ok_or_else(|| FramingError::UnknownBackend(short(backend)))?;
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
                }
                _ => {
                    return Err(FramingError::BadParameter(short(
                        param.split('=').next().unwrap_or_default(),
                    )));
                }
            }
        }
        match backend {
            Backend::Age => check_age_payload(payload)?,
            Backend::Keyring => drop(KeyringRef::parse(payload)?),
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

fn check_age_payload(payload: &str) -> Result<(), FramingError> {
    // Decode into the stack for the usual size; a sealed token is a few hundred bytes.
    let mut stack = [0u8; 2048];
    let heap: Vec<u8>;
    let decoded = match base64::engine::general_purpose::STANDARD.decode_slice(payload, &mut stack)
    {
        Ok(len) => &stack[..len],
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            heap = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|_| FramingError::NotBase64)?;
            &heap[..]
        }
        Err(base64::DecodeSliceError::DecodeError(_)) => return Err(FramingError::NotBase64),
    };
    if decoded.starts_with(AGE_HEADER) {
        Ok(())
    } else {
        Err(FramingError::NotAgeFile)
    }
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
fn short(token: &str) -> String {
    const MAX: usize = 16;
    match token.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &token[..end]),
        None => token.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age_payload() -> String {
        base64::engine::general_purpose::STANDARD
            .encode(b"age-encryption.org/v1\n-> X25519 abc\nxyz\n--- mac\n\x00\x01")
    }

    #[test]
    fn well_formed_values_parse_and_print_back() {
        let value = format!("sealctl:v1:age:{};r=1a2b3c4d", age_payload());
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.backend, Backend::Age);
        assert_eq!(sealed.param("r"), Some("1a2b3c4d"));
        assert_eq!(sealed.to_string(), value);
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
        assert_eq!(sealed.backend, Backend::Keyring);
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
                "sealctl:v1:vault:x".to_owned(),
                FramingError::UnknownBackend("vault".into()),
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
        ];
        for (value, expected) in cases {
            assert_eq!(SealedValue::parse(&value), Err(expected.clone()), "{value}");
            // check and open read the framing alike.
            assert_eq!(SealedValue::check(&value), Err(expected), "{value}");
        }
    }
}
