//! Every rule, from data: each file under `samples/` lists the diagnostics it must produce, one
//! `# expect: RULE LINE:COLUMN` comment each, and produces exactly those. Files under `valid/`
//! are near-misses that must raise no error; every rule has at least one file under `invalid/`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime};

use sealctl_profile::{Rule, Severity, check, check_at};

fn samples(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(folder);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

/// The `# expect:` lines of a sample, as (rule id, line, column), counted with repeats.
fn expected(bytes: &[u8]) -> Vec<(String, usize, usize)> {
    let text = String::from_utf8_lossy(bytes);
    let mut expected: Vec<_> = text
        .lines()
        .filter_map(|line| line.trim_end_matches('\r').strip_prefix("# expect: "))
        .map(|spec| {
            let (rule, position) = spec.split_once(' ').expect("# expect: RULE LINE:COL");
            assert!(Rule::from_id(rule).is_some(), "unknown rule id `{rule}`");
            let (line, column) = position.split_once(':').expect("LINE:COL");
            (
                rule.to_owned(),
                line.parse().unwrap(),
                column.parse().unwrap(),
            )
        })
        .collect();
    expected.sort();
    expected
}

/// The samples are judged as of 2030-01-01T00:00:00Z, so that expiry dates in them stay put.
fn sample_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

fn actual(bytes: &[u8]) -> Vec<(String, usize, usize)> {
    let mut actual: Vec<_> = check_at(bytes, sample_now())
        .diagnostics
        .into_iter()
        .map(|d| (d.rule.id().to_owned(), d.line, d.column))
        .collect();
    actual.sort();
    actual
}

/// Every sample in `folder` whose diagnostics differ from its `# expect:` lines, described.
fn mismatches(folder: &str) -> Vec<String> {
    samples(folder)
        .iter()
        .filter_map(|path| {
            let bytes = fs::read(path).unwrap();
            let (actual, expected) = (actual(&bytes), expected(&bytes));
            (actual != expected).then(|| {
                format!(
                    "{}
  found:    {actual:?}
  expected: {expected:?}",
                    path.display()
                )
            })
        })
        .collect()
}

#[test]
fn invalid_samples_produce_exactly_their_expected_diagnostics() {
    let wrong = mismatches("invalid");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valid_samples_produce_no_errors_and_only_their_expected_warnings() {
    let wrong = mismatches("valid");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for path in samples("valid") {
        let errors: Vec<_> = check_at(&fs::read(&path).unwrap(), sample_now())
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.rule.id())
            .collect();
        assert!(errors.is_empty(), "{}: errors {errors:?}", path.display());
    }
}

#[test]
fn every_rule_has_an_invalid_sample() {
    let covered: BTreeSet<String> = samples("invalid")
        .iter()
        .flat_map(|path| expected(&fs::read(path).unwrap()))
        .map(|(rule, _, _)| rule)
        .collect();
    let missing: Vec<_> = Rule::ALL
        .iter()
        .map(|rule| rule.id())
        .filter(|id| !covered.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without an invalid sample: {missing:?}"
    );
}

#[test]
fn large_files_find_the_same_toml_1_1_forms() {
    // Regression: from 256 KiB on, the TOML 1.0 scan runs beside the parser.
    let profile =
        "[[profile]]\n  name = \"p\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"1\"\n";
    let mut text = String::from(
        "[[profile]]\n  name = \"default\"\n  product = \"clustered\"\n  host = \"h\"\n  port = \"1\"\n",
    );
    for n in 0..4000 {
        text.push_str(&profile.replace("\"p\"", &format!("\"p{n}\"")));
    }
    text.push_str("  database = \"a\\eb\"\n  tls = { ca = \"x\", }\n");
    assert!(text.len() > 256 * 1024);
    let found: Vec<_> = check(text.as_bytes())
        .diagnostics
        .into_iter()
        .map(|d| (d.rule.id(), d.line))
        .collect();
    let last_line = text.lines().count();
    assert_eq!(
        found,
        [("toml-syntax", last_line - 1), ("toml-syntax", last_line)]
    );
}
