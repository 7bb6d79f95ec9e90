//! Every fuzz seed and every input a fuzzer once crashed on (fuzz/regressions/), replayed through
//! the same checks as the fuzz targets, on every test run.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

/// The files of `fuzz/seeds/TARGET` and `fuzz/regressions/TARGET`, and how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(folder).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{} fails its fuzz checks", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn every_seed_and_saved_crash_passes_the_fuzz_checks() {
    assert!(replay("token_input", targets::token_input) >= 3);
    assert!(replay("influxctl_args", targets::influxctl_args) >= 3);
    replay("profile", targets::profile);
    replay("sealed_value", targets::sealed_value);
    // The profile and sealed-value targets start from the test fixtures (fuzz/run.sh): check them too.
    let samples =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/sealctl-profile/tests/samples");
    for kind in ["valid", "invalid"] {
        for entry in std::fs::read_dir(samples.join(kind)).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            targets::profile(&data);
            for value in String::from_utf8_lossy(&data)
                .split('"')
                .filter(|part| part.starts_with("sealctl:"))
            {
                targets::sealed_value(value.as_bytes());
            }
        }
    }
}
