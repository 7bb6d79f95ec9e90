//! The shape of the code, checked so that it stays: small files, and subcommands that share
//! code through shared modules rather than through each other.

use std::fs;
use std::path::{Path, PathBuf};

/// A source file past this many lines (its inline tests aside) is asking to be split by concern.
const MAX_SOURCE_LINES: usize = 600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The non-test source files: `src/` and each crate's `src/`, without files of tests alone.
fn source_files() -> Vec<PathBuf> {
    let mut folders = vec![root().join("src")];
    for entry in fs::read_dir(root().join("crates")).unwrap() {
        folders.push(entry.unwrap().path().join("src"));
    }
    let mut files = Vec::new();
    for folder in folders.iter().filter(|folder| folder.is_dir()) {
        rust_files(folder, &mut files);
    }
    files.retain(|path| path.file_name().is_some_and(|name| name != "tests.rs"));
    files.sort();
    files
}

/// The lines of a file before its inline `#[cfg(test)] mod tests`.
fn lines_before_tests(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .position(|pair| pair[0].trim() == "#[cfg(test)]" && pair[1].starts_with("mod tests"))
        .unwrap_or(lines.len())
}

#[test]
fn inline_tests_are_not_counted() {
    let text = "fn a() {}\nfn b() {}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
    assert_eq!(lines_before_tests(text), 3);
    assert_eq!(
        lines_before_tests("fn a() {}\n#[cfg(test)]\nfn b() {}\n"),
        3
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let over: Vec<String> = source_files()
        .into_iter()
        .filter_map(|path| {
            let lines = lines_before_tests(&fs::read_to_string(&path).unwrap());
            (lines > MAX_SOURCE_LINES).then(|| {
                format!(
                    "{} ({lines} lines)",
                    path.strip_prefix(root()).unwrap().display()
                )
            })
        })
        .collect();
    assert!(
        over.is_empty(),
        "split these by concern, to at most {MAX_SOURCE_LINES} lines besides their tests: {over:?}"
    );
}

/// A subcommand's module is one with a `cmd_*` function; the others in src/commands (target,
/// backend, new_profile, questions, candidates) are shared, and are where shared code goes.
#[test]
fn subcommands_do_not_import_from_each_other() {
    let folder = root().join("src").join("commands");
    let modules: Vec<(String, String)> = fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect();
    let subcommands: Vec<&str> = modules
        .iter()
        .filter(|(name, text)| name != "mod" && text.contains("pub fn cmd_"))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(subcommands.contains(&"init") && subcommands.contains(&"seal"));
    let mut found = Vec::new();
    for (name, text) in modules.iter().filter(|(name, _)| name != "mod") {
        for used in names_after_super(text) {
            if used != *name && subcommands.contains(&used.as_str()) {
                found.push(format!("{name}.rs uses super::{used}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "move what subcommands share into a shared module: {found:?}"
    );
}

/// The first name of every path after `super::`, and each name of a `super::{a, b::c}` group.
fn names_after_super(text: &str) -> Vec<String> {
    let word = |rest: &str| -> String {
        rest.chars()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
            .collect()
    };
    let mut names = Vec::new();
    for (at, _) in text.match_indices("super::") {
        let rest = &text[at + "super::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(|part| word(part.trim())));
            }
            None => names.push(word(rest)),
        }
    }
    names
}

#[test]
fn names_after_super_are_found_in_paths_and_groups() {
    let text =
        "use super::seal::plural;\nuse super::{backend, init::add};\nlet x = super::token::read();";
    assert_eq!(
        names_after_super(text),
        ["seal", "backend", "init", "token"]
    );
}
