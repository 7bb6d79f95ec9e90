//! The program's standard output and error under `exec --mask`: each read by sealctl, masked and
//! passed on as it comes. Where sealctl's own stream is a terminal, the program's is a
//! pseudo-terminal of its own (so it still sees a terminal: colours, line buffering, its width),
//! else a pipe. The two streams stay apart: what the program writes to standard error still goes
//! to sealctl's standard error.

use std::io::{self, IsTerminal as _};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::mask::{Secrets, copy_masked};

/// Which of sealctl's streams.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

/// The read ends of the program's output streams, until they are copied.
#[derive(Debug)]
pub(crate) struct MaskedOutputs {
    readers: Vec<(Stream, OwnedFd)>,
    terminals: Terminals,
}

/// The pseudo-terminals' sides sealctl keeps, and which of its own terminals each follows in
/// size.
#[derive(Debug, Default)]
pub(crate) struct Terminals(Vec<(OwnedFd, Stream)>);

impl MaskedOutputs {
    /// Gives `command` a pipe or a pseudo-terminal for each output stream. The program's ends
    /// are held by `command` only: it must be dropped once the program has started, so that the
    /// copies see the end when the program's last process closes them.
    pub(crate) fn attach(command: &mut Command) -> io::Result<MaskedOutputs> {
        let mut outputs = MaskedOutputs {
            readers: Vec::new(),
            terminals: Terminals::default(),
        };
        for stream in [Stream::Stdout, Stream::Stderr] {
            let (reader, writer): (OwnedFd, Stdio) = if stream.is_terminal() {
                let (controller, program_side) = pseudo_terminal(stream)?;
                outputs.terminals.0.push((controller.try_clone()?, stream));
                (controller, Stdio::from(program_side))
            } else {
                let (reader, writer) = io::pipe()?;
                (OwnedFd::from(reader), Stdio::from(writer))
            };
            match stream {
                Stream::Stdout => command.stdout(writer),
                Stream::Stderr => command.stderr(writer),
            };
            outputs.readers.push((stream, reader));
        }
        Ok(outputs)
    }

    /// The pseudo-terminals given to the program, for the thread that watches SIGWINCH.
    pub(crate) fn take_terminals(&mut self) -> Terminals {
        std::mem::take(&mut self.terminals)
    }

    /// Copies both streams, masked, until the program's side of each is closed.
    pub(crate) fn copy(self, secrets: &Secrets) {
        std::thread::scope(|scope| {
            for (stream, reader) in self.readers {
                scope.spawn(move || {
                    let from = std::fs::File::from(reader);
                    // An error writing out (a closed pipe) ends this copy; the program then
                    // sees its output closed, as it would have without sealctl.
                    let _ = match stream {
                        Stream::Stdout => copy_masked(secrets, from, io::stdout()),
                        Stream::Stderr => copy_masked(secrets, from, io::stderr()),
                    };
                });
            }
        });
    }
}

impl Terminals {
    /// Whether the program was given no pseudo-terminal.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives each pseudo-terminal the size sealctl's terminal has now (after SIGWINCH).
    pub(crate) fn follow_size(&self) {
        for (controller, stream) in &self.0 {
            if let Some(size) = stream.size() {
                let _ = rustix::termios::tcsetwinsize(controller, size);
            }
        }
    }
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => io::stdout().is_terminal(),
            Stream::Stderr => io::stderr().is_terminal(),
        }
    }

    /// The size of sealctl's own terminal on this stream.
    fn size(self) -> Option<rustix::termios::Winsize> {
        match self {
            Stream::Stdout => rustix::termios::tcgetwinsize(io::stdout().as_fd()).ok(),
            Stream::Stderr => rustix::termios::tcgetwinsize(io::stderr().as_fd()).ok(),
        }
    }
}

/// A new pseudo-terminal, the size of sealctl's terminal on `stream`, passing the program's bytes
/// through unchanged (no `\n` to `\r\n`: sealctl's own terminal does that once). Returns sealctl's
/// side and the program's.
fn pseudo_terminal(stream: Stream) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use rustix::termios::{OptionalActions, OutputModes, tcgetattr, tcsetattr};
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    // Not inherited by the program: only its own side is (macOS's openpt has no CLOEXEC flag).
    rustix::io::fcntl_setfd(&controller, rustix::io::FdFlags::CLOEXEC)?;
    grantpt(&controller)?;
    unlockpt(&controller)?;
    let name = ptsname(&controller, Vec::new())?;
    // NOCTTY: it is the program's output, not its controlling terminal (that stays sealctl's,
    // so that ^C and job control work as before).
    let program_side = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut modes = tcgetattr(&program_side)?;
    modes.output_modes.remove(OutputModes::OPOST);
    tcsetattr(&program_side, OptionalActions::Now, &modes)?;
    if let Some(size) = stream.size() {
        rustix::termios::tcsetwinsize(&program_side, size)?;
    }
    Ok((controller, program_side))
}
