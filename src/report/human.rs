//! rustc-style diagnostics: `error[rule]: message`, `--> file:line:col`, the line, a caret, help.
//!
//! The line shown is each diagnostic's `source_line`, in which secrets are shown as `[redacted]`
//! and control characters cannot reach the terminal.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use sealctl_profile::{Diagnostic, Severity};

use super::{FileOutcome, Summary};

pub fn write(out: &mut impl Write, outcomes: &[FileOutcome], summary: &Summary) -> io::Result<()> {
    let renderer = Renderer::styled();
    for outcome in outcomes {
        let Ok(checked) = &outcome.result else {
            continue;
        };
        let path = outcome.display_path();
        for diagnostic in &checked.diagnostics {
            let rendered = render(&renderer, &path, diagnostic);
            writeln!(out, "{rendered}\n")?;
        }
    }
    writeln!(out, "{}", summary_line(summary))
}

fn render(renderer: &Renderer, path: &str, diagnostic: &Diagnostic) -> String {
    let line = &diagnostic.source_line;
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut group = level
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.rule.id())
        .element(
            Snippet::source(line.text.as_str())
                .line_start(line.number)
                .path(path)
                .annotation(AnnotationKind::Primary.span(line.start..line.end)),
        );
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let report: &[Group<'_>] = &[group];
    renderer.render(report)
}

fn summary_line(summary: &Summary) -> String {
    // A file that could not be read is a failure: it leads, so that no reader stops at "no
    // problems found" (status 2 says the same).
    let checked = summary.files - summary.unreadable;
    let findings = match (summary.errors, summary.warnings) {
        (0, 0) => "no problems found".to_owned(),
        (errors, warnings) => format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    };
    let checked = checked - summary.skipped;
    let skipped = match summary.skipped {
        0 => String::new(),
        1 => "; skipped 1 file that is not a profile file".to_owned(),
        n => format!("; skipped {n} files that are not profile files"),
    };
    match (summary.unreadable, checked) {
        (0, 0) if summary.skipped > 0 => {
            format!("{}: nothing to check", skipped.trim_start_matches("; "))
        }
        (0, _) => format!("checked {}: {findings}{skipped}", plural(checked, "file")),
        (unreadable, 0) => format!(
            "{} could not be read; nothing was checked",
            plural(unreadable, "file")
        ),
        (unreadable, checked) => format!(
            "{} could not be read; checked {}: {findings}{skipped}",
            plural(unreadable, "file"),
            plural(checked, "other file")
        ),
    }
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}
