//! sealctl against a real OpenBao server (tests/common/openbao.rs): the `transit` and `kv`
//! backends end to end, with token, AppRole and JWT logins, and each way the server can fail:
//! exit status 2, the program not run, the file byte for byte as it was, and no secret in the
//! output.

mod address;
mod choices;
mod cli;
mod failures;
mod fixture;
#[cfg(feature = "test-fakes")]
mod paths;
mod rollback;
#[cfg(feature = "test-fakes")]
mod rotation;
mod team;

use std::path::PathBuf;
use std::process::Output;

use crate::common::openbao::Bao;
use crate::common::{TestEnv, leaks};

pub const TOKEN: &str = "apiv3_BaoTq7Wz2Xc9Lp4Mn";
pub const OTHER_TOKEN: &str = "apiv3_BaoHj3Gf1Ds6Qa8Rv";

pub const PROFILES: &str = "# team profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"   # live\n  product = \"clustered\"\n  host = \"prod.example.com\"\n  port = \"443\"\n";

/// How sealctl logs in to the server.
#[derive(Clone, Debug)]
pub enum Login {
    /// `BAO_TOKEN`.
    Token(String),
    /// AppRole: role id and secret id, in variables.
    AppRole(String, String),
    /// JWT: the role (named after its policy) and the token, in variables.
    Jwt(String, String),
}

impl Login {
    /// The variables that choose this login.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Login::Token(token) => vec![("BAO_TOKEN", token.clone())],
            Login::AppRole(role_id, secret_id) => vec![
                ("SEALCTL_BAO_LOGIN", "approle".into()),
                ("SEALCTL_BAO_ROLE_ID", role_id.clone()),
                ("SEALCTL_BAO_SECRET_ID", secret_id.clone()),
            ],
            Login::Jwt(role, jwt) => vec![
                ("SEALCTL_BAO_LOGIN", "jwt".into()),
                ("SEALCTL_BAO_ROLE", role.clone()),
                ("SEALCTL_BAO_JWT", jwt.clone()),
            ],
        }
    }

    /// What of this login must never show in sealctl's output.
    fn secrets(&self) -> Vec<String> {
        match self {
            Login::Token(token) => vec![token.clone()],
            Login::AppRole(role_id, secret_id) => vec![role_id.clone(), secret_id.clone()],
            Login::Jwt(_, jwt) => vec![jwt.clone()],
        }
    }
}

/// A team's machine: a scratch HOME with influxctl's default profile file, the influxctl
/// stand-in on PATH, and a server.
pub struct Team {
    pub env: TestEnv,
    pub config: PathBuf,
    pub bao: Bao,
    bin: PathBuf,
}

impl Team {
    pub fn new() -> Team {
        Team::with(Bao::start())
    }

    pub fn with(bao: Bao) -> Team {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        let bin = env.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        #[cfg(feature = "test-fakes")]
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-influxctl"), bin.join("influxctl"))
            .unwrap();
        Team {
            env,
            config,
            bao,
            bin,
        }
    }

    /// sealctl pointed at the server, logged in as `login`.
    pub fn sealctl(&self, login: &Login) -> assert_cmd::Command {
        let mut command = self.env.sealctl();
        command
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("BAO_ADDR", self.bao.address())
            .envs(login.env());
        command
    }

    /// sealctl with the root token.
    pub fn root(&self) -> assert_cmd::Command {
        self.sealctl(&self.root_login())
    }

    pub fn root_login(&self) -> Login {
        Login::Token(self.bao.root_token().to_owned())
    }

    /// `token set ARGS` of `token` as root; it must succeed.
    pub fn set(&self, args: &[&str], token: &str) {
        self.root()
            .args(["token", "set"])
            .args(args)
            .write_stdin(token)
            .assert()
            .success();
    }

    pub fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    /// The value of `key` in `profile`.
    pub fn value(&self, profile: &str, key: &str) -> String {
        let text = self.file();
        let section = text
            .split("[[profile]]")
            .find(|section| section.contains(&format!("name = \"{profile}\"")))
            .unwrap_or_else(|| panic!("no profile {profile}"));
        let line = section
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("no {key} in {profile}"));
        line.split('"').nth(1).unwrap().to_owned()
    }

    /// A marker the refused program would have made.
    pub fn marker(&self) -> PathBuf {
        self.env.home().join("started")
    }

    /// `exec --env T=mgmt_token` of `--profile prod`, a program that leaves a marker.
    pub fn exec_marker(&self, login: &Login) -> Output {
        self.sealctl(login)
            .args(["--profile", "prod", "exec", "--env", "T=mgmt_token", "--"])
            .args(["sh", "-c", &format!("touch {}", self.marker().display())])
            .output()
            .unwrap()
    }

    /// What of the server and `login` must never show in sealctl's output: the root token, the
    /// login's secrets, and the tokens sealed.
    pub fn secrets(&self, login: &Login) -> Vec<String> {
        let mut secrets = login.secrets();
        secrets.push(self.bao.root_token().to_owned());
        secrets.push(TOKEN.to_owned());
        secrets.push(OTHER_TOKEN.to_owned());
        secrets
    }

    /// A command that had to fail closed did: exit status 2, `expected` in its stderr, no
    /// program run, the file as `before`, and no secret in its output.
    pub fn assert_refused(&self, output: &Output, before: &str, login: &Login, expected: &[&str]) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        for expected in expected {
            assert!(stderr.contains(expected), "{expected:?} not in: {stderr}");
        }
        assert!(!self.marker().exists(), "the program ran: {stderr}");
        assert!(self.file() == before, "the file changed: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        for (n, secret) in self.secrets(login).iter().enumerate() {
            assert!(
                !leaks(&stderr, secret) && !leaks(&stdout, secret),
                "secret #{n} ({} characters) leaked",
                secret.len()
            );
        }
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
