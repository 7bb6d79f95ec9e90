//! The keyring backend against real keyrings: a gnome-keyring Secret Service on a private D-Bus
//! (tests/common/secret_service.rs), read and written across clients with `secret-tool`, and the
//! Linux kernel keyring under `keyctl session -`. Every failure a user meets (no bus, no Secret
//! Service, a locked collection, a missing entry, a bus that never answers) is its own message
//! with exit status 2, and commands that need no keyring never touch D-Bus.

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::Output;

use predicates::prelude::*;

use crate::common::secret_service::SecretService;
use crate::common::{TestEnv, leaks, sha256};

const TOKEN: &str = "apiv3_KeyRg7Tq2Wz9Xc4Lp";
const OTHER_TOKEN: &str = "apiv3_Mn5Bv8Hj3Gf1Ds6Qa";

const PROFILES: &str = "# team profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"   # live\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with influxctl's default profile file.
struct Machine {
    env: TestEnv,
    config: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        Machine { env, config }
    }

    /// sealctl on this machine, talking to `bus` (if any).
    fn sealctl(&self, bus: Option<&SecretService>) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command.env("XDG_RUNTIME_DIR", self.runtime());
        if let Some(bus) = bus {
            command.env("DBUS_SESSION_BUS_ADDRESS", bus.address());
        }
        command
    }

    /// An empty runtime folder: no `bus` socket in it, so no session bus unless a test names one.
    fn runtime(&self) -> PathBuf {
        let runtime = self.env.home().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        runtime
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// The value of `key` in the first profile that has one.
    fn value(&self, key: &str) -> Option<String> {
        let text = self.file();
        let line = text
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{key} =")))?;
        Some(line.split('"').nth(1).unwrap().to_owned())
    }

    /// The backend `key`'s value is kept with (`age`, `keyring`), or `plaintext`.
    fn kept_in(&self, key: &str) -> String {
        let value = self.value(key).expect("a value");
        match value.strip_prefix("sealctl:v1:") {
            Some(rest) => rest.split(':').next().unwrap().to_owned(),
            None => "plaintext".to_owned(),
        }
    }

    /// The entry id of a keyring value.
    fn entry_id(&self, key: &str) -> String {
        let value = self.value(key).expect("a value");
        let payload = value
            .strip_prefix("sealctl:v1:keyring:")
            .unwrap_or_else(|| panic!("not a keyring value: {value}"));
        let (_, rest) = payload.split_once('/').unwrap();
        rest.split(';').next().unwrap().to_owned()
    }

    fn set(&self, bus: &SecretService, args: &[&str], token: &str) {
        self.sealctl(Some(bus))
            .args(["token", "set", "--backend", "keyring"])
            .args(args)
            .write_stdin(token)
            .assert()
            .success();
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What `secret-tool search --all service sealctl` shows of every sealctl entry (it prints
/// labels and secrets on stdout, attributes on stderr).
fn entries(bus: &SecretService) -> String {
    let search = bus.secret_tool(&["search", "--all", "service", "sealctl"], "");
    format!(
        "{}{}",
        String::from_utf8_lossy(&search.stdout),
        String::from_utf8_lossy(&search.stderr)
    )
}

#[test]
fn a_token_set_with_sealctl_is_read_back_by_secret_tool() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine.set(&bus, &[], TOKEN);
    let value = machine.value("mgmt_token").unwrap();
    assert!(
        value.starts_with("sealctl:v1:keyring:secret-service/"),
        "{value}"
    );
    assert!(!leaks(&machine.file(), TOKEN));
    assert!(machine.file().starts_with("# team profiles\n"));

    let id = machine.entry_id("mgmt_token");
    let lookup = bus.secret_tool(&["lookup", "service", "sealctl", "username", &id], "");
    assert!(lookup.status.success(), "{}", stderr(&lookup));
    let envelope: serde_json::Value = serde_json::from_slice(&lookup.stdout).unwrap();
    assert_eq!(envelope["profile"], "default");
    assert_eq!(envelope["key"], "mgmt_token");
    assert_eq!(sha256(envelope["secret"].as_str().unwrap()), sha256(TOKEN));

    let listing = entries(&bus);
    let label = format!(
        "label = sealctl: default mgmt_token ({})",
        machine.config.display()
    );
    assert!(listing.contains(&label), "{label} not in the listing");
    assert!(listing.contains(&format!("attribute.username = {id}")));

    let got = machine
        .sealctl(Some(&bus))
        .args(["token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
    machine
        .sealctl(None)
        .args(["check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no problems found"));
}

#[test]
fn a_token_stored_by_secret_tool_is_read_by_sealctl() {
    let bus = SecretService::start();
    let machine = Machine::new();
    let id = "5eed0123456789abcdef0123456789ab";
    let envelope =
        format!(r#"{{"v":1,"profile":"prod","key":"mgmt_token","secret":"{OTHER_TOKEN}"}}"#);
    let stored = bus.secret_tool(
        &[
            "store",
            "--label=stored by hand",
            "service",
            "sealctl",
            "username",
            id,
        ],
        &envelope,
    );
    assert!(stored.status.success(), "{}", stderr(&stored));
    let text = machine.file().replace(
        "name = \"prod\"   # live\n",
        &format!(
            "name = \"prod\"   # live\n  mgmt_token = \"sealctl:v1:keyring:secret-service/{id}\"\n"
        ),
    );
    std::fs::write(&machine.config, text).unwrap();
    let got = machine
        .sealctl(Some(&bus))
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), OTHER_TOKEN);

    // The same reference in another profile is refused: the entry is bound to `prod`.
    let moved = machine.file().replace(
        "name = \"default\"\n",
        &format!("name = \"default\"\n  mgmt_token = \"sealctl:v1:keyring:secret-service/{id}\"\n"),
    );
    std::fs::write(&machine.config, moved).unwrap();
    let refused = machine
        .sealctl(Some(&bus))
        .args(["token", "get"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains(
        "this value was sealed for profile `prod` key `mgmt_token`, but it is in profile `default` key `mgmt_token`"
    ));
    assert!(!leaks(&stderr(&refused), OTHER_TOKEN));
}

#[test]
fn token_rm_leaves_no_entry_behind() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine.set(&bus, &[], TOKEN);
    machine.set(&bus, &["--profile", "prod", "--key", "token"], OTHER_TOKEN);
    let count = || entries(&bus).matches("attribute.service = sealctl").count();
    assert_eq!(count(), 2);
    // Setting a token again replaces its entry rather than leaving the old one.
    machine.set(&bus, &[], OTHER_TOKEN);
    assert_eq!(count(), 2);
    machine
        .sealctl(Some(&bus))
        .args(["token", "rm"])
        .assert()
        .success();
    machine
        .sealctl(Some(&bus))
        .args(["--profile", "prod", "token", "rm", "--key", "token"])
        .assert()
        .success();
    assert_eq!(count(), 0);
    assert_eq!(machine.file(), PROFILES);
}

#[test]
fn profile_rename_and_rm_carry_the_keyring_entries() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine.set(&bus, &["--profile", "prod"], TOKEN);
    let old_id = machine.entry_id("mgmt_token");
    machine
        .sealctl(Some(&bus))
        .args(["profile", "rename", "prod", "live"])
        .assert()
        .success();
    let new_id = machine.entry_id("mgmt_token");
    assert_ne!(old_id, new_id, "a new entry, bound to the new name");
    let listing = entries(&bus);
    assert!(
        listing.contains("label = sealctl: live mgmt_token"),
        "{listing}"
    );
    assert!(!listing.contains(&old_id), "the old entry is gone");
    let got = machine
        .sealctl(Some(&bus))
        .args(["--profile", "live", "token", "get"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);

    machine
        .sealctl(Some(&bus))
        .args(["profile", "rm", "live", "--yes"])
        .assert()
        .success();
    assert!(
        !entries(&bus).contains("sealctl"),
        "profile rm left an entry"
    );
    assert!(!machine.file().contains("live"));
}

#[test]
fn init_keeps_the_token_in_the_keyring_when_asked() {
    let bus = SecretService::start();
    let env = TestEnv::new();
    let output = env
        .sealctl()
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .args([
            "init",
            "--no-input",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
            "--backend",
            "keyring",
            "--keyring-store",
            "secret-service",
            "--token-stdin",
        ])
        .write_stdin(TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !env.home().join(".config/sealctl/identity.txt").exists(),
        "the keyring needs no age identity"
    );
    let file = std::fs::read_to_string(env.home().join(".config/influxctl/config.toml")).unwrap();
    assert!(file.contains("mgmt_token = \"sealctl:v1:keyring:secret-service/"));
    assert!(entries(&bus).contains("label = sealctl: default mgmt_token"));
    let got = env
        .sealctl()
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .args(["token", "get"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), TOKEN);
}

#[test]
fn tokens_move_between_age_and_the_keyring() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine
        .sealctl(None)
        .args(["identity", "new"])
        .assert()
        .success();
    // Plaintext values, sealed into the keyring all at once.
    let plain = PROFILES.replace(
        "port = \"443\"\n\n",
        &format!("port = \"443\"\n  mgmt_token = \"{TOKEN}\"\n\n"),
    );
    std::fs::write(&machine.config, &plain).unwrap();
    machine
        .sealctl(Some(&bus))
        .args(["seal", "--all", "--backend", "keyring"])
        .assert()
        .success();
    assert_eq!(machine.kept_in("mgmt_token"), "keyring");
    assert!(!leaks(&machine.file(), TOKEN));

    let get = |bus: Option<&SecretService>| {
        let output = machine
            .sealctl(bus)
            .args(["token", "get"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        sha256(String::from_utf8_lossy(&output.stdout).trim())
    };
    assert_eq!(get(Some(&bus)), sha256(TOKEN));

    machine
        .sealctl(Some(&bus))
        .args(["token", "move", "--to", "age"])
        .assert()
        .success();
    assert_eq!(machine.kept_in("mgmt_token"), "age");
    assert!(
        !entries(&bus).contains("sealctl"),
        "the entry went with the move"
    );
    // An age value opens with no keyring around at all.
    assert_eq!(get(None), sha256(TOKEN));

    machine
        .sealctl(Some(&bus))
        .args(["token", "move", "--to", "keyring"])
        .assert()
        .success();
    assert_eq!(machine.kept_in("mgmt_token"), "keyring");
    assert_eq!(get(Some(&bus)), sha256(TOKEN));

    // Back to plaintext for leaving sealctl: the entry goes too.
    machine
        .sealctl(Some(&bus))
        .args(["unseal", "--yes"])
        .assert()
        .success();
    assert_eq!(machine.value("mgmt_token").unwrap(), TOKEN);
    assert!(
        !entries(&bus).contains("sealctl"),
        "the entry went with unseal"
    );
}

#[cfg(feature = "test-fakes")]
#[test]
fn exec_delivers_a_keyring_token_to_influxctl() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine.set(&bus, &["--profile", "prod"], TOKEN);
    let bin = machine.env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = machine
        .sealctl(Some(&bus))
        .env("PATH", &path)
        .args(["exec", "--", "influxctl", "--profile", "prod", "report"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["mgmt_token_sha256"], sha256(TOKEN));
    assert_eq!(report["profiles_in_file"], 1);

    // Fail closed: with the keyring locked, the program is not started.
    bus.lock();
    let locked = machine
        .sealctl(Some(&bus))
        .env("PATH", &path)
        .args(["exec", "--", "influxctl", "--profile", "prod", "report"])
        .output()
        .unwrap();
    assert_eq!(locked.status.code(), Some(2));
    assert!(locked.stdout.is_empty(), "the program ran");
    assert!(stderr(&locked).contains("the program was not started"));
}

/// Each way a keyring can be out of reach, with the advice sealctl gives for it.
#[test]
fn each_keyring_failure_has_its_own_message_and_exit_status_2() {
    let machine = Machine::new();
    let setup_bus = SecretService::start();
    machine.set(&setup_bus, &[], TOKEN);
    let before = machine.file();
    drop(setup_bus);

    let no_bus = machine
        .sealctl(None)
        .args(["-v", "token", "get"])
        .output()
        .unwrap();
    let bus_alone = SecretService::bus_only();
    let no_provider = machine
        .sealctl(Some(&bus_alone))
        .args(["token", "get"])
        .output()
        .unwrap();
    let other_machine = SecretService::start();
    let missing = machine
        .sealctl(Some(&other_machine))
        .args(["token", "get"])
        .output()
        .unwrap();
    let locked_bus = SecretService::start();
    locked_bus.lock();
    let locked = machine
        .sealctl(Some(&locked_bus))
        .args(["--profile", "prod", "token", "set", "--backend", "keyring"])
        .write_stdin(OTHER_TOKEN)
        .output()
        .unwrap();

    for (case, output, message, advice) in [
        (
            "no bus",
            &no_bus,
            "there is no D-Bus session bus to reach the Secret Service on",
            "use the age backend, or the kernel keyring",
        ),
        (
            "no provider",
            &no_provider,
            "no Secret Service is running on the D-Bus session bus",
            "gnome-keyring-daemon --start",
        ),
        (
            "missing",
            &missing,
            "keyring of this machine (`",
            "set the token again with `sealctl token set --backend keyring`",
        ),
        (
            "locked",
            &locked,
            "the secret-service keyring is locked, and it could not be unlocked",
            "unlock it",
        ),
    ] {
        let text = stderr(output);
        assert_eq!(output.status.code(), Some(2), "{case}: {text}");
        assert!(text.contains(message), "{case}: {text}");
        assert!(text.contains(advice), "{case}: {text}");
        assert!(output.stdout.is_empty(), "{case}");
        // Each hint is its own line, so none may lean on the one before.
        assert!(!text.contains("hint: or "), "{case}: {text}");
        assert!(!leaks(&text, TOKEN) && !leaks(&text, OTHER_TOKEN), "{case}");
        assert_eq!(machine.file(), before, "{case}: the file changed");
    }
    // -v shows the bus's own words, which name the address it tried.
    assert!(stderr(&no_bus).contains("raw error:"));
    // The token was set on this very machine: no "copied from there".
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let missing = stderr(&missing);
    assert!(
        missing.contains(&format!(
            "of this machine (`{}`) has no entry {}, though the token was set here",
            host.trim(),
            machine.entry_id("mgmt_token")
        )),
        "{missing}"
    );
    assert!(!missing.contains("copied from there"), "{missing}");
    assert!(!missing.contains("stays on the machine where it was set"));

    // A file from another machine names that machine.
    let elsewhere = machine.file().replace(";host=", ";host=build-7;was=");
    std::fs::write(&machine.config, &elsewhere).unwrap();
    let copied = machine
        .sealctl(Some(&other_machine))
        .args(["token", "get"])
        .output()
        .unwrap();
    let copied = stderr(&copied);
    assert!(
        copied.contains(
            "set in the keyring of `build-7`, so the file was probably copied from there"
        ),
        "{copied}"
    );
    assert!(copied.contains("stays on the machine where it was set"));
}

/// Two Secret Service entries with sealctl's attributes (another client's `keyring set`): the
/// message says so and what to do, without -v, and no entry is touched.
#[test]
fn two_entries_with_the_same_attributes_are_named_with_what_to_do() {
    let bus = SecretService::start();
    let machine = Machine::new();
    machine.set(&bus, &[], TOKEN);
    let id = machine.entry_id("mgmt_token");
    let stored = bus.secret_tool(
        &[
            "store",
            "--label",
            "another client",
            "service",
            "sealctl",
            "username",
            &id,
            // What Python keyring adds to every entry; an entry with exactly sealctl's
            // attributes would replace sealctl's own instead.
            "application",
            "Python keyring library",
        ],
        "not-an-envelope",
    );
    assert!(stored.status.success(), "{}", stderr(&stored));
    let before = machine.file();

    for args in [
        &["token", "get"][..],
        &["exec", "--env", "T=mgmt_token", "--", "true"],
        &["token", "rm"],
    ] {
        let output = machine.sealctl(Some(&bus)).args(args).output().unwrap();
        let text = stderr(&output);
        if args[1] == "rm" {
            // The reference leaves the file; the entries stay, with a warning and the way out.
            assert!(output.status.success(), "{text}");
            assert!(
                text.contains("2 entries in the secret-service keyring match"),
                "{text}"
            );
            assert!(text.contains(&format!("secret-tool clear service sealctl username {id}")));
            continue;
        }
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(
            text.contains(&format!(
                "error: 2 entries in the secret-service keyring match entry {id} (service `sealctl`, username `{id}`), so sealctl cannot tell which one holds the token"
            )),
            "{args:?}: {text}"
        );
        assert!(text.contains(&format!(
            "hint: another program stored an entry with the same attributes; list them with `secret-tool search --all service sealctl username {id}`"
        )));
        assert!(
            text.contains("`sealctl token set --backend keyring`"),
            "{text}"
        );
        assert!(!text.contains("-v shows"), "{args:?}: {text}");
        assert!(!text.contains("hint: or "), "{text}");
        assert!(!leaks(&text, TOKEN));
        assert_eq!(machine.file(), before);
    }
    let listing = entries(&bus);
    assert_eq!(
        listing
            .matches(&format!("attribute.username = {id}"))
            .count(),
        2
    );
}

/// `doctor` says the keyring is fine only when it can take a token as `token set` needs: a
/// locked collection answers lookups, but fails the probe, and the probe leaves no entry.
#[test]
fn doctor_probes_what_setting_a_token_needs() {
    let machine = Machine::new();
    let bus = SecretService::start();
    machine.set(&bus, &[], TOKEN);
    let doctor = || {
        let output = machine.sealctl(Some(&bus)).arg("doctor").output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned() + &stderr(&output),
        )
    };
    let (status, text) = doctor();
    assert!(
        text.contains("the secret-service keyring takes new entries"),
        "{text}"
    );
    let listing = entries(&bus);
    assert_eq!(
        listing.matches("attribute.service = sealctl").count(),
        1,
        "{listing}"
    );
    assert!(
        !listing.contains("probe"),
        "the probe entry was left: {listing}"
    );
    assert_ne!(status, Some(2), "{text}");

    bus.lock();
    let (status, text) = doctor();
    assert_eq!(status, Some(1), "{text}");
    let keyring_line = text
        .lines()
        .find(|line| line.split_whitespace().take(2).eq(["fail", "keyring"]))
        .unwrap_or_else(|| panic!("no failing keyring line:\n{text}"));
    assert!(keyring_line.contains("is locked"), "{keyring_line}");
    assert!(!text.contains("takes new entries"), "{text}");
    // What doctor said is what `token set` meets.
    let set = machine
        .sealctl(Some(&bus))
        .args(["--profile", "prod", "token", "set", "--backend", "keyring"])
        .write_stdin(OTHER_TOKEN)
        .output()
        .unwrap();
    assert_eq!(set.status.code(), Some(2));
    assert!(stderr(&set).contains("is locked"));
}

/// Commands that need no keyring never connect to D-Bus, even when the bus is there and hangs;
/// commands that do need it give up after SEALCTL_KEYRING_TIMEOUT instead of hanging.
#[test]
fn commands_that_need_no_keyring_never_touch_dbus() {
    let machine = Machine::new();
    let identity = machine.env.home().join("key.txt");
    machine
        .sealctl(None)
        .args(["identity", "new", "--out"])
        .arg(&identity)
        .assert()
        .success();
    machine
        .sealctl(None)
        .args(["--identity"])
        .arg(&identity)
        .args(["token", "set"])
        .write_stdin(TOKEN)
        .assert()
        .success();
    let with_keyring = SecretService::start();
    machine.set(&with_keyring, &["--profile", "prod"], OTHER_TOKEN);
    drop(with_keyring);

    // A bus that accepts connections and never says a word.
    let folder = tempfile::tempdir().unwrap();
    let socket = folder.path().join("bus");
    let listener = UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = format!("unix:path={}", socket.display());
    let on_silent_bus = |args: &[&str]| {
        machine
            .sealctl(None)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("SEALCTL_KEYRING_TIMEOUT", "1")
            .args(["--identity"])
            .arg(&identity)
            .args(args)
            .output()
            .unwrap()
    };
    let check = on_silent_bus(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let get = on_silent_bus(&["token", "get"]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), TOKEN);
    let env = on_silent_bus(&["exec", "--env", "T=mgmt_token", "--", "true"]);
    assert!(env.status.success(), "{}", stderr(&env));
    assert!(
        listener.accept().is_err(),
        "a command that needs no keyring connected to D-Bus"
    );

    let stuck = on_silent_bus(&["--profile", "prod", "token", "get"]);
    assert_eq!(stuck.status.code(), Some(2));
    assert!(
        stderr(&stuck).contains("the secret-service keyring did not answer within 1 s"),
        "{}",
        stderr(&stuck)
    );
    assert!(stderr(&stuck).contains("SEALCTL_KEYRING_TIMEOUT"));
}

/// The kernel keyring works inside a session keyring (`keyctl session -`), and says what to do
/// outside one.
#[test]
fn the_kernel_keyring_holds_tokens_for_the_session() {
    let machine = Machine::new();
    let sealctl = env!("CARGO_BIN_EXE_sealctl");
    let script = format!(
        "set -e\n\
         printf %s \"$1\" | {sealctl} token set --keyring-store keyutils\n\
         {sealctl} token get | tr -d '\\n' | sha256sum\n\
         keyctl show @s | grep -q 'user: sealctl:' && echo present\n\
         {sealctl} token rm\n\
         keyctl show @s | grep -q 'user: sealctl:' || echo absent\n"
    );
    let output = std::process::Command::new("keyctl")
        .args(["session", "-", "sh", "-c", &script, "sh", TOKEN])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", machine.env.home())
        .env("XDG_CONFIG_HOME", machine.env.home().join(".config"))
        .env("XDG_RUNTIME_DIR", machine.runtime())
        .output()
        .expect("keyctl runs (apt-get install keyutils)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with(&sha256(TOKEN)), "the token came back");
    assert_eq!(lines[1], "present", "the entry while set");
    assert_eq!(lines[2], "absent", "no entry after rm");
    assert!(!leaks(&stderr(&output), TOKEN));
    assert_eq!(machine.file(), PROFILES);
}

/// Runs `script` with `sh -c` as root of a user namespace of its own, where the user-session
/// keyring is fresh and nobody else's; `None` where this system allows no user namespaces.
fn in_own_user_namespace(machine: &Machine, script: &str) -> Option<Output> {
    let probe = crate::common::command("unshare")
        .args(["-r", "true"])
        .output();
    if !probe.is_ok_and(|output| output.status.success()) {
        eprintln!("skipped: no user namespaces here (unshare -r)");
        return None;
    }
    Some(
        crate::common::command("unshare")
            .args(["-r", "sh", "-c", script, "sh", TOKEN])
            .env("HOME", machine.env.home())
            .env("XDG_CONFIG_HOME", machine.env.home().join(".config"))
            .env("XDG_RUNTIME_DIR", machine.runtime())
            .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
            .output()
            .expect("unshare runs"),
    )
}

/// A keyutils write that fails after the key was added (outside a session keyring the store adds
/// it, then fails to link it to the persistent keyring), and a save that fails after the entry
/// was made, leave no key behind: retries do not pile keys up.
#[test]
fn a_failed_keyutils_write_leaves_no_key_behind() {
    let machine = Machine::new();
    machine
        .sealctl(None)
        .args(["identity", "new"])
        .assert()
        .success();
    machine
        .sealctl(None)
        .args(["--profile", "prod", "token", "set"])
        .write_stdin(OTHER_TOKEN)
        .assert()
        .success();
    let before = machine.file();
    // `ulimit -f 0` (with SIGXFSZ ignored) makes writing the new file fail with EFBIG, even as
    // root, after the keyring entry was made.
    let script = "set -u\n\
        keys() { keyctl show @s | grep -c 'user: sealctl:'; }\n\
        echo \"before $(keys)\"\n\
        for try in 1 2 3; do\n\
          printf %s \"$1\" | \"$SEALCTL\" token set --keyring-store keyutils 2>>\"$HOME/outside.err\"\n\
          echo \"status $?\"\n\
        done\n\
        echo \"outside $(keys)\"\n\
        keyctl session - sh -c '\n\
          keys() { keyctl show @s | grep -c \"user: sealctl:\"; }\n\
          ( ulimit -f 0; trap \"\" XFSZ\n\
            printf %s \"$1\" | \"$SEALCTL\" token set --keyring-store keyutils\n\
            echo \"status $?\"\n\
            \"$SEALCTL\" --profile prod token move --to keyring --keyring-store keyutils\n\
            echo \"status $?\" ) 2>&1 | cat\n\
          echo \"unsaved $(keys)\"' sh \"$1\"\n";
    let Some(output) = in_own_user_namespace(&machine, script) else {
        return;
    };
    // sealctl's messages come on the same pipe as the counts where writing files is limited.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (counts, save): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|line| {
        ["before ", "status ", "outside ", "unsaved "]
            .iter()
            .any(|start| line.starts_with(start))
    });
    let save = save.join("\n");
    let outside = std::fs::read_to_string(machine.env.home().join("outside.err")).unwrap();
    assert_eq!(
        counts,
        [
            "before 0",
            "status 2",
            "status 2",
            "status 2",
            "outside 0",
            "status 2",
            "status 2",
            "unsaved 0"
        ],
        "{}\n{outside}\n{save}",
        stderr(&output)
    );
    assert!(outside.contains("needs a session keyring"), "{outside}");
    assert!(!outside.contains("may have been made"), "{outside}");
    assert_eq!(save.matches("cannot write").count(), 2, "{save}");
    assert!(!save.contains("still there"), "{save}");
    assert!(!leaks(&outside, TOKEN) && !leaks(&save, OTHER_TOKEN));
    assert_eq!(machine.file(), before);
}

/// A Secret Service entry made for a file that cannot be saved is deleted again, for every
/// command that seals into the keyring (`token set`, `token move`, `profile add`, `init`).
#[test]
fn entries_made_for_a_file_that_cannot_be_saved_are_deleted() {
    let machine = Machine::new();
    let bus = SecretService::start();
    machine
        .sealctl(None)
        .args(["identity", "new"])
        .assert()
        .success();
    machine
        .sealctl(None)
        .args(["--profile", "prod", "token", "set"])
        .write_stdin(OTHER_TOKEN)
        .assert()
        .success();
    let before = machine.file();
    // `ulimit -f 0` (SIGXFSZ ignored) makes writing the new file fail with EFBIG, even as root,
    // after the entry was made; stderr goes through a pipe, which the limit does not touch.
    let script = "ulimit -f 0; trap '' XFSZ\n\
        printf %s \"$1\" | \"$SEALCTL\" token set --backend keyring; echo \"status $?\"\n\
        \"$SEALCTL\" --profile prod token move --to keyring; echo \"status $?\"\n\
        printf %s \"$1\" | \"$SEALCTL\" profile add --name new --product clustered --host n.example.com --backend keyring --token-stdin; echo \"status $?\"\n\
        printf %s \"$1\" | \"$SEALCTL\" init --force --name default --product clustered --host h.example.com --backend keyring --token-stdin; echo \"status $?\"\n";
    let output = bus
        .command("sh")
        .args(["-c", &format!("( {script} ) 2>&1 | cat"), "sh", TOKEN])
        .env("HOME", machine.env.home())
        .env("XDG_CONFIG_HOME", machine.env.home().join(".config"))
        .env("XDG_RUNTIME_DIR", machine.runtime())
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("status 2").count(), 4, "{text}");
    assert_eq!(text.matches("cannot write").count(), 4, "{text}");
    assert!(!text.contains("still there"), "{text}");
    assert!(!leaks(&text, TOKEN) && !leaks(&text, OTHER_TOKEN));
    let listing = entries(&bus);
    assert!(
        !listing.contains("attribute.service = sealctl"),
        "entries were left: {listing}"
    );
    assert_eq!(machine.file(), before);
}
