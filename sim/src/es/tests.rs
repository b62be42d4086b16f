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
    pass(&mut w, t0, d * n + Duration::from_millis(1));
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
    let t1 = t0 + d * n + Duration::from_millis(1);
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
    // Only the first index has started: unassigned copies have no recovery state yet.
    let listed = rec.as_object().expect("object");
    assert_eq!(listed.len(), 1, "{rec:#}");
    let first = listed.values().next().expect("one index");
    let shards = first["shards"].as_array().expect("shards");
    // Primary 0 done, primary 1 recovering; replica of shard 0 recovering from its primary.
    let kinds: Vec<(u64, bool, &str, &str)> = shards
        .iter()
        .map(|s| {
            (
                s["id"].as_u64().unwrap_or(99),
                s["primary"].as_bool().unwrap_or(false),
                s["type"].as_str().unwrap_or(""),
                s["stage"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(kinds[0], (0, true, "SNAPSHOT", "DONE"), "{kinds:?}");
    assert_eq!(
        (kinds[1].0, kinds[1].1, kinds[1].2),
        (1, true, "SNAPSHOT"),
        "{kinds:?}"
    );
    assert_ne!(kinds[1].3, "DONE", "{kinds:?}");
    assert_eq!(
        (kinds[2].0, kinds[2].1, kinds[2].2),
        (0, false, "PEER"),
        "{kinds:?}"
    );
    assert_eq!(shards[0]["source"]["snapshot"], "s1");
    assert_eq!(shards[0]["source"]["repository"], "camunda_backup");
    assert!(shards[0]["source"]["restoreUUID"].is_string());
    assert_eq!(
        shards[2]["source"]["name"],
        "camunda-elasticsearch-master-0"
    );
    assert_eq!(
        shards[2]["target"]["name"],
        "camunda-elasticsearch-master-1"
    );
    let pct = shards[1]["index"]["size"]["percent"]
        .as_str()
        .expect("percent");
    assert!(
        pct.ends_with('%') && pct != "0.0%" && pct != "100.0%",
        "{pct}"
    );
    let (status, health) = call(
        &mut w,
        1,
        "GET",
        "_cluster/health?wait_for_status=green&timeout=1s",
        None,
    );
    assert_eq!((status, &health["timed_out"]), (408, &json!(true)));
    // Every primary is done but the last index's replicas still recover: yellow.
    pass(&mut w, t1, d * n + Duration::from_millis(1));
    let (_, health) = call(&mut w, 1, "GET", "_cluster/health", None);
    assert_eq!(health["status"], "yellow", "{health:#}");
    pass(&mut w, t1, d * (n + 1));
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
    let (status, _) = call(&mut w, 0, "PUT", "_cluster/settings", Some(json!({})));
    assert_eq!(status, 400);
    assert!(w.regions[0].es.settings.transient.is_empty());
}
