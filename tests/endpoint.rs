//! Sealed values are bound to where their token goes (product, host, port, Dedicated ids): a
//! changed endpoint is refused when opened, before any program starts, and seen by `check`
//! without a key; `rekey --rebind` is the one way to follow a move. With the real age, a real
//! gnome-keyring on a private bus, and the influxctl stand-in.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use predicates::prelude::*;

use crate::common::secret_service::SecretService;
use crate::common::{TestEnv, leaks, sha256};

const TOKEN: &str = "apiv3_BoundTo-Prod7Qx2Lm9";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with a default identity and influxctl's default file, prod's token sealed.
struct Team {
    env: TestEnv,
    config: PathBuf,
}

impl Team {
    fn new() -> Team {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        let team = Team { env, config };
        team.sealctl().args(["identity", "new"]).assert().success();
        team.sealctl()
            .args(["--profile", "prod", "token", "set"])
            .write_stdin(TOKEN)
            .assert()
            .success();
        team
    }

    fn sealctl(&self) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command.env("XDG_RUNTIME_DIR", self.runtime());
        command
    }

    fn runtime(&self) -> PathBuf {
        let runtime = self.env.home().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        runtime
    }

    fn identity(&self) -> PathBuf {
        self.env.home().join(".config/sealctl/identity.txt")
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// Changes the file as a teammate's commit would.
    fn edit(&self, from: &str, to: &str) {
        let text = self.file();
        assert!(text.contains(from), "`{from}` is not in the file");
        std::fs::write(&self.config, text.replacen(from, to, 1)).unwrap();
    }

    /// The value of `key` in profile `profile`.
    fn value(&self, profile: &str, key: &str) -> String {
        let text = self.file();
        let start = text.find(&format!("name = \"{profile}\"")).unwrap();
        let line = text[start..]
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{key} =")))
            .unwrap();
        line.split('"').nth(1).unwrap().to_owned()
    }

    /// `token get` of prod's management token, as it ran.
    fn get(&self) -> Output {
        self.sealctl()
            .args(["--profile", "prod", "token", "get"])
            .output()
            .unwrap()
    }

    /// `check` of the file, with no identity nor keyring anywhere near it.
    fn check(&self, extra: &[&str]) -> Output {
        let mut command = crate::common::command(env!("CARGO_BIN_EXE_sealctl"));
        command
            .env("HOME", self.env.home().join("elsewhere"))
            .arg("check")
            .args(extra)
            .arg(&self.config);
        command.output().unwrap()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The envelope inside an age value, decrypted by the reference `age`.
fn age_envelope(value: &str, identity: &Path) -> serde_json::Value {
    serde_json::from_str(&age_plaintext(value, identity)).unwrap()
}

/// The same, as the text `age -d` prints.
fn age_plaintext(value: &str, identity: &Path) -> String {
    let payload = value
        .strip_prefix("sealctl:v1:age:")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap();
    let output = assert_cmd::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .write_stdin(ciphertext)
        .output()
        .unwrap();
    assert!(output.status.success(), "age: {}", stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// The digest `ep=` holds, computed as docs/sealed-values.md says, by hand.
fn digest_of(endpoint_json: &str) -> String {
    sha256(endpoint_json)[..8].to_owned()
}

fn param<'v>(value: &'v str, name: &str) -> Option<&'v str> {
    value
        .split(';')
        .skip(1)
        .find_map(|param| param.strip_prefix(&format!("{name}=")))
}

/// A value with parameter `name` set to `to` (or removed).
fn with_param(value: &str, name: &str, to: Option<&str>) -> String {
    let mut parts: Vec<String> = value
        .split(';')
        .filter(|part| !part.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect();
    parts.extend(to.map(|to| format!("{name}={to}")));
    parts.join(";")
}

#[test]
fn the_envelope_names_the_endpoint_and_ep_is_its_digest() {
    let team = Team::new();
    let value = team.value("prod", "mgmt_token");
    let plaintext = age_plaintext(&value, &team.identity());
    let endpoint = r#"{"product":"clustered","host":"prod.example.com","port":"443"}"#;
    assert!(
        plaintext.starts_with(&format!(
            r#"{{"v":2,"profile":"prod","key":"mgmt_token","endpoint":{endpoint},"secret":""#
        )),
        "{}",
        plaintext.replace(TOKEN, "[token]")
    );
    let envelope: serde_json::Value = serde_json::from_str(&plaintext).unwrap();
    assert_eq!(sha256(envelope["secret"].as_str().unwrap()), sha256(TOKEN));
    assert_eq!(param(&value, "ep"), Some(digest_of(endpoint).as_str()));
    let checked = team.check(&["--deny-warnings"]);
    assert!(checked.status.success(), "{}", stdout(&checked));
}

#[test]
fn a_changed_host_is_refused_when_opened_and_seen_by_check_without_a_key() {
    let team = Team::new();
    team.edit("host = \"prod.example.com\"", "host = \"evil.example.com\"");
    let changed = team.file();

    let got = team.get();
    assert_eq!(got.status.code(), Some(2));
    assert!(got.stdout.is_empty());
    let message = stderr(&got);
    assert!(!leaks(&message, TOKEN));
    assert!(
        message.contains("error: profile `prod` key `mgmt_token` was sealed for clustered prod.example.com:443, but the profile now points at clustered evil.example.com:443"),
        "{message}"
    );
    assert!(
        message.contains("sealctl rekey --rebind --profile prod\n"),
        "{message}"
    );
    // Also through unseal, rename and move, and without changing the file.
    for args in [
        &["--profile", "prod", "unseal", "--yes"][..],
        &["profile", "rename", "prod", "live"],
        &["--profile", "prod", "token", "move", "--to", "keyring"],
        &["rekey", "--all"],
    ] {
        team.sealctl()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("but the profile now points at"));
        assert_eq!(team.file(), changed, "{args:?}");
    }

    let checked = team.check(&[]);
    assert_eq!(checked.status.code(), Some(1));
    let report = stdout(&checked);
    assert!(report.contains("error[endpoint-changed]"), "{report}");
    assert!(
        report.contains("clustered evil.example.com:443"),
        "{report}"
    );
    // `check` runs here with another HOME: the file it checked is named.
    let rebind = format!(
        "sealctl rekey --rebind --config {} --profile prod",
        team.config.display()
    );
    assert!(report.contains(&rebind), "{report}");
}

#[test]
fn editing_or_removing_ep_does_not_open_it_for_the_new_host() {
    let team = Team::new();
    team.edit("host = \"prod.example.com\"", "host = \"evil.example.com\"");
    let value = team.value("prod", "mgmt_token");
    let evil = digest_of(r#"{"product":"clustered","host":"evil.example.com","port":"443"}"#);

    // `ep=` forged to match the new host: `check` is fooled, opening is not.
    team.edit(&value, &with_param(&value, "ep", Some(&evil)));
    let checked = team.check(&["--format", "json"]);
    assert!(checked.status.success(), "{}", stdout(&checked));
    let got = team.get();
    assert_eq!(got.status.code(), Some(2));
    assert!(stderr(&got).contains("was sealed for clustered prod.example.com:443"));

    // `ep=` removed: `check` warns unbound, opening still judges by what is sealed inside.
    let forged = team.value("prod", "mgmt_token");
    team.edit(&forged, &with_param(&value, "ep", None));
    let checked = team.check(&[]);
    assert!(stdout(&checked).contains("warning[unbound]"));
    let got = team.get();
    assert_eq!(got.status.code(), Some(2));
    assert!(stderr(&got).contains("was sealed for clustered prod.example.com:443"));

    // Back on the right host, a value whose `ep=` alone was edited is refused too: `check` and
    // opening never disagree.
    team.edit("host = \"evil.example.com\"", "host = \"prod.example.com\"");
    let stripped = team.value("prod", "mgmt_token");
    team.edit(&stripped, &with_param(&value, "ep", Some(&evil)));
    let got = team.get();
    assert_eq!(got.status.code(), Some(2));
    assert!(
        stderr(&got).contains("the value was edited"),
        "{}",
        stderr(&got)
    );
    assert_eq!(team.check(&[]).status.code(), Some(1));
}

#[test]
fn spellings_of_the_same_endpoint_are_not_a_move() {
    let team = Team::new();
    team.edit(
        "host = \"prod.example.com\"\n  port = \"443\"",
        "host = \"PROD.Example.COM\"\n  port = \"0443\"",
    );
    let got = team.get();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(sha256(stdout(&got).trim_end()), sha256(TOKEN));
    assert!(stderr(&got).is_empty(), "{}", stderr(&got));
    let checked = team.check(&["--deny-warnings"]);
    assert!(checked.status.success(), "{}", stdout(&checked));
    // Another port is a move.
    team.edit("port = \"0443\"", "port = \"8443\"");
    assert_eq!(team.get().status.code(), Some(2));
}

#[test]
fn rekey_rebind_follows_a_move_and_plain_rekey_keeps_the_binding() {
    let team = Team::new();
    team.sealctl()
        .args(["--profile", "default", "token", "set"])
        .write_stdin("apiv3_default-token-XyZ")
        .assert()
        .success();
    team.edit("host = \"prod.example.com\"", "host = \"new.example.com\"");
    let moved = team.file();
    team.sealctl()
        .args(["rekey", "--all"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rekey --rebind --profile prod"));
    assert_eq!(team.file(), moved);

    // No identity: nothing is re-bound.
    team.sealctl()
        .env("SEALCTL_IDENTITY_FILE", team.env.home().join("missing.txt"))
        .args(["--profile", "prod", "rekey", "--rebind"])
        .assert()
        .code(2);
    assert_eq!(team.file(), moved);

    let default_before = team.value("default", "mgmt_token");
    team.sealctl()
        .args(["--profile", "prod", "rekey", "--rebind"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "profile `prod` key `mgmt_token` moved from clustered prod.example.com:443 to clustered new.example.com:443",
        ));
    assert_eq!(
        team.value("default", "mgmt_token"),
        default_before,
        "--profile prod re-binds prod only"
    );
    let value = team.value("prod", "mgmt_token");
    let envelope = age_envelope(&value, &team.identity());
    assert_eq!(envelope["endpoint"]["host"], "new.example.com");
    let got = team.get();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(sha256(stdout(&got).trim_end()), sha256(TOKEN));
    let checked = team.check(&["--deny-warnings"]);
    assert!(checked.status.success(), "{}", stdout(&checked));

    // Plain rekey re-seals with the binding as it is.
    team.sealctl().args(["rekey", "--all"]).assert().success();
    let envelope = age_envelope(&team.value("prod", "mgmt_token"), &team.identity());
    assert_eq!(envelope["endpoint"]["host"], "new.example.com");
}

/// A value as sealctl 0.1 wrote it: a version 1 envelope, no `ep=`.
fn version_1_value(team: &Team, profile: &str, token: &str) -> String {
    let identity = std::fs::read_to_string(team.identity()).unwrap();
    let recipient = identity
        .lines()
        .find_map(|line| line.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let envelope = format!(
        "{{\"v\":1,\"profile\":\"{profile}\",\"key\":\"mgmt_token\",\"secret\":\"{token}\"}}"
    );
    let output = assert_cmd::Command::new("age")
        .args(["-r", &recipient])
        .write_stdin(envelope)
        .output()
        .unwrap();
    assert!(output.status.success());
    format!(
        "sealctl:v1:age:{}",
        base64::engine::general_purpose::STANDARD.encode(&output.stdout)
    )
}

#[test]
fn values_sealed_by_the_previous_version_open_are_reported_unbound_and_bind() {
    let team = Team::new();
    let bound = team.value("prod", "mgmt_token");
    let old = version_1_value(&team, "prod", TOKEN);
    team.edit(&bound, &old);

    let got = team.get();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(sha256(stdout(&got).trim_end()), sha256(TOKEN));
    let warning = stderr(&got);
    assert!(
        warning.contains("warning: profile `prod` key `mgmt_token` is not bound to an endpoint"),
        "{warning}"
    );
    assert!(warning.contains("sealctl rekey --rebind --profile prod"));

    let checked = team.check(&[]);
    assert!(checked.status.success());
    let report = stdout(&checked);
    assert!(report.contains("warning[unbound]"), "{report}");
    assert!(
        report.contains(&format!(
            "sealctl rekey --rebind --config {} --profile prod",
            team.config.display()
        )),
        "{report}"
    );
    assert_eq!(team.check(&["--deny-warnings"]).status.code(), Some(1));

    // An old value with a forged `ep=`, to pass `check` quietly, is refused.
    let forged = with_param(&old, "ep", param(&bound, "ep"));
    team.edit(&old, &forged);
    assert!(team.check(&["--deny-warnings"]).status.success());
    let got = team.get();
    assert_eq!(got.status.code(), Some(2));
    assert!(stderr(&got).contains("not bound to any endpoint"));
    team.edit(&forged, &old);

    team.sealctl()
        .args(["--profile", "prod", "rekey", "--rebind"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "was not bound to an endpoint; it is bound to clustered prod.example.com:443 now",
        ));
    let value = team.value("prod", "mgmt_token");
    assert_eq!(age_envelope(&value, &team.identity())["v"], 2);
    assert!(team.check(&["--deny-warnings"]).status.success());
    let got = team.get();
    assert!(stderr(&got).is_empty(), "{}", stderr(&got));
}

#[test]
fn every_command_that_seals_writes_bound_values() {
    let team = Team::new();
    let bound = |team: &Team, profile: &str| {
        let value = team.value(profile, "mgmt_token");
        assert!(param(&value, "ep").is_some(), "{profile}: {value}");
        age_envelope(&value, &team.identity())
    };
    // token set (in Team::new), rename, seal --all, rekey, profile add.
    assert_eq!(bound(&team, "prod")["v"], 2);
    team.sealctl()
        .args(["profile", "rename", "prod", "live"])
        .assert()
        .success();
    let envelope = bound(&team, "live");
    assert_eq!(envelope["profile"], "live");
    assert_eq!(envelope["endpoint"]["host"], "prod.example.com");

    team.edit(
        "host = \"h.example.com\"\n  port = \"443\"",
        "host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"apiv3_plain-Tok3n\"",
    );
    team.sealctl().args(["seal", "--all"]).assert().success();
    assert_eq!(bound(&team, "default")["endpoint"]["host"], "h.example.com");
    team.sealctl().args(["rekey", "--all"]).assert().success();
    assert_eq!(bound(&team, "default")["v"], 2);

    let account = "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11";
    let cluster = "11111111-2222-3333-4444-555555555555";
    team.sealctl()
        .args([
            "profile",
            "add",
            "--name",
            "cloud",
            "--product",
            "dedicated",
            "--account-id",
            account,
            "--cluster-id",
            cluster,
            "--token-stdin",
        ])
        .write_stdin("apiv3_cloud-Tok3n")
        .assert()
        .success();
    let envelope = bound(&team, "cloud");
    let endpoint: serde_json::Value = serde_json::from_str(&format!(
        r#"{{"product":"dedicated","port":"443","account_id":"{account}","cluster_id":"{cluster}"}}"#
    ))
    .unwrap();
    assert_eq!(envelope["endpoint"], endpoint);
    assert!(team.check(&["--deny-warnings"]).status.success());

    // A Dedicated profile moved to another cluster is refused.
    team.edit(cluster, "22222222-2222-3333-4444-555555555555");
    let got = team
        .sealctl()
        .args(["--profile", "cloud", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(2));
    assert!(
        stderr(&got).contains(&format!("was sealed for dedicated account {account}, cluster {cluster}, but the profile now points at dedicated account {account}, cluster 22222222-2222-3333-4444-555555555555")),
        "{}",
        stderr(&got)
    );
}

#[test]
fn keyring_values_are_bound_and_rebind_follows_a_move() {
    let bus = SecretService::start();
    let team = Team::new();
    let keyring = |team: &Team| {
        let mut command = team.sealctl();
        command.env("DBUS_SESSION_BUS_ADDRESS", bus.address());
        command
    };
    keyring(&team)
        .args(["--profile", "prod", "token", "move", "--to", "keyring"])
        .assert()
        .success();
    let value = team.value("prod", "mgmt_token");
    assert!(
        value.starts_with("sealctl:v1:keyring:secret-service/"),
        "{value}"
    );
    let endpoint = r#"{"product":"clustered","host":"prod.example.com","port":"443"}"#;
    assert_eq!(param(&value, "ep"), Some(digest_of(endpoint).as_str()));
    let id = |value: &str| {
        value
            .split(';')
            .next()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let lookup = |id: &str| bus.secret_tool(&["lookup", "service", "sealctl", "username", id], "");
    let held = String::from_utf8(lookup(&id(&value)).stdout).unwrap();
    assert!(
        held.starts_with(&format!(
            r#"{{"v":2,"profile":"prod","key":"mgmt_token","endpoint":{endpoint},"#
        )),
        "{}",
        held.replace(TOKEN, "[token]")
    );

    team.edit("host = \"prod.example.com\"", "host = \"evil.example.com\"");
    let moved = team.file();
    let got = keyring(&team)
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(2));
    assert!(stderr(&got).contains("but the profile now points at clustered evil.example.com:443"));
    assert!(stdout(&team.check(&[])).contains("error[endpoint-changed]"));
    // Plain rekey leaves keyring values as they are: still refused.
    keyring(&team).args(["rekey", "--all"]).assert().success();
    assert_eq!(team.file(), moved);

    keyring(&team)
        .args(["--profile", "prod", "rekey", "--rebind"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "moved from clustered prod.example.com:443 to clustered evil.example.com:443",
        ));
    let rebound = team.value("prod", "mgmt_token");
    assert!(rebound.starts_with("sealctl:v1:keyring:secret-service/"));
    assert_ne!(id(&rebound), id(&value));
    assert!(
        !lookup(&id(&value)).status.success(),
        "the old entry is gone"
    );
    let held: serde_json::Value = serde_json::from_slice(&lookup(&id(&rebound)).stdout).unwrap();
    assert_eq!(held["endpoint"]["host"], "evil.example.com");
    let got = keyring(&team)
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(sha256(stdout(&got).trim_end()), sha256(TOKEN));
    assert!(team.check(&["--deny-warnings"]).status.success());

    // And back to age, still bound.
    keyring(&team)
        .args(["--profile", "prod", "token", "move", "--to", "age"])
        .assert()
        .success();
    let envelope = age_envelope(&team.value("prod", "mgmt_token"), &team.identity());
    assert_eq!(envelope["endpoint"]["host"], "evil.example.com");
}

#[cfg(feature = "test-fakes")]
#[test]
fn exec_of_a_moved_host_never_starts_the_program() {
    let team = Team::new();
    // influxctl on PATH: the stand-in, behind a script that leaves a mark when it starts.
    let bin = team.env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = team.env.home().join("started");
    let script = bin.join("influxctl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            env!("CARGO_BIN_EXE_fake-influxctl")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let exec = |args: &[&str]| {
        team.sealctl()
            .env("PATH", &path)
            .arg("exec")
            .args(args)
            .output()
            .unwrap()
    };

    let ran = exec(&["--", "influxctl", "--profile", "prod", "report"]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    let report: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(report["mgmt_token_sha256"], sha256(TOKEN));
    std::fs::remove_file(&marker).unwrap();

    // influxctl's --account and --cluster override a Dedicated profile's ids, which its tokens
    // are bound to.
    let cluster = "11111111-2222-3333-4444-555555555555";
    team.sealctl()
        .args([
            "profile",
            "add",
            "--name",
            "cloud",
            "--product",
            "dedicated",
        ])
        .args(["--account-id", "0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11"])
        .args(["--cluster-id", cluster, "--token-stdin"])
        .write_stdin("apiv3_cloud-Tok3n")
        .assert()
        .success();
    for args in [
        &[
            "--",
            "influxctl",
            "--profile",
            "cloud",
            "--cluster",
            "99999999-2222-3333-4444-555555555555",
            "report",
        ][..],
        &[
            "--",
            "influxctl",
            "--account=99999999-57b1-4e39-9b1a-3f1e0c4e2a11",
            "--profile",
            "cloud",
            "report",
        ],
    ] {
        let refused = exec(args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        assert!(stderr(&refused).contains("that profile `cloud`'s tokens are sealed for"));
        assert!(!marker.exists(), "influxctl was started: {args:?}");
    }
    let upper = cluster.to_uppercase();
    let ran = exec(&[
        "--",
        "influxctl",
        "--profile",
        "cloud",
        "--cluster",
        &upper,
        "report",
    ]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    std::fs::remove_file(&marker).unwrap();

    team.edit("host = \"prod.example.com\"", "host = \"evil.example.com\"");
    for args in [
        &["--", "influxctl", "--profile", "prod", "report"][..],
        &[
            "--profile",
            "prod",
            "--env",
            "T=mgmt_token",
            "--",
            "influxctl",
            "report",
        ],
    ] {
        let refused = exec(args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let message = stderr(&refused);
        assert!(message.contains("the program was not started"), "{message}");
        assert!(
            message.contains("sealctl rekey --rebind --profile prod"),
            "{message}"
        );
        assert!(!marker.exists(), "influxctl was started: {args:?}");
    }

    team.sealctl()
        .args(["--profile", "prod", "rekey", "--rebind"])
        .assert()
        .success();
    let ran = exec(&["--", "influxctl", "--profile", "prod", "report"]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    let report: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(report["mgmt_token_sha256"], sha256(TOKEN));
}
