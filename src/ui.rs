//! What sealctl says on standard error besides its errors: notes of what it did, which `-q`
//! silences, and warnings, which it never does; all of it safe for a terminal (names from a
//! file cannot drive it); and the commands that hints suggest, quoted to work when pasted.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences notes for the rest of the run (`-q`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether notes are silenced.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A note of what was done, on standard error, unless `-q`; safe for a terminal whatever names
/// it holds.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!("{}", $crate::ui::visible_message(&format!($($arg)*)));
        }
    };
}

pub use sealctl_profile::terminal::{visible, visible_message};

/// The `--config` and `--profile` this run was given: a hint names them, so that the command it
/// suggests acts on what this run acted on.
static RUN: std::sync::OnceLock<(Option<PathBuf>, Option<String>)> = std::sync::OnceLock::new();

/// Records this run's `--config` and `--profile`, for the hints of [`CommandLine`].
pub fn set_run(config: Option<PathBuf>, profile: Option<String>) {
    let _ = RUN.set((config, profile));
}

/// A warning, on standard error even with `-q`, safe for a terminal.
macro_rules! warning {
    ($($arg:tt)*) => {
        eprintln!("warning: {}", $crate::ui::visible_message(&format!($($arg)*)))
    };
}

/// A sealctl command line for a hint or a `next:` line, that does what it says when pasted into
/// a shell: it names the file unless it is influxctl's default, the profile unless it is the one
/// chosen without `--profile`, and every word is shell-quoted.
#[derive(Clone, Debug)]
pub struct CommandLine {
    subcommand: Vec<String>,
    config: Option<PathBuf>,
    profile: Option<String>,
    args: Vec<String>,
}

impl CommandLine {
    /// `sealctl` and a subcommand (`&["token", "set"]`), for this run's file and profile.
    pub fn sealctl(subcommand: &[&str]) -> CommandLine {
        let (config, profile) = RUN.get().cloned().unwrap_or_default();
        CommandLine {
            subcommand: subcommand.iter().map(|word| (*word).to_owned()).collect(),
            config,
            profile,
            args: Vec::new(),
        }
    }

    /// Acts on this file.
    pub fn file(mut self, path: &Path) -> CommandLine {
        self.config = Some(path.to_owned());
        self
    }

    /// Acts on this profile.
    pub fn profile(mut self, name: &str) -> CommandLine {
        self.profile = Some(name.to_owned());
        self
    }

    /// Acts on no profile in particular (the file's recipients).
    pub fn no_profile(mut self) -> CommandLine {
        self.profile = None;
        self
    }

    /// Acts on every profile (`--all`, which excludes `--profile`).
    pub fn all(mut self) -> CommandLine {
        self.profile = None;
        self.args.push("--all".to_owned());
        self
    }

    /// Adds arguments after the options.
    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> CommandLine {
        self.args.extend(args.into_iter().map(str::to_owned));
        self
    }

    /// The words, unquoted.
    pub fn words(&self) -> Vec<String> {
        let mut words = vec!["sealctl".to_owned()];
        words.extend(self.subcommand.iter().cloned());
        if let Some(config) = &self.config
            && sealctl_profile::paths::default_config_path().as_deref() != Some(config.as_path())
        {
            words.push("--config".to_owned());
            words.push(config.to_string_lossy().into_owned());
        }
        if let Some(profile) = &self.profile
            && sealctl_profile::paths::choose_profile_from_env(None).name != *profile
        {
            words.push("--profile".to_owned());
            words.push(profile.clone());
        }
        words.extend(self.args.iter().cloned());
        words
    }
}

impl std::fmt::Display for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<String> = self
            .words()
            .iter()
            .map(|word| shell_quote(word).into_owned())
            .collect();
        f.write_str(&words.join(" "))
    }
}

/// One word quoted for a POSIX shell: bare when it holds nothing a shell would act on, else in
/// single quotes (a `'` written `'\''`, as the `shell-words` crate does). A word holding a
/// character that would act on a terminal is written `"$(printf '…')"` with octal escapes, which
/// every POSIX shell reads (`$'…'` is not in dash), so that the hint shows the character and the
/// paste still gives it. (A final newline is the one thing this cannot give back.)
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    use sealctl_profile::terminal::is_hidden;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b);
    if !word.is_empty() && word.bytes().all(plain) {
        return Cow::Borrowed(word);
    }
    if !word.chars().any(is_hidden) {
        return Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")));
    }
    let mut format = String::new();
    for ch in word.chars() {
        match ch {
            '\\' => format.push_str("\\\\"),
            '%' => format.push_str("%%"),
            '\'' => format.push_str("'\\''"),
            ch if is_hidden(ch) => {
                for byte in ch.to_string().bytes() {
                    format.push_str(&format!("\\{byte:03o}"));
                }
            }
            ch => format.push(ch),
        }
    }
    Cow::Owned(format!("\"$(printf '{format}')\""))
}

/// `count` of `word` as said in a message: "1 token", "3 tokens".
pub fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::{plural, shell_quote};

    #[test]
    fn counts_are_said_in_words() {
        assert_eq!(plural(0, "token"), "0 tokens");
        assert_eq!(plural(1, "token"), "1 token");
        assert_eq!(plural(2, "recipient"), "2 recipients");
    }

    #[test]
    fn words_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("prod-eu.1"), "prod-eu.1");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("my 'prod'"), "'my '\\''prod'\\'''");
        assert_eq!(shell_quote("~/$HOME `x`"), "'~/$HOME `x`'");
        assert_eq!(
            shell_quote("x\u{1b}]0;T\u{7}"),
            "\"$(printf 'x\\033]0;T\\007')\""
        );
        assert_eq!(
            shell_quote("a'\\%\u{9b}"),
            "\"$(printf 'a'\\''\\\\%%\\302\\233')\""
        );
    }
}
