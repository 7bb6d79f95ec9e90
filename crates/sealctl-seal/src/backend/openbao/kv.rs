//! `--backend kv`: the token is kept raw in a field of a KV version 2 secret (other tools read
//! it; a rotation done with `bao kv put` or `patch` reaches every machine), and the file holds a
//! reference, `<mount>:<path>#<field>`. Where the value belongs (profile, key, endpoint) is kept
//! in the secret's `custom_metadata`, which survives new versions of the data, so the
//! [`Opener`](crate::Opener) refuses a reference copied elsewhere as for every backend. A secret
//! without that metadata opens unbound (a warning, as for an envelope of version 1).

use std::collections::BTreeMap;
use std::time::SystemTime;

use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::SealedValue;
use sealctl_profile::sealed::openbao::{KV, KvRef, is_path};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::client::{Failure, Method};
use super::error::ServiceError;
use super::{Session, unexpected};
use crate::backend::{Access, Backend, Needs, SealWith};
use crate::envelope::{Envelope, Place};
use crate::error::{OpenError, SealError};

/// The `kv` backend.
#[derive(Debug)]
pub struct Kv;

/// The parameter naming which `token set` wrote the secret's field, so that replacing a value
/// never deletes the field a newer one wrote. Not `id`: that is influxctl's token id, which
/// `token set`, `move`, `rotate` and `rekey` carry from value to value (a writer id carried into
/// a new kv value would not be the one its secret records, and the secret would be left behind).
pub const ID_PARAM: &str = "kvid";

/// Where the token's place is kept in the secret's `custom_metadata`: one key per field.
fn binding_key(field: &str) -> String {
    format!("sealctl.{field}")
}

/// The place a field belongs to, as kept in `custom_metadata`.
#[derive(Serialize, Deserialize)]
struct Binding {
    profile: String,
    key: String,
    endpoint: Endpoint,
    id: String,
}

/// Where what a field held before a seal replaced it is kept in `custom_metadata` (not under
/// `sealctl.`, so that no field's name can make it another field's binding key).
fn previous_key(field: &str) -> String {
    format!("sealctl-previous.{field}")
}

/// What a field held before a seal overwrote it in place, so that the seal is taken back (the
/// field put back as it was) rather than deleted if its change is not saved.
#[derive(Serialize, Deserialize)]
struct Previous {
    /// The entry id of the value whose seal overwrote the field.
    by: String,
    /// The secret's version that holds the field's previous data.
    version: u64,
    /// The field's binding then, as it was kept (none for a field another tool wrote).
    binding: Option<String>,
    /// What the field held before that, if the seal it names was of the same change: one step
    /// only, so that the record does not grow with every `token set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    earlier: Option<Box<Previous>>,
}

/// A secret as read: its fields (tokens, in clear) and metadata.
#[derive(Deserialize)]
struct Read {
    data: ReadData,
}
#[derive(Deserialize)]
struct ReadData {
    data: Option<BTreeMap<String, SecretString>>,
    metadata: Option<ReadMetadata>,
}
#[derive(Deserialize)]
struct ReadMetadata {
    #[serde(default)]
    version: u64,
    #[serde(default)]
    custom_metadata: Option<BTreeMap<String, String>>,
}

/// A secret as read: its fields (tokens, in clear), its version and its `custom_metadata`.
type Secret = (
    BTreeMap<String, SecretString>,
    u64,
    BTreeMap<String, String>,
);

/// A secret's newest fields (or those of `version`), version and `custom_metadata`; `None` if
/// there is none.
fn read(
    session: &mut Session,
    reference: &KvRef,
    version: Option<u64>,
) -> Result<Option<Secret>, ServiceError> {
    let mut path = format!("{}/data/{}", reference.mount, reference.path);
    if let Some(version) = version {
        path.push_str(&format!("?version={version}"));
    }
    let bytes = match session.call(Method::Get, &path, None, "read") {
        Ok(bytes) => bytes,
        Err(Failure::Refused(refusal)) if refusal.status == 404 => {
            // A missing secret is an empty JSON body with 404; a missing mount names no handler.
            if refusal.message.contains("no handler for route") {
                return Err(no_mount(&reference.mount));
            }
            return Ok(None);
        }
        Err(failure) => return Err(unexpected(failure, &path)),
    };
    let read: Read = serde_json::from_slice(&bytes).map_err(|_| ServiceError::Server {
        path: path.clone(),
        status: 200,
        message: "the answer is not a KV version 2 secret (is the mount KV version 1?)".to_owned(),
    })?;
    let Some(data) = read.data.data else {
        return Ok(None); // deleted
    };
    let metadata = read.data.metadata;
    Ok(Some((
        data,
        metadata.as_ref().map_or(0, |metadata| metadata.version),
        metadata
            .and_then(|metadata| metadata.custom_metadata)
            .unwrap_or_default(),
    )))
}

fn no_mount(mount: &str) -> ServiceError {
    ServiceError::NotFound {
        what: format!("there is no KV engine at mount {mount}"),
        hint: format!(
            "enable one with `bao secrets enable -path={mount} kv-v2`, or set kv_mount in [sealctl.openbao]"
        ),
    }
}

/// Writes `fields` as the secret's new version, if its newest is still `version` (0: none).
fn write(
    session: &mut Session,
    reference: &KvRef,
    fields: &BTreeMap<String, SecretString>,
    version: u64,
) -> Result<(), ServiceError> {
    let path = format!("{}/data/{}", reference.mount, reference.path);
    let data: BTreeMap<&str, &str> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.expose_secret()))
        .collect();
    let body = Zeroizing::new(
        serde_json::to_vec(&serde_json::json!({ "options": { "cas": version }, "data": data }))
            .expect("JSON in memory"),
    );
    let capability = if version == 0 { "create" } else { "update" };
    session
        .call(Method::Post, &path, Some(&body), capability)
        .map(drop)
        .map_err(|failure| match failure {
            Failure::Refused(refusal) if refusal.message.contains("check-and-set") => {
                ServiceError::Server {
                    path: path.clone(),
                    status: refusal.status,
                    message:
                        "the secret was changed by someone else meanwhile; run the command again"
                            .to_owned(),
                }
            }
            Failure::Refused(refusal) if refusal.message.contains("no handler for route") => {
                no_mount(&reference.mount)
            }
            other => unexpected(other, &path),
        })
}

/// Replaces the secret's `custom_metadata`.
fn write_metadata(
    session: &mut Session,
    reference: &KvRef,
    custom: &BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    let path = format!("{}/metadata/{}", reference.mount, reference.path);
    let body = serde_json::to_vec(&serde_json::json!({ "custom_metadata": custom })).expect("JSON");
    session
        .call(Method::Post, &path, Some(&body), "update")
        .map(drop)
        .map_err(|failure| unexpected(failure, &path))
}

fn reference(sealed: &SealedValue) -> Result<KvRef, ServiceError> {
    KvRef::parse(&sealed.payload).map_err(|error| ServiceError::Setting {
        what: format!("the kv reference is malformed: {error}"),
        hint: "restore the value from version control, or set the token again with `sealctl token set`".to_owned(),
    })
}

/// A new id: 64 random bits in hexadecimal.
fn new_id() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|cause| ServiceError::Setting {
        what: format!("cannot make a random id: {cause}"),
        hint: "this system's random source failed".to_owned(),
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Where a new value of `place` goes: `--kv-path` (`store`), else the settings' `kv_path`,
/// with `{profile}` replaced by the profile's name.
fn destination(
    session: &Session,
    store: Option<&str>,
    place: &Place,
) -> Result<KvRef, ServiceError> {
    let settings = session.settings();
    let template = store
        .filter(|store| !store.is_empty())
        .unwrap_or(&settings.kv_path);
    let path = template.replace("{profile}", &place.profile);
    let reference = KvRef {
        mount: settings.kv_mount.clone(),
        path,
        field: place.key.clone(),
        version: None,
    };
    if !is_path(&reference.path) || KvRef::parse(&reference.to_string()).is_err() {
        return Err(ServiceError::Setting {
            what: format!(
                "the kv path {:?} for {place} is not a secret path (names of letters, digits, `.`, `_` and `-`, joined by `/`)",
                reference.path
            ),
            hint: "choose one with --kv-path PATH".to_owned(),
        });
    }
    Ok(reference)
}

impl Kv {
    fn seal_into(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        access: &mut Access,
    ) -> Result<String, ServiceError> {
        let session = access.openbao()?;
        let reference = destination(session, with.store, &envelope.place)?;
        let (mut fields, version, mut custom) =
            read(session, &reference, None)?.unwrap_or_default();
        let id = new_id()?;
        let replaced = fields.insert(reference.field.clone(), envelope.secret.clone());
        write(session, &reference, &fields, version)?;
        let key = binding_key(&reference.field);
        let previous_key = previous_key(&reference.field);
        if replaced.is_some() {
            let earlier = custom
                .get(&previous_key)
                .and_then(|json| serde_json::from_str::<Previous>(json).ok())
                .map(|earlier| {
                    Box::new(Previous {
                        earlier: None,
                        ..earlier
                    })
                });
            let previous = Previous {
                by: id.clone(),
                version,
                binding: custom.get(&key).cloned(),
                earlier,
            };
            custom.insert(
                previous_key.clone(),
                serde_json::to_string(&previous).expect("JSON"),
            );
        } else {
            custom.remove(&previous_key);
        }
        if let Some(endpoint) = &envelope.endpoint {
            let binding = Binding {
                profile: envelope.place.profile.clone(),
                key: envelope.place.key.clone(),
                endpoint: endpoint.clone(),
                id: id.clone(),
            };
            custom.insert(key, serde_json::to_string(&binding).expect("JSON"));
        } else {
            custom.remove(&key);
        }
        if let Err(error) = write_metadata(session, &reference, &custom) {
            // The new token is written but its binding is not: put the field back as it was, so
            // that the server holds no token under a binding that is not its own. If that fails
            // too, the error below is the one to act on.
            fields.remove(&reference.field);
            if let Some(replaced) = replaced {
                fields.insert(reference.field.clone(), replaced);
            }
            // A secret this seal made is deleted; where deleting it is not allowed, it is left
            // without fields.
            let _ = if fields.is_empty() && version == 0 {
                delete_secret(session, &reference)
                    .or_else(|_| write(session, &reference, &fields, version + 1))
            } else {
                write(session, &reference, &fields, version + 1)
            };
            return Err(error);
        }
        Ok(envelope.framed(
            KV,
            reference.to_string(),
            vec![(ID_PARAM.to_owned(), id)],
            expires_at,
        ))
    }

    fn open_from(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Result<Envelope, ServiceError> {
        let reference = reference(sealed)?;
        let session = access.openbao()?;
        let missing = || ServiceError::NotFound {
            what: format!(
                "there is no secret {}:{} with a field {} on the server",
                reference.mount, reference.path, reference.field
            ),
            hint: "set the token again with `sealctl token set`, or `bao kv put` it there"
                .to_owned(),
        };
        let (mut fields, _, custom) =
            read(session, &reference, reference.version)?.ok_or_else(missing)?;
        let secret = fields.remove(&reference.field).ok_or_else(missing)?;
        let binding = custom
            .get(&binding_key(&reference.field))
            .and_then(|json| serde_json::from_str::<Binding>(json).ok());
        Ok(match binding {
            Some(binding) => Envelope {
                place: Place::new(binding.profile, binding.key),
                endpoint: Some(binding.endpoint),
                secret,
            },
            None => Envelope {
                place: place.clone(),
                endpoint: None,
                secret,
            },
        })
    }

    fn delete_field(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, ServiceError> {
        let reference = reference(sealed)?;
        let session = access.openbao()?;
        let Some((mut fields, version, mut custom)) = read(session, &reference, None)? else {
            return Ok(false);
        };
        let key = binding_key(&reference.field);
        let written_by = custom
            .get(&key)
            .and_then(|json| serde_json::from_str::<Binding>(json).ok())
            .map(|binding| binding.id);
        // A newer `token set` wrote the field since: it is not this value's any more.
        if let (Some(ours), Some(now)) = (sealed.param(ID_PARAM), written_by.as_deref())
            && ours != now
        {
            return Ok(false);
        }
        if fields.remove(&reference.field).is_none() {
            return Ok(false);
        }
        custom.remove(&key);
        custom.remove(&previous_key(&reference.field));
        if fields.is_empty() {
            delete_secret(session, &reference)?;
        } else {
            write(session, &reference, &fields, version)?;
            write_metadata(session, &reference, &custom)?;
        }
        Ok(true)
    }

    /// Takes back the seal of `sealed`: a field it created is deleted; a field it overwrote gets
    /// its previous data (from the version that held it) and binding back.
    fn undo_seal(&self, sealed: &SealedValue, access: &mut Access) -> Result<bool, ServiceError> {
        let reference = reference(sealed)?;
        let session = access.openbao()?;
        let Some((mut fields, version, mut custom)) = read(session, &reference, None)? else {
            return Ok(false);
        };
        let previous_key = previous_key(&reference.field);
        let Some(previous) = custom
            .get(&previous_key)
            .and_then(|json| serde_json::from_str::<Previous>(json).ok())
            .filter(|previous| sealed.param(ID_PARAM) == Some(previous.by.as_str()))
        else {
            // This seal made the field, or its record is gone: taken back as a replaced value.
            return self.delete_field(sealed, access);
        };
        // The field as this seal wrote it (the version after the previous one) must be what it
        // holds now: if another tool (`bao kv put`) wrote it since, it is not this value's now.
        let ours = read(session, &reference, Some(previous.version + 1))?
            .and_then(|(mut ours, _, _)| ours.remove(&reference.field));
        let now = fields.get(&reference.field);
        if ours.as_ref().map(ExposeSecret::expose_secret) != now.map(ExposeSecret::expose_secret) {
            return Ok(false);
        }
        let missing = || {
            ServiceError::NotFound {
            what: format!(
                "version {} of the secret {}:{}, which held the field {} before, is deleted",
                previous.version, reference.mount, reference.path, reference.field
            ),
            hint: "put the earlier token back with `bao kv rollback`, or set it again with `sealctl token set`".to_owned(),
        }
        };
        let (mut earlier, _, _) =
            read(session, &reference, Some(previous.version))?.ok_or_else(missing)?;
        let data = earlier.remove(&reference.field).ok_or_else(missing)?;
        fields.insert(reference.field.clone(), data);
        write(session, &reference, &fields, version)?;
        let key = binding_key(&reference.field);
        match previous.binding {
            Some(binding) => custom.insert(key, binding),
            None => custom.remove(&key),
        };
        match previous.earlier {
            Some(earlier) => {
                custom.insert(previous_key, serde_json::to_string(&earlier).expect("JSON"))
            }
            None => custom.remove(&previous_key),
        };
        write_metadata(session, &reference, &custom)?;
        Ok(true)
    }
}

/// Deletes the whole secret, every version and its metadata.
fn delete_secret(session: &mut Session, reference: &KvRef) -> Result<(), ServiceError> {
    let path = format!("{}/metadata/{}", reference.mount, reference.path);
    session
        .call(Method::Delete, &path, None, "delete")
        .map(drop)
        .map_err(|failure| unexpected(failure, &path))
}

fn boxed(error: ServiceError) -> Box<dyn std::error::Error + Send + Sync> {
    match error {
        ServiceError::Load(load) => Box::new(load),
        other => Box::new(other),
    }
}

impl Backend for Kv {
    fn name(&self) -> &'static str {
        KV
    }

    fn summary(&self) -> &'static str {
        "In an OpenBao/Vault KV secret, with a reference in the file"
    }

    fn needs(&self) -> Needs {
        Needs::Service
    }

    fn default_store(&self) -> Option<String> {
        Some(String::new())
    }

    fn kept_in(&self, _store: Option<&str>) -> Option<String> {
        Some("OpenBao/Vault KV".to_owned())
    }

    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        access: &mut Access,
    ) -> Result<String, SealError> {
        Ok(self.seal_into(envelope, expires_at, with, access)?)
    }

    fn open(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Result<Envelope, OpenError> {
        Ok(self.open_from(sealed, place, access)?)
    }

    fn stored(&self, sealed: &SealedValue) -> Option<String> {
        let reference = KvRef::parse(&sealed.payload).ok()?;
        Some(format!(
            "kv secret {}:{} field {}",
            reference.mount, reference.path, reference.field
        ))
    }

    fn delete(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        self.delete_field(sealed, access).map_err(boxed)
    }

    /// A field this value's seal overwrote is put back as it was, not deleted: the file still
    /// names it.
    fn undo(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        self.undo_seal(sealed, access).map_err(boxed)
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
        Some("kv: in an OpenBao/Vault KV secret (a team's server; BAO_ADDR)".to_owned())
    }

    fn probe(
        &self,
        access: &mut Access,
    ) -> Option<Result<String, Box<dyn std::error::Error + Send + Sync>>> {
        if !access.uses_service() {
            return None;
        }
        Some(super::probe::kv(access).map_err(Into::into))
    }

    fn removal_command(&self, sealed: &SealedValue) -> Option<String> {
        let reference = KvRef::parse(&sealed.payload).ok()?;
        Some(format!(
            "bao kv metadata delete -mount={} {}",
            reference.mount, reference.path
        ))
    }
}
