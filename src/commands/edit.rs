//! `sealctl edit`: the profile's tokens opened in the user's editor, what changed sealed back in
//! place; the file unchanged unless the edit is whole and passes `check`.

use std::ffi::OsString;

use clap::Args;
use sealctl_exec::{ConfigCopy, ExecError, Launch};
use sealctl_profile::schema::{Kind, PROFILE_FIELDS, SECRET_KEYS, field_named};
use sealctl_profile::sealed::{SealedValue, looks_sealed};
use sealctl_profile::{Diagnostic, ProfileDocument, ProfileValue, Severity};
use sealctl_seal::{Destination, Place};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::backend::{self, Sealer};
use super::target::{self, KEY_VARIABLES, WriteArgs};
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl edit                         # the default profile, in $VISUAL or $EDITOR\n  \
    EDITOR=nano sealctl edit --profile prod\n  \
    sealctl edit --private-file          # for an editor that saves by renaming\n\n\
The editor gets the whole file with the profile's tokens opened, from memory (Linux) or a\n\
private 0600 file removed on every exit. Change a token or a field of that profile and save:\n\
each changed token is sealed again where it was kept (age, keyring), the rest of the file\n\
stays byte for byte. Nothing is written if the editor fails, the result does not pass\n\
`sealctl check`, or nothing changed. Exit status: 0 saved or nothing changed; 1 the edit was\n\
not saved (the editor failed, or the result is refused); 2 a usage or setup error.")]
pub struct EditArgs {
    /// Give the editor a private 0600 file (removed when it exits) instead of a memory file, for
    /// editors that save by writing a new file and renaming it over the old. Always so where
    /// memory files are missing.
    #[arg(long)]
    pub private_file: bool,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// The editor when neither VISUAL nor EDITOR is set.
const DEFAULT_EDITOR: &str = "vi";

pub fn cmd_edit(global: &GlobalArgs, args: EditArgs) -> Result<Status, CommandError> {
    // Copies left by runs that were killed outright go first.
    sealctl_exec::private_folder::remove_left_copies();
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let profile = target::profile(&document, global.profile.as_deref())?;
    let endpoint = target::endpoint(&document, &profile)?;

    // The tokens opened, fail closed: an edit of a file whose tokens cannot be shown is refused.
    let mut opener = target::Opener::new(global, &path);
    let mut opened: Vec<(ProfileValue, SecretString)> = Vec::new();
    for value in document.values(std::slice::from_ref(&profile), SECRET_KEYS)? {
        if looks_sealed(&value.value) {
            let token = opener
                .open(&value.value, &value.place, &endpoint)
                .map_err(|error| error.hint(format!("in {}; nothing was edited", value.place)))?;
            opened.push((value, token));
        }
    }
    let shown = shown_text(&document, &opened)?;

    let edited = run_editor(&shown, args.private_file)?;
    let unchanged = |why: String| -> CommandError {
        CommandError::with_status(
            Status::Findings,
            format!("{why}; {} was left unchanged", path.display()),
        )
    };
    if let Some(signal) = edited.signal {
        return Err(CommandError::with_status(
            Status::Child(128u8.saturating_add(u8::try_from(signal).unwrap_or(0))),
            format!(
                "sealctl was stopped (signal {signal}) while the editor ran; {} was left unchanged",
                path.display()
            ),
        ));
    }
    if edited.status != 0 {
        return Err(unchanged(format!(
            "the editor exited with status {}",
            edited.status
        )));
    }
    let edited_text = std::str::from_utf8(&edited.contents)
        .map_err(|_| unchanged("the edited file is not UTF-8 text".to_owned()))?;
    if edited_text.as_bytes() == shown.as_bytes() {
        note!("nothing changed; {} was left as it was", path.display());
        return Ok(Status::Success);
    }
    let edited_document = ProfileDocument::parse(&path, edited_text).map_err(|error| {
        // Only where: the line itself may hold an opened token.
        let at = match &error {
            sealctl_profile::ProfileError::Syntax { source, .. } => source
                .span()
                .map(|span| line_and_column(edited_text, span.start))
                .unwrap_or_default(),
            _ => String::new(),
        };
        unchanged(format!("the edited file is not valid TOML{at}"))
    })?;

    let changes = changes(&shown, &edited_document, &profile, edited_text).map_err(|why| {
        unchanged(why).hint(
            "change only the values of that profile, or edit the file itself for anything else",
        )
    })?;
    if changes.is_empty() {
        note!("nothing changed; {} was left as it was", path.display());
        return Ok(Status::Success);
    }

    // Each changed token is sealed where its old value was kept (a plaintext one with age).
    let mut sealers: Vec<Sealer> = Vec::new();
    let mut edits = Vec::new();
    let mut removed = Vec::new();
    let mut replaced = Vec::new();
    for change in &changes {
        let place = Place::new(profile.clone(), change.key.clone());
        let old = document.get(&profile, &change.key)?;
        let Some(new) = &change.value else {
            removed.push(change.key.clone());
            replaced.extend(old);
            continue;
        };
        let value = if is_secret(&change.key) {
            let kept = old
                .as_deref()
                .filter(|value| looks_sealed(value))
                .and_then(|value| SealedValue::parse(value).ok())
                .and_then(|sealed| Destination::of(&sealed).ok());
            let to = Destination::chosen(None, None, kept);
            let sealer = Sealer::to(&mut sealers, global, &mut document, to)?;
            // A token typed in has no known expiry.
            sealer.seal(new, &place, &endpoint, &path, None)?
        } else {
            new.expose_secret().to_owned()
        };
        replaced.extend(old);
        edits.push(ProfileValue::new(place, value));
    }
    document.set_many(&edits)?;
    for key in &removed {
        document.remove(&profile, key)?;
    }

    let new_errors = new_errors(&path, &document)?;
    if !new_errors.is_empty() {
        let list: Vec<String> = new_errors
            .iter()
            .map(|found| {
                format!(
                    "line {}: {} [{}]",
                    found.line,
                    found.message,
                    found.rule.id()
                )
            })
            .collect();
        // Dropping the sealers deletes what they stored outside the file.
        return Err(CommandError::with_status(
            Status::Findings,
            format!(
                "the edited file does not pass `sealctl check`, so {} was left unchanged:\n  {}",
                path.display(),
                list.join("\n  ")
            ),
        )
        .hint("run `sealctl edit` again and fix it"));
    }
    let count = changes.len();
    Sealer::save_all_saying(
        sealers,
        &mut document,
        Some(format!(
            "saved {} of profile `{profile}` in {}",
            crate::ui::plural(count, "changed value"),
            path.display()
        )),
    )?;
    backend::forget_replaced(replaced.iter().map(String::as_str))?;
    Ok(Status::Success)
}

/// The text the editor gets: the file, with the profile's sealed tokens opened in place.
fn shown_text(
    document: &ProfileDocument,
    opened: &[(ProfileValue, SecretString)],
) -> Result<Zeroizing<String>, CommandError> {
    let mut shown = ProfileDocument::parse(document.path(), document.to_toml())?;
    let edits: Vec<ProfileValue> = opened
        .iter()
        .map(|(value, token)| {
            ProfileValue::new(value.place.clone(), token.expose_secret().to_owned())
        })
        .collect();
    if !edits.is_empty() {
        shown.set_many(&edits)?;
    }
    Ok(Zeroizing::new(shown.to_toml().to_owned()))
}

/// Runs `$VISUAL`, else `$EDITOR`, else `vi`, on a copy of `text`.
fn run_editor(text: &str, private_file: bool) -> Result<sealctl_exec::Edited, CommandError> {
    let copy = if private_file {
        ConfigCopy::private_file(text.as_bytes())
    } else {
        in_memory(text.as_bytes())
    }
    .map_err(|error| match &error {
        ExecError::NotPrivate { .. } => CommandError::setup(error.to_string()).hint(
            "set XDG_RUNTIME_DIR to a folder of your own with mode 0700, or remove or fix the \
             folder named",
        ),
        _ => CommandError::setup(error.to_string()).source(error),
    })?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_EDITOR.to_owned());
    let (program, mut args) = editor_command(&editor);
    args.push(copy.path().as_os_str().to_owned());
    let launch = Launch {
        program,
        args,
        env: Vec::new(),
        copy: Some(copy),
        env_remove: KEY_VARIABLES.iter().map(OsString::from).collect(),
        mask: None,
    };
    // The core file size limit stays 0 for the editor (unlike exec's program): a crash of an
    // editor holding every opened token would otherwise write them all to a core file.
    launch.run_to_edit().map_err(|error| match &error {
        ExecError::NotFound(_) | ExecError::CannotRun { .. } => {
            CommandError::setup(format!("cannot start the editor: {error}"))
                .hint("set VISUAL or EDITOR to an editor on PATH, as in EDITOR=nano")
        }
        _ => CommandError::setup(error.to_string()).source(error),
    })
}

#[cfg(target_os = "linux")]
fn in_memory(text: &[u8]) -> Result<ConfigCopy, ExecError> {
    ConfigCopy::in_memory_for_editing(text)
}

#[cfg(not(target_os = "linux"))]
fn in_memory(text: &[u8]) -> Result<ConfigCopy, ExecError> {
    ConfigCopy::private_file(text)
}

/// The editor's command line, before the file. The variable is a shell command (as git reads
/// it: `EDITOR="code --wait"`), run by `sh`. vi and vim are told to keep no swap file, no
/// history of what was typed, no undo file and no backup, whatever the user's vimrc says: each
/// would hold opened tokens on disk. (`silent!`: a small vim without persistent undo has no
/// `undofile` option.)
fn editor_command(editor: &str) -> (OsString, Vec<OsString>) {
    let first = editor.split_whitespace().next().unwrap_or_default();
    let name = std::path::Path::new(first)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let mut extra: Vec<OsString> = Vec::new();
    if ["vi", "vim", "nvim", "vim.basic", "vim.tiny", "gvim"].contains(&name) {
        extra.extend(["-n", "-i", "NONE"].map(OsString::from));
        // `-c` runs after the vimrc, so that it cannot turn them back on; writing comes later.
        extra.extend(
            [
                "-c",
                "silent! set noundofile nobackup nowritebackup noswapfile",
            ]
            .map(OsString::from),
        );
    }
    if cfg!(unix) {
        let mut args = vec![
            OsString::from("-c"),
            OsString::from(format!("{editor} \"$@\"")),
            OsString::from(editor),
        ];
        args.extend(extra);
        (OsString::from("sh"), args)
    } else {
        let mut words = editor.split_whitespace().map(OsString::from);
        let program = words
            .next()
            .unwrap_or_else(|| OsString::from(DEFAULT_EDITOR));
        (program, words.chain(extra).collect())
    }
}

/// A changed key of the profile: its new value, or `None` when it was removed.
struct Change {
    key: String,
    value: Option<SecretString>,
}

/// The keys of a profile that hold strings: the ones `edit` may change.
fn string_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for field in PROFILE_FIELDS {
        match field.kind {
            Kind::String => keys.push(field.name.to_owned()),
            Kind::Table(inner) => keys.extend(
                inner
                    .iter()
                    .filter(|sub| matches!(sub.kind, Kind::String))
                    .map(|sub| format!("{}.{}", field.name, sub.name)),
            ),
            _ => {}
        }
    }
    keys
}

fn is_secret(key: &str) -> bool {
    field_named(PROFILE_FIELDS, key).is_some_and(|field| SECRET_KEYS.contains(&field.name))
}

/// What changed from `shown` to `edited`: string values of `profile` only. Anything else (another
/// profile, a comment, a new key) is refused, found by redoing the changes on `shown` and
/// comparing the bytes. Messages never hold a value.
fn changes(
    shown: &str,
    edited: &ProfileDocument,
    profile: &str,
    edited_text: &str,
) -> Result<Vec<Change>, String> {
    let before = ProfileDocument::parse(edited.path(), shown).map_err(|_| "internal".to_owned())?;
    if !edited.profile_names().iter().any(|name| name == profile) {
        return Err(format!("profile `{profile}` is gone or renamed"));
    }
    let mut changes = Vec::new();
    let mut redone =
        ProfileDocument::parse(edited.path(), shown).map_err(|_| "internal".to_owned())?;
    let cannot = |key: &str| format!("`{key}` of profile `{profile}` is not a plain string value");
    for key in string_keys() {
        let old = before.get(profile, &key).map_err(|_| cannot(&key))?;
        let new = edited.get(profile, &key).map_err(|_| cannot(&key))?;
        if old == new {
            continue;
        }
        match &new {
            Some(value) => redone.set(profile, &key, value),
            None => redone.remove(profile, &key).map(|_| ()),
        }
        .map_err(|_| format!("the change of `{key}` of profile `{profile}` cannot be kept"))?;
        changes.push(Change {
            key,
            value: new.map(SecretString::from),
        });
    }
    let redone_text = Zeroizing::new(redone.to_toml().to_owned());
    if redone_text.as_str() != edited_text {
        let line = first_difference_line(&redone_text, edited_text);
        return Err(format!(
            "the edit changes more than values of profile `{profile}` (from line {line}: another \
             profile, a comment, a new key, or a value's quoting)"
        ));
    }
    Ok(changes)
}

/// The 1-based line where two texts first differ. Counted on bytes, so that a difference inside
/// a character (`è` edited to `é`) never slices one: a panic would show the opened text.
fn first_difference_line(a: &str, b: &str) -> usize {
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    b.as_bytes()[..at.min(b.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// ` (line L, column C)` of a byte offset (taken back to the start of its character).
fn line_and_column(text: &str, offset: usize) -> String {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!(" (line {line}, column {column})")
}

/// The errors `check` finds in the edited file that it did not find before the edit (so that an
/// old finding elsewhere does not block every edit).
fn new_errors(
    path: &std::path::Path,
    document: &ProfileDocument,
) -> Result<Vec<Diagnostic>, CommandError> {
    let before = std::fs::read(path).map_err(|error| {
        CommandError::setup(format!("cannot read {}", path.display())).source(error)
    })?;
    let old = sealctl_profile::check(&before).diagnostics;
    let new = sealctl_profile::check(document.to_toml().as_bytes()).diagnostics;
    Ok(new
        .into_iter()
        .filter(|found| found.severity == Severity::Error)
        .filter(|found| {
            !old.iter().any(|was| {
                was.rule == found.rule && was.profile == found.profile && was.key == found.key
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A difference inside a character must not slice it: the panic message would hold the
    // opened text.
    #[test]
    fn a_difference_inside_a_character_is_counted_not_sliced() {
        assert_eq!(first_difference_line("a\nè = 1\n", "a\né = 1\n"), 2);
        assert_eq!(first_difference_line("x", "x"), 1);
        assert_eq!(first_difference_line("a\nb", "a\nb\nc"), 2);
        assert_eq!(line_and_column("a\né", 3), " (line 2, column 1)");
        assert_eq!(line_and_column("é", 99), " (line 1, column 2)");
    }
}
