//! How a command logs in: a token (`BAO_TOKEN`/`VAULT_TOKEN`, else `~/.vault-token`), AppRole
//! (a role id and a secret id) or JWT (a CI OIDC token, a Kubernetes service-account token, with
//! a role). The token a login gives lives in memory for one command, never on disk.

use std::path::PathBuf;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::client::{Client, Failure, Method};
use super::error::ServiceError;
use super::settings::LOGIN_ENV;

/// How to log in, with its secrets.
pub enum Login {
    /// A token as it is, and where it came from (for messages).
    Token(SecretString, String),
    /// AppRole at `auth/<mount>/login`.
    AppRole {
        /// The auth mount.
        mount: String,
        /// The role id.
        role_id: SecretString,
        /// The secret id.
        secret_id: SecretString,
    },
    /// JWT at `auth/<mount>/login`.
    Jwt {
        /// The auth mount.
        mount: String,
        /// The role.
        role: String,
        /// The token.
        jwt: SecretString,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Token(_, from) => write!(f, "Login::Token([redacted], {from})"),
            Login::AppRole { mount, .. } => write!(f, "Login::AppRole({mount}, [redacted])"),
            Login::Jwt { mount, role, .. } => write!(f, "Login::Jwt({mount}, {role}, [redacted])"),
        }
    }
}

type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// A secret from the variable `name`, else from the file its `_FILE` form names (trimmed of
/// surrounding white space), else `None`.
fn secret(env: Env<'_>, name: &str) -> Result<Option<SecretString>, ServiceError> {
    if let Some(value) = env(name).filter(|value| !value.is_empty()) {
        return Ok(Some(SecretString::from(value.trim().to_owned())));
    }
    let file_var = format!("{name}_FILE");
    let Some(file) = env(&file_var).filter(|file| !file.is_empty()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file).map_err(|cause| ServiceError::Setting {
        what: format!("cannot read {file_var}={file}: {cause}"),
        hint: format!("set {file_var} to a file this user can read"),
    })?;
    let text = zeroize::Zeroizing::new(text);
    Ok(Some(SecretString::from(text.trim().to_owned())))
}

fn required(env: Env<'_>, name: &str, method: &str) -> Result<SecretString, ServiceError> {
    secret(env, name)?.ok_or_else(|| ServiceError::Setting {
        what: format!("the {method} login needs {name} (or {name}_FILE)"),
        hint: format!("set {name} or {name}_FILE, or choose another login with {LOGIN_ENV}"),
    })
}

impl Login {
    /// The login the environment `env` chooses; `home` for `~/.vault-token`.
    pub fn from_env(env: Env<'_>, home: Option<PathBuf>) -> Result<Login, ServiceError> {
        let method = env(LOGIN_ENV).unwrap_or_default();
        let mount = |default: &str| {
            env("SEALCTL_BAO_AUTH_PATH")
                .map(|path| path.trim_matches('/').to_owned())
                .filter(|path| !path.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        match method.as_str() {
            "" | "token" => {
                for name in ["BAO_TOKEN", "VAULT_TOKEN"] {
                    if let Some(token) = secret_var(env, name) {
                        return Ok(Login::Token(token, name.to_owned()));
                    }
                }
                let file = home.map(|home| home.join(".vault-token"));
                match file.as_ref().map(std::fs::read_to_string) {
                    Some(Ok(text)) if !text.trim().is_empty() => {
                        let text = zeroize::Zeroizing::new(text);
                        Ok(Login::Token(
                            SecretString::from(text.trim().to_owned()),
                            "~/.vault-token".to_owned(),
                        ))
                    }
                    _ => Err(ServiceError::NoToken),
                }
            }
            "approle" => Ok(Login::AppRole {
                mount: mount("approle"),
                role_id: required(env, "SEALCTL_BAO_ROLE_ID", "approle")?,
                secret_id: required(env, "SEALCTL_BAO_SECRET_ID", "approle")?,
            }),
            "jwt" => Ok(Login::Jwt {
                mount: mount("jwt"),
                role: env("SEALCTL_BAO_ROLE")
                    .filter(|role| !role.is_empty())
                    .ok_or_else(|| ServiceError::Setting {
                        what: "the jwt login needs SEALCTL_BAO_ROLE, the role to log in as"
                            .to_owned(),
                        hint: "set SEALCTL_BAO_ROLE to a role of the jwt auth mount".to_owned(),
                    })?,
                jwt: required(env, "SEALCTL_BAO_JWT", "jwt")?,
            }),
            other => Err(ServiceError::Setting {
                what: format!("{LOGIN_ENV}={other:?} is not a login sealctl knows"),
                hint: format!("set {LOGIN_ENV} to token, approle or jwt"),
            }),
        }
    }

    /// Where the token comes from, for messages (`BAO_TOKEN`, `approle login`).
    pub fn source(&self) -> String {
        match self {
            Login::Token(_, from) => from.clone(),
            Login::AppRole { mount, .. } => format!("approle login at auth/{mount}"),
            Login::Jwt { mount, .. } => format!("jwt login at auth/{mount}"),
        }
    }

    /// Logs in: the token to use for this command.
    pub fn token(&self, client: &Client) -> Result<SecretString, ServiceError> {
        let (method, mount, body) = match self {
            Login::Token(token, _) => return Ok(token.clone()),
            Login::AppRole {
                mount,
                role_id,
                secret_id,
            } => (
                "approle",
                mount,
                serde_json::json!({
                    "role_id": role_id.expose_secret(),
                    "secret_id": secret_id.expose_secret(),
                }),
            ),
            Login::Jwt { mount, role, jwt } => (
                "jwt",
                mount,
                serde_json::json!({ "role": role, "jwt": jwt.expose_secret() }),
            ),
        };
        let path = format!("auth/{mount}/login");
        let body = zeroize::Zeroizing::new(serde_json::to_vec(&body).expect("JSON in memory"));
        #[derive(Deserialize)]
        struct Answer {
            auth: Option<Auth>,
        }
        #[derive(Deserialize)]
        struct Auth {
            client_token: SecretString,
        }
        match client.call(Method::Post, &path, None, Some(&body)) {
            Ok(bytes) => serde_json::from_slice::<Answer>(&bytes)
                .ok()
                .and_then(|answer| answer.auth)
                .map(|auth| auth.client_token)
                .ok_or_else(|| ServiceError::LoginFailed {
                    method,
                    path,
                    message: "the server's answer holds no token".to_owned(),
                }),
            Err(Failure::Service(error)) => Err(error),
            Err(Failure::Refused(refusal)) => Err(ServiceError::LoginFailed {
                method,
                path,
                message: self.scrubbed(&refusal.message),
            }),
        }
    }

    /// `message` without any of this login's secrets in it.
    fn scrubbed(&self, message: &str) -> String {
        let secrets: Vec<&str> = match self {
            Login::Token(token, _) => vec![token.expose_secret()],
            Login::AppRole {
                role_id, secret_id, ..
            } => vec![role_id.expose_secret(), secret_id.expose_secret()],
            Login::Jwt { jwt, .. } => vec![jwt.expose_secret()],
        };
        let mut message = message.to_owned();
        for secret in secrets.into_iter().filter(|secret| secret.len() >= 4) {
            message = message.replace(secret, "[redacted]");
        }
        message
    }
}

fn secret_var(env: Env<'_>, name: &str) -> Option<SecretString> {
    env(name)
        .filter(|value| !value.trim().is_empty())
        .map(|value| SecretString::from(value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn logins_come_from_the_environment_and_never_show_their_secrets() {
        let login = Login::from_env(&env(&[("VAULT_TOKEN", "s.secret1")]), None).unwrap();
        assert_eq!(login.source(), "VAULT_TOKEN");
        let login = Login::from_env(
            &env(&[
                ("SEALCTL_BAO_LOGIN", "approle"),
                ("SEALCTL_BAO_ROLE_ID", "role-secret"),
                ("SEALCTL_BAO_SECRET_ID", "secret-id-secret"),
            ]),
            None,
        )
        .unwrap();
        assert!(matches!(&login, Login::AppRole { mount, .. } if mount == "approle"));
        assert!(!format!("{login:?}").contains("secret"));
        assert_eq!(
            login.scrubbed("bad secret-id-secret for role-secret"),
            "bad [redacted] for [redacted]"
        );
        let login = Login::from_env(
            &env(&[
                ("SEALCTL_BAO_LOGIN", "jwt"),
                ("SEALCTL_BAO_AUTH_PATH", "/ci-jwt/"),
                ("SEALCTL_BAO_ROLE", "ci"),
                ("SEALCTL_BAO_JWT", "eyJsecret"),
            ]),
            None,
        )
        .unwrap();
        assert!(
            matches!(&login, Login::Jwt { mount, role, .. } if mount == "ci-jwt" && role == "ci")
        );
        assert!(!format!("{login:?}").contains("eyJ"));
    }

    #[test]
    fn a_missing_or_unknown_login_is_named() {
        assert!(matches!(
            Login::from_env(&env(&[]), None),
            Err(ServiceError::NoToken)
        ));
        assert!(matches!(
            Login::from_env(&env(&[("SEALCTL_BAO_LOGIN", "approle")]), None),
            Err(ServiceError::Setting { .. })
        ));
        assert!(matches!(
            Login::from_env(&env(&[("SEALCTL_BAO_LOGIN", "kerberos")]), None),
            Err(ServiceError::Setting { .. })
        ));
        let error = Login::from_env(
            &env(&[
                ("SEALCTL_BAO_LOGIN", "jwt"),
                ("SEALCTL_BAO_ROLE", "ci"),
                ("SEALCTL_BAO_JWT_FILE", "/nonexistent/jwt"),
            ]),
            None,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("SEALCTL_BAO_JWT_FILE"),
            "{error}"
        );
    }

    #[test]
    fn the_vault_token_file_is_read_when_no_variable_is_set() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join(".vault-token"), "s.fromfile\n").unwrap();
        let login = Login::from_env(&env(&[]), Some(home.path().to_owned())).unwrap();
        assert!(
            matches!(&login, Login::Token(token, from) if token.expose_secret() == "s.fromfile" && from == "~/.vault-token")
        );
    }
}
