//! Who a value can be sealed to, as written in `[sealctl] recipients`: age X25519 recipients
//! (`age1…`) and OpenSSH `ssh-ed25519` and `ssh-rsa` public keys.
//!
//! This one parser (age's own, behind [`Recipient::from_str`](std::str::FromStr)) decides for
//! both `check` and sealing, so that an entry `check` passes can always be sealed to and an entry
//! sealing refuses is always reported by `check`. It reads public keys only: `check` still needs
//! no key. Opening is `sealctl-seal`'s work.

use std::fmt;
use std::str::FromStr;

/// A recipient a value can be sealed to.
#[derive(Clone)]
#[non_exhaustive]
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

impl Recipient {
    /// As age's recipient trait, to encrypt to.
    pub fn as_age(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(recipient) => recipient,
            Recipient::Ssh(recipient) => recipient,
        }
    }
}

/// Why an entry is not a recipient sealctl can seal to. Never holds the entry itself, which may
/// be a private key pasted by mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientProblem {
    /// Nothing but white space.
    Empty,
    /// An age identity or a private key: a secret, in a file meant to be shared.
    PrivateKey,
    /// Starts like an age X25519 recipient but does not decode (age's reason).
    BadAge(&'static str),
    /// A recipient of an age plugin (`age1<plugin>1…`), which this sealctl cannot seal to yet.
    Plugin(String),
    /// An `age1tag1…`/`age1tagpq1…` recipient: a hardware key, opened only through a plugin.
    HardwareTag,
    /// An SSH public key of a type age does not encrypt to (ECDSA, security keys, DSA).
    UnsupportedSsh(String),
    /// An `ssh-rsa` key under 2048 bits, which age refuses as weak.
    WeakRsa,
    /// An `ssh-rsa` key over 4096 bits, which age does not support.
    LargeRsa,
    /// Starts like an SSH public key but does not decode.
    BadSsh,
    /// Neither an age recipient nor an SSH public key.
    Unknown,
}

impl fmt::Display for RecipientProblem {
    /// What the entry is, as a clause following the entry: "`age1…` is …".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientProblem::Empty => f.write_str("is empty"),
            RecipientProblem::PrivateKey => f.write_str(
                "is a private key (an identity), not a recipient: it must never be written where others can read it",
            ),
            RecipientProblem::BadAge(reason) => write!(
                f,
                "is not a valid age recipient ({reason}): mistyped or cut short?"
            ),
            RecipientProblem::Plugin(name) => write!(
                f,
                "is a recipient of the age plugin `age-plugin-{name}`, and this sealctl cannot seal to age plugins yet"
            ),
            RecipientProblem::HardwareTag => f.write_str(
                "is a hardware-key recipient (age1tag), opened only through an age plugin, and this sealctl cannot seal to age plugins yet",
            ),
            RecipientProblem::UnsupportedSsh(kind) => write!(
                f,
                "is an SSH key of type `{}`, which age cannot encrypt to",
                show_entry(kind)
            ),
            RecipientProblem::WeakRsa => {
                f.write_str("is an ssh-rsa key under 2048 bits, which age refuses as too weak")
            }
            RecipientProblem::LargeRsa => {
                f.write_str("is an ssh-rsa key over 4096 bits, which age does not support")
            }
            RecipientProblem::BadSsh => f.write_str(
                "is not a valid ssh-ed25519 or ssh-rsa public key: damaged or cut short?",
            ),
            RecipientProblem::Unknown => {
                f.write_str("is not an age recipient (age1…) nor an ssh-ed25519 or ssh-rsa public key")
            }
        }
    }
}

impl std::error::Error for RecipientProblem {}

impl RecipientProblem {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            RecipientProblem::PrivateKey => {
                "remove it from the file now and make a new identity (sealctl identity new): this one is exposed; list its recipient (age1…) instead"
            }
            RecipientProblem::Plugin(_) | RecipientProblem::HardwareTag => {
                "list that person's age X25519 recipient (age-keygen -y) or ssh-ed25519 public key instead"
            }
            _ => {
                "write the recipient's age1… recipient or its ssh-ed25519 or ssh-rsa public key (a .pub file's line)"
            }
        }
    }
}

impl FromStr for Recipient {
    type Err = RecipientProblem;

    /// Reads one recipient, surrounding white space ignored, an SSH key's comment dropped.
    fn from_str(text: &str) -> Result<Recipient, RecipientProblem> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RecipientProblem::Empty);
        }
        if is_private_key(text) {
            return Err(RecipientProblem::PrivateKey);
        }
        // Bech32 is case-insensitive, but never mixed-case.
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("age1") {
            // The human-readable part ends at the last `1`, which the data part never holds.
            let hrp = &lower[..lower.rfind('1').expect("starts with age1")];
            return match hrp.strip_prefix("age1") {
                None => text
                    .parse()
                    .map(Recipient::X25519)
                    .map_err(RecipientProblem::BadAge),
                Some("tag" | "tagpq") => Err(RecipientProblem::HardwareTag),
                Some(plugin) if is_plugin_name(plugin) => {
                    Err(RecipientProblem::Plugin(plugin.to_owned()))
                }
                Some(_) => Err(RecipientProblem::BadAge("invalid Bech32 encoding")),
            };
        }
        match text.parse::<age::ssh::Recipient>() {
            Ok(recipient) => Ok(Recipient::Ssh(recipient)),
            Err(age::ssh::ParseRecipientKeyError::Unsupported(kind)) => {
                Err(RecipientProblem::UnsupportedSsh(kind))
            }
            Err(age::ssh::ParseRecipientKeyError::RsaModulusTooSmall) => {
                Err(RecipientProblem::WeakRsa)
            }
            Err(age::ssh::ParseRecipientKeyError::RsaModulusTooLarge) => {
                Err(RecipientProblem::LargeRsa)
            }
            Err(_) if text.starts_with("ssh-") => Err(RecipientProblem::BadSsh),
            Err(_) => Err(RecipientProblem::Unknown),
        }
    }
}

/// An age identity, a plugin identity, or a PEM/OpenSSH private key.
fn is_private_key(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    upper.starts_with("AGE-SECRET-KEY-")
        || upper.starts_with("AGE-PLUGIN-")
        || (upper.starts_with("-----BEGIN") && upper.contains("PRIVATE KEY"))
}

/// A plugin name, as `age-plugin-<name>` spells it.
fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"+-._".contains(&byte))
}

/// An entry as a message may quote it: cut short, control characters made visible, and never a
/// private key.
pub fn show_entry(text: &str) -> String {
    const MAX: usize = 24;
    let text = text.trim();
    if is_private_key(text) {
        return "[a private key, not shown]".to_owned();
    }
    let mut shown: String = text
        .chars()
        .take(MAX)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().nth(MAX).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@laptop";

    #[test]
    fn reads_age_and_ssh_recipients() {
        let age = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq";
        assert_eq!(age.parse::<Recipient>().unwrap().to_string(), age);
        assert_eq!(
            age.to_uppercase().parse::<Recipient>().unwrap().to_string(),
            age
        );
        assert_eq!(
            ED25519.parse::<Recipient>().unwrap().to_string(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
        );
    }

    #[test]
    fn names_what_an_unusable_entry_is() {
        let age = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq";
        let cases: &[(&str, RecipientProblem)] = &[
            ("  ", RecipientProblem::Empty),
            (
                "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
                RecipientProblem::PrivateKey,
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----",
                RecipientProblem::PrivateKey,
            ),
            (
                &age[..40],
                RecipientProblem::BadAge("invalid Bech32 encoding"),
            ),
            (
                "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t",
                RecipientProblem::Plugin("yubikey".into()),
            ),
            (
                "AGE1SE1QGG72X2QFK9WG3WH4QXGJHPZZA2UMJDM4D5JDH0KVY0J5SZZ4D0SQFTU2XZ",
                RecipientProblem::Plugin("se".into()),
            ),
            (
                "age1tag1qwe0kafsjrar4txm6heqnhpfuggzr0gvznz7fvygxrlq90u5mq2pysxtw6h",
                RecipientProblem::HardwareTag,
            ),
            (
                "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=",
                RecipientProblem::UnsupportedSsh("ecdsa-sha2-nistp256".into()),
            ),
            (&ED25519[..40], RecipientProblem::BadSsh),
            ("alice@example.com", RecipientProblem::Unknown),
        ];
        for (text, problem) in cases {
            assert_eq!(
                text.parse::<Recipient>().unwrap_err(),
                *problem,
                "{}",
                show_entry(text)
            );
        }
    }

    #[test]
    fn shown_entries_are_short_visible_and_never_private_keys() {
        assert_eq!(
            show_entry("AGE-SECRET-KEY-1QQQQ"),
            "[a private key, not shown]"
        );
        assert_eq!(show_entry("age1\u{1b}]0;x"), "age1\\u{1b}]0;x");
        assert_eq!(show_entry(ED25519), "ssh-ed25519 AAAAC3NzaC1l…");
    }
}
