//! A backend for tests only (feature `test-backend`, which the binary's `test-fakes` turns on):
//! each token's [`Envelope`] is kept in a file of the folder [`FOLDER_ENV`] names, with a random
//! id, the file's name, as the value's payload. It is the worked example of adding a backend
//! (docs/architecture.md): this module, its `#[cfg]` line in [`BACKENDS`](super::BACKENDS) and
//! the feature are all it takes. Like the keyring it keeps something outside the profile file, so the
//! [`Sealer`](super::Sealer)'s rollback and [`forget_replaced`](super::forget_replaced) are
//! exercised through it; the [`Opener`](super::Opener) judges its values as it judges every
//! other backend's.
//!
//! The envelope holds the token in clear: never build this into a release.

use std::error::Error;
use std::fs;
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::PathBuf;
use std::time::SystemTime;

use sealctl_profile::sealed::SealedValue;

use super::{Access, Backend, Needs, SealWith};
use crate::envelope::Envelope;
use crate::error::{OpenError, SealError};
use crate::seal::SEALED_VALUE_LIMIT;

/// The backend's name in the framing and on the command line.
pub const NAME: &str = "test-file";

/// The environment variable naming the folder the envelopes are kept in.
pub const FOLDER_ENV: &str = "SEALCTL_TEST_BACKEND_DIR";

/// The length of an envelope file's id (128 random bits in hexadecimal).
const ID_LEN: usize = 32;

type BoxError = Box<dyn Error + Send + Sync>;

/// The `test-file` backend: the envelope in a file of [`FOLDER_ENV`], its id in the profile file.
#[derive(Debug)]
pub struct TestFile;

/// The folder the envelopes are kept in.
#[derive(Debug)]
struct Folder(PathBuf);

impl Folder {
    /// The folder [`FOLDER_ENV`] names; an error saying to set it if it is unset or empty.
    fn from_env() -> Result<Folder, BoxError> {
        match std::env::var_os(FOLDER_ENV) {
            Some(folder) if !folder.is_empty() => Ok(Folder(PathBuf::from(folder))),
            _ => Err(format!(
                "{FOLDER_ENV} is not set: set it to the folder the {NAME} backend keeps its envelopes in"
            )
            .into()),
        }
    }

    /// Keeps `envelope` in a new file, and returns the value to write in the profile file.
    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
    ) -> Result<String, BoxError> {
        let id = new_id()?;
        self.write_new(&id, &envelope.to_bytes())?;
        Ok(envelope.framed(NAME, id, Vec::new(), expires_at))
    }

    /// The envelope `sealed`'s file holds, judging nothing of where it belongs.
    fn open(&self, sealed: &SealedValue) -> Result<Envelope, OpenError> {
        let id = id_of(sealed).ok_or_else(|| {
            open_failed(format!(
                "its payload is not a {ID_LEN}-digit hexadecimal envelope id"
            ))
        })?;
        let path = self.0.join(id);
        let read_failed =
            |cause: std::io::Error| open_failed(format!("cannot read {}: {cause}", path.display()));
        let file = fs::File::open(&path).map_err(read_failed)?;
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        // One byte over the limit is enough to know the file is too long to be an envelope.
        file.take(SEALED_VALUE_LIMIT as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(read_failed)?;
        if bytes.len() > SEALED_VALUE_LIMIT {
            return Err(OpenError::NotAnEnvelope);
        }
        Envelope::from_bytes(&bytes).ok_or(OpenError::NotAnEnvelope)
    }

    /// Deletes `sealed`'s file; whether there was one.
    fn delete(&self, sealed: &SealedValue) -> Result<bool, BoxError> {
        let Some(id) = id_of(sealed) else {
            return Ok(false);
        };
        let path = self.0.join(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(cause) if cause.kind() == ErrorKind::NotFound => Ok(false),
            Err(cause) => Err(format!("cannot delete {}: {cause}", path.display()).into()),
        }
    }

    /// Whether a new file can be made here: makes a probe file and deletes it.
    fn probe(&self) -> Result<String, BoxError> {
        let id = new_id()?;
        self.write_new(&id, b"probe")?;
        fs::remove_file(self.0.join(&id))
            .map_err(|cause| format!("cannot delete the probe file {id}: {cause}"))?;
        Ok(format!(
            "the {NAME} folder {} takes new envelopes (a probe file was made and deleted)",
            self.0.display()
        ))
    }

    /// Writes `bytes` to a new file `id`, readable by its owner only; a file that could not be
    /// written whole is removed again, so that a failed seal leaves nothing behind.
    fn write_new(&self, id: &str, bytes: &[u8]) -> Result<(), BoxError> {
        let path = self.0.join(id);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .map_err(|cause| format!("cannot make {}: {cause}", path.display()))?;
        if let Err(cause) = file.write_all(bytes).and_then(|()| file.sync_all()) {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(format!("cannot write {}: {cause}", path.display()).into());
        }
        Ok(())
    }
}

/// The id of a `test-file` value, its payload, if it is one: only an id, never a path.
fn id_of(sealed: &SealedValue) -> Option<&str> {
    let id = sealed.payload.as_str();
    let well_formed = id.len() == ID_LEN
        && id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    well_formed.then_some(id)
}

/// A new id: 128 random bits in lower-case hexadecimal.
fn new_id() -> Result<String, BoxError> {
    let mut bytes = [0u8; ID_LEN / 2];
    getrandom::getrandom(&mut bytes)
        .map_err(|cause| format!("cannot make a random envelope id: {cause}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn open_failed(error: impl Into<BoxError>) -> OpenError {
    OpenError::Backend {
        backend: NAME,
        error: error.into(),
    }
}

impl Backend for TestFile {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "In a file of $SEALCTL_TEST_BACKEND_DIR (tests only)"
    }

    fn needs(&self) -> Needs {
        Needs::ThisMachine
    }

    fn kept_in(&self, _store: Option<&str>) -> Option<String> {
        Some(format!("the {NAME} folder (${FOLDER_ENV})"))
    }

    fn seal(
        &self,
        envelope: &Envelope,
        expires_at: Option<SystemTime>,
        _with: &SealWith<'_>,
        _access: &mut Access,
    ) -> Result<String, SealError> {
        Folder::from_env()
            .and_then(|folder| folder.seal(envelope, expires_at))
            .map_err(|error| SealError::Backend {
                backend: NAME,
                error,
            })
    }

    fn open(
        &self,
        sealed: &SealedValue,
        _place: &crate::envelope::Place,
        _access: &mut Access,
    ) -> Result<Envelope, OpenError> {
        Folder::from_env().map_err(open_failed)?.open(sealed)
    }

    fn stored(&self, sealed: &SealedValue) -> Option<String> {
        id_of(sealed).map(|id| format!("{NAME} envelope {id}"))
    }

    fn delete(&self, sealed: &SealedValue, _access: &mut Access) -> Result<bool, BoxError> {
        Folder::from_env()?.delete(sealed)
    }

    /// Never offered: `init` does not ask about it and `--help` does not list it; tests name it.
    fn offer(&self, _store: Option<&str>) -> Option<String> {
        None
    }

    fn usable_here(&self, _store: Option<&str>, _access: &mut Access) -> Result<(), BoxError> {
        Folder::from_env().map(drop)
    }

    /// Nothing to check where the folder is not set (every run outside these tests), so that
    /// `doctor`'s report there is as without this backend.
    fn probe(&self, _access: &mut Access) -> Option<Result<String, BoxError>> {
        Some(Folder::from_env().ok()?.probe())
    }

    fn removal_command(&self, sealed: &SealedValue) -> Option<String> {
        id_of(sealed).map(|id| format!("rm \"${FOLDER_ENV}/{id}\""))
    }
}

#[cfg(test)]
mod tests {
    use sealctl_profile::endpoint::Endpoint;
    use secrecy::{ExposeSecret as _, SecretString};
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::envelope::Place;

    fn envelope(secret: &str) -> Envelope {
        Envelope {
            place: Place::new("prod", "mgmt_token"),
            endpoint: Some(Endpoint::from_fields(|key| match key {
                "product" => Some("clustered"),
                "host" => Some("prod.example.com"),
                _ => None,
            })),
            secret: SecretString::from(secret.to_owned()),
        }
    }

    fn digest(secret: &SecretString) -> Vec<u8> {
        Sha256::digest(secret.expose_secret().as_bytes()).to_vec()
    }

    fn files(folder: &std::path::Path) -> Vec<String> {
        fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn ids_are_well_formed_and_distinct_and_never_a_path() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_ne!(a, b);
        for id in [a, b] {
            let sealed = SealedValue::parse(&format!("sealctl:v1:{NAME}:{id}")).unwrap();
            assert_eq!(id_of(&sealed), Some(id.as_str()));
        }
        for bad in [
            "abc".to_owned(),
            format!("../{}", "a".repeat(ID_LEN - 3)),
            "A".repeat(ID_LEN),
            "a".repeat(ID_LEN + 1),
        ] {
            let sealed = SealedValue::parse(&format!("sealctl:v1:{NAME}:{bad}")).unwrap();
            assert_eq!(id_of(&sealed), None, "{bad}");
        }
    }

    #[test]
    fn an_envelope_is_kept_in_its_own_file_and_deleted_once() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder(dir.path().to_owned());
        let value = folder.seal(&envelope("apiv3_kept"), None).unwrap();
        let sealed = SealedValue::parse(&value).unwrap();
        let id = id_of(&sealed).unwrap().to_owned();
        assert_eq!(files(dir.path()), std::slice::from_ref(&id));
        assert_eq!(
            sealed.endpoint_digest(),
            envelope("x")
                .endpoint
                .map(|endpoint| endpoint.digest())
                .as_deref()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join(&id))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let opened = folder.open(&sealed).unwrap();
        assert_eq!(opened.place, Place::new("prod", "mgmt_token"));
        assert_eq!(
            digest(&opened.secret),
            digest(&SecretString::from("apiv3_kept".to_owned()))
        );
        assert!(folder.delete(&sealed).unwrap());
        assert!(!folder.delete(&sealed).unwrap());
        assert!(files(dir.path()).is_empty());
        let error = folder.open(&sealed).unwrap_err();
        assert!(matches!(error, OpenError::Backend { .. }), "{error}");
        assert!(error.to_string().contains("cannot read"), "{error}");
    }

    #[test]
    fn a_file_that_is_not_an_envelope_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder(dir.path().to_owned());
        let sealed = SealedValue::parse(&folder.seal(&envelope("apiv3_x"), None).unwrap()).unwrap();
        let path = dir.path().join(id_of(&sealed).unwrap());
        fs::write(&path, b"{\"v\":2}").unwrap();
        assert!(matches!(
            folder.open(&sealed),
            Err(OpenError::NotAnEnvelope)
        ));
        fs::write(&path, vec![b' '; SEALED_VALUE_LIMIT + 1]).unwrap();
        assert!(matches!(
            folder.open(&sealed),
            Err(OpenError::NotAnEnvelope)
        ));
    }

    #[test]
    fn a_folder_that_cannot_take_a_file_fails_the_seal_and_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder(dir.path().join("missing"));
        let error = folder.seal(&envelope("apiv3_x"), None).unwrap_err();
        assert!(error.to_string().contains("cannot make"), "{error}");
        assert!(!error.to_string().contains("apiv3_x"));
        assert!(folder.probe().is_err());
        let folder = Folder(dir.path().to_owned());
        assert!(
            folder
                .probe()
                .unwrap()
                .contains("probe file was made and deleted")
        );
        assert!(files(dir.path()).is_empty());
    }

    #[test]
    fn it_keeps_something_outside_the_file_and_says_how_to_remove_it() {
        let id = "0123456789abcdef0123456789abcdef";
        let sealed = SealedValue::parse(&format!("sealctl:v1:{NAME}:{id};ep=0badf00d")).unwrap();
        assert!(TestFile.is_of(&sealed));
        assert_eq!(
            TestFile.stored(&sealed).as_deref(),
            Some(&*format!("{NAME} envelope {id}"))
        );
        assert_eq!(
            TestFile.removal_command(&sealed).as_deref(),
            Some(&*format!("rm \"${FOLDER_ENV}/{id}\""))
        );
        assert_eq!(TestFile.needs(), Needs::ThisMachine);
        // Not offered, so that `init` and `--help` are as without it.
        assert_eq!(TestFile.offer(None), None);
    }
}
