//! The team setup of docs/openbao.md against a real server: the team's key named in the shared
//! file's `[sealctl.openbao]` table with the server it records (each machine names the server
//! itself, in BAO_ADDR), and people joining and leaving by group membership, with no value
//! re-sealed.

use super::{Login, TOKEN, Team, stderr};
use crate::common::openbao::MACHINE;
use crate::common::sha256;

#[test]
fn the_files_openbao_table_names_the_teams_key_and_records_the_server() {
    let team = Team::new();
    team.bao
        .bao(["write", "-f", "transit/keys/team-eu", "derived=true"]);
    let table = format!(
        "[sealctl.openbao]\naddress = \"{}\"\ntransit_key = \"team-eu\"\n\n",
        team.bao.address()
    );
    std::fs::write(&team.config, format!("{table}{}", team.file())).unwrap();

    // BAO_ADDR names the same server as the table: no warning.
    let root = team.bao.root_token().to_owned();
    let sealctl = || {
        let mut command = team.env.sealctl();
        command
            .env("BAO_TOKEN", &root)
            .env("BAO_ADDR", team.bao.address());
        command
    };
    sealctl()
        .args(["--profile", "prod", "token", "set", "--backend", "transit"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let value = team.value("prod", "mgmt_token");
    assert!(
        value.starts_with("sealctl:v1:transit:transit/team-eu/vault:v1:"),
        "{value}"
    );
    let got = sealctl()
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert!(!stderr(&got).contains("warning"), "{}", stderr(&got));
    assert_eq!(
        sha256(String::from_utf8(got.stdout).unwrap().trim_end()),
        sha256(TOKEN)
    );
    // A machine that does not name the server is told the one the file records, and how to
    // name it; nothing is sent.
    let before = team.file();
    let refused = team
        .env
        .sealctl()
        .env("BAO_TOKEN", &root)
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(refused.stdout.is_empty());
    assert!(
        stderr(&refused).contains(&format!("export BAO_ADDR={}", team.bao.address())),
        "{}",
        stderr(&refused)
    );
    assert_eq!(team.file(), before);
    // check accepts the table, without a server or a login.
    let check = team
        .env
        .sealctl()
        .arg("check")
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

#[test]
fn people_join_and_leave_by_group_membership_and_nothing_is_resealed() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let file = team.file();
    team.bao.bao(["auth", "enable", "userpass"]);
    team.bao.bao([
        "write",
        "auth/userpass/users/alice",
        "password=correct-horse",
    ]);
    // Alice logs in as she would with `bao login`: her token in ~/.vault-token.
    let alice = team.bao.bao_field([
        "write",
        "-field=token",
        "auth/userpass/login/alice",
        "password=correct-horse",
    ]);
    std::fs::write(team.env.home().join(".vault-token"), &alice).unwrap();
    let mut lookup = team
        .bao
        .bao_command(["token", "lookup", "-field=entity_id"]);
    let entity = lookup.env("BAO_TOKEN", &alice).output().unwrap();
    let entity = String::from_utf8(entity.stdout).unwrap().trim().to_owned();
    assert!(!entity.is_empty());
    // No BAO_TOKEN: sealctl reads ~/.vault-token.
    let no_token = Login::Token(String::new());
    let get = || {
        team.sealctl(&no_token)
            .env_remove("BAO_TOKEN")
            .args(["--profile", "prod", "token", "get"])
            .output()
            .unwrap()
    };
    let before = get();
    assert_eq!(before.status.code(), Some(2), "{}", stderr(&before));
    assert!(
        stderr(&before).contains("permission denied"),
        "{}",
        stderr(&before)
    );

    // Onboarding: into the team's group.
    team.bao.bao([
        "write",
        "identity/group",
        "name=team-eu",
        &format!("policies={MACHINE}"),
        &format!("member_entity_ids={entity}"),
    ]);
    let member = get();
    assert!(member.status.success(), "{}", stderr(&member));
    assert_eq!(
        sha256(String::from_utf8(member.stdout).unwrap().trim_end()),
        sha256(TOKEN)
    );

    // Offboarding: out of the group; the same login is refused at once.
    team.bao
        .bao(["write", "identity/group/name/team-eu", "member_entity_ids="]);
    let left = get();
    assert_eq!(left.status.code(), Some(2), "{}", stderr(&left));
    assert!(
        stderr(&left).contains("permission denied"),
        "{}",
        stderr(&left)
    );
    assert!(!crate::common::leaks(&stderr(&left), &alice));
    assert_eq!(team.file(), file, "a value was re-sealed");
}

/// The HCL block of docs/openbao.md that starts with `# NAME`, for the tests' key `sealctl`.
fn documented_policy(name: &str) -> String {
    let docs = include_str!("../../docs/openbao.md");
    let start = docs
        .find(&format!("```hcl\n# {name}\n"))
        .unwrap_or_else(|| panic!("no {name} in docs/openbao.md"));
    let block = &docs[start + "```hcl\n".len()..];
    block[..block.find("```").unwrap()].replace("team-eu", "sealctl")
}

#[test]
fn the_documented_policies_for_people_and_ci_are_enough() {
    let team = Team::new();
    for (name, file) in [("people", "team-eu-people.hcl"), ("ci", "team-eu-ci.hcl")] {
        let path = team.env.write(file, documented_policy(file));
        team.bao
            .bao(["policy", "write", name, &path.display().to_string()]);
    }
    let people = Login::Token(team.bao.token("people", "10m"));
    let ci = Login::Token(team.bao.token("ci", "10m"));
    for (profile, backend) in [("prod", "transit"), ("default", "kv")] {
        team.sealctl(&people)
            .args(["--profile", profile, "token", "set", "--backend", backend])
            .write_stdin(TOKEN)
            .assert()
            .success();
        for login in [&people, &ci] {
            let got = team
                .sealctl(login)
                .args(["--profile", profile, "token", "get"])
                .output()
                .unwrap();
            assert!(got.status.success(), "{backend}: {}", stderr(&got));
            assert_eq!(
                sha256(String::from_utf8(got.stdout).unwrap().trim_end()),
                sha256(TOKEN)
            );
        }
    }
    team.bao.rotate_key();
    team.sealctl(&people)
        .args(["rekey", "--all"])
        .assert()
        .success();
    assert!(team.value("prod", "mgmt_token").contains("/vault:v2:"));
    // CI may not seal.
    let before = team.file();
    let refused = team
        .sealctl(&ci)
        .args(["--profile", "prod", "token", "set", "--backend", "transit"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    team.assert_refused(
        &refused,
        &before,
        &ci,
        &["permission denied", "capability on transit/"],
    );
}
