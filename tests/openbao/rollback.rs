//! A `--backend kv` change that is not saved leaves the server as it was: `token set` of a
//! profile whose token is already in that field overwrites it in place, so when the save then
//! fails the field is put back (its earlier token and binding), not deleted; a field the change
//! made is deleted; and a saved change that moves the value away still deletes the field.

use std::process::Output;

use super::{Login, OTHER_TOKEN, TOKEN, Team, stderr};
use crate::common::{command, leaks, sha256};

const SECRET: &str = "secret/sealctl/default";

/// `token set --backend kv` of `token` in the default profile, on a copy of the team's file on
/// a read-only file system: the seal reaches the server, the save fails. Returns the exit status
/// and stderr; `None` where there are no user namespaces (`unshare -rm`).
fn set_unsaved(team: &Team, token: &str) -> Option<(Option<i32>, String)> {
    let probe = command("unshare").args(["-rm", "true"]).output();
    if !probe.is_ok_and(|output| output.status.success()) {
        eprintln!("skipped: no user namespaces here (unshare -rm)");
        return None;
    }
    let folder = team.env.home().join("mnt");
    std::fs::create_dir_all(&folder).unwrap();
    let errors = team.env.home().join("stderr");
    let script = format!(
        "MNT='{}'; SRC='{}'\n\
         mount -t tmpfs -o size=1m tmpfs \"$MNT\"; cp \"$SRC\" \"$MNT/config.toml\"; mount -o remount,ro \"$MNT\"\n\
         set +e\n\
         printf %s \"$TOKEN_IN\" | \"$SEALCTL\" --config \"$MNT/config.toml\" token set --backend kv 2>'{}'\n\
         echo \"status $?\"\n\
         cmp -s \"$SRC\" \"$MNT/config.toml\" && echo unchanged\n",
        folder.display(),
        team.config.display(),
        errors.display()
    );
    let output = command("unshare")
        .args(["-rm", "sh", "-euc", &script])
        .env("HOME", team.env.home())
        .env("XDG_CONFIG_HOME", team.env.home().join(".config"))
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .env("TOKEN_IN", token)
        .env("BAO_ADDR", team.bao.address())
        .env("BAO_TOKEN", team.bao.root_token())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
    assert!(
        stdout.contains("unchanged"),
        "the file changed: {stdout} {stderr}"
    );
    let status = stdout
        .lines()
        .find_map(|line| line.strip_prefix("status "))
        .and_then(|status| status.parse().ok());
    for (n, secret) in team.secrets(&team.root_login()).iter().enumerate() {
        assert!(
            !leaks(&stderr, secret),
            "secret #{n} ({} characters) leaked",
            secret.len()
        );
    }
    Some((status, stderr))
}

/// `token get` of the default profile: its exit status, the digest of what it printed, stderr.
fn get(team: &Team) -> (Option<i32>, String, String) {
    let output: Output = team.root().args(["token", "get"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    (
        output.status.code(),
        sha256(stdout.trim_end()),
        stderr(&output),
    )
}

/// The secret's `custom_metadata`, as the server reports it.
fn custom_metadata(team: &Team) -> serde_json::Map<String, serde_json::Value> {
    let output = team
        .bao
        .bao(["kv", "metadata", "get", "-format=json", SECRET]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json["data"]["custom_metadata"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Whether the server has the secret at all (any field, any version).
fn secret_exists(team: &Team) -> bool {
    team.bao
        .bao_command(["kv", "metadata", "get", SECRET])
        .output()
        .unwrap()
        .status
        .success()
}

// Regression (issue 15): the unsaved second `token set` deleted the field the file still names.
#[test]
fn an_unsaved_token_set_over_a_kv_token_puts_the_first_back_with_its_binding() {
    let team = Team::new();
    team.set(&["--backend", "kv"], TOKEN);
    let before = team.file();
    let metadata = custom_metadata(&team);

    let Some((status, errors)) = set_unsaved(&team, OTHER_TOKEN) else {
        return;
    };
    assert_eq!(status, Some(2), "{errors}");
    assert!(errors.contains("Read-only file system"), "{errors}");
    // Taken back, so nothing is said to be left behind.
    assert!(!errors.contains("could not"), "{errors}");

    assert_eq!(team.file(), before);
    let (status, digest, errors) = get(&team);
    assert_eq!(status, Some(0), "{errors}");
    assert_eq!(digest, sha256(TOKEN), "token get is not the first token");
    // Opened bound, as before: no warning of a secret without its place.
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(custom_metadata(&team), metadata, "the binding changed");
    let stored = team
        .bao
        .bao_field(["kv", "get", "-field=mgmt_token", SECRET]);
    assert_eq!(
        sha256(&stored),
        sha256(TOKEN),
        "the field holds another token"
    );
}

#[test]
fn an_unsaved_token_set_after_a_saved_one_puts_the_saved_one_back() {
    let team = Team::new();
    team.set(&["--backend", "kv"], TOKEN);
    team.set(&["--backend", "kv"], OTHER_TOKEN);
    let before = team.file();
    let metadata = custom_metadata(&team);

    let Some((status, errors)) = set_unsaved(&team, "apiv3_BaoUnsaved5Kp2Yw") else {
        return;
    };
    assert_eq!(status, Some(2), "{errors}");
    assert_eq!(team.file(), before);
    let (status, digest, errors) = get(&team);
    assert_eq!(status, Some(0), "{errors}");
    assert_eq!(digest, sha256(OTHER_TOKEN), "not the last saved token");
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(custom_metadata(&team), metadata, "the binding changed");
}

#[test]
fn an_unsaved_token_set_that_made_the_kv_field_leaves_nothing_behind() {
    let team = Team::new();
    let before = team.file();
    let Some((status, errors)) = set_unsaved(&team, TOKEN) else {
        return;
    };
    assert_eq!(status, Some(2), "{errors}");
    assert_eq!(team.file(), before);
    assert!(!secret_exists(&team), "the secret is left on the server");
}

#[test]
fn an_unsaved_token_set_into_a_shared_secret_removes_only_its_field() {
    let team = Team::new();
    // Another tool keeps a field of its own in the secret: it stays, the new field goes.
    team.bao.bao(["kv", "put", SECRET, "other=kept"]);
    let Some((status, errors)) = set_unsaved(&team, TOKEN) else {
        return;
    };
    assert_eq!(status, Some(2), "{errors}");
    assert_eq!(
        team.bao.bao_field(["kv", "get", "-field=other", SECRET]),
        "kept"
    );
    let fields = team
        .bao
        .bao_command(["kv", "get", "-field=mgmt_token", SECRET])
        .output()
        .unwrap();
    assert!(!fields.status.success(), "the field is left on the server");
    assert!(
        custom_metadata(&team)
            .keys()
            .all(|key| !key.contains("mgmt_token")),
        "its binding is left: {:?}",
        custom_metadata(&team).keys().collect::<Vec<_>>()
    );
}

// The record that lets a rollback put the field back must not make a saved move put it back:
// the value moved away is forgotten, its field deleted.
#[test]
fn a_saved_move_away_from_kv_deletes_a_field_that_was_overwritten() {
    let team = Team::new();
    team.root().args(["identity", "new"]).assert().success();
    team.set(&["--backend", "kv"], TOKEN);
    team.set(&["--backend", "kv"], OTHER_TOKEN);
    team.root()
        .args(["token", "move", "--to", "age"])
        .assert()
        .success();
    assert!(team.value("default", "mgmt_token").contains(":age:"));
    assert!(
        !secret_exists(&team),
        "the moved value's secret is left on the server"
    );
    let (status, digest, errors) = get(&team);
    assert_eq!(status, Some(0), "{errors}");
    assert_eq!(digest, sha256(OTHER_TOKEN));
}

/// A login allowed to write a secret's data but not its metadata: the seal fails between the two.
fn data_only(team: &Team) -> Login {
    let policy = team.env.write(
        "data-only.hcl",
        "path \"secret/data/*\" { capabilities = [\"create\", \"read\", \"update\"] }\n\
         path \"secret/metadata/*\" { capabilities = [\"read\", \"list\"] }\n",
    );
    team.bao.bao([
        "policy",
        "write",
        "data-only",
        &policy.display().to_string(),
    ]);
    Login::Token(team.bao.token("data-only", "10m"))
}

// A failure after the data write, before the binding's: the server is not left holding the new
// token under the old binding.
#[test]
fn a_kv_seal_whose_binding_cannot_be_written_puts_the_field_back() {
    let team = Team::new();
    team.set(&["--backend", "kv"], TOKEN);
    let before = team.file();
    let metadata = custom_metadata(&team);
    let login = data_only(&team);
    let output = team
        .sealctl(&login)
        .args(["token", "set", "--backend", "kv"])
        .write_stdin(OTHER_TOKEN)
        .output()
        .unwrap();
    team.assert_refused(&output, &before, &login, &[]);
    let stored = team
        .bao
        .bao_field(["kv", "get", "-field=mgmt_token", SECRET]);
    assert_eq!(
        sha256(&stored),
        sha256(TOKEN),
        "the field holds another token"
    );
    assert_eq!(custom_metadata(&team), metadata, "the binding changed");
    let (status, digest, errors) = get(&team);
    assert_eq!(status, Some(0), "{errors}");
    assert_eq!(digest, sha256(TOKEN));
}

#[test]
fn a_new_kv_secret_whose_binding_cannot_be_written_keeps_no_token() {
    let team = Team::new();
    let before = team.file();
    let login = data_only(&team);
    let output = team
        .sealctl(&login)
        .args(["token", "set", "--backend", "kv"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    team.assert_refused(&output, &before, &login, &[]);
    // The login may not delete the secret it made: it is left without the field.
    let field = team
        .bao
        .bao_command(["kv", "get", "-field=mgmt_token", SECRET])
        .output()
        .unwrap();
    assert!(
        !field.status.success(),
        "the new token is left on the server"
    );
}
