use super::*;

pub(super) const FILE: &str = r#"# Team profiles
[[profile]]
  # production
  name = "prod"   # the live one
  product = "clustered"
  host = "prod.example.com"
  port = "443"
  mgmt_token = "OLD"  # rotate monthly

[[profile]]
  name = "staging"
  product = "dedicated"
  account_id = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11"
  cluster_id = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12"

  [profile.tls]
    insecure = false

[sealctl]
recipients = []
"#;

fn document() -> ProfileDocument {
    ProfileDocument::parse("config.toml", FILE).unwrap()
}

#[test]
fn unchanged_documents_round_trip_byte_for_byte() {
    assert_eq!(document().to_toml(), FILE);
}

#[test]
fn setting_a_value_changes_only_its_bytes() {
    let mut doc = document();
    doc.set("prod", "mgmt_token", "NEW").unwrap();
    assert_eq!(doc.to_toml(), FILE.replace("\"OLD\"", "\"NEW\""));
    assert_eq!(
        doc.get("prod", "mgmt_token").unwrap().as_deref(),
        Some("NEW")
    );
}

#[test]
fn a_new_key_is_indented_like_its_neighbours() {
    let mut doc = document();
    doc.set("staging", "token", "T").unwrap();
    let expected = FILE.replace(
        "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n",
        "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n  token = \"T\"\n",
    );
    assert_eq!(doc.to_toml(), expected);
}

#[test]
fn nested_keys_are_set_in_place() {
    let mut doc = document();
    doc.set("staging", "tls.insecure", "x").unwrap_err();
    doc.remove("staging", "tls.insecure").unwrap();
    doc.set("staging", "tls.ca", "/etc/ca.pem").unwrap();
    assert_eq!(
        doc.get("staging", "tls.ca").unwrap().as_deref(),
        Some("/etc/ca.pem")
    );
    assert!(
        doc.to_toml()
            .contains("  [profile.tls]\n    ca = \"/etc/ca.pem\"\n"),
        "{}",
        doc.to_toml()
    );
    // A table that does not exist yet is written as a dotted key, in the profile's own body.
    doc.set("prod", "tls.cert", "/etc/c.pem").unwrap();
    assert!(
        doc.to_toml()
            .contains("  mgmt_token = \"OLD\"  # rotate monthly\n  tls.cert = \"/etc/c.pem\"\n\n"),
        "{}",
        doc.to_toml()
    );
}

#[test]
fn removing_a_key_removes_its_line_only() {
    let mut doc = document();
    assert!(doc.remove("prod", "mgmt_token").unwrap());
    assert!(!doc.remove("prod", "mgmt_token").unwrap());
    assert_eq!(
        doc.to_toml(),
        FILE.replace("  mgmt_token = \"OLD\"  # rotate monthly\n", "")
    );
}

#[test]
fn profiles_are_added_renamed_and_removed() {
    let mut doc = document();
    doc.add_profile(
        "dev",
        &[
            ("product", "clustered"),
            ("host", "localhost"),
            ("port", "8086"),
        ],
    )
    .unwrap();
    let added = "\n[[profile]]\n  name = \"dev\"\n  product = \"clustered\"\n  host = \"localhost\"\n  port = \"8086\"\n";
    assert!(
        doc.to_toml()
            .starts_with(FILE.split("[sealctl]").next().unwrap())
    );
    assert!(doc.to_toml().contains(added), "{}", doc.to_toml());
    assert!(matches!(
        doc.add_profile("dev", &[]),
        Err(ProfileError::ProfileExists { .. })
    ));

    doc.rename_profile("dev", "local").unwrap();
    assert_eq!(doc.profile_names(), ["prod", "staging", "local"]);
    assert!(matches!(
        doc.rename_profile("local", "prod"),
        Err(ProfileError::ProfileExists { .. })
    ));

    doc.remove_profile("local").unwrap();
    assert_eq!(doc.to_toml(), FILE);
}

/// Removing a profile keeps every byte that is not the profile's, on every layout that
/// `init`, `profile add` and people write.
#[test]
fn profiles_are_removed_from_every_layout() {
    let p = |name: &str| format!("[[profile]]\n  name = \"{name}\"\n  product = \"clustered\"\n");
    let (a, b, c) = (p("a"), p("b"), p("c"));
    let sealctl = "[sealctl]\nrecipients = [\n  \"age1x\",\n]\n";
    let cases: Vec<(String, &str, String)> = vec![
        // As `init` and `profile add` write it: the first, the last, the only one.
        (
            format!("{a}\n{b}\n{sealctl}"),
            "a",
            format!("{b}\n{sealctl}"),
        ),
        (
            format!("{a}\n{b}\n{sealctl}"),
            "b",
            format!("{a}\n{sealctl}"),
        ),
        (format!("{a}\n{sealctl}"), "a", sealctl.to_owned()),
        (a.clone(), "a", String::new()),
        (format!("{a}\n{b}\n{c}"), "b", format!("{a}\n{c}")),
        (format!("{a}\n{b}\n{c}"), "c", format!("{a}\n{b}")),
        (format!("{a}\n{b}"), "a", b.clone()),
        // A comment that opens the file stays, with or without a blank line after it.
        (format!("# team\n{a}"), "a", "# team\n".to_owned()),
        (format!("# team\n\n{a}"), "a", "# team\n".to_owned()),
        (format!("# team\n{a}\n{b}"), "a", format!("# team\n\n{b}")),
        (format!("# team\n\n{a}\n{b}"), "a", format!("# team\n\n{b}")),
        // A comment directly above a profile is that profile's; one set apart by a blank
        // line is not.
        (
            format!("{a}\n# about b\n{b}\n{c}"),
            "b",
            format!("{a}\n{c}"),
        ),
        (
            format!("{a}\n# about c\n\n{b}\n{c}"),
            "b",
            format!("{a}\n# about c\n\n{c}"),
        ),
        (
            format!("{a}\n{b}\n# about c\n{c}"),
            "b",
            format!("{a}\n# about c\n{c}"),
        ),
        // Closing comments of the file stay.
        (
            format!("{a}\n{b}\n# the end\n"),
            "b",
            format!("{a}\n# the end\n"),
        ),
        // Sub-tables go with their profile; other tables stay.
        (
            format!("{a}\n  [profile.tls]\n    insecure = true\n\n{b}"),
            "a",
            b.clone(),
        ),
        (
            format!(
                "{a}\n[profile.tls]\ninsecure = true\n[profile.auth.oauth2]\nclient_id = \"x\"\n\n{sealctl}"
            ),
            "a",
            sealctl.to_owned(),
        ),
        (format!("{a}tls.insecure = true\n\n{b}"), "a", b.clone()),
        // Indented headers, and top-level keys before the first profile.
        (
            "top = 1\n\n  [[profile]]\n    name = \"a\"\n\n  [[profile]]\n    name = \"b\"\n"
                .to_owned(),
            "a",
            "top = 1\n\n  [[profile]]\n    name = \"b\"\n".to_owned(),
        ),
        // Inline tables, on one line or one per line with comments.
        (
            "profile = [{ name = \"a\" }, { name = \"b\" }]\n".to_owned(),
            "a",
            "profile = [{ name = \"b\" }]\n".to_owned(),
        ),
        (
            "profile = [ { name = \"a\" }, { name = \"b\" } ] # two\n".to_owned(),
            "b",
            "profile = [ { name = \"a\" } ] # two\n".to_owned(),
        ),
        (
            "profile = [\n  # a\n  { name = \"a\" },\n  # b\n  { name = \"b\" },\n]\n".to_owned(),
            "a",
            "profile = [\n  # b\n  { name = \"b\" },\n]\n".to_owned(),
        ),
    ];
    for (file, name, expected) in cases {
        for crlf in [false, true] {
            let (file, expected) = if crlf {
                (file.replace('\n', "\r\n"), expected.replace('\n', "\r\n"))
            } else {
                (file.clone(), expected.clone())
            };
            let mut doc = ProfileDocument::parse("c.toml", &file).unwrap();
            doc.remove_profile(name)
                .unwrap_or_else(|error| panic!("{error}\n{file}"));
            assert_eq!(doc.to_toml(), expected, "removing {name} from\n{file}");
        }
    }
}

#[test]
fn profiles_of_one_name_are_refused_not_guessed() {
    let file = "[[profile]]\nname = \"a\"\n\n[[profile]]\nname = \"a\"\nmgmt_token = \"x\"\n";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    for error in [
        doc.remove_profile("a").unwrap_err(),
        doc.rename_profile("a", "b").unwrap_err(),
        doc.set("a", "mgmt_token", "y").unwrap_err(),
        doc.add_profile("a", &[]).unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                ProfileError::DuplicateProfile { count: 2, .. }
                    | ProfileError::ProfileExists { .. }
            ),
            "{error}"
        );
    }
    assert_eq!(
        doc.rename_profile("a", "b").unwrap_err().to_string(),
        "c.toml has 2 profiles named `a`; sealctl cannot tell which one is meant"
    );
    assert_eq!(doc.to_toml(), file);
}

#[test]
fn line_endings_quoting_and_a_missing_final_newline_survive_edits() {
    let file = "[[profile]]\r\n\"name\" = 'a'\r\nproduct = \"clustered\"\r\nauth . oauth2 . client_id = \"x\"\r\nmgmt_token = \"OLD\"";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    doc.set("a", "mgmt_token", "NEW").unwrap();
    doc.set("a", "host", "h").unwrap();
    doc.set("a", "auth.oauth2.token_url", "https://t").unwrap();
    assert_eq!(
        doc.to_toml(),
        // A new dotted key joins its siblings.
        "[[profile]]\r\n\"name\" = 'a'\r\nproduct = \"clustered\"\r\nauth . oauth2 . client_id = \"x\"\r\nauth.oauth2.token_url = \"https://t\"\r\nmgmt_token = \"NEW\"\r\nhost = \"h\"\r\n"
    );
    doc.add_profile("b", &[("product", "dedicated")]).unwrap();
    assert!(doc.to_toml().ends_with(
        "host = \"h\"\r\n\r\n[[profile]]\r\nname = \"b\"\r\nproduct = \"dedicated\"\r\n"
    ));
}

#[test]
fn inline_table_profiles_are_edited_inside_their_braces() {
    let file = "profile = [ { name = \"a\", product = \"clustered\" }, { name = \"b\" } ] # two\n";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    doc.set("b", "host", "h").unwrap();
    assert_eq!(
        doc.to_toml(),
        "profile = [ { name = \"a\", product = \"clustered\" }, { name = \"b\", host = \"h\" } ] # two\n"
    );
    assert!(doc.remove("a", "product").unwrap());
    assert_eq!(
        doc.to_toml(),
        "profile = [ { name = \"a\" }, { name = \"b\", host = \"h\" } ] # two\n"
    );
    doc.add_profile("c", &[]).unwrap();
    doc.remove_profile("a").unwrap();
    assert_eq!(doc.profile_names(), ["b", "c"]);
}

#[test]
fn strings_are_written_as_toml_1_0_basic_strings() {
    let mut doc = document();
    doc.set("prod", "database", "a\"b\\c\u{1b}").unwrap();
    assert!(
        doc.to_toml()
            .contains("database = \"a\\\"b\\\\c\\u001B\"\n"),
        "{}",
        doc.to_toml()
    );
    assert_eq!(
        doc.get("prod", "database").unwrap().as_deref(),
        Some("a\"b\\c\u{1b}")
    );
}

#[test]
fn recipients_are_set_in_the_sealctl_table() {
    let mut doc = ProfileDocument::parse("c.toml", "[[profile]]\n  name = \"a\"\n").unwrap();
    assert!(doc.recipients().is_empty());
    doc.set_recipients(&["age1x".to_owned()]).unwrap();
    assert_eq!(
        doc.to_toml(),
        "[[profile]]\n  name = \"a\"\n\n[sealctl]\nrecipients = [\n  \"age1x\",\n]\n"
    );
    doc.set_recipients(&["age1x".to_owned(), "ssh-ed25519 AAAA bob".to_owned()])
        .unwrap();
    assert_eq!(doc.recipients(), ["age1x", "ssh-ed25519 AAAA bob"]);
    assert!(
        doc.to_toml()
            .ends_with("[sealctl]\nrecipients = [\n  \"age1x\",\n  \"ssh-ed25519 AAAA bob\",\n]\n")
    );
    let mut doc =
        ProfileDocument::parse("c.toml", "[sealctl] # ours\n[[profile]]\nname = \"a\"\n").unwrap();
    doc.set_recipients(&["age1y".to_owned()]).unwrap();
    assert_eq!(
        doc.to_toml(),
        "[sealctl] # ours\n  recipients = [\n  \"age1y\",\n]\n[[profile]]\nname = \"a\"\n"
    );
}

#[test]
fn many_values_are_set_at_once_and_overlaps_refused() {
    let mut doc = document();
    let edit = |profile: &str, key: &str, value: &str| {
        ProfileValue::new(crate::Place::new(profile, key), value)
    };
    doc.set_many(&[
        edit("prod", "mgmt_token", "A"),
        edit("staging", "token", "B"),
        edit("staging", "database", "C"),
    ])
    .unwrap();
    let expected = FILE.replace("\"OLD\"", "\"A\"").replace(
        "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n",
        "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a12\"\n  token = \"B\"\n  database = \"C\"\n",
    );
    assert_eq!(doc.to_toml(), expected);
    let read = doc
        .values(&["prod".into(), "staging".into()], &["mgmt_token", "token"])
        .unwrap();
    assert_eq!(
        read,
        [
            edit("prod", "mgmt_token", "A"),
            edit("staging", "token", "B")
        ]
    );
    let error = doc
        .set_many(&[
            edit("prod", "mgmt_token", "X"),
            edit("prod", "mgmt_token", "Y"),
        ])
        .unwrap_err();
    assert!(matches!(error, ProfileError::Edit { .. }));
    assert_eq!(doc.to_toml(), expected);
}

/// Each value comes with its own profile's endpoint, whatever order the profiles are asked in.
#[test]
fn values_come_with_their_profiles_endpoints() {
    let mut doc = document();
    doc.set("staging", "token", "B").unwrap();
    let profiles = ["staging".to_owned(), "prod".to_owned()];
    let found = doc
        .values_with_endpoints(&profiles, &["mgmt_token", "token"])
        .unwrap();
    let endpoints = doc.endpoints(&profiles).unwrap();
    let read: Vec<(String, String, crate::endpoint::Endpoint)> = found
        .into_iter()
        .map(|(value, endpoint)| (value.place.profile, value.place.key, endpoint))
        .collect();
    assert_eq!(
        read,
        [
            ("staging".into(), "token".into(), endpoints[0].clone()),
            ("prod".into(), "mgmt_token".into(), endpoints[1].clone()),
        ]
    );
    assert_ne!(endpoints[0], endpoints[1]);
    assert_eq!(doc.endpoint("prod").unwrap(), endpoints[1]);
}

#[test]
fn a_profile_is_added_to_an_empty_file() {
    let mut doc = ProfileDocument::parse("config.toml", "").unwrap();
    doc.add_profile("default", &[("product", "clustered")])
        .unwrap();
    assert_eq!(
        doc.to_toml(),
        "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n"
    );
    let mut doc = ProfileDocument::parse("config.toml", "# profiles\n").unwrap();
    doc.add_profile("default", &[]).unwrap();
    assert_eq!(
        doc.to_toml(),
        "# profiles\n\n[[profile]]\n  name = \"default\"\n"
    );
}

/// Keys are read as influxctl reads them: `MGMT_TOKEN`, `[[Profile]]`, `NAME`, and the
/// Kelvin sign for `k`, are the keys they spell; a value set replaces the one written.
#[test]
fn case_variant_keys_are_read_and_set_in_place() {
    let file = "[[Profile]]\n  NAME = \"prod\"\n  Product = \"clustered\"\n  MGMT_TOKEN = \"old\"\n  \"to\u{212A}en\" = \"db\"\n  [Profile.TLS]\n    CA = \"/ca.pem\"\n";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    assert_eq!(doc.profile_names(), ["prod"]);
    assert_eq!(
        doc.get("prod", "mgmt_token").unwrap().as_deref(),
        Some("old")
    );
    assert_eq!(doc.get("prod", "token").unwrap().as_deref(), Some("db"));
    assert_eq!(
        doc.get("prod", "tls.ca").unwrap().as_deref(),
        Some("/ca.pem")
    );
    let values = doc
        .values(&["prod".to_owned()], &["mgmt_token", "token"])
        .unwrap();
    let keys: Vec<&str> = values
        .iter()
        .map(|value| value.place.key.as_str())
        .collect();
    assert_eq!(keys, ["mgmt_token", "token"]);
    doc.set("prod", "mgmt_token", "new").unwrap();
    doc.set("prod", "tls.cert", "/c.pem").unwrap();
    assert_eq!(
        doc.to_toml(),
        file.replace("\"old\"", "\"new\"")
            .replace("/ca.pem\"\n", "/ca.pem\"\n    cert = \"/c.pem\"\n")
    );
    let typed = doc.profile("prod").unwrap();
    assert!(typed.mgmt_token.is_some() && typed.token.is_some());
    assert_eq!(typed.tls.unwrap().ca.as_deref(), Some("/ca.pem"));
}

/// Removing reads keys and tables as influxctl does too: `token rm` finds `MGMT_TOKEN`, and
/// `profile rm`/`rename` work on `[[Profile]]` tables and their `[Profile.TLS]` sub-tables.
#[test]
fn case_variant_keys_and_tables_are_removed_and_renamed() {
    let file = "# team\n[[Profile]]\n  NAME = \"prod\"\n  MGMT_TOKEN = \"old\"\n  [Profile.TLS]\n    CA = \"/ca.pem\"\n\n[[Profile]]\n  Name = \"dev\"\n  host = \"d\"\n";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    assert!(doc.remove("prod", "mgmt_token").unwrap());
    assert_eq!(doc.get("prod", "mgmt_token").unwrap(), None);
    assert_eq!(doc.to_toml(), file.replace("  MGMT_TOKEN = \"old\"\n", ""));
    doc.rename_profile("dev", "staging").unwrap();
    assert_eq!(doc.profile_names(), ["prod", "staging"]);
    doc.remove_profile("prod").unwrap();
    assert_eq!(
        doc.to_toml(),
        "# team\n\n[[Profile]]\n  Name = \"staging\"\n  host = \"d\"\n"
    );
    let inline = "Profile = [ { NAME = \"a\" }, { name = \"b\" } ]\n";
    let mut doc = ProfileDocument::parse("c.toml", inline).unwrap();
    doc.remove_profile("a").unwrap();
    assert_eq!(doc.profile_names(), ["b"]);
}

/// Two spellings of one key: which one influxctl takes is not known, so nothing is read or
/// changed through them, and the error names both as written.
#[test]
fn two_spellings_of_one_key_are_refused() {
    let file = "[[profile]]\n  name = \"prod\"\n  mgmt_token = \"sealctl:v1:age:AAAA\"\n  Mgmt_Token = \"plain\"\n";
    let mut doc = ProfileDocument::parse("c.toml", file).unwrap();
    for error in [
        doc.get("prod", "mgmt_token").unwrap_err(),
        doc.values(&["prod".to_owned()], &["mgmt_token"])
            .unwrap_err(),
        doc.profiles().unwrap_err(),
        doc.set("prod", "mgmt_token", "x").unwrap_err(),
    ] {
        let message = error.to_string();
        assert!(
            matches!(error, ProfileError::DuplicateKey { .. }),
            "{message}"
        );
        assert!(
            message.contains("`mgmt_token` and `Mgmt_Token`"),
            "{message}"
        );
        assert!(!message.contains("plain\""), "{message}");
    }
    assert_eq!(doc.to_toml(), file);
    let both = "[[profile]]\n  name = \"a\"\n[[Profile]]\n  name = \"b\"\n";
    let doc = ProfileDocument::parse("c.toml", both).unwrap();
    assert!(matches!(
        doc.get("a", "name"),
        Err(ProfileError::DuplicateKey { .. })
    ));
    let names = "[[profile]]\n  name = \"a\"\n  NAME = \"b\"\n";
    let doc = ProfileDocument::parse("c.toml", names).unwrap();
    assert!(matches!(
        doc.get("a", "name"),
        Err(ProfileError::DuplicateKey { .. })
    ));
    assert!(matches!(
        doc.get("b", "name"),
        Err(ProfileError::DuplicateKey { .. })
    ));
}

#[test]
fn unknown_profiles_list_the_known_ones() {
    let error = document().set("nope", "host", "x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "no profile named `nope` in config.toml (it has: prod, staging)"
    );
}

#[test]
fn typed_profiles_hide_plaintext_in_debug() {
    let profiles = document().profiles().unwrap();
    assert_eq!(profiles[0].endpoint(), "prod.example.com:443");
    let debug = format!("{:?}", profiles[0]);
    assert!(debug.contains("Plaintext([redacted])"), "{debug}");
    assert!(!debug.contains("OLD"), "{debug}");
}
