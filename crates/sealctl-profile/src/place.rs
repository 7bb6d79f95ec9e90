//! A value at a key of a profile: where it is ([`Place`]) and what it is ([`ProfileValue`]).
//!
//! One notion for every part of sealctl: the editor reads and writes [`ProfileValue`]s, and a
//! sealed value is bound to the [`Place`] it was sealed for.

use std::fmt;

use crate::terminal::visible;

/// Where a value is: a profile and one of its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The profile's name.
    pub profile: String,
    /// The dotted key (`mgmt_token`, `token`, `tls.cert`).
    pub key: String,
}

impl Place {
    /// The place `key` of `profile`.
    pub fn new(profile: impl Into<String>, key: impl Into<String>) -> Place {
        Place {
            profile: profile.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names come from a file: shown, never sent to the terminal as control characters.
        write!(
            f,
            "profile `{}` key `{}`",
            visible(&self.profile),
            visible(&self.key)
        )
    }
}

/// A string value at a key of a profile: what [`crate::ProfileDocument::values`] reads and
/// [`crate::ProfileDocument::set_many`] writes.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileValue {
    /// Where it is.
    pub place: Place,
    /// The value, which may be a plaintext secret.
    pub value: String,
}

impl ProfileValue {
    /// The value `value` at `place`.
    pub fn new(place: Place, value: impl Into<String>) -> ProfileValue {
        ProfileValue {
            place,
            value: value.into(),
        }
    }
}

impl fmt::Debug for ProfileValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value may be a plaintext secret.
        f.debug_struct("ProfileValue")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_shows_control_characters_visibly() {
        let place = Place::new("prod\u{1b}[2J", "mgmt_token");
        let shown = place.to_string();
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
        assert!(shown.starts_with("profile `prod"), "{shown:?}");
    }

    #[test]
    fn a_value_is_not_in_its_debug() {
        let value = ProfileValue::new(Place::new("prod", "mgmt_token"), "apiv1_plaintext_secret");
        let shown = format!("{value:?}");
        assert!(!shown.contains("apiv1_plaintext_secret"));
        assert!(
            shown.contains("prod") && shown.contains("mgmt_token"),
            "{shown}"
        );
    }
}
