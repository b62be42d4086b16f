//! Snapshots: naming, creating one (with the global state) and waiting for it, listing and
//! showing them.

use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::client::{EsClient, EsOptions, Retry};
use super::model::{
    Progress, SnapshotInfo, SnapshotVerdict, error_type, evaluate_snapshot, validate_snapshot_name,
};
use super::progress::{ProgressFn, ProgressOf, eta, ms};
use super::repo::not_registered;
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// A finished snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotReport {
    pub repository: String,
    pub snapshot: SnapshotInfo,
    /// How long c8dr waited for it.
    pub waited_ms: u64,
    /// What it uploaded (`_status` `stats`): snapshots are incremental at the file level, so a
    /// snapshot taken after another of the same indices uploads only the files that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<SnapshotStats>,
}

/// `stats.incremental` and `stats.total` of `_snapshot/<repo>/<name>/_status` (ES "Get snapshot
/// status API": `incremental` = files this snapshot uploaded, `total` = files it references).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotStats {
    pub incremental_files: u64,
    pub incremental_bytes: u64,
    pub total_files: u64,
    pub total_bytes: u64,
}

impl SnapshotStats {
    /// From a `_status` entry's `stats`; `None` when it has no file counts (older versions).
    pub fn from_status(stats: &Value) -> Option<Self> {
        let n = |p: &str| stats.pointer(p).and_then(Value::as_u64);
        Some(Self {
            incremental_files: n("/incremental/file_count")?,
            incremental_bytes: n("/incremental/size_in_bytes")?,
            total_files: n("/total/file_count").unwrap_or(0),
            total_bytes: n("/total/size_in_bytes").unwrap_or(0),
        })
    }
}

/// Snapshots of a repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotList {
    pub repository: String,
    pub snapshots: Vec<SnapshotInfo>,
}

/// `GET _snapshot/<repo>/<name>`: `None` when the repository does not have (or show) it.
pub(super) async fn lookup(c: &EsClient<'_>, name: &str) -> Result<Option<SnapshotInfo>> {
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

/// The indices a default snapshot takes (not hidden) that are red: their primaries are not
/// allocated (`_cat/indices` health).
pub(super) async fn red_indices(c: &EsClient<'_>) -> Result<Vec<String>> {
    let mut red: Vec<String> = super::cluster::cat_indices(c)
        .await?
        .into_iter()
        .filter(|i| !i.index.starts_with('.') && i.health.as_deref() == Some("red"))
        .map(|i| i.index)
        .collect();
    red.sort();
    Ok(red)
}

/// Why a snapshot of `t` cannot be taken while `red` indices are red, and the ways out.
/// Elasticsearch fails the snapshot request itself: shards whose primary is not allocated are
/// `MISSING` and, unless `partial: true`, "Indices don't have primary shards [..]"
/// (elastic/elasticsearch 8.x and opensearch-project/OpenSearch 2.x `SnapshotsService`).
pub(super) fn red_message(t: &dyn EsTransport, red: &[String]) -> String {
    const SHOWN: usize = 10;
    let list = red
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = if red.len() > SHOWN {
        format!(" and {} more", red.len() - SHOWN)
    } else {
        String::new()
    };
    format!(
        "{} red indices in {} (their primary shards are not allocated): {list}{more}. \
         Elasticsearch fails a snapshot of them (\"Indices don't have primary shards\"). Either \
         wait until the cluster allocates them (GET _cluster/allocation/explain says why a primary \
         is unassigned; `kubectl c8dr es status` shows the health), or, if their data is lost, \
         restore or delete those indices there yourself; then run this again. c8dr takes no \
         partial snapshot: it would leave them out of the copy",
        red.len(),
        t.describe()
    )
}

/// Refuse (exit 3) a snapshot of a cluster with red indices, with reads only.
pub(super) async fn check_no_red(c: &EsClient<'_>) -> Result<()> {
    let red = red_indices(c).await?;
    if red.is_empty() {
        Ok(())
    } else {
        Err(Error::refused(red_message(c.transport, &red)))
    }
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
    check_no_red(&c).await?;
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
    c.submit_once(
        Method::PUT,
        &path,
        &body,
        &format!("starting snapshot {name}"),
        &mut poller,
        || async { Ok(lookup(&c, &name).await?.is_some()) },
    )
    .await
    .map_err(|e| {
        // Indices turned red between the check and the request.
        let message = e.to_string();
        match message.split_once("Indices don't have primary shards [") {
            Some((_, rest)) => {
                let red: Vec<String> = rest
                    .split_once(']')
                    .map(|(l, _)| l.split(", ").map(str::to_string).collect())
                    .unwrap_or_default();
                Error::failed(red_message(t, &red))
            }
            None => e,
        }
    })?;
    wait_snapshot(&c, &name, progress, &mut poller).await
}

/// Wait until snapshot `name` (started, by this run or an earlier one) is `SUCCESS` with no
/// failed shard; `PARTIAL`/`FAILED` are failures.
pub(super) async fn wait_snapshot(
    c: &EsClient<'_>,
    name: &str,
    progress: ProgressFn<'_>,
    poller: &mut crate::wait::Poller,
) -> Result<SnapshotReport> {
    let repo = &c.opts.repository;
    let path = format!("_snapshot/{repo}/{name}");
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
        let (uploaded, to_upload) = upload_bytes(&s);
        progress(ProgressOf::Snapshot, shards.with_bytes(uploaded, to_upload));
        if !matches!(state, "INIT" | "STARTED" | "IN_PROGRESS" | "") {
            let info = lookup(c, name).await?.ok_or_else(|| {
                Error::failed(format!("snapshot {name} vanished from repository {repo}"))
            })?;
            match evaluate_snapshot(&info) {
                SnapshotVerdict::Running => {}
                SnapshotVerdict::Succeeded => {
                    progress(
                        ProgressOf::Snapshot,
                        Progress::units(info.shards.total, info.shards.total)
                            .with_bytes(to_upload, to_upload),
                    );
                    return Ok(SnapshotReport {
                        repository: repo.clone(),
                        snapshot: info,
                        waited_ms: ms(poller.elapsed()),
                        stats: s.get("stats").and_then(SnapshotStats::from_status),
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

/// Bytes a running snapshot uploaded of the bytes it uploads, from `_status`'s `stats`
/// (ES `SnapshotStats.toXContent`: `incremental` = the files this snapshot copies, `processed` =
/// the part copied so far, present only while the snapshot is still in progress, so absent
/// means all of it).
fn upload_bytes(status: &Value) -> (u64, u64) {
    let n = |k: &str| {
        status
            .pointer(&format!("/stats/{k}/size_in_bytes"))
            .and_then(Value::as_u64)
    };
    let to_upload = n("incremental").unwrap_or(0);
    (n("processed").unwrap_or(to_upload), to_upload)
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

pub(super) fn snapshot_not_found(name: &str, repo: &str, t: &dyn EsTransport) -> Error {
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
