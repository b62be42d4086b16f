//! Zeebe commands: brokers, exporters, exporting, changes, topology.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{Outcome, Status};
use crate::error::{Error, Result};
use crate::output::{Render, table};
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::brokers::{self, Evidence, Liveness, Selection};
use crate::zeebe::change::{ChangeState, Poller, observe};
use crate::zeebe::model::{
    BrokersPatch, ClusterPatch, ClusterTopology, ExporterStatus, PartitionsPatch,
    PlannedOperations, Topology,
};

fn plan_lines(planned: &PlannedOperations) -> Vec<String> {
    planned
        .planned_changes
        .iter()
        .map(|op| op.describe())
        .collect()
}

fn pending_refusal(t: &ClusterTopology) -> Result<()> {
    if let Some(p) = &t.pending_change {
        return Err(Error::refused(format!(
            "change {} is still in progress ({} of {} operations done); sending another change now would be \
             rejected (409) or race it. Wait for it: kubectl c8dr changes wait {}; or, if it is stuck, cancel it: \
             kubectl c8dr changes cancel {}",
            p.id,
            p.completed.len(),
            p.completed.len() + p.pending.len(),
            p.id,
            p.id
        )));
    }
    Ok(())
}

/// Wait for change `id` to complete (SPEC 3.1), with progress. `Ok` only on COMPLETED.
pub async fn wait_for_change(
    session: &Session,
    mgmt: &ManagementClient,
    id: i64,
    label: &str,
) -> Result<()> {
    let mut poller = Poller::new(session.settings.timeout);
    let progress = session.ui.progress(label, 0);
    loop {
        // Each poll is a fresh request; transient errors are retried inside the client.
        // A dropped tunnel or a restarting gateway must not end a wait that may take minutes:
        // transient failures are retried until the wait's own deadline.
        let t = match mgmt.cluster().await {
            Ok(t) => t,
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "transient failure while waiting; polling on");
                if !poller.tick().await {
                    progress.finish();
                    return Err(e);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        let state = observe(&t, id);
        match &state {
            ChangeState::Completed => {
                progress.finish();
                return Ok(());
            }
            ChangeState::Ended { status } => {
                progress.finish();
                return Err(Error::failed(format!(
                    "change {id} ended {status}: it did not complete"
                )));
            }
            ChangeState::InProgress { completed, total } => {
                progress.update(*completed as u64, *total as u64)
            }
            ChangeState::NotStarted => {}
        }
        if !poller.tick().await {
            progress.finish();
            return Err(Error::Timeout {
                what: format!(
                    "change {id} ({label}) is still {} — follow it with: kubectl c8dr changes wait {id}",
                    match state {
                        ChangeState::InProgress { completed, total } =>
                            format!("in progress ({completed}/{total})"),
                        _ => "not started".into(),
                    }
                ),
                after: humantime::format_duration(session.settings.timeout).to_string(),
            });
        }
    }
}

/// Which brokers are alive: `/v2/topology` when it can be read, else (in cluster mode) Ready pods.
pub(crate) async fn liveness(session: &Session) -> Result<Liveness> {
    match session.rest().await {
        Ok(rest) => match rest.topology().await {
            Ok(t) => {
                return Ok(Liveness {
                    evidence: Evidence::V2Topology,
                    alive: t.brokers.iter().map(|b| b.node_id).collect(),
                });
            }
            Err(e) => session.ui.note(format!(
                "cannot read /v2/topology ({e}); looking for other evidence"
            )),
        },
        Err(e) => session.ui.note(format!(
            "cannot read /v2/topology ({e}); looking for other evidence"
        )),
    }
    if session.settings.gateway_url.is_some()
        && session.settings.location.context.is_none()
        && session.settings.kubeconfig.is_none()
    {
        return Err(Error::refused(
            "cannot verify that the brokers to remove are down: /v2/topology could not be read (set \
             CAMUNDA_CLIENT_AUTH_* and --rest-url) and no kube context names the surviving region; pass \
             --skip-liveness-check only if you have verified it yourself",
        ));
    }
    let alive = session.ready_broker_ids().await?;
    session.ui.note(format!(
        "evidence: Ready broker pods in the {}: {alive:?}",
        session.describe_region()
    ));
    Ok(Liveness {
        evidence: Evidence::ReadyPods,
        alive,
    })
}

/// Dry-run, confirm, submit a cluster PATCH and wait for its change. `Ok(Ok(id))` is the
/// completed change; `Ok(Err(outcome))` an early result (`--dry-run`, `--no-wait`).
#[allow(clippy::too_many_arguments)]
async fn submit_patch(
    session: &Session,
    mgmt: &ManagementClient,
    cmd: &str,
    patch: &ClusterPatch,
    force: bool,
    operations: usize,
    plan: &[String],
    summary: &str,
) -> Result<std::result::Result<i64, Outcome>> {
    if session.settings.dry_run {
        return Ok(Err(
            Outcome::new(cmd, Status::DryRun, summary).with_plan(plan.to_vec())
        ));
    }
    session
        .ui
        .confirm(&format!("Plan: {summary} ({operations} operations)"), plan)?;
    let id = mgmt.patch_cluster(patch, false, force).await?.change_id;
    if session.settings.no_wait {
        return Ok(Err(Outcome::new(
            cmd,
            Status::Submitted,
            format!("change {id}: {summary}"),
        )
        .with_plan(plan.to_vec())
        .with_change(Some(id))));
    }
    wait_for_change(session, mgmt, id, summary).await?;
    Ok(Ok(id))
}

/// `brokers remove`: force-remove the lost region's brokers (failover step 1).
pub async fn brokers_remove(
    session: &Session,
    selection: Selection,
    skip_liveness_check: bool,
) -> Result<Outcome> {
    const CMD: &str = "brokers remove";
    let mgmt = session.management().await?;
    let t = mgmt.cluster().await?;
    let members = t.member_ids();
    let remove = brokers::to_remove(&selection, &members);
    if remove.is_empty() {
        return Ok(Outcome::new(
            CMD,
            Status::AlreadyDone,
            format!("none of the selected brokers is a member (members: {members:?})"),
        )
        .with_details(json!({"members": members})));
    }
    pending_refusal(&t)?;
    let liveness = if skip_liveness_check {
        session.ui.warn(
            "--skip-liveness-check: not verifying that the brokers to remove are really gone",
        );
        Liveness {
            evidence: Evidence::V2Topology,
            alive: vec![],
        }
    } else {
        liveness(session).await?
    };
    brokers::check_removal(&remove, &members, &liveness)?;
    session.ui.note(format!(
        "brokers {remove:?} are unreachable (evidence: {}); planning a forced removal",
        liveness.evidence
    ));
    let patch = ClusterPatch {
        brokers: BrokersPatch {
            remove: remove.clone(),
            add: vec![],
        },
        ..Default::default()
    };
    let planned = mgmt.patch_cluster(&patch, true, true).await?;
    let mut plan = vec![format!(
        "PATCH /actuator/cluster?force=true {}",
        serde_json::to_string(&patch).unwrap_or_default()
    )];
    plan.extend(plan_lines(&planned));
    let summary = format!("force-remove brokers {remove:?}");
    let id = match submit_patch(
        session,
        mgmt,
        CMD,
        &patch,
        true,
        planned.planned_changes.len(),
        &plan,
        &summary,
    )
    .await?
    {
        Ok(id) => id,
        Err(early) => return Ok(early),
    };
    let after = mgmt.cluster().await?;
    let still: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| after.member_ids().contains(b))
        .collect();
    if !still.is_empty() {
        return Err(Error::failed(format!(
            "change {id} completed but brokers {still:?} are still members"
        )));
    }
    Ok(Outcome::new(
        CMD,
        Status::Done,
        format!(
            "change {id} completed: brokers {remove:?} removed; members now {:?}, replication factor {}",
            after.member_ids(),
            after.replication_factor()
        ),
    )
    .with_plan(plan)
    .with_change(Some(id))
    .with_details(json!({"members": after.member_ids(), "replicationFactor": after.replication_factor()})))
}

/// `brokers add`: re-add the recreated region's brokers with the original replication factor
/// (failback step 7). A normal change: `force` is never sent with `add` (SPEC 3.1).
pub async fn brokers_add(
    session: &Session,
    selection: Selection,
    cluster_size: Option<u32>,
    replication_factor: Option<u32>,
) -> Result<Outcome> {
    const CMD: &str = "brokers add";
    let mgmt = session.management().await?;
    let t = mgmt.cluster().await?;
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
    if add.is_empty() && rf == current_rf {
        return Ok(Outcome::new(
            CMD,
            Status::AlreadyDone,
            format!(
                "the brokers are members and the replication factor is {rf} (members: {members:?})"
            ),
        )
        .with_details(json!({"members": members, "replicationFactor": rf})));
    }
    pending_refusal(&t)?;
    if !add.is_empty() {
        // The brokers must run, or the change waits for them forever.
        if let Ok(rest) = session.rest().await
            && let Ok(topo) = rest.topology().await
        {
            let missing: Vec<u32> = add
                .iter()
                .copied()
                .filter(|b| !topo.brokers.iter().any(|x| x.node_id == *b))
                .collect();
            if !missing.is_empty() {
                return Err(Error::refused(format!(
                    "brokers {missing:?} are not running (absent from /v2/topology): install the recreated region first \
                     (helm c8dr redeploy --region recreated --no-webapps --no-schema-manager)"
                )));
            }
        }
    }
    let patch = ClusterPatch {
        brokers: BrokersPatch {
            add: add.clone(),
            remove: vec![],
        },
        partitions: PartitionsPatch {
            replication_factor: Some(rf),
        },
    };
    let planned = mgmt.patch_cluster(&patch, true, false).await?;
    let mut plan = vec![
        format!(
            "PATCH /actuator/cluster {}",
            serde_json::to_string(&patch).unwrap_or_default()
        ),
        rf_reason,
    ];
    plan.extend(plan_lines(&planned));
    let summary = if add.is_empty() {
        format!("set the replication factor to {rf}")
    } else {
        format!("add brokers {add:?} with replication factor {rf}")
    };
    let id = match submit_patch(
        session,
        mgmt,
        CMD,
        &patch,
        false,
        planned.planned_changes.len(),
        &plan,
        &summary,
    )
    .await?
    {
        Ok(id) => id,
        Err(early) => return Ok(early),
    };
    let after = mgmt.cluster().await?;
    if after.replication_factor() != rf || add.iter().any(|b| !after.member_ids().contains(b)) {
        return Err(Error::failed(format!(
            "change {id} completed but the cluster has members {:?} and replication factor {} (expected {rf})",
            after.member_ids(),
            after.replication_factor()
        )));
    }
    Ok(Outcome::new(
        CMD,
        Status::Done,
        format!(
            "change {id} completed: members {:?}, replication factor {rf}",
            after.member_ids()
        ),
    )
    .with_plan(plan)
    .with_change(Some(id))
    .with_details(json!({"members": after.member_ids(), "replicationFactor": rf})))
}

/// The exporters, for `exporters list`.
#[derive(Debug, Serialize)]
pub struct ExporterList {
    pub exporters: Vec<ExporterStatus>,
}

impl Render for ExporterList {
    fn text(&self) -> String {
        table(
            &["EXPORTER", "STATUS", "REGION"],
            self.exporters
                .iter()
                .map(|e| {
                    let region = crate::region::region_of_exporter(&e.exporter_id)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into());
                    vec![e.exporter_id.clone(), e.status.clone(), region]
                })
                .collect(),
        )
    }
}

pub async fn exporters_list(session: &Session) -> Result<ExporterList> {
    let mgmt = session.management().await?;
    Ok(ExporterList {
        exporters: mgmt.exporters().await?,
    })
}

fn find_exporter<'a>(
    list: &'a [ExporterStatus],
    id: &str,
    flag: &str,
) -> Result<&'a ExporterStatus> {
    list.iter().find(|e| e.exporter_id == id).ok_or_else(|| {
        Error::usage(format!(
            "{flag}: unknown exporter '{id}'; the gateway knows {}",
            list.iter()
                .map(|e| e.exporter_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Wait until `GET /actuator/exporters` shows the target status (it lags briefly, SPEC 3.2).
async fn wait_exporter_status(
    session: &Session,
    mgmt: &ManagementClient,
    id: &str,
    target: &str,
) -> Result<()> {
    let mut poller = Poller::new(session.settings.timeout);
    loop {
        let list = mgmt.exporters().await?;
        let status = list
            .iter()
            .find(|e| e.exporter_id == id)
            .map(|e| e.status.as_str())
            .unwrap_or("missing");
        if status == target {
            return Ok(());
        }
        if !poller.tick().await {
            return Err(Error::Timeout {
                what: format!("exporter {id} still reports {status}, expected {target}"),
                after: humantime::format_duration(session.settings.timeout).to_string(),
            });
        }
    }
}

/// `exporters disable ID` (failover step 2) and `exporters enable ID [--initialize-from F]`
/// (failback step 5).
pub async fn exporter_set(
    session: &Session,
    id: &str,
    enable: bool,
    initialize_from: Option<&str>,
) -> Result<Outcome> {
    let cmd = if enable {
        "exporters enable"
    } else {
        "exporters disable"
    };
    let target = if enable { "ENABLED" } else { "DISABLED" };
    let mgmt = session.management().await?;
    let list = mgmt.exporters().await?;
    let current = find_exporter(&list, id, "exporter")?;
    if let Some(from) = initialize_from {
        find_exporter(&list, from, "--initialize-from")?;
        if from == id {
            return Err(Error::usage(format!(
                "--initialize-from {from}: an exporter cannot be initialised from itself"
            )));
        }
    }
    // The cluster configuration decides "already done": GET /actuator/exporters can still show
    // the previous state right after a change (SPEC 3.2).
    let t = mgmt.cluster().await?;
    let configured = t.exporter_state(id);
    if configured.as_deref().unwrap_or(current.status.as_str()) == target {
        return Ok(Outcome::new(
            cmd,
            Status::AlreadyDone,
            format!("exporter {id} is {target}"),
        ));
    }
    pending_refusal(&t)?;
    let call = match (enable, initialize_from) {
        (true, Some(f)) => format!(
            "POST /actuator/exporters/{id}/enable {}",
            json!({"initializeFrom": f})
        ),
        (true, None) => format!("POST /actuator/exporters/{id}/enable"),
        (false, _) => format!("POST /actuator/exporters/{id}/disable"),
    };
    let verb = if enable { "enable" } else { "disable" };
    let summary = match initialize_from {
        Some(f) => format!("{verb} exporter {id}, initialised from {f}"),
        None => format!("{verb} exporter {id} (currently {})", current.status),
    };
    let plan = vec![
        call,
        format!("then wait for the change to complete and for {id} to report {target}"),
    ];
    if session.settings.dry_run {
        return Ok(Outcome::new(cmd, Status::DryRun, summary).with_plan(plan));
    }
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let planned = if enable {
        mgmt.exporter_enable(id, initialize_from).await?
    } else {
        mgmt.exporter_disable(id).await?
    };
    let change = (!planned.planned_changes.is_empty()).then_some(planned.change_id);
    if session.settings.no_wait {
        return Ok(Outcome::new(cmd, Status::Submitted, summary)
            .with_plan(plan)
            .with_change(change));
    }
    if let Some(cid) = change {
        wait_for_change(session, mgmt, cid, &summary).await?;
    }
    wait_exporter_status(session, mgmt, id, target).await?;
    Ok(
        Outcome::new(cmd, Status::Done, format!("exporter {id} is {target}"))
            .with_plan(plan)
            .with_change(change),
    )
}

/// How long a pause or resume may take to show on every broker after the gateway accepted it.
const PHASE_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

fn phase_word(soft: bool) -> &'static str {
    if soft { "SOFT_PAUSED" } else { "PAUSED" }
}

fn first(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(", …");
    }
    s
}

/// `exporting pause [--soft]` (failback step 3). The pause state is read on every broker first
/// (SPEC 3.3): a hard pause over a soft one is refused (camunda/camunda#55838), a pause already in
/// place is "already done". The pause needs every partition complete and is not atomic: retried a
/// few times, then reverted with a resume. Success is reported only once every partition of every
/// broker that can be read shows the pause.
pub async fn exporting_pause(session: &Session, soft: bool) -> Result<Outcome> {
    const CMD: &str = "exporting pause";
    let mgmt = session.management().await?;
    let call = format!(
        "POST /actuator/exporting/pause{}",
        if soft { "?soft=true" } else { "" }
    );
    let target = phase_word(soft);
    let plan = vec![
        call,
        "judged by the body's status (HTTP 200 wraps the real result)".into(),
        format!(
            "verified on every broker pod: GET /actuator/partitions shows {target} on each partition"
        ),
    ];
    let summary = if soft {
        "soft-pause exporting"
    } else {
        "pause exporting"
    }
    .to_string();
    let before = super::exporting::observe(session).await;
    if !soft && before.count_in("SOFT_PAUSED") > 0 {
        let soft_on: Vec<String> = before
            .replicas()
            .filter(|(_, p)| p.exporter_phase.as_deref() == Some("SOFT_PAUSED"))
            .map(|(b, p)| format!("{} partition {}", b.pod, p.partition))
            .collect();
        return Err(Error::refused(format!(
            "exporting is soft-paused ({}): a hard pause over a soft pause corrupts the brokers' pause \
             state (camunda/camunda#55838). Resume first, then pause: kubectl c8dr exporting resume, \
             then kubectl c8dr exporting pause",
            first(&soft_on, 4)
        )));
    }
    if before.observed() && before.not_in(target).is_empty() {
        return Ok(Outcome::new(
            CMD,
            Status::AlreadyDone,
            format!(
                "exporting is already {}paused: {} partition replicas on {} brokers show {target}",
                if soft { "soft-" } else { "" },
                before.count_in(target),
                before.brokers_read()
            ),
        )
        .with_plan(plan)
        .with_details(serde_json::to_value(&before).unwrap_or_default()));
    }
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Status::DryRun, summary).with_plan(plan));
    }
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let mut last = None;
    for attempt in 1..=4u32 {
        match mgmt.exporting_pause(soft).await {
            Ok(()) => {
                let after = super::exporting::wait_for_phase(session, target, PHASE_SETTLE).await;
                let missing = after.not_in(target);
                if !missing.is_empty() {
                    last = Some(Error::failed(format!(
                        "the gateway reported the pause, but {} partition replicas do not show {target}: {}",
                        missing.len(),
                        first(&missing, 4)
                    )));
                    break;
                }
                if soft {
                    // camunda/camunda#55838: a hard pause over a soft one corrupts the pause file.
                    session.ui.note(
                        "to switch to a hard pause later, resume first (kubectl c8dr exporting resume): \
                         a hard pause over a soft one corrupts the brokers' pause state",
                    );
                }
                let verified = if after.observed() {
                    format!(
                        "; verified: {} partition replicas on {} brokers show {target}",
                        after.count_in(target),
                        after.brokers_read()
                    )
                } else {
                    format!(
                        "; NOT verified: the brokers' /actuator/partitions could not be read ({})",
                        after.unread().join("; ")
                    )
                };
                return Ok(Outcome::new(
                    CMD,
                    Status::Done,
                    format!(
                        "exporting is {}paused{verified}",
                        if soft { "soft-" } else { "" }
                    ),
                )
                .with_plan(plan)
                .with_details(serde_json::to_value(&after).unwrap_or_default()));
            }
            Err(e @ Error::Api { .. }) => {
                session
                    .ui
                    .note(format!("pause attempt {attempt} failed: {e}"));
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(250 * u64::from(attempt)))
                    .await;
            }
            Err(e) => return Err(e),
        }
    }
    // Some partitions may have paused (the broadcast is not atomic): revert so log compaction is
    // not left stopped — unless the brokers show that nothing paused (e.g. the topology was
    // incomplete: the gateway then sends nothing, and would refuse the resume just the same).
    let view = super::exporting::observe(session).await;
    let stopped = view.count_in("PAUSED") + view.count_in("SOFT_PAUSED");
    let revert = if view.observed() && stopped == 0 {
        format!(
            "no partition was paused (observed on {} brokers): nothing to revert",
            view.brokers_read()
        )
    } else {
        match mgmt.exporting_resume().await {
            Ok(()) => "exporting was resumed to revert a partial pause".to_string(),
            Err(e) => format!(
                "resuming to revert a partial pause ALSO failed ({e}): run kubectl c8dr exporting resume"
            ),
        }
    };
    Err(Error::failed(format!(
        "pausing exporting failed: {}; {revert}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// `exporting resume` (failback step 6), verified on the brokers like a pause.
pub async fn exporting_resume(session: &Session) -> Result<Outcome> {
    const CMD: &str = "exporting resume";
    let mgmt = session.management().await?;
    let plan = vec![
        "POST /actuator/exporting/resume".to_string(),
        "verified on every broker pod: GET /actuator/partitions shows EXPORTING on each partition"
            .to_string(),
    ];
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Status::DryRun, "resume exporting").with_plan(plan));
    }
    session.ui.confirm("Plan: resume exporting", &plan)?;
    mgmt.exporting_resume().await?;
    let after = super::exporting::wait_for_phase(session, "EXPORTING", PHASE_SETTLE).await;
    let missing = after.not_in("EXPORTING");
    if !missing.is_empty() {
        return Err(Error::failed(format!(
            "the gateway reported the resume, but {} partition replicas are still not exporting: {}; \
             run kubectl c8dr exporting resume again",
            missing.len(),
            first(&missing, 4)
        )));
    }
    let verified = if after.observed() {
        format!(
            "; verified: {} partition replicas on {} brokers show EXPORTING",
            after.count_in("EXPORTING"),
            after.brokers_read()
        )
    } else {
        String::new()
    };
    Ok(
        Outcome::new(CMD, Status::Done, format!("exporting is resumed{verified}"))
            .with_plan(plan)
            .with_details(serde_json::to_value(&after).unwrap_or_default()),
    )
}

/// `changes show`: the pending and last change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesView {
    pub pending_change: Option<crate::zeebe::model::PendingChange>,
    pub last_change: Option<crate::zeebe::model::LastChange>,
}

impl Render for ChangesView {
    fn text(&self) -> String {
        let mut s = String::new();
        match &self.pending_change {
            Some(p) => {
                s.push_str(&format!(
                    "pending change {}: {} ({} of {} operations done)\n",
                    p.id,
                    p.status,
                    p.completed.len(),
                    p.completed.len() + p.pending.len()
                ));
                for op in p.pending.iter().take(10) {
                    s.push_str(&format!("  next: {}\n", op.describe()));
                }
            }
            None => s.push_str("no change in progress\n"),
        }
        if let Some(l) = &self.last_change {
            s.push_str(&format!(
                "last change {}: {}{}\n",
                l.id,
                l.status,
                l.completed_at
                    .as_deref()
                    .map(|c| format!(" at {c}"))
                    .unwrap_or_default()
            ));
        }
        s
    }
}

pub async fn changes_show(session: &Session) -> Result<ChangesView> {
    let t = session.management().await?.cluster().await?;
    Ok(ChangesView {
        pending_change: t.pending_change,
        last_change: t.last_change,
    })
}

/// `changes wait [ID]`: the given change, else the pending one.
pub async fn changes_wait(session: &Session, id: Option<i64>) -> Result<Outcome> {
    let mgmt = session.management().await?;
    let t = mgmt.cluster().await?;
    let id = match id.or(t.pending_change.as_ref().map(|p| p.id)) {
        Some(id) => id,
        None => {
            return Ok(Outcome::new(
                "changes wait",
                Status::AlreadyDone,
                match &t.last_change {
                    Some(l) => format!("no change in progress; last change {} {}", l.id, l.status),
                    None => "no change in progress".into(),
                },
            ));
        }
    };
    wait_for_change(session, mgmt, id, &format!("change {id}")).await?;
    Ok(Outcome::new(
        "changes wait",
        Status::Done,
        format!("change {id} completed"),
    )
    .with_change(Some(id)))
}

/// `changes cancel ID`: applied operations are NOT rolled back; confirmed with the operator.
pub async fn changes_cancel(session: &Session, id: i64) -> Result<Outcome> {
    const CMD: &str = "changes cancel";
    let mgmt = session.management().await?;
    let t = mgmt.cluster().await?;
    match &t.pending_change {
        Some(p) if p.id == id => {}
        Some(p) => {
            return Err(Error::usage(format!(
                "change {id} is not in progress (the pending change is {})",
                p.id
            )));
        }
        None => {
            if t.last_change
                .as_ref()
                .is_some_and(|l| l.id == id && l.status == "CANCELLED")
            {
                return Ok(Outcome::new(
                    CMD,
                    Status::AlreadyDone,
                    format!("change {id} is cancelled"),
                ));
            }
            return Err(Error::usage(format!(
                "change {id} is not in progress (no change is pending)"
            )));
        }
    }
    let plan = vec![
        format!("DELETE /actuator/cluster/changes/{id}"),
        "operations already applied are NOT rolled back; the cluster keeps the partial configuration".into(),
    ];
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Status::DryRun, format!("cancel change {id}")).with_plan(plan),
        );
    }
    session
        .ui
        .confirm(&format!("Plan: cancel change {id}"), &plan)?;
    mgmt.cancel_change(id).await?;
    Ok(
        Outcome::new(CMD, Status::Done, format!("change {id} cancelled"))
            .with_plan(plan)
            .with_change(Some(id)),
    )
}

/// `topology`: the v2 view (reachable brokers with partition roles and health).
#[derive(Debug, Serialize)]
pub struct TopologyView(pub Topology);

impl Render for TopologyView {
    fn text(&self) -> String {
        let t = &self.0;
        let mut brokers = t.brokers.clone();
        brokers.sort_by_key(|b| b.node_id);
        let rows = brokers
            .iter()
            .map(|b| {
                let mut parts: BTreeMap<u32, String> = BTreeMap::new();
                for p in &b.partitions {
                    let role = match p.role.as_str() {
                        "leader" => "L",
                        "follower" => "F",
                        _ => "I",
                    };
                    parts.insert(
                        p.partition_id,
                        format!(
                            "{}{role}{}",
                            p.partition_id,
                            if p.health == "healthy" { "" } else { "!" }
                        ),
                    );
                }
                vec![
                    b.node_id.to_string(),
                    crate::region::RegionId::of_broker(b.node_id).to_string(),
                    if b.partitions.is_empty() {
                        "(not a member)".into()
                    } else {
                        parts.into_values().collect::<Vec<_>>().join(" ")
                    },
                    b.version.clone(),
                ]
            })
            .collect();
        format!(
            "cluster size {}, partitions {}, replication factor {}, gateway {}, last completed change {}\n{}",
            t.cluster_size,
            t.partitions_count,
            t.replication_factor,
            t.gateway_version,
            t.last_completed_change_id,
            table(
                &[
                    "BROKER",
                    "REGION",
                    "PARTITIONS (L=leader F=follower !=unhealthy)",
                    "VERSION"
                ],
                rows
            )
        )
    }
}

pub async fn topology(session: &Session) -> Result<TopologyView> {
    Ok(TopologyView(session.rest().await?.topology().await?))
}
