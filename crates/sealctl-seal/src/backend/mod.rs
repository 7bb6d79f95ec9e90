//! The seam every way of keeping a token plugs into: a [`Backend`] seals an [`Envelope`] and
//! opens a [`SealedValue`] back into one, and says what it needs and what it keeps outside the
//! file. Nothing above this module knows which backend it holds: the [`Opener`] checks the place
//! and the endpoint once for every backend, and the [`Sealer`] takes back what a backend stored
//! for a change that was not saved.
//!
//! Adding a backend is one module here implementing [`Backend`], one line in [`BACKENDS`], and
//! (in the binary) the flags that choose it.

pub mod age;
pub mod keyring;
pub mod openbao;
mod opener;
mod sealer;
#[cfg(feature = "test-backend")]
pub mod test_file;

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use sealctl_profile::sealed::SealedValue;

pub use self::opener::Opener;
pub use self::sealer::{LeftBehind, Sealer, forget_replaced};
use crate::envelope::{Envelope, Place};
use crate::error::{OpenError, SealError};
use crate::identity::Identities;
use crate::recipient::Recipient;

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("identities", &self.identities.loaded.is_some())
            .field("keyring", &self.keyring.loaded)
            .field("settings", &self.settings.loaded.is_some())
            .field("openbao", &self.openbao)
            .finish()
    }
}

/// What sealing into a backend needs from the command, so that a caller acts on it without
/// naming a backend.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// The file's recipients: the caller reads (or records) them and gives them to the
    /// [`Sealer`]. A value of such a backend is re-sealed by a plain `rekey`.
    Recipients,
    /// A store of this machine, reached through [`Access`] when the first value comes.
    ThisMachine,
    /// A network service (a secrets server), reached with settings of its own.
    Service,
}

/// Where a value is sealed to: a backend and, for one that has several, which of its stores.
/// Values with equal destinations are sealed by one [`Sealer`].
#[derive(Clone)]
pub struct Destination {
    /// The backend, one of [`BACKENDS`].
    backend: &'static dyn Backend,
    /// The backend's store (the keyring's `secret-service`, …); `None` for a backend without.
    store: Option<String>,
}

impl PartialEq for Destination {
    fn eq(&self, other: &Destination) -> bool {
        self.backend.name() == other.backend.name() && self.store == other.store
    }
}

impl Eq for Destination {}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("backend", &self.backend.name())
            .field("store", &self.store)
            .finish()
    }
}

impl Destination {
    /// The destination `store` (else the backend's default) of the backend called `name`; a
    /// backend without stores ignores `store`.
    pub fn new(name: &str, store: Option<String>) -> Option<Destination> {
        let backend = backend(name)?;
        let default = backend.default_store();
        Some(Destination {
            backend,
            store: default.map(|default| store.unwrap_or(default)),
        })
    }

    /// Where the flags chose (a backend `named`, a `store`), else where a value is kept `now`,
    /// else the first backend (age). A store is kept from `now` only within the same backend.
    /// An unknown `named` counts as not named: the caller offers only [`BACKENDS`].
    pub fn chosen(
        named: Option<&str>,
        store: Option<String>,
        now: Option<Destination>,
    ) -> Destination {
        let chosen = named
            .and_then(backend)
            .or(now.as_ref().map(|now| now.backend))
            .unwrap_or(BACKENDS[0]);
        let store = store.or_else(|| {
            now.filter(|now| now.backend.name() == chosen.name())
                .and_then(|now| now.store)
        });
        Destination {
            backend: chosen,
            store: chosen
                .default_store()
                .map(|default| store.unwrap_or(default)),
        }
    }

    /// Where `sealed` is kept: what `token move` compares and what sealers are grouped by. An
    /// error that says to upgrade if this sealctl does not have its backend.
    pub fn of(sealed: &SealedValue) -> Result<Destination, OpenError> {
        let backend = backend_of(sealed)?;
        Ok(Destination {
            backend,
            store: backend
                .default_store()
                .map(|default| backend.store_of(sealed).unwrap_or(default)),
        })
    }

    /// Whether `sealed` is kept here already (`token move` has nothing to do then).
    pub fn holds(&self, sealed: &SealedValue) -> bool {
        Destination::of(sealed).is_ok_and(|kept| kept == *self)
    }

    /// The backend sealing there.
    pub fn backend(&self) -> &'static dyn Backend {
        self.backend
    }

    /// The store, for a backend that has several.
    pub fn store(&self) -> Option<&str> {
        self.store.as_deref()
    }
}

/// Something the caller supplies that could not be loaded (an identity file, a setting): its own
/// error, handed back untouched so that the caller's hints survive.
#[derive(Debug)]
pub struct LoadError(pub Box<dyn Error + Send + Sync>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for LoadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// A loader the caller supplies, called when the first value that needs its answer comes.
pub type Loader<T> = Box<dyn FnMut() -> Result<T, LoadError>>;

/// A thing loaded once, when first needed; a load that failed is tried again next time.
struct Lazy<T> {
    loaded: Option<T>,
    load: Loader<T>,
}

impl<T> Lazy<T> {
    fn get(&mut self) -> Result<&T, LoadError> {
        if self.loaded.is_none() {
            self.loaded = Some((self.load)()?);
        }
        Ok(self.loaded.as_ref().expect("just loaded"))
    }
}

/// What backends may reach for on this machine, each loaded only when the first value that needs
/// it comes: opening age values never touches D-Bus, and opening keyring values needs no
/// identity. Every keyring call is bounded in time by the [`keyring::Keyring`] loaded.
pub struct Access {
    identities: Lazy<Identities>,
    keyring: Lazy<keyring::Keyring>,
    settings: Lazy<BackendSettings>,
    warn: Box<dyn Fn(&str)>,
    service_in_use: bool,
    openbao: Option<openbao::Session>,
}

/// The profile file's `[sealctl.<name>]` tables, as written: the table's name, then each of its
/// keys with its string value. Backends with settings of their own read their table from it.
pub type BackendSettings = BTreeMap<String, BTreeMap<String, String>>;

impl Access {
    /// Access through these loaders.
    pub fn new(identities: Loader<Identities>, keyring: Loader<keyring::Keyring>) -> Access {
        Access {
            identities: Lazy {
                loaded: None,
                load: identities,
            },
            keyring: Lazy {
                loaded: None,
                load: keyring,
            },
            settings: Lazy {
                loaded: None,
                load: Box::new(|| Ok(BackendSettings::new())),
            },
            warn: Box::new(|_| {}),
            service_in_use: false,
            openbao: None,
        }
    }

    /// This access, with the profile file's backend `settings` (loaded when a backend that has
    /// settings first needs them) and `warn`, which tells the user of a weakened setting (a
    /// server certificate not verified) each time it is used.
    pub fn with_settings(
        mut self,
        settings: Loader<BackendSettings>,
        warn: Box<dyn Fn(&str)>,
    ) -> Access {
        self.settings = Lazy {
            loaded: None,
            load: settings,
        };
        self.warn = warn;
        self
    }

    /// Says that the file keeps values of a backend reached over the network, so that
    /// `doctor`'s probe checks that server even without settings of the file's own.
    pub fn service_in_use(&mut self) {
        self.service_in_use = true;
    }

    /// Whether a network service is to be probed: the file keeps values there, or has settings
    /// for it.
    pub(crate) fn uses_service(&mut self) -> bool {
        self.service_in_use
            || self
                .settings
                .get()
                .is_ok_and(|settings| settings.contains_key(openbao::settings::TABLE))
    }

    /// The OpenBao/Vault session of this command, started (settings read, no call made yet)
    /// when the first value that needs it comes.
    pub(crate) fn openbao(&mut self) -> Result<&mut openbao::Session, openbao::ServiceError> {
        if self.openbao.is_none() {
            let settings = self.settings.get().map_err(|error| {
                openbao::ServiceError::Load(LoadError(error.0.to_string().into()))
            })?;
            let session =
                openbao::Session::start(settings.get(openbao::settings::TABLE), &*self.warn)?;
            self.openbao = Some(session);
        }
        Ok(self.openbao.as_mut().expect("just started"))
    }

    /// The identities, loaded now if they were not yet.
    pub fn identities(&mut self) -> Result<&Identities, LoadError> {
        self.identities.get()
    }

    /// The keyrings of this machine, with the caller's time limit.
    pub fn keyring(&mut self) -> Result<&keyring::Keyring, LoadError> {
        self.keyring.get()
    }
}

/// What a backend seals with: the destination's store, the file's recipients (for a backend
/// that [needs](Needs::Recipients) them) and the file, which a store entry's label may name.
#[derive(Debug)]
pub struct SealWith<'a> {
    /// The store of the destination, if the backend has several.
    pub store: Option<&'a str>,
    /// The recipients, for a backend that needs them.
    pub recipients: &'a [Recipient],
    /// The profile file the value goes into (absolute).
    pub config: &'a Path,
}

/// A way of keeping a token: sealed in the file, kept in a store with a reference in the file, …
/// Implementations judge nothing of where a value belongs: the [`Opener`] does, once for all.
pub trait Backend: Sync {
    /// The name in the framing and on the command line.
    fn name(&self) -> &'static str;

    /// A few words saying where the token is kept, for `--backend`'s help (as in `In the OS
    /// keyring`).
    fn summary(&self) -> &'static str;

    /// What sealing needs from the command.
    fn needs(&self) -> Needs;

    /// The store a value goes to when none is named; `None` for a backend without stores.
    fn default_store(&self) -> Option<String> {
        None
    }

    /// Where a value of `store` is kept, in words (`the secret-service keyring`), for a backend
    /// that keeps it outside the file; `None` for one that seals it in the file.
    fn kept_in(&self, store: Option<&str>) -> Option<String> {
        let _ = store;
        None
    }

    /// Seals `envelope`, returning the framed value to write in the file (with `exp=` for
    /// `expires_at`). What it stored outside the file, [`Backend::stored`] names from that value.
    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        with: &SealWith<'_>,
        access: &mut Access,
    ) -> Result<String, SealError>;

    /// Opens `sealed` (of this backend), found at `place`, into its envelope. The [`Opener`]
    /// judges where it belongs; a backend whose store binds values to their place (a transit
    /// key's context) uses `place` to ask, and refuses what its store refuses.
    fn open(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Result<Envelope, OpenError>;

    /// `sealed`, found at `place`, re-sealed with the store's newest key without being opened
    /// (transit's rewrap), for `rekey`; `None` for a backend that cannot, whose values `rekey`
    /// opens and seals again if they are sealed to recipients, and otherwise leaves as they are.
    fn refresh(
        &self,
        sealed: &SealedValue,
        place: &Place,
        access: &mut Access,
    ) -> Option<Result<String, OpenError>> {
        let _ = (sealed, place, access);
        None
    }

    /// Opens several values (all of this backend) together, one result for each, in order: for a
    /// backend where opening them together costs less than one after another (age plugins: one
    /// plugin session, so a hardware key asks once). One by one unless the backend says better.
    fn open_many(
        &self,
        values: &[(&SealedValue, &Place)],
        access: &mut Access,
    ) -> Vec<Result<Envelope, OpenError>> {
        values
            .iter()
            .map(|(sealed, place)| self.open(sealed, place, access))
            .collect()
    }

    /// The store `sealed` (of this backend) is kept in, for a backend that has several; `None`
    /// for its default. With the backend, it makes the value's [`Destination::of`].
    fn store_of(&self, sealed: &SealedValue) -> Option<String> {
        let _ = sealed;
        None
    }

    /// What `sealed` keeps outside the file, in words (`keyring entry secret-service/…`), if
    /// anything: it is deleted when the value is replaced or its change not saved.
    fn stored(&self, sealed: &SealedValue) -> Option<String> {
        let _ = sealed;
        None
    }

    /// Deletes what `sealed` keeps outside the file. Returns whether there was something.
    fn delete(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, Box<dyn Error + Send + Sync>> {
        let _ = (sealed, access);
        Ok(false)
    }

    /// Takes back `sealed`, whose change was not saved ([`Sealer`]): deletes, unless overridden.
    fn undo(
        &self,
        sealed: &SealedValue,
        access: &mut Access,
    ) -> Result<bool, Box<dyn Error + Send + Sync>> {
        self.delete(sealed, access)
    }

    /// How `init` offers it, keeping tokens in `store`; `None` where it cannot work in this build
    /// or is not to be offered (a test-only backend): `init` does not ask about it and `--help`
    /// does not list it, though `--backend` still takes its name.
    fn offer(&self, store: Option<&str>) -> Option<String>;

    /// Whether it can be used here now, reading only (for `init`'s question): why not, if not.
    fn usable_here(
        &self,
        store: Option<&str>,
        access: &mut Access,
    ) -> Result<(), Box<dyn Error + Send + Sync>> {
        let _ = (store, access);
        Ok(())
    }

    /// Whether `sealed` is a value of this backend.
    fn is_of(&self, sealed: &SealedValue) -> bool {
        sealed.backend == *self.name()
    }

    /// Whether this machine can take a token now, as sealing needs, for `doctor`: what was
    /// checked, or why not. `None` for a backend with nothing of this machine to check.
    fn probe(&self, access: &mut Access) -> Option<Result<String, Box<dyn Error + Send + Sync>>> {
        let _ = access;
        None
    }

    /// The command a person runs to delete what `sealed` keeps, when sealctl could not.
    fn removal_command(&self, sealed: &SealedValue) -> Option<String> {
        let _ = sealed;
        None
    }
}

/// Every backend this sealctl can seal to and open, in the order they are offered.
pub const BACKENDS: &[&dyn Backend] = &[
    &age::Age,
    &keyring::KeyringBackend,
    &openbao::transit::Transit,
    &openbao::kv::Kv,
    #[cfg(feature = "test-backend")]
    &test_file::TestFile,
];

/// The backend called `name`, if this sealctl has it.
pub fn backend(name: &str) -> Option<&'static dyn Backend> {
    BACKENDS
        .iter()
        .copied()
        .find(|backend| backend.name() == name)
}

/// The backend of `sealed`; an error that says to upgrade if this sealctl does not have it.
pub fn backend_of(sealed: &SealedValue) -> Result<&'static dyn Backend, OpenError> {
    backend(sealed.backend.as_str())
        .ok_or_else(|| OpenError::UnknownBackend(sealed.backend.clone()))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use sealctl_profile::endpoint::Endpoint;
    use sealctl_profile::sealed::{BackendName, is_known_backend, known_backends};
    use secrecy::{ExposeSecret as _, SecretString};

    use super::*;
    use crate::envelope::Place;
    use crate::identity::IdentitySource;

    fn at(host: &str) -> Endpoint {
        Endpoint::from_fields(|key| match key {
            "product" => Some("clustered"),
            "host" => Some(host),
            _ => None,
        })
    }

    /// Access whose identities are `key`, counting the loads; no keyring.
    fn access(key: &SecretString, loads: &Rc<Cell<usize>>) -> Access {
        let (key, loads) = (key.clone(), Rc::clone(loads));
        Access::new(
            Box::new(move || {
                loads.set(loads.get() + 1);
                Identities::load(vec![IdentitySource::Environment(key.clone())])
                    .map_err(|error| LoadError(Box::new(error)))
            }),
            Box::new(|| Err(LoadError("no keyring in this test".into()))),
        )
    }

    fn sealer_to_age(recipient: Recipient, loads: &Rc<Cell<usize>>) -> Sealer {
        let key = SecretString::from("unused".to_owned());
        Sealer::new(
            Destination::chosen(Some("age"), None, None),
            vec![recipient],
            access(&key, loads),
            Box::new(|_| {}),
        )
    }

    // A backend need not be known to the framing (the test-only `test-file` is not: `check`
    // warns `unknown-backend` for its values); every payload grammar the framing knows is of a
    // backend this sealctl has.
    #[test]
    fn every_backend_has_one_well_formed_name_and_the_framing_knows_only_backends() {
        let names: Vec<_> = BACKENDS.iter().map(|backend| backend.name()).collect();
        for name in &names {
            assert!(BackendName::new(name).is_some(), "{name}");
            assert_eq!(names.iter().filter(|other| *other == name).count(), 1);
            assert_eq!(backend(name).map(|backend| backend.name()), Some(*name));
        }
        for known in known_backends() {
            assert!(is_known_backend(known));
            assert!(names.contains(&known), "{known}");
        }
        assert!(backend("vault").is_none());
    }

    #[test]
    fn destinations_keep_a_store_only_within_their_backend() {
        let keyring = Destination::new("keyring", Some("keyutils".into())).unwrap();
        assert_eq!(
            Destination::chosen(Some("keyring"), None, Some(keyring.clone())),
            keyring
        );
        assert_eq!(
            Destination::chosen(None, None, Some(keyring.clone())),
            keyring
        );
        let age = Destination::chosen(Some("age"), None, Some(keyring));
        assert_eq!(age.store(), None);
        assert_eq!(Destination::chosen(None, None, None), age);
    }

    #[test]
    fn the_opener_checks_place_and_endpoint_and_loads_identities_once() {
        let identity = ::age::x25519::Identity::generate();
        let key = SecretString::from(identity.to_string().expose_secret().to_owned());
        let loads = Rc::new(Cell::new(0));
        let place = Place::new("prod", "mgmt_token");
        let prod = at("prod.example.com");
        let mut sealer = sealer_to_age(Recipient::X25519(identity.to_public()), &loads);
        let token = SecretString::from("apiv3_x".to_owned());
        let value = sealer
            .seal(&token, &place, &prod, Path::new("config.toml"), None)
            .unwrap();
        // Sealing to recipients needs no identity.
        assert_eq!(loads.get(), 0);
        let sealed = SealedValue::parse(&value).unwrap();
        assert_eq!(sealed.backend.as_str(), "age");

        let mut opener = Opener::new(access(&key, &loads));
        let opened = opener.open(&sealed, &place, &prod).unwrap();
        assert_eq!(opened.expose_secret(), "apiv3_x");
        assert!(matches!(
            opener.open(&sealed, &Place::new("dev", "mgmt_token"), &prod),
            Err(OpenError::Misplaced { .. })
        ));
        assert!(matches!(
            opener.open(&sealed, &place, &at("evil.example.com")),
            Err(OpenError::EndpointChanged { .. })
        ));
        // Re-binding sees the envelope whatever the endpoint, only in its place.
        let envelope = opener.open_envelope(&sealed, &place).unwrap();
        assert_eq!(envelope.endpoint, Some(prod));
        assert_eq!(loads.get(), 1);
    }

    #[test]
    fn a_value_of_an_unknown_backend_is_refused_without_reaching_for_anything() {
        let loads = Rc::new(Cell::new(0));
        let key = SecretString::from("unused".to_owned());
        let mut opener = Opener::new(access(&key, &loads));
        let sealed = SealedValue::parse("sealctl:v1:openbao-transit:x;ep=0badf00d").unwrap();
        let error = opener
            .open(&sealed, &Place::new("p", "token"), &at("h"))
            .unwrap_err();
        assert!(matches!(error, OpenError::UnknownBackend(_)));
        assert!(error.to_string().contains("newer sealctl"), "{error}");
        assert_eq!(loads.get(), 0);
        // Nothing it stored is deleted: this sealctl cannot know what it is.
        let mut access = access(&key, &loads);
        let left = forget_replaced(["sealctl:v1:openbao-transit:x"], &mut access).unwrap();
        assert!(left.is_empty());
    }

    #[test]
    fn sealing_refuses_an_unsealable_token_before_the_backend() {
        let identity = ::age::x25519::Identity::generate();
        let loads = Rc::new(Cell::new(0));
        let mut sealer = sealer_to_age(Recipient::X25519(identity.to_public()), &loads);
        let error = sealer
            .seal(
                &SecretString::from("a\nb".to_owned()),
                &Place::new("p", "token"),
                &at("h"),
                Path::new("c.toml"),
                None,
            )
            .unwrap_err();
        assert!(matches!(error, SealError::Token(_)));
    }
}
