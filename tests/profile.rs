//! `sealctl profile list|show|rm|rename`: what a user sees of each profile (never a secret), and
//! edits that keep the rest of the file byte for byte and re-bind sealed values.

use predicates::prelude::*;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_PrOf5Lq8Zt2Wn7Kc";
const PLAIN: &str = "apiv3_PlAn3Rt6Yh9Bv1Xs";
const KEYRING_REF: &str =
    "sealctl:v1:keyring:secret-service/0f1e2d3c4b5a69788796a5b4c3d2e1f0;host=laptop";

/// A machine with an identity and a file of three profiles: `default` with an age-sealed token,
/// `prod` (Dedicated) with a keyring reference and a plaintext database token, `old` with none.
fn setup() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    let config = env.write(
        ".config/influxctl/config.toml",
        format!(
            "# team file\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n\
             [[profile]]\n  name = \"prod\"   # live\n  product = \"dedicated\"\n  account_id = \"11111111-2222-3333-4444-555555555555\"\n  cluster_id = \"66666666-7777-8888-9999-000000000000\"\n  mgmt_token = \"{KEYRING_REF}\"\n  token = \"{PLAIN}\"\n\n\
             # kept for now\n[[profile]]\n  name = \"old\"\n  product = \"clustered\"\n  host = \"old.example.com\"\n  port = \"8443\"\n"
        ),
    );
    env.sealctl().args(["identity", "new"]).assert().success();
    env.sealctl()
        .args(["token", "set", "--expires-at", "2031-06-01T00:00:00Z"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    (env, config)
}

#[test]
fn list_tells_where_each_token_is_kept() {
    let (env, _) = setup();
    let output = env.sealctl().args(["profile", "list"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].contains("NAME") && lines[0].contains("MGMT_TOKEN"));
    let default = lines[1].split_whitespace().collect::<Vec<_>>();
    assert_eq!(
        default,
        [
            "*",
            "default",
            "clustered",
            "h.example.com:443",
            "age,",
            "expires",
            "2031-06-01",
            "-"
        ]
    );
    assert!(lines[2].contains("keyring (secret-service)"), "{text}");
    assert!(lines[2].contains("plaintext"));
    assert!(lines[2].contains("cluster 66666666-7777-8888-9999-000000000000"));
    assert!(!leaks(&text, PLAIN) && !leaks(&text, TOKEN));

    // The marker follows the profile influxctl would use.
    let chosen = env
        .sealctl()
        .env("INFLUXCTL_PROFILE", "old")
        .args(["profile", "list"])
        .output()
        .unwrap();
    let chosen = String::from_utf8(chosen.stdout).unwrap();
    assert!(
        chosen
            .lines()
            .nth(3)
            .unwrap()
            .trim_start()
            .starts_with("* ")
    );

    let json = env
        .sealctl()
        .args(["profile", "list", "--format", "json"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let profiles = value["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 3);
    assert_eq!(profiles[0]["mgmt_token"]["kept"], "age");
    assert_eq!(
        profiles[0]["mgmt_token"]["expires_at"],
        "2031-06-01T00:00:00Z"
    );
    assert_eq!(profiles[0]["selected"], true);
    assert_eq!(profiles[1]["mgmt_token"]["kept"], "keyring");
    assert_eq!(profiles[1]["mgmt_token"]["store"], "secret-service");
    assert_eq!(profiles[1]["token"]["kept"], "plaintext");
    assert_eq!(profiles[2]["token"]["kept"], "absent");
}

#[test]
fn show_never_shows_a_secret() {
    let (env, _) = setup();
    let output = env
        .sealctl()
        .args(["profile", "show", "prod"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("account_id  11111111-2222-3333-4444-555555555555"));
    assert!(text.contains("mgmt_token  keyring (secret-service)"));
    assert!(text.contains("token       plaintext"));
    assert!(!leaks(&text, PLAIN));
    env.sealctl()
        .args(["profile", "show", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("default, prod, old"));
}

#[test]
fn rename_binds_sealed_values_to_the_new_name() {
    let (env, config) = setup();
    let before = std::fs::read_to_string(&config).unwrap();
    env.sealctl()
        .args(["profile", "rename", "default", "main"])
        .assert()
        .success();
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.starts_with("# team file\n[[profile]]\n  name = \"main\"\n"));
    // Only the name and the re-sealed value changed.
    assert_eq!(after.lines().count(), before.lines().count());
    for (old, new) in before.lines().zip(after.lines()) {
        if old != new {
            assert!(
                new.contains("name = \"main\"") || new.trim_start().starts_with("mgmt_token"),
                "{new}"
            );
        }
    }
    let got = env
        .sealctl()
        .args(["--profile", "main", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success());
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);

    // The expiry travels with it.
    let listed = env.sealctl().args(["profile", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("expires 2031-06-01"));
}

#[test]
fn rename_refusals_leave_the_file_unchanged() {
    let (env, config) = setup();
    let before = std::fs::read(&config).unwrap();
    env.sealctl()
        .args(["profile", "rename", "default", "old"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has a profile `old` already"));
    env.sealctl()
        .args(["profile", "rename", "default", ""])
        .assert()
        .code(2);
    // Without the identity, the age value cannot be re-bound: nothing changes.
    std::fs::remove_file(env.home().join(".config/sealctl/identity.txt")).unwrap();
    env.sealctl()
        .args(["profile", "rename", "default", "main"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the file is unchanged"));
    assert_eq!(std::fs::read(&config).unwrap(), before);
}

#[test]
fn rm_asks_first_and_keeps_the_rest_of_the_file() {
    let (env, config) = setup();
    let before = std::fs::read_to_string(&config).unwrap();
    env.sealctl()
        .args(["profile", "rm", "old"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --yes"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    env.sealctl()
        .args(["profile", "rm", "old", "--yes"])
        .assert()
        .success();
    let after = std::fs::read_to_string(&config).unwrap();
    let old = "\n# kept for now\n[[profile]]\n  name = \"old\"\n  product = \"clustered\"\n  host = \"old.example.com\"\n  port = \"8443\"\n";
    assert!(before.contains(old));
    assert_eq!(after, before.replace(old, ""));
}
