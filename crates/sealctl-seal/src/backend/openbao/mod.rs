//! The OpenBao/Vault backends, over one client: `transit` keeps the server's ciphertext in the
//! file and asks the server to decrypt it, bound to its place by a derived key's `context`;
//! `kv` keeps the token in a KV version 2 secret and a reference in the file, bound to its
//! place by the secret's `custom_metadata`. Nothing here is read or reached for until the first
//! value of these backends is sealed or opened: the settings and the login are loaded then,
//! once per command, and every call is bounded by the time limit.

mod client;
mod error;
pub mod kv;
mod login;
pub mod settings;
pub mod transit;

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;

use self::client::{Client, Failure, Method};
pub use self::error::ServiceError;
use self::login::Login;
use self::settings::Settings;

/// The settings, the client and the login of one command.
pub(crate) struct Session {
    settings: Settings,
    client: Client,
    login: Login,
    token: Option<SecretString>,
    /// Transit keys (mount, key) seen to be derived in this command.
    derived: Vec<(String, String)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("login", &self.login)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn home() -> Option<PathBuf> {
    std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" })
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

impl Session {
    /// A session with the file's `[sealctl.openbao]` table and this process's environment;
    /// `warn` says that certificates are not verified, or that the file names another server
    /// than the environment does, if so.
    pub(crate) fn start(
        table: Option<&BTreeMap<String, String>>,
        warn: &dyn Fn(&str),
    ) -> Result<Session, ServiceError> {
        let settings = Settings::read(table, &env)?;
        let client = Client::new(&settings)?;
        if let Some(file_address) = settings.other_file_address() {
            warn(&format!(
                "{} names the OpenBao/Vault server {}, but the file's [sealctl.openbao] address is {}: using {}",
                settings.address_from,
                client.address(),
                sealctl_profile::terminal::visible(file_address),
                client.address()
            ));
        }
        if settings.skip_verify {
            warn(&format!(
                "VAULT_SKIP_VERIFY is set: the certificate of the OpenBao/Vault server at {} is not verified, so anyone between here and it can read the tokens",
                client.address()
            ));
        }
        let login = Login::from_env(&env, home())?;
        Ok(Session {
            settings,
            client,
            login,
            token: None,
            derived: Vec::new(),
        })
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The token, logging in the first time.
    fn token(&mut self) -> Result<SecretString, ServiceError> {
        if self.token.is_none() {
            self.token = Some(self.login.token(&self.client)?);
        }
        Ok(self.token.clone().expect("just logged in"))
    }

    /// Calls `path` as this login. A 403 is never retried: one `auth/token/lookup-self` tells a
    /// login that is not valid (any more) from one that lacks `capability` on `path`.
    pub(crate) fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        capability: &'static str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
        let token = self.token()?;
        match self.client.call(method, path, Some(&token), body) {
            Err(Failure::Refused(refusal)) if refusal.status == 403 => {
                Err(Failure::Service(self.denied(&token, path, capability)))
            }
            other => other,
        }
    }

    fn denied(&self, token: &SecretString, path: &str, capability: &'static str) -> ServiceError {
        match self
            .client
            .call(Method::Get, "auth/token/lookup-self", Some(token), None)
        {
            Err(Failure::Refused(refusal)) if refusal.status == 403 => ServiceError::LoginExpired {
                from: self.login.source(),
                address: self.client.address().to_owned(),
            },
            Err(Failure::Service(error)) => error,
            _ => ServiceError::PermissionDenied {
                path: path.to_owned(),
                capability,
            },
        }
    }

    /// Whether the login may do `capability` on each of `paths` (`sys/capabilities-self`).
    pub(crate) fn capabilities(
        &mut self,
        paths: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, ServiceError> {
        let body = serde_json::to_vec(&serde_json::json!({ "paths": paths })).expect("JSON");
        let bytes = self
            .call(Method::Post, "sys/capabilities-self", Some(&body), "update")
            .map_err(|failure| unexpected(failure, "sys/capabilities-self"))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        Ok(paths
            .iter()
            .map(|path| {
                let granted = answer
                    .get(path)
                    .or_else(|| answer.get("data").and_then(|data| data.get(path)))
                    .and_then(|list| list.as_array())
                    .map(|list| {
                        list.iter()
                            .filter_map(|item| item.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (path.clone(), granted)
            })
            .collect())
    }

    /// Whether the server is up and unsealed (`sys/health`, which needs no login).
    pub(crate) fn health(&self) -> Result<(), ServiceError> {
        match self.client.call(Method::Get, "sys/health", None, None) {
            Ok(_) => Ok(()),
            Err(Failure::Service(error)) => Err(error),
            Err(Failure::Refused(refusal)) if refusal.status == 503 => Err(ServiceError::Sealed {
                address: self.client.address().to_owned(),
            }),
            // 429/472/473: a standby or performance standby, which serves.
            Err(Failure::Refused(refusal)) if matches!(refusal.status, 429 | 472 | 473) => Ok(()),
            Err(Failure::Refused(refusal)) => Err(ServiceError::Server {
                path: "sys/health".to_owned(),
                status: refusal.status,
                message: refusal.message,
            }),
        }
    }

    pub(crate) fn address(&self) -> &str {
        self.client.address()
    }

    pub(crate) fn login_source(&self) -> String {
        self.login.source()
    }
}

/// Whether the environment names a server (for `init`'s offer: no call is made).
pub(crate) fn address_in_environment() -> Result<(), ServiceError> {
    Settings::read(None, &env)?.address().map(drop)
}

/// A refusal nothing more specific explains.
pub(crate) fn unexpected(failure: Failure, path: &str) -> ServiceError {
    match failure {
        Failure::Service(error) => error,
        Failure::Refused(refusal) => ServiceError::Server {
            path: path.to_owned(),
            status: refusal.status,
            message: refusal.message,
        },
    }
}

impl From<ServiceError> for crate::error::OpenError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Load(load) => crate::error::OpenError::Load(load),
            other => crate::error::OpenError::Service(other),
        }
    }
}

impl From<ServiceError> for crate::error::SealError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Load(load) => crate::error::SealError::Load(load),
            other => crate::error::SealError::Service(other),
        }
    }
}

/// `doctor`'s checks: the server answers and is unsealed, the login works, the transit key is
/// derived, and the login holds the capabilities each path needs (`sys/capabilities-self`).
mod probe {
    use super::ServiceError;
    use crate::backend::Access;

    /// What each path needs, as (path, capability).
    fn missing(
        session: &mut super::Session,
        needs: &[(String, &'static str)],
    ) -> Result<(), ServiceError> {
        let paths: Vec<String> = needs.iter().map(|(path, _)| path.clone()).collect();
        let granted = session.capabilities(&paths)?;
        for (path, capability) in needs {
            let has = granted.get(path).is_some_and(|list| {
                list.iter()
                    .any(|granted| granted == capability || granted == "root")
            });
            if !has {
                return Err(ServiceError::PermissionDenied {
                    path: path.clone(),
                    capability,
                });
            }
        }
        Ok(())
    }

    fn started(access: &mut Access) -> Result<&mut super::Session, ServiceError> {
        let session = access.openbao()?;
        session.health()?;
        Ok(session)
    }

    /// The transit backend's checks.
    pub(super) fn transit(access: &mut Access) -> Result<String, ServiceError> {
        let session = started(access)?;
        let (mount, key) = (
            session.settings().transit_mount.clone(),
            session.settings().transit_key.clone(),
        );
        super::transit::check_derived_for_probe(session, &mount, &key)?;
        missing(
            session,
            &[
                (format!("{mount}/encrypt/{key}"), "update"),
                (format!("{mount}/decrypt/{key}"), "update"),
                (format!("{mount}/rewrap/{key}"), "update"),
            ],
        )?;
        Ok(format!(
            "the server at {} is unsealed; the {} may encrypt, decrypt and rewrap with the derived transit key {mount}/keys/{key}",
            session.address(),
            session.login_source()
        ))
    }

    /// The kv backend's checks.
    pub(super) fn kv(access: &mut Access) -> Result<String, ServiceError> {
        let session = started(access)?;
        let mount = session.settings().kv_mount.clone();
        let path = session.settings().kv_path.replace("{profile}", "PROFILE");
        missing(
            session,
            &[
                (format!("{mount}/data/{path}"), "read"),
                (format!("{mount}/data/{path}"), "create"),
                (format!("{mount}/data/{path}"), "update"),
                (format!("{mount}/metadata/{path}"), "update"),
            ],
        )?;
        Ok(format!(
            "the server at {} is unsealed; the {} may read and write {mount}/data/{path} and its metadata",
            session.address(),
            session.login_source()
        ))
    }
}
