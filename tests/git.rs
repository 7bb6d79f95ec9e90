//! Sealed profile files in real git repositories: `git diff` and `git log -p` through
//! `sealctl git diff-text`, merges and a rebase through `sealctl git merge`, set up by
//! `sealctl git setup`, with age identities made for each test.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{TestEnv, leaks, sha256};

const FIRST: &str = "apiv3_GiTfIrSt1Kq8Zt2Wn7Kc";
const OURS: &str = "apiv3_GiToUrS2Lp4Rt6Yh9Bv";
const THEIRS: &str = "apiv3_GiTtHeIrS3Mn5Qw7Er1";

/// The start of every age payload in base64 ("age-encryption.org"): ciphertext on screen.
const CIPHERTEXT: &str = "YWdlLWVuY3J5cHRpb24";

const PROFILES: &str = "# the team's profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"staging\"\n  product = \"clustered\"\n  host = \"staging.example.com\"\n  port = \"443\"\n";

/// A repository holding `config.toml` with a sealed token, committed on `main`, with sealctl's
/// diff and merge driver set up; and a second identity, `other.txt`, not yet a recipient.
struct Repo {
    env: TestEnv,
    dir: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let env = TestEnv::new();
        let dir = env.home().join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Repo { env, dir };
        repo.ok(&["identity", "new"]);
        repo.git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.config(), PROFILES).unwrap();
        let mine = repo.ok(&["identity", "show"]);
        let mine = String::from_utf8(mine.stdout).unwrap();
        let mine = mine.lines().find(|line| line.starts_with("age1")).unwrap();
        repo.ok(&["recipients", "add", mine, "--config", "config.toml"]);
        repo.set_token("default", FIRST);
        repo.ok(&["git", "setup"]);
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-qm", "base"]);
        let other = repo.env.home().join("other.txt");
        crate::common::succeeded(crate::common::command("age-keygen").arg("-o").arg(&other));
        repo
    }

    fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.config()).unwrap()
    }

    /// The recipient of `other.txt`.
    fn other(&self) -> String {
        let output = crate::common::succeeded(
            crate::common::command("age-keygen")
                .arg("-y")
                .arg(self.env.home().join("other.txt")),
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    fn sealctl(&self, args: &[&str]) -> Output {
        self.env
            .sealctl_process()
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let output = self.sealctl(args);
        assert!(
            output.status.success(),
            "sealctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn set_token(&self, profile: &str, token: &str) {
        let output = crate::common::start_with_input(
            self.env
                .sealctl_process()
                .current_dir(&self.dir)
                .args(["token", "set", "--profile", profile])
                .args([
                    "--config",
                    "config.toml",
                    "--expires-at",
                    "2031-01-01T00:00:00Z",
                ]),
            token,
        )
        .wait_with_output()
        .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The digest of the token `token get` opens.
    fn token_digest(&self, profile: &str) -> String {
        let output = self.ok(&[
            "token",
            "get",
            "--profile",
            profile,
            "--config",
            "config.toml",
        ]);
        sha256(String::from_utf8(output.stdout).unwrap().trim_end())
    }

    /// git, in the repository, with nothing of the machine's own config.
    fn git_output(&self, args: &[&str]) -> Output {
        crate::common::command("git")
            .current_dir(&self.dir)
            .env("HOME", self.env.home())
            .env("XDG_CONFIG_HOME", self.env.home().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_EDITOR", "true")
            .args(args)
            .output()
            .unwrap()
    }

    fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args);
        assert!(
            output.status.success(),
            "git {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn commit(&self, message: &str) {
        self.git(&["commit", "-qam", message]);
    }

    fn append(&self, text: &str) {
        let mut now = self.text();
        now.push_str(text);
        std::fs::write(self.config(), now).unwrap();
    }

    /// Makes branch `theirs` with `theirs`' change, then `ours`' change on `main`, and merges
    /// `theirs` into `main`.
    fn merge(&self, theirs: impl FnOnce(&Repo), ours: impl FnOnce(&Repo)) -> Output {
        self.git(&["checkout", "-q", "-b", "theirs"]);
        theirs(self);
        self.commit("theirs");
        self.git(&["checkout", "-q", "main"]);
        ours(self);
        self.commit("ours");
        self.git_output(&["merge", "--no-edit", "theirs"])
    }

    /// `sealctl check` passes on the file as it is.
    fn checks(&self) {
        let output = self.sealctl(&["check", "config.toml"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

fn profile(name: &str) -> String {
    format!(
        "\n[[profile]]\n  name = \"{name}\"\n  product = \"clustered\"\n  host = \"{name}.example.com\"\n  port = \"443\"\n"
    )
}

fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Appends a profile before `[sealctl]`, as `profile add` does, by inserting its text there.
fn add_profile(repo: &Repo, name: &str) {
    let text = repo.text();
    let at = text.find("\n[sealctl]").unwrap();
    let text = format!("{}{}{}", &text[..at], profile(name), &text[at..]);
    std::fs::write(repo.config(), text).unwrap();
}

fn rekey_to_other(repo: &Repo) {
    repo.ok(&[
        "recipients",
        "add",
        &repo.other(),
        "--config",
        "config.toml",
    ]);
    repo.ok(&["rekey", "--all", "--config", "config.toml"]);
}

#[test]
fn git_diff_and_log_show_summaries_never_ciphertext() {
    let repo = Repo::new();
    rekey_to_other(&repo);
    let diff = repo.git(&["diff"]);
    assert!(!diff.contains(CIPHERTEXT), "{diff}");
    assert!(
        diff.contains("-  mgmt_token = \"<sealed: age, 1 recipient (r="),
        "{diff}"
    );
    assert!(
        diff.contains("+  mgmt_token = \"<sealed: age, 2 recipients (r="),
        "{diff}"
    );
    assert!(diff.contains("expires 2031-01-01"), "{diff}");
    repo.commit("add a recipient");
    let log = repo.git(&["log", "-p"]);
    assert!(!log.contains(CIPHERTEXT), "{log}");
    assert!(
        log.contains("+  mgmt_token = \"<sealed: age, 2 recipients"),
        "{log}"
    );
    // Without textconv the ciphertext is there: the summary is git's doing, not the file's.
    assert!(
        repo.git(&["log", "-p", "--no-textconv"])
            .contains(CIPHERTEXT)
    );
}

#[test]
fn sealing_the_same_token_again_shows_no_change_and_reveal_changes_tells_a_new_one() {
    let repo = Repo::new();
    repo.set_token("default", FIRST);
    // The file's bytes changed (a new ciphertext), its summary did not.
    assert!(repo.git(&["diff", "--no-textconv"]).contains(CIPHERTEXT));
    assert!(!repo.git(&["diff"]).contains("mgmt_token"));
    let sealctl = env!("CARGO_BIN_EXE_sealctl");
    let reveal = format!("diff.sealctl.textconv={sealctl} git diff-text --reveal-changes");
    let revealed = repo.git(&["-c", &reveal, "diff"]);
    assert!(!revealed.contains("mgmt_token"), "{revealed}");

    repo.set_token("default", OURS);
    assert!(!repo.git(&["diff"]).contains("mgmt_token"));
    let revealed = repo.git(&["-c", &reveal, "diff"]);
    let tag = |sign: &str| {
        revealed
            .lines()
            .find(|line| line.starts_with(&format!("{sign}  mgmt_token")))
            .and_then(|line| line.split("secret #").nth(1))
            .map(|tag| tag.trim_end_matches(">\"").to_owned())
            .unwrap_or_else(|| panic!("no {sign} line: {revealed}"))
    };
    assert_ne!(tag("-"), tag("+"));
    assert_eq!(tag("-").len(), 12);
    assert!(!leaks(&revealed, FIRST) && !leaks(&revealed, OURS));
    // Not a plain digest of the token: another identity that opens it gives another tag.
    assert!(!revealed.contains(&sha256(OURS)[..12]));
    rekey_to_other(&repo);
    let other = repo.env.home().join("other.txt");
    let by_other = repo
        .env
        .sealctl_process()
        .current_dir(&repo.dir)
        .args(["git", "diff-text", "--reveal-changes", "config.toml"])
        .env("SEALCTL_IDENTITY_FILE", &other)
        .output()
        .unwrap();
    let mine = repo.ok(&["git", "diff-text", "--reveal-changes", "config.toml"]);
    let tag_of = |output: &Output| {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.split("secret #")
            .nth(1)
            .map(|rest| rest[..12].to_owned())
    };
    assert!(tag_of(&mine).is_some() && tag_of(&by_other).is_some());
    assert_ne!(tag_of(&mine), tag_of(&by_other));
}

#[test]
fn diff_text_prints_what_it_cannot_read_as_profiles_unchanged() {
    let repo = Repo::new();
    for bytes in [
        &b"not [toml\n  mgmt_token = \"sealctl:v1:age:YWJj\"\n"[..],
        &b"\xff\xfe binary \x00"[..],
        &b""[..],
    ] {
        std::fs::write(repo.dir.join("broken.toml"), bytes).unwrap();
        let output = repo.ok(&["git", "diff-text", "broken.toml"]);
        assert_eq!(output.stdout, bytes);
    }
    let missing = repo.sealctl(&["git", "diff-text", "missing.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read missing.toml"));
}

#[test]
fn both_sides_adding_profiles_keeps_both() {
    let repo = Repo::new();
    let merged = repo.merge(|r| add_profile(r, "us"), |r| add_profile(r, "eu"));
    succeeded(&merged);
    let text = repo.text();
    assert!(
        text.contains(&profile("eu")) && text.contains(&profile("us")),
        "{text}"
    );
    assert!(text.find("\"eu\"").unwrap() < text.find("\"us\"").unwrap());
    assert!(text.starts_with(&PROFILES[..PROFILES.find("\n\n").unwrap()]));
    repo.checks();
    assert_eq!(repo.token_digest("default"), sha256(FIRST));
}

#[test]
fn one_side_rekeys_while_the_other_adds_a_profile() {
    let repo = Repo::new();
    let merged = repo.merge(rekey_to_other, |r| add_profile(r, "eu"));
    succeeded(&merged);
    let text = repo.text();
    assert!(
        text.contains(&profile("eu")) && text.contains(&repo.other()),
        "{text}"
    );
    repo.checks();
    assert_eq!(repo.token_digest("default"), sha256(FIRST));
    // The rekeyed value is the one kept: sealed to both recipients, so the other opens it too.
    let other = repo
        .env
        .sealctl_process()
        .current_dir(&repo.dir)
        .args(["token", "get", "--config", "config.toml"])
        .env("SEALCTL_IDENTITY_FILE", repo.env.home().join("other.txt"))
        .output()
        .unwrap();
    assert!(other.status.success());
}

#[test]
fn both_sides_rekeying_merge_cleanly() {
    let repo = Repo::new();
    let merged = repo.merge(rekey_to_other, rekey_to_other);
    succeeded(&merged);
    assert!(!repo.text().contains("<<<<<<<"));
    repo.checks();
    assert_eq!(repo.token_digest("default"), sha256(FIRST));
}

#[test]
fn both_sides_setting_the_same_token_merge_cleanly() {
    let repo = Repo::new();
    let merged = repo.merge(
        |r| r.set_token("default", OURS),
        |r| r.set_token("default", OURS),
    );
    succeeded(&merged);
    repo.checks();
    assert_eq!(repo.token_digest("default"), sha256(OURS));
}

#[test]
fn the_same_token_without_an_identity_is_a_conflict() {
    let repo = Repo::new();
    let identity = repo.env.home().join(".config/sealctl/identity.txt");
    let aside = repo.env.home().join("identity.aside");
    repo.git(&["checkout", "-q", "-b", "theirs"]);
    repo.set_token("default", OURS);
    repo.commit("theirs");
    repo.git(&["checkout", "-q", "main"]);
    repo.set_token("default", OURS);
    repo.commit("ours");
    std::fs::rename(&identity, &aside).unwrap();
    let merged = repo.git_output(&["merge", "--no-edit", "theirs"]);
    std::fs::rename(&aside, &identity).unwrap();
    assert_eq!(merged.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&merged.stderr)
            .contains("cannot tell whether both sides sealed the same token")
    );
    assert!(repo.text().contains("<<<<<<< ours\n  mgmt_token = "));
}

#[test]
fn both_sides_setting_different_tokens_is_a_conflict_around_that_line_only() {
    let repo = Repo::new();
    let merged = repo.merge(
        |r| r.set_token("default", THEIRS),
        |r| r.set_token("default", OURS),
    );
    assert_eq!(merged.status.code(), Some(1));
    let said = String::from_utf8_lossy(&merged.stdout);
    assert!(
        said.contains("CONFLICT") && said.contains("config.toml"),
        "{said}"
    );
    assert!(!repo.git(&["ls-files", "-u"]).is_empty());
    let text = repo.text();
    let start = text.find("<<<<<<< ours\n").unwrap();
    let end = text.find(">>>>>>> theirs\n").unwrap() + ">>>>>>> theirs\n".len();
    let region: Vec<&str> = text[start..end].lines().collect();
    assert_eq!(region.len(), 5, "{region:?}");
    assert!(region[1].starts_with("  mgmt_token = \"sealctl:v1:age:"));
    assert_eq!(region[2], "=======");
    assert!(region[3].starts_with("  mgmt_token = \"sealctl:v1:age:"));
    // Everything else is the file as it was.
    let rest = format!("{}{}", &text[..start], &text[end..]);
    assert!(rest.starts_with(&PROFILES[..PROFILES.find("\n\n").unwrap()]));
    assert!(!leaks(&text, OURS) && !leaks(&said, THEIRS));
}

#[test]
fn a_rebase_with_the_driver_keeps_both_sides() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "theirs"]);
    add_profile(&repo, "us");
    repo.commit("us");
    repo.set_token("staging", THEIRS);
    repo.commit("staging token");
    repo.git(&["checkout", "-q", "main"]);
    add_profile(&repo, "eu");
    repo.commit("eu");
    repo.git(&["checkout", "-q", "theirs"]);
    repo.git(&["rebase", "main"]);
    let text = repo.text();
    assert!(
        text.contains(&profile("eu")) && text.contains(&profile("us")),
        "{text}"
    );
    repo.checks();
    assert_eq!(repo.token_digest("staging"), sha256(THEIRS));
    assert_eq!(repo.token_digest("default"), sha256(FIRST));
}

#[test]
fn a_side_that_does_not_parse_is_merged_by_lines_and_loses_nothing() {
    let repo = Repo::new();
    let merged = repo.merge(
        |r| r.append("[[broken\n"),
        |r| {
            let text = r.text().replace("# the team's", "# our team's");
            std::fs::write(r.config(), text).unwrap();
        },
    );
    succeeded(&merged);
    let text = repo.text();
    assert!(
        text.starts_with("# our team's profiles\n") && text.ends_with("[[broken\n"),
        "{text}"
    );
}

#[test]
fn setup_twice_changes_nothing_and_doctor_tells_whether_it_is_there() {
    let repo = Repo::new();
    let doctor_line = |repo: &Repo| {
        let output = repo.sealctl(&["doctor", "--config", "config.toml"]);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find(|line| line.contains(" git "))
            .map(str::to_owned)
    };
    let ready = doctor_line(&repo).unwrap();
    assert!(
        ready.starts_with("ok ") && ready.contains("config.toml is diffed and merged with sealctl"),
        "{ready}"
    );
    let read = |path: &Path| std::fs::read(path).unwrap();
    let (attributes, config) = (
        repo.dir.join(".gitattributes"),
        repo.dir.join(".git/config"),
    );
    let before = (read(&attributes), read(&config));
    let again = repo.ok(&["git", "setup"]);
    assert_eq!((read(&attributes), read(&config)), before);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has"));
    assert_eq!(
        String::from_utf8(before.0).unwrap(),
        "config.toml diff=sealctl merge=sealctl\n*.sealctl.toml diff=sealctl merge=sealctl\n"
    );

    repo.git(&["config", "--unset", "merge.sealctl.driver"]);
    let missing = doctor_line(&repo).unwrap();
    assert!(
        missing.starts_with("warn") && missing.contains("does not diff and merge"),
        "{missing}"
    );

    // Outside a repository: refused without --global, which writes the user's own files.
    let outside = repo.env.home().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let refused = repo
        .env
        .sealctl_process()
        .current_dir(&outside)
        .args(["git", "setup"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not in a git repository"));
    let global = repo
        .env
        .sealctl_process()
        .current_dir(&outside)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["git", "setup", "--global"])
        .output()
        .unwrap();
    succeeded(&global);
    let attributes =
        std::fs::read_to_string(repo.env.home().join(".config/git/attributes")).unwrap();
    assert!(attributes.contains("config.toml diff=sealctl merge=sealctl"));
    let gitconfig = std::fs::read_to_string(repo.env.home().join(".gitconfig")).unwrap();
    assert!(
        gitconfig.contains("git merge --marker-size %L %O %A %B %P"),
        "{gitconfig}"
    );
}

#[test]
fn conflict_markers_take_the_length_git_asks_for() {
    let repo = Repo::new();
    let attributes = repo.dir.join(".gitattributes");
    let mut text = std::fs::read_to_string(&attributes).unwrap();
    text.push_str("config.toml conflict-marker-size=12\n");
    std::fs::write(&attributes, text).unwrap();
    repo.commit("longer markers");
    let merged = repo.merge(
        |r| r.set_token("default", THEIRS),
        |r| r.set_token("default", OURS),
    );
    assert_eq!(merged.status.code(), Some(1));
    let text = repo.text();
    for marker in [
        "<<<<<<<<<<<< ours\n",
        "\n============\n",
        "\n>>>>>>>>>>>> theirs\n",
    ] {
        assert!(text.contains(marker), "{marker:?} not in {text}");
    }
    assert!(!text.contains("\n=============\n"));
}

// A value kept outside the file opens to what is kept there now, the same for every revision:
// its tag would call any change "unchanged", so none is given.
#[cfg(feature = "test-fakes")]
#[test]
fn reveal_changes_compares_no_value_kept_outside_the_file() {
    let repo = Repo::new();
    let envelopes = repo.env.home().join("envelopes");
    std::fs::create_dir_all(&envelopes).unwrap();
    let output = crate::common::start_with_input(
        repo.env
            .sealctl_process()
            .current_dir(&repo.dir)
            .env("SEALCTL_TEST_BACKEND_DIR", &envelopes)
            .args([
                "token",
                "set",
                "--profile",
                "default",
                "--backend",
                "test-file",
            ])
            .args(["--config", "config.toml"]),
        OURS,
    )
    .wait_with_output()
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = repo
        .env
        .sealctl_process()
        .current_dir(&repo.dir)
        .env("SEALCTL_TEST_BACKEND_DIR", &envelopes)
        .args(["git", "diff-text", "--reveal-changes", "config.toml"])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    let line = text
        .lines()
        .find(|line| line.contains("mgmt_token"))
        .unwrap();
    assert!(
        line.contains("secret kept outside the file, not compared"),
        "{line}"
    );
    assert!(!line.contains("secret #"), "{line}");
    assert!(!leaks(&text, OURS));
}
