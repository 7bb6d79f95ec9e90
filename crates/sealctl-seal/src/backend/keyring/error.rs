//! Why a keyring could not be used, told as the usual causes rather than as a store's raw error.

use std::fmt;
use std::time::Duration;

use sealctl_profile::sealed::{KeyringRef, KeyringStore};

use crate::error::TokenError;

/// A keyring call failed. The message is sealctl's own; [`KeyringError::detail`] keeps what the
/// store itself said (never a secret), for `-v`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// No D-Bus session bus to reach the Secret Service on: a headless machine, or a shell
    /// outside the desktop session.
    #[error("there is no D-Bus session bus to reach the Secret Service on")]
    NoSession {
        /// What the connection said.
        detail: String,
    },
    /// A session bus, but nothing on it provides the Secret Service.
    #[error(
        "no Secret Service is running on the D-Bus session bus (no GNOME Keyring, KWallet or KeePassXC)"
    )]
    NoProvider {
        /// What the bus said.
        detail: String,
    },
    /// The collection (or keychain) is locked, and unlocking it failed: no prompt could be shown,
    /// or it was dismissed.
    #[error("the {store} keyring is locked, and it could not be unlocked")]
    Locked {
        /// The store.
        store: KeyringStore,
        /// What the store said.
        detail: String,
    },
    /// The entry is not in this machine's keyring: the file was copied from another machine, or
    /// the entry was deleted.
    #[error("{}", missing_message(reference, set_on.as_deref(), here.as_deref()))]
    Missing {
        /// The entry.
        reference: KeyringRef,
        /// The machine the token was set on, if the value says.
        set_on: Option<String>,
        /// This machine's name, if it can be read.
        here: Option<String>,
    },
    /// More than one entry has the attributes of sealctl's entry (another client stored one with
    /// the same `service` and `username`), so which holds the token cannot be told.
    #[error(
        "{count} entries in the {} keyring match entry {} (service `sealctl`, username `{}`), so sealctl cannot tell which one holds the token",
        reference.store, reference.id, reference.id
    )]
    Ambiguous {
        /// The entry sealctl looked for.
        reference: KeyringRef,
        /// How many match.
        count: usize,
    },
    /// The store refused access.
    #[error("the {store} keyring refused access")]
    AccessDenied {
        /// The store.
        store: KeyringStore,
        /// What the store said.
        detail: String,
    },
    /// The store did not answer in time.
    #[error("the {store} keyring did not answer within {} s", after.as_secs_f32())]
    TimedOut {
        /// The store.
        store: KeyringStore,
        /// How long sealctl waited.
        after: Duration,
    },
    /// The value names a store this build cannot reach (one of another platform).
    #[error("the {0} keyring is not available on this system")]
    Unsupported(KeyringStore),
    /// The token itself cannot be stored.
    #[error(transparent)]
    Token(TokenError),
    /// A write failed, and the entry it may have made could not be deleted again (the keyring
    /// stopped answering, or refused the deletion).
    #[error("{error}; entry {reference} may have been made, and sealctl could not remove it")]
    LeftBehind {
        /// Why the write failed.
        error: Box<KeyringError>,
        /// The entry that may be there.
        reference: KeyringRef,
    },
    /// Anything else.
    #[error("the {store} keyring failed")]
    Failed {
        /// The store.
        store: KeyringStore,
        /// What the store said.
        detail: String,
    },
}

fn missing_message(reference: &KeyringRef, set_on: Option<&str>, here: Option<&str>) -> String {
    let store = reference.store;
    let id = &reference.id;
    match set_on {
        // On the machine it was set on, "copied from there" would send the reader looking for a
        // copy that never was.
        Some(host) if Some(host) == here => {
            let lost = match store {
                KeyringStore::Keyutils => {
                    "; the kernel keyring keeps entries only until the session ends or the machine restarts"
                }
                _ => "",
            };
            format!(
                "the {store} keyring of this machine (`{host}`) has no entry {id}, though the token was set here: the entry was deleted since, or the file comes from another machine of the same name{lost}"
            )
        }
        Some(host) => format!(
            "the {store} keyring of this machine has no entry {id}; it was set in the keyring of `{host}`, so the file was probably copied from there"
        ),
        None => format!("the {store} keyring of this machine has no entry {id}"),
    }
}

impl KeyringError {
    /// Whether this is a missing entry whose token was set on this very machine.
    pub fn set_on_this_machine(&self) -> bool {
        matches!(
            self,
            KeyringError::Missing { set_on: Some(host), here: Some(here), .. } if host == here
        )
    }

    /// What the store itself said, when sealctl's message is a translation of it.
    pub fn detail(&self) -> Option<&str> {
        match self {
            KeyringError::NoSession { detail }
            | KeyringError::NoProvider { detail }
            | KeyringError::Locked { detail, .. }
            | KeyringError::AccessDenied { detail, .. }
            | KeyringError::Failed { detail, .. } => Some(detail),
            KeyringError::LeftBehind { error, .. } => error.detail(),
            _ => None,
        }
    }
}

/// Where a call failed: before reaching the store, or in it.
pub(super) enum Cause {
    /// The store is not one of this build's.
    Unsupported,
    /// Connecting to the store.
    Connect(keyring_core::Error),
    /// A call on a connected store.
    Call(keyring_core::Error),
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Unsupported => f.write_str("Unsupported"),
            Cause::Connect(error) => write!(f, "Connect({})", describe(error)),
            Cause::Call(error) => write!(f, "Call({})", describe(error)),
        }
    }
}

/// Turns a store's error into one of the usual causes.
pub(super) fn classify(
    store: KeyringStore,
    cause: Cause,
    reference: Option<&KeyringRef>,
) -> KeyringError {
    use keyring_core::Error as E;
    let (connecting, error) = match cause {
        Cause::Unsupported => return KeyringError::Unsupported(store),
        Cause::Connect(error) => (true, error),
        Cause::Call(error) => (false, error),
    };
    let detail = describe(&error);
    if let Some(kind) = secret_service::kind(&error) {
        return match kind {
            SsKind::NoProvider => KeyringError::NoProvider { detail },
            SsKind::Unreachable if connecting => KeyringError::NoSession { detail },
            SsKind::Locked => KeyringError::Locked { store, detail },
            SsKind::AccessDenied => KeyringError::AccessDenied { store, detail },
            SsKind::Unreachable | SsKind::Other => KeyringError::Failed { store, detail },
        };
    }
    match error {
        E::NoEntry => match reference {
            Some(reference) => KeyringError::Missing {
                reference: reference.clone(),
                set_on: None,
                here: None,
            },
            None => KeyringError::Failed { store, detail },
        },
        E::Ambiguous(entries) => match reference {
            Some(reference) => KeyringError::Ambiguous {
                reference: reference.clone(),
                count: entries.len(),
            },
            None => KeyringError::Failed { store, detail },
        },
        E::NoStorageAccess(_) if store == KeyringStore::Keyutils => {
            KeyringError::AccessDenied { store, detail }
        }
        E::NoStorageAccess(_) => KeyringError::Locked { store, detail },
        _ => KeyringError::Failed { store, detail },
    }
}

/// A store's error in words, never with the bytes some variants carry (they may be a secret).
fn describe(error: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match error {
        E::BadEncoding(_) => "the entry's data is not UTF-8".to_owned(),
        E::BadDataFormat(_, cause) => format!("the entry's data is malformed: {cause}"),
        E::Ambiguous(entries) => format!("{} entries match", entries.len()),
        other => other.to_string(),
    }
}

/// What a Secret Service error means for a user.
#[cfg_attr(
    not(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    )),
    allow(dead_code, reason = "read only where there is a Secret Service")
)]
enum SsKind {
    /// The bus could not be reached.
    Unreachable,
    /// The bus answered, but nobody there provides org.freedesktop.secrets.
    NoProvider,
    Locked,
    AccessDenied,
    Other,
}

/// The Secret Service's errors, read from inside the store's.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod secret_service {
    use secret_service::Error as Ss;

    use super::SsKind as Kind;

    pub fn kind(error: &keyring_core::Error) -> Option<Kind> {
        use keyring_core::Error as E;
        let (E::PlatformFailure(inner) | E::NoStorageAccess(inner)) = error else {
            return None;
        };
        let error = inner.downcast_ref::<Ss>()?;
        Some(match error {
            Ss::Unavailable => Kind::NoProvider,
            Ss::Locked | Ss::NoResult | Ss::Prompt | Ss::PromptDisconnected => Kind::Locked,
            Ss::Zbus(zbus::Error::MethodError(name, ..)) => method_error(name.as_str()),
            Ss::ZbusFdo(error) => method_error(&fdo_name(error)),
            Ss::Zbus(zbus::Error::FDO(error)) => method_error(&fdo_name(error)),
            Ss::Zbus(
                zbus::Error::Connection(..)
                | zbus::Error::InputOutput(_)
                | zbus::Error::Address(_)
                | zbus::Error::Handshake(_)
                | zbus::Error::Failure(_),
            ) => Kind::Unreachable,
            _ => Kind::Other,
        })
    }

    fn method_error(name: &str) -> Kind {
        match name.rsplit('.').next().unwrap_or_default() {
            "ServiceUnknown" | "NameHasNoOwner" => Kind::NoProvider,
            "AccessDenied" | "AuthFailed" | "IsLocked" => Kind::AccessDenied,
            _ => Kind::Other,
        }
    }

    fn fdo_name(error: &zbus::fdo::Error) -> String {
        use zbus::DBusError as _;
        error.name().to_string()
    }
}

/// Where there is no Secret Service, no error is one of its.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod secret_service {
    pub fn kind(_: &keyring_core::Error) -> Option<super::SsKind> {
        None
    }
}
