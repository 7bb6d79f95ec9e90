//! Problems said when they can still be fixed, not when they bite: recipients sealing would
//! refuse are reported by `check`; an expiry `check` rejects is refused by opening too; an expired
//! or expiring token is said on standard error when it is used; an expiry flag already past is
//! refused; sealing to recipients that leave the user out is said.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret as _;

use crate::common::{TestEnv, leaks};

const TOKEN: &str = "apiv3_EARLYtest-Pq83Lm2Zx7";

const PROFILE: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with a default identity (whose recipient is kept) and a profile file.
struct Home {
    env: TestEnv,
    config: PathBuf,
    recipient: String,
}

impl Home {
    fn new() -> Home {
        let env = TestEnv::new();
        let config = env.write("config.toml", PROFILE);
        let output = env.sealctl().args(["identity", "new"]).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let listed = env.sealctl().args(["identity", "show"]).output().unwrap();
        let recipient = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .find(|word| word.starts_with("age1"))
            .expect("identity show names the recipient")
            .to_owned();
        Home {
            env,
            config,
            recipient,
        }
    }

    fn sealctl(&self) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command.arg("--config").arg(&self.config);
        command
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }

    /// Sets the default profile's token, sealed, expiring in 90 days.
    fn set_token(&self) {
        let output = self
            .sealctl()
            .args(["token", "set", "--expires-in", "90d"])
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
    }

    /// Replaces the sealed value's `exp=` parameter with `exp`.
    fn set_expiry_param(&self, exp: &str) {
        let file = self.file();
        let start = file.find(";exp=").expect("the value has an expiry");
        let end = start + file[start..].find('"').unwrap();
        self.write(&format!("{}{exp}{}", &file[..start], &file[end..]));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A file whose `[sealctl] recipients` is `entries`, with a plaintext token to seal.
fn with_recipients(entries: &[&str]) -> String {
    let list: Vec<String> = entries
        .iter()
        .map(|entry| format!("  \"{entry}\",\n"))
        .collect();
    format!(
        "[sealctl]\nrecipients = [\n{}]\n\n{PROFILE}  mgmt_token = \"{TOKEN}\"\n",
        list.concat()
    )
}

fn ssh_ed25519_public_key(env: &TestEnv, name: &str) -> String {
    let path = env.home().join(name);
    let status = crate::common::command("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A valid `age1tag1…` recipient: P-256's generator, compressed.
const TAG_RECIPIENT: &str = "age1tag1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvt5hxye";

/// An `age1yubikey1…` plugin recipient whose checksum is broken.
const BROKEN_PLUGIN_RECIPIENT: &str =
    "age1yubikey1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvpkgk83";

// Regression: an entry sealing refuses passed `check`, which said "no problems found".
#[test]
fn check_and_seal_agree_on_every_recipient_entry() {
    let home = Home::new();
    let private = age::x25519::Identity::generate();
    let private = private.to_string();
    let ssh = ssh_ed25519_public_key(&home.env, "bob");
    let age = age::x25519::Identity::generate().to_public().to_string();
    // The last character changed: to another one, or the entry would be the valid recipient
    // (a random key ends in `x` one time in 32).
    let changed = if age.ends_with('x') { 'y' } else { 'x' };
    // (entry, whether sealing takes it, what both must say when it does not)
    let cases: Vec<(String, bool, &str)> = vec![
        (age.clone(), true, ""),
        (age.to_uppercase(), true, ""),
        (ssh.clone(), true, ""),
        (age[..age.len() - 1].to_owned(), false, "not a valid age recipient"),
        (
            format!("{}{changed}", &age[..age.len() - 1]),
            false,
            "not a valid age recipient",
        ),
        // A tagged recipient (P-256's generator): native to age, sealed to without a plugin.
        (TAG_RECIPIENT.to_owned(), true, ""),
        (BROKEN_PLUGIN_RECIPIENT.to_owned(), false, "not a valid age recipient"),
        (
            // A tagged recipient whose point is not compressed.
            "age1tag1q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2tr7tne".to_owned(),
            false,
            "not a valid age recipient",
        ),
        (
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=".to_owned(),
            false,
            "which age cannot encrypt to",
        ),
        (ssh[..40].to_owned(), false, "not a valid ssh-ed25519 or ssh-rsa"),
        ("alice@example.com".to_owned(), false, "is not an age recipient"),
        (String::new(), false, "is empty"),
        (
            private.expose_secret().to_owned(),
            false,
            "is a private key",
        ),
    ];
    for (entry, usable, says) in &cases {
        let file = with_recipients(&[entry]);
        home.write(&file);
        let check = home
            .sealctl()
            .arg("check")
            .arg(&home.config)
            .output()
            .unwrap();
        let checked = format!("{}{}", text(&check.stdout), text(&check.stderr));
        let seal = home.sealctl().arg("seal").output().unwrap();
        let sealed = format!("{}{}", text(&seal.stdout), text(&seal.stderr));
        let shown = crate::common::sha256(entry);
        if *usable {
            assert!(!checked.contains("invalid-recipient"), "{shown}: {checked}");
            assert!(seal.status.success(), "{shown}: {sealed}");
            assert!(!home.file().contains(TOKEN), "{shown}: not sealed");
        } else {
            assert_eq!(check.status.code(), Some(1), "{shown}: {checked}");
            assert!(checked.contains("invalid-recipient"), "{shown}: {checked}");
            assert!(checked.contains(says), "{shown}: {checked}");
            assert_eq!(seal.status.code(), Some(2), "{shown}: {sealed}");
            assert!(sealed.contains(says), "{shown}: {sealed}");
            assert_eq!(home.file(), file, "{shown}: the file changed");
        }
        for output in [&checked, &sealed] {
            assert!(!leaks(output, TOKEN), "{shown}: the token leaked");
            assert!(
                !leaks(output, private.expose_secret()),
                "{shown}: the private key leaked"
            );
        }
    }
}

#[test]
fn an_entry_that_cannot_be_parsed_is_removed_by_its_text() {
    let home = Home::new();
    let plugin = BROKEN_PLUGIN_RECIPIENT;
    home.write(&with_recipients(&[&home.recipient, plugin]));
    let check = home
        .sealctl()
        .arg("check")
        .arg(&home.config)
        .output()
        .unwrap();
    let said = text(&check.stdout);
    assert!(said.contains("sealctl recipients rm"), "{said}");
    assert!(
        said.contains(&format!("recipients rm {plugin} --config")),
        "{said}"
    );
    let output = home
        .sealctl()
        .args(["recipients", "rm", plugin])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!home.file().contains(plugin));
    assert!(home.file().contains(&home.recipient));
    home.sealctl().arg("seal").assert().success();
}

// Regression: `recipients add AGE-SECRET-KEY-1…` quoted the private key in its error.
#[test]
fn recipients_add_names_what_it_refuses_without_showing_a_private_key() {
    let home = Home::new();
    let private = age::x25519::Identity::generate().to_string();
    let before = home.file();
    for (argument, says) in [
        (private.expose_secret(), "is a private key"),
        (BROKEN_PLUGIN_RECIPIENT, "not a valid age recipient"),
        (
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
            "not a valid ssh-ed25519 or ssh-rsa",
        ),
    ] {
        let output = home
            .sealctl()
            .args(["recipients", "add", argument])
            .output()
            .unwrap();
        let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(2), "{said}");
        assert!(said.contains(says), "{said}");
        assert!(
            !leaks(&said, private.expose_secret()),
            "the private key leaked"
        );
        assert_eq!(home.file(), before);
    }
}

#[test]
fn a_recipient_listed_twice_is_a_warning() {
    let home = Home::new();
    home.write(
        &with_recipients(&[&home.recipient, &home.recipient.to_uppercase()])
            .replace(&format!("  mgmt_token = \"{TOKEN}\"\n"), ""),
    );
    let check = home
        .sealctl()
        .arg("check")
        .arg(&home.config)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
    assert!(text(&check.stdout).contains("duplicate-recipient"));
    let strict = home
        .sealctl()
        .args(["check", "--deny-warnings"])
        .arg(&home.config)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
}

// Regression: `token get` printed a token whose expiry `check` rejects as malformed.
#[test]
fn an_expiry_check_rejects_is_refused_when_opening() {
    let home = Home::new();
    home.set_token();
    let good = home.file();
    let exp = &good[good.find(";exp=").unwrap()..];
    let exp = exp[..exp.find('"').unwrap()].to_owned();
    for bad in [
        ";exp=tomorrow",
        ";exp=2027-02-30T00:00:00Z",
        ";exp=2027-01-31",
        &format!("{exp};exp=2020-01-01T00:00:00Z"),
    ] {
        home.write(&good);
        home.set_expiry_param(bad);
        let damaged = home.file();
        let check = home
            .sealctl()
            .arg("check")
            .arg(&home.config)
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(1), "{bad}");
        assert!(text(&check.stdout).contains("malformed-sealed"), "{bad}");
        let get = home.sealctl().args(["token", "get"]).output().unwrap();
        let said = text(&get.stderr);
        assert_eq!(get.status.code(), Some(2), "{bad}: {said}");
        assert!(get.stdout.is_empty(), "{bad}: the token was printed");
        assert!(said.contains("sealed value is malformed"), "{bad}: {said}");
        assert!(!leaks(&said, TOKEN));
        let exec = home
            .sealctl()
            .args([
                "exec",
                "--env",
                "T=mgmt_token",
                "--",
                "sh",
                "-c",
                "echo started",
            ])
            .output()
            .unwrap();
        assert_eq!(exec.status.code(), Some(2), "{bad}");
        assert!(
            !text(&exec.stdout).contains("started"),
            "{bad}: the program ran"
        );
        assert_eq!(home.file(), damaged, "{bad}: the file changed");
    }
    // What the hint says works: without the expiry the value opens.
    home.write(&good);
    home.set_expiry_param("");
    let get = home.sealctl().args(["token", "get"]).output().unwrap();
    assert!(get.status.success(), "{}", text(&get.stderr));
    assert_eq!(get.stdout, format!("{TOKEN}\n").as_bytes());
}

// Regression: `token get` and `exec` of an expired token said nothing.
#[test]
fn expired_and_expiring_tokens_are_said_on_stderr_and_given() {
    let home = Home::new();
    home.set_token();
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    let cases = [
        (now - 400 * day, Some("expired at"), true),
        (now - Duration::from_secs(120), Some("expired at"), true),
        (
            now + 3 * day + Duration::from_secs(3_600),
            Some("in 3 days"),
            false,
        ),
        (now + 13 * day, Some("expires at"), false),
        (now + 30 * day, None, false),
    ];
    for (expiry, says, even_quiet) in cases {
        let at = rfc3339(expiry);
        home.set_expiry_param(&format!(";exp={at}"));
        for quiet in [false, true] {
            let mut get = home.sealctl();
            if quiet {
                get.arg("-q");
            }
            let get = get.args(["token", "get"]).output().unwrap();
            let stderr = text(&get.stderr);
            assert!(get.status.success(), "{at}: {stderr}");
            // Scripts read stdout: the token and nothing else.
            assert_eq!(get.stdout, format!("{TOKEN}\n").as_bytes(), "{at}");
            match says {
                Some(says) if even_quiet || !quiet => {
                    assert!(stderr.contains("warning:"), "{at} quiet={quiet}: {stderr}");
                    assert!(stderr.contains(says), "{at}: {stderr}");
                    assert!(stderr.contains(&at), "{at}: {stderr}");
                    assert!(stderr.contains("sealctl token set --config"), "{stderr}");
                }
                _ => assert!(!stderr.contains("warning"), "{at} quiet={quiet}: {stderr}"),
            }
        }
        let exec = home
            .sealctl()
            .env("EXPECTED", TOKEN)
            .args([
                "exec",
                "--env",
                "T=mgmt_token",
                "--",
                "sh",
                "-c",
                "test \"$T\" = \"$EXPECTED\" && echo given",
            ])
            .output()
            .unwrap();
        let stderr = text(&exec.stderr);
        assert!(exec.status.success(), "{at}: {stderr}");
        assert_eq!(text(&exec.stdout), "given\n", "{at}");
        assert_eq!(
            stderr.contains("warning:"),
            says.is_some(),
            "{at}: {stderr}"
        );
    }
}

#[cfg(feature = "test-fakes")]
#[test]
fn exec_of_influxctl_says_an_expired_token_once() {
    let home = Home::new();
    home.set_token();
    home.set_expiry_param(";exp=2020-01-01T00:00:00Z");
    let bin = home.env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = home
        .sealctl()
        .env("PATH", path)
        .args([
            "exec",
            "--env",
            "T=mgmt_token",
            "--env",
            "U=mgmt_token",
            "--",
            "influxctl",
            "report",
        ])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("expired at 2020-01-01T00:00:00Z").count(),
        1,
        "{stderr}"
    );
    assert!(!text(&output.stdout).contains("warning"));
}

// Regression: `--expires-at` in the past was accepted, sealing a token recorded as expired.
#[test]
fn an_expiry_flag_that_is_past_or_of_no_length_is_refused() {
    let home = Home::new();
    let before = home.file();
    let a_minute_ago = rfc3339(SystemTime::now() - Duration::from_secs(60));
    for flags in [
        vec!["--expires-at", "2001-01-01T00:00:00Z"],
        vec!["--expires-at", &a_minute_ago],
        vec!["--expires-at", "soon"],
        vec!["--expires-in", "0s"],
        vec!["--expires-in", "0"],
        vec!["--expires-in", "-5d"],
        vec!["--expires-in=-5d"],
        vec!["--expires-in", "soon"],
        vec!["--expires-in", "20000y"],
        vec![
            "--expires-in",
            "90d",
            "--expires-at",
            "2099-01-01T00:00:00Z",
        ],
    ] {
        let output = home
            .sealctl()
            .args(["token", "set"])
            .args(&flags)
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(!leaks(&stderr, TOKEN));
        assert_eq!(home.file(), before, "{flags:?}: the file changed");
    }
    let past = home
        .sealctl()
        .args(["token", "set", "--expires-at", "2001-01-01T00:00:00Z"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(
        text(&past.stderr).contains("not in the future"),
        "{}",
        text(&past.stderr)
    );
    let output = home
        .sealctl()
        .args(["token", "set", "--expires-in", "90d"])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let file = home.file();
    let exp = &file[file.find(";exp=").unwrap() + 5..];
    let exp = humantime::parse_rfc3339(&exp[..exp.find('"').unwrap()]).unwrap();
    let left = exp.duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(89 * 86_400) && left <= Duration::from_secs(90 * 86_400));
}

#[test]
fn an_expired_token_read_from_the_input_is_set_with_a_warning() {
    let home = Home::new();
    let output = home
        .sealctl()
        .args(["token", "set"])
        .write_stdin(format!(
            r#"{{"id":"6b4d","description":"ci","expires_at":"2020-02-01T00:00:00Z","token":"{TOKEN}"}}"#
        ))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("expired at 2020-02-01T00:00:00Z"),
        "{stderr}"
    );
}

// Regression: sealing to recipients none of which is the user's said nothing.
#[test]
fn sealing_to_recipients_that_leave_you_out_is_said() {
    let home = Home::new();
    let other = age::x25519::Identity::generate().to_public().to_string();
    let warning = "you will not be able to open";
    let run = |args: &[&str]| {
        let output = home
            .sealctl()
            .args(args)
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stderr)
    };

    home.write(&with_recipients(&[&other]));
    let said = run(&["seal"]);
    assert!(said.contains(warning), "{said}");
    assert!(
        said.contains(&format!(
            "sealctl recipients add --config {}",
            home.config.display()
        )) && said.contains(&home.recipient),
        "the hint names the file and the user's recipient: {said}"
    );
    let said = run(&["token", "set", "--key", "token"]);
    assert!(said.contains(warning), "{said}");
    // The warning told the truth.
    let get = home.sealctl().args(["token", "get"]).output().unwrap();
    assert_eq!(get.status.code(), Some(2));

    // With the user among the recipients, nothing is said.
    home.write(&with_recipients(&[&other, &home.recipient.to_uppercase()]));
    let said = run(&["seal"]);
    assert!(!said.contains(warning), "{said}");

    // rekey to a list that no longer holds the user.
    home.write(&with_recipients(&[&other, &home.recipient]));
    run(&["seal"]);
    let file = home
        .file()
        .replace(&format!("  \"{}\",\n", home.recipient), "");
    home.write(&file);
    let said = run(&["rekey"]);
    assert!(said.contains(warning), "{said}");
}

#[test]
fn an_ssh_identity_is_compared_by_its_key_not_its_comment() {
    let home = Home::new();
    let public = ssh_ed25519_public_key(&home.env, "id_ed25519");
    let key = home.env.home().join("id_ed25519");
    let renamed = public.replace("bob@laptop", "bob@desktop");
    home.write(&with_recipients(&[&renamed]));
    let output = home
        .sealctl()
        .arg("--identity")
        .arg(&key)
        .arg("seal")
        .output()
        .unwrap();
    let said = text(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(!said.contains("you will not be able to open"), "{said}");
}

// Decided: with no identity at all there is nothing to compare with, and sealing for others
// without one is the documented way for a CI job or a teammate: nothing is said.
#[test]
fn without_any_identity_sealing_for_others_says_nothing_more() {
    let env = TestEnv::new();
    let other = age::x25519::Identity::generate().to_public().to_string();
    let config = env.write("config.toml", with_recipients(&[&other]));
    let output = env
        .sealctl()
        .arg("--config")
        .arg(&config)
        .arg("seal")
        .output()
        .unwrap();
    let said = text(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(!said.contains("warning"), "{said}");
}
