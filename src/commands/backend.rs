//! Where a command keeps the tokens it seals: with age in the file, or in an OS keyring with a
//! reference in the file. Keyring entries made by a command that then fails are deleted again,
//! and entries a command replaces are deleted once the file no longer names them.

use std::path::Path;
use std::time::SystemTime;

use clap::Args;
use sealctl_profile::ProfileDocument;
use sealctl_profile::sealed::{KeyringStore, SealedValue};
use sealctl_seal::{Backend as _, Destination, Endpoint, LeftBehind, Needs, Place};
use secrecy::SecretString;

use super::target;
use crate::cli::GlobalArgs;
use crate::error::CommandError;

/// `--backend` and `--keyring-store`.
#[derive(Debug, Args)]
pub struct BackendArgs {
    /// Where to keep the token: `age` (sealed in the file, to its recipients) or `keyring`
    /// (in the OS keyring, with a reference in the file).
    #[arg(long, value_name = "BACKEND", value_parser = backend_names())]
    pub backend: Option<String>,

    /// Which keyring, with --backend keyring: `secret-service` (default on Linux: GNOME Keyring,
    /// KWallet, KeePassXC), `keyutils` (the Linux kernel keyring: gone at reboot), `keychain`
    /// (macOS), `credential-manager` (Windows).
    #[arg(
        long,
        value_name = "STORE",
        value_parser = BackendArgs::parse_store,
        add = clap_complete::ArgValueCompleter::new(super::candidates::keyring_stores)
    )]
    pub keyring_store: Option<KeyringStore>,

    /// The transit key to seal with, with --backend transit (default: `transit_key` in the
    /// file's [sealctl.openbao], else `sealctl`); a key made with `derived=true`.
    #[arg(long, value_name = "KEY", value_parser = BackendArgs::parse_transit_key)]
    pub transit_key: Option<String>,

    /// The KV secret to keep the token in, with --backend kv (default: `kv_path` in the file's
    /// [sealctl.openbao], else `sealctl/{profile}`); `{profile}` is the profile's name.
    #[arg(long, value_name = "PATH", value_parser = BackendArgs::parse_kv_path)]
    pub kv_path: Option<String>,
}

/// The backends `--backend` and `token move --to` accept: every one this sealctl has. One that
/// is not offered (`init` does not ask about it: a test-only one) is not listed in `--help`.
pub fn backend_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(sealctl_seal::BACKENDS.iter().map(|backend| {
        clap::builder::PossibleValue::new(backend.name())
            .help(backend.summary())
            .hide(backend.offer(None).is_none())
    }))
}

impl BackendArgs {
    /// A keyring store named on the command line.
    pub fn parse_store(name: &str) -> Result<KeyringStore, String> {
        KeyringStore::from_name(name).ok_or_else(|| {
            let known: Vec<_> = KeyringStore::ALL.iter().map(|store| store.name()).collect();
            format!("expected one of: {}", known.join(", "))
        })
    }

    /// A transit key named on the command line.
    pub fn parse_transit_key(name: &str) -> Result<String, String> {
        match sealctl_seal::openbao::settings::check_file_value("transit_key", name) {
            None => Ok(name.to_owned()),
            Some(problem) => Err(problem),
        }
    }

    /// A KV path named on the command line.
    pub fn parse_kv_path(path: &str) -> Result<String, String> {
        match sealctl_seal::openbao::settings::check_file_value("kv_path", path) {
            None => Ok(path.to_owned()),
            Some(problem) => Err(problem),
        }
    }

    /// The store flag given, with the backend it goes with.
    fn store_flag(&self) -> Option<(&'static str, &'static str, String)> {
        use sealctl_seal::openbao::{kv::Kv, transit::Transit};
        if let Some(store) = self.keyring_store {
            return Some((
                "--keyring-store",
                sealctl_seal::keyring::KeyringBackend.name(),
                store.name().to_owned(),
            ));
        }
        if let Some(key) = &self.transit_key {
            return Some(("--transit-key", Transit.name(), key.clone()));
        }
        self.kv_path
            .as_ref()
            .map(|path| ("--kv-path", Kv.name(), path.clone()))
    }

    /// The store the flags name for the backend called `backend` (--keyring-store for the
    /// keyring, --transit-key for transit, …), if any.
    pub fn store_for(&self, backend: &str) -> Option<String> {
        self.store_flag()
            .filter(|(_, of, _)| *of == backend)
            .map(|(_, _, store)| store)
    }

    /// Where the flags say to seal, else `now` (where a value is kept now, usually), else the
    /// first backend (age). The one mapping from flags to the library's destinations.
    pub fn destination_or(&self, now: Option<Destination>) -> Destination {
        // A store flag alone (--keyring-store, --transit-key, --kv-path) chooses its backend.
        let flag = self.store_flag();
        let named = self
            .backend
            .as_deref()
            .or(flag.as_ref().map(|(_, backend, _)| *backend));
        Destination::chosen(named, flag.map(|(_, _, store)| store), now)
    }

    /// A store flag makes sense only with its own backend, and only one is given.
    pub fn check(&self) -> Result<(), CommandError> {
        let given = [
            self.keyring_store.is_some(),
            self.transit_key.is_some(),
            self.kv_path.is_some(),
        ];
        if given.iter().filter(|given| **given).count() > 1 {
            return Err(CommandError::setup(
                "--keyring-store, --transit-key and --kv-path each go with their own backend: give one",
            ));
        }
        if let Some(name) = self.backend.as_deref()
            && let Some((flag, backend, _)) = self.store_flag()
            && name != backend
        {
            return Err(CommandError::setup(format!(
                "{flag} goes with --backend {backend}, not {name}"
            )));
        }
        Ok(())
    }
}

/// The destination `token move --to NAME [--keyring-store STORE]` names.
pub fn destination(name: &str, store: Option<KeyringStore>) -> Destination {
    Destination::chosen(Some(name), store.map(|store| store.name().to_owned()), None)
}

/// Seals tokens into one destination (the library's [`sealctl_seal::Sealer`], which takes back
/// what it stored if the command ends before the file is saved), with what is told once the
/// file is saved.
pub struct Sealer {
    inner: sealctl_seal::Sealer,
    /// What was recorded in the file on the way (its recipients), told once it is saved.
    recorded: Option<String>,
    /// Said once the file is saved: the user is not among the recipients sealed to.
    not_yours: Option<String>,
}

impl Sealer {
    /// A sealer to `to` (for a backend that needs recipients: the file's, recorded if it lists
    /// none).
    pub fn new(
        global: &GlobalArgs,
        document: &mut ProfileDocument,
        to: Destination,
    ) -> Result<Sealer, CommandError> {
        let (mut recipients, mut recorded, mut not_yours) = (Vec::new(), None, None);
        if to.backend().needs() == Needs::Recipients {
            (recipients, recorded) = target::recipients(document, global)?;
            not_yours = target::not_yours_warning(&recipients, global, document.path());
        }
        Ok(Sealer {
            inner: sealctl_seal::Sealer::new(
                to,
                recipients,
                target::access(global, document.path()),
                Box::new(warn_left_behind),
            ),
            recorded,
            not_yours,
        })
    }

    /// How many recipients it seals to.
    pub fn recipient_count(&self) -> usize {
        self.inner.recipients().len()
    }

    /// Where this sealer seals to.
    pub fn destination(&self) -> &Destination {
        self.inner.destination()
    }

    /// What was done with `what` (a place, or a count of tokens), for the closing message.
    pub fn done(&self, what: &str, config: &Path) -> String {
        let to = self.inner.destination();
        match to.backend().kept_in(to.store()) {
            None => format!("sealed {what} in {}", config.display()),
            Some(kept_in) => format!(
                "{what}: kept in {kept_in}, with a reference in {}",
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
        Ok(self
            .inner
            .seal(token, place, endpoint, config, expires_at)?)
    }

    /// The sealer of `sealers` to `to`, made (and kept there) if there is none yet: one sealer
    /// per destination, so that recipients are read and told once.
    pub fn to<'s>(
        sealers: &'s mut Vec<Sealer>,
        global: &GlobalArgs,
        document: &mut ProfileDocument,
        to: Destination,
    ) -> Result<&'s mut Sealer, CommandError> {
        let at = match sealers
            .iter()
            .position(|sealer| *sealer.destination() == to)
        {
            Some(at) => at,
            None => {
                sealers.push(Sealer::new(global, document, to)?);
                sealers.len() - 1
            }
        };
        Ok(&mut sealers[at])
    }

    /// Saves the file; if that fails, what this sealer stored, which nothing names, is deleted
    /// as it is dropped.
    pub fn save(self, document: &mut ProfileDocument) -> Result<(), CommandError> {
        Sealer::save_all(vec![self], document)
    }

    /// Saves the file once for several sealers, as [`Sealer::save`] does for one.
    pub fn save_all(
        sealers: Vec<Sealer>,
        document: &mut ProfileDocument,
    ) -> Result<(), CommandError> {
        Sealer::save_all_saying(sealers, document, None)
    }

    /// Saves the file as [`Sealer::save_all`] does, saying `done` after what was recorded and
    /// before any warning.
    pub fn save_all_saying(
        mut sealers: Vec<Sealer>,
        document: &mut ProfileDocument,
        done: Option<String>,
    ) -> Result<(), CommandError> {
        document.save()?;
        for sealer in &mut sealers {
            sealer.inner.saved();
            if let Some(recorded) = sealer.recorded.take() {
                note!("{recorded}");
            }
        }
        if let Some(done) = done {
            note!("{done}");
        }
        let mut warned = Vec::new();
        for mut sealer in sealers {
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

/// `sealed` with the token's id recorded beside it (`id=`, docs/sealed-values.md), when there is
/// one: from `management create`, `token set --id`, or the value it replaces (rekey, move).
pub fn with_token_id(sealed: String, id: Option<&str>) -> String {
    match (id, SealedValue::parse(&sealed)) {
        (Some(id), Ok(parsed)) => parsed.with_token_id(id).to_string(),
        _ => sealed,
    }
}

/// Says that something a backend stored could not be deleted, and how to delete it by hand.
fn warn_left_behind(left: &LeftBehind) {
    let LeftBehind {
        what,
        why,
        error,
        removal,
    } = left;
    match removal {
        Some(by_hand) => warning!("{what}, which {why}, is still there: {error}\nhint: {by_hand}"),
        None => warning!("{what}, which {why}, is still there: {error}"),
    }
}

/// Deletes what the values a saved change replaced kept outside the file (`old` values that
/// named a keyring entry), reaching for a store only if there is any.
pub fn forget_replaced<'v>(old: impl IntoIterator<Item = &'v str>) -> Result<(), CommandError> {
    let mut access = target::access_without_identities();
    let left =
        sealctl_seal::backend::forget_replaced(old, &mut access).map_err(crate::error::loaded)?;
    for left in &left {
        warn_left_behind(left);
    }
    Ok(())
}
