//! `sealctl profile list|show|rm|rename`: what a user sees of each profile (never a secret), and
//! edits that keep the rest of the file byte for byte and re-bind sealed values.

use predicates::prelude::*;

use crate::common::{TestEnv, leaks, sha256};

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

fn init_profile(env: &TestEnv, name: &str, host: &str) {
    env.sealctl()
        .args([
            "init",
            "--no-input",
            "--name",
            name,
            "--product",
            "clustered",
            "--host",
            host,
        ])
        .arg("--token-stdin")
        .write_stdin(TOKEN)
        .assert()
        .success();
}

// Regression: `profile rm` failed on the first profile of a file that `init` wrote ("cannot
// remove … without disturbing the rest of the file").
#[test]
fn rm_works_on_each_profile_of_a_file_init_wrote() {
    for (removed, kept) in [("default", "two"), ("two", "default")] {
        let env = TestEnv::new();
        init_profile(&env, "default", "a.example.com");
        init_profile(&env, "two", "b.example.com");
        let config = env.home().join(".config/influxctl/config.toml");
        let before = std::fs::read_to_string(&config).unwrap();
        env.sealctl()
            .args(["profile", "rm", removed, "--yes"])
            .assert()
            .success();
        let after = std::fs::read_to_string(&config).unwrap();
        // What is left is the other profile and the [sealctl] table, byte for byte.
        let blocks: Vec<&str> = before.split("\n\n").collect();
        assert_eq!(blocks.len(), 3, "{before}");
        let kept_block = blocks
            .iter()
            .find(|block| block.contains(&format!("\"{kept}\"")))
            .unwrap();
        assert_eq!(
            after,
            format!("{kept_block}\n\n{}", blocks[2]),
            "removing {removed}"
        );
        env.sealctl().arg("check").assert().success();
        let got = env
            .sealctl()
            .args(["--profile", kept, "token", "get"])
            .output()
            .unwrap();
        assert_eq!(
            sha256(String::from_utf8_lossy(&got.stdout).trim()),
            sha256(TOKEN)
        );
        // And the last one goes too, leaving the recipients.
        env.sealctl()
            .args(["profile", "rm", kept, "--yes"])
            .assert()
            .success();
        assert_eq!(std::fs::read_to_string(&config).unwrap(), blocks[2]);
    }
}

// Regression: on a file that starts with a comment, `profile rm` removed the comment too (one
// profile after a comment left a 0-byte file).
#[test]
fn rm_keeps_the_comment_that_opens_the_file() {
    let env = TestEnv::new();
    for (text, expected) in [
        (
            "# team profiles\n[[profile]]\n  name = \"a\"\n  product = \"clustered\"\n",
            "# team profiles\n",
        ),
        (
            "# team profiles\r\n\r\n[[profile]]\r\n  name = \"a\"\r\n\r\n# b\r\n[[profile]]\r\n  name = \"b\"\r\n",
            "# team profiles\r\n\r\n# b\r\n[[profile]]\r\n  name = \"b\"\r\n",
        ),
    ] {
        let config = env.write("c.toml", text);
        env.sealctl()
            .args(["--config", "c.toml", "profile", "rm", "a", "--yes"])
            .assert()
            .success();
        assert_eq!(std::fs::read_to_string(&config).unwrap(), expected);
    }
}

// Regression: `rekey` and `profile rename` gave the generic "cannot … without disturbing the
// rest of the file" for a file with two profiles of one name.
#[test]
fn two_profiles_of_one_name_are_named_as_the_problem() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let profile = "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";
    let config = env.write(
        ".config/influxctl/config.toml",
        format!("{profile}  mgmt_token = \"{PLAIN}\"\n\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"d.example.com\"\n  port = \"443\"\n"),
    );
    env.sealctl().args(["seal", "--all"]).assert().success();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n{profile}"));
    std::fs::write(&config, &text).unwrap();
    for args in [
        vec!["rekey", "--all"],
        vec!["--profile", "prod", "rekey"],
        vec!["profile", "rename", "prod", "live"],
        vec!["profile", "rm", "prod", "--yes"],
        vec!["seal", "--all"],
        vec!["--profile", "prod", "token", "set"],
    ] {
        let output = env
            .sealctl()
            .args(&args)
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("has 2 profiles named `prod`"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("without disturbing"), "{args:?}: {stderr}");
        assert!(stderr.contains("sealctl check"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text, "{args:?}");
    }
    // Renaming another profile to that name is refused as a name in use.
    env.sealctl()
        .args(["profile", "rename", "default", "prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has a profile `prod` already"));
}

// Regression: `profile rename default default` hinted at `profile rm`.
#[test]
fn renaming_a_profile_to_its_own_name_changes_nothing() {
    let (env, config) = setup();
    let before = std::fs::read(&config).unwrap();
    let output = env
        .sealctl()
        .args(["profile", "rename", "default", "default"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("nothing to rename"), "{stderr}");
    assert!(!stderr.contains("profile rm"), "{stderr}");
    assert_eq!(std::fs::read(&config).unwrap(), before);
}
