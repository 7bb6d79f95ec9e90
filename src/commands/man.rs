//! `sealctl man --out DIR`: the manual pages, one per subcommand (`sealctl-token-set.1`, …).

use std::path::PathBuf;

use clap::{Args, CommandFactory as _};

use crate::cli::Cli;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    sealctl man --out ~/.local/share/man/man1 && man sealctl-exec")]
pub struct ManArgs {
    /// The folder to write the pages to (made if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn cmd_man(args: ManArgs) -> Result<Status, CommandError> {
    let cannot = |error: std::io::Error| {
        CommandError::setup(format!(
            "cannot write manual pages to {}",
            args.out.display()
        ))
        .source(error)
    };
    std::fs::create_dir_all(&args.out).map_err(cannot)?;
    clap_mangen::generate_to(Cli::command(), &args.out).map_err(cannot)?;
    note!("wrote the manual pages to {}", args.out.display());
    Ok(Status::Success)
}
