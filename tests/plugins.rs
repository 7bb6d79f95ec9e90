//! age plugins with a real one: `age-plugin-xwing` (software-only X-Wing, a post-quantum
//! hybrid), installed by .ci/install-deps, beside the reference `age` and `rage`. A value sealed
//! to an X25519 key, an ssh-ed25519 key and an `age1xwing1…` recipient opens with each identity
//! alone; sealctl, age and rage open what each other sealed through the plugin; mixed identity
//! files work; a missing plugin is named; and `exec` starts one plugin process for all its
//! values, whose protocol traffic never holds the token (a logging wrapper first on PATH).

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;

use crate::common::{TestEnv, command, leaks, sha256};

const MGMT_TOKEN: &str = "apiv3_Xw9Lq2Rt7Zp4Kd";
const DB_TOKEN: &str = "apiv3_Pb6Nm3Vc8Hs1Jf";

const PROFILE: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

/// The folder of the real plugin on this machine's PATH.
fn plugin_folder() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|folder| folder.join("age-plugin-xwing").is_file())
        .expect("age-plugin-xwing is on PATH (.ci/install-deps installs it)")
}

/// This machine's PATH without the folder holding the plugin (but with `dir` first).
fn path_without_plugin(dir: &Path) -> String {
    let plugin = plugin_folder();
    let rest = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|folder| *folder != plugin)
        .map(|folder| folder.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    format!("{}:{rest}", dir.display())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn private_file(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A scratch HOME with three identities (X25519, ssh-ed25519, X-Wing), the influxctl stand-in
/// and a logging wrapper named `age-plugin-xwing` in `bin/`, first on PATH.
struct Keys {
    env: TestEnv,
    config: PathBuf,
    bin: PathBuf,
    log: PathBuf,
    x25519: PathBuf,
    x25519_recipient: String,
    ssh: PathBuf,
    xwing: PathBuf,
    xwing_recipient: String,
}

impl Keys {
    fn new() -> Keys {
        let env = TestEnv::new();
        let config = env.write("config.toml", PROFILE);
        let bin = env.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
            .unwrap();
        // Logs each start (its arguments) and both directions of the protocol, then runs the
        // real plugin.
        let log = env.home().join("plugin.log");
        let real = plugin_folder().join("age-plugin-xwing");
        let wrapper = bin.join("age-plugin-xwing");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho \"start $*\" >> '{log}'\ntee -a '{log}.in' | '{real}' \"$@\" | tee -a '{log}.out'\n",
                log = log.display(),
                real = real.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

        let x25519 = env.home().join("x25519.txt");
        let generated = crate::common::succeeded(command("age-keygen").arg("-o").arg(&x25519));
        assert!(generated.status.success());
        let x25519_recipient =
            text(&crate::common::succeeded(command("age-keygen").arg("-y").arg(&x25519)).stdout)
                .trim()
                .to_owned();
        let ssh = env.home().join("id_ed25519");
        crate::common::succeeded(
            command("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f"])
                .arg(&ssh),
        );
        let xwing = env.home().join("xwing.txt");
        let made = crate::common::succeeded(&mut command(&real));
        private_file(&xwing, &text(&made.stdout));
        let xwing_recipient = text(&made.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("# recipient: "))
            .expect("the plugin prints its recipient")
            .to_owned();
        assert!(xwing_recipient.starts_with("age1xwing1"));
        Keys {
            env,
            config,
            bin,
            log,
            x25519,
            x25519_recipient,
            ssh,
            xwing,
            xwing_recipient,
        }
    }

    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// sealctl on this HOME's config, with the wrapper first on PATH.
    fn sealctl(&self) -> std::process::Command {
        let mut command = self.env.sealctl_process();
        command
            .env("PATH", self.path())
            .args(["--config"])
            .arg(&self.config);
        command
    }

    fn run(&self, args: &[&str], identity: Option<&Path>, input: Option<&str>) -> Output {
        let mut command = self.sealctl();
        if let Some(identity) = identity {
            command.arg("--identity").arg(identity);
        }
        command.args(args);
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        match input {
            Some(input) => crate::common::start_with_input(&mut command, input)
                .wait_with_output()
                .unwrap(),
            None => command.output().unwrap(),
        }
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// Lists `recipients` with sealctl, and seals the two tokens to them.
    fn seal_to(&self, recipients: &[&str]) {
        for recipient in recipients {
            let added = self.run(&["recipients", "add", recipient], None, None);
            assert!(added.status.success(), "{}", text(&added.stderr));
        }
        for (key, token) in [("mgmt_token", MGMT_TOKEN), ("token", DB_TOKEN)] {
            let set = self.run(&["token", "set", "--key", key], None, Some(token));
            assert!(set.status.success(), "{}", text(&set.stderr));
        }
        assert!(!leaks(&self.file(), MGMT_TOKEN) && !leaks(&self.file(), DB_TOKEN));
    }

    /// The token of `key`, opened with `identity` alone: its digest, or the failure.
    fn get(&self, key: &str, identity: &Path) -> Result<String, String> {
        let output = self.run(&["token", "get", "--key", key], Some(identity), None);
        if output.status.success() {
            Ok(sha256(text(&output.stdout).trim_end()))
        } else {
            Err(format!(
                "{:?}: {}",
                output.status.code(),
                text(&output.stderr)
            ))
        }
    }

    /// The sealed value of `key` in the file, and its ciphertext.
    fn sealed(&self, key: &str) -> (String, Vec<u8>) {
        let file = self.file();
        let value = file
            .lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{key} = \"")))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("the key is sealed")
            .to_owned();
        let payload = value
            .strip_prefix("sealctl:v1:age:")
            .and_then(|rest| rest.split(';').next())
            .expect("an age value");
        let ciphertext = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
        (value, ciphertext)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Both directions of the protocol, as logged.
    fn traffic(&self) -> String {
        let read = |suffix: &str| {
            std::fs::read_to_string(format!("{}.{suffix}", self.log.display())).unwrap_or_default()
        };
        format!("{}{}", read("in"), read("out"))
    }

    fn clear_log(&self) {
        for suffix in ["", ".in", ".out"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.log.display()));
        }
    }
}

/// Every run of base64 text that holds `secret` whatever its alignment in the data encoded:
/// what a search for the token's base64 must look for.
fn base64_forms(secret: &str) -> Vec<String> {
    (0..3)
        .map(|shift| {
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(format!("{}{secret}", "\"".repeat(shift)));
            // The characters that depend only on the secret's own bytes.
            let skip = (shift * 4).div_ceil(3) + 1;
            encoded[skip..encoded.len() - 4].to_owned()
        })
        .collect()
}

#[test]
fn a_value_sealed_to_x25519_ssh_and_xwing_opens_with_each_identity_alone() {
    let keys = Keys::new();
    let ssh_public = keys.ssh.with_extension("pub");
    // The plugin's identity file gives its `# recipient:` line to `recipients add`.
    keys.seal_to(&[
        &keys.x25519_recipient,
        ssh_public.to_str().unwrap(),
        keys.xwing.to_str().unwrap(),
    ]);
    assert!(keys.file().contains(&keys.xwing_recipient));
    for identity in [&keys.x25519, &keys.ssh, &keys.xwing] {
        assert_eq!(keys.get("mgmt_token", identity), Ok(sha256(MGMT_TOKEN)));
        assert_eq!(keys.get("token", identity), Ok(sha256(DB_TOKEN)));
    }
    // Another X-Wing key opens nothing.
    let stranger = keys.env.home().join("stranger.txt");
    let made = crate::common::succeeded(&mut command(plugin_folder().join("age-plugin-xwing")));
    private_file(&stranger, &text(&made.stdout));
    let refused = keys.get("mgmt_token", &stranger).unwrap_err();
    assert!(
        refused.contains("Some(2)") && refused.contains("none of the identities"),
        "{refused}"
    );
    // `identity show` lists the plugin identity's recipient.
    let shown = keys.run(&["identity", "show"], Some(&keys.xwing), None);
    assert!(text(&shown.stdout).contains(&keys.xwing_recipient));
}

#[test]
fn sealctl_age_and_rage_open_what_each_other_sealed_through_the_plugin() {
    let keys = Keys::new();
    keys.seal_to(&[&keys.xwing_recipient]);
    let (_, ciphertext) = keys.sealed("mgmt_token");
    let sealed = keys.env.write("sealed.age", &ciphertext);
    let mut envelope = None;
    for client in ["age", "rage"] {
        // sealctl → age / rage, with the plugin's identity.
        let opened = crate::common::succeeded(
            command(client)
                .env("PATH", keys.path())
                .arg("-d")
                .arg("-i")
                .arg(&keys.xwing)
                .arg(&sealed),
        );
        let plaintext = text(&opened.stdout);
        assert!(
            plaintext.contains(&format!("\"secret\":\"{MGMT_TOKEN}\"")),
            "{client} did not open it to the envelope ({} bytes)",
            plaintext.len()
        );
        envelope = Some(plaintext);
    }
    let envelope = envelope.unwrap();
    let plain = keys.env.write("envelope.json", &envelope);
    for client in ["age", "rage"] {
        // age / rage → sealctl: the same envelope sealed by the other client to the recipient.
        let encrypted = keys.env.home().join(format!("{client}.age"));
        crate::common::succeeded(
            command(client)
                .env("PATH", keys.path())
                .arg("-e")
                .arg("-r")
                .arg(&keys.xwing_recipient)
                .arg("-o")
                .arg(&encrypted)
                .arg(&plain),
        );
        let payload =
            base64::engine::general_purpose::STANDARD.encode(std::fs::read(&encrypted).unwrap());
        let (old_payload, _) = keys.sealed("mgmt_token");
        let old_payload = old_payload
            .strip_prefix("sealctl:v1:age:")
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        let file = keys.file().replace(&old_payload, &payload);
        std::fs::write(&keys.config, file).unwrap();
        assert_eq!(
            keys.get("mgmt_token", &keys.xwing),
            Ok(sha256(MGMT_TOKEN)),
            "sealed by {client}"
        );
    }
}

#[test]
fn a_mixed_identity_file_opens_what_either_key_sealed_and_passes_doctor() {
    let keys = Keys::new();
    let x25519 = std::fs::read_to_string(&keys.x25519).unwrap();
    let xwing = std::fs::read_to_string(&keys.xwing).unwrap();
    // The plugin's line first, and a line sealctl cannot use: age 1.3's native post-quantum
    // identity, which the age crate does not read.
    let unusable = "AGE-SECRET-KEY-PQ-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ5ZQGQ";
    let default = keys.env.home().join(".config/sealctl/identity.txt");
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    private_file(&default, &format!("{xwing}{unusable}\n{x25519}"));

    keys.seal_to(&[&keys.x25519_recipient]);
    let opened = keys.run(&["token", "get"], None, None);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(sha256(text(&opened.stdout).trim_end()), sha256(MGMT_TOKEN));
    // The line skipped is said at -v, by number, never shown.
    let verbose = keys.run(&["-v", "token", "get"], None, None);
    let said = text(&verbose.stderr);
    assert!(verbose.status.success(), "{said}");
    let line = xwing.lines().count() + 1;
    assert!(said.contains(&format!("line {line}")), "{said}");
    // The secret parts of the three lines (what follows each kind's prefix).
    let secret = |text: &str, prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .expect("an identity line")
            .to_owned()
    };
    for part in [
        secret(unusable, "AGE-SECRET-KEY-PQ-1"),
        secret(&x25519, "AGE-SECRET-KEY-1"),
        secret(&xwing, "AGE-PLUGIN-XWING-1"),
    ] {
        assert!(!leaks(&said, &part), "an identity leaked at -v");
    }
    assert!(!text(&opened.stderr).contains("skipped"));

    // Sealed to the plugin's recipient only: the same file opens it through the plugin.
    std::fs::write(&keys.config, PROFILE).unwrap();
    keys.seal_to(&[&keys.xwing_recipient]);
    let opened = keys.run(&["token", "get"], None, None);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(sha256(text(&opened.stdout).trim_end()), sha256(MGMT_TOKEN));

    let doctor = keys.run(&["doctor"], None, None);
    assert!(
        doctor.status.success(),
        "{}{}",
        text(&doctor.stdout),
        text(&doctor.stderr)
    );
}

#[test]
fn a_missing_plugin_is_named_for_sealing_and_for_opening_and_nothing_changes() {
    let keys = Keys::new();
    keys.seal_to(&[&keys.xwing_recipient, &keys.x25519_recipient]);
    let before = keys.file();
    let without = path_without_plugin(&keys.env.home().join("nothing"));

    // Sealing needs it.
    let mut set = keys.sealctl();
    set.env("PATH", &without)
        .args(["token", "set"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let set = crate::common::start_with_input(&mut set, "apiv3_Other7Token2")
        .wait_with_output()
        .unwrap();
    let said = text(&set.stderr);
    assert_eq!(set.status.code(), Some(2), "{said}");
    assert!(
        said.contains("sealing needs the age plugin `age-plugin-xwing`"),
        "{said}"
    );
    assert_eq!(keys.file(), before);

    // Opening with the plugin's identity alone needs it; the program is not run.
    std::fs::create_dir_all(keys.env.home().join("nothing")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_fake-influxctl"),
        keys.env.home().join("nothing/influxctl"),
    )
    .unwrap();
    for args in [
        vec!["token", "get"],
        vec!["exec", "--", "influxctl", "report"],
    ] {
        let output = keys
            .sealctl()
            .env("PATH", &without)
            .arg("--identity")
            .arg(&keys.xwing)
            .args(&args)
            .output()
            .unwrap();
        let said = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains("opening needs the age plugin `age-plugin-xwing`"),
            "{said}"
        );
        assert!(output.stdout.is_empty(), "{args:?}: the program ran");
        assert!(!leaks(&said, MGMT_TOKEN));
    }
    // With the X25519 identity as well, the value opens without the plugin.
    let output = keys
        .sealctl()
        .env("PATH", &without)
        .arg("--identity")
        .arg(&keys.xwing)
        .arg("--identity")
        .arg(&keys.x25519)
        .args(["token", "get"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(keys.file(), before);
}

#[test]
fn exec_starts_one_plugin_process_for_all_its_values_and_its_traffic_never_holds_a_token() {
    let keys = Keys::new();
    keys.seal_to(&[&keys.xwing_recipient]);
    // Sealing started the plugin too (recipient-v1); what counts is opening.
    let sealing = keys.traffic();
    for token in [MGMT_TOKEN, DB_TOKEN] {
        assert!(
            !leaks(&sealing, token),
            "a token crossed the protocol when sealing"
        );
    }
    keys.clear_log();

    let output = keys
        .sealctl()
        .arg("--identity")
        .arg(&keys.xwing)
        .args(["exec", "--", "influxctl", "report"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["mgmt_token_sha256"], sha256(MGMT_TOKEN));
    assert_eq!(report["token_sha256"], sha256(DB_TOKEN));
    let starts = keys.log();
    assert_eq!(
        starts
            .lines()
            .filter(|line| line.contains("identity-v1"))
            .count(),
        1,
        "{starts}"
    );
    assert_eq!(starts.lines().count(), 1, "{starts}");

    // The session carried two files' stanzas and gave back two file keys, and never a token.
    let traffic = keys.traffic();
    assert!(
        traffic.contains("-> recipient-stanza 1 xwing"),
        "one session for both values"
    );
    for token in [MGMT_TOKEN, DB_TOKEN] {
        assert!(!leaks(&traffic, token), "a token crossed the protocol");
        for form in base64_forms(token) {
            assert!(
                !traffic.contains(&form),
                "a token's base64 crossed the protocol"
            );
        }
    }

    // rekey opens both in one session too.
    keys.clear_log();
    let rekey = keys.run(&["rekey"], Some(&keys.xwing), None);
    assert!(rekey.status.success(), "{}", text(&rekey.stderr));
    let starts = keys.log();
    assert_eq!(
        starts
            .lines()
            .filter(|line| line.contains("identity-v1"))
            .count(),
        1,
        "{starts}"
    );
}
