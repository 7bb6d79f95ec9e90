//! `--format json`: one document for all files, with a summary.

use std::io::{self, Write};

use serde::Serialize;

use super::{FileOutcome, Summary};

#[derive(Serialize)]
struct Report<'a> {
    files: Vec<File<'a>>,
    summary: Counts,
}

#[derive(Serialize)]
struct File<'a> {
    path: String,
    /// Why the file could not be read; absent when it was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// Present, and true, for a file skipped as plainly not a profile file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped: bool,
    diagnostics: Vec<Diagnostic<'a>>,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    rule: &'static str,
    severity: &'static str,
    message: &'a str,
    help: Option<String>,
    line: usize,
    column: usize,
    profile: Option<&'a str>,
    key: Option<&'a str>,
}

#[derive(Serialize)]
struct Counts {
    files: usize,
    errors: usize,
    warnings: usize,
    unreadable: usize,
}

pub fn write(out: &mut impl Write, outcomes: &[FileOutcome], summary: &Summary) -> io::Result<()> {
    let files = outcomes
        .iter()
        .map(|outcome| File {
            path: outcome.display_path(),
            error: outcome.read_error().map(|(_, reason)| reason),
            skipped: outcome.skipped,
            diagnostics: outcome
                .result
                .iter()
                .flat_map(|checked| &checked.diagnostics)
                .map(|d| Diagnostic {
                    rule: d.rule.id(),
                    severity: d.severity.as_str(),
                    message: &d.message,
                    help: outcome.help(d),
                    line: d.line,
                    column: d.column,
                    profile: d.profile.as_deref(),
                    key: d.key.as_deref(),
                })
                .collect(),
        })
        .collect();
    let report = Report {
        files,
        summary: Counts {
            files: summary.files,
            errors: summary.errors,
            warnings: summary.warnings,
            unreadable: summary.unreadable,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
