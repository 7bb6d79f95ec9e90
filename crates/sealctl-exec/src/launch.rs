//! Starting the program: replacing sealctl where nothing needs cleaning up, else waiting for it
//! and forwarding signals.

use std::ffi::OsString;
use std::process::{Command, ExitStatus};

use secrecy::{ExposeSecret, SecretString};

use crate::copy::ConfigCopy;
use crate::error::ExecError;

/// The signals sealctl passes on to the program it waits for.
#[cfg(unix)]
const FORWARDED: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

/// A program to start, with its arguments, extra environment and config copy.
pub struct Launch {
    /// The program, as the user named it (looked up on PATH).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Variables to set in its environment (and only there), some holding opened secrets.
    pub env: Vec<(OsString, SecretString)>,
    /// The config copy it is given, if any.
    pub copy: Option<ConfigCopy>,
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("program", &self.program)
            .field("args", &self.args)
            .field(
                "env",
                &self.env.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("copy", &self.copy)
            .finish()
    }
}

impl Launch {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (name, value) in &self.env {
            command.env(name, value.expose_secret());
        }
        command
    }

    /// Runs the program and returns the exit status sealctl must exit with: the program's code,
    /// or 128+N if a signal N killed it. Where no cleanup is needed this never returns on
    /// success: sealctl becomes the program.
    pub fn run(self) -> Result<u8, ExecError> {
        #[cfg(unix)]
        if !self.copy.as_ref().is_some_and(ConfigCopy::needs_cleanup) {
            use std::os::unix::process::CommandExt as _;
            let error = self.command().exec();
            return Err(start_error(&self.program, error));
        }
        self.spawn_and_wait()
    }

    #[cfg(unix)]
    fn spawn_and_wait(self) -> Result<u8, ExecError> {
        // Take the signals before the program starts, so none is lost between the two.
        let mut signals =
            signal_hook::iterator::Signals::new(FORWARDED).map_err(ExecError::Supervise)?;
        let handle = signals.handle();
        let mut child = self
            .command()
            .spawn()
            .map_err(|error| start_error(&self.program, error))?;
        let pid = rustix::process::Pid::from_child(&child);
        let forwarder = std::thread::spawn(move || {
            for signal in signals.forever() {
                if let Some(signal) = rustix::process::Signal::from_named_raw(signal) {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        });
        let status = child.wait();
        handle.close();
        let _ = forwarder.join();
        // The copy (and its folder) is removed here, before sealctl exits.
        drop(self.copy);
        status.map(exit_code).map_err(ExecError::Supervise)
    }

    /// Without Unix signals there is nothing to forward: Ctrl-C reaches the program through the
    /// console it shares with sealctl.
    #[cfg(not(unix))]
    fn spawn_and_wait(self) -> Result<u8, ExecError> {
        let status = self
            .command()
            .spawn()
            .map_err(|error| start_error(&self.program, error))?
            .wait();
        drop(self.copy);
        status.map(exit_code).map_err(ExecError::Supervise)
    }
}

fn start_error(program: &OsString, error: std::io::Error) -> ExecError {
    match error.kind() {
        std::io::ErrorKind::NotFound => ExecError::NotFound(program.clone()),
        _ => ExecError::CannotRun {
            program: program.clone(),
            source: error,
        },
    }
}

/// A program's exit status as a shell reports it: its code, or 128+N for signal N.
pub fn exit_code(status: ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return (128 + signal).clamp(0, 255) as u8;
        }
    }
    status.code().map_or(1, |code| code.clamp(0, 255) as u8)
}
