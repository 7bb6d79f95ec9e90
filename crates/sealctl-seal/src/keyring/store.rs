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
    }
    Entry::new_in_store_with_modifiers(&store, SERVICE, &reference.id, &modifiers)
        .map_err(Cause::Call)
}

pub fn set(reference: &KeyringRef, label: &str, secret: &[u8]) -> Result<(), Cause> {
    entry(reference, Some(label))?
        .set_secret(secret)
        .map_err(Cause::Call)
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
