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

/// The `sealctl-run-*` folders (one per run's private copy) in a folder of private copies.
fn runs(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("sealctl-run-")
        })
        .map(|entry| entry.path())
        .collect()
}

/// Writes an executable script under HOME/bin.
fn script(setup: &Setup, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = setup.bin.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A program that says `ready PID CONFIG` (CONFIG: the `--config` the influxctl adapter gave it)
/// and sleeps, with no handler of its own for any signal.
fn sleeper(setup: &Setup) -> PathBuf {
    script(
        setup,
        "sleeper",
        // Its output closed, so that a test waiting on sealctl's never waits for it.
        "#!/bin/sh\nulimit -c 0\necho \"ready $$ $2\"\nexec sleep 600 >/dev/null 2>&1\n",
    )
}

/// Starts `command`, which runs [`sleeper`]; returns it with the sleeper's pid and config path.
fn start_sleeper(mut command: Command) -> (Child, u32, PathBuf) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut words = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("not ready: {line:?}"))
        .splitn(2, ' ');
    let pid = words.next().unwrap().parse().unwrap();
    let config = PathBuf::from(words.next().unwrap());
    (child, pid, config)
}

/// `sealctl exec --private-file` of [`sleeper`], through the influxctl adapter.
fn private_sleeper(setup: &Setup) -> Command {
    let mut command = setup.process();
    command
        .args(["exec", "--private-file", "--adapter", "influxctl", "--"])
        .arg(sleeper(setup));
    command
}

/// Whether process `pid` has ended (a zombie nobody waits for has ended too).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with('Z'),
    }
}

/// Waits (a minute at most) until process `pid` has ended.
fn wait_until_gone(pid: u32) {
    for _ in 0..1200 {
        if gone(pid) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("process {pid} is still running");
}

// Regression: a signal sealctl neither forwarded nor handled (SIGUSR1, SIGALRM, …) killed it,
// left the plaintext copy and orphaned the program.
#[test]
fn every_fatal_signal_reaches_the_program_and_no_private_copy_is_left() {
    use rustix::process::Signal;
    let setup = Setup::new();
    let named = [
        Signal::HUP,
        Signal::INT,
        Signal::QUIT,
        Signal::TERM,
        Signal::USR1,
        Signal::USR2,
        Signal::ALARM,
        Signal::PIPE,
        Signal::VTALARM,
        Signal::PROF,
        Signal::XCPU,
        Signal::XFSZ,
        Signal::IO,
        Signal::POWER,
        Signal::SYS,
        Signal::TRAP,
        Signal::ABORT,
        Signal::BUS,
        Signal::STKFLT,
    ];
    // Real-time signals end a process too; rustix cannot name them, bash's kill can. The
    // program is asked to end with SIGTERM (143).
    let sends = named
        .iter()
        .map(|sent| (format!("{sent:?}"), Some(*sent), 128 + sent.as_raw()))
        .chain(["RTMIN", "RTMIN+3", "RTMAX"].map(|name| (name.to_owned(), None, 143)));
    for (name, sent, expected) in sends {
        let (child, pid, config) = start_sleeper(private_sleeper(&setup));
        assert!(config.exists(), "{name}: the copy exists while it runs");
        match sent {
            Some(sent) => signal(child.id(), sent),
            None => {
                let status = crate::common::command("bash")
                    .args(["-c", "kill -s \"$0\" \"$1\""])
                    .arg(&name)
                    .arg(child.id().to_string())
                    .status()
                    .unwrap();
                assert!(status.success(), "{name}: bash's kill failed");
            }
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(expected),
            "{name}: sealctl did not end with the program's status: {:?} {stderr}",
            output.status
        );
        let orphaned = !gone(pid);
        if orphaned {
            signal(pid, Signal::KILL);
        }
        assert!(!orphaned, "{name}: the program was left running");
        assert!(!config.exists(), "{name}: the private copy was left");
        assert_eq!(
            runs(&setup.runtime),
            Vec::<PathBuf>::new(),
            "{name}: a run folder was left"
        );
    }
}

// Regression: after a SIGKILL to sealctl the plaintext copy stayed for ever.
#[test]
fn a_copy_left_by_a_killed_run_is_removed_by_the_next_once_its_program_is_gone() {
    use rustix::process::Signal;
    let setup = Setup::new();
    let folder = setup.runtime.clone();
    let (mut killed, pid, left) = start_sleeper(private_sleeper(&setup));
    signal(killed.id(), Signal::KILL);
    killed.wait().unwrap();
    assert!(left.exists(), "premise: SIGKILL cannot be caught");
    // Another run, alive while the next ones start: its copy is never touched.
    let (live, live_pid, live_copy) = start_sleeper(private_sleeper(&setup));
    // The killed run's program still runs, and may still read its copy: it stays too.
    setup
        .sealctl()
        .args(["exec", "--", "true"])
        .assert()
        .success();
    assert!(
        left.exists(),
        "the copy of a program still running was removed"
    );
    assert!(live_copy.exists(), "a live run's copy was removed");
    signal(pid, Signal::KILL);
    wait_until_gone(pid);
    // Any run cleans up, also one that makes no private copy itself.
    setup
        .sealctl()
        .args(["exec", "--", "true"])
        .assert()
        .success();
    assert!(!left.exists(), "the copy of a dead run was left");
    assert_eq!(runs(&folder).len(), 1, "only the live run's folder stays");
    assert!(live_copy.exists(), "a live run's copy was removed");
    signal(live.id(), Signal::TERM);
    live.wait_with_output().unwrap();
    wait_until_gone(live_pid);
    assert_eq!(runs(&folder), Vec::<PathBuf>::new());
}

/// Where `sealctl exec --private-file` puts the copy with `runtime` as XDG_RUNTIME_DIR (unset if
/// `None`) and `tmp` as TMPDIR: the folder of copies, or the failure's status and message.
fn copy_folder(
    setup: &Setup,
    runtime: Option<&Path>,
    tmp: &Path,
) -> Result<PathBuf, (i32, String)> {
    let reporter = script(setup, "where", "#!/bin/sh\necho \"$2\"\n");
    let mut command = setup.process();
    command
        .env("TMPDIR", tmp)
        .args(["exec", "--private-file", "--adapter", "influxctl", "--"])
        .arg(reporter);
    match runtime {
        Some(runtime) => command.env("XDG_RUNTIME_DIR", runtime),
        None => command.env_remove("XDG_RUNTIME_DIR"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        assert!(output.stdout.is_empty(), "the program was started");
        return Err((output.status.code().unwrap_or(-1), stderr));
    }
    let config = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    // config.toml in sealctl-run-… in the folder of copies.
    Ok(config.parent().unwrap().parent().unwrap().to_owned())
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

// Regression: with XDG_RUNTIME_DIR unset the copy went to /tmp.
#[test]
fn private_copies_go_only_in_a_folder_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let setup = Setup::new();
    let uid = rustix::process::geteuid().as_raw();
    let home = setup.env.home();
    let tmp = home.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let fallback = tmp.join(format!("sealctl-{uid}"));
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // Only root can give a folder to another user here.
    let chown_to_nobody = |path: &Path| std::os::unix::fs::chown(path, Some(65534), None).is_ok();

    // The user's own, and no one else may write to it: 0700 as systemd makes it, or 0755.
    for mode in [0o700, 0o755] {
        set_mode(&setup.runtime, mode);
        assert_eq!(
            copy_folder(&setup, Some(&setup.runtime), &tmp),
            Ok(setup.runtime.clone())
        );
    }
    assert_eq!(copy_folder(&setup, None, &tmp), Ok(fallback.clone()));
    assert_eq!(
        mode(&fallback),
        0o700,
        "the folder sealctl makes is private"
    );
    assert_eq!(
        copy_folder(&setup, Some(Path::new("relative/run")), &tmp),
        Ok(fallback.clone()),
        "XDG_RUNTIME_DIR must be absolute"
    );

    // An XDG_RUNTIME_DIR others can enter, or not one's own, is passed over, with a warning.
    let open = home.join("open-runtime");
    std::fs::create_dir(&open).unwrap();
    set_mode(&open, 0o777);
    let link = home.join("linked-runtime");
    std::os::unix::fs::symlink(&setup.runtime, &link).unwrap();
    let group = home.join("group-runtime");
    std::fs::create_dir(&group).unwrap();
    set_mode(&group, 0o770);
    let mut unsafe_runtimes = vec![
        (open, "mode 0777"),
        (group, "mode 0770"),
        (link, "symbolic link"),
    ];
    let others = home.join("others-runtime");
    std::fs::create_dir(&others).unwrap();
    set_mode(&others, 0o700);
    if chown_to_nobody(&others) {
        unsafe_runtimes.push((others.clone(), "belongs to user 65534"));
        // Through a link of one's own, too.
        let link_to_others = home.join("link-to-others");
        std::os::unix::fs::symlink(&others, &link_to_others).unwrap();
        unsafe_runtimes.push((link_to_others, "symbolic link"));
    }
    for (runtime, why) in &unsafe_runtimes {
        let reporter = script(&setup, "where", "#!/bin/sh\necho \"$2\"\n");
        let output = setup
            .process()
            .env("TMPDIR", &tmp)
            .env("XDG_RUNTIME_DIR", runtime)
            .args(["exec", "--private-file", "--adapter", "influxctl", "--"])
            .arg(reporter)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{why}: {stderr}");
        assert!(
            stderr.contains("warning: XDG_RUNTIME_DIR") && stderr.contains(why),
            "{why}: {stderr}"
        );
        let config = String::from_utf8(output.stdout).unwrap();
        assert!(
            Path::new(config.trim()).starts_with(&fallback),
            "{why}: the copy went to {config}"
        );
    }

    // A fallback folder that is not private is refused: no copy, the program not started.
    type Make<'a> = Box<dyn Fn() + 'a>;
    let mut refusals: Vec<(&str, Make)> = vec![
        (
            "mode 0777",
            Box::new(|| {
                std::fs::create_dir(&fallback).unwrap();
                set_mode(&fallback, 0o777);
            }),
        ),
        (
            "mode 0775",
            Box::new(|| {
                std::fs::create_dir(&fallback).unwrap();
                set_mode(&fallback, 0o775);
            }),
        ),
        (
            "symbolic link",
            Box::new(|| {
                let elsewhere = home.join("elsewhere");
                std::fs::create_dir_all(&elsewhere).unwrap();
                set_mode(&elsewhere, 0o700);
                std::os::unix::fs::symlink(&elsewhere, &fallback).unwrap();
            }),
        ),
        (
            "is not a folder",
            Box::new(|| std::fs::write(&fallback, "").unwrap()),
        ),
    ];
    if chown_to_nobody(&others) {
        refusals.push((
            "belongs to user 65534",
            Box::new(|| {
                std::fs::create_dir(&fallback).unwrap();
                set_mode(&fallback, 0o700);
                assert!(chown_to_nobody(&fallback));
            }),
        ));
    }
    for (why, make) in refusals {
        let _ = std::fs::remove_dir_all(&fallback);
        let _ = std::fs::remove_file(&fallback);
        make();
        let (status, stderr) = copy_folder(&setup, None, &tmp).unwrap_err();
        assert_eq!(status, 2, "{why}: {stderr}");
        assert!(
            stderr.contains(&fallback.display().to_string()),
            "{why}: {stderr}"
        );
        assert!(stderr.contains(why), "{why}: {stderr}");
        assert!(
            stderr.contains("hint: set XDG_RUNTIME_DIR"),
            "{why}: {stderr}"
        );
        assert!(
            files_holding(&home.join("elsewhere"), DEFAULT_TOKEN, 3).is_empty(),
            "{why}: a copy was made"
        );
    }
}

/// The names of the variables in a file `env` wrote.
fn variable_names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.to_owned()))
        .collect()
}

// Regression: SEALCTL_IDENTITY (a key that opens every profile) and SEALCTL_IDENTITY_FILE
// reached the program and everything it started.
#[test]
fn sealctls_key_variables_never_reach_the_program_nor_its_children() {
    let setup = Setup::new();
    let identity_file = setup.env.home().join(".config/sealctl/identity.txt");
    let identity = std::fs::read_to_string(&identity_file).unwrap();
    let moved = setup.env.home().join("ci-identity.txt");
    std::fs::rename(&identity_file, &moved).unwrap();
    let dump = setup.env.home().join("env-program");
    let child_dump = setup.env.home().join("env-child");
    let dumper = script(
        &setup,
        "dump-env",
        &format!(
            "#!/bin/sh\nenv > {}\nsh -c 'env > {}'\n",
            dump.display(),
            child_dump.display()
        ),
    );
    let secret_names = [
        "SEALCTL_IDENTITY",
        "SEALCTL_IDENTITY_FILE",
        "SEALCTL_CI_IDENTITY",
    ];
    for (variable, value) in [
        ("SEALCTL_IDENTITY", identity.as_str()),
        ("SEALCTL_IDENTITY_FILE", moved.to_str().unwrap()),
    ] {
        // Replacing sealctl (env adapter), and waiting beside it (a private file).
        for mode in [
            &["--env", "T=mgmt_token"][..],
            &["--private-file", "--adapter", "influxctl"],
        ] {
            let _ = std::fs::remove_file(&dump);
            let _ = std::fs::remove_file(&child_dump);
            let output = setup
                .process()
                .env(variable, value)
                .env("SEALCTL_CI_IDENTITY", &identity)
                .env("KEPT_FOR_THE_PROGRAM", "1")
                .arg("exec")
                .args(mode)
                .arg("--")
                .arg(&dumper)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{variable} {mode:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            for file in [&dump, &child_dump] {
                let names = variable_names(file);
                assert!(
                    names.iter().any(|name| name == "KEPT_FOR_THE_PROGRAM"),
                    "premise: the environment reaches the program"
                );
                let seen: Vec<&str> = secret_names
                    .iter()
                    .copied()
                    .filter(|secret| names.iter().any(|name| name == secret))
                    .collect();
                assert_eq!(
                    seen,
                    Vec::<&str>::new(),
                    "{variable} {mode:?} in {}",
                    file.display()
                );
                // Nor the key itself, under any name.
                let text = std::fs::read_to_string(file).unwrap();
                assert!(
                    !leaks(&text, identity.lines().last().unwrap().trim()),
                    "{variable} {mode:?}: the key is in {}",
                    file.display()
                );
            }
        }
    }
}

// Regression: `--env` took `1BAD`, `A B`, duplicates and PATH.
#[test]
fn env_names_are_checked_before_anything_is_opened() {
    let setup = Setup::new();
    let marker = setup.env.home().join("started");
    let start = format!("touch {}", marker.display());
    let bad: Vec<(Vec<&str>, &str)> = vec![
        (vec!["1BAD=token"], "not an environment variable name"),
        (vec!["A B=token"], "not an environment variable name"),
        (vec!["A-B=token"], "not an environment variable name"),
        (vec!["=token"], "the variable name is empty"),
        (vec!["ÉTÉ=token"], "not an environment variable name"),
        (
            vec!["A\u{1b}]0;x\u{7}=token"],
            "not an environment variable name",
        ),
        (vec!["A=token", "A=mgmt_token"], "more than once"),
        (vec!["PATH=token"], "PATH decides how programs"),
        (vec!["LD_PRELOAD=token"], "LD_PRELOAD decides how programs"),
        (vec!["LD_LIBRARY_PATH=token"], "LD_LIBRARY_PATH decides"),
        (vec!["DYLD_INSERT_LIBRARIES=token"], "decides how programs"),
        (vec!["HOME=token"], "HOME decides"),
        (vec!["BASH_ENV=token"], "BASH_ENV decides"),
        (vec!["SEALCTL_PROFILE=token"], "sealctl's own"),
        (vec!["SEALCTL_IDENTITY=token"], "sealctl's own"),
    ];
    for (vars, why) in bad {
        let mut command = setup.sealctl();
        // Neither the file nor any identity may be read first: both are missing.
        command
            .env("SEALCTL_IDENTITY_FILE", "/nonexistent/identity.txt")
            .args(["--config", "/nonexistent/config.toml", "exec"]);
        for var in &vars {
            command.args(["--env", var]);
        }
        let output = command.args(["--", "sh", "-c", &start]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{vars:?}: {stderr}");
        assert!(stderr.contains(why), "{vars:?}: {stderr}");
        assert!(
            !stderr.contains("nonexistent"),
            "{vars:?} read files first: {stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}'),
            "{vars:?}: raw escape in {stderr:?}"
        );
        assert!(!marker.exists(), "{vars:?}: the program was started");
    }
    // Names that are fine: lower case, underscores, digits after the first letter.
    setup
        .sealctl()
        .args([
            "--profile",
            "prod",
            "exec",
            "--env",
            "influx_token2=mgmt_token",
        ])
        .args(["--env", "_T=token"])
        .args(["--", "sh", "-c", &start])
        .assert()
        .success();
    assert!(marker.exists());
}

// Regression: `sealctl exec --prfile prod -- influxctl` tried to run a program named `--prfile`.
#[test]
fn an_unknown_option_before_the_program_is_a_usage_error() {
    let setup = Setup::new();
    let marker = setup.env.home().join("started");
    let start = format!("touch {}", marker.display());
    for (typo, meant) in [
        ("--prfile", "--profile"),
        ("--privte-file", "--private-file"),
        ("--evn", "--env"),
        ("--adaptor", "--adapter"),
        ("--confg", "--config"),
    ] {
        for args in [
            vec![typo, "x", "--", "sh", "-c", &start],
            vec![typo, "sh", "-c", &start],
            vec!["--private-file", typo, "--", "sh", "-c", &start],
        ] {
            let output = setup.sealctl().arg("exec").args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("'{typo}'")) && stderr.contains(&format!("'{meant}'")),
                "{args:?}: {stderr}"
            );
            assert!(!marker.exists(), "{args:?}: something was started");
        }
    }
    // After `--`, a name starting with `-` is the program's.
    script(&setup, "--weird-program", &format!("#!/bin/sh\n{start}\n"));
    setup
        .sealctl()
        .args(["exec", "--", "--weird-program"])
        .assert()
        .success();
    assert!(marker.exists(), "`-- --weird-program` did not run it");
    // After the program, every option is the program's, also one that looks like sealctl's.
    setup
        .sealctl()
        .args([
            "exec",
            "sh",
            "-c",
            "printf '%s\\n' \"$@\"",
            "sh",
            "--prfile",
            "x",
            "--env",
            "A=b",
        ])
        .assert()
        .success()
        .stdout("--prfile\nx\n--env\nA=b\n");
    let report = report(
        &setup,
        &["influxctl", "--debug", "--profile", "prod", "report"],
        &[],
    );
    assert_eq!(report["profile"], "prod");
}

// Regression: a file that is not executable got the hint "is it installed and on PATH?".
#[test]
fn a_program_that_cannot_run_says_why() {
    use std::os::unix::fs::PermissionsExt as _;
    let setup = Setup::new();
    let home = setup.env.home();
    let not_executable = setup.env.write("scripts/not executable.sh", "#!/bin/sh\n");
    let on_path = setup.env.write("bin/notexec", "#!/bin/sh\n");
    let folder = home.join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let bad_interpreter = setup.env.write("scripts/bad.sh", "#!/nonexistent/sh\n");
    std::fs::set_permissions(&bad_interpreter, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases: Vec<(&std::ffi::OsStr, i32, Vec<String>)> = vec![
        (
            not_executable.as_os_str(),
            126,
            vec![
                format!("{} is not executable", not_executable.display()),
                format!("chmod +x '{}'", not_executable.display()),
            ],
        ),
        (
            "notexec".as_ref(),
            126,
            vec![
                format!("{} is not executable", on_path.display()),
                format!("chmod +x {}", on_path.display()),
            ],
        ),
        (
            folder.as_os_str(),
            126,
            vec![format!("{} is a folder", folder.display())],
        ),
        (
            bad_interpreter.as_os_str(),
            127,
            vec!["the interpreter /nonexistent/sh".to_owned()],
        ),
        (
            "no-such-program-here".as_ref(),
            127,
            vec![
                "command not found".to_owned(),
                "is it installed and on PATH?".to_owned(),
            ],
        ),
    ];
    // Both ways of starting it: replacing sealctl, and beside a private file.
    for mode in [&[][..], &["--private-file", "--adapter", "influxctl"][..]] {
        for (program, status, says) in &cases {
            let output = setup
                .sealctl()
                .arg("exec")
                .args(mode)
                .arg("--")
                .arg(program)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(*status),
                "{program:?} {mode:?}: {stderr}"
            );
            for said in says {
                assert!(
                    stderr.contains(said.as_str()),
                    "{program:?} {mode:?}: {stderr}"
                );
            }
            if *status == 126 {
                assert!(
                    !stderr.contains("on PATH?"),
                    "{program:?} {mode:?}: {stderr}"
                );
            }
        }
    }
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

// Regression: `--env T=MGMT_TOKEN` found no key: the key is read as influxctl reads it.
#[test]
fn env_keys_are_read_as_influxctl_reads_them() {
    let setup = Setup::new();
    for key in ["mgmt_token", "MGMT_TOKEN", "Mgmt_Token"] {
        let output = setup
            .sealctl()
            .args(["--profile", "prod", "exec", "--env"])
            .arg(format!("T={key}"))
            .args(["--", "sh", "-c", "printf %s \"$T\""])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            sha256(&String::from_utf8_lossy(&output.stdout)),
            sha256(PROD_TOKEN),
            "{key}"
        );
    }
}
