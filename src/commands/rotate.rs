//! `sealctl token rotate`: a new management token replaces the profile's, without ever touching
//! disk or the terminal in plaintext, and the old one is revoked. docs/rotation.md tells the
//! steps, why they come in this order, and each step's exit status.
//!
//! The order keeps a working token recorded at every moment: the new token is checked before it
//! is recorded, recorded (an atomic write) before the old one is revoked, and a note outside the
//! file ([`Journal`]) names each token that a rotation killed half-way may have left live but
//! unrecorded, for the next `token rotate` (which revokes it) or `token status` (which says so).

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::{SealedValue, looks_sealed};
use sealctl_seal::{Destination, OpenError, Place, parse_token_input};
use secrecy::SecretString;

use super::backend::{self, Sealer};
use super::journal::{Journal, Step, rfc3339};
use super::management::{self, Influxctl, find, revoke_by_hand, step_failed};
use super::target;
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status};

/// Exit status: influxctl could not create a token (nothing changed).
pub const CREATE_FAILED: u8 = 3;
/// Exit status: the new token never worked within the wait (it was revoked; nothing changed).
pub const NOT_ACTIVE: u8 = 4;
/// Exit status: the new token could not be recorded (it was revoked; nothing changed).
pub const NOT_RECORDED: u8 = 5;
/// Exit status: the new token is recorded and works, but the old one could not be revoked.
pub const OLD_NOT_REVOKED: u8 = 6;

/// What `token rotate` was asked to do.
#[derive(Debug)]
pub struct Rotation {
    /// When the new token expires.
    pub expires_at: Option<SystemTime>,
    /// Its description (default: `sealctl token rotate of PROFILE at TIME`).
    pub description: Option<String>,
    /// Leave the old token live.
    pub keep_old: bool,
    /// Only say what would be done.
    pub dry_run: bool,
    /// The influxctl to run.
    pub influxctl: Option<PathBuf>,
    /// How long to wait for the new token to become active.
    pub wait: Duration,
    /// Write a read-only file.
    pub force: bool,
}

const KEY: &str = "mgmt_token";

/// Runs `token rotate`.
pub fn rotate(global: &GlobalArgs, rotation: Rotation) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let influxctl = Influxctl::new(rotation.influxctl.clone());
    if rotation.dry_run {
        return dry_run(global, &path, &influxctl, &rotation);
    }
    let (mut document, _lock) = target::load_for_writing(&path, rotation.force)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let place = Place::new(profile.clone(), KEY);
    let endpoint = target::endpoint(&document, &profile)?;
    let old = document.get(&profile, KEY)?;
    let old_sealed = old
        .as_deref()
        .filter(|value| looks_sealed(value))
        .map(SealedValue::parse)
        .transpose()
        .map_err(OpenError::from)?;
    let old_token = match &old {
        Some(value) => Some(
            target::Opener::new(global, &path)
                .resealing()
                .open(value, &place, &endpoint)
                .map_err(|error| error.hint("nothing was changed"))?,
        ),
        None => None,
    };
    let mut old_id = old_sealed
        .as_ref()
        .and_then(SealedValue::token_id)
        .map(str::to_owned);

    // What a rotation killed before left live and unrecorded (named by the note, or made with
    // its description after it started): revoked now, with the token that works.
    if let Some(journal) = Journal::left(&path, &profile)? {
        let listed = influxctl
            .list(&document, &profile, old_token.as_ref())?
            .ok();
        for left in journal.leftovers(old_id.as_deref(), listed.as_deref()) {
            // Without the recorded token's id, a leftover cannot be told from it for sure:
            // named, never revoked.
            let revoked = old_id.is_some()
                && influxctl
                    .management(
                        &document,
                        &profile,
                        old_token.as_ref(),
                        &["revoke", "--force", &left.id],
                    )?
                    .success;
            if revoked {
                note!("revoked token {}, which {}", left.id, left.why);
            } else {
                warning!(
                    "token {} {}\nhint: revoke it: {}",
                    left.id,
                    left.why,
                    revoke_by_hand(&path, &profile, &left.id)
                );
            }
        }
        journal.remove();
    }

    // The old token's id, from the cluster's list if the value does not record it: what step
    // 5 revokes, found before anything is made, so that no token is left live unnamed.
    if old_id.is_none()
        && !rotation.keep_old
        && let Some(token) = &old_token
    {
        let listed = influxctl
            .list(&document, &profile, Some(token))?
            .map_err(|why| {
                step_failed(
                    CREATE_FAILED,
                    format!("cannot find the current token's id: influxctl: {why}"),
                )
                .hint("nothing was changed; check the token with `sealctl token status`")
            })?;
        old_id = find(&listed, None, Some(token)).map(|found| found.id.clone());
        if old_id.is_none() {
            return Err(CommandError::setup(
                "the profile's token records no id, and `influxctl management list` shows no single token with its prefix: which token to revoke after the rotation is not known",
            )
            .hint(format!(
                "record its id (the ID column of `influxctl management list`): {}; or rotate with --keep-old and revoke it yourself",
                crate::ui::CommandLine::sealctl(&["token", "set"])
                    .file(&path)
                    .profile(&profile)
                    .args(["--id", "ID"])
            )));
        }
    }

    let started = SystemTime::now();
    let description = rotation
        .description
        .clone()
        .unwrap_or_else(|| format!("sealctl token rotate of {profile} at {}", rfc3339(started)));
    let mut journal = Journal {
        config: std::path::absolute(&path).unwrap_or_else(|_| path.clone()),
        profile: profile.clone(),
        started_at: rfc3339(started),
        description: description.clone(),
        step: Step::Creating,
        new_id: None,
        old_id: old_id.clone(),
        keep_old: rotation.keep_old,
        at: Journal::path(&path, &profile)?,
    };
    journal.save()?;

    // 1. Create, asking for JSON; an influxctl before 2.11 knows no --format: its own output.
    let expires_text = rotation.expires_at.map(rfc3339);
    let mut create = vec!["create", "--description", description.as_str()];
    if let Some(at) = &expires_text {
        create.extend(["--expires-at", at.as_str()]);
    }
    let json: Vec<&str> = create.iter().copied().chain(["--format", "json"]).collect();
    let mut ran = influxctl.management(&document, &profile, old_token.as_ref(), &json)?;
    if !ran.success && ran.stderr.contains("flag provided but not defined") {
        ran = influxctl.management(&document, &profile, old_token.as_ref(), &create)?;
    }
    if !ran.success {
        journal.remove();
        return Err(step_failed(
            CREATE_FAILED,
            format!(
                "influxctl could not create a new token: {}",
                management::last_line(&ran.stderr)
            ),
        )
        .hint("nothing was changed: the profile's token is the one it was"));
    }

    // 2. The new token, read from memory.
    let input = std::str::from_utf8(&ran.stdout)
        .ok()
        .and_then(|text| parse_token_input(text).ok());
    drop(ran);
    let Some(input) = input else {
        let mut error = step_failed(
            CREATE_FAILED,
            "influxctl's output held no token sealctl could read; the profile's token is the one it was",
        );
        if let Ok(Some(listed)) = influxctl
            .list(&document, &profile, old_token.as_ref())
            .map(Result::ok)
        {
            for left in journal.leftovers(old_id.as_deref(), Some(&listed)) {
                error = error.hint(format!(
                    "token {} {}: revoke it: {}",
                    left.id,
                    left.why,
                    revoke_by_hand(&path, &profile, &left.id)
                ));
            }
        }
        return Err(error);
    };
    let new_token = input.token;
    // influxctl before 2.11 does not print the id: the cluster's list has it, by prefix.
    let new_id = match input.id {
        Some(id) => Some(id),
        None => influxctl
            .list(&document, &profile, old_token.as_ref())?
            .ok()
            .and_then(|listed| find(&listed, None, Some(&new_token)).map(|found| found.id.clone())),
    };
    if let Some(id) = &new_id {
        journal.step = Step::Created;
        journal.new_id = Some(id.clone());
        journal.save()?;
    }

    // 3. It works (a new token can take minutes to become active).
    if let Err(why) = wait_until_active(&influxctl, &document, &profile, &new_token, rotation.wait)?
    {
        let error = step_failed(
            NOT_ACTIVE,
            format!(
                "the new token did not work within {}: {why}",
                humantime::format_duration(rotation.wait)
            ),
        );
        return Err(revoke_unrecorded(
            &influxctl,
            &document,
            &profile,
            old_token.as_ref(),
            new_id.as_deref(),
            &journal,
            error,
        )
        .hint("wait longer with --wait-active, as in --wait-active 15m"));
    }

    // 4. Recorded in place of the old, sealed as it was (atomic write).
    let to = old_sealed
        .as_ref()
        .and_then(|sealed| Destination::of(sealed).ok())
        .unwrap_or_else(|| Destination::chosen(None, None, None));
    let expires_at = input.expires_at.or(rotation.expires_at);
    let recorded = (|| -> Result<String, CommandError> {
        let mut sealer = Sealer::new(global, &mut document, to)?;
        let sealed = sealer.seal(&new_token, &place, &endpoint, &path, expires_at)?;
        let sealed = backend::with_token_id(sealed, new_id.as_deref());
        document.set(&profile, KEY, &sealed)?;
        let done = sealer.done(&place.to_string(), &path);
        sealer.save(&mut document)?;
        Ok(done)
    })();
    let done = match recorded {
        Ok(done) => done,
        Err(error) => {
            let error = step_failed(
                NOT_RECORDED,
                format!("the new token could not be recorded: {error}"),
            );
            return Err(revoke_unrecorded(
                &influxctl,
                &document,
                &profile,
                old_token.as_ref(),
                new_id.as_deref(),
                &journal,
                error,
            ));
        }
    };
    note!("{done}");
    match &new_id {
        Some(id) => note!("the new token's id is {id}"),
        None => warning!(
            "the new token's id is not known (influxctl did not print it, and `management list` did not show its prefix once): `token status` cannot match it by id"
        ),
    }
    journal.step = Step::Recorded;
    let _ = journal.save();

    // 5. The old token revoked, with the new one.
    let result = match (&old_id, rotation.keep_old) {
        (Some(id), true) => {
            note!(
                "kept the old token {id} (--keep-old); revoke it when nothing uses it: {}",
                revoke_by_hand(&path, &profile, id)
            );
            Ok(Status::Success)
        }
        (Some(id), false) => {
            let ran = influxctl.management(
                &document,
                &profile,
                Some(&new_token),
                &["revoke", "--force", id],
            )?;
            if ran.success {
                note!("revoked the old token {id}");
                Ok(Status::Success)
            } else {
                Err(step_failed(
                    OLD_NOT_REVOKED,
                    format!(
                        "the new token is recorded and works, but the old token {id} could not be revoked: {}",
                        management::last_line(&ran.stderr)
                    ),
                )
                .hint(format!("revoke it: {}", revoke_by_hand(&path, &profile, id))))
            }
        }
        (None, _) => Ok(Status::Success),
    };
    if result.is_ok() {
        journal.remove();
    }
    // The old value's keyring entry, if it had one, now that the file names the new one.
    backend::forget_replaced(old.as_deref())?;
    result
}

/// Step 3: `management list` with the new token, retried with a doubling pause (1 s, 2 s, … at
/// most 30 s) until it works or `wait` is spent. influxctl's last refusal if it never did.
fn wait_until_active(
    influxctl: &Influxctl,
    document: &ProfileDocument,
    profile: &str,
    token: &SecretString,
    wait: Duration,
) -> Result<Result<(), String>, CommandError> {
    let begun = Instant::now();
    let mut pause = Duration::from_secs(1);
    loop {
        let why = match influxctl.list(document, profile, Some(token))? {
            Ok(_) => return Ok(Ok(())),
            Err(why) => why,
        };
        if begun.elapsed() + pause > wait {
            return Ok(Err(why));
        }
        note!(
            "the new token does not work yet; trying again in {}",
            humantime::format_duration(pause)
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// A new token that will not be recorded is revoked with the old one (the file still holds it);
/// if that fails too, `error` names it, and the note stays for `token status`.
fn revoke_unrecorded(
    influxctl: &Influxctl,
    document: &ProfileDocument,
    profile: &str,
    old_token: Option<&SecretString>,
    new_id: Option<&str>,
    journal: &Journal,
    error: CommandError,
) -> CommandError {
    let Some(id) = new_id else {
        return error.hint(format!(
            "the new token (described \"{}\") could not be named: find it in `influxctl management list` and revoke it",
            journal.description
        ));
    };
    let revoked = influxctl
        .management(document, profile, old_token, &["revoke", "--force", id])
        .is_ok_and(|ran| ran.success);
    if revoked {
        journal.remove();
        error.hint(format!(
            "the new token {id} was revoked; the profile's token is the one it was"
        ))
    } else {
        error.hint(format!(
            "the new token {id} could not be revoked; revoke it: {}",
            revoke_by_hand(&journal.config, profile, id)
        ))
    }
}

/// `--dry-run`: the steps, with nothing opened, run or written.
fn dry_run(
    global: &GlobalArgs,
    path: &std::path::Path,
    influxctl: &Influxctl,
    rotation: &Rotation,
) -> Result<Status, CommandError> {
    let document = ProfileDocument::load(path)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let old = document.get(&profile, KEY)?;
    let sealed = old
        .as_deref()
        .filter(|value| looks_sealed(value))
        .and_then(|value| SealedValue::parse(value).ok());
    let kept = match &sealed {
        Some(sealed) => sealed.backend.to_string(),
        None if old.is_some() => "plaintext, sealed with age from now on".to_owned(),
        None => "none yet".to_owned(),
    };
    let auth = if old.is_some() {
        "with the profile's current token"
    } else {
        "after influxctl's own login (the profile has no management token)"
    };
    let mut create = format!(
        "{} management create --format json --description {}",
        influxctl.name(),
        crate::ui::shell_quote(
            rotation
                .description
                .as_deref()
                .unwrap_or(&format!("sealctl token rotate of {profile} at <now>"))
        )
    );
    if let Some(at) = rotation.expires_at {
        create.push_str(&format!(" --expires-at {}", rfc3339(at)));
    }
    let revoke = match (
        sealed.as_ref().and_then(SealedValue::token_id),
        rotation.keep_old,
    ) {
        (_, true) => "keep the old token (--keep-old)".to_owned(),
        (_, false) if old.is_none() => "nothing to revoke (no old token)".to_owned(),
        (Some(id), false) => {
            format!("revoke the old token: influxctl management revoke --force {id}")
        }
        (None, false) => {
            "revoke the old token, found by its prefix in `influxctl management list`".to_owned()
        }
    };
    println!(
        "sealctl token rotate would, for profile `{profile}` of {} (its token: {kept}):\n\
         1. run {create}, {auth}, given a copy of the profile in memory\n\
         2. read the new token and its id from influxctl's output, in memory only\n\
         3. check that the new token works: influxctl management list, retried for up to {}\n\
         4. seal it in place of the old one ({}), with its id and expiry\n\
         5. {revoke}\n\
         Nothing was run or changed (--dry-run).",
        path.display(),
        humantime::format_duration(rotation.wait),
        match &sealed {
            Some(sealed) => sealed.backend.to_string(),
            None => "age".to_owned(),
        }
    );
    Ok(Status::Success)
}
