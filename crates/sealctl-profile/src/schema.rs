//! The keys influxctl reads from a profile file, with their TOML types, and a typed view of them.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::sealed::{FramingError, SealedValue, looks_sealed};

/// The TOML type a key must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// An array of strings.
    StringArray,
    /// A table (or inline table) whose values are all strings.
    StringMap,
    /// A table (or inline table) with these keys.
    Table(&'static [Field]),
}

impl Kind {
    /// How the type is named in messages: "a string", "a table".
    pub fn describe(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Bool => "a boolean (true or false)",
            Kind::StringArray => "an array of strings",
            Kind::StringMap => "a table of strings",
            Kind::Table(_) => "a table",
        }
    }
}

/// A key the schema knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The key's name.
    pub name: &'static str,
    /// The TOML type it must have.
    pub kind: Kind,
}

const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// Keys of `[profile.tls]`.
pub const TLS_FIELDS: &[Field] = &[
    field("insecure", Kind::Bool),
    field("disable", Kind::Bool),
    field("cert", Kind::String),
    field("key", Kind::String),
    field("ca", Kind::String),
];

/// Keys of `[profile.auth.oauth2]`.
pub const OAUTH2_FIELDS: &[Field] = &[
    field("client_id", Kind::String),
    field("scopes", Kind::StringArray),
    field("parameters", Kind::StringMap),
    field("token_url", Kind::String),
    field("device_url", Kind::String),
];

/// Keys of `[profile.auth]`.
pub const AUTH_FIELDS: &[Field] = &[field("oauth2", Kind::Table(OAUTH2_FIELDS))];

/// Keys of one `[[profile]]`.
pub const PROFILE_FIELDS: &[Field] = &[
    field("name", Kind::String),
    field("product", Kind::String),
    field("host", Kind::String),
    field("port", Kind::String),
    field("database", Kind::String),
    field("token", Kind::String),
    field("mgmt_token", Kind::String),
    field("account_id", Kind::String),
    field("cluster_id", Kind::String),
    field("tls", Kind::Table(TLS_FIELDS)),
    field("auth", Kind::Table(AUTH_FIELDS)),
];

/// Keys of sealctl's own top-level `[sealctl]` table.
pub const SEALCTL_FIELDS: &[Field] = &[
    field("recipients", Kind::StringArray),
    field("expiry_warning", Kind::String),
    // `check` warns when no recipient is post-quantum (rule `no-post-quantum-recipient`).
    field(REQUIRE_POST_QUANTUM, Kind::Bool),
    field("openbao", Kind::Table(OPENBAO_FIELDS)),
];

/// The `[sealctl]` setting that turns on `check`'s warning for recipients without a post-quantum
/// one.
pub const REQUIRE_POST_QUANTUM: &str = "require_post_quantum";

/// Keys of `[sealctl.openbao]`, the OpenBao/Vault server settings of the `transit` and `kv`
/// backends (each value checked by `sealed::openbao::check_setting`).
pub const OPENBAO_FIELDS: &[Field] = &[
    field("address", Kind::String),
    field("namespace", Kind::String),
    field("transit_mount", Kind::String),
    field("transit_key", Kind::String),
    field("kv_mount", Kind::String),
    field("kv_path", Kind::String),
];

/// The secret keys of a profile, which sealctl seals.
pub const SECRET_KEYS: &[&str] = &["mgmt_token", "token"];

/// The top-level table that belongs to sealctl itself (recipients and settings).
pub const SEALCTL_TABLE: &str = "sealctl";

/// Whether influxctl reads the key written as `written` as the schema's key `field`.
///
/// influxctl decodes with go-toml v2, which (like Go's `encoding/json`) takes a key with no exact
/// match for the field whose name matches it case-insensitively: `MGMT_TOKEN` and `Mgmt_Token`
/// are the management token. go-toml lower-cases the key (Go's `strings.ToLower`, which also
/// maps the Kelvin sign `K` to `k` and `İ` to `i`), `encoding/json` folds it (Go's
/// `strings.EqualFold`, which also matches the long s `ſ` to `s`): a key either of them takes
/// for the field is that field here, so that no spelling influxctl may read slips past.
/// `field` is one of the schema's names, which are ASCII lower case.
pub fn same_key(written: &str, field: &str) -> bool {
    written == field || {
        let mut written = written.chars();
        field.chars().all(|expected| {
            written
                .next()
                .is_some_and(|ch| fold_to_ascii(ch) == Some(expected))
        }) && written.next().is_none()
    }
}

/// The ASCII lower-case letter Go's case mapping or folding takes `ch` to, or `ch` itself.
fn fold_to_ascii(ch: char) -> Option<char> {
    match ch {
        '\u{212A}' => Some('k'),
        '\u{017F}' => Some('s'),
        '\u{0130}' => Some('i'),
        _ if ch.is_ascii() => Some(ch.to_ascii_lowercase()),
        _ => None,
    }
}

/// The key written as `written`, in the name influxctl reads it by (`MGMT_TOKEN` is
/// `mgmt_token`), when it is one of `fields`.
pub fn field_named<'f>(fields: &'f [Field], written: &str) -> Option<&'f Field> {
    fields
        .iter()
        .find(|field| field.name == written)
        .or_else(|| fields.iter().find(|field| same_key(written, field.name)))
}

/// The keys of a table that influxctl reads as `field`, as written, in table order: more
/// than one is a duplicate.
pub fn keys_for<'t>(
    table: &'t dyn toml_edit::TableLike,
    field: &str,
) -> impl Iterator<Item = (&'t str, &'t toml_edit::Item)> {
    let field = field.to_owned();
    table
        .iter()
        .filter(move |(written, _)| same_key(written, &field))
}

/// The one key of a table that influxctl reads as `field`: the exact name if written, else a
/// case variant of it.
pub fn key_for<'t>(
    table: &'t dyn toml_edit::TableLike,
    field: &str,
) -> Option<(&'t str, &'t toml_edit::Item)> {
    table
        .get_key_value(field)
        .map(|(key, item)| (key.get(), item))
        .or_else(|| keys_for(table, field).next())
}

/// The one key of a table that influxctl reads as `field`, as written, with its item; or, when
/// the table spells it twice, the first two spellings: which one influxctl takes is not to be
/// relied on.
pub fn only_key_for<'t>(
    table: &'t dyn toml_edit::TableLike,
    field: &str,
) -> Result<Option<(&'t str, &'t toml_edit::Item)>, [&'t str; 2]> {
    let mut keys = keys_for(table, field);
    let first = keys.next();
    match (first, keys.next()) {
        (Some((first, _)), Some((second, _))) => Err([first, second]),
        _ => Ok(first),
    }
}

/// The products influxctl knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    /// InfluxDB 3 Clustered: reached by `host` and `port`.
    Clustered,
    /// InfluxDB 3 Cloud Dedicated: reached by `account_id` and `cluster_id`.
    Dedicated,
}

impl Product {
    /// Every product, as written in the file.
    pub const NAMES: &'static [&'static str] = &["clustered", "dedicated"];

    /// The product as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Clustered => "clustered",
            Product::Dedicated => "dedicated",
        }
    }
}

/// A secret key's value: sealed, or (until it is sealed) plaintext.
pub enum SecretValue {
    /// A sealed value; it holds no secret.
    Sealed(SealedValue),
    /// A plaintext secret, kept out of `Debug` and zeroed on drop.
    Plaintext(SecretString),
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Sealed(sealed) => f.debug_tuple("Sealed").field(sealed).finish(),
            SecretValue::Plaintext(_) => f.write_str("Plaintext([redacted])"),
        }
    }
}

impl SecretValue {
    /// Reads a value from the file: sealed if it carries the sealed framing, plaintext otherwise.
    pub fn from_file_value(value: &str) -> Result<SecretValue, FramingError> {
        if looks_sealed(value) {
            SealedValue::parse(value).map(SecretValue::Sealed)
        } else {
            Ok(SecretValue::Plaintext(SecretString::from(value)))
        }
    }

    /// Whether the value is plaintext and not empty.
    pub fn is_plaintext(&self) -> bool {
        matches!(self, SecretValue::Plaintext(secret) if !secret.expose_secret().is_empty())
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = SecretString::deserialize(deserializer)?;
        SecretValue::from_file_value(value.expose_secret()).map_err(serde::de::Error::custom)
    }
}

/// `[profile.tls]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Tls {
    /// Skip server certificate checks.
    #[serde(default)]
    pub insecure: bool,
    /// Plain HTTP instead of HTTPS.
    #[serde(default)]
    pub disable: bool,
    /// Path of a client certificate.
    pub cert: Option<String>,
    /// Path of the client certificate's key.
    pub key: Option<String>,
    /// Path of a custom CA.
    pub ca: Option<String>,
}

/// `[profile.auth.oauth2]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct OAuth2 {
    /// The OAuth2 client.
    pub client_id: Option<String>,
    /// Requested scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra parameters such as `audience`.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
    /// Token endpoint.
    pub token_url: Option<String>,
    /// Device authorization endpoint.
    pub device_url: Option<String>,
}

/// `[profile.auth]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Auth {
    /// OAuth2 settings.
    pub oauth2: Option<OAuth2>,
}

/// One `[[profile]]`, typed. Unknown keys are ignored here; `check` reports them.
#[derive(Debug, Deserialize)]
pub struct Profile {
    /// The name `--profile` selects.
    pub name: String,
    /// Clustered or Dedicated.
    pub product: Product,
    /// Host name or IP address, without scheme or port.
    pub host: Option<String>,
    /// Port, as a string of digits.
    pub port: Option<String>,
    /// Default database for `query` and `write`.
    pub database: Option<String>,
    /// A database token.
    pub token: Option<SecretValue>,
    /// A management token.
    pub mgmt_token: Option<SecretValue>,
    /// Dedicated account id.
    pub account_id: Option<String>,
    /// Dedicated cluster id.
    pub cluster_id: Option<String>,
    /// TLS settings.
    pub tls: Option<Tls>,
    /// Authentication settings.
    pub auth: Option<Auth>,
}

impl Profile {
    /// Where the profile connects, as a user would write it: `host:port` or the Dedicated cluster.
    pub fn endpoint(&self) -> String {
        match (self.product, &self.host, &self.port, &self.cluster_id) {
            (_, Some(host), Some(port), _) => format!("{host}:{port}"),
            (_, Some(host), None, _) => host.clone(),
            (Product::Dedicated, None, _, Some(cluster)) => format!("cluster {cluster}"),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProfilesFile {
    #[serde(default)]
    pub profile: Vec<Profile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As go-toml v2 (`strings.ToLower`) and Go's `strings.EqualFold` match keys to fields.
    #[test]
    fn keys_match_fields_as_go_does() {
        for (written, field) in [
            ("mgmt_token", "mgmt_token"),
            ("MGMT_TOKEN", "mgmt_token"),
            ("Mgmt_Token", "mgmt_token"),
            // The Kelvin sign: ToLower and EqualFold both take it to `k`.
            ("mgmt_to\u{212A}en", "mgmt_token"),
            // The long s: EqualFold matches it to `s`.
            ("ho\u{17F}t", "host"),
            // The dotted capital I: ToLower takes it to `i`.
            ("cluster_\u{130}d", "cluster_id"),
            ("PROFILE", "profile"),
        ] {
            assert!(same_key(written, field), "{written} is {field}");
        }
        for (written, field) in [
            // The dotless i is neither lowered nor folded to `i` by Go.
            ("cluster_\u{131}d", "cluster_id"),
            ("mgmt-token", "mgmt_token"),
            ("mgmt_tokens", "mgmt_token"),
            ("mgmt_toke", "mgmt_token"),
            ("mgmt_token ", "mgmt_token"),
            // Fullwidth letters are other characters.
            ("\u{FF48}ost", "host"),
            ("ho\u{17F}\u{17F}t", "host"),
        ] {
            assert!(!same_key(written, field), "{written} is not {field}");
        }
        assert_eq!(
            field_named(PROFILE_FIELDS, "Account_ID").map(|field| field.name),
            Some("account_id")
        );
    }
}
