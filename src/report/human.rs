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
    let files = plural(summary.files, "file");
    let mut line = match (summary.errors, summary.warnings) {
        (0, 0) => format!("checked {files}: no problems found"),
        (errors, warnings) => format!(
            "checked {files}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    };
    if summary.unreadable > 0 {
        line.push_str(&format!(
            "; {} could not be read",
            plural(summary.unreadable, "file")
        ));
    }
    line
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}
