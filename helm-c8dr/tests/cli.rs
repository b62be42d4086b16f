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
