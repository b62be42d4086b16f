//! The recreated region runs Camunda again (the failback from the surviving region's redeploy to
//! the brokers' re-add), or every broker is a member (the exporter's enable, the re-add or the
//! final redeploy when something is left, else healthy).

use super::{Lost, enabled, exporter_id, exporter_of};
use crate::procedure::observe::{ClusterObservation, Exporting, Observation};
use crate::procedure::steps::{Action, Fill};
use crate::procedure::verdict::{Phase, Verdict};
use crate::region::RegionId;

pub(super) fn detect(mut ctx: Lost<'_>) -> Verdict {
    let (lost, surviving) = (ctx.lost, ctx.surviving);
    let (lost_obs, surv_obs) = (ctx.lost_obs, ctx.surv_obs);
    let fill = ctx.fill.clone();
    let install = Action::InstallRecreated.step();
    let copy = Action::CopyElasticsearch.step();
    if !ctx.lost_members.is_empty() {
        if ctx.lost_members.len() < ctx.expected_lost_brokers
            || ctx.cluster.replication_factor < ctx.rf
        {
            let v = Verdict::at(&[Action::AddBrokers], &fill, lost).note(format!(
                "{} of {} brokers of {lost} are members, replication factor {} of {}",
                ctx.lost_members.len(),
                ctx.expected_lost_brokers,
                ctx.cluster.replication_factor,
                ctx.rf
            ));
            return ctx.finish(v);
        }
        let mut v = every_broker_member(ctx.obs, ctx.cluster);
        v.lost_region = v
            .lost_region
            .or(Some(lost))
            .filter(|_| v.phase != Phase::Healthy);
        return ctx.finish(v);
    }
    if lost_obs.webapps() == Some(true) {
        ctx.notes.push(format!(
            "{lost} was installed with Operate/Tasklist on: {} expects --no-webapps",
            install.tag()
        ));
    }
    if ctx.lost_exporter_on {
        // Paused (or partly): resume first; exporting everywhere: re-add the brokers.
        let v = match ctx.obs.exporting {
            Some(Exporting::Running) => Verdict::at(&[Action::AddBrokers], &fill, lost),
            Some(Exporting::Paused | Exporting::SoftPaused | Exporting::Mixed) => {
                Verdict::at(&[Action::ResumeExporting], &fill, lost)
            }
            None => Verdict::at(&[Action::ResumeExporting, Action::AddBrokers], &fill, lost).note(
                format!(
                    "{UNREAD}: if exporting is still paused, resume it before re-adding the brokers"
                ),
            ),
        };
        return ctx.finish(v);
    }
    let recreated_es = lost_obs.es.as_ref();
    // Camunda indices no restore created, in a region whose schema manager is on: the recreated region's install
    // ran without --no-schema-manager and the schema manager created them.
    let seeded = recreated_es.is_some_and(|e| {
        e.camunda_indices > 0
            && e.restored_from.is_none()
            && !e.restoring
            && lost_obs.schema_manager_disabled == Some(false)
    });
    if seeded {
        ctx.notes.push(format!(
            "the Elasticsearch of {lost} has Camunda indices that no restore created and its schema-manager \
             variable is not set: its schema manager created them ({} without --no-schema-manager). The \
             restore refuses while they exist: redeploy {lost} with {}, and delete them explicitly when restoring",
            install.tag(),
            install.command(&fill)
        ));
    }
    let restored = recreated_es.is_some_and(|e| e.camunda_indices > 0 && !e.restoring) && !seeded;
    let redeploy_surviving = Action::RedeploySurviving.step();
    if surv_obs.webapps() == Some(true) && !restored {
        if lost_obs.schema_manager_disabled == Some(false) && !seeded {
            ctx.notes.push(format!(
                "the schema-manager variable is not set in {lost}: if its Elasticsearch was seeded with Camunda \
                 indices, the restore ({}) will refuse",
                copy.tag()
            ));
        }
        return ctx.finish(Verdict::at(&[redeploy_surviving.action], &fill, lost));
    }
    let v = match recreated_es {
        Some(es) if es.restoring => Verdict::at(&[copy.action], &fill, lost)
            .note("a snapshot restore is still recovering shards in the recreated Elasticsearch"),
        Some(es) if es.camunda_indices > 0 && !seeded => {
            let mut v = Verdict::at(&[Action::EnableExporter], &fill, lost);
            if surv_obs.webapps() == Some(true) {
                v = v.note(format!(
                    "{surviving} still runs Operate/Tasklist ({} expects --no-webapps)",
                    redeploy_surviving.tag()
                ));
            }
            if lost_obs.schema_manager_disabled == Some(false) {
                v = v.note(format!(
                    "{lost} has Camunda indices and no schema-manager override: make sure they came from the \
                     restore, not from its schema manager"
                ));
            }
            v
        }
        Some(_) => before_the_copy(ctx.obs.exporting, &fill, lost),
        None => before_the_copy(ctx.obs.exporting, &fill, lost).note(format!(
            "the Elasticsearch of {lost} could not be read: if its restore is already done, the next step is \
             {}",
            Action::EnableExporter.step().tag()
        )),
    };
    ctx.finish(v)
}

/// Why the pause and the copy (or the resume and the re-add) are named together: the brokers'
/// pause state is unknown.
const UNREAD: &str = "whether exporting is paused could not be read on every broker (GET /actuator/partitions of each broker pod)";

/// Before the copy: the pause while exporting runs, the copy once it is paused on every
/// replica read, both when the brokers could not be read.
fn before_the_copy(exporting: Option<Exporting>, fill: &Fill, lost: RegionId) -> Verdict {
    let pause = Action::PauseExporting;
    match exporting {
        Some(Exporting::Paused) => Verdict::at(&[Action::CopyElasticsearch], fill, lost),
        Some(Exporting::Running) => Verdict::at(&[pause], fill, lost),
        Some(Exporting::Mixed) => Verdict::at(&[pause], fill, lost).note(
            "exporting is paused on some partition replicas only (a pause is not atomic across partitions): \
             pause again",
        ),
        Some(Exporting::SoftPaused) => {
            let resume = Action::ResumeExporting.step().command(fill);
            let mut v = Verdict::at(&[pause], fill, lost).note(format!(
                "exporting is soft-paused: a hard pause over a soft one corrupts the brokers' pause state \
                 (camunda/camunda#55838); resume it first ({resume})"
            ));
            v.next = v.next.map(|pause| format!("{resume}, then {pause}"));
            v
        }
        None => Verdict::at(&[pause, Action::CopyElasticsearch], fill, lost)
            .note(format!("{UNREAD}; pausing again is reported as done")),
    }
}

/// Every broker is a member (or no region looks lost): healthy, or the final redeploy when a region
/// still runs without webapps or with the schema-manager override; the exporter's enable when an
/// exporter is still disabled; the re-add when the replication factor is still low.
pub(super) fn every_broker_member(obs: &Observation, cluster: &ClusterObservation) -> Verdict {
    let any = RegionId::ONE;
    let disabled: Vec<RegionId> = [RegionId::ZERO, RegionId::ONE]
        .into_iter()
        .filter(|r| exporter_of(&cluster.exporters, *r).is_some_and(|(_, s)| !enabled(s)))
        .collect();
    if let [r] = disabled.as_slice() {
        let fill = Fill {
            lost_exporter: exporter_id(cluster, *r),
            surviving_exporter: exporter_id(cluster, r.other()),
            ..Fill::default()
        };
        return Verdict::at(&[Action::EnableExporter], &fill, *r)
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
        let mut v = Verdict::at(&[Action::AddBrokers], &fill, region).note(format!(
            "every broker is a member but the replication factor is {} instead of {rf}",
            cluster.replication_factor
        ));
        v.lost_region = obs.recreated_hint;
        return v;
    }
    if !off.is_empty() || !override_set.is_empty() {
        let mut v = Verdict::at(
            &[Action::RedeployBoth],
            &Fill::default(),
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
    // Every broker a member is not every broker answering: members the gateway does not reach
    // while both regions' APIs answer are a split between the regions or brokers down, never
    // "healthy: no action" (attack A9).
    if let Some(alive) = &obs.alive_brokers {
        let silent: Vec<u32> = cluster
            .members
            .iter()
            .copied()
            .filter(|b| !alive.contains(b))
            .collect();
        if !silent.is_empty() {
            return Verdict::new(
                Phase::Unknown,
                format!(
                    "brokers {silent:?} are members but do not answer the gateway: a network split \
                     between the regions, or brokers down; not a lost region while its Kubernetes \
                     API answers (do not fail over): check the network between the regions and the \
                     broker pods"
                ),
                None,
            );
        }
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
