//! `kubectl c8dr version` (issue 12 item 3): what the binary is and how it was built, with no
//! kubeconfig and no cluster; the same facts as a document with `-o json`.

use assert_cmd::Command;
use serde_json::Value;

fn c8dr() -> Command {
    let mut cmd = Command::cargo_bin("kubectl-c8dr").expect("kubectl-c8dr is built");
    // No kubeconfig, no environment: version needs neither.
    cmd.env_clear()
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    cmd
}

/// The commit the checkout is at, when the tests run in one (build.rs records the same).
fn head() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_target_and_compiler_without_a_cluster() {
    let out = c8dr().arg("version").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with(&format!("kubectl-c8dr {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    for line in ["commit: ", "target: ", "rustc:  rustc "] {
        assert!(text.contains(line), "no '{line}' in {text}");
    }

    let out = c8dr()
        .args(["version", "-o", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["apiVersion"], "c8dr.camunda.io/v1alpha1");
    assert_eq!(doc["kind"], "Version");
    assert_eq!(doc["binary"], "kubectl-c8dr");
    let commit = doc["gitCommit"].as_str().unwrap_or_default();
    match head() {
        Some(h) => assert_eq!(commit, h, "the commit of this checkout"),
        None => assert_eq!(commit, "unknown"),
    }
    let target = doc["target"].as_str().unwrap_or_default();
    assert!(
        target.starts_with(std::env::consts::ARCH),
        "target {target} is not this machine's ({})",
        std::env::consts::ARCH
    );
}

#[test]
fn version_refuses_a_bad_output_format_with_exit_2() {
    for bad in ["xml", "name", "jsonpath={.kind"] {
        let out = c8dr().args(["version", "-o", bad]).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "-o {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("-o "), "-o {bad}: {err}");
    }
    let out = c8dr()
        .args(["version", "-o", r#"jsonpath={.binary}{"\n"}"#])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kubectl-c8dr\n");
}

/// `--version` (what an operator runs on an installed copy: krew, a release archive) names the
/// release version and the commit, as `version` does.
#[test]
fn dash_dash_version_names_the_release_version_and_the_commit() {
    let out = c8dr().arg("--version").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let commit = head().unwrap_or_else(|| "unknown".into());
    assert_eq!(
        text.trim(),
        format!(
            "kubectl c8dr {} (commit {commit})",
            env!("CARGO_PKG_VERSION")
        )
    );
}
