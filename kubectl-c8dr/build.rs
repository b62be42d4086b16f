//! Build facts for `kubectl c8dr version` (and `helm c8dr version`, which shares this script):
//! the git commit, the target triple and the compiler. No network; outside a git checkout (a
//! crate tarball, `cargo install` from crates.io) the commit is "unknown".

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]);
    if commit.is_some() {
        // A new commit or checkout changes HEAD (or the branch it points at, loose or packed).
        // Only files that exist are named: cargo reruns a script whose named file is missing
        // on every build.
        let mut watched = vec![];
        if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
            watched.push(PathBuf::from(dir).join("HEAD"));
        }
        if let Some(common) = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            let common = PathBuf::from(common);
            if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watched.push(common.join(head));
            }
            watched.push(common.join("packed-refs"));
        }
        for path in watched.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    // Uncommitted changes are not marked: build scripts rerun on a new HEAD, not on every edit,
    // so such a mark would go stale.
    let commit = commit.unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=C8DR_GIT_COMMIT={commit}");
    // What `--version` prints after the command's name: the release version and the commit, so
    // that an installed copy (a release archive, krew, the helm plugin's download) names both.
    println!(
        "cargo:rustc-env=C8DR_LONG_VERSION={} (commit {commit})",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "cargo:rustc-env=C8DR_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );
    println!("cargo:rustc-env=C8DR_RUSTC_VERSION={rustc_version}");
    // helm-c8dr runs this file too (`build = "../kubectl-c8dr/build.rs"`): name it from there.
    println!(
        "cargo:rerun-if-changed={}/../kubectl-c8dr/build.rs",
        env!("CARGO_MANIFEST_DIR")
    );
}
