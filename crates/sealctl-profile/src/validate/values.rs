//! Checks of single values: each returns why a value is wrong, and how to write it instead.

use std::net::Ipv6Addr;

/// Why a `host` is not a bare host name, and the host (and port) it probably meant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HostProblem {
    pub reason: &'static str,
    pub meant: Option<(String, Option<String>)>,
}

pub(crate) fn host_problem(host: &str) -> Option<HostProblem> {
    let problem = |reason| {
        Some(HostProblem {
            reason,
            meant: None,
        })
    };
    if host.is_empty() {
        return problem("is empty");
    }
    if host.chars().any(char::is_whitespace) {
        return problem("holds whitespace");
    }
    if host.parse::<Ipv6Addr>().is_ok() {
        return None;
    }
    if let Some((_, rest)) = host.split_once("://") {
        return Some(HostProblem {
            reason: "holds a scheme",
            meant: split_authority(rest),
        });
    }
    if host.starts_with('[') {
        return Some(HostProblem {
            reason: "holds brackets; influxctl adds them to an IPv6 address itself",
            meant: split_authority(host),
        });
    }
    if host.contains('/') {
        return Some(HostProblem {
            reason: "holds a path",
            meant: split_authority(host),
        });
    }
    if host.contains(':') {
        return Some(HostProblem {
            reason: "holds a port",
            meant: split_authority(host),
        });
    }
    if let Some(bad) = host
        .chars()
        .find(|&ch| !(ch.is_alphanumeric() || matches!(ch, '.' | '-' | '_')))
    {
        return problem(match bad {
            '@' => "holds user information (`@`)",
            '?' | '#' => "holds a query or fragment",
            _ => "holds a character a host name cannot have",
        });
    }
    None
}

/// Splits `host[:port][/path]` (after any scheme) into the host and port it names.
fn split_authority(rest: &str) -> Option<(String, Option<String>)> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = port.filter(|port| port_problem(port).is_none());
    (!host.is_empty() && host_problem(host).is_none())
        .then(|| (host.to_owned(), port.map(str::to_owned)))
}

pub(crate) fn port_problem(port: &str) -> Option<&'static str> {
    if port.is_empty() {
        return Some("is empty");
    }
    if !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some("is not a decimal number");
    }
    match port.trim_start_matches('0').parse::<u32>() {
        Ok(1..=65535) => None,
        _ => Some("is outside 1-65535"),
    }
}

pub(crate) fn url_problem(text: &str) -> Option<String> {
    match url::Url::parse(text) {
        Err(error) => Some(format!("is not an absolute URL ({error})")),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => Some(format!(
            "has the scheme `{}`; it must be http or https",
            url.scheme()
        )),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => Some("has no host".to_owned()),
        Ok(_) => None,
    }
}

/// Whether `text` is a UUID in its canonical 8-4-4-4-12 hexadecimal form, as influxctl prints them.
pub(crate) fn is_uuid(text: &str) -> bool {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    text.len() == 36
        && text.bytes().enumerate().all(|(at, byte)| {
            if HYPHENS.contains(&at) {
                byte == b'-'
            } else {
                byte.is_ascii_hexdigit()
            }
        })
}

/// The candidate closest to `word`, where one is close enough to be worth suggesting.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(&word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for good in [
            "cluster-host.example.com",
            "10.0.0.1",
            "localhost",
            "2001:db8::1",
            "::1",
            "münchen.example",
            "a_b.internal",
        ] {
            assert_eq!(host_problem(good), None, "{good}");
        }
        let meant = |host: &str| host_problem(host).and_then(|p| p.meant);
        assert_eq!(
            meant("https://x.example:8443/api"),
            Some(("x.example".into(), Some("8443".into())))
        );
        assert_eq!(
            meant("x.example:8086"),
            Some(("x.example".into(), Some("8086".into())))
        );
        assert_eq!(meant("x/api"), Some(("x".into(), None)));
        assert_eq!(meant("[::1]:443"), Some(("::1".into(), Some("443".into()))));
        for bad in ["", " x", "x y", "user@x", "x?y"] {
            assert!(host_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ports() {
        for good in ["1", "443", "8086", "65535", "0443"] {
            assert_eq!(port_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "0",
            "65536",
            "-1",
            "+443",
            " 443",
            "44 3",
            "0x1bb",
            "99999999999999",
        ] {
            assert!(port_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(url_problem("https://auth.example.com/oauth/token"), None);
        assert_eq!(url_problem("http://localhost:8080/device"), None);
        for bad in [
            "auth.example.com/token",
            "/token",
            "ftp://x/y",
            "https://",
            "",
        ] {
            assert!(url_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11"));
        assert!(is_uuid("0C2C36C6-57B1-4E39-9B1A-3F1E0C4E2A11"));
        for bad in [
            "ACCOUNT_ID",
            "0c2c36c657b14e399b1a3f1e0c4e2a11",
            "{0c2c36c6-57b1-4e39-9b1a-3f1e0c4e2a11}",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            nearest("clusterd", ["clustered", "dedicated"]),
            Some("clustered")
        );
        assert_eq!(
            nearest("Dedicated", ["clustered", "dedicated"]),
            Some("dedicated")
        );
        assert_eq!(
            nearest("mgmt-token", ["name", "mgmt_token", "token"]),
            Some("mgmt_token")
        );
        assert_eq!(nearest("zzz", ["clustered", "dedicated"]), None);
    }
}

/// The key of `[sealctl]` that sets how close to its expiry a token is warned about.
pub const EXPIRY_WARNING_KEY: &str = "expiry_warning";

/// Reads a `[sealctl] expiry_warning` setting: a duration as in `30d`, `2w` or `36h` (`0d` turns
/// the `token-expiring` warning off). Says why a value cannot be read, and how to write it.
pub fn parse_expiry_warning(text: &str) -> Result<std::time::Duration, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(format!(
            "`{}` is negative: give how long before its expiry a token is warned about, as in \"30d\"",
            text.escape_debug()
        ));
    }
    // A bare number says no unit: days? seconds? It is refused rather than guessed.
    if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "`{trimmed}` has no unit: write it as \"{trimmed}d\" for days (or h, w)"
        ));
    }
    humantime::parse_duration(trimmed).map_err(|error| {
        format!(
            "`{}` is not a duration ({error}): write one as \"30d\", \"2w\" or \"36h\"",
            text.escape_debug()
        )
    })
}

/// Why a profile setting typed by a person (at `sealctl init`, or as a flag) would not pass
/// `check`, by the same rules; `None` if it would. Knows `name`, `product`, `host`, `port`,
/// `account_id` and `cluster_id`; any other key passes.
pub fn setting_problem(key: &str, value: &str) -> Option<String> {
    match key {
        "name" if value.trim().is_empty() => {
            Some("a profile's name cannot be empty: influxctl could never select it".to_owned())
        }
        "product" if !crate::schema::Product::NAMES.contains(&value) => Some(format!(
            "the product must be one of: {}",
            crate::schema::Product::NAMES.join(", ")
        )),
        "host" => host_problem(value).map(|problem| match problem.meant {
            Some((host, Some(port))) => format!(
                "the host {}: write `{host}` (and the port {port} on its own)",
                problem.reason
            ),
            Some((host, None)) => format!("the host {}: write `{host}`", problem.reason),
            None => format!("the host {}", problem.reason),
        }),
        "port" => port_problem(value).map(|reason| format!("the port {reason}")),
        "account_id" | "cluster_id" if !is_uuid(value) => Some(format!(
            "the {} must be a UUID, as influxctl prints them (8-4-4-4-12 hexadecimal digits)",
            key.replace('_', " ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod setting_tests {
    use super::setting_problem;

    #[test]
    fn typed_settings_are_judged_as_check_judges_them() {
        assert_eq!(setting_problem("host", "h.example.com"), None);
        assert_eq!(
            setting_problem("host", "https://h.example.com:8443/x").as_deref(),
            Some("the host holds a scheme: write `h.example.com` (and the port 8443 on its own)")
        );
        assert_eq!(
            setting_problem("port", "70000").as_deref(),
            Some("the port is outside 1-65535")
        );
        assert!(setting_problem("product", "serverless").is_some());
        assert!(setting_problem("cluster_id", "abc").is_some());
        assert_eq!(
            setting_problem("account_id", "11111111-2222-3333-4444-555555555555"),
            None
        );
        assert!(setting_problem("name", " ").is_some());
    }
}

#[cfg(test)]
mod expiry_warning_tests {
    use super::parse_expiry_warning;
    use std::time::Duration;

    #[test]
    fn durations_are_read_and_the_rest_refused() {
        let day = Duration::from_secs(86_400);
        assert_eq!(parse_expiry_warning("30d"), Ok(30 * day));
        assert_eq!(parse_expiry_warning(" 2w "), Ok(14 * day));
        assert_eq!(
            parse_expiry_warning("36h"),
            Ok(Duration::from_secs(36 * 3600))
        );
        assert_eq!(parse_expiry_warning("0d"), Ok(Duration::ZERO));
        for bad in ["", "30", "-3d", "soon", "30 dayz", "1d-"] {
            assert!(parse_expiry_warning(bad).is_err(), "{bad}");
        }
    }
}
