//! Presets: the environment that tools other than influxctl read the same tokens from (the
//! InfluxDB 3 Terraform provider, the InfluxDB MCP server, the `influxdb3` CLI, the client
//! libraries), filled from one profile.
//!
//! A preset is data: its name, what it is for, and each variable with where its value comes
//! from ([`Source`]). Adding a tool is one more entry in [`PRESETS`]. This module decides what
//! each variable gets; opening the tokens is the caller's work, and only for the variables that
//! need one.

use sealctl_profile::endpoint::DEFAULT_PORT;

/// Where a preset variable's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A profile key kept in clear (`account_id`, `cluster_id`, `database`).
    Field(&'static str),
    /// A token key of the profile (`mgmt_token`, `token`), opened for the program.
    Token(&'static str),
    /// The URL of the profile's server, from `host`, `port` and `tls.disable` (see [`host_url`]).
    HostUrl,
    /// `true` when the profile skips server certificate checks (`tls.insecure = true`); else
    /// the variable is not set.
    InsecureTls,
}

/// One variable a preset sets.
#[derive(Clone, Copy, Debug)]
pub struct Variable {
    /// The variable's name, as the tool documents it.
    pub name: &'static str,
    /// Where its value comes from.
    pub source: Source,
    /// Whether a profile without that source is an error (else the variable is left as the
    /// caller's environment has it).
    pub required: bool,
}

/// A tool's environment, filled from a profile.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name `--preset` takes.
    pub name: &'static str,
    /// The tool, in a few words.
    pub description: &'static str,
    /// The variables it sets.
    pub variables: &'static [Variable],
}

const fn needs(name: &'static str, source: Source) -> Variable {
    Variable {
        name,
        source,
        required: true,
    }
}

const fn may(name: &'static str, source: Source) -> Variable {
    Variable {
        name,
        source,
        required: false,
    }
}

/// Every preset, in the order `--preset list` shows them.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "terraform-influxdb3",
        description: "the InfluxDB 3 Terraform provider (Cloud Dedicated)",
        variables: &[
            needs("INFLUXDB3_TOKEN", Source::Token("mgmt_token")),
            needs("INFLUXDB3_ACCOUNT_ID", Source::Field("account_id")),
            needs("INFLUXDB3_CLUSTER_ID", Source::Field("cluster_id")),
        ],
    },
    Preset {
        name: "influxdb-mcp",
        description: "the InfluxDB MCP server (Cloud Dedicated)",
        variables: &[
            needs("INFLUX_DB_MANAGEMENT_TOKEN", Source::Token("mgmt_token")),
            needs("INFLUX_DB_TOKEN", Source::Token("token")),
            needs("INFLUX_DB_ACCOUNT_ID", Source::Field("account_id")),
            needs("INFLUX_DB_CLUSTER_ID", Source::Field("cluster_id")),
        ],
    },
    Preset {
        name: "influxdb3",
        description: "the influxdb3 CLI",
        variables: &[
            needs("INFLUXDB3_HOST_URL", Source::HostUrl),
            needs("INFLUXDB3_AUTH_TOKEN", Source::Token("token")),
            may("INFLUXDB3_TLS_NO_VERIFY", Source::InsecureTls),
        ],
    },
    Preset {
        name: "influxdb-client",
        description: "the InfluxDB 3 client libraries (Go, Python, JavaScript, Java, C#)",
        variables: &[
            needs("INFLUX_HOST", Source::HostUrl),
            needs("INFLUX_TOKEN", Source::Token("token")),
            may("INFLUX_DATABASE", Source::Field("database")),
        ],
    },
];

/// The preset of this name.
pub fn preset_named(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

/// What one of the profile's keys holds, as far as a preset needs to know.
pub trait ProfileFields {
    /// The string at a dotted key (`host`, `tls.disable` is not one), if the profile has one.
    fn string(&self, key: &str) -> Option<String>;
    /// The boolean at a dotted key (`tls.disable`), if the profile has one.
    fn flag(&self, key: &str) -> Option<bool>;
}

/// What a variable is set to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A value in clear (an id, a URL): no secret.
    Clear(String),
    /// The opened value of this token key of the profile.
    Token(&'static str),
}

/// A key the preset needs for a variable, which the profile lacks (or has empty).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "preset `{preset}` needs `{field}` for {variable}, and profile `{profile}` has no `{field}`"
)]
pub struct MissingField {
    /// The preset.
    pub preset: &'static str,
    /// The variable that needs it.
    pub variable: &'static str,
    /// The profile key it needs.
    pub field: &'static str,
    /// The profile.
    pub profile: String,
}

impl Source {
    /// The profile's string keys this source reads.
    pub fn strings(self) -> Vec<&'static str> {
        match self {
            Source::Field(key) | Source::Token(key) => vec![key],
            Source::HostUrl => vec!["host", "port"],
            Source::InsecureTls => Vec::new(),
        }
    }

    /// The profile's boolean keys this source reads.
    pub fn flags(self) -> Vec<&'static str> {
        match self {
            Source::HostUrl => vec!["tls.disable"],
            Source::InsecureTls => vec!["tls.insecure"],
            Source::Field(_) | Source::Token(_) => Vec::new(),
        }
    }
}

impl Preset {
    /// What each variable is set to for `profile`, in the preset's order; variables that `skip`
    /// names (given by the user some other way) and optional ones without a value are left out.
    /// The first key a needed variable lacks is an error.
    pub fn fill(
        &self,
        profile: &str,
        fields: &dyn ProfileFields,
        skip: impl Fn(&str) -> bool,
    ) -> Result<Vec<(&'static str, Setting)>, MissingField> {
        let mut settings = Vec::new();
        for variable in self.variables.iter().filter(|v| !skip(v.name)) {
            let present = |key: &str| fields.string(key).filter(|value| !value.is_empty());
            let (setting, field) = match variable.source {
                Source::Field(key) => (present(key).map(Setting::Clear), key),
                Source::Token(key) => (present(key).map(|_| Setting::Token(key)), key),
                Source::HostUrl => (
                    present("host").map(|host| {
                        Setting::Clear(host_url(
                            &host,
                            present("port").as_deref(),
                            fields.flag("tls.disable").unwrap_or(false),
                        ))
                    }),
                    "host",
                ),
                Source::InsecureTls => (
                    (fields.flag("tls.insecure") == Some(true))
                        .then(|| Setting::Clear("true".to_owned())),
                    "tls.insecure",
                ),
            };
            match setting {
                Some(setting) => settings.push((variable.name, setting)),
                None if variable.required => {
                    return Err(MissingField {
                        preset: self.name,
                        variable: variable.name,
                        field,
                        profile: profile.to_owned(),
                    });
                }
                None => {}
            }
        }
        Ok(settings)
    }
}

/// The URL a tool reaches the profile's server at, as influxctl reaches it: `https`, or `http`
/// with `tls.disable = true`; the profile's port, else influxctl's default 443 (also without
/// TLS: influxctl does not switch to 80), left out where it is the scheme's own (443 for https,
/// 80 for http); an IPv6 address in brackets.
pub fn host_url(host: &str, port: Option<&str>, tls_disabled: bool) -> String {
    let scheme = if tls_disabled { "http" } else { "https" };
    let port = port.unwrap_or(DEFAULT_PORT);
    // `0443` is 443 to influxctl.
    let number = match port.trim_start_matches('0') {
        "" => "0",
        number => number,
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match (scheme, number) {
        ("https", "443") | ("http", "80") => format!("{scheme}://{host}"),
        _ => format!("{scheme}://{host}:{number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fields(HashMap<&'static str, &'static str>);

    impl ProfileFields for Fields {
        fn string(&self, key: &str) -> Option<String> {
            self.0.get(key).map(|value| (*value).to_owned())
        }
        fn flag(&self, key: &str) -> Option<bool> {
            self.0.get(key).map(|value| *value == "true")
        }
    }

    fn fields(pairs: &[(&'static str, &'static str)]) -> Fields {
        Fields(pairs.iter().copied().collect())
    }

    #[test]
    fn host_urls_follow_influxctls_port_and_tls() {
        assert_eq!(host_url("h.example", None, false), "https://h.example");
        assert_eq!(
            host_url("h.example", Some("443"), false),
            "https://h.example"
        );
        assert_eq!(
            host_url("h.example", Some("0443"), false),
            "https://h.example"
        );
        assert_eq!(
            host_url("h.example", Some("8443"), false),
            "https://h.example:8443"
        );
        assert_eq!(host_url("h.example", None, true), "http://h.example:443");
        assert_eq!(host_url("h.example", Some("80"), true), "http://h.example");
        assert_eq!(
            host_url("h.example", Some("8086"), true),
            "http://h.example:8086"
        );
        assert_eq!(host_url("::1", Some("8181"), true), "http://[::1]:8181");
    }

    #[test]
    fn every_preset_is_named_once_and_found() {
        for preset in PRESETS {
            assert_eq!(preset_named(preset.name).unwrap().name, preset.name);
            let mut names: Vec<_> = preset.variables.iter().map(|v| v.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), preset.variables.len(), "{}", preset.name);
        }
        assert!(preset_named("list").is_none(), "`list` lists them");
        assert!(preset_named("nope").is_none());
    }

    #[test]
    fn a_needed_key_the_profile_lacks_is_named() {
        let preset = preset_named("terraform-influxdb3").unwrap();
        let missing = preset
            .fill(
                "prod",
                &fields(&[("mgmt_token", "sealed"), ("account_id", "a")]),
                |_| false,
            )
            .unwrap_err();
        assert_eq!(missing.field, "cluster_id");
        assert_eq!(missing.variable, "INFLUXDB3_CLUSTER_ID");
        assert!(missing.to_string().contains("profile `prod`"));
        // An empty value is no value.
        let empty = fields(&[("host", ""), ("token", "t")]);
        let missing = preset_named("influxdb3")
            .unwrap()
            .fill("p", &empty, |_| false)
            .unwrap_err();
        assert_eq!(missing.field, "host");
    }

    #[test]
    fn optional_variables_and_skipped_ones_are_left_out() {
        let preset = preset_named("influxdb-client").unwrap();
        let profile = fields(&[("host", "h"), ("token", "t")]);
        assert_eq!(
            preset.fill("p", &profile, |_| false).unwrap(),
            vec![
                ("INFLUX_HOST", Setting::Clear("https://h".into())),
                ("INFLUX_TOKEN", Setting::Token("token")),
            ]
        );
        let settings = preset
            .fill("p", &fields(&[("host", "h")]), |name| {
                name == "INFLUX_TOKEN"
            })
            .unwrap();
        assert_eq!(settings.len(), 1);
        let insecure = fields(&[("host", "h"), ("token", "t"), ("tls.insecure", "true")]);
        assert!(
            preset_named("influxdb3")
                .unwrap()
                .fill("p", &insecure, |_| false)
                .unwrap()
                .contains(&("INFLUXDB3_TLS_NO_VERIFY", Setting::Clear("true".into())))
        );
    }
}
