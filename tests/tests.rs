//! Integration tests of the `sealctl` binary, compiled into one test binary.
//!
//! They drive real Unix tools (age, gnome-keyring on a private D-Bus, keyctl, a PTY), so they are
//! built on Unix only; on Windows and macOS CI only compile-checks sealctl (README.md, Platforms).
#![cfg(unix)]

mod common;

mod backends;
mod check;
mod completions;
mod doctor;
mod early;
mod edit;
mod endpoint;
#[cfg(feature = "test-fakes")]
mod exec;
#[cfg(feature = "test-fakes")]
mod exec_presets;
mod faults;
mod files;
mod fuzz_regressions;
mod git;
mod hints;
mod init;
mod keyring;
mod layout;
mod leaks;
#[cfg(feature = "test-fakes")]
mod mask;
mod openbao;
mod output;
mod plugins;
mod precommit;
mod profile;
#[cfg(feature = "test-fakes")]
mod rotate;
mod seal;
#[cfg(feature = "test-fakes")]
mod status;
mod terminal;
#[cfg(feature = "test-fakes")]
mod test_backend;

/// The exec tests need the influxctl stand-in, built only with the `test-fakes` feature: without
/// it they would silently not run.
#[cfg(not(feature = "test-fakes"))]
#[test]
fn the_influxctl_stand_in_is_built() {
    panic!(
        "run the tests with --all-features (README.md gives the command): the exec tests need testing/fake-influxctl"
    );
}

/// Every file under `tests/` that holds tests must be listed above, or it would never run.
#[test]
fn every_test_module_is_listed() {
    let listed = include_str!("tests.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        let is_module =
            path.extension().is_some_and(|ext| ext == "rs") || path.join("mod.rs").exists();
        if is_module && stem != "tests" {
            assert!(
                listed.contains(&format!("mod {stem};")),
                "tests/{stem} is not listed in tests/tests.rs"
            );
        }
    }
}
