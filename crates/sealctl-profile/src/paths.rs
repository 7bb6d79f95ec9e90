//! Which file and which profile to use, decided exactly as influxctl decides.

use std::ffi::OsStr;
use std::path::PathBuf;

/// The environment variable influxctl (2.10.1 and later) reads the profile name from.
pub const PROFILE_ENV: &str = "INFLUXCTL_PROFILE";

/// The profile influxctl uses when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// influxctl's default profile file: `<platform config dir>/influxctl/config.toml`
/// (`~/.config` on Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows).
/// `None` when the platform has no home directory to derive it from.
pub fn default_config_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.config_dir().join("influxctl").join("config.toml"))
}

/// Where `sealctl token rotate` notes what it is doing to one profile of one file, so that a
/// rotation that was killed is found by the next command: `<state dir>/sealctl/rotations/` (the
/// XDG state dir, `~/.local/state` on Linux; the local data dir elsewhere), one file per file
/// and profile, named by a digest of the file's absolute path and the profile's name.
pub fn rotation_journal(config: &std::path::Path, profile: &str) -> Option<PathBuf> {
    use sha2::{Digest as _, Sha256};
    let dirs = directories::BaseDirs::new()?;
    let base = dirs.state_dir().unwrap_or(dirs.data_local_dir());
    let config = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
    let mut digest = Sha256::new();
    digest.update(config.as_os_str().as_encoded_bytes());
    digest.update([0]);
    digest.update(profile.as_bytes());
    let name: String = digest.finalize()[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Some(
        base.join("sealctl")
            .join("rotations")
            .join(format!("{name}.json")),
    )
}

/// Where the chosen profile name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileSource {
    /// `--profile NAME`.
    Flag,
    /// The `INFLUXCTL_PROFILE` environment variable.
    Environment,
    /// Neither was given: `default`.
    Default,
}

/// The profile to use, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileChoice {
    /// The profile's name.
    pub name: String,
    /// Where the name came from.
    pub source: ProfileSource,
}

/// Chooses the profile as influxctl does: `--profile`, else `INFLUXCTL_PROFILE`, else `default`.
/// An empty or non-UTF-8 variable counts as unset.
pub fn choose_profile(flag: Option<&str>, env: Option<&OsStr>) -> ProfileChoice {
    if let Some(name) = flag {
        return ProfileChoice {
            name: name.to_owned(),
            source: ProfileSource::Flag,
        };
    }
    match env.and_then(OsStr::to_str).filter(|name| !name.is_empty()) {
        Some(name) => ProfileChoice {
            name: name.to_owned(),
            source: ProfileSource::Environment,
        },
        None => ProfileChoice {
            name: DEFAULT_PROFILE.to_owned(),
            source: ProfileSource::Default,
        },
    }
}

/// [`choose_profile`] with this process's environment.
pub fn choose_profile_from_env(flag: Option<&str>) -> ProfileChoice {
    choose_profile(flag, std::env::var_os(PROFILE_ENV).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_environment_then_default() {
        let env = Some(OsStr::new("staging"));
        assert_eq!(choose_profile(Some("prod"), env).name, "prod");
        assert_eq!(choose_profile(None, env).source, ProfileSource::Environment);
        assert_eq!(choose_profile(None, env).name, "staging");
        assert_eq!(choose_profile(None, Some(OsStr::new(""))).name, "default");
        assert_eq!(choose_profile(None, None).source, ProfileSource::Default);
    }

    #[test]
    fn default_path_ends_in_influxctl_config() {
        if let Some(path) = default_config_path() {
            assert!(
                path.ends_with("influxctl/config.toml"),
                "{}",
                path.display()
            );
        }
    }
}
