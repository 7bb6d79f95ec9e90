//! A tool that takes the profile's tokens from its environment or from a file, as the InfluxDB 3
//! Terraform provider, the MCP server, the `influxdb3` CLI and the client libraries do: for the
//! tests of `sealctl exec --preset` and `--file`. It reports what it got as SHA-256 digests,
//! never a value.
//!
//! Commands:
//! - `env VAR…`: one line per variable, `VAR sha256:DIGEST` or `VAR unset`;
//! - `file VAR`: reads the file whose path is in VAR and prints one line of JSON: the path, the
//!   digest of its contents, what the path links to (an in-memory file shows as `/memfd:…`), and
//!   whether writing to it, or cutting it short, was `refused` or `allowed`.
//!
//! Built only with the `test-fakes` feature, so `cargo install` never installs it.

use std::io::Write as _;
use std::process::ExitCode;

use sha2::{Digest as _, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("env") => {
            for var in &args[1..] {
                match std::env::var_os(var) {
                    Some(value) => {
                        println!("{var} sha256:{}", sha256(value.as_encoded_bytes()))
                    }
                    None => println!("{var} unset"),
                }
            }
            ExitCode::SUCCESS
        }
        Some("file") => {
            let var = args.get(1).map(String::as_str).unwrap_or_default();
            let Some(path) = std::env::var_os(var) else {
                eprintln!("Error: {var} is not set");
                return ExitCode::from(1);
            };
            let contents = match std::fs::read(&path) {
                Ok(contents) => contents,
                Err(error) => {
                    eprintln!("Error: cannot read {}: {error}", path.to_string_lossy());
                    return ExitCode::from(1);
                }
            };
            let link = std::fs::read_link(&path)
                .map(|target| target.to_string_lossy().into_owned())
                .unwrap_or_default();
            let outcome = |allowed: bool| if allowed { "allowed" } else { "refused" };
            let writer = std::fs::OpenOptions::new().write(true).open(&path);
            let (write, shrink) = match writer {
                Ok(mut file) => (
                    outcome(file.write_all(b"changed").is_ok()),
                    outcome(file.set_len(0).is_ok()),
                ),
                Err(_) => ("refused", "refused"),
            };
            println!(
                "{{\"path\":\"{}\",\"sha256\":\"{}\",\"link\":\"{}\",\"write\":\"{write}\",\"shrink\":\"{shrink}\"}}",
                path.to_string_lossy().escape_default(),
                sha256(&contents),
                link.escape_default(),
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("Error: usage: fake-tool env VAR… | fake-tool file VAR");
            ExitCode::from(2)
        }
    }
}
