//! Snapshot repositories: registration, verification, update and removal.
//!
//! A repository registration points at `world.object_store[bucket][base_path]`, shared by both
//! regions, so a snapshot written by one region is visible to the other once registered on the
//! same bucket and base path. Behaviour follows ES 8.18: a writable registration caches the
//! repository data it loaded at registration: snapshots another cluster wrote afterwards stay
//! invisible to it, a `readonly` one always re-reads (elastic/elasticsearch PR #81674; the reason
//! the restoring side registers it readonly).

use serde_json::{Value, json};

use super::es_error;
use super::index::{RecoverySource, glob_match};
use super::settings::parse_byte_size;
use super::snapshot::{SnapState, StoredSnapshot};
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
    pub(super) fn location(&self) -> (String, String) {
        let s = |k: &str| self.settings.get(k).map(setting_string).unwrap_or_default();
        match self.kind.as_str() {
            "fs" => (format!("fs:{}", s("location")), String::new()),
            _ => (s("bucket"), s("base_path")),
        }
    }
}

pub(super) fn setting_string(v: &Value) -> String {
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

/// A repository rate setting in bytes per second (`None`: unlimited, a value `<= 0`).
pub(super) fn repo_rate(reg: &RepoRegistration, key: &str, default: &str) -> Option<f64> {
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

pub(super) fn repository_missing(repo: &str) -> (u16, Value) {
    es_error(
        404,
        "repository_missing_exception",
        format!("[{repo}] missing"),
    )
}

/// The registration of `repo` in `region` or the 404.
pub(super) fn registration(
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
pub(super) fn visible(reg: &RepoRegistration, region: RegionId, snap: &StoredSnapshot) -> bool {
    if snap.writer_region == region {
        return true;
    }
    snap.state != SnapState::InProgress && (reg.readonly || snap.generation <= reg.seen_generation)
}

pub(super) fn stored<'a>(world: &'a World, reg: &RepoRegistration) -> Option<&'a StoredRepository> {
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
                json!({"name": world.regions[region].es.node_name(n)}),
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
