//! The candidates a shell completes, as sealctl answers the completion requests of the script
//! that `sealctl completions` writes: profile names from the file, and keyring stores. A request
//! never fails: with no file, or one that does not load, there are no profile names to offer.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::CompletionCandidate;
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::KeyringStore;

use crate::config_path::{self, Need};

/// The profiles whose names start with what was typed, from the file named by `--config`
/// earlier on the line, else from influxctl's default file.
pub fn profile_names(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    config_path::resolve(
        config_on_the_line(std::env::args_os().collect()),
        Need::MayBeAbsent,
    )
    .ok()
    .and_then(|path| ProfileDocument::load(path).ok())
    .map(|document| document.profile_names())
    .unwrap_or_default()
    .into_iter()
    .filter(|name| name.starts_with(typed.as_ref()))
    .map(CompletionCandidate::new)
    .collect()
}

/// The keyring stores whose names start with what was typed.
pub fn keyring_stores(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    KeyringStore::ALL
        .iter()
        .map(|store| store.name())
        .filter(|name| name.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// The last `--config FILE` or `--config=FILE` before the word being completed, in a completion
/// request (`sealctl -- sealctl WORDS…`, the word's index in `_CLAP_COMPLETE_INDEX`, else the
/// last word). Words after a lone `--` are the program's (`exec -- influxctl --config x`).
fn config_on_the_line(args: Vec<OsString>) -> Option<PathBuf> {
    let start = args.iter().position(|arg| arg == "--")? + 1;
    let words = &args[start..];
    let current = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|index| index.parse::<usize>().ok())
        .unwrap_or(words.len().saturating_sub(1))
        .min(words.len());
    let mut config = None;
    let mut index = 1;
    while index < current {
        let word = &words[index];
        if word == "--" {
            break;
        }
        if word == "--config" {
            // bash splits `--config=FILE` at the `=` (COMP_WORDBREAKS): `--config`, `=`, `FILE`.
            let value = index + 1 + usize::from(words.get(index + 1).is_some_and(|w| w == "="));
            if value < current {
                config = Some(words[value].clone());
            }
            index = value + 1;
            continue;
        }
        if let Some(value) = word
            .to_str()
            .and_then(|word| word.strip_prefix("--config="))
        {
            config = Some(value.into());
        }
        index += 1;
    }
    config.map(|path| expand_home(PathBuf::from(path)))
}

/// `~/x` as the shell would have expanded it on the command line.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}
