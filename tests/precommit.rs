//! The hook in `.pre-commit-hooks.yaml`, run by the real `pre-commit` framework on a scratch git
//! repository, as a team would use it: a commit of a plaintext token is refused, a clean one passes.
//!
//! Slow (pre-commit builds sealctl with `cargo install`), so it needs `pre-commit` on PATH;
//! `.ci/install-deps` installs it. SEALCTL_SKIP_PRE_COMMIT=1 skips it, saying so.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::leaks;

const TOKEN: &str = "apiv3_PRECOMMIT-9fX2kLm4Qz7Wb1";

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "sealctl test")
        .env("GIT_AUTHOR_EMAIL", "test@sealctl.invalid")
        .env("GIT_COMMITTER_NAME", "sealctl test")
        .env("GIT_COMMITTER_EMAIL", "test@sealctl.invalid");
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"))
}

fn ok(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A git repository holding this working tree as one commit, as a hook repository must be.
fn hook_repository(into: &Path) -> String {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = ok(
        run(
            source,
            "git",
            &[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            &[],
        ),
        "git ls-files",
    );
    for name in files
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
    {
        let name = std::str::from_utf8(name).unwrap();
        let from = source.join(name);
        if from.is_file() {
            let to = into.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    ok(
        run(into, "git", &["init", "-q", "-b", "main"], &[]),
        "git init",
    );
    ok(run(into, "git", &["add", "-A"], &[]), "git add");
    ok(
        run(into, "git", &["commit", "-qm", "hook"], &[]),
        "git commit",
    );
    let head = ok(
        run(into, "git", &["rev-parse", "HEAD"], &[]),
        "git rev-parse",
    );
    String::from_utf8(head.stdout).unwrap().trim().to_owned()
}

#[test]
fn pre_commit_refuses_plaintext_tokens_in_every_toml_file_and_passes_other_toml() {
    if std::env::var_os("SEALCTL_SKIP_PRE_COMMIT").is_some() {
        eprintln!("skipped: SEALCTL_SKIP_PRE_COMMIT is set");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let hooks = scratch.path().join("sealctl");
    let project = scratch.path().join("project");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let rev = hook_repository(&hooks);

    // pre-commit's cache in the scratch folder; cargo's build beside this crate's, so that a
    // second local run does not build sealctl again.
    let cache = scratch.path().join("pre-commit-cache");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-hook-build");
    let env: &[(&str, &Path)] = &[("PRE_COMMIT_HOME", &cache), ("CARGO_TARGET_DIR", &target)];

    ok(
        run(&project, "git", &["init", "-q", "-b", "main"], env),
        "git init",
    );
    std::fs::write(
        project.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: sealctl-check\n",
            hooks.display()
        ),
    )
    .unwrap();
    ok(
        run(&project, "pre-commit", &["install"], env),
        "pre-commit install",
    );

    let profile = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"cluster.example.com\"\n  port = \"443\"\n";
    // Where people keep profile files, under the names they give them; each with a plaintext
    // token, one of them spelled as influxctl also reads it.
    let committed = [
        ("config.toml", "mgmt_token"),
        ("deploy/profiles/prod.toml", "mgmt_token"),
        ("deploy/influxctl/prod/config.toml", "token"),
        ("InfluxCTL.toml", "MGMT_TOKEN"),
    ];
    for (path, key) in committed {
        let path = project.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("{profile}  {key} = \"{TOKEN}\"\n")).unwrap();
    }
    // TOML files that are plainly not profile files pass quietly beside them.
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[profile.release]\nlto = true\n",
    )
    .unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.ruff]\nline-length = 100\n",
    )
    .unwrap();
    ok(run(&project, "git", &["add", "-A"], env), "git add");
    let refused = run(&project, "git", &["commit", "-m", "add profiles"], env);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        !refused.status.success(),
        "the commit went through:\n{output}"
    );
    for (path, _) in committed {
        assert!(
            output.contains(&format!("{path}:6:3")),
            "{path} was not reported:\n{output}"
        );
    }
    assert_eq!(
        output.matches("error[plaintext-secret]").count(),
        4,
        "{output}"
    );
    assert!(!output.contains("Cargo.toml"), "{output}");
    assert!(!output.contains("pyproject.toml"), "{output}");
    assert!(!leaks(&output, TOKEN), "the hook's output shows the token");

    // `pre-commit run --all-files` (as CI runs it) fails on the same files.
    let all = run(&project, "pre-commit", &["run", "--all-files"], env);
    assert!(!all.status.success(), "pre-commit run --all-files passed");

    // A file that looks like a profile file and is broken still fails.
    for (path, _) in committed {
        std::fs::write(project.join(path), profile).unwrap();
    }
    std::fs::write(
        project.join("deploy/profiles/prod.toml"),
        "[[profile]]\n  name = \"prod\"\n  product = \"clustered\n",
    )
    .unwrap();
    ok(run(&project, "git", &["add", "-A"], env), "git add");
    let broken = run(&project, "git", &["commit", "-m", "add profiles"], env);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&broken.stdout),
        String::from_utf8_lossy(&broken.stderr)
    );
    assert!(
        !broken.status.success(),
        "a broken profile file went through"
    );
    assert!(output.contains("deploy/profiles/prod.toml:3:"), "{output}");

    std::fs::write(project.join("deploy/profiles/prod.toml"), profile).unwrap();
    ok(run(&project, "git", &["add", "-A"], env), "git add");
    ok(
        run(&project, "git", &["commit", "-m", "add profiles"], env),
        "the clean commit, beside Cargo.toml and pyproject.toml",
    );
}
