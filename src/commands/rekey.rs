//! `sealctl rekey`: re-seal values to the file's current recipients.

use clap::Args;
use sealctl_profile::sealed::{Backend, SealedValue};

use super::seal::plural;
use super::target::{self, ScopeArgs};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl recipients add age1…   # a new teammate\n  \
    sealctl rekey --all            # everything is sealed to them too\n\n\
Needs an identity that can open every value; if one cannot be opened, nothing is changed.")]
pub struct RekeyArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn cmd_rekey(global: &GlobalArgs, args: RekeyArgs) -> Result<Status, CommandError> {
    // Bound whole: the file stays locked until the command ends.
    let Some(mut locked) =
        target::locked_values(global, args.scope.all, target::Wanted::Sealed, "rekey")?
    else {
        return Ok(Status::Success);
    };
    // Keyring values are not sealed to recipients: nothing to re-seal there.
    let (sealed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut locked.values)
        .into_iter()
        .partition(|secret| {
            SealedValue::parse(&secret.value).map_or(true, |value| value.backend == Backend::Age)
        });
    if !kept.is_empty() {
        note!(
            "{} in a keyring, not sealed to recipients, left as {}",
            plural(kept.len(), "value"),
            if kept.len() == 1 { "it is" } else { "they are" }
        );
    }
    if sealed.is_empty() {
        return Ok(Status::Success);
    }
    let recipients = target::recipients(&mut locked.document, global)?;
    let not_yours = target::not_yours_warning(&recipients, global, &locked.path);
    let identities = target::identities(global)?;
    let mut resealed = Vec::with_capacity(sealed.len());
    for secret in &sealed {
        let expires_at = SealedValue::parse(&secret.value)
            .ok()
            .and_then(|sealed| sealed.expires_at());
        let token =
            sealctl_seal::open(&secret.value, &secret.place, &identities).map_err(|error| {
                CommandError::from(error)
                    .hint(format!("in {}; the file is unchanged", secret.place))
            })?;
        let value = sealctl_seal::seal(&token, &secret.place, &recipients, expires_at)?;
        resealed.push((secret.place.clone(), value));
    }
    target::write_values(&mut locked.document, resealed)?;
    locked.document.save()?;
    note!(
        "re-sealed {} to {} in {}",
        plural(sealed.len(), "value"),
        plural(recipients.len(), "recipient"),
        locked.path.display()
    );
    if let Some(warning) = not_yours {
        eprintln!("{warning}");
    }
    Ok(Status::Success)
}
