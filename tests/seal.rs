//! Sealing with age: interop with the reference `age` tool, several recipients, and every bad
//! input refused with a clear message, a non-zero status and the file unchanged.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use predicates::prelude::*;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_SEALTEST-Jk38dLq0Vz7Nw2";

const PROFILES: &str = "# team profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"   # live\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with a profile file and `n` age identities (0600), with their recipients.
struct Team {
    env: TestEnv,
    config: PathBuf,
    keys: Vec<(PathBuf, String)>,
}

impl Team {
    fn new(n: usize) -> Team {
        let env = TestEnv::new();
        let config = env.write("config.toml", PROFILES);
        let keys = (0..n)
            .map(|i| {
                let path = env.home().join(format!("key{i}.txt"));
                let output = env
                    .sealctl()
                    .args(["identity", "new", "--out"])
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                (
                    path,
                    String::from_utf8(output.stdout).unwrap().trim().to_owned(),
                )
            })
            .collect();
        Team { env, config, keys }
    }

    /// sealctl on the team's file, with identity `key` (if any).
    fn sealctl(&self, key: Option<usize>) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command.arg("--config").arg(&self.config);
        if let Some(key) = key {
            command.arg("--identity").arg(&self.keys[key].0);
        }
        command
    }

    fn file(&self) -> Vec<u8> {
        std::fs::read(&self.config).unwrap()
    }

    fn set_token(&self, profile: &str, token: &str) {
        self.sealctl(None)
            .args(["--profile", profile, "token", "set"])
            .write_stdin(token)
            .assert()
            .success();
    }

    fn sealed_value(&self, profile_line: &str) -> String {
        let text = String::from_utf8(self.file()).unwrap();
        let after = &text[text.find(profile_line).unwrap()..];
        let line = after
            .lines()
            .find(|line| line.trim_start().starts_with("mgmt_token"))
            .unwrap();
        line.split('"').nth(1).unwrap().to_owned()
    }
}

fn run(program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let output = assert_cmd::Command::new(program)
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn payload(value: &str) -> String {
    value
        .strip_prefix("sealctl:v1:age:")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn a_sealed_value_opens_with_the_reference_age_into_the_documented_envelope() {
    let team = Team::new(1);
    team.sealctl(Some(0))
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    team.set_token("prod", TOKEN);
    let value = team.sealed_value("name = \"prod\"");
    assert!(!value.contains(TOKEN));
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(payload(&value))
        .unwrap();
    let envelope = run(
        "age",
        &["-d", "-i", team.keys[0].0.to_str().unwrap()],
        &ciphertext,
    );
    assert_eq!(
        String::from_utf8(envelope).unwrap(),
        format!(
            "{{\"v\":2,\"profile\":\"prod\",\"key\":\"mgmt_token\",\"endpoint\":{{\"product\":\"clustered\",\"host\":\"prod.example.com\",\"port\":\"443\"}},\"secret\":\"{TOKEN}\"}}"
        )
    );
}

#[test]
fn an_envelope_encrypted_by_the_reference_age_unseals() {
    let env = TestEnv::new();
    // X25519, with age-keygen's own identity file.
    let age_key = env.home().join("age.key");
    run("age-keygen", &["-o", age_key.to_str().unwrap()], b"");
    let age_recipient =
        String::from_utf8(run("age-keygen", &["-y", age_key.to_str().unwrap()], b"")).unwrap();
    // ssh-ed25519, with ssh-keygen's key.
    let ssh_key = env.home().join("id_ed25519");
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "ci@runner",
            "-f",
            ssh_key.to_str().unwrap(),
        ],
        b"",
    );
    let ssh_recipient = std::fs::read_to_string(ssh_key.with_extension("pub")).unwrap();

    for (recipient, identity) in [
        (age_recipient.trim(), &age_key),
        (ssh_recipient.trim(), &ssh_key),
    ] {
        let envelope = format!(
            "{{\"v\":1,\"profile\":\"prod\",\"key\":\"mgmt_token\",\"secret\":\"{TOKEN}\"}}"
        );
        let ciphertext = run("age", &["-r", recipient], envelope.as_bytes());
        let value = format!(
            "sealctl:v1:age:{}",
            base64::engine::general_purpose::STANDARD.encode(&ciphertext)
        );
        let config = env.write(
            "config.toml",
            PROFILES.replace(
                "name = \"prod\"   # live\n",
                &format!("name = \"prod\"   # live\n  mgmt_token = \"{value}\"\n"),
            ),
        );
        env.sealctl()
            .arg("--config")
            .arg(&config)
            .arg("--identity")
            .arg(identity)
            .args(["--profile", "prod", "token", "get"])
            .assert()
            .success()
            .stdout(format!("{TOKEN}\n"));
    }
}

#[test]
fn sealing_changes_only_the_bytes_of_the_value() {
    let team = Team::new(1);
    team.sealctl(Some(0))
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    let before = String::from_utf8(team.file()).unwrap();
    team.set_token("prod", TOKEN);
    let value = team.sealed_value("name = \"prod\"");
    let after = String::from_utf8(team.file()).unwrap();
    let expected = before.replace(
        "  host = \"prod.example.com\"\n  port = \"443\"\n",
        &format!("  host = \"prod.example.com\"\n  port = \"443\"\n  mgmt_token = \"{value}\"\n"),
    );
    assert_eq!(after, expected);
    // Setting it again replaces the value's bytes only.
    team.set_token("prod", "apiv3_other");
    let again = team.sealed_value("name = \"prod\"");
    assert_eq!(
        String::from_utf8(team.file()).unwrap(),
        expected.replace(&value, &again)
    );
}

#[test]
fn seal_and_unseal_round_trip_and_unseal_asks_first() {
    let team = Team::new(1);
    let plaintext = PROFILES.replace(
        "  port = \"443\"\n",
        &format!("  port = \"443\"\n  mgmt_token = \"{TOKEN}\"\n"),
    );
    std::fs::write(&team.config, &plaintext).unwrap();
    team.sealctl(Some(0))
        .args(["seal", "--all"])
        .assert()
        .success()
        .stderr(predicate::str::contains("sealed 2 tokens"));
    let sealed = team.file();
    assert!(!leaks(&String::from_utf8_lossy(&sealed), TOKEN));
    team.sealctl(None)
        .args(["check"])
        .arg(&team.config)
        .assert()
        .success();
    // No terminal and no --yes: refused, unchanged.
    team.sealctl(Some(0))
        .args(["unseal", "--all"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    assert_eq!(team.file(), sealed);
    team.sealctl(Some(0))
        .args(["unseal", "--all", "--yes"])
        .assert()
        .success();
    let unsealed = String::from_utf8(team.file()).unwrap();
    assert!(unsealed.contains(&format!("mgmt_token = \"{TOKEN}\"")));
    assert_eq!(unsealed.matches(TOKEN).count(), 2);
}

#[test]
fn each_of_three_recipients_opens_it_and_a_removed_one_no_longer_does() {
    let team = Team::new(3);
    for (_, recipient) in &team.keys {
        team.sealctl(None)
            .args(["recipients", "add", recipient])
            .assert()
            .success();
    }
    team.set_token("prod", TOKEN);
    for key in 0..3 {
        team.sealctl(Some(key))
            .args(["--profile", "prod", "token", "get"])
            .assert()
            .success()
            .stdout(format!("{TOKEN}\n"));
    }
    team.sealctl(None)
        .args(["recipients", "rm", &team.keys[2].1])
        .assert()
        .success();
    // Stale until rekeyed, and check says so without any key.
    team.sealctl(None)
        .arg("check")
        .arg(&team.config)
        .assert()
        .success()
        .stdout(predicate::str::contains("warning[stale-recipients]"));
    team.sealctl(Some(0))
        .args(["rekey", "--all"])
        .assert()
        .success();
    team.sealctl(None)
        .arg("check")
        .arg(&team.config)
        .assert()
        .success()
        .stdout(predicate::str::contains("stale-recipients").not());
    team.sealctl(Some(1))
        .args(["--profile", "prod", "token", "get"])
        .assert()
        .success();
    team.sealctl(Some(2))
        .args(["--profile", "prod", "token", "get"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("none of the identities"));
}

#[test]
fn management_create_output_is_read_whole() {
    let team = Team::new(1);
    team.sealctl(None)
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    let table = format!(
        "+----+-------------+----------------------+\n| ID | DESCRIPTION | EXPIRES AT           |\n+----+-------------+----------------------+\n| 1  | ci          | 2031-02-01T00:00:00Z |\n+----+-------------+----------------------+\nWarning: store the token safely.\n\n{TOKEN}\n"
    );
    team.sealctl(None)
        .args(["--profile", "prod", "token", "set"])
        .write_stdin(table)
        .assert()
        .success();
    assert!(
        team.sealed_value("name = \"prod\"")
            .ends_with(";exp=2031-02-01T00:00:00Z")
    );
    let json = format!("{{\"id\":\"1\",\"token\":\"{TOKEN}\"}}");
    team.sealctl(None)
        .args(["token", "set", "--key", "token"])
        .write_stdin(json)
        .assert()
        .success();
    team.sealctl(Some(0))
        .args(["token", "get", "--key", "token"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
}

/// Runs a command that must fail: status 2, a message containing `expected`, no token in any
/// output, and the file byte for byte as before.
fn refused(team: &Team, command: &mut assert_cmd::Command, expected: &str) {
    let before = team.file();
    let output = command.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains(expected), "expected {expected:?} in: {all}");
    assert!(!leaks(&all, TOKEN), "the token leaked");
    assert_eq!(team.file(), before, "the file changed");
}

fn replace_value(team: &Team, from: &str, to: &str) {
    let text = String::from_utf8(team.file()).unwrap().replace(from, to);
    std::fs::write(&team.config, text).unwrap();
}

#[test]
fn bad_input_is_refused_and_the_file_is_unchanged() {
    let team = Team::new(2);
    team.sealctl(None)
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    team.set_token("prod", TOKEN);
    let value = team.sealed_value("name = \"prod\"");

    refused(
        &team,
        team.sealctl(Some(1))
            .args(["--profile", "prod", "token", "get"]),
        "none of the identities",
    );
    refused(
        &team,
        team.sealctl(None)
            .args(["--profile", "prod", "token", "get"]),
        "no identity to open sealed values with",
    );

    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(payload(&value))
        .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    let flipped = value.replace(
        &payload(&value),
        &base64::engine::general_purpose::STANDARD.encode(&bytes),
    );
    replace_value(&team, &value, &flipped);
    refused(
        &team,
        team.sealctl(Some(0))
            .args(["--profile", "prod", "token", "get"]),
        "damaged",
    );
    bytes.truncate(bytes.len() / 2);
    let truncated = value.replace(
        &payload(&value),
        &base64::engine::general_purpose::STANDARD.encode(&bytes),
    );
    replace_value(&team, &flipped, &truncated);
    refused(
        &team,
        team.sealctl(Some(0)).args(["--profile", "prod", "rekey"]),
        "damaged",
    );
    replace_value(
        &team,
        &truncated,
        &value.replacen("sealctl:v1:", "sealctl:v7:", 1),
    );
    refused(
        &team,
        team.sealctl(Some(0))
            .args(["--profile", "prod", "token", "get"]),
        "format version `v7`",
    );
    replace_value(
        &team,
        &value.replacen("sealctl:v1:", "sealctl:v7:", 1),
        &value,
    );

    // Moved into another profile: refused, naming both places.
    let text = String::from_utf8(team.file()).unwrap().replacen(
        "  port = \"443\"\n",
        &format!("  port = \"443\"\n  mgmt_token = \"{value}\"\n"),
        1,
    );
    std::fs::write(&team.config, text).unwrap();
    refused(
        &team,
        team.sealctl(Some(0))
            .args(["--profile", "default", "token", "get"]),
        "sealed for profile `prod` key `mgmt_token`, but it is in profile `default` key `mgmt_token`",
    );

    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&team.keys[0].0, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(
        &team,
        team.sealctl(Some(0))
            .args(["--profile", "prod", "token", "get"]),
        "chmod 600",
    );
    std::fs::set_permissions(&team.keys[0].0, std::fs::Permissions::from_mode(0o600)).unwrap();

    refused(
        &team,
        team.sealctl(None)
            .args(["--profile", "prod", "token", "set"])
            .write_stdin("apiv3_abc\ndef"),
        "line break",
    );
    refused(
        &team,
        team.sealctl(None)
            .args(["--profile", "prod", "token", "set"])
            .write_stdin("abc\ndef ghi"),
        "no token found",
    );
    refused(
        &team,
        team.sealctl(None)
            .args(["--profile", "prod", "token", "set"])
            .write_stdin("abc\0def"),
        "NUL byte",
    );
    refused(
        &team,
        team.sealctl(None)
            .args(["--profile", "nope", "token", "set"])
            .write_stdin(TOKEN),
        "no profile named `nope`",
    );
    refused(
        &team,
        team.sealctl(Some(0))
            .args(["--profile", "nope", "token", "get"]),
        "(it has: default, prod)",
    );
}

#[test]
fn identities_come_from_the_environment_and_are_never_overwritten() {
    let team = Team::new(1);
    team.sealctl(None)
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    team.set_token("prod", TOKEN);
    let text = std::fs::read_to_string(&team.keys[0].0).unwrap();
    team.sealctl(None)
        .env("SEALCTL_IDENTITY", &text)
        .args(["--profile", "prod", "token", "get"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
    team.sealctl(None)
        .env("SEALCTL_IDENTITY_FILE", &team.keys[0].0)
        .args(["--profile", "prod", "token", "get"])
        .assert()
        .success();
    team.sealctl(None)
        .args(["identity", "new", "--out"])
        .arg(&team.keys[0].0)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&team.keys[0].0).unwrap(), text);
}

#[test]
fn a_file_without_recipients_is_sealed_to_the_default_identity() {
    let env = TestEnv::new();
    let config = env.write("config.toml", PROFILES);
    let recipient = env.sealctl().args(["identity", "new"]).output().unwrap();
    let recipient = String::from_utf8(recipient.stdout).unwrap();
    assert!(Path::new(&env.home().join(".config/sealctl/identity.txt")).exists());
    env.sealctl()
        .arg("--config")
        .arg(&config)
        .args(["token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    env.sealctl()
        .arg("--config")
        .arg(&config)
        .args(["recipients", "list"])
        .assert()
        .success()
        .stdout(recipient);
    env.sealctl()
        .arg("--config")
        .arg(&config)
        .args(["token", "get"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
}

#[test]
fn ssh_rsa_keys_and_identity_files_with_several_keys_work() {
    let env = TestEnv::new();
    let config = env.write("config.toml", PROFILES);
    let rsa = env.home().join("id_rsa");
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "rsa",
            "-b",
            "2048",
            "-N",
            "",
            "-f",
            rsa.to_str().unwrap(),
        ],
        b"",
    );
    // Two age keys with comments in one file, as `age-keygen >> keys.txt` twice makes it.
    let keys = env.home().join("keys.txt");
    let first = run("age-keygen", &[], b"");
    let second = run("age-keygen", &[], b"");
    std::fs::write(&keys, [first, second.clone()].concat()).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let second_recipient = String::from_utf8(second)
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap();

    let sealctl = || {
        let mut command = env.sealctl();
        command.arg("--config").arg(&config);
        command
    };
    sealctl()
        .args(["recipients", "add"])
        .arg(rsa.with_extension("pub"))
        .arg(&second_recipient)
        .assert()
        .success();
    sealctl()
        .args(["recipients", "list"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ssh-rsa AAAA"));
    sealctl()
        .args(["token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    sealctl()
        .arg("--identity")
        .arg(&rsa)
        .args(["token", "get"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
    sealctl()
        .arg("--identity")
        .arg(&keys)
        .args(["token", "get"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
}

#[test]
fn concurrent_writers_lose_no_update() {
    const WRITERS: usize = 12;
    let team = Team::new(1);
    let profiles: String = (0..WRITERS)
        .map(|n| format!("[[profile]]\n  name = \"p{n}\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"443\"\n\n"))
        .collect();
    std::fs::write(&team.config, profiles).unwrap();
    team.sealctl(None)
        .args(["recipients", "add", &team.keys[0].1])
        .assert()
        .success();
    // Rekeys run among the writers: one that worked from a stale copy of the file would erase
    // a token set meanwhile.
    team.set_token("p0", &format!("{TOKEN}-0"));
    let rekeys: Vec<_> = (0..3)
        .map(|_| {
            let mut command = team.env.sealctl_process();
            command
                .arg("--config")
                .arg(&team.config)
                .arg("--identity")
                .arg(&team.keys[0].0)
                .args(["rekey", "--all"])
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let children: Vec<_> = (1..WRITERS)
        .map(|n| {
            let mut command = team.env.sealctl_process();
            command
                .arg("--config")
                .arg(&team.config)
                .args(["--profile", &format!("p{n}"), "token", "set"])
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn().unwrap();
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{TOKEN}-{n}").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children.into_iter().chain(rekeys) {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for n in 0..WRITERS {
        team.sealctl(Some(0))
            .args(["--profile", &format!("p{n}"), "token", "get"])
            .assert()
            .success()
            .stdout(format!("{TOKEN}-{n}\n"));
    }
}

#[test]
fn identity_show_and_recipients_from_a_file() {
    let team = Team::new(2);
    // `identity show` lists each identity found, with its recipient.
    team.sealctl(Some(0))
        .arg("--identity")
        .arg(&team.keys[1].0)
        .args(["identity", "show"])
        .assert()
        .success()
        .stdout(format!(
            "# {}\n{}\n# {}\n{}\n",
            team.keys[0].0.display(),
            team.keys[0].1,
            team.keys[1].0.display(),
            team.keys[1].1
        ));
    team.sealctl(None)
        .args(["identity", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sealctl identity new"));

    // An age recipients file, with comments, as teams keep them.
    let file = team.env.write(
        "team.txt",
        format!(
            "# the team\n{}\n\n# ci\n{}\n",
            team.keys[0].1, team.keys[1].1
        ),
    );
    team.sealctl(None)
        .args(["recipients", "add"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("added 2 recipients"));
    team.sealctl(None)
        .args(["recipients", "add"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing changed"));
    team.sealctl(None)
        .args(["recipients", "list"])
        .assert()
        .success()
        .stdout(format!("{}\n{}\n", team.keys[0].1, team.keys[1].1));
    team.sealctl(None)
        .args([
            "recipients",
            "rm",
            "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a recipient"));
    team.sealctl(None)
        .args(["recipients", "add", "not-a-key"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an age recipient"));
}
