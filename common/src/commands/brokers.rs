//! `kubectl c8dr brokers remove|add`: force-remove the lost region's brokers (the forced removal of the lost brokers)
//! and re-add the recreated region's brokers (the brokers' re-add), through the mutation runner.

use serde_json::json;

use super::cluster::{cluster, read_cluster};
use super::follow::{follow_pending, recover, started, wait_for};
use super::liveness::liveness;
use super::mutation::Mutation;
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::procedure::{Action, Fill};
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::brokers::{self, Selection};
use crate::zeebe::change::{Follow, Intent, baseline};
use crate::zeebe::model::{
    BrokersPatch, ClusterPatch, ClusterTopology, PartitionsPatch, PlannedOperations,
};

pub(super) fn plan_lines(planned: &PlannedOperations) -> Vec<String> {
    planned
        .planned_changes
        .iter()
        .map(|op| op.describe())
        .collect()
}

/// A cluster PATCH, planned and validated by its command.
struct Patch<'a> {
    cmd: &'static str,
    body: ClusterPatch,
    /// `?force=true`: a forced removal (never with `add`, docs/api-behaviour.md §1).
    force: bool,
    /// The cluster as read before: a newer change id was started after it.
    before: &'a ClusterTopology,
    intent: Intent,
    /// A pending change that already does this: followed, not sent again.
    pending: Option<Follow>,
    summary: String,
    plan: Vec<String>,
}

impl Patch<'_> {
    /// Through the mutation runner: the gateway's dry run adds its planned operations to the plan
    /// and their count to the prompt; sent once, recovered by re-reading the cluster, waited for.
    /// `finish` judges the completed change.
    async fn run(
        self,
        session: &Session,
        mgmt: &ManagementClient,
        finish: impl AsyncFnOnce(Option<i64>, Vec<String>) -> Result<Outcome>,
    ) -> Result<Outcome> {
        let Self {
            cmd,
            body,
            force,
            before,
            intent,
            pending,
            summary,
            mut plan,
        } = self;
        let mut prompt = None;
        let settings = &session.settings;
        if settings.dry_run && !settings.server_dry_run {
            // `--dry-run=client`, as kubectl's: nothing is sent, not even the gateway's dry run.
            plan.push(
                "(the gateway's own plan of the operations: --dry-run=server asks it)".into(),
            );
        } else if pending.is_none() {
            // The dry run goes to the lowest surviving member too: it works with the coordinator lost.
            let planned = mgmt.patch_cluster(&body, true, force).await?;
            prompt = Some(format!(
                "Plan: {summary} ({} operations)",
                planned.planned_changes.len()
            ));
            plan.extend(plan_lines(&planned));
        }
        let call = format!(
            "PATCH /actuator/cluster{}",
            if force { "?force=true" } else { "" }
        );
        let mut run = Mutation::new(session, cmd, summary.clone(), plan).following(pending);
        if let Some(p) = prompt {
            run = run.prompt(p);
        }
        run.run(
            async || mgmt.patch_cluster(&body, false, force).await.map(started),
            async |e| recover(session, mgmt, &call, baseline(before), &intent, e).await,
            async |follow, plan| {
                finish(wait_for(session, mgmt, follow, &summary).await?, plan).await
            },
        )
        .await
    }
}

fn change_name(id: Option<i64>) -> String {
    id.map(|id| format!("change {id}"))
        .unwrap_or_else(|| "the change".into())
}

/// `brokers remove`: force-remove the lost region's brokers (the forced removal of the lost brokers). Works with the
/// coordinator lost (region 0): membership and liveness from `/v2/topology`, the forced removal
/// sent to the lowest surviving member by the gateway, completion from `/v2/topology`.
pub async fn brokers_remove(
    session: &Session,
    selection: Selection,
    skip_liveness_check: bool,
) -> Result<Outcome> {
    const CMD: &str = "brokers remove";
    let mgmt = session.management().await?;
    let read = read_cluster(session, mgmt).await?;
    let t = read.cluster().clone();
    let members = t.member_ids();
    let remove = brokers::to_remove(&selection, &members);
    if remove.is_empty() {
        // The selected brokers already left the membership, but the forced removal that took
        // them out may still be closing (its operations applied, the change not yet complete):
        // follow it to the end, as a second run follows the first one's change, so that the
        // next step does not meet it as a change in progress.
        if let Some(p) = &t.pending_change
            && crate::zeebe::change::forced_removal(p).is_some_and(|gone| {
                gone.iter().all(|b| match &selection {
                    Selection::Parity(r) => r.holds(*b),
                    Selection::Ids(ids) => ids.contains(b),
                })
            })
        {
            super::follow::wait_for_change(session, mgmt, p.id, &format!("change {}", p.id))
                .await?;
        }
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!("none of the selected brokers is a member (members: {members:?})"),
        )
        .with_details(json!({"members": members})));
    }
    let intent = Intent::Remove(remove.clone());
    let summary = format!("force-remove brokers {remove:?}");
    let pending = follow_pending(session, &t, &intent)?;
    if pending.is_none() {
        removal_evidence(session, &remove, &members, skip_liveness_check).await?;
    }
    let body = ClusterPatch {
        brokers: BrokersPatch {
            remove: remove.clone(),
            add: vec![],
        },
        ..Default::default()
    };
    let plan = vec![format!(
        "PATCH /actuator/cluster?force=true {}",
        serde_json::to_string(&body).unwrap_or_default()
    )];
    let finish =
        async |completed: Option<i64>, plan| removed(session, mgmt, &remove, completed, plan).await;
    Patch {
        cmd: CMD,
        body,
        force: true,
        before: &t,
        intent,
        pending,
        summary,
        plan,
    }
    .run(session, mgmt, finish)
    .await
}

/// Safety of a forced removal (docs/contract.md §4 rule 2): positive evidence that every broker to remove is
/// down, or the operator's `--skip-liveness-check` (warned, and still never every broker).
async fn removal_evidence(
    session: &Session,
    remove: &[u32],
    members: &[u32],
    skip_liveness_check: bool,
) -> Result<()> {
    if skip_liveness_check {
        session.ui.warn(
            "--skip-liveness-check: NOT verifying that the brokers to remove are down; removing live brokers \
             by force splits the cluster and can lose data",
        );
        return brokers::check_removal_unverified(remove, members);
    }
    let liveness = liveness(session, remove).await?;
    brokers::check_removal(remove, members, &liveness)?;
    session.ui.note(format!(
        "brokers {remove:?} are down (evidence: {}); planning a forced removal",
        liveness.evidence_for(remove, members)
    ));
    Ok(())
}

/// The removal completed: the brokers must be members no more.
async fn removed(
    session: &Session,
    mgmt: &crate::zeebe::ManagementClient,
    remove: &[u32],
    completed: Option<i64>,
    plan: Vec<String>,
) -> Result<Outcome> {
    const CMD: &str = "brokers remove";
    let after = read_cluster(session, mgmt).await?;
    let after_t = after.cluster();
    let still: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| after_t.member_ids().contains(b))
        .collect();
    let change = change_name(completed);
    if !still.is_empty() {
        return Err(Error::failed(format!(
            "{change} completed but brokers {still:?} are still members"
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: brokers {remove:?} removed; members now {:?}, replication factor {}",
            after_t.member_ids(),
            after_t.replication_factor()
        ),
    )
    .with_plan(plan)
    .with_change(completed)
    .with_details(json!({"members": after_t.member_ids(), "replicationFactor": after_t.replication_factor()})))
}

/// `brokers add`: re-add the recreated region's brokers with the original replication factor
/// (the brokers' re-add). A normal change: `force` is never sent with `add` (docs/api-behaviour.md §1).
pub async fn brokers_add(
    session: &Session,
    selection: Selection,
    cluster_size: Option<u32>,
    replication_factor: Option<u32>,
) -> Result<Outcome> {
    const CMD: &str = "brokers add";
    let mgmt = session.management().await?;
    let t = cluster(mgmt).await?;
    let members = t.member_ids();
    let add = brokers::to_add(&selection, &members, cluster_size)?;
    let current_rf = t.replication_factor();
    let (rf, rf_reason) = match (add.is_empty(), replication_factor) {
        // Already members: only a stated factor that differs is left to apply.
        (true, stated) => (
            stated.unwrap_or(current_rf),
            format!("replication factor {current_rf}"),
        ),
        (false, stated) => brokers::restored_replication_factor(stated, current_rf),
    };
    // Before any call: the gateway would refuse it, but only after a dry run of a bad request.
    brokers::check_replication_factor(rf, members.len() + add.len())?;
    if add.is_empty() && rf == current_rf {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the brokers are members and the replication factor is {rf} (members: {members:?})"
            ),
        )
        .with_details(json!({"members": members, "replicationFactor": rf})));
    }
    let intent = Intent::Add(add.clone());
    let pending = follow_pending(session, &t, &intent)?;
    if pending.is_none() && !add.is_empty() {
        check_running(session, &add).await?;
    }
    let body = ClusterPatch {
        brokers: BrokersPatch {
            add: add.clone(),
            remove: vec![],
        },
        partitions: PartitionsPatch {
            replication_factor: Some(rf),
        },
    };
    let summary = if add.is_empty() {
        format!("set the replication factor to {rf}")
    } else {
        format!("add brokers {add:?} with replication factor {rf}")
    };
    let plan = vec![
        format!(
            "PATCH /actuator/cluster {}",
            serde_json::to_string(&body).unwrap_or_default()
        ),
        rf_reason,
    ];
    let finish = async |id: Option<i64>, plan| added(mgmt, &add, rf, id, plan).await;
    Patch {
        cmd: CMD,
        body,
        force: false,
        before: &t,
        intent,
        pending,
        summary,
        plan,
    }
    .run(session, mgmt, finish)
    .await
}

/// The brokers to add must run, or the change waits for them forever (checked when
/// `/v2/topology` can be read).
async fn check_running(session: &Session, add: &[u32]) -> Result<()> {
    let Ok(rest) = session.rest().await else {
        return Ok(());
    };
    let Ok(topo) = rest.topology().await else {
        return Ok(());
    };
    let missing: Vec<u32> = add
        .iter()
        .copied()
        .filter(|b| !topo.brokers.iter().any(|x| x.node_id == *b))
        .collect();
    if !missing.is_empty() {
        return Err(Error::refused(format!(
            "brokers {missing:?} are not running (absent from /v2/topology): install the recreated region first \
             ({})",
            Action::InstallRecreated.step().command(&Fill::default())
        )));
    }
    Ok(())
}

/// The re-add completed: the brokers are members and the replication factor is `rf`.
async fn added(
    mgmt: &crate::zeebe::ManagementClient,
    add: &[u32],
    rf: u32,
    id: Option<i64>,
    plan: Vec<String>,
) -> Result<Outcome> {
    const CMD: &str = "brokers add";
    let change = change_name(id);
    let after = mgmt.cluster().await?;
    if after.replication_factor() != rf || add.iter().any(|b| !after.member_ids().contains(b)) {
        return Err(Error::failed(format!(
            "{change} completed but the cluster has members {:?} and replication factor {} (expected {rf})",
            after.member_ids(),
            after.replication_factor()
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: members {:?}, replication factor {rf}",
            after.member_ids()
        ),
    )
    .with_plan(plan)
    .with_change(id)
    .with_details(json!({"members": after.member_ids(), "replicationFactor": rf})))
}
