//! Snapshot repositories, snapshots and restores.
//!
//! A repository registration points at `world.object_store[bucket][base_path]`, shared by both
//! regions, so a snapshot written by one region is visible to the other once registered on the
//! same bucket and base path. Behaviour follows ES 8.18:
//! - a writable registration caches the repository data it loaded at registration: snapshots
//!   another cluster wrote afterwards stay invisible to it, a `readonly` one always re-reads
//!   (elastic/elasticsearch PR #81674; the reason the restoring side registers it readonly);
//! - an in-progress snapshot is only in the writing cluster's state, not yet in the repository;
//! - restoring over an open index of the same name is a 500 `snapshot_restore_exception`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::index::{EsIndex, Recovery, RecoverySource, epoch_ms, glob_match};
use super::{es_error, shard_duration};
use crate::http::SimRequest;
use crate::world::{RegionId, World};

/// A repository registered in one cluster.
#[derive(Debug, Clone)]
pub struct RepoRegistration {
    /// `s3` or `fs`.
    pub kind: String,
    pub settings: serde_json::Map<String, Value>,
    pub readonly: bool,
    /// Repository generation loaded at registration (what a writable registration caches).
    pub seen_generation: u64,
    pub uuid: String,
}

impl RepoRegistration {
    /// Where the repository lives in the object store: (bucket, base path).
    fn location(&self) -> (String, String) {
        let s = |k: &str| self.settings.get(k).map(setting_string).unwrap_or_default();
        match self.kind.as_str() {
            "fs" => (format!("fs:{}", s("location")), String::new()),
            _ => (s("bucket"), s("base_path")),
        }
    }
}

fn setting_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A snapshot repository's content in the shared object store.
#[derive(Debug, Clone, Default)]
pub struct StoredRepository {
    pub snapshots: Vec<StoredSnapshot>,
    /// Bumped by every snapshot written (the `index-N` generation of a real repository).
    pub generation: u64,
}

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
fn iso8601(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

fn repository_missing(repo: &str) -> (u16, Value) {
    es_error(
        404,
        "repository_missing_exception",
        format!("[{repo}] missing"),
    )
}

fn snapshot_missing(repo: &str, name: &str) -> (u16, Value) {
    es_error(
        404,
        "snapshot_missing_exception",
        format!("[{repo}:{name}] is missing"),
    )
}

/// The registration of `repo` in `region` or the 404.
fn registration(
    world: &World,
    region: RegionId,
    repo: &str,
) -> Result<RepoRegistration, (u16, Value)> {
    world.regions[region]
        .es
        .repositories
        .get(repo)
        .cloned()
        .ok_or_else(|| repository_missing(repo))
}

/// Whether `region`, through `reg`, sees `snap`.
fn visible(reg: &RepoRegistration, region: RegionId, snap: &StoredSnapshot) -> bool {
    if snap.writer_region == region {
        return true;
    }
    snap.state != SnapState::InProgress && (reg.readonly || snap.generation <= reg.seen_generation)
}

fn stored<'a>(world: &'a World, reg: &RepoRegistration) -> Option<&'a StoredRepository> {
    let (bucket, base) = reg.location();
    world.object_store.get(&bucket).and_then(|b| b.get(&base))
}

/// `PUT _snapshot/<repo>`: register (or update) a repository, then verify it unless `verify=false`.
pub fn put_repository(
    world: &mut World,
    region: RegionId,
    repo: &str,
    req: &SimRequest,
) -> (u16, Value) {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return es_error(400, "x_content_parse_exception", e.to_string()),
    };
    let Some(kind) = body.get("type").and_then(Value::as_str) else {
        return es_error(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: type is missing;",
        );
    };
    if kind != "s3" && kind != "fs" {
        return es_error(
            500,
            "repository_exception",
            format!("[{repo}] repository type [{kind}] does not exist"),
        );
    }
    let settings = body
        .get("settings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let required = if kind == "s3" { "bucket" } else { "location" };
    if settings.get(required).is_none() {
        return es_error(
            500,
            "repository_exception",
            format!(
                "[{repo}] Could not determine repository generation: setting [{required}] is missing"
            ),
        );
    }
    let readonly = matches!(settings.get("readonly"), Some(Value::Bool(true)))
        || matches!(
            settings.get("readonly").and_then(Value::as_str),
            Some("true")
        );
    let es_uuid = world.regions[region].es.new_uuid(repo);
    let mut reg = RepoRegistration {
        kind: kind.to_string(),
        settings,
        readonly,
        seen_generation: 0,
        uuid: es_uuid,
    };
    let (bucket, base) = reg.location();
    let store = world
        .object_store
        .entry(bucket)
        .or_default()
        .entry(base)
        .or_default();
    reg.seen_generation = store.generation;
    world.regions[region]
        .es
        .repositories
        .insert(repo.to_string(), reg);
    let verify = !matches!(req.param("verify"), Some("false"));
    if verify && world.faults.repo_verify_fails {
        // ES keeps the registration when the verification of a PUT fails.
        return verification_failure(world, region, repo);
    }
    (200, json!({"acknowledged": true}))
}

fn verification_failure(world: &World, region: RegionId, repo: &str) -> (u16, Value) {
    let base = world.regions[region]
        .es
        .repositories
        .get(repo)
        .map(|r| r.location().1)
        .unwrap_or_default();
    let reason = format!("[{repo}] path [{base}] is not accessible on master node");
    let (status, mut body) = es_error(500, "repository_verification_exception", reason);
    body["error"]["caused_by"] = json!({
        "type": "i_o_exception",
        "reason": format!("Unable to upload object [{base}/tests-sim/master.dat] using a single upload"),
        "caused_by": {"type": "amazon_s3_exception",
                      "reason": "The AWS Access Key Id you provided does not exist in our records. (Service: Amazon S3; Status Code: 403; Error Code: InvalidAccessKeyId)"}
    });
    (status, body)
}

/// `POST _snapshot/<repo>/_verify`.
pub fn verify(world: &mut World, region: RegionId, repo: &str) -> (u16, Value) {
    if let Err(e) = registration(world, region, repo) {
        return e;
    }
    if world.faults.repo_verify_fails {
        return verification_failure(world, region, repo);
    }
    // Every node of the cluster verifies access (VerifyRepositoryResponse: node id -> name).
    let nodes: serde_json::Map<String, Value> = (0..world.regions[region].es.nodes)
        .map(|n| {
            (
                format!("sim-node-{n}"),
                json!({"name": format!("camunda-elasticsearch-master-{n}")}),
            )
        })
        .collect();
    (200, json!({ "nodes": nodes }))
}

/// `GET _snapshot[/<repo>]`: registrations, settings rendered as strings like ES does.
pub fn get_repository(world: &World, region: RegionId, repo: Option<&str>) -> (u16, Value) {
    let regs = &world.regions[region].es.repositories;
    let mut out = serde_json::Map::new();
    let patterns: Vec<&str> = match repo {
        None | Some("_all") | Some("*") => vec!["*"],
        Some(r) => r.split(',').collect(),
    };
    for p in &patterns {
        let mut found = false;
        for (name, reg) in regs.iter().filter(|(n, _)| glob_match(p, n)) {
            found = true;
            let settings: serde_json::Map<String, Value> = reg
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(setting_string(v))))
                .collect();
            out.insert(
                name.clone(),
                json!({"type": reg.kind, "uuid": reg.uuid, "settings": settings}),
            );
        }
        if !found && !p.contains('*') {
            return repository_missing(p);
        }
    }
    (200, Value::Object(out))
}

/// `DELETE _snapshot/<repo>`: unregister (the data stays in the bucket).
pub fn delete_repository(world: &mut World, region: RegionId, repo: &str) -> (u16, Value) {
    match world.regions[region].es.repositories.remove(repo) {
        Some(_) => (200, json!({"acknowledged": true})),
        None => repository_missing(repo),
    }
}

fn invalid_name(repo: &str, name: &str, why: &str) -> (u16, Value) {
    es_error(
        400,
        "invalid_snapshot_name_exception",
        format!("[{repo}:{name}] Invalid snapshot name [{name}], {why}"),
    )
}

fn index_filter(body: &Value) -> Option<Vec<String>> {
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
    if name != name.to_lowercase() {
        return invalid_name(repo, name, "must be lowercase");
    }
    if name.starts_with('_')
        || name.contains([' ', ',', '#', '/', '\\', '*', '?', '"', '<', '>', '|'])
    {
        return invalid_name(
            repo,
            name,
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        );
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
    let d = shard_duration(world);
    let partial = std::mem::take(&mut world.faults.partial_snapshot);
    let es = &mut world.regions[region].es;
    let mut indices: std::collections::BTreeMap<String, SnapIndex> = es
        .indices
        .iter()
        .filter(|(n, _)| !n.starts_with('.'))
        .filter(|(n, _)| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|p| glob_match(p, n)))
        })
        .filter(|(_, i)| i.primaries_active(now))
        .map(|(n, i)| {
            (
                n.clone(),
                SnapIndex {
                    docs: i.docs,
                    shards: i.shards,
                    replicas: i.replicas,
                    failed: None,
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
    let uuid = es.new_uuid(name);
    let duration = d * indices.len() as u32;
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
        started: now,
        done_at: now + duration,
        start_epoch_ms: epoch_ms(),
        end_epoch_ms: 0,
    });
    (200, json!({"accepted": true}))
}

/// The snapshots of `repo` that `region` sees, matching `expr` (`_all`, `*`, globs, commas).
fn select<'a>(
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
            json!({
                "snapshot": s.name,
                "repository": repo,
                "uuid": s.uuid,
                "state": state,
                "include_global_state": s.include_global_state,
                "shards_stats": {"initializing": 0, "started": usize::from(done < total && s.state == SnapState::InProgress),
                                 "finalizing": 0, "done": done - failed.min(done), "failed": failed, "total": total},
                "stats": {"start_time_in_millis": s.start_epoch_ms},
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

fn restore_error(repo: &str, snap: &StoredSnapshot, why: String) -> (u16, Value) {
    es_error(
        500,
        "snapshot_restore_exception",
        format!("[{repo}:{}/{}] {why}", snap.name, snap.uuid),
    )
}

/// `POST _snapshot/<repo>/<name>/_restore` (asynchronous: `{"accepted":true}`). Each restored
/// index recovers one after the other, `es_shard_duration` each.
pub fn restore(
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
    let snap = match select(world, region, &reg, repo, name) {
        Ok(s) => match s
            .into_iter()
            .find(|s| s.name == name && s.state != SnapState::InProgress)
        {
            Some(s) => s.clone(),
            None => return snapshot_missing(repo, name),
        },
        Err(e) => return e,
    };
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return es_error(400, "x_content_parse_exception", e.to_string()),
    };
    // The request is parsed before anything else: a key the engine does not know is a 400.
    if let Some(rejected) = super::opensearch::check_restore_body(&world.regions[region].es, &body)
    {
        return rejected;
    }
    if snap.state == SnapState::Failed {
        return restore_error(repo, &snap, "unsupported snapshot state [FAILED]".into());
    }
    // ES's default for restores is include_global_state: false.
    let global = body
        .get("include_global_state")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let allow_partial = body
        .get("partial")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filter = index_filter(&body);
    let chosen: Vec<(&String, &SnapIndex)> = snap
        .indices
        .iter()
        .filter(|(n, _)| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|p| glob_match(p, n)))
        })
        .collect();
    let es = &world.regions[region].es;
    for (n, i) in &chosen {
        if i.failed.is_some() && !allow_partial {
            return restore_error(
                repo,
                &snap,
                format!("index [{n}] wasn't fully snapshotted - cannot restore"),
            );
        }
        if es.indices.contains_key(*n) {
            return restore_error(
                repo,
                &snap,
                format!(
                    "cannot restore index [{n}] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name"
                ),
            );
        }
    }
    let d: Duration = shard_duration(world);
    let es = &mut world.regions[region].es;
    let now = es.clock();
    if global {
        for (t, v) in &snap.templates {
            es.templates.insert(t.clone(), v.clone());
        }
    }
    // One restore operation: every restored shard carries its `restoreUUID`
    // (RestoreService: one `restoreUUID` per restore request).
    let restore_uuid = es.new_uuid(&format!("restore-{}", snap.name));
    for (i, (n, si)) in chosen.iter().enumerate() {
        if si.failed.is_some() {
            continue;
        }
        // The index gets its whole slot `d`: its primaries one after the other, then the
        // replicas recover from them (RestoreService creates every index at once with its
        // primaries unassigned; allocation throttling makes them recover in turn).
        let start = now + d * i as u32;
        let uuid = es.new_uuid(n);
        let mut idx = EsIndex::new(
            uuid,
            si.docs,
            si.shards,
            si.replicas,
            RecoverySource::EmptyStore,
        );
        idx.recovery = Recovery {
            source: RecoverySource::Snapshot {
                repository: repo.to_string(),
                snapshot: snap.name.clone(),
                restore_uuid: restore_uuid.clone(),
                index: (*n).clone(),
            },
            start,
            copy: d / si.shards.max(1),
            start_epoch_ms: epoch_ms() + (d * i as u32).as_millis() as u64,
        };
        es.indices.insert((*n).clone(), idx);
    }
    (200, json!({"accepted": true}))
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
