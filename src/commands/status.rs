//! `sealctl token status`: what the file says of each profile's management token (its backend,
//! id and expiry) beside what the cluster says (`influxctl management list --format json`):
//! active, expiring, expired, revoked, or unknown to it. For monitoring: exit status 1 when any
//! token is in trouble.

use std::path::PathBuf;
use std::time::SystemTime;

use sealctl_profile::sealed::{SealedValue, looks_sealed};
use sealctl_profile::{EXPIRY_WARNING, ProfileDocument};
use sealctl_seal::Place;
use secrecy::SecretString;
use serde::Serialize;

use super::journal::{Journal, Leftover, rfc3339};
use super::management::{Influxctl, ListedToken, find, revoke_by_hand};
use super::target;
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status, write_stdout};

/// What `token status` was asked.
#[derive(Debug)]
pub struct StatusRequest {
    /// Every profile, not only the chosen one.
    pub all: bool,
    /// JSON instead of lines for people.
    pub json: bool,
    /// The influxctl to run.
    pub influxctl: Option<PathBuf>,
}

/// One profile's token, as the file and the cluster see it.
#[derive(Debug, Serialize)]
pub struct TokenState {
    /// The profile.
    pub profile: String,
    /// `age`, `keyring`, `plaintext` or `absent`.
    pub kept: String,
    /// The id the file records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The expiry the file records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// What the cluster says.
    pub cluster: Cluster,
    /// Tokens an interrupted `token rotate` left live and unrecorded.
    pub leftovers: Vec<Leftover>,
}

/// What the cluster says of a token.
#[derive(Debug, Default, Serialize)]
pub struct Cluster {
    /// `active`, `expiring`, `expired`, `revoked`, `unknown` (not in the cluster's list),
    /// `refused` (the cluster refused it and nothing else could ask), `unopened` (it could not
    /// be opened), or `absent` (the profile has no management token).
    pub state: &'static str,
    /// Its id in the cluster's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it expires, as the cluster says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Whole days left before it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<u64>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Why the cluster could not be asked, in influxctl's or sealctl's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl TokenState {
    /// Whether monitoring should hear of it.
    pub fn in_trouble(&self) -> bool {
        !self.leftovers.is_empty()
            || matches!(
                self.cluster.state,
                "expired" | "revoked" | "unknown" | "refused" | "unopened"
            )
    }
}

/// Runs `token status`.
pub fn status(global: &GlobalArgs, request: StatusRequest) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let document = ProfileDocument::load(&path)?;
    let states = states(global, &document, &path, &request)?;
    let trouble = states.iter().any(TokenState::in_trouble);
    let text = if request.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({ "profiles": states })).expect("JSON")
        )
    } else {
        human(&states, &path)
    };
    write_stdout(text.as_bytes(), "the status")?;
    Ok(if trouble {
        Status::Findings
    } else {
        Status::Success
    })
}

/// The state of each profile in scope, asking the cluster with each profile's own token.
pub fn states(
    global: &GlobalArgs,
    document: &ProfileDocument,
    path: &std::path::Path,
    request: &StatusRequest,
) -> Result<Vec<TokenState>, CommandError> {
    let influxctl = Influxctl::new(request.influxctl.clone());
    let profiles = target::profiles(document, global, request.all)?;
    let mut opener = target::Opener::new(global, path);
    // Every profile's opened token, for asking about another profile of the same cluster.
    let mut opened: Vec<(String, Option<SecretString>)> = Vec::new();
    let mut states = Vec::new();
    for profile in &profiles {
        let value = document.get(profile, "mgmt_token")?;
        let sealed = value
            .as_deref()
            .filter(|value| looks_sealed(value))
            .and_then(|value| SealedValue::parse(value).ok());
        let mut state = TokenState {
            profile: profile.clone(),
            kept: match (&value, &sealed) {
                (None, _) => "absent".to_owned(),
                (Some(_), Some(sealed)) => sealed.backend.to_string(),
                (Some(_), None) => "plaintext".to_owned(),
            },
            id: sealed
                .as_ref()
                .and_then(SealedValue::token_id)
                .map(str::to_owned),
            expires_at: sealed
                .as_ref()
                .and_then(SealedValue::expires_at)
                .map(rfc3339),
            cluster: Cluster::default(),
            leftovers: Vec::new(),
        };
        let Some(value) = value else {
            state.cluster.state = "absent";
            states.push(state);
            continue;
        };
        let endpoint = target::endpoint(document, profile)?;
        let place = Place::new(profile.clone(), "mgmt_token");
        let token = match opener.open(&value, &place, &endpoint) {
            Ok(token) => token,
            Err(error) => {
                state.cluster.state = "unopened";
                state.cluster.message = Some(error.to_string());
                opened.push((profile.clone(), None));
                states.push(state);
                continue;
            }
        };
        let mut listed = influxctl.list(document, profile, Some(&token))?;
        if listed.is_err() {
            // Refused: another profile of the same cluster may still see it (revoked, expired).
            for other in document.profile_names() {
                if other == *profile
                    || target::endpoint(document, &other).ok() != Some(endpoint.clone())
                {
                    continue;
                }
                let Some(other_token) = other_token(&mut opened, &mut opener, document, &other)
                else {
                    continue;
                };
                if let Ok(Ok(seen)) = influxctl.list(document, &other, Some(&other_token)) {
                    listed = Ok(seen);
                    break;
                }
            }
        }
        state.cluster = match &listed {
            Ok(listed) => match find(listed, state.id.as_deref(), Some(&token)) {
                Some(found) => judge(found),
                None => Cluster {
                    state: "unknown",
                    ..Cluster::default()
                },
            },
            Err(why) => {
                let expired = sealed
                    .as_ref()
                    .and_then(SealedValue::expires_at)
                    .is_some_and(|at| at <= SystemTime::now());
                Cluster {
                    state: if expired { "expired" } else { "refused" },
                    message: Some(why.clone()),
                    ..Cluster::default()
                }
            }
        };
        if let Some(journal) = Journal::left(path, profile)? {
            let recorded = state.id.clone().or_else(|| state.cluster.id.clone());
            state.leftovers = journal.leftovers(recorded.as_deref(), listed.as_deref().ok());
        }
        opened.push((profile.clone(), Some(token)));
        states.push(state);
    }
    Ok(states)
}

/// The opened token of another profile, opened once.
fn other_token(
    opened: &mut Vec<(String, Option<SecretString>)>,
    opener: &mut target::Opener,
    document: &ProfileDocument,
    profile: &str,
) -> Option<SecretString> {
    if let Some((_, token)) = opened.iter().find(|(name, _)| name == profile) {
        return token.clone();
    }
    let value = document.get(profile, "mgmt_token").ok().flatten()?;
    let endpoint = target::endpoint(document, profile).ok()?;
    let token = opener
        .open(
            &value,
            &Place::new(profile.to_owned(), "mgmt_token"),
            &endpoint,
        )
        .ok();
    opened.push((profile.to_owned(), token.clone()));
    token
}

/// A listed token's state.
fn judge(found: &ListedToken) -> Cluster {
    let now = SystemTime::now();
    let mut cluster = Cluster {
        id: Some(found.id.clone()),
        expires_at: found.expires_at.map(rfc3339),
        revoked_at: found.revoked_at.map(rfc3339),
        ..Cluster::default()
    };
    let left = found.expires_at.and_then(|at| at.duration_since(now).ok());
    cluster.days_left = left.map(|left| left.as_secs() / 86_400);
    cluster.state = if found.revoked_at.is_some() {
        "revoked"
    } else if found.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else if left.is_some_and(|left| left <= EXPIRY_WARNING) {
        "expiring"
    } else {
        "active"
    };
    cluster
}

/// One line per profile, and a line per leftover token with how to revoke it.
fn human(states: &[TokenState], path: &std::path::Path) -> String {
    let mut text = String::new();
    for state in states {
        let mut file = state.kept.clone();
        if let Some(id) = &state.id {
            file.push_str(&format!(", id {id}"));
        }
        if let Some(at) = &state.expires_at {
            file.push_str(&format!(", expires {at}"));
        }
        let cluster = &state.cluster;
        let said = match cluster.state {
            "active" => match cluster.days_left {
                Some(days) => format!("active, expires in {days} days"),
                None => "active, does not expire".to_owned(),
            },
            "expiring" => format!("expiring, in {} days", cluster.days_left.unwrap_or(0)),
            "expired" => format!(
                "expired{}",
                cluster
                    .expires_at
                    .as_ref()
                    .map(|at| format!(" at {at}"))
                    .unwrap_or_default()
            ),
            "revoked" => format!(
                "revoked at {}",
                cluster.revoked_at.as_deref().unwrap_or("?")
            ),
            "unknown" => "unknown to the cluster (not in `influxctl management list`)".to_owned(),
            "absent" => "no management token".to_owned(),
            other => format!(
                "{other}: {}",
                cluster.message.as_deref().unwrap_or_default()
            ),
        };
        text.push_str(&format!(
            "{}: file: {file}; cluster: {said}\n",
            state.profile
        ));
        for left in &state.leftovers {
            text.push_str(&format!(
                "{}: token {} {}\n  revoke it: {}\n",
                state.profile,
                left.id,
                left.why,
                revoke_by_hand(path, &state.profile, &left.id)
            ));
        }
    }
    text
}
