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

/// Which region looks lost: an unreachable one; else the one whose brokers were removed, whose
/// exporter is disabled, or that has no release; else the one the environment calls recreated.
pub fn lost_region(obs: &Observation) -> Option<RegionId> {
    let ids = [RegionId::ZERO, RegionId::ONE];
    let unreachable: Vec<RegionId> = ids
        .into_iter()
        .filter(|r| !obs.regions[r.index()].reachable)
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
    expected_lost_brokers: usize,
    /// The replication factor to restore.
    rf: u32,
    fill: Fill,
    /// Notes every verdict of this observation carries first.
    notes: Vec<String>,
}

impl Lost<'_> {
    /// `v` with this observation's notes before its own.
    fn finish(&self, mut v: Verdict) -> Verdict {
        v.notes.splice(0..0, self.notes.iter().cloned());
        v
    }
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
    // The lost region is gone (or back empty): failover, or failback 1.
    if !(ctx.lost_obs.reachable && ctx.lost_obs.installed != Some(false)) {
        return failover::detect(&ctx);
    }
    failback::detect(ctx)
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
    if obs.recreated_hint.is_some_and(|h| h != lost) {
        notes.push(format!(
            "{lost} looks lost, but the environment names {} as the recreated region: check REGION_SURVIVING/REGION_RECREATED \
             before running commands with --region surviving|recreated",
            lost.other()
        ));
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
        expected_lost_brokers,
        rf,
        fill,
        notes,
    }
}
