//! A real Secret Service for one test: a private D-Bus session bus and, on it, a gnome-keyring
//! daemon with a fresh, unlocked login collection in a scratch folder. Nothing of the developer's
//! own session or keyrings is touched, and both processes end when the fixture is dropped.
//!
//! The bus has no service activation, so nothing starts behind a test's back: with
//! [`SecretService::bus_only`] the bus has no Secret Service at all, and a locked collection
//! cannot raise an unlock prompt (there is no prompter to start).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

pub struct SecretService {
    folder: TempDir,
    address: String,
    bus: Child,
    keyring: Option<Child>,
}

/// The bus configuration: a session bus on a socket in `folder`, anyone may talk to anyone, and
/// no `<servicedir>`, so no service is ever activated.
fn bus_config(folder: &std::path::Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        folder.display()
    )
}

fn require(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is not installed: the keyring tests need a real Secret Service \
         (apt-get install {package}; .ci/install-deps does it)"
    );
}

impl SecretService {
    /// A session bus with an unlocked gnome-keyring on it.
    pub fn start() -> SecretService {
        let mut service = SecretService::bus_only();
        require("gnome-keyring-daemon", "gnome-keyring");
        let data = service.folder.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut keyring = super::command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("HOME", service.folder.path())
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", service.folder.path())
            .env("DBUS_SESSION_BUS_ADDRESS", &service.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        // The password of the new login collection, which --unlock reads until end of input.
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test-pass").unwrap();
        drop(stdin);
        service.keyring = Some(keyring);
        // Until the daemon owns its name, a client could race it (see the shared CI recipe).
        for _ in 0..200 {
            if service.has_secret_service() {
                return service;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gnome-keyring-daemon did not take org.freedesktop.secrets within 10 s");
    }

    /// A session bus with nothing on it.
    pub fn bus_only() -> SecretService {
        require("dbus-daemon", "dbus");
        require("secret-tool", "libsecret-tools");
        let folder = tempfile::tempdir().unwrap();
        let config = folder.path().join("bus.conf");
        std::fs::write(&config, bus_config(folder.path())).unwrap();
        let mut bus = super::command("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon gave no address: {address:?}"
        );
        SecretService {
            folder,
            address: address.trim().to_owned(),
            bus,
            keyring: None,
        }
    }

    /// The bus's address, for DBUS_SESSION_BUS_ADDRESS.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn has_secret_service(&self) -> bool {
        let output = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }

    /// A program run on this bus, with an otherwise empty environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = super::command(program);
        command.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        command
    }

    /// `secret-tool ARGS`, with `input` on its standard input.
    pub fn secret_tool(&self, args: &[&str], input: &str) -> Output {
        super::start_with_input(
            self.command("secret-tool")
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            input,
        )
        .wait_with_output()
        .unwrap()
    }

    /// Locks the login collection, as a screen lock would.
    pub fn lock(&self) {
        super::succeeded(self.command("dbus-send").args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]));
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in self.keyring.iter_mut().chain([&mut self.bus]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
