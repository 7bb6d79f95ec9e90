//! Where the server is and how to reach it: the ecosystem's own variables (`BAO_ADDR` or
//! `VAULT_ADDR`, …), else the profile file's `[sealctl.openbao]` table, else the defaults. Read
//! only when the first value of these backends is sealed or opened.
//!
//! The server itself is the one exception to "else the file": the login (a token, a secret id, a
//! JWT) goes only to an address this machine names, as influxctl tokens go only to the `host`
//! they were sealed for. The file's `address` is the team's record of where its values are kept,
//! checked against the machine's (see [`Settings::file_address`]), never used on its own.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ServiceError;

/// The profile file's table of these settings, `[sealctl.openbao]`.
pub const TABLE: &str = "openbao";

/// The variable choosing how to log in: `token` (the default), `approle` or `jwt`.
pub const LOGIN_ENV: &str = "SEALCTL_BAO_LOGIN";

/// The variable bounding every call to the server, in seconds (connect and read).
pub const TIMEOUT_ENV: &str = "SEALCTL_BAO_TIMEOUT";

/// A call's time limit when [`TIMEOUT_ENV`] is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The keys `[sealctl.openbao]` may hold, with their defaults (`None`: no default).
pub const FILE_KEYS: &[(&str, Option<&str>)] = &[
    ("address", None),
    ("namespace", None),
    ("transit_mount", Some("transit")),
    ("transit_key", Some("sealctl")),
    ("kv_mount", Some("secret")),
    ("kv_path", Some("sealctl/{profile}")),
];

/// The server settings of one command.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The server's address (`https://bao.example.com:8200`), without a trailing `/`: from
    /// `BAO_ADDR` or `VAULT_ADDR` only, never from the file.
    pub address: Option<String>,
    /// The variable the address came from, for messages (`BAO_ADDR`, `VAULT_ADDR`).
    pub address_from: String,
    /// The file's `[sealctl.openbao] address`, without a trailing `/`: where the team says its
    /// values are kept. Untrusted (the file may be shared and edited by others): only compared
    /// with [`Settings::address`], never connected to.
    pub file_address: Option<String>,
    /// The namespace (Vault Enterprise, OpenBao namespaces), if any.
    pub namespace: Option<String>,
    /// The transit engine's mount.
    pub transit_mount: String,
    /// The transit key sealing new values.
    pub transit_key: String,
    /// The KV version 2 engine's mount.
    pub kv_mount: String,
    /// The path of the secret new values go to, with `{profile}` for the profile's name.
    pub kv_path: String,
    /// Every call's time limit.
    pub timeout: Duration,
    /// A PEM file of CA certificates to trust instead of the system's.
    pub ca_cert: Option<PathBuf>,
    /// A folder of PEM CA certificates to trust instead of the system's.
    pub ca_path: Option<PathBuf>,
    /// Whether the server's certificate is not verified (a warning each time).
    pub skip_verify: bool,
}

/// The first of `names` set (and not empty) in the environment `env`, with its name.
fn first(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|name| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(|value| (value, (*name).to_owned()))
    })
}

impl Settings {
    /// The settings from the environment `env`, else the file's `table`, else the defaults.
    pub fn read(
        table: Option<&BTreeMap<String, String>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ServiceError> {
        let file = |key: &str| -> Option<String> {
            table.and_then(|table| table.get(key).cloned()).or_else(|| {
                FILE_KEYS
                    .iter()
                    .find(|(name, _)| *name == key)
                    .and_then(|(_, default)| default.map(str::to_owned))
            })
        };
        let (address, address_from) = match first(env, &["BAO_ADDR", "VAULT_ADDR"]) {
            Some((address, from)) => (Some(check_address(&address, &from)?), from),
            None => (None, "BAO_ADDR".to_owned()),
        };
        let file_address = file("address")
            .map(|address| check_address(&address, &format!("[sealctl.{TABLE}] address")))
            .transpose()?;
        let namespace = first(env, &["BAO_NAMESPACE", "VAULT_NAMESPACE"])
            .map(|(namespace, _)| namespace)
            .or_else(|| file("namespace"))
            .map(|namespace| namespace.trim_matches('/').to_owned())
            .filter(|namespace| !namespace.is_empty());
        let timeout = match first(env, &[TIMEOUT_ENV]) {
            Some((text, _)) => parse_timeout(&text).ok_or_else(|| ServiceError::Setting {
                what: format!(
                    "{TIMEOUT_ENV}={text:?} is not a number of seconds between 0 and 3600"
                ),
                hint: format!("set {TIMEOUT_ENV} to a number of seconds, as in {TIMEOUT_ENV}=10"),
            })?,
            None => DEFAULT_TIMEOUT,
        };
        let skip_verify = match first(env, &["BAO_SKIP_VERIFY", "VAULT_SKIP_VERIFY"]) {
            Some((text, name)) => parse_bool(&text).ok_or_else(|| ServiceError::Setting {
                what: format!("{name}={text:?} is not true or false"),
                hint: format!("unset {name}, or set it to true or false"),
            })?,
            None => false,
        };
        let settings = Settings {
            address,
            address_from,
            file_address,
            namespace,
            transit_mount: file("transit_mount").unwrap_or_default(),
            transit_key: file("transit_key").unwrap_or_default(),
            kv_mount: file("kv_mount").unwrap_or_default(),
            kv_path: file("kv_path").unwrap_or_default(),
            timeout,
            ca_cert: first(env, &["BAO_CACERT", "VAULT_CACERT"]).map(|(path, _)| path.into()),
            ca_path: first(env, &["BAO_CAPATH", "VAULT_CAPATH"]).map(|(path, _)| path.into()),
            skip_verify,
        };
        for (key, value) in [
            ("transit_mount", &settings.transit_mount),
            ("transit_key", &settings.transit_key),
            ("kv_mount", &settings.kv_mount),
        ] {
            if let Some(problem) = check_file_value(key, value) {
                return Err(ServiceError::Setting {
                    what: format!("[sealctl.{TABLE}] {key} = {value:?} {problem}"),
                    hint: "correct it in the profile file (`sealctl check` shows where)".to_owned(),
                });
            }
        }
        Ok(settings)
    }

    /// The address this machine names, or an error saying how to give one: when only the file
    /// names a server, an error naming it (nothing is sent there).
    pub fn address(&self) -> Result<&str, ServiceError> {
        match (&self.address, &self.file_address) {
            (Some(address), _) => Ok(address),
            (None, Some(file_address)) => Err(ServiceError::AddressOnlyInFile {
                address: file_address.clone(),
            }),
            (None, None) => Err(ServiceError::NoAddress),
        }
    }

    /// The file's address when it is not the one this machine names (both set), for a warning.
    pub fn other_file_address(&self) -> Option<&str> {
        let (address, file_address) = (self.address.as_deref()?, self.file_address.as_deref()?);
        (!address.eq_ignore_ascii_case(file_address)).then_some(file_address)
    }
}

/// What is wrong with `value` for the `[sealctl.openbao]` key `key`, if anything (the profile
/// crate's check, which `check` uses too).
pub fn check_file_value(key: &str, value: &str) -> Option<String> {
    sealctl_profile::sealed::openbao::check_setting(key, value).map(str::to_owned)
}

/// An `http://` or `https://` address without a path, query or user, as written without a
/// trailing `/`.
fn check_address(address: &str, from: &str) -> Result<String, ServiceError> {
    let trimmed = address.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    let well_formed = rest.is_some_and(|host| {
        !host.is_empty()
            && host.bytes().all(|byte| {
                byte.is_ascii_alphanumeric()
                    || matches!(byte, b'.' | b'-' | b':' | b'[' | b']' | b'_')
            })
    });
    if well_formed {
        Ok(trimmed.to_owned())
    } else {
        Err(ServiceError::Setting {
            what: format!("{from} {address:?} is not an http:// or https:// address"),
            hint: "give the server's address as in https://bao.example.com:8200".to_owned(),
        })
    }
}

fn parse_timeout(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().parse().ok()?;
    (seconds > 0.0 && seconds <= 3600.0).then(|| Duration::from_secs_f64(seconds))
}

/// A boolean as Go's `strconv.ParseBool` reads it, as the `bao` and `vault` CLIs do.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
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
    fn the_environment_wins_over_the_file_and_the_file_over_the_defaults() {
        let table: BTreeMap<String, String> = [
            (
                "address".to_owned(),
                "https://file.example.com:8200/".to_owned(),
            ),
            ("transit_key".to_owned(), "team-a".to_owned()),
        ]
        .into();
        let settings = Settings::read(Some(&table), &env(&[])).unwrap();
        // The file's address is recorded, never used: the login goes only where the machine says.
        assert_eq!(settings.address, None);
        assert_eq!(
            settings.file_address.as_deref(),
            Some("https://file.example.com:8200")
        );
        assert!(matches!(
            settings.address(),
            Err(ServiceError::AddressOnlyInFile { address }) if address == "https://file.example.com:8200"
        ));
        assert_eq!(settings.transit_key, "team-a");
        assert_eq!(settings.transit_mount, "transit");
        assert_eq!(settings.kv_path, "sealctl/{profile}");
        assert_eq!(settings.timeout, DEFAULT_TIMEOUT);
        let settings = Settings::read(
            Some(&table),
            &env(&[
                ("VAULT_ADDR", "http://127.0.0.1:8200"),
                ("SEALCTL_BAO_TIMEOUT", "0.5"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.address.as_deref(), Some("http://127.0.0.1:8200"));
        assert_eq!(settings.address_from, "VAULT_ADDR");
        assert_eq!(settings.timeout, Duration::from_millis(500));
        assert_eq!(settings.address().ok(), Some("http://127.0.0.1:8200"));
        assert_eq!(
            settings.other_file_address(),
            Some("https://file.example.com:8200")
        );
        let same: BTreeMap<String, String> =
            [("address".to_owned(), "http://127.0.0.1:8200/".to_owned())].into();
        let settings =
            Settings::read(Some(&same), &env(&[("BAO_ADDR", "http://127.0.0.1:8200")])).unwrap();
        assert_eq!(settings.other_file_address(), None);
        let settings = Settings::read(
            None,
            &env(&[("BAO_ADDR", "http://a:1"), ("VAULT_ADDR", "http://b:2")]),
        )
        .unwrap();
        assert_eq!(settings.address.as_deref(), Some("http://a:1"));
    }

    #[test]
    fn bad_settings_are_named() {
        for vars in [
            &[("BAO_ADDR", "bao.example.com")][..],
            &[("BAO_ADDR", "https://bao.example.com/v1?x")],
            &[("SEALCTL_BAO_TIMEOUT", "0")],
            &[("SEALCTL_BAO_TIMEOUT", "soon")],
            &[("VAULT_SKIP_VERIFY", "yes please")],
        ] {
            let vars: &'static [(&str, &str)] = Box::leak(vars.to_vec().into_boxed_slice());
            assert!(matches!(
                Settings::read(None, &env(vars)),
                Err(ServiceError::Setting { .. })
            ));
        }
        let table: BTreeMap<String, String> =
            [("transit_key".to_owned(), "../sys".to_owned())].into();
        assert!(Settings::read(Some(&table), &env(&[])).is_err());
        // A malformed address in the file is named even when the machine names the server.
        let table: BTreeMap<String, String> = [(
            "address".to_owned(),
            "https://evil.example/\u{1b}]0;x".to_owned(),
        )]
        .into();
        assert!(matches!(
            Settings::read(Some(&table), &env(&[("BAO_ADDR", "http://a:1")])),
            Err(ServiceError::Setting { .. })
        ));
        assert!(matches!(
            Settings::read(None, &env(&[])).unwrap().address(),
            Err(ServiceError::NoAddress)
        ));
    }

    #[test]
    fn file_values_are_checked_one_by_one() {
        assert_eq!(check_file_value("kv_path", "teams/{profile}/influx"), None);
        assert!(check_file_value("kv_path", "teams/../x").is_some());
        assert!(check_file_value("transit_key", "a/b").is_some());
        assert!(check_file_value("address", "ftp://x").is_some());
        assert_eq!(
            check_file_value("address", "https://bao.example.com:8200"),
            None
        );
        assert!(check_file_value("transit", "x").is_some());
    }
}
