//! `--backend transit`: the file keeps the server's ciphertext of the [`Envelope`], made by a
//! transit key created with `derived=true`, whose `context` is derived from the value's place
//! (profile and key) and its clear `ep=` digest. So the server itself refuses a value copied
//! into another place or whose `ep=` was edited; a value whose profile's endpoint changed, `ep=`
//! left alone, decrypts and is refused by the [`Opener`](crate::Opener) naming both endpoints.
//! `rekey` rewraps it (`transit/rewrap`, same context) without ever seeing the token.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealctl_profile::sealed::SealedValue;
use sealctl_profile::sealed::openbao::{TRANSIT, TransitRef, is_name, is_path};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::client::{Failure, Method};
use super::error::ServiceError;
use super::{Session, unexpected};
use crate::backend::{Access, Backend, Needs, SealWith};
use crate::envelope::{Envelope, Place};
use crate::error::{OpenError, SealError};

/// The `transit` backend.
#[derive(Debug)]
pub struct Transit;

/// The context binding a value to `place` and its clear endpoint digest `ep` (empty for none):
/// JSON, so that no two places share one whatever their names hold.
pub fn context(place: &Place, ep: Option<&str>) -> String {
    let json = serde_json::to_vec(&(
        "sealctl-transit-v1",
        &place.profile,
        &place.key,
        ep.unwrap_or(""),
    ))
    .expect("JSON in memory");
    STANDARD.encode(json)
}

/// The mount and key new values are sealed with: `store` (`--transit-key`), else the settings.
fn mount_and_key(session: &Session, store: Option<&str>) -> Result<(String, String), ServiceError> {
    let settings = session.settings();
    let key = store
        .filter(|store| !store.is_empty())
        .unwrap_or(&settings.transit_key)
        .to_owned();
    if !is_name(&key) || !is_path(&settings.transit_mount) {
        return Err(ServiceError::Setting {
            what: format!(
                "transit key {key:?} is not a key name (letters, digits, `.`, `_` and `-`)"
            ),
            hint: "name a transit key with --transit-key NAME".to_owned(),
        });
    }
    Ok((settings.transit_mount.clone(), key))
}

/// [`check_derived`], for `doctor`.
pub(super) fn check_derived_for_probe(
    session: &mut Session,
    mount: &str,
    key: &str,
) -> Result<(), ServiceError> {
    check_derived(session, mount, key)
}

/// Refuses a key that does not exist or is not derived (read once per command).
fn check_derived(session: &mut Session, mount: &str, key: &str) -> Result<(), ServiceError> {
    if session.derived.iter().any(|(m, k)| m == mount && k == key) {
        return Ok(());
    }
    let path = format!("{mount}/keys/{key}");
    #[derive(Deserialize)]
    struct Answer {
        data: KeyInfo,
    }
    #[derive(Deserialize)]
    struct KeyInfo {
        #[serde(default)]
        derived: bool,
    }
    let bytes = session
        .call(Method::Get, &path, None, "read")
        .map_err(|failure| not_found(failure, mount, key, &path))?;
    let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| ServiceError::Server {
        path: path.clone(),
        status: 200,
        message: "the answer is not a transit key".to_owned(),
    })?;
    if !answer.data.derived {
        return Err(ServiceError::NotDerived {
            mount: mount.to_owned(),
            key: key.to_owned(),
        });
    }
    session.derived.push((mount.to_owned(), key.to_owned()));
    Ok(())
}

/// A 404 (or a 400 naming a missing key) as an unknown key or mount.
fn not_found(failure: Failure, mount: &str, key: &str, path: &str) -> ServiceError {
    match failure {
        Failure::Refused(refusal)
            if refusal.status == 404
                || (refusal.status == 400 && refusal.message.contains("not found"))
                || refusal.message.contains("no handler for route") =>
        {
            ServiceError::NotFound {
                what: format!(
                    "there is no transit key {key} at mount {mount} ({})",
                    refusal.message
                ),
                hint: format!(
                    "make it with `bao secrets enable -path={mount} transit` (if the mount is missing) and `bao write {mount}/keys/{key} derived=true`"
                ),
            }
        }
        other => unexpected(other, path),
    }
}

/// The answer of encrypt and rewrap.
#[derive(Deserialize)]
struct Ciphertext {
    data: CiphertextData,
}
#[derive(Deserialize)]
struct CiphertextData {
    ciphertext: String,
}

fn ciphertext(bytes: &[u8], path: &str) -> Result<String, ServiceError> {
    serde_json::from_slice::<Ciphertext>(bytes)
        .map(|answer| answer.data.ciphertext)
        .map_err(|_| ServiceError::Server {
            path: path.to_owned(),
            status: 200,
            message: "the answer holds no ciphertext".to_owned(),
        })
}

/// The context refused: the value is not in the place it was sealed for.
fn refused_or(failure: Failure, place: &Place, mount: &str, key: &str, path: &str) -> ServiceError {
    match failure {
        Failure::Refused(refusal)
            if refusal.status == 400
                && (refusal.message.contains("message authentication failed")
                    || refusal.message.contains("context")) =>
        {
            ServiceError::Moved {
                place: place.clone(),
            }
        }
        other => not_found(other, mount, key, path),
    }
}

fn reference(sealed: &SealedValue) -> Result<TransitRef, ServiceError> {
    TransitRef::parse(&sealed.payload).map_err(|error| ServiceError::Setting {
        what: format!("the transit value is malformed: {error}"),
        hint: "restore the value from version control, or set the token again with `sealctl token set`".to_owned(),
    })
}

/// Asks the server to `verb` (`decrypt`, `rewrap`) the ciphertext of `sealed`, with the context
/// of the place it was found at: the value's reference, the path asked, and the answer.
fn ask(
    sealed: &SealedValue,
    place: &Place,
    verb: &str,
    access: &mut Access,
) -> Result<(TransitRef, String, Zeroizing<Vec<u8>>), ServiceError> {
    let reference = reference(sealed)?;
    let session = access.openbao()?;
    let path = format!("{}/{verb}/{}", reference.mount, reference.key);
    let body = serde_json::to_vec(&serde_json::json!({
        "ciphertext": reference.ciphertext,
        "context": context(place, sealed.endpoint_digest()),
    }))
    .expect("JSON in memory");
    let bytes = session
        .call(Method::Post, &path, Some(&body), "update")
        .map_err(|failure| refused_or(failure, place, &reference.mount, &reference.key, &path))?;
    Ok((reference, path, bytes))
}

impl Transit {
    /// The value's ciphertext rewrapped with the newest version of its key, same context.
    fn rewrap(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Result<String, ServiceError> {
        let (reference, path, bytes) = ask(sealed, place, "rewrap", access)?;
        let rewrapped = TransitRef::new(
            &reference.mount,
            &reference.key,
            &ciphertext(&bytes, &path)?,
        )
        .map_err(|_| ServiceError::Server {
            path: path.clone(),
            status: 200,
            message: "the answer is not a vault:vN: ciphertext".to_owned(),
        })?;
        Ok(SealedValue {
            payload: rewrapped.to_string(),
            ..sealed.clone()
        }
        .to_string())
    }
}

impl Backend for Transit {
    fn name(&self) -> &'static str {
        TRANSIT
    }

    fn summary(&self) -> &'static str {
        "Encrypted by an OpenBao/Vault transit key, ciphertext in the file"
    }

    fn needs(&self) -> Needs {
        Needs::Service
    }

    fn default_store(&self) -> Option<String> {
        Some(String::new())
    }

    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        access: &mut Access,
    ) -> Result<String, SealError> {
        let session = access.openbao()?;
        let (mount, key) = mount_and_key(session, with.store)?;
        check_derived(session, &mount, &key)?;
        let path = format!("{mount}/encrypt/{key}");
        let plaintext = Zeroizing::new(STANDARD.encode(&*envelope.to_bytes()));
        let ep = envelope.endpoint.as_ref().map(|endpoint| endpoint.digest());
        let body = Zeroizing::new(
            serde_json::to_vec(&serde_json::json!({
                "plaintext": &*plaintext,
                "context": context(&envelope.place, ep.as_deref()),
            }))
            .expect("JSON in memory"),
        );
        let bytes = session
            .call(Method::Post, &path, Some(&body), "update")
            .map_err(|failure| not_found(failure, &mount, &key, &path))?;
        let payload = TransitRef::new(&mount, &key, &ciphertext(&bytes, &path)?).map_err(|_| {
            ServiceError::Server {
                path: path.clone(),
                status: 200,
                message: "the answer is not a vault:vN: ciphertext".to_owned(),
            }
        })?;
        Ok(envelope.framed(TRANSIT, payload.to_string(), Vec::new(), expires_at))
    }

    fn open(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Result<Envelope, OpenError> {
        let (_, _, bytes) = ask(sealed, place, "decrypt", access)?;
        #[derive(Deserialize)]
        struct Answer {
            data: Plaintext,
        }
        #[derive(Deserialize)]
        struct Plaintext {
            plaintext: SecretString,
        }
        let answer: Answer =
            serde_json::from_slice(&bytes).map_err(|_| OpenError::NotAnEnvelope)?;
        let envelope = Zeroizing::new(
            STANDARD
                .decode(answer.data.plaintext.expose_secret())
                .map_err(|_| OpenError::NotAnEnvelope)?,
        );
        Envelope::from_bytes(&envelope).ok_or(OpenError::NotAnEnvelope)
    }

    fn refresh(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Option<Result<String, OpenError>> {
        Some(self.rewrap(sealed, place, access).map_err(OpenError::from))
    }

    /// Only where a server address is set in the environment (no call is made): `init` offers
    /// it then.
    fn usable_here(
        &self,
        _store: Option<&str>,
        _access: &mut Access,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        super::address_in_environment().map_err(Into::into)
    }

    fn offer(&self, _store: Option<&str>) -> Option<String> {
        Some(
            "transit: encrypted by an OpenBao/Vault transit key (a team's server; BAO_ADDR)"
                .to_owned(),
        )
    }

    fn probe(
        &self,
        access: &mut Access,
    ) -> Option<Result<String, Box<dyn std::error::Error + Send + Sync>>> {
        if !access.uses_service() {
            return None;
        }
        Some(super::probe::transit(access).map_err(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_differ_by_place_and_endpoint_and_cannot_be_confused() {
        let place = Place::new("prod", "token");
        let base = context(&place, Some("0badf00d"));
        assert_eq!(
            base,
            context(&Place::new("prod", "token"), Some("0badf00d"))
        );
        for other in [
            context(&Place::new("prod", "mgmt_token"), Some("0badf00d")),
            context(&Place::new("dev", "token"), Some("0badf00d")),
            context(&place, Some("0badf00e")),
            context(&place, None),
            // Names that would run together if joined without quoting.
            context(&Place::new("prodt", "oken"), Some("0badf00d")),
            context(&Place::new("prod\",\"token", ""), Some("0badf00d")),
        ] {
            assert_ne!(base, other);
        }
    }
}
