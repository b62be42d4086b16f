//! The Elasticsearch operations of failback step 4 (SPEC 3.5): repository registration and
//! verification, snapshot creation and listing, restore, and the composite copy. Each returns a
//! serialisable report the CLI renders; every wait is bounded (`Error::Timeout`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::client::{EsClient, EsOptions, Retry, eta};
use super::model::{
    CatIndex, Distribution, Origin, Progress, RestorePlan, ShardLayout, SnapshotInfo,
    SnapshotVerdict, error_reason, error_type, evaluate_snapshot, index_origins, is_camunda_index,
    parse_distribution, parse_recovery, plan_restore, restore_progress, validate_snapshot_name,
};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// Which wait a progress report belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Shards snapshotted of the snapshot's total.
    Snapshot,
    /// Shard copies recovered (DONE) of the copies expected: every primary restored from the
    /// snapshot, then every replica the cluster can allocate, recovered from its primary.
    Restore,
}

/// Progress callback (the CLI draws a bar on a TTY).
pub type ProgressFn<'a> = &'a (dyn Fn(Phase, Progress) + Send + Sync);

/// A callback that ignores progress.
pub fn no_progress(_: Phase, _: Progress) {}

/// A repository registration to make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoSpec {
    /// `s3` (the references) or `fs`.
    #[serde(rename = "type")]
    pub kind: String,
    pub settings: Map<String, Value>,
    /// Register read-only (the restoring side: two writable registrations of one repository can
    /// corrupt it, and a writable one caches the repository contents).
    pub readonly: bool,
}

impl RepoSpec {
    /// The references' S3 repository: `{"bucket": B, "client": "camunda", "base_path": "backups"}`.
    pub fn s3(bucket: &str, base_path: &str, client: &str) -> Self {
        let mut settings = Map::new();
        settings.insert("bucket".into(), json!(bucket));
        settings.insert("client".into(), json!(client));
        settings.insert("base_path".into(), json!(base_path));
        Self {
            kind: "s3".into(),
            settings,
            readonly: false,
        }
    }

    /// A shared file system repository: `{"location": PATH}`. Every node of both clusters must
    /// list PATH (or a parent) in `path.repo` and see the same shared directory (ES/OpenSearch
    /// "Shared file system repository" docs: `type: fs`, setting `location`).
    pub fn fs(location: &str) -> Self {
        let mut settings = Map::new();
        settings.insert("location".into(), json!(location));
        Self {
            kind: "fs".into(),
            settings,
            readonly: false,
        }
    }

    pub fn with_readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The `PUT _snapshot/<repo>` body (`readonly` is a repository setting in ES).
    pub fn body(&self) -> Value {
        let mut settings = self.settings.clone();
        if self.readonly {
            settings.insert("readonly".into(), json!(true));
        } else {
            settings.remove("readonly");
        }
        json!({"type": self.kind, "settings": settings})
    }

    /// The calls a registration makes, for plans and `--dry-run`.
    pub fn plan(&self, repository: &str) -> Vec<String> {
        vec![
            format!("PUT _snapshot/{repository}?verify=false {}", self.body()),
            format!("POST _snapshot/{repository}/_verify"),
        ]
    }
}

/// A registered repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoReport {
    pub repository: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub settings: Map<String, Value>,
    pub readonly: bool,
    /// Nodes that verified access (empty when not verified by this call).
    pub verified_nodes: Vec<String>,
}

/// A finished snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotReport {
    pub repository: String,
    pub snapshot: SnapshotInfo,
    /// How long c8dr waited for it.
    pub waited_ms: u64,
}

/// Snapshots of a repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotList {
    pub repository: String,
    pub snapshots: Vec<SnapshotInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreOutcome {
    Restored,
    /// The snapshot had been restored already (or its restore was running and was followed).
    AlreadyRestored,
}

/// A finished restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreReport {
    pub repository: String,
    pub snapshot: String,
    pub outcome: RestoreOutcome,
    /// Camunda indices deleted before restoring (`--delete-existing-indices` only).
    pub deleted_indices: Vec<String>,
    pub restored_indices: Vec<String>,
    /// Cluster health at the end (`green`, or `yellow` on a single node with replicas).
    pub health: String,
    /// Shard copies recovered: primaries and the replicas the cluster could allocate.
    pub shard_copies: u64,
    /// Replica copies the cluster cannot allocate (too few data nodes): why it stays yellow.
    pub unassigned_replicas: u64,
    /// Data nodes of the target cluster.
    pub data_nodes: u64,
    pub waited_ms: u64,
}

/// One Camunda index compared between source and target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexComparison {
    pub index: String,
    pub source_docs: Option<u64>,
    pub target_docs: Option<u64>,
}

impl IndexComparison {
    pub fn equal(&self) -> bool {
        self.source_docs.is_some() && self.source_docs == self.target_docs
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyOutcome {
    Copied,
    /// The target already held exactly the source's Camunda indices, restored from a snapshot.
    AlreadyDone,
    /// An interrupted copy's restore was still running; it was followed to its end.
    Resumed,
}

/// What `copy` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyReport {
    pub outcome: CopyOutcome,
    pub source_repository: Option<RepoReport>,
    pub target_repository: Option<RepoReport>,
    pub snapshot: Option<SnapshotReport>,
    pub restore: Option<RestoreReport>,
    /// The Camunda indices of source and target after the copy (all equal on success).
    pub indices: Vec<IndexComparison>,
}

/// What to copy and how.
#[derive(Debug, Clone, PartialEq)]
pub struct CopySpec {
    /// The repository as the source registers it (writable); the target gets it read-only.
    pub repo: RepoSpec,
    /// Snapshot name; `failback-<UTC timestamp>` when `None`.
    pub snapshot: Option<String>,
    /// Delete the target's existing Camunda indices before restoring.
    pub delete_existing: bool,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn not_registered(repo: &str, t: &dyn EsTransport) -> Error {
    Error::failed(format!(
        "repository {repo} is not registered in {}: register it first (es repo register)",
        t.describe()
    ))
}

// ---------------------------------------------------------------------------------------------
// Repositories

/// Register the repository `opts.repository` as `spec` says, then verify it
/// (`POST _snapshot/<repo>/_verify`). Re-registering with the same settings is harmless.
pub async fn repo_register(
    t: &dyn EsTransport,
    opts: &EsOptions,
    spec: &RepoSpec,
) -> Result<RepoReport> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    // verify=false: the explicit _verify below reports a verification failure on its own.
    c.ok(
        Method::PUT,
        &format!("_snapshot/{repo}?verify=false"),
        Some(&spec.body()),
        Retry::Safe,
    )
    .await
    .map_err(|e| {
        Error::failed(format!(
            "registering repository {repo} in {}: {e}",
            t.describe()
        ))
    })?;
    let verified_nodes = verify(t, opts, Some(&spec.kind)).await?;
    Ok(RepoReport {
        repository: repo.clone(),
        kind: spec.kind.clone(),
        settings: spec.settings.clone(),
        readonly: spec.readonly,
        verified_nodes,
    })
}

/// `POST _snapshot/<repo>/_verify`: the names of the nodes that can access the repository.
pub async fn repo_verify(t: &dyn EsTransport, opts: &EsOptions) -> Result<Vec<String>> {
    verify(t, opts, None).await
}

/// What a repository of `kind` needs on every node, for a failed verification.
fn verify_hint(kind: Option<&str>) -> &'static str {
    match kind {
        Some("fs") => {
            "Every node needs the location inside its path.repo setting, on a directory shared \
             by all nodes of both clusters and writable by the search engine's user"
        }
        Some("gcs") => {
            "Every node needs the GCS client credentials in its keystore \
             (gcs.client.<client>.credentials_file) and access to the bucket"
        }
        Some("azure") => {
            "Every node needs the Azure client account and key or SAS token in its keystore \
             (azure.client.<client>.account, .key or .sas_token) and access to the container"
        }
        _ => {
            "Every node needs the S3 client credentials in its keystore \
             (s3.client.<client>.access_key and secret_key) and access to the bucket"
        }
    }
}

async fn verify(t: &dyn EsTransport, opts: &EsOptions, kind: Option<&str>) -> Result<Vec<String>> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let (status, body) = c
        .send(
            Method::POST,
            &format!("_snapshot/{repo}/_verify"),
            None,
            Retry::Safe,
        )
        .await?;
    if status == 404 && error_type(&body) == Some("repository_missing_exception") {
        return Err(not_registered(repo, t));
    }
    if !(200..300).contains(&status) {
        // Name what the repository's type needs; ask ES for the type when the caller did not say.
        let registered = match kind {
            Some(_) => None,
            None => c
                .get(&format!("_snapshot/{repo}"))
                .await
                .ok()
                .and_then(|v| {
                    v.pointer(&format!("/{repo}/type"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }),
        };
        let kind = kind.or(registered.as_deref());
        return Err(Error::failed(format!(
            "repository {repo} failed verification in {}: {}. {}",
            t.describe(),
            error_reason(&body),
            verify_hint(kind)
        )));
    }
    let nodes = body
        .get("nodes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(id, n)| {
                    n.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or(id)
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(nodes)
}

/// The registration of `opts.repository` (`GET _snapshot/<repo>`).
pub async fn repo_show(t: &dyn EsTransport, opts: &EsOptions) -> Result<RepoReport> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let (status, body) = c
        .send(Method::GET, &format!("_snapshot/{repo}"), None, Retry::Safe)
        .await?;
    if status == 404 {
        return Err(not_registered(repo, t));
    }
    if !(200..300).contains(&status) {
        return Err(c.api(status, &body));
    }
    let entry = body.get(repo.as_str()).cloned().unwrap_or(Value::Null);
    let settings = entry
        .get("settings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let readonly = matches!(settings.get("readonly"), Some(Value::Bool(true)))
        || settings.get("readonly").and_then(Value::as_str) == Some("true");
    Ok(RepoReport {
        repository: repo.clone(),
        kind: entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        settings,
        readonly,
        verified_nodes: vec![],
    })
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// `GET _snapshot/<repo>/<name>`: `None` when the repository does not have (or show) it.
async fn lookup(c: &EsClient<'_>, name: &str) -> Result<Option<SnapshotInfo>> {
    let repo = &c.opts.repository;
    let (status, body) = c
        .send(
            Method::GET,
            &format!("_snapshot/{repo}/{name}"),
            None,
            Retry::Safe,
        )
        .await?;
    if status == 404 {
        return match error_type(&body) {
            Some("repository_missing_exception") => Err(not_registered(repo, c.transport)),
            _ => Ok(None),
        };
    }
    if !(200..300).contains(&status) {
        return Err(c.api(status, &body));
    }
    let info = body
        .pointer("/snapshots/0")
        .cloned()
        .map(serde_json::from_value::<SnapshotInfo>)
        .transpose()
        .map_err(|e| Error::failed(format!("unexpected snapshot description: {e}")))?;
    Ok(info.filter(|i| i.snapshot == name))
}

/// The name to use: the given one (validated) or `failback-<UTC timestamp>`.
pub fn snapshot_name(name: Option<&str>) -> Result<String> {
    match name {
        Some(n) => {
            validate_snapshot_name(n).map_err(Error::usage)?;
            Ok(n.to_string())
        }
        None => {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Ok(super::model::default_snapshot_name(secs))
        }
    }
}

/// The mutating call [`snapshot_create`] makes, for plans and `--dry-run`.
pub fn snapshot_create_calls(repository: &str, name: &str) -> Vec<String> {
    vec![format!(
        "PUT _snapshot/{repository}/{name} {}",
        json!({"include_global_state": true})
    )]
}

/// Create a snapshot with `include_global_state: true` (the global state carries the Camunda
/// index templates) and wait until it is `SUCCESS` with no failed shard. The request is started
/// asynchronously and polled (never `wait_for_completion` through exec). A name that already
/// exists is an error: c8dr never reuses or deletes a snapshot.
pub async fn snapshot_create(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<SnapshotReport> {
    let name = snapshot_name(name)?;
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    if let Some(existing) = lookup(&c, &name).await? {
        return Err(Error::failed(format!(
            "snapshot {name} already exists in repository {repo} ({}, started {}): choose another name",
            existing.state,
            existing
                .start_time
                .as_deref()
                .unwrap_or("at an unknown time")
        )));
    }
    let path = format!("_snapshot/{repo}/{name}");
    let body = json!({"include_global_state": true});
    let mut poller = c.poller(format!("snapshot {name} to complete"));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match c.send(Method::PUT, &path, Some(&body), Retry::Never).await {
            Ok((status, _)) if (200..300).contains(&status) => break,
            Ok((status, b)) => {
                return Err(Error::failed(format!(
                    "starting snapshot {name} in {}: HTTP {status}: {}",
                    t.describe(),
                    error_reason(&b)
                )));
            }
            // The request may have arrived before the stream was cut: look before resending.
            Err(e) if e.is_transient() => {
                if lookup(&c, &name).await?.is_some() {
                    break;
                }
                if attempt > opts.retries {
                    return Err(e);
                }
                poller.wait().await?;
            }
            Err(e) => return Err(e),
        }
    }
    loop {
        // `_status` gives creation progress; its `state` says SUCCESS for PARTIAL snapshots
        // too, so the outcome is judged from `GET _snapshot/<repo>/<name>`.
        let status = c.get(&format!("{path}/_status")).await?;
        let s = status
            .pointer("/snapshots/0")
            .cloned()
            .unwrap_or(Value::Null);
        let state = s.get("state").and_then(Value::as_str).unwrap_or("");
        let stats = |k: &str| {
            s.pointer(&format!("/shards_stats/{k}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let shards = Progress::units(stats("done") + stats("failed"), stats("total"));
        progress(Phase::Snapshot, shards);
        if !matches!(state, "INIT" | "STARTED" | "IN_PROGRESS" | "") {
            let info = lookup(&c, &name).await?.ok_or_else(|| {
                Error::failed(format!("snapshot {name} vanished from repository {repo}"))
            })?;
            match evaluate_snapshot(&info) {
                SnapshotVerdict::Running => {}
                SnapshotVerdict::Succeeded => {
                    progress(
                        Phase::Snapshot,
                        Progress::units(info.shards.total, info.shards.total),
                    );
                    return Ok(SnapshotReport {
                        repository: repo.clone(),
                        snapshot: info,
                        waited_ms: ms(poller.elapsed()),
                    });
                }
                SnapshotVerdict::Failed(m) => return Err(Error::failed(m)),
            }
        }
        poller
            .wait_eta(eta(poller.elapsed(), shards.percent))
            .await?;
    }
}

/// `GET _snapshot/<repo>/_all`.
pub async fn snapshot_list(t: &dyn EsTransport, opts: &EsOptions) -> Result<SnapshotList> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let (status, body) = c
        .send(
            Method::GET,
            &format!("_snapshot/{repo}/_all"),
            None,
            Retry::Safe,
        )
        .await?;
    if status == 404 {
        return Err(not_registered(repo, t));
    }
    if !(200..300).contains(&status) {
        return Err(c.api(status, &body));
    }
    let snapshots = body
        .get("snapshots")
        .cloned()
        .map(serde_json::from_value::<Vec<SnapshotInfo>>)
        .transpose()
        .map_err(|e| Error::failed(format!("unexpected snapshot list: {e}")))?
        .unwrap_or_default();
    Ok(SnapshotList {
        repository: repo.clone(),
        snapshots,
    })
}

fn snapshot_not_found(name: &str, repo: &str, t: &dyn EsTransport) -> Error {
    Error::failed(format!(
        "snapshot {name} not found in repository {repo} of {}. If another cluster wrote it, \
         register the repository here read-only (a writable registration caches the \
         repository's contents and may not show it)",
        t.describe()
    ))
}

/// One snapshot's description.
pub async fn snapshot_show(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
) -> Result<SnapshotInfo> {
    let c = EsClient::new(t, opts);
    lookup(&c, name)
        .await?
        .ok_or_else(|| snapshot_not_found(name, &opts.repository, t))
}

// ---------------------------------------------------------------------------------------------
// Restore

async fn cat_indices(c: &EsClient<'_>) -> Result<Vec<CatIndex>> {
    let v = c.get("_cat/indices?format=json").await?;
    serde_json::from_value(v).map_err(|e| Error::failed(format!("unexpected _cat/indices: {e}")))
}

async fn camunda_docs(c: &EsClient<'_>) -> Result<BTreeMap<String, Option<u64>>> {
    Ok(cat_indices(c)
        .await?
        .into_iter()
        .filter(|i| is_camunda_index(&i.index))
        .map(|i| (i.index, i.docs_count))
        .collect())
}

/// Delete exactly `names` (ES 8 refuses wildcards anyway). A retried request may find some
/// already gone: the remaining ones are listed again each round.
async fn delete_indices(c: &EsClient<'_>, names: &[String]) -> Result<()> {
    for _ in 0..=c.opts.retries {
        let existing: BTreeSet<String> =
            cat_indices(c).await?.into_iter().map(|i| i.index).collect();
        let remaining: Vec<&String> = names.iter().filter(|n| existing.contains(*n)).collect();
        if remaining.is_empty() {
            return Ok(());
        }
        let mut missing = false;
        for chunk in remaining.chunks(DELETE_CHUNK) {
            let list: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
            let (status, body) = c
                .send(Method::DELETE, &list.join(","), None, Retry::Safe)
                .await?;
            if status == 404 {
                missing = true;
            } else if !(200..300).contains(&status) {
                return Err(c.api(status, &body));
            }
        }
        if !missing {
            return Ok(());
        }
    }
    Err(Error::failed(
        "indices kept disappearing while c8dr deleted them: is something else deleting them?",
    ))
}

/// How a followed restore ended.
#[derive(Debug, Clone, PartialEq)]
struct RestoreEnd {
    health: String,
    shard_copies: u64,
    unassigned_replicas: u64,
    data_nodes: u64,
}

/// Data nodes of the cluster (`_cluster/health` `number_of_data_nodes`) and its status.
async fn health(c: &EsClient<'_>) -> Result<(u64, String)> {
    let health = c.get("_cluster/health").await?;
    let nodes = health
        .get("number_of_data_nodes")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let status = health
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    Ok((nodes, status))
}

/// The shard layout (`pri`, `rep` of `_cat/indices`) of each of `indices`; `None` for an index
/// not (yet) listed.
fn layouts(cat: &[CatIndex], indices: &BTreeSet<String>) -> BTreeMap<String, Option<ShardLayout>> {
    indices
        .iter()
        .map(|i| {
            let layout = cat
                .iter()
                .find(|r| &r.index == i)
                .and_then(CatIndex::layout);
            (i.clone(), layout)
        })
        .collect()
}

/// Follow a restore through `_recovery`, `_cat/indices` and `_cluster/health` (never
/// `_snapshot/…/_status`, which reports the snapshot's creation) until every shard copy of the
/// snapshot's indices is recovered: each index's `number_of_shards` primaries restored from the
/// snapshot, then each replica the cluster can allocate (ES never allocates two copies of a
/// shard on one node: `min(number_of_replicas, data nodes - 1)` per primary). Done when those
/// copies are all DONE and the cluster is green, or yellow only because replicas cannot be
/// allocated on its data nodes. Progress is shard copies done over expected (SPEC 3.5).
async fn follow_restore(
    c: &EsClient<'_>,
    name: &str,
    indices: &BTreeSet<String>,
    progress: ProgressFn<'_>,
) -> Result<RestoreEnd> {
    let mut poller = c.poller(format!("the restore of snapshot {name} to complete"));
    let (mut data_nodes, _) = health(c).await?;
    let mut layout = layouts(&cat_indices(c).await?, indices);
    loop {
        if layout.values().any(Option::is_none) {
            // The restore creates every index at once; re-read until they are all listed.
            layout = layouts(&cat_indices(c).await?, indices);
        }
        let recs = parse_recovery(&c.get("_recovery").await?);
        let p = restore_progress(&recs, &layout, data_nodes);
        progress(Phase::Restore, p);
        if p.done == p.total {
            let (nodes, status) = health(c).await?;
            if nodes != data_nodes {
                // A node joined or left: the expected copies change.
                data_nodes = nodes;
                continue;
            }
            let unassigned_replicas: u64 = layout
                .values()
                .flatten()
                .map(|l| l.unassignable_replicas(data_nodes))
                .sum();
            let complete = status == "green" || (status == "yellow" && unassigned_replicas > 0);
            if complete {
                return Ok(RestoreEnd {
                    health: status,
                    shard_copies: p.total,
                    unassigned_replicas,
                    data_nodes,
                });
            }
        }
        // A timeout says how far the restore got.
        poller
            .wait_eta(eta(poller.elapsed(), p.percent))
            .await
            .map_err(|e| match e {
                Error::Timeout { what, after } => Error::Timeout {
                    what: format!(
                        "{what} ({} of {} shard copies recovered on {data_nodes} data node(s))",
                        p.done, p.total
                    ),
                    after,
                },
                other => other,
            })?;
    }
}

/// What a restore would do, found with reads only (for the plan, `--dry-run` and the prompt).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestorePreview {
    pub repository: String,
    pub snapshot: SnapshotInfo,
    /// The snapshot is already restored here (or its restore is running): nothing to do.
    pub already_restored: bool,
    /// Camunda indices that will be deleted first (`delete_existing` only).
    pub delete_indices: Vec<String>,
    pub restore_indices: Vec<String>,
    /// What the target runs (`GET /`): decides whether the restore may name feature states.
    pub distribution: Distribution,
    /// The mutating calls, in order.
    pub calls: Vec<String>,
}

/// The checks of a restore (reads only). Refusals and unusable snapshots are errors here.
async fn check_restore(
    c: &EsClient<'_>,
    name: &str,
    delete_existing: bool,
) -> Result<RestorePreview> {
    let t = c.transport;
    let repo = &c.opts.repository;
    let info = lookup(c, name)
        .await?
        .ok_or_else(|| snapshot_not_found(name, repo, t))?;
    match evaluate_snapshot(&info) {
        SnapshotVerdict::Succeeded => {}
        SnapshotVerdict::Running => {
            return Err(Error::failed(format!(
                "snapshot {name} is still in progress: wait for it to succeed first"
            )));
        }
        SnapshotVerdict::Failed(m) => {
            return Err(Error::failed(format!("cannot restore: {m}")));
        }
    }
    if !info.include_global_state {
        // Restoring global state from a snapshot without it silently does nothing
        // (elastic/elasticsearch#82019), and Camunda then lacks its index templates.
        return Err(Error::refused(format!(
            "snapshot {name} was taken without the global state (include_global_state: false): \
             it lacks the Camunda index templates. Take a new snapshot with c8dr"
        )));
    }
    // Hidden/system indices (leading dot) are not restored by the default index selection.
    let indices: BTreeSet<String> = info
        .indices
        .iter()
        .filter(|i| !i.starts_with('.'))
        .cloned()
        .collect();
    let cat = cat_indices(c).await?;
    let recs = parse_recovery(&c.get("_recovery").await?);
    let origins = index_origins(&cat, &recs);
    let distribution = detect_with(c).await?;
    let restore_call = format!(
        "POST _snapshot/{repo}/{name}/_restore {}",
        restore_body(c.opts, &distribution)
    );
    let mut preview = RestorePreview {
        repository: repo.clone(),
        snapshot: info,
        already_restored: false,
        delete_indices: vec![],
        restore_indices: indices.iter().cloned().collect(),
        distribution,
        calls: vec![],
    };
    match plan_restore(repo, name, &indices, &origins) {
        RestorePlan::AlreadyRestored { .. } => preview.already_restored = true,
        RestorePlan::Conflicts { camunda, other } => {
            if !other.is_empty() {
                return Err(Error::refused(format!(
                    "indices of snapshot {name} already exist in {} and are not Camunda indices: \
                     {}. c8dr never deletes them; delete or close them yourself",
                    t.describe(),
                    other.join(", ")
                )));
            }
            if !delete_existing {
                return Err(existing_camunda_refusal(t, &camunda));
            }
            for chunk in camunda.chunks(DELETE_CHUNK) {
                preview.calls.push(format!("DELETE /{}", chunk.join(",")));
            }
            preview.delete_indices = camunda;
            preview.calls.push(restore_call);
        }
        RestorePlan::Restore => preview.calls.push(restore_call),
    }
    Ok(preview)
}

const DELETE_CHUNK: usize = 20;

/// The `_restore` body: always the global state (the Camunda templates), and the feature states
/// [`EsOptions::restore_feature_states`] names (ES restores all of them by default, including
/// the security index, which would replace the recreated cluster's users).
/// OpenSearch has no feature states and rejects the key (a 400): it is never sent there.
fn restore_body(opts: &EsOptions, dist: &Distribution) -> Value {
    let mut body = json!({"include_global_state": true});
    if let Some(states) = &opts.restore_feature_states
        && dist.has_feature_states()
    {
        body["feature_states"] = json!(states);
    }
    body
}

/// What the cluster runs, from `GET /` (Elasticsearch or OpenSearch; see
/// [`super::model::parse_distribution`]). An answer that is not a 2xx is an error.
pub async fn detect(t: &dyn EsTransport, opts: &EsOptions) -> Result<Distribution> {
    detect_with(&EsClient::new(t, opts)).await
}

async fn detect_with(c: &EsClient<'_>) -> Result<Distribution> {
    let dist = parse_distribution(&c.get("").await?);
    tracing::debug!(engine = %dist.describe(), "search engine");
    Ok(dist)
}

fn existing_camunda_refusal(t: &dyn EsTransport, camunda: &[String]) -> Error {
    Error::refused(format!(
        "{} already has {} Camunda indices: {}. The restore would fail on them (the schema \
         manager probably ran: was CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false set in \
         failback step 1?). Re-run with --delete-existing-indices to delete exactly these indices there \
         first",
        t.describe(),
        camunda.len(),
        camunda.join(", ")
    ))
}

/// What [`snapshot_restore`] would do, with reads only; refusals are the same errors.
pub async fn snapshot_restore_preview(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
    delete_existing: bool,
) -> Result<RestorePreview> {
    check_restore(&EsClient::new(t, opts), name, delete_existing).await
}

/// Restore snapshot `name` with `include_global_state: true` and wait until it is complete.
///
/// Checks first: the snapshot exists, succeeded, and carries the global state (else refused:
/// the Camunda templates would be missing). Existing Camunda indices (`operate-*`, `tasklist-*`,
/// `camunda-*`) make the restore fail in ES, so c8dr refuses (exit 3, listing them) unless
/// `delete_existing`, which deletes exactly those indices (never any other; non-Camunda indices
/// in the way are always refused). A snapshot already restored here (see
/// [`super::model::plan_restore`] for the rule) is reported as `already-restored`; a restore
/// that is still running is followed to its end.
///
/// `delete_existing` must only ever be offered for the recreated region: this function cannot
/// know which region it talks to.
pub async fn snapshot_restore(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
    delete_existing: bool,
    progress: ProgressFn<'_>,
) -> Result<RestoreReport> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let started = tokio::time::Instant::now();
    let preview = check_restore(&c, name, delete_existing).await?;
    let indices: BTreeSet<String> = preview.restore_indices.iter().cloned().collect();
    if preview.already_restored {
        let end = follow_restore(&c, name, &indices, progress).await?;
        return Ok(RestoreReport {
            repository: repo.clone(),
            snapshot: name.to_string(),
            outcome: RestoreOutcome::AlreadyRestored,
            deleted_indices: vec![],
            restored_indices: preview.restore_indices,
            health: end.health,
            shard_copies: end.shard_copies,
            unassigned_replicas: end.unassigned_replicas,
            data_nodes: end.data_nodes,
            waited_ms: ms(started.elapsed()),
        });
    }
    if !preview.delete_indices.is_empty() {
        tracing::info!(
            count = preview.delete_indices.len(),
            "deleting existing Camunda indices before the restore"
        );
        delete_indices(&c, &preview.delete_indices).await?;
    }
    let path = format!("_snapshot/{repo}/{name}/_restore");
    let body = restore_body(opts, &preview.distribution);
    let mut backoff = c.poller(format!("starting the restore of {name}"));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match c.send(Method::POST, &path, Some(&body), Retry::Never).await {
            Ok((status, _)) if (200..300).contains(&status) => break,
            Ok((status, b)) => {
                return Err(Error::failed(format!(
                    "restoring snapshot {name} in {}: HTTP {status}: {}",
                    t.describe(),
                    error_reason(&b)
                )));
            }
            // The request may have arrived before the stream was cut: look before resending.
            Err(e) if e.is_transient() => {
                let recs = parse_recovery(&c.get("_recovery").await?);
                if recs
                    .iter()
                    .any(|r| indices.contains(&r.index) && r.from_snapshot(repo, name))
                {
                    break;
                }
                if attempt > opts.retries {
                    return Err(e);
                }
                backoff.wait().await?;
            }
            Err(e) => return Err(e),
        }
    }
    let end = follow_restore(&c, name, &indices, progress).await?;
    Ok(RestoreReport {
        repository: repo.clone(),
        snapshot: name.to_string(),
        outcome: RestoreOutcome::Restored,
        deleted_indices: preview.delete_indices,
        restored_indices: preview.restore_indices,
        health: end.health,
        shard_copies: end.shard_copies,
        unassigned_replicas: end.unassigned_replicas,
        data_nodes: end.data_nodes,
        waited_ms: ms(started.elapsed()),
    })
}

// ---------------------------------------------------------------------------------------------
// Copy

fn compare(
    source: &BTreeMap<String, Option<u64>>,
    target: &BTreeMap<String, Option<u64>>,
) -> Vec<IndexComparison> {
    let names: BTreeSet<&String> = source.keys().chain(target.keys()).collect();
    names
        .into_iter()
        .map(|n| IndexComparison {
            index: n.clone(),
            source_docs: source.get(n).copied().flatten(),
            target_docs: target.get(n).copied().flatten(),
        })
        .collect()
}

/// What [`copy`] would do, found with reads only (for the plan, `--dry-run` and the prompt).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyPreview {
    /// The snapshot name that will be used: pass it back in [`CopySpec::snapshot`] so that the
    /// copy uses the name the plan showed.
    pub snapshot: String,
    /// The source's Camunda indices and their document counts.
    pub source_indices: BTreeMap<String, Option<u64>>,
    /// The target's Camunda indices now.
    pub target_indices: Vec<String>,
    /// The target already holds exactly the source's Camunda indices, restored from a snapshot.
    pub already_done: bool,
    /// A restore of this snapshot into the target is running (an interrupted copy): the copy
    /// follows it instead of starting over.
    pub resume_restore: Option<String>,
    /// Camunda indices of the target that will be deleted (`delete_existing` only).
    pub delete_indices: Vec<String>,
    /// The mutating calls, in order, each prefixed with `source:` or `target:`.
    pub calls: Vec<String>,
}

/// The checks of a copy (reads only).
async fn check_copy(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
    spec: &CopySpec,
) -> Result<(CopyPreview, Vec<IndexComparison>)> {
    let name = snapshot_name(spec.snapshot.as_deref())?;
    let repo = &opts.repository;
    let src = EsClient::new(source, opts);
    let tgt = EsClient::new(target, opts);
    let source_docs = camunda_docs(&src).await?;
    if source_docs.is_empty() {
        return Err(Error::refused(format!(
            "{} has no Camunda indices: nothing to copy (are source and target swapped?)",
            source.describe()
        )));
    }
    let target_docs = camunda_docs(&tgt).await?;
    let comparison = compare(&source_docs, &target_docs);
    let mut preview = CopyPreview {
        snapshot: name.clone(),
        source_indices: source_docs,
        target_indices: target_docs.keys().cloned().collect(),
        already_done: false,
        resume_restore: None,
        delete_indices: vec![],
        calls: vec![],
    };
    if !target_docs.is_empty() {
        let cat = cat_indices(&tgt).await?;
        let recs = parse_recovery(&tgt.get("_recovery").await?);
        let all_origins = index_origins(&cat, &recs);
        // The snapshot (of this repository) each target Camunda index was restored from.
        let origins: Vec<&Origin> = target_docs
            .keys()
            .filter_map(|i| all_origins.get(i))
            .collect();
        fn restored_from<'o>(o: &'o Origin, repo: &str) -> Option<(&'o str, bool)> {
            match o {
                Origin::Snapshot {
                    repository,
                    snapshot,
                    primaries_done,
                } if repository == repo => Some((snapshot.as_str(), *primaries_done)),
                _ => None,
            }
        }
        // Done only when every shard copy is: the primaries and the replicas recovered from them.
        let names: BTreeSet<String> = target_docs.keys().cloned().collect();
        let (data_nodes, _) = health(&tgt).await?;
        let copies = restore_progress(&recs, &layouts(&cat, &names), data_nodes);
        let all_restored = origins.len() == target_docs.len()
            && origins
                .iter()
                .all(|o| restored_from(o, repo).is_some_and(|(_, done)| done))
            && copies.done == copies.total;
        if all_restored && comparison.iter().all(IndexComparison::equal) {
            preview.already_done = true;
            return Ok((preview, comparison));
        }
        // Indices still waiting for their turn (unassigned) belong to the running restore.
        let snapshots: BTreeSet<Option<&str>> = origins
            .iter()
            .filter(|o| ***o != Origin::Unassigned)
            .map(|o| restored_from(o, repo).map(|(s, _)| s))
            .collect();
        let same_names = target_docs.keys().eq(preview.source_indices.keys());
        if let [Some(running)] = snapshots.into_iter().collect::<Vec<_>>().as_slice()
            && same_names
            && !all_restored
        {
            preview.resume_restore = Some(running.to_string());
            preview.snapshot = running.to_string();
            preview.calls.push(format!(
                "target: (none: follow the running restore of {running})"
            ));
            return Ok((preview, comparison));
        }
        if !spec.delete_existing {
            return Err(existing_camunda_refusal(target, &preview.target_indices));
        }
        preview.delete_indices = preview.target_indices.clone();
    }
    let writable = spec.repo.clone().with_readonly(false);
    let readonly = spec.repo.clone().with_readonly(true);
    let calls = &mut preview.calls;
    calls.extend(
        writable
            .plan(repo)
            .into_iter()
            .map(|c| format!("source: {c}")),
    );
    calls.push(format!(
        "source: PUT _snapshot/{repo}/{name} {}",
        json!({"include_global_state": true})
    ));
    calls.extend(
        readonly
            .plan(repo)
            .into_iter()
            .map(|c| format!("target: {c}")),
    );
    for chunk in preview.delete_indices.chunks(DELETE_CHUNK) {
        calls.push(format!("target: DELETE /{}", chunk.join(",")));
    }
    let target_engine = detect_with(&tgt).await?;
    calls.push(format!(
        "target: POST _snapshot/{repo}/{name}/_restore {}",
        restore_body(opts, &target_engine)
    ));
    Ok((preview, comparison))
}

/// What [`copy`] would do, with reads only; refusals are the same errors.
pub async fn copy_preview(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
    spec: &CopySpec,
) -> Result<CopyPreview> {
    Ok(check_copy(source, target, opts, spec).await?.0)
}

/// The whole failback step 4: register the repository writable on the source and verify it,
/// snapshot the source, register it read-only on the target and verify it, wait until the
/// snapshot is visible there, restore it (refusing existing Camunda indices unless
/// `delete_existing`), then check the target's Camunda indices equal the source's (names and
/// document counts; exporting is paused during failback, so they must match).
///
/// Refused before anything is written: a source without Camunda indices (source and target
/// swapped?), and a target with Camunda indices without `delete_existing`. Re-running after a
/// completed copy reports `already-done` when the target holds exactly the source's Camunda
/// indices, all restored from a snapshot.
pub async fn copy(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
    spec: &CopySpec,
    progress: ProgressFn<'_>,
) -> Result<CopyReport> {
    let (preview, comparison) = check_copy(source, target, opts, spec).await?;
    if preview.already_done {
        return Ok(CopyReport {
            outcome: CopyOutcome::AlreadyDone,
            source_repository: None,
            target_repository: None,
            snapshot: None,
            restore: None,
            indices: comparison,
        });
    }
    let name = preview.snapshot.clone();
    let tgt = EsClient::new(target, opts);
    if let Some(running) = &preview.resume_restore {
        let restore =
            snapshot_restore(target, opts, running, spec.delete_existing, progress).await?;
        let indices = verify_copy(&tgt, running, &preview.source_indices).await?;
        return Ok(CopyReport {
            outcome: CopyOutcome::Resumed,
            source_repository: None,
            target_repository: None,
            snapshot: None,
            restore: Some(restore),
            indices,
        });
    }
    let writable = spec.repo.clone().with_readonly(false);
    let source_repo = repo_register(source, opts, &writable).await?;
    let snapshot = snapshot_create(source, opts, Some(&name), progress).await?;
    let readonly = spec.repo.clone().with_readonly(true);
    let target_repo = repo_register(target, opts, &readonly).await?;
    // A read-only registration re-reads the repository, so the snapshot should be visible at
    // once; re-register (as the reference CI does) if it is not.
    let mut poller = tgt.poller(format!(
        "snapshot {name} to be visible in {}",
        target.describe()
    ));
    let mut misses = 0;
    while lookup(&tgt, &name).await?.is_none() {
        misses += 1;
        if misses % 3 == 0 {
            repo_register(target, opts, &readonly).await?;
        }
        poller.wait().await?;
    }
    let restore = snapshot_restore(target, opts, &name, spec.delete_existing, progress).await?;
    let comparison = verify_copy(&tgt, &name, &preview.source_indices).await?;
    Ok(CopyReport {
        outcome: CopyOutcome::Copied,
        source_repository: Some(source_repo),
        target_repository: Some(target_repo),
        snapshot: Some(snapshot),
        restore: Some(restore),
        indices: comparison,
    })
}

/// The target's Camunda indices must equal the source's (names and document counts).
async fn verify_copy(
    tgt: &EsClient<'_>,
    name: &str,
    source_docs: &BTreeMap<String, Option<u64>>,
) -> Result<Vec<IndexComparison>> {
    let target_docs = camunda_docs(tgt).await?;
    let comparison = compare(source_docs, &target_docs);
    let differing: Vec<String> = comparison
        .iter()
        .filter(|c| !c.equal())
        .map(|c| {
            let show = |d: Option<u64>| d.map_or("missing".to_string(), |n| format!("{n} docs"));
            format!(
                "{} (source {}, target {})",
                c.index,
                show(c.source_docs),
                show(c.target_docs)
            )
        })
        .collect();
    if !differing.is_empty() {
        return Err(Error::failed(format!(
            "after restoring {name}, the target's Camunda indices differ from the source's: {}. \
             Was exporting paused (failback step 3)?",
            differing.join("; ")
        )));
    }
    Ok(comparison)
}

// ---------------------------------------------------------------------------------------------
// Status

/// One cluster's Elasticsearch state for `status` (reads only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EsStatus {
    /// `green`, `yellow` or `red`.
    pub health: String,
    pub indices: usize,
    /// Camunda indices with their document counts (`None` while not recovered).
    pub camunda_indices: BTreeMap<String, Option<u64>>,
    /// The snapshot every Camunda index was restored from, when they all share one.
    pub restored_from: Option<String>,
    /// A restore is still recovering shards.
    pub restoring: bool,
}

/// Health, Camunda indices and restore state of a cluster (what `status` shows and what phase
/// detection needs: empty / schema-manager indices / restoring / restored).
pub async fn cluster_status(t: &dyn EsTransport, opts: &EsOptions) -> Result<EsStatus> {
    let c = EsClient::new(t, opts);
    let health = c.get("_cluster/health").await?;
    let cat = cat_indices(&c).await?;
    let recs = parse_recovery(&c.get("_recovery").await?);
    let camunda_indices: BTreeMap<String, Option<u64>> = cat
        .iter()
        .filter(|i| is_camunda_index(&i.index))
        .map(|i| (i.index.clone(), i.docs_count))
        .collect();
    let all_origins = index_origins(&cat, &recs);
    let origins: BTreeSet<Option<&str>> = camunda_indices
        .keys()
        .filter_map(|i| all_origins.get(i))
        .filter(|o| **o != Origin::Unassigned)
        .map(|o| match o {
            Origin::Snapshot { snapshot, .. } => Some(snapshot.as_str()),
            _ => None,
        })
        .collect();
    let restored_from = match origins.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(name)] => Some(name.to_string()),
        _ => None,
    };
    // A restore runs while a shard copy of a restored index still recovers (its primaries from
    // the snapshot, then its replicas from them) or waits for its turn.
    let restoring = recs.iter().any(|r| r.kind == "SNAPSHOT" && !r.done())
        || (restored_from.is_some()
            && (recs
                .iter()
                .any(|r| camunda_indices.contains_key(&r.index) && !r.done())
                || all_origins.values().any(|o| *o == Origin::Unassigned)));
    Ok(EsStatus {
        health: health
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        indices: cat.len(),
        camunda_indices,
        restored_from,
        restoring,
    })
}
