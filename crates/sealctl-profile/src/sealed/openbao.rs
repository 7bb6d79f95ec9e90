//! The payload grammars of the OpenBao/Vault backends: `transit` (the server's ciphertext, with
//! the mount and key that made it) and `kv` (a reference to a field of a KV version 2 secret).
//!
//! ```text
//! transit: <mount>/<key>/vault:v<N>:<base64>
//! kv:      <mount>:<path>#<field>[@<version>]
//! ```
//!
//! Mounts, keys, paths and fields are kept to names a URL path carries as written (letters,
//! digits, `.`, `_`, `-`, segments joined by `/`, never `.` or `..`), so that a value edited by
//! hand cannot reach another path of the server than the one it names.

use std::fmt;

use super::FramingError;

/// The `transit` backend's name in the framing.
pub const TRANSIT: &str = "transit";

/// The `kv` backend's name in the framing.
pub const KV: &str = "kv";

/// A `transit` value's payload: the mount and key that encrypted it and the server's ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitRef {
    /// The transit engine's mount (`transit`, `teams/eu/transit`).
    pub mount: String,
    /// The key's name.
    pub key: String,
    /// The key version that encrypted it (the `N` of `vault:vN:`).
    pub version: u32,
    /// The whole ciphertext as the server gave it, `vault:vN:<base64>`.
    pub ciphertext: String,
}

/// A `kv` value's payload: where the token is in a KV version 2 secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvRef {
    /// The KV engine's mount (`secret`).
    pub mount: String,
    /// The secret's path under the mount (`sealctl/prod`).
    pub path: String,
    /// The field of the secret holding the token.
    pub field: String,
    /// A pinned version of the secret; `None` reads the newest, so a rotation reaches everyone.
    pub version: Option<u64>,
}

/// Checks a `transit` payload.
pub(super) fn check_transit(payload: &str) -> Result<(), FramingError> {
    TransitRef::parse(payload).map(drop)
}

/// Checks a `kv` payload.
pub(super) fn check_kv(payload: &str) -> Result<(), FramingError> {
    KvRef::parse(payload).map(drop)
}

impl TransitRef {
    /// Reads a `transit` payload, `<mount>/<key>/vault:v<N>:<base64>`: split at its first `:`,
    /// which must follow `/vault`.
    pub fn parse(payload: &str) -> Result<TransitRef, FramingError> {
        let bad = || FramingError::BadTransitPayload;
        let (place, rest) = payload.split_once(':').ok_or_else(bad)?;
        let place = place.strip_suffix("/vault").ok_or_else(bad)?;
        let (mount, key) = place.rsplit_once('/').ok_or_else(bad)?;
        if !is_path(mount) || !is_name(key) {
            return Err(bad());
        }
        let (version, data) = rest.split_once(':').ok_or_else(bad)?;
        let version = version
            .strip_prefix('v')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
            .filter(|version| *version > 0)
            .ok_or_else(bad)?;
        if !is_base64(data) {
            return Err(bad());
        }
        Ok(TransitRef {
            mount: mount.to_owned(),
            key: key.to_owned(),
            version,
            ciphertext: format!("vault:{rest}"),
        })
    }

    /// The payload of the ciphertext `ciphertext` (`vault:vN:…`) made by `key` at `mount`, if
    /// all three are well-formed.
    pub fn new(mount: &str, key: &str, ciphertext: &str) -> Result<TransitRef, FramingError> {
        TransitRef::parse(&format!("{mount}/{key}/{ciphertext}"))
    }
}

impl fmt::Display for TransitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.mount, self.key, self.ciphertext)
    }
}

impl KvRef {
    /// Reads a `kv` payload, `<mount>:<path>#<field>[@<version>]`.
    pub fn parse(payload: &str) -> Result<KvRef, FramingError> {
        let bad = || FramingError::BadKvReference;
        let (mount, rest) = payload.split_once(':').ok_or_else(bad)?;
        let (path, rest) = rest.split_once('#').ok_or_else(bad)?;
        let (field, version) = match rest.split_once('@') {
            Some((field, version)) => {
                let version = Some(version)
                    .filter(|digits| {
                        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|digits| digits.parse::<u64>().ok())
                    .filter(|version| *version > 0)
                    .ok_or_else(bad)?;
                (field, Some(version))
            }
            None => (rest, None),
        };
        if !is_path(mount) || !is_path(path) || !is_name(field) {
            return Err(bad());
        }
        Ok(KvRef {
            mount: mount.to_owned(),
            path: path.to_owned(),
            field: field.to_owned(),
            version,
        })
    }
}

impl fmt::Display for KvRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}#{}", self.mount, self.path, self.field)?;
        if let Some(version) = self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

/// What is wrong with `value` for the `[sealctl.openbao]` key `key`, if anything: the one check,
/// for `check` and for use alike.
pub fn check_setting(key: &str, value: &str) -> Option<&'static str> {
    match key {
        "address" => (!is_address(value))
            .then_some("is not an http:// or https:// address (as in https://bao.example.com:8200)"),
        "namespace" => {
            let trimmed = value.trim_matches('/');
            (!trimmed.is_empty() && !is_path(trimmed))
                .then_some("is not a namespace path (names of letters, digits, `.`, `_` and `-`)")
        }
        "transit_mount" | "kv_mount" => (!is_path(value)).then_some(
            "is not a mount path (names of letters, digits, `.`, `_` and `-`, joined by `/`)",
        ),
        "transit_key" => {
            (!is_name(value)).then_some("is not a key name (letters, digits, `.`, `_` and `-`)")
        }
        "kv_path" => (!is_path(&value.replace("{profile}", "p"))).then_some(
            "is not a secret path (names of letters, digits, `.`, `_` and `-`, joined by `/`; `{profile}` for the profile's name)",
        ),
        _ => Some("is not a setting sealctl reads"),
    }
}

/// An `http://` or `https://` address without a path, query or user (a trailing `/` aside).
pub fn is_address(address: &str) -> bool {
    let trimmed = address.trim_end_matches('/');
    trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .is_some_and(|host| {
            !host.is_empty()
                && host.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric()
                        || matches!(byte, b'.' | b'-' | b':' | b'[' | b']' | b'_')
                })
        })
}

/// A name: letters, digits, `.`, `_`, `-`; not `.` or `..`; at most 128 bytes.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// A path: [names](is_name) joined by `/`.
pub fn is_path(path: &str) -> bool {
    path.len() <= 512 && path.split('/').all(is_name)
}

fn is_base64(data: &str) -> bool {
    !data.is_empty()
        && data
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transit_payloads_parse_and_print_back() {
        for payload in [
            "transit/sealctl/vault:v1:AAAA",
            "teams/eu/transit/team-a.key_1/vault:v12:ab+/cd==",
        ] {
            let parsed = TransitRef::parse(payload).unwrap();
            assert_eq!(parsed.to_string(), payload);
        }
        let parsed = TransitRef::parse("teams/eu/transit/k/vault:v3:QQ==").unwrap();
        assert_eq!(parsed.mount, "teams/eu/transit");
        assert_eq!(parsed.key, "k");
        assert_eq!(parsed.version, 3);
        assert_eq!(parsed.ciphertext, "vault:v3:QQ==");
    }

    #[test]
    fn broken_transit_payloads_are_refused() {
        for payload in [
            "vault:v1:AAAA",
            "transit/vault:v1:AAAA",
            "transit/k/vault:v0:AAAA",
            "transit/k/vault:vx:AAAA",
            "transit/k/vault:v1:",
            "transit/k/vault:v1:AA AA",
            "transit/k/vaultx:v1:AAAA",
            "transit/k/notvault:v1:AAAA",
            "../k/vault:v1:AAAA",
            "transit//k/vault:v1:AAAA",
            "transit/../vault:v1:AAAA",
            "transit/k/vault:v1",
            "transit/k%2f/vault:v1:AAAA",
        ] {
            assert_eq!(
                TransitRef::parse(payload),
                Err(FramingError::BadTransitPayload),
                "{payload}"
            );
        }
    }

    #[test]
    fn kv_references_parse_and_print_back() {
        for payload in ["secret:sealctl/prod#token", "kv/team:a/b/c#mgmt_token@7"] {
            let parsed = KvRef::parse(payload).unwrap();
            assert_eq!(parsed.to_string(), payload);
        }
        let parsed = KvRef::parse("secret:sealctl/prod#token@2").unwrap();
        assert_eq!(parsed.version, Some(2));
        assert_eq!(parsed.path, "sealctl/prod");
    }

    #[test]
    fn broken_kv_references_are_refused() {
        for payload in [
            "secret",
            "secret:path",
            "secret:path#",
            ":path#f",
            "secret:#f",
            "secret:a/../b#f",
            "secret:a/./b#f",
            "secret:a//b#f",
            "secret:/a#f",
            "secret:a#f@0",
            "secret:a#f@",
            "secret:a#f@x",
            "secret:a#f@1@2",
            "secret:a b#f",
            "secret:a?x=1#f",
            "sec:ret:a#f",
            "secret:a#f#g",
        ] {
            assert_eq!(
                KvRef::parse(payload),
                Err(FramingError::BadKvReference),
                "{payload}"
            );
        }
    }
}
