//! Where a profile's tokens are sent: its product, host and port, and for Dedicated its account
//! and cluster. A sealed value is bound to the endpoint it was sealed for, so that a token is not
//! handed to another server when a shared file's `host` changes.
//!
//! The endpoint is kept in a canonical form, so that spellings influxctl treats alike do not count
//! as a move: a host name in lower case (DNS names are case-insensitive), an IP address as Rust
//! prints it (`::1`, not `0:0:0:0:0:0:0:1`), a missing port as `443` (influxctl's default) and a
//! port without leading zeros, account and cluster ids (UUIDs) in lower case. Anything else counts
//! as a change, which fails closed: a trailing dot, another Unicode spelling of a host, a port that
//! is not a number. Its [digest](Endpoint::digest) is what `check` compares without any key.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The keys of a profile that make up its endpoint.
pub const ENDPOINT_KEYS: &[&str] = &["product", "host", "port", "account_id", "cluster_id"];

/// The port influxctl uses when a profile names none.
pub const DEFAULT_PORT: &str = "443";

/// A profile's endpoint, in canonical form. Serialised (as in the envelope) it is a JSON object
/// with `product`, `host` (when the profile has one), `port`, and for Dedicated `account_id` and
/// `cluster_id` (when present), in that order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "WrittenEndpoint")]
pub struct Endpoint {
    product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    port: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
}

/// An endpoint as written, by sealctl or by hand, before it is made canonical.
#[derive(Deserialize)]
struct WrittenEndpoint {
    product: String,
    host: Option<String>,
    port: Option<String>,
    account_id: Option<String>,
    cluster_id: Option<String>,
}

impl From<WrittenEndpoint> for Endpoint {
    fn from(written: WrittenEndpoint) -> Endpoint {
        Endpoint::from_fields(|key| match key {
            "product" => Some(written.product.as_str()),
            "host" => written.host.as_deref(),
            "port" => written.port.as_deref(),
            "account_id" => written.account_id.as_deref(),
            "cluster_id" => written.cluster_id.as_deref(),
            _ => None,
        })
    }
}

impl Endpoint {
    /// The endpoint of a profile whose string values at [`ENDPOINT_KEYS`] are given by `field`
    /// (`None` for a key that is missing or not a string).
    pub fn from_fields<'v>(field: impl Fn(&str) -> Option<&'v str>) -> Endpoint {
        let product = field("product").unwrap_or_default().to_ascii_lowercase();
        let dedicated = product == "dedicated";
        let id = |key| {
            field(key)
                .filter(|_| dedicated)
                .map(str::to_ascii_lowercase)
        };
        Endpoint {
            host: field("host").map(canonical_host),
            port: canonical_port(field("port").unwrap_or(DEFAULT_PORT)),
            account_id: id("account_id"),
            cluster_id: id("cluster_id"),
            product,
        }
    }

    /// A short digest that tells endpoints apart without any key: the first 8 hexadecimal digits
    /// of SHA-256 over the endpoint's JSON object, exactly as the envelope holds it.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("writing JSON to memory cannot fail");
        Sha256::digest(&json)[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The product, in lower case.
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The host, if the profile has one.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port (`443` when the profile names none).
    pub fn port(&self) -> &str {
        &self.port
    }

    /// The Dedicated account id, in lower case.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// The Dedicated cluster id, in lower case.
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }
}

/// `clustered prod.example.com:443`, `dedicated account …, cluster …`: how messages name it.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&visible(&self.product))?;
        let address = |f: &mut fmt::Formatter<'_>, host: &str| {
            if host.contains(':') {
                write!(f, "[{}]:{}", visible(host), visible(&self.port))
            } else {
                write!(f, "{}:{}", visible(host), visible(&self.port))
            }
        };
        if self.product == "dedicated" {
            let id = |id: &Option<String>| id.as_deref().map_or("(none)".to_owned(), visible);
            write!(
                f,
                " account {}, cluster {}",
                id(&self.account_id),
                id(&self.cluster_id)
            )?;
            match &self.host {
                Some(host) => {
                    f.write_str(", host ")?;
                    address(f, host)
                }
                None if self.port != DEFAULT_PORT => write!(f, ", port {}", visible(&self.port)),
                None => Ok(()),
            }
        } else {
            f.write_str(" ")?;
            address(f, self.host.as_deref().unwrap_or("(no host)"))
        }
    }
}

fn canonical_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(address) => address.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    }
}

fn canonical_port(port: &str) -> String {
    let digits = port.trim_start_matches('0');
    if !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()) && digits.len() <= 5 {
        let number: u32 = digits.parse().unwrap_or(0);
        number.to_string()
    } else {
        port.to_owned()
    }
}

/// Control characters of a file's value shown as escapes, so that a message cannot drive a
/// terminal.
fn visible(text: &str) -> String {
    text.chars()
        .map(|ch| {
            if ch.is_control() {
                ch.escape_unicode().to_string()
            } else {
                ch.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(fields: &[(&str, &str)]) -> Endpoint {
        Endpoint::from_fields(|key| {
            fields
                .iter()
                .find(|(name, _)| *name == key)
                .map(|(_, value)| *value)
        })
    }

    fn clustered(host: &str, port: Option<&str>) -> Endpoint {
        let mut fields = vec![("product", "clustered"), ("host", host)];
        fields.extend(port.map(|port| ("port", port)));
        endpoint(&fields)
    }

    #[test]
    fn spellings_influxctl_treats_alike_are_one_endpoint() {
        let canonical = clustered("prod.example.com", Some("443"));
        for same in [
            clustered("Prod.Example.COM", Some("443")),
            clustered("prod.example.com", None),
            clustered("prod.example.com", Some("0443")),
            endpoint(&[
                ("product", "Clustered"),
                ("host", "prod.example.com"),
                ("port", "443"),
                ("account_id", "ignored-for-clustered"),
            ]),
        ] {
            assert_eq!(same, canonical);
            assert_eq!(same.digest(), canonical.digest());
        }
        assert_eq!(
            clustered("::1", None),
            clustered("0:0:0:0:0:0:0:1", Some("443"))
        );
    }

    #[test]
    fn every_part_of_the_endpoint_counts() {
        let canonical = clustered("prod.example.com", Some("443"));
        let account = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11";
        let cluster = "11111111-2222-3333-4444-555555555555";
        let dedicated = endpoint(&[
            ("product", "dedicated"),
            ("host", "prod.example.com"),
            ("account_id", account),
            ("cluster_id", cluster),
        ]);
        let others = [
            clustered("evil.example.com", Some("443")),
            clustered("prod.example.com", Some("8443")),
            clustered("prod.example.com.", Some("443")),
            clustered("prod.example.com", Some("")),
            clustered("prod.example.com", Some("443 ")),
            dedicated.clone(),
            endpoint(&[
                ("product", "dedicated"),
                ("host", "prod.example.com"),
                ("account_id", account),
                ("cluster_id", "99999999-2222-3333-4444-555555555555"),
            ]),
            endpoint(&[
                ("product", "dedicated"),
                ("host", "prod.example.com"),
                ("account_id", "99999999-57b1-4e39-9b1a-3f1e0c4e2a11"),
                ("cluster_id", cluster),
            ]),
            endpoint(&[
                ("product", "dedicated"),
                ("account_id", account),
                ("cluster_id", cluster),
            ]),
        ];
        let mut digests: Vec<String> = others.iter().map(Endpoint::digest).collect();
        digests.push(canonical.digest());
        digests.sort();
        digests.dedup();
        assert_eq!(digests.len(), others.len() + 1, "{others:?}");
        assert_eq!(
            dedicated,
            endpoint(&[
                ("product", "dedicated"),
                ("host", "PROD.example.com"),
                ("port", "443"),
                ("account_id", &account.to_uppercase()),
                ("cluster_id", cluster),
            ])
        );
    }

    #[test]
    fn the_digest_is_of_the_json_the_envelope_holds() {
        let endpoint = clustered("Prod.Example.com", None);
        let json = serde_json::to_string(&endpoint).unwrap();
        assert_eq!(
            json,
            r#"{"product":"clustered","host":"prod.example.com","port":"443"}"#
        );
        // printf '%s' '{"product":"clustered","host":"prod.example.com","port":"443"}' | sha256sum
        assert_eq!(endpoint.digest(), "48bf1f47");
        let back: Endpoint =
            serde_json::from_str(r#"{"product":"clustered","host":"PROD.example.com"}"#).unwrap();
        assert_eq!(back, endpoint);
    }

    #[test]
    fn messages_name_the_endpoint_readably() {
        assert_eq!(
            clustered("prod.example.com", None).to_string(),
            "clustered prod.example.com:443"
        );
        assert_eq!(
            clustered("::1", Some("8086")).to_string(),
            "clustered [::1]:8086"
        );
        assert_eq!(
            clustered("a\u{1b}]0;x\u{7}", None).to_string(),
            "clustered a\\u{1b}]0;x\\u{7}:443"
        );
        assert_eq!(
            endpoint(&[
                ("product", "dedicated"),
                ("account_id", "a"),
                ("cluster_id", "c"),
            ])
            .to_string(),
            "dedicated account a, cluster c"
        );
    }
}
