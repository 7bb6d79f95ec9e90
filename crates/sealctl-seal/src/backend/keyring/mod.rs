//! Tokens kept in an OS keyring, with only a reference left in the profile file.
//!
//! What the keyring holds is the same [`Envelope`] age encrypts (the secret with the profile and
//! key it belongs to, and the endpoint it was sealed for), so a reference moved to another
//! profile, or left in a profile that now points elsewhere, is refused just as an age value is. Each entry has a random id, made when the token is set, and is found by the
//! attributes `service = sealctl` and `username = <entry id>`; on the Secret Service it also
//! carries a label a person can read, `sealctl: <profile> <key> (<config path>)`.
//!
//! A keyring is reached only by the calls of [`Keyring`], never when a value of another backend is
//! opened, and every call is bounded by [`Keyring::timeout`]: a stalled D-Bus or a prompt no one
//! can answer becomes an error, not a hang. Failures are [`KeyringError`]s that say which of the
//! usual causes it is (no session bus, no Secret Service, a locked collection, a missing entry,
//! access denied), with the store's own words kept aside in [`KeyringError::detail`].

mod error;
mod store;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use sealctl_profile::sealed::{self, HOST_PARAM, SealedValue};
pub use sealctl_profile::sealed::{ENTRY_ID_LEN, KeyringRef, KeyringStore};
use zeroize::Zeroizing;

pub use self::error::KeyringError;
use super::{Access, Backend, Needs, SealWith};
use crate::envelope::Envelope;
use crate::error::{OpenError, SealError};
use crate::seal::SEALED_VALUE_LIMIT;

/// The `service` attribute of every entry sealctl makes.
pub const SERVICE: &str = "sealctl";

/// How long one keyring call may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The keyrings of this machine, reached only when a call needs one.
#[derive(Clone, Copy, Debug)]
pub struct Keyring {
    /// The longest any one call (connecting included) may take.
    pub timeout: Duration,
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring {
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A token sealed into a keyring: the reference to write in the file, and the entry it names.
#[derive(Debug)]
pub struct KeyringSealed {
    /// The sealed value for the file.
    pub value: String,
    /// The keyring entry now holding the token.
    pub reference: KeyringRef,
}

impl Keyring {
    /// The store used when none is named: the Secret Service on Linux and the BSDs, the login
    /// keychain on macOS, the Credential Manager on Windows.
    pub fn default_store() -> KeyringStore {
        store::platform_default()
    }

    /// The stores this build can reach, the default first.
    pub fn available_stores() -> &'static [KeyringStore] {
        store::AVAILABLE
    }

    /// Stores `envelope` in a new entry of `keyring`, and returns the reference to write in its
    /// place. `config` names the file in the entry's label.
    pub fn seal(
        &self,
        envelope: &Envelope,
        keyring: KeyringStore,
        config: &Path,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyringSealed, KeyringError> {
        let reference = new_reference(keyring)?;
        let label = format!(
            "sealctl: {} {} ({})",
            envelope.place.profile,
            envelope.place.key,
            config.display()
        );
        self.write(&reference, label, envelope.to_bytes())?;

        let host = store::hostname().map(|host| (HOST_PARAM.to_owned(), host));
        let value = envelope.framed(
            sealed::keyring::NAME,
            reference.to_string(),
            host.into_iter().collect(),
            expires_at,
        );
        Ok(KeyringSealed { value, reference })
    }

    /// The envelope a `keyring` value's entry holds, judging nothing of where it belongs (the
    /// [`Opener`](super::Opener) does).
    pub fn entry(&self, sealed: &SealedValue) -> Result<Envelope, OpenError> {
        let reference = KeyringRef::parse(&sealed.payload)?;
        let entry = reference.clone();
        let bytes = self
            .bounded(reference.store, move || {
                store::get(&entry)
                    .map_err(|cause| error::classify(entry.store, cause, Some(&entry)))
            })
            .map_err(|error| match error {
                KeyringError::Missing { reference, .. } => KeyringError::Missing {
                    reference,
                    set_on: sealed.param(HOST_PARAM).map(str::to_owned),
                    here: store::hostname(),
                },
                other => other,
            })?;
        if bytes.len() > SEALED_VALUE_LIMIT {
            return Err(OpenError::NotAnEnvelope);
        }
        Envelope::from_bytes(&bytes).ok_or(OpenError::NotAnEnvelope)
    }

    /// Deletes the entry a reference names. Returns whether there was one to delete.
    pub fn delete(&self, reference: &KeyringRef) -> Result<bool, KeyringError> {
        let entry = reference.clone();
        match self.bounded(reference.store, move || {
            store::delete(&entry).map_err(|cause| error::classify(entry.store, cause, Some(&entry)))
        }) {
            Ok(()) => Ok(true),
            Err(KeyringError::Missing { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Whether `keyring` answers: looks up an entry that cannot exist. Creates nothing.
    pub fn probe(&self, keyring: KeyringStore) -> Result<(), KeyringError> {
        let reference = KeyringRef {
            store: keyring,
            id: "0".repeat(ENTRY_ID_LEN),
        };
        match self.bounded(keyring, move || {
            store::get(&reference)
                .map(drop)
                .map_err(|cause| error::classify(reference.store, cause, Some(&reference)))
        }) {
            Ok(()) | Err(KeyringError::Missing { .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Whether `keyring` can take a token now, as `token set` needs: makes an entry (a usable,
    /// unlocked collection that accepts a write) and deletes it again. Holds no secret.
    pub fn probe_write(&self, keyring: KeyringStore) -> Result<(), KeyringError> {
        let reference = new_reference(keyring)?;
        self.write(
            &reference,
            "sealctl doctor probe (safe to delete)".to_owned(),
            b"probe".to_vec(),
        )?;
        match self.delete(&reference) {
            Ok(_) => Ok(()),
            Err(error) => Err(KeyringError::LeftBehind {
                error: Box::new(error),
                reference,
            }),
        }
    }

    /// Writes a new entry. A write that fails is undone; one that may have left its entry
    /// behind (the store refused the deletion, or stopped answering) says so.
    fn write(
        &self,
        reference: &KeyringRef,
        label: String,
        bytes: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<(), KeyringError> {
        let entry = reference.clone();
        let written = self.bounded(reference.store, move || {
            store::set(&entry, &label, bytes.as_ref()).map_err(|failure| {
                let error = error::classify(entry.store, failure.cause, Some(&entry));
                match failure.left_behind {
                    true => KeyringError::LeftBehind {
                        error: Box::new(error),
                        reference: entry.clone(),
                    },
                    false => error,
                }
            })
        });
        match written {
            // The call goes on after the wait ends, and may yet make the entry.
            Err(error @ KeyringError::TimedOut { .. }) => Err(KeyringError::LeftBehind {
                error: Box::new(error),
                reference: reference.clone(),
            }),
            other => other,
        }
    }

    /// Runs one keyring call on its own thread and waits at most [`Keyring::timeout`] for it. A
    /// call that does not answer is left behind; the process does not wait for it to exit.
    fn bounded<T: Send + 'static>(
        &self,
        keyring: KeyringStore,
        call: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
    ) -> Result<T, KeyringError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sealctl-keyring".to_owned())
            .spawn(move || {
                // The receiver is gone only if the wait timed out; nobody needs the answer then.
                let _ = sender.send(call());
            })
            .map_err(|cause| KeyringError::Failed {
                store: keyring,
                detail: format!("cannot start a thread for the call: {cause}"),
            })?;
        match receiver.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(KeyringError::TimedOut {
                store: keyring,
                after: self.timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeyringError::Failed {
                store: keyring,
                detail: "the keyring call ended without an answer".to_owned(),
            }),
        }
    }
}

/// The store a destination names, else the platform's: what every keyring call of the backend
/// reaches.
fn store_named(store: Option<&str>) -> KeyringStore {
    store
        .and_then(KeyringStore::from_name)
        .unwrap_or_else(Keyring::default_store)
}

/// The command a person runs to remove an entry sealctl could not remove itself.
pub fn removal_command(entry: &KeyringRef) -> String {
    match entry.store {
        KeyringStore::SecretService => {
            format!("secret-tool clear service {SERVICE} username {}", entry.id)
        }
        KeyringStore::Keyutils => format!(
            "keyctl unlink $(keyctl search @s user {SERVICE}:{})",
            entry.id
        ),
        // `KeyringStore` may grow: a store added later has its own tool, as these do.
        _ => format!(
            "delete the entry for service `{SERVICE}`, account `{}`, in the keyring's own tool",
            entry.id
        ),
    }
}

/// A reference to a new entry of `keyring`, with a fresh random id.
fn new_reference(keyring: KeyringStore) -> Result<KeyringRef, KeyringError> {
    Ok(KeyringRef {
        store: keyring,
        id: new_entry_id().map_err(|cause| KeyringError::Failed {
            store: keyring,
            detail: format!("cannot make a random entry id: {cause}"),
        })?,
    })
}

/// A new entry id: 128 random bits in lower-case hexadecimal.
fn new_entry_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; ENTRY_ID_LEN / 2];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The `keyring` backend: the envelope in an OS keyring, a reference in the file.
#[derive(Debug)]
pub struct KeyringBackend;

impl Backend for KeyringBackend {
    fn name(&self) -> &'static str {
        sealed::keyring::NAME
    }

    fn summary(&self) -> &'static str {
        "In the OS keyring"
    }

    fn needs(&self) -> Needs {
        Needs::ThisMachine
    }

    fn default_store(&self) -> Option<String> {
        Some(Keyring::default_store().name().to_owned())
    }

    fn kept_in(&self, store: Option<&str>) -> Option<String> {
        let store = store_named(store);
        Some(format!("the {store} keyring"))
    }

    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        access: &mut Access,
    ) -> Result<String, SealError> {
        let store = store_named(with.store);
        let keyring = access.keyring().map_err(SealError::Load)?;
        Ok(keyring
            .seal(envelope, store, with.config, expires_at)?
            .value)
    }

    fn open(
        &self,
        sealed: &SealedValue,
        _place: &crate::envelope::Place,
        access: &mut Access,
    ) -> Result<Envelope, OpenError> {
        access.keyring().map_err(OpenError::Load)?.entry(sealed)
    }

    fn store_of(&self, sealed: &SealedValue) -> Option<String> {
        sealed
            .keyring_ref()
            .map(|reference| reference.store.name().to_owned())
    }

    fn stored(&self, sealed: &SealedValue) -> Option<String> {
        sealed
            .keyring_ref()
            .map(|reference| format!("keyring entry {reference}"))
    }

    fn delete(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let Some(reference) = sealed.keyring_ref() else {
            return Ok(false);
        };
        let keyring = access.keyring().map_err(Box::new)?;
        Ok(keyring.delete(&reference)?)
    }

    fn offer(&self, store: Option<&str>) -> Option<String> {
        if Keyring::available_stores().is_empty() {
            return None;
        }
        let store = store_named(store);
        Some(format!(
            "in the OS keyring ({store}), with a reference in the file"
        ))
    }

    fn usable_here(
        &self,
        store: Option<&str>,
        access: &mut Access,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let store = store_named(store);
        let why = match access.keyring() {
            Ok(keyring) => match keyring.probe(store) {
                Ok(()) => return Ok(()),
                Err(error) => error.to_string(),
            },
            Err(error) => error.to_string(),
        };
        Err(format!("the {store} keyring cannot be used here ({why})").into())
    }

    fn probe(
        &self,
        access: &mut Access,
    ) -> Option<Result<String, Box<dyn std::error::Error + Send + Sync>>> {
        // Answering is not enough: a locked or missing collection answers too.
        let store = Keyring::default_store();
        let probed = match access.keyring() {
            Ok(keyring) => keyring.probe_write(store).map_err(Into::into),
            Err(error) => Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
        };
        Some(probed.map(|()| {
            format!("the {store} keyring takes new entries (a probe entry was made and deleted)")
        }))
    }

    fn removal_command(&self, sealed: &SealedValue) -> Option<String> {
        sealed.keyring_ref().as_ref().map(removal_command)
    }
}

/// What the keyring returned, zeroed when dropped.
type SecretBytes = Zeroizing<Vec<u8>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_are_well_formed_and_distinct() {
        let a = new_entry_id().unwrap();
        let b = new_entry_id().unwrap();
        assert_ne!(a, b);
        for id in [a, b] {
            let reference = format!("keyutils/{id}");
            assert_eq!(KeyringRef::parse(&reference).unwrap().id, id);
        }
    }

    #[test]
    fn a_call_that_does_not_answer_times_out() {
        let keyring = Keyring {
            timeout: Duration::from_millis(50),
        };
        let result: Result<(), _> = keyring.bounded(KeyringStore::SecretService, || {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(())
        });
        assert!(matches!(result, Err(KeyringError::TimedOut { .. })));
    }
}
