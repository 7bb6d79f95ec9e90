//! The test-only `test-file` backend (crates/sealctl-seal/src/backend/test_file.rs), driven through
//! the real binary: a backend added in one module works with every command, the place check,
//! the endpoint binding, the rollback of a failed save and the deletion of replaced values alike.
//! It keeps each envelope in a file of $SEALCTL_TEST_BACKEND_DIR, named by the id in the value.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{TestEnv, leaks, sha256};

const TOKEN: &str = "apiv3_Tf83Ne2pLwQ6sZ";
const OTHER_TOKEN: &str = "apiv3_Ub47Mk5rXyD1cV";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with influxctl's default config (two profiles, no token), a folder for the
/// backend's envelopes, and the influxctl stand-in on PATH.
struct Setup {
    env: TestEnv,
    config: PathBuf,
    envelopes: PathBuf,
    bin: PathBuf,
    runtime: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        let (envelopes, bin, runtime) = (
            env.home().join("envelopes"),
            env.home().join("bin"),
            env.home().join("runtime"),
        );
        for folder in [&envelopes, &bin, &runtime] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
            .unwrap();
        Setup {
            env,
            config,
            envelopes,
            bin,
            runtime,
        }
    }

    fn process(&self) -> Command {
        let mut command = self.env.sealctl_process();
        command
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("SEALCTL_TEST_BACKEND_DIR", &self.envelopes);
        command
    }

    /// `sh` with the environment sealctl is run with.
    fn shell(&self) -> Command {
        let command = self.process();
        let mut shell = crate::common::command("sh");
        for (name, value) in command.get_envs() {
            if let Some(value) = value {
                shell.env(name, value);
            }
        }
        shell.current_dir(self.env.home());
        shell
    }

    fn sealctl(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process())
    }

    /// `token set --backend test-file` for `profile`, from standard input.
    fn set(&self, profile: &str, token: &str) {
        self.sealctl()
            .args([
                "--profile",
                profile,
                "token",
                "set",
                "--backend",
                "test-file",
            ])
            .write_stdin(token)
            .assert()
            .success();
    }

    /// The digest of what `token get` prints for `profile` (the token itself is never shown).
    fn got(&self, profile: &str) -> String {
        let output = self
            .sealctl()
            .args(["--profile", profile, "token", "get"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        sha256(String::from_utf8(output.stdout).unwrap().trim_end())
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// The value at `mgmt_token` of `profile`.
    fn value(&self, profile: &str) -> Option<String> {
        let document: toml_edit::DocumentMut = self.file().parse().unwrap();
        document["profile"]
            .as_array_of_tables()
            .unwrap()
            .iter()
            .find(|table| table["name"].as_str() == Some(profile))
            .and_then(|table| table.get("mgmt_token"))
            .and_then(|value| value.as_str())
            .map(str::to_owned)
    }

    /// The names of the envelope files kept now.
    fn kept(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.envelopes)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The id (the envelope file's name) a `test-file` value names.
fn id(value: &str) -> String {
    let payload = value
        .strip_prefix("sealctl:v1:test-file:")
        .unwrap_or_else(|| panic!("not a test-file value: {value}"));
    payload.split(';').next().unwrap().to_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_token_set_in_the_test_backend_comes_back_and_reaches_influxctl() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let value = setup.value("default").unwrap();
    // The file holds only the id; the envelope, in the file of that name.
    assert_eq!(setup.kept(), [id(&value)]);
    assert!(!leaks(&setup.file(), TOKEN));
    assert!(value.contains(";ep="), "bound to the endpoint: {value}");
    // Neither sealing nor opening needed an identity (there is none).
    assert_eq!(setup.got("default"), sha256(TOKEN));

    let output = setup
        .sealctl()
        .args(["exec", "--", "influxctl", "report"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["profile"], "default");
    assert_eq!(report["mgmt_token_sha256"], sha256(TOKEN));
}

#[test]
fn without_its_folder_the_backend_refuses_clearly_and_the_file_is_unchanged() {
    let setup = Setup::new();
    let before = setup.file();
    let output = setup
        .sealctl()
        .env_remove("SEALCTL_TEST_BACKEND_DIR")
        .args(["token", "set", "--backend", "test-file"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("SEALCTL_TEST_BACKEND_DIR is not set"),
        "{}",
        stderr(&output)
    );
    assert!(!leaks(&stderr(&output), TOKEN));
    assert_eq!(setup.file(), before);
    assert!(setup.kept().is_empty());
}

#[test]
fn a_value_copied_into_another_profile_is_refused() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let value = setup.value("default").unwrap();
    let copied = setup.file().replace(
        "host = \"prod.example.com\"\n  port = \"443\"\n",
        &format!("host = \"prod.example.com\"\n  port = \"443\"\n  mgmt_token = \"{value}\"\n"),
    );
    std::fs::write(&setup.config, &copied).unwrap();
    let output = setup
        .sealctl()
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(
        message.contains("was sealed for profile `default` key `mgmt_token`, but it is in profile `prod` key `mgmt_token`"),
        "{message}"
    );
    assert!(message.contains("values cannot be moved"), "{message}");
    assert!(!leaks(&message, TOKEN));
    assert_eq!(setup.file(), copied);
    // Where it was set, it still opens.
    assert_eq!(setup.got("default"), sha256(TOKEN));
}

#[test]
fn a_changed_endpoint_is_refused_until_rekey_rebind_reseals_it() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let old = setup.value("default").unwrap();
    let moved = setup
        .file()
        .replace("host = \"h.example.com\"", "host = \"evil.example.com\"");
    std::fs::write(&setup.config, &moved).unwrap();
    let output = setup.sealctl().args(["token", "get"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("but the profile now points at"),
        "{}",
        stderr(&output)
    );
    assert_eq!(setup.file(), moved);

    // A plain rekey re-seals to recipients: this value has none, so it is left as it is.
    let output = setup.sealctl().arg("rekey").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "1 value in the test-file folder ($SEALCTL_TEST_BACKEND_DIR), not sealed to recipients, left as it is"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(setup.file(), moved);
    assert_eq!(setup.kept(), [id(&old)]);

    let output = setup
        .sealctl()
        .args(["rekey", "--rebind"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let new = setup.value("default").unwrap();
    assert_ne!(id(&new), id(&old));
    // The old envelope, which the saved file no longer names, is deleted.
    assert_eq!(setup.kept(), [id(&new)]);
    assert_eq!(setup.got("default"), sha256(TOKEN));
}

#[test]
fn doctor_probes_the_folder_and_opens_its_values() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let output = setup.sealctl().arg("doctor").output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains(&format!(
            "test-file   the test-file folder {} takes new envelopes (a probe file was made and deleted)",
            setup.envelopes.display()
        )),
        "{report}"
    );
    assert!(
        report.contains("1 sealed value(s) open with what this machine has"),
        "{report}"
    );
    assert!(!leaks(&report, TOKEN) && !leaks(&stderr(&output), TOKEN));
    // The probe's file is gone; the token's is kept.
    assert_eq!(setup.kept(), [id(&setup.value("default").unwrap())]);

    // Where the folder is not set (every run outside these tests) there is nothing to probe,
    // and the value cannot be opened: doctor says why.
    let output = setup
        .sealctl()
        .env_remove("SEALCTL_TEST_BACKEND_DIR")
        .arg("doctor")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!report.contains("takes new envelopes"), "{report}");
    assert!(
        report.contains("SEALCTL_TEST_BACKEND_DIR is not set"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(1), "{report}");
}

#[test]
fn a_failed_save_leaves_no_envelope_file() {
    let setup = Setup::new();
    setup.set("prod", OTHER_TOKEN);
    let kept = setup.kept();
    // A file larger than the limit below: writing it fails with EFBIG, even as root, after the
    // envelope (a few hundred bytes, within the limit) was kept.
    let big = format!("{}# {}\n", setup.file(), "x".repeat(16 * 1024));
    std::fs::write(&setup.config, &big).unwrap();
    // A new value, one replacing a kept one (which must stay: the file still names it), and a
    // new profile.
    let script = "ulimit -f 4; trap '' XFSZ\n\
        printf %s \"$1\" | \"$SEALCTL\" token set --backend test-file; echo \"status $?\"\n\
        printf %s \"$1\" | \"$SEALCTL\" --profile prod token set; echo \"status $?\"\n\
        printf %s \"$1\" | \"$SEALCTL\" profile add --name new --product clustered --host n.example.com --backend test-file --token-stdin; echo \"status $?\"\n";
    let output = setup
        .shell()
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .args(["-c", &format!("( {script} ) 2>&1 | cat"), "sh", TOKEN])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("status 2").count(), 3, "{text}");
    assert_eq!(text.matches("cannot write").count(), 3, "{text}");
    assert!(!text.contains("still there"), "{text}");
    assert!(!leaks(&text, TOKEN) && !leaks(&text, OTHER_TOKEN));
    assert_eq!(setup.file(), big);
    assert_eq!(
        setup.kept(),
        kept,
        "an envelope of an unsaved change was left"
    );
}

#[test]
fn a_replaced_or_removed_value_takes_its_envelope_with_it() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let first = setup.value("default").unwrap();
    // The backend the value has now is kept: no --backend needed.
    setup
        .sealctl()
        .args(["token", "set"])
        .write_stdin(OTHER_TOKEN)
        .assert()
        .success();
    let second = setup.value("default").unwrap();
    assert_ne!(id(&first), id(&second));
    assert_eq!(setup.kept(), [id(&second)]);
    assert_eq!(setup.got("default"), sha256(OTHER_TOKEN));

    setup.sealctl().args(["token", "rm"]).assert().success();
    assert_eq!(setup.value("default"), None);
    assert!(setup.kept().is_empty());
}

#[test]
fn a_token_moves_to_age_and_back() {
    let setup = Setup::new();
    setup.sealctl().args(["identity", "new"]).assert().success();
    setup.set("prod", TOKEN);
    setup
        .sealctl()
        .args(["--profile", "prod", "token", "move", "--to", "age"])
        .assert()
        .success();
    assert!(setup.value("prod").unwrap().starts_with("sealctl:v1:age:"));
    assert!(setup.kept().is_empty());
    assert_eq!(setup.got("prod"), sha256(TOKEN));

    setup
        .sealctl()
        .args(["--profile", "prod", "token", "move", "--to", "test-file"])
        .assert()
        .success();
    let value = setup.value("prod").unwrap();
    assert_eq!(setup.kept(), [id(&value)]);
    assert_eq!(setup.got("prod"), sha256(TOKEN));
    assert!(!leaks(&setup.file(), TOKEN));
}

#[test]
fn check_warns_that_the_framing_does_not_know_the_backend() {
    let setup = Setup::new();
    setup.set("default", TOKEN);
    let output = setup
        .sealctl()
        .arg("check")
        .arg(&setup.config)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("unknown-backend"), "{said}");
    assert!(said.contains("kept by backend `test-file`"), "{said}");
}

#[test]
fn it_is_taken_by_name_but_not_listed_or_offered() {
    let setup = Setup::new();
    let output = setup
        .sealctl()
        .args(["token", "set", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("keyring: In the OS keyring"), "{help}");
    assert!(!help.contains("test-file"), "{help}");
    let output = setup
        .sealctl()
        .args(["token", "set", "--backend", "nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !stderr(&output).contains("test-file"),
        "{}",
        stderr(&output)
    );
}
