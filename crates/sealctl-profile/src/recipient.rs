//! Who a value can be sealed to, as written in `[sealctl] recipients`: age X25519 recipients
//! (`age1…`), age's native tagged recipients (`age1tag1…`, and the post-quantum `age1tagpq1…`),
//! age plugin recipients (`age1<plugin>1…`, sealed to through `age-plugin-<plugin>`) and OpenSSH
//! `ssh-ed25519` and `ssh-rsa` public keys.
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
    /// An age tagged recipient, `age1tag1…` (P-256, as hardware keys make): native to age,
    /// sealed to without a plugin; opened through the plugin of the key that made it.
    Tag(age::tag::Recipient),
    /// A post-quantum age tagged recipient, `age1tagpq1…` (ML-KEM-768 + P-256): as
    /// [`Recipient::Tag`], and only sealed to together with other post-quantum recipients.
    TagPq(Box<age::tagpq::Recipient>),
    /// A recipient of an age plugin, `age1<plugin>1…`: sealing to it runs `age-plugin-<plugin>`.
    Plugin(age::plugin::Recipient),
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
            Recipient::Tag(recipient) => write!(f, "{recipient}"),
            Recipient::TagPq(recipient) => write!(f, "{recipient}"),
            Recipient::Plugin(recipient) => write!(f, "{recipient}"),
        }
    }
}

/// The age plugins known to make post-quantum recipients: `pq` (age 1.3's ML-KEM-768 + X25519
/// hybrid, `age1pq1…`, which this age library reads as a plugin's) and `xwing`
/// (`age-plugin-xwing`, X-Wing, `age1xwing1…`).
const POST_QUANTUM_PLUGINS: &[&str] = &["pq", "xwing"];

impl Recipient {
    /// As age's recipient trait, to encrypt to; `None` for a plugin recipient, which is sealed to
    /// through its plugin (`age::plugin::RecipientPluginV1`).
    pub fn as_age(&self) -> Option<&dyn age::Recipient> {
        match self {
            Recipient::X25519(recipient) => Some(recipient),
            Recipient::Ssh(recipient) => Some(recipient),
            Recipient::Tag(recipient) => Some(recipient),
            Recipient::TagPq(recipient) => Some(recipient.as_ref()),
            Recipient::Plugin(_) => None,
        }
    }

    /// The plugin a recipient is sealed to through, as `age-plugin-<name>` spells it.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Recipient::Plugin(recipient) => Some(recipient.plugin()),
            _ => None,
        }
    }

    /// Whether the key stays safe against an attacker with a quantum computer: `age1tagpq1…`, and
    /// the recipients of the plugins known to be post-quantum (`age-plugin-xwing`, age 1.3's `pq`).
    pub fn is_post_quantum(&self) -> bool {
        match self {
            Recipient::TagPq(_) => true,
            Recipient::Plugin(recipient) => POST_QUANTUM_PLUGINS.contains(&recipient.plugin()),
            _ => false,
        }
    }

    /// Whether age seals to it only together with other recipients of its kind: age refuses to
    /// mix `age1tagpq1…` with classical recipients (its "postquantum" label), which would undo
    /// what it protects.
    pub fn post_quantum_only(&self) -> bool {
        matches!(self, Recipient::TagPq(_))
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
                Some("tag") => text
                    .parse()
                    .map(Recipient::Tag)
                    .map_err(RecipientProblem::BadAge),
                Some("tagpq") => text
                    .parse()
                    .map(|recipient| Recipient::TagPq(Box::new(recipient)))
                    .map_err(RecipientProblem::BadAge),
                // age reads a plugin's name from the lowercase form only.
                Some(plugin) if is_plugin_name(plugin) => lower
                    .parse()
                    .map(Recipient::Plugin)
                    .map_err(RecipientProblem::BadAge),
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
    fn reads_plugin_and_tagged_recipients() {
        let yubikey = "age1yubikey1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvpkgk82";
        let parsed = yubikey.parse::<Recipient>().unwrap();
        assert_eq!(parsed.plugin(), Some("yubikey"));
        assert_eq!(parsed.to_string(), yubikey);
        assert!(parsed.as_age().is_none());
        assert!(!parsed.is_post_quantum());
        let se = "AGE1SE1QD43050JUYKYY3LCHNNW2CAYGRE8WQMASYK7KVAQ7JSNJ3WCNRPFV8NP9XV";
        assert_eq!(se.parse::<Recipient>().unwrap().plugin(), Some("se"));
        let pq = "age1pq1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sq5eur9";
        assert!(pq.parse::<Recipient>().unwrap().is_post_quantum());
        // P-256's generator, compressed.
        let tag = "age1tag1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvt5hxye";
        let parsed = tag.parse::<Recipient>().unwrap();
        assert!(matches!(parsed, Recipient::Tag(_)));
        assert!(parsed.as_age().is_some());
        assert!(!parsed.is_post_quantum() && !parsed.post_quantum_only());
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
                // A plugin recipient whose checksum is broken.
                "age1yubikey1qd43050juykyy3lchnnw2caygre8wqmasyk7kvaq7jsnj3wcnrpfvpkgk83",
                RecipientProblem::BadAge("invalid Bech32 encoding"),
            ),
            (
                // A tagged recipient that is not a point of P-256.
                "age1tag1q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2pg9q5zs2tr7tne",
                RecipientProblem::BadAge("not a compressed SEC-1 encoding"),
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
