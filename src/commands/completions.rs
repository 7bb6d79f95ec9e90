//! `sealctl completions SHELL`: the script that makes a shell complete sealctl's subcommands,
//! flags, keyring stores, and the names of the profiles in the file.
//!
//! The script calls sealctl back (`SEALCTL_COMPLETE=SHELL sealctl -- WORDS…`) at each completion,
//! so the candidates (`candidates`) always match the installed sealctl and the file as it is now:
//! the one named by `--config` earlier on the line, else influxctl's default.

use clap::Args;
use clap_complete::env::Shells;

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
