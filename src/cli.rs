//! The command line: plain data that the commands read. The libraries never see it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::check::CheckArgs;
use crate::commands::completions::CompletionsArgs;
use crate::commands::doctor::DoctorArgs;
use crate::commands::edit::EditArgs;
use crate::commands::exec::ExecArgs;
use crate::commands::git::GitArgs;
use crate::commands::identity::IdentityArgs;
use crate::commands::init::InitArgs;
use crate::commands::man::ManArgs;
use crate::commands::profile::ProfileArgs;
use crate::commands::recipients::RecipientsArgs;
use crate::commands::rekey::RekeyArgs;
use crate::commands::seal::SealArgs;
use crate::commands::token::TokenArgs;
use crate::commands::unseal::UnsealArgs;

/// Seal, check and use the connection profiles and management tokens of influxctl.
#[derive(Debug, Parser)]
#[command(name = "sealctl", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    sealctl init                          # set up this machine\n  \
    sealctl exec -- influxctl database list\n  \
    alias influxctl='sealctl exec -- influxctl'\n  \
    sealctl check                         # in CI and pre-commit; needs no key\n  \
    sealctl doctor                        # is this machine ready?\n\n\
Exit status: 0 ok; 1 findings (check, doctor); 2 usage or setup error; with exec, the program's.\n\
Documentation: https://github.com/sealctl/sealctl/tree/main/docs")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Profile file to use instead of influxctl's default
    /// (~/.config/influxctl/config.toml on Linux).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Profile to use, for commands that act on one profile; else INFLUXCTL_PROFILE, else
    /// `default`. (`check` checks every profile.)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        add = clap_complete::ArgValueCompleter::new(crate::commands::candidates::profile_names)
    )]
    pub profile: Option<String>,

    /// Identity file to open sealed values with (age identities, passphrase-protected ones, or
    /// OpenSSH private keys); repeatable. Also: SEALCTL_IDENTITY_FILE, SEALCTL_IDENTITY, then
    /// the default file (~/.config/sealctl/identity.txt on Linux).
    #[arg(long, short = 'i', global = true, value_name = "FILE")]
    pub identity: Vec<PathBuf>,

    /// Say more: with -v, errors also show the raw error of the layer below (a keyring's own).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Say less: no notes of what was done, only warnings, errors and the output asked for.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// When to colour the output; `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
}

/// When to use colour.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Makes every later write through `anstream` follow this choice.
    pub fn apply(self) {
        let choice = match self {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up this machine: a profile with its management token sealed, in one command.
    Init(InitArgs),
    /// Validate profile files: syntax, schema, values, and plaintext secrets.
    ///
    /// Needs no key, identity or network, so it runs in any CI and as a pre-commit hook.
    #[command(after_help = "Examples:\n  \
        sealctl check                         # influxctl's default profile file\n  \
        sealctl check team/*.toml             # several files at once\n  \
        sealctl check --format sarif f.toml   # for GitHub code scanning\n\n\
Exit status: 0 no errors; 1 errors (or warnings with --deny-warnings);\n\
2 a file could not be read, or a usage error.\n\
Rules: https://github.com/sealctl/sealctl/blob/main/docs/rules.md")]
    Check(CheckArgs),
    /// Run influxctl, or any program, with the profile's tokens opened for one command.
    Exec(ExecArgs),
    /// Edit a profile with its tokens opened in your editor; what changed is sealed back.
    Edit(EditArgs),
    /// Seal plaintext tokens in place, to the file's recipients. Needs no identity.
    Seal(SealArgs),
    /// Write sealed tokens back as plaintext, for leaving sealctl.
    Unseal(UnsealArgs),
    /// Set or read one token: `token set` seals it, `token get` prints it for a script.
    Token(TokenArgs),
    /// Re-seal values to the file's current recipients (after `recipients add` or `rm`).
    Rekey(RekeyArgs),
    /// The recipients a file seals to: list, add, remove.
    Recipients(RecipientsArgs),
    /// Your age identity: make one, or show the recipients of those found.
    Identity(IdentityArgs),
    /// The profiles of a file: list, show, add, remove, rename.
    Profile(ProfileArgs),
    /// Whether this machine is ready: the file, identities, tokens, keyring and influxctl.
    Doctor(DoctorArgs),
    /// Sealed files in git: readable diffs (textconv), a merge driver, and their setup.
    Git(GitArgs),
    /// Print the script that makes a shell complete sealctl (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Write the manual pages, one per subcommand.
    Man(ManArgs),
}

/// An unknown long option with clap's suggestion, or when clap found none close enough (it misses
/// swapped letters, as in `--evn`), the nearest option of the same command within two edits.
pub fn with_nearest_option(mut error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument || error.get(ContextKind::SuggestedArg).is_some()
    {
        return error;
    }
    let Some(ContextValue::String(unknown)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let Some(name) = unknown.strip_prefix("--") else {
        return error;
    };
    let name = name.split('=').next().unwrap_or(name).to_owned();
    let root = <Cli as clap::CommandFactory>::command();
    // The subcommand the option was given to: the names before it, as clap read them.
    let mut command = &root;
    for arg in std::env::args().skip(1) {
        if arg == *unknown {
            break;
        }
        if let Some(sub) = command.find_subcommand(&arg) {
            command = sub;
        }
    }
    let nearest = command
        .get_arguments()
        .chain(root.get_arguments().filter(|arg| arg.is_global_set()))
        .filter_map(clap::Arg::get_long)
        .map(|long| (edits(&name, long), long))
        .filter(|(distance, _)| *distance <= 2 && *distance < name.len())
        .min();
    if let Some((_, long)) = nearest {
        error.insert(
            ContextKind::SuggestedArg,
            ContextValue::String(format!("--{long}")),
        );
    }
    error
}

/// The edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`.
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edits_count_swaps_as_one() {
        assert_eq!(super::edits("evn", "env"), 1);
        assert_eq!(super::edits("prfile", "profile"), 1);
        assert_eq!(super::edits("abc", "abc"), 0);
        assert_eq!(super::edits("", "env"), 3);
    }
}
