//! `kubectl c8dr failover`: the failover's steps (pre-flight checks, then each step verified and
//! idempotent, so an interrupted run converges when re-run). Its steps, their numbers and
//! commands come from the procedure's table ([`crate::procedure::steps`]).

use std::time::Instant;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::brokers::{brokers_remove, plan_lines};
use super::driver::Steps;
use super::exporters::exporter_set;
use super::{Ending, Outcome};
use crate::error::{Error, Result, ResultExt};
use crate::procedure::{Action, Fill, Phase, Stage, Step};
use crate::region::RegionId;
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::brokers::{Selection, region_without_live_members, to_remove};
use crate::zeebe::model::ClusterTopology;

/// Pre-flight of a failover, pure: which region is lost and whether the survivors can carry on.
pub fn failover_preflight(
    t: &ClusterTopology,
    alive: &[u32],
    stated: Option<RegionId>,
) -> Result<RegionId> {
    let members = t.member_ids();
    // A pending change is judged by each step: one that does the step's work (an earlier or a
    // concurrent run) is followed, any other refused with its id and the way out.
    let detected = region_without_live_members(&members, alive);
    let lost = match (stated, detected) {
        (Some(s), Some(d)) if s != d => {
            return Err(Error::refused(format!(
                "--lost {s} was given, but {d} is the region whose brokers are unreachable ({s} has live brokers)"
            )));
        }
        (Some(s), _) => s,
        (None, Some(d)) => d,
        // the forced removal of the lost brokers already done: one region has no members left.
        (None, None) => match [RegionId::ZERO, RegionId::ONE]
            .into_iter()
            .find(|r| !members.iter().any(|m| r.holds(*m)))
        {
            Some(r) => r,
            None => {
                return Err(Error::refused(
                    "no region looks lost: brokers of both regions are alive; name it with --lost if you are sure",
                ));
            }
        },
    };
    let live_in_lost: Vec<u32> = members
        .iter()
        .copied()
        .filter(|m| lost.holds(*m) && alive.contains(m))
        .collect();
    if !live_in_lost.is_empty() {
        return Err(Error::refused(format!(
            "{lost} is not lost: its brokers {live_in_lost:?} are alive"
        )));
    }
    for (p, holders) in t.partition_members() {
        if !holders.iter().any(|h| !lost.holds(*h) && alive.contains(h)) {
            return Err(Error::refused(format!(
                "partition {p} has no live replica outside {lost} (replicas {holders:?}): a forced removal would lose it"
            )));
        }
    }
    Ok(lost)
}

/// The gateway's own plan of the forced removal (its `dryRun`, which also works with the
/// coordinator lost: it goes to the lowest retained member, docs/api-behaviour.md §1), shown before the operator
/// is asked: the brokers that go and the replication factor before → after. Nothing to show when
/// the lost brokers are no members any more (a re-run); a failed dry run is said, not fatal (the
/// step itself plans again and stops on a real error).
async fn gateway_plan(
    mgmt: &crate::zeebe::ManagementClient,
    t: &ClusterTopology,
    lost: RegionId,
    rf_before: u32,
) -> Vec<String> {
    use crate::zeebe::model::{BrokersPatch, ClusterPatch};
    let remove = to_remove(&Selection::Parity(lost), &t.member_ids());
    if remove.is_empty() {
        return vec![];
    }
    let body = ClusterPatch {
        brokers: BrokersPatch {
            remove: remove.clone(),
            add: vec![],
        },
        ..Default::default()
    };
    // A zone-aware cluster removes the lost region's zone (the step sends that): its dry run is
    // the plan, shown with the cluster's broker ids (attack A2: a PATCH by c8dr's numbers was
    // refused by the gateway, and the plan was missing).
    let planned = match mgmt.zones() {
        Some(map) => match map.require_zone(lost) {
            Ok(zone) => mgmt.remove_zone(zone, true).await,
            Err(e) => Err(e),
        },
        None => mgmt.patch_cluster(&body, true, true).await,
    };
    match planned {
        Ok(planned) => {
            let after = ClusterTopology {
                brokers: planned.expected_topology.clone(),
                ..Default::default()
            };
            let mut lines = vec![format!(
                "  the gateway plans {} operations: brokers {} removed, replication factor {} -> {}",
                planned.planned_changes.len(),
                mgmt.names(&remove),
                rf_before,
                after.replication_factor()
            )];
            lines.extend(
                plan_lines(mgmt, &planned)
                    .iter()
                    .map(|l| format!("    {l}")),
            );
            lines
        }
        Err(e) => vec![format!(
            "  (the gateway's dry run of the removal failed: {e}; the step plans again before sending)"
        )],
    }
}

/// What the phase of the procedure (as `status` detects it) says before any failover step:
/// `Some` when the failover is already done (a failback is under way: the lost region's
/// brokers are no members and the region runs again), an error when it must not run on what is
/// seen, `None` when the steps decide.
pub fn phase_first(
    report: &super::status::StatusReport,
    stated: Option<RegionId>,
) -> Result<Option<Outcome>> {
    let v = &report.procedure;
    let lost = v.lost_region;
    match v.phase {
        Phase::Failback => {
            let Some(lost) = lost.filter(|l| stated.is_none_or(|s| s == *l)) else {
                return Ok(None);
            };
            let members = report
                .cluster
                .as_ref()
                .map(|c| c.members.clone())
                .unwrap_or_default();
            if members.iter().any(|m| lost.holds(*m)) {
                // Brokers of that region are members again (the brokers' re-add and after): if they are
                // down now, that is a new loss, for the steps' own checks to judge.
                return Ok(None);
            }
            let next = v.next.clone().unwrap_or_default();
            Ok(Some(
                Outcome::new(
                    "failover",
                    Ending::AlreadyDone,
                    format!(
                        "the failover of {lost} is already done: its brokers are no members and the failback is \
                         under way (at {}); nothing sent. next: {next}",
                        v.line().split(": next:").next().unwrap_or_default()
                    ),
                )
                // The driver's document: no step was run.
                .with_details(json!({"lostRegion": lost.to_string(), "steps": [], "next": next})),
            ))
        }
        Phase::Unknown | Phase::Healthy if report.regions.iter().any(|r| !r.configured) => {
            // A region the environment does not locate, and no evidence that it is lost (with
            // evidence, detection names the failover).
            let mut why = vec![v.what.clone()];
            why.extend(report.notes.iter().chain(&v.notes).cloned());
            Err(Error::refused(format!(
                "nothing shows that a region is lost: {}",
                why.join("; ")
            )))
        }
        _ => Ok(None),
    }
}

/// `kubectl c8dr failover [--lost REGION]`: the failover's steps against the surviving region.
/// With region 0 lost the coordinator (broker 0) is dead: membership and liveness come from
/// `/v2/topology`, and the exporters are read once the forced removal has made broker 1 the
/// coordinator (docs/api-behaviour.md §1 "Routing").
///
/// A pipeline of stages: phase → evidence and safety → plan → confirm → act → report. Its steps
/// are the table's kubectl failover steps, each with an [`Executor`] in [`EXECUTORS`] found by its
/// [`Action`]; the loops in [`plan`] and [`act`] do not name a step.
pub async fn failover(session: &Session, stated: Option<RegionId>) -> Result<Outcome> {
    // A context this command names must exist before any region is probed: bad input reaches
    // no cluster (docs/contract.md §4 rule 8). Building the client reads only the kubeconfig.
    if session.settings.location.context.is_some() {
        session.kube().await?;
    }
    // An installation c8dr does not support is refused before anything (docs/contract.md §4
    // rule 13).
    session.facts().await?;
    // The phase first: during a failback the failover is done, and its steps would undo the
    // failback's (disable the exporter the exporter's enable enabled again).
    let report = super::status::status(session, super::status::PROBE_TIMEOUT).await?;
    if let Some(out) = phase_first(&report, stated)? {
        return Ok(out);
    }
    check_surviving_region(session, &report)?;
    let mgmt = session.management().await?;
    let run = evidence(session, mgmt, stated).await?;
    let plan = plan(&run)?;
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Ending::DryRun, format!("fail over from {}", run.lost))
                .with_plan(plan),
        );
    }
    // A re-run of a completed failover has nothing to ask about: each step says it is done.
    if !run.already_done {
        session
            .ui
            .confirm_all(&format!("Failover plan ({} lost):", run.lost), &plan)?;
    }
    let steps = act(&run).await?;
    Ok(report_of(&run, plan, steps))
}

const CMD: &str = "failover";

/// The environment's surviving region must not be the lost one: every call would go there.
fn check_surviving_region(session: &Session, report: &super::status::StatusReport) -> Result<()> {
    let v = &report.procedure;
    let (Some(flag), Some(lost)) = (&v.region_flag, v.lost_region) else {
        return Ok(());
    };
    if session.settings.location.id != Some(lost) {
        return Ok(());
    }
    let note = v.notes.first().cloned().unwrap_or_default();
    Err(Error::usage(format!(
        "{note}. Run: {}",
        crate::procedure::with_region_flag(&format!("{} ", crate::procedure::hint::FAILOVER), flag)
            .trim_end()
    )))
}

/// What a failover run established before its first mutation: what every step's plan and run
/// read.
struct Run<'a> {
    session: &'a Session,
    mgmt: &'a ManagementClient,
    lost: RegionId,
    fill: Fill,
    /// The plan's first line: the lost region and the evidence that it is lost.
    evidence: String,
    /// The lost region's exporters, when they can be listed (not while the coordinator is lost:
    /// they are read again after the removal).
    known_exporters: Option<Vec<String>>,
    /// The gateway's own plan of the removal (or why there is none).
    gateway_plan: Vec<String>,
    /// Every step is done already (the lost brokers are no members, its exporters DISABLED): a
    /// re-run says so without asking.
    already_done: bool,
}

/// Evidence and safety: the cluster, which brokers are alive, the lost region (pre-flight), the
/// removal's evidence (docs/contract.md §4 rule 2), the replication factor before, the exporters.
async fn evidence<'a>(
    session: &'a Session,
    mgmt: &'a ManagementClient,
    stated: Option<RegionId>,
) -> Result<Run<'a>> {
    let read = super::cluster::read_cluster(session, mgmt)
        .await
        .context("failover pre-flight")?;
    let t = read.cluster().clone();
    let alive = super::liveness::liveness(session, &t.member_ids()).await?;
    let lost = failover_preflight(&t, &alive.alive, stated)?;
    // The survivors' Ready pods are no evidence that the others are down: the topology must list
    // the brokers that remain and not the ones to remove.
    let lost_members = to_remove(&Selection::Parity(lost), &t.member_ids());
    crate::zeebe::brokers::check_removal(&lost_members, &t.member_ids(), &alive)?;
    let rf_before = replication_factor_before(session, &read, &t, lost).await?;
    let fill = Fill::of(lost, 0);
    let (known_exporters, exporters_disabled) = if read.coordinator_lost() {
        session.ui.note(format!(
            "the exporters cannot be listed while the coordinator is lost; they are read again after step {} (planned: {})",
            Action::RemoveBrokers.step().number(),
            fill.lost_exporter
        ));
        (None, false)
    } else {
        let exporters = mgmt.exporters().await?;
        let ids = lost_exporters_of(lost, &fill, &exporters);
        let disabled = ids.iter().all(|id| {
            exporters
                .iter()
                .any(|e| &e.exporter_id == id && e.status.eq_ignore_ascii_case("DISABLED"))
        });
        (Some(ids), disabled)
    };
    let evidence = if lost_members.is_empty() {
        format!("lost region: {lost} (its brokers are no members any more)")
    } else {
        format!(
            "lost region: {lost} (evidence: {})",
            alive.evidence_for(&lost_members, &t.member_ids())
        )
    };
    let gateway_plan = if session.settings.dry_run && !session.settings.server_dry_run {
        // `--dry-run=client`: nothing is sent, not even the gateway's dry run.
        vec!["  (the gateway's own plan of the removal: --dry-run=server asks it)".into()]
    } else {
        gateway_plan(mgmt, &t, lost, rf_before).await
    };
    Ok(Run {
        session,
        mgmt,
        lost,
        fill,
        evidence,
        known_exporters,
        gateway_plan,
        already_done: lost_members.is_empty() && exporters_disabled,
    })
}

/// The replication factor now: the cluster configuration's, or with the coordinator lost the
/// gateway's /v2/topology (the synthesized membership holds only the live brokers). Partitions
/// none of whose reachable replicas is listed are checked against /v2/topology's partition count:
/// a forced removal must not lose one.
async fn replication_factor_before(
    session: &Session,
    read: &super::cluster::ClusterRead,
    t: &ClusterTopology,
    lost: RegionId,
) -> Result<u32> {
    let rf_before = t.replication_factor();
    let super::cluster::ClusterRead::CoordinatorLost { .. } = read else {
        return Ok(rf_before);
    };
    let rest = session.rest().await?;
    let topo = rest.topology().await.context("failover pre-flight")?;
    let held: std::collections::BTreeSet<u32> = topo
        .brokers
        .iter()
        .filter(|b| !lost.holds(b.node_id))
        .flat_map(|b| b.partitions.iter().map(|p| p.partition_id))
        .collect();
    let orphaned: Vec<u32> = (1..=topo.partitions_count)
        .filter(|p| !held.contains(p))
        .collect();
    if !orphaned.is_empty() {
        return Err(Error::refused(format!(
            "partitions {orphaned:?} have no live replica outside {lost}: a forced removal would lose them"
        )));
    }
    Ok(rf_before.max(topo.replication_factor))
}

/// The lost region's exporters: 8.7-migrated installations may still carry its legacy id.
fn lost_exporters_of(
    lost: RegionId,
    fill: &Fill,
    exporters: &[crate::zeebe::model::ExporterStatus],
) -> Vec<String> {
    let ids: Vec<String> = exporters
        .iter()
        .filter(|e| crate::region::region_of_exporter(&e.exporter_id) == Some(lost))
        .map(|e| e.exporter_id.clone())
        .collect();
    if ids.is_empty() {
        vec![fill.lost_exporter.clone()]
    } else {
        ids
    }
}

/// The plan: the evidence, then each step's lines.
fn plan(run: &Run<'_>) -> Result<Vec<String>> {
    let mut plan = vec![run.evidence.clone()];
    for (step, exec) in executors()? {
        plan.extend((exec.plan)(run, step));
    }
    Ok(plan)
}

/// Act: each step in the table's order; each records what it ran as it ends.
async fn act(run: &Run<'_>) -> Result<Steps> {
    let mut steps = Steps::new(&run.session.ui);
    for (step, exec) in executors()? {
        let _journaled_as = crate::journal::in_step(step.tag());
        (exec.run)(run, step, &mut steps).await?;
    }
    Ok(steps)
}

/// Report: done (or already done when every step was), and the next command.
fn report_of(run: &Run<'_>, plan: Vec<String>, steps: Steps) -> Outcome {
    let lost = run.lost;
    let next = format!(
        "when {lost} is recreated: {}",
        executors()
            .ok()
            .and_then(|e| e.last().and_then(|(s, _)| s.next()))
            .map(|s| s.command(&run.fill))
            .unwrap_or_default()
    );
    Outcome::new(
        CMD,
        if steps.all_already_done() {
            Ending::AlreadyDone
        } else {
            Ending::Done
        },
        format!(
            "failed over: Camunda runs in {} alone; next, {next}",
            lost.other()
        ),
    )
    .with_plan(plan)
    .with_details(json!({"lostRegion": lost.to_string(), "steps": steps.done, "next": next}))
    .with_timeline(super::history::this_run(run.session))
}

/// A kubectl step of the failover: its plan lines and its run (which records each command it
/// ran), found by the table's [`Action`].
struct Executor {
    action: Action,
    plan: fn(&Run<'_>, &Step) -> Vec<String>,
    run: for<'r> fn(&'r Run<'r>, &'static Step, &'r mut Steps) -> BoxFuture<'r, Result<()>>,
}

/// The executors of the failover's kubectl steps (order does not matter: the table's does).
const EXECUTORS: [Executor; 2] = [
    Executor {
        action: Action::RemoveBrokers,
        plan: plan_remove,
        run: run_remove,
    },
    Executor {
        action: Action::DisableExporter,
        plan: plan_disable,
        run: run_disable,
    },
];

/// The table's kubectl failover steps, each with its executor.
fn executors() -> Result<Vec<(&'static Step, &'static Executor)>> {
    super::driver::with_executors(Stage::Failover, &EXECUTORS, |e| e.action)
}

/// The removal's line, then the gateway's own plan of it.
fn plan_remove(run: &Run<'_>, step: &Step) -> Vec<String> {
    let mut lines = vec![format!("{}: {}", step.label(), step.command(&run.fill))];
    lines.extend(run.gateway_plan.iter().cloned());
    lines
}

fn run_remove<'r>(
    run: &'r Run<'r>,
    step: &'static Step,
    steps: &'r mut Steps,
) -> BoxFuture<'r, Result<()>> {
    Box::pin(async move {
        let started = Instant::now();
        let cmd = step.command(&run.fill);
        let out = brokers_remove(run.session, Selection::Parity(run.lost), false)
            .await
            .context(format!("{} ({cmd})", step.heading()))?;
        steps.record(step, &step.progress(), cmd, &out, started);
        Ok(())
    })
}

/// One line per exporter of the lost region (as listed, or the planned id).
fn plan_disable(run: &Run<'_>, step: &Step) -> Vec<String> {
    let planned = run
        .known_exporters
        .clone()
        .unwrap_or_else(|| vec![run.fill.lost_exporter.clone()]);
    planned
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                step.label(),
                step.command(&run.fill.with_lost_exporter(e))
            )
        })
        .collect()
}

fn run_disable<'r>(
    run: &'r Run<'r>,
    step: &'static Step,
    steps: &'r mut Steps,
) -> BoxFuture<'r, Result<()>> {
    Box::pin(async move {
        let lost_exporters = match &run.known_exporters {
            Some(ids) => ids.clone(),
            None => lost_exporters_of(
                run.lost,
                &run.fill,
                &run.mgmt
                    .exporters()
                    .await
                    .context(format!("{} (listing the exporters)", step.heading()))?,
            ),
        };
        for e in &lost_exporters {
            let started = Instant::now();
            let cmd = step.command(&run.fill.with_lost_exporter(e));
            let out = exporter_set(run.session, e, false, None)
                .await
                .context(format!("{} ({cmd})", step.heading()))?;
            steps.record(step, &step.progress(), cmd, &out, started);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeebe::model::{BrokerState, PartitionState};

    fn topo(layout: &[(u32, &[u32])]) -> ClusterTopology {
        ClusterTopology {
            brokers: layout
                .iter()
                .map(|(id, parts)| BrokerState {
                    id: *id,
                    state: "ACTIVE".into(),
                    partitions: parts
                        .iter()
                        .map(|p| PartitionState {
                            id: *p,
                            state: "ACTIVE".into(),
                            priority: 1,
                            config: serde_json::Value::Null,
                        })
                        .collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_lost_region_is_detected_and_checked() {
        let t = topo(&[(0, &[1, 2]), (1, &[1, 2]), (2, &[1, 2]), (3, &[1, 2])]);
        assert_eq!(
            failover_preflight(&t, &[0, 2], None).ok(),
            Some(RegionId::ONE)
        );
        assert_eq!(
            failover_preflight(&t, &[1, 3], None).ok(),
            Some(RegionId::ZERO)
        );
        // Stated region contradicts the evidence.
        assert_eq!(
            failover_preflight(&t, &[0, 2], Some(RegionId::ZERO))
                .err()
                .map(|e| e.exit_code()),
            Some(3)
        );
        // Both alive: nothing to fail over.
        assert!(failover_preflight(&t, &[0, 1, 2, 3], None).is_err());
    }

    #[test]
    fn a_partition_only_the_lost_region_holds_blocks_the_failover() {
        let t = topo(&[(0, &[1]), (1, &[1, 2]), (2, &[1]), (3, &[2])]);
        let err = failover_preflight(&t, &[0, 2], None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("partition 2"), "{err}");
    }

    #[test]
    fn a_rerun_after_step_one_still_knows_the_lost_region() {
        let t = topo(&[(0, &[1, 2]), (2, &[1, 2])]);
        assert_eq!(
            failover_preflight(&t, &[0, 2], None).ok(),
            Some(RegionId::ONE)
        );
    }
}
