//! The `transit` and `kv` backends' own paths through the CLI, against a real server: the place
//! binding (the server refuses a moved transit value; the Opener refuses a moved kv reference),
//! `rekey`'s rewrap, `token rm`, the failures each with its message, and `check`'s grammar.

use std::path::PathBuf;

use crate::common::openbao::{Bao, DENIED, MACHINE, PLAIN_KEY};
use crate::common::{TestEnv, leaks, sha256};

const TOKEN: &str = "apiv3_Qm29Xv7LpTn4Rw";
const ROTATED: &str = "apiv3_Zk81Hc3NbWq6Js";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

struct Setup {
    env: TestEnv,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        let config = env.write("config.toml", PROFILES);
        Setup { env, config }
    }

    fn sealctl(&self, vars: &[(&'static str, String)]) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command.arg("--config").arg(&self.config);
        for (name, value) in vars {
            command.env(name, value);
        }
        command
    }

    fn read(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    fn set(&self, vars: &[(&'static str, String)], backend: &str, profile: &str, token: &str) {
        self.sealctl(vars)
            .args(["token", "set", "--backend", backend, "--profile", profile])
            .write_stdin(format!("{token}\n"))
            .assert()
            .success();
    }

    /// `token get`'s output digest and stderr, and its exit status.
    fn get(&self, vars: &[(&'static str, String)], profile: &str) -> (Option<i32>, String, String) {
        let output = self
            .sealctl(vars)
            .args(["token", "get", "--profile", profile])
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        (
            output.status.code(),
            sha256(stdout.trim_end()),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    /// The value of `key` in `profile`'s table as written.
    fn value(&self, profile: &str) -> String {
        let text = self.read();
        let start = text.find(&format!("name = \"{profile}\"")).unwrap();
        let line = text[start..]
            .lines()
            .find(|line| line.trim_start().starts_with("mgmt_token"))
            .unwrap();
        line.split_once('"')
            .unwrap()
            .1
            .trim_end_matches('"')
            .to_owned()
    }

    /// Writes the file with `value` as `mgmt_token` of `profile` (and nothing else sealed).
    fn place(&self, profile: &str, value: &str) {
        let mut text = PROFILES.to_owned();
        let anchor = format!("name = \"{profile}\"\n");
        let at = text.find(&anchor).unwrap() + anchor.len();
        text.insert_str(at, &format!("  mgmt_token = \"{value}\"\n"));
        std::fs::write(&self.config, text).unwrap();
    }
}

fn refused(setup: &Setup, vars: &[(&'static str, String)], profile: &str, says: &str) {
    let before = setup.read();
    let (status, _, stderr) = setup.get(vars, profile);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert!(!leaks(&stderr, TOKEN), "the token leaked into stderr");
    assert_eq!(setup.read(), before);
}

#[test]
fn a_transit_value_is_bound_to_its_place_by_the_server_and_rewrapped_by_rekey() {
    let bao = Bao::start();
    let setup = Setup::new();
    let env = bao.env();
    setup.set(&env, "transit", "prod", TOKEN);
    let value = setup.value("prod");
    assert!(
        value.starts_with("sealctl:v1:transit:transit/sealctl/vault:v1:"),
        "{value}"
    );
    assert!(!leaks(&setup.read(), TOKEN));
    assert_eq!(setup.get(&env, "prod").1, sha256(TOKEN));

    // Copied into another profile: the server refuses the context.
    setup.place("default", &value);
    refused(&setup, &env, "default", "sealed for another place");
    // Its ep= edited: the context changes with it, and the server refuses it too.
    let digest = value.rsplit("ep=").next().unwrap();
    let edited = value.replace(&format!("ep={digest}"), "ep=00000000");
    setup.place("prod", &edited);
    refused(&setup, &env, "prod", "sealed for another place");

    // The host changed, ep= left alone: the server opens it, sealctl refuses naming both.
    setup.place("prod", &value);
    let moved = setup.read().replace("prod.example.com", "evil.example.com");
    std::fs::write(&setup.config, &moved).unwrap();
    refused(&setup, &env, "prod", "evil.example.com");
    setup
        .sealctl(&env)
        .args(["rekey", "--rebind", "--profile", "prod"])
        .assert()
        .success();
    assert_eq!(setup.get(&env, "prod").1, sha256(TOKEN));

    // rekey after a rotation: vault:v1 becomes vault:v2 without the token (rewrap).
    bao.rotate_key();
    let before = setup.value("prod");
    assert!(before.contains("/vault:v1:"));
    setup
        .sealctl(&env)
        .args(["rekey", "--profile", "prod"])
        .assert()
        .success();
    let after = setup.value("prod");
    assert!(after.contains("/vault:v2:"), "{after}");
    assert_eq!(
        before.split(";ep=").nth(1),
        after.split(";ep=").nth(1),
        "the clear parameters are kept"
    );
    assert_eq!(setup.get(&env, "prod").1, sha256(TOKEN));
}

#[test]
fn a_kv_value_keeps_the_raw_token_in_the_server_follows_rotations_and_is_deleted_by_rm() {
    let bao = Bao::start();
    let setup = Setup::new();
    let env = bao.env();
    setup.set(&env, "kv", "prod", TOKEN);
    let value = setup.value("prod");
    assert!(
        value.starts_with("sealctl:v1:kv:secret:sealctl/prod#mgmt_token;"),
        "{value}"
    );
    // Other tools read the raw token.
    let stored = bao.bao_field(["kv", "get", "-field=mgmt_token", "secret/sealctl/prod"]);
    assert_eq!(sha256(&stored), sha256(TOKEN));
    // A rotation in the server reaches the file's readers; the binding survives it.
    bao.bao([
        "kv",
        "patch",
        "secret/sealctl/prod",
        &format!("mgmt_token={ROTATED}"),
    ]);
    assert_eq!(setup.get(&env, "prod").1, sha256(ROTATED));
    // A reference copied into another profile is refused.
    setup.place("default", &value);
    let (status, _, stderr) = setup.get(&env, "default");
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("was sealed for profile `prod`"), "{stderr}");

    // Set again, then removed: the secret is gone from the server.
    setup.place("prod", &value);
    setup
        .sealctl(&env)
        .args(["token", "rm", "--profile", "prod"])
        .assert()
        .success();
    assert!(!setup.read().contains("mgmt_token"));
    let output = bao
        .bao_command(["kv", "get", "secret/sealctl/prod"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[test]
fn a_replaced_kv_value_does_not_delete_the_field_its_replacement_wrote() {
    let bao = Bao::start();
    let setup = Setup::new();
    let env = bao.env();
    setup.set(&env, "kv", "prod", TOKEN);
    setup.set(&env, "kv", "prod", ROTATED);
    assert_eq!(setup.get(&env, "prod").1, sha256(ROTATED));
}

#[test]
fn each_failure_of_the_server_has_its_own_message_and_leaves_the_file_alone() {
    let mut bao = Bao::start();
    let setup = Setup::new();
    let env = bao.env();
    setup.set(&env, "transit", "prod", TOKEN);

    let denied = bao.token(DENIED, "10m");
    refused(
        &setup,
        &bao.env_with_token(&denied),
        "prod",
        "lacks the `update` capability on transit/decrypt/sealctl",
    );
    let expired = bao.expired_token(MACHINE);
    refused(
        &setup,
        &bao.env_with_token(&expired),
        "prod",
        "expired or not valid",
    );
    refused(
        &setup,
        &bao.env_with_token("not-a-token"),
        "prod",
        "expired or not valid",
    );

    // A key that is not derived is refused with the command that makes one.
    let before = setup.read();
    setup
        .sealctl(&env)
        .args([
            "token",
            "set",
            "--backend",
            "transit",
            "--transit-key",
            PLAIN_KEY,
            "--profile",
            "default",
        ])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not derived"))
        .stderr(predicates::str::contains("derived=true"));
    assert_eq!(setup.read(), before);

    bao.seal();
    refused(&setup, &env, "prod", "is sealed");
    bao.stop();
    refused(&setup, &env, "prod", "cannot be reached");
}

#[test]
fn approle_and_jwt_logins_open_values() {
    let bao = Bao::start();
    let setup = Setup::new();
    setup.set(&bao.env(), "transit", "prod", TOKEN);
    let address = bao.address().to_owned();
    let (role_id, secret_id) = bao.approle(MACHINE);
    let approle = vec![
        ("BAO_ADDR", address.clone()),
        ("SEALCTL_BAO_LOGIN", "approle".to_owned()),
        ("SEALCTL_BAO_ROLE_ID", role_id),
        ("SEALCTL_BAO_SECRET_ID", secret_id.clone()),
    ];
    assert_eq!(setup.get(&approle, "prod").1, sha256(TOKEN));
    let wrong = vec![
        ("BAO_ADDR", address.clone()),
        ("SEALCTL_BAO_LOGIN", "approle".to_owned()),
        ("SEALCTL_BAO_ROLE_ID", "wrong-role-id".to_owned()),
        ("SEALCTL_BAO_SECRET_ID", secret_id.clone()),
    ];
    let (status, _, stderr) = setup.get(&wrong, "prod");
    assert_eq!(status, Some(2));
    assert!(stderr.contains("approle login"), "{stderr}");
    assert!(!leaks(&stderr, &secret_id));
    let jwt = bao.jwt(MACHINE);
    let jwt_env = vec![
        ("BAO_ADDR", address),
        ("SEALCTL_BAO_LOGIN", "jwt".to_owned()),
        ("SEALCTL_BAO_ROLE", MACHINE.to_owned()),
        ("SEALCTL_BAO_JWT", jwt),
    ];
    assert_eq!(setup.get(&jwt_env, "prod").1, sha256(TOKEN));
}

#[test]
fn check_judges_transit_and_kv_payloads_and_the_settings_without_a_server() {
    let setup = Setup::new();
    setup.place("prod", "sealctl:v1:kv:secret:sealctl/../sys#mgmt_token");
    setup
        .sealctl(&[])
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicates::str::contains("malformed-sealed"));
    setup.place("prod", "sealctl:v1:transit:transit/sealctl/vault:v1:AAAA");
    let output = setup.sealctl(&[]).arg("check").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains("malformed-sealed") && !stdout.contains("unknown-backend"),
        "{stdout}"
    );
    std::fs::write(
        &setup.config,
        format!("{PROFILES}\n[sealctl.openbao]\ntransit_key = \"a/b\"\n"),
    )
    .unwrap();
    setup
        .sealctl(&[])
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicates::str::contains("transit_key"));
}

#[test]
fn tls_is_verified_against_vault_cacert_and_a_failure_says_so() {
    let bao = Bao::start_tls();
    let setup = Setup::new();
    let ca = bao
        .ca_cert()
        .expect("a TLS server has a CA")
        .display()
        .to_string();
    let mut trusted = bao.env();
    trusted.push(("VAULT_CACERT", ca));
    setup.set(&trusted, "transit", "prod", TOKEN);
    assert_eq!(setup.get(&trusted, "prod").1, sha256(TOKEN));
    // Without the CA, the server's certificate is not trusted: nothing is sent.
    refused(&setup, &bao.env(), "prod", "VAULT_CACERT");
    // VAULT_SKIP_VERIFY works, with a warning every time.
    let mut skipping = bao.env();
    skipping.push(("VAULT_SKIP_VERIFY", "true".to_owned()));
    let (status, digest, stderr) = setup.get(&skipping, "prod");
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(digest, sha256(TOKEN));
    assert!(stderr.contains("is not verified"), "{stderr}");
}
