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
use crate::region::RegionId;
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::brokers::{self, Selection};
use crate::zeebe::change::{Follow, Intent, baseline};
use crate::zeebe::model::{
    BrokersPatch, ClusterPatch, ClusterTopology, PartitionsPatch, PlannedOperations,
};
use crate::zeebe::zones::{AddZone, InstalledZone, ZoneMap};

/// The gateway's planned operations, one line each, its brokers named as the cluster names
/// them (`us-east1_0` on a zone-aware cluster).
pub(super) fn plan_lines(mgmt: &ManagementClient, planned: &PlannedOperations) -> Vec<String> {
    planned
        .planned_changes
        .iter()
        .map(|op| match mgmt.zones() {
            Some(map) => op.describe_with(&|b| map.label(b)),
            None => op.describe(),
        })
        .collect()
}

/// What a membership change sends: a cluster PATCH by broker ids, or on a zone-aware cluster
/// the Zones API, which removes and re-adds a whole zone (docs/zone-aware.md).
enum Request {
    /// `PATCH /actuator/cluster`; `force`: a forced removal (never with `add`,
    /// docs/api-behaviour.md §1).
    Patch { body: ClusterPatch, force: bool },
    /// `DELETE /actuator/cluster/zones/{zone}?force=true`.
    RemoveZone { zone: String },
    /// `POST /actuator/cluster/zones/{zone}`.
    AddZone { zone: String, body: AddZone },
}

impl Request {
    async fn send(&self, mgmt: &ManagementClient, dry_run: bool) -> Result<PlannedOperations> {
        match self {
            Self::Patch { body, force } => mgmt.patch_cluster(body, dry_run, *force).await,
            Self::RemoveZone { zone } => mgmt.remove_zone(zone, dry_run).await,
            Self::AddZone { zone, body } => mgmt.add_zone(zone, body, dry_run).await,
        }
    }

    /// The call, as a log line names it.
    fn call(&self) -> String {
        match self {
            Self::Patch { force, .. } => format!(
                "PATCH /actuator/cluster{}",
                if *force { "?force=true" } else { "" }
            ),
            Self::RemoveZone { zone } => {
                format!("DELETE /actuator/cluster/zones/{zone}?force=true")
            }
            Self::AddZone { zone, .. } => format!("POST /actuator/cluster/zones/{zone}"),
        }
    }

    /// The call with its body, as the plan shows it.
    fn shown(&self) -> String {
        let body = match self {
            Self::Patch { body, .. } => serde_json::to_string(body).ok(),
            Self::RemoveZone { .. } => None,
            Self::AddZone { body, .. } => serde_json::to_string(body).ok(),
        };
        match body {
            Some(b) => format!("{} {b}", self.call()),
            None => self.call(),
        }
    }
}

/// A membership change, planned and validated by its command.
struct Patch<'a> {
    cmd: &'static str,
    request: Request,
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
            request,
            before,
            intent,
            mut pending,
            summary,
            mut plan,
        } = self;
        let call = request.call();
        let mut prompt = None;
        let settings = &session.settings;
        if settings.dry_run && !settings.server_dry_run {
            // `--dry-run=client`, as kubectl's: nothing is sent, not even the gateway's dry run.
            plan.push(
                "(the gateway's own plan of the operations: --dry-run=server asks it)".into(),
            );
        } else if pending.is_none() {
            // The dry run goes to the lowest surviving member too: it works with the coordinator lost.
            match request.send(mgmt, true).await {
                Ok(planned) => {
                    prompt = Some(format!(
                        "Plan: {summary} ({} operations)",
                        planned.planned_changes.len()
                    ));
                    plan.extend(plan_lines(mgmt, &planned));
                }
                // A change runs that the cluster read did not show (the coordinator is lost, an
                // interrupted run's change): followed as a concurrent run's is, nothing sent
                // (attack A3: every re-run was a raw 409 until it ended).
                Err(e) if e.is_conflict() => {
                    let after = baseline(before);
                    pending = Some(recover(session, mgmt, &call, after, &intent, e).await?);
                }
                Err(e) => return Err(e),
            }
        }
        let mut run = Mutation::new(session, cmd, summary.clone(), plan).following(pending);
        if let Some(p) = prompt {
            run = run.prompt(p);
        }
        run.run(
            async || request.send(mgmt, false).await.map(started),
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
            format!(
                "none of the selected brokers is a member (members: {})",
                mgmt.names(&members)
            ),
        )
        .with_details(json!({"members": members})));
    }
    let intent = Intent::Remove(remove.clone());
    let (request, summary) = match mgmt.zones() {
        Some(map) => {
            let zone = whole_zone(map, &remove, &members)?;
            let summary = format!("force-remove zone {zone} (brokers {})", map.labels(&remove));
            (Request::RemoveZone { zone }, summary)
        }
        None => (
            Request::Patch {
                body: ClusterPatch {
                    brokers: BrokersPatch {
                        remove: remove.clone(),
                        add: vec![],
                    },
                    ..Default::default()
                },
                force: true,
            },
            format!("force-remove brokers {remove:?}"),
        ),
    };
    let pending = follow_pending(session, &t, &intent)?;
    if pending.is_none() {
        no_disabled_tenant(&t)?;
        removal_evidence(session, &remove, &members, skip_liveness_check).await?;
    }
    let plan = vec![request.shown()];
    let finish =
        async |completed: Option<i64>, plan| removed(session, mgmt, &remove, completed, plan).await;
    Patch {
        cmd: CMD,
        request,
        before: &t,
        intent,
        pending,
        summary,
        plan,
    }
    .run(session, mgmt, finish)
    .await
}

/// On a zone-aware cluster a region's brokers leave together: the Zones API removes a whole
/// zone. The brokers to remove must be every member of one region; that region's zone is sent.
fn whole_zone(map: &ZoneMap, remove: &[u32], members: &[u32]) -> Result<String> {
    let region = RegionId::of_broker(remove[0]);
    let zone_members: Vec<u32> = members
        .iter()
        .copied()
        .filter(|b| region.holds(*b))
        .collect();
    if remove.iter().any(|b| !region.holds(*b)) || remove != zone_members.as_slice() {
        return Err(Error::usage(format!(
            "the brokers are zone-aware: the Zones API removes a whole zone, every member of one \
             region at once (members of {}: {}); select the region with --{}",
            region.name(),
            map.labels(&zone_members),
            region.parity()
        )));
    }
    Ok(map.require_zone(region)?.to_string())
}

/// A disabled physical tenant (8.10) still holds its partitions, and no broker holding them may
/// leave, forcibly or not (camunda/camunda#60344): the removal would be refused half-way
/// through the procedure. Refused before anything is sent, with what discards it.
fn no_disabled_tenant(t: &ClusterTopology) -> Result<()> {
    let disabled: Vec<&str> = t
        .physical_tenants
        .iter()
        .filter(|p| p.disabled)
        .map(|p| p.id.as_str())
        .collect();
    if disabled.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "physical tenant(s) {} are disabled but still hold partitions, so no broker holding them can \
         leave the cluster (camunda/camunda#60344). Discard each on the management port of a surviving \
         broker first — DELETE /actuator/cluster/physical-tenants/<id>?force=true (it keeps the \
         tenant's data) — or enable it again in the brokers' configuration; then re-run",
        disabled.join(", ")
    )))
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
            "{change} completed but brokers {} are still members",
            mgmt.names(&still)
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: brokers {} removed; members now {}, replication factor {}",
            mgmt.names(remove),
            mgmt.names(&after_t.member_ids()),
            after_t.replication_factor()
        ),
    )
    .with_plan(plan)
    .with_change(completed)
    .with_details(
        json!({"members": after_t.member_ids(), "replicationFactor": after_t.replication_factor()}),
    ))
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
    if let Some(map) = mgmt.zones() {
        return zone_add(session, mgmt, map, &t, &selection, replication_factor).await;
    }
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
        check_running(session, mgmt, &add).await?;
    }
    let request = Request::Patch {
        body: ClusterPatch {
            brokers: BrokersPatch {
                add: add.clone(),
                remove: vec![],
            },
            partitions: PartitionsPatch {
                replication_factor: Some(rf),
            },
        },
        force: false,
    };
    let summary = if add.is_empty() {
        format!("set the replication factor to {rf}")
    } else {
        format!("add brokers {add:?} with replication factor {rf}")
    };
    let plan = vec![request.shown(), rf_reason];
    let finish = async |id: Option<i64>, plan| added(mgmt, &add, rf, id, plan).await;
    Patch {
        cmd: CMD,
        request,
        before: &t,
        intent,
        pending,
        summary,
        plan,
    }
    .run(session, mgmt, finish)
    .await
}

/// The zone `brokers add` re-adds: the selected region's, with every broker the installation's
/// configuration gives it.
fn zone_to_add(map: &ZoneMap, selection: &Selection) -> Result<(String, InstalledZone, Vec<u32>)> {
    let region = match selection {
        Selection::Parity(r) => *r,
        Selection::Ids(ids) => {
            let region = ids.first().map(|b| RegionId::of_broker(*b));
            match region {
                Some(r) if ids.iter().all(|b| r.holds(*b)) => r,
                _ => {
                    return Err(Error::usage(
                        "the brokers are zone-aware: the Zones API re-adds a whole zone; select \
                         the recreated region with --odd (region 1) or --even (region 0)",
                    ));
                }
            }
        }
    };
    let zone = map.require_zone(region)?.to_string();
    let installed = map.installed(&zone).cloned().ok_or_else(|| {
        Error::refused(format!(
            "the configuration lists no zone {zone} under camunda.cluster.partitioning.zone-aware.zones: \
             its brokers, replicas and priority cannot be read, and c8dr does not guess them"
        ))
    })?;
    let add: Vec<u32> = (0..installed.brokers)
        .map(|n| n * 2 + region.index() as u32)
        .collect();
    if let Selection::Ids(ids) = selection
        && ids != &add
    {
        return Err(Error::usage(format!(
            "the brokers are zone-aware: zone {zone} is re-added with all its brokers ({})",
            map.labels(&add)
        )));
    }
    Ok((zone, installed, add))
}

/// What a zone re-add would refuse that the cluster read at a failback's start already shows
/// (the recreated region's zone missing from the configuration, or still in the layout without
/// its brokers): the failback meets it before its first mutation, in a dry run too (attack A4:
/// it paused exporting, copied Elasticsearch and enabled the exporter, then refused at the
/// re-add).
pub(super) fn zone_readd_refusal(
    mgmt: &ManagementClient,
    t: &ClusterTopology,
    lost: RegionId,
) -> Result<()> {
    let Some(map) = mgmt.zones() else {
        return Ok(());
    };
    let (zone, _, add) = zone_to_add(map, &Selection::Parity(lost))?;
    zone_back(map, t, &zone, &add).map(|_| ())
}

/// The zone is back already (a re-run): the outcome; or in the layout without its brokers, a
/// state the Zones API cannot repair: refused.
fn zone_back(
    map: &ZoneMap,
    t: &ClusterTopology,
    zone: &str,
    add: &[u32],
) -> Result<Option<Outcome>> {
    const CMD: &str = "brokers add";
    let members = t.member_ids();
    if !t.partitioning.as_ref().is_some_and(|p| p.has_zone(zone)) {
        return Ok(None);
    }
    let missing: Vec<u32> = add
        .iter()
        .copied()
        .filter(|b| !members.contains(b))
        .collect();
    if !missing.is_empty() {
        return Err(Error::refused(format!(
            "zone {zone} is in the cluster's layout but brokers {} are not members: the Zones API \
             re-adds only a zone it no longer has (removed by broker ids rather than by zone?); \
             see docs/zone-aware.md",
            map.labels(&missing)
        )));
    }
    let rf = t.replication_factor();
    Ok(Some(
        Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "zone {zone} is in the cluster with brokers {} (replication factor {rf})",
                map.labels(add)
            ),
        )
        .with_details(json!({"members": members, "replicationFactor": rf, "zone": zone})),
    ))
}

/// `brokers add` on a zone-aware cluster: the recreated region's zone goes back into the
/// cluster with the Zones API, with the brokers, replicas and priority the installation's
/// configuration gives it (the cluster forgot them when the forced removal dropped the zone).
/// The replication factor follows: the sum of the zones' replicas.
async fn zone_add(
    session: &Session,
    mgmt: &ManagementClient,
    map: &ZoneMap,
    t: &ClusterTopology,
    selection: &Selection,
    replication_factor: Option<u32>,
) -> Result<Outcome> {
    const CMD: &str = "brokers add";
    let (zone, installed, add) = zone_to_add(map, selection)?;
    let current_rf = t.replication_factor();
    if let Some(done) = zone_back(map, t, &zone, &add)? {
        return Ok(done);
    }
    let rf = current_rf + installed.replicas;
    if let Some(stated) = replication_factor
        && stated != rf
    {
        return Err(Error::usage(format!(
            "the brokers are zone-aware: the replication factor is the sum of the zones' replicas, \
             {rf} once zone {zone} is back with its {} (--replication-factor {stated} cannot be set)",
            installed.replicas
        )));
    }
    let intent = Intent::Add(add.clone());
    let pending = follow_pending(session, t, &intent)?;
    if pending.is_none() {
        check_running(session, mgmt, &add).await?;
    }
    let request = Request::AddZone {
        zone: zone.clone(),
        body: AddZone {
            number_of_replicas: installed.replicas,
            priority: installed.priority,
            brokers: add.iter().map(|b| map.label(*b)).collect(),
        },
    };
    let summary = format!(
        "re-add zone {zone} (brokers {}) with {} replicas: replication factor {rf}",
        map.labels(&add),
        installed.replicas
    );
    let plan = vec![
        request.shown(),
        format!(
            "zone {zone}: {} brokers, {} replicas, priority {} (the installation's configuration)",
            installed.brokers, installed.replicas, installed.priority
        ),
    ];
    let finish = async |id: Option<i64>, plan| added(mgmt, &add, rf, id, plan).await;
    Patch {
        cmd: CMD,
        request,
        before: t,
        intent,
        pending,
        summary,
        plan,
    }
    .run(session, mgmt, finish)
    .await
}

/// The brokers to add must run, or the change waits for them forever: listed by `/v2/topology`,
/// else (it cannot be read) with Ready pods in their region's cluster. Neither readable:
/// refused, never taken for "they run" (attack A7: a re-add of a lost region's brokers never
/// completes and blocks every later change).
async fn check_running(session: &Session, mgmt: &ManagementClient, add: &[u32]) -> Result<()> {
    let topology = match session.rest().await {
        Ok(rest) => rest.topology().await,
        Err(e) => Err(e),
    };
    let install = Action::InstallRecreated.step().command(&Fill::default());
    let missing: Vec<u32> = match topology {
        Ok(topo) => add
            .iter()
            .copied()
            .filter(|b| !topo.brokers.iter().any(|x| x.node_id == *b))
            .collect(),
        Err(e) => {
            let (ready, unchecked, _) = super::liveness::ready_brokers(session, add).await;
            if let Some((region, why)) = unchecked.first() {
                return Err(Error::refused(format!(
                    "cannot tell whether brokers {} run: /v2/topology could not be read ({e}) and \
                     the broker pods of {region} could not be checked ({why}); a re-add of brokers \
                     that do not run never completes",
                    mgmt.names(add)
                )));
            }
            add.iter().copied().filter(|b| !ready.contains(b)).collect()
        }
    };
    if !missing.is_empty() {
        return Err(Error::refused(format!(
            "brokers {} are not running (absent from /v2/topology, or without a Ready pod when it \
             cannot be read): install the recreated region first ({install})",
            mgmt.names(&missing)
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
            "{change} completed but the cluster has members {} and replication factor {} (expected {rf})",
            mgmt.names(&after.member_ids()),
            after.replication_factor()
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: members {}, replication factor {rf}",
            mgmt.names(&after.member_ids())
        ),
    )
    .with_plan(plan)
    .with_change(id)
    .with_details(json!({"members": after.member_ids(), "replicationFactor": rf})))
}
