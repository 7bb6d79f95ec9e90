//! `sealctl completions SHELL`: the script that makes a shell complete sealctl's subcommands,
//! flags, keyring stores, and the names of the profiles in the file.
//!
//! The script calls sealctl back (`SEALCTL_COMPLETE=SHELL sealctl -- WORDS…`) at each completion,
//! so the candidates always match the installed sealctl and the file as it is now: the one named
//! by `--config` earlier on the line, else influxctl's default.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::Args;
use clap_complete::CompletionCandidate;
use clap_complete::env::Shells;
use sealctl_profile::ProfileDocument;
use sealctl_profile::paths::default_config_path;
use sealctl_profile::sealed::KeyringStore;

use crate::error::{CommandError, Status, write_stdout};

/// The variable that turns a run of sealctl into a completion request. Its own name, not clap's
/// usual `COMPLETE`: a variable that common could be set for another reason, and then
/// `sealctl check` would print a script and exit 0 instead of checking.
pub const COMPLETE_ENV: &str = "SEALCTL_COMPLETE";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    echo 'source <(sealctl completions bash)' >> ~/.bashrc\n  \
    echo 'source <(sealctl completions zsh)' >> ~/.zshrc\n  \
    sealctl completions fish > ~/.config/fish/completions/sealctl.fish\n\n\
Profile names complete from the file named by --config earlier on the line, else from
influxctl's default file.")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell", "elvish"])]
    pub shell: String,
}

pub fn cmd_completions(args: CompletionsArgs) -> Result<Status, CommandError> {
    // The script runs this very binary, wherever it is installed.
    let program = std::env::current_exe()
        .ok()
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| "sealctl".to_owned());
    if args.shell == "bash" {
        return write_stdout(bash_script(&program).as_bytes(), "the completions");
    }
    let shells = Shells::builtins();
    let shell = shells
        .completer(&args.shell)
        .ok_or_else(|| CommandError::setup(format!("no completions for {}", args.shell)))?;
    let mut script = Vec::new();
    shell
        .write_registration(COMPLETE_ENV, "sealctl", "sealctl", &program, &mut script)
        .map_err(|error| CommandError::setup("cannot write the script").source(error))?;
    if args.shell == "zsh" {
        // zsh's `words` hold the line as typed: `(Q)` takes off its quotes (`--config 'a b.toml'`)
        // before sealctl reads them. zsh quotes the candidates itself.
        script = String::from_utf8_lossy(&script)
            .replace(r#"-- "${words[@]}""#, r#"-- "${(Q)words[@]}""#)
            .into_bytes();
    }
    write_stdout(&script, "the completions")
}

/// The bash script (completions.bash): clap's, but quoting words and candidates as bash needs.
fn bash_script(program: &str) -> String {
    include_str!("completions.bash")
        .replace("@VAR@", COMPLETE_ENV)
        .replace("@PROGRAM@", &crate::ui::shell_quote(program))
}

/// The profiles whose names start with what was typed, from the file named by `--config`
/// earlier on the line, else from influxctl's default file.
pub fn profile_names(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    config_on_the_line(std::env::args_os().collect())
        .or_else(default_config_path)
        .and_then(|path| ProfileDocument::load(path).ok())
        .map(|document| document.profile_names())
        .unwrap_or_default()
        .into_iter()
        .filter(|name| name.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// The keyring stores whose names start with what was typed.
pub fn keyring_stores(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    KeyringStore::ALL
        .iter()
        .map(|store| store.name())
        .filter(|name| name.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// The last `--config FILE` or `--config=FILE` before the word being completed, in a completion
/// request (`sealctl -- sealctl WORDS…`, the word's index in `_CLAP_COMPLETE_INDEX`, else the
/// last word). Words after a lone `--` are the program's (`exec -- influxctl --config x`).
fn config_on_the_line(args: Vec<OsString>) -> Option<PathBuf> {
    let start = args.iter().position(|arg| arg == "--")? + 1;
    let words = &args[start..];
    let current = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|index| index.parse::<usize>().ok())
        .unwrap_or(words.len().saturating_sub(1))
        .min(words.len());
    let mut config = None;
    let mut index = 1;
    while index < current {
        let word = &words[index];
        if word == "--" {
            break;
        }
        if word == "--config" {
            // bash splits `--config=FILE` at the `=` (COMP_WORDBREAKS): `--config`, `=`, `FILE`.
            let value = index + 1 + usize::from(words.get(index + 1).is_some_and(|w| w == "="));
            if value < current {
                config = Some(words[value].clone());
            }
            index = value + 1;
            continue;
        }
        if let Some(value) = word
            .to_str()
            .and_then(|word| word.strip_prefix("--config="))
        {
            config = Some(value.into());
        }
        index += 1;
    }
    config.map(|path| expand_home(PathBuf::from(path)))
}

/// `~/x` as the shell would have expanded it on the command line.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}
