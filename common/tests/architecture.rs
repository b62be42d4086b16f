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
