//! Asking a person, on the terminal: a hidden token, or a yes/no. Never used without a terminal.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};

use sealctl_profile::terminal::visible_message;
use secrecy::SecretString;

/// Whether a person can be asked: standard input and standard error are terminals.
pub fn can_prompt() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Asks for a secret without echoing it.
pub fn hidden(prompt: &str) -> io::Result<SecretString> {
    rpassword::prompt_password(visible_message(prompt)).map(SecretString::from)
}

/// The most a pasted answer may hold: far more than the output of `influxctl management create`.
#[cfg(unix)]
const PASTE_LIMIT: usize = 64 * 1024;

/// How long after a line more lines may still be arriving from the same paste.
#[cfg(unix)]
const PASTE_GAP: std::time::Duration = std::time::Duration::from_millis(150);

/// Asks for a secret without echoing it, and takes a whole paste: one typed line, or every line
/// of a pasted block (the output of `influxctl management create`), which arrive together. Echo is
/// off for the whole of it, and no pasted line is left behind for the shell to run.
///
/// Ctrl-C is an [`io::ErrorKind::Interrupted`] error and the end of input (Ctrl-D) an
/// [`io::ErrorKind::UnexpectedEof`] one, both with the terminal as it was: a signal would end the
/// process with echo still off.
#[cfg(unix)]
pub fn hidden_paste(prompt: &str) -> io::Result<SecretString> {
    use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr};

    let stdin = io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    // Read a byte at a time, with Ctrl-C and the line editing keys handled here.
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
    quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
    let mut stderr = io::stderr();
    write!(stderr, "{}", visible_message(prompt))?;
    stderr.flush()?;
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    let text = read_paste(&stdin);
    // Restored whatever happened, before anything else is said.
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    writeln!(stderr)?;
    restored?;
    let text = text?;
    if text.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the input ended before a token was given",
        ));
    }
    let text = std::str::from_utf8(&text)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the input is not UTF-8 text"))?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n'])))
}

/// Asks for a secret without echoing it: one line, where the terminal cannot be polled for the
/// rest of a paste (not a Unix terminal).
#[cfg(not(unix))]
pub fn hidden_paste(prompt: &str) -> io::Result<SecretString> {
    hidden(prompt)
}

/// Reads the first line, then whatever else arrives within [`PASTE_GAP`] of the last byte.
#[cfg(unix)]
fn read_paste(stdin: &io::Stdin) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};

    let mut text = zeroize::Zeroizing::new(Vec::with_capacity(PASTE_LIMIT + 4096));
    let mut chunk = zeroize::Zeroizing::new([0u8; 4096]);
    let gap = Timespec {
        tv_sec: 0,
        tv_nsec: PASTE_GAP.as_nanos() as _,
    };
    loop {
        // Until the first line is complete, wait as long as the person types.
        let timeout = text.contains(&b'\n').then_some(&gap);
        let mut fds = [PollFd::new(stdin, PollFlags::IN)];
        if poll(&mut fds, timeout)? == 0 {
            return Ok(text);
        }
        let read = rustix::io::read(stdin, &mut chunk[..])?;
        if read == 0 {
            return Ok(text);
        }
        if text.len() + read > PASTE_LIMIT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the input is over 64 KiB: that is not a token",
            ));
        }
        for &byte in &chunk[..read] {
            let first_line = !text.contains(&b'\n');
            match byte {
                // Ctrl-C: no token holds it, nor any paste.
                0x03 => {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
                }
                // Ctrl-D on an empty line: the end of input, as the terminal would say it.
                0x04 if text.is_empty() => return Ok(text),
                // Backspace and Ctrl-U, as in a line the terminal edits.
                0x7f | 0x08 if first_line => {
                    text.pop();
                }
                0x15 if first_line => text.clear(),
                // Enter, with the terminal's own carriage-return translation off or on.
                b'\r' => text.push(b'\n'),
                byte => text.push(byte),
            }
        }
    }
}

/// Asks a yes/no question; anything but `y` or `yes` is no.
pub fn confirm(question: &str) -> io::Result<bool> {
    let mut stderr = io::stderr();
    write!(stderr, "{} [y/N] ", visible_message(question))?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
