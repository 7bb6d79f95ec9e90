//! The profile file does not choose where the login goes: its `[sealctl.openbao] address` is
//! only compared with the server this machine names (`BAO_ADDR`/`VAULT_ADDR`). A file naming
//! another server (a listener here that records whatever reaches it) with no variable set is
//! refused before any connection; with the variable set, the variable wins with a warning.

use std::io::Read as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{Login, TOKEN, Team, stderr};
use crate::common::openbao::MACHINE;
use crate::common::sha256;

const REFUSAL: &str = "sealctl sends your login only to a server this machine names";

/// A server an attacker runs: it counts the connections and keeps the bytes they send.
struct Listener {
    address: String,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Listener {
    fn start() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count, bytes) = (connections.clone(), received.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(mut stream) = stream else { continue };
                let bytes = bytes.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
                    let mut buffer = [0; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buffer) {
                        bytes.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                });
            }
        });
        Listener {
            address,
            connections,
            received,
        }
    }

    /// Nothing reached it: no connection, no byte.
    fn assert_untouched(&self) {
        assert_eq!(self.connections.load(Ordering::SeqCst), 0, "a connection");
        assert!(self.received.lock().unwrap().is_empty(), "bytes arrived");
    }
}

/// The file with `[sealctl.openbao] address = ADDRESS` on top (instead of the table an earlier
/// call put there), as a hostile edit would put it.
fn name_in_file(team: &Team, address: &str) {
    let file = team.file();
    let rest = match file.strip_prefix("[sealctl.openbao]\n") {
        Some(table) => table.split_once("\n\n").map_or("", |(_, rest)| rest),
        None => &file,
    };
    let text = format!("[sealctl.openbao]\naddress = \"{address}\"\n\n{rest}");
    std::fs::write(&team.config, text).unwrap();
}

/// sealctl logged in as `login`, with neither BAO_ADDR nor VAULT_ADDR.
fn without_address(team: &Team, login: &Login) -> assert_cmd::Command {
    let mut command = team.sealctl(login);
    command.env_remove("BAO_ADDR").env_remove("VAULT_ADDR");
    command
}

#[test]
fn a_file_naming_a_server_gets_no_login_when_the_machine_names_none() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    team.set(&["--profile", "default", "--backend", "kv"], TOKEN);
    let evil = Listener::start();
    name_in_file(&team, &evil.address);
    let before = team.file();
    let (role_id, secret_id) = team.bao.approle(MACHINE);
    std::fs::write(team.env.home().join(".vault-token"), team.bao.root_token()).unwrap();
    let logins = [
        team.root_login(),
        Login::AppRole(role_id, secret_id),
        Login::Jwt(MACHINE.to_owned(), team.bao.jwt(MACHINE)),
    ];
    let hint = format!("export BAO_ADDR={}", evil.address);
    for login in &logins {
        // exec of a transit value and of a kv value, token get, and sealing a new value.
        for args in [
            &["--profile", "prod", "exec", "--env", "T=mgmt_token", "--"][..],
            &[
                "--profile",
                "default",
                "exec",
                "--env",
                "T=mgmt_token",
                "--",
            ],
        ] {
            let output = without_address(&team, login)
                .args(args)
                .args(["sh", "-c", &format!("touch {}", team.marker().display())])
                .output()
                .unwrap();
            team.assert_refused(&output, &before, login, &[REFUSAL, &evil.address, &hint]);
        }
        let output = without_address(&team, login)
            .args(["--profile", "prod", "token", "get"])
            .output()
            .unwrap();
        team.assert_refused(&output, &before, login, &[REFUSAL, &hint]);
        let output = without_address(&team, login)
            .args(["--profile", "prod", "token", "set", "--backend", "transit"])
            .write_stdin(TOKEN)
            .output()
            .unwrap();
        team.assert_refused(&output, &before, login, &[REFUSAL, &hint]);
    }
    // Nor with the token of ~/.vault-token and an empty BAO_ADDR (which names nothing).
    let output = team
        .env
        .sealctl()
        .env("BAO_ADDR", "")
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    team.assert_refused(&output, &before, &team.root_login(), &[REFUSAL]);
    evil.assert_untouched();
}

#[test]
fn the_hint_quotes_the_files_address_for_the_shell() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    // `[` and `]` are globbing characters to a shell: the pasted line must quote them.
    name_in_file(&team, "http://[::1]:9/");
    let before = team.file();
    let login = team.root_login();
    let output = team.exec_marker_without_address(&login);
    team.assert_refused(
        &output,
        &before,
        &login,
        &[REFUSAL, "export BAO_ADDR='http://[::1]:9'"],
    );
    // A file's address with a terminal escape is refused as malformed, shown escaped.
    name_in_file(&team, "http://evil.example\\u001b]0;owned\\u0007");
    let before = team.file();
    let output = team.exec_marker_without_address(&login);
    team.assert_refused(&output, &before, &login, &["[sealctl.openbao] address"]);
    assert!(!output.stderr.contains(&0x1b), "{}", stderr(&output));
    // With the machine's server named, the malformed table is still refused, not skipped.
    let output = team.exec_marker(&login);
    team.assert_refused(&output, &before, &login, &["[sealctl.openbao] address"]);
}

#[test]
fn the_machines_server_wins_over_the_files_with_a_warning() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let evil = Listener::start();
    name_in_file(&team, &evil.address);
    let before = team.file();
    for variable in ["BAO_ADDR", "VAULT_ADDR"] {
        let got = without_address(&team, &team.root_login())
            .env(variable, team.bao.address())
            .args(["--profile", "prod", "token", "get"])
            .output()
            .unwrap();
        let text = stderr(&got);
        assert!(got.status.success(), "{text}");
        assert_eq!(
            sha256(String::from_utf8(got.stdout).unwrap().trim_end()),
            sha256(TOKEN)
        );
        assert!(text.contains("warning:"), "{text}");
        assert!(text.contains(variable), "{text}");
        assert!(text.contains(team.bao.address()), "{text}");
        assert!(text.contains(&evil.address), "{text}");
    }
    assert_eq!(team.file(), before);
    evil.assert_untouched();

    // The same server in both (a trailing `/` aside): silent.
    name_in_file(&team, &format!("{}/", team.bao.address()));
    let got = team
        .root()
        .args(["--profile", "prod", "token", "get"])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr(&got));
    assert!(!stderr(&got).contains("warning"), "{}", stderr(&got));
}

#[test]
fn no_server_anywhere_is_named_as_such() {
    let team = Team::new();
    team.set(&["--profile", "prod", "--backend", "transit"], TOKEN);
    let before = team.file();
    let login = team.root_login();
    let output = team.exec_marker_without_address(&login);
    team.assert_refused(
        &output,
        &before,
        &login,
        &["no OpenBao/Vault server address is set", "BAO_ADDR"],
    );
    assert!(!stderr(&output).contains(REFUSAL));
}

impl Team {
    /// [`Team::exec_marker`] with neither BAO_ADDR nor VAULT_ADDR.
    fn exec_marker_without_address(&self, login: &Login) -> std::process::Output {
        without_address(self, login)
            .args(["--profile", "prod", "exec", "--env", "T=mgmt_token", "--"])
            .args(["sh", "-c", &format!("touch {}", self.marker().display())])
            .output()
            .unwrap()
    }
}
