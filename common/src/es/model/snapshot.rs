//! Snapshots as `GET _snapshot` describes them, and what their state means for c8dr.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Shard counts of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCounts {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub successful: u64,
}

/// A shard that failed to snapshot. Read with Elasticsearch's snake_case keys, written in c8dr's
/// documents in camelCase (docs/output.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct ShardFailure {
    #[serde(default)]
    pub index: String,
    #[serde(default)]
    pub shard_id: u64,
    #[serde(default)]
    pub reason: String,
}

/// A snapshot as `GET _snapshot/<repo>/<name>` describes it. Read with Elasticsearch's
/// snake_case keys, written in c8dr's documents in camelCase (docs/output.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct SnapshotInfo {
    pub snapshot: String,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub include_global_state: bool,
    #[serde(default)]
    pub indices: Vec<String>,
    /// ES 8 feature states (system indices such as security) the snapshot carries; a restore
    /// with `include_global_state: true` restores them too.
    #[serde(default)]
    pub feature_states: Vec<Value>,
    #[serde(default)]
    pub shards: ShardCounts,
    #[serde(default)]
    pub failures: Vec<ShardFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_millis: Option<u64>,
}

/// What a snapshot's state means for c8dr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotVerdict {
    Running,
    Succeeded,
    /// Not usable, with the reason (failed shards named).
    Failed(String),
}

/// SUCCESS with `shards.failed == 0` is the only success (docs/api-behaviour.md §5); PARTIAL and FAILED are
/// failures naming the failed shards.
pub fn evaluate_snapshot(info: &SnapshotInfo) -> SnapshotVerdict {
    let failed_shards = || {
        if info.failures.is_empty() {
            format!(
                "{} of {} shards failed",
                info.shards.failed, info.shards.total
            )
        } else {
            let list: Vec<String> = info
                .failures
                .iter()
                .map(|f| format!("{}[{}]: {}", f.index, f.shard_id, f.reason))
                .collect();
            format!(
                "{} of {} shards failed: {}",
                info.shards.failed.max(info.failures.len() as u64),
                info.shards.total,
                list.join("; ")
            )
        }
    };
    match info.state.as_str() {
        "IN_PROGRESS" | "STARTED" | "INIT" => SnapshotVerdict::Running,
        "SUCCESS" if info.shards.failed == 0 && info.failures.is_empty() => {
            SnapshotVerdict::Succeeded
        }
        "SUCCESS" | "PARTIAL" => SnapshotVerdict::Failed(format!(
            "snapshot {} is {}: {}",
            info.snapshot,
            info.state,
            failed_shards()
        )),
        other => SnapshotVerdict::Failed(format!(
            "snapshot {} is {}: {}",
            info.snapshot,
            if other.is_empty() {
                "in an unknown state"
            } else {
                other
            },
            failed_shards()
        )),
    }
}
