//! `sealctl exec` with the influxctl stand-in (testing/fake-influxctl.rs) on PATH as `influxctl`:
//! the right token reaches it, from memory, and nothing else; exit statuses and signals are the
//! program's; no copy of the token is left in any file.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{TestEnv, leaks, sha256};

const DEFAULT_TOKEN: &str = "apiv3_Qm72Lz0pXwK8vR";
const PROD_TOKEN: &str = "apiv3_Vn38Kd1sYtJ4hC";
const DB_TOKEN: &str = "apiv3_Hj55Rb9eCuT2wN";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with a default identity, influxctl's default config holding two profiles with
/// sealed tokens, and the stand-in on PATH as `influxctl`.
struct Setup {
    env: TestEnv,
    config: PathBuf,
    bin: PathBuf,
    runtime: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        let bin = env.home().join("bin");
        let runtime = env.home().join("runtime");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
            .unwrap();
        let setup = Setup {
            env,
            config,
            bin,
            runtime,
        };
        setup.sealctl().args(["identity", "new"]).assert().success();
        setup
            .sealctl()
            .args(["token", "set"])
            .write_stdin(DEFAULT_TOKEN)
            .assert()
            .success();
        setup
            .sealctl()
            .args(["--profile", "prod", "token", "set"])
            .write_stdin(PROD_TOKEN)
            .assert()
            .success();
        setup
            .sealctl()
            .args(["--profile", "prod", "token", "set", "--key", "token"])
            .write_stdin(DB_TOKEN)
            .assert()
            .success();
        setup
    }

    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn sealctl(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process())
    }

    fn process(&self) -> Command {
        let mut command = self.env.sealctl_process();
        command
            .env("PATH", self.path())
            .env("XDG_RUNTIME_DIR", &self.runtime);
        command
    }

    /// Starts `sealctl exec ARGS` in the background; returns it once the program says `ready`,
    /// with the program's pid.
    fn start(&self, args: &[&str]) -> (Child, u32) {
        let mut child = self
            .process()
            .arg("exec")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("not ready: {line:?}"))
            .parse()
            .unwrap();
        (child, pid)
    }
}

fn report(setup: &Setup, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut command = setup.sealctl();
    command.arg("exec").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn influxctl_gets_the_token_of_the_profile_it_would_pick_from_memory() {
    let setup = Setup::new();
    for (args, env, profile, token) in [
        (
            vec!["--", "influxctl", "report"],
            vec![],
            "default",
            DEFAULT_TOKEN,
        ),
        (
            vec!["--", "influxctl", "--profile", "prod", "report"],
            vec![],
            "prod",
            PROD_TOKEN,
        ),
        (
            vec!["--", "influxctl", "--profile=prod", "report"],
            vec![],
            "prod",
            PROD_TOKEN,
        ),
        (
            vec!["--", "influxctl", "report"],
            vec![("INFLUXCTL_PROFILE", "prod")],
            "prod",
            PROD_TOKEN,
        ),
    ] {
        let report = report(&setup, &args, &env);
        assert_eq!(report["profile"], profile, "{args:?}");
        assert_eq!(report["mgmt_token_sha256"], sha256(token), "{args:?}");
        assert_eq!(report["profiles_in_file"], 1, "only the selected profile");
        assert_eq!(report["has_sealctl_table"], false);
        assert_eq!(report["sealctl_profile_env"], profile);
        assert!(
            report["config"]
                .as_str()
                .unwrap()
                .starts_with("/proc/self/fd/"),
            "{report}"
        );
    }
    let prod = report(
        &setup,
        &["--", "influxctl", "--profile", "prod", "report"],
        &[],
    );
    assert_eq!(prod["token_sha256"], sha256(DB_TOKEN));
}

#[test]
fn influxctls_own_config_flag_is_honoured() {
    let setup = Setup::new();
    let team = setup.env.home().join("team.toml");
    std::fs::copy(&setup.config, &team).unwrap();
    std::fs::write(&setup.config, "not even toml [").unwrap();
    let report = report(
        &setup,
        &[
            "--",
            "influxctl",
            "--config",
            team.to_str().unwrap(),
            "--profile",
            "prod",
            "report",
        ],
        &[],
    );
    assert_eq!(report["mgmt_token_sha256"], sha256(PROD_TOKEN));
}

#[test]
fn env_delivers_values_to_any_program() {
    let setup = Setup::new();
    setup
        .sealctl()
        .args([
            "--profile",
            "prod",
            "exec",
            "--env",
            "INFLUX_TOKEN=token",
            "--env",
            "MGMT=mgmt_token",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_fake-influxctl"))
        .args(["env-sha256", "INFLUX_TOKEN"])
        .assert()
        .success()
        .stdout(format!("{}\n", sha256(DB_TOKEN)));
    setup
        .sealctl()
        .args(["exec", "--env", "X=nope", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no `nope`"));
}

#[test]
fn exit_statuses_are_the_programs() {
    let setup = Setup::new();
    setup
        .sealctl()
        .args(["exec", "--", "influxctl", "exit", "42"])
        .assert()
        .code(42);
    setup
        .sealctl()
        .args(["exec", "--private-file", "--", "influxctl", "exit", "42"])
        .assert()
        .code(42);
    setup
        .sealctl()
        .args(["exec", "--", "no-such-program-here"])
        .assert()
        .code(127)
        .stderr(predicate::str::contains("command not found"));
    let not_executable = setup.env.write("bin/notexec", "#!/bin/sh\n");
    setup
        .sealctl()
        .args(["exec", "--"])
        .arg(&not_executable)
        .assert()
        .code(126);
    // Errors before the program starts are sealctl's own: 2, and the program is not started.
    setup
        .sealctl()
        .args(["exec", "--", "influxctl", "--profile", "staging", "report"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(it has: default, prod)"));
    setup
        .sealctl()
        .args(["exec", "--", "influxctl", "--config"])
        .assert()
        .code(2);
}

#[test]
fn a_token_that_cannot_be_opened_never_starts_the_program() {
    let setup = Setup::new();
    let marker = setup.env.home().join("started");
    std::fs::remove_file(setup.env.home().join(".config/sealctl/identity.txt")).unwrap();
    setup
        .sealctl()
        .args(["exec", "--", "sh", "-c"])
        .arg(format!("touch {}", marker.display()))
        .args(["--env", "T=mgmt_token"])
        .assert()
        .code(0);
    // `--env` after PROGRAM belongs to the program; with it before, the token is needed first.
    std::fs::remove_file(&marker).unwrap();
    setup
        .sealctl()
        .args(["exec", "--env", "T=mgmt_token", "--", "sh", "-c"])
        .arg(format!("touch {}", marker.display()))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the program was not started"));
    assert!(!marker.exists());
    setup
        .sealctl()
        .args(["exec", "--", "influxctl", "report"])
        .assert()
        .code(2);
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap(), signal)
        .unwrap();
}

#[test]
fn signals_reach_the_program_and_its_death_is_reported() {
    use rustix::process::Signal;
    let setup = Setup::new();
    for mode in [&[][..], &["--private-file"][..]] {
        for (sent, name) in [
            (Signal::TERM, "SIGTERM"),
            (Signal::INT, "SIGINT"),
            (Signal::HUP, "SIGHUP"),
            (Signal::QUIT, "SIGQUIT"),
        ] {
            let args: Vec<&str> = mode
                .iter()
                .copied()
                .chain(["--", "influxctl", "wait-signal"])
                .collect();
            let (child, _) = setup.start(&args);
            signal(child.id(), sent);
            let output = child.wait_with_output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("received {name}\n"),
                "{mode:?}"
            );
            assert_eq!(output.status.code(), Some(0), "{mode:?} {name}");
        }
        // The program killed outright: 137, as a shell says.
        let args: Vec<&str> = mode
            .iter()
            .copied()
            .chain(["--", "influxctl", "wait-signal"])
            .collect();
        let (child, pid) = setup.start(&args);
        signal(pid, Signal::KILL);
        let status = child.wait_with_output().unwrap().status;
        use std::os::unix::process::ExitStatusExt as _;
        assert!(
            status.code() == Some(137) || status.signal() == Some(9),
            "{mode:?}: {status:?}"
        );
    }
}

/// Every file under `dir` (recursively, to `depth` levels) that holds `secret`, whole.
fn files_holding(dir: &Path, secret: &str, depth: usize) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() && depth > 0 {
            found.extend(files_holding(&path, secret, depth - 1));
        } else if metadata.is_file()
            && metadata.len() < 16 << 20
            && let Ok(bytes) = std::fs::read(&path)
            && bytes
                .windows(secret.len())
                .any(|window| window == secret.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn no_file_holds_the_token_while_the_program_runs_nor_after() {
    use rustix::process::Signal;
    let setup = Setup::new();
    let places = |setup: &Setup| {
        let mut found = Vec::new();
        for dir in [
            setup.runtime.as_path(),
            setup.config.parent().unwrap(),
            setup.env.home(),
        ] {
            found.extend(files_holding(dir, DEFAULT_TOKEN, 8));
        }
        // /tmp itself, and anything sealctl would have made there (its own build trees and
        // other tests' are not scanned: only what sealctl names).
        found.extend(files_holding(Path::new("/tmp"), DEFAULT_TOKEN, 0));
        for entry in std::fs::read_dir("/tmp").unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("sealctl") {
                found.extend(files_holding(&entry.path(), DEFAULT_TOKEN, 4));
            }
        }
        found
    };
    let (child, pid) = setup.start(&["--", "influxctl", "wait-signal"]);
    assert_eq!(places(&setup), Vec::<PathBuf>::new(), "while it runs");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        !leaks(&String::from_utf8_lossy(&cmdline), DEFAULT_TOKEN),
        "the command line holds the token"
    );
    signal(child.id(), Signal::TERM);
    child.wait_with_output().unwrap();
    assert_eq!(places(&setup), Vec::<PathBuf>::new(), "after");
    // The private file is removed when sealctl is interrupted, too.
    for sent in [Signal::INT, Signal::TERM] {
        let (child, _) = setup.start(&["--private-file", "--", "influxctl", "wait-signal"]);
        assert_eq!(
            std::fs::read_dir(&setup.runtime).unwrap().count(),
            1,
            "the private folder is in XDG_RUNTIME_DIR"
        );
        signal(child.id(), sent);
        child.wait_with_output().unwrap();
        assert_eq!(places(&setup), Vec::<PathBuf>::new(), "after {sent:?}");
        assert_eq!(
            std::fs::read_dir(&setup.runtime).unwrap().count(),
            0,
            "a private folder was left"
        );
    }
}

#[test]
fn standard_streams_are_the_programs() {
    let setup = Setup::new();
    let input: Vec<u8> = (0..100 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let mut child = setup
        .process()
        .args(["exec", "--", "influxctl", "pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn({
        let input = input.clone();
        move || stdin.write_all(&input).unwrap()
    });
    let mut output = Vec::with_capacity(input.len());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output)
        .unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(output == input, "100 MB through sealctl exec changed");
}

#[test]
fn exec_inside_exec_works() {
    let setup = Setup::new();
    let output = setup
        .sealctl()
        .args(["exec", "--", "sh", "-c"])
        .arg(format!(
            "{} exec -- influxctl --profile prod report",
            env!("CARGO_BIN_EXE_sealctl")
        ))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["mgmt_token_sha256"], sha256(PROD_TOKEN));
}

#[test]
fn sealctl_dumps_no_core_but_the_program_keeps_its_limit() {
    let setup = Setup::new();
    // Started with a core size limit of 1 MiB, sealctl runs with 0; the program gets 1 MiB back.
    // (--private-file keeps sealctl alive beside the program, so that its limits can be read.)
    let script = format!(
        "ulimit -c 1024 || exit 77\n\
         exec {} exec --private-file --env T=mgmt_token -- sh -c \
           'grep \"Max core file size\" /proc/$PPID/limits; ulimit -c'",
        env!("CARGO_BIN_EXE_sealctl")
    );
    let output = crate::common::command("sh")
        .args(["-c", &script])
        .env("PATH", setup.path())
        .env("HOME", setup.env.home())
        .env("XDG_CONFIG_HOME", setup.env.home().join(".config"))
        .env("XDG_RUNTIME_DIR", &setup.runtime)
        .output()
        .unwrap();
    if output.status.code() == Some(77) {
        eprintln!("skipped: the hard core size limit is 0 here");
        return;
    }
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let sealctl_limit: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(sealctl_limit[4], "0", "sealctl's own soft limit: {text}");
    assert_eq!(lines[1], "1024", "the program's limit: {text}");
}

/// Keys are read as influxctl reads them (go-toml v2: without regard to case): a plaintext
/// `MGMT_TOKEN` is sealed by `seal --all`, `token get`/`set` and `exec` find it, and influxctl is
/// given the opened value under the key it reads; two spellings of one key are refused.
#[test]
fn case_variant_keys_are_the_keys_influxctl_reads() {
    let setup = Setup::new();
    let kelvin = "to\u{212A}en";
    let file = format!(
        "[[Profile]]\n  NAME = \"default\"\n  Product = \"clustered\"\n  HOST = \"h.example.com\"\n  Port = \"443\"\n  MGMT_TOKEN = \"{DEFAULT_TOKEN}\"\n\n[[Profile]]\n  Name = \"prod\"\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n  Mgmt_Token = \"{PROD_TOKEN}\"\n  \"{kelvin}\" = \"{DB_TOKEN}\"\n"
    );
    let config = setup.env.write("variants.toml", &file);
    let config = config.to_str().unwrap();
    setup
        .sealctl()
        .args(["--config", config, "seal", "--all"])
        .assert()
        .success()
        .stderr(predicate::str::contains("sealed 3 tokens"));
    let sealed = std::fs::read_to_string(config).unwrap();
    for token in [DEFAULT_TOKEN, PROD_TOKEN, DB_TOKEN] {
        assert!(!leaks(&sealed, token), "a plaintext token is left");
    }
    // The keys keep their spelling: only the values changed.
    for key in ["  MGMT_TOKEN = \"sealctl:", "  Mgmt_Token = \"sealctl:"] {
        assert!(sealed.contains(key), "{key}");
    }
    assert!(sealed.contains(&format!("  \"{kelvin}\" = \"sealctl:")));
    setup
        .sealctl()
        .args(["--config", config, "check"])
        .assert()
        .code(0);
    let got = setup
        .sealctl()
        .args([
            "--config",
            config,
            "--profile",
            "prod",
            "token",
            "get",
            "--key",
            "token",
        ])
        .output()
        .unwrap();
    assert_eq!(
        sha256(String::from_utf8_lossy(&got.stdout).trim_end()),
        sha256(DB_TOKEN)
    );

    let report = report(
        &setup,
        &[
            "--",
            "influxctl",
            "--config",
            config,
            "--profile",
            "prod",
            "report",
        ],
        &[],
    );
    assert_eq!(report["mgmt_token_sha256"], sha256(PROD_TOKEN));
    assert_eq!(report["token_sha256"], sha256(DB_TOKEN));
    let report = self::report(
        &setup,
        &["--", "influxctl", "--config", config, "report"],
        &[],
    );
    assert_eq!(report["mgmt_token_sha256"], sha256(DEFAULT_TOKEN));

    // token set replaces the value of the key as written, adding no second spelling.
    setup
        .sealctl()
        .args(["--config", config, "token", "set"])
        .write_stdin("apiv3_NEW-default")
        .assert()
        .success();
    let after = std::fs::read_to_string(config).unwrap();
    assert!(!after.contains("mgmt_token"), "a second spelling was added");
    let report = self::report(
        &setup,
        &["--", "influxctl", "--config", config, "report"],
        &[],
    );
    assert_eq!(report["mgmt_token_sha256"], sha256("apiv3_NEW-default"));

    // Two spellings of one key: every command refuses, the file unchanged, nothing started.
    let twice = after.replacen(
        "  MGMT_TOKEN",
        &format!("  mgmt_token = \"{PROD_TOKEN}\"\n  MGMT_TOKEN"),
        1,
    );
    std::fs::write(config, &twice).unwrap();
    for args in [
        vec!["seal", "--all"],
        vec!["token", "get"],
        vec!["exec", "--", "influxctl", "report"],
    ] {
        let output = setup
            .sealctl()
            .args(["--config", config])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("`mgmt_token` and `MGMT_TOKEN`"),
            "{args:?}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains("mgmt_token_sha256"));
        assert!(!leaks(&stderr, PROD_TOKEN));
        assert_eq!(std::fs::read_to_string(config).unwrap(), twice);
    }
    setup
        .sealctl()
        .args(["--config", config, "check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[duplicate-key]"));
}
