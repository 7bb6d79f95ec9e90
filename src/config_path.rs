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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_that_must_exist_and_does_not_is_an_error_that_says_how_to_go_on() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        let error = resolve(Some(path.clone()), Need::Existing).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("there is no profile file at {}", path.display())
        );
        assert_eq!(error.hints().len(), 1);
        assert!(
            error.hints()[0]
                .starts_with("name the file with --config FILE, or create one with `sealctl init"),
            "{:?}",
            error.hints()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_missing_file_says_where_it_points() {
        let folder = tempfile::tempdir().unwrap();
        let link = folder.path().join("config.toml");
        let target = folder.path().join("dotfiles").join("influxctl.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = resolve(Some(link.clone()), Need::Existing).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "there is no profile file at {} (it is a link to {}, which does not exist)",
                link.display(),
                target.display()
            )
        );
    }

    #[test]
    fn a_file_that_may_be_created_or_absent_is_named_all_the_same() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        for need in [Need::MayCreate, Need::MayBeAbsent] {
            assert_eq!(resolve(Some(path.clone()), need).unwrap(), path);
        }
        std::fs::write(&path, "").unwrap();
        for need in [Need::Existing, Need::MayCreate, Need::MayBeAbsent] {
            assert_eq!(resolve(Some(path.clone()), need).unwrap(), path);
        }
    }
}
