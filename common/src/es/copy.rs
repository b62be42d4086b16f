//! The failback's whole Elasticsearch copy step: snapshot the source, restore into the target, check the target's
//! Camunda indices equal the source's.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use super::client::{EsClient, EsOptions};
use super::cluster::{camunda_docs, cat_indices, detect_with, health};
use super::model::{Origin, index_origins, parse_recovery, restore_progress};
use super::progress::ProgressFn;
use super::repo::{RepoReport, RepoSpec, repo_register};
use super::restore::{
    DELETE_CHUNK, RestoreReport, RestoreStarted, existing_camunda_refusal, layouts, restore_body,
    restore_follow, restore_start,
};
use super::snapshot::{SnapshotReport, lookup, snapshot_name};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// One Camunda index compared between source and target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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
    /// `--snapshot-rate`: the source repository's `max_snapshot_bytes_per_sec` while this
    /// copy's snapshot uploads; the registration without it is put back right after.
    pub snapshot_rate: Option<String>,
}

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
#[serde(rename_all = "camelCase")]
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
    super::snapshot::check_no_red(&src).await?;
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
    // A registration of the user's elsewhere is refused by the run: so is it here.
    super::repo::repo_check(source, opts, &writable).await?;
    super::repo::repo_check(target, opts, &readonly).await?;
    let calls = &mut preview.calls;
    calls.extend(
        writable
            .plan(repo)
            .into_iter()
            .map(|c| format!("source: {c}")),
    );
    let (before, after) =
        super::precopy::rate_calls(repo, &writable, spec.snapshot_rate.as_deref());
    calls.extend(before);
    calls.push(format!(
        "source: PUT _snapshot/{repo}/{name} {}",
        json!({"include_global_state": true})
    ));
    calls.extend(after);
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

/// How [`copy_start`] left the copy.
#[derive(Debug, Clone)]
pub enum CopyStart {
    /// Nothing to do: the target already held exactly the source's Camunda indices.
    Done(Box<CopyReport>),
    /// The target accepted the restore (or one was running there): follow it with
    /// [`copy_finish`]. The restore's global state, the snapshot's persistent cluster settings
    /// included, is in place on the target from now on.
    Restoring(Box<CopyInFlight>),
}

/// A copy whose restore the target accepted.
#[derive(Debug, Clone)]
pub struct CopyInFlight {
    outcome: CopyOutcome,
    name: String,
    source_indices: BTreeMap<String, Option<u64>>,
    source_repository: Option<RepoReport>,
    target_repository: Option<RepoReport>,
    snapshot: Option<SnapshotReport>,
    restore: RestoreStarted,
}

/// The whole copy step: [`copy_start`], then [`copy_finish`].
pub async fn copy(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
    spec: &CopySpec,
    progress: ProgressFn<'_>,
) -> Result<CopyReport> {
    match copy_start(source, target, opts, spec, progress).await? {
        CopyStart::Done(report) => Ok(*report),
        CopyStart::Restoring(inflight) => copy_finish(target, opts, *inflight, progress).await,
    }
}

/// The whole copy step up to the restore's acceptance: register the repository writable
/// on the source and verify it, snapshot the source, register it read-only on the target and
/// verify it, wait until the snapshot is visible there, start the restore (refusing existing
/// Camunda indices unless `delete_existing`). [`copy_finish`] follows the restore and checks
/// the target's Camunda indices equal the source's (names and document counts; exporting is
/// paused during failback, so they must match).
///
/// Refused before anything is written: a source without Camunda indices (source and target
/// swapped?), and a target with Camunda indices without `delete_existing`. Re-running after a
/// completed copy reports `already-done` when the target holds exactly the source's Camunda
/// indices, all restored from a snapshot.
pub async fn copy_start(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
    spec: &CopySpec,
    progress: ProgressFn<'_>,
) -> Result<CopyStart> {
    let (preview, comparison) = check_copy(source, target, opts, spec).await?;
    if preview.already_done {
        return Ok(CopyStart::Done(Box::new(CopyReport {
            outcome: CopyOutcome::AlreadyDone,
            source_repository: None,
            target_repository: None,
            snapshot: None,
            restore: None,
            indices: comparison,
        })));
    }
    let name = preview.snapshot.clone();
    let tgt = EsClient::new(target, opts);
    if let Some(running) = &preview.resume_restore {
        let restore = restore_start(target, opts, running, spec.delete_existing).await?;
        return Ok(CopyStart::Restoring(Box::new(CopyInFlight {
            outcome: CopyOutcome::Resumed,
            name: running.clone(),
            source_indices: preview.source_indices,
            source_repository: None,
            target_repository: None,
            snapshot: None,
            restore,
        })));
    }
    let writable = spec.repo.clone().with_readonly(false);
    let source_repo = repo_register(source, opts, &writable).await?;
    let snapshot = super::precopy::snapshot_at_rate(
        source,
        opts,
        &name,
        spec.snapshot_rate.as_deref(),
        progress,
    )
    .await;
    // A snapshot that ends PARTIAL or FAILED: nothing was restored; say what to do.
    let snapshot = snapshot.map_err(|e| match e {
        Error::Failed(m) => Error::Failed(format!(
            "{m}; nothing was restored into {}: once the cause is fixed (the shards' reasons \
             above, `kubectl c8dr es status --region surviving`), run the same command again: \
             it takes a new snapshot ({name} stays in repository {}: \
             DELETE _snapshot/{}/{name} once no longer needed)",
            target.describe(),
            opts.repository,
            opts.repository
        )),
        other => other,
    })?;
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
    let restore = restore_start(target, opts, &name, spec.delete_existing).await?;
    Ok(CopyStart::Restoring(Box::new(CopyInFlight {
        outcome: CopyOutcome::Copied,
        name,
        source_indices: preview.source_indices,
        source_repository: Some(source_repo),
        target_repository: Some(target_repo),
        snapshot: Some(snapshot),
        restore,
    })))
}

/// Follow the accepted restore to its end, then check the target's Camunda indices equal the
/// source's.
pub async fn copy_finish(
    target: &dyn EsTransport,
    opts: &EsOptions,
    inflight: CopyInFlight,
    progress: ProgressFn<'_>,
) -> Result<CopyReport> {
    let tgt = EsClient::new(target, opts);
    let restore = restore_follow(target, opts, inflight.restore, progress).await?;
    let indices = verify_copy(&tgt, &inflight.name, &inflight.source_indices).await?;
    Ok(CopyReport {
        outcome: inflight.outcome,
        source_repository: inflight.source_repository,
        target_repository: inflight.target_repository,
        snapshot: inflight.snapshot,
        restore: Some(restore),
        indices,
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
             Was exporting paused ({})?",
            differing.join("; "),
            crate::procedure::Action::PauseExporting.step().named()
        )));
    }
    Ok(comparison)
}
