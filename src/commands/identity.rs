//! `sealctl identity new|show`: your age identity.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sealctl_seal::{IdentitySource, default_identity_path, new_identity_file};

use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl identity new        # then back up ~/.config/sealctl/identity.txt\n  \
    sealctl identity show       # the recipients to give your team")]
pub struct IdentityArgs {
    #[command(subcommand)]
    pub command: IdentityCommand,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Make a new age identity (mode 0600) and print its recipient. Never overwrites.
    #[command(after_help = "Example:\n  \
        sealctl identity new            # ~/.config/sealctl/identity.txt on Linux\n\n\
Back the file up: values sealed only to it cannot be opened without it.")]
    New {
        /// Where to write it, instead of the default file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the recipients of the identities sealctl finds (--identity, the environment, the
    /// default file).
    #[command(after_help = "Example:\n  \
        sealctl identity show       # give these to whoever seals tokens for you")]
    Show,
}

pub fn cmd_identity(global: &GlobalArgs, args: IdentityArgs) -> Result<Status, CommandError> {
    match args.command {
        IdentityCommand::New { out } => {
            let path = out.or_else(default_identity_path).ok_or_else(|| {
                CommandError::setup("this system has no home folder for the default identity")
                    .hint("name a file with --out FILE")
            })?;
            let recipient = new_identity_file(&path)?;
            println!("{recipient}");
            note!(
                "created {}; back it up: values sealed only to it cannot be opened without it",
                path.display()
            );
            Ok(Status::Success)
        }
        IdentityCommand::Show => {
            let sources = IdentitySource::discover_from_env(&global.identity);
            if sources.is_empty() {
                return Err(CommandError::setup("no identity found")
                    .hint("create one with `sealctl identity new`, or pass --identity FILE"));
            }
            for source in sources {
                println!("# {source}");
                for recipient in source.recipients()? {
                    println!("{recipient}");
                }
            }
            Ok(Status::Success)
        }
    }
}
