//! What a sealed value encrypts: the secret, bound to the profile and key it belongs to and to
//! the endpoint its token is sent to.
//!
//! The envelope is one line of JSON, so that `age -d` shows it readably:
//! `{"v":2,"profile":"prod","key":"mgmt_token","endpoint":{"product":"clustered","host":"prod.example.com","port":"443"},"secret":"…"}`.
//! Version 1, written by earlier sealctl versions, has no `endpoint`: it still opens, unbound.

use std::fmt;
use std::time::SystemTime;

pub use sealctl_profile::Place;
use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::{BackendName, ENDPOINT_PARAM, EXPIRY_PARAM, SealedValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{OpenError, TokenError};
use crate::seal::validate_token;

/// The envelope format version sealctl writes: bound to an endpoint.
pub const ENVELOPE_VERSION: u32 = 2;

/// The envelope format version of earlier sealctl versions, without an endpoint; still opened.
pub const UNBOUND_ENVELOPE_VERSION: u32 = 1;

/// A secret, where it belongs and where its token may be sent.
pub struct Envelope {
    /// Where it belongs.
    pub place: Place,
    /// The endpoint it was sealed for; `None` in a version 1 envelope, which is not bound to one.
    pub endpoint: Option<Endpoint>,
    /// The secret.
    pub secret: SecretString,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("place", &self.place)
            .field("endpoint", &self.endpoint)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct Written<'a> {
    v: u32,
    profile: &'a str,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a Endpoint>,
    secret: &'a str,
}

#[derive(Deserialize)]
struct Read {
    v: u32,
    profile: String,
    key: String,
    endpoint: Option<Endpoint>,
    secret: SecretString,
}

impl Envelope {
    /// The envelope as bytes to encrypt, in a buffer that is zeroed when dropped: version 2 with
    /// an endpoint, version 1 without. The buffer is sized up front so that no partial copy of
    /// the secret is left behind by a reallocation.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let secret = self.secret.expose_secret();
        let endpoint_len = self.endpoint.as_ref().map_or(0, |endpoint| {
            serde_json::to_vec(endpoint).map_or(0, |json| json.len())
        });
        let worst_case = 96
            + 6 * (self.place.profile.len() + self.place.key.len() + secret.len() + endpoint_len);
        let mut bytes = Zeroizing::new(Vec::with_capacity(worst_case));
        serde_json::to_writer(
            &mut *bytes,
            &Written {
                v: if self.endpoint.is_some() {
                    ENVELOPE_VERSION
                } else {
                    UNBOUND_ENVELOPE_VERSION
                },
                profile: &self.place.profile,
                key: &self.place.key,
                endpoint: self.endpoint.as_ref(),
                secret,
            },
        )
        .expect("writing JSON to memory cannot fail");
        bytes
    }

    /// Reads an envelope from decrypted bytes; `None` if they are not one: a version 2 envelope
    /// must name its endpoint, a version 1 envelope must not.
    pub fn from_bytes(bytes: &[u8]) -> Option<Envelope> {
        let read: Read = serde_json::from_slice(bytes).ok()?;
        let endpoint = match (read.v, read.endpoint) {
            (ENVELOPE_VERSION, Some(endpoint)) => Some(endpoint),
            (UNBOUND_ENVELOPE_VERSION, None) => None,
            _ => return None,
        };
        Some(Envelope {
            place: Place::new(read.profile, read.key),
            endpoint,
            secret: read.secret,
        })
    }
}

impl Envelope {
    /// The envelope that seals `secret` for `place`, bound to `endpoint`: the one way a token is
    /// put into an envelope to be sealed, for every backend, so that every one refuses a token
    /// that cannot be sealed (empty, too long, a line break or other control character).
    pub fn sealing(
        secret: &SecretString,
        place: &Place,
        endpoint: &Endpoint,
    ) -> Result<Envelope, TokenError> {
        validate_token(secret)?;
        Ok(Envelope {
            place: place.clone(),
            endpoint: Some(endpoint.clone()),
            secret: secret.clone(),
        })
    }

    /// The value to write in the file for this envelope, kept by `backend` as `payload`: the
    /// backend's own parameters, then the clear copy of the endpoint the envelope is bound to
    /// (`ep=`, which `Envelope::bound_to` holds to the endpoint sealed inside) and the token's
    /// expiry (`exp=`). Every backend frames its values here, so `check` reads the binding and
    /// the expiry of every backend alike.
    pub fn framed(
        &self,
        backend: &'static str,
        payload: String,
        mut params: Vec<(String, String)>,
        expires_at: Option<SystemTime>,
    ) -> String {
        if let Some(endpoint) = &self.endpoint {
            params.push((ENDPOINT_PARAM.to_owned(), endpoint.digest()));
        }
        if let Some(expiry) = expires_at {
            params.push((
                EXPIRY_PARAM.to_owned(),
                humantime::format_rfc3339_seconds(expiry).to_string(),
            ));
        }
        SealedValue {
            backend: BackendName::new(backend).expect("a backend's name is well-formed"),
            payload,
            params,
        }
        .to_string()
    }
}

impl Envelope {
    /// This envelope, opened from `sealed`, if it belongs at `place` and, when `endpoint` is
    /// given, is bound to it. The endpoint sealed inside is authoritative; the clear `ep=` digest
    /// beside it must agree with it, so that `check` and opening never disagree.
    pub(crate) fn bound_to(
        self,
        sealed: &SealedValue,
        place: &Place,
        endpoint: Option<&Endpoint>,
    ) -> Result<Envelope, OpenError> {
        if self.place != *place {
            return Err(OpenError::Misplaced {
                sealed_for: self.place,
                found_in: place.clone(),
            });
        }
        let Some(now) = endpoint else {
            return Ok(self);
        };
        match (&self.endpoint, sealed.endpoint_digest()) {
            (Some(sealed_for), _) if sealed_for != now => Err(OpenError::EndpointChanged {
                place: self.place,
                sealed_for: Box::new(sealed_for.clone()),
                now: Box::new(now.clone()),
            }),
            (Some(sealed_for), Some(clear)) if clear != sealed_for.digest() => {
                Err(OpenError::EndpointEdited {
                    place: self.place,
                    clear: clear.to_owned(),
                    sealed_for: Some(Box::new(sealed_for.clone())),
                })
            }
            (None, Some(clear)) => Err(OpenError::EndpointEdited {
                place: self.place,
                clear: clear.to_owned(),
                sealed_for: None,
            }),
            _ => Ok(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint::from_fields(|key| match key {
            "product" => Some("clustered"),
            "host" => Some("Prod.Example.com"),
            _ => None,
        })
    }

    #[test]
    fn round_trip_with_any_characters() {
        let envelope = Envelope {
            place: Place::new("prod \"eu\"", "mgmt_token"),
            endpoint: Some(endpoint()),
            secret: SecretString::from("apiv3_x\\y\"z"),
        };
        let bytes = envelope.to_bytes();
        assert!(bytes.starts_with(
            br#"{"v":2,"profile":"prod \"eu\"","key":"mgmt_token","endpoint":{"product":"clustered","host":"prod.example.com","port":"443"},"secret":"#
        ));
        let back = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(back.place, envelope.place);
        assert_eq!(back.endpoint, Some(endpoint()));
        assert_eq!(back.secret.expose_secret(), "apiv3_x\\y\"z");
        assert!(!format!("{back:?}").contains("apiv3"));
    }

    #[test]
    fn version_1_envelopes_read_unbound() {
        let back =
            Envelope::from_bytes(br#"{"v":1,"profile":"a","key":"b","secret":"c"}"#).unwrap();
        assert_eq!(back.endpoint, None);
        let unbound = Envelope {
            endpoint: None,
            ..back
        };
        assert!(
            unbound
                .to_bytes()
                .starts_with(br#"{"v":1,"profile":"a","key":"b","secret""#)
        );
    }

    #[test]
    fn other_versions_and_shapes_are_not_envelopes() {
        for bytes in [
            &br#"{"v":2,"profile":"a","key":"b","secret":"c"}"#[..],
            br#"{"v":1,"profile":"a","key":"b","endpoint":{"product":"clustered"},"secret":"c"}"#,
            br#"{"v":3,"profile":"a","key":"b","endpoint":{"product":"clustered"},"secret":"c"}"#,
            b"hello",
        ] {
            assert!(Envelope::from_bytes(bytes).is_none());
        }
    }
}
