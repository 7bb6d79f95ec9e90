//! Where a command keeps the tokens it seals: with age in the file, or in an OS keyring with a
//! reference in the file. Keyring entries made by a command that then fails are deleted again,
//! and entries a command replaces are deleted once the file no longer names them.

use std::path::Path;
use std::time::SystemTime;

use clap::{Args, ValueEnum};
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::{Backend, KeyringStore};
use sealctl_seal::keyring::{Keyring, KeyringRef};
use sealctl_seal::{Endpoint, Place};
use secrecy::SecretString;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::CommandError;

/// `--backend` and `--keyring-store`.
#[derive(Debug, Args)]
pub struct BackendArgs {
    /// Where to keep the token: `age` (sealed in the file, to its recipients) or `keyring`
    /// (in the OS keyring, with a reference in the file).
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<BackendChoice>,

    /// Which keyring, with --backend keyring: `secret-service` (default on Linux: GNOME Keyring,
    /// KWallet, KeePassXC), `keyutils` (the Linux kernel keyring: gone at reboot), `keychain`
    /// (macOS), `credential-manager` (Windows).
    #[arg(
        long,
        value_name = "STORE",
        value_parser = BackendArgs::parse_store,
        add = clap_complete::ArgValueCompleter::new(super::completions::keyring_stores)
    )]
    pub keyring_store: Option<KeyringStore>,
}

/// A backend, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// Sealed with age in the file.
    Age,
    /// In the OS keyring.
    Keyring,
}

impl From<BackendChoice> for Backend {
    fn from(choice: BackendChoice) -> Backend {
        match choice {
            BackendChoice::Age => Backend::Age,
            BackendChoice::Keyring => Backend::Keyring,
        }
    }
}

impl BackendArgs {
    /// A keyring store named on the command line.
    pub fn parse_store(name: &str) -> Result<KeyringStore, String> {
        KeyringStore::from_name(name).ok_or_else(|| {
            let known: Vec<_> = KeyringStore::ALL.iter().map(|store| store.name()).collect();
            format!("expected one of: {}", known.join(", "))
        })
    }

    /// The backend chosen, else `fallback` (the backend a value has now, usually).
    pub fn backend_or(&self, fallback: Backend) -> Backend {
        match (self.backend, self.keyring_store) {
            (Some(choice), _) => choice.into(),
            (None, Some(_)) => Backend::Keyring,
            (None, None) => fallback,
        }
    }

    /// The keyring store chosen, else `fallback`'s, else the platform's.
    pub fn store_or(&self, fallback: Option<KeyringStore>) -> KeyringStore {
        self.keyring_store
            .or(fallback)
            .unwrap_or_else(Keyring::default_store)
    }

    /// --keyring-store makes sense only with the keyring backend.
    pub fn check(&self) -> Result<(), CommandError> {
        if self.backend == Some(BackendChoice::Age) && self.keyring_store.is_some() {
            return Err(CommandError::setup(
                "--keyring-store goes with --backend keyring, not age",
            ));
        }
        Ok(())
    }
}

/// Seals tokens into one backend, remembering the keyring entries it made so that they are
/// taken back if the command ends before the file is saved.
pub struct Sealer {
    to: Destination,
    made: Vec<KeyringRef>,
    /// What was recorded in the file on the way (its recipients), told once it is saved.
    recorded: Option<String>,
    /// Said once the file is saved: the user is not among the recipients sealed to.
    not_yours: Option<String>,
}

enum Destination {
    Age(Vec<sealctl_seal::Recipient>),
    Keyring(Keyring, KeyringStore),
}

impl Sealer {
    /// A sealer into `backend` (for age: the file's recipients, recorded if it lists none).
    pub fn new(
        global: &GlobalArgs,
        document: &mut ProfileDocument,
        backend: Backend,
        store: KeyringStore,
    ) -> Result<Sealer, CommandError> {
        let mut not_yours = None;
        let (to, recorded) = match backend {
            Backend::Age => {
                let (recipients, recorded) = target::recipients(document, global)?;
                not_yours = target::not_yours_warning(&recipients, global, document.path());
                (Destination::Age(recipients), recorded)
            }
            Backend::Keyring => (Destination::Keyring(target::keyring()?, store), None),
        };
        Ok(Sealer {
            to,
            made: Vec::new(),
            recorded,
            not_yours,
        })
    }

    /// What was done with `what` (a place, or a count of tokens), for the closing message.
    pub fn done(&self, what: &str, config: &Path) -> String {
        match &self.to {
            Destination::Age(_) => format!("sealed {what} in {}", config.display()),
            Destination::Keyring(_, store) => format!(
                "{what}: kept in the {store} keyring, with a reference in {}",
                config.display()
            ),
        }
    }

    /// The sealed value to write at `place` for `token`, bound to `endpoint`.
    pub fn seal(
        &mut self,
        token: &SecretString,
        place: &Place,
        endpoint: &Endpoint,
        config: &Path,
        expires_at: Option<SystemTime>,
    ) -> Result<String, CommandError> {
        match &self.to {
            Destination::Age(recipients) => Ok(sealctl_seal::seal(
                token, place, endpoint, recipients, expires_at,
            )?),
            Destination::Keyring(keyring, store) => {
                // The label names the file wherever the command was run from.
                let config = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
                let sealed = keyring.seal(token, place, endpoint, *store, &config, expires_at)?;
                self.made.push(sealed.reference);
                Ok(sealed.value)
            }
        }
    }

    /// Saves the file; if that fails, the entries this sealer made, which nothing names, are
    /// deleted as it is dropped.
    pub fn save(self, document: &mut ProfileDocument) -> Result<(), CommandError> {
        Sealer::save_all(vec![self], document)
    }

    /// Saves the file once for several sealers, as [`Sealer::save`] does for one.
    pub fn save_all(
        sealers: Vec<Sealer>,
        document: &mut ProfileDocument,
    ) -> Result<(), CommandError> {
        document.save()?;
        let mut warned = Vec::new();
        for mut sealer in sealers {
            sealer.made.clear();
            if let Some(recorded) = sealer.recorded.take() {
                note!("{recorded}");
            }
            if let Some(warning) = sealer.not_yours.take()
                && !warned.contains(&warning)
            {
                warning!("{warning}");
                warned.push(warning);
            }
        }
        Ok(())
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        if let Destination::Keyring(keyring, _) = &self.to {
            forget(
                keyring,
                &self.made,
                "was made for a change that was not saved",
            );
        }
    }
}

/// Deletes keyring entries the file no longer names, warning about any that remain.
pub fn forget(keyring: &Keyring, entries: &[KeyringRef], why: &str) {
    for entry in entries {
        if let Err(error) = keyring.delete(entry) {
            let by_hand = sealctl_seal::keyring::removal_command(entry);
            warning!(
                "keyring entry {entry}, which {why}, is still there: {error}\nhint: {by_hand}"
            );
        }
    }
}

/// Deletes the entries of the values a saved change replaced (`old` values that named a keyring
/// entry), with the keyring only if there are any.
pub fn forget_replaced<'v>(old: impl IntoIterator<Item = &'v str>) -> Result<(), CommandError> {
    let entries: Vec<KeyringRef> = old.into_iter().filter_map(target::keyring_ref).collect();
    if entries.is_empty() {
        return Ok(());
    }
    forget(&target::keyring()?, &entries, "held a value now replaced");
    Ok(())
}
