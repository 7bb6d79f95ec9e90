//! The OpenBao fixture itself: what the other tests take for granted about the server.

use crate::common::openbao::{Bao, DENIED, KEY, MACHINE, PLAIN_KEY, binary};
use crate::common::{command, sha256};

/// `context` and `plaintext` as transit takes them.
fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn the_dev_server_keeps_a_kv_secret_and_stops_with_the_test() {
    let bao = Bao::start();
    bao.bao(["kv", "put", "secret/sealctl/prod", "token=fixture-secret"]);
    // As a client given only `env()` reads it.
    let home = tempfile::tempdir().unwrap();
    let read = command(binary())
        .args(["kv", "get", "-field=token", "secret/sealctl/prod"])
        .envs(bao.env())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(read.status.success());
    assert_eq!(
        sha256(String::from_utf8(read.stdout).unwrap().trim()),
        sha256("fixture-secret")
    );
    assert!(
        bao.env()
            .contains(&("BAO_TOKEN", bao.root_token().to_owned()))
    );

    let address = bao.address().trim_start_matches("http://").to_owned();
    drop(bao);
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "the server still listens after the test"
    );
}

#[test]
fn the_transit_keys_and_policies_are_as_the_tests_expect() {
    let bao = Bao::start();
    assert_eq!(
        bao.bao_field(["read", "-field=derived", &format!("transit/keys/{KEY}")]),
        "true"
    );
    assert_eq!(
        bao.bao_field([
            "read",
            "-field=derived",
            &format!("transit/keys/{PLAIN_KEY}")
        ]),
        "false"
    );

    let machine = bao.token(MACHINE, "10m");
    let denied = bao.token(DENIED, "10m");
    let encrypt = |token: &str| {
        let mut command = bao.bao_command([
            "write",
            "-field=ciphertext",
            &format!("transit/encrypt/{KEY}"),
            &format!("plaintext={}", base64("a secret")),
            &format!("context={}", base64("here")),
        ]);
        command.env("BAO_TOKEN", token).output().unwrap()
    };
    let decrypt = |token: &str, ciphertext: &str, context: &str| {
        let mut command = bao.bao_command([
            "write",
            "-field=plaintext",
            &format!("transit/decrypt/{KEY}"),
            &format!("ciphertext={ciphertext}"),
            &format!("context={}", base64(context)),
        ]);
        command.env("BAO_TOKEN", token).output().unwrap()
    };
    let sealed = encrypt(&denied);
    assert!(sealed.status.success(), "the denied policy may encrypt");
    let ciphertext = String::from_utf8(sealed.stdout).unwrap().trim().to_owned();
    assert!(ciphertext.starts_with("vault:v1:"));

    let opened = decrypt(&machine, &ciphertext, "here");
    assert!(opened.status.success());
    assert_eq!(
        String::from_utf8(opened.stdout).unwrap().trim(),
        base64("a secret")
    );
    let moved = decrypt(&machine, &ciphertext, "elsewhere");
    assert!(!moved.status.success(), "another context opened the value");
    let refused = decrypt(&denied, &ciphertext, "here");
    assert!(!refused.status.success(), "the denied policy may decrypt");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("permission denied"));

    bao.rotate_key();
    let rewrapped = bao.bao_field([
        "write",
        "-field=ciphertext",
        &format!("transit/rewrap/{KEY}"),
        &format!("ciphertext={ciphertext}"),
        &format!("context={}", base64("here")),
    ]);
    assert!(rewrapped.starts_with("vault:v2:"));
}

/// Logs in with `bao write auth/<path>/login …` and returns the token's policies.
fn login_policies(bao: &Bao, path: &str, fields: &[String]) -> String {
    let token = bao.bao_field(
        ["write", "-field=token", &format!("auth/{path}/login")]
            .into_iter()
            .map(str::to_owned)
            .chain(fields.iter().cloned()),
    );
    let mut lookup = bao.bao_command(["token", "lookup", "-field=policies"]);
    let output = lookup.env("BAO_TOKEN", &token).output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn approle_jwt_and_short_tokens_log_in_as_the_tests_expect() {
    let bao = Bao::start();
    let (role_id, secret_id) = bao.approle(MACHINE);
    let policies = login_policies(
        &bao,
        "approle",
        &[
            format!("role_id={role_id}"),
            format!("secret_id={secret_id}"),
        ],
    );
    assert!(policies.contains(MACHINE), "{policies}");

    let jwt = bao.jwt(DENIED);
    let policies = login_policies(
        &bao,
        "jwt",
        &[format!("role={DENIED}"), format!("jwt={jwt}")],
    );
    assert!(policies.contains(DENIED), "{policies}");

    // A JWT for another audience, or signed by another key, is refused.
    let other = Bao::start();
    let foreign = other.jwt(DENIED);
    let mut login = bao.bao_command([
        "write".to_owned(),
        "auth/jwt/login".to_owned(),
        format!("role={DENIED}"),
        format!("jwt={foreign}"),
    ]);
    assert!(!login.output().unwrap().status.success());

    let expired = bao.expired_token(MACHINE);
    let mut lookup = bao.bao_command(["token", "lookup"]);
    lookup.envs(bao.env_with_token(&expired));
    assert!(!lookup.output().unwrap().status.success());
}

#[test]
fn a_sealed_server_answers_sealed_and_a_tls_one_needs_its_ca() {
    let bao = Bao::start_tls();
    assert!(bao.address().starts_with("https://"));
    let ca = bao.ca_cert().unwrap();
    assert!(ca.is_file());
    let mut without_ca = bao.bao_command(["status"]);
    without_ca.env_remove("BAO_CACERT");
    assert!(!without_ca.output().unwrap().status.success());

    bao.seal();
    let status = bao
        .bao_command(["status", "-format=json"])
        .output()
        .unwrap();
    // `bao status` exits 2 for a sealed server.
    assert_eq!(status.status.code(), Some(2));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["sealed"], true);
}
