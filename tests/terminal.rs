//! Prompts through a real pseudo-terminal: a hidden token, a yes/no before writing plaintext,
//! and the passphrase of a protected identity, as a person at a terminal meets them.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use rexpect::session::{PtySession, spawn_command};
use secrecy::SecretString;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_TYPED-Hq29xLp0Wc5Rz8";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

/// sealctl on a pseudo-terminal, with no PATH: so that age asks on the terminal itself, not
/// through a pinentry program the machine may have.
fn on_terminal(env: &TestEnv, args: &[&str]) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sealctl"));
    command
        .args(args)
        .env_clear()
        .env("PATH", "")
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("TERM", "dumb")
        .current_dir(env.home());
    spawn_command(command, Some(20_000)).expect("a pseudo-terminal")
}

/// A scratch HOME with a default identity and a profile file sealed to it.
fn setup() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    let config = env.write(".config/influxctl/config.toml", PROFILES);
    env.sealctl().args(["identity", "new"]).assert().success();
    (env, config)
}

/// `token set` on a terminal, given `input` at its hidden prompt. Returns the screen and the file
/// after checking that neither shows the token and that `token get` gives it back.
fn token_set_on_terminal(input: &str) -> (String, String) {
    let (env, config) = setup();
    let mut session = on_terminal(&env, &["token", "set"]);
    session
        .exp_string("Token for profile `default` key `mgmt_token` (input hidden): ")
        .unwrap();
    session.send(input).unwrap();
    session.flush().unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(
        screen.contains("sealed profile `default` key `mgmt_token`"),
        "{screen}"
    );
    assert!(!leaks(&screen, TOKEN), "the token was echoed");
    let file = std::fs::read_to_string(&config).unwrap();
    assert!(!leaks(&file, TOKEN));
    env.sealctl()
        .args(["token", "get"])
        .assert()
        .success()
        .stdout(format!("{TOKEN}\n"));
    (screen, file)
}

#[test]
fn a_token_typed_at_the_prompt_is_not_echoed() {
    token_set_on_terminal(&format!("{TOKEN}\n"));
}

#[test]
fn a_pasted_management_create_output_is_read_whole_and_not_echoed() {
    // A paste arrives in one burst: every line is read, none is echoed or left for the shell.
    let (screen, file) = token_set_on_terminal(&format!(
        "+--------------------------------------+-------------+----------------------+\n\
         | ID                                   | DESCRIPTION | EXPIRES AT           |\n\
         +--------------------------------------+-------------+----------------------+\n\
         | 6b4d4a39-8a28-4f0d-9a0e-8f6f0a1b2c3d | laptop      | 2031-02-01T00:00:00Z |\n\
         +--------------------------------------+-------------+----------------------+\n\
         Warning: the token is shown once; store it in a secure place.\n\
         \n\
         {TOKEN}\n"
    ));
    assert!(
        !screen.contains("6b4d4a39"),
        "the table was echoed: {screen}"
    );
    assert!(
        file.contains(";exp=2031-02-01T00:00:00Z"),
        "the expiry was read"
    );
}

#[test]
fn unseal_asks_before_writing_plaintext() {
    let (env, config) = setup();
    env.sealctl()
        .args(["token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let sealed = std::fs::read(&config).unwrap();

    let mut session = on_terminal(&env, &["unseal"]);
    session.exp_string("back into").unwrap();
    session.exp_string("[y/N]").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("nothing changed").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(std::fs::read(&config).unwrap(), sealed);

    let mut session = on_terminal(&env, &["unseal"]);
    session.exp_string("[y/N]").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("unsealed 1 token").unwrap();
    session.exp_eof().unwrap();
    assert!(std::fs::read_to_string(&config).unwrap().contains(TOKEN));
}

/// An age identity file encrypted with a passphrase (a low work factor, to keep the test fast).
fn protected_identity(path: &Path, passphrase: &str) -> String {
    let identity = age::x25519::Identity::generate();
    let mut recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_owned()));
    recipient.set_work_factor(10);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let armored =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut writer = encryptor.wrap_output(armored).unwrap();
    use secrecy::ExposeSecret as _;
    writeln!(writer, "{}", identity.to_string().expose_secret()).unwrap();
    writer.finish().unwrap().finish().unwrap();
    std::fs::write(path, out).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    identity.to_public().to_string()
}

#[test]
fn a_passphrase_protected_identity_asks_for_its_passphrase() {
    let env = TestEnv::new();
    let config = env.write("config.toml", PROFILES);
    let key = env.home().join("key.age");
    let recipient = protected_identity(&key, "correct horse");
    let sealctl = |args: &[&str]| {
        let mut command = env.sealctl();
        command.arg("--config").arg(&config).args(args);
        command
    };
    sealctl(&["recipients", "add", &recipient])
        .assert()
        .success();
    sealctl(&["token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();

    // Without a terminal there is no one to ask: a clear refusal.
    let output = sealctl(&["--identity", key.to_str().unwrap(), "token", "get"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));

    let mut session = on_terminal(
        &env,
        &[
            "--config",
            config.to_str().unwrap(),
            "--identity",
            key.to_str().unwrap(),
            "token",
            "get",
        ],
    );
    session.exp_string("assphrase").unwrap();
    session.send_line("correct horse").unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(
        screen.contains(TOKEN),
        "the opened token is printed: {screen:?}"
    );
}
