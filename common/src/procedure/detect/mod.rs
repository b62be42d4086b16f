//! Phase detection: from an [`Observation`], the step of the procedure and the next command.
//! This module finds the lost region and what every stage needs ([`Lost`]); the branches live
//! by stage: [`failover`] (the lost region does not run Camunda) and [`failback`] (it runs again,
//! or every broker is a member).

mod failback;
mod failover;

use super::observe::{ClusterObservation, Observation, RegionObservation};
use super::steps::{Fill, hint};
use super::verdict::{Phase, Verdict};
use crate::region::{RegionId, region_of_exporter};

fn enabled(status: &str) -> bool {
    matches!(status, "ENABLED" | "ENABLING")
}

/// The exporter of a region: the 8.8 `camundaregionN` if listed, else any id ending in N.
pub fn exporter_of(exporters: &[(String, String)], region: RegionId) -> Option<&(String, String)> {
    let own = || {
        exporters
            .iter()
            .filter(move |(id, _)| region_of_exporter(id) == Some(region))
    };
    own()
        .find(|(id, _)| id.starts_with("camunda"))
        .or_else(|| own().next())
}

/// The id of a region's exporter as the cluster lists it, else the 8.8 default.
fn exporter_id(cluster: &ClusterObservation, region: RegionId) -> String {
    exporter_of(&cluster.exporters, region)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| region.exporter_id())
}

/// Which region looks lost: an unreachable one (that the environment locates); else the one whose brokers were removed, whose
/// exporter is disabled, or that has no release; else the one the environment calls recreated.
pub fn lost_region(obs: &Observation) -> Option<RegionId> {
    let ids = [RegionId::ZERO, RegionId::ONE];
    // A region the environment does not locate is not reached, which says nothing about it.
    let unreachable: Vec<RegionId> = ids
        .into_iter()
        .filter(|r| !obs.regions[r.index()].reachable && !obs.regions[r.index()].unconfigured)
        .collect();
    if let [one] = unreachable.as_slice() {
        return Some(*one);
    }
    if unreachable.len() == 2 {
        return None;
    }
    let only = |pred: &dyn Fn(RegionId) -> bool| -> Option<RegionId> {
        match ids
            .into_iter()
            .filter(|r| pred(*r))
            .collect::<Vec<_>>()
            .as_slice()
        {
            [one] => Some(*one),
            _ => None,
        }
    };
    if let Some(c) = &obs.cluster {
        if let Some(r) = only(&|r| !c.members.iter().any(|b| r.holds(*b))) {
            return Some(r);
        }
        if let Some(r) =
            only(&|r| exporter_of(&c.exporters, r).is_some_and(|(_, status)| !enabled(status)))
        {
            return Some(r);
        }
    }
    if let Some(r) = only(&|r| obs.regions[r.index()].installed == Some(false)) {
        return Some(r);
    }
    obs.recreated_hint
}

/// What every stage's branch knows once a region looks lost.
struct Lost<'a> {
    obs: &'a Observation,
    cluster: &'a ClusterObservation,
    lost: RegionId,
    surviving: RegionId,
    lost_obs: &'a RegionObservation,
    surv_obs: &'a RegionObservation,
    /// Brokers of the lost region that are still members.
    lost_members: Vec<u32>,
    lost_exporter_on: bool,
    /// The surviving region's exporter is enabled (or not configured at all).
    surviving_exporter_on: bool,
    expected_lost_brokers: usize,
    /// The replication factor to restore.
    rf: u32,
    fill: Fill,
    /// Notes every verdict of this observation carries first.
    notes: Vec<String>,
    /// The environment names the lost region as the surviving one; with the `--region` value
    /// that reaches the live region, when one does.
    swapped: Option<Option<String>>,
}

impl Lost<'_> {
    /// `v` with this observation's notes before its own.
    fn finish(&self, mut v: Verdict) -> Verdict {
        v.notes.splice(0..0, self.notes.iter().cloned());
        match &self.swapped {
            // The failover's commands act on the live region: through --region they work now.
            Some(Some(flag)) if v.phase == Phase::Failover => {
                v.region_flag = Some(flag.clone());
                v.next = v.next.map(|n| with_region_flag(&n, flag));
            }
            // Later commands name both regions by role: only right once the variables are.
            Some(_) => {
                v.next = v
                    .next
                    .map(|n| format!("swap the *_SURVIVING and *_RECREATED variables, then {n}"));
            }
            None => {}
        }
        v
    }
}

/// `kubectl c8dr …` commands (one or several joined) with `--region FLAG` after `kubectl c8dr`.
pub fn with_region_flag(commands: &str, flag: &str) -> String {
    commands.replace("kubectl c8dr ", &format!("kubectl c8dr --region {flag} "))
}

/// Decide the step of the procedure and the next command.
pub fn detect(obs: &Observation) -> Verdict {
    let [r0, r1] = &obs.regions;
    if !r0.reachable && !r1.reachable {
        return Verdict::new(
            Phase::Unknown,
            "neither region's Kubernetes API can be reached",
            None,
        );
    }
    let lost = lost_region(obs);
    let Some(cluster) = &obs.cluster else {
        let mut v = Verdict::new(
            Phase::Unknown,
            "no Zeebe gateway answered: the cluster's members and exporters are unknown",
            None,
        );
        v.lost_region = lost;
        return v;
    };
    if let Some(id) = cluster.pending_change {
        let mut v = Verdict::new(
            Phase::ChangeInProgress,
            format!("change {id} is in progress; the next step can only follow once it completed"),
            Some(hint::changes_wait(id)),
        );
        v.lost_region = lost;
        return v;
    }
    let Some(lost) = lost else {
        if let Some(n) = obs.cluster_size
            && cluster.members.len() < n as usize
        {
            return Verdict::new(
                Phase::Unknown,
                format!(
                    "{} of {n} brokers are members and no region looks lost: check the cluster with {}",
                    cluster.members.len(),
                    hint::CHANGES_SHOW
                ),
                None,
            );
        }
        return failback::every_broker_member(obs, cluster);
    };
    if let Some(v) = not_configured(obs, cluster, lost) {
        return v;
    }
    if let Some(alive) = &obs.alive_brokers {
        let live: Vec<u32> = alive.iter().copied().filter(|b| lost.holds(*b)).collect();
        if !obs.regions[lost.index()].reachable && !live.is_empty() {
            return Verdict::new(
                Phase::Unknown,
                format!(
                    "the Kubernetes API of {lost} does not answer, but its brokers {live:?} answer the gateway: \
                     {lost} is not lost (check its kube context and the network); nothing to do for the procedure"
                ),
                None,
            );
        }
    }
    let ctx = lost_context(obs, cluster, lost);
    // The lost region is gone (or back empty): failover, or the recreated region's install.
    if !(ctx.lost_obs.reachable && ctx.lost_obs.installed != Some(false)) {
        return failover::detect(&ctx);
    }
    failback::detect(ctx)
}

/// The region that looks lost is not configured (no variables say where it is) and its brokers
/// are still members: not reaching it says nothing, so it is lost only when `/v2/topology`
/// lists the other region's brokers and none of its own. Otherwise the cluster's side is shown,
/// with a note saying what is missing; never a removal.
fn not_configured(
    obs: &Observation,
    cluster: &ClusterObservation,
    lost: RegionId,
) -> Option<Verdict> {
    let o = &obs.regions[lost.index()];
    let members: Vec<u32> = cluster
        .members
        .iter()
        .copied()
        .filter(|b| lost.holds(*b))
        .collect();
    if !o.unconfigured || o.reachable || members.is_empty() {
        return None;
    }
    let why = match &obs.alive_brokers {
        Some(alive) if alive.iter().any(|b| lost.other().holds(*b)) => {
            let live: Vec<u32> = alive.iter().copied().filter(|b| lost.holds(*b)).collect();
            if live.is_empty() {
                // Evidence that its brokers are down: the failover applies.
                return None;
            }
            format!("its brokers {live:?} answer the gateway: {lost} is not lost")
        }
        Some(_) => format!(
            "/v2/topology lists no broker of {}, so it shows nothing about {lost}'s brokers {members:?}",
            lost.other()
        ),
        None => format!(
            "nothing shows that its brokers {members:?} are down (/v2/topology, which would, could not be \
             read: set CAMUNDA_CLIENT_AUTH_*); a region that is not configured is not taken for lost"
        ),
    };
    let i = lost.index();
    let mut v = failback::every_broker_member(obs, cluster);
    v.notes.insert(
        0,
        format!(
            "{lost} is not configured (set CLUSTER_{i} and CAMUNDA_NAMESPACE_{i}, or CLUSTER_RECREATED, \
             CAMUNDA_NAMESPACE_RECREATED and REGION_RECREATED): {why}"
        ),
    );
    Some(v)
}

fn lost_context<'a>(
    obs: &'a Observation,
    cluster: &'a ClusterObservation,
    lost: RegionId,
) -> Lost<'a> {
    let surviving = lost.other();
    let lost_members: Vec<u32> = cluster
        .members
        .iter()
        .copied()
        .filter(|b| lost.holds(*b))
        .collect();
    let lost_exporter_on = exporter_of(&cluster.exporters, lost).is_some_and(|(_, s)| enabled(s));
    let surviving_exporter_on =
        exporter_of(&cluster.exporters, surviving).is_none_or(|(_, s)| enabled(s));
    let expected_lost_brokers = obs
        .cluster_size
        .map(|n| lost.broker_ids(n).len())
        .unwrap_or_else(|| {
            cluster
                .members
                .iter()
                .filter(|b| surviving.holds(**b))
                .count()
        });
    let rf = obs
        .configured_replication_factor
        .unwrap_or_else(|| {
            if lost_members.is_empty() {
                cluster.replication_factor * 2
            } else {
                cluster.replication_factor
            }
        })
        .max(1);
    let fill = Fill {
        parity: lost.parity().to_string(),
        lost_exporter: exporter_id(cluster, lost),
        surviving_exporter: exporter_id(cluster, surviving),
        rf,
    };
    let mut notes = vec![];
    let mut swapped = None;
    if obs.recreated_hint.is_some_and(|h| h != lost) {
        // The environment's surviving region is the lost one: every command without --region
        // goes there and fails. Say so first, with the flag that reaches the live region.
        let flag = obs.region_flags[surviving.index()].clone();
        notes.push(format!(
            "the environment names {lost}, the lost region, as the surviving one (CLUSTER_SURVIVING, \
             CAMUNDA_NAMESPACE_SURVIVING, REGION_SURVIVING): commands without --region go to {lost}. Swap the \
             *_SURVIVING and *_RECREATED variables{}",
            match &flag {
                Some(f) => format!(", or run the kubectl commands with --region {f} as shown"),
                None => String::new(),
            }
        ));
        swapped = Some(flag);
    }
    Lost {
        obs,
        cluster,
        lost,
        surviving,
        lost_obs: &obs.regions[lost.index()],
        surv_obs: &obs.regions[surviving.index()],
        lost_members,
        lost_exporter_on,
        surviving_exporter_on,
        expected_lost_brokers,
        rf,
        fill,
        notes,
        swapped,
    }
}
