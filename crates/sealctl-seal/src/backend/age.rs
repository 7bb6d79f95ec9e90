//! Tokens sealed with age to the file's recipients: everything is in the file.

use std::time::SystemTime;

use sealctl_profile::sealed::{self, SealedValue};

use super::{Access, Backend, Needs, SealWith};
use crate::envelope::Envelope;
use crate::error::{OpenError, SealError};

/// The `age` backend.
#[derive(Debug)]
pub struct Age;

impl Backend for Age {
    fn name(&self) -> &'static str {
        sealed::age::NAME
    }

    fn summary(&self) -> &'static str {
        "Sealed with age in the file"
    }

    fn offer(&self, _store: Option<&str>) -> Option<String> {
        Some("sealed with age, in the file (shareable; needs your identity to open)".to_owned())
    }

    fn needs(&self) -> Needs {
        Needs::Recipients
    }

    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        _access: &mut Access,
    ) -> Result<String, SealError> {
        crate::seal::seal_envelope(envelope, with.recipients, expires_at)
    }

    fn open(
        &self,
        sealed: &SealedValue,
        _place: &crate::envelope::Place,
        access: &mut Access,
    ) -> Result<Envelope, OpenError> {
        let identities = access.identities().map_err(OpenError::Load)?;
        crate::seal::decrypt(sealed, identities)
    }

    /// All the values in one pass over the identities: one session per age plugin for them all.
    fn open_many(
        &self,
        values: &[(&SealedValue, &crate::envelope::Place)],
        access: &mut Access,
    ) -> Vec<Result<Envelope, OpenError>> {
        match access.identities() {
            Ok(identities) => {
                let sealed: Vec<&SealedValue> = values.iter().map(|(sealed, _)| *sealed).collect();
                crate::seal::decrypt_many(&sealed, identities)
            }
            // Each value gets the loader's own error (it is tried again for each).
            Err(_) => values
                .iter()
                .map(|(sealed, place)| self.open(sealed, place, access))
                .collect(),
        }
    }
}
