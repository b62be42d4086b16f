//! A reader that goes away (`kubectl c8dr … 2>&1 | head -1`, a closed terminal) must not turn a
//! command that already applied its change into a crash: every write to stdout and stderr ignores
//! a broken pipe, and the command ends with its own exit code (docs/contract.md §5), never 134
//! (abort) or 70 (panic).

use c8dr_e2e::{Run, TestEnv, finish, words};

/// Run with stdout and stderr both pipes whose reading ends are closed before the command
/// writes anything: every write fails with EPIPE.
fn with_closed_output(env: &TestEnv, program: &str, line: &str) -> Run {
    let (mut child, shown) = env
        .command(program, words(line).into_iter().map(Into::into).collect())
        .spawn_piped();
    drop(child.stdout.take());
    drop(child.stderr.take());
    finish(child, shown)
}

#[test]
fn closed_output_ends_with_the_commands_own_exit_code_after_the_change() {
    let mut env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start();
    let records = env.home.path().join("helm-records");
    env.set_env("C8DR_SIM_HELM_RECORD", records.display().to_string());
    let run = with_closed_output(&env, "kubectl", "c8dr exporting pause --yes");
    assert_eq!(run.code, 0, "{}", run.context());
    assert_eq!(env.state()["exporting"], "Paused", "the pause was applied");

    let run = with_closed_output(&env, "kubectl", "c8dr status");
    assert_eq!(run.code, 0, "{}", run.context());

    // A refusal keeps its code too: without --yes and without a terminal, exit 3.
    let run = with_closed_output(&env, "kubectl", "c8dr exporting resume");
    assert_eq!(run.code, 3, "{}", run.context());

    let run = with_closed_output(&env, "kubectl", "c8dr exporting resume --yes");
    assert_eq!(run.code, 0, "{}", run.context());
    assert_eq!(
        env.state()["exporting"],
        "Running",
        "the resume was applied"
    );

    let run = with_closed_output(&env, "helm-c8dr", "redeploy --yes");
    assert_eq!(run.code, 0, "{}", run.context());
    assert_eq!(env.helm_calls().len(), 1, "helm ran once");
}
