//! Phase detection: from what can be observed of both regions, which step of the procedure
//! (SPEC section 1) the installation is in, and the next command.
//!
//! Pure: [`detect`] takes an [`Observation`] (gathered by `ops::status`) and returns a
//! [`Verdict`]. The steps and their commands are data ([`steps`]).
//!
//! What cannot be observed: whether exporting is paused (SPEC 3.3, no API reports it). Failback
//! steps 3-4 and 6-7 are therefore reported as pairs, with a note.

pub mod steps;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::region::{RegionId, region_of_exporter};

pub use steps::{FAILBACK, FAILOVER, Fill, Stage, Step};

/// What was seen of one region's Elasticsearch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EsObservation {
    /// Camunda indices (`operate-*`, `tasklist-*`, `camunda-*`, …).
    pub camunda_indices: usize,
    /// A snapshot restore is still recovering shards.
    pub restoring: bool,
    /// The snapshot every Camunda index was restored from, when ES still reports one.
    pub restored_from: Option<String>,
}

/// What was seen of one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionObservation {
    /// Its Kubernetes API answered.
    pub reachable: bool,
    /// The Camunda release is installed (its unified ConfigMap or broker pods exist); `None`
    /// when unknown.
    pub installed: Option<bool>,
    /// `spring.profiles.active` of the unified ConfigMap, as a set.
    pub profiles: Option<BTreeSet<String>>,
    /// `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false` is set on the orchestration pods.
    pub schema_manager_disabled: Option<bool>,
    /// `None` when Elasticsearch could not be read.
    pub es: Option<EsObservation>,
}

impl RegionObservation {
    /// Operate or Tasklist is active (`None` when the profiles are unknown).
    pub fn webapps(&self) -> Option<bool> {
        self.profiles.as_ref().map(crate::chart::serves_webapps)
    }
}

/// The cluster as the management API (`GET /actuator/cluster`, `/actuator/exporters`) of a
/// reachable gateway shows it. Both regions' gateways show the same cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterObservation {
    /// Member broker ids (configuration, not liveness).
    pub members: Vec<u32>,
    /// The effective replication factor (the smallest replica count of any partition).
    pub replication_factor: u32,
    pub pending_change: Option<i64>,
    /// `(exporter id, status)`.
    pub exporters: Vec<(String, String)>,
}

/// Everything phase detection looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Indexed by region id (0, 1).
    pub regions: [RegionObservation; 2],
    /// `None` when no gateway answered.
    pub cluster: Option<ClusterObservation>,
    /// Brokers of both regions when complete (the configured `clusterSize`).
    pub cluster_size: Option<u32>,
    /// The configured replication factor (`orchestration.replicationFactor`, rendered in the
    /// unified ConfigMap), when known.
    pub configured_replication_factor: Option<u32>,
    /// The region the operator's environment names as recreated (`REGION_RECREATED`, or the
    /// other of `REGION_SURVIVING`), if any.
    pub recreated_hint: Option<RegionId>,
    /// Brokers the gateway reaches (`/v2/topology`), when it could be read: liveness evidence
    /// that a region whose Kubernetes API does not answer is not lost.
    pub alive_brokers: Option<Vec<u32>>,
}

fn region_name<S: serde::Serializer>(r: &Option<RegionId>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.to_string()),
        None => s.serialize_none(),
    }
}

/// Where the installation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Both regions complete: no action.
    Healthy,
    /// A topology change runs: wait for it first.
    ChangeInProgress,
    Failover,
    /// Failover done; the lost region is still gone.
    FailedOver,
    Failback,
    /// Not enough evidence (no gateway answered, neither region reachable, or an unexpected mix).
    Unknown,
}

/// The result of phase detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub phase: Phase,
    /// The step numbers of the stage the installation is in (two when they cannot be told
    /// apart, e.g. failback 3-4).
    pub steps: Vec<u8>,
    /// Steps of the stage (2 for failover, 8 for failback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps_total: Option<u8>,
    /// The region that looks lost (or is being rebuilt), as `region0`/`region1`.
    #[serde(serialize_with = "region_name")]
    pub lost_region: Option<RegionId>,
    /// What the next step does.
    pub what: String,
    /// The next command(s), `None` when there is nothing to do (or nothing safe to suggest).
    pub next: Option<String>,
    /// Caveats: unobservable state, mistakes seen, missing evidence.
    pub notes: Vec<String>,
}

impl Verdict {
    fn new(phase: Phase, what: impl Into<String>, next: Option<String>) -> Self {
        Self {
            phase,
            steps: vec![],
            steps_total: None,
            lost_region: None,
            what: what.into(),
            next,
            notes: vec![],
        }
    }

    fn at(stage: Stage, numbers: &[u8], fill: &Fill, lost: RegionId) -> Self {
        let steps: Vec<&Step> = numbers.iter().filter_map(|n| stage.step(*n)).collect();
        let what = steps
            .iter()
            .map(|s| s.what)
            .collect::<Vec<_>>()
            .join(", then ");
        let next = steps
            .iter()
            .map(|s| s.command(fill))
            .collect::<Vec<_>>()
            .join(", then ");
        Self {
            phase: match stage {
                Stage::Failover => Phase::Failover,
                Stage::Failback => Phase::Failback,
            },
            steps: numbers.to_vec(),
            steps_total: Some(stage.total()),
            lost_region: Some(lost),
            what,
            next: Some(next),
            notes: vec![],
        }
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    fn lost(mut self, lost: RegionId) -> Self {
        self.lost_region = Some(lost);
        self
    }

    /// The one-line summary: `failback step 5 of 8: next: kubectl c8dr exporters enable …`.
    pub fn line(&self) -> String {
        let head = match self.phase {
            Phase::Healthy => "healthy".to_string(),
            Phase::ChangeInProgress => "a topology change is in progress".to_string(),
            Phase::FailedOver => {
                "failed over: waiting for the lost region to be recreated".to_string()
            }
            Phase::Unknown => "procedure step unknown".to_string(),
            Phase::Failover | Phase::Failback => {
                let stage = if self.phase == Phase::Failover {
                    Stage::Failover
                } else {
                    Stage::Failback
                };
                let numbers = match self.steps.as_slice() {
                    [one] => format!("step {one}"),
                    [first, .., last] => format!("steps {first}-{last}"),
                    [] => "step ?".to_string(),
                };
                format!("{} {numbers} of {}", stage.name(), stage.total())
            }
        };
        match (&self.next, self.phase) {
            (Some(next), Phase::FailedOver) => format!("{head}; next: {next}"),
            (Some(next), _) => format!("{head}: next: {next}"),
            (None, Phase::Healthy) => format!("{head}: no action"),
            (None, _) => format!("{head}: {}", self.what),
        }
    }
}

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
            Some(format!("kubectl c8dr changes wait {id}")),
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
                    "{} of {n} brokers are members and no region looks lost: check the cluster with kubectl c8dr changes show",
                    cluster.members.len()
                ),
                None,
            );
        }
        return every_broker_member(obs, cluster);
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
    let surviving = lost.other();
    let lost_obs = &obs.regions[lost.index()];
    let surv_obs = &obs.regions[surviving.index()];
    let lost_members: Vec<u32> = cluster
        .members
        .iter()
        .copied()
        .filter(|b| lost.holds(*b))
        .collect();
    let lost_exporter = exporter_of(&cluster.exporters, lost);
    let surv_exporter = exporter_of(&cluster.exporters, surviving);
    let lost_exporter_on = lost_exporter.is_some_and(|(_, s)| enabled(s));
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
        lost_exporter: lost_exporter
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| lost.exporter_id()),
        surviving_exporter: surv_exporter
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| surviving.exporter_id()),
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
    let with_notes = |mut v: Verdict, notes: &[String]| {
        v.notes.splice(0..0, notes.iter().cloned());
        v
    };

    // Failover: the lost region is gone (or back empty) while its brokers are still members.
    let lost_running = lost_obs.reachable && lost_obs.installed != Some(false);
    if !lost_running {
        if !lost_members.is_empty() {
            let mut v = Verdict::at(Stage::Failover, &[1], &fill, lost);
            if lost_obs.reachable {
                v = v.note(format!(
                    "{lost} is reachable again but has no Camunda release: its brokers {lost_members:?} do not run"
                ));
            }
            return with_notes(v, &notes);
        }
        if lost_exporter_on {
            return with_notes(Verdict::at(Stage::Failover, &[2], &fill, lost), &notes);
        }
        if !lost_obs.reachable {
            let v = Verdict::new(
                Phase::FailedOver,
                "the lost region's brokers are removed and its exporter is disabled",
                FAILBACK[0].command(&fill).into(),
            )
            .lost(lost);
            return with_notes(v, &notes);
        }
        return with_notes(Verdict::at(Stage::Failback, &[1], &fill, lost), &notes);
    }

    // Failback: the recreated region runs Camunda again.
    if lost_members.is_empty() {
        if lost_obs.webapps() == Some(true) {
            notes.push(format!(
                "{lost} was installed with Operate/Tasklist on: failback 1 expects --no-webapps"
            ));
        }
        if lost_exporter_on {
            let v = Verdict::at(Stage::Failback, &[6, 7], &fill, lost).note(
                "whether exporting is still paused cannot be read from any API (SPEC 3.3): resume it before re-adding \
                 the brokers",
            );
            return with_notes(v, &notes);
        }
        let recreated_es = lost_obs.es.as_ref();
        // Camunda indices no restore created, in a region whose schema manager is on: failback 1
        // ran without --no-schema-manager and the schema manager created them.
        let seeded = recreated_es.is_some_and(|e| {
            e.camunda_indices > 0
                && e.restored_from.is_none()
                && !e.restoring
                && lost_obs.schema_manager_disabled == Some(false)
        });
        if seeded {
            notes.push(format!(
                "the Elasticsearch of {lost} has Camunda indices that no restore created and its schema-manager \
                 variable is not set: its schema manager created them (failback 1 without --no-schema-manager). The \
                 restore refuses while they exist: redeploy {lost} with helm c8dr redeploy --region recreated \
                 --no-webapps --no-schema-manager, and delete them explicitly when restoring"
            ));
        }
        let restored =
            recreated_es.is_some_and(|e| e.camunda_indices > 0 && !e.restoring) && !seeded;
        if surv_obs.webapps() == Some(true) && !restored {
            if lost_obs.schema_manager_disabled == Some(false) && !seeded {
                notes.push(format!(
                    "the schema-manager variable is not set in {lost}: if its Elasticsearch was seeded with Camunda \
                     indices, the restore (failback 4) will refuse"
                ));
            }
            return with_notes(Verdict::at(Stage::Failback, &[2], &fill, lost), &notes);
        }
        match recreated_es {
            Some(es) if es.restoring => {
                let v = Verdict::at(Stage::Failback, &[4], &fill, lost).note(
                    "a snapshot restore is still recovering shards in the recreated Elasticsearch",
                );
                with_notes(v, &notes)
            }
            Some(es) if es.camunda_indices > 0 && !seeded => {
                let mut v = Verdict::at(Stage::Failback, &[5], &fill, lost);
                if surv_obs.webapps() == Some(true) {
                    v = v.note(format!(
                        "{surviving} still runs Operate/Tasklist (failback 2 expects --no-webapps)"
                    ));
                }
                if lost_obs.schema_manager_disabled == Some(false) {
                    v = v.note(format!(
                        "{lost} has Camunda indices and no schema-manager override: make sure they came from the \
                         restore, not from its schema manager"
                    ));
                }
                with_notes(v, &notes)
            }
            Some(_) => {
                let v = Verdict::at(Stage::Failback, &[3, 4], &fill, lost).note(
                    "whether exporting is already paused cannot be read from any API (SPEC 3.3); pausing again is \
                     reported as done",
                );
                with_notes(v, &notes)
            }
            None => {
                let v = Verdict::at(Stage::Failback, &[3, 4], &fill, lost).note(format!(
                    "the Elasticsearch of {lost} could not be read: if its restore is already done, the next step is \
                     failback 5"
                ));
                with_notes(v, &notes)
            }
        }
    } else if lost_members.len() < expected_lost_brokers || cluster.replication_factor < rf {
        let v = Verdict::at(Stage::Failback, &[7], &fill, lost).note(format!(
            "{} of {expected_lost_brokers} brokers of {lost} are members, replication factor {} of {rf}",
            lost_members.len(),
            cluster.replication_factor
        ));
        with_notes(v, &notes)
    } else {
        let mut v = every_broker_member(obs, cluster);
        v.lost_region = v
            .lost_region
            .or(Some(lost))
            .filter(|_| v.phase != Phase::Healthy);
        with_notes(v, &notes)
    }
}

/// Every broker is a member (or no region looks lost): healthy, or failback 8 when a region still runs without webapps
/// or with the schema-manager override; failback 5 when an exporter is still disabled.
fn every_broker_member(obs: &Observation, cluster: &ClusterObservation) -> Verdict {
    let fill = Fill::default();
    let any = RegionId::ONE;
    let disabled: Vec<RegionId> = [RegionId::ZERO, RegionId::ONE]
        .into_iter()
        .filter(|r| exporter_of(&cluster.exporters, *r).is_some_and(|(_, s)| !enabled(s)))
        .collect();
    if let [r] = disabled.as_slice() {
        let fill = Fill {
            lost_exporter: exporter_of(&cluster.exporters, *r)
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| r.exporter_id()),
            surviving_exporter: exporter_of(&cluster.exporters, r.other())
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| r.other().exporter_id()),
            ..Fill::default()
        };
        return Verdict::at(Stage::Failback, &[5], &fill, *r)
            .note("every broker is a member, but this exporter is disabled");
    }
    let off: Vec<String> = [RegionId::ZERO, RegionId::ONE]
        .into_iter()
        .filter(|r| obs.regions[r.index()].webapps() == Some(false))
        .map(|r| r.to_string())
        .collect();
    let override_set: Vec<String> = [RegionId::ZERO, RegionId::ONE]
        .into_iter()
        .filter(|r| obs.regions[r.index()].schema_manager_disabled == Some(true))
        .map(|r| r.to_string())
        .collect();
    if let Some(rf) = obs.configured_replication_factor
        && cluster.replication_factor < rf
    {
        let region = obs.recreated_hint.unwrap_or(any);
        let fill = Fill {
            parity: region.parity().to_string(),
            rf,
            ..Fill::default()
        };
        let mut v = Verdict::at(Stage::Failback, &[7], &fill, region).note(format!(
            "every broker is a member but the replication factor is {} instead of {rf}",
            cluster.replication_factor
        ));
        v.lost_region = obs.recreated_hint;
        return v;
    }
    if !off.is_empty() || !override_set.is_empty() {
        let mut v = Verdict::at(
            Stage::Failback,
            &[8],
            &fill,
            obs.recreated_hint.unwrap_or(any),
        );
        v.lost_region = obs.recreated_hint;
        if !off.is_empty() {
            v = v.note(format!("Operate/Tasklist off in {}", off.join(", ")));
        }
        if !override_set.is_empty() {
            v = v.note(format!(
                "the schema-manager variable is still set in {}",
                override_set.join(", ")
            ));
        }
        return v;
    }
    let mut v = Verdict::new(
        Phase::Healthy,
        "both regions run, every broker is a member, both exporters are enabled",
        None,
    );
    for r in [RegionId::ZERO, RegionId::ONE] {
        let o = &obs.regions[r.index()];
        if !o.reachable {
            v = v.note(format!("{r} cannot be reached"));
        }
        if o.profiles.is_none() && o.reachable {
            v = v.note(format!("the profiles of {r} could not be read"));
        }
    }
    v
}

#[cfg(test)]
mod tests;
