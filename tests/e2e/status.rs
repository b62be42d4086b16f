//! `kubectl c8dr status` and `kubectl c8dr profiles` end to end, through port-forwards (no
//! `--gateway-url` anywhere): status names the right step at every point of the procedure,
//! driven with the real commands.

use c8dr_e2e::{Run, TestEnv};

/// A simulator with the docs' EKS values layout in the working directory (for helm c8dr).
fn setup() -> TestEnv {
    TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start()
}

/// `status` succeeds and its phase line is `line`.
fn status_says(env: &TestEnv, line: &str) -> Run {
    env.c8dr("status").success().stdout_has(line)
}

#[test]
fn status_names_each_step_of_the_procedure() {
    let env = setup();
    // The first line sums it up; a healthy installation names no lost region.
    status_says(&env, "status: healthy: no action\n")
        .stdout_lacks("looks lost")
        .stdout_lacks("being rebuilt");

    env.lose_region(1);
    let out = status_says(
        &env,
        "failover step 1 of 2: next: kubectl c8dr brokers remove --odd",
    )
    .stdout_has("looks lost: region1")
    .stdout_has("or every remaining kubectl step of the failover at once: kubectl c8dr failover");
    assert!(
        out.stdout.starts_with(
            "status: failover step 1 of 2: next: kubectl c8dr brokers remove --odd (region1 lost)\n"
        ),
        "{}",
        out.stdout
    );
    env.c8dr("brokers remove --odd --yes").success();

    status_says(
        &env,
        "failover step 2 of 2: next: kubectl c8dr exporters disable camundaregion1",
    );
    env.c8dr("exporters disable camundaregion1 --yes").success();

    status_says(
        &env,
        "failed over: waiting for the lost region to be recreated; next: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
    );

    env.recreate_region(1);
    status_says(
        &env,
        "failback step 1 of 8: next: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
    );
    env.helm("redeploy --region recreated --no-webapps --no-schema-manager --yes")
        .success();

    status_says(
        &env,
        "failback step 2 of 8: next: helm c8dr redeploy --region surviving --no-webapps",
    )
    .stdout_has("schema manager:  off: CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false\n")
    // Before the webapps go off: the driver's pre-copy (issue 14).
    .stdout_has("first, webapps still on: kubectl c8dr failback takes the Elasticsearch pre-copy");
    env.helm("redeploy --region surviving --no-webapps --yes")
        .success();

    // Exporting runs, as every broker reports (GET /actuator/partitions): failback 3.
    status_says(
        &env,
        "failback step 3 of 8: next: kubectl c8dr exporting pause\n",
    )
    .stdout_lacks("SPEC")
    // The region is back: it is being rebuilt, not lost; the driver would continue from here.
    .stdout_has("being rebuilt: region1")
    .stdout_lacks("looks lost")
    .stdout_has("or every remaining kubectl step of the failback at once: kubectl c8dr failback");
    env.c8dr("exporting pause --yes").success();
    // Paused on every replica: failback 4, and nothing cites the specification (issue 19
    // item 10).
    status_says(
        &env,
        "failback step 4 of 8: next: kubectl c8dr es copy --from surviving --to recreated",
    )
    .stdout_lacks("SPEC")
    .stdout_lacks("next: kubectl c8dr exporting pause");
    // Failback 4 (the ES copy) is not on this branch: the restore's result, set directly.
    {
        let mut w = env.sim.world().lock();
        w.regions[1].es = c8dr_sim::es::EsCluster::seeded();
    }

    status_says(
        &env,
        "failback step 5 of 8: next: kubectl c8dr exporters enable camundaregion1 --initialize-from camundaregion0",
    );
    env.c8dr("exporters enable camundaregion1 --initialize-from camundaregion0 --yes")
        .success();

    status_says(
        &env,
        "failback step 6 of 8: next: kubectl c8dr exporting resume\n",
    );
    env.c8dr("exporting resume --yes").success();
    status_says(
        &env,
        "failback step 7 of 8: next: kubectl c8dr brokers add --odd --replication-factor 4",
    );
    env.c8dr("brokers add --odd --replication-factor 4 --yes")
        .success();

    status_says(
        &env,
        "failback step 8 of 8: next: helm c8dr redeploy --region both",
    );
    env.helm("redeploy --region both --yes").success();

    status_says(&env, "healthy: no action");
}

#[test]
fn an_unreachable_region_is_shown_and_the_other_still_reported() {
    let env = TestEnv::start();
    env.lose_region(1);
    let run = env
        .kubectl_c8dr(["status"])
        .success()
        .stdout_has("region1 (recreated): UNREACHABLE\n  context:         c8dr-sim-region1\n")
        .stdout_has(
            "region0 (surviving): reachable\n  context:         c8dr-sim-region0\n  namespace:       camunda-region0\n",
        )
        .stdout_has("cluster (from region0's gateway, v2-topology view): 8 members")
        .stdout_has("exporters: camundaregion0 ENABLED, camundaregion1 ENABLED");
    // The lost brokers are members but not reachable.
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("1 "))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(
        row.get(1..4),
        Some(&["region1", "yes", "no"][..]),
        "{}",
        run.stdout
    );

    // With --region recreated (the lost one), the surviving region is still reported.
    env.c8dr("status --region recreated")
        .success()
        .stdout_has("failover step 1 of 2");

    env.lose_region(0);
    env.c8dr("status")
        .code(5)
        .stdout_has("procedure step unknown")
        .stderr_has("neither region");
}

#[test]
fn json_output_is_one_stable_document() {
    let env = TestEnv::start();
    env.lose_region(1);
    let v = env.c8dr("status -o json").success().json();
    let regions = v["regions"].as_array().expect("regions");
    assert_eq!(regions.len(), 2, "{v:#}");
    assert_eq!(regions[0]["region"], "region0");
    assert_eq!(regions[0]["reachable"], true);
    assert_eq!(regions[0]["installed"], true);
    assert_eq!(
        regions[0]["profiles"]["active"],
        serde_json::json!([
            "broker",
            "consolidated-auth",
            "identity",
            "operate",
            "tasklist"
        ])
    );
    assert_eq!(regions[0]["profiles"]["matches"], "full");
    assert_eq!(regions[0]["schemaManagerDisabled"], false);
    assert_eq!(regions[0]["elasticsearch"]["health"], "green");
    assert_eq!(regions[1]["reachable"], false);
    assert!(
        regions[1]["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    assert_eq!(
        v["cluster"]["members"],
        serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
    );
    assert_eq!(v["cluster"]["replicationFactor"], 4);
    assert_eq!(v["cluster"]["configuredReplicationFactor"], 4);
    // Half of every partition's replicas are gone: no quorum until the failover.
    assert_eq!(
        v["cluster"]["brokers"][0]["partitions"][0]["health"],
        "unhealthy"
    );
    assert_eq!(v["cluster"]["brokers"][1]["reachable"], false);
    // One phase and one lost region in the document: the procedure's (docs/output.md).
    assert_eq!(v["kind"], "Status");
    assert!(v.get("lostRegion").is_none(), "{v:#}");
    assert_eq!(v["procedure"]["phase"], "failover");
    assert_eq!(v["procedure"]["lostRegion"], "region1");
    assert_eq!(v["procedure"]["steps"], serde_json::json!([1]));
    assert_eq!(v["procedure"]["stepsTotal"], 2);
    assert_eq!(v["procedure"]["next"], "kubectl c8dr brokers remove --odd");
    assert_eq!(
        v["summary"],
        "failover step 1 of 2: next: kubectl c8dr brokers remove --odd"
    );
}

#[test]
fn a_pending_change_is_named_with_the_way_to_wait_for_it() {
    let env = TestEnv::builder()
        .config(|c| c.operation_duration = std::time::Duration::from_secs(30))
        .start();
    env.lose_region(1);
    env.c8dr("brokers remove --odd --yes --no-wait").success();
    let id = env.state()["pendingChange"]
        .as_i64()
        .expect("a pending change");
    env.c8dr("status")
        .success()
        .stdout_has(&format!(
            "a topology change is in progress: next: kubectl c8dr changes wait {id}"
        ))
        .stdout_has(&format!("pending change: {id} ("));
}

#[test]
fn profiles_are_compared_as_a_set_with_the_expected_ones() {
    let env = setup();
    env.c8dr("profiles").success().stdout_has("matches");
    env.c8dr("profiles --expect-no-webapps")
        .code(1)
        .stdout_has("DIFFERS")
        .stdout_has("extra:    operate,tasklist")
        .stderr_has("differ from the expected broker,consolidated-auth,identity");
    let v = env
        .kubectl_c8dr(["profiles", "--logs", "-o", "json"])
        .success()
        .json();
    let logs = v["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 4, "{v:#}");
    assert!(logs.iter().all(|l| l["matches"] == true), "{v:#}");

    env.helm("redeploy --region surviving --no-webapps --yes")
        .success();
    env.c8dr("profiles --expect-no-webapps --logs")
        .success()
        .stdout_has("active:   broker,consolidated-auth,identity");
    env.c8dr("profiles --region region1").success();
}

#[test]
fn region0_lost_is_named_with_the_even_parity_and_its_exporter() {
    // The docs' variables name region1 as the surviving region.
    let env = TestEnv::builder().surviving(1).start();
    env.lose_region(0);
    status_says(
        &env,
        "failover step 1 of 2: next: kubectl c8dr brokers remove --even",
    )
    .stdout_has("region0 (recreated): UNREACHABLE\n  context:         c8dr-sim-region0\n")
    .stdout_has("looks lost: region0");
    env.c8dr("brokers remove --even --yes").success();
    status_says(
        &env,
        "failover step 2 of 2: next: kubectl c8dr exporters disable camundaregion0",
    );
}

#[test]
fn a_region_that_never_answers_is_timed_out_not_waited_for() {
    // An API server that accepts connections and never answers (a black-holed region).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut env = TestEnv::start();
    let extra = env.home.path().join("blackhole.kubeconfig");
    std::fs::write(
        &extra,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: blackhole\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: blackhole\n  context:\n    cluster: blackhole\n    user: blackhole\n    namespace: camunda-region1\nusers:\n- name: blackhole\n  user:\n    token: none\n"
        ),
    )
    .expect("kubeconfig");
    let kubeconfig = env
        .env
        .iter()
        .find(|(k, _)| k == "KUBECONFIG")
        .map(|(_, v)| v.clone())
        .expect("KUBECONFIG");
    env.set_env("KUBECONFIG", format!("{kubeconfig}:{}", extra.display()));
    env.set_env("CLUSTER_RECREATED", "blackhole");
    let started = std::time::Instant::now();
    env.c8dr("status --probe-timeout 1s")
        .success()
        .stdout_has("region1 (recreated): UNREACHABLE\n  context:         blackhole\n")
        .stdout_has("timed out after 1s")
        .stdout_has(
            "region0 (surviving): reachable\n  context:         c8dr-sim-region0\n  namespace:       camunda-region0\n",
        );
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(10),
        "status waited {took:?} for a region that never answers"
    );
    drop(listener);
}

#[test]
fn without_rest_credentials_the_management_view_is_shown_and_said_so() {
    let mut env = TestEnv::start();
    // All of them: credentials without a method are bad input (exit 2).
    env.remove_rest_credentials();
    env.c8dr("status")
        .success()
        .stdout_has("management view): 8 members")
        .stdout_has("need the v2 REST API")
        .stdout_has("healthy: no action");
}

#[test]
fn a_recreated_region_seeded_by_its_schema_manager_is_flagged() {
    let env = setup();
    env.lose_region(1);
    env.c8dr("brokers remove --odd --yes").success();
    env.c8dr("exporters disable camundaregion1 --yes").success();
    env.recreate_region(1);
    // Failback 1 without --no-schema-manager: the schema manager seeds the recreated ES.
    env.helm("redeploy --region recreated --no-webapps --yes")
        .success();
    status_says(
        &env,
        "failback step 2 of 8: next: helm c8dr redeploy --region surviving --no-webapps",
    )
    .stdout_has("schema manager:  on: CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA not set\n")
    .stdout_has("its schema manager created them");
    env.helm("redeploy --region surviving --no-webapps --yes")
        .success();
    // Not failback 5: these indices are not a restore.
    status_says(&env, "failback step 3 of 8").stdout_has("The restore refuses while they exist");
}

#[test]
fn a_region_without_configuration_is_not_taken_for_lost() {
    let mut env = TestEnv::start();
    for k in [
        "CLUSTER_RECREATED",
        "CAMUNDA_NAMESPACE_RECREATED",
        "REGION_RECREATED",
        "CLUSTER_1",
        "CAMUNDA_NAMESPACE_1",
    ] {
        env.remove_env(k);
    }
    // Region 1 runs; only the environment does not say where it is.
    env.c8dr("status")
        .success()
        .stdout_has(
            "region1 (recreated): NOT CONFIGURED\n  context:         <current>\n  namespace:       <current>\n",
        )
        .stdout_has("CLUSTER_RECREATED")
        .stdout_has("is not lost")
        .output_lacks("brokers remove");
    // During a failover the recreated region often has no cluster (and no variables) yet.
    env.lose_region(1);
    env.c8dr("status")
        .success()
        .stdout_has("failover step 1 of 2: next: kubectl c8dr brokers remove --odd");
}

/// Issue 19 item 11: after a completed failback the operator unset the recreated region's
/// variables, and no REST credentials are exported. Region 1 is not configured, which is not
/// lost: nothing suggests removing its brokers or skipping the liveness check, and `failover`
/// refuses without sending anything.
#[test]
fn a_region_not_configured_without_rest_credentials_is_not_lost() {
    let mut env = TestEnv::start();
    for k in [
        "CLUSTER_RECREATED",
        "CAMUNDA_NAMESPACE_RECREATED",
        "REGION_RECREATED",
        "CLUSTER_1",
        "CAMUNDA_NAMESPACE_1",
    ] {
        env.remove_env(k);
    }
    env.remove_rest_credentials();
    env.c8dr("status")
        .success()
        .stdout_has("region1 is not configured")
        .stdout_lacks("region1 lost")
        .stdout_lacks("looks lost")
        .output_lacks("brokers remove")
        .output_lacks("skip-liveness-check");
    env.c8dr("failover --yes")
        .code(3)
        .output_lacks("skip-liveness-check");
    assert_eq!(
        env.state()["members"],
        serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
    );
}

/// Issue 19 item 12: the docs' variables name region 0, the lost region, as the surviving one.
/// `status` says so first and names a command that works.
#[test]
fn variables_naming_the_lost_region_surviving_are_said_with_a_command_that_works() {
    let env = TestEnv::start();
    env.lose_region(0);
    let out = status_says(
        &env,
        "failover step 1 of 2: next: kubectl c8dr --region recreated brokers remove --even",
    )
    .stdout_has("or every remaining kubectl step of the failover at once: kubectl c8dr --region recreated failover");
    let first_note = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("note:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        first_note.contains("names region0, the lost region, as the surviving one"),
        "{}",
        out.stdout
    );
    env.c8dr("--region recreated brokers remove --even --yes")
        .success();
    assert_eq!(env.state()["members"], serde_json::json!([1, 3, 5, 7]));
}

/// Issue 19 item 13: while the recreated brokers re-join (`brokers add --no-wait`), the region
/// whose pods run is being rebuilt, not lost.
#[test]
fn a_region_whose_brokers_rejoin_is_not_called_lost() {
    let env = TestEnv::builder()
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
    env.c8dr("exporting pause").success();
    env.sim.world().lock().regions[1].es = c8dr_sim::es::EsCluster::seeded();
    env.c8dr("exporters enable camundaregion1 --initialize-from camundaregion0")
        .success();
    env.c8dr("exporting resume").success();
    env.sim.world().lock().cfg.operation_duration = std::time::Duration::from_secs(1);
    env.c8dr("brokers add --odd --replication-factor 4 --no-wait")
        .success();
    status_says(&env, "a topology change is in progress")
        .stdout_has("being rebuilt: region1")
        .stdout_lacks("region1 lost")
        .stdout_lacks("looks lost");
}

/// Issue 22 item 2: the global `-q` makes status one line, the headline; its exit code is the
/// same as without it.
#[test]
fn quiet_status_is_the_headline_alone_with_the_same_exit_code() {
    let env = TestEnv::start();
    let run = env.c8dr("status -q").success();
    assert_eq!(
        run.stdout,
        "status: healthy: no action\n",
        "{}",
        run.context()
    );
    env.lose_region(1);
    let run = env.c8dr("status --quiet").success();
    assert_eq!(
        run.stdout,
        "status: failover step 1 of 2: next: kubectl c8dr brokers remove --odd (region1 lost)\n",
        "{}",
        run.context()
    );
    env.lose_region(0);
    let run = env.c8dr("status -q").code(5);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.context());
    // A document stays the whole document.
    env.recreate_region(0);
    env.c8dr("status -q -o json").success().json();
}

/// Issue 22 item 3: `--context` shows the region of that context alone (its namespace from the
/// docs' variables unless -n says otherwise), labelled a one-region view, with no step of the
/// procedure to run (judging one needs both regions).
#[test]
fn status_with_a_context_is_a_one_region_view_of_that_region() {
    let env = TestEnv::start();
    let run = env
        .c8dr("status --context c8dr-sim-region1")
        .success()
        .stdout_has("status: one-region view of region1 (context c8dr-sim-region1)")
        .stdout_has(
            "region1 (recreated): reachable\n  context:         c8dr-sim-region1\n  namespace:       camunda-region1\n",
        )
        .stdout_has("cluster (from region1's gateway")
        .stdout_lacks("region0 (surviving)")
        .stdout_lacks("next:");
    assert_eq!(
        run.stdout.matches("reachable\n").count(),
        1,
        "{}",
        run.stdout
    );
    let v = env
        .c8dr("status --context c8dr-sim-region0 -o json")
        .success()
        .json();
    assert_eq!(v["scope"], "one-region", "{v:#}");
    assert_eq!(v["regions"].as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(v["regions"][0]["region"], "region0", "{v:#}");
    assert_eq!(v["regions"][0]["namespace"], "camunda-region0", "{v:#}");
    assert_eq!(v["procedure"]["next"], serde_json::Value::Null, "{v:#}");
    // -n wins over the variables' namespace: nothing of the release there.
    env.c8dr("status --context c8dr-sim-region1 -n elsewhere")
        .success()
        .stdout_has("  namespace:       elsewhere\n")
        .stdout_has("not installed");
    // The region of that context lost: nothing to show, exit 5 as for both regions.
    env.lose_region(1);
    env.c8dr("status --context c8dr-sim-region1")
        .code(5)
        .stdout_has("region1 (recreated): UNREACHABLE");
    // The full view still works beside it.
    env.c8dr("status")
        .success()
        .stdout_has("looks lost: region1");
}

/// Without `/v2/topology` (no credentials, or rejected ones) the forced removal would be refused
/// for want of evidence (docs/contract.md §4 rule 2): status does not suggest it (rule 13), it
/// says what is missing; with the credentials back, it suggests the step again.
#[test]
fn without_the_topology_status_names_what_the_removal_needs_instead_of_the_command() {
    let mut env = TestEnv::start().scripted();
    env.lose_region(1);
    env.remove_rest_credentials();
    let doc = env.c8dr("status -o json").success().json();
    assert_eq!(
        doc["procedure"]["next"],
        serde_json::Value::Null,
        "{}",
        doc["procedure"]
    );
    let notes = doc["procedure"]["notes"].to_string();
    assert!(
        notes.contains("brokers remove --odd") && notes.contains("CAMUNDA_CLIENT_AUTH_"),
        "{notes}"
    );
    env.c8dr("status")
        .success()
        .stdout_lacks("next: kubectl c8dr brokers remove");
    // Credentials the gateway rejects: said so, with the answer.
    env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "basic");
    env.set_env("CAMUNDA_CLIENT_AUTH_USERNAME", "demo");
    env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", "not-the-password");
    env.c8dr("status")
        .success()
        .stdout_has("could not be read")
        .stdout_lacks("next: kubectl c8dr brokers remove");
}
