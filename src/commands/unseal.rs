//! `sealctl unseal`: write sealed tokens back as plaintext, for leaving sealctl.

use clap::Args;
use sealctl_profile::ProfileValue;
use sealctl_seal::prompt;
use secrecy::ExposeSecret;

use super::backend;
use super::target::{self, ScopeArgs, WriteArgs};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};
use crate::ui::plural;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl unseal --all --yes   # every token in the file, back in plaintext\n\n\
Asks first on a terminal; elsewhere it refuses without --yes.")]
pub struct UnsealArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Write plaintext without asking.
    #[arg(long)]
    pub yes: bool,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn cmd_unseal(global: &GlobalArgs, args: UnsealArgs) -> Result<Status, CommandError> {
    // Bound whole: the file stays locked until the command ends.
    let Some(mut locked) = target::locked_values(
        global,
        args.scope.all,
        &args.write,
        target::Wanted::Sealed,
        "unseal",
    )?
    else {
        return Ok(Status::Success);
    };
    let sealed = std::mem::take(&mut locked.values);
    let question = format!(
        "Write {} back into {} in plaintext?",
        plural(sealed.len(), "token"),
        locked.path.display()
    );
    if !args.yes {
        if !prompt::can_prompt() {
            return Err(CommandError::setup(
                "unseal writes plaintext tokens into the file, and there is no terminal to ask on",
            )
            .hint("pass --yes to confirm"));
        }
        if !prompt::confirm(&question)
            .map_err(|error| CommandError::setup("cannot ask").source(error))?
        {
            note!("nothing changed");
            return Ok(Status::Success);
        }
    }
    let mut opener = target::Opener::new(global, &locked.path);
    opener.open_together(sealed.iter().map(|(secret, _)| secret));
    let mut plaintext = Vec::with_capacity(sealed.len());
    for (secret, endpoint) in &sealed {
        let token = opener
            .open(&secret.value, &secret.place, endpoint)
            .map_err(|error| error.hint(format!("in {}; the file is unchanged", secret.place)))?;
        plaintext.push(ProfileValue::new(
            secret.place.clone(),
            token.expose_secret(),
        ));
    }
    locked.document.set_many(&plaintext)?;
    locked.document.save()?;
    note!(
        "unsealed {} in {}",
        plural(sealed.len(), "token"),
        locked.path.display()
    );
    // The file holds those tokens now; keyring entries that held them go.
    backend::forget_replaced(sealed.iter().map(|(secret, _)| secret.value.as_str()))?;
    Ok(Status::Success)
}
