//! `kubectl c8dr rebalance`: after a failback every partition leader sits in the surviving region
//! (Zeebe does not move leaders back by itself, camunda/camunda#40036); status says so and the
//! rebalance spreads them — through `POST /actuator/rebalance` on 8.8/8.9, through 8.10's
//! coordinated `/cluster/v2/rebalance` — with the guarantees of every other mutation: dry run
//! sends nothing, a re-run is already done, a pending change refuses.

use c8dr_e2e::TestEnv;

/// A failback on `release`: the whole procedure (failover, the helm steps, `failback`, the final
/// redeploy).
fn failed_back(release: &str) -> TestEnv {
    let env = TestEnv::builder()
        .camunda(release)
        .start()
        .scripted()
        .failed_over_and_recreated()
        .helm_failback_steps();
    env.c8dr("failback --replication-factor 4").success();
    env.helm("redeploy --region both").success();
    env
}

/// Leaders per region in `kubectl c8dr topology -o json`.
fn leaders(env: &TestEnv) -> [u32; 2] {
    let t = env.c8dr("topology -o json").success().json();
    let mut out = [0, 0];
    for b in t["brokers"].as_array().into_iter().flatten() {
        let id = b["nodeId"].as_u64().unwrap_or(0) as usize;
        for p in b["partitions"].as_array().into_iter().flatten() {
            if p["role"] == "leader" {
                out[id % 2] += 1;
            }
        }
    }
    out
}

/// Rebalance requests that took effect in the simulator.
fn applied(env: &TestEnv) -> usize {
    env.state()["applied"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("rebalance")))
                .count()
        })
        .unwrap_or(0)
}

fn spreads_the_leaders_after_a_failback(release: &str, call: &str) {
    let env = failed_back(release);
    assert_eq!(
        leaders(&env),
        [8, 0],
        "{release}: a failback leaves them all in region0"
    );
    env.c8dr("status")
        .success()
        .stdout_has("leaders: region0 8, region1 0 of 8 partitions")
        .stdout_has("kubectl c8dr rebalance");
    let doc = env.c8dr("status -o json").success().json();
    assert_eq!(doc["cluster"]["leaders"]["region0"], 8, "{release}");
    // Scripts reading the document learn the suggestion too (attack D12).
    assert!(
        doc["notes"].as_array().into_iter().flatten().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("spread the leaders with kubectl c8dr rebalance"))),
        "{release}: {doc}"
    );

    env.c8dr("rebalance --dry-run")
        .success()
        .stdout_has("dry run")
        .stdout_has(call);
    assert_eq!(applied(&env), 0, "{release}: a dry run sends nothing");

    let out = env.c8dr("rebalance --yes -o json").success().json();
    assert_eq!(out["status"], "done", "{release}: {out}");
    assert_eq!(out["details"]["after"]["region1"], 4, "{release}: {out}");
    assert_eq!(applied(&env), 1, "{release}: sent once");
    assert_eq!(leaders(&env), [4, 4], "{release}");
    env.c8dr("status")
        .success()
        .stdout_has("leaders: region0 4, region1 4 of 8 partitions")
        .stdout_lacks("kubectl c8dr rebalance");

    env.c8dr("rebalance --yes")
        .success()
        .stdout_has("already done");
    assert_eq!(applied(&env), 1, "{release}: a re-run sends nothing");
}

#[test]
fn rebalance_spreads_the_leaders_through_the_management_endpoint_on_8_8() {
    spreads_the_leaders_after_a_failback("8.8", "POST /actuator/rebalance");
}

#[test]
fn rebalance_spreads_the_leaders_through_the_coordinated_rebalance_on_8_10() {
    spreads_the_leaders_after_a_failback("8.10", "POST /cluster/v2/rebalance");
}

#[test]
fn the_8_10_server_dry_run_shows_the_gateways_plan_and_moves_nothing() {
    let env = failed_back("8.10");
    env.c8dr("rebalance --dry-run=server")
        .success()
        .stdout_has("the gateway's dry run")
        .stdout_has("partition 2: leader");
    assert_eq!(applied(&env), 0);
    assert_eq!(leaders(&env), [8, 0]);
}

#[test]
fn a_pending_change_or_missing_credentials_refuse_before_anything_is_sent() {
    let mut env = TestEnv::start().scripted();
    env.lose_region(1);
    {
        // A change stuck on an unreachable broker (what a non-forced removal of a lost broker
        // does): it stays pending.
        let mut w = env.sim.world().lock();
        let ops = w.zeebe.plan_scale(&[0, 2, 4, 6], 2).expect("plan");
        w.zeebe.start_change(ops, tokio::time::Instant::now());
    }
    env.c8dr("rebalance --yes")
        .code(3)
        .stderr_has("is in progress");
    env.remove_rest_credentials();
    env.c8dr("rebalance --yes")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_");
    assert_eq!(applied(&env), 0);
}

#[test]
fn a_region_without_member_brokers_refuses() {
    let env = TestEnv::start().scripted().failed_over_and_recreated();
    env.c8dr("rebalance --yes")
        .code(3)
        .stderr_has("region1 has no member brokers");
    assert_eq!(applied(&env), 0);
}

#[test]
fn leaders_that_cannot_move_end_in_a_timeout_naming_what_was_awaited() {
    let env = failed_back("8.9");
    // Leaders take longer to move than the command may wait (a slow election: the management
    // endpoint gives no feedback to say so). A stopped primary is refused before anything is
    // sent instead (`a_rebalance_with_unreachable_members_is_refused_before_anything_is_sent`).
    env.sim.world().lock().cfg.operation_duration = std::time::Duration::from_secs(30);
    env.c8dr("rebalance --yes --timeout 1s")
        .code(4)
        .stderr_has("every partition to be led by its primary");
    assert_eq!(applied(&env), 1, "sent once, never again");
}

/// A member the gateway cannot reach (a lost region before its failover) cannot lead: the
/// rebalance is refused before anything is sent, dry run included.
#[test]
fn a_rebalance_with_unreachable_members_is_refused_before_anything_is_sent() {
    for release in ["8.8", "8.10"] {
        let env = TestEnv::builder().camunda(release).start().scripted();
        env.lose_region(1);
        for line in ["rebalance --yes", "rebalance --dry-run"] {
            env.c8dr(line)
                .code(3)
                .stderr_has("unreachable")
                .stderr_has("fail over first");
        }
        assert_eq!(applied(&env), 0, "{release}");
    }
}

/// Attack D12: when the credentials may not rebalance (8.10's cluster-admin set), status does not
/// suggest a rebalance that would be refused; it says why instead.
#[test]
fn status_does_not_suggest_a_rebalance_the_credentials_may_not_run() {
    let env = failed_back("8.10");
    env.sim.shared.world.lock().cfg.rebalance_forbidden = true;
    env.c8dr("status")
        .success()
        .stdout_has("kubectl c8dr rebalance would spread the leaders but would be refused now")
        .stdout_has("HTTP 403")
        .stdout_lacks("spread the leaders with kubectl c8dr rebalance");
    env.c8dr("rebalance --yes").code(3).stderr_has("HTTP 403");
}
