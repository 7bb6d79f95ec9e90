//! The rules on one profile: its required keys, product, host, port, ids, `tls` and OAuth URLs,
//! and the rules across profiles: each name defined once, and a profile named `default`.
//!
//! Key names and types are the schema walk's ([`Walk::types`]), plaintext tokens the secrets
//! module's and sealed values the sealed module's: this module only calls them.

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::TableLike;

use super::{Scope, Walk, get_str, get_table, key_span, values};
use crate::diagnostic::Rule;
use crate::endpoint::Endpoint;
use crate::schema::{PROFILE_FIELDS, Product, key_for};

/// The name influxctl uses when no profile is named.
const DEFAULT_PROFILE: &str = "default";

/// A profile's name, and where its key is (file offsets), for the duplicate-name rule.
pub(super) struct ProfileName {
    value: String,
    key_span: Range<usize>,
}

/// The profile names met so far, with the line each was first defined on.
pub(super) type Names = HashMap<String, usize>;

impl Walk<'_> {
    /// Walks one profile, and returns its name for the duplicate-name rule.
    pub(super) fn profile_entry(
        &mut self,
        header: Range<usize>,
        table: &dyn TableLike,
    ) -> Option<ProfileName> {
        let name = get_str(table, "name");
        self.scope = Scope {
            profile: name.as_ref().map(|name| name.value.to_owned()),
            prefix: String::new(),
        };
        self.profile(header, table);
        self.scope = Scope::default();
        name.map(|name| {
            let span = name.key_span();
            ProfileName {
                value: name.value.to_owned(),
                key_span: span.start + self.offset..span.end + self.offset,
            }
        })
    }

    /// The duplicate-name rule, for profiles in file order. Spans in `name` are file offsets.
    pub(super) fn name(&mut self, names: &mut Names, name: ProfileName) {
        let outer = std::mem::replace(
            &mut self.scope,
            Scope {
                profile: Some(name.value.clone()),
                prefix: String::new(),
            },
        );
        let span = name.key_span.start - self.offset..name.key_span.end - self.offset;
        if name.value.is_empty() {
            self.report_at_key(
                Rule::DuplicateProfile,
                "name",
                span,
                "the profile's name is empty: --profile can never select it".to_owned(),
                Some("give the profile a name".to_owned()),
            );
        } else if let Some(line) = names.get(&name.value) {
            self.report_at_key(
                Rule::DuplicateProfile,
                "name",
                span,
                format!(
                    "a profile named `{}` is already defined on line {line}",
                    name.value
                ),
                Some("influxctl uses only one of them; rename or remove this one".to_owned()),
            );
        } else {
            let (line, _) = self.source.line_column(name.key_span.start);
            names.insert(name.value, line);
        }
        self.scope = outer;
    }

    /// The rule that influxctl's default profile exists, once every profile is named.
    pub(super) fn default_profile(&mut self, names: &Names) {
        if !names.contains_key(DEFAULT_PROFILE) {
            self.report(
                Rule::NoDefaultProfile,
                0..0,
                "no profile is named `default`, which influxctl uses when no profile is given".to_owned(),
                Some("name one profile `default`, or always pass --profile (or set INFLUXCTL_PROFILE)".to_owned()),
            );
        }
    }

    fn profile(&mut self, header: Range<usize>, table: &dyn TableLike) {
        // Read as influxctl and `ProfileDocument::endpoint` read them: `HOST` is `host`.
        self.endpoint = Some(Endpoint::from_fields(|key| {
            key_for(table, key).and_then(|(_, item)| item.as_str())
        }));
        self.types(table, PROFILE_FIELDS);
        self.endpoint = None;
        let mut missing = Vec::new();
        let has = |field: &str| key_for(table, field).is_some();
        if !has("name") {
            missing.push(("name", "every profile needs a name for --profile to select"));
        }
        let product = get_str(table, "product");
        if !has("product") {
            missing.push((
                "product",
                "write product = \"clustered\" or product = \"dedicated\"",
            ));
        }
        match product.as_ref().map(|product| product.value) {
            Some("clustered") => {
                for key in ["host", "port"] {
                    if !has(key) {
                        missing.push((key, "a Clustered profile connects to host and port"));
                    }
                }
            }
            Some("dedicated") => {
                for key in ["account_id", "cluster_id"] {
                    if !has(key) {
                        missing.push((key, "a Dedicated profile names its account and cluster"));
                    }
                }
            }
            Some(other) => {
                let near = values::nearest(other, Product::NAMES.iter().copied());
                let product = product.expect("matched Some");
                self.report_at_key(
                    Rule::InvalidProduct,
                    product.name,
                    product.key_span(),
                    format!("product `{other}` is neither `clustered` nor `dedicated`"),
                    Some(match near {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => {
                            "write product = \"clustered\" or product = \"dedicated\"".to_owned()
                        }
                    }),
                );
            }
            None => {}
        }
        if !missing.is_empty() {
            let label = self
                .scope
                .profile
                .as_deref()
                .map_or("this profile".to_owned(), |name| {
                    format!("profile `{name}`")
                });
            for (key, help) in missing {
                self.report_at_key(
                    Rule::MissingKey,
                    key,
                    header.clone(),
                    format!("{label} has no `{key}`"),
                    Some(help.to_owned()),
                );
            }
        }

        if let Some(host) = get_str(table, "host")
            && let Some(problem) = values::host_problem(host.value)
        {
            let help = match problem.meant {
                Some((host, Some(port))) => {
                    Some(format!("write host = \"{host}\" and port = \"{port}\""))
                }
                Some((host, None)) => Some(format!("write host = \"{host}\"")),
                None => Some(
                    "write the bare host name, as in host = \"cluster-host.example.com\""
                        .to_owned(),
                ),
            };
            self.report_at_key(
                Rule::InvalidHost,
                host.name,
                host.key_span(),
                format!("`{}` {}", host.name, problem.reason),
                help,
            );
        }
        if let Some(port) = get_str(table, "port")
            && let Some(reason) = values::port_problem(port.value)
        {
            self.report_at_key(
                Rule::InvalidPort,
                port.name,
                port.key_span(),
                format!(
                    "`{}` {reason}: it must be a decimal number from 1 to 65535",
                    port.name
                ),
                Some("write it as a quoted number, as in port = \"443\"".to_owned()),
            );
        }
        for key in ["account_id", "cluster_id"] {
            if let Some(id) = get_str(table, key)
                && !values::is_uuid(id.value)
            {
                self.report_at_key(
                        Rule::InvalidUuid,
                        id.name,
                        id.key_span(),
                        format!("`{}` is not a UUID", id.name),
                        Some("influxctl prints ids as 8-4-4-4-12 hexadecimal digits, as in 0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11".to_owned()),
                    );
            }
        }
        self.plaintext_secrets(table);
        if let Some(tls) = get_table(table, "tls") {
            self.scope.prefix = "tls.".to_owned();
            self.tls(tls);
            self.scope.prefix.clear();
        }
        if let Some(oauth2) = get_table(table, "auth").and_then(|auth| get_table(auth, "oauth2")) {
            self.scope.prefix = "auth.oauth2.".to_owned();
            for key in ["token_url", "device_url"] {
                if let Some(url) = get_str(oauth2, key)
                    && let Some(reason) = values::url_problem(url.value)
                {
                    self.report_at_key(
                        Rule::InvalidUrl,
                        url.name,
                        url.key_span(),
                        format!("`auth.oauth2.{}` {reason}", url.name),
                        Some(
                            "write the full URL, as in https://auth.example.com/oauth/token"
                                .to_owned(),
                        ),
                    );
                }
            }
            self.scope.prefix.clear();
        }
    }

    fn tls(&mut self, tls: &dyn TableLike) {
        let cert = get_str(tls, "cert");
        let key = get_str(tls, "key");
        if let (Some(present), None, absent) | (None, Some(present), absent) = (
            cert.as_ref(),
            key.as_ref(),
            if cert.is_some() { "key" } else { "cert" },
        ) {
            self.report_at_key(
                Rule::TlsPair,
                present.name,
                present.key_span(),
                format!(
                    "`tls.{}` is set but `tls.{absent}` is not: a client certificate needs both",
                    present.name
                ),
                Some(format!("add tls.{absent}, or remove tls.{}", present.name)),
            );
        }
        if let Some((insecure, item)) = key_for(tls, "insecure")
            && item.as_bool() == Some(true)
        {
            self.report_at_key(
                Rule::InsecureTls,
                insecure,
                key_span(tls, insecure),
                format!(
                    "`tls.{insecure} = true`: influxctl will not check the server's certificate"
                ),
                Some("use tls.ca to trust a private CA instead".to_owned()),
            );
        }
    }
}
