//! Opening a value of any backend, with the one check of where it belongs.

use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::SealedValue;
use secrecy::{ExposeSecret as _, SecretString};

use super::{Access, backend_of};
use crate::envelope::{Envelope, Place};
use crate::error::OpenError;

/// Opens sealed values of any backend, reaching for what each needs only when the first value
/// that needs it comes, and judges every one the same way: in its own place, for its profile's
/// endpoint (`Envelope::bound_to`, the one place check).
#[derive(Debug)]
pub struct Opener {
    access: Access,
    /// Values opened together ahead of use ([`Opener::open_together`]), each handed out once.
    /// Keyed by the value and the place it was found at: a backend may bind by place (transit).
    opened: Vec<(SealedValue, Place, Result<Envelope, OpenError>)>,
}

impl Opener {
    /// An opener reaching this machine's identities and keyrings through `access`.
    pub fn new(access: Access) -> Opener {
        Opener {
            access,
            opened: Vec::new(),
        }
    }

    /// Opens `values` together, each backend's at once ([`Backend::open_many`](super::Backend::open_many)),
    /// for a command that will use them all (`exec`): a hardware key behind an age plugin then
    /// asks once, not once per value. Nothing is judged here: each value is still checked where
    /// [`Opener::open`] or [`Opener::open_envelope`] hands it out. A value of an unknown backend
    /// is left for those to refuse.
    pub fn open_together(&mut self, values: &[(&SealedValue, &Place)]) {
        let mut backends: Vec<&'static str> = Vec::new();
        for (sealed, _) in values {
            if let Ok(backend) = backend_of(sealed)
                && !backends.contains(&backend.name())
            {
                backends.push(backend.name());
            }
        }
        for name in backends {
            let mine: Vec<(&SealedValue, &Place)> = values
                .iter()
                .copied()
                .filter(|(sealed, place)| {
                    backend_of(sealed).is_ok_and(|backend| backend.name() == name)
                        && !self
                            .opened
                            .iter()
                            .any(|(known, at, _)| known == *sealed && at == *place)
                })
                .collect();
            let Some(backend) = mine.first().and_then(|(sealed, _)| backend_of(sealed).ok())
            else {
                continue;
            };
            let results = backend.open_many(&mine, &mut self.access);
            self.opened.extend(
                mine.into_iter()
                    .zip(results)
                    .map(|((sealed, place), result)| (sealed.clone(), place.clone(), result)),
            );
        }
    }

    /// The envelope of `sealed`: opened ahead by [`Opener::open_together`] (a copy, as a value
    /// may be used twice: `exec --env` and the config copy), else now.
    fn envelope(&mut self, sealed: &SealedValue, place: &Place) -> Result<Envelope, OpenError> {
        let found = (self.opened.iter()).position(|(known, at, _)| known == sealed && at == place);
        match found {
            Some(at) => match &self.opened[at].2 {
                Ok(envelope) => Ok(Envelope {
                    place: envelope.place.clone(),
                    endpoint: envelope.endpoint.clone(),
                    secret: SecretString::from(envelope.secret.expose_secret().to_owned()),
                }),
                // An error is handed out once; asked again, the value is tried again.
                Err(_) => self.opened.swap_remove(at).2,
            },
            None => backend_of(sealed)?.open(sealed, place, &mut self.access),
        }
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
        let envelope = self.envelope(sealed, place)?;
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
        let envelope = self.envelope(sealed, place)?;
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
