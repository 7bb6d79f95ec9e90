//! `sealctl doctor` on a healthy machine and on the usual broken ones: each problem is its own
//! `fail` line with the fix, the exit status is 1, and no secret is ever shown.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Output;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_DoCt4Rk9Wp2Lm6Zq";

const PROFILE: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

/// A healthy machine: an identity, a 0600 file with a sealed token, and influxctl on PATH.
struct Machine {
    env: TestEnv,
    config: PathBuf,
    bin: PathBuf,
}

impl Machine {
    fn healthy() -> Machine {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILE);
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        env.sealctl().args(["identity", "new"]).assert().success();
        env.sealctl()
            .args(["token", "set"])
            .write_stdin(TOKEN)
            .assert()
            .success();
        let bin = env.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // influxctl's stand-in answers `version`; a script will do as well where it is not built.
        let influxctl = bin.join("influxctl");
        std::fs::write(
            &influxctl,
            "#!/bin/sh\n[ \"$1\" = version ] && echo 'influxctl 2.10.3 (stand-in)'\n",
        )
        .unwrap();
        std::fs::set_permissions(&influxctl, std::fs::Permissions::from_mode(0o755)).unwrap();
        Machine { env, config, bin }
    }

    fn doctor(&self) -> (Output, String) {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = self
            .env
            .sealctl()
            .env("PATH", path)
            .env("XDG_RUNTIME_DIR", self.env.home())
            .arg("doctor")
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout.clone()).unwrap();
        assert!(!leaks(&text, TOKEN), "doctor showed the token");
        assert!(!leaks(&String::from_utf8_lossy(&output.stderr), TOKEN));
        (output, text)
    }
}

/// The line of `topic` at `level`, and the fix under it.
fn line<'t>(text: &'t str, level: &str, topic: &str) -> Option<(&'t str, Option<&'t str>)> {
    let lines: Vec<&str> = text.lines().collect();
    let index = lines.iter().position(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some(level) && words.next() == Some(topic)
    })?;
    let fix = lines
        .get(index + 1)
        .and_then(|next| next.trim_start().strip_prefix("fix: "));
    Some((lines[index], fix))
}

#[test]
fn a_healthy_machine_is_ready() {
    let machine = Machine::healthy();
    let (output, text) = machine.doctor();
    assert_eq!(output.status.code(), Some(0), "{text}");
    for topic in [
        "config",
        "check",
        "identity",
        "open",
        "keyring",
        "influxctl",
    ] {
        assert!(line(&text, "ok", topic).is_some(), "no ok {topic}:\n{text}");
    }
    assert!(!text.contains("warn") && !text.contains("fail"), "{text}");
    assert!(text.contains("influxctl 2.10.3"));
    assert!(text.ends_with("this machine is ready\n"));
}

#[test]
fn a_world_readable_identity_fails_with_chmod() {
    let machine = Machine::healthy();
    let identity = machine.env.home().join(".config/sealctl/identity.txt");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (output, text) = machine.doctor();
    assert_eq!(output.status.code(), Some(1), "{text}");
    let (failed, fix) = line(&text, "fail", "identity").expect(&text);
    assert!(failed.contains("can be read by group or others (mode 644)"));
    assert_eq!(
        fix,
        Some(format!("chmod 600 {}", identity.display()).as_str())
    );
    assert!(line(&text, "fail", "open").is_some(), "{text}");
    assert!(text.ends_with("not ready: 2 check(s) failed\n"), "{text}");
}

#[test]
fn a_plaintext_token_fails_with_seal() {
    let machine = Machine::healthy();
    let text = std::fs::read_to_string(&machine.config).unwrap().replace(
        "  port = \"443\"\n",
        &format!("  port = \"443\"\n  token = \"{TOKEN}\"\n"),
    );
    std::fs::write(&machine.config, text).unwrap();
    let (output, text) = machine.doctor();
    assert_eq!(output.status.code(), Some(1), "{text}");
    let (failed, fix) = line(&text, "fail", "plaintext").expect(&text);
    assert!(failed.contains("profile `default` key `token` is in plaintext"));
    assert!(fix.unwrap().starts_with("sealctl seal --all"));
}

#[test]
fn a_value_no_identity_can_open_fails() {
    let machine = Machine::healthy();
    // Someone else's identity replaces ours: the file's value was not sealed to it.
    let identity = machine.env.home().join(".config/sealctl/identity.txt");
    std::fs::remove_file(&identity).unwrap();
    machine
        .env
        .sealctl()
        .args(["identity", "new"])
        .assert()
        .success();
    let (output, text) = machine.doctor();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(line(&text, "ok", "identity").is_some());
    let (failed, fix) = line(&text, "fail", "open").expect(&text);
    assert!(
        failed.contains("profile `default` key `mgmt_token`"),
        "{failed}"
    );
    assert!(failed.contains("can open this value"), "{failed}");
    assert!(fix.unwrap().contains("sealctl rekey"));
}

#[test]
fn a_missing_file_and_missing_influxctl_are_named() {
    let env = TestEnv::new();
    let output = env
        .sealctl()
        .env("PATH", "/usr/bin:/bin")
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    let (failed, _) = line(&text, "fail", "config").expect(&text);
    assert!(failed.contains("there is no profile file at"));
    assert!(line(&text, "warn", "identity").is_some(), "{text}");
    assert!(line(&text, "warn", "influxctl").is_some(), "{text}");
}
