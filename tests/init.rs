//! `sealctl init` and `profile add`: asked through a real pseudo-terminal (the token typed
//! hidden), and from flags alone, where every missing value is an error naming its flag and an
//! existing file keeps every byte it had.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use predicates::prelude::*;
use rexpect::session::spawn_command;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_InIt7Kw2Qz9Lx4Vb";
const ACCOUNT: &str = "11111111-2222-3333-4444-555555555555";
const CLUSTER: &str = "66666666-7777-8888-9999-000000000000";

fn config(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".config/influxctl/config.toml")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_asks_on_a_terminal_and_hides_the_token() {
    let env = TestEnv::new();
    // Starts `init` on a pseudo-terminal and gives each answer once its question shows.
    let init = |answers: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sealctl"));
        command
            .arg("init")
            .env_clear()
            .env("PATH", "")
            .env("HOME", env.home())
            .env("XDG_CONFIG_HOME", env.home().join(".config"))
            .env("XDG_RUNTIME_DIR", env.home())
            .env("TERM", "xterm")
            .current_dir(env.home());
        let mut session = spawn_command(command, Some(20_000)).expect("a pseudo-terminal");
        for (question, answer) in answers {
            session.exp_string(question).unwrap();
            session.send_line(answer).unwrap();
        }
        session
    };
    // Enter takes the default; a wrong host is refused by the rules of `check`, and asked again.
    let mut session = init(&[
        ("Profile name", ""),
        ("Product", ""),
        ("Host", "https://cluster.example.com"),
        ("holds a scheme", "cluster.example.com"),
        ("Port", ""),
    ]);
    // No D-Bus session here: the keyring is not offered, and that is said.
    let asked = session
        .exp_string("Management token for profile `default` (input hidden): ")
        .unwrap();
    assert!(!asked.contains("Keep the token"), "{asked}");
    assert!(asked.contains("sealed with age"), "{asked}");
    session.send_line(TOKEN).unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(!leaks(&screen, TOKEN), "the token was echoed");
    assert!(screen.contains("made your age identity"), "{screen}");
    assert!(screen.contains("no problems found"), "{screen}");
    assert!(
        screen.contains("next: sealctl exec -- influxctl database list"),
        "{screen}"
    );

    let file = config(&env);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&file).unwrap();

    // Again, with the same name: whether to replace it is asked before the token, and a "no"
    // ends there, the file as it was.
    let mut session = init(&[
        ("Profile name", ""),
        ("Product", ""),
        ("Host", "other.example.com"),
        ("Port", ""),
        ("has a profile `default` already. Replace it? [y/N]", "n"),
    ]);
    let screen = session.exp_eof().unwrap();
    assert!(!screen.contains("Management token"), "{screen}");
    assert!(screen.contains("pass --force to replace it"), "{screen}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    assert!(text.contains("host = \"cluster.example.com\"\n  port = \"443\"\n"));
    assert!(!leaks(&text, TOKEN));
    env.sealctl().args(["check"]).assert().success();
    let got = env.sealctl().args(["token", "get"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
    #[cfg(feature = "test-fakes")]
    {
        let bin = env.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
            .unwrap();
        let output = env
            .sealctl()
            .env("PATH", &bin)
            .args(["exec", "--", "influxctl", "report"])
            .output()
            .unwrap();
        assert!(output.status.success());
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["mgmt_token_sha256"], crate::common::sha256(TOKEN));
    }
}

#[test]
fn init_from_flags_uses_every_flag() {
    let env = TestEnv::new();
    let other = env.home().join("teammate.txt");
    let teammate = env
        .sealctl()
        .args(["identity", "new", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    let teammate = String::from_utf8(teammate.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let file = env.home().join("team/influxctl.toml");
    env.sealctl()
        .args(["--config"])
        .arg(&file)
        .args([
            "init",
            "--no-input",
            "--name",
            "prod",
            "--product",
            "clustered",
            "--host",
            "prod.example.com",
            "--port",
            "8443",
            "--backend",
            "age",
            "--recipient",
            &teammate,
            "--token-stdin",
        ])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "next: sealctl exec --config {} --profile prod -- influxctl database list",
            file.display()
        )));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"8443\"\n"));
    assert!(text.contains(&teammate), "the recipient is listed");
    assert_eq!(mode(&file), 0o600);
    // Sealed to the recipient given and to your own identity, made for the occasion: each opens it.
    let own = env.home().join(".config/sealctl/identity.txt");
    assert!(own.exists(), "your identity was made");
    for identity in [&other, &own] {
        let got = env
            .sealctl()
            .args(["--config"])
            .arg(&file)
            .args(["--identity"])
            .arg(identity)
            .args(["--profile", "prod", "token", "get"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
    }

    // Dedicated, into the same file.
    env.sealctl()
        .args(["--config"])
        .arg(&file)
        .args([
            "init",
            "--no-input",
            "--name",
            "cloud",
            "--product",
            "dedicated",
            "--account-id",
            ACCOUNT,
            "--cluster-id",
            CLUSTER,
            "--token-stdin",
        ])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!(
        "name = \"cloud\"\n  product = \"dedicated\"\n  account_id = \"{ACCOUNT}\"\n  cluster_id = \"{CLUSTER}\"\n"
    )));
    env.sealctl().arg("check").arg(&file).assert().success();
}

#[test]
fn each_missing_or_wrong_value_names_its_flag() {
    let env = TestEnv::new();
    for (args, message) in [
        (vec!["--token-stdin"], "pass --product clustered|dedicated"),
        (
            vec!["--product", "clustered", "--token-stdin"],
            "pass --host HOST",
        ),
        (
            vec![
                "--product",
                "dedicated",
                "--cluster-id",
                CLUSTER,
                "--token-stdin",
            ],
            "pass --account-id UUID",
        ),
        (
            vec![
                "--product",
                "dedicated",
                "--account-id",
                ACCOUNT,
                "--token-stdin",
            ],
            "pass --cluster-id UUID",
        ),
        (
            vec!["--product", "clustered", "--host", "h.example.com"],
            "--token-stdin",
        ),
        (
            vec![
                "--product",
                "clustered",
                "--host",
                "h.example.com",
                "--port",
                "99999",
                "--token-stdin",
            ],
            "--port \"99999\": the port is outside 1-65535",
        ),
        (
            vec![
                "--product",
                "dedicated",
                "--account-id",
                "nope",
                "--cluster-id",
                CLUSTER,
                "--token-stdin",
            ],
            "--account-id \"nope\": the account id must be a UUID",
        ),
        (
            vec![
                "--product",
                "clustered",
                "--host",
                "h.example.com",
                "--backend",
                "age",
                "--keyring-store",
                "keyutils",
                "--token-stdin",
            ],
            "--keyring-store goes with --backend keyring",
        ),
    ] {
        env.sealctl()
            .args(["init", "--no-input"])
            .args(&args)
            .write_stdin(TOKEN)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert!(!config(&env).exists(), "{args:?} left a file");
    }
    assert!(
        !env.home().join(".config/sealctl/identity.txt").exists(),
        "a refused init made an identity"
    );
}

#[test]
fn an_existing_file_keeps_its_bytes_and_its_profiles_unless_forced() {
    let env = TestEnv::new();
    let original = "# our clusters\r\n[[profile]]\r\n    name = \"default\"   # the old one\r\n    product = \"clustered\"\r\n    host = \"old.example.com\"\r\n    port = \"443\"\r\n";
    let file = env.write(".config/influxctl/config.toml", original);
    let init = |extra: &[&str]| {
        let mut command = env.sealctl();
        command
            .args([
                "init",
                "--no-input",
                "--product",
                "clustered",
                "--host",
                "new.example.com",
                "--token-stdin",
            ])
            .args(extra)
            .write_stdin(TOKEN);
        command.output().unwrap()
    };
    let refused = init(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --force to replace it"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    let added = init(&["--name", "new"]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(original), "the file's bytes changed");
    assert!(
        text[original.len()..].contains("\r\n    name = \"new\"\r\n"),
        "formatted like the file"
    );

    let forced = init(&["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# our clusters\r\n"));
    assert!(!text.contains("old.example.com"));
    assert_eq!(text.matches("name = \"default\"").count(), 1);
    env.sealctl().arg("check").assert().success();

    // profile add: the same without questions, and the token optional.
    env.sealctl()
        .args([
            "profile",
            "add",
            "--name",
            "bare",
            "--product",
            "clustered",
            "--host",
            "bare.example.com",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("sealctl token set --profile bare"));
    let listed = env.sealctl().args(["profile", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("bare"));
}

#[test]
fn quiet_leaves_only_errors_and_what_was_asked_for() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let init = env
        .sealctl()
        .args([
            "-q",
            "init",
            "--no-input",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
            "--token-stdin",
        ])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(init.status.success());
    assert_eq!(String::from_utf8_lossy(&init.stderr), "");
    let got = env.sealctl().args(["-q", "token", "get"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
    assert_eq!(String::from_utf8_lossy(&got.stderr), "");
    env.sealctl()
        .args(["-q", "--profile", "nope", "token", "get"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: "));
}

/// `init` on a pseudo-terminal, with the environment given (besides a scratch HOME) and no D-Bus
/// session unless one is given.
fn init_on_terminal(env: &TestEnv, vars: &[(&str, &str)]) -> rexpect::session::PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sealctl"));
    command
        .arg("init")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("TERM", "xterm")
        .current_dir(env.home());
    for (key, value) in vars {
        command.env(key, value);
    }
    spawn_command(command, Some(20_000)).expect("a pseudo-terminal")
}

fn exit_code(session: &mut rexpect::session::PtySession) -> Option<i32> {
    match session.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

#[test]
fn ctrl_c_in_a_menu_gives_the_cursor_back_and_changes_nothing() {
    let env = TestEnv::new();
    let mut session = init_on_terminal(&env, &[]);
    session.exp_string("Profile name").unwrap();
    session.send_line("").unwrap();
    // The menu hides the cursor while it is shown.
    session.exp_string("\u{1b}[?25l").unwrap();
    session.send_control('c').unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(
        screen.contains("\u{1b}[?25h"),
        "the cursor was left hidden: {screen:?}"
    );
    assert!(screen.contains("cancelled"), "{screen:?}");
    assert_eq!(exit_code(&mut session), Some(2));
    assert!(!config(&env).exists());
}

#[test]
fn ctrl_c_at_the_hidden_token_prompt_ends_it_and_changes_nothing() {
    let env = TestEnv::new();
    let mut session = init_on_terminal(&env, &[]);
    for (question, answer) in [
        ("Profile name", ""),
        ("Product", ""),
        ("Host", "h.example.com"),
        ("Port", ""),
    ] {
        session.exp_string(question).unwrap();
        session.send_line(answer).unwrap();
    }
    session.exp_string("(input hidden): ").unwrap();
    session.send("apiv3_half").unwrap();
    session.send_control('c').unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(screen.contains("cancelled"), "{screen:?}");
    assert_eq!(exit_code(&mut session), Some(2));
    assert!(!config(&env).exists());
}

#[test]
fn an_empty_answer_says_why_it_is_asked_again() {
    let env = TestEnv::new();
    let mut session = init_on_terminal(&env, &[]);
    session.exp_string("Profile name").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Product").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Host").unwrap();
    session.send_line("").unwrap();
    session.exp_string("an answer is needed").unwrap();
    session.exp_string("host name").unwrap();
    session.send_line("h.example.com").unwrap();
    session.exp_string("Port").unwrap();
    session.send_line("").unwrap();

    // An empty token (Enter pressed too early) is asked for again, saying why.
    session.exp_string("(input hidden): ").unwrap();
    session.send_line("").unwrap();
    session.exp_string("the token is empty").unwrap();
    session.exp_string("(input hidden): ").unwrap();
    session.send_line("   ").unwrap();
    session.exp_string("(input hidden): ").unwrap();
    session.send_line(TOKEN).unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(!leaks(&screen, TOKEN), "the token was echoed");
    assert_eq!(exit_code(&mut session), Some(0), "{screen}");
    let got = env.sealctl().args(["token", "get"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
}

#[test]
fn the_keyring_is_offered_only_where_one_answers() {
    // A session bus with nothing on it: no Secret Service answers, so only age is left.
    let bus = crate::common::secret_service::SecretService::bus_only();
    let env = TestEnv::new();
    let answers = [
        ("Profile name", ""),
        ("Product", ""),
        ("Host", "h.example.com"),
        ("Port", ""),
    ];
    let mut session = init_on_terminal(&env, &[("DBUS_SESSION_BUS_ADDRESS", bus.address())]);
    for (question, answer) in answers {
        session.exp_string(question).unwrap();
        session.send_line(answer).unwrap();
    }
    session.exp_string("sealed with age").unwrap();
    session.exp_string("(input hidden): ").unwrap();
    session.send_line(TOKEN).unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(!screen.contains("Keep the token"), "{screen}");
    assert_eq!(exit_code(&mut session), Some(0), "{screen}");
    drop(bus);

    // A working Secret Service: the keyring is offered.
    let service = crate::common::secret_service::SecretService::start();
    let env = TestEnv::new();
    let mut session = init_on_terminal(&env, &[("DBUS_SESSION_BUS_ADDRESS", service.address())]);
    for (question, answer) in answers {
        session.exp_string(question).unwrap();
        session.send_line(answer).unwrap();
    }
    session.exp_string("Keep the token").unwrap();
    session.send_line("").unwrap();
    session.exp_string("(input hidden): ").unwrap();
    session.send_line(TOKEN).unwrap();
    let screen = session.exp_eof().unwrap();
    assert_eq!(exit_code(&mut session), Some(0), "{screen}");
}

#[test]
fn init_force_says_replaced_for_a_profile_without_a_token() {
    let env = TestEnv::new();
    let file = env.home().join("team.toml");
    let add = |force: bool| {
        let mut command = env.sealctl();
        command.arg("--config").arg(&file).args([
            "profile",
            "add",
            "--name",
            "prod",
            "--product",
            "clustered",
            "--host",
            "prod.example.com",
        ]);
        if force {
            command.arg("--force");
        }
        String::from_utf8(command.output().unwrap().stderr).unwrap()
    };
    assert!(add(false).contains("added profile `prod` to"));
    let again = add(true);
    assert!(again.contains("replaced profile `prod` in"), "{again}");
    assert!(!again.contains("added"), "{again}");
}
