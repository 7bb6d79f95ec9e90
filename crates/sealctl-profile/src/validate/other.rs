//! Whether a TOML file is plainly not a profile file, for hooks that check every `.toml` file.
//!
//! A pre-commit hook that checks only files named like `influxctl.toml` skips `config.toml`,
//! `deploy/profiles/prod.toml` and every other name people give profile files; one that checks
//! every `.toml` file meets `Cargo.toml` and `pyproject.toml`, which are no concern of influxctl.
//! This tells them apart from what is in the file, never from its name, and errs towards
//! checking: only a file that parses, and in which nothing is of influxctl's, is skipped.

use toml_edit::{Document, Item, TableLike};

use crate::schema::{PROFILE_FIELDS, SECRET_KEYS, field_named, key_for, same_key};
use crate::source::is_secret_key;

/// Top-level keys that make a file a profile file even without `[[profile]]`: sealctl's own
/// table, an influxctl 1.x file's ids, and a token written above the profiles.
const PROFILE_FILE_KEYS: &[&str] = &["sealctl", "account_id", "cluster_id"];

/// Whether `bytes` is plainly not an influxctl profile file: valid TOML with no `[[profile]]`
/// (in any spelling influxctl reads), no `[sealctl]` table, no influxctl 1.x ids and no token at
/// the top level, and no influxctl key or secret-looking key under a `profile` table (Cargo's
/// `[profile.release]` has none). A file that does not parse is not judged plainly anything.
pub fn is_other_toml(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(document) = Document::parse(text) else {
        return false;
    };
    let root = document.as_table();
    let top_level_says_profile = root.iter().any(|(key, _)| {
        PROFILE_FILE_KEYS.iter().any(|field| same_key(key, field))
            || SECRET_KEYS.iter().any(|field| same_key(key, field))
    });
    if top_level_says_profile {
        return false;
    }
    match key_for(root, "profile") {
        None => true,
        Some((_, Item::Table(table))) => !holds_influxctl_keys(table),
        // `profile = [...]`, `[[profile]]`, `profile = "x"`: meant for influxctl, or broken.
        Some(_) => false,
    }
}

/// Whether a table, or one inside it, holds a key influxctl reads in a profile or a key whose
/// name says it is a secret.
fn holds_influxctl_keys(table: &dyn TableLike) -> bool {
    table.iter().any(|(key, item)| {
        field_named(PROFILE_FIELDS, key).is_some()
            || is_secret_key(key)
            || item.as_table_like().is_some_and(holds_influxctl_keys)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_toml_files_are_told_from_profile_files() {
        for other in [
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[profile.release]\nlto = true\nopt-level = 3\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n",
            "[project]\nname = \"x\"\n\n[tool.ruff]\nline-length = 100\n",
            "host = \"0.0.0.0\"\nport = 8080\n",
            "",
        ] {
            assert!(is_other_toml(other.as_bytes()), "{other}");
        }
        for profile in [
            "[[profile]]\nname = \"default\"\n",
            "[[Profile]]\nname = \"default\"\n",
            "profile = []\n",
            "[profile]\nname = \"default\"\nmgmt_token = \"x\"\n",
            "[profile.prod]\nMGMT_TOKEN = \"x\"\n",
            "[profile.prod]\nhost = \"h\"\n",
            "mgmt_token = \"x\"\n",
            "Token = \"x\"\n",
            "account_id = \"x\"\n",
            "[sealctl]\nrecipients = []\n",
            "[[profile]]\nname = \"default\"\nmgmt_token = \"x\n",
            "[package]\nname = = 1\n",
        ] {
            assert!(!is_other_toml(profile.as_bytes()), "{profile}");
        }
        assert!(!is_other_toml(b"a = \"\xff\"\n"));
    }
}
