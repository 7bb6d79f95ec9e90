//! The sealing transaction: what a backend stores outside the file for a change that is not
//! saved is taken back, and what a saved change replaced is deleted after.

use std::error::Error;
use std::path::Path;
use std::time::SystemTime;

use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::{SealedValue, looks_sealed};
use secrecy::SecretString;

use super::{Access, Backend, Destination, LoadError, SealWith, backend};
use crate::envelope::{Envelope, Place};
use crate::error::SealError;
use crate::recipient::Recipient;

/// Something a backend stored outside the file that sealctl could not delete: for the caller to
/// tell, with the command that deletes it by hand.
#[derive(Debug)]
pub struct LeftBehind {
    /// What is left (`keyring entry secret-service/…`).
    pub what: String,
    /// Why it was to be deleted (`was made for a change that was not saved`).
    pub why: &'static str,
    /// Why deleting it failed.
    pub error: Box<dyn Error + Send + Sync>,
    /// How to delete it by hand, if the backend knows.
    pub removal: Option<String>,
}

/// Seals tokens to one [`Destination`], remembering what the backend stored outside the file,
/// so that it is deleted again if the sealer is dropped before [`Sealer::saved`] is called.
pub struct Sealer {
    to: Destination,
    recipients: Vec<Recipient>,
    access: Access,
    made: Vec<SealedValue>,
    left_behind: Box<dyn Fn(&LeftBehind)>,
}

impl Sealer {
    /// A sealer to `to`, with the file's `recipients` for a backend that needs them; what it
    /// cannot take back when dropped unsaved is handed to `left_behind`.
    pub fn new(
        to: Destination,
        recipients: Vec<Recipient>,
        access: Access,
        left_behind: Box<dyn Fn(&LeftBehind)>,
    ) -> Sealer {
        Sealer {
            to,
            recipients,
            access,
            made: Vec::new(),
            left_behind,
        }
    }

    /// The recipients it seals to, for a backend that needs them.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Where this sealer seals to.
    pub fn destination(&self) -> &Destination {
        &self.to
    }

    /// The sealed value to write at `place` in `config` for `secret`, bound to `endpoint`.
    pub fn seal(
        &mut self,
        secret: &SecretString,
        place: &Place,
        endpoint: &Endpoint,
        config: &Path,
        expires_at: Option<SystemTime>,
    ) -> Result<String, SealError> {
        let envelope = Envelope::sealing(secret, place, endpoint)?;
        // A store entry's label names the file wherever the command was run from.
        let config = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
        let backend = self.to.backend();
        let value = backend.seal(
            &envelope,
            expires_at,
            &SealWith {
                store: self.to.store(),
                recipients: &self.recipients,
                config: &config,
            },
            &mut self.access,
        )?;
        if let Ok(sealed) = SealedValue::parse(&value)
            && backend.stored(&sealed).is_some()
        {
            self.made.push(sealed);
        }
        Ok(value)
    }

    /// The file naming what this sealer made is saved: nothing is to be taken back.
    pub fn saved(&mut self) {
        self.made.clear();
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("to", &self.to)
            .field("made", &self.made.len())
            .finish()
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        let made = std::mem::take(&mut self.made);
        for left in undo_all(
            &made,
            "was made for a change that was not saved",
            &mut self.access,
        ) {
            (self.left_behind)(&left);
        }
    }
}

/// Deletes what the `old` values (replaced by a saved change) kept outside the file. Reaches
/// for a store only if one of them has something there. Returns what could not be deleted.
pub fn forget_replaced<'v>(
    old: impl IntoIterator<Item = &'v str>,
    access: &mut Access,
) -> Result<Vec<LeftBehind>, LoadError> {
    let values: Vec<SealedValue> = old
        .into_iter()
        .filter(|value| looks_sealed(value))
        .filter_map(|value| SealedValue::parse(value).ok())
        .collect();
    let mut left = Vec::new();
    for sealed in &values {
        let Some(backend) = backend(sealed.backend.as_str()) else {
            continue;
        };
        if backend.stored(sealed).is_none() {
            continue;
        }
        if let Err(error) = backend.delete(sealed, access) {
            // The caller's own setting could not be loaded: its error, not a leftover.
            let error = match error.downcast::<LoadError>() {
                Ok(load) => return Err(*load),
                Err(other) => other,
            };
            left.push(left_behind(
                backend,
                sealed,
                "held a value now replaced",
                error,
            ));
        }
    }
    Ok(left)
}

/// Takes back what `values` stored, newest first: a value that overwrote an older one of the
/// same change is undone before it, so the older one's undo finds the server as it left it.
fn undo_all(values: &[SealedValue], why: &'static str, access: &mut Access) -> Vec<LeftBehind> {
    let mut left = Vec::new();
    for sealed in values.iter().rev() {
        let Some(backend) = backend(sealed.backend.as_str()) else {
            continue;
        };
        if let Err(error) = backend.undo(sealed, access) {
            left.push(left_behind(backend, sealed, why, error));
        }
    }
    left
}

fn left_behind(
    backend: &dyn Backend,
    sealed: &SealedValue,
    why: &'static str,
    error: Box<dyn Error + Send + Sync>,
) -> LeftBehind {
    LeftBehind {
        what: backend
            .stored(sealed)
            .unwrap_or_else(|| format!("{} value", backend.name())),
        why,
        error,
        removal: backend.removal_command(sealed),
    }
}
