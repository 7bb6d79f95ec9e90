//! A scratch environment for running the real binary: its own HOME and config folder, and only
//! the variables a test sets, so a developer's own profiles and keys never leak in.

pub mod openbao;
pub mod secret_service;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub struct TestEnv {
    home: TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            home: tempfile::tempdir().expect("a temporary HOME"),
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `sealctl` with an empty environment but for PATH and the scratch HOME.
    pub fn sealctl(&self) -> Command {
        Command::from_std(self.sealctl_process())
    }

    /// The same, as a plain process, for tests that spawn several at once.
    pub fn sealctl_process(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sealctl"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .current_dir(self.home());
        command
    }

    /// Writes a file under HOME, creating its folders, and returns its path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.home().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }
}

/// A program with an empty environment but for PATH, so that nothing of the developer's own
/// session reaches it.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

/// Starts a command with `input` on its standard input, which is then closed. A child that
/// exits before reading it all is not an error (the tests kill some on purpose).
pub fn start_with_input(command: &mut std::process::Command, input: &str) -> std::process::Child {
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("the command starts");
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes());
    child
}

/// Runs a command that must succeed; if it does not, the test fails with its stderr.
pub fn succeeded(command: &mut std::process::Command) -> std::process::Output {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A file under `examples/`.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// Whether `haystack` holds any run of 6 or more characters of `secret`: how tests prove a
/// secret did not leak, without ever printing it (a failure message names only its length).
pub fn leaks(haystack: &str, secret: &str) -> bool {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(6.min(chars.len()))
        .any(|window| haystack.contains(&window.iter().collect::<String>()))
}

/// The SHA-256 of a text in hexadecimal: how the influxctl stand-in reports the tokens it got.
pub fn sha256(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
