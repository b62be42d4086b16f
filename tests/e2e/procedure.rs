//! The composite drivers: `kubectl c8dr failover` and `kubectl c8dr failback`, including runs
//! interrupted after each step and resumed.

use c8dr_e2e::{TestEnv, count_requests as count};
use serde_json::Value;

/// Failover done, region 1 recreated, helm failback steps 1 and 2 done.
fn ready_for_failback() -> TestEnv {
    ready_for_failback_with(TestEnv::builder())
}

fn ready_for_failback_with(builder: c8dr_e2e::TestEnvBuilder) -> TestEnv {
    builder
        .start()
        .scripted()
        .failed_over_and_recreated()
        .helm_failback_steps()
}

fn assert_failed_back(env: &TestEnv) {
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(s["replicationFactor"], 4);
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
    assert_eq!(s["initializedFrom"]["camundaregion1"], "camundaregion0");
    assert_eq!(s["exporting"], "Running");
    assert_eq!(s["regions"][1]["esIndices"], s["regions"][0]["esIndices"]);
}

#[test]
fn failback_runs_steps_3_to_7_and_converges_on_a_rerun() {
    let env = ready_for_failback();
    env.c8dr("failback --replication-factor 4")
        .success()
        .stdout_has("next: helm c8dr redeploy --region both");
    assert_failed_back(&env);
    let before = env.state()["requests"].as_array().map(Vec::len);
    env.c8dr("failback").success().stdout_has("already done");
    assert_eq!(
        env.state()["requests"].as_array().map(Vec::len),
        before,
        "a finished failback sends nothing"
    );
}

#[test]
fn failback_with_the_brokers_added_by_hand_first_is_not_already_done() {
    let env = ready_for_failback();
    // Step 7 by hand before steps 3-6: every broker is a member, the recreated exporter is still
    // disabled (status says the failback is at the exporter's step, not done).
    env.c8dr("brokers add --odd --replication-factor 4 --yes")
        .success();
    assert_eq!(env.state()["exporters"]["camundaregion1"], "DISABLED");
    env.c8dr("failback")
        .success()
        .stdout_lacks("already done")
        .stdout_has("next: helm c8dr redeploy --region both");
    assert_failed_back(&env);
}

#[test]
fn failback_resumes_after_an_interruption_at_each_step() {
    // Each case: the steps already done by hand (as a killed run would leave them), then the driver.
    let cases: [&[&[&str]]; 4] = [
        &[&["exporting", "pause"]],
        &[
            &["exporting", "pause"],
            &["es", "copy", "--exporting-paused"],
        ],
        &[
            &["exporting", "pause"],
            &["es", "copy", "--exporting-paused"],
            &[
                "exporters",
                "enable",
                "camundaregion1",
                "--initialize-from",
                "camundaregion0",
            ],
        ],
        &[
            &["exporting", "pause"],
            &["es", "copy", "--exporting-paused"],
            &[
                "exporters",
                "enable",
                "camundaregion1",
                "--initialize-from",
                "camundaregion0",
            ],
            &["exporting", "resume"],
        ],
    ];
    for done in cases {
        let env = ready_for_failback();
        for step in done {
            env.kubectl_c8dr(step.iter().copied()).success();
        }
        let enables_before = count(&env.state(), "POST", "/enable");
        env.c8dr("failback").success();
        assert_failed_back(&env);
        let s = env.state();
        assert_eq!(
            count(&s, "POST", "/enable"),
            enables_before.max(1),
            "the exporter is enabled exactly once"
        );
        assert_eq!(
            count(&s, "PATCH", "/actuator/cluster"),
            2,
            "one forced removal, one re-add"
        );
    }
}

#[test]
fn failback_refuses_until_the_helm_steps_are_done() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.set_env("S3_BUCKET_NAME", "camunda-bucket");
    env.lose_region(1);
    env.c8dr("failover").success();
    env.recreate_region(1);
    env.c8dr("failback")
        .code(3)
        .stderr_has("failback step 1 is not done")
        .stderr_has("helm c8dr redeploy --region recreated --no-webapps --no-schema-manager");
    c8dr_sim::helm::apply_release(
        &mut env.sim.world().lock(),
        1,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}]}}),
    );
    // Without the pre-copy (which would run now: see es_speed.rs) step 2 must come first.
    env.c8dr("failback --no-pre-copy")
        .code(3)
        .stderr_has("failback step 2 is not done");
    assert_eq!(env.state()["exporting"], "Running", "nothing was paused");
}

#[test]
fn a_copy_that_would_be_refused_is_refused_before_the_pause_in_real_and_dry_runs() {
    let env = ready_for_failback();
    // The recreated Elasticsearch already holds Camunda indices (the schema manager ran).
    env.sim.world().lock().regions[1].es.seed_schema();
    for extra in [None, Some("--dry-run")] {
        let mut args = vec!["failback"];
        args.extend(extra);
        env.kubectl_c8dr(args).code(3).stderr_has("Camunda indices");
    }
    let s = env.state();
    assert_eq!(
        count(&s, "POST", "/actuator/exporting/pause"),
        0,
        "never paused"
    );
    assert_eq!(s["exporting"], "Running");
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn a_copy_failing_after_the_pause_resumes_exporting() {
    let env = ready_for_failback();
    // The snapshot ends PARTIAL: found only once the copy runs, after the pause (no pre-copy,
    // which would meet the fault before the pause: see es_speed.rs).
    env.sim.world().lock().faults.partial_snapshot = true;
    env.c8dr("failback --no-pre-copy")
        .code(1)
        .stderr_has("exporting was resumed");
    let s = env.state();
    assert_eq!(count(&s, "POST", "/actuator/exporting/pause"), 1);
    assert_eq!(s["exporting"], "Running");
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn failback_dry_run_shows_every_flag_of_the_real_run() {
    let env = ready_for_failback();
    env.c8dr("failback --dry-run")
        .success()
        .stdout_has("es copy --from surviving --to recreated --repo camunda_backup --bucket camunda-bucket --exporting-paused")
        .stdout_has("brokers add --odd --replication-factor 4");
    assert_eq!(count(&env.state(), "POST", "/actuator/exporting/pause"), 0);
}

#[test]
fn failback_knows_an_existing_pause_and_refuses_over_a_soft_one() {
    let env = ready_for_failback();
    env.c8dr("exporting pause --soft").success();
    env.c8dr("failback")
        .code(3)
        .stderr_has("soft-paused")
        .stderr_has("kubectl c8dr exporting resume");
    let s = env.state();
    assert_eq!(s["pauseFileCorrupted"], false);
    assert_eq!(s["exporting"], "SoftPaused");
    env.c8dr("exporting resume").success();
    // Paused by hand (failback step 3 done by the operator): not paused a second time.
    env.c8dr("exporting pause").success();
    env.c8dr("failback")
        .success()
        .stderr_has("exporting was already paused");
    assert_failed_back(&env);
    assert_eq!(
        count(&env.state(), "POST", "/actuator/exporting/pause"),
        2,
        "soft + hard by hand"
    );
}

#[test]
fn failback_refuses_a_replication_factor_above_the_cluster_size_before_pausing() {
    let env = ready_for_failback();
    env.c8dr("failback --replication-factor 9")
        .code(2)
        .stderr_has("--replication-factor 9");
    assert_eq!(count(&env.state(), "POST", "/actuator/exporting/pause"), 0);
}

#[test]
fn a_failback_killed_at_any_point_finishes_when_run_again() {
    // (where it is killed, how to recognise that moment, server-side time per topology operation)
    type Point = (&'static str, fn(&Value) -> bool, u64);
    let points: [Point; 3] = [
        (
            "during the Elasticsearch copy",
            |s| s["exporting"] == "Paused",
            40,
        ),
        (
            "after the exporter was enabled",
            |s| s["exporters"]["camundaregion1"] == "ENABLED",
            40,
        ),
        // Slow enough that the re-run finds the re-add still running and waits for it.
        (
            "while the brokers are being re-added",
            // Exporting runs again (step 6 done) and a change is pending: the re-add of step 7.
            |s| s["pendingChange"].is_number() && s["exporting"] == "Running",
            150,
        ),
    ];
    for (when, reached, op_ms) in points {
        let env = ready_for_failback_with(TestEnv::builder().config(|c| {
            c.operation_duration = std::time::Duration::from_millis(op_ms);
            c.es_shard_duration = std::time::Duration::from_millis(60);
        }));
        let mut child = env
            .command("kubectl", vec!["c8dr".into(), "failback".into()])
            .spawn();
        env.wait_for_state(when, reached);
        let _ = child.kill();
        let _ = child.wait();
        let rerun = env.c8dr("failback").success();
        if op_ms == 150 {
            rerun.stderr_has("is in progress (an interrupted run?): waiting for it");
        }
        assert_failed_back(&env);
        let s = env.state();
        assert_eq!(
            count(&s, "PATCH", "/actuator/cluster"),
            2,
            "killed {when}: one forced removal, one re-add"
        );
    }
}

/// `kubectl c8dr failover` with region 0 lost: broker 0, the default coordinator, is dead, so
/// every routed call fails until the forced removal completes (docs/api-behaviour.md §1 "Routing").
fn failover_region0(mode: c8dr_sim::DeadCoordinator) {
    let mut env = TestEnv::builder()
        .surviving(1)
        .config(|c| {
            c.dead_coordinator = mode;
            c.gateway_request_timeout = std::time::Duration::from_millis(300);
        })
        .start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(0);
    env.c8dr("failover --dry-run=server")
        .success()
        .stdout_has("brokers remove --even")
        .stdout_has("exporters disable camundaregion0")
        // The gateway's own plan, asked before the operator is: brokers and replication factor.
        .stdout_has("brokers [0, 2, 4, 6] removed, replication factor 4 -> 2");
    env.c8dr("failover").success().stdout_has("failed over");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([1, 3, 5, 7]));
    assert_eq!(s["exporters"]["camundaregion0"], "DISABLED");
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
    assert_eq!(count(&s, "PATCH", "force=true"), 1, "{s:#}");
    // A re-run converges: everything is already done, and it says so without asking (no
    // terminal and no --yes: a question would be refused; issue 22 item 8).
    env.remove_env("C8DR_ASSUME_YES");
    env.c8dr("failover")
        .success()
        .stdout_has("already done")
        .output_lacks("pass --yes")
        .output_lacks("Failover plan");
}

#[test]
fn failover_with_region0_lost_when_the_dead_coordinator_fails_fast() {
    failover_region0(c8dr_sim::DeadCoordinator::Fail502);
}

#[test]
fn failover_with_region0_lost_when_the_dead_coordinator_times_out() {
    failover_region0(c8dr_sim::DeadCoordinator::Timeout504);
}

#[test]
fn a_timeout_inside_failover_keeps_exit_code_4_and_says_which_step() {
    let mut env = TestEnv::builder()
        .config(|c| c.operation_duration = std::time::Duration::from_secs(5))
        .start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(1);
    env.c8dr("failover --timeout 1s")
        .code(4)
        .stderr_has("failover step 1/2")
        .stderr_has("kubectl c8dr changes wait");
}

#[test]
fn failover_without_rest_credentials_is_refused_before_any_change() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.remove_rest_credentials();
    env.lose_region(1);
    env.c8dr("failover")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD")
        .stderr_has("--skip-liveness-check");
    assert!(
        env.state()["requests"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[test]
fn a_timeout_after_the_pause_keeps_exit_code_4_and_resumes_exporting() {
    let env = ready_for_failback_with(TestEnv::builder().config(|c| {
        c.es_shard_duration = std::time::Duration::from_millis(500);
    }));
    env.c8dr("--timeout 1s failback --no-pre-copy")
        .code(4)
        .stderr_has("timed out")
        .stderr_has("exporting was resumed");
    let s = env.state();
    assert_eq!(s["exporting"], "Running");
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn region0_lost_without_rest_credentials_refuses_and_says_which_variables_to_set() {
    // The coordinator (broker 0) is dead, so only /v2/topology can show membership and liveness;
    // without credentials there is no evidence: a refusal naming them, not "unreachable".
    let mut env = TestEnv::builder().surviving(1).start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.remove_rest_credentials();
    env.lose_region(0);
    env.c8dr("failover")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD");
    env.c8dr("brokers remove --even")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD");
    assert!(
        env.state()["requests"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

/// Zeebe requests that change something (every method but GET, dry runs aside).
fn mutating(env: &TestEnv) -> usize {
    let s = env.state();
    ["POST", "PATCH", "PUT", "DELETE"]
        .iter()
        .map(|m| count(&s, m, "/"))
        .sum()
}

/// Issue 19 item 2: `failover --yes` run again after failback 5 (the recreated region's exporter
/// enabled again) is a failback under way: nothing sent, the exporter stays enabled.
#[test]
fn failover_after_the_exporter_was_enabled_again_sends_nothing() {
    let env = ready_for_failback();
    env.c8dr("exporting pause").success();
    env.c8dr("es copy --exporting-paused").success();
    env.c8dr("exporters enable camundaregion1 --initialize-from camundaregion0")
        .success();
    let before = mutating(&env);
    env.c8dr("failover --yes").success().stdout_has("failback");
    // The document is the driver's (docs/schema/Outcome.json): no step run.
    let doc = env
        .kubectl_c8dr(["failover", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(doc["status"], "already-done", "{doc:#}");
    assert_eq!(doc["details"]["lostRegion"], "region1", "{doc:#}");
    assert_eq!(doc["details"]["steps"], serde_json::json!([]), "{doc:#}");
    let mut keys: Vec<&String> = doc["details"]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(keys, ["lostRegion", "next", "steps"], "{doc:#}");
    assert_eq!(mutating(&env), before, "nothing mutating sent");
    assert_eq!(env.state()["exporters"]["camundaregion1"], "ENABLED");
}

/// Issue 19 item 13: the driver pauses exporting itself; it does not first warn that exporting
/// is not paused and tell the operator to pause it.
#[test]
fn failback_does_not_warn_that_exporting_is_not_paused_before_pausing_it() {
    let env = ready_for_failback();
    env.c8dr("failback")
        .success()
        .output_lacks("exporting is not paused")
        .output_lacks("Pause it first");
    assert_failed_back(&env);
}

/// Issue 22 item 8: a single step ends with the next command, as status names it.
#[test]
fn a_single_step_ends_with_the_next_command() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(1);
    env.c8dr("brokers remove --odd")
        .success()
        .stdout_has("next: kubectl c8dr exporters disable camundaregion1");
    let out = env
        .c8dr("exporters disable camundaregion1 -o json")
        .success()
        .json();
    assert_eq!(
        out["next"], "helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
        "{out}"
    );
}

/// Attack A7: without a readable /v2/topology a re-add is checked against the broker pods of the
/// region, never taken for running: a re-add of a lost region's brokers would never complete
/// and block every later change.
#[test]
fn brokers_add_without_v2_topology_checks_the_pods_and_never_re_adds_a_lost_region() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(1);
    env.c8dr("failover").success();
    env.remove_rest_credentials();
    let patches = |env: &TestEnv| count(&env.state(), "PATCH", "cluster");
    let before = patches(&env);
    env.c8dr("brokers add --odd --replication-factor 4")
        .code(3)
        .stderr_has("cannot tell whether brokers")
        .stderr_has("could not be checked");
    // Recreated but not installed: no Ready broker pod.
    env.recreate_region(1);
    env.c8dr("brokers add --odd --replication-factor 4")
        .code(3)
        .stderr_has("are not running");
    assert_eq!(patches(&env), before, "a re-add was sent");
}
