//! `sealctl profile list|show|rm|rename`: looking after the profiles of a file, never showing a
//! secret.

use std::time::SystemTime;

use clap::{Args, Subcommand, ValueEnum};
use sealctl_profile::ProfileDocument;
use sealctl_profile::paths::choose_profile_from_env;
use sealctl_profile::schema::{Profile, SECRET_KEYS, SecretValue};
use sealctl_profile::sealed::SealedValue;
use sealctl_seal::{Destination, Place, prompt};
use serde::Serialize;

use super::backend::{self, Sealer};
use super::target;
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status, write_stdout};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sealctl profile list\n  \
    sealctl profile rename default prod")]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub command: ProfileCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// The profiles of the file: product, endpoint, and where each token is kept.
    #[command(after_help = "Examples:\n  \
        sealctl profile list\n  \
        sealctl profile list --format json | jq '.profiles[].name'\n\n\
`*` marks the profile influxctl would use (--profile, else INFLUXCTL_PROFILE, else `default`).")]
    List(ListArgs),
    /// One profile's settings; for its tokens, only where they are kept and when they expire.
    #[command(after_help = "Example:\n  sealctl profile show prod")]
    Show(ShowArgs),
    /// Add a profile from flags: `sealctl init` without questions (the token is optional).
    #[command(after_help = "Examples:\n  \
        sealctl profile add --name prod --product clustered --host prod.example.com\n  \
        sealctl profile add --name ci --product dedicated --account-id … --cluster-id … --token-stdin < token")]
    Add(super::new_profile::NewProfileArgs),
    /// Remove a profile, and the keyring entries of its tokens.
    #[command(after_help = "Example:\n  sealctl profile rm staging --yes\n\n\
Asks first on a terminal; elsewhere it refuses without --yes.")]
    Rm(RmArgs),
    /// Rename a profile, re-binding its sealed tokens to the new name.
    #[command(after_help = "Example:\n  sealctl profile rename default prod\n\n\
Sealed values are bound to their profile's name, so each is opened and sealed again: age values\n\
need an identity that can open them.")]
    Rename(RenameArgs),
}

/// How `list` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Human,
    /// JSON, for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The profile.
    #[arg(add = clap_complete::ArgValueCompleter::new(super::candidates::profile_names))]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The profile.
    #[arg(add = clap_complete::ArgValueCompleter::new(super::candidates::profile_names))]
    pub name: String,

    /// Remove without asking.
    #[arg(long)]
    pub yes: bool,

    #[command(flatten)]
    pub write: target::WriteArgs,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The profile's name now.
    #[arg(add = clap_complete::ArgValueCompleter::new(super::candidates::profile_names))]
    pub old: String,
    /// Its new name.
    pub new: String,

    #[command(flatten)]
    pub write: target::WriteArgs,
}

pub fn cmd_profile(global: &GlobalArgs, args: ProfileArgs) -> Result<Status, CommandError> {
    match args.command {
        ProfileCommand::List(args) => list(global, args),
        ProfileCommand::Show(args) => show(global, args),
        ProfileCommand::Add(args) => super::new_profile::add(global, args),
        ProfileCommand::Rm(args) => rm(global, args),
        ProfileCommand::Rename(args) => rename(global, args),
    }
}

/// Where one secret key of a profile is kept, as `list`, `show` and `doctor` tell it.
#[derive(Debug, Serialize)]
pub struct Kept {
    /// `age`, `keyring`, `plaintext` or `absent`.
    pub kept: String,
    /// The keyring store, for keyring values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// The token's expiry (RFC 3339), when the value records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The token's id (as `influxctl management list` shows it), when the value records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Kept {
    pub fn of(value: Option<&SecretValue>) -> Kept {
        let (kept, store, expires_at) = match value {
            Some(SecretValue::Sealed(sealed)) => (
                sealed.backend.to_string(),
                // Which of its stores, for a backend that has several (the keyring's).
                Destination::of(sealed)
                    .ok()
                    .and_then(|kept| kept.store().map(str::to_owned))
                    // A backend whose store is its settings' default names none.
                    .filter(|store| !store.is_empty()),
                sealed.expires_at(),
            ),
            Some(value) if value.is_plaintext() => ("plaintext".to_owned(), None, None),
            _ => ("absent".to_owned(), None, None),
        };
        let id = match value {
            Some(SecretValue::Sealed(sealed)) => sealed.token_id().map(str::to_owned),
            _ => None,
        };
        Kept {
            kept,
            store,
            id,
            expires_at: expires_at.map(|time| humantime::format_rfc3339_seconds(time).to_string()),
        }
    }

    /// The short form for a table cell: `age`, `keyring (secret-service)`, `plaintext`, `-`,
    /// with the expiry's date when known.
    pub fn cell(&self) -> String {
        let mut cell = match (self.kept.as_str(), &self.store) {
            ("absent", _) => "-".to_owned(),
            (kept, Some(store)) => format!("{kept} ({store})"),
            (kept, None) => kept.to_owned(),
        };
        if let Some(expiry) = &self.expires_at {
            let expired = humantime::parse_rfc3339(expiry).is_ok_and(|at| at < SystemTime::now());
            let date = expiry.get(..10).unwrap_or(expiry);
            cell.push_str(&if expired {
                format!(", expired {date}")
            } else {
                format!(", expires {date}")
            });
        }
        if let Some(id) = &self.id {
            cell.push_str(&format!(", id {id}"));
        }
        cell
    }
}

#[derive(Serialize)]
struct Listed {
    name: String,
    product: &'static str,
    endpoint: String,
    /// Whether influxctl would use it, given --profile and INFLUXCTL_PROFILE.
    selected: bool,
    mgmt_token: Kept,
    token: Kept,
}

#[derive(Serialize)]
struct Listing {
    config: String,
    profiles: Vec<Listed>,
}

fn list(global: &GlobalArgs, args: ListArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let document = ProfileDocument::load(&path)?;
    let selected = choose_profile_from_env(global.profile.as_deref()).name;
    let profiles: Vec<Listed> = document
        .profiles()?
        .into_iter()
        .map(|profile| Listed {
            selected: profile.name == selected,
            product: profile.product.as_str(),
            endpoint: profile.endpoint(),
            mgmt_token: Kept::of(profile.mgmt_token.as_ref()),
            token: Kept::of(profile.token.as_ref()),
            name: profile.name,
        })
        .collect();
    let text = match args.format {
        ListFormat::Json => {
            let listing = Listing {
                config: path.display().to_string(),
                profiles,
            };
            serde_json::to_string_pretty(&listing).expect("plain data serializes") + "\n"
        }
        ListFormat::Human if profiles.is_empty() => {
            note!("{} holds no profiles", path.display());
            return Ok(Status::Success);
        }
        ListFormat::Human => {
            let mut table = comfy_table::Table::new();
            table.load_style(comfy_table::presets::NOTHING).set_header([
                "",
                "NAME",
                "PRODUCT",
                "ENDPOINT",
                "MGMT_TOKEN",
                "TOKEN",
            ]);
            for profile in &profiles {
                // Names and hosts come from the file: shown, never obeyed by the terminal.
                table.add_row([
                    if profile.selected { "*" } else { "" }.to_owned(),
                    crate::ui::visible(&profile.name).into_owned(),
                    profile.product.to_owned(),
                    crate::ui::visible(&profile.endpoint).into_owned(),
                    profile.mgmt_token.cell(),
                    profile.token.cell(),
                ]);
            }
            let lines: Vec<String> = table
                .lines()
                .map(|line| line.trim_end().to_owned())
                .collect();
            lines.join("\n") + "\n"
        }
    };
    write_stdout(text.as_bytes(), "the list")
}

fn show(global: &GlobalArgs, args: ShowArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let document = ProfileDocument::load(&path)?;
    let name = target::profile(&document, Some(&args.name))?;
    let profile: Profile = document.profile(&name)?;
    let mut lines = vec![
        format!("profile     {}", profile.name),
        format!("file        {}", path.display()),
        format!("product     {}", profile.product.as_str()),
    ];
    let settings = [
        ("host", &profile.host),
        ("port", &profile.port),
        ("account_id", &profile.account_id),
        ("cluster_id", &profile.cluster_id),
        ("database", &profile.database),
    ];
    for (key, value) in settings {
        if let Some(value) = value {
            lines.push(format!("{key:<11} {value}"));
        }
    }
    if let Some(tls) = &profile.tls {
        lines.push(format!(
            "tls         insecure = {}, disable = {}",
            tls.insecure, tls.disable
        ));
    }
    if profile
        .auth
        .as_ref()
        .and_then(|auth| auth.oauth2.as_ref())
        .is_some()
    {
        lines.push("auth        oauth2".to_owned());
    }
    for (key, value) in [
        ("mgmt_token", profile.mgmt_token.as_ref()),
        ("token", profile.token.as_ref()),
    ] {
        lines.push(format!("{key:<11} {}", Kept::of(value).cell()));
    }
    // Every setting comes from the file: shown, never obeyed by the terminal.
    let lines: Vec<String> = lines
        .iter()
        .map(|line| crate::ui::visible(line).into_owned())
        .collect();
    write_stdout((lines.join("\n") + "\n").as_bytes(), "the profile")
}

fn rm(global: &GlobalArgs, args: RmArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let name = target::profile(&document, Some(&args.name))?;
    if !args.yes {
        if !prompt::can_prompt() {
            return Err(CommandError::setup(format!(
                "removing profile `{name}` cannot be undone, and there is no terminal to ask on"
            ))
            .hint("pass --yes to confirm"));
        }
        let question = format!("Remove profile `{name}` from {}?", path.display());
        if !prompt::confirm(&question)
            .map_err(|error| CommandError::setup("cannot ask").source(error))?
        {
            note!("nothing changed");
            return Ok(Status::Success);
        }
    }
    let values: Vec<String> = document
        .values(std::slice::from_ref(&name), SECRET_KEYS)?
        .into_iter()
        .map(|found| found.value)
        .collect();
    document.remove_profile(&name)?;
    document.save()?;
    note!("removed profile `{name}` from {}", path.display());
    backend::forget_replaced(values.iter().map(String::as_str))?;
    Ok(Status::Success)
}

fn rename(global: &GlobalArgs, args: RenameArgs) -> Result<Status, CommandError> {
    let path = config_path::resolve(global.config.clone(), Need::Existing)?;
    let (mut document, _lock) = target::load_for_writing(&path, args.write.force)?;
    let old = target::profile(&document, Some(&args.old))?;
    if args.new.trim().is_empty() {
        return Err(CommandError::setup(
            "a profile's name cannot be empty: influxctl could never select it",
        ));
    }
    if args.new == old {
        note!("nothing to rename: the profile is named `{old}` already");
        return Ok(Status::Success);
    }
    if document.profile_names().contains(&args.new) {
        return Err(CommandError::setup(format!(
            "{} has a profile `{}` already",
            path.display(),
            args.new
        ))
        .hint(format!(
            "remove it first with `{}`, or choose another name",
            crate::ui::CommandLine::sealctl(&["profile", "rm"])
                .file(&path)
                .args([args.new.as_str()])
        )));
    }
    // Open every sealed value under its old place before anything changes.
    let endpoint = target::endpoint(&document, &old)?;
    let mut opener = target::Opener::new(global, &path).resealing();
    let mut rebound = Vec::new();
    for found in document.values(std::slice::from_ref(&old), SECRET_KEYS)? {
        let Ok(sealed) = SealedValue::parse(&found.value) else {
            continue;
        };
        let place = &found.place;
        let token = opener
            .open(&found.value, place, &endpoint)
            .map_err(|error| {
                error.hint(format!(
                    "{place} must be opened to be bound to its new name; the file is unchanged"
                ))
            })?;
        rebound.push((found.place.key, found.value, sealed, token));
    }
    document.rename_profile(&old, &args.new)?;
    let mut sealers: Vec<Sealer> = Vec::new();
    let mut replaced = Vec::new();
    for (key, old_value, sealed, token) in &rebound {
        let to = Destination::of(sealed)?;
        let sealer = Sealer::to(&mut sealers, global, &mut document, to)?;
        let place = Place::new(args.new.clone(), key.clone());
        let value = sealer.seal(token, &place, &endpoint, &path, sealed.expires_at())?;
        document.set(&args.new, key, &value)?;
        replaced.push(old_value.clone());
    }
    Sealer::save_all(sealers, &mut document)?;
    note!(
        "renamed profile `{old}` to `{}` in {}{}",
        args.new,
        path.display(),
        match rebound.len() {
            0 => String::new(),
            1 => ", its sealed value bound to the new name".to_owned(),
            n => format!(", its {n} sealed values bound to the new name"),
        }
    );
    backend::forget_replaced(replaced.iter().map(String::as_str))?;
    Ok(Status::Success)
}
