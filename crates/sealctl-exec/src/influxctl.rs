//! influxctl's command line and config, as far as a wrapper must understand them.

use std::ffi::{OsStr, OsString};

use sealctl_profile::lookup::{LookupError, find_profile};
use sealctl_profile::schema::{Field, Kind, PROFILE_FIELDS, key_for, only_key_for};
use secrecy::{ExposeSecret, SecretString};
use toml_edit::{ArrayOfTables, DocumentMut, Item, TableLike, Value};
use zeroize::Zeroizing;

use crate::error::ExecError;

/// Whether a program is influxctl, judged by its file name.
pub fn is_influxctl(program: &OsStr) -> bool {
    std::path::Path::new(program)
        .file_stem()
        .is_some_and(|stem| stem == "influxctl")
}

/// influxctl's arguments, with its `--config` and `--profile` taken out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InfluxctlArgs {
    /// The `--config` the user gave influxctl.
    pub config: Option<OsString>,
    /// The `--profile` the user gave influxctl.
    pub profile: Option<String>,
    /// The `--account` the user gave influxctl, overriding the profile's (left in `rest` too).
    pub account: Option<String>,
    /// The `--cluster` the user gave influxctl, overriding the profile's (left in `rest` too).
    pub cluster: Option<String>,
    /// Every other argument, in order.
    pub rest: Vec<OsString>,
}

/// Global flags that take a value. influxctl (urfave/cli) accepts `--flag value`, `--flag=value`
/// and the single-dash forms; global flags come before the command.
const VALUE_FLAGS: &[&str] = &["config", "profile", "timeout", "account", "cluster"];

/// Reads influxctl's global flags, up to the first argument that is not one (the command).
pub fn scan(args: &[OsString]) -> Result<InfluxctlArgs, ExecError> {
    let mut scanned = InfluxctlArgs::default();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        let Some(text) = arg.to_str() else { break };
        let Some(flag) = text.strip_prefix("--").or_else(|| text.strip_prefix('-')) else {
            break;
        };
        if text == "--" || flag.is_empty() {
            break;
        }
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        let takes_value = VALUE_FLAGS.contains(&name);
        let value = match (takes_value, inline) {
            (false, _) => None,
            (true, Some(value)) => Some(OsString::from(value)),
            (true, None) => {
                index += 1;
                let static_name = VALUE_FLAGS
                    .iter()
                    .find(|flag| **flag == name)
                    .expect("checked");
                Some(
                    args.get(index)
                        .cloned()
                        .ok_or(ExecError::MissingFlagValue(static_name))?,
                )
            }
        };
        let text = || value.as_ref().map(|v| v.to_string_lossy().into_owned());
        match name {
            "account" => scanned.account = text(),
            "cluster" => scanned.cluster = text(),
            _ => {}
        }
        match name {
            "config" => scanned.config = value,
            "profile" => scanned.profile = value.map(|v| v.to_string_lossy().into_owned()),
            _ => {
                scanned.rest.push(arg.clone());
                if let (Some(value), None) = (value, flag.split_once('=')) {
                    scanned.rest.push(value);
                }
            }
        }
        index += 1;
    }
    scanned.rest.extend(args[index..].iter().cloned());
    Ok(scanned)
}

/// The config influxctl is given: only `profile`, with `opened` values (key, plaintext) in place
/// of its sealed ones, and nothing else of the file (no other profile, no `[sealctl]` table).
///
/// Keys are matched as influxctl matches them, without regard to case: an opened `mgmt_token`
/// replaces a sealed `MGMT_TOKEN`. A profile with two spellings of one key, and two profiles of
/// one name, are refused, since which one influxctl would take is not known. The profile is found
/// as [`ProfileDocument`](sealctl_profile::ProfileDocument) finds it, so the profile whose values
/// were opened is the profile copied.
pub fn config_copy(
    text: &str,
    profile: &str,
    opened: &[(String, SecretString)],
) -> Result<Zeroizing<String>, ExecError> {
    let document: DocumentMut = text
        .parse()
        .map_err(|error: toml_edit::TomlError| ExecError::Syntax(error.message().to_owned()))?;
    let mut table = match find_profile(document.as_table(), profile) {
        Ok((_, found)) => found.to_table(),
        Err(LookupError::Unknown) => return Err(ExecError::UnknownProfile(profile.to_owned())),
        Err(LookupError::Duplicate { count }) => {
            return Err(ExecError::DuplicateProfile {
                name: profile.to_owned(),
                count,
            });
        }
        Err(LookupError::DuplicateKey {
            profile,
            first,
            second,
        }) => {
            return Err(ExecError::DuplicateKey {
                profile,
                first,
                second,
            });
        }
    };
    single_keys(&table, PROFILE_FIELDS, profile)?;
    table.decor_mut().clear();
    table.set_position(None);
    for (key, secret) in opened {
        let mut value = Value::from(secret.expose_secret());
        // The spelling influxctl reads the value by, as written in the file.
        let key = key_for(&table, key).map_or(key.clone(), |(written, _)| written.to_owned());
        match table.get_mut(&key) {
            // In place, so the key keeps its indentation and the value its comment.
            Some(Item::Value(old)) => {
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            _ => {
                table.insert(&key, Item::Value(value));
            }
        }
    }
    let mut profiles = ArrayOfTables::new();
    profiles.push(table);
    let mut copy = DocumentMut::new();
    copy.insert("profile", Item::ArrayOfTables(profiles));
    Ok(Zeroizing::new(copy.to_string()))
}

/// Two spellings of one key in `profile`.
fn duplicate_key(profile: &str, [first, second]: [&str; 2]) -> ExecError {
    ExecError::DuplicateKey {
        profile: profile.to_owned(),
        first: first.to_owned(),
        second: second.to_owned(),
    }
}

/// Refuses a table (and its sub-tables) with two spellings of one of `fields`.
fn single_keys(table: &dyn TableLike, fields: &[Field], profile: &str) -> Result<(), ExecError> {
    for field in fields {
        let first = only_key_for(table, field.name).map_err(|pair| duplicate_key(profile, pair))?;
        if let (Kind::Table(inner), Some((_, item))) = (field.kind, first)
            && let Some(inner_table) = item.as_table_like()
        {
            single_keys(inner_table, inner, profile)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn account_and_cluster_overrides_are_noted_and_passed_on() {
        let scanned = scan(&args(&[
            "--account=a",
            "--cluster",
            "c",
            "report",
            "--cluster",
            "x",
        ]))
        .unwrap();
        assert_eq!(scanned.account.as_deref(), Some("a"));
        assert_eq!(scanned.cluster.as_deref(), Some("c"));
        assert_eq!(
            scanned.rest,
            args(&["--account=a", "--cluster", "c", "report", "--cluster", "x"])
        );
    }

    #[test]
    fn global_flags_are_read_up_to_the_command() {
        let scanned = scan(&args(&[
            "--config",
            "team.toml",
            "--profile=prod",
            "--debug",
            "--timeout",
            "5s",
            "database",
            "list",
            "--profile",
            "x",
        ]))
        .unwrap();
        assert_eq!(scanned.config, Some("team.toml".into()));
        assert_eq!(scanned.profile.as_deref(), Some("prod"));
        assert_eq!(
            scanned.rest,
            args(&[
                "--debug",
                "--timeout",
                "5s",
                "database",
                "list",
                "--profile",
                "x"
            ])
        );
        let single = scan(&args(&["-config=a.toml", "-profile", "p", "version"])).unwrap();
        assert_eq!(
            (single.config, single.profile),
            (Some("a.toml".into()), Some("p".into()))
        );
        assert_eq!(
            scan(&args(&["database", "list"])).unwrap().rest,
            args(&["database", "list"])
        );
        assert!(matches!(
            scan(&args(&["--config"])),
            Err(ExecError::MissingFlagValue("config"))
        ));
        assert!(is_influxctl(OsStr::new("/usr/local/bin/influxctl")));
        assert!(!is_influxctl(OsStr::new("influx")));
    }

    #[test]
    fn the_copy_holds_one_profile_with_its_values_opened() {
        let text = "# team\n[sealctl]\nrecipients = [\"age1x\"]\n\n[[profile]]\n  name = \"a\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n\n[[profile]]\n  name = \"b\"   # this one\n  product = \"clustered\"\n  mgmt_token = \"sealctl:v1:age:BBBB\"  # sealed\n  [profile.tls]\n    ca = \"/ca.pem\"\n";
        let copy = config_copy(
            text,
            "b",
            &[("mgmt_token".into(), SecretString::from("T\\"))],
        )
        .unwrap();
        assert_eq!(
            copy.as_str(),
            "[[profile]]\n  name = \"b\"   # this one\n  product = \"clustered\"\n  mgmt_token = 'T\\'  # sealed\n  [profile.tls]\n    ca = \"/ca.pem\"\n"
        );
        let inline = config_copy("profile = [{ name = \"a\", port = \"1\" }]\n", "a", &[]).unwrap();
        assert_eq!(inline.as_str(), "[[profile]]\nname = \"a\"\nport = \"1\"\n");
        assert!(matches!(
            config_copy(text, "c", &[]),
            Err(ExecError::UnknownProfile(_))
        ));
    }

    /// Regression: the copy took the first of two profiles of one name (the editor refuses them),
    /// and refused a file for another profile's two spellings of `name` (the editor does not).
    #[test]
    fn the_copy_is_of_the_profile_the_editor_finds() {
        let opened = [("mgmt_token".to_owned(), SecretString::from("T"))];
        let twice = "[[profile]]\n  name = \"p\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n\n[[profile]]\n  name = \"p\"\n  mgmt_token = \"plain\"\n";
        assert!(
            sealctl_profile::ProfileDocument::parse("config.toml", twice)
                .unwrap()
                .get("p", "mgmt_token")
                .is_err()
        );
        match config_copy(twice, "p", &opened) {
            Err(ExecError::DuplicateProfile { name, count }) => {
                assert_eq!((name.as_str(), count), ("p", 2))
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a copy was made of one of two profiles named `p`"),
        }
        let other = "[[profile]]\n  name = \"x\"\n  Name = \"y\"\n\n[[profile]]\n  name = \"p\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n";
        assert!(
            sealctl_profile::ProfileDocument::parse("config.toml", other)
                .unwrap()
                .get("p", "mgmt_token")
                .is_ok()
        );
        let copy = config_copy(other, "p", &opened).unwrap();
        assert_eq!(
            copy.as_str(),
            "[[profile]]\n  name = \"p\"\n  mgmt_token = \"T\"\n"
        );
    }

    /// The opened value replaces the key influxctl reads, however it is spelled, and a profile
    /// with two spellings of one key is refused: no plaintext variant can ride along.
    #[test]
    fn the_copy_reads_keys_as_influxctl_does() {
        let text = "[[Profile]]\n  NAME = \"p\"\n  MGMT_TOKEN = \"sealctl:v1:age:AAAA\"\n";
        let copy =
            config_copy(text, "p", &[("mgmt_token".into(), SecretString::from("T"))]).unwrap();
        assert_eq!(
            copy.as_str(),
            "[[profile]]\n  NAME = \"p\"\n  MGMT_TOKEN = \"T\"\n"
        );
        let kelvin =
            "[[profile]]\n  name = \"p\"\n  \"mgmt_to\u{212A}en\" = \"sealctl:v1:age:AAAA\"\n";
        let copy = config_copy(
            kelvin,
            "p",
            &[("mgmt_token".into(), SecretString::from("T"))],
        )
        .unwrap();
        assert!(!copy.contains("sealctl:"), "the sealed value stayed");
        for (text, first, second) in [
            (
                "[[profile]]\n  name = \"p\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n  Mgmt_Token = \"plain\"\n",
                "mgmt_token",
                "Mgmt_Token",
            ),
            (
                "[[profile]]\n  name = \"p\"\n  [profile.tls]\n    ca = \"a\"\n    CA = \"b\"\n",
                "ca",
                "CA",
            ),
            (
                "[[profile]]\n  name = \"p\"\n  Name = \"q\"\n",
                "name",
                "Name",
            ),
            (
                "[[profile]]\n  name = \"p\"\n[[PROFILE]]\n  name = \"p\"\n",
                "profile",
                "PROFILE",
            ),
        ] {
            let error = config_copy(text, "p", &[("mgmt_token".into(), SecretString::from("T"))])
                .unwrap_err();
            match &error {
                ExecError::DuplicateKey {
                    first: one,
                    second: two,
                    ..
                } => assert_eq!((one.as_str(), two.as_str()), (first, second)),
                other => panic!("{other}"),
            }
        }
    }
}
