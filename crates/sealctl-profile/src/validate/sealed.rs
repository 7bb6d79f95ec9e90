//! The rules on a value that looks sealed: its framing (`malformed-sealed`), its recipients
//! (`stale-recipients`), its expiry (`token-expired`, `token-expiring`) and its binding to the
//! profile's endpoint (`unbound`, `endpoint-changed`).
//!
//! It reads only the clear framing and parameters; it never opens a value, and needs no key.

use std::ops::Range;

use super::Walk;
use crate::diagnostic::Rule;
use crate::schema::{SECRET_KEYS, same_key};
use crate::sealed::{
    ENDPOINT_PARAM, EXPIRY_PARAM, FramingError, RECIPIENTS_PARAM, SealedValue, is_known_backend,
    parse_expiry, value_backend, value_param,
};

impl Walk<'_> {
    /// The rules on a value that looks sealed: its framing, recipients and expiry.
    pub(super) fn sealed(&mut self, name: &str, value: &str, span: impl Fn() -> Range<usize>) {
        let key = self.scope.key(name);
        if let Err(error) = SealedValue::check(value) {
            let help = match error {
                FramingError::BadExpiry(_) => {
                    "the expiry is only a reminder (the server decides): remove `;exp=…` from the value, restore the value from version control, or set the token again"
                }
                FramingError::BadId(_) => {
                    "the id only names the token (`influxctl management list` shows it): remove `;id=…` from the value, or give the right one with `sealctl token set --id`"
                }
                _ => "restore the value from version control, or seal the token again",
            };
            self.report_at_key(
                Rule::MalformedSealed,
                name,
                span(),
                format!("`{key}` looks sealed, but {error}"),
                Some(help.to_owned()),
            );
            return;
        }
        // A newer sealctl's backend: its payload cannot be judged here, its clear parameters can.
        if let Some(backend) = value_backend(value).filter(|name| !is_known_backend(name)) {
            self.report_at_key(
                Rule::UnknownBackend,
                name,
                span(),
                format!("`{key}` is kept by backend `{backend}`, which this sealctl does not know: written by a newer sealctl?"),
                Some("upgrade sealctl to open it; until then its recipients, endpoint and expiry are still checked".to_owned()),
            );
        }
        if self.recipients.is_none()
            && let Some(sealed) = value_param(value, RECIPIENTS_PARAM)
        {
            self.unjudged.insert(sealed.to_owned());
        }
        if let (Some(file), Some(sealed)) = (&self.recipients, value_param(value, RECIPIENTS_PARAM))
            && file != sealed
        {
            let file = file.clone();
            self.report_at_key(
                Rule::StaleRecipients,
                name,
                span(),
                format!("`{key}` is sealed to other recipients (r={sealed}) than the file lists now (r={file})"),
                Some("re-seal it to the current recipients".to_owned()),
            );
            self.with_fix(&["rekey", "--all"], false);
        }
        self.binding(name, value, &span);
        let Some(expiry) = value_param(value, EXPIRY_PARAM) else {
            return;
        };
        // The framing check above has refused an unreadable expiry.
        let Ok(expires_at) = parse_expiry(expiry) else {
            return;
        };
        let renew = "create a new token (influxctl management create) and set it";
        // `token set` sets these two keys; it is the fix only for them.
        let set: Option<&[&str]> = if same_key(name, "mgmt_token") {
            Some(&["token", "set"])
        } else if same_key(name, "token") {
            Some(&["token", "set", "--key", "token"])
        } else {
            None
        };
        let left = match expires_at.duration_since(self.now) {
            Err(_) => {
                self.report_at_key(
                    Rule::TokenExpired,
                    name,
                    span(),
                    format!("`{key}` expired at {expiry}"),
                    Some(renew.to_owned()),
                );
                None
            }
            Ok(left) => {
                self.report_at_key(
                    Rule::TokenExpiring,
                    name,
                    span(),
                    format!(
                        "`{key}` expires at {expiry}, in {} days",
                        left.as_secs() / 86_400
                    ),
                    Some(renew.to_owned()),
                );
                Some(left)
            }
        };
        if let Some(set) = set {
            self.with_fix(set, true);
        }
        // Whether it is reported depends on the window, which `[sealctl]` may set further on.
        if let Some(left) = left {
            let finding = self.found.pop().expect("reported just above");
            self.expiring.push((finding, left));
        }
    }

    /// The rules on a sealed value's binding to its profile's endpoint, judged by the clear `ep=`
    /// digest. Opening judges by the endpoint sealed inside, which this digest only copies.
    fn binding(&mut self, name: &str, value: &str, span: &impl Fn() -> Range<usize>) {
        // sealctl seals only a profile's own tokens; only they are bound.
        let token = self.scope.prefix.is_empty()
            && SECRET_KEYS.iter().any(|key| key.eq_ignore_ascii_case(name));
        let Some(endpoint) = self.endpoint.as_ref().filter(|_| token) else {
            return;
        };
        let key = self.scope.key(name);
        match value_param(value, ENDPOINT_PARAM) {
            None => {
                let message = format!(
                    "`{key}` is not bound to an endpoint: it would open for whatever host the profile names"
                );
                let help = format!(
                    "if {endpoint} is where it belongs, bind it there (needs the identity)"
                );
                self.report_at_key(Rule::Unbound, name, span(), message, Some(help));
                self.with_fix(&["rekey", "--rebind"], true);
            }
            Some(sealed) if sealed != endpoint.digest() => {
                let message = format!(
                    "`{key}` was sealed for another endpoint (ep={sealed}) than the profile's {endpoint} (ep={}); it will not open",
                    endpoint.digest()
                );
                let help = format!(
                    "restore the profile's settings from version control; or, if the profile moved on purpose, re-seal its tokens for {endpoint} (needs the identity)"
                );
                self.report_at_key(Rule::EndpointChanged, name, span(), message, Some(help));
                self.with_fix(&["rekey", "--rebind"], true);
            }
            Some(_) => {}
        }
    }
}
