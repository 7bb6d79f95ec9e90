//! `sealctl man --out DIR`: the manual pages, one per subcommand (`sealctl-token-set.1`, …).
//!
//! Written here rather than by clap_mangen, whose pages named the subcommand, not sealctl, in the
//! footer, dropped `<FILE>` from the synopsis, refilled the examples into one paragraph and
//! failed `mandoc -T lint`. These pass it without a message (tests/completions.rs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Arg, Args, CommandFactory as _};

use crate::cli::Cli;
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    sealctl man --out ~/.local/share/man/man1 && man sealctl-exec\n\n\
The pages are dated today, or SOURCE_DATE_EPOCH if set.")]
pub struct ManArgs {
    /// The folder to write the pages to (made if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn cmd_man(args: ManArgs) -> Result<Status, CommandError> {
    let cannot = |error: std::io::Error| {
        CommandError::setup(format!(
            "cannot write manual pages to {}",
            args.out.display()
        ))
        .source(error)
    };
    std::fs::create_dir_all(&args.out).map_err(cannot)?;
    let mut command = Cli::command();
    // Gives every subcommand the global flags, as `--help` shows them.
    command.build();
    write_pages(&command, &[], &date(), &args.out).map_err(cannot)?;
    note!("wrote the manual pages to {}", args.out.display());
    Ok(Status::Success)
}

/// Writes the page of `command` and of each of its subcommands, below `parents`.
fn write_pages(
    command: &clap::Command,
    parents: &[&str],
    date: &str,
    out: &Path,
) -> std::io::Result<()> {
    let mut path = parents.to_vec();
    path.push(command.get_name());
    std::fs::write(
        out.join(format!("{}.1", path.join("-"))),
        page(command, &path, date),
    )?;
    for subcommand in visible_subcommands(command) {
        write_pages(subcommand, &path, date, out)?;
    }
    Ok(())
}

fn visible_subcommands(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set() && subcommand.get_name() != "help")
}

/// The date in the footer: today, or SOURCE_DATE_EPOCH for a reproducible build.
fn date() -> String {
    let when = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .map(|seconds| std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
        .unwrap_or_else(std::time::SystemTime::now);
    humantime::format_rfc3339_seconds(when).to_string()[..10].to_owned()
}

/// One page. `path` is `["sealctl", "token", "set"]`.
fn page(command: &clap::Command, path: &[&str], date: &str) -> String {
    let name = path.join("-");
    let version = env!("CARGO_PKG_VERSION");
    let mut page = String::new();
    let _ = writeln!(
        page,
        ".TH {} 1 {date} \"sealctl {version}\" \"sealctl manual\"",
        escape(&name.to_uppercase())
    );

    page.push_str(".SH NAME\n");
    let about = command
        .get_about()
        .map(|about| about.to_string())
        .unwrap_or_default();
    text(
        &mut page,
        &format!("{name} - {}", about.trim_end_matches('.')),
    );

    page.push_str(".SH SYNOPSIS\n");
    let _ = writeln!(page, "\\fB{}\\fR", escape(&path.join(" ")));
    for arg in visible_args(command) {
        let _ = writeln!(page, "{}", synopsis(arg));
    }
    if visible_subcommands(command).next().is_some() {
        page.push_str("\\fICOMMAND\\fR\n");
    }

    page.push_str(".SH DESCRIPTION\n");
    let description = command
        .get_long_about()
        .or(command.get_about())
        .map(|about| about.to_string())
        .unwrap_or_default();
    paragraphs(&mut page, &description);

    let mut args = visible_args(command).peekable();
    if args.peek().is_some() {
        page.push_str(".SH OPTIONS\n");
        for arg in args {
            option(&mut page, arg);
        }
    }

    if visible_subcommands(command).next().is_some() {
        page.push_str(".SH COMMANDS\n");
        for subcommand in visible_subcommands(command) {
            let _ = writeln!(page, ".TP\n\\fB{}\\fR", escape(subcommand.get_name()));
            let about = subcommand
                .get_about()
                .map(|about| about.to_string())
                .unwrap_or_default();
            text(&mut page, &about);
            let _ = writeln!(
                page,
                "See\n.BR {}\\-{} (1).",
                escape(&name),
                escape(subcommand.get_name())
            );
        }
    }

    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        extra(&mut page, &after.to_string());
    }

    if path.len() > 1 {
        let parent = path[..path.len() - 1].join("-");
        let _ = writeln!(page, ".SH SEE ALSO\n.BR {} (1)", escape(&parent));
    }
    page
}

fn visible_args(command: &clap::Command) -> impl Iterator<Item = &Arg> {
    command.get_arguments().filter(|arg| !arg.is_hide_set())
}

/// The value names of an argument: `<FILE>`.
fn value_names(arg: &Arg) -> String {
    let names = arg
        .get_value_names()
        .map(|names| names.iter().map(|name| name.to_string()).collect())
        .unwrap_or_else(|| vec![arg.get_id().as_str().to_uppercase()]);
    names
        .iter()
        .map(|name| format!("\\fI<{}>\\fR", escape(name)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|range| range.takes_values())
}

fn repeats(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    ) || arg
        .get_num_args()
        .is_some_and(|range| range.max_values() > 1)
}

/// `[--config <FILE>]`, `[-i|--identity <FILE>]...`, `<NAME>`.
fn synopsis(arg: &Arg) -> String {
    let dots = if repeats(arg) { "..." } else { "" };
    if arg.is_positional() {
        let names = value_names(arg);
        return if arg.is_required_set() {
            format!("{names}{dots}")
        } else {
            format!("[{names}]{dots}")
        };
    }
    let mut flag = String::new();
    if let Some(short) = arg.get_short() {
        let _ = write!(flag, "\\fB\\-{}\\fR", escape(&short.to_string()));
    }
    if let Some(long) = arg.get_long() {
        if !flag.is_empty() {
            flag.push('|');
        }
        let _ = write!(flag, "\\fB\\-\\-{}\\fR", escape(long));
    }
    if takes_value(arg) {
        let _ = write!(flag, " {}", value_names(arg));
    }
    if arg.is_required_set() {
        format!("{flag}{dots}")
    } else {
        format!("[{flag}]{dots}")
    }
}

/// One entry of OPTIONS: the flag, its help, its default and its possible values.
fn option(page: &mut String, arg: &Arg) {
    page.push_str(".TP\n");
    let mut flag = Vec::new();
    if let Some(short) = arg.get_short() {
        flag.push(format!("\\fB\\-{}\\fR", escape(&short.to_string())));
    }
    if let Some(long) = arg.get_long() {
        flag.push(format!("\\fB\\-\\-{}\\fR", escape(long)));
    }
    let mut head = flag.join(", ");
    if arg.is_positional() || takes_value(arg) {
        if !head.is_empty() {
            head.push(' ');
        }
        head.push_str(&value_names(arg));
    }
    let _ = writeln!(page, "{head}");
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|help| help.to_string())
        .unwrap_or_default();
    let mut help = help.trim_end().to_owned();
    let defaults: Vec<_> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value(arg) {
        let _ = write!(help, " [default: {}]", defaults.join(", "));
    }
    let values: Vec<_> = arg
        .get_possible_values()
        .into_iter()
        .filter(|value| !value.is_hide_set())
        .collect();
    if !values.is_empty() && takes_value(arg) {
        let described = values
            .iter()
            .map(|value| match value.get_help() {
                Some(help) => format!(
                    "{} ({})",
                    value.get_name(),
                    help.to_string().trim_end_matches('.').to_lowercase_first()
                ),
                None => value.get_name().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(help, "\n\nPossible values: {described}.");
    }
    let mut first = true;
    for paragraph in help.split("\n\n").filter(|p| !p.trim().is_empty()) {
        if !first {
            page.push_str(".IP\n");
        }
        first = false;
        text(page, paragraph);
    }
}

trait LowercaseFirst {
    fn to_lowercase_first(&self) -> String;
}

impl LowercaseFirst for str {
    /// "The management token" → "the management token", for a value's help inside a sentence;
    /// a word in capitals (`OS`) stays as it is.
    fn to_lowercase_first(&self) -> String {
        let mut chars = self.chars();
        match (chars.next(), chars.next()) {
            (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => first
                .to_lowercase()
                .chain(self[first.len_utf8()..].chars())
                .collect(),
            _ => self.to_owned(),
        }
    }
}

/// The text after the options (examples, exit status, links) exactly as `--help` shows it: no
/// refilling, so each example stays one line. A first line `Examples:` becomes the section's title.
fn extra(page: &mut String, after: &str) {
    let mut lines: Vec<&str> = after.trim_end().lines().collect();
    let title = match lines.first() {
        Some(first) if first.starts_with("Example") && first.ends_with(':') => {
            lines.remove(0);
            "EXAMPLES"
        }
        _ => "NOTES",
    };
    let _ = writeln!(page, ".SH {title}\n.nf");
    for line in lines {
        if line.trim().is_empty() {
            page.push_str(".sp\n");
        } else {
            let _ = writeln!(page, "{}", line_start(&escape(line)));
        }
    }
    page.push_str(".fi\n");
}

/// Paragraphs separated by blank lines, each refilled by the formatter.
fn paragraphs(page: &mut String, text_with_blank_lines: &str) {
    let mut first = true;
    for paragraph in text_with_blank_lines
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
    {
        if !first {
            page.push_str(".PP\n");
        }
        first = false;
        text(page, paragraph);
    }
}

/// Text to be refilled, its input lines kept under 80 bytes (mandoc's advice), none starting with
/// a control character.
fn text(page: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = escape(word);
        if !line.is_empty() && line.len() + 1 + word.len() > 72 {
            let _ = writeln!(page, "{}", line_start(&line));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        let _ = writeln!(page, "{}", line_start(&line));
    }
}

/// A text line that roff would read as a request (`.x`, `'x`) is guarded with `\&`.
fn line_start(line: &str) -> String {
    if line.starts_with(['.', '\'']) {
        format!("\\&{line}")
    } else {
        line.to_owned()
    }
}

/// Text as roff prints it literally: backslashes and hyphens escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}
