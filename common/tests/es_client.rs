//! The Elasticsearch operations against the in-process simulator, over both transports: direct
//! HTTP (`--es-url`) and curl run through exec in the Elasticsearch pod.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use c8dr_common::Error;
use c8dr_common::es::{
    self, BoxFuture, CopyOutcome, CopySpec, CurlTransport, EsCredentials, EsOptions, EsTransport,
    ExecOutput, HttpTransport, PodExec, RepoSpec, RestoreOutcome, no_progress,
};
use c8dr_sim::{RegionId, SharedWorld, Sim, SimConfig};
use http::Method;
use serde_json::json;

const BUCKET: &str = "c8dr-test-bucket";

/// Calls recorded by [`SimExec`]: (argv, stdin).
type Calls = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// `PodExec` straight into the simulator's exec dispatcher, with injectable cut streams.
struct SimExec {
    world: SharedWorld,
    region: RegionId,
    calls: Calls,
    /// The next N calls lose the end of their stdout, and `kubectl exec` still reports
    /// success (kubernetes/kubernetes#73056).
    cut_next: AtomicU32,
    /// Cut the output of the next call whose argv contains this method and URL suffix (the
    /// request reached ES; only the answer is lost).
    cut_request: Mutex<Option<(String, String)>>,
}

impl SimExec {
    fn new(sim: &Sim, region: RegionId) -> Arc<Self> {
        Arc::new(Self {
            world: sim.world().clone(),
            region,
            calls: Arc::default(),
            cut_next: AtomicU32::new(0),
            cut_request: Mutex::new(None),
        })
    }
}

impl PodExec for SimExec {
    fn exec<'a>(
        &'a self,
        argv: Vec<String>,
        stdin: Vec<u8>,
        _timeout: Duration,
    ) -> BoxFuture<'a, c8dr_common::Result<ExecOutput>> {
        Box::pin(async move {
            self.calls
                .lock()
                .expect("calls")
                .push((argv.clone(), stdin.clone()));
            let out = c8dr_sim::exec::run(
                &self.world,
                self.region,
                "camunda-elasticsearch-master-0",
                "elasticsearch",
                &argv,
                &stdin,
            );
            let mut stdout = out.stdout;
            let cut = self
                .cut_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let cut_this = {
                let mut target = self.cut_request.lock().expect("cut");
                let hit = target.as_ref().is_some_and(|(method, suffix)| {
                    argv.iter().any(|a| a == method)
                        && argv.last().is_some_and(|u| u.ends_with(suffix.as_str()))
                });
                if hit {
                    *target = None;
                }
                hit
            };
            if cut || cut_this {
                stdout.truncate(stdout.len() / 2);
            }
            Ok(ExecOutput {
                stdout,
                stderr: out.stderr,
                exit_code: out.exit_code,
            })
        })
    }

    fn describe(&self) -> String {
        format!(
            "pod camunda-elasticsearch-master-0 of region {}",
            self.region
        )
    }
}

fn opts() -> EsOptions {
    EsOptions {
        wait_timeout: Duration::from_secs(20),
        ..EsOptions::default()
    }
}

fn repo() -> RepoSpec {
    RepoSpec::s3(BUCKET, "backups", "camunda")
}

fn http(sim: &Sim, region: RegionId, creds: Option<EsCredentials>) -> HttpTransport {
    let url = format!("http://{}", sim.endpoints(region).elasticsearch);
    HttpTransport::new(&url, creds, Duration::from_secs(5)).expect("transport")
}

fn curl(exec: &Arc<SimExec>, creds: Option<EsCredentials>) -> CurlTransport {
    CurlTransport::new(exec.clone(), creds, Duration::from_secs(5))
}

async fn start(cfg: SimConfig) -> (Sim, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = Sim::start(cfg, dir.path()).await.expect("sim");
    (sim, dir)
}

/// Camunda indices of a region with their document counts.
fn camunda_indices(sim: &Sim, region: RegionId) -> BTreeMap<String, u64> {
    let w = sim.world().lock();
    w.regions[region]
        .es
        .indices
        .iter()
        .filter(|(n, _)| es::is_camunda_index(n))
        .map(|(n, i)| (n.clone(), i.docs))
        .collect()
}

fn copy_spec(name: &str, delete_existing: bool) -> CopySpec {
    CopySpec {
        repo: repo(),
        snapshot: Some(name.into()),
        delete_existing,
        snapshot_rate: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_over_http_into_a_recreated_region_leaves_exactly_the_source_indices() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    let progress_seen = Arc::new(Mutex::new(vec![]));
    let seen = progress_seen.clone();
    let progress = move |phase: es::ProgressOf, p: es::Progress| {
        seen.lock()
            .expect("progress")
            .push((phase, p.done, p.total));
    };
    let report = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("failback-1", false),
        &progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    assert!(report.indices.iter().all(|c| c.equal()));
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
    assert!(!camunda_indices(&sim, 0).is_empty());
    {
        let w = sim.world().lock();
        assert!(
            w.regions[1].es.repositories["camunda_backup"].readonly,
            "target registration is read-only"
        );
        assert!(!w.regions[0].es.repositories["camunda_backup"].readonly);
        // The global state came along: the Camunda templates.
        assert_eq!(w.regions[1].es.templates, w.regions[0].es.templates);
        assert!(!w.regions[1].es.templates.is_empty());
    }
    let restore = report.restore.expect("restore report");
    assert_eq!(restore.outcome, RestoreOutcome::Restored);
    assert_eq!(restore.health, "green");
    assert!(restore.deleted_indices.is_empty());
    let seen = progress_seen.lock().expect("progress").clone();
    assert!(
        seen.iter()
            .any(|(p, d, t)| *p == es::ProgressOf::Snapshot && d == t && *t > 0)
    );
    assert!(
        seen.iter()
            .any(|(p, d, t)| *p == es::ProgressOf::Restore && d < t)
    );
    assert!(
        seen.iter()
            .any(|(p, d, t)| *p == es::ProgressOf::Restore && d == t)
    );

    let status = es::cluster_status(&target, &opts()).await.expect("status");
    assert_eq!(status.health, "green");
    assert_eq!(status.restored_from.as_deref(), Some("failback-1"));
    assert!(!status.restoring);
    let status = es::cluster_status(&source, &opts()).await.expect("status");
    assert_eq!(status.restored_from, None);
    assert!(!status.camunda_indices.is_empty());

    // Re-running is "already done"; so is restoring the same snapshot again.
    let again = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("failback-2", false),
        &no_progress,
    )
    .await
    .expect("copy again");
    assert_eq!(again.outcome, CopyOutcome::AlreadyDone);
    let restore_again = es::snapshot_restore(&target, &opts(), "failback-1", false, &no_progress)
        .await
        .expect("restore again");
    assert_eq!(restore_again.outcome, RestoreOutcome::AlreadyRestored);

    // The target's read-only registration cannot take snapshots (ES answers 400).
    let err = es::snapshot_create(&target, &opts(), Some("from-target"), &no_progress)
        .await
        .expect_err("read-only");
    assert!(err.to_string().contains("readonly"), "{err}");

    // Listing and showing through the target.
    let list = es::snapshot_list(&target, &opts()).await.expect("list");
    assert_eq!(list.snapshots.len(), 1);
    let shown = es::snapshot_show(&target, &opts(), "failback-1")
        .await
        .expect("show");
    assert_eq!(shown.state, "SUCCESS");
    assert!(shown.include_global_state);
    let repo_report = es::repo_show(&target, &opts()).await.expect("repo show");
    assert!(repo_report.readonly);
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_over_curl_exec_survives_cut_streams() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let exec0 = SimExec::new(&sim, 0);
    let exec1 = SimExec::new(&sim, 1);
    exec0.cut_next.store(2, Ordering::SeqCst);
    let source = curl(&exec0, None);
    let target = curl(&exec1, None);
    let report = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("viaexec", false),
        &no_progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
    assert_eq!(
        exec0.cut_next.load(Ordering::SeqCst),
        0,
        "the cuts happened"
    );
    for (argv, _) in exec0.calls.lock().expect("calls").iter() {
        assert_eq!(argv[0], "curl");
        assert!(argv.iter().any(|a| a == "-K"));
        assert!(
            argv.iter().all(|a| !a.contains("include_global_state")),
            "body not in argv: {argv:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_with_camunda_indices_is_refused_unless_told_to_delete_them() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    // The schema manager ran in the recreated region (CREATESCHEMA=false forgotten).
    sim.world().lock().regions[1].es.seed_schema();
    let before = camunda_indices(&sim, 1);
    assert!(!before.is_empty());
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    let err = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("refused", false),
        &no_progress,
    )
    .await
    .expect_err("refused");
    assert!(matches!(err, Error::Refused(_)), "{err}");
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string().contains("operate-list-view-8.3.0_"),
        "{err}"
    );
    assert!(err.to_string().contains("--delete-existing"), "{err}");
    assert_eq!(camunda_indices(&sim, 1), before, "nothing deleted");
    assert!(
        sim.world().lock().object_store.is_empty(),
        "no snapshot taken"
    );

    // A plain restore is refused the same way.
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("register source");
    es::snapshot_create(&source, &opts(), Some("snap-a"), &no_progress)
        .await
        .expect("snapshot");
    es::repo_register(&target, &opts(), &repo().with_readonly(true))
        .await
        .expect("register target");
    let err = es::snapshot_restore(&target, &opts(), "snap-a", false, &no_progress)
        .await
        .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert_eq!(camunda_indices(&sim, 1), before, "nothing deleted");

    // The preview (reads only) shows the deletion without doing it.
    let preview = es::snapshot_restore_preview(&target, &opts(), "snap-a", true)
        .await
        .expect("preview");
    assert_eq!(
        preview.delete_indices,
        before.keys().cloned().collect::<Vec<_>>()
    );
    assert!(preview.calls.iter().any(|c| c.starts_with("DELETE /")));
    assert!(
        preview
            .calls
            .last()
            .is_some_and(|c| c.contains("/_restore"))
    );
    assert_eq!(
        camunda_indices(&sim, 1),
        before,
        "a preview deletes nothing"
    );

    // With --delete-existing: exactly the Camunda indices go, then the restore runs.
    let report = es::snapshot_restore(&target, &opts(), "snap-a", true, &no_progress)
        .await
        .expect("restore");
    assert_eq!(report.outcome, RestoreOutcome::Restored);
    let deleted: Vec<String> = before.keys().cloned().collect();
    assert_eq!(report.deleted_indices, deleted);
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_with_delete_existing_replaces_the_schema_manager_indices() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    sim.world().lock().regions[1].es.seed_schema();
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    let report = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("del", true),
        &no_progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    assert!(!report.restore.expect("restore").deleted_indices.is_empty());
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_with_swapped_regions_is_refused() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let err = es::copy(
        &http(&sim, 1, None),
        &http(&sim, 0, None),
        &opts(),
        &copy_spec("x", true),
        &no_progress,
    )
    .await
    .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(
        !camunda_indices(&sim, 0).is_empty(),
        "the surviving region keeps its indices"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_snapshot_is_an_error_naming_the_failed_shard() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let source = http(&sim, 0, None);
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("register");
    sim.world().lock().faults.partial_snapshot = true;
    let err = es::snapshot_create(&source, &opts(), Some("partial"), &no_progress)
        .await
        .expect_err("partial");
    assert_eq!(err.exit_code(), 1);
    let msg = err.to_string();
    assert!(msg.contains("PARTIAL") && msg.contains("[0]"), "{msg}");
    // And it can not be restored.
    sim.recreate_region(1);
    let target = http(&sim, 1, None);
    es::repo_register(&target, &opts(), &repo().with_readonly(true))
        .await
        .expect("register target");
    let err = es::snapshot_restore(&target, &opts(), "partial", false, &no_progress)
        .await
        .expect_err("not restorable");
    assert!(err.to_string().contains("PARTIAL"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_verification_is_reported() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.world().lock().faults.repo_verify_fails = true;
    let err = es::repo_register(&http(&sim, 0, None), &opts(), &repo())
        .await
        .expect_err("verify");
    let msg = err.to_string();
    assert_eq!(err.exit_code(), 1);
    assert!(msg.contains("repository_verification_exception"), "{msg}");
    assert!(msg.contains("keystore"), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_snapshot_name_is_refused_by_c8dr_and_by_es() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let source = http(&sim, 0, None);
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("register");
    es::snapshot_create(&source, &opts(), Some("dup"), &no_progress)
        .await
        .expect("first");
    let err = es::snapshot_create(&source, &opts(), Some("dup"), &no_progress)
        .await
        .expect_err("second");
    assert!(err.to_string().contains("already exists"), "{err}");
    // The simulated ES itself answers like ES.
    let (status, body) = source
        .request(
            Method::PUT,
            "_snapshot/camunda_backup/dup",
            Some(&json!({"include_global_state": true})),
        )
        .await
        .expect("request");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_snapshot_name_exception");
    assert!(
        body["error"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("snapshot with the same name already exists"))
    );
    // Bad names are usage errors, before any call.
    let err = es::snapshot_create(&source, &opts(), Some("Bad Name"), &no_progress)
        .await
        .expect_err("usage");
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_security_the_password_goes_on_stdin_never_in_argv() {
    let cfg = SimConfig {
        es_security: true,
        ..SimConfig::default()
    };
    let password = cfg.es_password.clone();
    let (sim, _dir) = start(cfg).await;
    sim.recreate_region(1);
    let exec0 = SimExec::new(&sim, 0);
    let exec1 = SimExec::new(&sim, 1);
    let creds = Some(EsCredentials::elastic(password.clone()));
    // Keep the recreated cluster's own security index (feature states) when security is on.
    let secure_opts = EsOptions {
        restore_feature_states: Some(vec!["none".into()]),
        ..opts()
    };
    let report = es::copy(
        &curl(&exec0, creds.clone()),
        &curl(&exec1, creds.clone()),
        &secure_opts,
        &copy_spec("secure", false),
        &no_progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    for exec in [&exec0, &exec1] {
        let calls = exec.calls.lock().expect("calls");
        assert!(!calls.is_empty());
        for (argv, stdin) in calls.iter() {
            assert!(
                argv.iter().all(|a| !a.contains(&password)),
                "password in argv: {argv:?}"
            );
            assert!(String::from_utf8_lossy(stdin).contains(&password));
        }
    }
    assert!(!format!("{creds:?}").contains(&password));
    assert!(
        exec1
            .calls
            .lock()
            .expect("calls")
            .iter()
            .any(|(argv, stdin)| {
                argv.last().is_some_and(|u| u.ends_with("/_restore"))
                    && String::from_utf8_lossy(stdin).contains(r#"\"feature_states\":[\"none\"]"#)
            })
    );
    // Without credentials: 401 from ES, over both transports.
    let err = es::snapshot_list(&curl(&exec0, None), &opts())
        .await
        .expect_err("401");
    assert!(
        err.to_string().contains("401") && err.to_string().contains("security_exception"),
        "{err}"
    );
    let err = es::repo_show(&http(&sim, 0, None), &opts())
        .await
        .expect_err("401");
    assert!(err.to_string().contains("401"), "{err}");
    // Over HTTP with credentials it works.
    es::repo_show(&http(&sim, 0, creds), &opts())
        .await
        .expect("authenticated");
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_time_out_with_exit_code_4() {
    let cfg = SimConfig {
        es_shard_duration: Duration::from_secs(30),
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    let source = http(&sim, 0, None);
    let short = EsOptions {
        wait_timeout: Duration::from_millis(300),
        ..EsOptions::default()
    };
    es::repo_register(&source, &short, &repo())
        .await
        .expect("register");
    let err = es::snapshot_create(&source, &short, Some("slow"), &no_progress)
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(err.exit_code(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writable_registration_on_the_target_does_not_see_new_snapshots() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("source");
    // Registered writable too early, as the docs warn.
    es::repo_register(&target, &opts(), &repo())
        .await
        .expect("target");
    es::snapshot_create(&source, &opts(), Some("late"), &no_progress)
        .await
        .expect("snapshot");
    let err = es::snapshot_restore(&target, &opts(), "late", false, &no_progress)
        .await
        .expect_err("invisible");
    assert!(err.to_string().contains("read-only"), "{err}");
    es::repo_register(&target, &opts(), &repo().with_readonly(true))
        .await
        .expect("readonly");
    es::snapshot_show(&target, &opts(), "late")
        .await
        .expect("visible now");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_without_global_state_is_refused() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("source");
    let (status, _) = source
        .request(
            Method::PUT,
            "_snapshot/camunda_backup/noglobal",
            Some(&json!({"include_global_state": false})),
        )
        .await
        .expect("put");
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    es::repo_register(&target, &opts(), &repo().with_readonly(true))
        .await
        .expect("target");
    let err = es::snapshot_restore(&target, &opts(), "noglobal", false, &no_progress)
        .await
        .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(camunda_indices(&sim, 1).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_to_a_wrong_port_is_unreachable() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let exec = SimExec::new(&sim, 0);
    let t = curl(&exec, None).with_url("http://localhost:9201", false);
    let quick = EsOptions {
        retries: 1,
        ..opts()
    };
    let err = es::snapshot_list(&t, &quick)
        .await
        .expect_err("unreachable");
    assert_eq!(err.exit_code(), 5, "{err}");
    assert!(err.to_string().contains("Failed to connect"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_copy_follows_the_interrupted_restore() {
    let cfg = SimConfig {
        es_shard_duration: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    es::repo_register(&source, &opts(), &repo())
        .await
        .expect("source");
    es::snapshot_create(&source, &opts(), Some("interrupted"), &no_progress)
        .await
        .expect("snapshot");
    es::repo_register(&target, &opts(), &repo().with_readonly(true))
        .await
        .expect("target");
    // The first run started the restore, then died.
    let (status, _) = target
        .request(
            Method::POST,
            "_snapshot/camunda_backup/interrupted/_restore",
            Some(&json!({"include_global_state": true})),
        )
        .await
        .expect("restore");
    assert_eq!(status, 200);
    let preview = es::copy_preview(&source, &target, &opts(), &copy_spec("rerun", false))
        .await
        .expect("preview");
    assert_eq!(preview.resume_restore.as_deref(), Some("interrupted"));
    let report = es::copy(
        &source,
        &target,
        &opts(),
        &copy_spec("rerun", false),
        &no_progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Resumed);
    assert!(report.snapshot.is_none(), "no second snapshot");
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
    assert_eq!(
        es::snapshot_list(&source, &opts())
            .await
            .expect("list")
            .snapshots
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_stream_after_starting_a_snapshot_or_restore_does_not_start_it_twice() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.recreate_region(1);
    let exec0 = SimExec::new(&sim, 0);
    let exec1 = SimExec::new(&sim, 1);
    *exec0.cut_request.lock().expect("cut") =
        Some(("PUT".into(), "/_snapshot/camunda_backup/cut-snap".into()));
    *exec1.cut_request.lock().expect("cut") = Some((
        "POST".into(),
        "/_snapshot/camunda_backup/cut-snap/_restore".into(),
    ));
    let report = es::copy(
        &curl(&exec0, None),
        &curl(&exec1, None),
        &opts(),
        &copy_spec("cut-snap", false),
        &no_progress,
    )
    .await
    .expect("copy");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    assert!(
        exec0.cut_request.lock().expect("cut").is_none(),
        "the snapshot PUT was cut"
    );
    assert!(
        exec1.cut_request.lock().expect("cut").is_none(),
        "the restore POST was cut"
    );
    let puts = exec0
        .calls
        .lock()
        .expect("calls")
        .iter()
        .filter(|(argv, _)| {
            argv.iter().any(|a| a == "PUT") && argv.last().is_some_and(|u| u.ends_with("/cut-snap"))
        })
        .count();
    assert_eq!(puts, 1, "the snapshot was started once");
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
}

/// The CLI may spawn the operations (e.g. both regions concurrently): their futures are `Send`.
#[test]
fn the_operations_are_send() {
    fn is_send<T: Send>(_: T) {}
    let t = HttpTransport::new("http://localhost:1", None, Duration::from_secs(1)).expect("t");
    let o = EsOptions::default();
    let spec = copy_spec("x", false);
    is_send(es::copy(&t, &t, &o, &spec, &no_progress));
    is_send(es::snapshot_create(&t, &o, None, &no_progress));
    is_send(es::snapshot_restore(&t, &o, "x", false, &no_progress));
    is_send(es::cluster_status(&t, &o));
}

/// Snapshot region 0 (snapshot `multi`) and register the repository read-only in the recreated
/// region 1: the transports of source and target.
async fn snapshot_for_restore(sim: &Sim, opts: &EsOptions) -> (HttpTransport, HttpTransport) {
    sim.recreate_region(1);
    let source = http(sim, 0, None);
    let target = http(sim, 1, None);
    es::repo_register(&source, opts, &repo())
        .await
        .expect("register source");
    es::snapshot_create(&source, opts, Some("multi"), &no_progress)
        .await
        .expect("snapshot");
    es::repo_register(&target, opts, &repo().with_readonly(true))
        .await
        .expect("register target");
    (source, target)
}

/// Snapshot region 0 and restore it into the recreated region 1 with `opts`, recording the
/// restore progress; returns the report (or error) and the restore progress seen.
async fn snapshot_and_restore(
    sim: &Sim,
    opts: &EsOptions,
) -> (c8dr_common::Result<es::RestoreReport>, Vec<(u64, u64)>) {
    let (_, target) = snapshot_for_restore(sim, opts).await;
    let seen = Arc::new(Mutex::new(vec![]));
    let s = seen.clone();
    let progress = move |phase: es::ProgressOf, p: es::Progress| {
        if phase == es::ProgressOf::Restore {
            s.lock().expect("progress").push((p.done, p.total));
        }
    };
    let result = es::snapshot_restore(&target, opts, "multi", false, &progress).await;
    let seen = seen.lock().expect("progress").clone();
    (result, seen)
}

/// Shard copies of a region's indices: allocatable and active now (read from the simulator).
fn health_now(sim: &Sim, region: RegionId) -> serde_json::Value {
    let w = sim.world().lock();
    let es = &w.regions[region].es;
    let all: u64 = es
        .indices
        .values()
        .map(|i| u64::from(i.shards) * (1 + u64::from(i.allocatable_replicas(es.nodes))))
        .sum();
    let now = tokio::time::Instant::now();
    let active: u64 = es
        .indices
        .values()
        .map(|i| i.copies(es.nodes).iter().filter(|c| c.done(now)).count() as u64)
        .sum();
    json!({"allocatable_copies": all, "active_copies": active, "indices": es.indices.len()})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_of_indices_with_three_primaries_and_a_replica_completes() {
    // Issue 9 item 8: Camunda indices with numberOfShards 3 and a replica on a two-node cluster.
    // The restore used to wait for "primaries done == number of indices", which never happens
    // with 3 primaries per index: a false timeout.
    let cfg = SimConfig {
        es_nodes: 2,
        es_number_of_shards: 3,
        es_number_of_replicas: 1,
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    let opts = EsOptions {
        wait_timeout: Duration::from_secs(8),
        ..EsOptions::default()
    };
    let (result, seen) = snapshot_and_restore(&sim, &opts).await;
    let report = result.expect("the restore completes (no false timeout)");
    assert_eq!(report.outcome, RestoreOutcome::Restored);
    assert_eq!(report.health, "green");
    let h = health_now(&sim, 1);
    let indices = h["indices"].as_u64().expect("indices");
    // Every copy was active when c8dr said done: 3 primaries and 3 replicas per index.
    assert_eq!(h["active_copies"], 6 * indices, "{h}");
    // Progress counts shard copies, never shards over indices.
    let last = seen.last().copied().expect("progress reported");
    assert_eq!(last, (6 * indices, 6 * indices), "{seen:?}");
    assert!(
        seen.iter().all(|(d, t)| d <= t && *t == 6 * indices),
        "{seen:?}"
    );
    assert!(seen.iter().any(|(d, t)| d < t), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_is_not_done_while_replicas_still_recover() {
    // One primary per index, one replica on a two-node cluster: once every primary is restored
    // the cluster is yellow only because the replicas are still copying from them. That is not
    // the end of the restore (the region holds a single copy of its data until they are done).
    // Following a running restore at exactly that moment (a re-run after an interruption) must
    // wait for the replicas.
    let cfg = SimConfig {
        es_nodes: 2,
        es_number_of_shards: 1,
        es_number_of_replicas: 1,
        es_shard_duration: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    let (_, target) = snapshot_for_restore(&sim, &opts()).await;
    let (status, _) = target
        .request(
            Method::POST,
            "_snapshot/camunda_backup/multi/_restore",
            Some(&json!({"include_global_state": true})),
        )
        .await
        .expect("start the restore");
    assert_eq!(status, 200);
    // Wait until every primary is active while the last replica still recovers.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let primaries_done = {
            let w = sim.world().lock();
            let now = tokio::time::Instant::now();
            w.regions[1]
                .es
                .indices
                .values()
                .all(|i| i.primaries_active(now))
        };
        if primaries_done {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "restore never ran");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let h = health_now(&sim, 1);
    assert!(
        h["active_copies"] != h["allocatable_copies"],
        "too late: {h}"
    );
    let report = es::snapshot_restore(&target, &opts(), "multi", false, &no_progress)
        .await
        .expect("follow the running restore");
    assert_eq!(report.outcome, RestoreOutcome::AlreadyRestored);
    assert_eq!(report.health, "green");
    let h = health_now(&sim, 1);
    assert_eq!(h["active_copies"], h["allocatable_copies"], "{h}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_node_restore_ends_yellow_with_its_replicas_unassignable() {
    // A single data node can never hold a replica next to its primary: the restore is complete
    // when every primary is restored, and the cluster stays yellow (as real ES reports it).
    let cfg = SimConfig {
        es_nodes: 1,
        es_number_of_shards: 3,
        es_number_of_replicas: 1,
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    let opts = EsOptions {
        wait_timeout: Duration::from_secs(8),
        ..EsOptions::default()
    };
    let (result, seen) = snapshot_and_restore(&sim, &opts).await;
    let report = result.expect("the restore completes");
    assert_eq!(report.health, "yellow");
    let h = health_now(&sim, 1);
    let indices = h["indices"].as_u64().expect("indices");
    assert_eq!(h["active_copies"], 3 * indices, "{h}");
    assert_eq!(seen.last().copied(), Some((3 * indices, 3 * indices)));
}

/// An `fs` repository on a directory both regions share (`path.repo` on every node).
fn fs_repo(location: &str) -> RepoSpec {
    let mut settings = serde_json::Map::new();
    settings.insert("location".into(), json!(location));
    RepoSpec {
        kind: "fs".into(),
        settings,
        readonly: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_between_opensearch_clusters_sends_no_feature_states() {
    // Issue 10 item 3: OpenSearch 2.19 has no feature states and answers a restore body with
    // `feature_states` with 400 "Unknown parameter feature_states". c8dr asks for
    // feature_states ["none"] when the target is secured; against OpenSearch it must leave the
    // key out (and say what it found in `GET /`).
    let cfg = SimConfig {
        es_opensearch: true,
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = http(&sim, 1, None);
    let opts = EsOptions {
        restore_feature_states: Some(vec!["none".into()]),
        ..opts()
    };
    let spec = CopySpec {
        repo: fs_repo("/mnt/shared/snapshots"),
        snapshot: Some("os-copy".into()),
        delete_existing: false,
        snapshot_rate: None,
    };
    let preview = es::copy_preview(&source, &target, &opts, &spec)
        .await
        .expect("preview");
    assert!(
        preview.calls.iter().all(|c| !c.contains("feature_states")),
        "{:#?}",
        preview.calls
    );
    let report = es::copy(&source, &target, &opts, &spec, &no_progress)
        .await
        .expect("copy to OpenSearch");
    assert_eq!(report.outcome, CopyOutcome::Copied);
    assert_eq!(camunda_indices(&sim, 1), camunda_indices(&sim, 0));
    let w = sim.world().lock();
    let reg = &w.regions[1].es.repositories["camunda_backup"];
    assert_eq!((reg.kind.as_str(), reg.readonly), ("fs", true));
    assert_eq!(reg.settings["location"], "/mnt/shared/snapshots");
}

#[tokio::test(flavor = "multi_thread")]
async fn elasticsearch_still_gets_the_feature_states_it_is_asked_for() {
    // The other side of the same rule: Elasticsearch 8 restores every feature state of the
    // snapshot by default, so a secured target must still get feature_states ["none"].
    let (sim, _dir) = start(SimConfig::default()).await;
    let exec1 = SimExec::new(&sim, 1);
    let opts = EsOptions {
        restore_feature_states: Some(vec!["none".into()]),
        ..opts()
    };
    sim.recreate_region(1);
    let source = http(&sim, 0, None);
    let target = curl(&exec1, None);
    es::copy(
        &source,
        &target,
        &opts,
        &copy_spec("es-copy", false),
        &no_progress,
    )
    .await
    .expect("copy");
    let calls = exec1.calls.lock().expect("calls").clone();
    let restore = calls
        .iter()
        .find(|(argv, _)| argv.last().is_some_and(|u| u.ends_with("/_restore")))
        .expect("a restore call");
    let body = String::from_utf8_lossy(&restore.1);
    // curl reads the body from its config on stdin (`data-raw = "…"`, quotes escaped).
    assert!(
        body.contains("feature_states") && body.contains("none"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_timeout_says_how_many_shard_copies_were_recovered() {
    let cfg = SimConfig {
        es_shard_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    let (sim, _dir) = start(cfg).await;
    let (_, target) = snapshot_for_restore(&sim, &opts()).await;
    let short = EsOptions {
        wait_timeout: Duration::from_millis(600),
        ..EsOptions::default()
    };
    let err = es::snapshot_restore(&target, &short, "multi", false, &no_progress)
        .await
        .expect_err("timeout");
    assert_eq!(err.exit_code(), 4);
    let msg = err.to_string();
    assert!(
        msg.contains("shard copies recovered on 2 data node(s)"),
        "{msg}"
    );
}
