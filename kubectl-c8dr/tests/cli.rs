//! The command line on its own: help, usage errors (exit 2, before any cluster is contacted),
//! completions and man pages. (These tests also make `cargo test --workspace` build the
//! kubectl-c8dr executable that the end-to-end tests in `tests/` run.)

use assert_cmd::Command;

fn c8dr() -> Command {
    let mut cmd = Command::cargo_bin("kubectl-c8dr").expect("kubectl-c8dr is built");
    // No cluster, no environment from the developer's shell.
    cmd.env_clear()
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    cmd
}

fn stderr(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_shows_the_procedure_and_the_exit_codes() {
    let out = c8dr().arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("kubectl c8dr brokers remove --odd"), "{help}");
    assert!(
        help.contains("helm c8dr redeploy --region recreated --no-webapps --no-schema-manager")
    );
    assert!(help.contains("3 refused by a safety check"));
}

#[test]
fn help_lists_every_step_of_the_procedure_table_and_the_composite_commands() {
    let out = c8dr().arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    use c8dr_common::procedure::{FAILBACK, FAILOVER, Fill};
    let fill = Fill::of(c8dr_common::region::RegionId::ONE, 4);
    for step in FAILOVER.iter().chain(FAILBACK.iter()) {
        let line = format!("{:<12} {}", step.tag(), step.command(&fill));
        assert!(help.contains(&line), "{line:?} missing from:\n{help}");
    }
    assert!(
        help.contains("failback 4") && help.contains("kubectl c8dr es copy"),
        "{help}"
    );
    assert!(
        help.contains("kubectl c8dr failover runs failover 1-2"),
        "{help}"
    );
    assert!(
        help.contains("kubectl c8dr failback runs the kubectl steps of failback 3-7"),
        "{help}"
    );
}

#[test]
fn conflicting_broker_flags_are_exit_2() {
    let (code, err) = stderr(c8dr().args(["brokers", "remove", "--odd", "--even", "--yes"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("mutually exclusive"), "{err}");
}

#[test]
fn an_unknown_region_is_exit_2_naming_it() {
    let (code, err) = stderr(c8dr().args(["--region", "region7", "exporters", "list"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("region7"), "{err}");
}

#[test]
fn a_bad_timeout_is_exit_2_naming_the_flag() {
    let (code, err) = stderr(c8dr().args(["--timeout", "soon", "changes", "show"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--timeout"), "{err}");
}

#[test]
fn a_missing_kubeconfig_context_is_exit_2() {
    let (code, err) = stderr(c8dr().args(["--context", "nowhere", "exporters", "list"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn completions_and_kubectls_plugin_completion_protocol() {
    let out = c8dr().args(["completion", "bash"]).output().expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl-c8dr"));
    // cobra's `__complete` format: `value<TAB>description` a line, then the directive.
    let values = |args: &[&str]| {
        let out = c8dr().args(args).output().expect("runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&["__complete", "bro"]), ["brokers", ":4"]);
    assert_eq!(
        values(&["__complete", "exporters", "enable", "x", "--init"]),
        ["--initialize-from", ":4"]
    );
}

#[test]
fn man_pages_are_written() {
    let dir = std::env::temp_dir().join(format!("c8dr-man-{}", std::process::id()));
    c8dr().args(["man"]).arg(&dir).assert().success();
    assert!(dir.join("kubectl-c8dr.1").exists());
    assert!(dir.join("kubectl-c8dr-brokers-remove.1").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_generic_complete_variable_of_another_tool_does_not_hijack_runs() {
    // clap's default callback variable is COMPLETE: a user who sets it for another tool must
    // still get kubectl c8dr's own behaviour.
    let out = c8dr()
        .env("COMPLETE", "bash")
        .args(["exporters", "list", "--help"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Examples:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // kubectl c8dr's own variable answers the callback of `completion bash`.
    let out = c8dr()
        .env("KUBECTL_C8DR_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .args(["--", "kubectl-c8dr", "--region", ""])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("region1"), "{text}");
}
