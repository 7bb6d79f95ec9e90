//! `token rotate` and `token status` of `transit` and `kv` values: a real OpenBao server holds the
//! token, the influxctl stand-in (testing/fake-influxctl/management.rs) plays the cluster, whose
//! state file holds digests, never tokens.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use super::{Login, Team, stderr};
use crate::common::sha256;
use crate::rotate::{assert_no_token, entry, seed, tokens, works};

const OLD: &str = "M.V1.BaoOldManagementTokenForRotation0042";
const OLD_ID: &str = "44444444-4444-4444-8444-444444444444";
const ADMIN: &str = "M.V1.BaoSecondProfileTokenOfTheCluster0043";
const ADMIN_ID: &str = "55555555-5555-4555-8555-555555555555";

/// A team whose `prod` profile holds OLD in `backend`, with its id, and a cluster that knows it.
struct Rotation {
    team: Team,
    state: PathBuf,
}

impl Rotation {
    fn new(backend: &str) -> Rotation {
        let team = Team::new();
        let state = team.env.home().join("cluster.json");
        seed(&state, OLD, OLD_ID, 0, 0);
        team.set(
            &["--profile", "prod", "--backend", backend, "--id", OLD_ID],
            OLD,
        );
        Rotation { team, state }
    }

    fn sealctl(&self, login: &Login) -> assert_cmd::Command {
        let mut command = self.team.sealctl(login);
        command.env("FAKE_INFLUXCTL_STATE", &self.state);
        command
    }

    fn run(&self, login: &Login, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.sealctl(login);
        command.args(["--profile", "prod"]).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    }

    fn rotate(&self, login: &Login, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all = vec!["token", "rotate"];
        all.extend(args);
        let output = self.run(login, &all, env);
        assert_no_token(&output);
        output
    }

    /// The digest of the token `token get` opens, as root.
    fn recorded(&self) -> String {
        let output = self.run(&self.team.root_login(), &["token", "get"], &[]);
        assert!(output.status.success(), "{}", stderr(&output));
        sha256(String::from_utf8(output.stdout).unwrap().trim_end())
    }

    fn value(&self) -> String {
        self.team.value("prod", "mgmt_token")
    }

    /// The cluster's id of the token of this digest.
    fn id_of(&self, digest: &str) -> String {
        entry(&self.state, digest).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The kv secret's current version.
    fn kv_version(&self) -> u64 {
        let json = self.team.bao.bao_field([
            "kv",
            "metadata",
            "get",
            "-format=json",
            "secret/sealctl/prod",
        ]);
        serde_json::from_str::<Value>(&json).unwrap()["data"]["current_version"]
            .as_u64()
            .unwrap()
    }

    /// The digest of the kv secret's field at `version`.
    fn kv_digest(&self, version: u64) -> String {
        sha256(&self.team.bao.bao_field([
            "kv",
            "get",
            &format!("-version={version}"),
            "-field=mgmt_token",
            "secret/sealctl/prod",
        ]))
    }

    /// A token whose policy may read and open the values but not write them.
    fn read_only(&self) -> Login {
        let policy = self.team.env.write(
            "read-only.hcl",
            "path \"transit/decrypt/sealctl\" { capabilities = [\"update\"] }\n\
             path \"transit/keys/sealctl\" { capabilities = [\"read\"] }\n\
             path \"secret/data/sealctl/*\" { capabilities = [\"read\"] }\n\
             path \"secret/metadata/sealctl/*\" { capabilities = [\"read\"] }\n",
        );
        self.team.bao.bao([
            "policy",
            "write",
            "sealctl-read-only",
            policy.to_str().unwrap(),
        ]);
        Login::Token(self.team.bao.token("sealctl-read-only", "10m"))
    }

    /// After a rotation that worked: a new token recorded with its id, opened by `token get`,
    /// working in the cluster, and the old one revoked unless kept.
    fn assert_rotated(&self, output: &Output, old_kept: bool) -> String {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        let recorded = self.recorded();
        assert_ne!(recorded, sha256(OLD), "the old token is still recorded");
        assert!(works(&self.state, &recorded), "the new token does not work");
        let id = self.id_of(&recorded);
        assert!(
            self.value().contains(&format!(";id={id}")),
            "its id is not recorded: {}",
            self.value()
        );
        assert_eq!(works(&self.state, &sha256(OLD)), old_kept);
        recorded
    }

    /// A failed step: its exit status and message, and the old token still recorded and working.
    fn assert_old_kept(&self, output: &Output, status: i32, said: &str) {
        assert_eq!(output.status.code(), Some(status), "{}", stderr(output));
        assert!(stderr(output).contains(said), "{}", stderr(output));
        assert_eq!(self.recorded(), sha256(OLD));
        assert!(works(&self.state, &sha256(OLD)));
        let live: Vec<_> = tokens(&self.state)
            .iter()
            .filter(|t| works(&self.state, t["sha256"].as_str().unwrap()))
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(live, [OLD_ID], "a new token was left live");
    }
}

#[test]
fn rotate_a_transit_value_seals_the_new_token_to_the_same_place() {
    let rotation = Rotation::new("transit");
    let before = rotation.value();
    assert!(before.starts_with("sealctl:v1:transit:transit/sealctl/vault:v1:"));
    let output = rotation.rotate(&rotation.team.root_login(), &[], &[]);
    rotation.assert_rotated(&output, false);
    let after = rotation.value();
    assert!(
        after.starts_with("sealctl:v1:transit:transit/sealctl/vault:v1:"),
        "{after}"
    );
    assert_ne!(after, before);
    assert!(
        stderr(&output).contains(&format!("revoked the old token {OLD_ID}")),
        "{}",
        stderr(&output)
    );
    // Bound to the same place: moved to another profile, the server refuses it.
    let file = rotation.team.file();
    let moved = file.replace(&after, "MOVED").replacen(
        "port = \"443\"\n",
        &format!("port = \"443\"\n  mgmt_token = \"{after}\"\n"),
        1,
    );
    std::fs::write(&rotation.team.config, moved).unwrap();
    let get = rotation.run(
        &rotation.team.root_login(),
        &["--profile", "default", "token", "get"],
        &[],
    );
    assert_eq!(get.status.code(), Some(2), "{}", stderr(&get));
}

#[test]
fn rotate_a_transit_value_with_keep_old() {
    let rotation = Rotation::new("transit");
    let output = rotation.rotate(&rotation.team.root_login(), &["--keep-old"], &[]);
    rotation.assert_rotated(&output, true);
    assert!(stderr(&output).contains(OLD_ID), "{}", stderr(&output));
}

#[test]
fn rotate_a_kv_value_writes_a_new_version_of_the_same_field() {
    let rotation = Rotation::new("kv");
    assert_eq!(rotation.kv_version(), 1);
    let output = rotation.rotate(&rotation.team.root_login(), &[], &[]);
    let recorded = rotation.assert_rotated(&output, false);
    let value = rotation.value();
    assert!(
        value.starts_with("sealctl:v1:kv:secret:sealctl/prod#mgmt_token"),
        "{value}"
    );
    assert_eq!(rotation.kv_version(), 2, "{}", stderr(&output));
    assert_eq!(rotation.kv_digest(2), recorded);
    // The old version holds the old token, now revoked in the cluster.
    assert_eq!(rotation.kv_digest(1), sha256(OLD));
    assert!(!works(&rotation.state, &rotation.kv_digest(1)));
}

#[test]
fn rotate_a_kv_value_with_keep_old() {
    let rotation = Rotation::new("kv");
    let output = rotation.rotate(&rotation.team.root_login(), &["--keep-old"], &[]);
    let recorded = rotation.assert_rotated(&output, true);
    assert_eq!(rotation.kv_version(), 2);
    assert_eq!(rotation.kv_digest(2), recorded);
}

#[test]
fn an_old_token_that_cannot_be_revoked_leaves_the_new_one_recorded() {
    for backend in ["transit", "kv"] {
        let rotation = Rotation::new(backend);
        let output = rotation.rotate(
            &rotation.team.root_login(),
            &[],
            &[("FAKE_INFLUXCTL_FAIL", "revoke")],
        );
        assert_eq!(
            output.status.code(),
            Some(6),
            "{backend}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("management revoke --force {OLD_ID}")),
            "{}",
            stderr(&output)
        );
        let recorded = rotation.recorded();
        assert_ne!(recorded, sha256(OLD), "{backend}");
        assert!(works(&rotation.state, &recorded), "{backend}");
    }
}

#[test]
fn a_server_that_denies_writes_keeps_the_old_token_and_revokes_the_new() {
    for backend in ["transit", "kv"] {
        let rotation = Rotation::new(backend);
        let before = rotation.team.file();
        let read_only = rotation.read_only();
        // The read-only login opens the value.
        let get = rotation.run(&read_only, &["token", "get"], &[]);
        assert!(get.status.success(), "{backend}: {}", stderr(&get));
        let output = rotation.rotate(&read_only, &[], &[]);
        rotation.assert_old_kept(&output, 5, "the new token could not be recorded");
        assert!(
            stderr(&output).contains("permission denied"),
            "{}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("was revoked"),
            "{}",
            stderr(&output)
        );
        assert_eq!(rotation.team.file(), before, "{backend}");
        if backend == "kv" {
            assert_eq!(rotation.kv_version(), 1);
        }
    }
}

#[test]
fn a_failed_create_changes_nothing_in_the_file_or_the_server() {
    for backend in ["transit", "kv"] {
        let rotation = Rotation::new(backend);
        let before = rotation.team.file();
        let output = rotation.rotate(
            &rotation.team.root_login(),
            &[],
            &[("FAKE_INFLUXCTL_FAIL", "create")],
        );
        rotation.assert_old_kept(&output, 3, "could not create a new token");
        assert_eq!(rotation.team.file(), before, "{backend}");
        if backend == "kv" {
            assert_eq!(rotation.kv_version(), 1);
        }
    }
}

/// `token status --format json` and the human form for `prod`: the exit status, its JSON entry,
/// and the human text.
fn status(rotation: &Rotation) -> (i32, Value, String) {
    let root = rotation.team.root_login();
    let json = rotation.run(&root, &["token", "status", "--format", "json"], &[]);
    let human = rotation.run(&root, &["token", "status"], &[]);
    assert_no_token(&json);
    assert_no_token(&human);
    assert_eq!(json.status.code(), human.status.code());
    let value: Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", stderr(&json)));
    (
        json.status.code().unwrap(),
        value["profiles"][0].clone(),
        String::from_utf8_lossy(&human.stdout).into_owned(),
    )
}

#[test]
fn status_of_transit_and_kv_values_active_and_revoked() {
    for backend in ["transit", "kv"] {
        let rotation = Rotation::new(backend);
        let (code, state, human) = status(&rotation);
        assert_eq!(code, 0, "{backend}: {human}");
        assert_eq!(state["profile"], "prod", "{state}");
        assert_eq!(state["kept"], backend, "{state}");
        assert_eq!(state["id"], OLD_ID, "{state}");
        assert_eq!(state["cluster"]["state"], "active", "{state}");
        assert!(
            human.contains("prod") && human.contains("active"),
            "{human}"
        );

        // Rotated: the new token is the one status reports, active.
        let output = rotation.rotate(&rotation.team.root_login(), &[], &[]);
        let recorded = rotation.assert_rotated(&output, false);
        let (code, state, _) = status(&rotation);
        assert_eq!(code, 0, "{backend}: {state}");
        assert_eq!(state["id"], rotation.id_of(&recorded), "{state}");
        assert_eq!(state["cluster"]["state"], "active", "{state}");
        // Revoked: the cluster refuses the token, and another profile of the same cluster
        // (`default`, pointed at it, with a kv-held token of its own) sees it revoked.
        let file = rotation
            .team
            .file()
            .replace("h.example.com", "prod.example.com");
        std::fs::write(&rotation.team.config, file).unwrap();
        seed(&rotation.state, ADMIN, ADMIN_ID, 0, 0);
        rotation.team.set(
            &["--profile", "default", "--backend", "kv", "--id", ADMIN_ID],
            ADMIN,
        );
        let mut all = tokens(&rotation.state);
        for token in &mut all {
            if token["sha256"] == recorded.as_str() {
                token["revoked_at"] = 1_700_000_100u64.into();
            }
        }
        std::fs::write(
            &rotation.state,
            serde_json::json!({ "tokens": all }).to_string(),
        )
        .unwrap();
        let (code, state, human) = status(&rotation);
        assert_eq!(code, 1, "{backend}: {human}");
        assert_eq!(state["cluster"]["state"], "revoked", "{state}");
        assert!(human.contains("revoked"), "{human}");
    }
}

#[test]
fn rotate_a_kv_value_pinned_to_a_version_records_the_new_version() {
    let rotation = Rotation::new("kv");
    // Pinned to version 1, the version that holds OLD.
    let value = rotation.value();
    let pinned = value.replacen("#mgmt_token", "#mgmt_token@1", 1);
    let file = rotation.team.file().replace(&value, &pinned);
    std::fs::write(&rotation.team.config, file).unwrap();
    assert_eq!(rotation.recorded(), sha256(OLD));
    let output = rotation.rotate(&rotation.team.root_login(), &[], &[]);
    let recorded = rotation.assert_rotated(&output, false);
    assert_eq!(rotation.kv_version(), 2);
    assert_eq!(rotation.kv_digest(2), recorded);
    assert!(!rotation.value().contains("@1"), "{}", rotation.value());
}
