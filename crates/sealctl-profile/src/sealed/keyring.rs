//! The payload grammar of `keyring` values: a [reference](KeyringRef) to an entry of an OS
//! keyring, `<store>/<entry id>`.

use std::fmt;

use super::{FramingError, short};

/// The backend's name in the framing.
pub const NAME: &str = "keyring";

/// Checks a `keyring` payload: a well-formed reference to a known store.
pub(super) fn check_payload(payload: &str) -> Result<(), FramingError> {
    KeyringRef::parse(payload).map(drop)
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
