//! Exporting pause observed on the brokers, not assumed (issue 9 item 4): every broker pod's own
//! `GET /actuator/partitions` (docs/api-behaviour.md §3) verifies a pause, detects a soft pause before a hard one,
//! and feeds `status`.

use c8dr_e2e::TestEnv;
use serde_json::Value;

fn pauses(state: &Value) -> usize {
    state["requests"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|r| {
                    r["method"] == "POST"
                        && r["path"]
                            .as_str()
                            .is_some_and(|p| p.starts_with("/actuator/exporting/pause"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_hard_pause_over_a_soft_pause_is_refused_with_the_way_out() {
    let env = TestEnv::start();
    env.c8dr("exporting pause --soft --yes").success();
    env.c8dr("exporting pause --yes")
        .code(3)
        .stderr_has("soft-paused")
        .stderr_has("kubectl c8dr exporting resume");
    let s = env.state();
    assert_eq!(s["exporting"], "SoftPaused", "the soft pause is left alone");
    assert_eq!(
        s["pauseFileCorrupted"], false,
        "camunda#55838 not triggered"
    );
    assert_eq!(pauses(&s), 1, "the hard pause was never sent");
}

#[test]
fn a_pause_is_verified_on_every_broker_and_not_sent_twice() {
    let env = TestEnv::start();
    env.c8dr("exporting pause --yes")
        .success()
        .stdout_has("verified: 32 partition replicas on 8 brokers show PAUSED");
    let s = env.state();
    assert_eq!(s["exporting"], "Paused");
    // Already paused: observed, reported, not sent again.
    env.c8dr("exporting pause --yes")
        .success()
        .stdout_has("already done");
    assert_eq!(pauses(&env.state()), 1);
    env.c8dr("exporting resume --yes")
        .success()
        .stdout_has("show EXPORTING");
    assert_eq!(env.state()["exporting"], "Running");
}

#[test]
fn a_partial_pause_is_retried_until_every_partition_shows_it() {
    let env = TestEnv::start();
    // The broadcast fails at partition 5: partitions 1-4 are paused, 5-8 are not.
    env.sim.world().lock().faults.exporting_fails_at_partition = Some(5);
    env.c8dr("exporting pause --yes")
        .success()
        .stderr_has("pause attempt 1 failed")
        .stdout_has("verified");
    let s = env.state();
    assert_eq!(s["exporting"], "Paused", "{:#}", s["exportingByBroker"]);
}

#[test]
fn status_shows_the_pause_per_region_and_the_exporting_lag() {
    let env = TestEnv::start();
    env.c8dr("status")
        .success()
        .stdout_has("exporting:       EXPORTING on 16 partition replicas (4 brokers)");
    env.c8dr("exporting pause --yes").success();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = env.c8dr("status").success();
    assert_eq!(
        out.stdout
            .matches("exporting:       PAUSED on 16 partition replicas (4 brokers)\n  exporting lag:   at most ")
            .count(),
        2,
        "both regions show the pause\n{}",
        out.stdout
    );
    let json = env.c8dr("status -o json").success().json();
    let lag = json["regions"][0]["exporting"]["maxLag"]
        .as_i64()
        .unwrap_or(0);
    assert!(
        lag > 0,
        "processing went on while exporting is paused: {json:#}"
    );
}

#[test]
fn es_copy_reads_the_pause_on_the_brokers_instead_of_trusting_the_flag() {
    let mut env = TestEnv::start();
    env.set_env("S3_BUCKET_NAME", "camunda-bucket");
    env.lose_region(1);
    env.c8dr("failover --yes").success();
    env.recreate_region(1);
    env.apply_release(
        1,
        serde_json::json!({"orchestration": {"env": [
            {"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}]}}),
    );
    let copy = "es copy --from surviving --to recreated --yes";
    // The flag says paused, the brokers say exporting: refused.
    env.c8dr(&format!("{copy} --exporting-paused"))
        .code(3)
        .stderr_has("exporting is not paused");
    assert!(
        env.state()["regions"][1]["esIndices"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        "nothing restored"
    );
    // Paused: no flag needed.
    env.c8dr("exporting pause --yes").success();
    env.c8dr(copy).success().stdout_has("done:");
}

#[test]
fn each_broker_pod_answers_for_its_own_partitions() {
    let env = TestEnv::start();
    let out = env
        .kubectl_c8dr(["exporting", "pause", "--yes", "-o", "json"])
        .success()
        .json();
    let region0 = &out["details"]["regions"][0]["brokers"];
    // Round-robin over 8 brokers, 8 partitions, RF 4: node 2 (pod camunda-zeebe-1 of region 0)
    // holds partitions 1, 2, 3 and 8; node 6 (camunda-zeebe-3) holds 4, 5, 6 and 7.
    let partitions = |pod: &str| -> Vec<u64> {
        region0
            .as_array()
            .and_then(|b| b.iter().find(|b| b["pod"] == pod))
            .and_then(|b| b["partitions"].as_array())
            .map(|p| p.iter().filter_map(|p| p["partitionId"].as_u64()).collect())
            .unwrap_or_default()
    };
    assert_eq!(partitions("camunda-zeebe-1"), vec![1, 2, 3, 8], "{out:#}");
    assert_eq!(partitions("camunda-zeebe-3"), vec![4, 5, 6, 7], "{out:#}");
}

/// Issue 19 item 7: the brokers applied the pause, the connection dropped before its answer.
/// Read on the brokers: it took, exit 0, said, and sent once.
#[test]
fn a_pause_whose_answer_is_dropped_is_read_on_the_brokers_and_exits_0() {
    let env = TestEnv::start();
    env.sim.world().lock().faults.drop_mutation_answer = 1;
    env.c8dr("exporting pause --yes")
        .success()
        .stdout_has("verified: 32 partition replicas on 8 brokers show PAUSED")
        .stdout_has("the answer to the pause was lost");
    let s = env.state();
    assert_eq!(s["exporting"], "Paused");
    assert_eq!(pauses(&s), 1, "sent once");
}

/// Issue 19 item 16a: a member broker whose own partition query times out answers `{}`; with
/// it, a pause cannot be verified: not done (attack D3), exit 1, reverted with a resume.
#[test]
fn a_member_that_answers_no_partitions_leaves_the_pause_unverified() {
    let env = TestEnv::start();
    env.sim
        .world()
        .lock()
        .faults
        .partitions_query_times_out
        .insert(5);
    env.c8dr("exporting pause --yes")
        .code(1)
        .stderr_has("could not be verified on every member broker")
        .stderr_has("member brokers [5]")
        .stderr_has("exporting was resumed");
    assert_eq!(env.state()["exporting"], "Running");
}
