//! Indices of the simulated cluster and the read APIs derived from them: `_cat/indices`,
//! `_recovery`, `_cluster/health`, `GET /<index>[/_settings]`, `_index_template`, and
//! `DELETE /<index>`.
//!
//! Every index has `number_of_shards` primaries and `number_of_replicas` replicas of each, as
//! Camunda creates them (`numberOfShards` / `numberOfReplicas` of its index settings). A replica
//! is only ever allocated on another node than its primary and its other replicas (ES's
//! `SameShardAllocationDecider`), so a cluster of `nodes` data nodes holds at most `nodes - 1`
//! replicas per shard; the others stay unassigned and the index is `yellow`
//! (elastic/elasticsearch 8.18 `server/.../cluster/routing/allocation/decider/SameShardAllocationDecider.java`,
//! `ClusterShardHealth`/`ClusterIndexHealth`: red while a primary is not active, yellow while a
//! replica is not active, else green).
//!
//! A restore recovers every primary from the snapshot (`_recovery` type `SNAPSHOT`), and then
//! each allocated replica from its started primary (type `PEER`), as ES does: the restore
//! creates the indices with their primaries unassigned (`RecoverySource.SnapshotRecoverySource`),
//! and replicas are only allocated once their primary is active
//! (`ReplicaAfterPrimaryActiveAllocationDecider`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{EsCluster, es_error};
use crate::http::SimRequest;

/// One index.
#[derive(Debug, Clone)]
pub struct EsIndex {
    pub uuid: String,
    /// Documents once the primaries are recovered.
    pub docs: u64,
    /// `index.number_of_shards` (primaries).
    pub shards: u32,
    /// `index.number_of_replicas` (copies of each primary).
    pub replicas: u32,
    /// How the index's shard copies came to be (`_recovery` reports it).
    pub recovery: Recovery,
    /// Per primary shard: the files (segments) it holds. Replicas hold the same files.
    pub data: Vec<ShardData>,
    /// Its primaries are lost (the node that held them lost its disk, no in-sync copy is left):
    /// unassigned, so the index is red whatever its recovery says.
    pub primaries_lost: bool,
}

/// The recovery of an index's shard copies. Each copy recovers on its own clock once the
/// allocation throttles let it start (see [`super::recovery`]): an `INIT` part, the `INDEX`
/// stage that copies its bytes at the rate the cluster allows, then `VERIFY_INDEX`, `TRANSLOG`
/// and `FINALIZE`. The fixed parts take `fixed` in all (the simulator's per-copy overhead,
/// `SimConfig::es_shard_duration`).
#[derive(Debug, Clone)]
pub struct Recovery {
    pub source: RecoverySource,
    /// The index was created (restore request, schema manager).
    pub start: Instant,
    /// Fixed (byte-independent) time of each copy's recovery.
    pub fixed: Duration,
    /// Wall-clock time of `start`, for `start_time_in_millis`.
    pub start_epoch_ms: u64,
    /// Every allocatable shard copy, primaries first (by shard), then replicas.
    pub copies: Vec<ShardCopy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoverySource {
    /// Created empty (the schema manager, or an index written to since).
    EmptyStore,
    /// Restored from a snapshot (`restore_uuid`: the id of the restore operation, ES's
    /// `restoreUUID`, a fresh one per restore).
    Snapshot {
        repository: String,
        snapshot: String,
        restore_uuid: String,
        index: String,
    },
}

/// Stage of a shard recovery, as `_recovery` names it (ES `RecoveryState.Stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Init,
    Index,
    VerifyIndex,
    Translog,
    Finalize,
    Done,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Init => "INIT",
            Self::Index => "INDEX",
            Self::VerifyIndex => "VERIFY_INDEX",
            Self::Translog => "TRANSLOG",
            Self::Finalize => "FINALIZE",
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

/// The files of one primary shard: immutable segments, plus what was indexed since the last
/// flush (in the translog; a snapshot flushes it into a new segment first).
#[derive(Debug, Clone, Default)]
pub struct ShardData {
    pub files: Vec<Segment>,
    pub unflushed: u64,
    /// Arrived bytes below one byte, carried to the next arrival.
    pub pending_fraction: f64,
}

/// An immutable Lucene file. Its id is its identity in a repository (ES compares a file's name,
/// length and checksum to decide whether the repository holds it already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub id: u64,
    pub bytes: u64,
}

impl ShardData {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum::<u64>() + self.unflushed
    }

    /// A flush: what the translog holds becomes a new segment (a snapshot flushes first,
    /// `IndexShard.acquireLastIndexCommit(flushFirst = true)` in `SnapshotShardsService`).
    pub fn flush(&mut self) {
        if self.unflushed > 0 {
            self.files.push(Segment {
                id: new_segment_id(),
                bytes: self.unflushed,
            });
            self.unflushed = 0;
        }
    }

    /// `bytes` split into a few segments of decreasing size (as tiered merging leaves them).
    pub fn with_bytes(bytes: u64) -> Self {
        let mut files = vec![];
        let mut left = bytes;
        for _ in 0..5 {
            if left == 0 {
                break;
            }
            let part = (left / 2).max(left.min(4096));
            files.push(Segment {
                id: new_segment_id(),
                bytes: part,
            });
            left -= part;
        }
        if left > 0 {
            files.push(Segment {
                id: new_segment_id(),
                bytes: left,
            });
        }
        Self {
            files,
            unflushed: 0,
            pending_fraction: 0.0,
        }
    }
}

/// A process-wide unique file id.
pub fn new_segment_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One allocated shard copy of an index and the progress of its recovery.
#[derive(Debug, Clone, Copy)]
pub struct ShardCopy {
    pub shard: u32,
    pub primary: bool,
    /// The node it is allocated on.
    pub node: u32,
    /// For a replica: the node of its primary (the `PEER` source).
    pub source_node: u32,
    /// Bytes to copy.
    pub bytes_total: u64,
    pub bytes_done: f64,
    /// When it started recovering (`None`: unassigned or throttled, ES has no recovery state).
    pub started: Option<Instant>,
    /// When its bytes were all copied.
    pub transfer_end: Option<Instant>,
    /// When it became active.
    pub done_at: Option<Instant>,
}

impl ShardCopy {
    /// A copy that is active since `at`.
    fn active_since(
        shard: u32,
        primary: bool,
        node: u32,
        source_node: u32,
        bytes: u64,
        at: Instant,
    ) -> Self {
        Self {
            shard,
            primary,
            node,
            source_node,
            bytes_total: bytes,
            bytes_done: bytes as f64,
            started: Some(at),
            transfer_end: Some(at),
            done_at: Some(at),
        }
    }

    /// The end of its `INIT` part: bytes flow from here.
    pub fn init_end(&self, fixed: Duration) -> Option<Instant> {
        self.started.map(|s| s + fixed.mul_f64(0.05))
    }

    /// Its bytes are being copied at `t`.
    pub fn transferring(&self, t: Instant, fixed: Duration) -> bool {
        self.transfer_end.is_none() && self.init_end(fixed).is_some_and(|e| e <= t)
    }

    /// The bytes are all there: the rest of the recovery takes fixed time.
    pub fn finish_transfer(&mut self, at: Instant, fixed: Duration) {
        self.bytes_done = self.bytes_total as f64;
        self.transfer_end = Some(at);
        let index_end = self
            .init_end(fixed)
            .map(|e| (e + fixed.mul_f64(0.75)).max(at))
            .unwrap_or(at);
        self.done_at = Some(index_end + fixed.mul_f64(0.2));
    }

    /// `None` while the copy has not started recovering.
    pub fn stage(&self, now: Instant, fixed: Duration) -> Option<Stage> {
        let started = self.started?;
        if now < started {
            return None;
        }
        if self.done(now) {
            return Some(Stage::Done);
        }
        let init_end = started + fixed.mul_f64(0.05);
        if now < init_end {
            return Some(Stage::Init);
        }
        let Some(done_at) = self.done_at else {
            return Some(Stage::Index);
        };
        let index_end = done_at - fixed.mul_f64(0.2);
        Some(if now < index_end {
            Stage::Index
        } else if now < index_end + fixed.mul_f64(0.05) {
            Stage::VerifyIndex
        } else if now < index_end + fixed.mul_f64(0.1) {
            Stage::Translog
        } else {
            Stage::Finalize
        })
    }

    pub fn done(&self, now: Instant) -> bool {
        self.done_at.is_some_and(|d| now >= d)
    }

    /// Recovering (allocated, started, not active yet) at `now`.
    pub fn in_flight(&self, now: Instant) -> bool {
        self.started.is_some_and(|s| s <= now) && !self.done(now)
    }

    /// Fraction of the copy's bytes recovered.
    fn bytes_fraction(&self) -> f64 {
        if self.bytes_total == 0 {
            return if self.transfer_end.is_some() {
                1.0
            } else {
                0.0
            };
        }
        (self.bytes_done / self.bytes_total as f64).clamp(0.0, 1.0)
    }
}

impl EsIndex {
    /// An index whose shard copies are all active (created empty, or seeded with `data`).
    pub fn new(
        uuid: String,
        docs: u64,
        shards: u32,
        replicas: u32,
        nodes: u32,
        source: RecoverySource,
    ) -> Self {
        let shards = shards.max(1);
        let data = vec![ShardData::default(); shards as usize];
        let mut idx = Self {
            uuid,
            docs,
            shards,
            replicas,
            recovery: Recovery {
                source,
                start: Instant::now(),
                fixed: Duration::ZERO,
                start_epoch_ms: epoch_ms(),
                copies: vec![],
            },
            data,
            primaries_lost: false,
        };
        idx.recovery.copies = idx.allocate(nodes, 0, |c| c);
        let at = idx.recovery.start;
        for c in idx.recovery.copies.iter_mut() {
            *c = ShardCopy::active_since(c.shard, c.primary, c.node, c.source_node, 0, at);
        }
        idx
    }

    /// The same index with its (active) copies placed from node `first` on: the balanced
    /// allocator spreads the shards of all indices over the nodes, not each index from node 0.
    pub fn placed(mut self, nodes: u32, first: u32) -> Self {
        let at = self.recovery.start;
        let sizes: Vec<u64> = (0..self.shards).map(|j| self.shard_bytes(j)).collect();
        self.recovery.copies = self.allocate(nodes, first, |c| {
            let b = sizes.get(c.shard as usize).copied().unwrap_or(0);
            ShardCopy::active_since(c.shard, c.primary, c.node, c.source_node, b, at)
        });
        self
    }

    /// Allocate the index's copies on `nodes` nodes: primary `j` on `(first + j) % nodes` (the
    /// balanced allocator spreads shards), replica `n` on the `n`th next node (never two copies
    /// of a shard on one node, `SameShardAllocationDecider`). Copies start unassigned.
    pub fn allocate(
        &self,
        nodes: u32,
        first: u32,
        map: impl Fn(ShardCopy) -> ShardCopy,
    ) -> Vec<ShardCopy> {
        let nodes = nodes.max(1);
        let mut out = vec![];
        let blank =
            |shard: u32, primary: bool, node: u32, source_node: u32, bytes: u64| ShardCopy {
                shard,
                primary,
                node,
                source_node,
                bytes_total: bytes,
                bytes_done: 0.0,
                started: None,
                transfer_end: None,
                done_at: None,
            };
        for j in 0..self.shards {
            let node = (first + j) % nodes;
            let bytes = self.shard_bytes(j);
            out.push(map(blank(j, true, node, node, bytes)));
        }
        for n in 1..=self.allocatable_replicas(nodes) {
            for j in 0..self.shards {
                let primary = (first + j) % nodes;
                let bytes = self.shard_bytes(j);
                out.push(map(blank(j, false, (primary + n) % nodes, primary, bytes)));
            }
        }
        out
    }

    /// Bytes primary shard `j` holds.
    pub fn shard_bytes(&self, j: u32) -> u64 {
        self.data.get(j as usize).map(ShardData::bytes).unwrap_or(0)
    }

    /// Bytes of all primaries.
    pub fn primary_bytes(&self) -> u64 {
        self.data.iter().map(ShardData::bytes).sum()
    }

    /// Replicas per shard the cluster can allocate: never two copies of a shard on one node.
    pub fn allocatable_replicas(&self, nodes: u32) -> u32 {
        self.replicas.min(nodes.saturating_sub(1))
    }

    /// The allocated shard copies, primaries first (by shard), then replicas. Where they live
    /// was decided when the index was created; `_nodes` is kept for existing callers.
    pub fn copies(&self, _nodes: u32) -> &[ShardCopy] {
        &self.recovery.copies
    }

    /// Every primary is active (the index can be read, counted and snapshotted).
    pub fn primaries_active(&self, now: Instant) -> bool {
        !self.primaries_lost
            && self
                .copies(0)
                .iter()
                .filter(|c| c.primary)
                .all(|c| c.done(now))
    }

    /// `red` while a primary is not active, `yellow` while a replica is not active (recovering,
    /// or unassignable on too few nodes), else `green`.
    pub fn health(&self, now: Instant) -> &'static str {
        if !self.primaries_active(now) {
            return "red";
        }
        let active_replicas = self
            .copies(0)
            .iter()
            .filter(|c| !c.primary && c.done(now))
            .count() as u64;
        if active_replicas < u64::from(self.shards) * u64::from(self.replicas) {
            "yellow"
        } else {
            "green"
        }
    }

    /// The `index` settings block as `GET /<index>/_settings` renders it (all strings).
    fn settings(&self, name: &str) -> Value {
        json!({"index": {
            "number_of_shards": self.shards.to_string(),
            "number_of_replicas": self.replicas.to_string(),
            "uuid": self.uuid,
            "provided_name": name,
            "creation_date": self.recovery.start_epoch_ms.to_string(),
            "version": {"created": "8521000"},
        }})
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

/// A byte count as ES prints it (`ByteSizeValue.toString`: the largest unit that keeps the value
/// at least 1, `b`/`kb`/`mb`/`gb`/`tb`, then `Strings.format1Decimals`: the first decimal digit
/// cut, not rounded, and dropped when it is 0).
fn human_size(bytes: u64) -> String {
    const UNITS: &[(&str, f64)] = &[
        ("tb", 1_099_511_627_776.0),
        ("gb", 1_073_741_824.0),
        ("mb", 1_048_576.0),
        ("kb", 1024.0),
    ];
    for (unit, size) in UNITS {
        if bytes as f64 >= *size {
            let tenths = (bytes as f64 / size * 10.0).floor() as u64;
            return match tenths % 10 {
                0 => format!("{}{unit}", tenths / 10),
                d => format!("{}.{d}{unit}", tenths / 10),
            };
        }
    }
    format!("{bytes}b")
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `GET _cat/indices[/<expr>]?format=json` (always JSON here: the core asks for JSON). Columns
/// as ES 8 prints them by default (`RestIndicesAction`); `docs.count` counts primaries only.
pub fn cat_indices(es: &EsCluster, expr: Option<&str>) -> (u16, Value) {
    let now = es.clock();
    let rows: Vec<Value> = es
        .indices
        .iter()
        .filter(|(name, _)| matches_expression(expr, name))
        .map(|(name, idx)| {
            let done = idx.primaries_active(now);
            // Store size: what the copies hold on disk now (a recovering copy holds what it
            // has copied so far).
            let on_disk = |c: &ShardCopy| c.bytes_done.min(c.bytes_total as f64) as u64;
            let store: u64 = idx.copies(0).iter().map(on_disk).sum();
            let pri: u64 = idx
                .copies(0)
                .iter()
                .filter(|c| c.primary)
                .map(on_disk)
                .sum();
            let size = |n: u64| human_size(if done { n } else { 0 });
            json!({
                "health": idx.health(now),
                "status": "open",
                "index": name,
                "uuid": idx.uuid,
                "pri": idx.shards.to_string(),
                "rep": idx.replicas.to_string(),
                // A red index has no started primary: ES prints no count for it.
                "docs.count": if done { Value::String(idx.docs.to_string()) } else { Value::Null },
                "docs.deleted": if done { Value::String("0".into()) } else { Value::Null },
                "store.size": size(store),
                "pri.store.size": size(pri),
                "dataset.size": size(pri),
            })
        })
        .collect();
    (200, Value::Array(rows))
}

/// `GET _cluster/health`, honouring `wait_for_status` without blocking: if the status is not
/// reached, the answer is ES's 408 with `timed_out: true` (as if `timeout` had elapsed). Counts
/// every shard copy (ES `ClusterHealthResponse`): unassigned copies are the replicas the nodes
/// cannot hold and the copies not yet allocated.
pub fn cluster_health(es: &EsCluster, req: &SimRequest) -> (u16, Value) {
    let now = es.clock();
    let mut active_primaries = 0u64;
    let mut active = 0u64;
    let mut initializing = 0u64;
    let mut unassigned = 0u64;
    let mut unassigned_primaries = 0u64;
    let mut worst = 2;
    for idx in es.indices.values() {
        let copies = idx.copies(0);
        for c in copies {
            match c.stage(now, idx.recovery.fixed) {
                Some(Stage::Done) => {
                    active += 1;
                    active_primaries += u64::from(c.primary);
                }
                Some(_) => initializing += 1,
                None => {
                    unassigned += 1;
                    unassigned_primaries += u64::from(c.primary);
                }
            }
        }
        let expected = u64::from(idx.shards) * (1 + u64::from(idx.replicas));
        unassigned += expected - copies.len() as u64;
        worst = worst.min(rank(idx.health(now)));
    }
    let status = ["red", "yellow", "green"][worst];
    let all_shards = active + initializing + unassigned;
    let active_percent = if all_shards == 0 {
        100.0
    } else {
        active as f64 * 100.0 / all_shards as f64
    };
    let timed_out = req
        .param("wait_for_status")
        .is_some_and(|wanted| rank(status) < rank(wanted));
    let body = json!({
        "cluster_name": es.cluster_name(),
        "status": status,
        "timed_out": timed_out,
        "number_of_nodes": es.nodes,
        "number_of_data_nodes": es.nodes,
        "active_primary_shards": active_primaries,
        "active_shards": active,
        "relocating_shards": 0,
        "initializing_shards": initializing,
        "unassigned_shards": unassigned,
        "unassigned_primary_shards": unassigned_primaries,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": active_percent,
    });
    (if timed_out { 408 } else { 200 }, body)
}

fn rank(status: &str) -> usize {
    match status {
        "green" => 2,
        "yellow" => 1,
        _ => 0,
    }
}

/// A node of the simulated cluster as `_recovery` describes it (`source` of a `PEER` recovery,
/// `target` of every one).
fn node_json(es: &EsCluster, n: u32) -> Value {
    json!({"id": format!("sim-node-{n}"), "host": format!("10.0.0.{}", 10 + n),
           "transport_address": format!("10.0.0.{}:9300", 10 + n), "ip": format!("10.0.0.{}", 10 + n),
           "name": es.node_name(n)})
}

/// `GET [<index>/]_recovery[?active_only=true]`: one entry per index with every shard copy that
/// has started recovering, primaries first, then replicas. Field names and `source` shapes as
/// ES 8.18 writes them: `RecoveryState.toXContent` (`id`, `type`, `stage`, `primary`,
/// `start_time_in_millis`, `stop_time_in_millis` once stopped, `total_time_in_millis`, `source`,
/// `target`, `index`, `translog`, `verify_index`), a `PEER` source is the source node, a
/// `SNAPSHOT` source is `SnapshotRecoverySource.addAdditionalFields` (`repository`, `snapshot`,
/// `version`, `index`, `restoreUUID`), an `EMPTY_STORE` one is `{}`
/// (elastic/elasticsearch 8.18 `server/src/main/java/org/elasticsearch/indices/recovery/RecoveryState.java`,
/// `server/src/main/java/org/elasticsearch/cluster/routing/RecoverySource.java`).
pub fn recovery(es: &EsCluster, req: &SimRequest, expr: Option<&str>) -> (u16, Value) {
    let now = es.clock();
    let active_only = req.flag("active_only");
    let mut out = serde_json::Map::new();
    for (name, idx) in es
        .indices
        .iter()
        .filter(|(n, _)| matches_expression(expr, n))
    {
        let mut shards = vec![];
        for c in idx.copies(0) {
            let Some(stage) = c.stage(now, idx.recovery.fixed) else {
                continue;
            };
            if active_only && stage == Stage::Done {
                continue;
            }
            let frac = c.bytes_fraction();
            let total_bytes = c.bytes_total;
            let recovered = (total_bytes as f64 * frac) as u64;
            let files_total = idx
                .data
                .get(c.shard as usize)
                .map(|d| d.files.len() as u64)
                .unwrap_or(0);
            let files_recovered = (files_total as f64 * frac).floor() as u64;
            let Some(started) = c.started else { continue };
            let stop = c.done_at.map_or(now, |d| now.min(d));
            let elapsed = stop.saturating_duration_since(started);
            let offset_ms = started
                .saturating_duration_since(idx.recovery.start)
                .as_millis() as u64;
            let start_ms = idx.recovery.start_epoch_ms + offset_ms;
            let (kind, source) = if !c.primary {
                ("PEER", node_json(es, c.source_node))
            } else {
                match &idx.recovery.source {
                    RecoverySource::EmptyStore => ("EMPTY_STORE", json!({})),
                    RecoverySource::Snapshot {
                        repository,
                        snapshot,
                        restore_uuid,
                        index,
                    } => {
                        let version = if es.opensearch { "2.19.1" } else { "8.18.0" };
                        let mut source = json!({"repository": repository, "snapshot": snapshot,
                               "version": version, "index": index, "restoreUUID": restore_uuid});
                        if es.opensearch {
                            super::opensearch::snapshot_source_extras(&mut source);
                        }
                        ("SNAPSHOT", source)
                    }
                }
            };
            let from_snapshot = if kind == "SNAPSHOT" { recovered } else { 0 };
            let mut shard = json!({
                "id": c.shard,
                "type": kind,
                "stage": stage.name(),
                "primary": c.primary,
                "start_time_in_millis": start_ms,
                "total_time_in_millis": elapsed.as_millis() as u64,
                "source": source,
                "target": node_json(es, c.node),
                "index": {
                    "size": {"total_in_bytes": total_bytes, "reused_in_bytes": 0,
                             "recovered_in_bytes": recovered,
                             "recovered_from_snapshot_in_bytes": from_snapshot,
                             "percent": percent(frac)},
                    "files": {"total": files_total, "reused": 0, "recovered": files_recovered,
                              "percent": percent(if files_total == 0 { 1.0 } else {
                                  files_recovered as f64 / files_total as f64 })},
                    "total_time_in_millis": elapsed.as_millis() as u64,
                    "source_throttle_time_in_millis": 0,
                    "target_throttle_time_in_millis": 0,
                },
                "translog": {"recovered": 0, "total": 0, "percent": "100.0%", "total_on_start": 0,
                             "total_time_in_millis": 0},
                "verify_index": {"check_index_time_in_millis": 0, "total_time_in_millis": 0},
            });
            if stage == Stage::Done {
                shard["stop_time_in_millis"] = json!(start_ms + elapsed.as_millis() as u64);
            }
            shards.push(shard);
        }
        // ES lists an index only when it has shard recoveries to show.
        if !shards.is_empty() {
            out.insert(name.clone(), json!({ "shards": shards }));
        }
    }
    (200, Value::Object(out))
}

/// `GET /<index>`: aliases, mappings and settings of matching indices, 404 when an exact name is
/// missing.
pub fn get_index(es: &EsCluster, expr: &str) -> (u16, Value) {
    index_view(
        es,
        expr,
        |name, idx| json!({"aliases": {}, "mappings": {}, "settings": idx.settings(name)}),
    )
}

/// `GET /<index>/_settings`: `{"<index>": {"settings": {"index": {...}}}}`, values as strings.
pub fn get_settings(es: &EsCluster, expr: &str) -> (u16, Value) {
    index_view(
        es,
        expr,
        |name, idx| json!({"settings": idx.settings(name)}),
    )
}

fn index_view(
    es: &EsCluster,
    expr: &str,
    render: impl Fn(&str, &EsIndex) -> Value,
) -> (u16, Value) {
    let mut out = serde_json::Map::new();
    for part in expr.split(',') {
        let mut found = false;
        for (name, idx) in es.indices.iter().filter(|(n, _)| glob_match(part, n)) {
            found = true;
            out.insert(name.clone(), render(name, idx));
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
    fn sizes_print_as_es_prints_them() {
        use super::human_size;
        assert_eq!(human_size(512), "512b");
        assert_eq!(human_size(2048), "2kb");
        assert_eq!(human_size(1024 + 1000), "1.9kb");
        assert_eq!(human_size(50 * 1024 * 1024 * 1024), "50gb");
    }

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
