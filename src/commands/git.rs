//! `sealctl git diff-text|merge|setup`: sealed profile files in git: readable diffs through
//! textconv, a merge driver that merges per profile and key, and the setup of both.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{diff_text, git_setup, merge_driver};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl git setup             # this repository: .gitattributes and .git/config\n  \
    git diff                      # sealed values read as summaries\n  \
    git merge topic               # profiles and keys merged one by one\n\n\
Documentation: https://github.com/sealctl/sealctl/blob/main/docs/git.md")]
pub struct GitArgs {
    #[command(subcommand)]
    pub command: GitCommand,
}

#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Print a profile file with each sealed value replaced by a summary (git's textconv).
    ///
    /// The summary says the backend, the recipients (their count, or that they changed since),
    /// the endpoint digest and the expiry: what is in clear, so the same value always reads the
    /// same. Needs no key. A file that does not parse is printed as it is.
    #[command(name = "diff-text")]
    #[command(after_help = "Examples:\n  \
        sealctl git diff-text config.toml\n  \
        git -c diff.sealctl.textconv='sealctl git diff-text --reveal-changes' diff\n\n\
With --reveal-changes each value also gets a tag keyed by your identity: the same tag, the same\n\
secret. It says nothing of the secret to anyone without your identity.")]
    DiffText {
        /// The file (git gives a temporary copy of each version).
        file: PathBuf,
        /// Open each value with your identity and add a tag that changes when the secret does
        /// (never the secret, nor a plain hash of it).
        #[arg(long)]
        reveal_changes: bool,
    },
    /// Merge three versions of a profile file (git's merge driver): `%O %A %B %P`.
    ///
    /// A key changed on one side takes that side; both sides sealing the same token again (the
    /// identity tells) takes the one sealed to the merged recipients; anything else both sides
    /// changed is a conflict, between markers around its own lines. The result goes to OURS.
    #[command(
        after_help = "Example, as `sealctl git setup` sets it (git fills in the %-names):\n  \
        git config merge.sealctl.driver 'sealctl git merge --marker-size %L %O %A %B %P'\n\n\
Exit status: 0 merged; 1 conflicts left in OURS; 2 a file could not be read or written."
    )]
    Merge {
        /// Length of the conflict markers (git's %L).
        #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u16).range(3..))]
        marker_size: u16,
        /// The common ancestor's version (%O).
        base: PathBuf,
        /// Our version (%A): the result is written here.
        ours: PathBuf,
        /// Their version (%B).
        theirs: PathBuf,
        /// The file's path in the repository (%P), for messages.
        path: Option<PathBuf>,
    },
    /// Set git up to diff and merge profile files with sealctl: .gitattributes and git config.
    ///
    /// Writes `config.toml diff=sealctl merge=sealctl` and `*.sealctl.toml …` to the
    /// repository's .gitattributes (or, with --global, your global attributes file), and
    /// diff.sealctl.textconv, merge.sealctl.driver and merge.sealctl.name to its .git/config (or
    /// your ~/.gitconfig), naming this sealctl by its absolute path. Running it again changes
    /// nothing.
    #[command(after_help = "Examples:\n  \
        sealctl git setup                       # this repository\n  \
        sealctl git setup --global              # every repository of yours\n  \
        sealctl git setup --pattern 'team/*.toml'")]
    Setup {
        /// Your global git config and attributes file instead of this repository's.
        #[arg(long)]
        global: bool,
        /// The files sealctl diffs and merges, as .gitattributes patterns (repeatable);
        /// default: config.toml and *.sealctl.toml.
        #[arg(long, value_name = "PATTERN")]
        pattern: Vec<String>,
    },
}

pub fn cmd_git(global: &GlobalArgs, args: GitArgs) -> Result<Status, CommandError> {
    match args.command {
        GitCommand::DiffText {
            file,
            reveal_changes,
        } => diff_text::run(global, &file, reveal_changes),
        GitCommand::Merge {
            marker_size,
            base,
            ours,
            theirs,
            path,
        } => merge_driver::run(
            global,
            &merge_driver::MergeFiles {
                base: &base,
                ours: &ours,
                theirs: &theirs,
                name: path.as_deref(),
                marker_size: usize::from(marker_size),
            },
        ),
        GitCommand::Setup { global, pattern } => git_setup::setup(global, &pattern),
    }
}
