//! Opening a value of any backend, with the one check of where it belongs.

use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::SealedValue;
use secrecy::SecretString;

use super::{Access, backend_of};
use crate::envelope::{Envelope, Place};
use crate::error::OpenError;

/// Opens sealed values of any backend, reaching for what each needs only when the first value
/// that needs it comes, and judges every one the same way: in its own place, for its profile's
/// endpoint (`Envelope::bound_to`, the one place check).
#[derive(Debug)]
pub struct Opener {
    access: Access,
}

impl Opener {
    /// An opener reaching this machine's identities and keyrings through `access`.
    pub fn new(access: Access) -> Opener {
        Opener { access }
    }

    /// The secret of `sealed`, found at `place` whose profile now points at `endpoint`. Refuses a
    /// value sealed for another place or endpoint, naming both, and one of a backend this sealctl
    /// does not have.
    pub fn open(
        &mut self,
        sealed: &SealedValue,
        place: &Place,
        endpoint: &Endpoint,
    ) -> Result<SecretString, OpenError> {
        let envelope = backend_of(sealed)?.open(sealed, place, &mut self.access)?;
        Ok(envelope.bound_to(sealed, place, Some(endpoint))?.secret)
    }

    /// The whole envelope of `sealed` found at `place`, without judging the endpoint it is bound
    /// to: for re-sealing it to its profile's current endpoint (`rekey --rebind`). Still refuses
    /// a value sealed for another place.
    pub fn open_envelope(
        &mut self,
        sealed: &SealedValue,
        place: &Place,
    ) -> Result<Envelope, OpenError> {
        let envelope = backend_of(sealed)?.open(sealed, place, &mut self.access)?;
        envelope.bound_to(sealed, place, None)
    }

    /// `sealed`, found at `place`, re-sealed in its store without being opened, if its backend
    /// can ([`Backend::refresh`](super::Backend::refresh)); `None` if it cannot.
    pub fn refresh(
        &mut self,
        sealed: &SealedValue,
        place: &Place,
    ) -> Option<Result<String, OpenError>> {
        match backend_of(sealed) {
            Ok(backend) => backend.refresh(sealed, place, &mut self.access),
            Err(error) => Some(Err(error)),
        }
    }
}
