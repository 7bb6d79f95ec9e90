//! Shell completions and manual pages: the bash, zsh and fish scripts are loaded into the real
//! shells and asked to complete, profile names (from the file on the line) and keyring stores
//! included; every shell's script is made; every manual page renders with `man -l` and passes
//! `mandoc -T lint` without a warning.

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
            .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = succeeded(
        command("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .env("HOME", env.home())
            .env("XDG_CONFIG_HOME", env.home().join(".config"))
            .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
            .current_dir(env.home()),
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
            script.contains(env!("CARGO_BIN_EXE_sealctl")) && script.contains("SEALCTL_COMPLETE"),
            "{shell}: {script}"
        );
        // No bare `COMPLETE=…` / `$env:COMPLETE` left: only sealctl's own variable asks.
        let bare = script
            .replace("SEALCTL_COMPLETE", "")
            .replace("_CLAP_COMPLETE", "");
        assert!(!bare.contains("COMPLETE"), "{shell}: {script}");
    }
    env.sealctl().args(["completions", "tcsh"]).assert().code(2);
}

/// Regression: clap's generic `COMPLETE` variable turned `sealctl check` into "print a completion
/// script, exit 0", so a CI job with it set passed without checking anything.
#[test]
fn only_sealctls_own_variable_turns_a_run_into_a_completion_request() {
    let env = TestEnv::new();
    let broken = env.write(
        "broken.toml",
        "[[profile]]\n  name = \"prod\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n  mgmt_token = \"apiv1_0123456789abcdefghijklmnop\"\n",
    );
    for shell in ["bash", "zsh", "fish", "powershell", "elvish", "nonsense"] {
        let output = env
            .sealctl()
            .env("COMPLETE", shell)
            .arg("check")
            .arg(&broken)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "COMPLETE={shell}: {stdout}");
        assert!(
            stdout.contains("plaintext-secret"),
            "COMPLETE={shell}: {stdout}"
        );
        let version = env
            .sealctl()
            .env("COMPLETE", shell)
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            format!("sealctl {}", env!("CARGO_PKG_VERSION")),
            "COMPLETE={shell}"
        );
    }
    // The variable the scripts set is the one that asks.
    let output = env
        .sealctl()
        .env("SEALCTL_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "1")
        .args(["--", "sealctl", "che"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "check");
}

const WITH_A_SPACE: &str = "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"my prod\"\n  product = \"clustered\"\n  host = \"p.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"it's $HOME\"\n  product = \"clustered\"\n  host = \"q.example.com\"\n  port = \"443\"\n";

const OTHER: &str = "[[profile]]\n  name = \"other\"\n  product = \"clustered\"\n  host = \"o.example.com\"\n  port = \"443\"\n\n[[profile]]\n  name = \"other two\"\n  product = \"clustered\"\n  host = \"t.example.com\"\n  port = \"443\"\n";

/// What bash puts on the line when its completion offers exactly one candidate: the line up to
/// the word, then the candidate, read back as the shell reads it.
fn bash_inserts(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let offered = complete(env, words);
    assert_eq!(offered.len(), 1, "{words:?}: {offered:?}");
    let line = format!("printf '%s\\n' {}", offered[0]);
    let output = succeeded(command("bash").args(["--norc", "--noprofile", "-c", &line]));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_inserts_profile_names_quoted() {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", WITH_A_SPACE);
    // One argument, `my prod`, not two.
    assert_eq!(
        bash_inserts(&env, &["sealctl", "--profile", "my"]),
        ["my prod"]
    );
    assert_eq!(
        complete(&env, &["sealctl", "--profile", "my"]),
        [r"my\ prod"]
    );
    // Already typed with a backslash or in quotes, the rest still completes.
    assert_eq!(
        bash_inserts(&env, &["sealctl", "exec", "--profile", r"my\ p"]),
        ["my prod"]
    );
    assert_eq!(
        bash_inserts(&env, &["sealctl", "profile", "show", "'my p"]),
        ["my prod"]
    );
    // Quotes and `$` in a name are kept as they are, not expanded.
    assert_eq!(
        bash_inserts(&env, &["sealctl", "profile", "rm", "it"]),
        ["it's $HOME"]
    );
}

#[test]
fn profile_names_come_from_the_file_named_on_the_line() {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", PROFILES);
    env.write("other.toml", OTHER);
    env.write("a folder/other.toml", OTHER);
    let from_other = ["other", r"other\ two"];
    // The test's bash runs in HOME, where other.toml is.
    for words in [
        &["sealctl", "--config", "other.toml", "--profile", ""][..],
        &["sealctl", "exec", "--config", "other.toml", "--profile", ""],
        &["sealctl", "--config", "other.toml", "profile", "show", "o"],
        // bash splits `--config=other.toml` at the `=`.
        &["sealctl", "--config", "=", "other.toml", "--profile", ""],
        &["sealctl", "--config=other.toml", "--profile", ""],
        &[
            "sealctl",
            "--config",
            r"a\ folder/other.toml",
            "--profile",
            "",
        ],
        &[
            "sealctl",
            "--config",
            "'a folder/other.toml'",
            "--profile",
            "",
        ],
        &[
            "sealctl",
            "--config",
            "\"a folder\"/other.toml",
            "token",
            "set",
            "--profile",
            "",
        ],
        &["sealctl", "--config", "~/other.toml", "--profile", ""],
    ] {
        assert_eq!(complete(&env, words), from_other, "{words:?}");
    }
    // The last --config wins, as it does when the command runs.
    assert_eq!(
        complete(
            &env,
            &[
                "sealctl",
                "--config",
                "nowhere.toml",
                "--config",
                "other.toml",
                "--profile",
                "other\\ "
            ]
        ),
        [r"other\ two"]
    );
    // Without one, the default file.
    assert_eq!(
        complete(&env, &["sealctl", "exec", "--profile", "p"]),
        ["prod", "preview"]
    );
    // A file that cannot be read offers nothing rather than the default file's names.
    assert!(
        complete(
            &env,
            &["sealctl", "--config", "missing.toml", "--profile", ""]
        )
        .is_empty()
    );
}

#[test]
fn keyring_store_completes_the_store_names() {
    let env = TestEnv::new();
    let all = [
        "secret-service",
        "keyutils",
        "keychain",
        "credential-manager",
    ];
    assert_eq!(
        complete(&env, &["sealctl", "token", "set", "--keyring-store", ""]),
        all
    );
    assert_eq!(
        complete(&env, &["sealctl", "init", "--keyring-store", "k"]),
        ["keyutils", "keychain"]
    );
    assert_eq!(
        complete(
            &env,
            &[
                "sealctl",
                "token",
                "move",
                "--to",
                "keyring",
                "--keyring-store",
                "s"
            ]
        ),
        ["secret-service"]
    );
}

#[test]
fn exec_preset_completes_the_preset_names() {
    let env = TestEnv::new();
    assert_eq!(
        complete(&env, &["sealctl", "exec", "--preset", "influxdb"]),
        ["influxdb-mcp", "influxdb3", "influxdb-client"]
    );
    assert_eq!(
        complete(&env, &["sealctl", "exec", "--preset", "l"]),
        ["list"]
    );
}

/// The real fish, loading the script `sealctl completions fish` prints.
#[test]
fn fish_completes_through_the_printed_script() {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", WITH_A_SPACE);
    env.write("other.toml", OTHER);
    let fish = |line: &str| -> Vec<String> {
        let script = format!(
            "\"$SEALCTL\" completions fish | source; or exit 3\ncomplete --do-complete '{line}'"
        );
        let output = succeeded(
            command("fish")
                .args(["--no-config", "-c", &script])
                .env("HOME", env.home())
                .env("XDG_CONFIG_HOME", env.home().join(".config"))
                .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
                .current_dir(env.home()),
        );
        String::from_utf8(output.stdout)
            .expect("fish runs (apt-get install fish)")
            .lines()
            .map(|line| line.split('\t').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(fish("sealctl pro"), ["profile"]);
    assert_eq!(fish("sealctl --profile my"), ["my prod"]);
    assert_eq!(
        fish("sealctl --config other.toml exec --profile "),
        ["other", "other two"]
    );
    assert_eq!(
        fish("sealctl token set --keyring-store key"),
        ["keyutils", "keychain"]
    );
}

/// The real zsh, loading the script `sealctl completions zsh` prints; `_describe` (what hands the
/// candidates to zsh's line editor, which needs a terminal) is replaced by one that lists them.
#[test]
fn zsh_completes_through_the_printed_script() {
    let env = TestEnv::new();
    env.write(".config/influxctl/config.toml", WITH_A_SPACE);
    env.write("a folder/other.toml", OTHER);
    let zsh = |words: &str| -> Vec<String> {
        let script = format!(
            "autoload -U compinit && compinit -u -d \"$HOME/.zcompdump\"\n\
             source <(\"$SEALCTL\" completions zsh) || exit 3\n\
             [[ $_comps[sealctl] == _clap_dynamic_completer_sealctl ]] || exit 4\n\
             _describe() {{ print -rl -- \"${{(@P)3}}\" }}\n\
             words=({words})\n\
             CURRENT=${{#words}}\n\
             _clap_dynamic_completer_sealctl\n"
        );
        let output = succeeded(
            command("zsh")
                .args(["-f", "-c", &script])
                .env("HOME", env.home())
                .env("XDG_CONFIG_HOME", env.home().join(".config"))
                .env("SEALCTL", env!("CARGO_BIN_EXE_sealctl"))
                .current_dir(env.home()),
        );
        String::from_utf8(output.stdout)
            .expect("zsh runs (apt-get install zsh)")
            .lines()
            .map(|line| line.split(':').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(zsh("sealctl pro"), ["profile"]);
    assert_eq!(zsh("sealctl --profile my"), ["my prod"]);
    // zsh's `words` keep the quotes as typed.
    assert_eq!(
        zsh(r#"sealctl --config "'a folder/other.toml'" --profile ''"#),
        ["other", "other two"]
    );
    assert_eq!(
        zsh("sealctl token set --keyring-store key"),
        ["keyutils", "keychain"]
    );
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

/// A page as `man -l` shows it, `width` columns wide.
fn rendered(page: &std::path::Path, width: u32) -> String {
    let output = Command::new("man")
        .args(["-l"])
        .arg(page)
        .env("MANWIDTH", width.to_string())
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man runs (apt-get install man-db groff-base)");
    assert!(output.status.success(), "{}", page.display());
    String::from_utf8(output.stdout).unwrap()
}

/// Regression: clap_mangen's pages gave `mandoc -T lint` 114 warnings (`br before sp`, dates it
/// could not parse, trailing whitespace, long lines).
#[test]
fn every_manual_page_passes_mandoc_lint() {
    let env = TestEnv::new();
    for page in manual_pages(&env) {
        let output = Command::new("mandoc")
            .args(["-T", "lint", "-W", "all"])
            .arg(&page)
            .output()
            .expect("mandoc runs (apt-get install mandoc)");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success() && said.trim().is_empty(),
            "{}: {said}",
            page.display()
        );
    }
}

/// Regression: footers read `check 0.1.0`, the synopsis `[--config]`, and the examples were
/// refilled into one paragraph.
#[test]
fn manual_pages_name_sealctl_show_value_names_and_keep_examples_as_written() {
    let env = TestEnv::new();
    let footer = format!("sealctl {}", env!("CARGO_PKG_VERSION"));
    for page in manual_pages(&env) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        // Wide enough that no synopsis wraps.
        let wide = rendered(&page, 400);
        let last = wide
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap();
        assert!(last.trim_start().starts_with(&footer), "{name}: {last}");
        let synopsis = wide
            .split("SYNOPSIS")
            .nth(1)
            .and_then(|rest| rest.split("DESCRIPTION").next())
            .unwrap();
        for flag in [
            "[--config <FILE>]",
            "[--profile <NAME>]",
            "[-i|--identity <FILE>]...",
        ] {
            assert!(synopsis.contains(flag), "{name}: {synopsis}");
        }
        // Every line after `Example` in --help is a line of the page, as written.
        let command = command_of(&env, &name);
        // Wide enough that clap wraps none of it either.
        let help = env
            .sealctl()
            .env("COLUMNS", "500")
            .args(&command)
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        let narrow = rendered(&page, 80);
        let page_lines: Vec<&str> = narrow.lines().map(str::trim).collect();
        let examples = help
            .lines()
            .skip_while(|line| !line.starts_with("Example"))
            .skip(1)
            .map(str::trim)
            .filter(|line| !line.is_empty());
        let mut seen = 0;
        for line in examples {
            assert!(
                page_lines.contains(&line),
                "{name}: `{line}` not in\n{page_lines:#?}"
            );
            seen += 1;
        }
        assert!(seen > 0, "{name}: no examples");
    }
    let token_set = env.home().join("man/sealctl-token-set.1");
    assert!(rendered(&token_set, 400).contains("[--keyring-store <STORE>]"));
}

#[test]
fn manual_pages_are_dated_source_date_epoch_when_set() {
    let env = TestEnv::new();
    let out = env.home().join("dated");
    env.sealctl()
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(["man", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = rendered(&out.join("sealctl.1"), 80);
    assert!(text.contains("2026-01-01"), "{text}");
}

/// The subcommand a manual page is for: `sealctl-git-diff-text.1` is `git diff-text`, since a
/// subcommand's own name may hold a `-` too (`git diff` is not one, `git diff-text` is).
fn command_of(env: &TestEnv, page: &str) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut pending = String::new();
    for part in page.trim_end_matches(".1").split('-').skip(1) {
        let candidate = match pending.is_empty() {
            true => part.to_owned(),
            false => format!("{pending}-{part}"),
        };
        let known = env
            .sealctl()
            .args(&path)
            .arg(&candidate)
            .arg("--help")
            .output()
            .unwrap()
            .status
            .success();
        if known {
            path.push(candidate);
            pending.clear();
        } else {
            pending = candidate;
        }
    }
    assert!(pending.is_empty(), "{page}: no subcommand `{pending}`");
    path
}

#[test]
fn every_subcommand_has_an_example_in_its_help() {
    let env = TestEnv::new();
    let mut missing = Vec::new();
    for page in manual_pages(&env) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let path = command_of(&env, &name);
        let output = env.sealctl().args(&path).arg("--help").output().unwrap();
        assert!(output.status.success(), "{path:?}");
        if !String::from_utf8_lossy(&output.stdout).contains("Example") {
            missing.push(path.join(" "));
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "no example in the help of: {missing:?}");
}
