//! What a sealed value encrypts: the secret, bound to the profile and key it belongs to.
//!
//! The envelope is one line of JSON, so that `age -d` shows it readably:
//! `{"v":1,"profile":"prod","key":"mgmt_token","secret":"…"}`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The envelope format version.
pub const ENVELOPE_VERSION: u32 = 1;

/// Where a secret belongs: a profile and one of its keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The profile's name.
    pub profile: String,
    /// The key (`mgmt_token` or `token`).
    pub key: String,
}

impl Place {
    /// The place `key` of `profile`.
    pub fn new(profile: impl Into<String>, key: impl Into<String>) -> Place {
        Place {
            profile: profile.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "profile `{}` key `{}`", self.profile, self.key)
    }
}

/// A secret and where it belongs.
pub struct Envelope {
    /// Where it belongs.
    pub place: Place,
    /// The secret.
    pub secret: SecretString,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("place", &self.place)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct Written<'a> {
    v: u32,
    profile: &'a str,
    key: &'a str,
    secret: &'a str,
}

#[derive(Deserialize)]
struct Read {
    v: u32,
    profile: String,
    key: String,
    secret: SecretString,
}

impl Envelope {
    /// The envelope as bytes to encrypt, in a buffer that is zeroed when dropped. The buffer is
    /// sized up front so that no partial copy of the secret is left behind by a reallocation.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let secret = self.secret.expose_secret();
        let worst_case = 64 + 6 * (self.place.profile.len() + self.place.key.len() + secret.len());
        let mut bytes = Zeroizing::new(Vec::with_capacity(worst_case));
        serde_json::to_writer(
            &mut *bytes,
            &Written {
                v: ENVELOPE_VERSION,
                profile: &self.place.profile,
                key: &self.place.key,
                secret,
            },
        )
        .expect("writing JSON to memory cannot fail");
        bytes
    }

    /// Reads an envelope from decrypted bytes; `None` if they are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Envelope> {
        let read: Read = serde_json::from_slice(bytes).ok()?;
        (read.v == ENVELOPE_VERSION).then(|| Envelope {
            place: Place::new(read.profile, read.key),
            secret: read.secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_any_characters() {
        let envelope = Envelope {
            place: Place::new("prod \"eu\"", "mgmt_token"),
            secret: SecretString::from("apiv3_x\\y\"z"),
        };
        let bytes = envelope.to_bytes();
        assert!(
            bytes.starts_with(br#"{"v":1,"profile":"prod \"eu\"","key":"mgmt_token","secret":"#)
        );
        let back = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(back.place, envelope.place);
        assert_eq!(back.secret.expose_secret(), "apiv3_x\\y\"z");
        assert!(!format!("{back:?}").contains("apiv3"));
    }

    #[test]
    fn other_versions_and_shapes_are_not_envelopes() {
        assert!(Envelope::from_bytes(br#"{"v":2,"profile":"a","key":"b","secret":"c"}"#).is_none());
        assert!(Envelope::from_bytes(b"hello").is_none());
    }
}
