//! What `doctor` asks outside the profile file and this process: influxctl on PATH, the git
//! repository's set-up, and with `--live` the cluster itself.

#[cfg(not(unix))]
use super::PermissionsExt as _;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sealctl_profile::ProfileDocument;

use super::{Level, Report};
use crate::cli::GlobalArgs;
use crate::commands::{git_setup, status};

/// `--live`: what the cluster says of each profile's management token (`token status --all`).
pub(super) fn live(
    global: &GlobalArgs,
    document: &ProfileDocument,
    influxctl: Option<std::path::PathBuf>,
    report: &mut Report,
) {
    let request = status::StatusRequest {
        all: true,
        json: false,
        influxctl,
    };
    let states = match status::states(global, document, document.path(), &request) {
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

/// Whether influxctl is on PATH, and its version.
pub(super) fn influxctl(report: &mut Report) {
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
pub(super) fn git(config: Option<&Path>, report: &mut Report) {
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
