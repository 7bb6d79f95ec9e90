//! Who a value is sealed to: age X25519 recipients and OpenSSH public keys.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::RecipientError;

/// A recipient a value can be sealed to.
#[derive(Clone)]
pub enum Recipient {
    /// An age X25519 recipient, `age1…`.
    X25519(age::x25519::Recipient),
    /// An OpenSSH `ssh-ed25519` or `ssh-rsa` public key.
    Ssh(age::ssh::Recipient),
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl fmt::Display for Recipient {
    /// The canonical form: `age1…`, or `ssh-ed25519 AAAA…` without the key's comment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::X25519(recipient) => write!(f, "{recipient}"),
            Recipient::Ssh(recipient) => write!(f, "{recipient}"),
        }
    }
}

impl FromStr for Recipient {
    type Err = RecipientError;

    fn from_str(text: &str) -> Result<Recipient, RecipientError> {
        let text = text.trim();
        let invalid = || RecipientError::Invalid(text.chars().take(80).collect());
        if text.starts_with("age1") {
            return text.parse().map(Recipient::X25519).map_err(|_| invalid());
        }
        if text.starts_with("ssh-") {
            return text.parse().map(Recipient::Ssh).map_err(|_| invalid());
        }
        Err(invalid())
    }
}

impl Recipient {
    /// As age's recipient trait, to encrypt to.
    pub fn as_age(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(recipient) => recipient,
            Recipient::Ssh(recipient) => recipient,
        }
    }
}

/// Reads recipients from what a user names: a recipient itself, or a file of them (an age
/// recipients file, one per line with `#` comments, or an OpenSSH `.pub` file).
pub fn read_recipients(argument: &str) -> Result<Vec<Recipient>, RecipientError> {
    if let Ok(recipient) = argument.parse() {
        return Ok(vec![recipient]);
    }
    let path = Path::new(argument);
    if !path.exists() {
        return Err(RecipientError::Invalid(argument.chars().take(80).collect()));
    }
    let text = std::fs::read_to_string(path).map_err(|source| RecipientError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut recipients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        recipients.push(line.parse().map_err(|_| RecipientError::InvalidLine {
            path: path.to_owned(),
            line: index + 1,
        })?);
    }
    if recipients.is_empty() {
        return Err(RecipientError::Invalid(argument.chars().take(80).collect()));
    }
    Ok(recipients)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_age_and_ssh_recipients_and_drops_ssh_comments() {
        let age = age::x25519::Identity::generate().to_public().to_string();
        assert_eq!(age.parse::<Recipient>().unwrap().to_string(), age);
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@laptop";
        assert_eq!(
            ssh.parse::<Recipient>().unwrap().to_string(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
        );
        assert!("age1nope".parse::<Recipient>().is_err());
        assert!("hello".parse::<Recipient>().is_err());
    }

    #[test]
    fn reads_recipients_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("team.txt");
        let a = age::x25519::Identity::generate().to_public().to_string();
        let b = age::x25519::Identity::generate().to_public().to_string();
        std::fs::write(&file, format!("# team\n{a}\n\n{b}\n")).unwrap();
        let read = read_recipients(file.to_str().unwrap()).unwrap();
        assert_eq!(
            read.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [a, b]
        );
        std::fs::write(&file, "age1broken\n").unwrap();
        assert!(matches!(
            read_recipients(file.to_str().unwrap()),
            Err(RecipientError::InvalidLine { line: 1, .. })
        ));
    }
}
