//! `sealctl check`: validate profile files, for people, pre-commit hooks and CI.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rayon::prelude::*;

use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status, is_broken_pipe};
use crate::report::{self, FileOutcome, Summary};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files to check (`-` reads standard input). With none, checks the profile file:
    /// --config, else influxctl's default.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format: `human` (rustc-style), `json`, or `sarif` (SARIF 2.1.0, for code scanning).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,

    /// Exit with status 1 on warnings too, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Skip TOML files that are plainly not profile files (such as Cargo.toml: no [[profile]],
    /// no [sealctl] table, no influxctl key) instead of failing them with no-profiles. For hooks
    /// and CI jobs that check every .toml file; a broken profile file still fails.
    // This text is `--help`, where clap shows a `\[` escape as it is: the brackets stay plain
    // and rustdoc is told that they are not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long)]
    pub skip_other_toml: bool,
}

/// How `check` writes what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with the source line and a caret.
    Human,
    /// One JSON document for all files.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

pub fn cmd_check(global: &GlobalArgs, args: CheckArgs) -> Result<Status, CommandError> {
    let paths = if args.files.is_empty() {
        let path =
            config_path::resolve(global.config.clone(), Need::Existing).map_err(|error| {
                error.hint("to check other files, name them: sealctl check FILE...")
            })?;
        vec![path]
    } else {
        args.files
    };
    let check = if args.skip_other_toml {
        FileOutcome::check_or_skip_other
    } else {
        FileOutcome::check
    };
    let outcomes: Vec<FileOutcome> = paths.into_par_iter().map(check).collect();
    let summary = Summary::of(&outcomes);
    let status = if summary.unreadable > 0 {
        Status::Setup
    } else if summary.errors > 0 || (args.deny_warnings && summary.warnings > 0) {
        Status::Findings
    } else {
        Status::Success
    };

    for (path, reason) in outcomes.iter().filter_map(FileOutcome::read_error) {
        let path = crate::ui::visible(&path.to_string_lossy()).into_owned();
        anstream::eprintln!("error: cannot read {path}: {reason}");
    }
    let written = match args.format {
        Format::Human => {
            let mut out = std::io::BufWriter::new(anstream::stdout().lock());
            report::human::write(&mut out, &outcomes, &summary).and_then(|()| out.flush())
        }
        Format::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            report::json::write(&mut out, &outcomes, &summary).and_then(|()| out.flush())
        }
        Format::Sarif => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            report::sarif::write(&mut out, &outcomes).and_then(|()| out.flush())
        }
    };
    match written {
        Err(error) if !is_broken_pipe(&error) => {
            Err(CommandError::setup("cannot write the report").source(error))
        }
        _ => Ok(status),
    }
}
