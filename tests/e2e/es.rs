//! Failback step 4 through the real kubectl: `kubectl c8dr es …` reaching each region's
//! Elasticsearch by exec'ing curl in its pod (or directly with `--es-url`), verified on the
//! simulator's state.

use c8dr_e2e::TestEnv;
use serde_json::Value;

const BUCKET: &str = "camunda-bucket";
const PASSWORD: &str = "es-secret-password";

fn es_indices(env: &TestEnv, r: usize) -> Vec<String> {
    env.state()["regions"][r]["esIndices"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn camunda(indices: &[String]) -> Vec<String> {
    indices
        .iter()
        .filter(|i| {
            i.starts_with("operate-") || i.starts_with("tasklist-") || i.starts_with("camunda-")
        })
        .cloned()
        .collect()
}

/// Failover with region 1 lost, then failback 1 and 3: region 1 recreated and installed with
/// the schema manager off (its Elasticsearch stays empty, unless `schema_manager` is true), and
/// exporting paused.
fn failback_ready(env: &TestEnv, schema_manager: bool) {
    failback_installed(env, schema_manager);
    env.c8dr_direct(0, "exporting pause --yes").success();
}

/// [`failback_ready`] without the pause.
fn failback_installed(env: &TestEnv, schema_manager: bool) {
    env.lose_region(1);
    env.c8dr_direct(0, "brokers remove --odd --yes").success();
    env.c8dr_direct(0, "exporters disable camundaregion1 --yes")
        .success();
    env.recreate_region(1);
    {
        let mut w = env.sim.world().lock();
        let values = if schema_manager {
            serde_json::json!({})
        } else {
            serde_json::json!({"orchestration": {"env": [
                {"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}
            ]}})
        };
        c8dr_sim::helm::apply_release(&mut w, 1, values);
    }
}

fn copy_args(extra: &[&str]) -> Vec<String> {
    [
        "es",
        "copy",
        "--from",
        "surviving",
        "--to",
        "recreated",
        "--bucket",
        BUCKET,
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

fn assert_copied(env: &TestEnv) {
    let source = camunda(&es_indices(env, 0));
    assert!(!source.is_empty());
    assert_eq!(camunda(&es_indices(env, 1)), source);
    let w = env.sim.world().lock();
    let reg = w.regions[1]
        .es
        .repositories
        .get("camunda_backup")
        .expect("repository registered on the target");
    let shown = format!("{reg:?}");
    assert!(shown.contains("readonly"), "{shown}");
}

#[test]
fn es_copy_after_failover_restores_exactly_the_surviving_camunda_indices() {
    let env = TestEnv::start();
    failback_ready(&env, false);
    assert!(camunda(&es_indices(&env, 1)).is_empty());
    let run = env
        .kubectl_c8dr(copy_args(&["--exporting-paused", "--yes", "-o", "json"]))
        .success();
    let out = run.json();
    assert_eq!(out["status"], "done", "{out:#}");
    assert_eq!(out["details"]["outcome"], "copied");
    assert_eq!(out["details"]["targetRepository"]["readonly"], true);
    assert_eq!(out["details"]["sourceRepository"]["readonly"], false);
    assert_copied(&env);
    // The target's repository is read-only as ES reports it.
    env.c8dr("es repo show --region recreated -o json")
        .success()
        .stdout_has("\"readonly\": true");
    // Re-running is "already done".
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes"]))
        .success()
        .stdout_has("already done");
}

#[test]
fn es_copy_is_refused_without_the_exporting_paused_statement() {
    let env = TestEnv::start();
    // Not paused: the brokers say so (docs/api-behaviour.md §3), and the refusal names the ways out.
    failback_installed(&env, false);
    env.kubectl_c8dr(copy_args(&["--yes"]))
        .code(3)
        .stderr_has("exporting is not paused")
        .stderr_has("--pause-exporting");
    assert!(camunda(&es_indices(&env, 1)).is_empty());
    assert!(env.sim.world().lock().regions[0].es.repositories.is_empty());
}

#[test]
fn es_copy_refuses_a_target_with_camunda_indices_and_deletes_nothing() {
    let env = TestEnv::start();
    failback_ready(&env, true);
    let before = es_indices(&env, 1);
    assert!(!camunda(&before).is_empty(), "the schema manager seeded it");
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes"]))
        .code(3)
        .stderr_has("Camunda indices")
        .stderr_has("--delete-existing-indices");
    assert_eq!(es_indices(&env, 1), before);
    let w = env.sim.world().lock();
    assert!(w.regions[0].es.repositories.is_empty(), "nothing written");
    assert!(w.regions[1].es.repositories.is_empty(), "nothing written");
}

#[test]
fn es_copy_dry_run_makes_no_mutating_call() {
    let env = TestEnv::start();
    failback_ready(&env, false);
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--dry-run"]))
        .success()
        .stdout_has("dry run")
        .stdout_has("target: POST _snapshot/camunda_backup/");
    let w = env.sim.world().lock();
    assert!(w.regions[0].es.repositories.is_empty());
    assert!(w.regions[1].es.repositories.is_empty());
    assert!(w.object_store.is_empty());
    assert!(w.regions[1].es.indices.is_empty());
}

#[test]
fn es_copy_survives_cut_exec_streams() {
    let env = TestEnv::start();
    failback_ready(&env, false);
    env.sim.world().lock().faults.cut_exec_streams = 3;
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes"]))
        .success()
        .stdout_has("done:");
    assert_eq!(env.sim.world().lock().faults.cut_exec_streams, 0);
    assert_copied(&env);
}

#[test]
fn es_copy_with_security_reads_the_secret_and_never_prints_it() {
    let env = TestEnv::builder().config(|c| c.es_security = true).start();
    failback_ready(&env, false);
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes", "-v"]))
        .success()
        .stderr_has("feature_states")
        .output_lacks(PASSWORD);
    assert_copied(&env);
    env.c8dr("es snapshot list -o json -v")
        .success()
        .output_lacks(PASSWORD);
}

#[test]
fn es_repo_register_and_show_and_verify_failure() {
    let env = TestEnv::start();
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--yes"])
        .success()
        .stdout_has("registered and verified");
    env.c8dr("es repo show")
        .success()
        .stdout_has("type s3, writable")
        .stdout_has(BUCKET);
    let shown = env
        .kubectl_c8dr(["es", "repo", "show", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["settings"]["base_path"], "backups");
    assert_eq!(shown["settings"]["client"], "camunda");
    // No bucket: a usage error before any call.
    env.c8dr("es repo register --yes")
        .code(2)
        .stderr_has("--bucket");
    // Verification failure: exit 1 with what to fix.
    env.sim.world().lock().faults.repo_verify_fails = true;
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--yes"])
        .code(1)
        .stderr_has("failed verification")
        .stderr_has("keystore");
}

#[test]
fn es_repo_register_dry_run_and_no_tty_refusal() {
    let env = TestEnv::start();
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--dry-run"])
        .success()
        .stdout_has("PUT _snapshot/camunda_backup");
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET])
        .code(3)
        .stderr_has("--yes");
    assert!(env.sim.world().lock().regions[0].es.repositories.is_empty());
}

#[test]
fn es_snapshot_create_list_show_and_partial_failure() {
    let env = TestEnv::start();
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--yes"])
        .success();
    let out = env
        .kubectl_c8dr(["es", "snapshot", "create", "snap-1", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(out["details"]["snapshot"]["state"], "SUCCESS");
    assert_eq!(out["details"]["snapshot"]["includeGlobalState"], true);
    env.c8dr("es snapshot list")
        .success()
        .stdout_has("snap-1")
        .stdout_has("SUCCESS");
    env.c8dr("es snapshot show snap-1")
        .success()
        .stdout_has("global state included");
    env.c8dr("es snapshot show nope")
        .code(1)
        .stderr_has("not found");
    // The same name again is an error (c8dr never reuses a snapshot).
    env.c8dr("es snapshot create snap-1 --yes")
        .code(1)
        .stderr_has("already exists");
    // Default name, PARTIAL: exit 1 naming the failed shard.
    env.sim.world().lock().faults.partial_snapshot = true;
    let run = env
        .kubectl_c8dr(["es", "snapshot", "create", "--yes"])
        .code(1)
        .stderr_has("PARTIAL");
    assert!(run.stderr.contains("failback-"), "{}", run.stderr);
    assert!(run.stderr.contains('['), "names the shard: {}", run.stderr);
}

#[test]
fn es_snapshot_restore_refuses_existing_indices_then_deletes_them_when_told() {
    let env = TestEnv::start();
    failback_ready(&env, true);
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--yes"])
        .success();
    env.c8dr("es snapshot create snap-r --yes").success();
    env.kubectl_c8dr([
        "es",
        "repo",
        "register",
        "--bucket",
        BUCKET,
        "--readonly",
        "--region",
        "recreated",
        "--yes",
    ])
    .success()
    .stdout_has("read-only");
    let before = es_indices(&env, 1);
    env.c8dr("es snapshot restore snap-r --region recreated --yes")
        .code(3)
        .stderr_has("operate-");
    assert_eq!(es_indices(&env, 1), before, "nothing deleted");
    // Deleting is only for the recreated region.
    env.c8dr("es snapshot restore snap-r --delete-existing-indices --yes")
        .code(3)
        .stderr_has("recreated region");
    // Dry run lists the deletes and changes nothing.
    env.c8dr("es snapshot restore snap-r --region recreated --delete-existing-indices --dry-run")
        .success()
        .stdout_has("DELETE /");
    assert_eq!(es_indices(&env, 1), before);
    let out = env
        .kubectl_c8dr([
            "es",
            "snapshot",
            "restore",
            "snap-r",
            "--region",
            "recreated",
            "--delete-existing-indices",
            "--yes",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(out["details"]["outcome"], "restored", "{out:#}");
    assert_eq!(camunda(&es_indices(&env, 1)), camunda(&es_indices(&env, 0)));
    // Restoring again: already done.
    env.c8dr("es snapshot restore snap-r --region recreated --yes")
        .success()
        .stdout_has("already");
}

#[test]
fn es_direct_mode_with_es_url() {
    let env = TestEnv::start();
    let url = env.es_url(0);
    env.kubectl_c8dr([
        "es", "repo", "register", "--bucket", BUCKET, "--yes", "--es-url", &url,
    ])
    .success();
    env.kubectl_c8dr(["es", "status", "--es-url", &url])
        .success()
        .stdout_has("Camunda indices");
    env.kubectl_c8dr(["es", "repo", "show", "--es-url", "not a url"])
        .code(2)
        .stderr_has("--es-url");
}

#[test]
fn es_copy_can_pause_exporting_itself() {
    let env = TestEnv::start();
    failback_installed(&env, false);
    assert_eq!(env.state()["exporting"], "Running");
    let mut args = copy_args(&["--pause-exporting", "--yes"]);
    args.extend(env.direct_args(0, &[]));
    env.kubectl_c8dr(args)
        .success()
        .stderr_has("exporting is paused")
        .stdout_has("done:");
    assert_eq!(env.state()["exporting"], "Paused");
    assert_copied(&env);
}

#[test]
fn es_copy_to_a_recreated_region_without_elasticsearch_says_what_is_missing() {
    let env = TestEnv::start();
    env.lose_region(1);
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes"]))
        .code(5)
        .stderr_has("region1");
    env.recreate_region(1);
    env.kubectl_c8dr(copy_args(&["--exporting-paused", "--yes"]))
        .code(1)
        .stderr_has("failback step 1");
    env.c8dr("es snapshot create Bad/Name --yes")
        .code(2)
        .stderr_has("lowercase");
}

#[test]
fn es_security_with_a_password_from_the_environment_or_the_secret() {
    let env = TestEnv::builder().config(|c| c.es_security = true).start();
    let url = env.es_url(0);
    // Direct mode reads the bitnami Secret too.
    env.kubectl_c8dr(["es", "status", "--es-url", &url])
        .success()
        .stdout_has("health green")
        .output_lacks(PASSWORD);
    // The operator's own credentials, from an environment variable.
    let args = |var: &str| -> Vec<std::ffi::OsString> {
        ["c8dr", "es", "status", "--es-password-env", var]
            .iter()
            .map(Into::into)
            .collect()
    };
    env.command("kubectl", args("MY_ES_PASSWORD"))
        .env("MY_ES_PASSWORD", PASSWORD)
        .run()
        .success()
        .output_lacks(PASSWORD);
    let wrong = env
        .command("kubectl", args("MY_ES_PASSWORD"))
        .env("MY_ES_PASSWORD", "wrong-password")
        .run();
    assert_ne!(wrong.code, 0, "{wrong:?}");
    assert!(!wrong.stderr.contains("wrong-password"), "{wrong:?}");
    env.c8dr("es status --es-password-env UNSET_VAR")
        .code(2)
        .stderr_has("UNSET_VAR");
}

#[test]
fn es_copy_of_multi_shard_indices_waits_for_every_shard_copy() {
    // Issue 9 item 8: Camunda indices with 3 primaries and a replica each. With two data nodes
    // every copy is recovered and the cluster ends green; with one, the replicas can never be
    // allocated and c8dr says why the cluster stays yellow instead of waiting for green.
    for (nodes, health, copies_per_index) in [(2u32, "green", 6u64), (1, "yellow", 3)] {
        let env = TestEnv::builder()
            .config(|c| {
                c.es_nodes = nodes;
                c.es_number_of_shards = 3;
                c.es_number_of_replicas = 1;
            })
            .start();
        failback_ready(&env, false);
        let out = env
            .kubectl_c8dr(copy_args(&[
                "--exporting-paused",
                "--yes",
                "--timeout",
                "20s",
                "-o",
                "json",
            ]))
            .success()
            .json();
        assert_eq!(out["status"], "done", "{out:#}");
        let restore = &out["details"]["restore"];
        assert_eq!(restore["health"], health, "{out:#}");
        let indices = camunda(&es_indices(&env, 0)).len() as u64;
        assert!(indices > 0);
        // Every restored index, Camunda's and the archive's, has its copies counted.
        let restored = restore["restoredIndices"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0) as u64;
        assert_eq!(
            restore["shardCopies"],
            copies_per_index * restored,
            "{out:#}"
        );
        assert_copied(&env);
        if nodes == 1 {
            assert_eq!(restore["unassignedReplicas"], 3 * restored, "{out:#}");
            env.c8dr("es status --region recreated")
                .success()
                .stdout_has("health yellow");
        }
    }
}

#[test]
fn es_copy_to_opensearch_through_a_shared_fs_repository() {
    // Issue 10 item 3: OpenSearch 2.19 (detected from GET /), an fs repository on a directory
    // both regions share. No feature_states is sent (OpenSearch answers it with a 400).
    let env = TestEnv::builder()
        .config(|c| c.es_opensearch = true)
        .start();
    failback_ready(&env, false);
    let args = |extra: &[&str]| -> Vec<String> {
        [
            "es",
            "copy",
            "--from",
            "surviving",
            "--to",
            "recreated",
            "--repo-type",
            "fs",
            "--location",
            "/mnt/shared/snapshots",
            "--exporting-paused",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
    };
    let plan = env
        .kubectl_c8dr(args(&["--feature-states", "none", "--dry-run"]))
        .success();
    assert!(!plan.stdout.contains("feature_states"), "{}", plan.stdout);
    assert!(plan.stdout.contains("\"type\":\"fs\""), "{}", plan.stdout);
    let run = env
        .kubectl_c8dr(args(&["--feature-states", "none", "--yes"]))
        .success()
        .stderr_has("no feature states");
    assert!(run.stdout.contains("copied"), "{}", run.stdout);
    assert_eq!(camunda(&es_indices(&env, 1)), camunda(&es_indices(&env, 0)));
    let w = env.sim.world().lock();
    let reg = &w.regions[1].es.repositories["camunda_backup"];
    assert_eq!((reg.kind.as_str(), reg.readonly), ("fs", true));
    assert_eq!(reg.settings["location"], "/mnt/shared/snapshots");
    assert!(!w.regions[0].es.repositories["camunda_backup"].readonly);
}

#[test]
fn es_repository_flags_are_checked_before_any_call() {
    let env = TestEnv::start();
    for (args, needle) in [
        (
            vec!["--repo-type", "fs", "--bucket", BUCKET],
            "not used by an fs repository",
        ),
        (vec!["--repo-type", "fs"], "--location PATH: required"),
        (
            vec!["--bucket", BUCKET, "--location", "/mnt/x"],
            "--location: only for --repo-type fs",
        ),
        (vec!["--repo-type", "nfs", "--bucket", BUCKET], "nfs"),
    ] {
        let mut all = vec!["es", "repo", "register", "--yes"];
        all.extend(args);
        env.kubectl_c8dr(all).code(2).stderr_has(needle);
    }
    // gcs takes a bucket, azure a container, both given with --bucket.
    let out = env
        .kubectl_c8dr([
            "es",
            "repo",
            "register",
            "--repo-type",
            "azure",
            "--bucket",
            "snapshots",
            "--dry-run",
        ])
        .success();
    assert!(
        out.stdout.contains("\"container\":\"snapshots\""),
        "{}",
        out.stdout
    );
}

#[test]
fn failback_copies_opensearch_through_an_fs_repository() {
    // The composite driver with the same repository flags as `es copy` (issue 10: the real-stack
    // tier runs the whole procedure against OpenSearch with a shared fs repository).
    let mut env = TestEnv::builder()
        .config(|c| c.es_opensearch = true)
        .start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(1);
    env.c8dr("failover").success();
    env.recreate_region(1);
    {
        // Failback steps 1 and 2 (helm): webapps off in both regions, schema manager off in
        // the recreated one.
        let mut w = env.sim.world().lock();
        let off = serde_json::json!({"operate": false, "tasklist": false});
        c8dr_sim::helm::apply_release(
            &mut w,
            1,
            serde_json::json!({"orchestration": {"profiles": off, "env": [
                {"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}
            ]}}),
        );
        c8dr_sim::helm::apply_release(
            &mut w,
            0,
            serde_json::json!({"orchestration": {"profiles": off}}),
        );
    }
    // A bad combination is bad input (exit 2). (That the driver checks it before pausing is
    // issue 9 item 6, guarded by the procedure tests.)
    env.c8dr("failback --replication-factor 4 --repo-type fs")
        .code(2)
        .stderr_has("--location");
    env.c8dr("failback --replication-factor 4 --repo-type fs --location /mnt/shared/snapshots")
        .success();
    let s = env.state();
    assert_eq!(s["exporting"], "Running");
    assert_eq!(s["regions"][1]["esIndices"], s["regions"][0]["esIndices"]);
    let w = env.sim.world().lock();
    assert_eq!(w.regions[1].es.repositories["camunda_backup"].kind, "fs");
}

/// Issue 22 item 4: two regions each have an Elasticsearch; `es status` says which one it read,
/// in text and in the document.
#[test]
fn es_status_names_the_region_it_read() {
    let env = TestEnv::start();
    env.c8dr("es status")
        .success()
        .stdout_has(
            "surviving region region0 (context c8dr-sim-region0, namespace camunda-region0)\nhealth green",
        );
    env.c8dr("es status --region recreated")
        .success()
        .stdout_has(
            "recreated region region1 (context c8dr-sim-region1, namespace camunda-region1)\n",
        );
    let v = env
        .c8dr("es status --region region1 -o json")
        .success()
        .json();
    assert_eq!(v["region"], "region1", "{v:#}");
    assert!(
        v["readFrom"]
            .as_str()
            .is_some_and(|r| r.contains("c8dr-sim-region1")),
        "{v:#}"
    );
}
