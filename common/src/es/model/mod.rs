//! Pure Elasticsearch logic: what the API answers mean for c8dr. No I/O here.
//!
//! [`engine`] (Elasticsearch or OpenSearch), [`shards`] (layouts, recoveries, restore
//! progress), [`snapshot`] (snapshot descriptions and verdicts), [`origins`] (where indices came
//! from, restore planning); Camunda index and snapshot names and ES error bodies here.

mod engine;
mod origins;
mod shards;
mod snapshot;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use engine::{Distribution, Engine, parse_distribution};
pub use origins::{Origin, RestorePlan, index_origins, plan_restore};
pub use shards::{
    CatIndex, Progress, ShardLayout, ShardRecovery, parse_recovery, restore_progress,
};
pub use snapshot::{ShardCounts, ShardFailure, SnapshotInfo, SnapshotVerdict, evaluate_snapshot};

/// Index name prefixes the Camunda 8.8 schema manager creates (SPEC 3.5).
pub const CAMUNDA_INDEX_PREFIXES: [&str; 3] = ["operate-", "tasklist-", "camunda-"];

/// Whether an index belongs to Camunda (`operate-*`, `tasklist-*`, `camunda-*`).
pub fn is_camunda_index(name: &str) -> bool {
    CAMUNDA_INDEX_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A snapshot name ES accepts (lowercase, none of `\ / * ? " < > | , #` or space, no leading
/// `_` or `-`; ES's `MetadataCreateIndexService`-style validation applied to snapshots).
pub fn validate_snapshot_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the snapshot name is empty".into());
    }
    if name != name.to_lowercase() {
        return Err(format!("snapshot name {name:?} must be lowercase"));
    }
    if name.starts_with('_') || name.starts_with('-') {
        return Err(format!(
            "snapshot name {name:?} must not start with '_' or '-'"
        ));
    }
    if let Some(c) = name.chars().find(|c| "\\/*?\"<>|,# ".contains(*c)) {
        return Err(format!("snapshot name {name:?} must not contain {c:?}"));
    }
    Ok(())
}

/// `failback-YYYYMMDD-HHMMSS` (UTC) from seconds since the epoch.
pub fn default_snapshot_name(epoch_secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_secs);
    // "2026-11-23T22:21:00Z" -> "20261123-222100"
    let stamp: String = humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("failback-{}", stamp.replace('T', "-"))
}

/// The `type: reason` of an ES error body (or the body itself when it has another shape).
pub fn error_reason(body: &Value) -> String {
    match body.get("error") {
        Some(Value::Object(e)) => {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let reason = e.get("reason").and_then(Value::as_str).unwrap_or("");
            let cause = e
                .get("caused_by")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                .map(|c| format!(" (caused by: {c})"))
                .unwrap_or_default();
            format!("{kind}: {reason}{cause}")
        }
        Some(Value::String(s)) => s.clone(),
        _ => match body {
            Value::String(s) => s.clone(),
            Value::Null => "empty answer".into(),
            other => other.to_string(),
        },
    }
}

/// The `error.type` of an ES error body.
pub fn error_type(body: &Value) -> Option<&str> {
    body.pointer("/error/type").and_then(Value::as_str)
}
