//! `sealctl token rotate` and `token status` against the stateful influxctl stand-in
//! (testing/fake-influxctl/management.rs): the cluster's state is a file the test seeds and reads,
//! holding digests of tokens, never tokens. Tokens never appear in a failure message: tests
//! compare digests.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::common::secret_service::SecretService;
use crate::common::{TestEnv, sha256};

pub const OLD: &str = "M.V1.+5JkOldManagementTokenForRotation01";
const OLD_ID: &str = "11111111-1111-4111-8111-111111111111";
const ADMIN: &str = "M.V1.AdMnSecondProfileTokenOfTheCluster02";
const ADMIN_ID: &str = "22222222-2222-4222-8222-222222222222";

const PROFILES: &str = "# team profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"admin\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with a profile file, an identity, and a stand-in cluster.
pub struct Cluster {
    pub env: TestEnv,
    pub config: PathBuf,
    pub state: PathBuf,
    pub bus: Option<SecretService>,
}

impl Cluster {
    /// The cluster knows OLD (id OLD_ID) and ADMIN; `default` holds OLD sealed with age, with
    /// its id recorded unless `with_id` is false.
    pub fn new(with_id: bool) -> Cluster {
        Cluster::with_backend(with_id, None)
    }

    fn with_backend(with_id: bool, bus: Option<SecretService>) -> Cluster {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        let state = env.home().join("cluster.json");
        let cluster = Cluster {
            env,
            config,
            state,
            bus,
        };
        cluster.seed(OLD, OLD_ID, 0, 0);
        cluster.seed(ADMIN, ADMIN_ID, 0, 0);
        cluster
            .sealctl()
            .args(["identity", "new"])
            .assert()
            .success();
        let mut set = vec!["--profile", "default", "token", "set"];
        if with_id {
            set.extend(["--id", OLD_ID]);
        }
        if cluster.bus.is_some() {
            set.extend(["--backend", "keyring", "--keyring-store", "secret-service"]);
        }
        cluster
            .sealctl()
            .args(&set)
            .write_stdin(OLD)
            .assert()
            .success();
        cluster
            .sealctl()
            .args(["--profile", "admin", "token", "set", "--id", ADMIN_ID])
            .write_stdin(ADMIN)
            .assert()
            .success();
        cluster
    }

    /// Adds a token to the cluster (times in Unix seconds, 0 for none).
    pub fn seed(&self, token: &str, id: &str, expires_at: u64, revoked_at: u64) {
        seed(&self.state, token, id, expires_at, revoked_at);
    }

    pub fn tokens(&self) -> Vec<Value> {
        tokens(&self.state)
    }

    /// The cluster's entry for a token digest.
    pub fn entry(&self, digest: &str) -> Option<Value> {
        entry(&self.state, digest)
    }

    /// Whether the token of this digest works: known, not revoked, not expired.
    pub fn works(&self, digest: &str) -> bool {
        works(&self.state, digest)
    }

    /// The ids of the live tokens.
    pub fn live_ids(&self) -> Vec<String> {
        self.tokens()
            .iter()
            .filter(|t| self.works(t["sha256"].as_str().unwrap()))
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn sealctl(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.sealctl_process())
    }

    pub fn sealctl_process(&self) -> std::process::Command {
        let mut command = self.env.sealctl_process();
        command
            .env("FAKE_INFLUXCTL_STATE", &self.state)
            .env("SEALCTL_INFLUXCTL", env!("CARGO_BIN_EXE_fake-influxctl"));
        if let Some(bus) = &self.bus {
            let runtime = self.env.home().join("runtime");
            std::fs::create_dir_all(&runtime).unwrap();
            command
                .env("XDG_RUNTIME_DIR", runtime)
                .env("DBUS_SESSION_BUS_ADDRESS", bus.address());
        }
        command
    }

    /// The digest of the token recorded for `profile`.
    pub fn recorded(&self, profile: &str) -> String {
        let output = self
            .sealctl()
            .args(["--profile", profile, "token", "get"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        sha256(String::from_utf8(output.stdout).unwrap().trim_end())
    }

    pub fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    pub fn rotate(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.sealctl();
        command.args(["token", "rotate"]).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    }
}

/// Adds a token to the stand-in's state file `state` (times in Unix seconds, 0 for none).
pub(crate) fn seed(state: &Path, token: &str, id: &str, expires_at: u64, revoked_at: u64) {
    let mut tokens = tokens(state);
    tokens.push(json!({
        "id": id, "description": "seeded", "prefix": &token[..9], "sha256": sha256(token),
        "created_at": 1_700_000_000u64, "expires_at": expires_at, "revoked_at": revoked_at,
        "pending": 0,
    }));
    std::fs::write(state, json!({ "tokens": tokens }).to_string()).unwrap();
}

/// The tokens of the stand-in's state file `state`.
pub(crate) fn tokens(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state)
        .ok()
        .map(|text| serde_json::from_str::<Value>(&text).unwrap()["tokens"].clone())
        .and_then(|tokens| tokens.as_array().cloned())
        .unwrap_or_default()
}

/// The entry of `state` for a token digest.
pub(crate) fn entry(state: &Path, digest: &str) -> Option<Value> {
    tokens(state).into_iter().find(|t| t["sha256"] == digest)
}

/// Whether the token of this digest works in `state`: known, not revoked, not expired.
pub(crate) fn works(state: &Path, digest: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    entry(state, digest).is_some_and(|t| {
        t["revoked_at"] == 0 && (t["expires_at"] == 0 || t["expires_at"].as_u64().unwrap() > now)
    })
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No management token in what sealctl said: none of the known ones, and nothing in their form.
pub fn assert_no_token(output: &Output) {
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(
        !said.contains("M.V1."),
        "a token was printed ({} bytes)",
        said.len()
    );
}

/// After a rotation that worked: the recorded token is a new one that works, with its id, and
/// the old one is revoked unless kept.
fn assert_rotated(cluster: &Cluster, output: &Output, old_kept: bool) {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_no_token(output);
    let recorded = cluster.recorded("default");
    assert_ne!(recorded, sha256(OLD), "the old token is still recorded");
    assert!(cluster.works(&recorded), "the recorded token does not work");
    let id = cluster.entry(&recorded).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cluster.file().contains(&format!(";id={id}")),
        "its id is not recorded"
    );
    assert_eq!(cluster.works(&sha256(OLD)), old_kept);
    assert!(
        cluster.works(&sha256(ADMIN)),
        "another profile's token was touched"
    );
}

#[test]
fn rotate_with_json_output_records_the_new_token_and_revokes_the_old() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&["--expires-in", "90d"], &[]);
    assert_rotated(&cluster, &output, false);
    assert!(
        cluster.file().contains(";exp="),
        "its expiry is not recorded"
    );
    assert!(text(&output.stderr).contains(&format!("revoked the old token {OLD_ID}")));
}

#[test]
fn rotate_with_the_table_output_of_influxctl_2_11() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&[], &[("FAKE_INFLUXCTL_CREATE_FORMAT", "table")]);
    assert_rotated(&cluster, &output, false);
}

#[test]
fn rotate_with_an_influxctl_before_2_11_finds_the_new_id_by_prefix() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&[], &[("FAKE_INFLUXCTL_RELEASE", "2.10.3")]);
    assert_rotated(&cluster, &output, false);
}

#[test]
fn keep_old_leaves_the_old_token_live_and_names_it() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&["--keep-old"], &[]);
    assert_rotated(&cluster, &output, true);
    assert!(text(&output.stderr).contains(OLD_ID));
}

#[test]
fn without_a_recorded_id_the_old_token_is_found_by_its_prefix() {
    let cluster = Cluster::new(false);
    // Only `admin`'s value records an id.
    assert_eq!(cluster.file().matches(";id=").count(), 1);
    let output = cluster.rotate(&[], &[]);
    assert_rotated(&cluster, &output, false);
}

#[test]
fn a_token_not_yet_active_is_waited_for() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&[], &[("FAKE_INFLUXCTL_ACTIVATION", "2")]);
    assert_rotated(&cluster, &output, false);
    assert!(text(&output.stderr).contains("does not work yet"));
}

/// A failed step: its exit status, and the old token still recorded and working, the file as
/// it was, and no new token left live.
fn assert_failed_cleanly(cluster: &Cluster, output: &Output, status: i32, said: &str) {
    assert_eq!(
        output.status.code(),
        Some(status),
        "{}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains(said),
        "{}",
        text(&output.stderr)
    );
    assert_no_token(output);
    assert_eq!(cluster.recorded("default"), sha256(OLD));
    assert!(cluster.works(&sha256(OLD)));
    let mut live = cluster.live_ids();
    live.sort();
    assert_eq!(live, [OLD_ID, ADMIN_ID], "a new token was left live");
}

#[test]
fn a_failed_create_changes_nothing() {
    let cluster = Cluster::new(true);
    let before = cluster.file();
    let output = cluster.rotate(&[], &[("FAKE_INFLUXCTL_FAIL", "create")]);
    assert_failed_cleanly(&cluster, &output, 3, "could not create a new token");
    assert_eq!(cluster.file(), before);
}

#[test]
fn a_new_token_that_never_works_is_revoked_and_the_old_one_kept() {
    let cluster = Cluster::new(true);
    let before = cluster.file();
    let output = cluster.rotate(
        &["--wait-active", "0s"],
        &[("FAKE_INFLUXCTL_ACTIVATION", "5")],
    );
    assert_failed_cleanly(&cluster, &output, 4, "did not work within");
    assert!(text(&output.stderr).contains("was revoked"));
    assert_eq!(cluster.file(), before);
    // The same when the check itself fails.
    let output = cluster.rotate(&["--wait-active", "0s"], &[("FAKE_INFLUXCTL_FAIL", "list")]);
    assert_failed_cleanly(&cluster, &output, 4, "did not work within");
    assert_eq!(cluster.file(), before);
}

#[test]
fn a_read_only_file_is_refused_before_any_token_is_made() {
    let cluster = Cluster::new(true);
    let before = cluster.file();
    let mut permissions = std::fs::metadata(&cluster.config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o400);
    std::fs::set_permissions(&cluster.config, permissions).unwrap();
    let output = cluster.rotate(&[], &[]);
    assert_failed_cleanly(&cluster, &output, 2, "");
    assert_eq!(cluster.file(), before);
}

#[test]
fn an_old_token_that_cannot_be_revoked_is_named_and_revoked_by_the_next_rotate() {
    let cluster = Cluster::new(true);
    let output = cluster.rotate(&[], &[("FAKE_INFLUXCTL_FAIL", "revoke")]);
    assert_eq!(output.status.code(), Some(6), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains(&format!("management revoke --force {OLD_ID}")));
    let recorded = cluster.recorded("default");
    assert!(cluster.works(&recorded) && recorded != sha256(OLD));
    // status says so, and fails, until it is revoked.
    let status = cluster
        .sealctl()
        .args(["token", "status"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "{}", text(&status.stderr));
    assert!(text(&status.stdout).contains(OLD_ID));
    let output = cluster.rotate(&[], &[]);
    assert_rotated(&cluster, &output, false);
    assert!(text(&output.stderr).contains(&format!("revoked token {OLD_ID}")));
}

#[test]
fn dry_run_runs_and_changes_nothing() {
    let cluster = Cluster::new(true);
    let (file, state) = (cluster.file(), std::fs::read(&cluster.state).unwrap());
    let output = cluster.rotate(&["--dry-run", "--expires-in", "30d"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let said = text(&output.stdout);
    assert!(said.contains("management create --format json"), "{said}");
    assert!(said.contains(&format!("revoke --force {OLD_ID}")), "{said}");
    assert_eq!(cluster.file(), file);
    assert_eq!(std::fs::read(&cluster.state).unwrap(), state);
}

#[test]
fn rotate_a_keyring_value_keeps_it_in_the_keyring() {
    let cluster = Cluster::with_backend(true, Some(SecretService::start()));
    assert!(cluster.file().contains("sealctl:v1:keyring:"));
    let output = cluster.rotate(&[], &[]);
    assert_rotated(&cluster, &output, false);
    let file = cluster.file();
    let value = file
        .lines()
        .find(|line| line.trim_start().starts_with("mgmt_token"))
        .unwrap();
    assert!(value.contains("sealctl:v1:keyring:"), "{value}");
}

#[test]
fn a_profile_without_a_management_token_rotates_through_influxctls_login() {
    let cluster = Cluster::new(true);
    cluster
        .sealctl()
        .args(["--profile", "default", "token", "rm"])
        .assert()
        .success();
    let output = cluster
        .sealctl()
        .args(["token", "rotate"])
        .write_stdin("approve\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("enter the code"));
    let recorded = cluster.recorded("default");
    assert!(cluster.works(&recorded));
    // Refused login: nothing made.
    cluster
        .sealctl()
        .args(["--profile", "admin", "token", "rm"])
        .assert()
        .success();
    let output = cluster
        .sealctl()
        .args(["--profile", "admin", "token", "rotate"])
        .write_stdin("no\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
}

#[test]
fn id_metadata_is_checked_set_and_shown() {
    let cluster = Cluster::new(true);
    cluster
        .sealctl()
        .args(["token", "set", "--id", "not an id"])
        .write_stdin(OLD)
        .assert()
        .code(2);
    let list = cluster
        .sealctl()
        .args(["profile", "list"])
        .output()
        .unwrap();
    assert!(
        text(&list.stdout).contains(&format!("id {OLD_ID}")),
        "{}",
        text(&list.stdout)
    );
    // An id edited into something else is malformed, for check and for opening alike.
    let file = cluster.file().replace(&format!(";id={OLD_ID}"), ";id=../x");
    std::fs::write(&cluster.config, file).unwrap();
    let check = cluster.sealctl().arg("check").output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check.stdout).contains("malformed-sealed"),
        "{}",
        text(&check.stdout)
    );
    cluster.sealctl().args(["token", "get"]).assert().code(2);
}

#[test]
fn the_id_in_piped_create_output_is_recorded() {
    let cluster = Cluster::new(true);
    let id = "6b4d4a39-8a28-4f0d-9a0e-8f6f0a1b2c3d";
    let table = format!(
        "+-------------+--------------------------------------+\n|          id | {id} |\n| description | piped                                |\n|  expires at |                                      |\n|  revoked at |                                      |\n+-------------+--------------------------------------+\nwarn\tplease copy the token and store in a safe place\nwarn\tthis is the *only time* you will see the token\n{OLD}\n"
    );
    cluster
        .sealctl()
        .args(["token", "set"])
        .write_stdin(table)
        .assert()
        .success();
    assert!(cluster.file().contains(&format!(";id={id}")));
    // --id wins over the input's.
    cluster
        .sealctl()
        .args(["token", "set", "--id", OLD_ID])
        .write_stdin(format!("{{\"id\":\"{id}\",\"token\":\"{OLD}\"}}"))
        .assert()
        .success();
    assert!(cluster.file().contains(&format!(";id={OLD_ID}")));
    assert!(!cluster.file().contains(id));
}

#[test]
fn a_token_that_cannot_be_opened_stops_rotate_before_anything_is_made() {
    let cluster = Cluster::new(true);
    let (file, state) = (cluster.file(), std::fs::read(&cluster.state).unwrap());
    std::fs::remove_file(cluster.env.home().join(".config/sealctl/identity.txt")).unwrap();
    let output = cluster.rotate(&[], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("nothing was changed"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(cluster.file(), file);
    assert_eq!(std::fs::read(&cluster.state).unwrap(), state);
    // status says it cannot open it, and fails.
    let status = cluster
        .sealctl()
        .args(["token", "status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains("\"unopened\""),
        "{}",
        text(&status.stdout)
    );
}
