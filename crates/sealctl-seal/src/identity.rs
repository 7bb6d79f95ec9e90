//! Who can open sealed values: age identity files (also passphrase-protected ones), age plugin
//! identities (`AGE-PLUGIN-…`, for hardware and post-quantum keys), OpenSSH private keys, and an
//! identity given in the environment for CI.
//!
//! Identity files are read as age reads them, line by line: every identity sealctl can use is
//! used, and a line it cannot use (an identity of a kind it does not know, a damaged one) is
//! skipped with a note ([`Identities::skipped`]), not the whole file refused.

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
            IdentitySource::Environment(text) => Ok(listed_recipients(text.expose_secret())),
        }
    }
}

/// Identities, loaded and ready to open sealed values.
pub struct Identities {
    entries: Vec<Entry>,
    sources: Vec<IdentitySource>,
    /// What happened to each passphrase-protected identity.
    locks: Vec<Lock>,
    /// The lines that were skipped, each with why (never the line itself).
    skipped: Vec<String>,
}

/// One identity, or the identities of one age plugin, tried in the order they were found.
pub(crate) enum Entry {
    /// An identity age opens with in this process (X25519, SSH, passphrase-protected).
    Native(Box<dyn age::Identity>),
    /// Every identity of one plugin (`AGE-PLUGIN-<NAME>-1…`), in one place (where the first was
    /// found), as age groups them: one plugin session tries them all.
    Plugin {
        /// The plugin's name, as `age-plugin-<name>` spells it.
        name: String,
        /// The identities' text: a software plugin's (X-Wing) holds its private key.
        identities: Vec<SecretString>,
    },
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("sources", &self.sources)
            .field("identities", &self.entries.len())
            .finish()
    }
}

impl Identities {
    /// Loads every source. A file that group or others can read is refused, as ssh refuses a
    /// private key; a passphrase-protected file asks for its passphrase on the terminal.
    pub fn load(sources: Vec<IdentitySource>) -> Result<Identities, IdentityError> {
        let mut identities = Identities {
            entries: Vec::new(),
            sources: Vec::new(),
            locks: Vec::new(),
            skipped: Vec::new(),
        };
        for source in &sources {
            let read = match source {
                IdentitySource::File(path) => {
                    check_permissions(path)?;
                    read_identity_file(path)?
                }
                IdentitySource::Environment(text) => identities_from_text(text)?,
            };
            for skipped in read.skipped {
                identities.skipped.push(format!("{source}: {skipped}"));
            }
            for identity in read.identities {
                identities.add(identity);
            }
        }
        identities.sources = sources;
        Ok(identities)
    }

    fn add(&mut self, identity: Loaded) {
        match identity {
            Loaded::Plain(identity) => self.entries.push(Entry::Native(identity)),
            Loaded::Protected(protected) => {
                self.locks.push(protected.lock());
                self.entries.push(Entry::Native(protected));
            }
            Loaded::Plugin(identity) => {
                let name = identity.plugin().to_owned();
                let text = SecretString::from(identity.to_string());
                let group = self.entries.iter_mut().find_map(|entry| match entry {
                    Entry::Plugin {
                        name: known,
                        identities,
                    } if *known == name => Some(identities),
                    _ => None,
                });
                match group {
                    Some(identities) => identities.push(text),
                    None => self.entries.push(Entry::Plugin {
                        name,
                        identities: vec![text],
                    }),
                }
            }
        }
    }

    /// The first protected identity that stayed locked in this command, and why.
    pub(crate) fn locked(&self) -> Option<(&str, Locked)> {
        self.locks.iter().find_map(Lock::failure)
    }

    /// Whether there is no identity at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where the identities came from, for messages.
    pub fn sources(&self) -> &[IdentitySource] {
        &self.sources
    }

    /// The lines of identity files that were skipped, each as `SOURCE: line N: why`, for a note
    /// at `-v`. Never the line itself, which may be a private key.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The plugins these identities open through, as `age-plugin-<name>` spells them.
    pub fn plugins(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Plugin { name, .. } => Some(name.as_str()),
            Entry::Native(_) => None,
        })
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// One identity read from a file.
enum Loaded {
    Plain(Box<dyn age::Identity>),
    Protected(Box<Protected>),
    Plugin(age::plugin::Identity),
}

/// What a file or text held: its identities, and the lines skipped, with why.
#[derive(Default)]
struct Read {
    identities: Vec<Loaded>,
    skipped: Vec<String>,
}

impl Read {
    fn one(identity: Loaded) -> Read {
        Read {
            identities: vec![identity],
            skipped: Vec::new(),
        }
    }
}

/// Reads identity lines as age does (`#` comments and blank lines ignored): X25519 identities
/// and plugin identities are used; any other line is skipped with a note naming its number and
/// what it looks like, never its text.
fn identity_lines(text: &str) -> Read {
    let mut read = Read::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let number = index + 1;
        if upper.starts_with("AGE-SECRET-KEY-1") {
            match line.parse::<age::x25519::Identity>() {
                Ok(identity) => read.identities.push(Loaded::Plain(Box::new(identity))),
                Err(_) => read.skipped.push(format!(
                    "line {number}: a damaged age identity (AGE-SECRET-KEY-1…)"
                )),
            }
        } else if upper.starts_with("AGE-PLUGIN-") {
            match line.parse::<age::plugin::Identity>() {
                Ok(identity) => read.identities.push(Loaded::Plugin(identity)),
                Err(why) => read.skipped.push(format!(
                    "line {number}: a damaged age plugin identity (AGE-PLUGIN-…: {why})"
                )),
            }
        } else if upper.starts_with("AGE-SECRET-KEY-") {
            read.skipped.push(format!(
                "line {number}: an age identity of a kind this sealctl cannot use (such as age 1.3's AGE-SECRET-KEY-PQ-1…)"
            ));
        } else {
            read.skipped
                .push(format!("line {number}: not an age identity"));
        }
    }
    read
}

/// The most an identity file may hold (age's own limit).
const IDENTITY_FILE_LIMIT: u64 = 16 << 20;

/// The identities of a file, tried as age does: an `age -p` identity file, an OpenSSH private
/// key, then age identity lines. Passphrase-protected ones are not unlocked until needed.
fn read_identity_file(path: &Path) -> Result<Read, IdentityError> {
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
        Some(Ok(protected)) => return Ok(Read::one(Loaded::Protected(Box::new(protected)))),
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
            age::ssh::Identity::Encrypted(key) => Ok(Read::one(Loaded::Protected(Box::new(
                Protected::ssh_key(&source, key),
            )))),
            unencrypted => Ok(Read::one(Loaded::Plain(Box::new(unencrypted)))),
        };
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| read_error("it is not an age identity file (not UTF-8 text)".to_owned()))?;
    let read = identity_lines(text);
    if read.identities.is_empty() {
        return Err(read_error(match read.skipped.first() {
            Some(first) => format!("it holds no identity sealctl can use ({first})"),
            None => "it holds no identity".to_owned(),
        }));
    }
    Ok(read)
}

fn identities_from_text(text: &SecretString) -> Result<Read, IdentityError> {
    let bytes = text.expose_secret().as_bytes();
    if let Ok(identity @ age::ssh::Identity::Unencrypted(_)) =
        age::ssh::Identity::from_buffer(BufReader::new(bytes), Some(IDENTITY_ENV.to_owned()))
    {
        return Ok(Read::one(Loaded::Plain(Box::new(identity))));
    }
    let read = identity_lines(text.expose_secret());
    if read.identities.is_empty() {
        return Err(IdentityError::BadText(IDENTITY_ENV));
    }
    Ok(read)
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
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let recipients = listed_recipients(text);
        if !recipients.is_empty() {
            return Ok(recipients);
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

/// The recipients of an identity file's text: each X25519 identity's own, and those its comments
/// name (`# recipient: age1…`, `# public key: age1…`, as plugins and `age-keygen` write them),
/// for a plugin identity, whose recipient only its plugin could compute. Each once, in order.
pub(crate) fn listed_recipients(text: &str) -> Vec<Recipient> {
    let mut recipients: Vec<Recipient> = Vec::new();
    for line in text.lines().map(str::trim) {
        let found = if let Some(comment) = line.strip_prefix('#') {
            comment
                .split_once(':')
                .filter(|(label, _)| {
                    let label = label.trim().to_ascii_lowercase();
                    label == "recipient" || label == "public key"
                })
                .and_then(|(_, value)| value.parse::<Recipient>().ok())
        } else if line.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-1") {
            line.parse::<age::x25519::Identity>()
                .ok()
                .map(|identity| Recipient::X25519(identity.to_public()))
        } else {
            None
        };
        if let Some(recipient) = found
            && !recipients
                .iter()
                .any(|known| known.to_string() == recipient.to_string())
        {
            recipients.push(recipient);
        }
    }
    recipients
}

/// Whether a text is an age identity file (it holds an identity line), not a recipients file.
pub(crate) fn is_identity_text(text: &str) -> bool {
    text.lines().map(str::trim).any(|line| {
        let upper = line.to_ascii_uppercase();
        upper.starts_with("AGE-SECRET-KEY-") || upper.starts_with("AGE-PLUGIN-")
    })
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
