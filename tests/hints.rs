//! Every command a hint, a `help:` line or a `next:` line suggests does what it says when pasted
//! into a shell: it names the file (when it is not the default one) and the profile, shell-quoted.
//! Each is run here through `sh -c`, on a file whose path holds spaces and quotes and a profile
//! named `my 'prod'`, beside a default file that must stay untouched.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_HiNt4Qw8Er2Ty6Ui";
const PROFILE: &str = "my 'prod'";
const DEFAULT_FILE: &str = "[[profile]]\n  name = \"my 'prod'\"\n  product = \"clustered\"\n  host = \"default.example.com\"\n  port = \"443\"\n  mgmt_token = \"apiv3_DeFaUlT1Zx5Cv9Bn\"\n";

/// A scratch HOME with an identity, a default file (plaintext, never to be touched) and the file
/// the hints must name, at a path a shell would split or unquote.
fn setup(contents: &str) -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::new();
    let default = env.write(".config/influxctl/config.toml", DEFAULT_FILE);
    let file = env.write("team $HOME/it's \"prod\".toml", contents);
    env.sealctl().args(["identity", "new"]).assert().success();
    (env, default, file)
}

fn profile_with(token_line: &str) -> String {
    format!(
        "[[profile]]\n  name = \"my 'prod'\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n{token_line}"
    )
}

/// The `sealctl …` command in a line of output: up to a closing backtick or the line's end.
fn command_in(text: &str, marker: &str) -> String {
    let line = text
        .lines()
        .find(|line| line.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker:?} in:\n{text}"));
    let start = line[line.find(marker).unwrap()..]
        .find("sealctl ")
        .map(|at| line.find(marker).unwrap() + at)
        .unwrap_or_else(|| panic!("no command in {line:?}"));
    let rest = &line[start..];
    rest.split('`').next().unwrap().trim_end().to_owned()
}

/// Runs a pasted command line with `sh -c`, with `sealctl` on PATH and the scratch HOME.
fn paste(env: &TestEnv, command: &str, stdin: &str) -> std::process::Output {
    let bin = env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if !bin.join("sealctl").exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sealctl"), bin.join("sealctl")).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = crate::common::command("sh");
    sh.args(["-c", command])
        .env("PATH", path)
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .current_dir(env.home())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    crate::common::start_with_input(&mut sh, stdin)
        .wait_with_output()
        .unwrap()
}

fn succeeded(what: &str, output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_untouched(default: &Path) {
    assert_eq!(std::fs::read_to_string(default).unwrap(), DEFAULT_FILE);
}

#[test]
fn checks_help_seals_the_file_it_checked_and_not_the_default() {
    let (env, default, file) = setup(&profile_with(&format!("  mgmt_token = \"{TOKEN}\"\n")));
    for format in ["json", "human"] {
        let output = env
            .sealctl()
            .arg("check")
            .arg(&file)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        let text = String::from_utf8(output.stdout).unwrap();
        let command = if format == "json" {
            let report: serde_json::Value = serde_json::from_str(&text).unwrap();
            let help = report["files"][0]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["rule"] == "plaintext-secret")
                .unwrap()["help"]
                .as_str()
                .unwrap()
                .to_owned();
            command_in(&help, "seal it in place")
        } else {
            command_in(&text, "seal it in place")
        };
        assert!(command.contains("--config"), "{command}");
        if format == "json" {
            // The human one is run below; both say the same.
            continue;
        }
        succeeded(&command, &paste(&env, &command, ""));
    }
    assert!(!leaks(&std::fs::read_to_string(&file).unwrap(), TOKEN));
    env.sealctl().arg("check").arg(&file).assert().success();
    assert_untouched(&default);
}

#[test]
fn checks_help_rekeys_the_file_it_checked() {
    let (env, default, file) = setup(&profile_with(""));
    env.sealctl()
        .arg("--config")
        .arg(&file)
        .args(["--profile", PROFILE, "token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let other = env.home().join("other.txt");
    let recipient = env
        .sealctl()
        .args(["identity", "new", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    let recipient = String::from_utf8(recipient.stdout).unwrap();
    env.sealctl()
        .arg("--config")
        .arg(&file)
        .args(["recipients", "add", recipient.trim()])
        .assert()
        .success();
    let output = env.sealctl().arg("check").arg(&file).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let command = command_in(&text, "re-seal it to the current recipients");
    succeeded(&command, &paste(&env, &command, ""));
    let output = env.sealctl().arg("check").arg(&file).output().unwrap();
    assert!(output.status.success());
    assert!(
        !String::from_utf8(output.stdout)
            .unwrap()
            .contains("stale-recipients")
    );
    assert_untouched(&default);
}

#[test]
fn an_errors_hint_sets_the_token_of_the_file_and_profile_it_failed_on() {
    let (env, default, file) = setup(&profile_with(""));
    let output = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .args(["--profile", PROFILE, "token", "get"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let command = command_in(&stderr, "hint: set it with");
    succeeded(&command, &paste(&env, &command, TOKEN));
    let got = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .args(["--profile", PROFILE, "token", "get"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(got.stdout).unwrap().trim(), TOKEN);
    assert_untouched(&default);
}

#[test]
fn doctors_fix_seals_the_file_it_looked_at() {
    let (env, default, file) = setup(&profile_with(&format!("  mgmt_token = \"{TOKEN}\"\n")));
    let output = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let fix = text
        .lines()
        .skip_while(|line| !line.contains("is in plaintext"))
        .nth(1)
        .unwrap();
    let command = command_in(fix, "fix:");
    succeeded(&command, &paste(&env, &command, ""));
    assert!(!leaks(&std::fs::read_to_string(&file).unwrap(), TOKEN));
    assert_untouched(&default);
}

#[test]
fn the_next_line_of_profile_add_sets_the_token_of_the_new_profile() {
    let env = TestEnv::new();
    let default = env.write(".config/influxctl/config.toml", DEFAULT_FILE);
    env.sealctl().args(["identity", "new"]).assert().success();
    let file = env.home().join("team $HOME/it's \"prod\".toml");
    let output = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .args([
            "profile",
            "add",
            "--name",
            PROFILE,
            "--product",
            "clustered",
            "--host",
            "prod.example.com",
        ])
        .output()
        .unwrap();
    succeeded("profile add", &output);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let command = command_in(&stderr, "next:");
    succeeded(&command, &paste(&env, &command, TOKEN));
    let got = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .args(["--profile", PROFILE, "token", "get"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(got.stdout).unwrap().trim(), TOKEN);
    assert_untouched(&default);
}

/// `init`'s `next:` line runs influxctl on the new profile of the file it wrote.
#[cfg(feature = "test-fakes")]
#[test]
fn the_next_line_of_init_runs_influxctl_on_the_new_profile() {
    let env = TestEnv::new();
    let default = env.write(".config/influxctl/config.toml", DEFAULT_FILE);
    let file = env.home().join("team $HOME/it's \"prod\".toml");
    let output = env
        .sealctl()
        .arg("--config")
        .arg(&file)
        .args([
            "init",
            "--no-input",
            "--name",
            PROFILE,
            "--product",
            "clustered",
            "--host",
            "prod.example.com",
            "--token-stdin",
        ])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    succeeded("init", &output);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let command = command_in(&stderr, "next:");
    assert!(
        command.ends_with(" -- influxctl database list"),
        "{command}"
    );
    // The stand-in has no `database list`; `report` says what it was given instead.
    let command = command.replace(" database list", " report");
    std::fs::create_dir_all(env.home().join("bin")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_fake-influxctl"),
        env.home().join("bin/influxctl"),
    )
    .unwrap();
    let output = paste(&env, &command, "");
    succeeded(&command, &output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["profile"], PROFILE);
    assert_eq!(report["mgmt_token_sha256"], crate::common::sha256(TOKEN));
    assert_untouched(&default);
}
