//! Composite drivers that carry the operator through the procedure: pre-flight checks, then the
//! steps in order, each verified, each idempotent so an interrupted run converges when re-run.

use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::zeebe::{brokers_remove, exporter_set};
use super::{Ending, Outcome};
use crate::error::{Error, Result, ResultExt};
use crate::region::RegionId;
use crate::session::Session;
use crate::zeebe::brokers::{Selection, lost_region};
use crate::zeebe::model::ClusterTopology;

/// One step of a composite run, for the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub step: String,
    pub command: String,
    pub status: Ending,
    pub summary: String,
    pub seconds: f64,
}

/// Pre-flight of a failover, pure: which region is lost and whether the survivors can carry on.
pub fn failover_preflight(
    t: &ClusterTopology,
    alive: &[u32],
    stated: Option<RegionId>,
) -> Result<RegionId> {
    let members = t.member_ids();
    // A pending change is judged by each step: one that does the step's work (an earlier or a
    // concurrent run) is followed, any other refused with its id and the way out.
    let detected = lost_region(&members, alive);
    let lost = match (stated, detected) {
        (Some(s), Some(d)) if s != d => {
            return Err(Error::refused(format!(
                "--lost {s} was given, but {d} is the region whose brokers are unreachable ({s} has live brokers)"
            )));
        }
        (Some(s), _) => s,
        (None, Some(d)) => d,
        // Failover step 1 already done: one region has no members left.
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

/// `kubectl c8dr failover [--lost REGION]`: failover steps 1–2 against the surviving region.
/// With region 0 lost the coordinator (broker 0) is dead: membership and liveness come from
/// `/v2/topology`, and the exporters are read once the forced removal has made broker 1 the
/// coordinator (SPEC 3.1 "Routing").
pub async fn failover(session: &Session, stated: Option<RegionId>) -> Result<Outcome> {
    const CMD: &str = "failover";
    let mgmt = session.management().await?;
    let read = super::zeebe::read_cluster(session, mgmt)
        .await
        .context("failover pre-flight")?;
    let t = read.cluster().clone();
    let alive = super::zeebe::liveness(session, &t.member_ids()).await?;
    let lost = failover_preflight(&t, &alive.alive, stated)?;
    if let super::zeebe::ClusterRead::CoordinatorLost { .. } = &read {
        // Partitions none of whose reachable replicas is listed: the synthesized membership does
        // not know their holders, so check them against /v2/topology's partition count.
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
    }
    let parity = format!("--{}", lost.parity());
    let exporter = lost.exporter_id();
    let lost_exporters_of = |exporters: &[crate::zeebe::model::ExporterStatus]| {
        // 8.7-migrated installations may still carry the legacy exporter id of the lost region.
        let ids: Vec<String> = exporters
            .iter()
            .filter(|e| crate::region::region_of_exporter(&e.exporter_id) == Some(lost))
            .map(|e| e.exporter_id.clone())
            .collect();
        if ids.is_empty() {
            vec![exporter.clone()]
        } else {
            ids
        }
    };
    let known_exporters = if read.coordinator_lost() {
        session.ui.note(format!(
            "the exporters cannot be listed while the coordinator is lost; they are read again after step 1 (planned: {exporter})"
        ));
        None
    } else {
        Some(lost_exporters_of(&mgmt.exporters().await?))
    };
    let planned_exporters = known_exporters
        .clone()
        .unwrap_or_else(|| vec![exporter.clone()]);
    let mut plan = vec![
        format!(
            "lost region: {lost} ({} evidence: brokers {:?} alive)",
            alive.evidence, alive.alive
        ),
        format!("step 1/2: kubectl c8dr brokers remove {parity}"),
    ];
    for e in &planned_exporters {
        plan.push(format!("step 2/2: kubectl c8dr exporters disable {e}"));
    }
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Ending::DryRun, format!("fail over from {lost}")).with_plan(plan),
        );
    }
    session
        .ui
        .confirm_all(&format!("Failover plan ({lost} lost):"), &plan)?;
    let mut steps = vec![];
    let started = Instant::now();
    let out = brokers_remove(session, Selection::Parity(lost), false)
        .await
        .context(format!(
            "failover step 1/2 (kubectl c8dr brokers remove {parity})"
        ))?;
    steps.push(StepReport {
        step: "failover 1".into(),
        command: format!("kubectl c8dr brokers remove {parity}"),
        status: out.status,
        summary: out.summary,
        seconds: started.elapsed().as_secs_f64(),
    });
    session
        .ui
        .note(format!("✓ failover 1/2: {}", steps[0].summary));
    let lost_exporters = match known_exporters {
        Some(ids) => ids,
        None => lost_exporters_of(
            &mgmt
                .exporters()
                .await
                .context("failover step 2/2 (listing the exporters)")?,
        ),
    };
    for e in &lost_exporters {
        let started = Instant::now();
        let out = exporter_set(session, e, false, None)
            .await
            .context(format!(
                "failover step 2/2 (kubectl c8dr exporters disable {e})"
            ))?;
        session.ui.note(format!("✓ failover 2/2: {}", out.summary));
        steps.push(StepReport {
            step: "failover 2".into(),
            command: format!("kubectl c8dr exporters disable {e}"),
            status: out.status,
            summary: out.summary,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let all_done = steps.iter().all(|s| s.status == Ending::AlreadyDone);
    let next = format!(
        "when {lost} is recreated: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager"
    );
    Ok(Outcome::new(
        CMD,
        if all_done {
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
    .with_details(json!({"lostRegion": lost.to_string(), "steps": steps, "next": next})))
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

/// Options of `kubectl c8dr failback`.
#[derive(Debug, Clone, Default)]
pub struct FailbackArgs {
    /// The replication factor to restore (default: twice the current one).
    pub replication_factor: Option<u32>,
    pub cluster_size: Option<u32>,
    /// Repository flags for the Elasticsearch copy (bucket defaults to `S3_BUCKET_NAME`).
    pub repo: super::es::RepoFlags,
    pub es: super::es::EsAccess,
    pub delete_existing_indices: bool,
}

/// Whether a region's unified ConfigMap shows the webapps (operate, tasklist) on; `None` when the
/// release is not installed there.
async fn webapps_on(session: &Session) -> Result<Option<bool>> {
    let name = crate::chart::unified_configmap(&session.settings.release);
    let cm = session.kube().await?.get_configmap(&name).await?;
    let Some(yaml) = cm.and_then(|c| c.data?.get("application.yaml").cloned()) else {
        return Ok(None);
    };
    Ok(crate::values::active_profiles(&yaml).map(|p| crate::chart::serves_webapps(&p)))
}

/// `kubectl c8dr failback`: the kubectl-side steps 3–7 in order, after checking that the helm
/// steps before them are done. Everything the steps need (bucket, repository, Elasticsearch in both
/// regions, exporter ids, replication factor, both regions) is checked before the first mutation,
/// in `--dry-run` too (SPEC 4.9). The pause state is read on the brokers (SPEC 3.3): a pause that
/// is already in place is not sent again, a soft pause is refused. Each step is skipped when
/// already done, so a run interrupted at any point converges when run again; exporting is resumed
/// on every failure after a pause, and on SIGINT/SIGTERM/SIGHUP ([`super::pause_guard`]).
pub async fn failback(session: &Session, args: &FailbackArgs) -> Result<Outcome> {
    const CMD: &str = "failback";
    // Bad input first, before any call (exit 2).
    args.es.validate()?;
    let repo_spec = args.repo.spec(&session.settings)?;
    let bucket = repo_spec
        .settings
        .get("bucket")
        .and_then(serde_json::Value::as_str)
        .map(String::from);
    let recreated_settings = session
        .settings
        .for_region(crate::region::RegionRef::Recreated)?;
    let lost = recreated_settings.location.id.ok_or_else(|| {
        Error::usage("which region is recreated? set REGION_RECREATED (or REGION_SURVIVING) to region0 or region1")
    })?;
    let recreated = Session::new(recreated_settings, session.ui.clone());
    let mgmt = session.management().await?;
    let mut t = mgmt.cluster().await?;
    // A change still running (most likely the re-add of an interrupted run) is waited for, not
    // raced: the state is re-read once it has ended.
    if let Some(p) = t.pending_change.clone() {
        session.ui.note(format!(
            "change {} is in progress (an interrupted run?): waiting for it before continuing",
            p.id
        ));
        super::zeebe::wait_for_change(session, mgmt, p.id, &format!("change {}", p.id)).await?;
        t = mgmt.cluster().await?;
    }
    let parity = format!("--{}", lost.parity());
    let lost_exporter = lost.exporter_id();
    let surviving_exporter = lost.other().exporter_id();
    let to_add = crate::zeebe::brokers::to_add(
        &Selection::Parity(lost),
        &t.member_ids(),
        args.cluster_size,
    )?;
    let rf_now = t.replication_factor();
    let rf_ok = args.replication_factor.is_none_or(|rf| rf == rf_now);
    if to_add.is_empty() && rf_ok {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!("the {lost} brokers are members again (replication factor {rf_now}); next: helm c8dr redeploy --region both"),
        )
        .with_details(json!({"next": "helm c8dr redeploy --region both"})));
    }
    // The replication factor against the cluster size after the re-add (known only now).
    let rf = args.replication_factor.unwrap_or(rf_now * 2);
    let size_after = t.member_ids().len() + to_add.len();
    if rf == 0 || rf as usize > size_after {
        return Err(Error::usage(format!(
            "--replication-factor {rf}: must be between 1 and the cluster size after the re-add ({size_after} brokers)"
        )));
    }
    // The helm side must be done first (failback 1 and 2).
    match webapps_on(&recreated).await {
        Ok(Some(false)) => {}
        Ok(_) => {
            return Err(Error::refused(format!(
                "failback step 1 is not done: {lost} must run without Operate/Tasklist and without the schema manager: \
                 helm c8dr redeploy --region recreated --no-webapps --no-schema-manager"
            )));
        }
        Err(e) => return Err(e),
    }
    if webapps_on(session).await? != Some(false) {
        return Err(Error::refused(
            "failback step 2 is not done: the surviving region still runs Operate/Tasklist: \
             helm c8dr redeploy --region surviving --no-webapps",
        ));
    }
    // From the cluster configuration, not GET /actuator/exporters (which lags after a change).
    let enabled = t.exporter_state(&lost_exporter).as_deref() == Some("ENABLED");
    // The pause state, read on the brokers themselves.
    let observed = super::exporting::observe(session).await;
    let soft = observed.count_in("SOFT_PAUSED");
    if soft > 0 {
        return Err(Error::refused(format!(
            "exporting is soft-paused on {soft} partition replicas: failback pauses exporting, and a hard pause \
             over a soft one corrupts the brokers' pause state (camunda/camunda#55838). Resume first \
             (kubectl c8dr exporting resume), then run kubectl c8dr failback again"
        )));
    }
    let already_paused = observed.observed() && observed.not_in("PAUSED").is_empty();
    let mut copy_flags = format!(
        "--from surviving --to recreated --repo {}{} --exporting-paused{}",
        args.es.repository,
        bucket
            .as_deref()
            .map(|b| format!(" --bucket {b}"))
            .unwrap_or_default(),
        if args.delete_existing_indices {
            " --delete-existing-indices"
        } else {
            ""
        }
    );
    if let Some(u) = &args.es.user {
        copy_flags.push_str(&format!(" --es-user {u}"));
    }
    if let Some(v) = &args.es.password_env {
        copy_flags.push_str(&format!(" --es-password-env {v}"));
    }
    let copy = super::es::CopyArgs {
        from: crate::region::RegionRef::Surviving,
        to: crate::region::RegionRef::Recreated,
        snapshot: None,
        delete_existing: args.delete_existing_indices,
        exporting_paused: true,
        from_es_url: None,
        to_es_url: None,
        feature_states: None,
        pause_exporting: false,
    };
    if !enabled {
        // Exporter ids: both must be configured, else the enable fails after the pause.
        let exporters = mgmt.exporters().await?;
        let known: Vec<&str> = exporters.iter().map(|e| e.exporter_id.as_str()).collect();
        for id in [&lost_exporter, &surviving_exporter] {
            if !known.contains(&id.as_str()) {
                return Err(Error::refused(format!(
                    "exporter {id} is not configured (the brokers know {known:?}): failback step 5 would fail \
                     after exporting is paused; run the steps by hand with the right exporter ids"
                )));
            }
        }
        // The copy's own checks, read-only: repository, Elasticsearch of both regions, existing
        // indices in the target. A dry run of the copy makes no mutating call.
        let dry = Session::new(
            crate::session::Settings {
                dry_run: true,
                ..session.settings.clone()
            },
            session.ui.clone(),
        );
        super::es::copy(&dry, &args.es, &args.repo, &copy).await?;
    }
    let mark = |done: bool| if done { " (done)" } else { "" };
    let plan = vec![
        format!(
            "step 3/8: kubectl c8dr exporting pause{}",
            if enabled {
                " (done)"
            } else if already_paused {
                " (already paused: observed on every broker)"
            } else {
                ""
            }
        ),
        format!(
            "step 4/8: kubectl c8dr es copy {copy_flags}{}",
            mark(enabled)
        ),
        format!(
            "step 5/8: kubectl c8dr exporters enable {lost_exporter} --initialize-from {surviving_exporter}{}",
            mark(enabled)
        ),
        "step 6/8: kubectl c8dr exporting resume".to_string(),
        format!(
            "step 7/8: kubectl c8dr brokers add {parity} --replication-factor {rf}{}",
            args.cluster_size
                .map(|c| format!(" --cluster-size {c}"))
                .unwrap_or_default()
        ),
        "on any failure or signal after the pause: kubectl c8dr exporting resume".to_string(),
    ];
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, format!("fail back {lost}")).with_plan(plan));
    }
    session
        .ui
        .confirm_all(&format!("Failback plan ({lost} recreated):"), &plan)?;
    let mut steps: Vec<StepReport> = vec![];
    let mut record = |step: &str, command: String, out: &Outcome, started: Instant| {
        session.ui.note(format!("✓ {step}: {}", out.summary));
        steps.push(StepReport {
            step: step.into(),
            command,
            status: out.status,
            summary: out.summary.clone(),
            seconds: started.elapsed().as_secs_f64(),
        });
    };
    let mut guard = None;
    if !enabled {
        // From the pause on (armed before it is sent), neither a failure nor a signal may leave
        // exporting paused.
        let g = super::pause_guard::PauseGuard::arm(
            session,
            mgmt,
            "kubectl c8dr failback",
            vec![
                "failback 3: kubectl c8dr exporting pause".into(),
                "failback 4: kubectl c8dr es copy".into(),
                format!("failback 5: kubectl c8dr exporters enable {lost_exporter}"),
                "failback 6: kubectl c8dr exporting resume".into(),
                format!("failback 7: kubectl c8dr brokers add {parity}"),
            ],
        );
        let started = Instant::now();
        let out = if already_paused {
            Outcome::new(
                "exporting pause",
                Ending::AlreadyDone,
                format!(
                    "exporting was already paused (an earlier run, or by hand): {} partition replicas on {} brokers show PAUSED",
                    observed.count_in("PAUSED"),
                    observed.brokers_read()
                ),
            )
        } else {
            super::zeebe::exporting_pause(session, false).await?
        };
        record(
            "failback 3",
            "kubectl c8dr exporting pause".into(),
            &out,
            started,
        );
        g.done("failback 3: kubectl c8dr exporting pause");
        let paused_steps = async {
            let started = Instant::now();
            let out = super::es::copy(session, &args.es, &args.repo, &copy).await?;
            record("failback 4", format!("kubectl c8dr es copy {copy_flags}"), &out, started);
            g.done("failback 4: kubectl c8dr es copy");
            let started = Instant::now();
            let out = exporter_set(session, &lost_exporter, true, Some(&surviving_exporter)).await?;
            record(
                "failback 5",
                format!("kubectl c8dr exporters enable {lost_exporter} --initialize-from {surviving_exporter}"),
                &out,
                started,
            );
            g.done(format!("failback 5: kubectl c8dr exporters enable {lost_exporter}"));
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = paused_steps {
            drop(g);
            let who = if already_paused {
                "exporting (paused before this run) was resumed"
            } else {
                "exporting was resumed"
            };
            let revert = match super::zeebe::exporting_resume(session).await {
                Ok(_) => who.to_string(),
                Err(r) => format!(
                    "resuming exporting ALSO failed ({r}): run now: {}",
                    super::pause_guard::resume_command(session)
                ),
            };
            return Err(match e {
                Error::Refused(m) => Error::Refused(format!("{m}; {revert}")),
                Error::Usage(m) => Error::Usage(format!("{m}; {revert}")),
                Error::Timeout { what, after } => Error::Timeout {
                    what: format!("{what}; {revert}"),
                    after,
                },
                Error::Unreachable { what, detail } => Error::Unreachable {
                    what,
                    detail: format!("{detail}; {revert}"),
                },
                other => Error::failed(format!("{other}; {revert}")),
            });
        }
        guard = Some(g);
    }
    let started = Instant::now();
    let out = super::zeebe::exporting_resume(session).await?;
    drop(guard);
    record(
        "failback 6",
        "kubectl c8dr exporting resume".into(),
        &out,
        started,
    );
    let started = Instant::now();
    let out = super::zeebe::brokers_add(
        session,
        Selection::Parity(lost),
        args.cluster_size,
        Some(rf),
    )
    .await?;
    record(
        "failback 7",
        format!("kubectl c8dr brokers add {parity} --replication-factor {rf}"),
        &out,
        started,
    );
    let next = "helm c8dr redeploy --region both";
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!("failback steps 3-7 done: {lost} is back in the cluster; next: {next}"),
    )
    .with_plan(plan)
    .with_details(json!({"recreatedRegion": lost.to_string(), "steps": steps, "next": next})))
}
