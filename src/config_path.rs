//! Which profile file a command acts on: the one `--config` names, else influxctl's default.
//!
//! One resolver for every command, so that they all find the same file and say the same thing
//! when there is none; what differs is only what a command needs of the file ([`Need`]).

use std::path::PathBuf;

use sealctl_profile::file::resolve_links;
use sealctl_profile::paths::default_config_path;

use crate::error::CommandError;

/// What a command needs of the profile file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// It must exist: the command reads or changes what is in it.
    Existing,
    /// It may not exist yet: `init` and `profile add` create it.
    MayCreate,
    /// It may be absent: `doctor` says so in its report, as one finding among others.
    MayBeAbsent,
}

/// The profile file `named` (by `--config`, or by influxctl's own `--config` for `exec`), else
/// influxctl's default. With [`Need::Existing`], a file that is not there is an error whose hint
/// says how to name or create it.
pub fn resolve(named: Option<PathBuf>, need: Need) -> Result<PathBuf, CommandError> {
    let path = match named {
        Some(path) => path,
        None => default_config_path().ok_or_else(|| {
            CommandError::setup(
                "cannot find influxctl's profile file: this system has no home folder",
            )
            .hint("name the file with --config FILE")
        })?,
    };
    match need {
        Need::Existing if !path.exists() => Err(missing(path)?),
        Need::Existing | Need::MayCreate | Need::MayBeAbsent => Ok(path),
    }
}

/// The error for a profile file that must exist and does not.
fn missing(path: PathBuf) -> Result<CommandError, CommandError> {
    let target = resolve_links(&path)?;
    let through = if target == path {
        String::new()
    } else {
        // A dotfiles link whose target is not there (yet): say where it points.
        format!(
            " (it is a link to {}, which does not exist)",
            target.display()
        )
    };
    Ok(CommandError::setup(format!(
        "there is no profile file at {}{through}",
        path.display()
    ))
    .hint(format!(
        "name the file with --config FILE, or create one with `{}`",
        crate::ui::CommandLine::sealctl(&["init"]).file(&path)
    )))
}
