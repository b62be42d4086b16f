//! `kubectl c8dr es snapshot restore NAME`.

use serde_json::json;

use super::{Bars, check_delete_allowed, details, feature_states, reach, unassigned_note};
use crate::commands::{Ending, Outcome};
use crate::error::Result;
use crate::es::{self, EsAccess, RestoreOutcome};
use crate::session::Session;

/// `es snapshot restore NAME`. Stages: validate (`--delete-existing-indices` only in the
/// recreated region) → evidence and plan (reads only: the snapshot, the target's indices, its
/// engine; the same refusals as the run) → confirm → delete exactly the Camunda indices in the
/// way when allowed, start the restore once → wait for every shard copy → report.
pub async fn snapshot_restore(
    session: &Session,
    access: &EsAccess,
    name: &str,
    delete_existing: bool,
    feature_states_flag: Option<&[String]>,
) -> Result<Outcome> {
    const CMD: &str = "es snapshot restore";
    // Validate.
    access.validate()?;
    es::snapshot_name(Some(name))?;
    if delete_existing {
        check_delete_allowed(&session.settings)?;
    }
    // Evidence, safety, plan.
    let (t, mut opts) = reach(session, access).await?;
    let dist = es::detect(t.t(), &opts).await?;
    opts.restore_feature_states = feature_states(feature_states_flag, &t, session, &dist);
    let preview = es::snapshot_restore_preview(t.t(), &opts, name, delete_existing).await?;
    if preview.already_restored && session.settings.dry_run {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "snapshot {name} is already restored in the {}",
                session.describe_region()
            ),
        ));
    }
    let summary = format!(
        "restore snapshot {name} ({} indices) into the {}{}",
        preview.restore_indices.len(),
        session.describe_region(),
        if preview.delete_indices.is_empty() {
            String::new()
        } else {
            format!(
                ", DELETING its {} existing Camunda indices first",
                preview.delete_indices.len()
            )
        }
    );
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, summary)
            .with_plan(preview.calls)
            .with_details(json!({"deleteIndices": preview.delete_indices})));
    }
    // Confirm (nothing to confirm when only a running restore is followed), act and wait.
    if !preview.already_restored {
        session
            .ui
            .confirm(&format!("Plan: {summary}"), &preview.calls)?;
    }
    let bars = Bars::new(session);
    let result = es::snapshot_restore(t.t(), &opts, name, delete_existing, &|ph, p| {
        bars.update(ph, p)
    })
    .await;
    bars.finish();
    let report = result?;
    // Report.
    let (status, summary) = match report.outcome {
        RestoreOutcome::AlreadyRestored => (
            Ending::AlreadyDone,
            format!(
                "snapshot {name} is already restored ({} indices, {} shard copies, health {}{})",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(&report)
            ),
        ),
        RestoreOutcome::Restored => (
            Ending::Done,
            format!(
                "snapshot {name} restored: {} indices, {} shard copies, cluster health {}{}{}",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(&report),
                if report.deleted_indices.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} existing Camunda indices deleted first)",
                        report.deleted_indices.len()
                    )
                }
            ),
        ),
    };
    Ok(Outcome::new(CMD, status, summary)
        .with_plan(preview.calls)
        .with_details(details(&report)))
}
