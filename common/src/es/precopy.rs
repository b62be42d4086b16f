//! The pre-copy (issue 14 item 2): a full snapshot of the surviving region's Elasticsearch taken
//! **before** exporting is paused, while Camunda keeps running. Elasticsearch snapshots are
//! incremental at the file level (ES reference "Snapshot and restore": "Snapshots are
//! incremental"; `_status` `stats.incremental` vs `stats.total`): the snapshot taken after the
//! pause then uploads only the segment files written since, and the paused window holds that
//! small upload and the restore instead of the whole upload. The restore uses the second
//! snapshot, which references every file it needs (its own and the pre-copy's).
//!
//! Names: the pre-copy is `failback-precopy-YYYYMMDD-HHMMSS`, the snapshot taken in the pause
//! `failback-YYYYMMDD-HHMMSS`. A run that finds a finished pre-copy in the repository reuses the
//! newest one (a rerun after an interruption takes no second full snapshot); one still running
//! is followed to its end. Nothing is deleted: both snapshots stay in the repository, and the
//! report says so.

use serde::Serialize;
use serde_json::{Value, json};

use super::client::{EsClient, EsOptions};
use super::model::SnapshotInfo;
use super::progress::ProgressFn;
use super::repo::{RepoSpec, repo_put_back, repo_register, repo_set_setting};
use super::snapshot::{
    SnapshotStats, snapshot_create, snapshot_list, snapshot_name, wait_snapshot,
};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// The prefix of pre-copy snapshot names.
pub const PRE_COPY_PREFIX: &str = "failback-precopy-";

/// The repository setting `--snapshot-rate` sets for the snapshots of the surviving region
/// (ES repository settings: "max_snapshot_bytes_per_sec: Maximum snapshot creation rate per
/// node. Defaults to 40mb per second").
pub const SNAPSHOT_RATE_SETTING: &str = "max_snapshot_bytes_per_sec";

/// A new pre-copy name: `failback-precopy-<UTC timestamp>`.
pub fn pre_copy_name() -> Result<String> {
    let plain = snapshot_name(None)?;
    Ok(plain.replacen("failback-", PRE_COPY_PREFIX, 1))
}

/// The registration of the source's repository with `--snapshot-rate` applied.
pub fn with_rate(spec: &RepoSpec, rate: Option<&str>) -> RepoSpec {
    let mut spec = spec.clone().with_readonly(false);
    if let Some(r) = rate {
        spec.settings
            .insert(SNAPSHOT_RATE_SETTING.into(), Value::String(r.to_string()));
    }
    spec
}

/// `--snapshot-rate`: a byte size per second as Elasticsearch parses it (`200mb`, `1gb`);
/// checked before any call.
pub fn check_rate(rate: &str) -> Result<()> {
    match super::tuning::bytes(rate) {
        Some(b) if b > 0 => Ok(()),
        _ => Err(Error::usage(format!(
            "--snapshot-rate {rate:?}: a byte size per second such as 200mb or 1gb"
        ))),
    }
}

/// What the pre-copy did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreCopyReport {
    pub repository: String,
    pub snapshot: SnapshotInfo,
    /// A pre-copy found in the repository was reused (finished) or followed (running).
    pub reused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<SnapshotStats>,
    pub waited_ms: u64,
}

/// The newest pre-copy in the repository that finished well or still runs.
pub async fn find_pre_copy(t: &dyn EsTransport, opts: &EsOptions) -> Result<Option<SnapshotInfo>> {
    let list = snapshot_list(t, opts).await?;
    Ok(list
        .snapshots
        .into_iter()
        .filter(|s| s.snapshot.starts_with(PRE_COPY_PREFIX))
        .filter(|s| matches!(s.state.as_str(), "SUCCESS" | "IN_PROGRESS"))
        // The name carries the UTC start time, so the greatest name is the newest.
        .max_by(|a, b| a.snapshot.cmp(&b.snapshot)))
}

/// The calls around one snapshot with `--snapshot-rate`, for plans: the rate set on the
/// registration as it is, and the registration put back as it was after the snapshot.
pub fn rate_calls(
    repository: &str,
    spec: &RepoSpec,
    rate: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    match rate {
        None => (vec![], vec![]),
        Some(r) => (
            vec![format!(
                "source: PUT _snapshot/{repository}?verify=false {} (--snapshot-rate on the registration as it is)",
                with_rate(spec, Some(r)).body()
            )],
            vec![format!(
                "source: PUT _snapshot/{repository}?verify=false {} (put back: without --snapshot-rate)",
                spec.clone().with_readonly(false).body()
            )],
        ),
    }
}

/// The calls of a pre-copy, for plans.
pub fn pre_copy_calls(
    repository: &str,
    spec: &RepoSpec,
    rate: Option<&str>,
    name: &str,
) -> Vec<String> {
    let spec = spec.clone().with_readonly(false);
    let mut calls: Vec<String> = spec
        .plan(repository)
        .into_iter()
        .map(|c| format!("source: {c}"))
        .collect();
    let (before, after) = rate_calls(repository, &spec, rate);
    calls.extend(before);
    calls.push(format!(
        "source: PUT _snapshot/{repository}/{name} {} (pre-copy, while Camunda runs)",
        json!({"include_global_state": true})
    ));
    calls.extend(after);
    calls
}

/// Take snapshot `name` of `source` with the registration's `max_snapshot_bytes_per_sec` set to
/// `rate` for it (when given), putting the registration back exactly as it was afterwards, also
/// when the snapshot failed.
pub async fn snapshot_at_rate(
    source: &dyn EsTransport,
    opts: &EsOptions,
    name: &str,
    rate: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<super::snapshot::SnapshotReport> {
    let before = match rate {
        Some(r) => Some(repo_set_setting(source, opts, SNAPSHOT_RATE_SETTING, r).await?),
        None => None,
    };
    let r = snapshot_create(source, opts, Some(name), progress).await;
    if let Some(b) = &before {
        let back = repo_put_back(source, opts, b).await;
        if let (Ok(_), Err(e)) = (&r, back) {
            return Err(
                e.context("putting back the repository registration without --snapshot-rate")
            );
        }
    }
    r
}

/// Register the repository writable on the source (`spec`, used as it is when registered
/// already), then reuse the newest pre-copy or take a new one named `name` (at `rate`), and
/// wait for it. `name` is the one the plan showed ([`pre_copy_name`], computed once per run):
/// the plan names the exact snapshot it takes (docs/contract.md §4 rule 1).
pub async fn pre_copy(
    source: &dyn EsTransport,
    opts: &EsOptions,
    spec: &RepoSpec,
    rate: Option<&str>,
    name: &str,
    progress: ProgressFn<'_>,
) -> Result<PreCopyReport> {
    repo_register(source, opts, &spec.clone().with_readonly(false)).await?;
    let c = EsClient::new(source, opts);
    if let Some(found) = find_pre_copy(source, opts).await? {
        let mut poller = c.poller(format!("pre-copy snapshot {} to complete", found.snapshot));
        // A finished one is read once; a running one is followed.
        let r = wait_snapshot(&c, &found.snapshot, progress, &mut poller).await?;
        return Ok(PreCopyReport {
            repository: opts.repository.clone(),
            snapshot: r.snapshot,
            reused: true,
            stats: r.stats,
            waited_ms: r.waited_ms,
        });
    }
    let r = snapshot_at_rate(source, opts, name, rate, progress).await?;
    Ok(PreCopyReport {
        repository: opts.repository.clone(),
        snapshot: r.snapshot,
        reused: false,
        stats: r.stats,
        waited_ms: r.waited_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_copy_names_are_distinct_from_the_final_snapshots() {
        let n = pre_copy_name().expect("name");
        assert!(n.starts_with("failback-precopy-2"), "{n}");
        assert!(
            !snapshot_name(None)
                .expect("name")
                .starts_with(PRE_COPY_PREFIX)
        );
    }

    #[test]
    fn the_snapshot_rate_is_a_repository_setting_of_the_writable_registration() {
        let spec = RepoSpec::s3("b", "backups", "camunda").with_readonly(true);
        let rated = with_rate(&spec, Some("200mb"));
        assert!(!rated.readonly);
        assert_eq!(
            rated.body()["settings"]["max_snapshot_bytes_per_sec"],
            "200mb"
        );
        assert!(check_rate("200mb").is_ok());
        assert!(check_rate("fast").is_err());
        assert!(check_rate("-1").is_err());
    }
}
