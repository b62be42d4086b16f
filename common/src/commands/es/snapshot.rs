//! `kubectl c8dr es snapshot create|list|show`.

use serde::Serialize;

use super::{Bars, details, reach};
use crate::commands::mutation::{Mutation, Ticket};
use crate::commands::{Ending, Outcome};
use crate::error::Result;
use crate::es::{self, EsAccess, SnapshotInfo, SnapshotList, SnapshotReport};
use crate::output::{Render, table};
use crate::session::Session;

/// `es snapshot create [NAME]`. Stages: validate and plan (no call) → confirm → start the
/// snapshot once (after a cut stream, look before resending) → wait until it succeeded →
/// report.
pub async fn snapshot_create(
    session: &Session,
    access: &EsAccess,
    name: Option<&str>,
) -> Result<Outcome> {
    const CMD: &str = "es snapshot create";
    // Validate, plan.
    access.validate(&session.settings.env)?;
    let name = es::snapshot_name(name)?;
    let plan = es::snapshot_create_calls(&access.repository, &name);
    let summary = format!(
        "snapshot {name} of the {} into repository {}",
        session.describe_region(),
        access.repository
    );
    let mutation = Mutation::new(session, CMD, summary, plan).always_waits();
    if let Some(dry) = mutation.dry_run() {
        return Ok(dry);
    }
    // Evidence (the cluster answers), then the runner: confirm, start the snapshot once (its
    // recovery after a cut stream is `EsClient::submit_once`: look before resending), wait, report.
    let (t, opts) = reach(session, access).await?;
    mutation
        .run(
            async || {
                let bars = Bars::new(session);
                let result =
                    es::snapshot_create(t.t(), &opts, Some(&name), &|ph, p| bars.update(ph, p))
                        .await;
                bars.finish();
                result
            },
            async |e| Err(e),
            async |report: SnapshotReport, plan| {
                let s = &report.snapshot;
                Ok(Outcome::new(
                    CMD,
                    Ending::Done,
                    format!(
                        "snapshot {} is {} ({} of {} shards, {} indices, global state included)",
                        s.snapshot,
                        s.state,
                        s.shards.successful,
                        s.shards.total,
                        s.indices.len()
                    ),
                )
                .with_plan(plan)
                .with_details(details(&report)))
            },
        )
        .await
}

impl Ticket for SnapshotReport {}

/// `es snapshot list`.
pub async fn snapshot_list(session: &Session, access: &EsAccess) -> Result<SnapshotListView> {
    let (t, opts) = reach(session, access).await?;
    Ok(SnapshotListView(es::snapshot_list(t.t(), &opts).await?))
}

/// Snapshots of a repository, rendered as a table.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SnapshotListView(pub SnapshotList);

impl Render for SnapshotListView {
    fn text(&self) -> String {
        if self.0.snapshots.is_empty() {
            return format!("no snapshots in repository {}\n", self.0.repository);
        }
        let rows = self
            .0
            .snapshots
            .iter()
            .map(|s| {
                vec![
                    s.snapshot.clone(),
                    s.state.clone(),
                    format!("{}/{}", s.shards.successful, s.shards.total),
                    s.indices.len().to_string(),
                    s.include_global_state.to_string(),
                    s.start_time.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &[
                "NAME",
                "STATE",
                "SHARDS",
                "INDICES",
                "GLOBAL-STATE",
                "STARTED",
            ],
            rows,
        )
    }
}

/// `es snapshot show NAME`.
pub async fn snapshot_show(
    session: &Session,
    access: &EsAccess,
    name: &str,
) -> Result<SnapshotView> {
    es::snapshot_name(Some(name))?;
    let (t, opts) = reach(session, access).await?;
    Ok(SnapshotView(es::snapshot_show(t.t(), &opts, name).await?))
}

/// One snapshot, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SnapshotView(pub SnapshotInfo);

impl Render for SnapshotView {
    fn text(&self) -> String {
        let s = &self.0;
        let mut out = format!(
            "snapshot {}: {} (shards {} ok, {} failed, {} total; global state {})\n",
            s.snapshot,
            s.state,
            s.shards.successful,
            s.shards.failed,
            s.shards.total,
            if s.include_global_state {
                "included"
            } else {
                "NOT included"
            }
        );
        if let Some(t) = &s.start_time {
            out.push_str(&format!("  started: {t}\n"));
        }
        if let Some(t) = &s.end_time {
            out.push_str(&format!("  ended:   {t}\n"));
        }
        out.push_str(&format!("  indices ({}):\n", s.indices.len()));
        for i in &s.indices {
            out.push_str(&format!("    {i}\n"));
        }
        for f in &s.failures {
            out.push_str(&format!(
                "  failed shard: {}[{}]: {}\n",
                f.index, f.shard_id, f.reason
            ));
        }
        out
    }
}
