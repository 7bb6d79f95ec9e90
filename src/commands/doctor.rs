//! `sealctl doctor`: whether this machine is ready, on one screen. Each line is ok, warn or
//! fail, with the fix; any fail makes the exit status 1. It never shows a secret, and reaches a
//! keyring only with a bounded probe or to open a value that lives there.

use std::io::Write as _;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt as _;

/// Windows keeps no Unix mode bits (its ACLs decide who may read a file): there every file
/// reads as private to its owner and executable, so doctor warns of nothing it cannot see.
#[cfg(not(unix))]
trait PermissionsExt {
    fn mode(&self) -> u32;
}

#[cfg(not(unix))]
impl PermissionsExt for std::fs::Permissions {
    fn mode(&self) -> u32 {
        0o700
    }
}
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use clap::Args;
use sealctl_profile::schema::SECRET_KEYS;
use sealctl_profile::sealed::{SealedValue, looks_sealed};
use sealctl_profile::{Diagnostic, ProfileDocument, Rule, Severity};
use sealctl_seal::{Access, LoadError, Needs};
use sealctl_seal::{Identities, IdentitySource};

use super::{git_setup, target};
use crate::cli::GlobalArgs;
use crate::config_path::{self, Need};
use crate::error::{CommandError, Status, is_broken_pipe};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sealctl doctor\n  sealctl doctor --live\n\n\
Exit status: 0 when nothing failed (warnings allowed); 1 when something did; 2 on a usage error."
)]
pub struct DoctorArgs {
    /// Also ask the cluster about each profile's management token, as `sealctl token status
    /// --all` does: a network call with each token, so only when asked.
    #[arg(long)]
    pub live: bool,

    /// The influxctl that --live runs (default: `influxctl` on PATH).
    #[arg(long = "influxctl", value_name = "PATH", env = "SEALCTL_INFLUXCTL")]
    pub influxctl: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Line {
    level: Level,
    topic: &'static str,
    text: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    lines: Vec<Line>,
}

impl Report {
    fn ok(&mut self, topic: &'static str, text: impl Into<String>) {
        self.push(Level::Ok, topic, text, None::<String>);
    }

    fn push(
        &mut self,
        level: Level,
        topic: &'static str,
        text: impl Into<String>,
        fix: Option<impl Into<String>>,
    ) {
        // Paths, names and hosts from the file reach a terminal here: shown, never obeyed.
        let shown = |text: String| crate::ui::visible_message(&text).into_owned();
        self.lines.push(Line {
            level,
            topic,
            text: shown(text.into()),
            fix: fix.map(|fix| shown(fix.into())),
        });
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let (label, colour) = match line.level {
                Level::Ok => ("ok", AnsiColor::Green),
                Level::Warn => ("warn", AnsiColor::Yellow),
                Level::Fail => ("fail", AnsiColor::Red),
            };
            let style = Style::new().fg_color(Some(colour.into())).bold();
            out.push_str(&format!(
                "{style}{label:<4}{style:#}  {:<10}  {}\n",
                line.topic, line.text
            ));
            if let Some(fix) = &line.fix {
                out.push_str(&format!("                  fix: {fix}\n"));
            }
        }
        let fails = self.count(Level::Fail);
        let warns = self.count(Level::Warn);
        out.push_str(&match (fails, warns) {
            (0, 0) => "this machine is ready\n".to_owned(),
            (0, warns) => format!("ready, with {warns} warning(s)\n"),
            (fails, _) => format!("not ready: {fails} check(s) failed\n"),
        });
        out
    }

    fn count(&self, level: Level) -> usize {
        self.lines.iter().filter(|line| line.level == level).count()
    }
}

pub fn cmd_doctor(global: &GlobalArgs, args: DoctorArgs) -> Result<Status, CommandError> {
    let mut report = Report::default();
    let document = config(global, &mut report);
    let identities = identities(global, &mut report);
    if let Some(document) = &document {
        values(document, identities, &mut report);
        recipients(document, &mut report);
    }
    backends(document.as_ref(), &mut report);
    influxctl(&mut report);
    git(document.as_ref().map(ProfileDocument::path), &mut report);
    if args.live
        && let Some(document) = &document
    {
        live(global, document, args.influxctl, &mut report);
    }

    let failed = report.count(Level::Fail) > 0;
    // anstream drops the colour where it may not go (not a terminal, NO_COLOR, --color never).
    let mut stdout = anstream::stdout().lock();
    if let Err(error) = stdout
        .write_all(report.render().as_bytes())
        .and_then(|()| stdout.flush())
        && !is_broken_pipe(&error)
    {
        return Err(CommandError::setup("cannot write the report").source(error));
    }
    Ok(if failed {
        Status::Findings
    } else {
        Status::Success
    })
}

/// `--live`: what the cluster says of each profile's management token (`token status --all`).
fn live(
    global: &GlobalArgs,
    document: &ProfileDocument,
    influxctl: Option<std::path::PathBuf>,
    report: &mut Report,
) {
    let request = super::status::StatusRequest {
        all: true,
        json: false,
        influxctl,
    };
    let states = match super::status::states(global, document, document.path(), &request) {
        Ok(states) => states,
        Err(error) => {
            let fix = error.hints().first().cloned();
            report.push(Level::Fail, "cluster", error.to_string(), fix);
            return;
        }
    };
    let status_command = crate::ui::CommandLine::sealctl(&["token", "status"])
        .file(document.path())
        .all()
        .to_string();
    for state in states {
        let cluster = &state.cluster;
        let mut text = format!("profile `{}`: {}", state.profile, cluster.state);
        if let Some(days) = cluster.days_left {
            text.push_str(&format!(", expires in {days} days"));
        }
        if let Some(message) = &cluster.message {
            text.push_str(&format!(" ({message})"));
        }
        for left in &state.leftovers {
            text.push_str(&format!("; token {} {}", left.id, left.why));
        }
        let level = if state.in_trouble() {
            Level::Fail
        } else if cluster.state == "expiring" {
            Level::Warn
        } else {
            Level::Ok
        };
        let fix = (level != Level::Ok)
            .then(|| format!("see `{status_command}`; `sealctl token rotate` replaces a token"));
        report.push(level, "cluster", text, fix);
    }
}

/// The profile file: where, its permissions, and what `check` says of it.
fn config(global: &GlobalArgs, report: &mut Report) -> Option<ProfileDocument> {
    let path = match config_path::resolve(global.config.clone(), Need::MayBeAbsent) {
        Ok(path) => path,
        Err(error) => {
            let fix = error.hints().first().cloned();
            report.push(Level::Fail, "config", error.to_string(), fix);
            return None;
        }
    };
    let Ok(metadata) = std::fs::metadata(&path) else {
        report.push(
            Level::Fail,
            "config",
            format!("there is no profile file at {}", path.display()),
            Some(format!(
                "create one with `{}`, or name it with --config FILE",
                crate::ui::CommandLine::sealctl(&["init"]).file(&path)
            )),
        );
        return None;
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        report.push(
            Level::Warn,
            "config",
            format!(
                "{} can be read by group or others (mode {mode:03o})",
                path.display()
            ),
            Some(format!(
                "chmod 600 {}",
                crate::ui::shell_quote(&path.to_string_lossy())
            )),
        );
    } else {
        report.ok("config", format!("{} (mode {mode:03o})", path.display()));
    }
    let bytes = match sealctl_profile::file::read_limited(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let reason = std::error::Error::source(&error)
                .map_or_else(|| error.to_string(), ToString::to_string);
            report.push(
                Level::Fail,
                "config",
                format!("cannot read {}: {reason}", path.display()),
                None::<String>,
            );
            return None;
        }
    };
    checked(&path, &sealctl_profile::check(&bytes).diagnostics, report);
    ProfileDocument::load(&path).ok()
}

/// What `check` found, with the rules doctor tells on lines of their own taken apart.
fn checked(path: &Path, diagnostics: &[Diagnostic], report: &mut Report) {
    let own_line = |rule: Rule| {
        matches!(
            rule,
            Rule::PlaintextSecret
                | Rule::StaleRecipients
                | Rule::TokenExpiring
                | Rule::TokenExpired
        )
    };
    let mut errors = 0;
    let mut warnings = 0;
    for diagnostic in diagnostics {
        let place = format!(
            "{}{}",
            diagnostic
                .profile
                .as_deref()
                .map(|name| format!("profile `{name}` "))
                .unwrap_or_default(),
            diagnostic
                .key
                .as_deref()
                .map(|key| format!("key `{key}`"))
                .unwrap_or_default()
        );
        match diagnostic.rule {
            Rule::PlaintextSecret => report.push(
                Level::Fail,
                "plaintext",
                format!("{} is in plaintext", place.trim()),
                Some(
                    crate::ui::CommandLine::sealctl(&["seal"])
                        .file(path)
                        .all()
                        .to_string(),
                ),
            ),
            Rule::StaleRecipients => report.push(
                Level::Warn,
                "recipients",
                format!(
                    "{} is sealed to other recipients than the file lists now",
                    place.trim()
                ),
                Some(
                    crate::ui::CommandLine::sealctl(&["rekey"])
                        .file(path)
                        .all()
                        .to_string(),
                ),
            ),
            Rule::TokenExpiring | Rule::TokenExpired => report.push(
                if diagnostic.rule == Rule::TokenExpired {
                    Level::Fail
                } else {
                    Level::Warn
                },
                "expiry",
                diagnostic.message.clone(),
                crate::report::help(diagnostic, Some(path)),
            ),
            _ if diagnostic.severity == Severity::Error => errors += 1,
            _ => warnings += 1,
        }
    }
    let others = diagnostics.iter().filter(|d| !own_line(d.rule)).count();
    let show = format!(
        "`sealctl check {}` shows them",
        crate::ui::shell_quote(&path.to_string_lossy())
    );
    match (errors, warnings) {
        (0, 0) => report.ok(
            "check",
            if others == 0 && diagnostics.is_empty() {
                "no problems found".to_owned()
            } else {
                "no other problems found".to_owned()
            },
        ),
        (0, warnings) => report.push(
            Level::Warn,
            "check",
            format!("{warnings} warning(s)"),
            Some(show),
        ),
        (errors, _) => report.push(
            Level::Fail,
            "check",
            format!("{errors} error(s), {warnings} warning(s)"),
            Some(show),
        ),
    }
}

/// The identities that can be used, or why there are none.
enum Found {
    Usable(Identities),
    /// Some were found, and each has its `fail` line.
    Unusable,
    None,
}

/// The identities found, each loaded on its own so that each problem has its line.
fn identities(global: &GlobalArgs, report: &mut Report) -> Found {
    let sources = IdentitySource::discover_from_env(&global.identity);
    if sources.is_empty() {
        report.push(
            Level::Warn,
            "identity",
            "no age identity found (needed to open age values, not to seal)",
            Some("sealctl identity new"),
        );
        return Found::None;
    }
    let mut usable = Vec::new();
    for source in sources {
        match Identities::load(vec![source.clone()]) {
            Ok(_) => {
                let mode = match &source {
                    IdentitySource::File(path) => std::fs::metadata(path)
                        .map(|m| format!(" (mode {:03o})", m.permissions().mode() & 0o777))
                        .unwrap_or_default(),
                    IdentitySource::Environment(_) => String::new(),
                };
                report.ok("identity", format!("{source}{mode}"));
                usable.push(source);
            }
            Err(error) => {
                let error = CommandError::from(error);
                report.push(
                    Level::Fail,
                    "identity",
                    error.to_string(),
                    error.hints().first().cloned(),
                );
            }
        }
    }
    match Identities::load(usable) {
        Ok(identities) if !identities.is_empty() => Found::Usable(identities),
        _ => Found::Unusable,
    }
}

/// Whether each sealed value can be opened here.
fn values(document: &ProfileDocument, identities: Found, report: &mut Report) {
    let names = document.profile_names();
    let Ok(found) = document.values_with_endpoints(&names, SECRET_KEYS) else {
        return;
    };
    let no_identity = match identities {
        Found::Usable(_) => None,
        Found::Unusable => Some("fix the identity above"),
        _ => Some("create one with `sealctl identity new`, or pass --identity FILE"),
    };
    let mut usable = match identities {
        Found::Usable(identities) => Some(identities),
        _ => None,
    };
    let mut opener = sealctl_seal::Opener::new(
        Access::new(
            Box::new(move || {
                usable
                    .take()
                    .ok_or_else(|| LoadError("no usable identity".into()))
            }),
            Box::new(|| Ok(target::keyring().unwrap_or_default())),
        )
        .with_settings(
            target::settings_loader(document.path()),
            Box::new(|warning| warning!("{warning}")),
        ),
    );
    let mut opened = 0;
    for (value, endpoint) in found.iter().filter(|(value, _)| looks_sealed(&value.value)) {
        let place = &value.place;
        let Ok(sealed) = SealedValue::parse(&value.value) else {
            continue; // `check` reported it
        };
        // A backend that seals to recipients opens with an identity.
        let with_identity = sealctl_seal::backend_of(&sealed)
            .is_ok_and(|backend| backend.needs() == Needs::Recipients);
        if let Some(fix) = no_identity.filter(|_| with_identity) {
            report.push(
                Level::Fail,
                "open",
                format!("{place}: no usable identity to open it with"),
                Some(fix),
            );
            continue;
        }
        let result = opener.open(&sealed, place, endpoint).map(drop);
        match result {
            Ok(()) => opened += 1,
            Err(error) => {
                let error = target::explain_binding(error, document.path());
                report.push(
                    Level::Fail,
                    "open",
                    format!("{place}: {error}"),
                    error.hints().first().cloned(),
                );
            }
        }
    }
    if opened > 0 {
        report.ok(
            "open",
            format!("{} sealed value(s) open with what this machine has", opened),
        );
    }
}

/// An `ok` for the recipients when no value was sealed to another set (those have `warn` lines).
fn recipients(document: &ProfileDocument, report: &mut Report) {
    let listed = document.recipients().len();
    let stale = report.lines.iter().any(|line| line.topic == "recipients");
    if listed > 0 && !stale {
        report.ok(
            "recipients",
            format!("every age value is sealed to the file's {listed} recipient(s)"),
        );
    }
}

/// Whether each backend that keeps tokens on this machine can take one now, as `token set`
/// needs (the keyring: a probe entry is made and deleted). A failure is a `fail` only where the
/// file keeps a token there.
fn backends(document: Option<&ProfileDocument>, report: &mut Report) {
    let values: Vec<SealedValue> = document
        .and_then(|document| document.values(&document.profile_names(), SECRET_KEYS).ok())
        .map(|values| {
            values
                .iter()
                .filter_map(|value| SealedValue::parse(&value.value).ok())
                .collect()
        })
        .unwrap_or_default();
    let mut access = Access::new(
        Box::new(|| Err(LoadError("no identity is needed for the probe".into()))),
        Box::new(|| Ok(target::keyring().unwrap_or_default())),
    );
    if let Some(document) = document {
        access = access.with_settings(
            target::settings_loader(document.path()),
            Box::new(|warning| warning!("{warning}")),
        );
    }
    for backend in sealctl_seal::BACKENDS {
        let topic = backend.name();
        let in_use = values.iter().any(|sealed| backend.is_of(sealed));
        if in_use && backend.needs() == Needs::Service {
            access.service_in_use();
        }
        match backend.probe(&mut access) {
            None => {}
            Some(Ok(checked)) => report.ok(topic, checked),
            Some(Err(error)) if in_use => {
                let error = crate::error::from_backend(error);
                report.push(
                    Level::Fail,
                    topic,
                    error.to_string(),
                    error.hints().first().cloned(),
                );
            }
            Some(Err(error)) => report.ok(
                topic,
                format!("{error}; not needed here: no token is kept in a {topic}"),
            ),
        }
    }
}

/// Whether influxctl is on PATH, and its version.
fn influxctl(report: &mut Report) {
    let Some(path) = on_path("influxctl") else {
        report.push(
            Level::Warn,
            "influxctl",
            "influxctl is not on PATH; `sealctl exec -- influxctl …` needs it",
            Some("install it: https://docs.influxdata.com/influxdb3/clustered/reference/cli/influxctl/"),
        );
        return;
    };
    let version = version_of(&path).unwrap_or_else(|| "version unknown".to_owned());
    report.ok("influxctl", format!("{} ({version})", path.display()));
}

/// Whether the repository the current folder is in (if any) diffs and merges profile files with
/// sealctl. A warning only when the profile file is in that repository: elsewhere it is a note.
fn git(config: Option<&Path>, report: &mut Report) {
    let Some(status) = git_setup::repository_status(config) else {
        return;
    };
    if status.ready || !status.holds_config {
        let fix = (!status.ready).then_some("; `sealctl git setup` adds it (docs/git.md)");
        report.ok("git", format!("{}{}", status.text, fix.unwrap_or_default()));
    } else {
        report.push(
            Level::Warn,
            "git",
            status.text,
            Some("sealctl git setup   (docs/git.md)"),
        );
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    // `influxctl.exe` on Windows.
    let program = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The first line `influxctl version` prints, if it answers within two seconds.
fn version_of(path: &Path) -> Option<String> {
    let mut child = Command::new(path)
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next()?.trim();
    (output.status.success() && !line.is_empty()).then(|| line.chars().take(80).collect())
}
