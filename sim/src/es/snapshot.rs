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

use super::index::{EsIndex, Recovery, RecoverySource, Segment, ShardData, epoch_ms, glob_match};
use super::settings::parse_byte_size;
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

/// A repository rate setting in bytes per second (`None`: unlimited, a value `<= 0`).
fn repo_rate(reg: &RepoRegistration, key: &str, default: &str) -> Option<f64> {
    let text = reg
        .settings
        .get(key)
        .map(setting_string)
        .unwrap_or_else(|| default.to_string());
    match parse_byte_size(&text) {
        Some(b) if b > 0 => Some(b as f64),
        _ => None,
    }
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
    if let Some(current) = world.regions[region].es.repositories.get(repo)
        && !can_update_in_place(current, kind, &settings)
        && repository_in_use(world, region, repo)
    {
        return in_use_refusal(world, region, repo);
    }
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

/// The settings a registration in use may change (elastic/elasticsearch 8.x
/// `BlobStoreRepository.DYNAMIC_SETTING_NAMES`, used by `canUpdateInPlace`).
const DYNAMIC_REPO_SETTINGS: [&str; 2] =
    ["max_snapshot_bytes_per_sec", "max_restore_bytes_per_sec"];

/// Whether a registration can change to `kind`/`settings` while in use: same type, and every
/// setting that differs (compared as the strings ES stores) is a dynamic one
/// (elastic/elasticsearch 8.x `BlobStoreRepository.canUpdateInPlace`, called from
/// `RepositoriesService.registerRepository`; the type must match first).
fn can_update_in_place(
    current: &RepoRegistration,
    kind: &str,
    settings: &serde_json::Map<String, Value>,
) -> bool {
    if current.kind != kind {
        return false;
    }
    let keys: std::collections::BTreeSet<&String> =
        current.settings.keys().chain(settings.keys()).collect();
    keys.into_iter()
        .filter(|k| !DYNAMIC_REPO_SETTINGS.contains(&k.as_str()))
        .all(|k| current.settings.get(k).map(setting_string) == settings.get(k).map(setting_string))
}

/// A snapshot of `repo` runs in `region`, or a restore from it does (its primaries are not all
/// restored yet): `SnapshotsService.isRepositoryInUse` / `RestoreService.isRepositoryInUse`.
fn repository_in_use(world: &World, region: RegionId, repo: &str) -> bool {
    let es = &world.regions[region].es;
    let now = es.clock();
    let restoring = es.indices.values().any(|i| {
        matches!(&i.recovery.source, RecoverySource::Snapshot { repository, .. } if repository == repo)
            && !i.primaries_active(now)
    });
    let snapshotting = es.repositories.get(repo).is_some_and(|reg| {
        stored(world, reg).is_some_and(|st| {
            st.snapshots
                .iter()
                .any(|s| s.writer_region == region && s.state == SnapState::InProgress)
        })
    });
    restoring || snapshotting
}

/// The refusal of a change to a registration in use: ES 8 throws a `RepositoryConflictException`
/// (409; elastic/elasticsearch 8.x `RepositoriesService.ensureRepositoryNotInUse`), OpenSearch 2.x
/// an `IllegalStateException` (500; opensearch-project/OpenSearch 2.x `RepositoriesService`).
fn in_use_refusal(world: &World, region: RegionId, repo: &str) -> (u16, Value) {
    if world.regions[region].es.opensearch {
        es_error(
            500,
            "illegal_state_exception",
            "trying to modify or unregister repository that is currently used",
        )
    } else {
        es_error(
            409,
            "repository_conflict_exception",
            format!("[{repo}] trying to modify or unregister repository that is currently used"),
        )
    }
}

/// `DELETE _snapshot/<repo>`: unregister (the data stays in the bucket); refused while in use.
pub fn delete_repository(world: &mut World, region: RegionId, repo: &str) -> (u16, Value) {
    if repository_in_use(world, region, repo) {
        return in_use_refusal(world, region, repo);
    }
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

fn restore_error(repo: &str, snap: &StoredSnapshot, why: String) -> (u16, Value) {
    es_error(
        500,
        "snapshot_restore_exception",
        format!("[{repo}:{}/{}] {why}", snap.name, snap.uuid),
    )
}

/// `POST _snapshot/<repo>/<name>/_restore` (asynchronous: `{"accepted":true}`): the restored
/// indices recover as `es::recovery` models it.
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
        // The snapshot's persistent cluster settings replace the cluster's, whole: what was set
        // before the restore and is not in the snapshot is gone (elastic/elasticsearch 8.x
        // `RestoreService.applyGlobalStateRestore`: `mdBuilder.persistentSettings(settings)`;
        // opensearch-project/OpenSearch 2.x `RestoreService` the same). Transient settings stay.
        if let Some(p) = &snap.persistent_settings {
            es.settings.persistent = p.clone();
        }
    }
    // One restore operation: every restored shard carries its `restoreUUID`
    // (RestoreService: one `restoreUUID` per restore request).
    let restore_uuid = es.new_uuid(&format!("restore-{}", snap.name));
    for (n, si) in chosen.iter() {
        if si.failed.is_some() {
            continue;
        }
        // RestoreService creates every index at once with its primaries unassigned
        // (`SnapshotRecoverySource`); the allocator then starts as many recoveries as the
        // throttles allow (`es::recovery`). Every byte of every file is copied: the new
        // cluster holds none of them.
        let uuid = es.new_uuid(n);
        let mut idx = EsIndex::new(
            uuid,
            si.docs,
            si.shards,
            si.replicas,
            es.nodes,
            RecoverySource::EmptyStore,
        );
        idx.data = si
            .shard_files
            .iter()
            .map(|sh| ShardData {
                files: sh.files.clone(),
                ..ShardData::default()
            })
            .collect();
        idx.data.resize(idx.shards as usize, ShardData::default());
        let first = es.next_node;
        es.next_node = es.next_node.wrapping_add(idx.shards);
        let copies = idx.allocate(es.nodes, first, |c| c);
        idx.recovery = Recovery {
            source: RecoverySource::Snapshot {
                repository: repo.to_string(),
                snapshot: snap.name.clone(),
                restore_uuid: restore_uuid.clone(),
                index: (*n).clone(),
            },
            start: now,
            fixed: d,
            start_epoch_ms: epoch_ms(),
            copies,
        };
        es.indices.insert((*n).clone(), idx);
    }
    super::recovery::schedule(es, now);
    world.timeline.restore_started(region, &restore_uuid, now);
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
