//! `sealctl exec --mask`: every opened token in the program's output replaced with `***` as it
//! streams, also when a write splits it, with the program's own exit status and signal; a
//! pseudo-terminal for the program when sealctl has a terminal. The program is
//! testing/fake-writer.rs, which writes pieces of its `--env` variables as the test tells it.

use std::io::{Read as _, Write as _};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{TestEnv, leaks, sha256};

const MGMT_TOKEN: &str = "apiv3_Mk83Jd0qYtW5zN";
const DB_TOKEN: &str = "apiv3_Db27Hs4kRpL9vQ";

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

const WRITER: &str = env!("CARGO_BIN_EXE_fake-writer");

/// A scratch HOME with an identity and both tokens of the default profile sealed.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", PROFILES);
    env.sealctl().args(["identity", "new"]).assert().success();
    for (key, token) in [("mgmt_token", MGMT_TOKEN), ("token", DB_TOKEN)] {
        env.sealctl()
            .args(["token", "set", "--key", key])
            .write_stdin(token)
            .assert()
            .success();
    }
    env
}

/// `sealctl exec --mask --env M=mgmt_token --env D=token -- fake-writer STEPS`, all piped.
fn start(env: &TestEnv, steps: &[&str]) -> Child {
    env.sealctl_process()
        .args([
            "exec",
            "--mask",
            "--env",
            "M=mgmt_token",
            "--env",
            "D=token",
            "--",
        ])
        .arg(WRITER)
        .args(steps)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads exactly `len` bytes of `from`, or fails the test (without showing them) if the stream
/// ends first: a stand-in for "shown before the program goes on".
fn read_exactly(from: &mut impl std::io::Read, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    from.read_exact(&mut bytes)
        .expect("the output so far was passed on before the program went on");
    bytes
}

/// Kills `pid` if the test has not finished in a minute, so that output held back until the
/// program's end fails the test instead of hanging it.
fn watchdog(pid: u32) -> mpsc::Sender<()> {
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    });
    done
}

fn rest(child: &mut Child) -> (String, String, std::process::ExitStatus) {
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (out, err, child.wait().unwrap())
}

#[test]
fn a_token_split_across_writes_is_masked_on_both_streams_as_they_stream() {
    let env = setup();
    let mut child = start(
        &env,
        &[
            "out:before ",
            "out-var:M:0:9",
            "err:e ",
            "err-var:D:0:4",
            "wait",
            "out-var:M:9:end",
            "out: after\n",
            "err-var:D:4:end",
            "err:\n",
        ],
    );
    let done = watchdog(child.id());
    // Shown while the program waits: everything but the possible start of a token.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    assert_eq!(read_exactly(&mut stdout, 7), b"before ");
    assert_eq!(read_exactly(&mut stderr, 2), b"e ");
    child.stdin.take().unwrap().write_all(b"go on\n").unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    stdout.read_to_string(&mut out).unwrap();
    stderr.read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    done.send(()).unwrap();
    assert!(status.success());
    assert!(
        !leaks(&out, MGMT_TOKEN) && !leaks(&err, DB_TOKEN),
        "a token leaked"
    );
    assert_eq!(out, "*** after\n");
    assert_eq!(err, "***\n");
}

#[test]
fn the_start_of_a_token_that_is_not_the_token_is_passed_on_unmasked() {
    let env = setup();
    let mut child = start(
        &env,
        &["out-var:M:0:12", "wait", "out:X\n", "out-var:M:0:5"],
    );
    let done = watchdog(child.id());
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let (out, _, status) = rest(&mut child);
    done.send(()).unwrap();
    assert!(status.success());
    // Compared by digest: the output holds a piece of the token on purpose.
    assert_eq!(
        sha256(&out),
        sha256(&format!("{}X\n{}", &MGMT_TOKEN[..12], &MGMT_TOKEN[..5])),
        "the pieces were not passed on as written"
    );
}

#[test]
fn a_token_at_the_end_of_the_output_and_each_token_repeated_are_masked() {
    let env = setup();
    let mut child = start(
        &env,
        &[
            "out-var:D:0:end",
            "out-var:M:0:end",
            "out-var:M:0:3",
            "out-var:M:3:end",
        ],
    );
    let (out, _, status) = rest(&mut child);
    assert!(status.success());
    assert!(
        !leaks(&out, MGMT_TOKEN) && !leaks(&out, DB_TOKEN),
        "a token leaked"
    );
    assert_eq!(out, "*********");
}

#[test]
fn the_exit_status_and_signal_are_the_programs_with_mask() {
    let env = setup();
    for (steps, code) in [
        (vec!["out:x", "exit:7"], 7),
        (vec!["out-var:M:0:4", "signal:TERM"], 128 + 15),
        (vec!["signal:KILL"], 128 + 9),
    ] {
        let mut child = start(&env, &steps);
        let (out, _, status) = rest(&mut child);
        assert_eq!(status.code(), Some(code), "{steps:?}");
        // What was written before the end is still passed on.
        if steps[0] == "out:x" {
            assert_eq!(out, "x");
        }
    }
}

#[test]
fn a_field_given_with_env_is_not_a_token_and_is_not_masked() {
    let env = setup();
    let output = env
        .sealctl()
        .args([
            "exec",
            "--mask",
            "--env",
            "H=host",
            "--env",
            "M=mgmt_token",
            "--",
        ])
        .arg(WRITER)
        .args(["out-var:H:0:end", "out:|", "out-var:M:0:end"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "h.example.com|***");
}

#[test]
fn without_mask_the_output_is_the_programs_own() {
    let env = setup();
    let output = env
        .sealctl()
        .args([
            "exec",
            "--env",
            "M=mgmt_token",
            "--",
            WRITER,
            "out-var:M:0:end",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        sha256(&String::from_utf8_lossy(&output.stdout)),
        sha256(MGMT_TOKEN),
        "exec without --mask changed the output"
    );
}

#[test]
fn a_token_of_the_influxctl_config_copy_is_masked_too() {
    let env = setup();
    // A program given the copy as influxctl is (`--config PATH --profile NAME`) that prints it.
    let script = env.write("bin/show-config", "#!/bin/sh\ncat \"$2\"\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let runtime = env.home().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    // In memory, and in a private file (which sealctl removes after the program).
    for copy in [&[][..], &["--private-file"][..]] {
        let output = env
            .sealctl()
            .args(["exec", "--mask", "--adapter", "influxctl"])
            .args(copy)
            .env("XDG_RUNTIME_DIR", &runtime)
            .arg("--")
            .arg(&script)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{errors}");
        assert!(
            !leaks(&text, MGMT_TOKEN) && !leaks(&text, DB_TOKEN),
            "a token leaked"
        );
        assert!(text.contains("mgmt_token = \"***\""), "not masked in place");
        assert!(text.contains("\n  token = \"***\""), "not masked in place");
    }
    let left: Vec<_> = std::fs::read_dir(&runtime).unwrap().collect();
    assert!(left.is_empty(), "the private copy was left");
}

#[test]
fn on_a_terminal_the_program_still_sees_a_terminal_of_the_same_size_and_masks() {
    use rexpect::session::spawn_command;
    let env = setup();
    // sealctl's terminal gets a size of its own first; the environment is the scratch one.
    let mut command = crate::common::command("sh");
    command
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .env("WRITER", WRITER)
        .current_dir(env.home())
        .args([
            "-c",
            "stty rows 33 cols 77 && exec \"$SEALCTL\" exec --mask --env M=mgmt_token -- \
             \"$WRITER\" terminals out:[ out-var:M:0:end 'out:]' 'err:ON-STDERR'",
        ]);
    let mut session = spawn_command(command, Some(20_000)).expect("a pseudo-terminal");
    let screen = session.exp_eof().unwrap();
    assert!(!leaks(&screen, MGMT_TOKEN), "the token leaked");
    assert!(
        screen.contains("stdout-terminal=true stderr-terminal=true"),
        "{screen}"
    );
    assert!(screen.contains("size=33 77"), "{screen}");
    assert!(screen.contains("[***]"), "{screen}");
    assert!(screen.contains("ON-STDERR"), "{screen}");
}

#[test]
fn the_programs_terminal_follows_a_resize_of_sealctls() {
    use rexpect::session::spawn_command;
    let env = setup();
    let pid_file = env.home().join("sealctl.pid");
    let mut command = crate::common::command("sh");
    command
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .env("WRITER", WRITER)
        .env("PID_FILE", &pid_file)
        .current_dir(env.home())
        .args([
            "-c",
            "stty rows 33 cols 77 && echo $$ > \"$PID_FILE\" && exec \"$SEALCTL\" exec --mask -- \
             \"$WRITER\" terminals 'wait-size:50 100'",
        ]);
    let mut session = spawn_command(command, Some(20_000)).expect("a pseudo-terminal");
    session.exp_string("size=33 77").unwrap();
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // sealctl's terminal resized, as a terminal window is: SIGWINCH to sealctl and the program.
    assert!(
        std::process::Command::new("stty")
            .args([
                "-F",
                &format!("/proc/{}/fd/0", pid.trim()),
                "rows",
                "50",
                "cols",
                "100"
            ])
            .status()
            .unwrap()
            .success()
    );
    session.exp_string("resized=50 100").unwrap();
    session.exp_eof().unwrap();
}
