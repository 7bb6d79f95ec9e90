//! Each way opening a transit or kv value can fail against a real server, each with its own
//! message: exit status 2, the program not run, the file unchanged, no secret in the output.

use std::net::TcpListener;

use super::{Login, OTHER_TOKEN, TOKEN, Team, stderr};
use crate::common::openbao::{Bao, DENIED, KEY, MACHINE, PLAIN_KEY};
use crate::common::sha256;

/// Writes `line` into profile `prod`, after its name.
fn add_to_prod(team: &Team, line: &str) {
    let name = "  name = \"prod\"   # live\n";
    let text = team.file().replacen(name, &format!("{name}  {line}\n"), 1);
    std::fs::write(&team.config, text).unwrap();
}

#[test]
fn a_transit_value_copied_to_another_profile_or_key_is_refused_by_the_server() {
    let team = Team::new();
    team.set(&["--backend", "transit"], TOKEN);
    let value = team.value("default", "mgmt_token");
    add_to_prod(&team, &format!("mgmt_token = \"{value}\""));
    let before = team.file();
    let login = team.root_login();
    let output = team.exec_marker(&login);
    team.assert_refused(&output, &before, &login, &["sealed for another place"]);

    // Into another key of its own profile.
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let value = team.value("prod", "mgmt_token");
    add_to_prod(&team, &format!("token = \"{value}\""));
    let before = team.file();
    let output = team
        .root()
        .args(["--profile", "prod", "exec", "--env", "T=token", "--"])
        .args(["sh", "-c", &format!("touch {}", team.marker().display())])
        .output()
        .unwrap();
    team.assert_refused(&output, &before, &login, &["sealed for another place"]);

    // Its clear endpoint digest edited: the context no longer matches either.
    let (head, ep) = value.split_once(";ep=").expect("an ep= parameter");
    let flipped: String = ep
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == '0' { '1' } else { '0' }
            } else {
                c
            }
        })
        .collect();
    let text = team.file().replace(
        &format!("mgmt_token = \"{value}\""),
        &format!("mgmt_token = \"{head};ep={flipped}\""),
    );
    std::fs::write(&team.config, text).unwrap();
    let before = team.file();
    let output = team.exec_marker(&login);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    team.assert_refused(&output, &before, &login, &[]);
}

#[test]
fn a_kv_reference_copied_to_another_profile_is_refused() {
    let team = Team::new();
    team.set(&["--backend", "kv"], TOKEN);
    let value = team.value("default", "mgmt_token");
    add_to_prod(&team, &format!("mgmt_token = \"{value}\""));
    let before = team.file();
    let login = team.root_login();
    let output = team.exec_marker(&login);
    team.assert_refused(
        &output,
        &before,
        &login,
        &["sealed for profile `default`", "profile `prod`"],
    );
}

#[test]
fn a_changed_host_is_refused_naming_both_endpoints_until_rekey_rebind() {
    for backend in ["transit", "kv"] {
        let team = Team::new();
        team.set(&["--profile", "prod", "--backend", backend], TOKEN);
        let moved = team.file().replace("prod.example.com", "new.example.com");
        std::fs::write(&team.config, moved).unwrap();
        let before = team.file();
        let login = team.root_login();
        let output = team.exec_marker(&login);
        team.assert_refused(
            &output,
            &before,
            &login,
            &["prod.example.com", "new.example.com", "rekey --rebind"],
        );

        team.root()
            .args(["--profile", "prod", "rekey", "--rebind"])
            .assert()
            .success();
        let output = team.exec_marker(&login);
        assert!(output.status.success(), "{backend}: {}", stderr(&output));
        assert!(team.marker().exists());
    }
}

#[test]
fn a_denied_policy_names_the_path_and_the_capability_with_each_login() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let (role_id, secret_id) = team.bao.approle(DENIED);
    let logins = [
        Login::Token(team.bao.token(DENIED, "10m")),
        Login::AppRole(role_id, secret_id),
        Login::Jwt(DENIED.to_owned(), team.bao.jwt(DENIED)),
    ];
    let before = team.file();
    for login in &logins {
        let output = team.exec_marker(login);
        team.assert_refused(
            &output,
            &before,
            login,
            &[
                "permission denied",
                &format!("transit/decrypt/{KEY}"),
                "update",
            ],
        );
    }

    // doctor says the same before anything is run.
    let doctor = team.sealctl(&logins[0]).arg("doctor").output().unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert_ne!(doctor.status.code(), Some(0), "{report}");
    assert!(
        report.contains(&format!("transit/decrypt/{KEY}")),
        "{report}"
    );

    // kv: the data path and `read`.
    team.set(&["--profile", "prod", "--backend", "kv"], OTHER_TOKEN);
    let before = team.file();
    let login = &logins[0];
    let output = team.exec_marker(login);
    team.assert_refused(
        &output,
        &before,
        login,
        &["permission denied", "secret/data/sealctl/prod", "read"],
    );
}

#[test]
fn a_stopped_server_is_unreachable() {
    let mut team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let before = team.file();
    team.bao.stop();
    let login = team.root_login();
    let output = team.exec_marker(&login);
    team.assert_refused(
        &output,
        &before,
        &login,
        &["cannot be reached", team.bao.address(), "BAO_ADDR"],
    );
}

#[test]
fn a_sealed_server_says_so() {
    for backend in ["transit", "kv"] {
        let team = Team::new();
        team.set(&["--profile", "prod", "--backend", backend], TOKEN);
        let before = team.file();
        team.bao.seal();
        let login = team.root_login();
        let output = team.exec_marker(&login);
        team.assert_refused(&output, &before, &login, &["is sealed", "unseal"]);
    }
}

#[test]
fn an_expired_or_failed_login_is_refused() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let before = team.file();

    let expired = Login::Token(team.bao.expired_token(MACHINE));
    let output = team.exec_marker(&expired);
    team.assert_refused(
        &output,
        &before,
        &expired,
        &["expired or not valid", "BAO_TOKEN"],
    );

    let (role_id, _) = team.bao.approle(MACHINE);
    let wrong = Login::AppRole(role_id, "0f0e0d0c-0b0a-4909-8807-060504030201".to_owned());
    let output = team.exec_marker(&wrong);
    team.assert_refused(&output, &before, &wrong, &["approle login", "failed"]);

    // A JWT past its time, and one signed by a key the server does not trust.
    team.bao.jwt_role(MACHINE);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stale = team.bao.sign_jwt(&serde_json::json!({
        "sub": "ci-runner", "aud": "sealctl", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600,
    }));
    let foreign = Bao::start().jwt(MACHINE);
    for jwt in [stale, foreign] {
        let login = Login::Jwt(MACHINE.to_owned(), jwt);
        let output = team.exec_marker(&login);
        team.assert_refused(&output, &before, &login, &["jwt login", "failed"]);
    }
}

#[test]
fn a_tls_server_is_trusted_with_its_ca_only() {
    let team = Team::with(Bao::start_tls());
    let ca = team.bao.ca_cert().unwrap().to_owned();
    team.root()
        .env("VAULT_CACERT", &ca)
        .args(["--profile", "prod", "token", "set", "--backend", "transit"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let before = team.file();
    let login = team.root_login();
    let output = team.exec_marker(&login);
    team.assert_refused(&output, &before, &login, &["TLS", "VAULT_CACERT"]);

    let got = team
        .root()
        .env("VAULT_CACERT", &ca)
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(
        sha256(String::from_utf8(got.stdout).unwrap().trim_end()),
        sha256(TOKEN)
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let before = team.file();
    // Accepts connections and never answers; they stay open until the test ends.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let login = team.root_login();
    let output = team
        .sealctl(&login)
        .env("BAO_ADDR", &address)
        .env("SEALCTL_BAO_TIMEOUT", "1")
        .args(["--profile", "prod", "exec", "--env", "T=mgmt_token", "--"])
        .args(["sh", "-c", &format!("touch {}", team.marker().display())])
        .output()
        .unwrap();
    team.assert_refused(
        &output,
        &before,
        &login,
        &["did not answer within", &address, "SEALCTL_BAO_TIMEOUT"],
    );
}

#[test]
fn a_key_that_is_not_derived_is_refused_with_the_command_that_makes_one() {
    let team = Team::new();
    let before = team.file();
    let login = team.root_login();
    let output = team
        .root()
        .args([
            "--profile",
            "prod",
            "token",
            "set",
            "--transit-key",
            PLAIN_KEY,
        ])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    team.assert_refused(&output, &before, &login, &["not derived", "derived=true"]);
}
