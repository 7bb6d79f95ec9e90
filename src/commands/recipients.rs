//! `sealctl recipients list|add|rm`: who the file's values are sealed to.

use clap::{Args, Subcommand};
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::canonical_recipient;
use sealctl_seal::read_recipients;

use super::target;
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status};
use crate::ui::plural;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl recipients list\n  \
    sealctl recipients add ~/.ssh/id_ed25519.pub && sealctl rekey --all")]
pub struct RecipientsArgs {
    #[command(subcommand)]
    pub command: RecipientsCommand,
}

#[derive(Debug, Subcommand)]
pub enum RecipientsCommand {
    /// List the recipients in the file's [sealctl] table.
    // This text is `--help`, where clap shows a `\[` escape as it is: the brackets stay plain
    // and rustdoc is told that they are not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[command(after_help = "Example:\n  sealctl recipients list --config team/influxctl.toml")]
    List,
    /// Add recipients: an age recipient (age1…), an OpenSSH public key, or a file of them
    /// (a `.pub` file, or an age recipients file).
    #[command(after_help = "Examples:\n  \
        sealctl recipients add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n  \
        sealctl recipients add ~/.ssh/id_ed25519.pub\n  \
        sealctl recipients add team-recipients.txt\n\n\
Then `sealctl rekey --all` so that existing values are sealed to them too.")]
    Add {
        /// Recipients, or files of them.
        #[arg(required = true, value_name = "RECIPIENT|FILE")]
        recipients: Vec<String>,

        #[command(flatten)]
        write: target::WriteArgs,
    },
    /// Remove recipients, then `sealctl rekey --all` so that they can no longer open the values.
    #[command(after_help = "Example:\n  \
        sealctl recipients rm ssh-ed25519 AAAAC3Nz… && sealctl rekey --all\n\n\
A removed recipient can still open what it could before: rotate the tokens too.")]
    Rm {
        /// Recipients, or files of them.
        #[arg(required = true, value_name = "RECIPIENT|FILE")]
        recipients: Vec<String>,

        #[command(flatten)]
        write: target::WriteArgs,
    },
}

pub fn cmd_recipients(global: &GlobalArgs, args: RecipientsArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    match args.command {
        RecipientsCommand::List => {
            for recipient in ProfileDocument::load(&path)?.recipients() {
                println!("{}", crate::ui::visible(&recipient));
            }
            Ok(Status::Success)
        }
        RecipientsCommand::Add { recipients, write } => edit(&path, &recipients, &write, true),
        RecipientsCommand::Rm { recipients, write } => edit(&path, &recipients, &write, false),
    }
}

fn edit(
    path: &std::path::Path,
    arguments: &[String],
    write: &target::WriteArgs,
    add: bool,
) -> Result<Status, CommandError> {
    let (mut document, _lock) = target::load_for_writing(path, write.force)?;
    let mut listed = document.recipients();
    let mut named = Vec::new();
    for argument in arguments {
        // An entry that cannot be sealed to (which `check` reports) is removed by its text.
        if !add && listed.iter().any(|known| known.trim() == argument.trim()) {
            named.push(argument.trim().to_owned());
            continue;
        }
        named.extend(
            read_recipients(argument)?
                .into_iter()
                .map(|recipient| recipient.to_string()),
        );
    }
    let before = listed.len();
    if add {
        for recipient in named {
            if !listed
                .iter()
                .any(|known| canonical_recipient(known) == canonical_recipient(&recipient))
            {
                listed.push(recipient);
            }
        }
    } else {
        for recipient in &named {
            if !listed.iter().any(|known| same_entry(known, recipient)) {
                return Err(CommandError::setup(format!(
                    "{recipient} is not a recipient of {}",
                    path.display()
                ))
                .hint(format!(
                    "`{}` shows them",
                    crate::ui::CommandLine::sealctl(&["recipients", "list"])
                        .file(path)
                        .no_profile()
                )));
            }
        }
        listed.retain(|known| !named.iter().any(|recipient| same_entry(known, recipient)));
    }
    if listed.len() == before && add {
        note!("nothing changed: every recipient is listed already");
        return Ok(Status::Success);
    }
    document.set_recipients(&listed)?;
    document.save()?;
    let changed = listed.len().abs_diff(before);
    note!(
        "{} {}; run `{}` to re-seal existing values",
        if add { "added" } else { "removed" },
        plural(changed, "recipient"),
        crate::ui::CommandLine::sealctl(&["rekey"]).file(path).all()
    );
    Ok(Status::Success)
}

/// Whether a listed entry is the recipient named: the same text, or the same recipient written
/// another way (another SSH comment, upper case).
fn same_entry(listed: &str, named: &str) -> bool {
    listed.trim() == named.trim() || canonical_recipient(listed) == canonical_recipient(named)
}
