//! Why the OpenBao/Vault server could not seal or open a value, each with what to do. No
//! message holds a token, a login's token, a secret id or a JWT: the server's own words are
//! passed on only after every secret of the login is cut out of them.

use crate::envelope::Place;

/// A failure of the OpenBao/Vault backends (`transit`, `kv`), each with its own message and
/// [hint](ServiceError::hint).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The caller's settings (the profile file's table) could not be loaded.
    #[error(transparent)]
    Load(crate::backend::LoadError),
    /// A setting (a variable, a `[sealctl.openbao]` key) is not usable.
    #[error("{what}")]
    Setting {
        /// What is wrong.
        what: String,
        /// How to correct it.
        hint: String,
    },
    /// No server address anywhere.
    #[error("no OpenBao/Vault server address is set")]
    NoAddress,
    /// Only the profile file names the server: the login is not sent there, since the file may
    /// be shared and edited by others (the address is shown terminal-safe).
    #[error(
        "the file's tokens are kept at the OpenBao/Vault server {}, but BAO_ADDR (or VAULT_ADDR) is not set: sealctl sends your login only to a server this machine names",
        sealctl_profile::terminal::visible(address)
    )]
    AddressOnlyInFile {
        /// The file's `[sealctl.openbao] address` (untrusted).
        address: String,
    },
    /// Nothing answers at the address.
    #[error("the OpenBao/Vault server at {address} cannot be reached: {cause}")]
    Unreachable {
        /// The address.
        address: String,
        /// Why, in the network's words.
        cause: String,
    },
    /// The server did not answer in time.
    #[error("the OpenBao/Vault server at {address} did not answer within {seconds} s")]
    TimedOut {
        /// The address.
        address: String,
        /// The time limit.
        seconds: f64,
    },
    /// The server's certificate could not be verified (or TLS failed otherwise).
    #[error("TLS with the OpenBao/Vault server at {address} failed: {cause}")]
    Tls {
        /// The address.
        address: String,
        /// Why.
        cause: String,
    },
    /// The server is sealed: it cannot decrypt anything until it is unsealed.
    #[error("the OpenBao/Vault server at {address} is sealed")]
    Sealed {
        /// The address.
        address: String,
    },
    /// The login may not do this.
    #[error(
        "permission denied: the OpenBao/Vault login lacks the `{capability}` capability on {path}"
    )]
    PermissionDenied {
        /// The API path (without `/v1/`).
        path: String,
        /// The capability it needs there.
        capability: &'static str,
    },
    /// No token to use, and no other login chosen.
    #[error("no OpenBao/Vault token: none of BAO_TOKEN, VAULT_TOKEN or ~/.vault-token is set")]
    NoToken,
    /// Logging in failed.
    #[error("the OpenBao/Vault {method} login at {path} failed: {message}")]
    LoginFailed {
        /// `approle` or `jwt`.
        method: &'static str,
        /// The login path.
        path: String,
        /// The server's words, without any secret.
        message: String,
    },
    /// The token is not (or no longer) valid.
    #[error("the OpenBao/Vault token ({from}) is expired or not valid at {address}")]
    LoginExpired {
        /// Where the token came from.
        from: String,
        /// The address.
        address: String,
    },
    /// A key, mount or secret that is not there.
    #[error("{what}")]
    NotFound {
        /// What is missing.
        what: String,
        /// The command that makes it, or what to do.
        hint: String,
    },
    /// A transit key that does not bind by context.
    #[error(
        "transit key {key} at mount {mount} is not derived: it cannot bind a value to its place"
    )]
    NotDerived {
        /// The mount.
        mount: String,
        /// The key.
        key: String,
    },
    /// The server refused the value's context: it was sealed for another place.
    #[error(
        "the server refuses to open {place}: it was sealed for another place (copied from another profile or key, or moved), or its ep= was edited"
    )]
    Moved {
        /// Where it was found.
        place: Place,
    },
    /// Any other answer of the server.
    #[error("the OpenBao/Vault server answered {status} to {path}: {message}")]
    Server {
        /// The API path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// Its words, without any secret.
        message: String,
    },
}

impl ServiceError {
    /// What to do, as a command to paste where there is one.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ServiceError::Setting { hint, .. } | ServiceError::NotFound { hint, .. } => hint.clone(),
            ServiceError::NoAddress => {
                "set BAO_ADDR (or VAULT_ADDR) to the server's address, as in `export BAO_ADDR=https://bao.example.com:8200`".to_owned()
            }
            ServiceError::AddressOnlyInFile { address } => format!(
                "if you trust that server, name it on this machine: `export BAO_ADDR='{}'`",
                sealctl_profile::terminal::visible(&address.replace('\'', "'\\''"))
            ),
            ServiceError::Unreachable { .. } => {
                "check that the server runs and that BAO_ADDR (or VAULT_ADDR) names it".to_owned()
            }
            ServiceError::TimedOut { .. } => {
                "check the server and the network; SEALCTL_BAO_TIMEOUT sets the time limit in seconds".to_owned()
            }
            ServiceError::Tls { .. } => {
                "give the server's CA certificate in VAULT_CACERT (or BAO_CACERT), or a folder of them in VAULT_CAPATH".to_owned()
            }
            ServiceError::Sealed { .. } => {
                "ask an operator to unseal it (`bao operator unseal`); nothing was changed".to_owned()
            }
            ServiceError::PermissionDenied { path, capability } => format!(
                "ask for a policy with `path \"{path}\" {{ capabilities = [\"{capability}\"] }}`; `sealctl doctor` lists what each path needs"
            ),
            ServiceError::NoToken => {
                "log in with `bao login` (or `vault login`), set BAO_TOKEN, or choose SEALCTL_BAO_LOGIN=approle or jwt".to_owned()
            }
            ServiceError::LoginFailed { method, .. } => match *method {
                "approle" => "check SEALCTL_BAO_ROLE_ID and SEALCTL_BAO_SECRET_ID (or their _FILE forms) and SEALCTL_BAO_AUTH_PATH".to_owned(),
                _ => "check SEALCTL_BAO_JWT (or SEALCTL_BAO_JWT_FILE), SEALCTL_BAO_ROLE and SEALCTL_BAO_AUTH_PATH".to_owned(),
            },
            ServiceError::LoginExpired { .. } => {
                "log in again (`bao login`) or set a valid BAO_TOKEN".to_owned()
            }
            ServiceError::NotDerived { mount, key } => format!(
                "seal with a derived key: `bao write {mount}/keys/NAME derived=true` makes one (a key's derivation cannot be changed), then pass --transit-key NAME or set transit_key in [sealctl.openbao]; key {key} stays as it is"
            ),
            ServiceError::Moved { .. } => {
                "values cannot be moved between profiles or keys; set the token here with `sealctl token set`".to_owned()
            }
            ServiceError::Server { .. } | ServiceError::Load(_) => return None,
        })
    }
}
