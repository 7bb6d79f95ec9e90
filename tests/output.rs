//! Output is product: every `--help` page, the message and hints of each error a user can meet,
//! `doctor`'s report and `check`'s human output on every sample, pinned as insta snapshots under
//! `tests/snapshots/output/`, so that a change of wording shows up as a reviewed diff.
//!
//! A changed output fails the test (in CI, `CI=true`, insta writes nothing). To accept a change:
//! `INSTA_UPDATE=always cargo test --all-features --test tests output::`, then review
//! `git diff tests/snapshots/output` (or `cargo insta review` where cargo-insta is installed).
//!
//! Every run is in a scratch HOME with an empty environment; the scratch folder's path is shown as
//! `[HOME]`, and anything else that differs between machines or runs is replaced by a `[NAME]`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::TestEnv;

/// The terminal width the help pages are wrapped at (clap reads COLUMNS when stdout is no terminal).
const COLUMNS: &str = "100";

const PROFILE: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

const TWO_PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n";

const TOKEN: &str = "apiv3_SnApSh0tT0k3n-q8w7e6r5";

/// Asserts `text` matches the snapshot `name`, whose description says how it was made.
fn snapshot(name: &str, how: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/output");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(how);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A scratch HOME whose runs see no session bus (so that the keyring's answer is the same on every
/// machine) and wrap help at [`COLUMNS`].
struct Scratch {
    env: TestEnv,
    vars: Vec<(String, String)>,
    /// Texts to show as a name instead (a random recipient, a date), after the HOME.
    redactions: Vec<(String, String)>,
    /// The default identity's recipient, once made.
    recipient: String,
    /// Whether runs are in a session of their own, without a controlling terminal.
    detached: bool,
}

impl Scratch {
    fn new() -> Scratch {
        let env = TestEnv::new();
        let runtime = env.home().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let vars = vec![
            ("COLUMNS".to_owned(), COLUMNS.to_owned()),
            (
                "XDG_RUNTIME_DIR".to_owned(),
                runtime.to_string_lossy().into_owned(),
            ),
            (
                "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                format!("unix:path={}", env.home().join("no-bus").display()),
            ),
        ];
        Scratch {
            env,
            vars,
            redactions: Vec::new(),
            recipient: String::new(),
            detached: false,
        }
    }

    /// A scratch HOME with a default identity and influxctl's default file holding `profiles`,
    /// the `default` profile's management token sealed.
    fn sealed(profiles: &str) -> Scratch {
        let mut scratch = Scratch::new();
        scratch.write(".config/influxctl/config.toml", profiles);
        scratch.must(&["identity", "new"], None);
        scratch.must(&["token", "set"], Some(TOKEN));
        scratch.recipient = scratch
            .must(&["identity", "show"], None)
            .lines()
            .find(|line| line.starts_with("age1"))
            .expect("identity show prints the recipient")
            .to_owned();
        let recipient = scratch.recipient.clone();
        scratch.redact(&recipient, "[RECIPIENT]");
        scratch
    }

    fn home(&self) -> &Path {
        self.env.home()
    }

    fn config(&self) -> PathBuf {
        self.home().join(".config/influxctl/config.toml")
    }

    fn set(&mut self, name: &str, value: &str) {
        self.vars.push((name.to_owned(), value.to_owned()));
    }

    fn redact(&mut self, text: &str, name: &str) {
        self.redactions.push((text.to_owned(), name.to_owned()));
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        self.env.write(relative, contents)
    }

    fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.env.sealctl_process();
        if self.detached {
            // `setsid`, so that the run has no controlling terminal even when the tests do.
            let mut setsid = crate::common::command("setsid");
            setsid.arg("-w").arg(command.get_program());
            for (name, value) in command.get_envs() {
                if let Some(value) = value {
                    setsid.env(name, value);
                }
            }
            setsid.current_dir(self.home());
            command = setsid;
        }
        command.args(args);
        for (name, value) in &self.vars {
            command.env(name, value);
        }
        command
    }

    /// Runs `sealctl ARGS` with `stdin` (else an empty one) and returns its status and output.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
        let mut command = self.process(args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = match stdin {
            Some(input) => crate::common::start_with_input(&mut command, input),
            None => command.stdin(Stdio::null()).spawn().unwrap(),
        };
        let output = child.wait_with_output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        // Only `token get` may print the token; no snapshot ever holds it.
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !crate::common::leaks(text, TOKEN),
                "sealctl {args:?} showed the token on {stream}"
            );
        }
        (
            output.status.code(),
            self.redacted(&stdout),
            self.redacted(&stderr),
        )
    }

    /// Runs a command that must succeed, to prepare a case.
    fn must(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (status, stdout, stderr) = self.run(args, stdin);
        assert_eq!(status, Some(0), "sealctl {args:?}: {stderr}");
        stdout
    }

    fn redacted(&self, text: &str) -> String {
        let mut text = text.replace(&self.home().to_string_lossy().into_owned(), "[HOME]");
        for (from, to) in &self.redactions {
            text = text.replace(from, to);
        }
        text
    }

    /// Runs `sealctl ARGS` and pins its exit status and output as snapshot `name`.
    fn pin(&self, name: &str, args: &[&str], stdin: Option<&str>) {
        let (status, stdout, stderr) = self.run(args, stdin);
        let how = format!("sealctl {}", args.join(" "));
        let mut text = format!(
            "exit status: {}\n",
            status.map_or("none".to_owned(), |s| s.to_string())
        );
        if !stdout.is_empty() {
            text.push_str(&format!("--- stdout\n{stdout}"));
        }
        if !stderr.is_empty() {
            text.push_str(&format!("--- stderr\n{stderr}"));
        }
        snapshot(name, &self.redacted(&how), &text);
    }

    /// Replaces the first `mgmt_token = "…"` value of the default file by `edit` of it.
    fn edit_value(&self, edit: impl Fn(&str) -> String) {
        let text = std::fs::read_to_string(self.config()).unwrap();
        let start = text.find("mgmt_token = \"").unwrap() + "mgmt_token = \"".len();
        let end = start + text[start..].find('"').unwrap();
        let value = &text[start..end];
        let edited = format!("{}{}{}", &text[..start], edit(value), &text[end..]);
        std::fs::write(self.config(), edited).unwrap();
    }
}

// --- help pages ---

/// The subcommands listed under `Commands:` in a help page, without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command's `--help`, found by walking the command tree from `sealctl --help` itself, so
/// that a new subcommand gets its page pinned (and shows in the tree's own snapshot).
#[test]
fn every_help_page() {
    let scratch = Scratch::new();
    let mut tree = Vec::new();
    let mut pending = vec![Vec::<String>::new()];
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (status, help, stderr) = scratch.run(&args, None);
        assert_eq!(status, Some(0), "sealctl {args:?}: {stderr}");
        assert_eq!(stderr, "", "sealctl {args:?}");
        let name = if path.is_empty() {
            "help-sealctl".to_owned()
        } else {
            format!("help-{}", path.join("-"))
        };
        snapshot(&name, &format!("sealctl {}", args.join(" ")), &help);
        // `sealctl help …` prints the same page.
        let mut help_args = vec!["help"];
        help_args.extend(path.iter().map(String::as_str));
        assert_eq!(
            scratch.run(&help_args, None).1,
            help,
            "sealctl {help_args:?}"
        );
        tree.push(format!("sealctl {}", path.join(" ")).trim_end().to_owned());
        for sub in subcommands(&help).into_iter().rev() {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
    }
    snapshot(
        "help-tree",
        "every command with a help page",
        &(tree.join("\n") + "\n"),
    );
}

/// `-h` is the short page, without the long descriptions: pinned for the top level only.
#[test]
fn short_help() {
    Scratch::new().pin("help-short", &["-h"], None);
}

// --- check ---

/// The sample folders: the profile crate's data-driven samples, and `examples/`.
fn sample_files() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for (label, folder) in [
        ("examples", root.join("examples")),
        (
            "valid",
            root.join("crates/sealctl-profile/tests/samples/valid"),
        ),
        (
            "invalid",
            root.join("crates/sealctl-profile/tests/samples/invalid"),
        ),
    ] {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                files.push((format!("{label}-{stem}"), path));
            }
        }
    }
    files.sort();
    files
}

/// An RFC 3339 time `days` (and a half) from now, to the second.
fn days_from_now(days: i64) -> String {
    let now = std::time::SystemTime::now();
    let offset = std::time::Duration::from_secs(days.unsigned_abs() * 86_400 + 43_200);
    let at = if days < 0 { now - offset } else { now + offset };
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The expiry of every `exp=` in `text` moved to `to`: the samples are judged as of 2030 by the
/// library's tests, and by the clock here.
fn with_expiry(text: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(";exp=") {
        let start = at + ";exp=".len();
        let end = start + rest[start..].find([';', '"']).unwrap();
        out.push_str(&rest[..start]);
        out.push_str(to);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `check`'s human output on every sample, run on a copy in HOME under its own name.
#[test]
fn check_on_every_sample() {
    for (name, path) in sample_files() {
        let mut scratch = Scratch::new();
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        // Relative to now, so that it is expired or expiring whatever the day.
        let expiry = match file_name.as_str() {
            "token-expired.toml" => Some(days_from_now(-30)),
            "token-expiring.toml" | "invalid-setting.toml" => Some(days_from_now(5)),
            // Outside the default 14 days, inside the file's 30.
            "token-expiring-window.toml" => Some(days_from_now(20)),
            _ => None,
        };
        if let Some(expiry) = expiry {
            bytes = with_expiry(&String::from_utf8(bytes).unwrap(), &expiry).into_bytes();
            scratch.redact(&expiry, "[EXPIRY]");
        }
        scratch.write(&file_name, bytes);
        scratch.pin(&format!("check-{name}"), &["check", &file_name], None);
    }
}

/// The machine formats, on the sample with the most findings (sealctl's version is not pinned).
#[test]
fn check_json_and_sarif() {
    let mut scratch = Scratch::new();
    scratch.redact(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[VERSION]\"",
    );
    scratch.write(
        "broken.toml",
        std::fs::read(crate::common::example("broken.toml")).unwrap(),
    );
    for format in ["json", "sarif"] {
        scratch.pin(
            &format!("check-format-{format}"),
            &["check", "--format", format, "broken.toml"],
            None,
        );
    }
}

// --- doctor ---

/// `doctor` with PATH holding only a folder of HOME, so that what is installed here does not
/// show; with `influxctl`, a stand-in that answers `version`.
fn doctor_scratch(mut scratch: Scratch, influxctl: bool) -> Scratch {
    let bin = scratch.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if influxctl {
        let path = scratch.write(
            "bin/influxctl",
            "#!/bin/sh\n[ \"$1\" = version ] && echo 'influxctl 2.10.3 (stand-in)'\n",
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    scratch.set("PATH", &bin.to_string_lossy());
    scratch
}

#[test]
fn doctor_on_an_empty_home() {
    doctor_scratch(Scratch::new(), false).pin("doctor-empty-home", &["doctor"], None);
}

#[test]
fn doctor_on_a_ready_machine() {
    let scratch = Scratch::sealed(PROFILE);
    std::fs::set_permissions(scratch.config(), std::fs::Permissions::from_mode(0o600)).unwrap();
    doctor_scratch(scratch, true).pin("doctor-ready", &["doctor"], None);
}

/// The usual broken machine: a file others can read holding a plaintext token, an identity
/// others can read, and a token sealed to someone else.
#[test]
fn doctor_on_a_broken_machine() {
    let scratch = Scratch::sealed(TWO_PROFILES);
    std::fs::set_permissions(scratch.config(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(scratch.config()).unwrap();
    let plaintext = format!("{text}  token = \"{TOKEN}\"\n");
    std::fs::write(scratch.config(), plaintext).unwrap();
    let identity = scratch.home().join(".config/sealctl/identity.txt");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    doctor_scratch(scratch, false).pin("doctor-broken", &["doctor"], None);
}

// --- errors: each kind where a user meets it, with its hints and exit status ---

/// Clap's usage errors, and sealctl's nearest-option suggestion.
#[test]
fn usage_errors() {
    let scratch = Scratch::new();
    scratch.pin("usage-unknown-subcommand", &["chek"], None);
    scratch.pin(
        "usage-unknown-option-suggested",
        &["exec", "--evn", "X"],
        None,
    );
    scratch.pin("usage-missing-subcommand", &["token"], None);
    scratch.pin("usage-bad-value", &["check", "--format", "xml"], None);
    scratch.pin("usage-conflict", &["-v", "-q", "check"], None);
    scratch.pin("usage-missing-required", &["man"], None);
    scratch.pin(
        "usage-exec-unknown-preset",
        &["exec", "--preset", "terraform", "--", "true"],
        None,
    );
    scratch.pin(
        "usage-exec-file-not-a-token-key",
        &["exec", "--file", "X=host", "--", "true"],
        None,
    );
}

/// `exec --preset list`: every preset, what it is for, and where each variable comes from.
#[test]
fn exec_preset_list() {
    Scratch::new().pin("exec-preset-list", &["exec", "--preset", "list"], None);
}

/// ProfileError, one variant a case.
#[test]
fn profile_errors() {
    let scratch = Scratch::new();
    scratch.pin(
        "profile-error-read-not-found",
        &["profile", "list", "--config", "missing.toml"],
        None,
    );
    std::fs::create_dir(scratch.home().join("a-folder")).unwrap();
    scratch.pin(
        "profile-error-read-folder",
        &["profile", "list", "--config", "a-folder"],
        None,
    );
    scratch.write("syntax.toml", "[[profile]\n  name = \"default\"\n");
    scratch.pin(
        "profile-error-syntax",
        &["profile", "list", "--config", "syntax.toml"],
        None,
    );
    scratch.write("schema.toml", "[[profile]]\n  name = 7\n");
    scratch.pin(
        "profile-error-schema",
        &["profile", "list", "--config", "schema.toml"],
        None,
    );
    scratch.write("not-profiles.toml", "profile = \"default\"\n");
    scratch.pin(
        "profile-error-not-profiles",
        &["profile", "list", "--config", "not-profiles.toml"],
        None,
    );
    scratch.write("two.toml", TWO_PROFILES);
    scratch.pin(
        "profile-error-unknown-profile",
        &["profile", "show", "--config", "two.toml", "staging"],
        None,
    );
    scratch.write("empty.toml", "");
    scratch.pin(
        "profile-error-unknown-profile-none",
        &["profile", "show", "--config", "empty.toml", "default"],
        None,
    );
    scratch.write("duplicate.toml", format!("{PROFILE}\n{PROFILE}"));
    scratch.pin(
        "profile-error-duplicate-profile",
        &["token", "set", "--config", "duplicate.toml"],
        Some(TOKEN),
    );
    scratch.pin(
        "profile-error-profile-exists",
        &[
            "profile",
            "add",
            "--config",
            "two.toml",
            "--name",
            "prod",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
        ],
        None,
    );
    scratch.write(
        "duplicate-key.toml",
        format!("{PROFILE}  mgmt_token = \"a\"\n  MGMT_TOKEN = \"b\"\n"),
    );
    scratch.pin(
        "profile-error-duplicate-key",
        &["token", "get", "--config", "duplicate-key.toml"],
        None,
    );
    std::os::unix::fs::symlink("loop-b.toml", scratch.home().join("loop-a.toml")).unwrap();
    std::os::unix::fs::symlink("loop-a.toml", scratch.home().join("loop-b.toml")).unwrap();
    scratch.pin(
        "profile-error-link-loop",
        &["seal", "--all", "--config", "loop-a.toml"],
        None,
    );
    let read_only = scratch.write("read-only.toml", PROFILE);
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
    scratch.pin(
        "profile-error-read-only",
        &["token", "set", "--config", "read-only.toml"],
        Some(TOKEN),
    );
    let linked = scratch.write("linked.toml", PROFILE);
    std::fs::hard_link(&linked, scratch.home().join("other-name.toml")).unwrap();
    scratch.pin(
        "profile-error-hard-links",
        &["token", "set", "--config", "linked.toml"],
        Some(TOKEN),
    );
}

/// OpenError, each variant that needs no terminal.
#[test]
fn open_errors() {
    let scratch = Scratch::sealed(TWO_PROFILES);
    let original = std::fs::read(scratch.config()).unwrap();
    let restore = || std::fs::write(scratch.config(), &original).unwrap();

    scratch.edit_value(|_| "sealctl:v1:age:***".to_owned());
    scratch.pin("open-error-framing", &["token", "get"], None);
    restore();
    scratch.edit_value(|_| "sealctl:v9:age:AAAA".to_owned());
    scratch.pin("open-error-framing-version", &["token", "get"], None);
    restore();
    scratch.edit_value(|value| value.replacen(";ep=", ";exp=yesterday;ep=", 1));
    scratch.pin("open-error-framing-bad-expiry", &["token", "get"], None);
    restore();
    // Cut in the decoded bytes: age's random grease stanza gives the text a varying length.
    scratch.edit_value(|value| {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let (payload, rest) = value.split_once(';').unwrap();
        let (prefix, encoded) = payload.rsplit_once(':').unwrap();
        let bytes = engine.decode(encoded).unwrap();
        let cut = engine.encode(&bytes[..bytes.len() - 30]);
        format!("{prefix}:{cut};{rest}")
    });
    scratch.pin("open-error-damaged", &["token", "get"], None);
    restore();
    scratch.edit_value(|value| {
        let (payload, rest) = value.split_once(';').unwrap();
        let (_, digest) = rest.split_once("ep=").unwrap();
        let other = if digest.starts_with('0') { "1" } else { "0" };
        format!(
            "{payload};{}ep={other}{}",
            &rest[..rest.find("ep=").unwrap()],
            &digest[1..]
        )
    });
    scratch.pin("open-error-endpoint-edited", &["token", "get"], None);
    restore();

    // Copied into another profile, as a person might do by hand.
    let text = String::from_utf8(original.clone()).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("mgmt_token"))
        .unwrap();
    let prod = "  name = \"prod\"\n";
    std::fs::write(
        scratch.config(),
        text.replace(prod, &format!("{prod}{line}\n")),
    )
    .unwrap();
    scratch.pin(
        "open-error-misplaced",
        &["token", "get", "--profile", "prod"],
        None,
    );
    restore();

    // The profile moved to another host after its token was sealed.
    std::fs::write(
        scratch.config(),
        text.replacen("h.example.com", "elsewhere.example.com", 1),
    )
    .unwrap();
    scratch.pin("open-error-endpoint-changed", &["token", "get"], None);
    restore();

    // Sealed with age, but not holding sealctl's envelope.
    let age = crate::common::command("age")
        .args(["-r", &scratch.recipient, "-a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let armored = {
        use std::io::Write as _;
        let mut age = age;
        age.stdin.take().unwrap().write_all(b"just text").unwrap();
        String::from_utf8(age.wait_with_output().unwrap().stdout).unwrap()
    };
    let binary = {
        use base64::Engine as _;
        let body: String = armored
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    };
    scratch.edit_value(|value| {
        use base64::Engine as _;
        let (_, rest) = value.split_once(';').unwrap();
        format!(
            "sealctl:v1:age:{};{rest}",
            base64::engine::general_purpose::STANDARD.encode(&binary)
        )
    });
    scratch.pin("open-error-not-an-envelope", &["token", "get"], None);
    restore();

    // No identity at all, then only one that is not a recipient.
    let identity = scratch.home().join(".config/sealctl/identity.txt");
    std::fs::rename(&identity, scratch.home().join("mine.txt")).unwrap();
    scratch.pin("open-error-no-identity", &["token", "get"], None);
    scratch.must(&["identity", "new", "--out", "other.txt"], None);
    scratch.pin(
        "open-error-no-matching-identity",
        &["token", "get", "--identity", "other.txt"],
        None,
    );
}

/// IdentityError, each variant.
#[test]
fn identity_errors() {
    let mut scratch = Scratch::sealed(PROFILE);
    let identity = scratch.home().join(".config/sealctl/identity.txt");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    scratch.pin("identity-error-permissions", &["token", "get"], None);
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    scratch.pin("identity-error-exists", &["identity", "new"], None);
    let garbage = scratch.write("garbage.txt", "not an identity\n");
    std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o600)).unwrap();
    scratch.pin(
        "identity-error-read",
        &["token", "get", "--identity", "garbage.txt"],
        None,
    );
    scratch.pin(
        "identity-error-read-missing",
        &["token", "get", "--identity", "missing.txt"],
        None,
    );
    scratch.write("a-file", "");
    scratch.pin(
        "identity-error-write",
        &["identity", "new", "--out", "a-file/identity.txt"],
        None,
    );
    scratch.set("SEALCTL_IDENTITY", "not an identity");
    scratch.pin("identity-error-bad-text", &["token", "get"], None);
}

/// SealError and TokenError: what `token set` and `seal` refuse.
#[test]
fn seal_and_token_errors() {
    let scratch = Scratch::new();
    scratch.write(
        "plain.toml",
        format!("{PROFILE}  mgmt_token = \"{TOKEN}\"\n"),
    );
    scratch.pin(
        "seal-error-no-recipients",
        &["seal", "--all", "--config", "plain.toml"],
        None,
    );
    let scratch = Scratch::sealed(PROFILE);
    scratch.pin("token-error-empty", &["token", "set"], Some(""));
    scratch.pin(
        "token-error-control-character",
        &["token", "set"],
        Some("apiv3_one\u{7}two"),
    );
    scratch.pin(
        "token-error-too-long",
        &["token", "set"],
        Some(&"a".repeat(17 * 1024)),
    );
    scratch.pin(
        "token-error-not-found",
        &["token", "set"],
        Some("{\"id\": 1}"),
    );
    scratch.pin(
        "token-error-expiry-in-the-past",
        &["token", "set", "--expires-at", "2001-01-01T00:00:00Z"],
        Some(TOKEN),
    );
}

/// RecipientError, each variant.
#[test]
fn recipient_errors() {
    let scratch = Scratch::sealed(PROFILE);
    scratch.pin(
        "recipient-error-invalid",
        &["recipients", "add", "age1nope"],
        None,
    );
    scratch.pin(
        "recipient-error-private-key",
        &[
            "recipients",
            "add",
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        ],
        None,
    );
    let unreadable = scratch.home().join("folder.pub");
    std::fs::create_dir(&unreadable).unwrap();
    scratch.pin(
        "recipient-error-read",
        &["recipients", "add", "folder.pub"],
        None,
    );
    scratch.write("team.txt", "# the team\nage1nope\n");
    scratch.pin(
        "recipient-error-invalid-line",
        &["recipients", "add", "team.txt"],
        None,
    );
    scratch.write("none.txt", "# nobody yet\n");
    scratch.pin(
        "recipient-error-none-in-file",
        &["recipients", "add", "none.txt"],
        None,
    );
}

/// KeyringError where no keyring is needed to meet it: no session bus, a bus without a
/// Secret Service, and a store of another platform.
#[test]
fn keyring_errors() {
    let scratch = Scratch::sealed(PROFILE);
    scratch.pin(
        "keyring-error-no-session",
        &["token", "set", "--backend", "keyring"],
        Some(TOKEN),
    );
    // -v adds the bus's own words.
    scratch.pin(
        "keyring-error-no-session-verbose",
        &["-v", "token", "set", "--backend", "keyring"],
        Some(TOKEN),
    );
    let bus = crate::common::secret_service::SecretService::bus_only();
    let mut on_bus = Scratch::sealed(PROFILE);
    on_bus.set("DBUS_SESSION_BUS_ADDRESS", bus.address());
    on_bus.pin(
        "keyring-error-no-provider",
        &["token", "set", "--backend", "keyring"],
        Some(TOKEN),
    );
    scratch.edit_value(|_| {
        "sealctl:v1:keyring:keychain/0123456789abcdef0123456789abcdef;ep=af65e08f".to_owned()
    });
    scratch.pin("keyring-error-unsupported", &["token", "get"], None);
}

/// ExecError: programs that cannot start, and profile files exec cannot copy.
#[test]
fn exec_errors() {
    let mut scratch = Scratch::sealed(PROFILE);
    let bin = scratch.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    scratch.set(
        "PATH",
        &format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    scratch.write("bin/notexec", "#!/bin/sh\n");
    let bad = scratch.write("bad.sh", "#!/nonexistent/sh\n");
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(scratch.home().join("a-folder")).unwrap();
    scratch.pin(
        "exec-error-not-found",
        &["exec", "--", "no-such-program-here"],
        None,
    );
    scratch.pin(
        "exec-error-not-executable",
        &["exec", "--", "notexec"],
        None,
    );
    scratch.pin("exec-error-folder", &["exec", "--", "./a-folder"], None);
    scratch.pin(
        "exec-error-no-interpreter",
        &["exec", "--", "./bad.sh"],
        None,
    );
    // Neither XDG_RUNTIME_DIR nor the folder under TMPDIR is private to the user.
    let mut open = Scratch::sealed(PROFILE);
    let uid = rustix::process::geteuid().as_raw();
    open.redact(&format!("sealctl-{uid}"), "sealctl-[UID]");
    let runtime = open.home().join("runtime");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o777)).unwrap();
    let shared = open.home().join(format!("tmp/sealctl-{uid}"));
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    open.set("TMPDIR", &open.home().join("tmp").to_string_lossy());
    open.pin(
        "exec-error-not-private",
        &[
            "exec",
            "--private-file",
            "--adapter",
            "influxctl",
            "--",
            "true",
        ],
        None,
    );
    scratch.pin(
        "exec-error-missing-flag-value",
        &["exec", "--", "influxctl", "--config"],
        None,
    );
    scratch.pin(
        "exec-error-env-name",
        &["exec", "--env", "mgmt_token=1BAD", "--", "true"],
        None,
    );
    // The default profile has a management token and no database token.
    scratch.pin(
        "exec-error-preset-missing-key",
        &["exec", "--preset", "influxdb3", "--", "true"],
        None,
    );
}

/// The binary's own setup errors, one a command, with their hints.
#[test]
fn command_errors() {
    let mut scratch = Scratch::sealed(TWO_PROFILES);
    scratch.pin(
        "command-error-check-missing-file",
        &["check", "missing.toml"],
        None,
    );
    scratch.pin(
        "command-error-keyring-store-without-keyring",
        &[
            "token",
            "set",
            "--backend",
            "age",
            "--keyring-store",
            "keyutils",
        ],
        Some(TOKEN),
    );
    scratch.pin(
        "command-error-completions-shell",
        &["completions", "tcsh"],
        None,
    );
    scratch.pin(
        "command-error-exec-env-twice",
        &[
            "exec",
            "--env",
            "A=mgmt_token",
            "--env",
            "A=token",
            "--",
            "true",
        ],
        None,
    );
    let mut dedicated = Scratch::sealed(
        "[[profile]]\n  name = \"default\"\n  product = \"dedicated\"\n  account_id = \"0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11\"\n  cluster_id = \"1d3d47d7-68c2-4f4a-8c2b-4a2f1d5f3b22\"\n",
    );
    // A stand-in that is never run: the mismatch is found before.
    let influxctl = dedicated.write("bin/influxctl", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&influxctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dedicated.home().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    dedicated.set("PATH", &path);
    dedicated.pin(
        "command-error-exec-influxctl-other-cluster",
        &[
            "exec",
            "--",
            "influxctl",
            "--cluster",
            "2e4e58e8-79d3-4a5b-9d3c-5b3a2e6a4c33",
        ],
        None,
    );
    scratch.pin(
        "command-error-token-get-not-set",
        &["token", "get", "--key", "token"],
        None,
    );
    scratch.pin(
        "command-error-token-rm-not-set",
        &["token", "rm", "--key", "token"],
        None,
    );
    scratch.pin(
        "command-error-token-input-too-big",
        &["token", "set"],
        Some(&"a ".repeat(40 * 1024)),
    );
    scratch.pin(
        "command-error-unseal-no-terminal",
        &["unseal", "--all"],
        None,
    );
    scratch.pin(
        "command-error-profile-rm-no-terminal",
        &["profile", "rm", "prod"],
        None,
    );
    scratch.pin(
        "command-error-profile-rename-empty",
        &["profile", "rename", "prod", ""],
        None,
    );
    scratch.pin(
        "command-error-profile-rename-exists",
        &["profile", "rename", "prod", "default"],
        None,
    );
    scratch.pin(
        "command-error-recipients-rm-not-one",
        &[
            "recipients",
            "rm",
            "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
        ],
        None,
    );
    scratch.pin("command-error-init-no-input", &["init", "--no-input"], None);
    scratch.pin(
        "command-error-init-bad-host",
        &[
            "init",
            "--no-input",
            "--config",
            "new.toml",
            "--product",
            "clustered",
            "--host",
            "https://h.example.com:8443",
        ],
        None,
    );
    scratch.pin(
        "command-error-init-no-token",
        &[
            "init",
            "--no-input",
            "--config",
            "new.toml",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
        ],
        None,
    );
    scratch.write("a-file", "");
    scratch.pin(
        "command-error-man-cannot-write",
        &["man", "--out", "a-file/man"],
        None,
    );
    let text = std::fs::read_to_string(scratch.config()).unwrap();
    std::fs::write(
        scratch.config(),
        text.replace("recipients = [", "recipients = [\n  \"age1nope\","),
    )
    .unwrap();
    scratch.pin(
        "command-error-bad-recipient-in-file",
        &["token", "set", "--profile", "prod"],
        Some(TOKEN),
    );
    std::fs::write(scratch.config(), &text).unwrap();
    scratch.edit_value(|_| {
        "sealctl:v1:keyring:secret-service/0123456789abcdef0123456789abcdef;ep=af65e08f".to_owned()
    });
    scratch.set("SEALCTL_KEYRING_TIMEOUT", "soon");
    scratch.pin(
        "command-error-keyring-timeout-not-a-number",
        &["token", "get"],
        None,
    );
    std::fs::remove_file(scratch.home().join(".config/sealctl/identity.txt")).unwrap();
    scratch.pin(
        "command-error-identity-show-none",
        &["identity", "show"],
        None,
    );
}

/// KeyringError from a real keyring (gnome-keyring on a private bus): an entry missing here or
/// set elsewhere, a locked keyring, and two entries with sealctl's attributes.
#[test]
fn keyring_errors_with_a_keyring() {
    use crate::common::secret_service::SecretService;
    let mut scratch = Scratch::sealed(TWO_PROFILES);
    let setup_bus = SecretService::start();
    scratch.set("DBUS_SESSION_BUS_ADDRESS", setup_bus.address());
    scratch.must(&["token", "set", "--backend", "keyring"], Some(TOKEN));
    let text = std::fs::read_to_string(scratch.config()).unwrap();
    let id_at = text.find("keyring:secret-service/").unwrap() + "keyring:secret-service/".len();
    let id = text[id_at..id_at + 32].to_owned();
    scratch.redact(&id, "[ENTRY]");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    scratch.redact(&format!("`{}`", host.trim()), "`[HOSTNAME]`");

    // Two entries with sealctl's attributes: another client stored one.
    let stored = setup_bus.secret_tool(
        &[
            "store",
            "--label",
            "another client",
            "service",
            "sealctl",
            "username",
            &id,
            "application",
            "Python keyring library",
        ],
        "not-an-envelope",
    );
    assert!(stored.status.success());
    scratch.pin("keyring-error-ambiguous", &["token", "get"], None);
    drop(setup_bus);

    let other_machine = SecretService::start();
    scratch.set("DBUS_SESSION_BUS_ADDRESS", other_machine.address());
    scratch.pin("keyring-error-missing-set-here", &["token", "get"], None);
    std::fs::write(
        scratch.config(),
        text.replace(";host=", ";host=build-7;was="),
    )
    .unwrap();
    scratch.pin(
        "keyring-error-missing-set-elsewhere",
        &["token", "get"],
        None,
    );
    std::fs::write(scratch.config(), &text).unwrap();

    other_machine.lock();
    scratch.pin(
        "keyring-error-locked",
        &["--profile", "prod", "token", "set", "--backend", "keyring"],
        Some(TOKEN),
    );
}

/// Every file under `tests/snapshots/output` is one a test here makes: a removed case or
/// subcommand must take its snapshot with it, or the stale file would pin nothing.
#[test]
fn every_snapshot_is_made_by_a_test() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/output");
    let source = include_str!("output.rs");
    let tree = std::fs::read_to_string(folder.join("help-tree.snap")).unwrap();
    let pages: Vec<String> = tree
        .lines()
        .filter_map(|line| line.strip_prefix("sealctl"))
        .map(|rest| match rest.trim() {
            "" => "help-sealctl".to_owned(),
            path => format!("help-{}", path.replace(' ', "-")),
        })
        .collect();
    let samples: Vec<String> = sample_files()
        .into_iter()
        .map(|(name, _)| format!("check-{name}"))
        .collect();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".snap") else {
            panic!(
                "{name}: not a snapshot (a .snap.new left by a failed run? review it and remove it)"
            );
        };
        let made = pages.iter().chain(&samples).any(|made| made == stem)
            || source.contains(&format!("\"{stem}\""))
            || ["json", "sarif"]
                .iter()
                .any(|f| stem == format!("check-format-{f}"));
        assert!(
            made,
            "tests/snapshots/output/{name} is made by no test: remove it"
        );
    }
}

/// OpenError of a passphrase-protected identity, where no terminal is needed to meet it: no
/// terminal to ask on, and a PINENTRY_PROGRAM that cannot run. (A wrong or cancelled passphrase
/// needs a person at a terminal: tests/terminal.rs.)
#[test]
fn protected_identity_errors() {
    use std::io::Write as _;
    let mut scratch = Scratch::sealed(PROFILE);
    // An age identity file encrypted with a passphrase, at a low work factor to keep it fast.
    let identity = age::x25519::Identity::generate();
    let mut recipient =
        age::scrypt::Recipient::new(secrecy::SecretString::from("correct horse".to_owned()));
    recipient.set_work_factor(10);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let armored =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut writer = encryptor.wrap_output(armored).unwrap();
    use secrecy::ExposeSecret as _;
    writeln!(writer, "{}", identity.to_string().expose_secret()).unwrap();
    writer.finish().unwrap().finish().unwrap();
    let key = scratch.write("key.age", out);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = identity.to_public().to_string();
    scratch.must(&["recipients", "add", &public], None);
    scratch.must(&["rekey", "--all"], None);
    // Only the protected identity is left to open it with.
    std::fs::remove_file(scratch.home().join(".config/sealctl/identity.txt")).unwrap();

    scratch.pin(
        "open-error-no-terminal",
        &["token", "get", "--identity", "key.age"],
        None,
    );
    scratch.detached = true;
    let pinentry = scratch.home().join("no-such-pinentry");
    scratch.set("PINENTRY_PROGRAM", &pinentry.to_string_lossy());
    scratch.pin(
        "open-error-prompt-failed",
        &["token", "get", "--identity", "key.age"],
        None,
    );
}

/// `doctor` where a token is kept in a running keyring (gnome-keyring on a private bus).
#[test]
fn doctor_with_a_keyring() {
    let bus = crate::common::secret_service::SecretService::start();
    let mut scratch = Scratch::sealed(TWO_PROFILES);
    scratch.set("DBUS_SESSION_BUS_ADDRESS", bus.address());
    std::fs::set_permissions(scratch.config(), std::fs::Permissions::from_mode(0o600)).unwrap();
    scratch.must(
        &["--profile", "prod", "token", "set", "--backend", "keyring"],
        Some(TOKEN),
    );
    doctor_scratch(scratch, true).pin("doctor-keyring", &["doctor"], None);
}
