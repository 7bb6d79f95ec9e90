//! `sealctl init`: a new profile with its token sealed, in one command. On a terminal it asks for
//! what the flags do not give (`questions`); without one (or with `--no-input`) everything comes
//! from flags and nothing is asked. What it shares with `profile add` is in `new_profile`.

use clap::Args;
use sealctl_seal::prompt;

use super::new_profile::{self, NewProfileArgs};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl init                                   # asks, on a terminal\n  \
    sealctl init --no-input --product clustered --host cluster.example.com --token-stdin < token\n  \
    influxctl management create --description laptop | \\\n    \
    sealctl init --no-input --product dedicated --account-id … --cluster-id … --token-stdin\n\n\
Makes the age identity if there is none, the profile file at influxctl's default path (or --config)\n\
with folder 0700 and file 0600, adds the profile without disturbing the rest of the file, seals\n\
the token, and checks the result. An existing profile is replaced only with --force.")]
pub struct InitArgs {
    #[command(flatten)]
    pub profile: NewProfileArgs,

    /// Never ask: everything comes from flags (also when there is no terminal).
    #[arg(long)]
    pub no_input: bool,
}

pub fn cmd_init(global: &GlobalArgs, args: InitArgs) -> Result<Status, CommandError> {
    let ask = !args.no_input && prompt::can_prompt();
    new_profile::create(global, args.profile, ask, true)
}
