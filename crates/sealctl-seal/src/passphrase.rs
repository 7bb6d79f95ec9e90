//! Identities protected by a passphrase (`age -p` identity files, OpenSSH keys made with
//! `ssh-keygen -N`): asked for once per command, whatever the number of values opened, and, when
//! one stays locked, why: a wrong passphrase, a cancelled prompt, no terminal to ask on, or more
//! scrypt work than this machine allows. Not for unprotected identities, which need no asking.

use std::fmt;
use std::io::{BufReader, Cursor, IsTerminal as _};
use std::sync::{Arc, Mutex, OnceLock};

use age::armor::ArmoredReader;
use age_core::format::{FileKey, Stanza};
use base64::Engine as _;
use secrecy::SecretString;

/// Why a protected identity could not be unlocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locked {
    /// A passphrase was given, and it does not unlock the identity.
    WrongPassphrase,
    /// The prompt was cancelled (Escape or Cancel in pinentry, an empty answer, or a timeout).
    Cancelled,
    /// Standard input is not a terminal, so there was no one to ask.
    NoTerminal,
    /// pinentry (or the terminal) could not be used to ask.
    PromptFailed,
    /// The identity file asks for more scrypt work than this machine allows (age's limit: about
    /// 16 times what takes a second here).
    TooMuchWork {
        /// The file's work factor (log2 of scrypt's N).
        required: u8,
        /// What takes about a second on this machine.
        target: u8,
    },
}

/// What happened to one protected identity in this command, shared by its prompt and by the
/// error that explains a failed open.
#[derive(Clone, Default)]
struct Unlock(Arc<Mutex<Option<Locked>>>);

impl Unlock {
    fn fail(&self, why: Locked) {
        if let Ok(mut state) = self.0.lock() {
            state.get_or_insert(why);
        }
    }

    fn failure(&self) -> Option<Locked> {
        self.0.lock().ok().and_then(|state| *state)
    }
}

/// Where a protected identity came from, and what happened to it in this command.
#[derive(Clone)]
pub(crate) struct Lock {
    source: String,
    unlock: Unlock,
}

impl Lock {
    /// Where it came from, and why it stayed locked, if it did.
    pub(crate) fn failure(&self) -> Option<(&str, Locked)> {
        self.unlock.failure().map(|why| (self.source.as_str(), why))
    }
}

/// age's callbacks for one identity: the passphrase is asked through pinentry or on the terminal
/// (as age does), and only when standard input is a terminal or `PINENTRY_PROGRAM` names a
/// program to ask with; what happened is recorded.
#[derive(Clone)]
struct Asker {
    unlock: Unlock,
}

impl age::Callbacks for Asker {
    fn display_message(&self, message: &str) {
        eprintln!("{}", sealctl_profile::terminal::visible_message(message));
    }

    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        use secrecy::ExposeSecret as _;
        if !std::io::stdin().is_terminal() && std::env::var_os("PINENTRY_PROGRAM").is_none() {
            self.unlock.fail(Locked::NoTerminal);
            return None;
        }
        // age wraps the file's name in invisible isolates (U+2068, U+2069), and a name may hold
        // control characters: shown, not sent.
        let description = sealctl_profile::terminal::visible_message(description);
        match age::cli_common::read_secret(&description, "Passphrase", None) {
            Ok(passphrase) if !passphrase.expose_secret().is_empty() => Some(passphrase),
            Ok(_) | Err(pinentry::Error::Cancelled | pinentry::Error::Timeout) => {
                self.unlock.fail(Locked::Cancelled);
                None
            }
            // pinentry or the terminal could not be used at all; what it said goes to stderr now
            // (it holds no secret), as the error that follows cannot carry it.
            Err(error) => {
                eprintln!("sealctl: could not ask for the passphrase: {error}");
                self.unlock.fail(Locked::PromptFailed);
                None
            }
        }
    }
}

/// An identity behind a passphrase, unlocked at most once per command.
pub(crate) struct Protected {
    source: String,
    unlock: Unlock,
    inner: Inner,
}

enum Inner {
    /// An `age -p` identity file. age keeps it decrypted (or its failure) after the first try.
    AgeFile(age::encrypted::Identity<ArmoredReader<BufReader<Cursor<Vec<u8>>>>, Asker>),
    /// An OpenSSH key with a passphrase, and the key once unlocked (age's own wrapper asks again
    /// for every stanza of every value). The unlocked key is age's, whose secret parts are held in
    /// `secrecy` (ed25519) or zeroed on drop (RSA).
    Ssh {
        key: age::ssh::EncryptedKey,
        /// The stanza tag and key tag of the values sealed to this key.
        tag: Option<(&'static str, String)>,
        asker: Asker,
        unlocked: OnceLock<Option<age::ssh::Identity>>,
    },
}

impl fmt::Debug for Protected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protected")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Protected {
    /// An `age -p` identity file's bytes, if that is what they are. `Err` for an age file that is
    /// encrypted to a recipient rather than with a passphrase.
    pub(crate) fn age_file(source: &str, bytes: &[u8]) -> Option<Result<Protected, ()>> {
        let unlock = Unlock::default();
        let asker = Asker {
            unlock: unlock.clone(),
        };
        let reader = ArmoredReader::new(Cursor::new(bytes.to_vec()));
        match age::encrypted::Identity::from_buffer(reader, Some(source.to_owned()), asker, None) {
            Ok(Some(identity)) => Some(Ok(Protected {
                source: source.to_owned(),
                unlock,
                inner: Inner::AgeFile(identity),
            })),
            Ok(None) => Some(Err(())),
            Err(_) => None,
        }
    }

    /// An OpenSSH key with a passphrase.
    pub(crate) fn ssh_key(source: &str, key: age::ssh::EncryptedKey) -> Protected {
        let unlock = Unlock::default();
        let tag = age::ssh::Recipient::try_from(age::ssh::Identity::Encrypted(key.clone()))
            .ok()
            .and_then(|recipient| stanza_tag(&recipient.to_string()));
        Protected {
            source: source.to_owned(),
            inner: Inner::Ssh {
                key,
                tag,
                asker: Asker {
                    unlock: unlock.clone(),
                },
                unlocked: OnceLock::new(),
            },
            unlock,
        }
    }

    /// A handle on what happens to this identity, kept beside it.
    pub(crate) fn lock(&self) -> Lock {
        Lock {
            source: self.source.clone(),
            unlock: self.unlock.clone(),
        }
    }

    /// A failure to unlock is recorded and becomes "not this identity", so that another identity
    /// may still open the value; the error that explains it comes from [`Lock::failure`].
    fn settle(
        &self,
        result: Option<Result<FileKey, age::DecryptError>>,
    ) -> Option<Result<FileKey, age::DecryptError>> {
        match result {
            Some(Err(age::DecryptError::KeyDecryptionFailed)) => {
                self.unlock.fail(Locked::WrongPassphrase);
                None
            }
            Some(Err(age::DecryptError::ExcessiveWork { required, target })) => {
                self.unlock.fail(Locked::TooMuchWork { required, target });
                None
            }
            other => other,
        }
    }

    fn unlocked_ssh(&self) -> Option<&age::ssh::Identity> {
        let Inner::Ssh {
            key,
            asker,
            unlocked,
            ..
        } = &self.inner
        else {
            return None;
        };
        unlocked
            .get_or_init(|| {
                use age::Callbacks as _;
                let passphrase = asker
                    .request_passphrase(&format!("Passphrase for OpenSSH key {}", self.source))?;
                match key.decrypt(passphrase) {
                    Ok(key) => Some(age::ssh::Identity::from(key)),
                    Err(_) => {
                        self.unlock.fail(Locked::WrongPassphrase);
                        None
                    }
                }
            })
            .as_ref()
    }
}

impl age::Identity for Protected {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        match &self.inner {
            Inner::AgeFile(identity) => self.settle(identity.unwrap_stanza(stanza)),
            Inner::Ssh { tag, .. } => {
                // Asked only for a value sealed to this key.
                let ours = tag.as_ref().is_none_or(|(kind, tag)| {
                    stanza.tag == *kind && stanza.args.first() == Some(tag)
                });
                if !ours {
                    return None;
                }
                self.unlocked_ssh()?.unwrap_stanza(stanza)
            }
        }
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        match &self.inner {
            Inner::AgeFile(identity) => self.settle(identity.unwrap_stanzas(stanzas)),
            Inner::Ssh { .. } => stanzas.iter().find_map(|stanza| self.unwrap_stanza(stanza)),
        }
    }
}

/// The stanza tag and key tag (the first 4 bytes of the SHA-256 of the public key, in base64)
/// that age writes for an OpenSSH recipient such as `ssh-ed25519 AAAA…`.
fn stanza_tag(recipient: &str) -> Option<(&'static str, String)> {
    use sha2::Digest as _;
    let mut fields = recipient.split_whitespace();
    let kind = match fields.next()? {
        "ssh-ed25519" => "ssh-ed25519",
        "ssh-rsa" => "ssh-rsa",
        _ => return None,
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(fields.next()?)
        .ok()?;
    let digest = sha2::Sha256::digest(&key);
    Some((
        kind,
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..4]),
    ))
}
