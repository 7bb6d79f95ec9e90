//! Who can open sealed values: age identity files (also passphrase-protected ones), OpenSSH
//! private keys, and an identity given in the environment for CI.

use std::fmt;
use std::fs;
use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::error::IdentityError;
use crate::passphrase::{Lock, Locked, Protected};
use crate::recipient::Recipient;

/// The variable naming an identity file.
#[cfg(feature = "cli")]
pub const IDENTITY_FILE_ENV: &str = "SEALCTL_IDENTITY_FILE";

/// The variable holding an identity itself, for CI secret variables: the name an
/// [`IdentitySource::Environment`] goes by in messages.
pub const IDENTITY_ENV: &str = "SEALCTL_IDENTITY";

/// sealctl's default identity file: `<platform config dir>/sealctl/identity.txt`.
#[cfg(feature = "cli")]
pub fn default_identity_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.config_dir().join("sealctl").join("identity.txt"))
}

/// Where an identity came from.
#[derive(Clone)]
pub enum IdentitySource {
    /// A file: `--identity`, `SEALCTL_IDENTITY_FILE`, or the default file.
    File(PathBuf),
    /// The text of `SEALCTL_IDENTITY`.
    Environment(SecretString),
}

impl fmt::Debug for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentitySource::File(path) => write!(f, "{}", path.display()),
            IdentitySource::Environment(_) => f.write_str(IDENTITY_ENV),
        }
    }
}

#[cfg(feature = "cli")]
impl IdentitySource {
    /// Every source, in order: `--identity` files, `SEALCTL_IDENTITY_FILE`, `SEALCTL_IDENTITY`,
    /// then the default file if it exists.
    pub fn discover(
        files: &[PathBuf],
        file_env: Option<std::ffi::OsString>,
        text_env: Option<SecretString>,
    ) -> Vec<IdentitySource> {
        let mut sources: Vec<IdentitySource> =
            files.iter().cloned().map(IdentitySource::File).collect();
        if let Some(path) = file_env.filter(|path| !path.is_empty()) {
            sources.push(IdentitySource::File(path.into()));
        }
        if let Some(text) = text_env.filter(|text| !text.expose_secret().trim().is_empty()) {
            sources.push(IdentitySource::Environment(text));
        }
        if let Some(default) = default_identity_path().filter(|path| path.exists()) {
            let named = sources
                .iter()
                .any(|source| matches!(source, IdentitySource::File(path) if *path == default));
            if !named {
                sources.push(IdentitySource::File(default));
            }
        }
        sources
    }

    /// [`IdentitySource::discover`] with this process's environment.
    pub fn discover_from_env(files: &[PathBuf]) -> Vec<IdentitySource> {
        IdentitySource::discover(
            files,
            std::env::var_os(IDENTITY_FILE_ENV),
            std::env::var(IDENTITY_ENV).ok().map(SecretString::from),
        )
    }
}

impl IdentitySource {
    /// The recipients of this source's identities, to seal to.
    pub fn recipients(&self) -> Result<Vec<Recipient>, IdentityError> {
        match self {
            IdentitySource::File(path) => identity_file_recipients(path),
            IdentitySource::Environment(text) => text
                .expose_secret()
                .lines()
                .map(str::trim)
                .filter(|line| line.starts_with("AGE-SECRET-KEY-"))
                .map(|line| {
                    line.parse::<age::x25519::Identity>()
                        .map(|identity| Recipient::X25519(identity.to_public()))
                        .map_err(|_| IdentityError::BadText(IDENTITY_ENV))
                })
                .collect(),
        }
    }
}

/// Identities, loaded and ready to open sealed values.
pub struct Identities {
    identities: Vec<Box<dyn age::Identity>>,
    sources: Vec<IdentitySource>,
    /// What happened to each passphrase-protected identity.
    locks: Vec<Lock>,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("sources", &self.sources)
            .field("identities", &self.identities.len())
            .finish()
    }
}

impl Identities {
    /// Loads every source. A file that group or others can read is refused, as ssh refuses a
    /// private key; a passphrase-protected file asks for its passphrase on the terminal.
    pub fn load(sources: Vec<IdentitySource>) -> Result<Identities, IdentityError> {
        let mut identities: Vec<Box<dyn age::Identity>> = Vec::new();
        let mut locks = Vec::new();
        for source in &sources {
            match source {
                IdentitySource::File(path) => {
                    check_permissions(path)?;
                    for identity in read_identity_file(path)? {
                        match identity {
                            Loaded::Plain(identity) => identities.push(identity),
                            Loaded::Protected(protected) => {
                                locks.push(protected.lock());
                                identities.push(protected);
                            }
                        }
                    }
                }
                IdentitySource::Environment(text) => identities.extend(identities_from_text(text)?),
            }
        }
        Ok(Identities {
            identities,
            sources,
            locks,
        })
    }

    /// The first protected identity that stayed locked in this command, and why.
    pub(crate) fn locked(&self) -> Option<(&str, Locked)> {
        self.locks.iter().find_map(Lock::failure)
    }

    /// Whether there is no identity at all.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// Where the identities came from, for messages.
    pub fn sources(&self) -> &[IdentitySource] {
        &self.sources
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.identities
            .iter()
            .map(|identity| identity.as_ref() as &dyn age::Identity)
    }
}

/// One identity read from a file.
enum Loaded {
    Plain(Box<dyn age::Identity>),
    Protected(Box<Protected>),
}

/// The most an identity file may hold (age's own limit).
const IDENTITY_FILE_LIMIT: u64 = 16 << 20;

/// The identities of a file, tried as age does: an `age -p` identity file, an OpenSSH private
/// key, then age identity lines. Passphrase-protected ones are not unlocked until needed.
fn read_identity_file(path: &Path) -> Result<Vec<Loaded>, IdentityError> {
    use std::io::Read as _;
    let read_error = |message: String| IdentityError::Read {
        path: path.to_owned(),
        message,
    };
    let source = path.display().to_string();
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    fs::File::open(path)
        .and_then(|file| file.take(IDENTITY_FILE_LIMIT).read_to_end(&mut bytes))
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => read_error("the file does not exist".to_owned()),
            _ => read_error(error.to_string()),
        })?;
    match Protected::age_file(&source, &bytes) {
        Some(Ok(protected)) => return Ok(vec![Loaded::Protected(Box::new(protected))]),
        Some(Err(())) => {
            return Err(read_error(
                "it is an age file encrypted to a recipient, not with a passphrase".to_owned(),
            ));
        }
        None => {}
    }
    if let Ok(identity) =
        age::ssh::Identity::from_buffer(BufReader::new(&bytes[..]), Some(source.clone()))
    {
        return match identity {
            age::ssh::Identity::Unsupported(key) => Err(read_error(
                age::cli_common::ReadError::UnsupportedKey(source, key).to_string(),
            )),
            age::ssh::Identity::Encrypted(key) => Ok(vec![Loaded::Protected(Box::new(
                Protected::ssh_key(&source, key),
            ))]),
            unencrypted => Ok(vec![Loaded::Plain(Box::new(unencrypted))]),
        };
    }
    let file = age::IdentityFile::from_buffer(BufReader::new(&bytes[..]))
        .map_err(|error| read_error(error.to_string()))?;
    let identities = file
        .into_identities()
        .map_err(|error| read_error(error.to_string()))?;
    if identities.is_empty() {
        return Err(read_error("it holds no identity".to_owned()));
    }
    Ok(identities
        .into_iter()
        .map(|identity| Loaded::Plain(identity as Box<dyn age::Identity>))
        .collect())
}

fn identities_from_text(text: &SecretString) -> Result<Vec<Box<dyn age::Identity>>, IdentityError> {
    let bytes = text.expose_secret().as_bytes();
    if let Ok(file) = age::IdentityFile::from_buffer(BufReader::new(bytes))
        && let Ok(identities) = file.into_identities()
        && !identities.is_empty()
    {
        return Ok(identities
            .into_iter()
            .map(|i| i as Box<dyn age::Identity>)
            .collect());
    }
    match age::ssh::Identity::from_buffer(BufReader::new(bytes), Some(IDENTITY_ENV.to_owned())) {
        Ok(identity @ age::ssh::Identity::Unencrypted(_)) => Ok(vec![Box::new(identity)]),
        _ => Err(IdentityError::BadText(IDENTITY_ENV)),
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), IdentityError> {
    use std::os::unix::fs::PermissionsExt as _;
    match fs::metadata(path) {
        Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
            Err(IdentityError::Permissions {
                path: path.to_owned(),
                mode: metadata.permissions().mode() & 0o777,
            })
        }
        // A missing or unreadable file is age's to explain.
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), IdentityError> {
    Ok(())
}

/// The recipients of the identities in a file, to seal to.
pub fn identity_file_recipients(path: &Path) -> Result<Vec<Recipient>, IdentityError> {
    let read_error = |message: String| IdentityError::Read {
        path: path.to_owned(),
        message,
    };
    use std::io::Read as _;
    // A private key: zeroed when dropped, and no more than an identity file holds.
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    fs::File::open(path)
        .and_then(|file| file.take(IDENTITY_FILE_LIMIT).read_to_end(&mut bytes))
        .map_err(|error| read_error(error.to_string()))?;
    if let Ok(file) = age::IdentityFile::from_buffer(BufReader::new(&bytes[..])) {
        let mut listing = Vec::new();
        if file.write_recipients_file(&mut listing).is_ok() {
            let listing = String::from_utf8_lossy(&listing);
            let recipients: Vec<Recipient> = listing
                .lines()
                .filter_map(|line| line.parse().ok())
                .collect();
            if !recipients.is_empty() {
                return Ok(recipients);
            }
        }
    }
    match age::ssh::Identity::from_buffer(BufReader::new(&bytes[..]), None) {
        Ok(identity) => age::ssh::Recipient::try_from(identity)
            .map(|recipient| vec![Recipient::Ssh(recipient)])
            .map_err(|_| read_error("it is not a supported SSH key".to_owned())),
        Err(_) => Err(read_error(
            "it holds no age identity (a passphrase-protected one shows its recipient only when opened) nor an OpenSSH private key".to_owned(),
        )),
    }
}

/// Writes a new X25519 identity to `path` (mode 0600, its folder 0700 if made here), refusing to
/// overwrite anything, and returns its recipient.
pub fn new_identity_file(path: &Path) -> Result<Recipient, IdentityError> {
    let write_error = |source| IdentityError::Write {
        path: path.to_owned(),
        source,
    };
    if path.exists() {
        return Err(IdentityError::Exists(path.to_owned()));
    }
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        && !folder.exists()
    {
        create_private_folder(folder).map_err(write_error)?;
    }
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => IdentityError::Exists(path.to_owned()),
        _ => write_error(error),
    })?;
    let secret = identity.to_string();
    let text = zeroize::Zeroizing::new(format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        secret.expose_secret()
    ));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    Ok(Recipient::X25519(recipient))
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_new_identity_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/identity.txt");
        let recipient = new_identity_file(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert!(matches!(
            new_identity_file(&path),
            Err(IdentityError::Exists(_))
        ));
        let listed = identity_file_recipients(&path).unwrap();
        assert_eq!(listed[0].to_string(), recipient.to_string());
        let loaded = Identities::load(vec![IdentitySource::File(path.clone())]).unwrap();
        assert!(!loaded.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn readable_identity_files_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.txt");
        new_identity_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = Identities::load(vec![IdentitySource::File(path)]).unwrap_err();
        assert!(
            matches!(error, IdentityError::Permissions { mode: 0o644, .. }),
            "{error}"
        );
    }

    #[test]
    fn identities_come_from_the_environment_too() {
        let identity = age::x25519::Identity::generate();
        let text = SecretString::from(identity.to_string().expose_secret().to_owned());
        let loaded = Identities::load(vec![IdentitySource::Environment(text)]).unwrap();
        assert!(!loaded.is_empty());
        let error = Identities::load(vec![IdentitySource::Environment(SecretString::from(
            "nope",
        ))])
        .unwrap_err();
        assert!(matches!(error, IdentityError::BadText(_)));
    }
}
