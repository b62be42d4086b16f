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

/// Index name prefixes the Camunda 8.8 schema manager creates (docs/api-behaviour.md §5).
pub const CAMUNDA_INDEX_PREFIXES: [&str; 3] = ["operate-", "tasklist-", "camunda-"];

/// Whether an index belongs to Camunda (`operate-*`, `tasklist-*`, `camunda-*`).
pub fn is_camunda_index(name: &str) -> bool {
    CAMUNDA_INDEX_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The longest snapshot name c8dr sends, in bytes of UTF-8. Elasticsearch itself has no
/// length rule for snapshot names; the name travels in the request line, which ES bounds at
/// `http.max_initial_line_length` (4kb, elastic/elasticsearch `HttpTransportSettings`), and in
/// argv through `kubectl exec`. 255 (the bound ES puts on index names,
/// `MetadataCreateIndexService.validateIndexOrAliasName`) keeps every request well within both.
pub const MAX_SNAPSHOT_NAME_BYTES: usize = 255;

/// A snapshot name as c8dr shows it back: at most 40 characters, quoted, with its size when cut.
fn shown(name: &str) -> String {
    const KEEP: usize = 40;
    if name.chars().count() <= KEEP {
        format!("{name:?}")
    } else {
        let head: String = name.chars().take(KEEP).collect();
        format!("{head:?}… ({} bytes)", name.len())
    }
}

/// A snapshot name Elasticsearch and OpenSearch accept, checked as they check it
/// (elastic/elasticsearch 8.x `SnapshotsService.validate`, later `SnapshotsServiceUtils.validate`;
/// opensearch-project/OpenSearch 2.x `SnapshotsService.validate`): not empty, no space, `,` or
/// `#`, not starting with `_`, lowercase, none of `Strings.INVALID_FILENAME_CHARS`
/// (`\ / * ? " < > |`). c8dr adds: at most [`MAX_SNAPSHOT_NAME_BYTES`], no control character
/// (it would not survive a request line), no leading `-` (it would read as a flag).
pub fn validate_snapshot_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the snapshot name is empty".into());
    }
    let bad = |why: String| Err(format!("snapshot name {} {why}", shown(name)));
    if name.len() > MAX_SNAPSHOT_NAME_BYTES {
        return bad(format!(
            "is {} bytes long: at most {MAX_SNAPSHOT_NAME_BYTES} bytes (UTF-8)",
            name.len()
        ));
    }
    if name.chars().any(char::is_control) {
        return bad("must not contain a control character".into());
    }
    // In Elasticsearch's order: space, ',', '#', a leading '_', lowercase, then the rest.
    if let Some(c) = [' ', ',', '#'].into_iter().find(|c| name.contains(*c)) {
        return bad(format!("must not contain {c:?}"));
    }
    if name.starts_with('_') {
        return bad("must not start with '_'".into());
    }
    if name.starts_with('-') {
        return bad("must not start with '-'".into());
    }
    if name != name.to_lowercase() {
        return bad("must be lowercase".into());
    }
    if let Some(c) = name.chars().find(|c| "\\/*?\"<>|".contains(*c)) {
        return bad(format!("must not contain {c:?}"));
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
