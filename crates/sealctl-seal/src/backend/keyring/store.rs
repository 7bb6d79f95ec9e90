//! The platform side: which stores this build can reach, and one entry's set, get and delete.
//! Each call connects afresh, so a command that needs no keyring never connects at all.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use sealctl_profile::sealed::{KeyringRef, KeyringStore};

use super::error::Cause;
use super::{SERVICE, SecretBytes};

/// The stores this build can reach, the platform's default first.
#[cfg(target_os = "linux")]
pub const AVAILABLE: &[KeyringStore] = &[KeyringStore::SecretService, KeyringStore::Keyutils];
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "ios",
        target_os = "android"
    ))
))]
pub const AVAILABLE: &[KeyringStore] = &[KeyringStore::SecretService];
#[cfg(target_os = "macos")]
pub const AVAILABLE: &[KeyringStore] = &[KeyringStore::Keychain];
#[cfg(windows)]
pub const AVAILABLE: &[KeyringStore] = &[KeyringStore::CredentialManager];
#[cfg(not(any(all(unix, not(any(target_os = "ios", target_os = "android"))), windows)))]
pub const AVAILABLE: &[KeyringStore] = &[];

pub fn platform_default() -> KeyringStore {
    AVAILABLE
        .first()
        .copied()
        .unwrap_or(KeyringStore::SecretService)
}

/// Connects to a store (for the Secret Service: opens a D-Bus session with it).
fn connect(store: KeyringStore) -> Result<Arc<CredentialStore>, Cause> {
    if !AVAILABLE.contains(&store) {
        return Err(Cause::Unsupported);
    }
    let connected: keyring_core::Result<Arc<CredentialStore>> =
        match store {
            #[cfg(all(
                unix,
                not(any(target_os = "macos", target_os = "ios", target_os = "android"))
            ))]
            KeyringStore::SecretService => zbus_secret_service_keyring_store::Store::new()
                .map(|store| store as Arc<CredentialStore>),
            #[cfg(target_os = "linux")]
            KeyringStore::Keyutils => linux_keyutils_keyring_store::Store::new()
                .map(|store| store as Arc<CredentialStore>),
            #[cfg(target_os = "macos")]
            KeyringStore::Keychain => apple_native_keyring_store::keychain::Store::new()
                .map(|store| store as Arc<CredentialStore>),
            #[cfg(windows)]
            KeyringStore::CredentialManager => windows_native_keyring_store::Store::new()
                .map(|store| store as Arc<CredentialStore>),
            #[allow(unreachable_patterns)]
            _ => return Err(Cause::Unsupported),
        };
    connected.map_err(Cause::Connect)
}

/// The entry a reference names, with what the store needs to name it for a person.
fn entry(reference: &KeyringRef, label: Option<&str>) -> Result<Entry, Cause> {
    let store = connect(reference.store)?;
    let description = format!("{SERVICE}:{}", reference.id);
    let mut modifiers = HashMap::new();
    match reference.store {
        KeyringStore::SecretService => {
            if let Some(label) = label {
                modifiers.insert("label", label);
            }
        }
        // keyutils knows an entry only by its description: `sealctl:<id>` in `keyctl show`.
        KeyringStore::Keyutils => {
            modifiers.insert("description", description.as_str());
        }
        KeyringStore::Keychain | KeyringStore::CredentialManager => {}
        // `KeyringStore` may grow: a store added later names an entry by service and account.
        _ => {}
    }
    Entry::new_in_store_with_modifiers(&store, SERVICE, &reference.id, &modifiers)
        .map_err(Cause::Call)
}

/// Stores `secret` in a new entry. A write that fails partway is undone: keyutils adds the key
/// to the session keyring and then links it to the persistent one, and outside a session keyring
/// that link fails with the key already added (one more per retry). `Err` says whether an entry
/// may still be there.
pub fn set(reference: &KeyringRef, label: &str, secret: &[u8]) -> Result<(), SetFailure> {
    // Nothing is written before the entry exists, so failing here leaves nothing behind.
    let entry = entry(reference, Some(label)).map_err(|cause| SetFailure {
        cause,
        left_behind: false,
    })?;
    let Err(error) = entry.set_secret(secret) else {
        return Ok(());
    };
    // The id is new and random: any entry under it is this call's own, so deleting it is safe.
    let deleted = matches!(
        entry.delete_credential(),
        Ok(()) | Err(keyring_core::Error::NoEntry)
    );
    let left_behind = match reference.store {
        // keyutils' delete searches for the key, and a key that cannot be searched (outside a
        // session keyring) is reported as no entry: only the keyring's own list tells.
        KeyringStore::Keyutils => !unlink_from_session(reference),
        _ => !deleted,
    };
    Err(SetFailure {
        cause: Cause::Call(error),
        left_behind,
    })
}

/// Removes a keyutils entry by unlinking it from the session and user-session keyrings, which
/// needs only write permission on them. Outside a session keyring the store adds the key to the
/// user-session keyring, where it can be neither searched for nor invalidated, so the store's own
/// delete misses it (and its next call has made the process a session keyring of its own).
/// Returns whether no such entry is left in either.
#[cfg(target_os = "linux")]
fn unlink_from_session(reference: &KeyringRef) -> bool {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    let description = format!("{SERVICE}:{}", reference.id);
    [KeyRingIdentifier::Session, KeyRingIdentifier::UserSession]
        .into_iter()
        .filter_map(|which| KeyRing::from_special_id(which, false).ok())
        .all(|keyring| {
            let Ok(links) = keyring.get_links(4096) else {
                return false;
            };
            links
                .iter()
                .filter_map(|node| node.as_key())
                .filter(|key| {
                    key.metadata()
                        .is_ok_and(|metadata| metadata.get_description() == description)
                })
                .all(|key| keyring.unlink_key(key).is_ok())
        })
}

#[cfg(not(target_os = "linux"))]
fn unlink_from_session(_: &KeyringRef) -> bool {
    false
}

/// Why [`set`] failed, and whether it may have left its entry behind.
pub struct SetFailure {
    pub cause: Cause,
    pub left_behind: bool,
}

pub fn get(reference: &KeyringRef) -> Result<SecretBytes, Cause> {
    entry(reference, None)?
        .get_secret()
        .map(SecretBytes::new)
        .map_err(Cause::Call)
}

pub fn delete(reference: &KeyringRef) -> Result<(), Cause> {
    entry(reference, None)?
        .delete_credential()
        .map_err(Cause::Call)
}

/// This machine's name, recorded beside a keyring reference so that a file copied elsewhere can
/// say where its token lives. `None` where it cannot be read or would not fit the framing.
pub fn hostname() -> Option<String> {
    #[cfg(target_os = "linux")]
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    #[cfg(windows)]
    let name = std::env::var("COMPUTERNAME").ok();
    #[cfg(not(any(target_os = "linux", windows)))]
    let name = std::process::Command::new("hostname")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok());
    let name = name?.trim().to_owned();
    let fits = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b';' && byte != b'"');
    fits.then_some(name)
}
