//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning accepts it.
//!
//! Every rule is listed in the driver so that a consumer can show its summary and level; each
//! result points at a file by a relative URI (or a `file:` URI for an absolute path) and a
//! region in Unicode code points, and a file that could not be read becomes a tool notification.

use std::io::{self, Write};
use std::path::Path;

use sealctl_profile::Rule;
use serde_json::{Value, json};

use super::FileOutcome;

const RULES_DOC: &str = "https://github.com/sealctl/sealctl/blob/main/docs/rules.md";

pub fn write(out: &mut impl Write, outcomes: &[FileOutcome]) -> io::Result<()> {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id(),
                "shortDescription": { "text": rule.summary() },
                "helpUri": format!("{RULES_DOC}#{}", rule.id()),
                "defaultConfiguration": { "level": rule.severity().as_str() },
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for outcome in outcomes {
        let uri = artifact_uri(&outcome.path);
        match &outcome.result {
            Ok(checked) => {
                for d in &checked.diagnostics {
                    let text = match &outcome.help(d) {
                        Some(help) => format!("{} ({help})", d.message),
                        None => d.message.clone(),
                    };
                    results.push(json!({
                        "ruleId": d.rule.id(),
                        "ruleIndex": Rule::ALL.iter().position(|rule| *rule == d.rule),
                        "level": d.severity.as_str(),
                        "message": { "text": text },
                        "locations": [{
                            "physicalLocation": {
                                "artifactLocation": { "uri": uri },
                                "region": { "startLine": d.line, "startColumn": d.column },
                            }
                        }],
                    }));
                }
            }
            Err(reason) => notifications.push(json!({
                "level": "error",
                "message": { "text": format!("cannot read {}: {reason}", outcome.display_path()) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
            })),
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "sealctl",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/sealctl/sealctl",
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// A relative path as a relative URI reference (`/` separators, percent-encoded), an absolute one
/// as a `file:` URI: the two forms code scanning resolves against the repository.
fn artifact_uri(path: &Path) -> String {
    if path.is_absolute()
        && let Ok(url) = url::Url::from_file_path(path)
    {
        return url.to_string();
    }
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    let mut uri = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references_or_file_urls() {
        assert_eq!(
            artifact_uri(Path::new("./team/prod config.toml")),
            "team/prod%20config.toml"
        );
        assert_eq!(
            artifact_uri(Path::new("/etc/influx.toml")),
            "file:///etc/influx.toml"
        );
        assert_eq!(artifact_uri(Path::new("-")), "-");
    }
}
