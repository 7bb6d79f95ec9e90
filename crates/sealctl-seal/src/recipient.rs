//! Who a value is sealed to: age X25519, tagged and plugin recipients and OpenSSH public keys,
//! read by the parser `check` uses (`sealctl_profile::recipient`), and files of them.

use std::path::Path;

pub use sealctl_profile::recipient::Recipient;
use sealctl_profile::recipient::show_entry;

use crate::error::RecipientError;

/// Reads recipients from what a user names: a recipient itself, or a file of them (an age
/// recipients file, one per line with `#` comments, or an OpenSSH `.pub` file), or an age
/// identity file, whose recipients are its X25519 identities' and those its comments name
/// (`# recipient: age1…`, as a plugin writes beside its `AGE-PLUGIN-…` identity).
pub fn read_recipients(argument: &str) -> Result<Vec<Recipient>, RecipientError> {
    let problem = match argument.parse() {
        Ok(recipient) => return Ok(vec![recipient]),
        Err(problem) => problem,
    };
    let path = Path::new(argument);
    if !path.exists() {
        return Err(RecipientError::Invalid {
            shown: show_entry(argument),
            problem,
        });
    }
    // An identity file named by mistake holds a private key: zeroed when dropped.
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        RecipientError::Read {
            path: path.to_owned(),
            source,
        }
    })?);
    if crate::identity::is_identity_text(&text) {
        let recipients = crate::identity::listed_recipients(&text);
        if recipients.is_empty() {
            return Err(RecipientError::NoneInFile(path.to_owned()));
        }
        return Ok(recipients);
    }
    let mut recipients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        recipients.push(
            line.parse()
                .map_err(|problem| RecipientError::InvalidLine {
                    path: path.to_owned(),
                    line: index + 1,
                    problem,
                })?,
        );
    }
    if recipients.is_empty() {
        return Err(RecipientError::NoneInFile(path.to_owned()));
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
        // A plugin's identity file: its `# recipient:` line, never the identity line.
        let plugin =
            "age1sealctl-test-absent1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0spkjd89";
        let identity = age::plugin::Identity::default_for_plugin("sealctl-test-absent")
            .unwrap()
            .to_string();
        std::fs::write(&file, format!("# recipient: {plugin}\n{identity}\n")).unwrap();
        let read = read_recipients(file.to_str().unwrap()).unwrap();
        assert_eq!(
            read.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [plugin]
        );
        // Without one, nothing is taken, and the identity is not quoted.
        std::fs::write(&file, format!("{identity}\n")).unwrap();
        let error = read_recipients(file.to_str().unwrap()).unwrap_err();
        assert!(matches!(error, RecipientError::NoneInFile(_)), "{error}");
        std::fs::write(&file, "age1broken\n").unwrap();
        assert!(matches!(
            read_recipients(file.to_str().unwrap()),
            Err(RecipientError::InvalidLine { line: 1, .. })
        ));
    }
}
