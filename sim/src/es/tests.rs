//! The simulated Elasticsearch answers like ES 8.18 (bodies and statuses the core relies on).

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http::SimRequest;
use crate::world::{SimConfig, World};

fn req(method: &str, path_and_query: &str, body: Option<Value>) -> SimRequest {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    SimRequest {
        method: method.into(),
        path: format!("/{}", path.trim_start_matches('/')),
        query: url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: Default::default(),
        body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
    }
}

fn call(
    w: &mut World,
    region: usize,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    super::handle(w, region, &req(method, path, body))
}

fn s3() -> Value {
    json!({"type": "s3", "settings": {"bucket": "b", "client": "camunda", "base_path": "backups"}})
}

fn s3_readonly() -> Value {
    json!({"type": "s3", "settings": {"bucket": "b", "client": "camunda", "base_path": "backups", "readonly": true}})
}

/// Let `d` pass in the world's lazy clock.
fn pass(w: &mut World, start: Instant, d: Duration) {
    w.advance(start + d);
}

/// Advance in 1 ms steps from `start` until `done` holds; the time it took.
fn until(w: &mut World, start: Instant, mut done: impl FnMut(&mut World) -> bool) -> Duration {
    let step = Duration::from_millis(1);
    let mut t = Duration::ZERO;
    while t < Duration::from_secs(60) {
        w.advance(start + t);
        if done(w) {
            return t;
        }
        t += step;
    }
    panic!("not reached within 60 s of simulated time");
}

#[test]
fn snapshot_then_restore_through_the_shared_bucket() {
    let mut w = World::healthy(SimConfig::default());
    let d = w.cfg.es_shard_duration;
    let t0 = Instant::now();
    w.advance(t0);
    let n = w.regions[0].es.indices.len() as u32;
    assert!(n >= 6);
    assert_eq!(
        call(&mut w, 0, "PUT", "_snapshot/camunda_backup", Some(s3())).0,
        200
    );
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_snapshot/camunda_backup/s1",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!((status, body), (200, json!({"accepted": true})));
    let (_, body) = call(&mut w, 0, "GET", "_snapshot/camunda_backup/s1", None);
    assert_eq!(body["snapshots"][0]["state"], "IN_PROGRESS");
    // Not in the repository yet: region 1 does not see it.
    w.recreate_region(1);
    assert_eq!(
        call(
            &mut w,
            1,
            "PUT",
            "_snapshot/camunda_backup",
            Some(s3_readonly())
        )
        .0,
        200
    );
    assert_eq!(
        call(&mut w, 1, "GET", "_snapshot/camunda_backup/s1", None).0,
        404
    );
    let t_snap = until(&mut w, t0, |w| {
        call(w, 0, "GET", "_snapshot/camunda_backup/s1", None).1["snapshots"][0]["state"]
            == "SUCCESS"
    });
    // The fixed per-index time plus the upload of every byte (nothing was in the repository).
    assert!(t_snap >= d * n, "{t_snap:?}");
    let (_, body) = call(&mut w, 0, "GET", "_snapshot/camunda_backup/_all", None);
    let snap = &body["snapshots"][0];
    assert_eq!(snap["state"], "SUCCESS");
    // A snapshot counts primaries: three per index.
    assert_eq!(
        snap["shards"],
        json!({"total": 3 * n, "failed": 0, "successful": 3 * n})
    );
    assert_eq!(snap["include_global_state"], true);
    let (_, body) = call(&mut w, 1, "GET", "_snapshot/camunda_backup/s1", None);
    assert_eq!(body["snapshots"][0]["state"], "SUCCESS");

    // Snapshot creation in a readonly registration: ES's RepositoryException.
    let (status, body) = call(
        &mut w,
        1,
        "PUT",
        "_snapshot/camunda_backup/s2",
        Some(json!({})),
    );
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "repository_exception");

    // Restore: red while recovering, primaries from the snapshot then replicas from them, then
    // green once every copy is active.
    let t1 = t0 + t_snap;
    let (status, _) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200);
    pass(&mut w, t1, d / 2);
    let (_, health) = call(&mut w, 1, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "red");
    let (_, rec) = call(&mut w, 1, "GET", "_recovery", None);
    // Unassigned copies have no recovery state yet: only the primaries the allocation throttle
    // let start are listed, node_initial_primaries_recoveries (4) per node on 2 nodes.
    let shards: Vec<Value> = rec
        .as_object()
        .expect("object")
        .values()
        .flat_map(|i| i["shards"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(shards.len(), 8, "{rec:#}");
    assert!(
        shards
            .iter()
            .all(|s| s["type"] == "SNAPSHOT" && s["primary"] == true && s["stage"] != "DONE")
    );
    assert_eq!(shards[0]["source"]["snapshot"], "s1");
    assert_eq!(shards[0]["source"]["repository"], "camunda_backup");
    assert!(shards[0]["source"]["restoreUUID"].is_string());
    let (status, health) = call(
        &mut w,
        1,
        "GET",
        "_cluster/health?wait_for_status=green&timeout=1s",
        None,
    );
    assert_eq!((status, &health["timed_out"]), (408, &json!(true)));
    // Once the first primaries are active, their replicas recover from them (PEER, from the
    // primary's node to another one).
    let t_peer = until(&mut w, t1, |w| {
        let (_, rec) = call(w, 1, "GET", "_recovery", None);
        rec.as_object().is_some_and(|m| {
            m.values()
                .flat_map(|i| i["shards"].as_array().cloned().unwrap_or_default())
                .any(|s| s["type"] == "PEER")
        })
    });
    pass(&mut w, t1, t_peer);
    let (_, rec) = call(&mut w, 1, "GET", "_recovery", None);
    let peer = rec
        .as_object()
        .expect("object")
        .values()
        .flat_map(|i| i["shards"].as_array().cloned().unwrap_or_default())
        .find(|s| s["type"] == "PEER")
        .expect("a peer recovery");
    assert_ne!(peer["source"]["name"], peer["target"]["name"], "{peer:#}");
    // Every primary active while replicas still recover: yellow.
    let t_yellow = until(&mut w, t1, |w| {
        call(w, 1, "GET", "_cluster/health", None).1["status"] != "red"
    });
    pass(&mut w, t1, t_yellow);
    let (_, health) = call(&mut w, 1, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "yellow", "{health:#}");
    let t_green = until(&mut w, t1, |w| {
        call(w, 1, "GET", "_cluster/health", None).1["status"] == "green"
    });
    assert!(t_green > t_yellow);
    let (_, health) = call(&mut w, 1, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "green");
    assert_eq!(health["active_shards"], 6 * n);
    assert_eq!(health["active_primary_shards"], 3 * n);
    assert_eq!(health["number_of_data_nodes"], 2);
    assert_eq!(w.regions[1].es.indices.len(), n as usize);
    assert_eq!(w.regions[1].es.templates, w.regions[0].es.templates);
    let (_, cat) = call(&mut w, 1, "GET", "_cat/indices?format=json", None);
    assert!(cat.as_array().is_some_and(|a| {
        a.iter()
            .all(|r| r["health"] == "green" && r["docs.count"].is_string())
    }));

    // Restoring again: the open indices are in the way.
    let (status, body) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "snapshot_restore_exception");
    let reason = body["error"]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("because an open index with same name already exists in the cluster"),
        "{reason}"
    );
    assert_eq!(
        body["error"]["root_cause"][0]["type"],
        "snapshot_restore_exception"
    );
    assert_eq!(body["status"], 500);
}

#[test]
fn a_writable_registration_caches_the_repository() {
    let mut w = World::healthy(SimConfig::default());
    let t0 = Instant::now();
    w.advance(t0);
    call(&mut w, 0, "PUT", "_snapshot/r", Some(s3()));
    w.recreate_region(1);
    call(&mut w, 1, "PUT", "_snapshot/r", Some(s3()));
    call(&mut w, 0, "PUT", "_snapshot/r/s1", Some(json!({})));
    pass(&mut w, t0, Duration::from_secs(5));
    let (_, body) = call(&mut w, 1, "GET", "_snapshot/r/_all", None);
    assert_eq!(body["snapshots"], json!([]));
    call(&mut w, 1, "PUT", "_snapshot/r", Some(s3_readonly()));
    let (_, body) = call(&mut w, 1, "GET", "_snapshot/r/_all", None);
    assert_eq!(body["snapshots"][0]["snapshot"], "s1");
}

#[test]
fn faults_duplicates_deletes_and_security() {
    let mut w = World::healthy(SimConfig::default());
    let t0 = Instant::now();
    w.advance(t0);
    w.faults.repo_verify_fails = true;
    let (status, body) = call(&mut w, 0, "PUT", "_snapshot/r", Some(s3()));
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "repository_verification_exception");
    let (status, _) = call(&mut w, 0, "POST", "_snapshot/r/_verify", None);
    assert_eq!(status, 500);
    w.faults.repo_verify_fails = false;
    assert_eq!(call(&mut w, 0, "POST", "_snapshot/r/_verify", None).0, 200);

    w.faults.partial_snapshot = true;
    call(&mut w, 0, "PUT", "_snapshot/r/p1", Some(json!({})));
    pass(&mut w, t0, Duration::from_secs(5));
    let (_, body) = call(&mut w, 0, "GET", "_snapshot/r/p1", None);
    assert_eq!(body["snapshots"][0]["state"], "PARTIAL");
    assert_eq!(body["snapshots"][0]["shards"]["failed"], 1);
    assert_eq!(
        body["snapshots"][0]["failures"].as_array().map(Vec::len),
        Some(1)
    );
    // _status does not tell PARTIAL from SUCCESS (as in ES).
    let (_, st) = call(&mut w, 0, "GET", "_snapshot/r/p1/_status", None);
    assert_eq!(st["snapshots"][0]["state"], "SUCCESS");
    assert!(!w.faults.partial_snapshot, "the fault is consumed");

    let (status, body) = call(&mut w, 0, "PUT", "_snapshot/r/p1", Some(json!({})));
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_snapshot_name_exception");
    assert_eq!(call(&mut w, 0, "GET", "_snapshot/nope/_all", None).0, 404);

    assert_eq!(call(&mut w, 0, "DELETE", "operate-*", None).0, 400);
    assert_eq!(call(&mut w, 0, "DELETE", "missing-index", None).0, 404);
    assert_eq!(
        call(
            &mut w,
            0,
            "DELETE",
            "camunda-user-8.8.0_,camunda-role-8.8.0_",
            None
        )
        .0,
        200
    );
    assert!(!w.regions[0].es.indices.contains_key("camunda-user-8.8.0_"));

    w.cfg.es_security = true;
    let (status, body) = call(&mut w, 0, "GET", "_cluster/health", None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "security_exception");
    let mut r = req("GET", "_cluster/health", None);
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("elastic:{}", w.cfg.es_password));
    r.headers
        .insert("authorization".into(), format!("Basic {token}"));
    assert_eq!(super::handle(&mut w, 0, &r).0, 200);
}

#[test]
fn seed_schema_creates_empty_camunda_indices_and_templates() {
    let mut es = super::EsCluster::empty();
    es.seed_schema();
    assert!(es.indices.len() >= 6);
    assert!(es.indices.values().all(|i| i.docs == 0));
    assert!(es.indices.keys().all(|n| {
        ["operate-", "tasklist-", "camunda-"]
            .iter()
            .any(|p| n.starts_with(p))
    }));
    assert!(!es.templates.is_empty());
    let seeded = super::EsCluster::seeded();
    assert!(seeded.indices.values().any(|i| i.docs > 0));
}

#[test]
fn one_node_cannot_hold_replicas_settings_and_cat_show_the_shards() {
    let cfg = SimConfig {
        es_nodes: 1,
        es_number_of_shards: 2,
        es_number_of_replicas: 1,
        ..SimConfig::default()
    };
    let mut w = World::healthy(cfg);
    let t0 = Instant::now();
    w.advance(t0);
    // Replicas are never allocated on their primary's node: yellow for good, no PEER recovery.
    let (_, health) = call(&mut w, 0, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "yellow");
    let n = w.regions[0].es.indices.len() as u64;
    assert_eq!(health["active_shards"], 2 * n);
    assert_eq!(health["unassigned_shards"], 2 * n);
    assert_eq!(health["number_of_nodes"], 1);
    let (_, rec) = call(&mut w, 0, "GET", "_recovery", None);
    let all: Vec<&Value> = rec
        .as_object()
        .expect("object")
        .values()
        .flat_map(|v| v["shards"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(all.len() as u64, 2 * n);
    assert!(
        all.iter()
            .all(|s| s["primary"] == true && s["type"] == "EMPTY_STORE")
    );
    let (_, cat) = call(&mut w, 0, "GET", "_cat/indices?format=json", None);
    let row = &cat[0];
    assert_eq!((&row["pri"], &row["rep"]), (&json!("2"), &json!("1")));
    assert_eq!(row["health"], "yellow");
    let (status, settings) = call(&mut w, 0, "GET", "tasklist-task-8.8.0_/_settings", None);
    assert_eq!(status, 200);
    assert_eq!(
        settings["tasklist-task-8.8.0_"]["settings"]["index"]["number_of_shards"],
        "2"
    );
    assert_eq!(
        settings["tasklist-task-8.8.0_"]["settings"]["index"]["number_of_replicas"],
        "1"
    );
    assert_eq!(call(&mut w, 0, "GET", "nope/_settings", None).0, 404);
}

#[test]
fn the_opensearch_flavour_says_so_and_rejects_feature_states() {
    let cfg = SimConfig {
        es_opensearch: true,
        ..SimConfig::default()
    };
    let mut w = World::healthy(cfg);
    let t0 = Instant::now();
    w.advance(t0);
    let (_, main) = call(&mut w, 0, "GET", "", None);
    assert_eq!(main["version"]["distribution"], "opensearch");
    assert_eq!(main["version"]["number"], "2.19.1");
    assert!(main["version"].get("build_flavor").is_none());
    assert_eq!(
        main["tagline"],
        "The OpenSearch Project: https://opensearch.org/"
    );
    let fs = json!({"type": "fs", "settings": {"location": "/mnt/snapshots"}});
    assert_eq!(call(&mut w, 0, "PUT", "_snapshot/r", Some(fs)).0, 200);
    // Snapshot creation ignores keys it does not know (CreateSnapshotRequest.source).
    let (status, _) = call(
        &mut w,
        0,
        "PUT",
        "_snapshot/r/s1",
        Some(json!({"include_global_state": true, "feature_states": ["none"]})),
    );
    assert_eq!(status, 200);
    pass(&mut w, t0, Duration::from_secs(5));
    let (_, snap) = call(&mut w, 0, "GET", "_snapshot/r/s1", None);
    assert_eq!(snap["snapshots"][0]["state"], "SUCCESS");
    assert!(snap["snapshots"][0].get("feature_states").is_none());
    w.recreate_region(1);
    let fs_ro = json!({"type": "fs", "settings": {"location": "/mnt/snapshots", "readonly": true}});
    assert_eq!(call(&mut w, 1, "PUT", "_snapshot/r", Some(fs_ro)).0, 200);
    let (status, body) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/r/s1/_restore",
        Some(json!({"include_global_state": true, "feature_states": ["none"]})),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"root_cause": [{"type": "illegal_argument_exception",
                                          "reason": "Unknown parameter feature_states"}],
                         "type": "illegal_argument_exception",
                         "reason": "Unknown parameter feature_states"},
               "status": 400})
    );
    assert!(w.regions[1].es.indices.is_empty(), "nothing restored");
    let (status, _) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/r/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200);
    pass(&mut w, t0, Duration::from_secs(10));
    let (_, rec) = call(&mut w, 1, "GET", "_recovery", None);
    let first = rec
        .as_object()
        .and_then(|m| m.values().next())
        .expect("a recovery");
    assert_eq!(first["shards"][0]["source"]["isSearchableSnapshot"], false);
    // Elasticsearch accepts feature_states but not OpenSearch's keys.
    let mut es = World::healthy(SimConfig::default());
    es.advance(t0);
    let (_, main) = call(&mut es, 0, "GET", "", None);
    assert_eq!(main["version"]["build_flavor"], "default");
    assert!(main["version"].get("distribution").is_none());
}

#[test]
fn cluster_settings_default_empty_and_defaults_on_request() {
    let mut w = World::healthy(SimConfig::default());
    let (status, body) = call(&mut w, 0, "GET", "_cluster/settings", None);
    assert_eq!(status, 200);
    assert_eq!(body, json!({"persistent": {}, "transient": {}}));
    let (_, body) = call(
        &mut w,
        0,
        "GET",
        "_cluster/settings?include_defaults=true&flat_settings=true",
        None,
    );
    assert_eq!(
        body["defaults"]["indices.recovery.max_bytes_per_sec"],
        "40mb"
    );
    assert_eq!(
        body["defaults"]["cluster.routing.allocation.node_concurrent_recoveries"],
        "2"
    );
    assert_eq!(
        body["defaults"]["cluster.routing.allocation.node_concurrent_incoming_recoveries"],
        "2"
    );
    assert_eq!(
        body["defaults"]["cluster.routing.allocation.node_initial_primaries_recoveries"],
        "4"
    );
    let (_, nested) = call(&mut w, 0, "GET", "_cluster/settings?include_defaults", None);
    assert_eq!(
        nested["defaults"]["indices"]["recovery"]["max_bytes_per_sec"],
        "40mb"
    );
}

#[test]
fn cluster_settings_put_flat_or_nested_then_null_resets() {
    let mut w = World::healthy(SimConfig::default());
    let (status, body) = call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(
            json!({"persistent": {"indices.recovery.max_bytes_per_sec": "200mb"},
                    "transient": {"cluster": {"routing": {"allocation": {"node_concurrent_recoveries": 6}}}}}),
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acknowledged"], true);
    assert_eq!(
        body["persistent"]["indices"]["recovery"]["max_bytes_per_sec"],
        "200mb"
    );
    assert_eq!(
        body["transient"]["cluster"]["routing"]["allocation"]["node_concurrent_recoveries"],
        "6"
    );
    let es = &w.regions[1].es;
    assert_eq!(
        es.settings.recovery_bytes_per_sec(),
        Some(200 * 1024 * 1024)
    );
    // incoming/outgoing fall back to node_concurrent_recoveries.
    assert_eq!(es.settings.incoming_recoveries(), 6);
    assert_eq!(es.settings.outgoing_recoveries(), 6);
    // The other region is untouched.
    assert_eq!(
        w.regions[0].es.settings.recovery_bytes_per_sec(),
        Some(40 * 1024 * 1024)
    );
    let (_, got) = call(
        &mut w,
        1,
        "GET",
        "_cluster/settings?flat_settings=true",
        None,
    );
    assert_eq!(
        got,
        json!({"persistent": {"indices.recovery.max_bytes_per_sec": "200mb"},
               "transient": {"cluster.routing.allocation.node_concurrent_recoveries": "6"}})
    );
    // null resets to the default.
    let (status, _) = call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(
            json!({"persistent": {"indices.recovery.max_bytes_per_sec": null},
                    "transient": {"cluster.routing.allocation.*": null}}),
        ),
    );
    assert_eq!(status, 200);
    let (_, got) = call(&mut w, 1, "GET", "_cluster/settings", None);
    assert_eq!(got, json!({"persistent": {}, "transient": {}}));
    assert_eq!(
        w.regions[1].es.settings.recovery_bytes_per_sec(),
        Some(40 * 1024 * 1024)
    );
    assert_eq!(w.regions[1].es.settings.incoming_recoveries(), 2);
    // -1 and 0 remove the limit.
    for unlimited in ["-1", "0b", "0"] {
        let (status, _) = call(
            &mut w,
            1,
            "PUT",
            "_cluster/settings",
            Some(json!({"persistent": {"indices.recovery.max_bytes_per_sec": unlimited}})),
        );
        assert_eq!(status, 200, "{unlimited}");
        assert_eq!(w.regions[1].es.settings.recovery_bytes_per_sec(), None);
    }
}

#[test]
fn cluster_settings_reject_unknown_keys_and_bad_values_without_applying() {
    let mut w = World::healthy(SimConfig::default());
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"indices.recovery.max_bytes_per_sec": "100mb", "x": 1}})),
    );
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        body["error"]["reason"],
        "persistent setting [x], not recognized"
    );
    assert!(w.regions[0].es.settings.persistent.is_empty());
    for (bad, why) in [
        ("100", "unit is missing or unrecognized"),
        ("fast", "unit is missing or unrecognized"),
        ("-2mb", "as a size in bytes"),
    ] {
        let (status, body) = call(
            &mut w,
            0,
            "PUT",
            "_cluster/settings",
            Some(json!({"transient": {"indices.recovery.max_bytes_per_sec": bad}})),
        );
        assert_eq!(status, 400, "{bad}");
        let reason = body["error"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{bad}: {reason}");
    }
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_cluster/settings",
        Some(json!({"transient": {"cluster.routing.allocation.node_concurrent_recoveries": -1}})),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["reason"],
        "Failed to parse value [-1] for setting [cluster.routing.allocation.node_concurrent_recoveries] must be >= 0"
    );
    // User-defined metadata is accepted as strings, set and reset.
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"cluster.metadata.c8dr_tuning": "{\"x\":1}"}})),
    );
    assert_eq!(status, 200, "{body}");
    let (_, got) = call(&mut w, 0, "GET", "_cluster/settings", None);
    assert_eq!(
        got["persistent"]["cluster"]["metadata"]["c8dr_tuning"],
        "{\"x\":1}"
    );
    call(
        &mut w,
        0,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"cluster.metadata.c8dr_tuning": null}})),
    );
    assert!(w.regions[0].es.settings.persistent.is_empty());
    let (status, _) = call(&mut w, 0, "PUT", "_cluster/settings", Some(json!({})));
    assert_eq!(status, 400);
    assert!(w.regions[0].es.settings.transient.is_empty());
}

const MIB: u64 = 1024 * 1024;

/// A world with `data` bytes of primary data per region, no replicas unless asked.
fn data_world(data: u64, replicas: u32) -> World {
    World::healthy(SimConfig {
        es_data_bytes: data,
        es_number_of_replicas: replicas,
        ..SimConfig::default()
    })
}

/// Snapshot all of region 0 as `name` and let it finish; its `_status` stats.
fn snapshot_done(w: &mut World, t: Instant, name: &str) -> (Value, Duration) {
    let (status, body) = call(
        w,
        0,
        "PUT",
        &format!("_snapshot/camunda_backup/{name}"),
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200, "{body}");
    let snap = w
        .object_store
        .values()
        .flat_map(|b| b.values())
        .flat_map(|r| r.snapshots.iter())
        .find(|s| s.name == name)
        .expect("stored")
        .clone();
    let took = snap.done_at.duration_since(snap.started);
    w.advance(t + took + Duration::from_millis(1));
    let (_, st) = call(
        w,
        0,
        "GET",
        &format!("_snapshot/camunda_backup/{name}/_status"),
        None,
    );
    (st["snapshots"][0].clone(), took)
}

/// Restore `name` into a recreated region 1 and run the clock until every copy is active: how
/// long the restore took (last copy active - request).
fn restore_time(w: &mut World, t: Instant, name: &str) -> Duration {
    let (status, body) = call(
        w,
        1,
        "POST",
        &format!("_snapshot/camunda_backup/{name}/_restore"),
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200, "{body}");
    w.advance(t + Duration::from_secs(3600));
    let es = &w.regions[1].es;
    let end = es
        .indices
        .values()
        .flat_map(|i| i.copies(0).iter())
        .map(|c| c.done_at.expect("every copy recovered"))
        .max()
        .expect("copies");
    end.duration_since(t)
}

/// Region 1 recreated with the repository registered read-only, after `s1` of region 0.
fn prepare_restore(w: &mut World, _t: Instant) -> Instant {
    // After the world was made: its seeded indices are active.
    let t0 = Instant::now();
    w.advance(t0);
    assert_eq!(
        call(w, 0, "PUT", "_snapshot/camunda_backup", Some(s3())).0,
        200
    );
    let (_, took) = snapshot_done(w, t0, "s1");
    let t1 = t0 + took + Duration::from_millis(1);
    w.recreate_region(1);
    w.advance(t1);
    assert_eq!(
        call(w, 1, "PUT", "_snapshot/camunda_backup", Some(s3_readonly())).0,
        200
    );
    t1
}

/// The most primary bytes one node of region 1 restores (the node that decides the time).
fn busiest_node_bytes(w: &World) -> f64 {
    let es = &w.regions[1].es;
    let mut per = vec![0u64; es.nodes as usize];
    for i in es.indices.values() {
        for c in i.copies(0).iter().filter(|c| c.primary) {
            per[c.node as usize] += c.bytes_total;
        }
    }
    per.into_iter().max().unwrap_or(0) as f64
}

/// `took` is the busiest node's bytes at `rate` bytes/s, give or take the fixed per-copy time.
fn assert_paced(w: &World, took: Duration, rate: f64) {
    let expected = busiest_node_bytes(w) / rate;
    let t = took.as_secs_f64();
    assert!(
        t >= expected * 0.98 && t <= expected * 1.1 + 0.3,
        "took {t:.2} s, expected about {expected:.2} s"
    );
}

fn stat(v: &Value, kind: &str) -> (u64, u64) {
    (
        v["stats"][kind]["file_count"].as_u64().unwrap_or(u64::MAX),
        v["stats"][kind]["size_in_bytes"]
            .as_u64()
            .unwrap_or(u64::MAX),
    )
}

#[test]
fn an_incremental_snapshot_uploads_only_the_files_the_repository_lacks() {
    let mut w = World::healthy(SimConfig {
        es_data_bytes: 400 * MIB,
        es_ingest_bytes_per_sec: 4 * MIB,
        ..SimConfig::default()
    });
    let t0 = Instant::now();
    w.advance(t0);
    assert_eq!(
        call(&mut w, 0, "PUT", "_snapshot/camunda_backup", Some(s3())).0,
        200
    );
    let (first, took1) = snapshot_done(&mut w, t0, "full");
    let (files, bytes) = stat(&first, "total");
    assert_eq!(stat(&first, "incremental"), (files, bytes), "{first:#}");
    assert!(bytes >= 400 * MIB - 1024, "{bytes}");
    // 400 MiB over 2 nodes at the default 40mb per node: about 5 s (the busier node decides).
    assert!(took1 >= Duration::from_secs(5), "{took1:?}");
    // 10 s of exported data later: the second snapshot uploads only the new segments.
    let t1 = t0 + took1 + Duration::from_secs(10);
    w.advance(t1);
    let (second, took2) = snapshot_done(&mut w, t1, "incremental");
    let (inc_files, inc_bytes) = stat(&second, "incremental");
    let (total_files, total_bytes) = stat(&second, "total");
    let arrived = total_bytes - bytes;
    // Everything exported since the first snapshot flushed (during its upload and after).
    let expected = (4 * MIB) as f64 * (took1 + Duration::from_secs(10)).as_secs_f64();
    assert!(
        (arrived as f64 - expected).abs() < MIB as f64,
        "{arrived} vs {expected}"
    );
    assert_eq!(inc_bytes, arrived, "{second:#}");
    assert!(inc_files > 0 && inc_files < total_files);
    assert!(took2 * 4 < took1, "{took2:?} vs {took1:?}");
    // Per index and shard too.
    let index = second["indices"]["operate-list-view-8.3.0_"].clone();
    assert!(index["stats"]["incremental"]["size_in_bytes"].as_u64() > Some(0));
    assert!(index["shards"]["0"]["stats"]["total"]["file_count"].as_u64() > Some(1));
    // Nothing new: nothing to upload.
    let t2 = t1 + took2 + Duration::from_millis(1);
    w.regions[0].es.indices.values_mut().for_each(|_| ());
    w.cfg.es_ingest_bytes_per_sec = 0;
    let (third, _) = snapshot_done(&mut w, t2, "nothing-new");
    let (_, leftover) = stat(&third, "incremental");
    // At most what arrived between the second snapshot's start and this one.
    assert!(leftover <= 4 * MIB * (took2.as_secs() + 1), "{leftover}");
}

#[test]
fn a_restore_copies_every_byte_at_the_slower_of_the_repository_and_recovery_limits() {
    // 400 MiB of primaries, no replicas, 2 nodes: each node restores 200 MiB.
    let t0 = Instant::now();
    // Defaults: the repository reads unlimited, recovery 40mb per node: about 5 s.
    let mut w = data_world(400 * MIB, 0);
    let t1 = prepare_restore(&mut w, t0);
    let default = restore_time(&mut w, t1, "s1");
    assert_paced(&w, default, (40 * MIB) as f64);
    // A slower repository (max_restore_bytes_per_sec 10mb) decides: about 20 s.
    let mut w = data_world(400 * MIB, 0);
    let t1 = prepare_restore(&mut w, t0);
    let mut slow = s3_readonly();
    slow["settings"]["max_restore_bytes_per_sec"] = json!("10mb");
    assert_eq!(
        call(&mut w, 1, "PUT", "_snapshot/camunda_backup", Some(slow)).0,
        200
    );
    let repo_bound = restore_time(&mut w, t1, "s1");
    assert_paced(&w, repo_bound, (10 * MIB) as f64);
    // Recovery raised to 100mb: about 2 s.
    let mut w = data_world(400 * MIB, 0);
    let t1 = prepare_restore(&mut w, t0);
    let (status, _) = call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"transient": {"indices.recovery.max_bytes_per_sec": "100mb"}})),
    );
    assert_eq!(status, 200);
    let raised = restore_time(&mut w, t1, "s1");
    assert_paced(&w, raised, (100 * MIB) as f64);
    // Unlimited everywhere is not instant: the node's physical limit (250 MiB/s) remains.
    // (Transient: a persistent value set before the restore is replaced by the snapshot's.)
    let mut w = data_world(400 * MIB, 0);
    let t1 = prepare_restore(&mut w, t0);
    let (status, _) = call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"transient": {"indices.recovery.max_bytes_per_sec": "-1"}})),
    );
    assert_eq!(status, 200);
    let floor = restore_time(&mut w, t1, "s1");
    assert_paced(&w, floor, (250 * MIB) as f64);
    // The restored indices hold every byte of the snapshot.
    let restored: u64 = w.regions[1]
        .es
        .indices
        .values()
        .map(|i| i.primary_bytes())
        .sum();
    let source: u64 = w.regions[0]
        .es
        .indices
        .values()
        .map(|i| i.primary_bytes())
        .sum();
    assert_eq!(restored, source);
}

#[test]
fn a_setting_changed_during_a_restore_changes_its_pace() {
    let t0 = Instant::now();
    let mut w = data_world(400 * MIB, 0);
    let t1 = prepare_restore(&mut w, t0);
    let (status, _) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200);
    // 1 s at 40mb per node, then unlimited: 80 MiB done, 320 MiB at 2 × 250 MiB/s.
    w.advance(t1 + Duration::from_secs(1));
    let (_, rec) = call(&mut w, 1, "GET", "_recovery", None);
    let recovered: u64 = rec
        .as_object()
        .expect("object")
        .values()
        .flat_map(|i| i["shards"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            s["index"]["size"]["recovered_in_bytes"]
                .as_u64()
                .unwrap_or(0)
        })
        .sum();
    assert!(
        recovered > 70 * MIB && recovered <= 80 * MIB,
        "{}",
        recovered / MIB
    );
    call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"transient": {"indices.recovery.max_bytes_per_sec": -1}})),
    );
    w.advance(t1 + Duration::from_secs(3600));
    let end = w.regions[1]
        .es
        .indices
        .values()
        .flat_map(|i| i.copies(0).iter())
        .filter_map(|c| c.done_at)
        .max()
        .expect("done");
    let took = end.duration_since(t1);
    assert!(
        took > Duration::from_millis(1500) && took < Duration::from_millis(2200),
        "{took:?}"
    );
}

/// Copies recovering at `t` per node: (primaries, peer copies in, peer copies out).
fn in_flight(w: &World, region: usize, t: Instant) -> Vec<(usize, usize, usize)> {
    let es = &w.regions[region].es;
    let mut out = vec![(0, 0, 0); es.nodes as usize];
    for i in es.indices.values() {
        for c in i.copies(0) {
            if c.in_flight(t) {
                if c.primary {
                    out[c.node as usize].0 += 1;
                } else {
                    out[c.node as usize].1 += 1;
                    out[c.source_node as usize].2 += 1;
                }
            }
        }
    }
    out
}

#[test]
fn recoveries_in_flight_follow_the_allocation_throttles() {
    let t0 = Instant::now();
    let mut w = data_world(400 * MIB, 1);
    let t1 = prepare_restore(&mut w, t0);
    call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    // node_initial_primaries_recoveries (4) primaries restore per node; no replica yet.
    let t = t1 + Duration::from_millis(100);
    w.advance(t);
    assert_eq!(in_flight(&w, 1, t), vec![(4, 0, 0), (4, 0, 0)]);
    // Later, replicas recover from started primaries: at most node_concurrent_recoveries (2)
    // incoming and outgoing per node, whatever the number of primaries done.
    let mut saw_peer = false;
    for ms in (200..20_000).step_by(100) {
        let t = t1 + Duration::from_millis(ms);
        w.advance(t);
        for (p, i, o) in in_flight(&w, 1, t) {
            assert!(p <= 4 && i <= 2 && o <= 2, "{:?}", in_flight(&w, 1, t));
            saw_peer |= i > 0;
        }
    }
    assert!(saw_peer);
    // Raised limits take effect on the next allocation round.
    let mut w = data_world(400 * MIB, 1);
    let t1 = prepare_restore(&mut w, t0);
    call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"transient": {
            "cluster.routing.allocation.node_initial_primaries_recoveries": 1,
            "cluster.routing.allocation.node_concurrent_recoveries": 6}})),
    );
    call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    let t = t1 + Duration::from_millis(100);
    w.advance(t);
    assert_eq!(in_flight(&w, 1, t), vec![(1, 0, 0), (1, 0, 0)]);
}

#[test]
fn exported_data_arrives_only_while_exporting_runs() {
    use crate::zeebe::Exporting;
    let mut w = World::healthy(SimConfig {
        es_ingest_bytes_per_sec: MIB,
        ..SimConfig::default()
    });
    let total = |w: &World, r: usize| -> u64 {
        w.regions[r]
            .es
            .indices
            .values()
            .map(|i| i.primary_bytes())
            .sum()
    };
    let t0 = Instant::now();
    w.advance(t0);
    let (a0, a1) = (total(&w, 0), total(&w, 1));
    w.advance(t0 + Duration::from_secs(10));
    let (b0, b1) = (total(&w, 0), total(&w, 1));
    assert!((b0 - a0).abs_diff(10 * MIB) < 1024, "{}", b0 - a0);
    assert!((b1 - a1).abs_diff(10 * MIB) < 1024, "{}", b1 - a1);
    // Hard pause on every replica: nothing arrives.
    let t = t0 + Duration::from_secs(10);
    let replicas: Vec<(u32, u32)> = w
        .zeebe
        .members
        .iter()
        .flat_map(|(b, m)| m.partitions.keys().map(move |p| (*b, *p)))
        .collect();
    for (b, p) in &replicas {
        w.zeebe.exporting.set(*b, *p, Exporting::Paused, t);
    }
    w.advance(t0 + Duration::from_secs(20));
    assert_eq!((total(&w, 0), total(&w, 1)), (b0, b1));
    // A soft pause keeps exporting (only positions stop being acknowledged).
    let t = t0 + Duration::from_secs(20);
    for (b, p) in &replicas {
        w.zeebe.exporting.set(*b, *p, Exporting::SoftPaused, t);
    }
    w.advance(t0 + Duration::from_secs(30));
    assert!(total(&w, 0) > b0);
    // A lost region receives nothing; a disabled exporter writes nothing.
    w.lose_region(1);
    let c1 = total(&w, 1);
    w.advance(t0 + Duration::from_secs(40));
    assert_eq!(total(&w, 1), c1);
    for m in w.zeebe.members.values_mut() {
        for p in m.partitions.values_mut() {
            p.exporters
                .insert("camundaregion0".into(), "DISABLED".into());
        }
    }
    let c0 = total(&w, 0);
    w.advance(t0 + Duration::from_secs(50));
    assert_eq!(total(&w, 0), c0);
}

#[test]
fn the_time_scale_divides_server_time() {
    let t0 = Instant::now();
    let base = SimConfig {
        es_data_bytes: 400 * MIB,
        es_number_of_replicas: 0,
        ..SimConfig::default()
    };
    let mut w = World::healthy(base.clone());
    let t1 = prepare_restore(&mut w, t0);
    let real = restore_time(&mut w, t1, "s1");
    let mut w = World::healthy(base.with_time_scale(10.0));
    let t1 = prepare_restore(&mut w, t0);
    let scaled = restore_time(&mut w, t1, "s1");
    let ratio = real.as_secs_f64() / scaled.as_secs_f64();
    assert!((ratio - 10.0).abs() < 0.2, "{real:?} vs {scaled:?}");
}

/// A transfer with less than a nanosecond of work left still finishes: at a high time scale and
/// no recovery limit, the next event rounded to zero and the clock stood still (the loop ran to
/// its cap under the world lock and every request timed out).
#[test]
fn a_restore_at_a_high_time_scale_without_limits_finishes() {
    let t0 = Instant::now();
    let mut w = World::healthy(
        SimConfig {
            es_data_bytes: 1024 * MIB,
            es_number_of_replicas: 1,
            ..SimConfig::default()
        }
        .with_time_scale(50.0),
    );
    let t1 = prepare_restore(&mut w, t0);
    call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"indices.recovery.max_bytes_per_sec": -1}})),
    );
    let (status, _) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    w.advance(t1 + Duration::from_secs(60));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "advancing the clock took {:?}",
        started.elapsed()
    );
    let busy = super::recovery::busy(&w.regions[1].es, t1 + Duration::from_secs(60));
    assert!(
        !busy,
        "the restore of 1 GiB at 50x did not finish within a simulated minute"
    );
}

#[test]
fn a_restore_with_the_global_state_replaces_the_persistent_settings_with_the_snapshots() {
    let mut w = data_world(8 << 20, 1);
    let t0 = Instant::now();
    w.advance(t0);
    // The source carries a persistent setting of its own; the snapshot takes it along.
    let (s, b) = call(
        &mut w,
        0,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"indices.recovery.max_bytes_per_sec": "100mb"}})),
    );
    assert_eq!(s, 200, "{b}");
    let t1 = prepare_restore(&mut w, t0);
    // Set on the target before the restore: persistent (replaced) and transient (kept).
    let (s, b) = call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({
            "persistent": {"cluster.routing.allocation.node_concurrent_recoveries": "8",
                           "cluster.metadata.c8dr_recovery_tuning": "{}"},
            "transient": {"cluster.routing.allocation.node_initial_primaries_recoveries": "6"}})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(s, 200, "{b}");
    let (_, got) = call(
        &mut w,
        1,
        "GET",
        "_cluster/settings?flat_settings=true",
        None,
    );
    assert_eq!(
        got["persistent"],
        json!({"indices.recovery.max_bytes_per_sec": "100mb"})
    );
    assert_eq!(
        got["transient"],
        json!({"cluster.routing.allocation.node_initial_primaries_recoveries": "6"})
    );
    // Without the global state the settings stay as they are.
    w.recreate_region(1);
    w.advance(t1 + Duration::from_secs(1));
    call(
        &mut w,
        1,
        "PUT",
        "_snapshot/camunda_backup",
        Some(s3_readonly()),
    );
    call(
        &mut w,
        1,
        "PUT",
        "_cluster/settings",
        Some(json!({"persistent": {"cluster.routing.allocation.node_concurrent_recoveries": "8"}})),
    );
    let (s, _) = call(
        &mut w,
        1,
        "POST",
        "_snapshot/camunda_backup/s1/_restore",
        Some(json!({})),
    );
    assert_eq!(s, 200);
    let (_, got) = call(
        &mut w,
        1,
        "GET",
        "_cluster/settings?flat_settings=true",
        None,
    );
    assert_eq!(
        got["persistent"],
        json!({"cluster.routing.allocation.node_concurrent_recoveries": "8"})
    );
}

#[test]
fn a_snapshot_of_indices_without_primaries_fails_unless_partial() {
    let mut w = World::healthy(SimConfig::default());
    let t0 = Instant::now();
    w.advance(t0);
    call(&mut w, 0, "PUT", "_snapshot/camunda_backup", Some(s3()));
    let red: Vec<String> = w.regions[0].es.indices.keys().take(2).cloned().collect();
    for i in &red {
        if let Some(idx) = w.regions[0].es.indices.get_mut(i) {
            idx.primaries_lost = true;
        }
    }
    let (_, health) = call(&mut w, 0, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "red");
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_snapshot/camunda_backup/red-1",
        Some(json!({"include_global_state": true})),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["type"], "snapshot_exception");
    let reason = body["error"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("[camunda_backup:red-1/"), "{reason}");
    assert!(
        reason.ends_with(&format!(
            "] Indices don't have primary shards [{}]",
            red.join(", ")
        )),
        "{reason}"
    );
    assert!(
        w.object_store
            .values()
            .flat_map(|b| b.values())
            .all(|r| r.snapshots.is_empty()),
        "nothing was started"
    );
    let (status, body) = call(
        &mut w,
        0,
        "PUT",
        "_snapshot/camunda_backup/red-2",
        Some(json!({"include_global_state": true, "partial": true})),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn snapshot_names_are_checked_in_elasticsearchs_order() {
    let mut w = World::healthy(SimConfig::default());
    w.advance(Instant::now());
    call(&mut w, 0, "PUT", "_snapshot/camunda_backup", Some(s3()));
    for (name, why) in [
        ("a%20b", "must not contain whitespace"),
        ("a,b", "must not contain ','"),
        ("_a", "must not start with '_'"),
        ("Ab", "must be lowercase"),
        ("a*b", "must not contain the following characters"),
    ] {
        let (status, body) = call(
            &mut w,
            0,
            "PUT",
            &format!("_snapshot/camunda_backup/{}", name.replace("%20", " ")),
            Some(json!({})),
        );
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"]["type"], "invalid_snapshot_name_exception");
        assert!(
            body["error"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains(why)),
            "{name}: {body}"
        );
    }
}

#[test]
fn a_repository_in_use_changes_only_its_rate_limits() {
    for opensearch in [false, true] {
        let mut w = World::healthy(SimConfig {
            es_opensearch: opensearch,
            es_shard_duration: Duration::from_secs(5),
            ..SimConfig::default()
        });
        let t0 = Instant::now();
        w.advance(t0);
        call(&mut w, 0, "PUT", "_snapshot/camunda_backup", Some(s3()));
        let (s, b) = call(
            &mut w,
            0,
            "PUT",
            "_snapshot/camunda_backup/running",
            Some(json!({"include_global_state": true})),
        );
        assert_eq!(s, 200, "{b}");
        // A rate limit may change while the snapshot runs...
        let mut rated = s3();
        rated["settings"]["max_snapshot_bytes_per_sec"] = json!("100mb");
        let (s, b) = call(
            &mut w,
            0,
            "PUT",
            "_snapshot/camunda_backup?verify=false",
            Some(rated),
        );
        assert_eq!(s, 200, "{b}");
        // ...anything else is refused, and so is unregistering it.
        let mut moved = s3();
        moved["settings"]["base_path"] = json!("elsewhere");
        let (s, b) = call(
            &mut w,
            0,
            "PUT",
            "_snapshot/camunda_backup?verify=false",
            Some(moved.clone()),
        );
        let (want_status, want_type) = if opensearch {
            (500, "illegal_state_exception")
        } else {
            (409, "repository_conflict_exception")
        };
        assert_eq!(
            (s, b["error"]["type"].as_str()),
            (want_status, Some(want_type)),
            "{b}"
        );
        assert!(
            b["error"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("trying to modify or unregister repository")),
            "{b}"
        );
        assert_eq!(
            w.regions[0].es.repositories["camunda_backup"].settings["base_path"],
            "backups"
        );
        let (s, _) = call(&mut w, 0, "DELETE", "_snapshot/camunda_backup", None);
        assert_eq!(s, want_status);
        // Once the snapshot is done, the change is accepted.
        w.advance(t0 + Duration::from_secs(3600));
        let (s, b) = call(
            &mut w,
            0,
            "PUT",
            "_snapshot/camunda_backup?verify=false",
            Some(moved),
        );
        assert_eq!(s, 200, "{b}");
    }
}
