//! What each fuzz target checks, one function per target. The fuzz targets (fuzz_targets/) and
//! the replay of every seed and saved crash in the normal test suite (tests/fuzz_regressions.rs)
//! both call these, so a crash found once is checked on every test run after.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use sealctl_profile::sealed::SealedValue;
use std::time::{Duration, SystemTime};

use sealctl_profile::{ProfileDocument, check_at, check_in_parts_at, check_whole_at};

/// The profile loader, validator and editor: any bytes in, diagnostics out, never a panic; every
/// diagnostic points inside the input; checking in parts finds what checking the whole file
/// finds, whatever the size of the parts; edits of what loads either apply or are refused, and
/// leave text that still loads.
pub fn profile(data: &[u8]) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
    let checked = check_whole_at(data, now);
    for diagnostic in &checked.diagnostics {
        assert!(diagnostic.span.start <= diagnostic.span.end);
        assert!(diagnostic.span.end <= data.len());
        assert!(diagnostic.line >= 1 && diagnostic.column >= 1);
    }
    // Part sizes from the input's own last byte, so the fuzzer varies them too.
    let size = 1 + usize::from(data.last().copied().unwrap_or(0));
    for size in [size, 4096] {
        if let Some(parts) = check_in_parts_at(data, now, size) {
            assert_eq!(
                parts.diagnostics, checked.diagnostics,
                "read {size} at a time"
            );
        }
    }
    assert_eq!(check_at(data, now).diagnostics, checked.diagnostics);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut document) = ProfileDocument::parse("fuzz.toml", text) else {
        return;
    };
    if let Some(name) = document.profile_names().first().cloned() {
        let _ = document.set(&name, "host", "h.example.com");
        let _ = document.set(
            &name,
            "mgmt_token",
            "sealctl:v1:keyring:keyutils/00112233445566778899aabbccddeeff",
        );
        let _ = document.remove(&name, "port");
        let _ = document.rename_profile(&name, "renamed \"x\"");
        let _ = document.remove_profile("renamed \"x\"");
    }
    let _ = document.add_profile(
        "added",
        &[("product", "clustered"), ("host", "a.example.com")],
    );
    let _ = document.set_recipients(&[
        "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq".to_owned(),
    ]);
    assert!(ProfileDocument::parse("fuzz.toml", document.to_toml()).is_ok());
}

/// The sealed-value framing: `check` and `parse` agree on every input, and what parses prints
/// back to a value that parses the same.
pub fn sealed_value(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = SealedValue::parse(text);
    assert_eq!(
        parsed.as_ref().map(drop).map_err(Clone::clone),
        SealedValue::check(text)
    );
    if let Ok(value) = parsed {
        assert_eq!(SealedValue::parse(&value.to_string()), Ok(value.clone()));
        let _ = value.keyring_ref();
        let _ = value.expires_at();
    }
}

/// The reader of `influxctl management create` output (or a bare token): never a panic, and
/// what it takes for a token can be sealed.
pub fn token_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(input) = sealctl_seal::parse_token_input(text) {
        assert!(sealctl_seal::validate_token(&input.token).is_ok());
    }
}

/// The scanner of influxctl's global flags used by `exec`: any arguments (NUL-separated in the
/// input), never a panic, and nothing invented: every argument it keeps was given.
pub fn influxctl_args(data: &[u8]) {
    let args: Vec<OsString> = data
        .split(|&byte| byte == 0)
        .map(|arg| OsString::from_vec(arg.to_vec()))
        .collect();
    if let Ok(scanned) = sealctl_exec::influxctl::scan(&args) {
        assert!(scanned.rest.len() <= args.len());
        assert!(scanned.rest.iter().all(|kept| args.contains(kept)));
    }
}
