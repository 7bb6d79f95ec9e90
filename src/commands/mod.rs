//! One module per subcommand, each with its `clap::Args` and one `cmd_*` function.

mod backend;
pub mod candidates;
pub mod check;
pub mod completions;
mod diff_text;
pub mod doctor;
pub mod edit;
pub mod exec;
pub mod git;
mod git_setup;
pub mod identity;
pub mod init;
mod journal;
pub mod man;
mod management;
mod merge_driver;
mod new_profile;
pub mod profile;
mod questions;
pub mod recipients;
pub mod rekey;
mod rotate;
pub mod seal;
mod status;
mod target;

pub use target::KEYRING_TIMEOUT_ENV;
pub mod token;
pub mod unseal;

use crate::cli::{Cli, Command};
use crate::error::{CommandError, Status};

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<Status, CommandError> {
    match cli.command {
        Command::Check(args) => check::cmd_check(&cli.global, args),
        Command::Exec(args) => exec::cmd_exec(&cli.global, args),
        Command::Edit(args) => edit::cmd_edit(&cli.global, args),
        Command::Seal(args) => seal::cmd_seal(&cli.global, args),
        Command::Unseal(args) => unseal::cmd_unseal(&cli.global, args),
        Command::Token(args) => token::cmd_token(&cli.global, args),
        Command::Rekey(args) => rekey::cmd_rekey(&cli.global, args),
        Command::Recipients(args) => recipients::cmd_recipients(&cli.global, args),
        Command::Identity(args) => identity::cmd_identity(&cli.global, args),
        Command::Profile(args) => profile::cmd_profile(&cli.global, args),
        Command::Git(args) => git::cmd_git(&cli.global, args),
        Command::Doctor(args) => doctor::cmd_doctor(&cli.global, args),
        Command::Init(args) => init::cmd_init(&cli.global, args),
        Command::Completions(args) => completions::cmd_completions(args),
        Command::Man(args) => man::cmd_man(args),
    }
}
