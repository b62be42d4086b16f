//! The Zeebe half of failover and failback, through the real kubectl, in direct mode
//! (`--gateway-url`/`--rest-url`), verified on the simulator's state.

use c8dr_e2e::TestEnv;
use serde_json::Value;

/// The global flags that point kubectl c8dr at region `r`'s gateway directly.
fn direct(env: &TestEnv, r: usize) -> Vec<String> {
    vec![
        "--gateway-url".into(),
        env.gateway_url(r),
        "--rest-url".into(),
        env.rest_url(r),
    ]
}

fn args(env: &TestEnv, r: usize, cmd: &[&str]) -> Vec<String> {
    cmd.iter()
        .map(|s| s.to_string())
        .chain(direct(env, r))
        .collect()
}

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
    env.kubectl_c8dr(args(env, 0, &["brokers", "remove", "--odd", "--yes"]))
        .success()
        .stdout_has("brokers [1, 3, 5, 7] removed");
    env.kubectl_c8dr(args(
        env,
        0,
        &["exporters", "disable", "camundaregion1", "--yes"],
    ))
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
    env.kubectl_c8dr(args(&env, 0, &["brokers", "remove", "--odd", "--yes"]))
        .success()
        .stdout_has("already done");
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion1", "--yes"],
    ))
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

    env.kubectl_c8dr(args(&env, 0, &["exporting", "pause", "--yes"]))
        .success()
        .stdout_has("paused");
    assert_eq!(env.state()["exporting"], "Paused");

    env.kubectl_c8dr(args(
        &env,
        0,
        &[
            "exporters",
            "enable",
            "camundaregion1",
            "--initialize-from",
            "camundaregion0",
            "--yes",
        ],
    ))
    .success()
    .stdout_has("camundaregion1 is ENABLED");
    let s = env.state();
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
    assert_eq!(s["initializedFrom"]["camundaregion1"], "camundaregion0");

    env.kubectl_c8dr(args(&env, 0, &["exporting", "resume", "--yes"]))
        .success();
    assert_eq!(env.state()["exporting"], "Running");

    env.kubectl_c8dr(args(
        &env,
        0,
        &[
            "brokers",
            "add",
            "--odd",
            "--replication-factor",
            "4",
            "--yes",
        ],
    ))
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
    env.kubectl_c8dr(args(&env, 0, &["brokers", "add", "--odd", "--yes"]))
        .success()
        .stdout_has("already done");
}

#[test]
fn readding_without_a_stated_factor_restores_twice_the_lowered_one_and_says_so() {
    let env = TestEnv::start();
    failover(&env);
    env.recreate_region(1);
    c8dr_sim::helm::apply_release(&mut env.sim.world().lock(), 1, Value::Null);
    env.kubectl_c8dr(args(&env, 0, &["brokers", "add", "--odd", "--yes"]))
        .success()
        .stderr_has("twice the current factor");
    assert_eq!(env.state()["replicationFactor"], 4);
}

#[test]
fn readding_brokers_that_do_not_run_yet_is_refused() {
    let env = TestEnv::start();
    failover(&env);
    env.recreate_region(1); // no release installed: the brokers do not run
    env.kubectl_c8dr(args(&env, 0, &["brokers", "add", "--odd", "--yes"]))
        .code(3)
        .stderr_has("not running")
        .stderr_has("helm c8dr redeploy --region recreated");
}

#[test]
fn removing_live_brokers_is_refused_with_exit_3() {
    let env = TestEnv::start();
    env.kubectl_c8dr(args(&env, 0, &["brokers", "remove", "--odd", "--yes"]))
        .code(3)
        .stderr_has("are alive (evidence: /v2/topology)");
    // Region 1 lost, but the operator picked the surviving parity.
    env.lose_region(1);
    env.kubectl_c8dr(args(&env, 0, &["brokers", "remove", "--even", "--yes"]))
        .code(3)
        .stderr_has("region1")
        .stderr_has("did you mean --odd");
    assert!(
        patches(&env.state()).iter().all(|p| p.contains("dryRun")),
        "nothing was submitted"
    );
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
    env.kubectl_c8dr(args(&env, 0, &["brokers", "remove", "--odd", "--yes"]))
        .code(3)
        .stderr_has("change 1 is still in progress")
        .stderr_has("kubectl c8dr changes cancel 1");
    env.kubectl_c8dr(args(&env, 0, &["changes", "show"]))
        .success()
        .stdout_has("pending change 1");
    env.kubectl_c8dr(args(&env, 0, &["changes", "cancel", "1", "--yes"]))
        .success()
        .stdout_has("cancelled");
    assert_eq!(env.state()["lastChange"]["status"], "CANCELLED");
}

#[test]
fn a_pause_whose_body_says_500_fails_and_is_reverted() {
    let env = TestEnv::start();
    env.lose_region(1); // partitions are missing members: the pause cannot succeed
    env.kubectl_c8dr(args(&env, 0, &["exporting", "pause", "--yes"]))
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
    env.kubectl_c8dr(args(&env, 0, &["brokers", "remove", "--odd", "--dry-run"]))
        .success()
        .stdout_has("dry run")
        .stdout_has("BROKER_REMOVE broker 7")
        .stdout_has("nothing was changed");
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion1", "--dry-run"],
    ))
    .success()
    .stdout_has("POST /actuator/exporters/camundaregion1/disable");
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
        .kubectl_c8dr(args(
            &env,
            0,
            &["brokers", "remove", "--odd", "--yes", "-o", "json"],
        ))
        .success();
    let doc = run.json();
    assert_eq!(doc["status"], "done");
    assert_eq!(doc["details"]["members"], serde_json::json!([0, 2, 4, 6]));
    assert!(doc["changeId"].as_i64().is_some());
}

#[test]
fn transient_gateway_errors_are_retried() {
    let env = TestEnv::start();
    env.sim.world().lock().faults.zeebe_error = Some((502, 2));
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion1", "--yes"],
    ))
    .success();
    assert_eq!(env.state()["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn a_conflicting_change_answered_409_is_not_retried() {
    let env = TestEnv::start();
    env.sim.world().lock().faults.zeebe_error = Some((409, 1));
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion1", "--yes"],
    ))
    .code(1)
    .stderr_has("HTTP 409");
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    let env = TestEnv::start();
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion9", "--yes"],
    ))
    .code(2)
    .stderr_has("unknown exporter 'camundaregion9'")
    .stderr_has("camundaregion0, camundaregion1");
    env.kubectl_c8dr(args(
        &env,
        0,
        &["brokers", "remove", "--odd", "--ids", "1", "--yes"],
    ))
    .code(2)
    .stderr_has("mutually exclusive");
    env.kubectl_c8dr([
        "brokers",
        "remove",
        "--odd",
        "--gateway-url",
        "127.0.0.1:9600",
    ])
    .code(2)
    .stderr_has("--gateway-url");
    env.kubectl_c8dr(args(&env, 0, &["exporters", "list", "-o", "xml"]))
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
    env.kubectl_c8dr(args(&env, 0, &["exporters", "disable", "camundaregion1"]))
        .code(3)
        .stderr_has("pass --yes");
    let mut env = env;
    env.set_env("C8DR_ASSUME_YES", "1");
    env.kubectl_c8dr(args(&env, 0, &["exporters", "disable", "camundaregion1"]))
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
        .kubectl_c8dr(args(&env, 0, &["topology", "-o", "json"]))
        .success()
        .json();
    assert_eq!(doc["clusterSize"], 8);
    assert_eq!(doc["brokers"].as_array().map(Vec::len), Some(8));
    env.set_env("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", "wrong-secret");
    env.kubectl_c8dr(args(&env, 0, &["topology"]))
        .code(1)
        .stderr_has("OIDC token endpoint answered HTTP 401")
        .output_lacks("wrong-secret");
    // Without credentials the REST API answers 401, and the message says so.
    env.remove_env("CAMUNDA_CLIENT_AUTH_METHOD");
    env.kubectl_c8dr(args(&env, 0, &["topology"]))
        .code(1)
        .stderr_has("HTTP 401");
}

#[test]
fn a_soft_pause_says_how_to_switch_modes_safely() {
    let env = TestEnv::start();
    env.kubectl_c8dr(args(&env, 0, &["exporting", "pause", "--soft", "--yes"]))
        .success()
        .stderr_has("resume first");
    assert_eq!(env.state()["exporting"], "SoftPaused");
    env.kubectl_c8dr(args(&env, 0, &["exporting", "resume", "--yes"]))
        .success();
    env.kubectl_c8dr(args(&env, 0, &["exporting", "pause", "--yes"]))
        .success();
    let s = env.state();
    assert_eq!(s["exporting"], "Paused");
    assert_eq!(s["pauseFileCorrupted"], false);
}

#[test]
fn already_done_is_judged_by_the_configuration_not_the_lagging_exporter_status() {
    let env = TestEnv::builder()
        .config(|c| c.exporter_status_lag = std::time::Duration::from_secs(30))
        .start();
    env.kubectl_c8dr(args(
        &env,
        0,
        &[
            "exporters",
            "disable",
            "camundaregion1",
            "--yes",
            "--no-wait",
        ],
    ))
    .success();
    env.wait_for_state("the disable change completed", |s| {
        s["pendingChange"].is_null() && s["exporters"]["camundaregion1"] == "DISABLED"
    });
    // GET /actuator/exporters still says ENABLED for 30 s.
    let listed = env
        .kubectl_c8dr(args(&env, 0, &["exporters", "list", "-o", "json"]))
        .success()
        .json();
    assert_eq!(
        listed["exporters"][1]["status"], "ENABLED",
        "the simulator lags as configured"
    );
    let before = env.state()["requests"].as_array().map(Vec::len);
    env.kubectl_c8dr(args(
        &env,
        0,
        &["exporters", "disable", "camundaregion1", "--yes"],
    ))
    .success()
    .stdout_has("already done");
    assert_eq!(
        env.state()["requests"].as_array().map(Vec::len),
        before,
        "no second disable"
    );
}
