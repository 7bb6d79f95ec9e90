//! `sealctl token status` against the influxctl stand-in, and `token rotate` killed with SIGKILL
//! at every step: afterwards the recorded token works, and every live token that is not
//! recorded is named by id by the next `token status`.

use std::time::Duration;

use serde_json::Value;

use crate::common::sha256;
use crate::rotate::{Cluster, assert_no_token, text};

const OTHER: &str = "M.V1.OtHrTokenWhoseStateTheTestChooses003";
const OTHER_ID: &str = "33333333-3333-4333-8333-333333333333";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A cluster whose `default` profile holds OTHER, in the state given (expiry, revocation).
fn cluster_with(expires_at: u64, revoked_at: u64, id: &str) -> Cluster {
    let cluster = Cluster::new(true);
    cluster.seed(OTHER, OTHER_ID, expires_at, revoked_at);
    cluster
        .sealctl()
        .args(["token", "set", "--id", id])
        .write_stdin(OTHER)
        .assert()
        .success();
    cluster
}

fn status(cluster: &Cluster) -> (i32, Value, String) {
    let json = cluster
        .sealctl()
        .args(["token", "status", "--format", "json"])
        .output()
        .unwrap();
    assert_no_token(&json);
    let human = cluster
        .sealctl()
        .args(["token", "status"])
        .output()
        .unwrap();
    assert_no_token(&human);
    assert_eq!(json.status.code(), human.status.code());
    let value: Value = serde_json::from_slice(&json.stdout).unwrap();
    (
        json.status.code().unwrap(),
        value["profiles"][0].clone(),
        text(&human.stdout),
    )
}

#[test]
fn an_active_token() {
    let cluster = cluster_with(0, 0, OTHER_ID);
    let (code, state, human) = status(&cluster);
    assert_eq!(code, 0, "{human}");
    assert_eq!(state["cluster"]["state"], "active");
    assert_eq!(state["cluster"]["id"], OTHER_ID);
    assert_eq!(state["kept"], "age");
    assert!(human.contains("cluster: active"), "{human}");
}

#[test]
fn an_expiring_token_is_said_but_not_a_failure() {
    let cluster = cluster_with(now() + 5 * 86_400 + 3_600, 0, OTHER_ID);
    let (code, state, human) = status(&cluster);
    assert_eq!(code, 0, "{human}");
    assert_eq!(state["cluster"]["state"], "expiring");
    assert_eq!(state["cluster"]["days_left"], 5);
    assert!(human.contains("expiring, in 5 days"), "{human}");
}

#[test]
fn an_expired_token_seen_through_another_profile_of_the_cluster() {
    let cluster = cluster_with(now() - 3_600, 0, OTHER_ID);
    let (code, state, human) = status(&cluster);
    assert_eq!(code, 1, "{human}");
    assert_eq!(state["cluster"]["state"], "expired");
    assert!(human.contains("cluster: expired"), "{human}");
}

#[test]
fn a_revoked_token() {
    let cluster = cluster_with(0, now() - 60, OTHER_ID);
    let (code, state, human) = status(&cluster);
    assert_eq!(code, 1, "{human}");
    assert_eq!(state["cluster"]["state"], "revoked");
    assert!(human.contains("cluster: revoked at"), "{human}");
}

#[test]
fn a_token_whose_id_the_cluster_does_not_list_is_unknown() {
    let cluster = cluster_with(0, 0, "44444444-4444-4444-8444-444444444444");
    let (code, state, human) = status(&cluster);
    assert_eq!(code, 1, "{human}");
    assert_eq!(state["cluster"]["state"], "unknown");
    assert!(human.contains("unknown to the cluster"), "{human}");
}

#[test]
fn all_profiles_and_a_profile_without_a_token() {
    let cluster = cluster_with(0, 0, OTHER_ID);
    cluster
        .sealctl()
        .args(["--profile", "admin", "token", "rm"])
        .assert()
        .success();
    let output = cluster
        .sealctl()
        .args(["token", "status", "--all", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    let states: Vec<&str> = value["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cluster"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["active", "absent"]);
}

/// Runs `token rotate` with the stand-in paused at `step`, kills sealctl with SIGKILL there
/// (and the paused stand-in), and checks what is left.
fn killed_at(step: &str) {
    let cluster = Cluster::new(true);
    let pause = cluster.env.home().join("paused");
    let mut child = cluster
        .sealctl_process()
        .args(["token", "rotate"])
        .env("FAKE_INFLUXCTL_PAUSE", step)
        .env("FAKE_INFLUXCTL_PAUSE_FILE", &pause)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let paused = loop {
        if let Ok(said) = std::fs::read_to_string(&pause)
            && let Some(pid) = said.strip_prefix("paused ")
        {
            break pid.trim().parse::<i32>().unwrap();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "sealctl ended before the stand-in paused at {step}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = crate::common::command("kill")
        .args(["-KILL", &paused.to_string()])
        .status();

    // The recorded token works.
    let recorded = cluster.recorded("default");
    assert!(
        cluster.works(&recorded),
        "killed at {step}: the recorded token does not work"
    );
    // Every live token that is not recorded is named by the next status, which then fails.
    let status = cluster
        .sealctl()
        .args(["token", "status", "--all"])
        .output()
        .unwrap();
    assert_no_token(&status);
    let said = text(&status.stdout);
    let recorded_ids: Vec<String> = ["default", "admin"]
        .iter()
        .map(|profile| {
            let digest = cluster.recorded(profile);
            cluster.entry(&digest).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let unrecorded: Vec<String> = cluster
        .live_ids()
        .into_iter()
        .filter(|id| !recorded_ids.contains(id))
        .collect();
    for id in &unrecorded {
        assert!(
            said.contains(id.as_str()),
            "killed at {step}: live token {id} not named:\n{said}"
        );
    }
    assert_eq!(
        status.status.code(),
        Some(if unrecorded.is_empty() { 0 } else { 1 }),
        "killed at {step}:\n{said}"
    );
    // The next rotate finishes the work: one live token per profile, the recorded ones.
    let output = cluster.rotate(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let recorded = cluster.recorded("default");
    assert!(cluster.works(&recorded));
    assert_ne!(recorded, sha256(crate::rotate::OLD));
    let mut live = cluster.live_ids();
    live.sort();
    let mut expected: Vec<String> = ["default", "admin"]
        .iter()
        .map(|profile| {
            let digest = cluster.recorded(profile);
            cluster.entry(&digest).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    expected.sort();
    assert_eq!(
        live, expected,
        "killed at {step}: a token is left live, unrecorded"
    );
}

#[test]
fn killed_before_create() {
    killed_at("create");
}

#[test]
fn killed_after_create_before_its_output_is_read() {
    killed_at("create:after");
}

#[test]
fn killed_while_checking_the_new_token() {
    killed_at("list");
}

#[test]
fn killed_before_revoking_the_old_token() {
    killed_at("revoke");
}

#[test]
fn killed_after_revoking_the_old_token() {
    killed_at("revoke:after");
}

#[test]
fn doctor_asks_the_cluster_only_with_live() {
    let cluster = cluster_with(0, now() - 60, OTHER_ID);
    let quiet = cluster.sealctl().arg("doctor").output().unwrap();
    assert!(
        !text(&quiet.stdout).contains("profile `"),
        "{}",
        text(&quiet.stdout)
    );
    let live = cluster
        .sealctl()
        .args(["doctor", "--live"])
        .output()
        .unwrap();
    assert_no_token(&live);
    let said = text(&live.stdout);
    assert_eq!(live.status.code(), Some(1), "{said}");
    assert!(said.contains("profile `default`: revoked"), "{said}");
    assert!(said.contains("profile `admin`: active"), "{said}");
}
