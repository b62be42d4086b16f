//! Snapshots: create, list, status and delete (ES 8.18). An in-progress snapshot is only in the
//! writing cluster's state, not yet in the repository. Repositories are in `repository.rs`,
//! restores in `restore.rs`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::index::{Segment, epoch_ms, glob_match};
use super::repository::{RepoRegistration, registration, repo_rate, stored, visible};
use super::{es_error, shard_duration};
use crate::http::SimRequest;
use crate::world::{RegionId, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapState {
    InProgress,
    Success,
    Partial,
    Failed,
}

impl SnapState {
    pub fn name(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Partial => "PARTIAL",
            Self::Failed => "FAILED",
        }
    }
}

/// One index inside a snapshot (with its settings: a restore recreates it with the same
/// `number_of_shards` and `number_of_replicas`).
#[derive(Debug, Clone)]
pub struct SnapIndex {
    pub docs: u64,
    pub shards: u32,
    pub replicas: u32,
    /// Its shard 0 failed to snapshot (a `PARTIAL` snapshot).
    pub failed: Option<String>,
    /// Per primary shard: the files of the shard's commit and which of them this snapshot
    /// uploaded (the others the repository held already).
    pub shard_files: Vec<ShardSnap>,
}

/// One shard in a snapshot.
#[derive(Debug, Clone, Default)]
pub struct ShardSnap {
    /// Every file of the shard's commit (`stats.total`).
    pub files: Vec<Segment>,
    /// The files the repository did not hold (`stats.incremental`): only these are uploaded.
    pub uploaded: Vec<Segment>,
    /// The node holding the primary (it uploads).
    pub node: u32,
}

impl ShardSnap {
    fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
    fn uploaded_bytes(&self) -> u64 {
        self.uploaded.iter().map(|f| f.bytes).sum()
    }
}

/// `{file_count, size_in_bytes}` of a set of files.
fn file_stats(count: usize, bytes: u64) -> Value {
    json!({"file_count": count, "size_in_bytes": bytes})
}

/// The `stats` of `_snapshot/<repo>/<name>/_status`, the same at snapshot, index and shard level
/// (ES `SnapshotStats.toXContent`): `incremental` = the (files, bytes) this snapshot uploads,
/// `processed` = the part uploaded so far (`frac` of it), `total` = the (files, bytes) it references.
fn snapshot_stats(
    incremental: (usize, u64),
    total: (usize, u64),
    frac: f64,
    s: &StoredSnapshot,
    now: Instant,
) -> Value {
    json!({
        "incremental": file_stats(incremental.0, incremental.1),
        "processed": file_stats(
            (incremental.0 as f64 * frac).floor() as usize,
            (incremental.1 as f64 * frac) as u64,
        ),
        "total": file_stats(total.0, total.1),
        "start_time_in_millis": s.start_epoch_ms,
        "time_in_millis": s.elapsed_ms(now),
    })
}

#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub name: String,
    pub uuid: String,
    pub state: SnapState,
    pub writer_region: RegionId,
    pub generation: u64,
    pub include_global_state: bool,
    pub indices: std::collections::BTreeMap<String, SnapIndex>,
    /// Index templates (the global state), when `include_global_state`.
    pub templates: std::collections::BTreeMap<String, Value>,
    /// The writing cluster's persistent cluster settings at the snapshot (part of the global
    /// state: `Metadata.persistentSettings()` is written with it), when `include_global_state`.
    pub persistent_settings: Option<std::collections::BTreeMap<String, String>>,
    pub started: Instant,
    pub done_at: Instant,
    pub start_epoch_ms: u64,
    pub end_epoch_ms: u64,
}

impl StoredSnapshot {
    /// The snapshot completed: `SUCCESS`, or `PARTIAL` when a shard failed.
    pub fn finalize(&mut self) {
        let failed = self.indices.values().any(|i| i.failed.is_some());
        self.state = if failed {
            SnapState::Partial
        } else {
            SnapState::Success
        };
        self.end_epoch_ms =
            self.start_epoch_ms + self.done_at.duration_since(self.started).as_millis() as u64;
    }

    /// Fraction of the snapshot's time elapsed by `now` (1 once finished).
    pub fn progress(&self, now: Instant) -> f64 {
        if self.state != SnapState::InProgress {
            return 1.0;
        }
        let total = self.done_at.duration_since(self.started).as_secs_f64();
        if total <= 0.0 {
            return 1.0;
        }
        (now.saturating_duration_since(self.started).as_secs_f64() / total).clamp(0.0, 1.0)
    }

    fn elapsed_ms(&self, now: Instant) -> u64 {
        now.min(self.done_at)
            .saturating_duration_since(self.started)
            .as_millis() as u64
    }

    /// Bytes this snapshot uploaded (its `stats.incremental.size_in_bytes`).
    pub fn uploaded_bytes(&self) -> u64 {
        self.indices
            .values()
            .flat_map(|i| i.shard_files.iter())
            .map(ShardSnap::uploaded_bytes)
            .sum()
    }

    fn failed_shards(&self) -> usize {
        self.indices.values().filter(|i| i.failed.is_some()).count()
    }

    /// Primary shards in the snapshot (a snapshot copies primaries only; `shards.total`).
    fn total_shards(&self) -> usize {
        self.indices.values().map(|i| i.shards as usize).sum()
    }

    /// Shards finished by `now` while in progress (sequential).
    fn shards_done(&self, now: Instant) -> usize {
        let all = self.total_shards();
        if self.state != SnapState::InProgress {
            return all;
        }
        let total = self.done_at.duration_since(self.started).as_secs_f64();
        if total <= 0.0 {
            return all;
        }
        let frac = (now.saturating_duration_since(self.started).as_secs_f64() / total).min(1.0);
        (frac * all as f64).floor() as usize
    }

    fn info(&self, repo: &str, opensearch: bool) -> Value {
        let total = self.total_shards();
        let failed = self.failed_shards();
        let in_progress = self.state == SnapState::InProgress;
        let failures: Vec<Value> = self
            .indices
            .iter()
            .filter_map(|(name, i)| {
                i.failed.as_ref().map(|reason| {
                    json!({"index": name, "index_uuid": name, "shard_id": 0, "reason": reason,
                           "node_id": "sim-node-0", "status": "INTERNAL_SERVER_ERROR"})
                })
            })
            .collect();
        let mut v = json!({
            "snapshot": self.name,
            "uuid": self.uuid,
            "repository": repo,
            "version_id": 8_521_000,
            "version": "8.18.0",
            "indices": self.indices.keys().collect::<Vec<_>>(),
            "data_streams": [],
            "include_global_state": self.include_global_state,
            "feature_states": [],
            "state": self.state.name(),
            "start_time": iso8601(self.start_epoch_ms),
            "start_time_in_millis": self.start_epoch_ms,
            "failures": failures,
            "shards": {
                "total": total,
                "failed": if in_progress { 0 } else { failed },
                "successful": if in_progress { 0 } else { total - failed },
            },
        });
        if opensearch {
            // OpenSearch's SnapshotInfo has no feature states. (Its `version_id` encodes
            // OpenSearch's own version ids; c8dr reads neither, the simulator leaves it out.)
            if let Value::Object(m) = &mut v {
                m.remove("feature_states");
                m.remove("version_id");
            }
            v["version"] = json!("2.19.1");
        }
        if !in_progress {
            v["end_time"] = json!(iso8601(self.end_epoch_ms));
            v["end_time_in_millis"] = json!(self.end_epoch_ms);
            v["duration_in_millis"] = json!(self.end_epoch_ms - self.start_epoch_ms);
        }
        v
    }
}

/// `2025-11-23T21:40:00.123Z` from epoch milliseconds (civil-from-days, proleptic Gregorian).
pub(super) fn iso8601(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

pub(super) fn snapshot_missing(repo: &str, name: &str) -> (u16, Value) {
    es_error(
        404,
        "snapshot_missing_exception",
        format!("[{repo}:{name}] is missing"),
    )
}

fn invalid_name(repo: &str, name: &str, why: &str) -> (u16, Value) {
    es_error(
        400,
        "invalid_snapshot_name_exception",
        format!("[{repo}:{name}] Invalid snapshot name [{name}], {why}"),
    )
}

/// What is wrong with a snapshot name, checked in the order Elasticsearch checks it
/// (elastic/elasticsearch 8.x `SnapshotsService.validate`, later `SnapshotsServiceUtils.validate`;
/// opensearch-project/OpenSearch 2.x `SnapshotsService.validate`: the same rules). There is no
/// length rule: the only bound is the HTTP request line (`http.max_initial_line_length`, 4kb,
/// `HttpTransportSettings`).
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("cannot be empty")
    } else if name.contains(' ') {
        Some("must not contain whitespace")
    } else if name.contains(',') {
        Some("must not contain ','")
    } else if name.contains('#') {
        Some("must not contain '#'")
    } else if name.starts_with('_') {
        Some("must not start with '_'")
    } else if name != name.to_lowercase() {
        Some("must be lowercase")
    } else if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|']) {
        // `Strings.validFileName` against `Strings.INVALID_FILENAME_CHARS`.
        Some("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]")
    } else {
        None
    }
}

pub(super) fn index_filter(body: &Value) -> Option<Vec<String>> {
    match body.get("indices") {
        Some(Value::String(s)) => Some(s.split(',').map(str::to_string).collect()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

/// `PUT _snapshot/<repo>/<name>`: start a snapshot (asynchronous: `{"accepted":true}`).
/// `wait_for_completion=true` is not simulated (c8dr never blocks through exec).
pub fn create(
    world: &mut World,
    region: RegionId,
    repo: &str,
    name: &str,
    req: &SimRequest,
) -> (u16, Value) {
    let reg = match registration(world, region, repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if let Some(why) = name_problem(name) {
        return invalid_name(repo, name, why);
    }
    if reg.readonly {
        // SnapshotsService refuses before touching the repository with a RepositoryException,
        // which keeps ElasticsearchException's default status 500 (ES 8.x
        // SnapshotsService.createSnapshot; CrateDB's snapshot tests see the same 500).
        return es_error(
            500,
            "repository_exception",
            format!("[{repo}] cannot create snapshot in a readonly repository"),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return es_error(400, "x_content_parse_exception", e.to_string()),
    };
    // ES's default for snapshot creation is include_global_state: true.
    let include_global_state = body
        .get("include_global_state")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let filter = index_filter(&body);
    if let Some(store) = stored(world, &reg)
        && store.snapshots.iter().any(|s| s.name == name)
    {
        return invalid_name(repo, name, "snapshot with the same name already exists");
    }
    let now = world.regions[region].es.clock();
    // Indices whose primaries are unassigned fail the whole request before the snapshot starts
    // unless `partial: true` (elastic/elasticsearch 8.x `SnapshotsService.createSnapshot`: shards
    // whose primary is not allocated are `MISSING`, then `throw new SnapshotException(snapshot,
    // "Indices don't have primary shards " + missing)`, a 500 `snapshot_exception`; the same in
    // opensearch-project/OpenSearch 2.x `SnapshotsService`). Primaries still initialising wait.
    let allow_partial = body
        .get("partial")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut missing: Vec<String> = world.regions[region]
        .es
        .indices
        .iter()
        .filter(|(n, _)| !n.starts_with('.'))
        .filter(|(n, _)| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|p| glob_match(p, n)))
        })
        .filter(|(_, i)| i.primaries_lost)
        .map(|(n, _)| n.clone())
        .collect();
    missing.sort();
    if !missing.is_empty() && !allow_partial {
        let uuid = world.regions[region].es.new_uuid(name);
        return es_error(
            500,
            "snapshot_exception",
            format!(
                "[{repo}:{name}/{uuid}] Indices don't have primary shards [{}]",
                missing.join(", ")
            ),
        );
    }
    let d = shard_duration(world);
    let physical = world.cfg.es_node_bytes_per_sec.max(1) as f64;
    let partial = std::mem::take(&mut world.faults.partial_snapshot);
    // Files the repository holds already: a snapshot uploads only the others ("Snapshots are
    // incremental": elastic/elasticsearch 8.18 `BlobStoreRepository.snapshotShard` compares each
    // file of the shard's commit with the repository's `BlobStoreIndexShardSnapshots` and uploads
    // only those it does not find).
    let known: std::collections::HashSet<u64> = stored(world, &reg)
        .map(|st| {
            st.snapshots
                .iter()
                .flat_map(|s| s.indices.values())
                .flat_map(|i| i.shard_files.iter())
                .flat_map(|sh| sh.files.iter().map(|f| f.id))
                .collect()
        })
        .unwrap_or_default();
    let es = &mut world.regions[region].es;
    let mut indices: std::collections::BTreeMap<String, SnapIndex> = es
        .indices
        .iter_mut()
        .filter(|(n, _)| !n.starts_with('.'))
        .filter(|(n, _)| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|p| glob_match(p, n)))
        })
        .filter(|(_, i)| i.primaries_active(now))
        .map(|(n, i)| {
            // The snapshot flushes each primary, then copies the files of that commit.
            for data in i.data.iter_mut() {
                data.flush();
            }
            let shard_files = (0..i.shards)
                .map(|j| {
                    let files = i
                        .data
                        .get(j as usize)
                        .map(|d| d.files.clone())
                        .unwrap_or_default();
                    let uploaded = files
                        .iter()
                        .filter(|f| !known.contains(&f.id))
                        .copied()
                        .collect();
                    let node = i
                        .copies(0)
                        .iter()
                        .find(|c| c.primary && c.shard == j)
                        .map(|c| c.node)
                        .unwrap_or(0);
                    ShardSnap {
                        files,
                        uploaded,
                        node,
                    }
                })
                .collect();
            (
                n.clone(),
                SnapIndex {
                    docs: i.docs,
                    shards: i.shards,
                    replicas: i.replicas,
                    failed: None,
                    shard_files,
                },
            )
        })
        .collect();
    if partial && let Some((_, first)) = indices.iter_mut().next() {
        first.failed = Some("IndexShardSnapshotFailedException[simulated: failed to write shard data to the repository]".into());
    }
    let templates = if include_global_state {
        es.templates.clone()
    } else {
        Default::default()
    };
    let persistent_settings = include_global_state.then(|| es.settings.persistent.clone());
    let uuid = es.new_uuid(name);
    // Upload time: each node uploads the new files of the primaries it holds through the
    // repository's `max_snapshot_bytes_per_sec` limiter, one per node (40mb by default,
    // `BlobStoreRepository.MAX_SNAPSHOT_BYTES_PER_SEC`), and its disk/network; the node's shards
    // go in parallel on the `snapshot` thread pool but share that limiter, so the node's bytes
    // over its rate is its time. Plus the simulator's fixed per-index overhead.
    let rate = world.cfg.byte_rate(
        repo_rate(&reg, "max_snapshot_bytes_per_sec", "40mb")
            .unwrap_or(f64::INFINITY)
            .min(physical),
    );
    let mut per_node: std::collections::BTreeMap<u32, u64> = Default::default();
    for sh in indices.values().flat_map(|i| i.shard_files.iter()) {
        *per_node.entry(sh.node).or_default() += sh.uploaded_bytes();
    }
    let upload = per_node
        .values()
        .map(|b| *b as f64 / rate)
        .fold(0.0, f64::max);
    let duration = d * indices.len() as u32 + Duration::from_secs_f64(upload);
    let (bucket, base) = reg.location();
    let store = world
        .object_store
        .entry(bucket)
        .or_default()
        .entry(base)
        .or_default();
    store.generation += 1;
    store.snapshots.push(StoredSnapshot {
        name: name.to_string(),
        uuid,
        state: SnapState::InProgress,
        writer_region: region,
        generation: store.generation,
        include_global_state,
        indices,
        templates,
        persistent_settings,
        started: now,
        done_at: now + duration,
        start_epoch_ms: epoch_ms(),
        end_epoch_ms: 0,
    });
    (200, json!({"accepted": true}))
}

/// The snapshots of `repo` that `region` sees, matching `expr` (`_all`, `*`, globs, commas).
pub(super) fn select<'a>(
    world: &'a World,
    region: RegionId,
    reg: &RepoRegistration,
    repo: &str,
    expr: &str,
) -> Result<Vec<&'a StoredSnapshot>, (u16, Value)> {
    let all: Vec<&StoredSnapshot> = stored(world, reg)
        .map(|s| {
            s.snapshots
                .iter()
                .filter(|s| visible(reg, region, s))
                .collect()
        })
        .unwrap_or_default();
    if expr == "_all" || expr == "*" {
        return Ok(all);
    }
    if expr == "_current" {
        return Ok(all
            .into_iter()
            .filter(|s| s.state == SnapState::InProgress)
            .collect());
    }
    let mut out = vec![];
    for p in expr.split(',') {
        let matched: Vec<&StoredSnapshot> = all
            .iter()
            .copied()
            .filter(|s| glob_match(p, &s.name))
            .collect();
        if matched.is_empty() && !p.contains('*') {
            return Err(snapshot_missing(repo, p));
        }
        out.extend(matched);
    }
    Ok(out)
}

/// `GET _snapshot/<repo>/<name|_all|_current>`.
pub fn get_snapshots(world: &World, region: RegionId, repo: &str, expr: &str) -> (u16, Value) {
    let reg = match registration(world, region, repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match select(world, region, &reg, repo, expr) {
        Ok(snaps) => {
            let opensearch = world.regions[region].es.opensearch;
            let list: Vec<Value> = snaps.iter().map(|s| s.info(repo, opensearch)).collect();
            let total = list.len();
            (
                200,
                json!({"snapshots": list, "total": total, "remaining": 0}),
            )
        }
        Err(e) => e,
    }
}

/// `GET _snapshot/<repo>[/<name>]/_status`: snapshot *creation* progress (not restore progress).
/// As in ES, a finished `PARTIAL` snapshot reports state `SUCCESS` here (only the shard counts
/// tell: ES's TransportSnapshotsStatusAction maps "both PARTIAL and SUCCESS to SUCCESS"), which
/// is why c8dr judges the outcome with `GET _snapshot/<repo>/<name>`.
pub fn status(world: &World, region: RegionId, repo: &str, name: Option<&str>) -> (u16, Value) {
    let reg = match registration(world, region, repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let now = world.regions[region].es.clock();
    let snaps = match select(world, region, &reg, repo, name.unwrap_or("_current")) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let list: Vec<Value> = snaps
        .iter()
        .map(|s| {
            let total = s.total_shards();
            let done = s.shards_done(now);
            let failed = if s.state == SnapState::InProgress { 0 } else { s.failed_shards() };
            let state = match s.state {
                SnapState::InProgress => "STARTED",
                SnapState::Success | SnapState::Partial => "SUCCESS",
                SnapState::Failed => "FAILED",
            };
            // Byte progress: the upload runs over the snapshot's duration.
            let frac = s.progress(now);
            let mut inc = (0usize, 0u64);
            let mut tot = (0usize, 0u64);
            let mut indices = serde_json::Map::new();
            for (name, i) in &s.indices {
                let mut i_inc = (0usize, 0u64);
                let mut i_tot = (0usize, 0u64);
                let mut shards = serde_json::Map::new();
                for (j, sh) in i.shard_files.iter().enumerate() {
                    let (ui, ti) = (sh.uploaded_bytes(), sh.total_bytes());
                    i_inc = (i_inc.0 + sh.uploaded.len(), i_inc.1 + ui);
                    i_tot = (i_tot.0 + sh.files.len(), i_tot.1 + ti);
                    let stage = if frac >= 1.0 { "DONE" } else { "STARTED" };
                    shards.insert(j.to_string(), json!({
                        "stage": stage,
                        "stats": snapshot_stats((sh.uploaded.len(), ui), (sh.files.len(), ti), frac, s, now),
                    }));
                }
                inc = (inc.0 + i_inc.0, inc.1 + i_inc.1);
                tot = (tot.0 + i_tot.0, tot.1 + i_tot.1);
                indices.insert(name.clone(), json!({
                    "shards_stats": {"initializing": 0, "started": 0, "finalizing": 0,
                                     "done": if frac >= 1.0 { i.shards } else { 0 },
                                     "failed": 0, "total": i.shards},
                    "stats": snapshot_stats(i_inc, i_tot, frac, s, now),
                    "shards": shards,
                }));
            }
            json!({
                "snapshot": s.name,
                "repository": repo,
                "uuid": s.uuid,
                "state": state,
                "include_global_state": s.include_global_state,
                "shards_stats": {"initializing": 0, "started": usize::from(done < total && s.state == SnapState::InProgress),
                                 "finalizing": 0, "done": done - failed.min(done), "failed": failed, "total": total},
                "stats": snapshot_stats(inc, tot, frac, s, now),
                "indices": indices,
            })
        })
        .collect();
    (200, json!({ "snapshots": list }))
}

/// `DELETE _snapshot/<repo>/<name>`.
pub fn delete(world: &mut World, region: RegionId, repo: &str, name: &str) -> (u16, Value) {
    let reg = match registration(world, region, repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if reg.readonly {
        return es_error(
            500,
            "repository_exception",
            format!("[{repo}] cannot delete snapshot from a readonly repository"),
        );
    }
    let exists = stored(world, &reg).is_some_and(|s| {
        s.snapshots
            .iter()
            .any(|s| s.name == name && visible(&reg, region, s))
    });
    if !exists {
        return snapshot_missing(repo, name);
    }
    let (bucket, base) = reg.location();
    if let Some(store) = world
        .object_store
        .get_mut(&bucket)
        .and_then(|b| b.get_mut(&base))
    {
        store.snapshots.retain(|s| s.name != name);
        store.generation += 1;
    }
    (200, json!({"acknowledged": true}))
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
