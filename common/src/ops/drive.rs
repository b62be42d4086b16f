//! Composite drivers that carry the operator through the procedure: pre-flight checks, then the
//! steps in order, each verified, each idempotent so an interrupted run converges when re-run.

use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::zeebe::{brokers_remove, exporter_set};
use super::{Outcome, Status};
use crate::error::{Error, Result};
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
    pub status: Status,
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
    if let Some(p) = &t.pending_change {
        return Err(Error::refused(format!(
            "change {} is in progress: wait for it (kubectl c8dr changes wait {}) or cancel it before failing over",
            p.id, p.id
        )));
    }
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
pub async fn failover(session: &Session, stated: Option<RegionId>) -> Result<Outcome> {
    const CMD: &str = "failover";
    let mgmt = session.management().await?;
    let t = mgmt.cluster().await?;
    let alive = super::zeebe::liveness(session).await?;
    let lost = failover_preflight(&t, &alive.alive, stated)?;
    let parity = format!("--{}", lost.parity());
    let exporter = lost.exporter_id();
    let exporters = mgmt.exporters().await?;
    // 8.7-migrated installations may still carry the legacy exporter id of the lost region.
    let lost_exporters: Vec<String> = exporters
        .iter()
        .filter(|e| crate::region::region_of_exporter(&e.exporter_id) == Some(lost))
        .map(|e| e.exporter_id.clone())
        .collect();
    let lost_exporters = if lost_exporters.is_empty() {
        vec![exporter]
    } else {
        lost_exporters
    };
    let mut plan = vec![
        format!(
            "lost region: {lost} ({} evidence: brokers {:?} alive)",
            alive.evidence, alive.alive
        ),
        format!("step 1/2: kubectl c8dr brokers remove {parity}"),
    ];
    for e in &lost_exporters {
        plan.push(format!("step 2/2: kubectl c8dr exporters disable {e}"));
    }
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Status::DryRun, format!("fail over from {lost}")).with_plan(plan),
        );
    }
    session
        .ui
        .confirm_all(&format!("Failover plan ({lost} lost):"), &plan)?;
    let mut steps = vec![];
    let started = Instant::now();
    let out = brokers_remove(session, Selection::Parity(lost), false).await?;
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
    for e in &lost_exporters {
        let started = Instant::now();
        let out = exporter_set(session, e, false, None).await?;
        session.ui.note(format!("✓ failover 2/2: {}", out.summary));
        steps.push(StepReport {
            step: "failover 2".into(),
            command: format!("kubectl c8dr exporters disable {e}"),
            status: out.status,
            summary: out.summary,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let all_done = steps.iter().all(|s| s.status == Status::AlreadyDone);
    let next = format!(
        "when {lost} is recreated: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager"
    );
    Ok(Outcome::new(
        CMD,
        if all_done {
            Status::AlreadyDone
        } else {
            Status::Done
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
