//! A program that writes as a test tells it, for `sealctl exec --mask` tests: pieces of its
//! environment variables (where `--env` puts the tokens) split across writes, each write flushed
//! on its own, with waits between that the test ends by writing a line to its standard input, so
//! that the test sees what was passed on before the program goes on.
//!
//! Each argument is one step:
//! - `out:TEXT`, `err:TEXT`: write TEXT to standard output or error;
//! - `out-var:VAR:FROM:TO`, `err-var:VAR:FROM:TO`: write bytes FROM..TO of `$VAR` (`TO` may be
//!   `end`);
//! - `wait`: read one line of standard input (the test says "go on");
//! - `terminals`: write to standard output whether standard output and error are terminals, and
//!   the size `stty size` reads from standard output;
//! - `wait-size:ROWS COLS`: wait until standard output's terminal has that size, then say
//!   `resized=ROWS COLS` (a test that never resizes it is ended by its own timeout);
//! - `exit:N`: exit with status N; `signal:NAME`: kill itself with that signal.
//!
//! Built only with the `test-fakes` feature, so `cargo install` never installs it.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

fn write(to_stderr: bool, bytes: &[u8]) {
    let written = if to_stderr {
        let mut stderr = std::io::stderr();
        stderr.write_all(bytes).and_then(|()| stderr.flush())
    } else {
        let mut stdout = std::io::stdout();
        stdout.write_all(bytes).and_then(|()| stdout.flush())
    };
    written.expect("the output is open");
}

fn piece(spec: &str) -> Vec<u8> {
    let mut parts = spec.splitn(3, ':');
    let (var, from, to) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("0"),
        parts.next().unwrap_or("end"),
    );
    let value = std::env::var(var).unwrap_or_default().into_bytes();
    let from: usize = from.parse().expect("FROM is a number");
    let to = if to == "end" {
        value.len()
    } else {
        to.parse().expect("TO is a number")
    };
    value[from..to].to_vec()
}

/// The size `stty size` reads from standard output's terminal, as `ROWS COLS`.
fn terminal_size() -> String {
    std::process::Command::new("stty")
        .arg("size")
        .stdin(std::fs::File::open("/dev/stdout").expect("stdout"))
        .stderr(std::process::Stdio::null())
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn main() -> ExitCode {
    for step in std::env::args().skip(1) {
        let (what, rest) = step.split_once(':').unwrap_or((step.as_str(), ""));
        match what {
            "out" => write(false, rest.as_bytes()),
            "err" => write(true, rest.as_bytes()),
            "out-var" => write(false, &piece(rest)),
            "err-var" => write(true, &piece(rest)),
            "wait" => {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).expect("stdin");
            }
            "terminals" => {
                let size = terminal_size();
                write(
                    false,
                    format!(
                        "stdout-terminal={} stderr-terminal={} size={size}\n",
                        std::io::stdout().is_terminal(),
                        std::io::stderr().is_terminal()
                    )
                    .as_bytes(),
                );
            }
            "wait-size" => {
                while terminal_size() != rest {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                write(false, format!("resized={rest}\n").as_bytes());
            }
            "exit" => return ExitCode::from(rest.parse::<u8>().expect("a status")),
            "signal" => {
                let _ = std::process::Command::new("kill")
                    .args(["-s", rest, &std::process::id().to_string()])
                    .status();
                std::thread::sleep(std::time::Duration::from_secs(5));
                return ExitCode::from(99);
            }
            _ => panic!("unknown step {step}"),
        }
    }
    ExitCode::SUCCESS
}
