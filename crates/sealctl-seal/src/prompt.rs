//! Asking a person, on the terminal: a hidden token, or a yes/no. Never used without a terminal.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};

use secrecy::SecretString;

/// Whether a person can be asked: standard input and standard error are terminals.
pub fn can_prompt() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Asks for a secret without echoing it.
pub fn hidden(prompt: &str) -> io::Result<SecretString> {
    rpassword::prompt_password(prompt).map(SecretString::from)
}

/// Asks a yes/no question; anything but `y` or `yes` is no.
pub fn confirm(question: &str) -> io::Result<bool> {
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
