//! `sealctl edit` with real editors driven by scripts (`ed`, `vi -es`): a changed token is sealed
//! back (then `token get` gives the new one), a changed field is written byte for byte, and the
//! file is left unchanged when nothing changed, the editor fails, or the result is refused. No
//! plaintext is left in any file when sealctl is killed (SIGKILL) or stopped (SIGTERM) mid-edit.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::common::{TestEnv, leaks, sha256};

const OLD_TOKEN: &str = "apiv3_Ed41Fq8nWxR2mK";
const NEW_TOKEN: &str = "apiv3_Nw93Tc6hLbZ1pS";
const DB_TOKEN: &str = "apiv3_Db58Vy3kQmH7sJ";

const PROFILES: &str = "# team profiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  database = \"metrics\" # the main one\n\n[[profile]]\n  name = \"other\"\n  product = \"clustered\"\n  host = \"o.example.com\"\n  port = \"443\"\n";

/// A scratch HOME with an identity, both tokens of `default` sealed, and private folders of its
/// own for the runtime and temporary files (searched for plaintext afterwards).
struct Setup {
    env: TestEnv,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = TestEnv::new();
        let config = env.write(".config/influxctl/config.toml", PROFILES);
        for folder in ["runtime", "tmp", "envelopes"] {
            let path = env.home().join(folder);
            std::fs::create_dir(&path).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        let setup = Setup { env, config };
        setup.sealctl(&["identity", "new"]).assert().success();
        for (key, token) in [("mgmt_token", OLD_TOKEN), ("token", DB_TOKEN)] {
            setup
                .sealctl(&["token", "set", "--key", key])
                .write_stdin(token)
                .assert()
                .success();
        }
        setup
    }

    fn sealctl(&self, args: &[&str]) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process(args))
    }

    fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.env.sealctl_process();
        command
            .args(args)
            .env("XDG_RUNTIME_DIR", self.env.home().join("runtime"))
            .env("TMPDIR", self.env.home().join("tmp"))
            .env(
                "SEALCTL_TEST_BACKEND_DIR",
                self.env.home().join("envelopes"),
            );
        command
    }

    /// `sealctl edit ARGS` with `EDITOR=editor` and `input` on standard input (an ed script).
    fn edit(&self, editor: &str, input: &str, args: &[&str]) -> std::process::Output {
        let mut command = self.process(&["edit"]);
        command.args(args).env("EDITOR", editor);
        self.sealctl_output(command, input)
    }

    fn sealctl_output(&self, command: std::process::Command, input: &str) -> std::process::Output {
        assert_cmd::Command::from_std(command)
            .write_stdin(input)
            .output()
            .unwrap()
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    fn token(&self, key: &str) -> String {
        let output = self
            .sealctl(&["token", "get", "--key", key])
            .output()
            .unwrap();
        assert!(output.status.success());
        sha256(String::from_utf8(output.stdout).unwrap().trim_end())
    }
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The file with the value of `key` (in the `default` profile) replaced by `value`.
fn with_value(file: &str, key: &str, value: &str) -> String {
    let start = file.find(&format!("  {key} = \"")).unwrap() + key.len() + 6;
    let end = start + file[start..].find('"').unwrap();
    format!("{}{value}{}", &file[..start], &file[end..])
}

fn value_of<'f>(file: &'f str, key: &str) -> &'f str {
    let start = file.find(&format!("  {key} = \"")).unwrap() + key.len() + 6;
    &file[start..start + file[start..].find('"').unwrap()]
}

#[test]
fn a_changed_token_is_sealed_back_and_the_rest_of_the_file_kept_byte_for_byte() {
    let setup = Setup::new();
    let before = setup.file();
    for (editor, script) in [
        (
            "ed -s",
            format!("/mgmt_token/s/{OLD_TOKEN}/{NEW_TOKEN}/\nw\nq\n"),
        ),
        ("vi -es", format!("%s/{NEW_TOKEN}/{OLD_TOKEN}/\nwq\n")),
    ] {
        let output = setup.edit(editor, &script, &[]);
        assert!(output.status.success(), "{editor}: {}", stderr(&output));
        assert!(stderr(&output).contains("saved 1 changed value of profile `default`"));
    }
    // Back where it started: a new sealed value, the same token, nothing else changed.
    let after = setup.file();
    assert_eq!(
        after,
        with_value(&before, "mgmt_token", value_of(&after, "mgmt_token"))
    );
    assert_ne!(
        value_of(&after, "mgmt_token"),
        value_of(&before, "mgmt_token")
    );
    assert_eq!(setup.token("mgmt_token"), sha256(OLD_TOKEN));
    assert_eq!(setup.token("token"), sha256(DB_TOKEN));

    let output = setup.edit(
        "ed -s",
        &format!("/mgmt_token/s/{OLD_TOKEN}/{NEW_TOKEN}/\nw\nq\n"),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(setup.token("mgmt_token"), sha256(NEW_TOKEN));
    // The database token was not changed: its sealed value is the same bytes.
    assert_eq!(value_of(&setup.file(), "token"), value_of(&before, "token"));
    assert!(!leaks(&setup.file(), NEW_TOKEN) && !leaks(&stderr(&output), NEW_TOKEN));
}

#[test]
fn a_changed_field_is_written_in_place_and_tokens_stay_sealed_as_they_were() {
    let setup = Setup::new();
    let before = setup.file();
    let output = setup.edit(
        "ed -s",
        "/database/s/metrics/logs/\nw\nq\n",
        &["--private-file"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(setup.file(), with_value(&before, "database", "logs"));
}

#[test]
fn nothing_changed_leaves_the_file_as_it_was() {
    let setup = Setup::new();
    let before = setup.file();
    for script in ["w\nq\n", "q\n"] {
        let output = setup.edit("ed -s", script, &[]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("nothing changed"),
            "{}",
            stderr(&output)
        );
        assert_eq!(setup.file(), before);
    }
}

#[test]
fn the_file_is_unchanged_when_the_editor_fails() {
    let setup = Setup::new();
    let before = setup.file();
    // The change written, then a failing exit: not saved.
    let output = setup.edit(
        "sh -c 'ed -s \"$0\"; exit 3'",
        &format!("/mgmt_token/s/{OLD_TOKEN}/{NEW_TOKEN}/\nw\nq\n"),
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(setup.file(), before);
    assert_eq!(setup.token("mgmt_token"), sha256(OLD_TOKEN));
    let output = setup.edit("sh -c 'echo x >> \"$0\"; exit 3'", "", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the editor exited with status 3"),
        "{}",
        stderr(&output)
    );
    assert_eq!(setup.file(), before);
    let output = setup.edit("no-such-editor-here", "", &[]);
    assert_ne!(output.status.code(), Some(0));
    assert_eq!(setup.file(), before);
}

#[test]
fn a_result_that_fails_check_or_changes_more_than_the_profile_is_refused() {
    let setup = Setup::new();
    let before = setup.file();
    for (script, says) in [
        ("/port/s/443/99999/\nw\nq\n", "invalid-port"),
        // The token's endpoint would change: it would no longer open.
        ("/h.example.com/s/h\\./x./\nw\nq\n", "endpoint-changed"),
        (
            "1s/team/our/\nw\nq\n",
            "changes more than values of profile `default`",
        ),
        (
            "/o.example.com/s/o\\./p./\nw\nq\n",
            "changes more than values",
        ),
        ("/mgmt_token/s/\"$//\nw\nq\n", "not valid TOML (line 8"),
        ("/name = \"default\"/d\nw\nq\n", "profile `default` is gone"),
    ] {
        let output = setup.edit("ed -s", script, &[]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{script}: {text}");
        assert!(text.contains(says), "{script}: {text}");
        assert!(text.contains("left unchanged"), "{text}");
        assert!(
            !leaks(&text, OLD_TOKEN) && !leaks(&text, DB_TOKEN),
            "a token leaked"
        );
        assert_eq!(setup.file(), before, "{script}");
    }
}

#[test]
fn a_token_that_cannot_be_opened_starts_no_editor() {
    let setup = Setup::new();
    let before = setup.file();
    std::fs::remove_file(setup.env.home().join(".config/sealctl/identity.txt")).unwrap();
    let marker = setup.env.home().join("editor-ran");
    let output = setup.edit(&format!("touch {}", marker.display()), "", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing was edited"),
        "{}",
        stderr(&output)
    );
    assert!(!marker.exists(), "the editor was started");
    assert_eq!(setup.file(), before);
}

/// A token kept by another backend is sealed back there, and what its old value kept is deleted.
#[cfg(feature = "test-fakes")]
#[test]
fn a_token_kept_by_another_backend_is_sealed_back_there() {
    let setup = Setup::new();
    setup
        .sealctl(&["token", "set", "--key", "token", "--backend", "test-file"])
        .write_stdin(DB_TOKEN)
        .assert()
        .success();
    let envelopes = setup.env.home().join("envelopes");
    let count = || std::fs::read_dir(&envelopes).unwrap().count();
    assert_eq!(count(), 1);
    let output = setup.edit(
        "ed -s",
        &format!("/  token = /s/{DB_TOKEN}/{NEW_TOKEN}/\nw\nq\n"),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(value_of(&setup.file(), "token").starts_with("sealctl:v1:test-file:"));
    assert_eq!(setup.token("token"), sha256(NEW_TOKEN));
    assert_eq!(setup.token("mgmt_token"), sha256(OLD_TOKEN));
    // The old envelope is gone: one envelope, the new token's.
    assert_eq!(count(), 1);

    // Refused after sealing: what the new value stored is deleted again.
    let before = setup.file();
    let output = setup.edit(
        "ed -s",
        &format!("/  token = /s/{NEW_TOKEN}/{DB_TOKEN}/\n/port/s/443/0/\nw\nq\n"),
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(setup.file(), before);
    assert_eq!(count(), 1);
}

#[test]
fn the_editor_cannot_write_a_core_file() {
    let setup = Setup::new();
    let home = setup.env.home();
    let limit = home.join("limit");
    // sealctl started with core files allowed, as on many desktops; the editor still gets none.
    let mut command = crate::common::command("sh");
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
        .env("EDITOR", format!("ulimit -c > {}; :", limit.display()))
        .current_dir(home)
        .args(["-c", "ulimit -S -c 4096 && exec \"$SEALCTL\" edit"]);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&limit).unwrap().trim(), "0");
}

/// Every regular file under `folder` that holds any part of `secret`.
fn files_holding(folder: &Path, secret: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            found.extend(files_holding(&path, secret));
        } else if metadata.is_file()
            && std::fs::read(&path)
                .is_ok_and(|bytes| leaks(&String::from_utf8_lossy(&bytes), secret))
        {
            found.push(path);
        }
    }
    found
}

/// Starts `sealctl edit ARGS` with an editor that says `ready` in a file once it has the copy,
/// then waits on a fifo until the test opens it. Returns sealctl, and the fifo.
fn start_blocked(setup: &Setup, args: &[&str]) -> (Child, PathBuf) {
    let home = setup.env.home();
    let fifo = home.join("go-on");
    let ready = home.join("ready");
    let _ = std::fs::remove_file(&ready);
    if !fifo.exists() {
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
    }
    let editor = setup.env.write(
        "editor.sh",
        format!(
            "grep -q mgmt_token \"$1\" && echo ready > {}\nread line < {}\n",
            ready.display(),
            fifo.display()
        ),
    );
    let mut command = setup.process(&["edit"]);
    command
        .args(args)
        .env("EDITOR", format!("sh {}", editor.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = command.spawn().unwrap();
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, fifo)
}

/// Lets the blocked editor go on and end.
fn release(fifo: &Path) {
    let _ = std::fs::OpenOptions::new().write(true).open(fifo);
}

fn no_plaintext_anywhere(setup: &Setup, when: &str) {
    for token in [OLD_TOKEN, DB_TOKEN] {
        let found = files_holding(setup.env.home(), token);
        assert!(found.is_empty(), "{when}: plaintext left in {found:?}");
    }
}

#[test]
fn sigkill_during_edit_leaves_no_plaintext_file() {
    let setup = Setup::new();
    let before = setup.file();
    let (mut child, fifo) = start_blocked(&setup, &[]);
    child.kill().unwrap();
    child.wait().unwrap();
    // In memory: nothing on any disk, even while the editor lives on.
    no_plaintext_anywhere(&setup, "memory file, sealctl killed, editor alive");
    release(&fifo);
    assert_eq!(setup.file(), before);

    // A private file cannot outlive sealctl's SIGKILL while the editor uses it; once the editor
    // is gone, the next run removes it.
    let (mut child, fifo) = start_blocked(&setup, &["--private-file"]);
    child.kill().unwrap();
    child.wait().unwrap();
    release(&fifo);
    // The editor's end frees the run's lock; wait for it.
    let next = || setup.edit("true", "", &[]);
    let mut tries = 0;
    while !files_holding(setup.env.home(), OLD_TOKEN).is_empty() && tries < 500 {
        assert!(next().status.success());
        tries += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    no_plaintext_anywhere(&setup, "private file, after the next run");
    assert_eq!(setup.file(), before);
}

#[test]
fn sigterm_during_edit_ends_the_editor_removes_the_copy_and_leaves_the_file() {
    for args in [&[][..], &["--private-file"][..]] {
        let setup = Setup::new();
        let before = setup.file();
        let (mut child, _fifo) = start_blocked(&setup, args);
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + 15), "{args:?}");
        no_plaintext_anywhere(&setup, "after SIGTERM");
        assert_eq!(setup.file(), before);
    }
}

// A vimrc that keeps undo files and backups would write the opened tokens to disk: sealctl tells
// vi, after the vimrc, to keep neither (and no swap file, no viminfo).
#[test]
fn vi_keeps_no_undo_file_or_backup_whatever_the_vimrc_says() {
    let setup = Setup::new();
    let home = setup.env.home();
    let (undo, backup) = (home.join("undo"), home.join("backup"));
    for dir in [&undo, &backup] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let vimrc = home.join("vimrc");
    std::fs::write(
        &vimrc,
        format!(
            "set undofile undodir={} backup writebackup backupdir={}\n",
            undo.display(),
            backup.display()
        ),
    )
    .unwrap();
    let editor = format!("vi -u {} -es", vimrc.display());
    // In memory, then in a private file (where vim would write its backup and undo file).
    for (args, from, to) in [
        (&[][..], OLD_TOKEN, NEW_TOKEN),
        (&["--private-file"][..], NEW_TOKEN, OLD_TOKEN),
    ] {
        let output = setup.edit(&editor, &format!("%s/{from}/{to}/\nwq\n"), args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert_eq!(setup.token("mgmt_token"), sha256(to), "{args:?}");
    }
    for dir in [&undo, &backup] {
        let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
        assert!(
            left.is_empty(),
            "{} holds {} files",
            dir.display(),
            left.len()
        );
    }
}
