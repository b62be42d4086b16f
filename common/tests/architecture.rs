//! docs/architecture.md is the map of the core: every source file of `common/src` is named in
//! it (a module's `mod.rs` by its folder), so a reader finds where a fact lives and a new file
//! cannot be added without saying what it holds. Unit-test modules in their own `tests.rs` and
//! the crate root are not named.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_of_the_core_is_named_in_the_architecture_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../docs/architecture.md"))
        .expect("docs/architecture.md");
    let src = root.join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let mut missing = vec![];
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file);
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "tests.rs" || rel == Path::new("lib.rs") {
            continue;
        }
        let named = if name == "mod.rs" {
            let folder = rel
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            doc.contains(&format!("{folder}/"))
        } else {
            doc.contains(&name)
        };
        if !named {
            missing.push(rel.display().to_string());
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "common/src files docs/architecture.md does not name (say what each holds): {missing:?}"
    );
}

/// Every file of the repository, but build output and version control.
fn repository_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "node_modules") {
                repository_files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

/// The contract lives in the repository (docs/contract.md, docs/api-behaviour.md): nothing cites
/// a specification outside it or a path beside the checkout.
#[test]
fn nothing_cites_a_file_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root");
    // Spelled in pieces so that this file does not match itself.
    let outside = format!("..{}shared", '/');
    let spec = regex_lite_spec();
    let mut found = vec![];
    let mut files = vec![];
    repository_files(&root, &mut files);
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (i, line) in text.lines().enumerate() {
            // A folder beside the checkout, not an upstream path such as `dist/.../shared`.
            let beside = line
                .match_indices(&outside)
                .any(|(i, _)| i == 0 || !line[..i].ends_with('.'));
            if beside || spec(line) {
                found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite docs/contract.md or docs/api-behaviour.md instead:\n{}",
        found.join("\n")
    );
}

/// A citation of the old specification: its name followed by a section number, a `§`, the word
/// section or a safety rule.
fn regex_lite_spec() -> impl Fn(&str) -> bool {
    let word = format!("{}{}", "SP", "EC");
    move |line: &str| {
        line.match_indices(&word).any(|(i, _)| {
            let rest = line[i + word.len()..].trim_start();
            rest.starts_with(|c: char| c.is_ascii_digit() || c == '§')
                || rest.starts_with("section")
                || rest.starts_with("safety rule")
        })
    }
}
