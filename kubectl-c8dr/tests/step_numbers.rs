//! Step numbers are never typed (issue 21): a step's number is its position in
//! `common/src/procedure/steps.rs`, and every other production file takes it from there (the
//! simulator's demo from its own list, in one place). This test reads the production sources
//! and scripts of the workspace and fails on a typed step number: `failback 4`, `failover step 1`,
//! `failback 6/8`, `steps 3-7`, `step 5 of 8`. Test code (a file's `#[cfg(test)]` tail, `tests/`
//! directories) and docs may spell numbers: they check or describe what the table produces.

use std::path::{Path, PathBuf};

use regex::Regex;

/// Files that may still spell step numbers, each with the reason.
const ALLOWED: &[(&str, &str)] = &[(
    "common/src/procedure/steps.rs",
    "the table itself: its docs give examples of its labels",
)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The production files: the crates' `src/` trees, the scripts, the bench and the real-stack runner.
fn production_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for krate in ["common", "kubectl-c8dr", "helm-c8dr", "sim"] {
        walk(&root.join(krate).join("src"), &mut files);
    }
    for dir in ["bench", "scripts"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.push(root.join("tests/real-stack/run"));
    files
}

/// The production part of a file: up to its `#[cfg(test)]` module.
fn production_part(text: &str) -> &str {
    match text.find("\n#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    }
}

fn pattern() -> Regex {
    Regex::new(
        r"(?i)\b(failover|failback)( steps?)? [1-8]\b|\bsteps? [1-8](-|/| of )[1-8]\b|\b(failover|failback) [1-8]/[1-8]\b",
    )
    .expect("the pattern compiles")
}

/// `failback 4` and friends in `text`, as `line: text`.
fn typed_numbers(text: &str) -> Vec<String> {
    let re = pattern();
    production_part(text)
        .lines()
        .enumerate()
        .filter(|(_, l)| re.is_match(l))
        .map(|(i, l)| format!("{}: {}", i + 1, l.trim()))
        .collect()
}

#[test]
fn the_pattern_finds_typed_step_numbers_and_nothing_else() {
    for typed in [
        "failback 4",
        "Failover step 1, region 1 lost",
        "failback 6/8",
        "failback steps 3-7 in one go",
        "after the helm steps 1-2",
        "failback step 5 of 8: next",
        "(failback 1-7)",
    ] {
        assert_eq!(typed_numbers(typed).len(), 1, "{typed}");
    }
    for other in [
        "8 brokers, 8 partitions, RF 4",
        "6 of 8 brokers are members",
        "{named:AddBrokers}",
        "exit 3 and 4",
        "region 1 lost",
        "kubectl c8dr failback --replication-factor 4",
        "the steps of failback",
    ] {
        assert!(typed_numbers(other).is_empty(), "{other}");
    }
    let with_tests = "a\n#[cfg(test)]\nmod tests {\n    // failback 4\n}\n";
    assert!(typed_numbers(with_tests).is_empty());
}

#[test]
fn no_production_file_types_a_step_number() {
    let root = root();
    let mut found = vec![];
    for file in production_files(&root) {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.iter().any(|(prefix, _)| rel.starts_with(prefix)) {
            continue;
        }
        // A module of unit tests in its own file (`#[cfg(test)] mod tests;`) is not production.
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        found.extend(
            typed_numbers(&text)
                .into_iter()
                .map(|l| format!("{rel}:{l}")),
        );
    }
    assert!(
        found.is_empty(),
        "step numbers typed outside common/src/procedure/steps.rs (name the step's action, or \
         take its number from the table):\n{}",
        found.join("\n")
    );
}
