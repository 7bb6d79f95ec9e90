//! `sealctl completions SHELL`: the script that makes a shell complete sealctl's subcommands,
//! flags, and the names of the profiles in the file.
//!
//! The script calls sealctl back (`COMPLETE=SHELL sealctl -- WORDS…`) at each completion, so the
//! candidates always match the installed sealctl and the file as it is now.

use std::ffi::OsStr;

use clap::Args;
use clap_complete::CompletionCandidate;
use clap_complete::env::Shells;
use sealctl_profile::ProfileDocument;
use sealctl_profile::paths::default_config_path;

use crate::error::{CommandError, Status, write_stdout};

/// The variable that turns a run of sealctl into a completion request.
pub const COMPLETE_ENV: &str = "COMPLETE";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    echo 'source <(sealctl completions bash)' >> ~/.bashrc\n  \
    echo 'source <(sealctl completions zsh)' >> ~/.zshrc\n  \
    sealctl completions fish > ~/.config/fish/completions/sealctl.fish\n\n\
Profile names complete from influxctl's default file.")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell", "elvish"])]
    pub shell: String,
}

pub fn cmd_completions(args: CompletionsArgs) -> Result<Status, CommandError> {
    let shells = Shells::builtins();
    let shell = shells
        .completer(&args.shell)
        .ok_or_else(|| CommandError::setup(format!("no completions for {}", args.shell)))?;
    // The script runs this very binary, wherever it is installed.
    let program = std::env::current_exe()
        .ok()
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| "sealctl".to_owned());
    let mut script = Vec::new();
    shell
        .write_registration(COMPLETE_ENV, "sealctl", "sealctl", &program, &mut script)
        .map_err(|error| CommandError::setup("cannot write the script").source(error))?;
    write_stdout(&script, "the completions")
}

/// The profiles of influxctl's default file whose names start with what was typed.
pub fn profile_names(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    default_config_path()
        .and_then(|path| ProfileDocument::load(path).ok())
        .map(|document| document.profile_names())
        .unwrap_or_default()
        .into_iter()
        .filter(|name| name.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
