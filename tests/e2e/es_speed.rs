//! Failback at the speed of the data (issue 14 items 2 and 3): the pre-copy before the pause and
//! the recovery tuning of the recreated region's Elasticsearch, put back on every exit path.

use std::time::{Duration, Instant};

use c8dr_e2e::{TestEnv, finish, send_signal, words};

const MAX_BYTES: &str = "indices.recovery.max_bytes_per_sec";
const PRIMARIES: &str = "cluster.routing.allocation.node_initial_primaries_recoveries";
const CONCURRENT: &str = "cluster.routing.allocation.node_concurrent_recoveries";

/// Failover done, region 1 recreated, helm failback step 1 done (and step 2 when `step_2`);
/// every Elasticsearch shard takes `shard` to snapshot or restore.
fn after_helm_steps(shard: Duration, step_2: bool) -> TestEnv {
    let env = TestEnv::builder()
        .config(|c| c.es_shard_duration = shard)
        .start()
        .scripted()
        .failed_over_and_recreated();
    env.apply_release(
        1,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}]}}),
    );
    if step_2 {
        env.apply_release(
            0,
            serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false}}}),
        );
    }
    env
}

/// The recreated region's persistent cluster settings, as the simulated Elasticsearch holds them.
fn recreated_persistent(env: &TestEnv) -> std::collections::BTreeMap<String, String> {
    env.sim.world().lock().regions[1]
        .es
        .settings
        .persistent
        .clone()
}

/// Names of the snapshots the shared bucket holds.
fn snapshots(env: &TestEnv) -> Vec<String> {
    let w = env.sim.world().lock();
    w.object_store
        .values()
        .flat_map(|paths| paths.values())
        .flat_map(|r| r.snapshots.iter().map(|s| s.name.clone()))
        .collect()
}

/// Wait (bounded) until the restore into region 1 runs with the recovery limits raised: the
/// recreated ES holds indices and c8dr's record (the raise lands right after the restore is
/// accepted, since the restore replaces the persistent settings with the snapshot's).
fn wait_for_the_restore(env: &TestEnv) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while env.sim.world().lock().regions[1].es.indices.is_empty() || record(env).is_none() {
        assert!(
            Instant::now() < deadline,
            "the restore never started: {:#}",
            env.state()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The record c8dr keeps beside a raise, in the recreated cluster's own settings (a
/// user-defined `cluster.metadata.*` key; see common/src/es/tuning.rs).
fn record(env: &TestEnv) -> Option<String> {
    recreated_persistent(env)
        .get("cluster.metadata.c8dr_recovery_tuning")
        .cloned()
}

#[test]
fn the_failback_plan_shows_the_pre_copy_and_every_recovery_setting_before_and_after() {
    let env = after_helm_steps(Duration::from_millis(10), true);
    let run = env.c8dr("failback --dry-run").success();
    let plan = format!("{}{}", run.stdout, run.stderr);
    for needle in [
        "pre-copy (part of step 4/8, before the pause)",
        "PUT _snapshot/camunda_backup/failback-precopy-",
        "indices.recovery.max_bytes_per_sec: 40mb → -1 (no limit)",
        "cluster.routing.allocation.node_initial_primaries_recoveries: 4 → 8",
        "cluster.routing.allocation.node_concurrent_recoveries: 2 → 8",
        "put back indices.recovery.max_bytes_per_sec = unset",
    ] {
        assert!(plan.contains(needle), "plan lacks {needle:?}:\n{plan}");
    }
    let off = env
        .c8dr("failback --dry-run --no-pre-copy --no-tuning")
        .success();
    let plan = format!("{}{}", off.stdout, off.stderr);
    assert!(!plan.contains("pre-copy ("), "{plan}");
    assert!(!plan.contains("_cluster/settings"), "{plan}");
    assert!(
        recreated_persistent(&env).is_empty(),
        "a dry run changes nothing"
    );
}

#[test]
fn a_signal_during_the_restore_puts_the_recovery_settings_back_and_resumes_exporting() {
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let env = after_helm_steps(Duration::from_millis(400), true);
        let (child, shown) = env
            .command("kubectl-c8dr", vec!["failback".into()])
            .spawn_piped();
        wait_for_the_restore(&env);
        let raised = recreated_persistent(&env);
        assert_eq!(
            raised.get(MAX_BYTES).map(String::as_str),
            Some("-1"),
            "SIG{signal}"
        );
        assert_eq!(raised.get(PRIMARIES).map(String::as_str), Some("8"));
        assert_eq!(raised.get(CONCURRENT).map(String::as_str), Some("8"));
        assert_eq!(env.state()["exporting"], "Paused");
        send_signal(&child, signal);
        let run = finish(child, shown)
            .code(code)
            .stderr_has(&format!("interrupted by SIG{signal}"))
            .stderr_has("the recovery settings raised for the restore were put back")
            .stderr_has("exporting was resumed");
        assert!(
            recreated_persistent(&env).is_empty(),
            "SIG{signal}: settings left: {:?}\n{}",
            recreated_persistent(&env),
            run.stderr
        );
        assert_eq!(env.state()["exporting"], "Running");
        assert_eq!(record(&env), None, "the record goes with the put-back");
    }
}

#[test]
fn a_rerun_after_sigkill_during_the_restore_puts_the_recovery_settings_back() {
    let env = after_helm_steps(Duration::from_millis(300), true);
    let (child, shown) = env
        .command("kubectl-c8dr", vec!["failback".into()])
        .spawn_piped();
    wait_for_the_restore(&env);
    send_signal(&child, "KILL");
    let _ = finish(child, shown);
    // Nothing could run on SIGKILL: the settings stay raised, with the record of the values
    // before in the cluster itself (found by a rerun from any machine).
    assert_eq!(
        recreated_persistent(&env)
            .get(MAX_BYTES)
            .map(String::as_str),
        Some("-1")
    );
    let kept = record(&env).expect("the record of the raise");
    assert!(
        kept.contains("\"persistent_before\":null") || kept.contains("\"persistentBefore\":null"),
        "{kept}"
    );
    // The rerun's plan says what it found and what it will put back.
    let dry = env.c8dr("failback --dry-run").success();
    let plan = format!("{}{}", dry.stdout, dry.stderr);
    assert!(
        // (Whether the restore still runs or has just finished, the put-back is planned.)
        plan.contains("recovery tuning (step 4/8): target: recovery tuning left in place by an interrupted `kubectl c8dr failback` found (cluster.metadata.c8dr_recovery_tuning)"),
        "{plan}"
    );
    env.c8dr("failback")
        .success()
        .stderr_has("recovery tuning (step 4/8): target: recovery tuning left in place by an interrupted `kubectl c8dr failback`")
        .stderr_has("were put back (indices.recovery.max_bytes_per_sec");
    assert!(
        recreated_persistent(&env).is_empty(),
        "left: {:?}",
        recreated_persistent(&env)
    );
    assert_eq!(record(&env), None);
    assert_eq!(
        env.state()["members"],
        serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
    );
}

#[test]
fn no_tuning_and_no_pre_copy_send_none_of_it() {
    // es copy with direct URLs: every Elasticsearch request is in the simulator's log.
    let sent = |env: &TestEnv, extra: &str| -> Vec<String> {
        let from = env.requests().len();
        let line = format!(
            "es copy --from surviving --to recreated --pause-exporting --from-es-url {} --to-es-url {} {extra}",
            env.es_url(0),
            env.es_url(1)
        );
        env.kubectl_c8dr(words(&line)).success();
        env.requests()
            .into_iter()
            .skip(from)
            .filter(|r| r.listener == "elasticsearch" && r.method != "GET")
            .map(|r| format!("region{} {} {}", r.region, r.method, r.target))
            .collect()
    };
    let env = after_helm_steps(Duration::from_millis(10), true);
    let off = sent(&env, "--no-pre-copy --no-tuning");
    assert!(
        off.iter().all(|r| !r.contains("_cluster/settings")),
        "{off:#?}"
    );
    assert!(off.iter().all(|r| !r.contains("precopy")), "{off:#?}");
    assert!(snapshots(&env).iter().all(|s| !s.contains("precopy")));

    let env = after_helm_steps(Duration::from_millis(10), true);
    let on = sent(&env, "");
    let settings: Vec<&String> = on
        .iter()
        .filter(|r| r.contains("_cluster/settings"))
        .collect();
    assert_eq!(
        settings.len(),
        2,
        "raise and put back, on the target only: {on:#?}"
    );
    assert!(settings.iter().all(|r| r.starts_with("region1 PUT")));
    assert!(
        on.iter()
            .any(|r| r.starts_with("region0 PUT /_snapshot/camunda_backup/failback-precopy-")),
        "{on:#?}"
    );
    assert!(recreated_persistent(&env).is_empty(), "put back");
}

#[test]
fn after_failback_1_the_driver_takes_the_pre_copy_stops_at_failback_2_and_the_next_run_reuses_it() {
    let env = after_helm_steps(Duration::from_millis(10), false);
    env.c8dr("failback")
        .success()
        .stdout_has("taken while Camunda runs")
        .stdout_has("next: failback step 2: helm c8dr redeploy --region surviving --no-webapps");
    assert_eq!(env.state()["exporting"], "Running", "nothing paused yet");
    let pre: Vec<String> = snapshots(&env)
        .into_iter()
        .filter(|s| s.starts_with("failback-precopy-"))
        .collect();
    assert_eq!(pre.len(), 1, "{:?}", snapshots(&env));
    // failback 2, then the rest: the pre-copy is reused, not taken again.
    env.apply_release(
        0,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false}}}),
    );
    let run = env.c8dr("-o json failback").success();
    let out = run.json();
    assert!(
        run.stderr.contains(&format!("pre-copy: reuse {}", pre[0]))
            || run.stderr.contains(&format!("snapshot {} reused", pre[0])),
        "{}",
        run.stderr
    );
    let all = snapshots(&env);
    assert_eq!(
        all.iter()
            .filter(|s| s.starts_with("failback-precopy-"))
            .count(),
        1,
        "{all:?}"
    );
    assert_eq!(
        all.len(),
        2,
        "the pre-copy and the snapshot of the pause: {all:?}"
    );
    assert_eq!(out["status"], "done", "{out:#}");
    // With --no-pre-copy the helm step is still required first.
    let env = after_helm_steps(Duration::from_millis(10), false);
    env.c8dr("failback --no-pre-copy").code(3);
}

#[test]
fn a_pre_copy_that_fails_leaves_exporting_running() {
    let env = after_helm_steps(Duration::from_millis(10), true);
    // The snapshot ends PARTIAL: the pre-copy meets it before anything is paused.
    env.sim.world().lock().faults.partial_snapshot = true;
    env.c8dr("failback").code(1).stderr_has("PARTIAL");
    let s = env.state();
    assert_eq!(
        c8dr_e2e::count_requests(&s, "POST", "/actuator/exporting/pause"),
        0,
        "never paused"
    );
    assert_eq!(s["exporting"], "Running");
    assert!(recreated_persistent(&env).is_empty(), "nothing raised");
}

#[test]
fn the_snapshot_of_the_pause_is_incremental_after_the_pre_copy_and_is_the_one_restored() {
    // 20 MiB of Elasticsearch data; the exporter keeps writing 2 MiB/s until the pause.
    let env = TestEnv::builder()
        .config(|c| {
            c.es_data_bytes = 20 * 1024 * 1024;
            c.es_ingest_bytes_per_sec = 2 * 1024 * 1024;
        })
        .start()
        .scripted()
        .failed_over_and_recreated();
    env.apply_release(
        1,
        serde_json::json!({"orchestration": {"profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}]}}),
    );
    let line = format!(
        "-o json es copy --from surviving --to recreated --pause-exporting --from-es-url {} --to-es-url {}",
        env.es_url(0),
        env.es_url(1)
    );
    let run = env.kubectl_c8dr(words(&line)).success();
    let out = run.json();
    let d = &out["details"];
    let pre_name = d["preCopy"]["snapshot"]["snapshot"].as_str().unwrap_or("");
    let final_name = d["snapshot"]["snapshot"]["snapshot"].as_str().unwrap_or("");
    assert!(pre_name.starts_with("failback-precopy-"), "{out:#}");
    assert!(
        final_name.starts_with("failback-") && !final_name.contains("precopy"),
        "{out:#}"
    );
    let bytes = |v: &serde_json::Value, k: &str| v["stats"][k].as_u64().unwrap_or(0);
    let pre_up = bytes(&d["preCopy"], "incrementalBytes");
    let final_up = bytes(&d["snapshot"], "incrementalBytes");
    let final_total = bytes(&d["snapshot"], "totalBytes");
    assert!(
        pre_up >= 20 * 1024 * 1024,
        "the pre-copy uploads everything: {out:#}"
    );
    assert!(
        final_up < pre_up && final_up < final_total,
        "the snapshot in the pause uploads only what changed ({final_up} of {final_total} bytes; the pre-copy uploaded {pre_up}): {out:#}"
    );
    assert_eq!(d["restore"]["snapshot"], final_name, "{out:#}");
    assert!(
        out["summary"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("keeps the pre-copy {pre_name} and {final_name}"))),
        "what is left in the repository is said: {out:#}"
    );
    assert_eq!(
        env.state()["exporting"],
        "Paused",
        "the pause stays for failback 5"
    );
}

#[test]
fn snapshot_rate_is_set_on_the_source_repository_for_the_snapshots_and_put_back() {
    let env = after_helm_steps(Duration::from_millis(10), true);
    let line = format!(
        "es copy --from surviving --to recreated --pause-exporting --snapshot-rate 100mb --from-es-url {} --to-es-url {}",
        env.es_url(0),
        env.es_url(1)
    );
    let before = env.requests().len();
    env.kubectl_c8dr(words(&line))
        .success()
        .stderr_has("\"max_snapshot_bytes_per_sec\":\"100mb\"")
        .stderr_has("(put back: without --snapshot-rate)");
    let registrations = env
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| {
            r.region == 0 && r.method == "PUT" && r.target.starts_with("/_snapshot/camunda_backup?")
        })
        .count();
    // Pre-copy: register, set the rate, put it back; the copy's snapshot: set the rate, put it
    // back (the registration itself is used as it is).
    assert_eq!(registrations, 5);
    let w = env.sim.world().lock();
    let reg = &w.regions[0].es.repositories["camunda_backup"];
    assert!(
        !reg.settings.contains_key("max_snapshot_bytes_per_sec"),
        "put back: {:?}",
        reg.settings
    );
    drop(w);
    env.c8dr("es copy --snapshot-rate fast").code(2);
}

#[test]
fn a_timeout_during_the_copy_keeps_exit_code_4_and_puts_the_settings_back() {
    let env = after_helm_steps(Duration::from_millis(500), true);
    env.c8dr("--timeout 1s failback --no-pre-copy")
        .code(4)
        .stderr_has("timed out")
        .stderr_has("exporting was resumed");
    assert!(
        recreated_persistent(&env).is_empty(),
        "left: {:?}",
        recreated_persistent(&env)
    );
    assert_eq!(env.state()["exporting"], "Running");
}

/// The pre-copy snapshot named in the plan (`PUT _snapshot/camunda_backup/failback-precopy-…`).
fn planned_pre_copy(output: &str) -> Option<String> {
    let rest = output
        .split("PUT _snapshot/camunda_backup/failback-precopy-")
        .nth(1)?;
    let stamp: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    Some(format!("failback-precopy-{stamp}"))
}

/// Attack D11: the plan names the pre-copy snapshot the run takes. The name carries the second
/// it was made; a slow Kubernetes API (`kube_api_delay`, 600 ms a call) puts more than a
/// second between the plan and the act, where a name computed twice would differ. Both paths:
/// the pre-copy before failback 2 (the run stops there), and the driver's pre-copy before its
/// pause.
#[test]
fn the_failback_plan_names_the_pre_copy_snapshot_it_takes() {
    for step_2 in [false, true] {
        let env = after_helm_steps(Duration::from_millis(10), step_2);
        if !step_2 {
            env.sim.world().lock().faults.kube_api_delay = Some(Duration::from_millis(600));
        } else {
            env.sim.world().lock().faults.kube_api_delay = Some(Duration::from_millis(150));
        }
        let run = env.c8dr("failback").success();
        let output = format!("{}{}", run.stdout, run.stderr);
        let planned = planned_pre_copy(&output).unwrap_or_else(|| panic!("no plan:\n{output}"));
        let taken: Vec<String> = snapshots(&env)
            .into_iter()
            .filter(|s| s.starts_with("failback-precopy-"))
            .collect();
        assert_eq!(taken, vec![planned], "step 2 done: {step_2}\n{output}");
    }
}
