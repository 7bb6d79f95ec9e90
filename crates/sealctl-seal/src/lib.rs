//! Seal influxctl tokens in place with age, or keep them in an OS keyring, and open them again.
//!
//! A sealed value replaces a secret in its profile file (the framing is read by
//! `sealctl_profile::sealed`). What is encrypted is an [`Envelope`]: the secret together with the
//! profile and key it belongs to and the endpoint its token goes to, so that a value copied into
//! another profile or key, or left in a profile whose host was changed, is refused when opened. Sealing needs only [`Recipient`]s, never an identity: a teammate or a CI job can
//! set or rotate a token in a shared file without being able to read the others. Opening needs
//! one of the [`Identities`] the value was sealed to. Every backend plugs in through the
//! [`Backend`] seam, with the place of each value checked once by the [`Opener`]. The [`keyring`] backend keeps the same
//! envelope in an OS keyring (Secret Service, kernel keyring, macOS Keychain, Windows Credential
//! Manager) and leaves a reference in the file. Hardware and post-quantum keys come through age
//! plugins (`age-plugin-<name>` on PATH), and several values are opened together
//! ([`Opener::open_together`]) so that one plugin session opens them all.
//!
//! This crate does not read or write profile files (that is `sealctl-profile`) and knows nothing
//! of the command line; a passphrase-protected identity is asked for as age asks (pinentry, or
//! the terminal), once per command, and never without a terminal: that prompt is part of opening
//! such an identity, as it is in age.
//!
//! What only a command-line front end needs is behind the `cli` feature, as age keeps its own
//! behind `cli-common`: asking on the terminal (`prompt`), finding the token in what a user
//! pastes or pipes in (`parse_token_input`), and finding identities from flags, the environment
//! and the default file (`IdentitySource::discover_from_env`, `default_identity_path`).

// Without `cli`, none of the front end's parts is public (`cargo test -p sealctl-seal --doc`).
#![cfg_attr(
    not(feature = "cli"),
    doc = r#"
Without the `cli` feature, none of them is there:

```compile_fail
sealctl_seal::prompt::can_prompt();
```

```compile_fail
let _ = sealctl_seal::parse_token_input("apiv3_token");
```

```compile_fail
let _ = sealctl_seal::IdentitySource::discover_from_env(&[]);
```

```compile_fail
let _ = sealctl_seal::default_identity_path();
```
"#
)]
#![warn(missing_docs)]

pub mod backend;
mod envelope;
mod error;
mod identity;
mod passphrase;
mod plugin;
#[cfg(feature = "cli")]
pub mod prompt;
mod recipient;
mod seal;
#[cfg(feature = "cli")]
mod token_input;

pub use backend::keyring;
pub use backend::openbao::{self, ServiceError};
pub use backend::{
    Access, BACKENDS, Backend, BackendSettings, Destination, LeftBehind, LoadError, Loader, Needs,
    Opener, Sealer, backend_of,
};
pub use envelope::{Envelope, Place};
pub use error::{IdentityError, OpenError, RecipientError, SealError, TokenError};
pub use identity::{
    IDENTITY_ENV, Identities, IdentitySource, identity_file_recipients, new_identity_file,
};
#[cfg(feature = "cli")]
pub use identity::{IDENTITY_FILE_ENV, default_identity_path};
pub use passphrase::Locked;
pub use recipient::{Recipient, read_recipients};
pub use seal::{SEALED_VALUE_LIMIT, open, open_envelope, seal, validate_token};
pub use sealctl_profile::endpoint::Endpoint;
#[cfg(feature = "cli")]
pub use token_input::{TokenInput, parse_token_input};
