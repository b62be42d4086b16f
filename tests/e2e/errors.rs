//! Errors in the right class, with the fix (issue 22 item 5): a missing `--kubeconfig` is bad
//! input before any call; a 401 from the v2 REST API names `CAMUNDA_CLIENT_AUTH_*` in every
//! command; with `-o json|yaml` a `kubectl c8dr` error is a document on stderr.

use c8dr_e2e::TestEnv;

#[test]
fn a_missing_kubeconfig_file_is_bad_input_before_any_call() {
    let env = TestEnv::start();
    let before = env.requests().len();
    let missing = env.home.path().join("no-such-kubeconfig");
    let missing = missing.display().to_string();
    for cmd in [
        "status",
        "preflight",
        "exporters list",
        "failover --dry-run",
    ] {
        env.c8dr(&format!("{cmd} --kubeconfig {missing}"))
            .code(2)
            .stderr_has("--kubeconfig: stat ")
            .stderr_has("no-such-kubeconfig\": no such file or directory")
            .stdout_lacks("UNREACHABLE");
    }
    assert_eq!(env.requests().len(), before, "bad input reached a cluster");
}

#[test]
fn kubectl_c8dr_errors_are_a_document_with_json_or_yaml_output() {
    let env = TestEnv::start();
    let run = env
        .c8dr("status --kubeconfig /nonexistent/kubeconfig -o json")
        .code(2);
    let doc: serde_json::Value =
        serde_json::from_str(run.stderr.trim()).expect("stderr is one JSON document");
    assert_eq!(doc["exitCode"], 2, "{doc}");
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("no such file or directory")),
        "{doc}"
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    env.c8dr("status --kubeconfig /nonexistent/kubeconfig -o yaml")
        .code(2)
        .stderr_has("exitCode: 2")
        .stderr_has("error: ");
}

#[test]
fn a_rejected_or_missing_credential_names_the_variables_in_every_command() {
    let mut env = TestEnv::start();
    env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", "not-the-password");
    for cmd in ["topology", "brokers remove --odd --dry-run"] {
        env.c8dr(cmd)
            .stderr_has("HTTP 401")
            .stderr_has("the credentials in CAMUNDA_CLIENT_AUTH_* were rejected");
    }
    env.remove_rest_credentials();
    env.c8dr("topology")
        .code(1)
        .stderr_has("none are set: export CAMUNDA_CLIENT_AUTH_METHOD=basic");
}

#[test]
fn a_lost_region_in_status_says_what_failed_not_the_client_librarys_wrappers() {
    let env = TestEnv::start();
    env.lose_region(1);
    env.c8dr("status")
        .stdout_has("connection refused: nothing listens at the context's API")
        .output_lacks("ServiceError")
        .output_lacks("client error (Connect)");
}

/// Attack D16: a release read that times out is exit 4 naming what did not answer, not exit 3
/// "the release could not be read … set CAMUNDA_CLIENT_AUTH_*" (the credentials are fine).
#[test]
fn a_release_read_that_times_out_is_a_timeout_not_a_refusal() {
    let env = TestEnv::start();
    for cmd in ["failover --dry-run", "exporting pause --dry-run"] {
        env.c8dr(&format!("{cmd} --timeout 1ns"))
            .code(4)
            .stderr_has("timed out after")
            .output_lacks("CAMUNDA_CLIENT_AUTH");
    }
}
