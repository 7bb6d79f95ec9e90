//! Properties of sealing: any token that can be sealed opens again as itself, in its place only,
//! and no sealed value shows any part of it.

use proptest::prelude::*;
use sealctl_seal::{Endpoint, Identities, IdentitySource, Place, Recipient, open, seal};
use secrecy::{ExposeSecret, SecretString};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_then_open_gives_the_token_back(
        token in "[^\\p{Cc}]{1,300}",
        profile in "[^\\p{Cc}]{0,20}",
        key in prop::sample::select(vec!["mgmt_token", "token"]),
        host in "[a-zA-Z0-9.-]{1,30}",
        port in prop::option::of("[0-9]{1,5}"),
    ) {
        let endpoint = Endpoint::from_fields(|name| match name {
            "product" => Some("clustered"),
            "host" => Some(host.as_str()),
            "port" => port.as_deref(),
            _ => None,
        });
        let identity = age::x25519::Identity::generate();
        let recipient = Recipient::X25519(identity.to_public());
        let identities = Identities::load(vec![IdentitySource::Environment(SecretString::from(
            identity.to_string().expose_secret().to_owned(),
        ))])
        .unwrap();
        let place = Place::new(profile.clone(), key);
        let value = seal(&SecretString::from(token.clone()), &place, &endpoint, &[recipient], None).unwrap();
        prop_assert!(value.starts_with("sealctl:v1:age:"));
        let chars: Vec<char> = token.chars().collect();
        for window in chars.windows(6) {
            let window: String = window.iter().collect();
            prop_assert!(!value.contains(&window));
        }
        let opened = open(&value, &place, &endpoint, &identities).unwrap();
        prop_assert_eq!(opened.expose_secret(), token.as_str());
        let elsewhere = Place::new(format!("{profile}-other"), key);
        prop_assert!(open(&value, &elsewhere, &endpoint, &identities).is_err());
        let moved = Endpoint::from_fields(|name| match name {
            "product" => Some("clustered"),
            "host" => Some("other.example"),
            "port" => port.as_deref(),
            _ => None,
        });
        if moved != endpoint {
            prop_assert!(open(&value, &place, &moved, &identities).is_err());
        }
    }
}
