//! Shell completions and manual pages: the bash script is loaded into a real bash and asked to
//! complete, profile names included; every shell's script is made; every manual page renders
//! with `man -l` without a warning.

use std::process::Command;

use crate::common::{TestEnv, command, succeeded};

const PROFILES: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"p.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"preview\"\n  product = \"clustered\"\n  host = \"v.example.com\"\n  port = \"443\"\n";

/// What bash's completion offers for `words`, the last one being completed.
fn complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let script = format!(
        "source <(\"$SEALCTL\" completions bash) || exit 3\n\
         complete -p sealctl >/dev/null || exit 4\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         COMP_TYPE=9\n\
         _clap_complete_sealctl sealctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = words
            .iter()
            .map(|word| format!("'{word}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = succeeded(
        command("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .env("HOME", env.home())
            .env("XDG_CONFIG_HOME", env.home().join(".config"))
            .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl")),
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn bash_completes_subcommands_flags_and_profile_names() {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", PROFILES);
    assert_eq!(complete(&env, &["sealctl", "pro"]), ["profile"]);
    assert_eq!(
        complete(&env, &["sealctl", "--profile", "p"]),
        ["prod", "preview"]
    );
    assert_eq!(
        complete(&env, &["sealctl", "exec", "--profile", "pre"]),
        ["preview"]
    );
    let shown = complete(&env, &["sealctl", "profile", "show", ""]);
    for name in ["default", "prod", "preview"] {
        assert!(shown.contains(&name.to_owned()), "{shown:?}");
    }
    let token = complete(&env, &["sealctl", "token", ""]);
    for verb in ["set", "get", "rm", "move"] {
        assert!(token.contains(&verb.to_owned()), "{token:?}");
    }
    assert!(
        complete(&env, &["sealctl", "token", "set", "--back"]).contains(&"--backend".to_owned())
    );
}

#[test]
fn every_shell_gets_a_script() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = env.sealctl().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(
            script.contains(env!("CARGO_BIN_EXE_sealctl")) && script.contains("COMPLETE"),
            "{shell}: {script}"
        );
    }
    env.sealctl().args(["completions", "tcsh"]).assert().code(2);
}

/// The manual pages `sealctl man` writes, sorted.
fn manual_pages(env: &TestEnv) -> Vec<std::path::PathBuf> {
    let out = env.home().join("man");
    env.sealctl()
        .args(["man", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut pages: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_manual_page_renders_without_warnings() {
    let env = TestEnv::new();
    let pages = manual_pages(&env);
    let names: Vec<String> = pages
        .iter()
        .map(|page| page.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "sealctl.1",
        "sealctl-init.1",
        "sealctl-exec.1",
        "sealctl-token-set.1",
        "sealctl-profile-rename.1",
        "sealctl-doctor.1",
    ] {
        assert!(names.contains(&expected.to_owned()), "{names:?}");
    }
    for page in &pages {
        let output = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man runs (apt-get install man-db groff-base)");
        assert!(output.status.success(), "{}", page.display());
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(warnings.trim().is_empty(), "{}: {warnings}", page.display());
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{}",
            page.display()
        );
    }
}

#[test]
fn every_subcommand_has_an_example_in_its_help() {
    let env = TestEnv::new();
    let mut missing = Vec::new();
    for page in manual_pages(&env) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let path: Vec<&str> = name.trim_end_matches(".1").split('-').skip(1).collect();
        let output = env.sealctl().args(&path).arg("--help").output().unwrap();
        assert!(output.status.success(), "{path:?}");
        if !String::from_utf8_lossy(&output.stdout).contains("Example") {
            missing.push(path.join(" "));
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "no example in the help of: {missing:?}");
}
