//! What `token rotate` is doing, noted outside the profile file before each step that makes or
//! unmakes a token, so that a rotation killed at any moment leaves a trace the next `token
//! rotate` or `token status` reads: the ids of the tokens it left live but unrecorded.
//!
//! It holds no secret: the file, the profile, when the rotation started, the new token's
//! description and, once known, the ids of the new and old tokens.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::management::ListedToken;
use crate::error::CommandError;

/// How far a rotation had come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// influxctl was asked for a new token; its id is not known yet.
    Creating,
    /// The new token exists (its id is `new_id`), not yet recorded in the file.
    Created,
    /// The new token is recorded; the old one (`old_id`) is to be revoked.
    Recorded,
}

/// The note of one rotation in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Journal {
    /// The profile file.
    pub config: PathBuf,
    /// The profile.
    pub profile: String,
    /// When the rotation started (RFC 3339).
    pub started_at: String,
    /// The description the new token was created with.
    pub description: String,
    /// How far it came.
    pub step: Step,
    /// The new token's id, once known.
    pub new_id: Option<String>,
    /// The id of the token it replaces, when known.
    pub old_id: Option<String>,
    /// Whether the old token was to be kept (`--keep-old`).
    pub keep_old: bool,
    /// Where this note is kept.
    #[serde(skip)]
    pub at: PathBuf,
}

/// A token an interrupted rotation left live and unrecorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leftover {
    /// Its id.
    pub id: String,
    /// What happened to it, in words.
    pub why: String,
}

impl Journal {
    /// Where the note of a rotation of `profile` in `config` is kept.
    pub fn path(config: &Path, profile: &str) -> Result<PathBuf, CommandError> {
        sealctl_profile::paths::rotation_journal(config, profile).ok_or_else(|| {
            CommandError::setup("no home folder to keep the rotation's notes in")
                .hint("set HOME (or XDG_STATE_HOME)")
        })
    }

    /// The note a rotation left, if one did.
    pub fn left(config: &Path, profile: &str) -> Result<Option<Journal>, CommandError> {
        let at = Journal::path(config, profile)?;
        let Ok(text) = std::fs::read_to_string(&at) else {
            return Ok(None);
        };
        match serde_json::from_str::<Journal>(&text) {
            Ok(mut journal) => {
                journal.at = at;
                Ok(Some(journal))
            }
            Err(error) => Err(CommandError::setup(format!(
                "the note of an interrupted `token rotate`, {}, cannot be read: {error}",
                at.display()
            ))
            .hint("read it (it holds no secret), revoke any token it names, then remove it")),
        }
    }

    /// Writes the note in place, whole or not at all, before the step it announces.
    pub fn save(&self) -> Result<(), CommandError> {
        let fail = |error: std::io::Error| {
            CommandError::setup(format!(
                "cannot note the rotation in {}: {error}",
                self.at.display()
            ))
            .hint("nothing was changed; make that folder writable, or set XDG_STATE_HOME")
        };
        let folder = self.at.parent().expect("a file in a folder");
        std::fs::create_dir_all(folder).map_err(fail)?;
        let writing = self.at.with_extension("writing");
        let text = serde_json::to_string_pretty(self).expect("a note is JSON");
        {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&writing).map_err(fail)?;
            file.write_all(text.as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        std::fs::rename(&writing, &self.at).map_err(fail)
    }

    /// The rotation is over: its note goes.
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.at);
    }

    /// The tokens this rotation left live and not recorded in the file, whose recorded token
    /// has the id `recorded` now; `listed` is what the cluster shows, if it could be asked
    /// (without it, every token the note names is assumed live).
    pub fn leftovers(
        &self,
        recorded: Option<&str>,
        listed: Option<&[ListedToken]>,
    ) -> Vec<Leftover> {
        let live = |id: &str| {
            listed.is_none_or(|listed| listed.iter().any(|token| token.id == id && token.is_live()))
        };
        let mut left = Vec::new();
        let recorded_new = self.new_id.is_some() && self.new_id.as_deref() == recorded;
        match (self.step, &self.new_id) {
            (Step::Creating, _) => {
                let started = humantime::parse_rfc3339(&self.started_at).ok();
                // A token made by this rotation: its description, created after it started. A
                // token whose creation time is unknown is not taken for one: it may be the
                // working token, made by an earlier rotation with the same description.
                for token in listed.unwrap_or_default() {
                    let after = match (started, token.created_at) {
                        (Some(started), Some(created)) => {
                            created + Duration::from_secs(60) >= started
                        }
                        _ => false,
                    };
                    if token.description == self.description
                        && after
                        && token.is_live()
                        && Some(token.id.as_str()) != recorded
                    {
                        left.push(Leftover {
                            id: token.id.clone(),
                            why: format!(
                                "was created by a `token rotate` interrupted at {} (its description is \"{}\") and is not recorded in {}",
                                self.started_at,
                                self.description,
                                self.config.display()
                            ),
                        });
                    }
                }
            }
            (Step::Created, Some(new_id)) if !recorded_new && live(new_id) => {
                left.push(Leftover {
                    id: new_id.clone(),
                    why: format!(
                        "was created by a `token rotate` interrupted at {} and is not recorded in {}",
                        self.started_at,
                        self.config.display()
                    ),
                });
            }
            _ => {}
        }
        let recorded_step = self.step == Step::Recorded || recorded_new;
        if let Some(old_id) = &self.old_id
            && recorded_step
            && !self.keep_old
            && Some(old_id.as_str()) != recorded
            && live(old_id)
        {
            left.push(Leftover {
                id: old_id.clone(),
                why: format!(
                    "was replaced by a `token rotate` started at {}, but not revoked",
                    self.started_at
                ),
            });
        }
        left
    }
}

/// The time as the note writes it.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}
