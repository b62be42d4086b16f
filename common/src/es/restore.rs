//! Restoring a snapshot: the checks (reads only, the same refusals as the run), deleting the
//! Camunda indices in the way when allowed, the one restore request, and following the restore
//! until every shard copy is recovered.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::client::{EsClient, EsOptions, Retry};
use super::cluster::{cat_indices, detect_with, health};
use super::model::{
    CatIndex, Distribution, RestorePlan, ShardLayout, SnapshotInfo, SnapshotVerdict,
    evaluate_snapshot, index_origins, parse_recovery, plan_restore, restore_progress,
};
use super::progress::{ProgressFn, ProgressOf, eta, ms};
use super::snapshot::{lookup, snapshot_not_found};
use super::transport::EsTransport;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreOutcome {
    Restored,
    /// The snapshot had been restored already (or its restore was running and was followed).
    AlreadyRestored,
}

/// A finished restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// The shard layout (`pri`, `rep` of `_cat/indices`) of each of `indices`; `None` for an index
/// not (yet) listed.
pub(super) fn layouts(
    cat: &[CatIndex],
    indices: &BTreeSet<String>,
) -> BTreeMap<String, Option<ShardLayout>> {
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
/// allocated on its data nodes. Progress is shard copies done over expected (docs/api-behaviour.md §5).
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
        progress(ProgressOf::Restore, p);
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
#[serde(rename_all = "camelCase")]
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

pub(super) const DELETE_CHUNK: usize = 20;

/// The `_restore` body: always the global state (the Camunda templates), and the feature states
/// [`EsOptions::restore_feature_states`] names (ES restores all of them by default, including
/// the security index, which would replace the recreated cluster's users).
/// OpenSearch has no feature states and rejects the key (a 400): it is never sent there.
pub(super) fn restore_body(opts: &EsOptions, dist: &Distribution) -> Value {
    let mut body = json!({"include_global_state": true});
    if let Some(states) = &opts.restore_feature_states
        && dist.has_feature_states()
    {
        body["feature_states"] = json!(states);
    }
    body
}

pub(super) fn existing_camunda_refusal(t: &dyn EsTransport, camunda: &[String]) -> Error {
    Error::refused(format!(
        "{} already has {} Camunda indices: {}. The restore would fail on them (the schema \
         manager probably ran: was CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false set in \
         {}?). Re-run with --delete-existing-indices to delete exactly these indices there first",
        t.describe(),
        camunda.len(),
        camunda.join(", "),
        crate::procedure::Action::InstallRecreated.step().named()
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

/// A restore the target accepted: started by [`restore_start`], or found done or running there.
/// Its global state (templates, persistent cluster settings) is in place from then on.
#[derive(Debug, Clone)]
pub struct RestoreStarted {
    preview: RestorePreview,
    outcome: RestoreOutcome,
    indices: BTreeSet<String>,
    started: tokio::time::Instant,
}

/// Restore snapshot `name` with `include_global_state: true` and wait until it is complete:
/// [`restore_start`], then [`restore_follow`].
pub async fn snapshot_restore(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
    delete_existing: bool,
    progress: ProgressFn<'_>,
) -> Result<RestoreReport> {
    let started = restore_start(t, opts, name, delete_existing).await?;
    restore_follow(t, opts, started, progress).await
}

/// Start the restore of snapshot `name` with `include_global_state: true`; returns once the
/// target accepted it.
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
pub async fn restore_start(
    t: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
    delete_existing: bool,
) -> Result<RestoreStarted> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let started = tokio::time::Instant::now();
    let preview = check_restore(&c, name, delete_existing).await?;
    let indices: BTreeSet<String> = preview.restore_indices.iter().cloned().collect();
    // A restore already done (or running) is followed, not started again.
    let outcome = if preview.already_restored {
        RestoreOutcome::AlreadyRestored
    } else {
        if !preview.delete_indices.is_empty() {
            tracing::info!(
                count = preview.delete_indices.len(),
                "deleting existing Camunda indices before the restore"
            );
            delete_indices(&c, &preview.delete_indices).await?;
        }
        let path = format!("_snapshot/{repo}/{name}/_restore");
        let body = restore_body(opts, &preview.distribution);
        let mut poller = c.poller(format!("starting the restore of {name}"));
        c.submit_once(
            Method::POST,
            &path,
            &body,
            &format!("restoring snapshot {name}"),
            &mut poller,
            || async {
                let recs = parse_recovery(&c.get("_recovery").await?);
                Ok(recs
                    .iter()
                    .any(|r| indices.contains(&r.index) && r.from_snapshot(repo, name)))
            },
        )
        .await?;
        RestoreOutcome::Restored
    };
    Ok(RestoreStarted {
        preview,
        outcome,
        indices,
        started,
    })
}

/// Follow an accepted restore until every shard copy is recovered; its report.
pub async fn restore_follow(
    t: &dyn EsTransport,
    opts: &EsOptions,
    started: RestoreStarted,
    progress: ProgressFn<'_>,
) -> Result<RestoreReport> {
    let c = EsClient::new(t, opts);
    let name = started.preview.snapshot.snapshot.clone();
    let end = follow_restore(&c, &name, &started.indices, progress).await?;
    let preview = started.preview;
    Ok(RestoreReport {
        repository: opts.repository.clone(),
        snapshot: name,
        outcome: started.outcome,
        // Empty when already restored: nothing was deleted.
        deleted_indices: preview.delete_indices,
        restored_indices: preview.restore_indices,
        health: end.health,
        shard_copies: end.shard_copies,
        unassigned_replicas: end.unassigned_replicas,
        data_nodes: end.data_nodes,
        waited_ms: ms(started.started.elapsed()),
    })
}
