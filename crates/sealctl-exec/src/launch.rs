//! Starting the program: replacing sealctl where nothing needs cleaning up, else waiting for it
//! and passing on every signal that would otherwise end sealctl.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use secrecy::{ExposeSecret, SecretString};

use crate::copy::ConfigCopy;
use crate::error::{CannotRunWhy, ExecError};
use crate::mask::Secrets;

/// Every signal whose default action ends a process and that a handler may catch: sealctl
/// passes each on to the program it waits for, as the program would have received it had sealctl
/// replaced itself with it. Left out: SIGKILL and SIGSTOP (they cannot be caught), and SIGSEGV,
/// SIGILL and SIGFPE, which mean sealctl itself crashed (a handler that returns would fault again).
#[cfg(unix)]
fn fatal_signals() -> Vec<i32> {
    use signal_hook::consts::*;
    let common = [
        SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGVTALRM, SIGPROF,
        SIGXCPU, SIGXFSZ, SIGIO, SIGSYS, SIGTRAP, SIGABRT, SIGBUS,
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let linux = [libc::SIGSTKFLT, libc::SIGPWR]
        .into_iter()
        .chain(libc::SIGRTMIN()..=libc::SIGRTMAX());
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let linux = std::iter::empty();
    common.into_iter().chain(linux).collect()
}

/// Starts catching [`fatal_signals`]: from now on none of them ends sealctl, each waits in the
/// returned queue.
#[cfg(unix)]
pub(crate) fn catch_fatal_signals() -> Result<signal_hook::iterator::Signals, ExecError> {
    signal_hook::iterator::Signals::new(fatal_signals()).map_err(ExecError::Supervise)
}

/// What [`Launch::run_to_edit`] saw.
pub struct Edited {
    /// The editor's exit status (128+N if a signal N killed it).
    pub status: u8,
    /// What the copy held once the editor was gone.
    pub contents: zeroize::Zeroizing<Vec<u8>>,
    /// The last signal sealctl was sent while the editor ran (passed on to it), if any.
    pub signal: Option<i32>,
}

impl std::fmt::Debug for Edited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edited")
            .field("status", &self.status)
            .field("contents", &self.contents.len())
            .field("signal", &self.signal)
            .finish()
    }
}

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
    /// Variables of sealctl's own environment that the program must not see (they hold keys).
    pub env_remove: Vec<OsString>,
    /// With `--mask`: the secrets replaced with `***` in the program's output, which sealctl
    /// then reads and passes on (so it waits for the program instead of becoming it).
    pub mask: Option<Secrets>,
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
            .field("env_remove", &self.env_remove)
            .field("mask", &self.mask)
            .finish()
    }
}

impl Launch {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for name in &self.env_remove {
            command.env_remove(name);
        }
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
        if self.mask.is_none() && !self.copy.as_ref().is_some_and(ConfigCopy::needs_cleanup) {
            use std::os::unix::process::CommandExt as _;
            let error = self.command().exec();
            return Err(start_error(&self.program, error));
        }
        self.spawn_and_wait()
    }

    /// Runs an editor on the copy and waits for it (never replacing sealctl): the editor's exit
    /// status, what the copy holds after it, and the last signal that asked sealctl to stop
    /// meanwhile (passed on to the editor), if one did. The copy is removed before this returns.
    pub fn run_to_edit(mut self) -> Result<Edited, ExecError> {
        let copy = self.copy.take();
        let (status, copy, signal) = self.supervise(copy)?;
        let contents = match &copy {
            Some(copy) => copy.read_back()?,
            None => zeroize::Zeroizing::new(Vec::new()),
        };
        drop(copy);
        Ok(Edited {
            status,
            contents,
            signal,
        })
    }

    fn spawn_and_wait(mut self) -> Result<u8, ExecError> {
        let copy = self.copy.take();
        // The copy (and its folder) is removed as `supervise` returns, before sealctl exits.
        self.supervise(copy).map(|(status, _, _)| status)
    }

    /// Starts the program and waits for it, passing signals on; returns its exit status, the
    /// copy (still there, with the signals still caught until it is dropped) and the last signal
    /// passed on.
    #[cfg_attr(not(unix), allow(unused_mut))]
    fn supervise(
        self,
        mut copy: Option<ConfigCopy>,
    ) -> Result<(u8, Option<ConfigCopy>, Option<i32>), ExecError> {
        // A private copy has caught every fatal signal since it was made; else they are caught
        // now, before the program starts, so that none is lost between the two.
        #[cfg(unix)]
        let taken = match copy.as_mut() {
            Some(ConfigCopy::PrivateFile(copy)) => copy.take_signals(),
            _ => None,
        };
        #[cfg(unix)]
        let mut signals = match taken {
            Some(signals) => signals,
            None => catch_fatal_signals()?,
        };
        #[cfg(unix)]
        let handle = signals.handle();
        #[cfg(unix)]
        if let Some(ConfigCopy::PrivateFile(copy)) = &copy {
            copy.share_lock_with_program().map_err(ExecError::Copy)?;
        }
        let mut command = self.command();
        #[cfg(unix)]
        let mut outputs = match &self.mask {
            Some(_) => Some(
                crate::masked_output::MaskedOutputs::attach(&mut command)
                    .map_err(ExecError::Supervise)?,
            ),
            None => None,
        };
        #[cfg(not(unix))]
        if self.mask.is_some() {
            return Err(ExecError::Supervise(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "--mask needs a Unix system",
            )));
        }
        let mut child = command
            .spawn()
            .map_err(|error| start_error(&self.program, error))?;
        // The program's ends of its output streams: only the program may hold them now, so that
        // the masked copies end when it does.
        drop(command);
        #[cfg(unix)]
        let terminals = outputs
            .as_mut()
            .map(crate::masked_output::MaskedOutputs::take_terminals)
            .filter(|terminals| !terminals.is_empty());
        #[cfg(unix)]
        if terminals.is_some() {
            handle
                .add_signal(signal_hook::consts::SIGWINCH)
                .map_err(ExecError::Supervise)?;
        }
        #[cfg(unix)]
        let forwarder = {
            let pid = rustix::process::Pid::from_child(&child);
            std::thread::spawn(move || {
                let mut last = None;
                for raw in signals.forever() {
                    // The program draws for its pseudo-terminal, which takes the new size first.
                    if raw == signal_hook::consts::SIGWINCH
                        && let Some(terminals) = &terminals
                    {
                        terminals.follow_size();
                    }
                    // Real-time signals have no name rustix can send: the program is asked to
                    // end instead, as their default action would have ended sealctl.
                    let signal = rustix::process::Signal::from_named_raw(raw)
                        .unwrap_or(rustix::process::Signal::TERM);
                    if raw != signal_hook::consts::SIGWINCH {
                        last = Some(raw);
                    }
                    let _ = rustix::process::kill_process(pid, signal);
                }
                // Given back, so that the signals stay caught until the copy is gone.
                (signals, last)
            })
        };
        #[cfg(unix)]
        if let (Some(outputs), Some(secrets)) = (outputs, &self.mask) {
            outputs.copy(secrets);
        }
        let status = child.wait();
        #[cfg(unix)]
        let last = {
            handle.close();
            match forwarder.join() {
                Ok((signals, last)) => {
                    // Still caught while the copy lives: given back to it.
                    if let Some(ConfigCopy::PrivateFile(copy)) = copy.as_mut() {
                        copy.give_back_signals(signals);
                    }
                    last
                }
                Err(_) => None,
            }
        };
        #[cfg(not(unix))]
        let last = None;
        status
            .map(|status| (exit_code(status), copy, last))
            .map_err(ExecError::Supervise)
    }
}

fn start_error(program: &OsString, error: std::io::Error) -> ExecError {
    let found = found_at(program);
    match error.kind() {
        std::io::ErrorKind::NotFound => match found {
            // The file is there: what is missing is the interpreter its `#!` line names.
            Some(path) if path.is_file() => ExecError::CannotRun {
                program: program.clone(),
                why: CannotRunWhy::NoInterpreter {
                    interpreter: interpreter(&path),
                    path,
                },
                source: error,
            },
            _ => ExecError::NotFound(program.clone()),
        },
        _ => ExecError::CannotRun {
            program: program.clone(),
            why: match found {
                Some(path) if path.is_dir() => CannotRunWhy::Folder(path),
                Some(path) if error.kind() == std::io::ErrorKind::PermissionDenied => {
                    CannotRunWhy::NotExecutable(path)
                }
                Some(path) if error.raw_os_error() == Some(ENOEXEC) => {
                    CannotRunWhy::NotAProgram(path)
                }
                _ => CannotRunWhy::Other(error.to_string()),
            },
            source: error,
        },
    }
}

/// "Exec format error": a file the system does not know how to run.
const ENOEXEC: i32 = 8;

/// The file that starting `program` tried: the program itself if it names a path, else the first
/// file or folder of that name in a PATH folder (as a shell looks it up).
fn found_at(program: &OsString) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.components().count() > 1 || program.to_string_lossy().contains('/') {
        return path.exists().then(|| path.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.exists())
}

/// The interpreter a script's `#!` line names, if it has one.
fn interpreter(path: &Path) -> Option<String> {
    let mut start = [0u8; 256];
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut start))
        .ok()?;
    let line = start[..read]
        .strip_prefix(b"#!")?
        .split(|b| *b == b'\n')
        .next()?;
    let line = String::from_utf8_lossy(line);
    line.split_whitespace().next().map(str::to_owned)
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
