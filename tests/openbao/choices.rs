//! What a team chooses beyond the defaults, against a real server: `doctor`'s lines for transit
//! and kv values (and the capability a denied policy lacks), `token move` between kv and transit
//! (the kv secret deleted when the token leaves it), and `--transit-key` / `--kv-path`, each
//! ending with `token get` giving the token back (compared by digest).

use super::{Login, OTHER_TOKEN, TOKEN, Team, stderr};
use crate::common::openbao::{DENIED, KEY, MACHINE, SECOND_KEY};
use crate::common::{leaks, sha256};

/// `token get` of `profile` as `login`: its digest.
fn got(team: &Team, login: &Login, profile: &str) -> String {
    let output = team
        .sealctl(login)
        .args(["--profile", profile, "token", "get"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    sha256(String::from_utf8(output.stdout).unwrap().trim_end())
}

/// The digest of `field` of the KV secret `path` under `secret/`, read with `bao`; `None` when
/// there is no such secret.
fn secret_field(team: &Team, path: &str, field: &str) -> Option<String> {
    let output = team
        .bao
        .bao_command([
            "kv",
            "get",
            &format!("-field={field}"),
            &format!("secret/{path}"),
        ])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| sha256(String::from_utf8(output.stdout).unwrap().trim_end()))
}

/// `doctor`'s line for `topic` (`transit`, `kv`) and its label (`ok`, `fail`), with its `fix:`
/// line if any.
fn doctor_line(report: &str, topic: &str) -> (String, String) {
    let lines: Vec<&str> = report.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.split_whitespace().nth(1) == Some(topic))
        .unwrap_or_else(|| panic!("no {topic} line in:\n{report}"));
    let label = lines[at].split_whitespace().next().unwrap().to_owned();
    let mut text = lines[at].to_owned();
    if let Some(fix) = lines
        .get(at + 1)
        .filter(|line| line.trim_start().starts_with("fix:"))
    {
        text.push('\n');
        text.push_str(fix);
    }
    (label, text)
}

#[test]
fn doctor_says_ok_for_transit_and_kv_values_and_names_what_a_denied_policy_lacks() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    team.set(&["--backend", "kv"], OTHER_TOKEN);
    let before = team.file();

    let machine = Login::Token(team.bao.token(MACHINE, "10m"));
    let doctor = team.sealctl(&machine).arg("doctor").output().unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout).into_owned();
    assert_eq!(doctor.status.code(), Some(0), "{report}{}", stderr(&doctor));
    let (label, transit) = doctor_line(&report, "transit");
    assert_eq!(label, "ok", "{report}");
    assert!(transit.contains(team.bao.address()), "{transit}");
    assert!(
        transit.contains(&format!(
            "encrypt, decrypt and rewrap with the derived transit key transit/keys/{KEY}"
        )),
        "{transit}"
    );
    let (label, kv) = doctor_line(&report, "kv");
    assert_eq!(label, "ok", "{report}");
    assert!(
        kv.contains("may read and write secret/data/sealctl/PROFILE"),
        "{kv}"
    );

    // The denied policy may encrypt but not decrypt, and may not read KV data: a `fail` line for
    // each, naming the path and the capability, and doctor's findings status.
    let denied = Login::Token(team.bao.token(DENIED, "10m"));
    let doctor = team.sealctl(&denied).arg("doctor").output().unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout).into_owned();
    assert_eq!(doctor.status.code(), Some(1), "{report}{}", stderr(&doctor));
    let (label, transit) = doctor_line(&report, "transit");
    assert_eq!(label, "fail", "{report}");
    assert!(
        transit.contains(&format!("`update` capability on transit/decrypt/{KEY}")),
        "{transit}"
    );
    let (label, kv) = doctor_line(&report, "kv");
    assert_eq!(label, "fail", "{report}");
    assert!(
        kv.contains("`read` capability on secret/data/sealctl/PROFILE"),
        "{kv}"
    );
    assert!(report.contains("not ready"), "{report}");
    assert_eq!(team.file(), before);
    for (n, secret) in team.secrets(&denied).iter().enumerate() {
        assert!(
            !leaks(&report, secret) && !leaks(&stderr(&doctor), secret),
            "secret #{n} leaked"
        );
    }
}

#[test]
fn token_move_between_kv_and_transit_deletes_the_kv_secret_when_it_leaves() {
    let team = Team::new();
    let machine = Login::Token(team.bao.token(MACHINE, "10m"));
    let moved = |to: &str| {
        team.sealctl(&machine)
            .args(["--profile", "prod", "token", "move", "--to", to])
            .assert()
            .success();
    };
    team.set(&["--profile", "prod", "--backend", "kv"], TOKEN);
    assert_eq!(
        secret_field(&team, "sealctl/prod", "mgmt_token"),
        Some(sha256(TOKEN))
    );

    // kv → transit: the token leaves the server's KV store.
    moved("transit");
    let value = team.value("prod", "mgmt_token");
    assert!(
        value.starts_with(&format!("sealctl:v1:transit:transit/{KEY}/vault:v1:")),
        "{value}"
    );
    assert_eq!(secret_field(&team, "sealctl/prod", "mgmt_token"), None);
    let metadata = team
        .bao
        .bao_command(["kv", "metadata", "get", "secret/sealctl/prod"])
        .output()
        .unwrap();
    assert!(!metadata.status.success(), "the secret's versions remain");
    assert_eq!(got(&team, &machine, "prod"), sha256(TOKEN));

    // transit → kv: the token is in the secret again, and only a reference in the file.
    moved("kv");
    let value = team.value("prod", "mgmt_token");
    assert!(value.starts_with("sealctl:v1:kv:"), "{value}");
    assert!(!team.file().contains("vault:v1:"), "{}", team.file());
    assert_eq!(
        secret_field(&team, "sealctl/prod", "mgmt_token"),
        Some(sha256(TOKEN))
    );
    assert_eq!(got(&team, &machine, "prod"), sha256(TOKEN));

    // Moved away again after the round trip: deleted again (the id of the `token set` that
    // wrote the secret is the one in the file, not one carried over from an earlier value).
    moved("transit");
    assert_eq!(secret_field(&team, "sealctl/prod", "mgmt_token"), None);
    assert_eq!(got(&team, &machine, "prod"), sha256(TOKEN));
}

#[test]
fn a_kv_value_with_influxctls_token_id_keeps_it_and_is_deleted_when_moved_away() {
    let team = Team::new();
    let id = "0c7a4d2e-51b8-4f3a-9e6d-2b1f8a7c6d5e";
    team.set(&["--profile", "prod", "--backend", "kv", "--id", id], TOKEN);
    let value = team.value("prod", "mgmt_token");
    assert!(value.contains(&format!(";id={id}")), "{value}");
    for to in ["transit", "kv", "age", "kv", "transit"] {
        if to == "age" {
            team.root().args(["identity", "new"]).assert().success();
        }
        team.root()
            .args(["--profile", "prod", "token", "move", "--to", to])
            .assert()
            .success();
        let value = team.value("prod", "mgmt_token");
        assert!(
            value.contains(&format!(";id={id}")),
            "after --to {to}: {value}"
        );
        let kept = secret_field(&team, "sealctl/prod", "mgmt_token");
        if to == "kv" {
            assert_eq!(kept, Some(sha256(TOKEN)), "after --to kv");
        } else {
            assert_eq!(kept, None, "the kv secret was left behind after --to {to}");
        }
        assert_eq!(got(&team, &team.root_login(), "prod"), sha256(TOKEN));
    }
}

#[test]
fn transit_key_flag_seals_with_that_key_and_the_server_holds_the_value_to_it() {
    let team = Team::new();
    let machine = Login::Token(team.bao.token(MACHINE, "10m"));
    team.sealctl(&machine)
        .args([
            "--profile",
            "prod",
            "token",
            "set",
            "--transit-key",
            SECOND_KEY,
        ])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let value = team.value("prod", "mgmt_token");
    assert!(
        value.starts_with(&format!(
            "sealctl:v1:transit:transit/{SECOND_KEY}/vault:v1:"
        )),
        "{value}"
    );
    assert_eq!(got(&team, &machine, "prod"), sha256(TOKEN));
    let output = team.exec_marker(&machine);
    assert!(output.status.success(), "{}", stderr(&output));

    // The same ciphertext claimed for the default key: the server refuses it.
    let file = team.file();
    std::fs::write(
        &team.config,
        file.replace(
            &format!("transit/{SECOND_KEY}/"),
            &format!("transit/{KEY}/"),
        ),
    )
    .unwrap();
    std::fs::remove_file(team.marker()).unwrap();
    let before = team.file();
    let output = team.exec_marker(&machine);
    team.assert_refused(&output, &before, &machine, &[]);

    // A name that is not a key name is refused before anything is asked of the server.
    std::fs::write(&team.config, &file).unwrap();
    let output = team
        .sealctl(&machine)
        .args([
            "--profile",
            "prod",
            "token",
            "set",
            "--transit-key",
            "../keys",
        ])
        .write_stdin(OTHER_TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(team.file(), file);
}

#[test]
fn kv_path_flag_keeps_the_token_in_that_secret() {
    let team = Team::new();
    let machine = Login::Token(team.bao.token(MACHINE, "10m"));
    team.sealctl(&machine)
        .args([
            "--profile",
            "prod",
            "token",
            "set",
            "--kv-path",
            "sealctl/eu/live",
        ])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let value = team.value("prod", "mgmt_token");
    assert!(value.starts_with("sealctl:v1:kv:"), "{value}");
    assert!(value.contains("sealctl/eu/live"), "{value}");
    assert_eq!(
        secret_field(&team, "sealctl/eu/live", "mgmt_token"),
        Some(sha256(TOKEN))
    );
    assert_eq!(secret_field(&team, "sealctl/prod", "mgmt_token"), None);
    assert_eq!(got(&team, &machine, "prod"), sha256(TOKEN));

    // A path outside the machine's policy, written by root: the machine is refused, naming it.
    team.set(&["--kv-path", "teams/eu/default"], OTHER_TOKEN);
    assert_eq!(
        secret_field(&team, "teams/eu/default", "mgmt_token"),
        Some(sha256(OTHER_TOKEN))
    );
    assert_eq!(
        got(&team, &team.root_login(), "default"),
        sha256(OTHER_TOKEN)
    );
    let before = team.file();
    let output = team
        .sealctl(&machine)
        .args(["token", "get"])
        .output()
        .unwrap();
    team.assert_refused(
        &output,
        &before,
        &machine,
        &["permission denied", "secret/data/teams/eu/default", "read"],
    );

    // A path that climbs out of the mount is refused before anything is written.
    let output = team
        .sealctl(&machine)
        .args([
            "--profile",
            "prod",
            "token",
            "set",
            "--kv-path",
            "sealctl/../sys",
        ])
        .write_stdin(OTHER_TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(team.file(), before);
}
