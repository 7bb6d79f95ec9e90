//! `sealctl check`: exit statuses, the three formats, bad input, and secrets kept out of output.

use std::process::Stdio;

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{TestEnv, example, leaks};

const PLAINTEXT: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"apiv3_TESTTOKEN-a1b2c3d4e5f6g7h8\"\n";

fn json(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is one JSON document")
}

#[test]
fn clean_file_passes_and_broken_file_fails() {
    let env = TestEnv::new();
    env.sealctl()
        .args(["check"])
        .arg(example("clean.toml"))
        .assert()
        .code(0)
        .stdout("checked 1 file: no problems found\n");
    env.sealctl()
        .arg("check")
        .arg(example("broken.toml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[plaintext-secret]"));
}

#[test]
fn human_output_is_rustc_style() {
    let env = TestEnv::new();
    env.write(
        "broken.toml",
        std::fs::read(example("broken.toml")).unwrap(),
    );
    let output = env
        .sealctl()
        .args(["check", "broken.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::new();
    let broken = example("broken.toml");
    // Not a terminal: plain text.
    env.sealctl()
        .arg("check")
        .arg(&broken)
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
    env.sealctl()
        .args(["--color", "always", "check"])
        .arg(&broken)
        .assert()
        .stdout(predicate::str::contains("\u{1b}["));
    // NO_COLOR wins over auto.
    env.sealctl()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(&broken)
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn json_output_has_every_field() {
    let env = TestEnv::new();
    let output = env
        .sealctl()
        .args(["check", "--format", "json"])
        .arg(example("broken.toml"))
        .arg(example("clean.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output.stdout);
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["errors"], 8);
    assert_eq!(report["summary"]["warnings"], 4);
    let files = report["files"].as_array().unwrap();
    assert!(files[0]["path"].as_str().unwrap().ends_with("broken.toml"));
    assert_eq!(files[1]["diagnostics"].as_array().unwrap().len(), 0);
    let secret = files[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "plaintext-secret")
        .expect("a plaintext-secret diagnostic");
    assert_eq!(secret["severity"], "error");
    assert_eq!(secret["line"], 8);
    assert_eq!(secret["column"], 3);
    assert_eq!(secret["profile"], "prod");
    assert_eq!(secret["key"], "mgmt_token");
    assert!(secret["help"].is_string());
    let warning = &files[0]["diagnostics"][0];
    assert_eq!(warning["rule"], "no-default-profile");
    assert_eq!(warning["profile"], Value::Null);
    assert_eq!(warning["key"], Value::Null);
}

#[test]
fn sarif_output_is_what_code_scanning_reads() {
    let env = TestEnv::new();
    env.write(
        "team/influxctl.toml",
        std::fs::read(example("broken.toml")).unwrap(),
    );
    let output = env
        .sealctl()
        .args([
            "check",
            "--format",
            "sarif",
            "./team/influxctl.toml",
            "missing.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unreadable file makes it 2"
    );
    let log = json(&output.stdout);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "sealctl");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), sealctl_rule_count());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(matches!(
            result["level"].as_str(),
            Some("error" | "warning")
        ));
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "team/influxctl.toml");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("missing.toml")
    );
}

fn sealctl_rule_count() -> usize {
    // The rule table in docs/rules.md lists every rule once.
    let doc = include_str!("../docs/rules.md");
    doc.lines().filter(|line| line.starts_with("| `")).count()
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let env = TestEnv::new();
    let file = env.write(
        "warn.toml",
        "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"443\"\n",
    );
    env.sealctl()
        .arg("check")
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[no-default-profile]"));
    env.sealctl()
        .args(["check", "--deny-warnings"])
        .arg(&file)
        .assert()
        .code(1);
}

#[test]
fn with_no_file_checks_influxctls_default_file_or_says_there_is_none() {
    let env = TestEnv::new();
    env.sealctl()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".config/influxctl/config.toml"))
        .stderr(predicate::str::contains("hint:"));
    env.write(".config/influxctl/config.toml", PLAINTEXT);
    env.sealctl()
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            ".config/influxctl/config.toml:6:3",
        ));
    let other = env.write("other.toml", "");
    env.sealctl()
        .arg("check")
        .arg("--config")
        .arg(&other)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[no-profiles]"));
}

#[test]
fn reads_standard_input() {
    let env = TestEnv::new();
    env.sealctl()
        .args(["check", "-"])
        .write_stdin(PLAINTEXT)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("<stdin>:6:3"));
}

#[test]
fn bad_input_gets_a_clear_message_and_its_exit_status() {
    let env = TestEnv::new();
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        ("empty.toml", Vec::new(), 1, "error[no-profiles]"),
        (
            "garbage.toml",
            (0..=255u8).cycle().take(4096).collect(),
            1,
            "not UTF-8",
        ),
        (
            "latin1.toml",
            b"[[profile]]\nname = \"caf\xe9\"\n".to_vec(),
            1,
            "not UTF-8 text (byte 0xE9",
        ),
        (
            "nul.toml",
            b"name = \"a\0b\"\n".to_vec(),
            1,
            "error[toml-syntax]",
        ),
    ];
    for (name, bytes, code, expected) in cases {
        let path = env.write(name, &bytes);
        let assert = env.sealctl().arg("check").arg(&path).assert().code(code);
        let output = assert.get_output();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(all.contains(expected), "{name}: {all}");
        assert!(!all.contains("panicked"), "{name}: {all}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} is unchanged");
    }
}

#[test]
fn unreadable_files_exit_2_and_the_others_are_still_checked() {
    let env = TestEnv::new();
    let big = env.home().join("big.toml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    std::fs::create_dir(env.home().join("folder.toml")).unwrap();
    let broken = example("broken.toml");
    let output = env
        .sealctl()
        .args([
            "check",
            "--format",
            "json",
            "big.toml",
            "folder.toml",
            "missing.toml",
        ])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cannot read big.toml: it is 50.0 MiB, too large to be a profile file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read folder.toml: it is a directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read missing.toml: no such file"),
        "{stderr}"
    );
    let report = json(&output.stdout);
    assert_eq!(report["summary"]["unreadable"], 3);
    assert_eq!(report["files"][2]["error"], "no such file");
    assert_eq!(
        report["files"][3]["diagnostics"].as_array().unwrap().len(),
        12,
        "the readable file is still checked"
    );
}

#[test]
fn secrets_never_reach_any_output() {
    let secret = "apiv3_S3CRET-kx93JqLm0pZt8wYv";
    let other = "dbtk_Zq81mNbVcX7pLw";
    let files = [
        // Plaintext, in every place a secret can be.
        format!(
            "[[profile]]\n  name = \"x\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"1\"\n  mgmt_token = \"{secret}\"\n  token = '{other}'\n"
        ),
        // A syntax error inside the secret itself.
        format!("[[profile]]\n  name = \"x\"\n  mgmt_token = \"{secret}\\q\"\n"),
        // An unterminated secret.
        format!("[[profile]]\n  mgmt_token = \"{secret}\n"),
        // Secrets in an inline table, on one line with other problems.
        format!(
            "profile = [{{ name = \"x\", product = \"nope\", mgmt_token = \"{secret}\", port = 1, token = \"{other}\" }}]\n"
        ),
        // Secret-looking keys the schema does not know.
        format!(
            "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"1\"\n  api_password = \"{secret}\"\n  [profile.auth.oauth2]\n    client_secret = \"{other}\"\n"
        ),
        // A 1.1-only form on a secret's line.
        format!("[[profile]]\n  name = \"x\"\n  mgmt_token = \"{secret}\\e\"\n"),
    ];
    let env = TestEnv::new();
    for (index, contents) in files.iter().enumerate() {
        let path = env.write(&format!("f{index}.toml"), contents);
        for format in ["human", "json", "sarif"] {
            for color in ["never", "always"] {
                let output = env
                    .sealctl()
                    .args(["--color", color, "check", "--format", format])
                    .arg(&path)
                    .output()
                    .unwrap();
                let all = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                if format == "human" {
                    assert!(
                        all.contains("[redacted]"),
                        "file {index}: the secret's line was not shown"
                    );
                }
                assert!(
                    !leaks(&all, secret) && !leaks(&all, other),
                    "file {index}, format {format}: a secret leaked"
                );
            }
        }
    }
}

#[test]
fn check_never_writes_to_the_files_it_reads() {
    let env = TestEnv::new();
    let path = env.write("c.toml", PLAINTEXT);
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    env.sealctl().arg("check").arg(&path).assert().code(1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), PLAINTEXT);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_verdict() {
    // Regression: writing to a pipe whose reader left (`| head`) must not panic.
    let env = TestEnv::new();
    let files: Vec<_> = (0..200)
        .map(|i| env.write(&format!("f{i}.toml"), PLAINTEXT))
        .collect();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sealctl"))
        .args(["check"])
        .args(&files)
        .env_clear()
        .env("HOME", env.home())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn help_shows_examples_and_exit_statuses() {
    TestEnv::new()
        .sealctl()
        .args(["check", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("Exit status"));
    TestEnv::new()
        .sealctl()
        .args(["check", "--format", "xml"])
        .assert()
        .code(2);
}

/// The summary leads with files that could not be read: never "no problems found" first.
#[test]
fn the_summary_leads_with_files_that_could_not_be_read() {
    let env = TestEnv::new();
    env.sealctl()
        .args(["check", "missing.toml"])
        .assert()
        .code(2)
        .stdout("1 file could not be read; nothing was checked\n")
        .stderr(predicate::str::contains(
            "cannot read missing.toml: no such file",
        ));
    env.sealctl()
        .args(["check", "missing.toml", "gone.toml"])
        .arg(example("clean.toml"))
        .assert()
        .code(2)
        .stdout("2 files could not be read; checked 1 other file: no problems found\n");
    env.sealctl()
        .args(["check", "missing.toml"])
        .arg(example("broken.toml"))
        .arg(example("clean.toml"))
        .assert()
        .code(2)
        .stdout(predicate::str::ends_with(
            "1 file could not be read; checked 2 other files: 8 errors, 4 warnings\n",
        ));
}

/// `--skip-other-toml` (the pre-commit hook's mode) passes a TOML file that is plainly not a
/// profile file, and still fails anything of influxctl's, broken TOML, and plaintext tokens.
#[test]
fn skip_other_toml_passes_other_toml_files_only() {
    let env = TestEnv::new();
    env.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[profile.release]\nlto = true\n",
    );
    env.write("pyproject.toml", "[project]\nname = \"app\"\n");
    env.sealctl()
        .args(["check", "--skip-other-toml", "Cargo.toml", "pyproject.toml"])
        .assert()
        .code(0)
        .stdout("skipped 2 files that are not profile files: nothing to check\n");
    // Without the flag, a file without profiles is an error, as before.
    env.sealctl()
        .args(["check", "Cargo.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[wrong-type]"));
    for (name, text, rule) in [
        ("config.toml", PLAINTEXT.to_owned(), "plaintext-secret"),
        (
            "upper.toml",
            PLAINTEXT
                .replace("[[profile]]", "[[PROFILE]]")
                .replace("mgmt_token", "MGMT_TOKEN"),
            "plaintext-secret",
        ),
        (
            "single.toml",
            PLAINTEXT.replace("[[profile]]", "[profile]"),
            "wrong-type",
        ),
        (
            "named.toml",
            "[profile.prod]\nmgmt_token = \"apiv3_TESTTOKEN-a1b2c3d4e5f6g7h8\"\n".to_owned(),
            "wrong-type",
        ),
        (
            "loose.toml",
            "mgmt_token = \"apiv3_TESTTOKEN-a1b2c3d4e5f6g7h8\"\n".to_owned(),
            "no-profiles",
        ),
        (
            "legacy.toml",
            "account_id = \"x\"\ncluster_id = \"y\"\n".to_owned(),
            "legacy-format",
        ),
        (
            "sealctl.toml",
            "[sealctl]\nrecipients = []\n".to_owned(),
            "no-profiles",
        ),
        (
            "broken.toml",
            "[package]\nname = = \"app\"\n".to_owned(),
            "toml-syntax",
        ),
    ] {
        env.write(name, text);
        let output = env
            .sealctl()
            .args(["check", "--skip-other-toml", name])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{name}: {stdout}");
        assert!(
            stdout.contains(&format!("error[{rule}]")),
            "{name}: {stdout}"
        );
        assert!(!stdout.contains("skipped"), "{name}: {stdout}");
        assert!(
            !leaks(&stdout, "apiv3_TESTTOKEN-a1b2c3d4e5f6g7h8"),
            "{name}"
        );
    }
    let output = env
        .sealctl()
        .args([
            "check",
            "--skip-other-toml",
            "--format",
            "json",
            "Cargo.toml",
            "config.toml",
        ])
        .output()
        .unwrap();
    let report = json(&output.stdout);
    assert_eq!(report["files"][0]["skipped"], true);
    assert_eq!(report["files"][1].get("skipped"), None);
}

// Regression: with `--profile` on check's own command line, the `rekey --all` fix became
// `rekey --all --profile P`, which rekey refuses.
#[test]
fn fix_commands_carry_their_own_profile_not_this_runs() {
    let env = TestEnv::new();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/sealctl-profile/tests/samples/invalid/stale-recipients.toml");
    let output = env
        .sealctl()
        .args(["--profile", "prod", "check"])
        .arg(&sample)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    let help = report
        .lines()
        .find(|line| line.contains("= help:") && line.contains("rekey"))
        .unwrap_or_else(|| panic!("no rekey fix: {report}"));
    assert!(help.contains("sealctl rekey --all --config"), "{help}");
    assert!(!help.contains("--profile"), "{help}");
}
