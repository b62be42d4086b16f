//! The command line on its own, before anything is planned.

use assert_cmd::Command;

#[test]
fn version_prints_the_plugins_version_like_kubectl_c8dr() {
    let out = Command::cargo_bin("helm-c8dr")
        .expect("helm-c8dr is built")
        .env_clear()
        .arg("--version")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("helm c8dr {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `helm-c8dr man DIR` (hidden; the README's Install section): a page for the plugin and one per
/// subcommand, none for the hidden `man` itself.
#[test]
fn man_pages_are_written_per_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("helm-c8dr")
        .expect("helm-c8dr is built")
        .env_clear()
        .arg("man")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in ["helm-c8dr.1", "helm-c8dr-redeploy.1", "helm-c8dr-overlay.1"] {
        assert!(dir.path().join(page).exists(), "{page} missing");
    }
    assert!(!dir.path().join("helm-c8dr-man.1").exists());
}
