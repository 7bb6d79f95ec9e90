//! `sealctl rekey`: re-seal values to the file's current recipients.

use clap::Args;
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::{SealedValue, looks_sealed};

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
    let path = target::config_path(global)?;
    let (mut document, _lock) = ProfileDocument::load_locked(&path)?;
    let profiles = target::profiles(&document, global, args.scope.all)?;
    let sealed: Vec<_> = target::secret_values(&document, &profiles)?
        .into_iter()
        .filter(|secret| looks_sealed(&secret.value))
        .collect();
    if sealed.is_empty() {
        eprintln!(
            "nothing to rekey: no sealed token in {}",
            profiles.join(", ")
        );
        return Ok(Status::Success);
    }
    let recipients = target::recipients(&mut document, global)?;
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
    target::write_values(&mut document, resealed)?;
    document.save()?;
    eprintln!(
        "re-sealed {} to {} in {}",
        plural(sealed.len(), "value"),
        plural(recipients.len(), "recipient"),
        path.display()
    );
    Ok(Status::Success)
}
