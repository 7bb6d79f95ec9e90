//! One module per subcommand, each with its `clap::Args` and one `cmd_*` function.

pub mod check;

use crate::cli::{Cli, Command};
use crate::error::{CommandError, Status};

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<Status, CommandError> {
    match cli.command {
        Command::Check(args) => check::cmd_check(&cli.global, args),
    }
}
