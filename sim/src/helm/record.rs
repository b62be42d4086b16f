//! The record of every call, for the tests: argv and copies of the `-f` files.

use std::path::{Path, PathBuf};

/// Record a call: `<dir>/<NNNN>/argv.json` and `values-<i>.yaml` copies of every `-f` file.
pub(super) fn record(dir: &Path, argv: &[String], files: &[PathBuf]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    // Calls run concurrently (`--region both`): create_dir is the atomic claim of a number.
    let mut n = 1u32;
    let call = loop {
        let candidate = dir.join(format!("{n:04}"));
        match std::fs::create_dir(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    };
    std::fs::write(
        call.join("argv.json"),
        serde_json::to_vec_pretty(argv).unwrap_or_default(),
    )?;
    for (i, f) in files.iter().enumerate() {
        // A missing file is reported by the upgrade itself.
        let _ = std::fs::copy(f, call.join(format!("values-{i}.yaml")));
    }
    Ok(call)
}

pub(super) fn record_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match env("C8DR_SIM_HELM_RECORD").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env("HOME").unwrap_or_else(|| ".".into())).join(".c8dr-sim-helm"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }
    #[test]
    fn records_are_numbered_per_call() {
        let dir = std::env::temp_dir().join(format!("c8dr-sim-helm-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = record(&dir, &s(&["version"]), &[]).expect("record");
        let b = record(&dir, &s(&["version"]), &[]).expect("record");
        assert_ne!(a, b);
        assert!(b.join("argv.json").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
