//! `sealctl git setup`, and whether a repository has it, for `doctor`.
//!
//! The git config names sealctl by the absolute path of the running binary, not `sealctl` on
//! PATH: git runs textconv and merge drivers from editors, GUIs and hooks whose PATH often lacks
//! the folder sealctl was installed to, and a driver that cannot be found makes git fail or, for
//! textconv, show nothing. The config is per machine (never committed), so a machine's own path
//! is right there; `doctor` says when the path no longer exists (sealctl moved or was upgraded
//! to another folder), and running setup again fixes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{CommandError, Status};
use crate::ui::shell_quote;

/// The files sealctl diffs and merges unless told otherwise: influxctl's own file name, and the
/// name a repository holding several profile files gives them.
pub const DEFAULT_PATTERNS: &[&str] = &["config.toml", "*.sealctl.toml"];

/// What a pattern's line in the attributes file says.
const ATTRIBUTES: &str = "diff=sealctl merge=sealctl";

fn git(args: &[&str], cwd: Option<&Path>) -> Option<Output> {
    let mut command = Command::new("git");
    command.args(args);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.output().ok()
}

fn stdout_line(output: &Output) -> Option<String> {
    let text = String::from_utf8(output.stdout.clone()).ok()?;
    let line = text.trim_end_matches(['\n', '\r']);
    (output.status.success() && !line.is_empty()).then(|| line.to_owned())
}

/// The top folder of the repository the current folder is in.
fn repository() -> Option<PathBuf> {
    stdout_line(&git(&["rev-parse", "--show-toplevel"], None)?).map(PathBuf::from)
}

/// The git config lines setup writes, for this binary.
fn config_lines() -> Result<Vec<(&'static str, String)>, CommandError> {
    let exe = std::env::current_exe()
        .and_then(|path| path.canonicalize())
        .map_err(|error| CommandError::setup("cannot find where sealctl is").source(error))?;
    let exe = exe
        .to_str()
        .ok_or_else(|| CommandError::setup("the path of sealctl is not UTF-8"))?;
    let program = shell_quote(exe);
    Ok(vec![
        ("diff.sealctl.textconv", format!("{program} git diff-text")),
        (
            "merge.sealctl.driver",
            format!("{program} git merge --marker-size %L %O %A %B %P"),
        ),
        (
            "merge.sealctl.name",
            "sealctl: sealed profile files, per profile and key".to_owned(),
        ),
    ])
}

/// The attributes file: the repository's `.gitattributes`, or the user's global one.
fn attributes_file(global: bool, repository: Option<&Path>) -> Result<PathBuf, CommandError> {
    if !global {
        let root = repository.expect("a repository when not global");
        return Ok(root.join(".gitattributes"));
    }
    if let Some(configured) = git(
        &["config", "--global", "--get", "core.attributesFile"],
        None,
    )
    .as_ref()
    .and_then(stdout_line)
    {
        return Ok(match configured.strip_prefix("~/") {
            Some(rest) => home()?.join(rest),
            None => PathBuf::from(configured),
        });
    }
    // git's default: $XDG_CONFIG_HOME/git/attributes, else ~/.config/git/attributes.
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home()?.join(".config"),
    };
    Ok(config.join("git").join("attributes"))
}

fn home() -> Result<PathBuf, CommandError> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CommandError::setup("HOME is not set: cannot find your git attributes file"))
}

/// Writes what is missing of the attributes lines and the git config; changes nothing that is
/// already so.
pub fn setup(global: bool, patterns: &[String]) -> Result<Status, CommandError> {
    let repository = repository();
    if !global && repository.is_none() {
        return Err(CommandError::setup("not in a git repository")
            .hint("run it inside the repository that holds the profile file, or pass --global"));
    }
    let patterns: Vec<&str> = if patterns.is_empty() {
        DEFAULT_PATTERNS.to_vec()
    } else {
        patterns.iter().map(String::as_str).collect()
    };
    if let Some(bad) = patterns
        .iter()
        .find(|pattern| pattern.is_empty() || pattern.contains(char::is_whitespace))
    {
        return Err(CommandError::setup(format!(
            "`{bad}` cannot be a .gitattributes pattern here: it is empty or holds a space"
        )));
    }

    let file = attributes_file(global, repository.as_deref())?;
    let existing = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(
                CommandError::setup(format!("cannot read {}", file.display())).source(error),
            );
        }
    };
    let wanted: Vec<String> = patterns
        .iter()
        .map(|pattern| format!("{pattern} {ATTRIBUTES}"))
        .collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|line| !existing.lines().any(|have| have.trim() == line.as_str()))
        .collect();
    if missing.is_empty() {
        note!("{} already has the lines", file.display());
    } else {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &missing {
            text.push_str(line);
            text.push('\n');
        }
        if let Some(folder) = file.parent() {
            std::fs::create_dir_all(folder).map_err(|error| {
                CommandError::setup(format!("cannot create {}", folder.display())).source(error)
            })?;
        }
        std::fs::write(&file, text).map_err(|error| {
            CommandError::setup(format!("cannot write {}", file.display())).source(error)
        })?;
        note!(
            "added {} to {}",
            crate::ui::plural(missing.len(), "line"),
            file.display()
        );
    }

    let scope = if global { "--global" } else { "--local" };
    let mut changed = 0;
    for (key, value) in config_lines()? {
        let now = git(&["config", scope, "--get", key], None)
            .as_ref()
            .and_then(stdout_line);
        if now.as_deref() == Some(value.as_str()) {
            continue;
        }
        let set = git(&["config", scope, key, &value], None);
        if !set.as_ref().is_some_and(|output| output.status.success()) {
            let said = set
                .map(|output| String::from_utf8_lossy(&output.stderr).trim().to_owned())
                .unwrap_or_else(|| "git could not be run".to_owned());
            return Err(CommandError::setup(format!(
                "cannot set {key} in git config: {said}"
            )));
        }
        changed += 1;
    }
    let which = if global {
        "your global git config"
    } else {
        "this repository's git config"
    };
    if changed == 0 {
        note!("{which} already has the sealctl diff and merge driver");
    } else {
        note!("set the sealctl diff and merge driver in {which}");
    }
    Ok(Status::Success)
}

/// Whether a repository uses sealctl for its profile files, for `doctor`.
#[derive(Debug)]
pub struct Repository {
    /// Whether it is set up and works.
    pub ready: bool,
    /// What is so, or what is wrong.
    pub text: String,
    /// Whether the profile file is in this repository (then a missing setup matters).
    pub holds_config: bool,
}

/// `None` outside a git repository (or without git). `config` is the profile file, whose
/// attributes are asked for when it is in the repository.
pub fn repository_status(config: Option<&Path>) -> Option<Repository> {
    let root = repository()?;
    let get = |key: &str| {
        git(&["config", "--get", key], None)
            .as_ref()
            .and_then(stdout_line)
    };
    let (textconv, driver) = (get("diff.sealctl.textconv"), get("merge.sealctl.driver"));
    let inside = config
        .and_then(|path| path.canonicalize().ok())
        .filter(|path| root.canonicalize().is_ok_and(|root| path.starts_with(root)));
    let holds_config = inside.is_some();
    let probe = inside.unwrap_or_else(|| root.join("config.toml"));
    let missing = |text: String| {
        Some(Repository {
            ready: false,
            text,
            holds_config,
        })
    };
    let probe = probe.to_string_lossy().into_owned();
    let attributes = git(&["check-attr", "diff", "merge", "--", &probe], None)
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    let shown = Path::new(&probe)
        .strip_prefix(&root)
        .map(|path| path.display().to_string())
        .unwrap_or(probe.clone());
    let (Some(textconv), Some(driver)) = (textconv, driver) else {
        return missing(
            "this repository does not diff and merge profile files with sealctl".to_owned(),
        );
    };
    if !(attributes.contains("diff: sealctl") && attributes.contains("merge: sealctl")) {
        return missing(format!(
            "the git config has the sealctl driver, but .gitattributes does not give it to {shown}"
        ));
    }
    for command in [&textconv, &driver] {
        let program = program_of(command);
        if program.starts_with('/') && !Path::new(&program).exists() {
            return missing(format!(
                "the git config names {program}, which no longer exists"
            ));
        }
    }
    Some(Repository {
        ready: true,
        text: format!("{shown} is diffed and merged with sealctl"),
        holds_config,
    })
}

/// The program of a command line git runs through the shell: its first word, unquoted (single
/// quotes and backslashes, as `shell_quote` writes them).
fn program_of(command: &str) -> String {
    let mut program = String::new();
    let mut chars = command.trim_start().chars();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => quoted = !quoted,
            '\\' if !quoted => program.extend(chars.next()),
            ch if ch.is_whitespace() && !quoted => break,
            ch => program.push(ch),
        }
    }
    program
}

#[cfg(test)]
mod tests {
    use super::program_of;

    #[test]
    fn the_program_of_a_quoted_command_is_unquoted() {
        assert_eq!(
            program_of("/usr/bin/sealctl git diff-text"),
            "/usr/bin/sealctl"
        );
        assert_eq!(
            program_of("'/opt/my tools/sealctl' git merge"),
            "/opt/my tools/sealctl"
        );
        assert_eq!(
            program_of("'/opt/it'\\''s/sealctl' git merge"),
            "/opt/it's/sealctl"
        );
    }
}
