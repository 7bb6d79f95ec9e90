//! Values of a backend this sealctl does not know (a newer sealctl's): `check` warns and exits 0,
//! and nothing opens them: a clear error that says to upgrade, the file unchanged, no program run.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{TestEnv, sha256};

/// A profile whose token is kept by `openbao-transit`, a backend this sealctl does not have,
/// bound to the profile's endpoint (`ep=`) and expiring far in the future.
const NEWER: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"sealctl:v1:openbao-transit:vault:v1:c2VhbGVk;ep=af65e08f;exp=2999-01-01T00:00:00Z\"\n";

/// The digest of what `token get` prints: a failure message never shows the token.
fn opened(env: &TestEnv) -> String {
    let output = env.sealctl().args(["token", "get"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    sha256(String::from_utf8(output.stdout).unwrap().trim_end())
}

fn config(env: &TestEnv, text: &str) -> std::path::PathBuf {
    env.write(".config/influxctl/config.toml", text)
}

#[test]
fn check_warns_of_an_unknown_backend_and_exits_0() {
    let env = TestEnv::new();
    let path = config(&env, NEWER);
    let output = env.sealctl().arg("check").arg(&path).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("warning[unknown-backend]"), "{stdout}");
    assert!(
        stdout.contains("backend `openbao-transit`, which this sealctl does not know: written by a newer sealctl?"),
        "{stdout}"
    );
    assert!(stdout.contains("upgrade sealctl to open it"), "{stdout}");
    assert!(!stdout.contains("malformed-sealed"), "{stdout}");
    // A warning like any other: --deny-warnings makes it fail.
    env.sealctl()
        .args(["check", "--deny-warnings"])
        .arg(&path)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), NEWER);
}

#[test]
fn json_and_sarif_name_the_unknown_backend_rule() {
    let env = TestEnv::new();
    let path = config(&env, NEWER);
    let output = env
        .sealctl()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostics = report["files"][0]["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["rule"], "unknown-backend");
    assert_eq!(diagnostics[0]["severity"], "warning");
    assert_eq!(diagnostics[0]["line"], 6);

    let output = env
        .sealctl()
        .args(["check", "--format", "sarif"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "unknown-backend");
    assert_eq!(results[0]["level"], "warning");
}

#[test]
fn the_clear_parameters_of_an_unknown_backend_are_still_judged() {
    let env = TestEnv::new();
    // Bound to another endpoint, and expired: both are errors whatever the backend.
    let moved = NEWER
        .replace("ep=af65e08f", "ep=00000000")
        .replace("2999-01-01", "2001-01-01");
    let path = config(&env, &moved);
    let output = env.sealctl().arg("check").arg(&path).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for rule in ["unknown-backend", "endpoint-changed", "token-expired"] {
        assert!(stdout.contains(&format!("[{rule}]")), "{rule}: {stdout}");
    }
}

#[test]
fn a_malformed_backend_name_is_still_an_error() {
    let env = TestEnv::new();
    let path = config(&env, &NEWER.replace("openbao-transit", "OpenBao"));
    env.sealctl()
        .arg("check")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[malformed-sealed]"));
}

#[test]
fn a_value_of_an_unknown_backend_is_not_opened() {
    let env = TestEnv::new();
    let path = config(&env, NEWER);
    env.sealctl()
        .args(["token", "get"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "kept by backend `openbao-transit`, which this sealctl does not know",
        ))
        .stderr(predicate::str::contains("hint: upgrade sealctl to open it"));
    let marker = env.home().join("started");
    env.sealctl()
        .args(["exec", "--env", "T=mgmt_token", "--", "sh", "-c"])
        .arg(format!("touch {}", marker.display()))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("upgrade sealctl"));
    assert!(!marker.exists(), "the program was started");
    env.sealctl()
        .args(["rekey", "--rebind"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("upgrade sealctl"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), NEWER);
}

#[test]
fn profile_list_names_the_backend_and_doctor_says_to_upgrade() {
    let env = TestEnv::new();
    let path = config(&env, NEWER);
    env.sealctl()
        .args(["profile", "list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "openbao-transit, expires 2999-01-01",
        ));
    env.sealctl()
        .arg("doctor")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "fail  open        profile `default` key `mgmt_token`: this value is kept by backend `openbao-transit`, which this sealctl does not know",
        ))
        .stdout(predicate::str::contains("fix: upgrade sealctl to open it"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), NEWER);
}

#[test]
fn setting_a_token_over_an_unknown_backend_seals_it_with_age() {
    let env = TestEnv::new();
    let path = config(&env, NEWER);
    env.sealctl().args(["identity", "new"]).assert().success();
    env.sealctl()
        .args(["token", "set"])
        .write_stdin("apiv3_from-an-older-sealctl")
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("mgmt_token = \"sealctl:v1:age:"), "{text}");
    assert_eq!(opened(&env), sha256("apiv3_from-an-older-sealctl"));
}

/// Plain `rekey` seals through the Sealer: what it recorded and its closing line, once each.
#[test]
fn plain_rekey_tells_once_what_it_recorded_and_did() {
    let env = TestEnv::new();
    let path = config(
        &env,
        "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n",
    );
    env.sealctl().args(["identity", "new"]).assert().success();
    env.sealctl()
        .args(["token", "set"])
        .write_stdin("apiv3_rekeyed")
        .assert()
        .success();
    // Forget the recipients `token set` recorded, so that rekey records them again.
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[sealctl]").expect("recipients recorded");
    let end = text[start..]
        .find("]\n\n")
        .map_or(text.len(), |at| start + at + 3);
    let without = format!("{}{}", &text[..start], &text[end..]);
    std::fs::write(&path, &without).unwrap();
    let output = env.sealctl().arg("rekey").output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("recorded the recipients").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("re-sealed 1 value to 1 recipient").count(),
        1,
        "{stderr}"
    );
    let recorded = stderr.find("recorded the recipients").unwrap();
    assert!(recorded < stderr.find("re-sealed").unwrap(), "{stderr}");
    assert_eq!(opened(&env), sha256("apiv3_rekeyed"));
}
