//! What `check` found in each file, and the formats it is written in.

pub mod human;
pub mod json;
pub mod sarif;

use std::path::{Path, PathBuf};

use sealctl_profile::schema::same_key;
use sealctl_profile::{CheckedFile, Diagnostic, Rule, Severity};

use sealctl_profile::file::{check_size, read_to_limit};

/// One file given to `check`, and what became of it.
#[derive(Debug)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub result: Result<CheckedFile, String>,
    /// Skipped as plainly not a profile file (`--skip-other-toml`); `result` is then empty.
    pub skipped: bool,
}

impl FileOutcome {
    /// Reads and checks one file; a file that cannot be read is an outcome too, not a failure.
    pub fn check(path: PathBuf) -> FileOutcome {
        let result = read_and_check(&path);
        FileOutcome {
            path,
            result,
            skipped: false,
        }
    }

    /// [`FileOutcome::check`], skipping a file that is plainly not a profile file (such as
    /// `Cargo.toml`) instead of reporting that it has no profiles.
    pub fn check_or_skip_other(path: PathBuf) -> FileOutcome {
        let mut outcome = FileOutcome::check(path);
        // Judged only for files that found no profile: a profile file is never read twice.
        let no_profiles = outcome.result.as_ref().is_ok_and(|checked| {
            checked.diagnostics.iter().any(|d| {
                d.rule == Rule::NoProfiles
                    || d.rule == Rule::WrongType
                        && d.key.as_deref().is_some_and(|key| same_key(key, "profile"))
            })
        });
        if no_profiles
            && outcome.path.as_os_str() != "-"
            // Read again only a regular file: a pipe was consumed by the first read.
            && std::fs::metadata(&outcome.path).is_ok_and(|metadata| metadata.is_file())
            && sealctl_profile::file::read_limited(&outcome.path)
                .is_ok_and(|bytes| sealctl_profile::is_other_toml(&bytes))
        {
            outcome.result = Ok(CheckedFile {
                diagnostics: Vec::new(),
            });
            outcome.skipped = true;
        }
        outcome
    }

    /// The path and reason, for a file that could not be read.
    pub fn read_error(&self) -> Option<(&Path, &str)> {
        self.result
            .as_ref()
            .err()
            .map(|reason| (self.path.as_path(), reason.as_str()))
    }

    /// A diagnostic's help as every format shows it (see [`help`]).
    pub fn help(&self, diagnostic: &Diagnostic) -> Option<String> {
        help(
            diagnostic,
            (self.path.as_os_str() != "-").then_some(self.path.as_path()),
        )
    }

    /// The path as shown in every format.
    pub fn display_path(&self) -> String {
        if self.path.as_os_str() == "-" {
            "<stdin>".to_owned()
        } else {
            self.path.display().to_string()
        }
    }
}

/// A diagnostic's help as shown: its words, then the command that does it, naming `file` and
/// quoted to work when pasted. A file read from standard input has no name to give.
pub fn help(diagnostic: &Diagnostic, file: Option<&Path>) -> Option<String> {
    let Some(fix) = &diagnostic.fix else {
        return diagnostic.help.clone();
    };
    let args: Vec<&str> = fix.args.iter().map(String::as_str).collect();
    // The fix acts on its own profile, or on none (`rekey --all`), never on this run's.
    let mut line = crate::ui::CommandLine::sealctl(&args).no_profile();
    if let Some(file) = file {
        line = line.file(file);
    }
    if let Some(profile) = &fix.profile {
        line = line.profile(profile);
    }
    let mut help = match &diagnostic.help {
        Some(words) => format!("{words}: {line}"),
        None => line.to_string(),
    };
    if file.is_none() {
        help.push_str(" --config FILE, naming the file that was read from standard input");
    }
    Some(help)
}

/// Counts over all files.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub unreadable: usize,
    /// Files skipped as plainly not profile files.
    pub skipped: usize,
}

impl Summary {
    pub fn of(outcomes: &[FileOutcome]) -> Summary {
        let mut summary = Summary {
            files: outcomes.len(),
            ..Summary::default()
        };
        for outcome in outcomes {
            match &outcome.result {
                Ok(checked) => {
                    for diagnostic in &checked.diagnostics {
                        match diagnostic.severity {
                            Severity::Error => summary.errors += 1,
                            Severity::Warning => summary.warnings += 1,
                        }
                    }
                }
                Err(_) => summary.unreadable += 1,
            }
            summary.skipped += usize::from(outcome.skipped);
        }
        summary
    }
}

/// Checks a regular file a part at a time (`check_reader`), so that memory stays small;
/// standard input, pipes and devices are read whole first.
fn read_and_check(path: &Path) -> Result<CheckedFile, String> {
    // The limit and its message are the library's, as for every command that reads a profile.
    let bytes = if path.as_os_str() == "-" {
        read_to_limit(std::io::stdin().lock()).map_err(|error| describe(&error))?
    } else {
        let mut file = std::fs::File::open(path).map_err(|error| describe(&error))?;
        let metadata = file.metadata().map_err(|error| describe(&error))?;
        if metadata.is_dir() {
            return Err("it is a directory; name the profile files inside it".to_owned());
        }
        check_size(&metadata).map_err(|error| describe(&error))?;
        if metadata.is_file() {
            return sealctl_profile::check_reader(&mut file).map_err(|error| describe(&error));
        }
        read_to_limit(file).map_err(|error| describe(&error))?
    };
    Ok(sealctl_profile::check(&bytes))
}

fn describe(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => {
            "it is a directory; name the profile files inside it".to_owned()
        }
        _ => error.to_string(),
    }
}
