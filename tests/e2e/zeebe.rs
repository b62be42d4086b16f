//! The Zeebe half of failover and failback, through the real kubectl, in direct mode
//! (`--gateway-url`/`--rest-url`), verified on the simulator's state.

use c8dr_e2e::{TestEnv, count_requests as count};
use serde_json::Value;

fn patches(state: &Value) -> Vec<String> {
    state["requests"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["method"] == "PATCH")
                .filter_map(|r| r["path"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Failover with region 1 lost: remove the odd brokers, disable camundaregion1.
fn failover(env: &TestEnv) {
    env.lose_region(1);
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .success()
        .stdout_has("brokers [1, 3, 5, 7] removed");
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success()
        .stdout_has("camundaregion1 is DISABLED");
}

#[test]
fn failover_removes_the_lost_brokers_by_force_and_disables_their_exporter() {
    let env = TestEnv::start();
    failover(&env);
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([0, 2, 4, 6]));
    assert_eq!(
        s["replicationFactor"], 2,
        "a forced removal lowers the replication factor"
    );
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
    assert_eq!(s["exporters"]["camundaregion0"], "ENABLED");
    let p = patches(&s);
    assert!(
        p.iter()
            .any(|p| p.contains("force=true") && !p.contains("dryRun")),
        "{p:?}"
    );
}

#[test]
fn rerunning_failover_steps_reports_already_done_and_changes_nothing() {
    let env = TestEnv::start();
    failover(&env);
    let before = env.state()["requests"].as_array().map(Vec::len);
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .success()
        .stdout_has("already done");
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success()
        .stdout_has("already done");
    assert_eq!(
        env.state()["requests"].as_array().map(Vec::len),
        before,
        "no mutating call on a re-run"
    );
}

#[test]
fn failback_zeebe_steps_pause_enable_resume_and_readd_with_the_replication_factor() {
    let env = TestEnv::start();
    failover(&env);
    // Failback 1-2 (helm side): the recreated region runs Camunda again, brokers not yet members.
    env.recreate_region(1);
    c8dr_sim::helm::apply_release(&mut env.sim.world().lock(), 1, Value::Null);

    env.c8dr_direct(0, "exporting pause --yes")
        .success()
        .stdout_has("paused");
    assert_eq!(env.state()["exporting"], "Paused");

    env.c8dr_direct(
        0,
        "exporters enable camundaregion1 --initialize-from camundaregion0 --yes",
    )
    .success()
    .stdout_has("camundaregion1 is ENABLED");
    let s = env.state();
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
    assert_eq!(s["initializedFrom"]["camundaregion1"], "camundaregion0");

    env.c8dr_direct(0, "exporting resume --yes").success();
    assert_eq!(env.state()["exporting"], "Running");

    env.c8dr_direct(0, "brokers add --odd --replication-factor 4 --yes")
        .success()
        .stdout_has("replication factor 4");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(s["replicationFactor"], 4);
    let last_patch = patches(&s).last().cloned().unwrap_or_default();
    assert!(
        !last_patch.contains("force"),
        "re-adding must not be forced: {last_patch}"
    );
    let body = s["requests"]
        .as_array()
        .and_then(|r| r.iter().rev().find(|r| r["method"] == "PATCH"))
        .map(|r| r["body"].clone());
    assert_eq!(
        body,
        Some(
            serde_json::json!({"brokers": {"add": [1, 3, 5, 7]}, "partitions": {"replicationFactor": 4}})
        )
    );

    // Re-running the re-add is already done.
    env.c8dr_direct(0, "brokers add --odd --yes")
        .success()
        .stdout_has("already done");
}

#[test]
fn readding_without_a_stated_factor_restores_twice_the_lowered_one_and_says_so() {
    let env = TestEnv::start();
    failover(&env);
    env.recreate_region(1);
    c8dr_sim::helm::apply_release(&mut env.sim.world().lock(), 1, Value::Null);
    env.c8dr_direct(0, "brokers add --odd --yes")
        .success()
        .stderr_has("twice the current factor");
    assert_eq!(env.state()["replicationFactor"], 4);
}

#[test]
fn readding_brokers_that_do_not_run_yet_is_refused() {
    let env = TestEnv::start();
    failover(&env);
    env.recreate_region(1); // no release installed: the brokers do not run
    env.c8dr_direct(0, "brokers add --odd --yes")
        .code(3)
        .stderr_has("not running")
        .stderr_has("helm c8dr redeploy --region recreated");
}

#[test]
fn removing_live_brokers_is_refused_with_exit_3() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .code(3)
        .stderr_has("are alive (evidence: /v2/topology)");
    // Region 1 lost, but the operator picked the surviving parity.
    env.lose_region(1);
    env.c8dr_direct(0, "brokers remove --even --yes")
        .code(3)
        .stderr_has("region1")
        .stderr_has("did you mean --odd");
    assert!(
        patches(&env.state()).iter().all(|p| p.contains("dryRun")),
        "nothing was submitted"
    );
}

/// An exporter change waits for every member: sent while the lost region's brokers are still
/// members, it would never complete and would then block the failover's forced removal. The
/// procedure's order (remove the brokers, then disable their exporter) is enforced.
#[test]
fn an_exporter_change_while_lost_brokers_are_members_is_refused_naming_the_removal() {
    let env = TestEnv::start();
    env.lose_region(1);
    for line in [
        "exporters disable camundaregion1 --yes",
        "exporters disable camundaregion0 --yes",
    ] {
        env.c8dr_direct(0, line)
            .code(3)
            .stderr_has("[1, 3, 5, 7] are unreachable")
            .stderr_has("brokers remove --odd");
    }
    assert_eq!(
        count(&env.state(), "POST", "/actuator/exporters/"),
        0,
        "nothing was sent"
    );
    env.c8dr_direct(0, "brokers remove --odd --yes").success();
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success();
}

#[test]
fn a_pending_change_is_reported_instead_of_racing_it() {
    let env = TestEnv::start();
    env.lose_region(1);
    {
        // A change stuck on an unreachable broker (what a non-forced removal of a lost broker does).
        let mut w = env.sim.world().lock();
        let ops = w.zeebe.plan_scale(&[0, 2, 4, 6], 2).expect("plan");
        w.zeebe.start_change(ops, tokio::time::Instant::now());
    }
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .code(3)
        .stderr_has("change 1 is still in progress")
        .stderr_has("kubectl c8dr changes cancel 1");
    env.c8dr_direct(0, "changes show")
        .success()
        .stdout_has("pending change 1");
    env.c8dr_direct(0, "changes cancel 1 --yes")
        .success()
        .stdout_has("cancelled");
    assert_eq!(env.state()["lastChange"]["status"], "CANCELLED");
}

#[test]
fn a_pause_whose_body_says_500_fails_and_is_reverted() {
    let env = TestEnv::start();
    env.lose_region(1); // partitions are missing members: the pause cannot succeed
    env.c8dr_direct(0, "exporting pause --yes")
        .code(1)
        .stderr_has("Expected 4 members of partition")
        // The gateway sent nothing (incomplete topology); the brokers show it: no revert needed.
        .stderr_has("nothing to revert");
    assert_eq!(env.state()["exporting"], "Running");
}

#[test]
fn dry_run_sends_only_the_gateways_own_dry_run() {
    let env = TestEnv::start();
    env.lose_region(1);
    env.c8dr_direct(0, "brokers remove --odd --dry-run=server")
        .success()
        .stdout_has("dry run")
        .stdout_has("BROKER_REMOVE broker 7")
        .output_lacks("BROKER_REMOVE broker 0 ")
        .stdout_has("nothing was changed");
    // Before the removal an exporter change is refused, in a dry run too (it would never
    // complete while the lost brokers are members).
    env.c8dr_direct(0, "exporters disable camundaregion1 --dry-run")
        .code(3)
        .stderr_has("brokers remove --odd");
    let s = env.state();
    assert_eq!(s["members"].as_array().map(Vec::len), Some(8));
    assert!(patches(&s).iter().all(|p| p.contains("dryRun=true")));
    assert!(
        s["requests"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["method"] == "PATCH"))
    );
}

#[test]
fn json_output_is_one_stable_document() {
    let env = TestEnv::start();
    env.lose_region(1);
    let run = env
        .kubectl_c8dr(env.direct_args(0, &["brokers", "remove", "--odd", "--yes", "-o", "json"]))
        .success();
    let doc = run.json();
    assert_eq!(doc["status"], "done");
    assert_eq!(doc["details"]["members"], serde_json::json!([0, 2, 4, 6]));
    assert!(doc["changeId"].as_i64().is_some());
}

#[test]
fn a_mutation_the_gateway_answered_502_is_not_resent_and_reported_not_applied() {
    // The injected 502 comes before the request reaches a broker: nothing was applied.
    let env = TestEnv::start();
    env.sim.world().lock().faults.zeebe_error = Some((502, 1));
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .code(5)
        .stderr_has("was not applied");
    let s = env.state();
    assert_eq!(count(&s, "POST", "/disable"), 1, "sent once: {s:#}");
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
}

#[test]
fn a_forced_removal_whose_answer_is_lost_is_sent_once_and_followed() {
    let env = TestEnv::builder()
        .config(|c| c.gateway_request_timeout = std::time::Duration::from_millis(200))
        .start();
    env.lose_region(1);
    env.sim.world().lock().faults.lose_mutation_answer = 1;
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .success()
        .stderr_has("answer")
        .stdout_has("brokers [1, 3, 5, 7] removed");
    let s = env.state();
    assert_eq!(
        count(&s, "PATCH", "force=true"),
        1,
        "one force request: {s:#}"
    );
    assert_eq!(s["members"], serde_json::json!([0, 2, 4, 6]));
}

#[test]
fn an_exporter_disable_whose_answer_is_lost_is_sent_once_and_followed() {
    let env = TestEnv::builder()
        .config(|c| c.gateway_request_timeout = std::time::Duration::from_millis(200))
        .start();
    env.sim.world().lock().faults.lose_mutation_answer = 1;
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success()
        .stdout_has("camundaregion1 is DISABLED");
    let s = env.state();
    assert_eq!(count(&s, "POST", "/disable"), 1, "sent once: {s:#}");
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn a_second_run_follows_the_first_runs_forced_removal() {
    let env = TestEnv::builder()
        .config(|c| c.operation_duration = std::time::Duration::from_millis(100))
        .start();
    env.lose_region(1);
    {
        // The first run's forced removal, in progress.
        let mut w = env.sim.world().lock();
        let ops = w.zeebe.plan_force_remove(&[1, 3, 5, 7]).expect("plan");
        w.zeebe.start_change(ops, tokio::time::Instant::now());
    }
    env.c8dr_direct(0, "brokers remove --odd --yes")
        .success()
        .stderr_has("change 1")
        .stdout_has("brokers [1, 3, 5, 7] removed");
    let s = env.state();
    assert_eq!(
        count(&s, "PATCH", "force=true"),
        0,
        "no second force request: {s:#}"
    );
    assert_eq!(s["members"], serde_json::json!([0, 2, 4, 6]));
}

#[test]
fn two_concurrent_failover_steps_both_end_well_with_one_change() {
    let mut env = TestEnv::builder()
        .config(|c| c.operation_duration = std::time::Duration::from_millis(60))
        .start();
    env.set_env("C8DR_ASSUME_YES", "1");
    let a = env.command(
        "kubectl",
        ["c8dr", "exporters", "disable", "camundaregion1"]
            .iter()
            .map(Into::into)
            .chain(env.direct_flags(0).into_iter().map(Into::into))
            .collect(),
    );
    let b = env.command(
        "kubectl",
        ["c8dr", "exporters", "disable", "camundaregion1"]
            .iter()
            .map(Into::into)
            .chain(env.direct_flags(0).into_iter().map(Into::into))
            .collect(),
    );
    let ta = std::thread::spawn(move || a.run());
    let tb = std::thread::spawn(move || b.run());
    let ra = ta.join().expect("run a");
    let rb = tb.join().expect("run b");
    ra.success();
    rb.success();
    let s = env.state();
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
    assert_eq!(s["lastChange"]["status"], "COMPLETED");
}

#[test]
fn a_conflicting_change_answered_409_is_not_retried() {
    let env = TestEnv::start();
    env.sim.world().lock().faults.zeebe_error = Some((409, 1));
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .code(1)
        .stderr_has("HTTP 409");
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "exporters disable camundaregion9 --yes")
        .code(2)
        .stderr_has("unknown exporter 'camundaregion9'")
        .stderr_has("camundaregion0, camundaregion1");
    env.c8dr_direct(0, "brokers remove --odd --ids 1 --yes")
        .code(2)
        .stderr_has("mutually exclusive");
    env.c8dr("brokers remove --odd --gateway-url 127.0.0.1:9600")
        .code(2)
        .stderr_has("--gateway-url");
    env.c8dr_direct(0, "exporters list -o xml")
        .code(2)
        .stderr_has("-o xml");
    assert!(
        env.state()["requests"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[test]
fn an_unreachable_gateway_is_exit_5() {
    let env = TestEnv::start();
    let gw = env.gateway_url(1);
    env.lose_region(1);
    env.kubectl_c8dr(["exporters", "list", "--gateway-url", &gw])
        .code(5)
        .stderr_has("cannot reach Zeebe management API");
}

#[test]
fn without_a_terminal_and_without_yes_a_mutation_is_refused() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "exporters disable camundaregion1")
        .code(3)
        .stderr_has("pass --yes");
    let mut env = env;
    env.set_env("C8DR_ASSUME_YES", "1");
    env.c8dr_direct(0, "exporters disable camundaregion1")
        .success();
}

#[test]
fn topology_authenticates_with_oidc_client_credentials() {
    let mut env = TestEnv::start();
    let token_url = format!("{}/oauth/token", env.rest_url(0));
    env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "oidc");
    env.set_env("CAMUNDA_CLIENT_AUTH_CLIENT_ID", "demo");
    env.set_env("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", "demo");
    env.set_env("CAMUNDA_CLIENT_AUTH_TOKEN_URL", token_url);
    let doc = env
        .kubectl_c8dr(env.direct_args(0, &["topology", "-o", "json"]))
        .success()
        .json();
    assert_eq!(doc["clusterSize"], 8);
    assert_eq!(doc["brokers"].as_array().map(Vec::len), Some(8));
    env.set_env("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", "wrong-secret");
    env.c8dr_direct(0, "topology")
        .code(1)
        .stderr_has("OIDC token endpoint answered HTTP 401")
        .output_lacks("wrong-secret");
    // Without credentials the REST API answers 401, and the message says so.
    env.remove_rest_credentials();
    env.c8dr_direct(0, "topology")
        .code(1)
        .stderr_has("HTTP 401");
}

#[test]
fn a_soft_pause_says_how_to_switch_modes_safely() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "exporting pause --soft --yes")
        .success()
        .stderr_has("resume first");
    assert_eq!(env.state()["exporting"], "SoftPaused");
    env.c8dr_direct(0, "exporting resume --yes").success();
    env.c8dr_direct(0, "exporting pause --yes").success();
    let s = env.state();
    assert_eq!(s["exporting"], "Paused");
    assert_eq!(s["pauseFileCorrupted"], false);
}

#[test]
fn already_done_is_judged_by_the_configuration_not_the_lagging_exporter_status() {
    let env = TestEnv::builder()
        .config(|c| c.exporter_status_lag = std::time::Duration::from_secs(30))
        .start();
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes --no-wait")
        .success();
    env.wait_for_state("the disable change completed", |s| {
        s["pendingChange"].is_null() && s["exporters"]["camundaregion1"] == "DISABLED"
    });
    // GET /actuator/exporters still says ENABLED for 30 s.
    let listed = env
        .kubectl_c8dr(env.direct_args(0, &["exporters", "list", "-o", "json"]))
        .success()
        .json();
    assert_eq!(
        listed["exporters"][1]["status"], "ENABLED",
        "the simulator lags as configured"
    );
    let before = env.state()["requests"].as_array().map(Vec::len);
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success()
        .stdout_has("already done");
    assert_eq!(
        env.state()["requests"].as_array().map(Vec::len),
        before,
        "no second disable"
    );
}

/// Region 0 lost: broker 0, the default coordinator, is dead (docs/api-behaviour.md §1 "Routing").
fn region0_lost(mode: c8dr_sim::DeadCoordinator) -> TestEnv {
    let env = TestEnv::builder()
        .surviving(1)
        .config(|c| {
            c.dead_coordinator = mode;
            c.gateway_request_timeout = std::time::Duration::from_millis(300);
        })
        .start();
    env.lose_region(0);
    env
}

fn region0_failover_steps(mode: c8dr_sim::DeadCoordinator) {
    let env = region0_lost(mode);
    env.c8dr_direct(1, "brokers remove --even --dry-run=server")
        .success()
        .stdout_has("BROKER_REMOVE broker 0");
    env.c8dr_direct(1, "brokers remove --even --yes")
        .success()
        .stderr_has("camunda/camunda#63506")
        .stdout_has("brokers [0, 2, 4, 6] removed");
    env.c8dr_direct(1, "exporters disable camundaregion0 --yes")
        .success()
        .stdout_has("camundaregion0 is DISABLED");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([1, 3, 5, 7]));
    assert_eq!(s["exporters"]["camundaregion0"], "DISABLED");
    assert_eq!(count(&s, "PATCH", "force=true"), 1, "{s:#}");
    // A re-run is already done, now that broker 1 coordinates.
    env.c8dr_direct(1, "brokers remove --even --yes")
        .success()
        .stdout_has("already done");
}

#[test]
fn region0_lost_brokers_remove_even_works_when_the_coordinator_fails_fast() {
    region0_failover_steps(c8dr_sim::DeadCoordinator::Fail502);
}

#[test]
fn region0_lost_brokers_remove_even_works_when_the_coordinator_times_out() {
    region0_failover_steps(c8dr_sim::DeadCoordinator::Timeout504);
}

#[test]
fn region0_lost_a_pending_change_that_cannot_be_read_is_said_so() {
    let env = region0_lost(c8dr_sim::DeadCoordinator::Fail502);
    env.c8dr_direct(1, "changes show")
        .code(5)
        .stderr_has("coordinator")
        .stderr_has("63506");
}

#[test]
fn without_rest_credentials_no_broker_is_force_removed() {
    // The repro: the docs' exports without the CAMUNDA_CLIENT_AUTH_* lines, no region lost.
    let mut env = TestEnv::start();
    env.remove_rest_credentials();
    env.c8dr("failover --yes")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD");
    env.c8dr("brokers remove --odd --yes")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_USERNAME");
    let s = env.state();
    assert_eq!(count(&s, "PATCH", ""), 0, "{s:#}");
    assert!(patches(&s).is_empty(), "not even a dry run: {s:#}");
    assert_eq!(s["members"].as_array().map(Vec::len), Some(8));
}

#[test]
fn wrong_rest_credentials_are_named_and_nothing_is_removed() {
    let mut env = TestEnv::start();
    env.lose_region(1);
    env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", "wrong-password");
    env.c8dr("brokers remove --odd --yes")
        .code(3)
        .stderr_has("401")
        .output_lacks("wrong-password");
    assert!(patches(&env.state()).is_empty());
}

#[test]
fn an_unknown_auth_method_or_half_set_credentials_are_bad_input() {
    let mut env = TestEnv::start();
    env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "foo");
    env.c8dr_direct(0, "exporters list")
        .code(2)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD=foo");
    env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "basic");
    env.remove_env("CAMUNDA_CLIENT_AUTH_PASSWORD");
    env.c8dr_direct(0, "exporters list")
        .code(2)
        .stderr_has("CAMUNDA_CLIENT_AUTH_PASSWORD");
    env.remove_env("CAMUNDA_CLIENT_AUTH_METHOD");
    env.c8dr_direct(0, "exporters list")
        .code(2)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD");
}

#[test]
fn disabling_the_last_enabled_exporter_is_refused_unless_allowed() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success();
    env.c8dr_direct(0, "exporters disable camundaregion0 --yes")
        .code(3)
        .stderr_has("no exporter")
        .stderr_has("--allow-no-exporter");
    assert_eq!(env.state()["exporters"]["camundaregion0"], "ENABLED");
    env.c8dr_direct(
        0,
        "exporters disable camundaregion0 --allow-no-exporter --yes",
    )
    .success();
    assert_eq!(env.state()["exporters"]["camundaregion0"], "DISABLED");
}

#[test]
fn disabling_the_surviving_regions_exporter_says_what_it_means() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "exporters disable camundaregion0 --dry-run")
        .success()
        .output_has("surviving region");
}

#[test]
fn a_region_cut_off_by_the_network_is_not_removed_while_its_pods_run() {
    // A split, not a loss: the gateway of region 0 no longer reaches the odd brokers, but
    // region 1's Kubernetes API answers and its broker pods are Ready.
    let env = TestEnv::start();
    env.sim.world().lock().faults.regions_partitioned = true;
    env.c8dr("brokers remove --odd --yes")
        .code(3)
        .stderr_has("are alive (evidence: Ready broker pods)");
    env.c8dr("failover --yes").code(3);
    let s = env.state();
    assert_eq!(count(&s, "PATCH", "force=true"), 0, "{s:#}");
    assert_eq!(s["members"].as_array().map(Vec::len), Some(8));
    // And status does not call it healthy (attack A9): it names the split, suggests nothing.
    let doc = env.c8dr("status -o json").success().json();
    assert_eq!(doc["procedure"]["phase"], "unknown", "{doc}");
    assert!(doc["procedure"]["next"].is_null(), "{doc}");
    env.c8dr("status")
        .stdout_has("network split")
        .stdout_lacks("healthy: no action");
}

#[test]
fn region0_lost_a_forced_removal_whose_fate_cannot_be_read_is_not_resent() {
    // The 504 comes before the request reaches a broker (not applied), and with the coordinator
    // lost nothing can tell: c8dr follows /v2/topology until its timeout and never resends.
    let env = region0_lost(c8dr_sim::DeadCoordinator::Fail502);
    env.sim.world().lock().faults.zeebe_error = Some((504, 1));
    env.c8dr_direct(1, "brokers remove --even --yes --timeout 2s")
        .code(4)
        .stderr_has("NOT sent again")
        .stderr_has("do not send the request again blindly");
    let s = env.state();
    assert_eq!(count(&s, "PATCH", "force=true"), 1, "{s:#}");
    assert_eq!(s["members"].as_array().map(Vec::len), Some(8));
}

#[test]
fn an_unreachable_rest_api_is_named_and_nothing_is_removed() {
    let env = TestEnv::start();
    env.lose_region(1);
    // A closed port where the v2 REST API should answer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    env.kubectl_c8dr([
        "brokers",
        "remove",
        "--odd",
        "--yes",
        "--gateway-url",
        &env.gateway_url(0),
        "--rest-url",
        &format!("http://127.0.0.1:{closed}"),
    ])
    .code(3)
    .stderr_has("/v2/topology could not be reached");
    assert!(patches(&env.state()).is_empty());
}

#[test]
fn a_missing_gateway_service_names_the_release_and_namespace_tried_and_how_to_change_them() {
    let env = TestEnv::start();
    env.c8dr("topology --release other")
        .code(1)
        .stderr_has("other-zeebe-gateway")
        .stderr_has("camunda-region0")
        .stderr_has("--release or CAMUNDA_RELEASE_NAME")
        .stderr_has("-n/--namespace");
}

/// Issue 19 item 9: a replication factor above the cluster size after the add is bad input in
/// `brokers add` too, before any call to the gateway's PATCH.
#[test]
fn a_replication_factor_above_the_cluster_size_is_exit_2_before_any_patch() {
    let env = TestEnv::start();
    env.c8dr_direct(0, "brokers add --odd --replication-factor 100 --yes")
        .code(2)
        .stderr_has("--replication-factor 100")
        .stderr_has("8 brokers");
    assert!(patches(&env.state()).is_empty(), "no PATCH at all");
}

/// Attack A3: a run killed after its forced removal was sent, with the coordinator lost: the
/// cluster read cannot show the change and the gateway refuses another (409). A re-run follows
/// it to its end instead of failing with a raw 409 until it completes.
#[test]
fn region0_lost_a_rerun_after_a_killed_removal_follows_the_change_it_cannot_see() {
    let env = TestEnv::builder()
        .surviving(1)
        .config(|c| {
            c.dead_coordinator = c8dr_sim::DeadCoordinator::Fail502;
            c.gateway_request_timeout = std::time::Duration::from_millis(300);
            c.operation_duration = std::time::Duration::from_millis(400);
        })
        .start();
    env.lose_region(0);
    let args = env
        .direct_args(1, &["brokers", "remove", "--even", "--yes"])
        .into_iter()
        .map(Into::into)
        .collect();
    let (mut child, _) = env.command("kubectl-c8dr", args).spawn_piped();
    env.wait_for_state("the forced removal running", |s| {
        !s["pendingChange"].is_null()
    });
    let _ = child.kill();
    let _ = child.wait();
    env.c8dr_direct(1, "brokers remove --even --yes")
        .success()
        .stderr_has("another change is in progress (409)")
        .stdout_has("brokers [0, 2, 4, 6] removed");
    let s = env.state();
    assert_eq!(count(&s, "PATCH", "force=true"), 1, "sent once: {s:#}");
}
