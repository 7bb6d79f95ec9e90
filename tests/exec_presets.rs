//! `sealctl exec --preset` and `--file` with testing/fake-tool, which reports SHA-256 digests of
//! what it got, never a value; and `[sealctl] expiry_warning` where exec and `token get` warn.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::common::{TestEnv, leaks, sha256};

const MGMT: &str = "apiv3_Mg93Qx7LpR2wZeKd";
const DB: &str = "apiv3_Db41Tn8KsV6yHcWq";
const LAB_DB: &str = "apiv3_Lb27Pq5MzX3vNr";
const SECURE_DB: &str = "apiv3_Sc68Wd2FhJ9uBt";
const BARE_MGMT: &str = "apiv3_Br14Gk7CyE5oLa";
const ACCOUNT: &str = "11111111-2222-3333-4444-555555555555";
const CLUSTER: &str = "66666666-7777-8888-9999-aaaaaaaaaaaa";

/// A Dedicated profile with everything; a Clustered one without TLS and without a port; one
/// with a port and unchecked certificates; one with only a management token.
fn profiles() -> String {
    format!(
        "[[profile]]\n  name = \"default\"\n  product = \"dedicated\"\n  host = \"c.a.influxdb.io\"\n  account_id = \"{ACCOUNT}\"\n  cluster_id = \"{CLUSTER}\"\n  database = \"metrics\"\n\n\
         [[profile]]\n  name = \"lab\"\n  product = \"clustered\"\n  host = \"lab.example.com\"\n  [profile.tls]\n    disable = true\n\n\
         [[profile]]\n  name = \"secure\"\n  product = \"clustered\"\n  host = \"s.example.com\"\n  port = \"8443\"\n  [profile.tls]\n    insecure = true\n\n\
         [[profile]]\n  name = \"bare\"\n  product = \"clustered\"\n  host = \"bare.example.com\"\n  port = \"443\"\n"
    )
}

struct Setup {
    env: TestEnv,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", profiles());
        let setup = Setup { env, config };
        setup.sealctl().args(["identity", "new"]).assert().success();
        for (profile, key, token) in [
            ("default", "mgmt_token", MGMT),
            ("default", "token", DB),
            ("lab", "token", LAB_DB),
            ("secure", "token", SECURE_DB),
            ("bare", "mgmt_token", BARE_MGMT),
        ] {
            setup
                .sealctl()
                .args(["--profile", profile, "token", "set", "--key", key])
                .write_stdin(token)
                .assert()
                .success();
        }
        setup
    }

    fn sealctl(&self) -> assert_cmd::Command {
        self.env.sealctl()
    }

    /// `sealctl --profile PROFILE exec ARGS -- fake-tool env VARS…`: its output.
    fn tool_env(&self, profile: &str, args: &[&str], vars: &[&str]) -> assert_cmd::assert::Assert {
        self.sealctl()
            .args(["--profile", profile, "exec"])
            .args(args)
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_fake-tool"))
            .arg("env")
            .args(vars)
            .assert()
    }
}

/// Each variable with the value a program must get (`None`: unset).
type Expected<'a> = &'a [(&'a str, Option<&'a str>)];

/// What fake-tool's `env` prints for these variables and values (`None`: unset).
fn reported(expected: &[(&str, Option<&str>)]) -> String {
    expected
        .iter()
        .map(|(var, value)| match value {
            Some(value) => format!("{var} sha256:{}\n", sha256(value)),
            None => format!("{var} unset\n"),
        })
        .collect()
}

#[test]
fn each_preset_gives_its_tool_the_profiles_values() {
    let setup = Setup::new();
    let cases: [(&str, &str, Expected); 6] = [
        (
            "terraform-influxdb3",
            "default",
            &[
                ("INFLUXDB3_TOKEN", Some(MGMT)),
                ("INFLUXDB3_ACCOUNT_ID", Some(ACCOUNT)),
                ("INFLUXDB3_CLUSTER_ID", Some(CLUSTER)),
            ],
        ),
        (
            "influxdb-mcp",
            "default",
            &[
                ("INFLUX_DB_MANAGEMENT_TOKEN", Some(MGMT)),
                ("INFLUX_DB_TOKEN", Some(DB)),
                ("INFLUX_DB_ACCOUNT_ID", Some(ACCOUNT)),
                ("INFLUX_DB_CLUSTER_ID", Some(CLUSTER)),
            ],
        ),
        (
            "influxdb3",
            "lab",
            // No TLS and no port: plain HTTP to influxctl's port 443.
            &[
                ("INFLUXDB3_HOST_URL", Some("http://lab.example.com:443")),
                ("INFLUXDB3_AUTH_TOKEN", Some(LAB_DB)),
                ("INFLUXDB3_TLS_NO_VERIFY", None),
            ],
        ),
        (
            "influxdb3",
            "secure",
            &[
                ("INFLUXDB3_HOST_URL", Some("https://s.example.com:8443")),
                ("INFLUXDB3_AUTH_TOKEN", Some(SECURE_DB)),
                ("INFLUXDB3_TLS_NO_VERIFY", Some("true")),
            ],
        ),
        (
            "influxdb-client",
            "default",
            &[
                ("INFLUX_HOST", Some("https://c.a.influxdb.io")),
                ("INFLUX_TOKEN", Some(DB)),
                ("INFLUX_DATABASE", Some("metrics")),
            ],
        ),
        (
            "influxdb-client",
            "lab",
            // No database in the profile: left unset.
            &[
                ("INFLUX_HOST", Some("http://lab.example.com:443")),
                ("INFLUX_TOKEN", Some(LAB_DB)),
                ("INFLUX_DATABASE", None),
            ],
        ),
    ];
    for (preset, profile, expected) in cases {
        let vars: Vec<&str> = expected.iter().map(|(var, _)| *var).collect();
        setup
            .tool_env(profile, &["--preset", preset], &vars)
            .success()
            .stdout(reported(expected));
    }
    // The caller's own INFLUX_DATABASE passes through where the profile has none.
    setup
        .sealctl()
        .env("INFLUX_DATABASE", "mine")
        .args([
            "--profile",
            "lab",
            "exec",
            "--preset",
            "influxdb-client",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_fake-tool"))
        .args(["env", "INFLUX_DATABASE"])
        .assert()
        .success()
        .stdout(reported(&[("INFLUX_DATABASE", Some("mine"))]));
}

#[test]
fn a_preset_needing_a_key_the_profile_lacks_never_starts_the_program() {
    let setup = Setup::new();
    for (profile, preset, field) in [
        ("bare", "influxdb3", "`token`"),
        ("bare", "terraform-influxdb3", "`account_id`"),
        ("lab", "influxdb-mcp", "`mgmt_token`"),
        ("secure", "terraform-influxdb3", "`mgmt_token`"),
    ] {
        setup
            .tool_env(profile, &["--preset", preset], &["X"])
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains(field)
                    .and(predicate::str::contains(format!("profile `{profile}`")))
                    .and(predicate::str::contains("the program was not started")),
            );
    }
}

#[test]
fn preset_list_shows_every_preset_and_its_variables() {
    let env = TestEnv::new();
    // No profile file is needed to list them.
    let output = env
        .sealctl()
        .args(["exec", "--preset", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    for name in [
        "terraform-influxdb3",
        "influxdb-mcp",
        "influxdb3",
        "influxdb-client",
        "INFLUXDB3_TOKEN",
        "INFLUX_DB_MANAGEMENT_TOKEN",
        "INFLUXDB3_HOST_URL",
        "INFLUX_DATABASE",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
}

#[test]
fn an_unknown_preset_is_refused_with_the_known_ones() {
    let setup = Setup::new();
    setup
        .tool_env("default", &["--preset", "terraform"], &["X"])
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("terraform-influxdb3")
                .and(predicate::str::contains("influxdb-mcp"))
                .and(predicate::str::contains("influxdb-client")),
        );
    // A preset but no program: a usage error.
    setup
        .sealctl()
        .args(["exec", "--preset", "influxdb3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a program"));
}

/// A sealed value that this HOME's identity cannot open: sealed in another HOME, for the same
/// profile and key.
fn foreign_sealed(profile: &str, key: &str) -> String {
    let other = TestEnv::new();
    other.write(".config/influxctl/config.toml", profiles());
    other.sealctl().args(["identity", "new"]).assert().success();
    other
        .sealctl()
        .args(["--profile", profile, "token", "set", "--key", key])
        .write_stdin("apiv3_someone_elses")
        .assert()
        .success();
    let text = std::fs::read_to_string(other.home().join(".config/influxctl/config.toml")).unwrap();
    text.lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix(&format!("{key} = \""))
                .filter(|_| line.contains("sealctl:v1:"))
        })
        .unwrap()
        .trim_end_matches('"')
        .to_owned()
}

#[test]
fn only_the_tokens_a_preset_needs_are_opened_and_one_that_will_not_open_stops_it() {
    let setup = Setup::new();
    // The default profile's database token becomes one this identity cannot open.
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let sealed = foreign_sealed("default", "token");
    let ours = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    std::fs::write(&setup.config, text.replace(&ours, &sealed)).unwrap();
    // terraform-influxdb3 needs only the management token.
    setup
        .tool_env(
            "default",
            &["--preset", "terraform-influxdb3"],
            &["INFLUXDB3_TOKEN"],
        )
        .success()
        .stdout(reported(&[("INFLUXDB3_TOKEN", Some(MGMT))]));
    // influxdb-mcp needs the database token too: fail closed.
    setup
        .tool_env(
            "default",
            &["--preset", "influxdb-mcp"],
            &["INFLUX_DB_TOKEN"],
        )
        .code(2)
        .stdout("");
    // Unless the variable is given otherwise.
    setup
        .tool_env(
            "default",
            &[
                "--preset",
                "influxdb-mcp",
                "--env",
                "INFLUX_DB_TOKEN=mgmt_token",
            ],
            &["INFLUX_DB_TOKEN"],
        )
        .success()
        .stdout(reported(&[("INFLUX_DB_TOKEN", Some(MGMT))]));
}

#[test]
fn env_and_file_replace_a_presets_variable() {
    let setup = Setup::new();
    setup
        .tool_env(
            "default",
            &[
                "--preset",
                "influxdb-client",
                "--env",
                "INFLUX_TOKEN=mgmt_token",
            ],
            &["INFLUX_TOKEN", "INFLUX_HOST"],
        )
        .success()
        .stdout(reported(&[
            ("INFLUX_TOKEN", Some(MGMT)),
            ("INFLUX_HOST", Some("https://c.a.influxdb.io")),
        ]));
    // A variable the preset would fill from a missing key, given otherwise: no error.
    setup
        .tool_env(
            "bare",
            &[
                "--preset",
                "influxdb3",
                "--env",
                "INFLUXDB3_AUTH_TOKEN=mgmt_token",
            ],
            &["INFLUXDB3_AUTH_TOKEN"],
        )
        .success()
        .stdout(reported(&[("INFLUXDB3_AUTH_TOKEN", Some(BARE_MGMT))]));
    let output = setup
        .sealctl()
        .args(["--profile", "bare", "exec", "--preset", "influxdb3"])
        .args(["--file", "INFLUXDB3_AUTH_TOKEN=mgmt_token", "--"])
        .arg(env!("CARGO_BIN_EXE_fake-tool"))
        .args(["file", "INFLUXDB3_AUTH_TOKEN"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["sha256"], sha256(BARE_MGMT));
}

#[test]
fn a_preset_adds_to_the_influxctl_adapter() {
    let setup = Setup::new();
    setup
        .sealctl()
        .args([
            "exec",
            "--preset",
            "terraform-influxdb3",
            "--adapter",
            "influxctl",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_fake-influxctl"))
        .args(["env-sha256", "INFLUXDB3_TOKEN"])
        .assert()
        .success()
        .stdout(format!("{}\n", sha256(MGMT)));
}

/// Every file under `dir` whose bytes hold `secret`.
fn files_holding(dir: &Path, secret: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(files_holding(&path, secret));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| leaks(&String::from_utf8_lossy(&bytes), secret))
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn file_gives_a_sealed_in_memory_file_the_program_reads_but_cannot_change() {
    let setup = Setup::new();
    let output = setup
        .sealctl()
        .env("TMPDIR", setup.env.home())
        .args(["exec", "--file", "TOKEN_FILE=mgmt_token", "--"])
        .arg(env!("CARGO_BIN_EXE_fake-tool"))
        .args(["file", "TOKEN_FILE"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["sha256"], sha256(MGMT));
    assert!(
        report["path"]
            .as_str()
            .unwrap()
            .starts_with("/proc/self/fd/"),
        "{report}"
    );
    assert!(
        report["link"]
            .as_str()
            .unwrap()
            .starts_with("/memfd:sealctl-token"),
        "{report}"
    );
    assert_eq!(report["write"], "refused");
    assert_eq!(report["shrink"], "refused");
    assert!(!leaks(&String::from_utf8_lossy(&output.stdout), MGMT));
    assert!(!leaks(&String::from_utf8_lossy(&output.stderr), MGMT));
    let holding = files_holding(setup.env.home(), MGMT);
    assert!(holding.is_empty(), "files holding the token: {holding:?}");
}

#[test]
fn two_files_each_hold_their_token() {
    let setup = Setup::new();
    let output = setup
        .sealctl()
        .args(["exec", "--file", "A=mgmt_token", "--file", "B=TOKEN", "--"])
        .args(["sh", "-c", "\"$0\" file A && \"$0\" file B"])
        .arg(env!("CARGO_BIN_EXE_fake-tool"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["sha256"], sha256(MGMT));
    assert_eq!(reports[1]["sha256"], sha256(DB));
    assert_ne!(reports[0]["path"], reports[1]["path"]);
}

// Each refused before anything is opened or run.
#[test]
fn bad_file_arguments_are_refused_and_the_program_never_runs() {
    let setup = Setup::new();
    for (args, says) in [
        (
            vec!["--file", "1BAD=token"],
            "not an environment variable name",
        ),
        (
            vec!["--file", "PATH=token"],
            "decides how programs are found",
        ),
        (vec!["--file", "SEALCTL_IDENTITY=token"], "sealctl's own"),
        (vec!["--file", "X=host"], "not a token key"),
        (vec!["--file", "X="], "expected VAR=KEY"),
        (vec!["--file", "X"], "expected VAR=KEY"),
        (
            vec!["--file", "X=token", "--env", "X=mgmt_token"],
            "given by --env and --file",
        ),
        (
            vec!["--file", "X=token", "--file", "X=mgmt_token"],
            "given by --file twice",
        ),
        (
            vec!["--profile", "lab", "--file", "X=mgmt_token"],
            "has no `mgmt_token`",
        ),
    ] {
        setup
            .sealctl()
            .arg("exec")
            .args(&args)
            .args(["--", "sh", "-c", "echo ran"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(says));
    }
}

/// The default profile's management token sealed again to expire in `days` days.
fn expiring_in(setup: &Setup, days: u32) {
    setup
        .sealctl()
        .args(["token", "set", "--expires-in", &format!("{days}d")])
        .write_stdin(MGMT)
        .assert()
        .success();
}

fn set_expiry_warning(setup: &Setup, setting: &str) {
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let text = text.replace(
        "[sealctl]\n",
        &format!("[sealctl]\nexpiry_warning = {setting}\n"),
    );
    assert!(
        text.contains("expiry_warning"),
        "the file has a [sealctl] table"
    );
    std::fs::write(&setup.config, text).unwrap();
}

fn check_rules(setup: &Setup) -> Vec<String> {
    let output = setup
        .sealctl()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let list = found
        .as_array()
        .cloned()
        .or_else(|| found["diagnostics"].as_array().cloned())
        .or_else(|| found["files"][0]["diagnostics"].as_array().cloned())
        .unwrap_or_else(|| panic!("no diagnostics in {found}"));
    list.iter()
        .map(|d| d["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn expiry_warning_sets_the_window_of_check_exec_and_token_get() {
    let setup = Setup::new();
    expiring_in(&setup, 20);
    let exec = |setup: &Setup| {
        setup
            .sealctl()
            .args(["exec", "--env", "T=mgmt_token", "--", "true"])
            .assert()
            .success()
    };
    // Outside the default 14 days: no warning anywhere.
    assert!(!check_rules(&setup).contains(&"token-expiring".to_owned()));
    exec(&setup).stderr(predicate::str::contains("expires").not());
    // Inside 30 days.
    set_expiry_warning(&setup, "\"30d\"");
    assert!(check_rules(&setup).contains(&"token-expiring".to_owned()));
    exec(&setup).stderr(predicate::str::contains("expires at"));
    setup
        .sealctl()
        .args(["token", "get"])
        .assert()
        .success()
        .stderr(predicate::str::contains("expires at"));
    // Outside 7 days, though inside the default.
    let setup = Setup::new();
    expiring_in(&setup, 10);
    exec(&setup).stderr(predicate::str::contains("expires at"));
    set_expiry_warning(&setup, "\"7d\"");
    assert!(!check_rules(&setup).contains(&"token-expiring".to_owned()));
    exec(&setup).stderr(predicate::str::contains("expires").not());
}

#[test]
fn an_expiry_warning_that_does_not_read_is_a_finding_and_the_default_stays() {
    let setup = Setup::new();
    expiring_in(&setup, 10);
    for setting in ["\"soon\"", "\"30\"", "\"-3d\""] {
        set_expiry_warning(&setup, setting);
        let rules = check_rules(&setup);
        assert!(
            rules.contains(&"invalid-setting".to_owned()),
            "{setting}: {rules:?}"
        );
        assert!(
            rules.contains(&"token-expiring".to_owned()),
            "{setting}: {rules:?}"
        );
        setup
            .sealctl()
            .arg("check")
            .assert()
            .code(1)
            .stdout(predicate::str::contains("expiry_warning"));
        // exec still runs, warning by the default 14 days.
        setup
            .sealctl()
            .args(["exec", "--env", "T=mgmt_token", "--", "true"])
            .assert()
            .success()
            .stderr(predicate::str::contains("expires at"));
        let text = std::fs::read_to_string(&setup.config).unwrap();
        std::fs::write(
            &setup.config,
            text.replace(&format!("expiry_warning = {setting}\n"), ""),
        )
        .unwrap();
    }
    // Another type is wrong-type.
    set_expiry_warning(&setup, "30");
    assert!(check_rules(&setup).contains(&"wrong-type".to_owned()));
}
