//! Signals never leave exporting paused (issue 9 item 5, docs/api-behaviour.md §3 and §7): SIGTERM (a cancelled CI
//! job), SIGINT (Ctrl-C) or SIGHUP (an SSH drop) after the pause resume exporting, say what was
//! and was not done, and exit 128 + the signal.

use std::time::Duration;

use c8dr_e2e::{TestEnv, finish, send_signal};

/// Failover done, region 1 recreated, helm failback steps 1 and 2 done; the Elasticsearch copy
/// is slow, so a signal lands while exporting is paused.
fn ready_for_a_slow_failback() -> TestEnv {
    let env = TestEnv::builder()
        .config(|c| c.es_shard_duration = Duration::from_millis(400))
        .start()
        .scripted()
        .failed_over_and_recreated();
    env.apply_release(
        1,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}]}}),
    );
    env.apply_release(
        0,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false}}}),
    );
    env
}

/// Wait (bounded) until the Elasticsearch copy of the pause has begun: the repository is
/// registered on the target, which happens after the pause was verified and the snapshot taken
/// (the source registers it earlier, for the pre-copy).
fn wait_for_the_copy(env: &TestEnv) {
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while env.sim.world().lock().regions[1].es.repositories.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never started: {:#}",
            env.state()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_signal_during_failback_resumes_exporting_and_exits_128_plus_the_signal() {
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let env = ready_for_a_slow_failback();
        let (child, shown) = env
            .command("kubectl-c8dr", vec!["failback".into()])
            .spawn_piped();
        env.wait_for_state("exporting paused by failback", |s| {
            s["exporting"] == "Paused"
        });
        // Let the copy start (it is what runs while paused).
        wait_for_the_copy(&env);
        send_signal(&child, signal);
        let run = finish(child, shown)
            .code(code)
            .stderr_has(&format!("interrupted by SIG{signal}"))
            .stderr_has("done:     failback 3")
            .stderr_has("not done: failback 5")
            .stderr_has("exporting was resumed");
        let s = env.state();
        assert_eq!(s["exporting"], "Running", "SIG{signal}\n{}", run.stderr);
        assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
        // A re-run finishes the failback.
        env.c8dr("failback").success();
        assert_eq!(
            env.state()["members"],
            serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
        );
    }
}

#[test]
fn a_signal_during_es_copy_with_pause_exporting_resumes_exporting() {
    let env = ready_for_a_slow_failback();
    let (child, shown) = env
        .command(
            "kubectl-c8dr",
            c8dr_e2e::words("es copy --from surviving --to recreated --pause-exporting")
                .into_iter()
                .map(Into::into)
                .collect(),
        )
        .spawn_piped();
    env.wait_for_state("exporting paused by es copy", |s| {
        s["exporting"] == "Paused"
    });
    wait_for_the_copy(&env);
    send_signal(&child, "INT");
    finish(child, shown)
        .code(130)
        .stderr_has("interrupted by SIGINT")
        .stderr_has("exporting was resumed");
    assert_eq!(env.state()["exporting"], "Running");
}

#[test]
fn when_the_resume_cannot_be_sent_the_exact_command_is_printed() {
    let env = ready_for_a_slow_failback();
    let (child, shown) = env
        .command("kubectl-c8dr", vec!["failback".into()])
        .spawn_piped();
    env.wait_for_state("exporting paused by failback", |s| {
        s["exporting"] == "Paused"
    });
    wait_for_the_copy(&env);
    // The gateway refuses the next mutating calls: the resume cannot be sent.
    env.sim.world().lock().faults.zeebe_error = Some((500, 100));
    send_signal(&child, "TERM");
    finish(child, shown)
        .code(143)
        .stderr_has("resuming exporting FAILED")
        .stderr_has("run now: kubectl c8dr --context c8dr-sim-region0 --namespace camunda-region0 exporting resume");
    assert_eq!(env.state()["exporting"], "Paused");
}

/// Attack A10: a signal while a forced removal runs in the cluster says that it was sent and
/// goes on, and how to follow it, not only "interrupted".
#[test]
fn a_signal_while_a_change_runs_says_it_goes_on_and_how_to_follow_it() {
    let env = TestEnv::builder()
        .config(|c| c.operation_duration = Duration::from_millis(500))
        .start();
    env.lose_region(1);
    let (child, shown) = env
        .command(
            "kubectl-c8dr",
            vec![
                "brokers".into(),
                "remove".into(),
                "--odd".into(),
                "--yes".into(),
            ],
        )
        .spawn_piped();
    env.wait_for_state("the forced removal running", |s| {
        !s["pendingChange"].is_null()
    });
    send_signal(&child, "INT");
    finish(child, shown)
        .code(130)
        .stderr_has("interrupted by SIGINT")
        .stderr_has("goes on in the cluster")
        .stderr_has("kubectl c8dr changes wait ");
}
