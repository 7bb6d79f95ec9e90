//! `sealctl git merge`: git's merge driver for profile files.
//!
//! Profiles and keys are merged one by one (`sealctl_profile::merge`); where both sides sealed a
//! value again, the value is opened on both sides (this needs an identity) to tell whether it
//! is the same secret. A file that cannot be merged that way is merged by lines with
//! `git merge-file`, so no text is ever lost. The result is written over the "ours" file, as git
//! expects; the exit status is 0 when clean, 1 when conflict markers are left in it.

use std::path::{Path, PathBuf};
use std::process::Command;

use sealctl_profile::file::read_limited;
use sealctl_profile::merge::{Markers, merge};
use sealctl_profile::sealed::SealedValue;
use sealctl_profile::terminal::visible;
use secrecy::ExposeSecret as _;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::{CommandError, Status};
use crate::ui::plural;

/// The files git gives a merge driver.
#[derive(Debug)]
pub struct MergeFiles<'a> {
    /// `%O`: the common ancestor's version.
    pub base: &'a Path,
    /// `%A`: ours, where the result is written.
    pub ours: &'a Path,
    /// `%B`: theirs.
    pub theirs: &'a Path,
    /// `%P`: the file's path in the repository, for messages.
    pub name: Option<&'a Path>,
    /// `%L`: the length of the conflict markers.
    pub marker_size: usize,
}

/// Merges the three versions into `files.ours`.
pub fn run(global: &GlobalArgs, files: &MergeFiles<'_>) -> Result<Status, CommandError> {
    let read = |path: &Path| {
        read_limited(path).map_err(|error| {
            CommandError::setup(format!("cannot read {}", path.display())).source(error)
        })
    };
    let (base, ours, theirs) = (read(files.base)?, read(files.ours)?, read(files.theirs)?);
    let shown = files.name.unwrap_or(files.ours).display().to_string();
    let markers = Markers {
        size: files.marker_size,
        ours: "ours".to_owned(),
        theirs: "theirs".to_owned(),
    };
    let texts = (
        std::str::from_utf8(&base),
        std::str::from_utf8(&ours),
        std::str::from_utf8(&theirs),
    );
    let merged = match texts {
        (Ok(base), Ok(ours), Ok(theirs)) => {
            let mut secrets = SecretComparer::new(global, files.name.unwrap_or(files.ours));
            merge(base, ours, theirs, &markers, &mut |place, ours, theirs| {
                secrets.same(place, ours, theirs)
            })
        }
        _ => None,
    };
    let Some(merged) = merged else {
        note!(
            "{}: merged line by line (not as profiles: a side does not parse, or changed more than profiles)",
            visible(&shown)
        );
        return by_lines(files, &markers);
    };
    std::fs::write(files.ours, merged.text.as_bytes()).map_err(|error| {
        CommandError::setup(format!("cannot write {}", files.ours.display())).source(error)
    })?;
    for place in &merged.stale {
        warning!(
            "{}: {place} was sealed again on both sides with the same token, to other recipients than the merged ones; ours is kept\nhint: seal it to the merged recipients: sealctl rekey",
            visible(&shown)
        );
    }
    if merged.conflicts.is_empty() {
        return Ok(Status::Success);
    }
    for conflict in &merged.conflicts {
        warning!(
            "{}: conflict: both sides changed {conflict}",
            visible(&shown)
        );
    }
    note!(
        "{}: {} left between conflict markers",
        visible(&shown),
        plural(merged.conflicts.len(), "conflict")
    );
    Ok(Status::Findings)
}

/// The line merge of `git merge-file`, in place; if git cannot do it, the two files whole
/// between markers.
fn by_lines(files: &MergeFiles<'_>, markers: &Markers) -> Result<Status, CommandError> {
    let status = Command::new("git")
        .arg("merge-file")
        .arg(format!("--marker-size={}", files.marker_size))
        .args(["-L", &markers.ours, "-L", "base", "-L", &markers.theirs])
        .arg(files.ours)
        .arg(files.base)
        .arg(files.theirs)
        .status();
    match status.ok().and_then(|status| status.code()) {
        Some(0) => Ok(Status::Success),
        // git merge-file exits with the number of conflicts, negative on an error.
        Some(code) if code > 0 => Ok(Status::Findings),
        _ => {
            let read = |path: &Path| {
                std::fs::read(path).map_err(|error| {
                    CommandError::setup(format!("cannot read {}", path.display())).source(error)
                })
            };
            let (ours, theirs) = (read(files.ours)?, read(files.theirs)?);
            let mut out = Vec::new();
            let marker = |c: char| c.to_string().repeat(files.marker_size);
            out.extend(format!("{} {}\n", marker('<'), markers.ours).bytes());
            out.extend(&ours);
            if !ours.ends_with(b"\n") && !ours.is_empty() {
                out.push(b'\n');
            }
            out.extend(format!("{}\n", marker('=')).bytes());
            out.extend(&theirs);
            if !theirs.ends_with(b"\n") && !theirs.is_empty() {
                out.push(b'\n');
            }
            out.extend(format!("{} {}\n", marker('>'), markers.theirs).bytes());
            std::fs::write(files.ours, out).map_err(|error| {
                CommandError::setup(format!("cannot write {}", files.ours.display())).source(error)
            })?;
            Ok(Status::Findings)
        }
    }
}

/// Opens the two values both sides sealed again, to tell whether they hold the same secret.
struct SecretComparer {
    opener: target::Opener,
    /// Said once: why nothing could be compared.
    told: bool,
}

impl SecretComparer {
    fn new(global: &GlobalArgs, config: &Path) -> SecretComparer {
        SecretComparer {
            opener: target::Opener::new(global, &PathBuf::from(config)),
            told: false,
        }
    }

    /// Whether both open, in their place, to the same secret. Anything that does not open is
    /// "not known to be the same": a conflict, never a guess.
    fn same(&mut self, place: &sealctl_profile::Place, ours: &str, theirs: &str) -> bool {
        let mut open = |value: &str| {
            let sealed = SealedValue::parse(value).ok()?;
            match self.opener.open_envelope(&sealed, place) {
                Ok(envelope) => Some(envelope.secret),
                Err(error) => {
                    if !self.told {
                        note!(
                            "cannot tell whether both sides sealed the same token at {place} ({}); left as a conflict",
                            crate::error::CommandError::from(error)
                        );
                        self.told = true;
                    }
                    None
                }
            }
        };
        let Some(ours) = open(ours) else {
            return false;
        };
        let Some(theirs) = open(theirs) else {
            return false;
        };
        ours.expose_secret() == theirs.expose_secret()
    }
}
