//! The `kubectl c8dr es` commands in process: each command function runs against the simulator
//! (Elasticsearch reached by curl exec'd in its pod, as on a real cluster), and the tests assert
//! on the returned `Outcome`/view and on the simulator's Elasticsearch state.

use std::collections::BTreeSet;

use crate::support::Cluster;
use c8dr_common::commands::Ending;
use c8dr_common::commands::es::{self, CopyArgs};
use c8dr_common::es::{EsAccess, RepoFlags};
use c8dr_sim::{SimConfig, World};

const BUCKET: &str = "c8dr-commands-bucket";
const REPO: &str = "camunda_backup";

fn s3() -> RepoFlags {
    RepoFlags {
        bucket: Some(BUCKET.into()),
        ..RepoFlags::default()
    }
}

fn read_only() -> RepoFlags {
    RepoFlags {
        readonly: true,
        ..s3()
    }
}

/// The Camunda indices of a region's Elasticsearch, as the simulator holds them.
fn camunda_indices(w: &World, region: usize) -> BTreeSet<String> {
    w.regions[region]
        .es
        .indices
        .keys()
        .filter(|i| c8dr_common::es::is_camunda_index(i))
        .cloned()
        .collect()
}

/// The uuids of a region's indices: a deleted and recreated index gets a new one.
fn index_uuids(w: &World, region: usize) -> Vec<String> {
    w.regions[region]
        .es
        .indices
        .values()
        .map(|i| i.uuid.clone())
        .collect()
}

/// The snapshots the shared bucket holds (any base path).
fn stored_snapshots(w: &World) -> Vec<String> {
    w.object_store
        .get(BUCKET)
        .map(|paths| {
            paths
                .values()
                .flat_map(|r| r.snapshots.iter().map(|s| s.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Region 1 lost and recreated, Camunda installed there with the schema manager off (failback
/// step 1): its Elasticsearch runs and is empty.
fn recreate_region1(c: &Cluster) {
    c.lose(1);
    c.sim.recreate_region(1);
    let mut w = c.sim.world().lock();
    c8dr_sim::helm::apply_release(
        &mut w,
        1,
        serde_json::json!({"orchestration": {"env": [
            {"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}
        ]}}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_the_regions_camunda_indices_read_through_the_pod() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("region0").timeout("20s").build();
    let view = es::status(&s, &EsAccess::default()).await.expect("status");
    let shown: BTreeSet<String> = view.status.camunda_indices.keys().cloned().collect();
    assert!(!shown.is_empty());
    assert_eq!(shown, c.world(|w| camunda_indices(w, 0)));
    assert_eq!(
        view.status.indices,
        c.world(|w| w.regions[0].es.indices.len())
    );
    assert_eq!(view.status.restored_from, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_with_security_on_reads_the_password_from_the_charts_secret() {
    let c = Cluster::start(SimConfig {
        es_security: true,
        ..SimConfig::default()
    })
    .await;
    let s = c.session().region("region0").timeout("20s").build();
    let view = es::status(&s, &EsAccess::default()).await.expect("status");
    assert_eq!(
        view.status.camunda_indices.len(),
        c.world(|w| camunda_indices(w, 0).len())
    );

    // Without the Secret there is no password: Elasticsearch answers 401, exit 1.
    let release = c.world(|w| w.cfg.release.clone());
    c.sim.world().lock().regions[0]
        .secrets
        .remove(&format!("{release}-elasticsearch"));
    let err = es::status(&s, &EsAccess::default())
        .await
        .expect_err("no credentials");
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(err.to_string().contains("credentials"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repo_register_twice_keeps_one_registration_and_its_snapshots() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("surviving").timeout("20s").build();
    let access = EsAccess::default();
    let first = es::repo_register(&s, &access, &s3())
        .await
        .expect("register");
    assert_eq!(first.status, Ending::Done, "{first:?}");
    let created = es::snapshot_create(&s, &access, Some("snap-1"))
        .await
        .expect("snapshot");
    assert_eq!(created.status, Ending::Done);

    let again = es::repo_register(&s, &access, &s3())
        .await
        .expect("register again");
    assert_eq!(again.status, Ending::Done);
    c.world(|w| {
        let repos = &w.regions[0].es.repositories;
        assert_eq!(repos.len(), 1, "{repos:?}");
        let reg = &repos[REPO];
        assert_eq!(reg.kind, "s3");
        assert_eq!(reg.settings["bucket"], BUCKET);
        assert!(!reg.readonly);
    });
    // The snapshot written before is still there and listed.
    let list = es::snapshot_list(&s, &access).await.expect("list");
    let names: Vec<&str> = list
        .0
        .snapshots
        .iter()
        .map(|s| s.snapshot.as_str())
        .collect();
    assert_eq!(names, ["snap-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_create_waits_for_success_and_list_and_show_find_it() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("surviving").timeout("20s").build();
    let access = EsAccess::default();
    es::repo_register(&s, &access, &s3())
        .await
        .expect("register");
    let out = es::snapshot_create(&s, &access, Some("snap-a"))
        .await
        .expect("snapshot");
    assert_eq!(out.status, Ending::Done);
    assert!(out.summary.contains("SUCCESS"), "{}", out.summary);
    assert!(out.plan.iter().any(|p| p.contains("include_global_state")));
    c.world(|w| {
        assert_eq!(stored_snapshots(w), ["snap-a"]);
        let snap = &w.object_store[BUCKET]
            .values()
            .next()
            .expect("a repository path")
            .snapshots[0];
        assert_eq!(snap.state, c8dr_sim::es::SnapState::Success);
        assert!(snap.include_global_state);
        // Every Camunda index of the region is in it.
        let held: BTreeSet<String> = snap.indices.keys().cloned().collect();
        assert!(camunda_indices(w, 0).is_subset(&held));
    });
    let list = es::snapshot_list(&s, &access).await.expect("list");
    assert_eq!(list.0.snapshots.len(), 1);
    assert_eq!(list.0.snapshots[0].state, "SUCCESS");
    let shown = es::snapshot_show(&s, &access, "snap-a")
        .await
        .expect("show");
    assert!(shown.0.include_global_state);

    // A dry run of another snapshot writes nothing.
    let dry = c.session().region("surviving").dry_run().build();
    let out = es::snapshot_create(&dry, &access, Some("snap-b"))
        .await
        .expect("dry run");
    assert_eq!(out.status, Ending::DryRun);
    assert_eq!(c.world(stored_snapshots), ["snap-a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_into_the_recreated_region_brings_back_the_surviving_camunda_indices() {
    let c = Cluster::start(SimConfig::default()).await;
    let access = EsAccess::default();
    let surviving = c.session().region("surviving").timeout("30s").build();
    es::repo_register(&surviving, &access, &s3())
        .await
        .expect("register");
    es::snapshot_create(&surviving, &access, Some("failback-1"))
        .await
        .expect("snapshot");
    recreate_region1(&c);
    assert!(c.world(|w| camunda_indices(w, 1).is_empty()));

    let recreated = c.session().region("recreated").timeout("30s").build();
    let reg = es::repo_register(&recreated, &access, &read_only())
        .await
        .expect("register read-only");
    assert_eq!(reg.status, Ending::Done);
    assert!(c.world(|w| w.regions[1].es.repositories[REPO].readonly));

    let out = es::snapshot_restore(&recreated, &access, "failback-1", false, None)
        .await
        .expect("restore");
    assert_eq!(out.status, Ending::Done, "{out:?}");
    c.world(|w| assert_eq!(camunda_indices(w, 1), camunda_indices(w, 0)));
    let view = es::status(&recreated, &access).await.expect("status");
    assert_eq!(view.status.restored_from.as_deref(), Some("failback-1"));
    assert!(!view.status.restoring);

    // Again: nothing to do, and nothing deleted or restored anew.
    let uuids = c.world(|w| index_uuids(w, 1));
    let again = es::snapshot_restore(&recreated, &access, "failback-1", false, None)
        .await
        .expect("restore again");
    assert_eq!(again.status, Ending::AlreadyDone, "{again:?}");
    let after = c.world(|w| index_uuids(w, 1));
    assert_eq!(after, uuids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_existing_indices_is_refused_outside_the_recreated_region() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("surviving").timeout("20s").build();
    let before = c.world(|w| camunda_indices(w, 0));
    let err = es::snapshot_restore(&s, &EsAccess::default(), "any", true, None)
        .await
        .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert_eq!(c.world(|w| camunda_indices(w, 0)), before);
}

/// `es copy --from surviving --to recreated --exporting-paused` with snapshot `copy-1`.
fn copy_args() -> CopyArgs {
    CopyArgs {
        snapshot: Some("copy-1".into()),
        exporting_paused: true,
        ..CopyArgs::failback_copy()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_dry_run_plans_every_call_and_sends_none() {
    let c = Cluster::start(SimConfig::default()).await;
    recreate_region1(&c);
    let s = c.session().dry_run().timeout("30s").build();
    let out = es::copy(&s, &EsAccess::default(), &s3(), &copy_args())
        .await
        .expect("dry run");
    assert_eq!(out.status, Ending::DryRun, "{out:?}");
    for call in [
        "source: PUT _snapshot/camunda_backup?verify=false",
        "source: PUT _snapshot/camunda_backup/copy-1",
        "target: PUT _snapshot/camunda_backup?verify=false",
        "target: POST _snapshot/camunda_backup/copy-1/_restore",
    ] {
        assert!(
            out.plan.iter().any(|p| p.starts_with(call)),
            "{call} not in {:#?}",
            out.plan
        );
    }
    c.world(|w| {
        assert!(w.regions[0].es.repositories.is_empty());
        assert!(w.regions[1].es.repositories.is_empty());
        assert!(stored_snapshots(w).is_empty());
        assert!(camunda_indices(w, 1).is_empty());
    });

    // For real, the copy refuses while the brokers still export (--exporting-paused or not)...
    let s = c.session().timeout("30s").build();
    let err = es::copy(&s, &EsAccess::default(), &s3(), &copy_args())
        .await
        .expect_err("exporting runs");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(c.world(stored_snapshots).is_empty());

    // ...and once exporting is paused it does all of it: the assertions above can fail.
    c8dr_common::commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");
    let out = es::copy(&s, &EsAccess::default(), &s3(), &copy_args())
        .await
        .expect("copy");
    assert_eq!(out.status, Ending::Done, "{out:?}");
    c.world(|w| {
        assert_eq!(stored_snapshots(w), ["copy-1"]);
        assert!(w.regions[1].es.repositories[REPO].readonly);
        assert_eq!(camunda_indices(w, 1), camunda_indices(w, 0));
    });
}

const MAX_BYTES: &str = "indices.recovery.max_bytes_per_sec";
const RECORD: &str = "cluster.metadata.c8dr_recovery_tuning";

/// A region's persistent cluster settings, as the simulated Elasticsearch holds them.
fn persistent(w: &World, region: usize) -> std::collections::BTreeMap<String, String> {
    w.regions[region].es.settings.persistent.clone()
}

/// Some shard copy of the region's indices is still recovering.
fn restoring(w: &World, region: usize) -> bool {
    let now = tokio::time::Instant::now();
    let indices = &w.regions[region].es.indices;
    !indices.is_empty()
        && indices
            .values()
            .any(|i| i.recovery.copies.iter().any(|c| !c.done(now)))
}

/// A restore with the global state replaces the target's persistent settings with the
/// snapshot's: the raise must land after the restore is accepted (so the restore runs at the
/// raised limits), and the put-back must restore what the snapshot brought, not null it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_raises_the_limits_during_the_restore_and_puts_back_what_the_snapshot_brought() {
    let c = Cluster::start(SimConfig {
        es_shard_duration: std::time::Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    // The source's own persistent setting travels in the snapshot's global state.
    c.sim.world().lock().regions[0]
        .es
        .settings
        .persistent
        .insert(MAX_BYTES.into(), "100mb".into());
    recreate_region1(&c);
    let s = c.session().timeout("60s").build();
    c8dr_common::commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");

    // The plan shows the values the restore will bring and puts exactly those back.
    let dry = c.session().dry_run().timeout("60s").build();
    let plan = es::copy(&dry, &EsAccess::default(), &s3(), &copy_args())
        .await
        .expect("dry run")
        .plan
        .join("\n");
    assert!(
        plan.contains("indices.recovery.max_bytes_per_sec: 100mb → -1"),
        "{plan}"
    );
    assert!(
        plan.contains("indices.recovery.max_bytes_per_sec = 100mb"),
        "{plan}"
    );

    let seen = std::sync::Mutex::new(vec![]);
    let done = std::sync::atomic::AtomicBool::new(false);
    let watch = async {
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let during = c.world(|w| restoring(w, 1).then(|| persistent(w, 1)));
            if let Some(p) = during
                && let Ok(mut seen) = seen.lock()
            {
                seen.push(p);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let copy = async {
        let out = es::copy(&s, &EsAccess::default(), &s3(), &copy_args()).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    };
    let (out, ()) = tokio::join!(copy, watch);
    let out = out.expect("copy");
    assert_eq!(out.status, Ending::Done, "{out:?}");
    let seen = seen.into_inner().unwrap_or_default();
    assert!(!seen.is_empty(), "the restore was never seen running");
    assert!(
        seen.iter()
            .any(|p| p.get(MAX_BYTES).map(String::as_str) == Some("-1") && p.contains_key(RECORD)),
        "the raise was never in effect during the restore: {seen:?}"
    );
    // Afterwards the target holds exactly what the snapshot brought.
    c.world(|w| assert_eq!(persistent(w, 1), persistent(w, 0)));
    assert!(out.summary.contains("were put back"), "{}", out.summary);
}

/// A name Elasticsearch would refuse, or one too long to be a name (120 KiB), is bad input:
/// exit 2 naming the argument, echoing only a short prefix, before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_snapshot_name_is_exit_2_before_any_call_and_echoed_short() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("surviving").timeout("20s").build();
    let access = EsAccess::default();
    let before = c.sim.shared.requests.all().len();
    let huge = "a".repeat(120 * 1024);
    for (name, why) in [
        (huge.as_str(), "at most 255 bytes"),
        ("tab\there", "control character"),
        ("a#b", "'#'"),
        ("_x", "must not start with '_'"),
    ] {
        let e = es::snapshot_create(&s, &access, Some(name))
            .await
            .expect_err("bad name");
        let msg = e.to_string();
        assert_eq!(e.exit_code(), 2, "{msg}");
        assert!(msg.contains("snapshot name"), "{msg}");
        assert!(msg.contains(why), "{msg}");
        assert!(msg.len() < 300, "echoed whole: {} bytes", msg.len());
        let e = es::snapshot_restore(&s, &access, name, false, None)
            .await
            .expect_err("bad name");
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().len() < 300);
    }
    let mut args = copy_args();
    args.snapshot = Some(huge.clone());
    let e = es::copy(&s, &access, &s3(), &args)
        .await
        .expect_err("bad name");
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().starts_with("--snapshot: "), "{e}");
    assert!(e.to_string().len() < 300);
    assert_eq!(
        c.sim.shared.requests.all().len(),
        before,
        "no call reached the cluster"
    );
}

/// Elasticsearch fails a snapshot of indices whose primaries are unassigned ("Indices don't
/// have primary shards"): c8dr names the red indices and the ways out before it starts one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_red_indices_is_refused_naming_them_and_the_options() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().region("surviving").timeout("20s").build();
    let access = EsAccess::default();
    es::repo_register(&s, &access, &s3())
        .await
        .expect("register");
    let red: Vec<String> = c.world(|w| camunda_indices(w, 0).into_iter().take(2).collect());
    {
        let mut w = c.sim.world().lock();
        for i in &red {
            if let Some(idx) = w.regions[0].es.indices.get_mut(i) {
                idx.primaries_lost = true;
            }
        }
    }
    let e = es::snapshot_create(&s, &access, Some("red-1"))
        .await
        .expect_err("red indices");
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 3, "{msg}");
    for i in &red {
        assert!(msg.contains(i.as_str()), "{msg}");
    }
    assert!(msg.contains("_cluster/allocation/explain"), "{msg}");
    assert!(c.world(stored_snapshots).is_empty());

    // The copy's dry run refuses it as the run would, before anything is written.
    recreate_region1(&c);
    let dry = c.session().dry_run().timeout("30s").build();
    let e = es::copy(&dry, &access, &s3(), &copy_args())
        .await
        .expect_err("red indices");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains(red[0].as_str()), "{e}");
}

/// Put a registration of the user's own in region 0, as `PUT _snapshot/camunda_backup` would.
fn user_registration(c: &Cluster, settings: serde_json::Value) {
    let mut w = c.sim.world().lock();
    let settings = settings.as_object().cloned().unwrap_or_default();
    w.regions[0].es.repositories.insert(
        REPO.into(),
        c8dr_sim::es::RepoRegistration {
            kind: "s3".into(),
            settings,
            readonly: false,
            seen_generation: 0,
            uuid: "user-uuid".into(),
        },
    );
}

/// The registration's settings as the simulated Elasticsearch holds them.
fn registration(c: &Cluster) -> serde_json::Map<String, serde_json::Value> {
    c.world(|w| w.regions[0].es.repositories[REPO].settings.clone())
}

/// c8dr never re-points a registration it did not make: one with other settings is refused
/// with the difference named, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_registration_elsewhere_is_refused_naming_the_difference() {
    let c = Cluster::start(SimConfig::default()).await;
    let theirs = serde_json::json!({"bucket": BUCKET, "client": "camunda", "base_path": "theirs",
                                    "compress": "true"});
    user_registration(&c, theirs.clone());
    let s = c.session().region("surviving").timeout("20s").build();
    let e = es::repo_register(&s, &EsAccess::default(), &s3())
        .await
        .expect_err("refused");
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 3, "{msg}");
    assert!(msg.contains("base_path"), "{msg}");
    assert!(msg.contains("theirs"), "{msg}");
    assert_eq!(serde_json::Value::Object(registration(&c)), theirs);

    recreate_region1(&c);
    let s = c.session().timeout("30s").build();
    c8dr_common::commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");
    let e = es::copy(&s, &EsAccess::default(), &s3(), &copy_args())
        .await
        .expect_err("refused");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert_eq!(serde_json::Value::Object(registration(&c)), theirs);
    assert!(c.world(stored_snapshots).is_empty());
}

/// A registration at the same place is used as it is, and after `--snapshot-rate` exactly the
/// previous registration is back (the user's own settings included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_rate_puts_back_the_exact_previous_registration() {
    let c = Cluster::start(SimConfig::default()).await;
    let theirs = serde_json::json!({"bucket": BUCKET, "client": "camunda", "base_path": "backups",
                                    "compress": "true", "max_snapshot_bytes_per_sec": "50mb"});
    user_registration(&c, theirs.clone());
    recreate_region1(&c);
    let s = c.session().timeout("30s").build();
    c8dr_common::commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");
    let args = CopyArgs {
        snapshot_rate: Some("100mb".into()),
        ..copy_args()
    };
    let out = es::copy(&s, &EsAccess::default(), &s3(), &args)
        .await
        .expect("copy");
    assert_eq!(out.status, Ending::Done, "{out:?}");
    assert!(
        out.plan
            .iter()
            .any(|p| p.contains("\"max_snapshot_bytes_per_sec\":\"100mb\"")),
        "{:#?}",
        out.plan
    );
    assert_eq!(serde_json::Value::Object(registration(&c)), theirs);
    c.world(|w| assert_eq!(camunda_indices(w, 1), camunda_indices(w, 0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_89_and_810_elasticsearch_is_reached_in_ecks_pod_with_ecks_password() {
    // The 8.9/8.10 reference installations run Elasticsearch under ECK (security on): no
    // subchart pod, so curl runs in `elasticsearch-es-masters-N` and the password comes from
    // `elasticsearch-es-elastic-user`.
    for camunda in [
        c8dr_sim::CamundaRelease::V8_9,
        c8dr_sim::CamundaRelease::V8_10,
    ] {
        let c = Cluster::start(SimConfig {
            camunda,
            ..SimConfig::default()
        })
        .await;
        let s = c.session().region("region0").timeout("20s").build();
        let view = es::status(&s, &EsAccess::default())
            .await
            .unwrap_or_else(|e| panic!("{camunda:?}: {e}"));
        assert_eq!(
            view.status.camunda_indices.len(),
            c.world(|w| camunda_indices(w, 0).len()),
            "{camunda:?}"
        );
        // Without ECK's Secret there is no password: Elasticsearch answers 401, exit 1.
        c.sim.world().lock().regions[0]
            .secrets
            .remove("elasticsearch-es-elastic-user");
        let s = c.session().region("region0").timeout("20s").build();
        let err = es::status(&s, &EsAccess::default())
            .await
            .expect_err("no credentials");
        assert_eq!(err.exit_code(), 1, "{camunda:?}: {err}");
    }
}
