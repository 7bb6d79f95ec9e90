//! The paths a team uses, each with token, AppRole and JWT logins: set, get, exec, rekey after a
//! key rotation, rm, move between backends, doctor, profile list, check.

use predicates::prelude::*;

use super::{Login, OTHER_TOKEN, TOKEN, Team, stderr};
use crate::common::openbao::{KEY, MACHINE};
use crate::common::{leaks, sha256};

/// The three logins, each with the machine policy (may open).
fn logins(team: &Team) -> Vec<(&'static str, Login)> {
    let (role_id, secret_id) = team.bao.approle(MACHINE);
    vec![
        ("token", Login::Token(team.bao.token(MACHINE, "10m"))),
        ("approle", Login::AppRole(role_id, secret_id)),
        ("jwt", Login::Jwt(MACHINE.to_owned(), team.bao.jwt(MACHINE))),
    ]
}

/// `token get` of `profile`'s `mgmt_token`: its digest.
fn got(team: &Team, login: &Login, profile: &str) -> String {
    let output = team
        .sealctl(login)
        .args(["--profile", profile, "token", "get"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    sha256(String::from_utf8(output.stdout).unwrap().trim_end())
}

/// What the influxctl stand-in got as `profile`'s management token, run by `sealctl exec`.
fn influxctl_got(team: &Team, login: &Login, profile: &str) -> String {
    let output = team
        .sealctl(login)
        .args(["exec", "--", "influxctl", "--profile", profile, "report"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["mgmt_token_sha256"].as_str().unwrap().to_owned()
}

#[test]
fn transit_values_are_set_read_and_run_with_each_login() {
    let team = Team::new();
    for (name, login) in logins(&team) {
        let token = format!("{TOKEN}{}", name.len() * 7);
        team.sealctl(&login)
            .args(["--profile", "prod", "token", "set", "--backend", "transit"])
            .write_stdin(token.as_str())
            .assert()
            .success();
        let value = team.value("prod", "mgmt_token");
        assert!(
            value.starts_with(&format!("sealctl:v1:transit:transit/{KEY}/vault:v1:")),
            "{name}: {value}"
        );
        assert!(
            !leaks(&team.file(), &token),
            "{name}: the token is in the file"
        );
        assert!(team.file().starts_with("# team profiles\n"));
        assert_eq!(got(&team, &login, "prod"), sha256(&token), "{name}");
        assert_eq!(
            influxctl_got(&team, &login, "prod"),
            sha256(&token),
            "{name}"
        );
    }
}

#[test]
fn kv_values_are_set_read_and_run_with_each_login_and_follow_a_rotation_in_the_server() {
    let team = Team::new();
    for (name, login) in logins(&team) {
        let token = format!("{TOKEN}{}", name.len() * 7);
        team.sealctl(&login)
            .args(["--profile", "prod", "token", "set", "--backend", "kv"])
            .write_stdin(token.as_str())
            .assert()
            .success();
        let value = team.value("prod", "mgmt_token");
        assert!(
            value.starts_with("sealctl:v1:kv:secret:sealctl/prod#mgmt_token"),
            "{name}: {value}"
        );
        assert!(!leaks(&team.file(), &token));
        // Raw in the field, for other tools.
        let stored = team
            .bao
            .bao_field(["kv", "get", "-field=mgmt_token", "secret/sealctl/prod"]);
        assert_eq!(sha256(&stored), sha256(&token), "{name}");
        assert_eq!(got(&team, &login, "prod"), sha256(&token), "{name}");
        assert_eq!(
            influxctl_got(&team, &login, "prod"),
            sha256(&token),
            "{name}"
        );
    }

    // A rotation done once in the server reaches the machine, the file untouched.
    let before = team.file();
    team.bao.bao([
        "kv",
        "patch",
        "secret/sealctl/prod",
        &format!("mgmt_token={OTHER_TOKEN}"),
    ]);
    let login = team.root_login();
    assert_eq!(got(&team, &login, "prod"), sha256(OTHER_TOKEN));
    assert_eq!(team.file(), before);
}

#[test]
fn rekey_after_a_key_rotation_rewraps_without_the_plaintext() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let before = team.value("prod", "mgmt_token");
    assert!(before.contains("/vault:v1:"), "{before}");
    team.bao.rotate_key();

    // A login that may rewrap but not decrypt: the server never hands out the token.
    let policy = team.env.write(
        "rewrap.hcl",
        format!(
            "path \"transit/rewrap/{KEY}\" {{ capabilities = [\"update\"] }}\npath \"transit/keys/{KEY}\" {{ capabilities = [\"read\"] }}\n"
        ),
    );
    team.bao.bao([
        "policy",
        "write",
        "rewrap-only",
        &policy.display().to_string(),
    ]);
    let rewrapper = Login::Token(team.bao.token("rewrap-only", "10m"));
    let denied = team
        .sealctl(&rewrapper)
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(2), "{}", stderr(&denied));

    let rekeyed = team
        .sealctl(&rewrapper)
        .args(["rekey", "--all"])
        .output()
        .unwrap();
    assert!(rekeyed.status.success(), "{}", stderr(&rekeyed));
    let after = team.value("prod", "mgmt_token");
    assert!(after.contains("/vault:v2:"), "{after}");
    // The binding is kept: the rest of the line after the ciphertext is the same.
    assert_eq!(
        after.split(';').skip(1).collect::<Vec<_>>(),
        before.split(';').skip(1).collect::<Vec<_>>()
    );
    let login = team.root_login();
    assert_eq!(got(&team, &login, "prod"), sha256(TOKEN));
}

#[test]
fn token_rm_deletes_a_kv_secret_and_a_transit_value() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "kv"], TOKEN);
    team.set(&["--backend", "transit"], OTHER_TOKEN);
    team.root()
        .args(["--profile", "prod", "token", "rm"])
        .assert()
        .success();
    team.root().args(["token", "rm"]).assert().success();
    assert!(!team.file().contains("mgmt_token"), "{}", team.file());
    let read = team
        .bao
        .bao_command(["kv", "get", "secret/sealctl/prod"])
        .output()
        .unwrap();
    assert!(!read.status.success(), "the kv secret is still there");
}

#[test]
fn tokens_move_between_age_transit_and_kv() {
    let team = Team::new();
    team.root().args(["identity", "new"]).assert().success();
    team.set(&["--profile", "prod"], TOKEN);
    let kept_in = |team: &Team| {
        let value = team.value("prod", "mgmt_token");
        value
            .strip_prefix("sealctl:v1:")
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(kept_in(&team), "age");
    for to in ["transit", "age", "kv", "age", "kv", "transit", "age"] {
        team.root()
            .args(["--profile", "prod", "token", "move", "--to", to])
            .assert()
            .success();
        assert_eq!(kept_in(&team), to);
        let login = team.root_login();
        assert_eq!(got(&team, &login, "prod"), sha256(TOKEN), "after --to {to}");
    }
    // The kv secret went with the move away from kv.
    let read = team
        .bao
        .bao_command(["kv", "get", "secret/sealctl/prod"])
        .output()
        .unwrap();
    assert!(!read.status.success(), "the kv secret was left behind");
}

// The management token's `id=` (issue 17) and kv's own `kvid=` are two parameters: a kv value
// keeps both, every move keeps the token's id, and `check` accepts each form.
#[test]
fn a_token_id_travels_with_every_move_and_kv_keeps_its_kvid_apart() {
    const ID: &str = "11111111-2222-3333-4444-555555555555";
    let team = Team::new();
    team.root().args(["identity", "new"]).assert().success();
    team.set(&["--profile", "prod", "--backend", "kv", "--id", ID], TOKEN);
    let params = |team: &Team| -> Vec<String> {
        let value = team.value("prod", "mgmt_token");
        value.split(';').skip(1).map(str::to_owned).collect()
    };
    let kv = params(&team);
    assert!(kv.contains(&format!("id={ID}")), "{kv:?}");
    assert_eq!(
        kv.iter().filter(|p| p.starts_with("kvid=")).count(),
        1,
        "{kv:?}"
    );
    assert_eq!(
        kv.iter().filter(|p| p.starts_with("id=")).count(),
        1,
        "{kv:?}"
    );
    for to in ["transit", "kv", "age", "kv"] {
        team.root()
            .args(["--profile", "prod", "token", "move", "--to", to])
            .assert()
            .success();
        let now = params(&team);
        assert!(
            now.contains(&format!("id={ID}")),
            "after --to {to}: {now:?}"
        );
        let entries = now.iter().filter(|p| p.starts_with("kvid=")).count();
        assert_eq!(entries, usize::from(to == "kv"), "after --to {to}: {now:?}");
        let login = team.root_login();
        assert_eq!(got(&team, &login, "prod"), sha256(TOKEN), "after --to {to}");
        team.root().arg("check").assert().success();
    }
}

#[test]
fn doctor_profile_list_and_check_see_transit_and_kv_values() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    team.set(&["--backend", "kv"], OTHER_TOKEN);
    let login = Login::Token(team.bao.token(MACHINE, "10m"));

    let doctor = team.sealctl(&login).arg("doctor").output().unwrap();
    assert!(doctor.status.success(), "{}", stderr(&doctor));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&doctor.stdout),
        stderr(&doctor)
    );
    assert!(report.contains(team.bao.address()), "{report}");
    assert!(report.contains("secret/data/sealctl/"), "{report}");
    assert!(!report.contains("fail "), "{report}");
    assert!(
        report.contains(&format!("derived transit key transit/keys/{KEY}")),
        "{report}"
    );

    team.sealctl(&login)
        .args(["profile", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("transit").and(predicate::str::contains("kv")));

    // check needs no server and no login.
    let check = team
        .env
        .sealctl()
        .args(["check"])
        .arg(&team.config)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
