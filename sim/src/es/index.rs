//! Indices of the simulated cluster and the read APIs derived from them: `_cat/indices`,
//! `_recovery`, `_cluster/health`, `GET /<index>`, `_index_template`, and `DELETE /<index>`.
//!
//! Every simulated index has one primary shard and no replica (Camunda's default
//! `numberOfShards: 1`, `numberOfReplicas: 0`), so a fully recovered single-node cluster is green.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{EsCluster, es_error};
use crate::http::SimRequest;

/// One index.
#[derive(Debug, Clone)]
pub struct EsIndex {
    pub uuid: String,
    /// Documents once the primary is recovered.
    pub docs: u64,
    pub replicas: u32,
    /// How the primary shard came to be (`_recovery` reports it).
    pub recovery: Recovery,
}

/// The recovery of an index's primary shard.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub source: RecoverySource,
    /// The shard starts recovering (a restore recovers one shard after the other).
    pub start: Instant,
    /// The shard is recovered.
    pub done_at: Instant,
    /// Wall-clock start, for `start_time_in_millis`.
    pub start_epoch_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoverySource {
    /// Created empty (the schema manager, or an index written to since).
    EmptyStore,
    /// Restored from a snapshot.
    Snapshot {
        repository: String,
        snapshot: String,
        uuid: String,
        index: String,
    },
}

/// Stage of a shard recovery, as `_recovery` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Init,
    Index,
    Done,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Init => "INIT",
            Self::Index => "INDEX",
            Self::Done => "DONE",
        }
    }
}

pub(crate) fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl EsIndex {
    /// An index whose primary is already recovered.
    pub fn new(uuid: String, docs: u64, source: RecoverySource) -> Self {
        let now = Instant::now();
        Self {
            uuid,
            docs,
            replicas: 0,
            recovery: Recovery {
                source,
                start: now,
                done_at: now,
                start_epoch_ms: epoch_ms(),
            },
        }
    }

    /// Bytes a shard of this index holds (a simulated 1 KiB per document plus overhead).
    pub fn size_bytes(&self) -> u64 {
        2048 + self.docs * 1024
    }

    pub fn stage(&self, now: Instant) -> Stage {
        if now >= self.recovery.done_at {
            Stage::Done
        } else if now < self.recovery.start {
            Stage::Init
        } else {
            Stage::Index
        }
    }

    /// Fraction of the shard's bytes recovered by `now`.
    pub fn recovered_fraction(&self, now: Instant) -> f64 {
        let r = &self.recovery;
        if now >= r.done_at {
            return 1.0;
        }
        if now <= r.start {
            return 0.0;
        }
        let total = r.done_at.duration_since(r.start).as_secs_f64();
        if total <= 0.0 {
            1.0
        } else {
            (now.duration_since(r.start).as_secs_f64() / total).clamp(0.0, 1.0)
        }
    }

    /// `red` while the primary is not recovered, `yellow` with unassignable replicas (one node).
    pub fn health(&self, now: Instant) -> &'static str {
        if self.stage(now) != Stage::Done {
            "red"
        } else if self.replicas > 0 {
            "yellow"
        } else {
            "green"
        }
    }
}

/// `*` glob match, as index expressions use it.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn matches_expression(expr: Option<&str>, name: &str) -> bool {
    match expr {
        None | Some("_all") | Some("*") => !name.starts_with('.'),
        Some(e) => e.split(',').any(|p| glob_match(p, name)),
    }
}

fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes}b")
    } else {
        format!("{:.1}kb", bytes as f64 / 1024.0)
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `GET _cat/indices[/<expr>]?format=json` (always JSON here: the core asks for JSON).
pub fn cat_indices(es: &EsCluster, expr: Option<&str>) -> (u16, Value) {
    let now = es.clock();
    let rows: Vec<Value> = es
        .indices
        .iter()
        .filter(|(name, _)| matches_expression(expr, name))
        .map(|(name, idx)| {
            let done = idx.stage(now) == Stage::Done;
            let size = human_size(if done { idx.size_bytes() } else { 0 });
            json!({
                "health": idx.health(now),
                "status": "open",
                "index": name,
                "uuid": idx.uuid,
                "pri": "1",
                "rep": idx.replicas.to_string(),
                // A red index has no started primary: ES prints no count for it.
                "docs.count": if done { Value::String(idx.docs.to_string()) } else { Value::Null },
                "docs.deleted": if done { Value::String("0".into()) } else { Value::Null },
                "store.size": size,
                "pri.store.size": size,
                "dataset.size": size,
            })
        })
        .collect();
    (200, Value::Array(rows))
}

/// `GET _cluster/health`, honouring `wait_for_status` without blocking: if the status is not
/// reached, the answer is ES's 408 with `timed_out: true` (as if `timeout` had elapsed).
pub fn cluster_health(es: &EsCluster, req: &SimRequest) -> (u16, Value) {
    let now = es.clock();
    let total = es.indices.len() as u64;
    let mut active = 0u64;
    let mut initializing = 0u64;
    let mut unassigned = 0u64;
    let mut replicas_unassigned = 0u64;
    for idx in es.indices.values() {
        match idx.stage(now) {
            Stage::Done => active += 1,
            Stage::Index => initializing += 1,
            Stage::Init => unassigned += 1,
        }
        replicas_unassigned += u64::from(idx.replicas);
    }
    let status = if active < total {
        "red"
    } else if replicas_unassigned > 0 {
        "yellow"
    } else {
        "green"
    };
    let all_shards = total + replicas_unassigned;
    let active_percent = if all_shards == 0 {
        100.0
    } else {
        active as f64 * 100.0 / all_shards as f64
    };
    let rank = |s: &str| match s {
        "green" => 2,
        "yellow" => 1,
        _ => 0,
    };
    let timed_out = req
        .param("wait_for_status")
        .is_some_and(|wanted| rank(status) < rank(wanted));
    let body = json!({
        "cluster_name": "elastic",
        "status": status,
        "timed_out": timed_out,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": active,
        "active_shards": active,
        "relocating_shards": 0,
        "initializing_shards": initializing,
        "unassigned_shards": unassigned + replicas_unassigned,
        "unassigned_primary_shards": unassigned,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": active_percent,
    });
    (if timed_out { 408 } else { 200 }, body)
}

/// `GET [<index>/]_recovery[?active_only=true]`: one entry per index with its primary shard.
pub fn recovery(es: &EsCluster, req: &SimRequest, expr: Option<&str>) -> (u16, Value) {
    let now = es.clock();
    let active_only = req.flag("active_only");
    let mut out = serde_json::Map::new();
    for (name, idx) in es
        .indices
        .iter()
        .filter(|(n, _)| matches_expression(expr, n))
    {
        let stage = idx.stage(now);
        if active_only && stage == Stage::Done {
            continue;
        }
        let frac = idx.recovered_fraction(now);
        let total_bytes = idx.size_bytes();
        let recovered = (total_bytes as f64 * frac) as u64;
        let files_total = 4u64;
        let files_recovered = (files_total as f64 * frac).floor() as u64;
        let elapsed = if now > idx.recovery.start {
            now.min(idx.recovery.done_at)
                .duration_since(idx.recovery.start)
        } else {
            Duration::ZERO
        };
        let (kind, source) = match &idx.recovery.source {
            RecoverySource::EmptyStore => ("EMPTY_STORE", json!({})),
            RecoverySource::Snapshot {
                repository,
                snapshot,
                uuid,
                index,
            } => (
                "SNAPSHOT",
                json!({"repository": repository, "snapshot": snapshot, "uuid": uuid,
                       "version": "8.18.0", "index": index, "restoreUUID": uuid}),
            ),
        };
        let mut shard = json!({
            "id": 0,
            "type": kind,
            "stage": stage.name(),
            "primary": true,
            "start_time_in_millis": idx.recovery.start_epoch_ms,
            "total_time_in_millis": elapsed.as_millis() as u64,
            "source": source,
            "target": {"id": "sim-node-0", "host": "127.0.0.1", "transport_address": "127.0.0.1:9300",
                       "ip": "127.0.0.1", "name": "camunda-elasticsearch-master-0"},
            "index": {
                "size": {"total_in_bytes": total_bytes, "reused_in_bytes": 0,
                         "recovered_in_bytes": recovered, "recovered_from_snapshot_in_bytes": recovered,
                         "percent": percent(frac)},
                "files": {"total": files_total, "reused": 0, "recovered": files_recovered,
                          "percent": percent(files_recovered as f64 / files_total as f64)},
                "total_time_in_millis": elapsed.as_millis() as u64,
                "source_throttle_time_in_millis": 0,
                "target_throttle_time_in_millis": 0,
            },
            "translog": {"recovered": 0, "total": 0, "percent": "100.0%", "total_on_start": 0,
                         "total_time_in_millis": 0},
            "verify_index": {"check_index_time_in_millis": 0, "total_time_in_millis": 0},
        });
        if stage == Stage::Done {
            shard["stop_time_in_millis"] =
                json!(idx.recovery.start_epoch_ms + elapsed.as_millis() as u64);
        }
        out.insert(name.clone(), json!({"shards": [shard]}));
    }
    (200, Value::Object(out))
}

/// `GET /<index>`: settings of matching indices, 404 when an exact name is missing.
pub fn get_index(es: &EsCluster, expr: &str) -> (u16, Value) {
    let mut out = serde_json::Map::new();
    for part in expr.split(',') {
        let mut found = false;
        for (name, idx) in es.indices.iter().filter(|(n, _)| glob_match(part, n)) {
            found = true;
            out.insert(
                name.clone(),
                json!({"aliases": {}, "mappings": {}, "settings": {"index": {
                    "number_of_shards": "1", "number_of_replicas": idx.replicas.to_string(),
                    "uuid": idx.uuid, "provided_name": name,
                    "creation_date": idx.recovery.start_epoch_ms.to_string()}}}),
            );
        }
        if !found && !part.contains('*') {
            return index_not_found(part);
        }
    }
    (200, Value::Object(out))
}

/// `GET _index_template`.
pub fn templates(es: &EsCluster) -> (u16, Value) {
    let list: Vec<Value> = es
        .templates
        .iter()
        .map(|(name, t)| json!({"name": name, "index_template": t}))
        .collect();
    (200, json!({ "index_templates": list }))
}

fn index_not_found(name: &str) -> (u16, Value) {
    let (status, mut body) = es_error(
        404,
        "index_not_found_exception",
        format!("no such index [{name}]"),
    );
    let extra = json!({"resource.type": "index_or_alias", "resource.id": name, "index": name});
    for target in ["/error", "/error/root_cause/0"] {
        if let (Some(Value::Object(t)), Value::Object(e)) = (body.pointer_mut(target), &extra) {
            t.extend(e.clone());
        }
    }
    (status, body)
}

/// `DELETE /<index>[,<index>…]`. ES 8 defaults to `action.destructive_requires_name: true`:
/// wildcards and `_all` are refused.
pub fn delete_indices(es: &mut EsCluster, expr: &str) -> (u16, Value) {
    let names: Vec<&str> = expr.split(',').filter(|n| !n.is_empty()).collect();
    if names.iter().any(|n| n.contains('*') || *n == "_all") {
        return es_error(
            400,
            "illegal_argument_exception",
            "Wildcard expressions or all indices are not allowed",
        );
    }
    if let Some(missing) = names.iter().find(|n| !es.indices.contains_key(**n)) {
        return index_not_found(missing);
    }
    for n in names {
        es.indices.remove(n);
    }
    (200, json!({"acknowledged": true}))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("operate-*", "operate-list-view-8.3.0_"));
        assert!(!glob_match("operate-*", "tasklist-task-8.8.0_"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c*e", "abcdf"));
        assert!(glob_match("exact", "exact"));
    }
}
