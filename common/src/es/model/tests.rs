use std::collections::{BTreeMap, BTreeSet};

use super::*;
use serde_json::json;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn rec(index: &str, stage: &str, snapshot: Option<&str>) -> ShardRecovery {
    ShardRecovery {
        index: index.into(),
        shard: 0,
        primary: true,
        kind: if snapshot.is_some() {
            "SNAPSHOT"
        } else {
            "EMPTY_STORE"
        }
        .into(),
        stage: stage.into(),
        repository: snapshot.map(|_| "camunda_backup".into()),
        snapshot: snapshot.map(str::to_string),
        total_bytes: 1000,
        recovered_bytes: if stage == "DONE" { 1000 } else { 250 },
    }
}

#[test]
fn classification() {
    assert!(is_camunda_index("operate-list-view-8.3.0_"));
    assert!(is_camunda_index("tasklist-task-8.8.0_"));
    assert!(is_camunda_index("camunda-user-8.8.0_"));
    assert!(!is_camunda_index(".security-7"));
    assert!(!is_camunda_index("zeebe-record_job_8.8.0"));
    assert!(!is_camunda_index("operate"));
}

#[test]
fn names() {
    assert_eq!(default_snapshot_name(0), "failback-19700101-000000");
    assert_eq!(
        default_snapshot_name(1_795_469_085),
        "failback-20261123-212445"
    );
    assert!(validate_snapshot_name("failback-20261123-212445").is_ok());
    assert!(validate_snapshot_name("Upper").is_err());
    assert!(validate_snapshot_name("a b").is_err());
    assert!(validate_snapshot_name("_x").is_err());
    assert!(validate_snapshot_name("").is_err());
}

#[test]
fn snapshot_verdicts() {
    let mut info: SnapshotInfo = serde_json::from_value(json!({
        "snapshot": "s", "state": "SUCCESS", "include_global_state": true,
        "indices": ["a"], "shards": {"total": 3, "failed": 0, "successful": 3}
    }))
    .expect("info");
    assert_eq!(evaluate_snapshot(&info), SnapshotVerdict::Succeeded);
    info.state = "IN_PROGRESS".into();
    assert_eq!(evaluate_snapshot(&info), SnapshotVerdict::Running);
    info.state = "PARTIAL".into();
    info.shards.failed = 1;
    info.failures = vec![ShardFailure {
        index: "operate-x".into(),
        shard_id: 0,
        reason: "boom".into(),
    }];
    match evaluate_snapshot(&info) {
        SnapshotVerdict::Failed(m) => {
            assert!(
                m.contains("PARTIAL") && m.contains("operate-x[0]: boom"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // SUCCESS with a failed shard is not a success either.
    info.state = "SUCCESS".into();
    assert!(matches!(
        evaluate_snapshot(&info),
        SnapshotVerdict::Failed(_)
    ));
    info.state = "FAILED".into();
    assert!(matches!(
        evaluate_snapshot(&info),
        SnapshotVerdict::Failed(_)
    ));
}

#[test]
fn cat_rows() {
    let rows: Vec<CatIndex> = serde_json::from_value(json!([
        {"index": "a", "health": "green", "docs.count": "42"},
        {"index": "b", "health": "red", "docs.count": null}
    ]))
    .expect("rows");
    assert_eq!(rows[0].docs_count, Some(42));
    assert_eq!(rows[1].docs_count, None);
}

fn layouts(items: &[(&str, u64, u64)]) -> BTreeMap<String, Option<ShardLayout>> {
    items
        .iter()
        .map(|(i, shards, replicas)| {
            (
                i.to_string(),
                Some(ShardLayout {
                    shards: *shards,
                    replicas: *replicas,
                }),
            )
        })
        .collect()
}

fn copy(index: &str, shard: u64, primary: bool, stage: &str) -> ShardRecovery {
    ShardRecovery {
        shard,
        primary,
        kind: if primary { "SNAPSHOT" } else { "PEER" }.into(),
        repository: primary.then(|| "camunda_backup".into()),
        snapshot: primary.then(|| "s1".into()),
        ..rec(index, stage, Some("s1"))
    }
}

#[test]
fn recovery_parsing_and_progress() {
    let v = json!({"operate-a": {"shards": [{"id": 0, "type": "SNAPSHOT", "stage": "INDEX", "primary": true,
        "source": {"repository": "camunda_backup", "snapshot": "s1"},
        "index": {"size": {"total_in_bytes": 1000, "recovered_in_bytes": 500}}}]}});
    let r = parse_recovery(&v);
    assert_eq!(r.len(), 1);
    assert!(r[0].from_snapshot("camunda_backup", "s1"));
    assert!(!r[0].done());
    // One primary, no replica each: half of one copy out of two.
    let p = restore_progress(&r, &layouts(&[("operate-a", 1, 0), ("operate-b", 1, 0)]), 2);
    assert_eq!((p.done, p.total), (0, 2));
    assert!((p.percent - 25.0).abs() < 0.01, "{}", p.percent);
    let done = vec![
        rec("operate-a", "DONE", Some("s1")),
        rec("operate-b", "DONE", Some("s1")),
    ];
    let p = restore_progress(
        &done,
        &layouts(&[("operate-a", 1, 0), ("operate-b", 1, 0)]),
        1,
    );
    assert_eq!((p.done, p.total, p.percent), (2, 2, 100.0));
    assert_eq!(Progress::units(1, 4).percent, 25.0);
    assert_eq!(Progress::units(0, 0).percent, 100.0);
}

#[test]
fn progress_counts_shard_copies_not_indices() {
    // Three primaries and one replica each, two data nodes: six copies per index.
    let l = layouts(&[("operate-a", 3, 1), ("operate-b", 3, 1)]);
    let mut recs: Vec<ShardRecovery> = (0..3).map(|s| copy("operate-a", s, true, "DONE")).collect();
    let p = restore_progress(&recs, &l, 2);
    assert_eq!((p.done, p.total), (3, 12));
    recs.extend((0..3).map(|s| copy("operate-a", s, false, "DONE")));
    recs.extend((0..3).map(|s| copy("operate-b", s, true, "DONE")));
    let p = restore_progress(&recs, &l, 2);
    assert_eq!((p.done, p.total), (9, 12), "replicas of operate-b missing");
    recs.extend((0..3).map(|s| copy("operate-b", s, false, "DONE")));
    let p = restore_progress(&recs, &l, 2);
    assert_eq!((p.done, p.total, p.percent), (12, 12, 100.0));
    // One data node: replicas cannot be allocated, the primaries are all there is.
    let primaries: Vec<ShardRecovery> = recs.iter().filter(|r| r.primary).cloned().collect();
    let p = restore_progress(&primaries, &l, 1);
    assert_eq!((p.done, p.total), (6, 6));
    // An index whose layout is unknown yet is never complete.
    let mut unknown = l.clone();
    unknown.insert("operate-c".into(), None);
    let p = restore_progress(&recs, &unknown, 2);
    assert!(p.done < p.total, "{p:?}");
    let layout = ShardLayout {
        shards: 3,
        replicas: 2,
    };
    assert_eq!(layout.expected_copies(2), 6);
    assert_eq!(layout.unassignable_replicas(2), 3);
    assert_eq!(layout.expected_copies(5), 9);
}

#[test]
fn the_bytes_to_restore_count_each_replica_as_big_as_its_primary() {
    // Two primaries of 10 GB and 30 GB, one replica each, two data nodes. Only the primaries
    // are listed: the replicas, not started yet, are counted at their primaries' sizes.
    let l = layouts(&[("operate-a", 2, 1)]);
    let sized = |shard: u64, primary: bool, stage: &str, total: u64, got: u64| ShardRecovery {
        total_bytes: total,
        recovered_bytes: got,
        ..copy("operate-a", shard, primary, stage)
    };
    const GB: u64 = 1_000_000_000;
    let mut recs = vec![
        sized(0, true, "DONE", 10 * GB, 10 * GB),
        sized(1, true, "INDEX", 30 * GB, 15 * GB),
    ];
    let p = restore_progress(&recs, &l, 2);
    assert_eq!(
        (p.bytes_done, p.bytes_total, p.estimated),
        (25 * GB, 80 * GB, false)
    );
    // A replica listed before its size is known (INIT: total 0) changes nothing.
    recs.push(sized(0, false, "INIT", 0, 0));
    let p = restore_progress(&recs, &l, 2);
    assert_eq!((p.bytes_done, p.bytes_total), (25 * GB, 80 * GB));
    // A shard none of whose copies is sized yet weighs as the average sized shard: an estimate.
    let p = restore_progress(&recs[..1], &l, 2);
    assert_eq!((p.bytes_total, p.estimated), (40 * GB, true));
    // Every copy done: exactly the bytes recovered, 100 %.
    let done = vec![
        sized(0, true, "DONE", 10 * GB, 10 * GB),
        sized(1, true, "DONE", 30 * GB, 30 * GB),
        sized(0, false, "DONE", 10 * GB, 10 * GB),
        sized(1, false, "DONE", 30 * GB, 30 * GB),
    ];
    let p = restore_progress(&done, &l, 2);
    assert_eq!(
        (p.done, p.total, p.bytes_done, p.bytes_total),
        (4, 4, 80 * GB, 80 * GB)
    );
    assert_eq!((p.percent, p.estimated), (100.0, false));
}

fn cat(index: &str, health: &str, docs: Option<u64>, pri: u64) -> CatIndex {
    CatIndex {
        index: index.into(),
        health: Some(health.into()),
        status: Some("open".into()),
        uuid: None,
        docs_count: docs,
        pri: Some(pri),
        rep: Some(1),
    }
}

#[test]
fn restore_plans() {
    let snap = set(&["operate-a", "tasklist-b"]);
    assert_eq!(
        plan_restore("camunda_backup", "s1", &snap, &BTreeMap::new()),
        RestorePlan::Restore
    );
    // The schema manager ran: same names, empty-store recoveries.
    let rows = vec![
        cat("camunda-c", "green", Some(0), 1),
        cat("operate-a", "green", Some(0), 1),
        cat("tasklist-b", "green", Some(0), 1),
    ];
    let recs = vec![
        rec("operate-a", "DONE", None),
        rec("tasklist-b", "DONE", None),
    ];
    assert_eq!(
        plan_restore("camunda_backup", "s1", &snap, &index_origins(&rows, &recs)),
        RestorePlan::Conflicts {
            camunda: vec!["camunda-c".into(), "operate-a".into(), "tasklist-b".into()],
            other: vec![]
        }
    );
    // Restored from this snapshot, one still recovering.
    let rows = vec![
        cat("operate-a", "green", Some(1), 1),
        cat("tasklist-b", "red", None, 1),
    ];
    let recs = vec![
        rec("operate-a", "DONE", Some("s1")),
        rec("tasklist-b", "INDEX", Some("s1")),
    ];
    let origins = index_origins(&rows, &recs);
    assert_eq!(
        plan_restore("camunda_backup", "s1", &snap, &origins),
        RestorePlan::AlreadyRestored { finished: false }
    );
    // Restored from another snapshot: a conflict.
    assert!(matches!(
        plan_restore("camunda_backup", "s2", &snap, &origins),
        RestorePlan::Conflicts { .. }
    ));
    // A restore whose second index waits for its turn (no recovery state yet).
    let recs = vec![rec("operate-a", "INDEX", Some("s1"))];
    let origins = index_origins(&rows, &recs);
    assert_eq!(origins["tasklist-b"], Origin::Unassigned);
    assert_eq!(
        plan_restore("camunda_backup", "s1", &snap, &origins),
        RestorePlan::AlreadyRestored { finished: false }
    );
    // Red and unassigned alone is no evidence of this snapshot.
    let origins = index_origins(&rows, &[]);
    assert!(matches!(
        plan_restore("camunda_backup", "s1", &snap, &origins),
        RestorePlan::Conflicts { .. }
    ));
    // Three primaries, only one listed and done: the primaries are not all done.
    let rows = vec![cat("operate-a", "red", None, 3)];
    let origins = index_origins(&rows, &[rec("operate-a", "DONE", Some("s1"))]);
    assert!(matches!(
        origins["operate-a"],
        Origin::Snapshot {
            primaries_done: false,
            ..
        }
    ));
    // A non-Camunda index of the snapshot in the way.
    let snap2 = set(&["custom"]);
    let origins = index_origins(&[cat("custom", "green", Some(1), 1)], &[]);
    assert_eq!(
        plan_restore("camunda_backup", "s1", &snap2, &origins),
        RestorePlan::Conflicts {
            camunda: vec![],
            other: vec!["custom".into()]
        }
    );
}

#[test]
fn distributions_from_recorded_main_responses() {
    // OpenSearch 2.19 (MainResponse.toXContent: version.distribution first).
    let os = json!({"name": "node-1", "cluster_name": "opensearch", "cluster_uuid": "u",
        "version": {"distribution": "opensearch", "number": "2.19.1", "build_type": "tar",
                    "build_hash": "h", "build_date": "d", "build_snapshot": false,
                    "lucene_version": "9.12.1", "minimum_wire_compatibility_version": "7.10.0",
                    "minimum_index_compatibility_version": "7.0.0"},
        "tagline": "The OpenSearch Project: https://opensearch.org/"});
    let d = parse_distribution(&os);
    assert_eq!(d.engine, Engine::OpenSearch);
    assert_eq!(d.describe(), "OpenSearch 2.19.1");
    assert!(!d.has_feature_states());
    // Elasticsearch 8 (build_flavor, no distribution).
    let es = json!({"name": "n", "cluster_name": "elastic", "version": {"number": "8.18.0",
        "build_flavor": "default", "build_type": "docker"}, "tagline": "You Know, for Search"});
    let d = parse_distribution(&es);
    assert_eq!(d.engine, Engine::Elasticsearch);
    assert!(d.has_feature_states());
    // Unknown: treated as Elasticsearch (the cautious side).
    assert_eq!(
        parse_distribution(&json!(null)).engine,
        Engine::Elasticsearch
    );
}

#[test]
fn error_reasons() {
    let body = json!({"error": {"type": "x_exception", "reason": "bad", "caused_by": {"reason": "deep"}}, "status": 500});
    assert_eq!(error_reason(&body), "x_exception: bad (caused by: deep)");
    assert_eq!(error_type(&body), Some("x_exception"));
    assert_eq!(error_reason(&json!({"error": "no handler"})), "no handler");
}
