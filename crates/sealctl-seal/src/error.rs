//! Why sealing, opening, or reading keys failed. No message ever holds a secret.

use std::path::PathBuf;

use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::recipient::RecipientProblem;
use sealctl_profile::sealed::{BackendName, FramingError};

use crate::envelope::Place;
use crate::keyring::KeyringError;

/// A token that cannot be sealed.
///
/// Like every error of this crate it may grow, so a `match` needs a `_` arm:
///
/// ```compile_fail,E0004
/// use sealctl_seal::TokenError;
/// fn is_empty(error: &TokenError) -> bool {
///     match error {
///         TokenError::Empty => true,
///         TokenError::ControlCharacter(_) | TokenError::TooLong(_) | TokenError::NotFound(_) => false,
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Nothing to seal.
    #[error("the token is empty")]
    Empty,
    /// A line break, NUL or other control character: a pasted token is broken, or is two.
    #[error("the token holds a {0}, which no influxctl token has")]
    ControlCharacter(&'static str),
    /// Longer than any token.
    #[error("the token is {0} bytes long, longer than any influxctl token (at most 16 KiB)")]
    TooLong(usize),
    /// The input held no token sealctl could find.
    #[error("no token found in the input: {0}")]
    NotFound(&'static str),
}

/// Sealing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The token itself is not sealable.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// No recipient to seal to.
    #[error("there are no recipients to seal to")]
    NoRecipients,
    /// age could not encrypt.
    #[error("age could not encrypt")]
    Encrypt(#[source] std::io::Error),
    /// A recipient is of an age plugin that is not installed: its program, `age-plugin-<name>`.
    #[error("sealing needs the age plugin `{0}`, which is not installed here (not found on PATH)")]
    MissingPlugin(String),
    /// An age plugin could not seal to its recipients: its own words.
    #[error("an age plugin could not seal to its recipients: {0}")]
    Plugin(String),
    /// An age plugin asked for something (a PIN, a confirmation) that could not be asked: no
    /// terminal, or the prompt was cancelled.
    #[error(
        "an age plugin asked \"{0}\" while sealing, and it could not be answered (no terminal, or cancelled)"
    )]
    PluginUnanswered(String),
    /// age seals post-quantum recipients (`age1tagpq1…`) only together with other post-quantum
    /// ones.
    #[error(
        "the recipients mix post-quantum (age1tagpq1…) and classical ones, which age refuses to seal to together: the classical ones would undo the post-quantum protection"
    )]
    IncompatibleRecipients,
    /// The keyring could not take the token.
    #[error(transparent)]
    Keyring(#[from] crate::keyring::KeyringError),
    /// Something the caller loads for sealing (its keyring settings) failed.
    #[error(transparent)]
    Load(crate::backend::LoadError),
    /// The OpenBao/Vault server could not seal it (or be reached, or logged in to).
    #[error(transparent)]
    Service(crate::backend::openbao::ServiceError),
    /// A backend without an error type of its own in this enum could not keep the token: its
    /// own words, which name no secret.
    #[error("the {backend} backend could not keep the token: {error}")]
    Backend {
        /// The backend's name.
        backend: &'static str,
        /// Why, in the backend's words.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Opening a sealed value failed. The file is never changed by a failed open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The value's framing does not parse (or is a version or backend this sealctl does not read).
    #[error("the sealed value is malformed: {0}")]
    Framing(#[from] FramingError),
    /// No identity was given or found.
    #[error("no identity to open sealed values with")]
    NoIdentity,
    /// None of the identities is a recipient of the value.
    #[error("none of the identities ({0}) can open this value")]
    NoMatchingIdentity(String),
    /// A passphrase-protected identity (or SSH key) could not be unlocked, for a reason not told.
    #[error("an identity could not be unlocked")]
    IdentityLocked,
    /// A passphrase was given for a protected identity, and it does not unlock it.
    #[error("the passphrase for identity {0} is wrong (or the identity file is damaged)")]
    WrongPassphrase(String),
    /// The passphrase prompt for a protected identity was cancelled.
    #[error("the passphrase prompt for identity {0} was cancelled")]
    PassphraseCancelled(String),
    /// A protected identity needs its passphrase, and there is no terminal to ask on.
    #[error(
        "identity {0} is protected by a passphrase, and there is no terminal to ask for it on (standard input is not a terminal)"
    )]
    NoTerminal(String),
    /// The passphrase could not be asked for: pinentry (or the terminal) failed.
    #[error("the passphrase for identity {0} could not be asked for: the prompt failed")]
    PromptFailed(String),
    /// A protected identity file asks for more scrypt work than this machine allows.
    #[error(
        "identity {identity} asks for scrypt work 2^{required}, more than this machine allows (2^{target} takes about a second here, and age allows up to 16 times that)"
    )]
    TooMuchWork {
        /// The identity file.
        identity: String,
        /// Its work factor.
        required: u8,
        /// What takes about a second here.
        target: u8,
    },
    /// No identity opened the value, and one of them is of an age plugin that is not
    /// installed: its program, `age-plugin-<name>`.
    #[error(
        "opening needs the age plugin `{0}` (for an AGE-PLUGIN-… identity), which is not installed here (not found on PATH), and no other identity opens this value"
    )]
    MissingPlugin(String),
    /// No identity opened the value, and an age plugin said why (its device is absent, …).
    #[error("`{plugin}` could not open this value: {said}")]
    Plugin {
        /// The plugin's program.
        plugin: String,
        /// What it said.
        said: String,
    },
    /// An age plugin asked for something (a PIN, a touch, a confirmation) and there is no
    /// terminal to ask on.
    #[error(
        "`{plugin}` asked \"{asked}\", and there is no terminal to ask on (standard input is not a terminal)"
    )]
    PluginNoTerminal {
        /// The plugin's program.
        plugin: String,
        /// What it asked.
        asked: String,
    },
    /// An age plugin asked for something and the prompt was cancelled.
    #[error("`{plugin}` asked \"{asked}\", and the prompt was cancelled")]
    PluginCancelled {
        /// The plugin's program.
        plugin: String,
        /// What it asked.
        asked: String,
    },
    /// The ciphertext is damaged: truncated, or changed.
    #[error("the sealed value is damaged (truncated or changed): {0}")]
    Damaged(String),
    /// It decrypts, but not to a sealctl envelope.
    #[error("the sealed value does not hold a sealctl envelope")]
    NotAnEnvelope,
    /// The value is of another backend than the one asked to open it.
    #[error("this is a `{0}` value, not an age one")]
    OtherBackend(BackendName),
    /// The value is kept by a backend this sealctl does not have: written by a newer one.
    #[error(
        "this value is kept by backend `{0}`, which this sealctl does not know (written by a newer sealctl?)"
    )]
    UnknownBackend(BackendName),
    /// Something the caller loads for opening (its identities, its keyring settings) failed.
    #[error(transparent)]
    Load(crate::backend::LoadError),
    /// The keyring holding a `keyring` value could not be used.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The OpenBao/Vault server could not open it (or be reached, or logged in to), or refused
    /// it as moved.
    #[error(transparent)]
    Service(crate::backend::openbao::ServiceError),
    /// A backend without an error type of its own in this enum could not open the value: its
    /// own words, which name no secret.
    #[error("the {backend} backend could not open the value: {error}")]
    Backend {
        /// The backend's name.
        backend: &'static str,
        /// Why, in the backend's words.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The value was sealed for another profile or key: copied, not set.
    #[error("this value was sealed for {sealed_for}, but it is in {found_in}")]
    Misplaced {
        /// Where it was sealed for.
        sealed_for: Place,
        /// Where it was found.
        found_in: Place,
    },
    /// The value was sealed for another endpoint than its profile's: the profile was moved, or
    /// changed to send the token elsewhere.
    #[error("{place} was sealed for {sealed_for}, but the profile now points at {now}")]
    EndpointChanged {
        /// Where the value is.
        place: Place,
        /// The endpoint sealed inside the value.
        sealed_for: Box<Endpoint>,
        /// The profile's endpoint now.
        now: Box<Endpoint>,
    },
    /// The clear `ep=` digest disagrees with what is sealed inside: the value was edited.
    #[error("{place} says in clear that it is bound to endpoint digest ep={clear}, but {}: the value was edited", match .sealed_for {
        Some(endpoint) => format!("what is sealed inside is bound to {endpoint} (ep={})", endpoint.digest()),
        None => "what is sealed inside is not bound to any endpoint".to_owned(),
    })]
    EndpointEdited {
        /// Where the value is.
        place: Place,
        /// The digest written in clear.
        clear: String,
        /// The endpoint sealed inside, if any.
        sealed_for: Option<Box<Endpoint>>,
    },
}

/// A recipient that does not parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecipientError {
    /// Not a recipient sealctl can seal to (and not a file of them).
    #[error("`{shown}` {problem}")]
    Invalid {
        /// The text as it may be shown (cut short; never a private key).
        shown: String,
        /// What it is instead.
        problem: RecipientProblem,
    },
    /// A recipients file or `.pub` file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of a recipients file that does not parse.
    #[error("{path}, line {line}: the entry {problem}")]
    InvalidLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What the line is instead.
        problem: RecipientProblem,
    },
    /// A recipients file with no recipient in it.
    #[error("{} lists no recipient", .0.display())]
    NoneInFile(PathBuf),
}

/// An identity that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Group or others can read it.
    #[error("identity file {} can be read by group or others (mode {mode:03o})", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// age could not read it (missing, unreadable, unsupported key, wrong passphrase).
    #[error("cannot use identity file {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// age's explanation.
        message: String,
    },
    /// The identity text from the environment does not parse.
    #[error(
        "{0} does not hold an age identity (AGE-SECRET-KEY-1…, or a plugin's AGE-PLUGIN-…) or an unencrypted OpenSSH private key"
    )]
    BadText(&'static str),
    /// A new identity file exists already.
    #[error("{} exists already; sealctl never overwrites an identity", .0.display())]
    Exists(PathBuf),
    /// A new identity file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
