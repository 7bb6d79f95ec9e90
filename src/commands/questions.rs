//! The questions `sealctl init` asks on a terminal: the profile's settings (each answer checked
//! by the rules of `check`), where to keep the token, and the token itself, pasted without echo.
//! Ctrl-C while asking ends the run with nothing written.

use dialoguer::{Input, Select};
use sealctl_profile::setting_problem;
use sealctl_seal::{Destination, TokenInput, parse_token_input, prompt};
use secrecy::ExposeSecret as _;

use super::backend::BackendArgs;
use super::new_profile::{NewProfileArgs, Settings};
use crate::error::CommandError;

/// The settings asked on the terminal, with the flags' values as the defaults.
pub(super) fn ask_settings(args: &NewProfileArgs) -> Result<Settings, CommandError> {
    let asked = |error: dialoguer::Error| {
        // A menu hides the cursor and, interrupted, does not show it again: the terminal is
        // given it back before anything else is said.
        let _ = dialoguer::console::Term::stderr().show_cursor();
        let dialoguer::Error::IO(io) = &error;
        if io.kind() == std::io::ErrorKind::Interrupted {
            CommandError::setup("cancelled; nothing was changed")
        } else {
            CommandError::setup("cannot ask").source(error)
        }
    };
    let text = |label: &str, key: &'static str, default: Option<String>| {
        // Empty answers reach the check, so that a required one says why it is asked again.
        let mut input = Input::<String>::new()
            .with_prompt(label)
            .allow_empty(true)
            .validate_with(move |value: &String| {
                if value.trim().is_empty() {
                    return Err(format!("an answer is needed: {}", needed(key)));
                }
                match setting_problem(key, value) {
                    Some(problem) => Err(problem),
                    None => Ok(()),
                }
            });
        if let Some(default) = default {
            input = input.default(default);
        }
        input.interact_text().map_err(asked)
    };
    let name = text(
        "Profile name",
        "name",
        Some(args.name.clone().unwrap_or_else(|| "default".to_owned())),
    )?;
    let products = ["clustered", "dedicated"];
    let product = match &args.product {
        Some(product) => product.clone(),
        None => {
            let chosen = Select::new()
                .with_prompt("Product")
                .items([
                    "clustered (InfluxDB 3 Clustered)",
                    "dedicated (InfluxDB 3 Cloud Dedicated)",
                ])
                .default(0)
                .interact()
                .map_err(asked)?;
            products[chosen].to_owned()
        }
    };
    let mut fields = vec![("product", product.clone())];
    if product == "clustered" {
        fields.push(("host", text("Host", "host", args.host.clone())?));
        fields.push((
            "port",
            text(
                "Port",
                "port",
                Some(args.port.clone().unwrap_or_else(|| "443".to_owned())),
            )?,
        ));
    } else {
        fields.push((
            "account_id",
            text("Account id", "account_id", args.account_id.clone())?,
        ));
        fields.push((
            "cluster_id",
            text("Cluster id", "cluster_id", args.cluster_id.clone())?,
        ));
    }
    let to = if args.backend.backend.is_some() {
        args.backend.destination_or(None)
    } else {
        let offered = offered_backends(&args.backend);
        if offered.len() > 1 {
            let chosen = Select::new()
                .with_prompt("Keep the token")
                .items(offered.iter().map(|(_, offer)| offer))
                .default(0)
                .interact()
                .map_err(asked)?;
            offered.into_iter().nth(chosen).map(|(to, _)| to)
        } else {
            offered.into_iter().next().map(|(to, _)| to)
        }
        .unwrap_or_else(|| Destination::chosen(None, None, None))
    };
    Ok(Settings { name, fields, to })
}

/// Where a token can be kept, as `init` offers it: every backend this build has, the first
/// (sealed in the file) always; another only where it works (not where no D-Bus session or
/// Secret Service answers), with a note saying why not.
fn offered_backends(flags: &BackendArgs) -> Vec<(Destination, String)> {
    let mut access = sealctl_seal::Access::new(
        Box::new(|| {
            Err(sealctl_seal::LoadError(
                "no identity is needed to ask".into(),
            ))
        }),
        Box::new(|| super::target::keyring().map_err(|e| sealctl_seal::LoadError(Box::new(e)))),
    );
    let first = Destination::chosen(None, None, None);
    let mut offered = Vec::new();
    for backend in sealctl_seal::BACKENDS {
        // A store flag (--keyring-store, --transit-key, --kv-path) goes to its own backend.
        let store = flags.store_for(backend.name());
        let Some(to) = Destination::new(backend.name(), store) else {
            continue;
        };
        let Some(offer) = backend.offer(to.store()) else {
            continue;
        };
        let usable = backend.usable_here(to.store(), &mut access);
        // A server that is not set up here is not offered, and not worth a note: most people
        // have none.
        if backend.needs() == sealctl_seal::Needs::Service && usable.is_err() {
            continue;
        }
        match usable {
            Ok(()) => offered.push((to, offer)),
            Err(why) => note!(
                "the token will be sealed with {}: {why}",
                first.backend().name()
            ),
        }
    }
    offered
}

/// The menus and text questions turn Ctrl-C into SIGINT, which would end the process with the
/// cursor they hid still hidden. While questions are asked, SIGINT shows the cursor again and
/// ends the run before anything is written; once they are answered, it ends the run as it would
/// have.
#[cfg(unix)]
pub(super) fn interrupted_questions_end_cleanly() {
    use signal_hook::consts::SIGINT;
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            if ASKING.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                eprintln!("\nerror: cancelled; nothing was changed");
                std::process::exit(2);
            }
            let _ = signal_hook::low_level::emulate_default_handler(SIGINT);
        }
    });
}

/// Elsewhere Ctrl-C reaches the console's own handler, which ends the process as before.
#[cfg(not(unix))]
pub(super) fn interrupted_questions_end_cleanly() {}

/// Whether `init` is still asking, so that Ctrl-C can end it without a trace.
static ASKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Says that `init` has asked everything, so that Ctrl-C ends the run as it would have.
pub(super) fn done_asking() {
    ASKING.store(false, std::sync::atomic::Ordering::SeqCst);
}

/// What a question of `init` wants, said when it is answered with nothing.
fn needed(key: &str) -> &'static str {
    match key {
        "name" => "the profile's name, as --profile will select it",
        "host" => "the cluster's host name, as in cluster-host.example.com",
        "port" => "the port, as in 443",
        "account_id" | "cluster_id" => {
            "the id as influxctl prints it (8-4-4-4-12 hexadecimal digits)"
        }
        _ => "it has no default",
    }
}

/// The management token, asked without echo: the bare token, or the whole output of
/// `influxctl management create`, pasted.
pub(super) fn ask_token(name: &str) -> Result<TokenInput, CommandError> {
    note!("Paste the token, or the whole output of `influxctl management create`.");
    let question = format!(
        "Management token for profile `{}` (input hidden): ",
        crate::ui::visible(name)
    );
    // An empty answer (Enter pressed too early) or one holding no token is asked again, saying
    // why; the end of input or Ctrl-C ends it.
    loop {
        let token = prompt::hidden_paste(&question).map_err(|error| {
            if error.kind() == std::io::ErrorKind::Interrupted {
                CommandError::setup("cancelled; nothing was changed")
            } else {
                CommandError::setup("cannot read the token from the terminal").source(error)
            }
        })?;
        match parse_token_input(token.expose_secret()) {
            Ok(input) => return Ok(input),
            Err(error) => eprintln!("{error}; paste it again (Ctrl-C cancels)"),
        }
    }
}
