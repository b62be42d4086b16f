//! The opt-in OpenSearch 2.19 flavour of the simulated search engine (`SimConfig::es_opensearch`):
//! only what differs from Elasticsearch 8 for the calls c8dr makes. Snapshot repositories,
//! snapshots, restores, `_recovery`, `_cat/indices` and `_cluster/health` otherwise share the
//! Elasticsearch model (OpenSearch forked from Elasticsearch 7.10 and keeps those APIs).
//!
//! Sources (opensearch-project/OpenSearch, 2.19 branch):
//! - `GET /`: `server/src/main/java/org/opensearch/action/main/MainResponse.java` (`version`
//!   starts with `distribution` = `Build.getDistribution()`, "opensearch"; no `build_flavor`;
//!   tagline "The OpenSearch Project: https://opensearch.org/");
//! - restore body: `server/src/main/java/org/opensearch/action/admin/cluster/snapshots/restore/RestoreSnapshotRequest.java`
//!   `source(Map)`: any key that is not one it knows nor an indices option throws
//!   `IllegalArgumentException("Unknown parameter " + name)`, which the REST layer renders as a
//!   400 `illegal_argument_exception`. OpenSearch has no feature states, so `feature_states` is
//!   such a key. (`CreateSnapshotRequest.source` ignores unknown keys.)
//! - `_recovery` of a restored shard: `RecoverySource.SnapshotRecoverySource.addAdditionalFields`
//!   adds `isSearchableSnapshot`, `remoteStoreIndexShallowCopy`, `sourceRemoteStoreRepository`,
//!   `sourceRemoteTranslogRepository` to Elasticsearch's fields.
//! - snapshot descriptions (`SnapshotInfo`) have no `feature_states`.

use serde_json::{Value, json};

use super::{EsCluster, es_error};

/// `GET /` of an OpenSearch 2.19.1 node (tar distribution). `build_hash`/`build_date` are
/// placeholders of the real shape (they differ per build).
pub fn main_response(es: &EsCluster) -> Value {
    json!({
        "name": es.node_name(0),
        "cluster_name": "opensearch",
        "cluster_uuid": "c8drSimClusterUuid0000",
        "version": {
            "distribution": "opensearch",
            "number": "2.19.1",
            "build_type": "tar",
            "build_hash": "0000000000000000000000000000000000000000",
            "build_date": "2025-03-01T00:00:00.000000000Z",
            "build_snapshot": false,
            "lucene_version": "9.12.1",
            "minimum_wire_compatibility_version": "7.10.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "The OpenSearch Project: https://opensearch.org/"
    })
}

/// Keys of a restore request body both engines accept, plus the indices options
/// (`IndicesOptions.isIndicesOptions`).
const RESTORE_KEYS: &[&str] = &[
    "indices",
    "partial",
    "include_global_state",
    "include_aliases",
    "rename_pattern",
    "rename_replacement",
    "index_settings",
    "ignore_index_settings",
    "expand_wildcards",
    "ignore_unavailable",
    "allow_no_indices",
    "ignore_throttled",
];

/// Keys only Elasticsearch 8 accepts (elastic/elasticsearch 8.18
/// `server/src/main/java/org/elasticsearch/action/admin/cluster/snapshots/restore/RestoreSnapshotRequest.java`
/// `source(Map)`, which throws the same "Unknown parameter" for any other key).
const ES_ONLY_RESTORE_KEYS: &[&str] = &["feature_states"];

/// Keys only OpenSearch 2.19 accepts.
const OPENSEARCH_ONLY_RESTORE_KEYS: &[&str] =
    &["settings", "storage_type", "source_remote_store_repository"];

/// The 400 a restore body with a key the engine does not know gets, or `None`.
pub fn check_restore_body(es: &EsCluster, body: &Value) -> Option<(u16, Value)> {
    let extra = if es.opensearch {
        OPENSEARCH_ONLY_RESTORE_KEYS
    } else {
        ES_ONLY_RESTORE_KEYS
    };
    let unknown = body
        .as_object()?
        .keys()
        .find(|k| !RESTORE_KEYS.contains(&k.as_str()) && !extra.contains(&k.as_str()))?;
    Some(es_error(
        400,
        "illegal_argument_exception",
        format!("Unknown parameter {unknown}"),
    ))
}

/// The extra `source` fields OpenSearch writes for a shard restored from a snapshot.
pub fn snapshot_source_extras(source: &mut Value) {
    if let Value::Object(m) = source {
        m.insert("isSearchableSnapshot".into(), json!(false));
        m.insert("remoteStoreIndexShallowCopy".into(), json!(false));
        m.insert("sourceRemoteStoreRepository".into(), Value::Null);
        m.insert("sourceRemoteTranslogRepository".into(), Value::Null);
    }
}
