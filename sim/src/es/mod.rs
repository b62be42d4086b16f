//! The simulated Elasticsearch of a region (ES 8.18 behind the bitnami subchart, docs/api-behaviour.md §5).
//!
//! State is plain data evaluated lazily: a snapshot is "started at + duration" and is finalised
//! by [`advance`]; a restored index recovers from `start` to `done_at`, and `_recovery`,
//! `_cat/indices` and `_cluster/health` derive their stage and progress from the clock. There are
//! no background tasks.
//!
//! Modules: [`index`] (indices, `_cat/indices`, `_recovery`, `_cluster/health`, delete),
//! [`repository`], [`snapshot`] and [`restore`] (snapshot repositories, snapshots, restores),
//! [`curl`] (the `curl` run through exec).

pub mod curl;
pub mod index;
pub mod ingest;
pub mod opensearch;
pub mod recovery;
pub mod repository;
pub mod restore;
pub mod settings;
pub mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http::SimRequest;
use crate::world::{RegionId, World};

pub use index::{EsIndex, Recovery, RecoverySource, Segment, ShardData};
pub use repository::{RepoRegistration, StoredRepository};
pub use snapshot::{SnapState, StoredSnapshot};

/// One region's Elasticsearch cluster.
#[derive(Debug, Clone)]
pub struct EsCluster {
    /// Data nodes of the cluster (replicas need other nodes than their primary's).
    pub nodes: u32,
    /// `numberOfShards` / `numberOfReplicas` Camunda creates its indices with.
    pub index_shards: u32,
    pub index_replicas: u32,
    /// The cluster is OpenSearch 2.19 (`SimConfig::es_opensearch`).
    pub opensearch: bool,
    /// Indices present, by name.
    pub indices: BTreeMap<String, EsIndex>,
    /// Composable index templates (part of the global state a snapshot carries).
    pub templates: BTreeMap<String, Value>,
    /// Snapshot repositories registered in this cluster, by name.
    pub repositories: BTreeMap<String, RepoRegistration>,
    /// The clock of the last [`advance`]: handlers derive progress from it.
    pub now: Option<Instant>,
    /// Counter for generated ids (index and snapshot uuids).
    pub next_id: u64,
    /// Dynamic cluster settings (`_cluster/settings`).
    pub settings: settings::ClusterSettings,
    /// Up to when recoveries and arriving data have been evaluated.
    pub evaluated_at: Option<Instant>,
    /// Round-robin start node of the next restored index (the allocator balances shards).
    pub next_node: u32,
    /// The release and Helm release name, for node and cluster names (bitnami or ECK).
    pub camunda: crate::release::CamundaRelease,
    pub release_name: String,
}

/// The Camunda 8.8 indices of a running installation: (name, docs, template it belongs to).
/// Names as the 8.8 schema manager creates them (operate/tasklist keep their historic versions).
const CAMUNDA_INDICES: &[(&str, u64, Option<&str>)] = &[
    (
        "operate-list-view-8.3.0_",
        42,
        Some("operate-list-view-8.3.0_template"),
    ),
    (
        "operate-flownode-instance-8.3.1_",
        120,
        Some("operate-flownode-instance-8.3.1_template"),
    ),
    (
        "operate-variable-8.3.0_",
        64,
        Some("operate-variable-8.3.0_template"),
    ),
    ("operate-import-position-8.3.0_", 8, None),
    (
        "tasklist-task-8.8.0_",
        17,
        Some("tasklist-task-8.8.0_template"),
    ),
    ("tasklist-import-position-8.2.0_", 8, None),
    ("camunda-user-8.8.0_", 3, None),
    ("camunda-authorization-8.8.0_", 12, None),
    ("camunda-role-8.8.0_", 4, None),
];

impl Default for EsCluster {
    fn default() -> Self {
        Self::with_topology(&crate::world::SimConfig::default())
    }
}

/// An archived (dated) index the archiver creates in a running installation.
const ARCHIVE_INDEX: (&str, u64) = ("operate-list-view-8.3.0_2025-11-20", 25);

impl EsCluster {
    /// The name of node `n` (its pod's name: [`crate::release::CamundaRelease::es_pod_name`]).
    pub fn node_name(&self, n: u32) -> String {
        self.camunda.es_pod_name(&self.release_name, n)
    }

    /// The cluster's `cluster_name`.
    pub fn cluster_name(&self) -> &'static str {
        self.camunda.es_cluster_name()
    }

    /// An empty cluster with the configured topology (nodes, shards and replicas of indices).
    pub fn with_topology(cfg: &crate::world::SimConfig) -> Self {
        Self {
            nodes: cfg.es_nodes.max(1),
            index_shards: cfg.es_number_of_shards.max(1),
            index_replicas: cfg.es_number_of_replicas,
            opensearch: cfg.es_opensearch,
            camunda: cfg.camunda,
            release_name: cfg.release.clone(),
            indices: BTreeMap::new(),
            templates: BTreeMap::new(),
            repositories: BTreeMap::new(),
            now: None,
            next_id: 0,
            settings: Default::default(),
            evaluated_at: None,
            next_node: 0,
        }
    }

    /// A cluster (default topology) that holds the Camunda indices and templates of a running
    /// installation.
    pub fn seeded() -> Self {
        Self::seeded_for(&crate::world::SimConfig::default())
    }

    /// A cluster of `cfg`'s topology holding the Camunda indices of a running installation.
    pub fn seeded_for(cfg: &crate::world::SimConfig) -> Self {
        let mut es = Self::with_topology(cfg);
        es.create_camunda_schema(true);
        let uuid = es.new_uuid(ARCHIVE_INDEX.0);
        es.indices.insert(
            ARCHIVE_INDEX.0.to_string(),
            EsIndex::new(
                uuid,
                ARCHIVE_INDEX.1,
                es.index_shards,
                es.index_replicas,
                es.nodes,
                RecoverySource::EmptyStore,
            )
            .placed(es.nodes, es.next_node),
        );
        es.next_node = es.next_node.wrapping_add(es.index_shards);
        es.seed_data(cfg.es_data_bytes);
        es
    }

    /// Spread `total` bytes of primary data over the indices in proportion to their documents,
    /// each index evenly over its primaries, each primary in a few segments.
    pub fn seed_data(&mut self, total: u64) {
        let docs: u64 = self.indices.values().map(|i| i.docs).sum::<u64>().max(1);
        for idx in self.indices.values_mut() {
            let bytes = (u128::from(total) * u128::from(idx.docs) / u128::from(docs)) as u64;
            let per_shard = bytes / u64::from(idx.shards.max(1));
            idx.data = (0..idx.shards)
                .map(|_| ShardData::with_bytes(per_shard))
                .collect();
            let sizes: Vec<u64> = (0..idx.shards).map(|j| idx.shard_bytes(j)).collect();
            for c in idx.recovery.copies.iter_mut() {
                let b = sizes.get(c.shard as usize).copied().unwrap_or(0);
                c.bytes_total = b;
                c.bytes_done = b as f64;
            }
        }
    }

    /// A fresh, empty cluster (a recreated region).
    pub fn empty() -> Self {
        Self::default()
    }

    /// What the schema manager does at start-up: create the Camunda indices and templates
    /// (`operate-*`, `tasklist-*`, `camunda-*`), empty. The helm stand-in calls this for a
    /// recreated region whose env does not disable the schema manager.
    pub fn seed_schema(&mut self) {
        self.create_camunda_schema(false);
    }

    fn create_camunda_schema(&mut self, with_docs: bool) {
        for (name, docs, template) in CAMUNDA_INDICES {
            if !self.indices.contains_key(*name) {
                let uuid = self.new_uuid(name);
                let docs = if with_docs { *docs } else { 0 };
                let first = self.next_node;
                self.next_node = self.next_node.wrapping_add(self.index_shards);
                self.indices.insert(
                    name.to_string(),
                    EsIndex::new(
                        uuid,
                        docs,
                        self.index_shards,
                        self.index_replicas,
                        self.nodes,
                        RecoverySource::EmptyStore,
                    )
                    .placed(self.nodes, first),
                );
            }
            if let Some(t) = template {
                let pattern = format!("{}*", name.trim_end_matches('_'));
                self.templates.insert(
                    t.to_string(),
                    json!({"index_patterns": [pattern], "priority": 0,
                           "template": {"settings": {"number_of_shards": self.index_shards,
                                                     "number_of_replicas": self.index_replicas}},
                           "composed_of": []}),
                );
            }
        }
    }

    /// A deterministic 22-character id in the style of ES uuids.
    pub fn new_uuid(&mut self, seed: &str) -> String {
        use std::hash::{Hash, Hasher};
        self.next_id += 1;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (seed, self.next_id).hash(&mut h);
        let a = h.finish();
        a.hash(&mut h);
        let b = h.finish();
        let mut bytes = a.to_be_bytes().to_vec();
        bytes.extend_from_slice(&b.to_be_bytes());
        let mut s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        s.truncate(22);
        s
    }

    fn clock(&self) -> Instant {
        self.now.unwrap_or_else(Instant::now)
    }
}

/// `GET /`: the node's name, cluster and version. Elasticsearch 8 writes `version.build_flavor`
/// and no `distribution` (elastic/elasticsearch 8.18 `server/src/main/java/org/elasticsearch/rest/action/RestMainAction.java`
/// / `MainResponse`); OpenSearch writes `version.distribution: "opensearch"` (see
/// [`opensearch::main_response`]). Build hash and date are placeholders of the real shape.
fn main_response(es: &EsCluster) -> Value {
    if es.opensearch {
        return opensearch::main_response(es);
    }
    json!({
        "name": es.node_name(0),
        "cluster_name": es.cluster_name(),
        "cluster_uuid": "c8drSimClusterUuid0000",
        "version": {
            "number": "8.18.0",
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "0000000000000000000000000000000000000000",
            "build_date": "2025-04-10T00:00:00.000000000Z",
            "build_snapshot": false,
            "lucene_version": "9.12.1",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    })
}

/// An error body in Elasticsearch's shape.
pub fn es_error(status: u16, kind: &str, reason: impl Into<String>) -> (u16, Value) {
    let reason = reason.into();
    (
        status,
        json!({
            "error": {
                "root_cause": [{"type": kind, "reason": reason}],
                "type": kind,
                "reason": reason,
            },
            "status": status,
        }),
    )
}

/// Apply due asynchronous work of a region: exported data arrives, recoveries progress, and
/// snapshots it writes are finalised once their duration has passed (the snapshot becomes
/// `SUCCESS` or `PARTIAL` in the shared bucket).
pub fn advance(world: &mut World, region: RegionId, now: Instant) {
    let from = world.regions[region]
        .es
        .evaluated_at
        .unwrap_or(now)
        .min(now);
    world.regions[region].es.now = Some(now);
    world.regions[region].es.evaluated_at = Some(now);
    if now > from {
        ingest::arrive(world, region, from, now);
        let physical = world.cfg.es_node_bytes_per_sec.max(1) as f64;
        let scale = world.cfg.time_scale;
        recovery::run(&mut world.regions[region].es, from, now, physical, scale);
    }
    let mut finished = vec![];
    for repos in world.object_store.values_mut() {
        for repo in repos.values_mut() {
            for snap in repo.snapshots.iter_mut() {
                if snap.writer_region == region
                    && snap.state == SnapState::InProgress
                    && now >= snap.done_at
                {
                    snap.finalize();
                    finished.push((
                        snap.started,
                        snap.done_at,
                        format!("snapshot {}", snap.name),
                    ));
                }
            }
        }
    }
    for (start, end, what) in finished {
        world.timeline.work(start, end, what);
    }
    crate::timeline::restores_done(world, region, now);
}

/// Time a snapshot or restore takes per index (its shard copies share it).
pub(crate) fn shard_duration(world: &World) -> Duration {
    world.cfg.es_shard_duration
}

/// Serve one Elasticsearch REST request in `region`: (HTTP status, JSON body).
pub fn handle(world: &mut World, region: RegionId, req: &SimRequest) -> (u16, Value) {
    if world.cfg.es_auth_required()
        && let Some(denied) = authenticate(&world.cfg.es_password, req)
    {
        return denied;
    }
    let path = req.path.trim_matches('/');
    let segments: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split('/').collect()
    };
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        ("GET", []) => (200, main_response(&world.regions[region].es)),
        ("GET", ["_cat", "indices"]) | ("GET", ["_cat", "indices", _]) => {
            index::cat_indices(&world.regions[region].es, segments.get(2).copied())
        }
        ("GET", ["_cluster", "settings"]) => settings::get(&world.regions[region].es, req),
        ("PUT", ["_cluster", "settings"]) => settings::put(&mut world.regions[region].es, req),
        ("GET", ["_cluster", "health"]) => index::cluster_health(&world.regions[region].es, req),
        ("GET", ["_recovery"]) => index::recovery(&world.regions[region].es, req, None),
        ("GET", [idx, "_recovery"]) => index::recovery(&world.regions[region].es, req, Some(idx)),
        ("GET", ["_index_template"]) => index::templates(&world.regions[region].es),
        ("GET", ["_snapshot"]) => repository::get_repository(world, region, None),
        ("GET", ["_snapshot", repo]) => repository::get_repository(world, region, Some(repo)),
        ("PUT" | "POST", ["_snapshot", repo]) => {
            repository::put_repository(world, region, repo, req)
        }
        ("DELETE", ["_snapshot", repo]) => repository::delete_repository(world, region, repo),
        ("POST", ["_snapshot", repo, "_verify"]) => repository::verify(world, region, repo),
        ("GET", ["_snapshot", repo, "_status"]) => snapshot::status(world, region, repo, None),
        ("GET", ["_snapshot", repo, name]) => snapshot::get_snapshots(world, region, repo, name),
        ("PUT" | "POST", ["_snapshot", repo, name]) => {
            snapshot::create(world, region, repo, name, req)
        }
        ("DELETE", ["_snapshot", repo, name]) => snapshot::delete(world, region, repo, name),
        ("GET", ["_snapshot", repo, name, "_status"]) => {
            snapshot::status(world, region, repo, Some(name))
        }
        ("POST", ["_snapshot", repo, name, "_restore"]) => {
            restore::restore(world, region, repo, name, req)
        }
        ("GET", [idx]) if !idx.starts_with('_') => index::get_index(&world.regions[region].es, idx),
        ("GET", [idx, "_settings"]) if !idx.starts_with('_') => {
            index::get_settings(&world.regions[region].es, idx)
        }
        ("DELETE", [idx]) if !idx.starts_with('_') => {
            index::delete_indices(&mut world.regions[region].es, idx)
        }
        _ => (
            400,
            json!({"error": format!("no handler found for uri [{}] and method [{}]", req.path, req.method),
                   "status": 400}),
        ),
    }
}

/// Basic auth as ES security checks it: `None` when authenticated, else the 401 answer.
fn authenticate(password: &str, req: &SimRequest) -> Option<(u16, Value)> {
    let header = req.headers.get("authorization");
    let Some(header) = header else {
        return Some(unauthorized(format!(
            "missing authentication credentials for REST request [{}]",
            req.path
        )));
    };
    let decoded = header
        .strip_prefix("Basic ")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some(("elastic", p)) if p == password => None,
        Some((user, _)) => Some(unauthorized(format!(
            "unable to authenticate user [{user}] for REST request [{}]",
            req.path
        ))),
        None => Some(unauthorized(format!(
            "missing authentication credentials for REST request [{}]",
            req.path
        ))),
    }
}

fn unauthorized(reason: String) -> (u16, Value) {
    let (status, mut body) = es_error(401, "security_exception", reason);
    let header =
        json!({"WWW-Authenticate": ["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"]});
    body["error"]["header"] = header.clone();
    body["error"]["root_cause"][0]["header"] = header;
    (status, body)
}
