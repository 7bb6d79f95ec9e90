//! `sealctl rekey`: re-seal values to the file's current recipients, and with `--rebind`, to
//! their profile's current endpoint.

use clap::Args;
use sealctl_profile::ProfileValue;
use sealctl_profile::endpoint::Endpoint;
use sealctl_profile::sealed::SealedValue;
use sealctl_seal::{Destination, Envelope, Needs, OpenError};

use super::backend::{self, Sealer};
use super::target::{self, LockedValues, ScopeArgs, WriteArgs};
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};
use crate::ui::plural;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl recipients add age1…   # a new teammate\n  \
    sealctl rekey --all            # everything is sealed to them too\n  \
    sealctl rekey --rebind --profile prod   # prod's host changed on purpose: follow it\n\n\
Needs an identity that can open every value; if one cannot be opened, nothing is changed.\n\
Each value is bound to the endpoint its profile had when it was sealed (product, host, port,\n\
account and cluster): a value whose profile now points elsewhere is refused, by rekey as by\n\
exec, until `rekey --rebind` seals it for the new endpoint.")]
pub struct RekeyArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    #[command(flatten)]
    pub write: WriteArgs,

    /// Re-seal each value (age and keyring alike) for the endpoint its profile points at now:
    /// the one way to move tokens to another host, port, account or cluster. Says what moved.
    #[arg(long)]
    pub rebind: bool,
}

pub fn cmd_rekey(global: &GlobalArgs, args: RekeyArgs) -> Result<Status, CommandError> {
    // Bound whole: the file stays locked until the command ends.
    let Some(mut locked) = target::locked_values(
        global,
        args.scope.all,
        &args.write,
        target::Wanted::Sealed,
        "rekey",
    )?
    else {
        return Ok(Status::Success);
    };
    if args.rebind {
        return rebind(global, locked);
    }
    // Values of a backend that does not seal to recipients (the keyring): nothing to re-seal.
    let (sealed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut locked.values)
        .into_iter()
        .partition(|(secret, _)| {
            SealedValue::parse(&secret.value)
                .ok()
                .and_then(|value| sealctl_seal::backend_of(&value).ok())
                .is_none_or(|backend| backend.needs() == Needs::Recipients)
        });
    let mut opener = target::Opener::new(global, &locked.path).resealing();
    // A backend that re-seals in its store without opening (transit's rewrap) does so; the
    // others' values are left as they are.
    let mut refreshed = Vec::new();
    // Said in the backend's words (`the secret-service keyring`), one line per place kept in.
    let mut kept_in: Vec<(String, usize)> = Vec::new();
    for (secret, _) in &kept {
        if let Ok(framing) = SealedValue::parse(&secret.value)
            && let Some(result) = opener.refresh(&framing, &secret.place)
        {
            let value = result.map_err(CommandError::from).map_err(|error| {
                error.hint(format!("in {}; the file is unchanged", secret.place))
            })?;
            refreshed.push(ProfileValue::new(secret.place.clone(), value));
            continue;
        }
        let Some(words) = SealedValue::parse(&secret.value)
            .ok()
            .and_then(|value| Destination::of(&value).ok())
            .and_then(|to| to.backend().kept_in(to.store()))
        else {
            continue;
        };
        match kept_in.iter_mut().find(|(seen, _)| *seen == words) {
            Some((_, count)) => *count += 1,
            None => kept_in.push((words, 1)),
        }
    }
    for (words, count) in kept_in {
        note!(
            "{} in {words}, not sealed to recipients, left as {}",
            plural(count, "value"),
            if count == 1 { "it is" } else { "they are" }
        );
    }
    if sealed.is_empty() && refreshed.is_empty() {
        return Ok(Status::Success);
    }
    // Each value stays with its own backend; the file's recipients are read (and told) once.
    let mut sealers: Vec<Sealer> = Vec::new();
    opener.open_together(sealed.iter().map(|(secret, _)| secret));
    let rewrapped = refreshed.len();
    let mut resealed = refreshed;
    let mut newly_bound = Vec::new();
    for (secret, endpoint) in &sealed {
        let framing = SealedValue::parse(&secret.value).ok();
        let expires_at = framing.as_ref().and_then(SealedValue::expires_at);
        let token = opener
            .open(&secret.value, &secret.place, endpoint)
            .map_err(|error| error.hint(format!("in {}; the file is unchanged", secret.place)))?;
        let to = framing
            .as_ref()
            .and_then(|framing| Destination::of(framing).ok())
            .unwrap_or_else(|| Destination::chosen(None, None, None));
        let value = Sealer::to(&mut sealers, global, &mut locked.document, to)?.seal(
            &token,
            &secret.place,
            endpoint,
            &locked.path,
            expires_at,
        )?;
        let value = backend::with_token_id(value, framing.as_ref().and_then(SealedValue::token_id));
        if framing.is_some_and(|framing| framing.endpoint_digest().is_none()) {
            newly_bound.push((secret, endpoint));
        }
        resealed.push(ProfileValue::new(secret.place.clone(), value));
    }
    locked.document.set_many(&resealed)?;
    let mut done = Vec::new();
    if !sealed.is_empty() {
        done.push(format!(
            "re-sealed {} to {} in {}",
            plural(sealed.len(), "value"),
            plural(
                sealers.first().map_or(0, Sealer::recipient_count),
                "recipient"
            ),
            locked.path.display()
        ));
    }
    if rewrapped > 0 {
        done.push(format!(
            "re-sealed {} with the newest version of its key, without opening it, in {}",
            plural(rewrapped, "value"),
            locked.path.display()
        ));
    }
    let done = done.join("\n");
    Sealer::save_all_saying(sealers, &mut locked.document, Some(done))?;
    for (secret, endpoint) in newly_bound {
        note!(
            "{} was not bound to an endpoint; it is bound to {endpoint} now",
            secret.place,
        );
    }
    Ok(Status::Success)
}

/// `rekey --rebind`: opens every value in scope without judging its endpoint (each must still
/// be in its own profile and key), then seals it again, in the backend and store it is in now,
/// for its profile's current endpoint. Nothing changes unless every value opens.
fn rebind(global: &GlobalArgs, mut locked: LockedValues) -> Result<Status, CommandError> {
    let values = std::mem::take(&mut locked.values);
    let mut opener = target::Opener::new(global, &locked.path);
    opener.open_together(values.iter().map(|(secret, _)| secret));
    let mut opened: Vec<(&ProfileValue, &Endpoint, SealedValue, Envelope)> =
        Vec::with_capacity(values.len());
    for (secret, endpoint) in &values {
        let unchanged =
            |error: CommandError| error.hint(format!("in {}; the file is unchanged", secret.place));
        let sealed = SealedValue::parse(&secret.value)
            .map_err(|error| unchanged(OpenError::from(error).into()))?;
        let envelope = opener
            .open_envelope(&sealed, &secret.place)
            .map_err(|error| unchanged(error.into()))?;
        opened.push((secret, endpoint, sealed, envelope));
    }

    let mut sealers: Vec<Sealer> = Vec::new();
    let mut resealed = Vec::with_capacity(opened.len());
    for (secret, endpoint, sealed, envelope) in &opened {
        let to = Destination::of(sealed)?;
        let value = Sealer::to(&mut sealers, global, &mut locked.document, to)?.seal(
            &envelope.secret,
            &secret.place,
            endpoint,
            &locked.path,
            sealed.expires_at(),
        )?;
        let value = backend::with_token_id(value, sealed.token_id());
        resealed.push(ProfileValue::new(secret.place.clone(), value));
    }
    locked.document.set_many(&resealed)?;
    Sealer::save_all(sealers, &mut locked.document)?;
    for (secret, endpoint, _, envelope) in &opened {
        match &envelope.endpoint {
            Some(before) if before == *endpoint => {}
            Some(before) => note!("{} moved from {before} to {endpoint}", secret.place),
            None => note!(
                "{} was not bound to an endpoint; it is bound to {endpoint} now",
                secret.place,
            ),
        }
    }
    note!(
        "re-sealed {} for their profile's endpoint in {}",
        plural(opened.len(), "value"),
        locked.path.display()
    );
    backend::forget_replaced(values.iter().map(|(secret, _)| secret.value.as_str()))?;
    Ok(Status::Success)
}
