//! `status` as text: one block a region, the cluster table, the procedure line and notes.

use super::view::{ClusterView, RegionView, StatusReport};
use crate::output::{Render, table};
use crate::procedure::{Phase, Stage, Tool, hint};
use crate::values::SCHEMA_MANAGER_VAR;

fn yes_no(b: Option<bool>, yes: &str, no: &str) -> String {
    match b {
        Some(true) => yes.into(),
        Some(false) => no.into(),
        None => "unknown".into(),
    }
}

/// One line: the phase over the region's replicas, how many were read, the exporting lag.
fn exporting_text(x: &crate::commands::pause_state::RegionExporting) -> String {
    let replicas = x.replicas().count();
    let brokers = x.brokers.iter().filter(|b| b.error.is_none()).count();
    let mut line = match x.state.as_str() {
        "no partitions" => format!("no partitions on its {brokers} brokers (not members)"),
        "unknown" => "unknown (the brokers' /actuator/partitions could not be read)".to_string(),
        state => {
            let state = if state == "mixed" {
                let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
                for (_, p) in x.replicas() {
                    *by.entry(p.exporter_phase.as_deref().unwrap_or("-"))
                        .or_default() += 1;
                }
                format!(
                    "MIXED ({})",
                    by.iter()
                        .map(|(k, v)| format!("{v} {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                state.to_uppercase()
            };
            format!(
                "{state} on {replicas} partition replicas ({brokers} brokers); exported lags processed by {} records at most",
                x.max_lag
            )
        }
    };
    let unread = x.unread();
    if unread > 0 && x.state != "unknown" {
        line.push_str(&format!("; {unread} broker pods could not be read"));
    }
    line
}

fn region_text(r: &RegionView) -> String {
    let role = if r.role.is_empty() {
        String::new()
    } else {
        format!("{}; ", r.role)
    };
    let mut out = format!(
        "{} ({role}context {}, namespace {}): ",
        r.region,
        r.context.as_deref().unwrap_or("<current>"),
        r.namespace.as_deref().unwrap_or("<current>")
    );
    if !r.reachable {
        out.push_str(if r.configured {
            "UNREACHABLE\n"
        } else {
            "NOT CONFIGURED\n"
        });
        for e in &r.errors {
            out.push_str(&format!("  {e}\n"));
        }
        return out;
    }
    out.push_str("reachable\n");
    let ready = r.broker_pods.iter().filter(|b| b.ready).count();
    out.push_str(&format!(
        "  release:         {}\n",
        match r.installed {
            Some(true) => format!(
                "installed ({} orchestration pods, {ready} ready)",
                r.broker_pods.len()
            ),
            Some(false) => "not installed".into(),
            None => "unknown".into(),
        }
    ));
    if r.installed != Some(false) {
        out.push_str(&format!(
            "  profiles:        {}\n",
            r.profiles
                .as_ref()
                .map(|p| format!("{} ({})", p.active.join(","), p.matches))
                .unwrap_or_else(|| "unknown".into())
        ));
        out.push_str(&format!(
            "  schema manager:  {}\n",
            yes_no(
                r.schema_manager_disabled,
                &format!("{SCHEMA_MANAGER_VAR}=false is set (no index creation)"),
                &format!("{SCHEMA_MANAGER_VAR} not set"),
            )
        ));
        out.push_str(&format!(
            "  gateway:         {}\n",
            yes_no(r.gateway_reachable, "answers", "does not answer")
        ));
        if let Some(x) = &r.exporting {
            out.push_str(&format!("  exporting:       {}\n", exporting_text(x)));
        }
    }
    if r.installed == Some(false) {
        for e in &r.errors {
            out.push_str(&format!("  ! {e}\n"));
        }
        return out;
    }
    out.push_str(&format!(
        "  elasticsearch:   {}\n",
        r.elasticsearch
            .as_ref()
            .map(|e| format!(
                "{}, {} indices, {} Camunda indices{}",
                e.health,
                e.indices,
                e.camunda_indices.len(),
                if e.restoring { ", restoring" } else { "" }
            ))
            .unwrap_or_else(|| "unknown".into())
    ));
    for e in &r.errors {
        out.push_str(&format!("  ! {e}\n"));
    }
    out
}

pub(super) fn cluster_text(c: &ClusterView) -> String {
    let mut out = format!(
        "cluster (from {}'s gateway, {} view): {} members, replication factor {}{}\n",
        c.source,
        c.view,
        c.cluster_size,
        c.replication_factor,
        c.configured_replication_factor
            .map(|rf| format!(" (configured {rf})"))
            .unwrap_or_default()
    );
    let rows = c
        .brokers
        .iter()
        .map(|b| {
            let parts = b
                .partitions
                .iter()
                .map(|p| format!("{}:{}", p.id, p.role))
                .collect::<Vec<_>>()
                .join(" ");
            let unhealthy = b
                .partitions
                .iter()
                .filter(|p| p.health.as_deref().is_some_and(|h| h != "healthy"))
                .count();
            let health = if b.partitions.iter().all(|p| p.health.is_none()) {
                "-".to_string()
            } else if unhealthy == 0 {
                "healthy".to_string()
            } else {
                format!("{unhealthy} unhealthy")
            };
            vec![
                b.id.to_string(),
                b.region.clone(),
                if b.member { "yes" } else { "no" }.into(),
                match b.reachable {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                if parts.is_empty() { "-".into() } else { parts },
                health,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "BROKER",
            "REGION",
            "MEMBER",
            "REACHABLE",
            "PARTITIONS",
            "HEALTH",
        ],
        rows,
    ));
    out.push_str(&format!(
        "exporters: {}\n",
        if c.exporters.is_empty() {
            "none".into()
        } else {
            c.exporters
                .iter()
                .map(|e| format!("{} {}", e.exporter_id, e.status))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    out.push_str(&format!(
        "pending change: {}\n",
        c.pending_change
            .as_ref()
            .map(|p| format!(
                "{} ({} of {} operations done)",
                p.id,
                p.completed,
                p.completed + p.pending
            ))
            .unwrap_or_else(|| "none".into())
    ));
    out.push_str(&format!(
        "last change: {}\n",
        c.last_change
            .as_ref()
            .map(|l| format!("{} {}", l.id, l.status))
            .unwrap_or_else(|| "none".into())
    ));
    out
}

impl StatusReport {
    /// The region the procedure is about and whether it is being rebuilt (failback) rather
    /// than lost; `None` when no region is (healthy).
    fn region_state(&self) -> Option<(&str, bool)> {
        let region = self.lost_region.as_deref()?;
        match self.procedure.phase {
            Phase::Healthy => None,
            phase => Some((region, phase == Phase::Failback)),
        }
    }

    /// When the next steps are the kubectl steps a composite driver runs, say so: it does them
    /// all, in order, from wherever the installation is.
    fn driver_hint(&self) -> Option<String> {
        let (stage, driver) = match self.procedure.phase {
            Phase::Failover => (Stage::Failover, hint::FAILOVER),
            Phase::Failback => (Stage::Failback, hint::FAILBACK),
            _ => return None,
        };
        let kubectl: Vec<u8> = stage.run_by(Tool::Kubectl).map(|s| s.number()).collect();
        let steps = &self.procedure.steps;
        (!steps.is_empty() && steps.iter().all(|n| kubectl.contains(n))).then(|| {
            format!(
                "or every remaining kubectl step of the {} at once: {driver}",
                stage.name()
            )
        })
    }

    /// The first line: the phase, the region it is about, the next command.
    pub fn summary(&self) -> String {
        match self.region_state() {
            Some((region, rebuilt)) => format!(
                "status: {} ({region} {})",
                self.phase,
                if rebuilt { "being rebuilt" } else { "lost" }
            ),
            None => format!("status: {}", self.phase),
        }
    }
}

impl Render for StatusReport {
    fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.summary());
        for r in &self.regions {
            out.push_str(&region_text(r));
        }
        out.push('\n');
        match &self.cluster {
            Some(c) => out.push_str(&cluster_text(c)),
            None => out.push_str("cluster: no gateway answered\n"),
        }
        out.push('\n');
        match self.region_state() {
            Some((region, true)) => out.push_str(&format!("being rebuilt: {region}\n")),
            Some((region, false)) => out.push_str(&format!("looks lost: {region}\n")),
            None => {}
        }
        out.push_str(&format!("{}\n", self.phase));
        if let Some(hint) = self.driver_hint() {
            out.push_str(&format!("  {hint}\n"));
        }
        for n in self.notes.iter().chain(&self.procedure.notes) {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::view::cluster_view;
    use super::*;
    use crate::region::RegionId;
    use crate::zeebe::model::{ClusterTopology, ExporterStatus, Topology};

    #[test]
    fn the_cluster_view_merges_roles_from_v2_with_the_membership() {
        let cluster: ClusterTopology = serde_json::from_value(serde_json::json!({
            "brokers": [
                {"id": 0, "state": "ACTIVE", "partitions": [{"id": 1, "state": "ACTIVE"}, {"id": 2, "state": "ACTIVE"}]},
                {"id": 2, "state": "ACTIVE", "partitions": [{"id": 1, "state": "ACTIVE"}, {"id": 2, "state": "ACTIVE"}]}
            ],
            "lastChange": {"id": 3, "status": "COMPLETED"}
        }))
        .expect("cluster");
        let topology: Topology = serde_json::from_value(serde_json::json!({
            "brokers": [
                {"nodeId": 0, "partitions": [{"partitionId": 1, "role": "leader", "health": "healthy"},
                                              {"partitionId": 2, "role": "follower", "health": "unhealthy"}]},
                {"nodeId": 1, "partitions": []}
            ]
        }))
        .expect("topology");
        let exporters = vec![ExporterStatus {
            exporter_id: "camundaregion0".into(),
            status: "ENABLED".into(),
        }];
        let v = cluster_view(
            RegionId::ZERO,
            &cluster,
            &exporters,
            Some(&topology),
            Some(4),
            Some(4),
        );
        assert_eq!(v.view, "v2-topology");
        assert_eq!(v.members, vec![0, 2]);
        assert_eq!(v.replication_factor, 2);
        let ids: Vec<u32> = v.brokers.iter().map(|b| b.id).collect();
        assert_eq!(ids, vec![0, 1, 2, 3], "every broker of the configured size");
        let b0 = &v.brokers[0];
        assert_eq!((b0.member, b0.reachable), (true, Some(true)));
        assert_eq!(b0.partitions[0].role, "leader");
        assert_eq!(b0.partitions[1].health.as_deref(), Some("unhealthy"));
        // Running but not a member (a recreated broker before failback 7).
        let b1 = &v.brokers[1];
        assert_eq!((b1.member, b1.reachable), (false, Some(true)));
        // A member the gateway cannot reach: the management view's partitions, no health.
        let b2 = &v.brokers[2];
        assert_eq!((b2.member, b2.reachable), (true, Some(false)));
        assert_eq!(b2.partitions[0].role, "active");
        assert_eq!(b2.partitions[0].health, None);
        let text = cluster_text(&v);
        assert!(
            text.contains("2 members, replication factor 2 (configured 4)"),
            "{text}"
        );
        assert!(text.contains("last change: 3 COMPLETED"), "{text}");
    }
}
