//! `kubectl c8dr es snapshot restore NAME`.

use serde_json::json;

use super::{Bars, check_delete_allowed, details, feature_states, reach, unassigned_note};
use crate::commands::mutation::{Mutation, Ticket};
use crate::commands::{Ending, Outcome};
use crate::error::Result;
use crate::es::{self, EsAccess, RestoreOutcome, RestoreReport};
use crate::session::Session;

const CMD: &str = "es snapshot restore";

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
    // Validate.
    access.validate(&session.settings.env)?;
    super::check_feature_states(feature_states_flag)?;
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
    let mut mutation = Mutation::new(session, CMD, summary, preview.calls.clone())
        .always_waits()
        .details(json!({"deleteIndices": preview.delete_indices}));
    if preview.already_restored {
        // Only a restore in place is followed: nothing to confirm.
        mutation = mutation.without_confirmation();
    }
    // The runner: dry run, confirm, delete exactly the Camunda indices in the way when allowed
    // and start the restore once (recovery after a cut stream: `EsClient::submit_once`), wait for
    // every shard copy, report.
    mutation
        .run(
            async || {
                let bars = Bars::new(session);
                let result = es::snapshot_restore(t.t(), &opts, name, delete_existing, &|ph, p| {
                    bars.update(ph, p)
                })
                .await;
                bars.finish();
                result
            },
            async |e| Err(e),
            async |report: RestoreReport, plan| Ok(restored(name, &report, plan)),
        )
        .await
}

impl Ticket for RestoreReport {}

/// The outcome of a restore that ran (or was found done).
fn restored(name: &str, report: &RestoreReport, plan: Vec<String>) -> Outcome {
    let (status, summary) = match report.outcome {
        RestoreOutcome::AlreadyRestored => (
            Ending::AlreadyDone,
            format!(
                "snapshot {name} is already restored ({} indices, {} shard copies, health {}{})",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(report)
            ),
        ),
        RestoreOutcome::Restored => (
            Ending::Done,
            format!(
                "snapshot {name} restored: {} indices, {} shard copies, cluster health {}{}{}",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(report),
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
    Outcome::new(CMD, status, summary)
        .with_plan(plan)
        .with_details(details(report))
}
