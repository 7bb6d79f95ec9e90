//! No trace of a token in anything sealctl prints: every subcommand, at its most verbose (`-vvv`,
//! `RUST_LOG=trace`), through success and failure, with age and keyring values, scanned for the
//! token itself and for its base64 and hexadecimal forms.

use base64::Engine as _;

use crate::common::secret_service::SecretService;
use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_LeAk5Hq8Vz2Nw7Rt";
const OTHER: &str = "apiv3_OtHr3Mk6Bx9Cd4Jp";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"p.example.com\"\n  port = \"443\"\n";

/// Every form of a secret that must not appear: itself, base64 (both alphabets) and hex.
fn forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        secret.bytes().map(|byte| format!("{byte:02x}")).collect(),
        secret.bytes().map(|byte| format!("{byte:02X}")).collect(),
    ]
}

/// Whether `text` holds 8 characters in a row of any form of a secret (8, not 6, for the encoded
/// forms: the output holds random ciphertext, which a short run could match by chance).
fn holds(text: &str, secret: &str) -> bool {
    leaks(text, secret)
        || forms(secret).iter().skip(1).any(|form| {
            let chars: Vec<char> = form.chars().collect();
            chars
                .windows(8)
                .any(|window| text.contains(&window.iter().collect::<String>()))
        })
}

#[test]
fn no_command_says_a_token_in_any_form() {
    let bus = SecretService::start();
    let env = TestEnv::new();
    let config = env.write(".config/influxctl/config.toml", PROFILES);
    let config_arg = config.to_str().unwrap().to_owned();
    // With `--config` and an empty config folder, no default identity is found: opening fails.
    let no_identity = env.home().join("empty");
    let run_in = |args: &[&str], stdin: &str, identity: bool| {
        let mut command = env.sealctl();
        if !identity {
            command
                .env("XDG_CONFIG_HOME", &no_identity)
                .args(["--config", &config_arg]);
        }
        let output = command
            .env("RUST_LOG", "trace")
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .env("XDG_RUNTIME_DIR", env.home())
            .arg("-vvv")
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let run = |args: &[&str], stdin: &str| run_in(args, stdin, true);
    assert_eq!(run(&["identity", "new"], "").0, Some(0));
    assert_eq!(run(&["token", "set"], TOKEN).0, Some(0));
    assert_eq!(
        run(
            &["--profile", "prod", "token", "set", "--backend", "keyring"],
            OTHER
        )
        .0,
        Some(0)
    );
    let man = env.home().join("man");
    let man = man.to_str().unwrap();
    let commands: Vec<(Vec<&str>, &str, bool, bool)> = vec![
        // (arguments, standard input, whether stdout is the token by design, with an identity)
        (vec!["check"], "", false, true),
        (vec!["check", "--format", "json"], "", false, true),
        (vec!["check", "--format", "sarif"], "", false, true),
        (vec!["token", "get"], "", true, true),
        (vec!["--profile", "prod", "token", "get"], "", true, true),
        (vec!["token", "get"], "", false, false),
        (vec!["--profile", "nope", "token", "get"], "", false, true),
        (vec!["token", "set", "--key", "token"], TOKEN, false, true),
        (
            vec!["token", "set", "--key", "token"],
            "two\nlines",
            false,
            true,
        ),
        (
            vec!["token", "move", "--to", "keyring", "--key", "token"],
            "",
            false,
            true,
        ),
        (
            vec!["token", "move", "--to", "age", "--key", "token"],
            "",
            false,
            true,
        ),
        (vec!["token", "rm", "--key", "token"], "", false, true),
        (vec!["seal", "--all"], "", false, true),
        (vec!["rekey", "--all"], "", false, true),
        (vec!["rekey", "--all"], "", false, false),
        (vec!["profile", "list"], "", false, true),
        (vec!["profile", "list", "--format", "json"], "", false, true),
        (vec!["profile", "show", "prod"], "", false, true),
        (vec!["profile", "rename", "prod", "live"], "", false, true),
        (vec!["profile", "rename", "live", "prod"], "", false, true),
        (vec!["doctor"], "", false, true),
        (vec!["doctor"], "", false, false),
        (
            vec!["exec", "--env", "T=mgmt_token", "--", "true"],
            "",
            false,
            true,
        ),
        (vec!["exec", "--", "sh", "-c", "exit 3"], "", false, true),
        (vec!["exec", "--", "true"], "", false, false),
        (vec!["exec", "--", "no-such-program-here"], "", false, true),
        (vec!["recipients", "list"], "", false, true),
        (vec!["identity", "show"], "", false, true),
        (vec!["completions", "bash"], "", false, true),
        (vec!["man", "--out", man], "", false, true),
        (
            vec![
                "init",
                "--no-input",
                "--product",
                "clustered",
                "--host",
                "h.example.com",
                "--token-stdin",
                "--force",
            ],
            TOKEN,
            false,
            true,
        ),
        (vec!["unseal", "--all", "--yes"], "", false, true),
    ];
    let mut failures = Vec::new();
    let mut statuses = Vec::new();
    for (args, stdin, prints_token, identity) in &commands {
        let (status, stdout, stderr) = run_in(args, stdin, *identity);
        statuses.push(status);
        for secret in [TOKEN, OTHER] {
            if holds(&stderr, secret) || (!prints_token && holds(&stdout, secret)) {
                // Name the command and the stream only: never print what leaked.
                failures.push(format!("{args:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "a token leaked from: {failures:?}");
    // Both paths ran: some commands succeeded, some failed.
    assert!(statuses.contains(&Some(0)) && statuses.contains(&Some(2)));
    // The last command wrote the tokens back in plaintext, as asked: the scan itself works.
    assert!(holds(&std::fs::read_to_string(&config).unwrap(), TOKEN));
}
