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
        // Names and paths reach a terminal here: shown, never obeyed.
        let path = crate::ui::visible(&outcome.display_path()).into_owned();
        for diagnostic in &checked.diagnostics {
            let help = outcome.help(diagnostic);
            let rendered = render(&renderer, &path, diagnostic, help.as_deref());
            writeln!(out, "{rendered}\n")?;
        }
    }
    writeln!(out, "{}", summary_line(summary))
}

fn render(renderer: &Renderer, path: &str, diagnostic: &Diagnostic, help: Option<&str>) -> String {
    let line = &diagnostic.source_line;
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let message = crate::ui::visible_message(&diagnostic.message);
    let mut group = level
        .primary_title(message.as_ref())
        .id(diagnostic.rule.id())
        .element(
            Snippet::source(line.text.as_str())
                .line_start(line.number)
                .path(path)
                .annotation(AnnotationKind::Primary.span(line.start..line.end)),
        );
    let help = help.map(crate::ui::visible_message);
    if let Some(help) = &help {
        group = group.element(Level::HELP.message(help.as_ref()));
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
