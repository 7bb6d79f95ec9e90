//! The profile file on disk: a symbolic link (a dotfiles setup) stays a link and its target is
//! what every writing command changes; a read-only file is written only with --force; and one size
//! limit holds for every command that reads a profile file, standard input included.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::common::{TestEnv, command, leaks, sha256};

const PLAIN: &str = "apiv3_LiNk7Qw2Er9Ty4Ui";
const NEW: &str = "apiv3_NeWLiNk3Zx8Cv1Bn";

fn file_text(token: &str) -> String {
    format!(
        "# my dotfiles\n[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"{token}\"\n\n\
         [[profile]]\n  name = \"other\"\n  product = \"clustered\"\n  host = \"o.example.com\"\n  port = \"443\"\n"
    )
}

/// How the default path reaches the file in `~/dotfiles`.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `config.toml -> ../../dotfiles/influx.toml`
    Relative,
    /// `config.toml -> /home/…/dotfiles/influx.toml`
    Absolute,
    /// `config.toml -> ../../dotfiles/current.toml -> influx/real.toml`
    Chain,
}

/// A HOME whose default profile file is a link into ~/dotfiles, with an identity; returns the
/// link and the file at its end.
fn linked(layout: Layout, text: &str) -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let link = env.home().join(".config/influxctl/config.toml");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    let target = match layout {
        Layout::Relative => {
            let target = env.write("dotfiles/influx.toml", text);
            std::os::unix::fs::symlink("../../dotfiles/influx.toml", &link).unwrap();
            target
        }
        Layout::Absolute => {
            let target = env.write("dotfiles/influx.toml", text);
            std::os::unix::fs::symlink(&target, &link).unwrap();
            target
        }
        Layout::Chain => {
            let target = env.write("dotfiles/influx/real.toml", text);
            std::os::unix::fs::symlink(
                "influx/real.toml",
                env.home().join("dotfiles/current.toml"),
            )
            .unwrap();
            std::os::unix::fs::symlink("../../dotfiles/current.toml", &link).unwrap();
            target
        }
    };
    (env, link, target)
}

/// The link is still the same link, its target a regular file, and no temporary file is left in
/// either folder.
fn assert_still_linked(link: &Path, target: &Path, what: &str) {
    let metadata = std::fs::symlink_metadata(link).unwrap();
    assert!(metadata.is_symlink(), "{what}: the link was replaced");
    assert!(
        std::fs::symlink_metadata(target).unwrap().is_file(),
        "{what}: the target is not a regular file"
    );
    for folder in [link.parent().unwrap(), target.parent().unwrap()] {
        for entry in std::fs::read_dir(folder).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains(".sealctl-"),
                "{what}: {name} was left behind"
            );
        }
    }
}

/// `sealctl check` of the default path: its exit status and output.
fn check_default(env: &TestEnv) -> (i32, String) {
    let output = env.sealctl().arg("check").output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn run(env: &TestEnv, args: &[&str], stdin: &str, what: &str) {
    let output = env
        .sealctl()
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// Regression: `seal --all` replaced a dotfiles link with a regular file and left the plaintext
// token in the link's target, and `check` of the default path then found nothing.
#[test]
fn seal_writes_through_links_and_check_sees_the_sealed_file() {
    for layout in [Layout::Relative, Layout::Absolute, Layout::Chain] {
        let what = format!("{layout:?}");
        let (env, link, target) = linked(layout, &file_text(PLAIN));
        let link_text = std::fs::read_link(&link).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        // Before: check of the default path sees the plaintext in the target.
        assert_eq!(check_default(&env).0, 1, "{what}");

        run(&env, &["seal", "--all"], "", &what);
        assert_still_linked(&link, &target, &what);
        assert_eq!(std::fs::read_link(&link).unwrap(), link_text, "{what}");
        let sealed = std::fs::read_to_string(&target).unwrap();
        assert!(
            !leaks(&sealed, PLAIN),
            "{what}: the plaintext is still in the target"
        );
        assert!(sealed.starts_with("# my dotfiles\n"), "{what}");
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o640,
            "{what}: the target's mode changed"
        );
        let (status, report) = check_default(&env);
        assert_eq!(status, 0, "{what}: {report}");
        // And the token still opens through the link.
        let got = env.sealctl().args(["token", "get"]).output().unwrap();
        assert_eq!(
            sha256(String::from_utf8_lossy(&got.stdout).trim()),
            sha256(PLAIN)
        );
    }
}

#[test]
fn every_writing_command_writes_through_a_link() {
    let (env, link, target) = linked(Layout::Relative, &file_text(PLAIN));
    let steps: &[(&[&str], &str)] = &[
        (&["seal", "--all"], ""),
        (&["token", "set"], NEW),
        (&["--profile", "other", "token", "set"], PLAIN),
        (&["rekey", "--all"], ""),
        (
            &[
                "profile",
                "add",
                "--name",
                "added",
                "--product",
                "clustered",
                "--host",
                "a.example.com",
            ],
            "",
        ),
        (&["profile", "rename", "added", "renamed"], ""),
        (&["profile", "rm", "renamed", "--yes"], ""),
        (
            &[
                "init",
                "--no-input",
                "--force",
                "--product",
                "clustered",
                "--host",
                "new.example.com",
                "--token-stdin",
            ],
            NEW,
        ),
        (
            &[
                "recipients",
                "add",
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            ],
            "",
        ),
        (&["--profile", "other", "token", "rm"], ""),
    ];
    for (args, stdin) in steps {
        let what = args.join(" ");
        let before = std::fs::read(&target).unwrap();
        run(&env, args, stdin, &what);
        assert_still_linked(&link, &target, &what);
        assert_ne!(
            std::fs::read(&target).unwrap(),
            before,
            "{what}: the target is unchanged"
        );
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(
            !leaks(&text, PLAIN) && !leaks(&text, NEW),
            "{what}: plaintext in the target"
        );
        let (status, report) = check_default(&env);
        assert_eq!(status, 0, "{what}: {report}");
    }
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("new.example.com")
    );

    // unseal writes the plaintext where the link points, so that check of the link finds it.
    run(&env, &["unseal", "--all", "--yes"], "", "unseal");
    assert_still_linked(&link, &target, "unseal");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(leaks(&text, NEW), "unseal did not write the target");
    let (status, report) = check_default(&env);
    assert_eq!(status, 1, "{report}");
    assert!(report.contains("plaintext-secret"), "{report}");
}

#[test]
fn init_through_a_dangling_link_makes_the_file_at_its_target() {
    let env = TestEnv::new();
    let link = env.home().join(".config/influxctl/config.toml");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("../../dotfiles/influx.toml", &link).unwrap();
    let target = env.home().join("dotfiles/influx.toml");

    // A command that needs the file says the link leads nowhere, and changes nothing.
    let output = env.sealctl().args(["seal", "--all"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("it is a link to"), "{stderr}");
    assert!(stderr.contains("which does not exist"), "{stderr}");
    assert!(!target.exists());

    run(
        &env,
        &[
            "init",
            "--no-input",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
            "--token-stdin",
        ],
        PLAIN,
        "init",
    );
    assert_still_linked(&link, &target, "init");
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(!leaks(&text, PLAIN));
    assert_eq!(check_default(&env).0, 0);
}

#[test]
fn a_loop_of_links_is_refused_clearly_and_nothing_is_written() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let folder = env.home().join(".config/influxctl");
    std::fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink("loop.toml", folder.join("config.toml")).unwrap();
    std::os::unix::fs::symlink("config.toml", folder.join("loop.toml")).unwrap();
    for args in [
        vec!["seal", "--all"],
        vec!["token", "set"],
        vec![
            "init",
            "--no-input",
            "--product",
            "clustered",
            "--host",
            "h.example.com",
            "--token-stdin",
        ],
    ] {
        let output = env
            .sealctl()
            .args(&args)
            .write_stdin(PLAIN)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("loop"), "{args:?}: {stderr}");
        assert!(!leaks(&stderr, PLAIN));
        let mut names: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["config.toml", "loop.toml"], "{args:?}");
        assert!(
            std::fs::symlink_metadata(folder.join("config.toml"))
                .unwrap()
                .is_symlink()
        );
    }
}

/// One run of each writing command on a read-only file, and whether it needs stdin.
fn writing_commands() -> Vec<(Vec<&'static str>, &'static str)> {
    vec![
        (vec!["seal", "--all"], ""),
        (vec!["token", "set"], NEW),
        (vec!["token", "rm"], ""),
        (
            vec![
                "recipients",
                "add",
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            ],
            "",
        ),
        (
            vec![
                "profile",
                "add",
                "--name",
                "added",
                "--product",
                "clustered",
                "--host",
                "a.example.com",
            ],
            "",
        ),
        (vec!["profile", "rename", "other", "renamed"], ""),
        (vec!["profile", "rm", "other", "--yes"], ""),
        (
            vec![
                "init",
                "--no-input",
                "--name",
                "fresh",
                "--product",
                "clustered",
                "--host",
                "n.example.com",
                "--token-stdin",
            ],
            NEW,
        ),
    ]
}

// Regression: a read-only (0444) file was overwritten silently.
#[test]
fn a_read_only_file_is_written_only_with_force_and_keeps_its_mode() {
    for (args, stdin) in writing_commands() {
        let what = args.join(" ");
        let env = TestEnv::new();
        env.sealctl().args(["identity", "new"]).assert().success();
        let file = env.write(".config/influxctl/config.toml", file_text(PLAIN));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        let before = std::fs::read(&file).unwrap();

        let output = env
            .sealctl()
            .args(&args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains("is read-only (mode 0444)"),
            "{what}: {stderr}"
        );
        assert!(stderr.contains("--force"), "{what}: {stderr}");
        // Nothing was done, and nothing is said to have been.
        assert!(
            !stderr.contains("recorded") && !stderr.contains("sealed"),
            "{what}: {stderr}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{what}: the file changed"
        );

        let mut forced = args.clone();
        forced.push("--force");
        run(&env, &forced, stdin, &what);
        assert_ne!(
            std::fs::read(&file).unwrap(),
            before,
            "{what} --force wrote nothing"
        );
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o444,
            "{what} --force: the mode changed"
        );
    }
}

#[test]
fn a_read_only_link_target_is_refused_too() {
    let (env, link, target) = linked(Layout::Chain, &file_text(PLAIN));
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o400)).unwrap();
    let before = std::fs::read(&target).unwrap();
    let output = env.sealctl().args(["seal", "--all"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("read-only (mode 0400)"));
    assert_eq!(std::fs::read(&target).unwrap(), before);
    run(&env, &["seal", "--all", "--force"], "", "seal --force");
    assert_still_linked(&link, &target, "seal --force");
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o400
    );
    assert_eq!(check_default(&env).0, 0);
}

// Regression: in a read-only folder, "recorded the recipients …" was printed before "cannot
// write (the file is unchanged)".
#[test]
fn nothing_is_reported_done_before_the_file_is_saved() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let folder = env.home().join("mnt");
    std::fs::create_dir_all(&folder).unwrap();
    let source = env.write("source.toml", file_text(PLAIN));
    let probe = command("unshare").args(["-rm", "true"]).output();
    if !probe.is_ok_and(|output| output.status.success()) {
        eprintln!("skipped: no user namespaces here (unshare -rm)");
        return;
    }
    for args in ["seal --all", "token set", "--profile other token set"] {
        let script = format!(
            "mount -t tmpfs -o size=1m tmpfs '{mnt}'; cp '{src}' '{mnt}/config.toml'; mount -o remount,ro '{mnt}'\n\
             set +e\n\
             printf %s {NEW} | \"$SEALCTL\" --config '{mnt}/config.toml' {args}\n\
             echo \"status $?\" >&2\n\
             cmp -s '{src}' '{mnt}/config.toml' && echo unchanged >&2\n",
            mnt = folder.display(),
            src = source.display(),
        );
        let output = command("unshare")
            .args(["-rm", "sh", "-euc", &script])
            .env("HOME", env.home())
            .env("XDG_CONFIG_HOME", env.home().join(".config"))
            .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("status 2"), "{args}: {stderr}");
        assert!(stderr.contains("unchanged"), "{args}: {stderr}");
        assert!(stderr.contains("error: cannot write"), "{args}: {stderr}");
        for claim in ["recorded", "sealed", "kept in"] {
            assert!(!stderr.contains(claim), "{args}: said `{claim}`: {stderr}");
        }
    }
}

/// A sparse file of 1 GiB: no disk, but a reader that read it whole would need 1 GiB of memory.
fn huge_file(env: &TestEnv) -> PathBuf {
    let path = env.home().join(".config/influxctl/config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(&path)
        .unwrap()
        .set_len(1024 * 1024 * 1024)
        .unwrap();
    path
}

const TOO_LARGE: &str = "too large to be a profile file (sealctl reads profile files up to 10 MiB)";

// Regression: `exec` of a 1 GB config used 2 GB of memory; only `check` had a limit.
#[test]
fn every_command_refuses_a_huge_file_without_reading_it() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    huge_file(&env);
    for args in [
        "check",
        "exec -- true",
        "token get",
        "seal --all",
        "token set",
        "profile list",
        "profile show default",
        "profile rm default --yes",
        "profile rename default prod",
        "recipients list",
        "rekey --all",
        "unseal --all --yes",
        "init --no-input --force --product clustered --host h.example.com --token-stdin",
    ] {
        // 256 MiB of address space: a command that read the file whole would fail to allocate
        // rather than give the message.
        let script = format!("ulimit -v 262144; exec \"$SEALCTL\" {args}");
        let output = command("sh")
            .args(["-c", &script])
            .env("HOME", env.home())
            .env("XDG_CONFIG_HOME", env.home().join(".config"))
            .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
            .current_dir(env.home())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args}: {stderr}");
        assert!(stderr.contains("it is 1.0 GiB, "), "{args}: {stderr}");
        assert!(stderr.contains(TOO_LARGE), "{args}: {stderr}");
    }
    // doctor reports it as a failed check, with the same words.
    let output = env.sealctl().arg("doctor").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(TOO_LARGE), "{stdout}");
}

#[test]
fn standard_input_has_the_same_limit() {
    let env = TestEnv::new();
    let big = format!(
        "[[profile]]\nname = \"default\"\nproduct = \"clustered\"\nhost = \"h.example.com\"\nport = \"443\"\n{}",
        "# padding padding padding padding padding padding padding padding\n".repeat(170_000)
    );
    assert!(big.len() > 10 * 1024 * 1024);
    // `check -`, and a profile file given as /dev/stdin (a pipe) to commands that read one.
    for args in [
        vec!["check", "-"],
        vec!["--config", "/dev/stdin", "exec", "--", "true"],
        vec!["--config", "/dev/stdin", "profile", "list"],
    ] {
        let output = env
            .sealctl()
            .args(&args)
            .write_stdin(big.clone())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("it is over 10 MiB, "), "{args:?}: {stderr}");
        assert!(stderr.contains(TOO_LARGE), "{args:?}: {stderr}");
    }
    // Just under the limit is read.
    let small = big[..10 * 1024 * 1024]
        .rsplit_once('\n')
        .unwrap()
        .0
        .to_owned()
        + "\n";
    let output = env
        .sealctl()
        .args(["check", "-"])
        .write_stdin(small)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

// A hard link cannot be written through: a new file would leave the plaintext under the other
// name while `check` of this one found it sealed.
#[test]
fn a_file_with_hard_links_is_refused_and_left_unchanged() {
    let env = TestEnv::new();
    env.sealctl().args(["identity", "new"]).assert().success();
    let other = env.write("dotfiles/influx.toml", file_text(PLAIN));
    let config = env.home().join(".config/influxctl/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::hard_link(&other, &config).unwrap();
    let before = std::fs::read(&other).unwrap();
    for args in [
        vec!["seal", "--all"],
        vec!["seal", "--all", "--force"],
        vec!["token", "set"],
    ] {
        let output = env.sealctl().args(&args).write_stdin(NEW).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("has 2 names (hard links)"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("ln -sf"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read(&other).unwrap(), before);
        assert_eq!(std::fs::read(&config).unwrap(), before);
    }
}
