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

    // Without a terminal there is no one to ask: a clear refusal, not "damaged".
    let output = sealctl(&["--identity", key.to_str().unwrap(), "token", "get"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("is protected by a passphrase, and there is no terminal to ask for it on"),
        "{text}"
    );
    assert!(!text.contains("version control"), "{text}");

    // A pinentry that cannot run (pinentry-curses with no terminal) is a failed prompt, said so.
    if Path::new("/usr/bin/pinentry-curses").exists() {
        let output = sealctl(&["--identity", key.to_str().unwrap(), "token", "get"])
            .env("PINENTRY_PROGRAM", "/usr/bin/pinentry-curses")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(
            text.contains("could not be asked for: the prompt failed"),
            "{text}"
        );
        assert!(
            text.contains("sealctl: could not ask for the passphrase: "),
            "{text}"
        );
        assert!(
            !text.contains("version control") && !text.contains("no terminal"),
            "{text}"
        );
    }

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

const OTHER_TOKEN: &str = "apiv3_SECOND-Vb72kQ9sLx4Np";

const TWO_PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// An identity file made by the real `age -p` at its default work factor (2^18, which debug
/// builds used to refuse with "Excessive work parameter"), driven on a pseudo-terminal as a
/// person would; returns its recipient.
fn age_p_identity(env: &TestEnv, path: &Path, passphrase: &str) -> String {
    let plain = env.home().join("plain-identity.txt");
    crate::common::succeeded(crate::common::command("age-keygen").arg("-o").arg(&plain));
    let recipient =
        crate::common::succeeded(crate::common::command("age-keygen").arg("-y").arg(&plain));
    let mut command = Command::new("age");
    command
        .args(["-p", "-a", "-o"])
        .arg(path)
        .arg(&plain)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "dumb");
    let mut age = spawn_command(command, Some(20_000)).expect("age runs (apt-get install age)");
    age.exp_string("Enter passphrase (leave empty to autogenerate a secure one): ")
        .unwrap();
    age.send_line(passphrase).unwrap();
    age.flush().unwrap();
    age.exp_string("Confirm passphrase: ").unwrap();
    age.send_line(passphrase).unwrap();
    age.flush().unwrap();
    age.exp_eof().unwrap();
    std::fs::remove_file(&plain).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let made = std::fs::read_to_string(path).unwrap();
    assert!(
        made.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "age -p made no identity"
    );
    String::from_utf8(recipient.stdout)
        .unwrap()
        .trim()
        .to_owned()
}

/// An OpenSSH key with a passphrase, made by the real `ssh-keygen -N`; returns its public key.
fn ssh_protected_key(path: &Path, passphrase: &str) -> String {
    crate::common::succeeded(
        crate::common::command("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f"])
            .arg(path),
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A file whose two profiles hold tokens sealed to `recipients`.
fn sealed_to(env: &TestEnv, recipients: &[&str]) -> std::path::PathBuf {
    let config = env.write("config.toml", TWO_PROFILES);
    for recipient in recipients {
        env.sealctl()
            .arg("--config")
            .arg(&config)
            .args(["recipients", "add", recipient])
            .assert()
            .success();
    }
    for (profile, token) in [("default", TOKEN), ("prod", OTHER_TOKEN)] {
        env.sealctl()
            .arg("--config")
            .arg(&config)
            .args(["--profile", profile, "token", "set"])
            .write_stdin(token)
            .assert()
            .success();
    }
    config
}

/// Runs sealctl on a terminal, answers each passphrase prompt with `answer`, and returns the
/// screen, the number of prompts and the exit status.
fn answer_prompts(env: &TestEnv, args: &[&str], answer: &str) -> (String, usize, i32) {
    let mut session = on_terminal(env, args);
    let mut prompts = 0;
    let mut screen = String::new();
    while let Ok((before, prompt)) = session.exp_regex("[Pp]assphrase[^\\n]*: ") {
        screen.push_str(&before);
        screen.push_str(&prompt);
        prompts += 1;
        session.send_line(answer).unwrap();
        session.flush().unwrap();
    }
    screen.push_str(&session.exp_eof().unwrap_or_default());
    // nix's `Exited(Pid(…), code)`, read from its Debug form (rexpect does not re-export it).
    let waited = format!("{:?}", session.process().wait().unwrap());
    let status = waited
        .strip_prefix("Exited(")
        .and_then(|rest| rest.rsplit_once(", "))
        .and_then(|(_, code)| code.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("sealctl did not exit: {waited}"));
    (screen, prompts, status)
}

/// A real `age -p` identity opens in the tests' build (no "Excessive work parameter"), and
/// its passphrase is asked once for every value of the command.
#[test]
fn a_real_age_p_identity_is_asked_for_once_per_command() {
    let env = TestEnv::new();
    let key = env.home().join("key.age");
    let recipient = age_p_identity(&env, &key, "correct horse");
    let config = sealed_to(&env, &[&recipient]);
    let key = key.to_str().unwrap();
    let config = config.to_str().unwrap();
    let before = std::fs::read(config).unwrap();

    let (screen, prompts, status) = answer_prompts(
        &env,
        &["--config", config, "--identity", key, "rekey", "--all"],
        "correct horse",
    );
    assert_eq!(status, 0, "{screen}");
    assert_eq!(prompts, 1, "asked {prompts} times: {screen}");
    assert!(!screen.contains("Excessive work"), "{screen}");
    // The prompt names the file without age's invisible isolates (U+2068, U+2069).
    assert!(screen.contains("key.age"), "{screen}");
    assert!(
        !screen.contains('\u{2068}') && !screen.contains('\u{2069}'),
        "{screen:?}"
    );
    assert!(!leaks(&screen, TOKEN) && !leaks(&screen, OTHER_TOKEN));

    // A wrong passphrase: said so, asked once, nothing about a damaged value.
    let sealed = std::fs::read(config).unwrap();
    assert_ne!(sealed, before, "rekey re-sealed the values");
    let (screen, prompts, status) = answer_prompts(
        &env,
        &["--config", config, "--identity", key, "rekey", "--all"],
        "wrong horse",
    );
    assert_eq!(status, 2, "{screen}");
    assert_eq!(prompts, 1, "asked {prompts} times: {screen}");
    assert!(
        screen.contains(&format!(
            "error: the passphrase for identity {key} is wrong"
        )),
        "{screen}"
    );
    assert!(screen.contains("hint: run it again and type that identity's passphrase"));
    assert!(
        !screen.contains("sealed value is damaged") && !screen.contains("version control"),
        "{screen}"
    );
    assert_eq!(std::fs::read(config).unwrap(), sealed);

    // A cancelled prompt (an empty answer at the terminal).
    let (screen, _, status) = answer_prompts(
        &env,
        &["--config", config, "--identity", key, "token", "get"],
        "",
    );
    assert_eq!(status, 2, "{screen}");
    assert!(
        screen.contains(&format!(
            "error: the passphrase prompt for identity {key} was cancelled"
        )),
        "{screen}"
    );
    assert!(!screen.contains("version control"), "{screen}");
}

/// An OpenSSH key with a passphrase is asked for once, though the value has three stanzas and
/// the command opens two values; without a terminal it says so instead of "damaged".
#[test]
fn a_protected_ssh_key_is_asked_for_once_and_never_without_a_terminal() {
    let env = TestEnv::new();
    let key = env.home().join("id_ed25519");
    let ssh = ssh_protected_key(&key, "ssh pass");
    let others: Vec<String> = (0..2)
        .map(|_| age::x25519::Identity::generate().to_public().to_string())
        .collect();
    let config = sealed_to(&env, &[&others[0], &ssh, &others[1]]);
    let key = key.to_str().unwrap();
    let config = config.to_str().unwrap();

    let (screen, prompts, status) = answer_prompts(
        &env,
        &[
            "--config",
            config,
            "--identity",
            key,
            "--profile",
            "prod",
            "token",
            "get",
        ],
        "ssh pass",
    );
    assert_eq!(status, 0, "{screen}");
    assert_eq!(prompts, 1, "asked {prompts} times for one value: {screen}");
    assert!(screen.contains(OTHER_TOKEN), "the token is printed");

    let (screen, prompts, status) = answer_prompts(
        &env,
        &["--config", config, "--identity", key, "rekey", "--all"],
        "ssh pass",
    );
    assert_eq!(status, 0, "{screen}");
    assert_eq!(prompts, 1, "asked {prompts} times for two values: {screen}");

    let (screen, prompts, status) = answer_prompts(
        &env,
        &["--config", config, "--identity", key, "rekey", "--all"],
        "not it",
    );
    assert_eq!((status, prompts), (2, 1), "{screen}");
    assert!(
        screen.contains(&format!("the passphrase for identity {key} is wrong")),
        "{screen}"
    );

    // No terminal: standard input is a pipe.
    let sealed = std::fs::read(config).unwrap();
    let output = env
        .sealctl()
        .args(["--config", config, "--identity", key, "token", "get"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(output.stdout.is_empty());
    assert!(
        text.contains(&format!(
            "error: identity {key} is protected by a passphrase, and there is no terminal to ask for it on"
        )),
        "{text}"
    );
    assert!(text.contains("hint: run it from a terminal"), "{text}");
    assert!(
        !text.contains("sealed value is damaged") && !text.contains("version control"),
        "{text}"
    );
    assert_eq!(std::fs::read(config).unwrap(), sealed);
}

/// Names that would drive a terminal: an OSC that sets the window title, a 7-bit CSI that clears
/// the screen, the one-byte C1 CSI (U+009B), and a right-to-left override.
const HOSTILE: [&str; 4] = [
    "x\u{1b}]0;TITLE\u{7}",
    "y\u{1b}[2J",
    "z\u{9b}31m",
    "w\u{202e}gpj.exe",
];

/// No byte of `output` could drive the terminal: no ESC, BEL, C1 CSI or bidi override. JSON
/// keeps names exact: its own escaping covers ESC and BEL, and it is read by programs.
fn assert_shown_not_sent(what: &str, output: &std::process::Output) {
    let json = what.contains("json");
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&0x07),
            "{what}: a raw escape reached {stream}: {text:?}"
        );
        assert!(
            json || !bytes.contains(&0x9b) && !text.contains('\u{202e}'),
            "{what}: a C1 control or bidi override reached {stream}: {text:?}"
        );
    }
}

/// A TOML basic string holding `text`, as a person would write a hostile name in a file.
fn toml_string(text: &str) -> String {
    text.chars()
        .map(|ch| {
            if ch.is_control() || ch == '\u{202e}' {
                format!("\\u{:04X}", ch as u32)
            } else {
                ch.to_string()
            }
        })
        .collect()
}

#[test]
fn names_that_hold_escape_sequences_are_shown_not_sent() {
    let env = TestEnv::new();
    let mut text = String::new();
    for name in HOSTILE {
        text.push_str(&format!(
            "[[profile]]\n  name = \"{}\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"{TOKEN}\"\n\n",
            toml_string(name)
        ));
    }
    let config = env.write(".config/influxctl/config.toml", &text);
    env.sealctl().args(["identity", "new"]).assert().success();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut command = env.sealctl();
        command.args(args);
        if let Some(stdin) = stdin {
            command.write_stdin(stdin);
        }
        let output = command.output().unwrap();
        assert_shown_not_sent(&format!("{args:?}"), &output);
        output
    };

    // Read-only views, before anything is sealed: every name appears, made visible.
    let listed = run(&["profile", "list"], None);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("x\\u001B]0;TITLE\\u0007"), "{listed}");
    assert!(listed.contains("z\\u009B31m"), "{listed}");
    assert!(listed.contains("w\\u202Egpj.exe"), "{listed}");
    for name in HOSTILE {
        run(&["profile", "show", name], None);
        run(&["--profile", name, "token", "get"], None);
    }
    let checked = run(&["check"], None);
    assert_eq!(checked.status.code(), Some(1));
    run(&["doctor"], None);
    run(&["profile", "show", "no\u{1b}]0;such\u{7}"], None);
    // A path is a name too, in errors and in the command their hint suggests.
    let missing = run(&["--config", "p\u{1b}]0;T\u{7}\u{9b}.toml", "seal"], None);
    assert_eq!(missing.status.code(), Some(2));
    let said = String::from_utf8(missing.stderr).unwrap();
    assert!(said.contains("p\\u001B]0;T\\u0007\\u009B.toml"), "{said}");
    assert!(
        said.contains("sealctl init --config \"$(printf 'p\\033]0;T\\007\\302\\233.toml')\""),
        "{said}"
    );

    // Machine output keeps the exact names: JSON's own escaping is safe.
    let json = run(&["check", "--format", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let profiles: Vec<&str> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["profile"].as_str())
        .collect();
    assert_eq!(profiles, HOSTILE);
    let json = run(&["profile", "list", "--format", "json"], None);
    let listing: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(listing["profiles"][0]["name"], HOSTILE[0]);

    // Commands that change the file, and say so.
    let sealed = run(&["seal", "--all"], None);
    assert!(sealed.status.success());
    for name in HOSTILE {
        let set = run(&["--profile", name, "token", "set"], Some(TOKEN));
        assert!(set.status.success());
        let set = run(
            &["--profile", name, "token", "set", "--key", "token"],
            Some(TOKEN),
        );
        assert!(set.status.success());
        let rm = run(&["--profile", name, "token", "rm", "--key", "token"], None);
        assert!(rm.status.success());
    }
    let renamed = run(
        &["profile", "rename", HOSTILE[0], "v\u{1b}]0;NEW\u{7}"],
        None,
    );
    assert!(renamed.status.success());
    let exists = run(&["profile", "rename", HOSTILE[1], HOSTILE[2]], None);
    assert_eq!(exists.status.code(), Some(2));
    let removed = run(&["profile", "rm", HOSTILE[3], "--yes"], None);
    assert!(removed.status.success());
    let added = run(
        &[
            "init",
            "--no-input",
            "--name",
            "i\u{1b}]0;INIT\u{7}",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
            "--token-stdin",
        ],
        Some(TOKEN),
    );
    assert!(added.status.success());
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("i\\u001B]0;INIT\\u0007")
    );
}

// Regression: the warnings of `token get` (an unbound value, an expiring token) printed the
// profile's name raw.
#[test]
fn warnings_show_names_too() {
    let env = TestEnv::new();
    let name = "x\u{1b}]0;TITLE\u{7}";
    let config = env.write(
        ".config/influxctl/config.toml",
        format!(
            "[[profile]]\n  name = \"{}\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n",
            toml_string(name)
        ),
    );
    env.sealctl().args(["identity", "new"]).assert().success();
    env.sealctl()
        .args(["--profile", name, "token", "set", "--expires-in", "2d"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    // Unbound, as an earlier sealctl left it: `ep=` is not there.
    let sealed = std::fs::read_to_string(&config).unwrap();
    let at = sealed.find(";ep=").expect("the value is bound");
    let unbound = format!("{}{}", &sealed[..at], &sealed[at + 12..]);
    std::fs::write(&config, unbound).unwrap();
    let output = env
        .sealctl()
        .args(["--profile", name, "token", "get"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not bound to an endpoint"), "{stderr}");
    assert!(stderr.contains("expires at"), "{stderr}");
    assert_shown_not_sent("token get warnings", &output);
}
