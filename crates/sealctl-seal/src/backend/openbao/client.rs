//! The HTTP client: one blocking `ureq` agent over rustls (graviola, pure Rust), certificates
//! verified against `VAULT_CACERT`/`VAULT_CAPATH` or else the system's roots, every call bounded
//! by the time limit, and the server's answers mapped to [`ServiceError`]s.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use zeroize::Zeroizing;

use super::error::ServiceError;
use super::settings::Settings;

/// The server's answers are small; a larger one is refused rather than read.
const ANSWER_LIMIT: u64 = 1 << 20;

/// An HTTP method of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Write.
    Post,
    /// Delete.
    Delete,
}

/// An answer other than 2xx: its status and the server's words.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The server's `errors`, joined.
    pub message: String,
}

/// What a call can come to, short of success.
#[derive(Debug)]
pub enum Failure {
    /// The server could not be asked, or answered that it is sealed.
    Service(ServiceError),
    /// The server answered with an error status.
    Refused(Refusal),
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Failure {
        Failure::Service(error)
    }
}

/// A connection to one server.
pub struct Client {
    address: String,
    namespace: Option<String>,
    agent: ureq::Agent,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Client {
    /// A client of the server `settings` name, trusting what they say to trust.
    pub fn new(settings: &Settings) -> Result<Client, ServiceError> {
        let address = settings.address()?.to_owned();
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .max_redirects(0);
        // The CA certificates are read and parsed only for an `https://` server: the system's
        // are a few hundred files, which cost `exec` of a value over `http://` (loopback, a
        // sidecar) more than its request. With no redirects followed, an `http://` agent never
        // speaks TLS, so nothing it would check is skipped.
        if address.starts_with("https://") {
            let mut tls = TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .unversioned_rustls_crypto_provider(Arc::new(rustls_graviola::default_provider()))
                .root_certs(RootCerts::Specific(Arc::new(roots(settings)?)));
            if settings.skip_verify {
                tls = tls.disable_verification(true);
            }
            config = config.tls_config(tls.build());
        }
        let agent = config.build().new_agent();
        Ok(Client {
            address,
            namespace: settings.namespace.clone(),
            agent,
            timeout: settings.timeout,
        })
    }

    /// The server's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Calls `path` (under `/v1/`) with `token` and the JSON `body`, returning the answer's
    /// bytes (zeroed when dropped: they may hold a secret).
    pub fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let url = format!("{}/v1/{path}", self.address);
        let answer = match method {
            Method::Get => self.with_headers(self.agent.get(&url), token).call(),
            Method::Delete => self.with_headers(self.agent.delete(&url), token).call(),
            Method::Post => self
                .with_headers(self.agent.post(&url), token)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(b"{}")),
        };
        let mut answer = answer.map_err(|error| self.transport(error))?;
        let status = answer.status().as_u16();
        let bytes = Zeroizing::new(
            answer
                .body_mut()
                .with_config()
                .limit(ANSWER_LIMIT)
                .read_to_vec()
                .map_err(|error| self.transport(error))?,
        );
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let message = server_words(&bytes);
        if status == 503 && message.to_ascii_lowercase().contains("sealed") {
            return Err(ServiceError::Sealed {
                address: self.address.clone(),
            }
            .into());
        }
        Err(Failure::Refused(Refusal { status, message }))
    }

    fn with_headers<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        token: Option<&SecretString>,
    ) -> ureq::RequestBuilder<B> {
        let mut request = request;
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose_secret());
        }
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        request
    }

    fn transport(&self, error: ureq::Error) -> ServiceError {
        let address = self.address.clone();
        match error {
            ureq::Error::Timeout(_) => ServiceError::TimedOut {
                address,
                seconds: self.timeout.as_secs_f64(),
            },
            ureq::Error::Tls(cause) => ServiceError::Tls {
                address,
                cause: cause.to_owned(),
            },
            ureq::Error::Rustls(cause) => ServiceError::Tls {
                address,
                cause: cause.to_string(),
            },
            ureq::Error::Io(cause) if cause.kind() == std::io::ErrorKind::TimedOut => {
                ServiceError::TimedOut {
                    address,
                    seconds: self.timeout.as_secs_f64(),
                }
            }
            ureq::Error::Io(cause) if tls_cause(&cause).is_some() => ServiceError::Tls {
                address,
                cause: tls_cause(&cause).unwrap_or_default(),
            },
            other => ServiceError::Unreachable {
                address,
                cause: other.to_string(),
            },
        }
    }
}

/// The rustls error inside an I/O error, if that is what it is.
fn tls_cause(error: &std::io::Error) -> Option<String> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(ToString::to_string)
}

/// The CA certificates to trust: `VAULT_CACERT`'s file and `VAULT_CAPATH`'s folder if given,
/// else the system's.
fn roots(settings: &Settings) -> Result<Vec<Certificate<'static>>, ServiceError> {
    let mut files = Vec::new();
    if let Some(file) = &settings.ca_cert {
        files.push(file.clone());
    }
    if let Some(folder) = &settings.ca_path {
        let entries = std::fs::read_dir(folder).map_err(|cause| ServiceError::Setting {
            what: format!("cannot read the CA folder {}: {cause}", folder.display()),
            hint: "set VAULT_CAPATH (or BAO_CAPATH) to a folder of PEM certificates".to_owned(),
        })?;
        let mut found: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        let found = rustls_native_certs::load_native_certs();
        return Ok(found
            .certs
            .into_iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect());
    }
    let mut certificates = Vec::new();
    for file in &files {
        let pem = std::fs::read(file).map_err(|cause| ServiceError::Setting {
            what: format!("cannot read the CA certificate {}: {cause}", file.display()),
            hint: "set VAULT_CACERT (or BAO_CACERT) to the server's CA certificate, in PEM"
                .to_owned(),
        })?;
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(PemItem::Certificate(certificate)) = item {
                certificates.push(certificate);
            }
        }
    }
    if certificates.is_empty() {
        return Err(ServiceError::Setting {
            what: format!(
                "no PEM certificate in {}",
                files
                    .iter()
                    .map(|file| file.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "set VAULT_CACERT (or BAO_CACERT) to the server's CA certificate, in PEM"
                .to_owned(),
        });
    }
    Ok(certificates)
}

/// The server's `errors`, as one line: `["1 error occurred:\n\t* permission denied\n\n"]`
/// reads `permission denied`.
pub fn server_words(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
    }
    let errors = serde_json::from_slice::<Errors>(bytes)
        .map(|errors| errors.errors)
        .unwrap_or_default();
    let words: Vec<String> = errors
        .iter()
        .flat_map(|error| error.lines())
        .map(|line| line.trim().trim_start_matches("* ").trim())
        .filter(|line| !(line.is_empty() || line.ends_with("occurred:") && line.contains("error")))
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect::<String>()
        })
        .collect();
    if words.is_empty() {
        "no reason given".to_owned()
    } else {
        words.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_words_are_one_line() {
        assert_eq!(
            server_words(br#"{"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#),
            "permission denied"
        );
        assert_eq!(
            server_words(br#"{"errors":["Vault is sealed"]}"#),
            "Vault is sealed"
        );
        assert_eq!(server_words(b"<html>"), "no reason given");
        assert_eq!(
            server_words(br#"{"errors":["2 errors occurred:\n\t* a\n\t* b\u001b[31m\n"]}"#),
            "a; b[31m"
        );
    }
}
