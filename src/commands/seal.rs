//! `sealctl seal`: seal every plaintext token in scope, in place.

use clap::Args;
use sealctl_profile::ProfileValue;
use secrecy::SecretString;

use super::backend::{BackendArgs, Sealer};
use super::target::{self, ScopeArgs, WriteArgs};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};
use crate::ui::plural;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl seal                 # the default profile (or --profile, INFLUXCTL_PROFILE)\n  \
    sealctl seal --all           # every profile in the file\n  \
    sealctl seal --backend keyring   # into the OS keyring, a reference left in the file\n\n\
Seals to the file's [sealctl] recipients; a file with none is sealed to your identity's\n\
recipient, which is recorded there. Sealing needs no identity.")]
pub struct SealArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    #[command(flatten)]
    pub backend: BackendArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn cmd_seal(global: &GlobalArgs, args: SealArgs) -> Result<Status, CommandError> {
    args.backend.check()?;
    // Bound whole: the file stays locked until the command ends.
    let Some(mut locked) = target::locked_values(
        global,
        args.scope.all,
        &args.write,
        target::Wanted::Plaintext,
        "seal",
    )?
    else {
        return Ok(Status::Success);
    };
    let plaintext = std::mem::take(&mut locked.values);
    let mut sealer = Sealer::new(
        global,
        &mut locked.document,
        args.backend.destination_or(None),
    )?;
    let mut sealed = Vec::with_capacity(plaintext.len());
    for (secret, endpoint) in &plaintext {
        let token = SecretString::from(secret.value.as_str());
        let value = sealer
            .seal(&token, &secret.place, endpoint, &locked.path, None)
            .map_err(|error| error.hint(format!("in {}; the file is unchanged", secret.place)))?;
        sealed.push(ProfileValue::new(secret.place.clone(), value));
    }
    locked.document.set_many(&sealed)?;
    let done = sealer.done(&plural(plaintext.len(), "token"), &locked.path);
    sealer.save(&mut locked.document)?;
    note!("{done}");
    Ok(Status::Success)
}
