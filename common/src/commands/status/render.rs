//! `status` as text: one block a region, the cluster table, the procedure line and notes.

use super::view::{ClusterView, RegionView, StatusReport};
use crate::output::{Render, table};
use crate::procedure::{Action, Phase, Stage, Tool, hint};
use crate::ui::{Paint, paint};
use crate::values::SCHEMA_MANAGER_VAR;

/// The width the lines of `status` keep to (a standard terminal), except those that carry a
/// command to copy, which is never broken: the summary, the procedure line, the driver hint and
/// the notes. Errors are wrapped at word boundaries.
pub const WIDTH: usize = 80;

/// `text` wrapped at word boundaries to [`WIDTH`]: the first line after `first`, the others
/// after `rest` (both indents). A single word longer than the line is kept whole.
fn wrap(first: &str, rest: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// `  label:          value` (the value column at 19, as the other fields of a region).
fn field(label: &str, value: &str) -> String {
    let head = format!("  {:<17}", format!("{label}:"));
    let pad = " ".repeat(head.len());
    wrap(&head, &pad, value)
}

/// The summary's colour: green when healthy, yellow while a procedure is under way and the
/// cluster serves, red when a region is lost and nothing was done yet or nothing is known.
fn phase_paint(phase: Phase) -> Paint {
    match phase {
        Phase::Healthy => Paint::Green,
        Phase::ChangeInProgress | Phase::FailedOver | Phase::Failback => Paint::Yellow,
        Phase::Failover | Phase::Unknown => Paint::Red,
    }
}

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
            // Since when is not shown: Zeebe's `GET /actuator/partitions` reports each
            // replica's exporterPhase and positions but no time of the pause (camunda/camunda
            // zeebe/broker/src/main/java/io/camunda/zeebe/broker/system/management/
            // PartitionStatus.java: role, processedPosition, snapshotId,
            // processedPositionInSnapshot, streamProcessorPhase, exporterPhase,
            // exportedPosition). The lag below grows while a pause lasts.
            format!("{state} on {replicas} partition replicas ({brokers} brokers)")
        }
    };
    let unread = x.unread();
    if unread > 0 && x.state != "unknown" {
        line.push_str(&format!("; {unread} broker pods could not be read"));
    }
    line
}

/// The exporting lag of a region whose replicas were read.
fn lag_text(x: &crate::commands::pause_state::RegionExporting) -> Option<String> {
    if matches!(x.state.as_str(), "no partitions" | "unknown") {
        return None;
    }
    Some(format!(
        "at most {} records processed but not exported yet",
        x.max_lag
    ))
}

fn region_text(r: &RegionView) -> String {
    let role = if r.role.is_empty() {
        String::new()
    } else {
        format!(" ({})", r.role)
    };
    let state = match (r.reachable, r.configured) {
        (true, _) => paint(Paint::Green, "reachable"),
        (false, true) => paint(Paint::Red, "UNREACHABLE"),
        (false, false) => paint(Paint::Yellow, "NOT CONFIGURED"),
    };
    let mut out = format!("{}{role}: {state}\n", r.region);
    out.push_str(&field(
        "context",
        r.context.as_deref().unwrap_or("<current>"),
    ));
    out.push_str(&field(
        "namespace",
        r.namespace.as_deref().unwrap_or("<current>"),
    ));
    if !r.reachable {
        for e in &r.errors {
            out.push_str(&wrap("  ", "    ", e));
        }
        return out;
    }
    let ready = r.broker_pods.iter().filter(|b| b.ready).count();
    out.push_str(&field(
        "release",
        &match r.installed {
            Some(true) => format!(
                "installed ({} orchestration pods, {ready} ready)",
                r.broker_pods.len()
            ),
            Some(false) => "not installed".into(),
            None => "unknown".into(),
        },
    ));
    if r.installed != Some(false) {
        out.push_str(&installed_text(r));
    }
    if r.installed == Some(false) {
        for e in &r.errors {
            out.push_str(&wrap("  ! ", "    ", e));
        }
        return out;
    }
    out.push_str(&field("elasticsearch", &es_text(r)));
    for e in &r.errors {
        out.push_str(&wrap("  ! ", "    ", e));
    }
    out
}

pub(super) fn cluster_text(c: &ClusterView) -> String {
    let mut out = format!(
        "cluster (from {}'s gateway, {} view): {} members\nreplication factor {}{}\n",
        c.source,
        c.view,
        c.cluster_size,
        c.replication_factor,
        c.configured_replication_factor
            .map(|rf| format!(" (configured {rf})"))
            .unwrap_or_default()
    );
    let rows = c.brokers.iter().map(broker_row).collect();
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
    if c.brokers.iter().any(|b| !b.partitions.is_empty()) {
        out.push_str(crate::commands::topology::PARTITION_LEGEND);
        out.push('\n');
    }
    if let Some(l) = &c.leaders {
        out.push_str(&format!("leaders: {l}\n"));
    }
    out.push_str(&changes_text(c));
    out
}

/// The lines of a release that may be installed: profiles, schema manager, gateway, exporting.
fn installed_text(r: &RegionView) -> String {
    let mut out = String::new();
    out.push_str(&field(
        "profiles",
        &r.profiles
            .as_ref()
            .map(|p| format!("{} ({})", p.active.join(","), p.matches))
            .unwrap_or_else(|| "unknown".into()),
    ));
    out.push_str(&field(
        "schema manager",
        &yes_no(
            r.schema_manager_disabled,
            &format!("off: {SCHEMA_MANAGER_VAR}=false"),
            &format!("on: {SCHEMA_MANAGER_VAR} not set"),
        ),
    ));
    out.push_str(&field(
        "gateway",
        &yes_no(r.gateway_reachable, "answers", "does not answer"),
    ));
    if let Some(x) = &r.exporting {
        out.push_str(&field("exporting", &exporting_text(x)));
        if let Some(lag) = lag_text(x) {
            out.push_str(&field("exporting lag", &lag));
        }
    }
    out
}

/// The release block: the judgement's line, then what each region showed.
fn release_text(j: &crate::release::installation::Judgement) -> String {
    let line = j.line();
    let mut out = if j.supported {
        wrap("release: ", "  ", &line)
    } else {
        wrap("release: ", "  ", &paint(Paint::Red, &line))
    };
    for (i, r) in j.installation.regions.iter().enumerate() {
        let Some(r) = r else { continue };
        let mut parts = vec![];
        if let Some(c) = &r.chart {
            parts.push(c.clone());
        }
        if let Some(s) = &r.search {
            parts.push(format!("search: {s}"));
        }
        if let Some(k) = &r.secondary_storage {
            parts.push(format!("storage: {k}"));
        } else if r.storage_unreadable.is_some() {
            parts.push("storage: unreadable".to_string());
        }
        if !parts.is_empty() {
            out.push_str(&field(&format!("region{i}"), &parts.join(", ")));
        }
    }
    if let Some(crate::release::installation::BrokerIdentity::ZoneAware { zones }) =
        &j.installation.identity
    {
        out.push_str(&field(
            "brokers",
            &format!("zone-aware ({})", zones.join(", ")),
        ));
    }
    for n in &j.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push('\n');
    out
}

/// A region's search engine in one line.
fn es_text(r: &RegionView) -> String {
    r.elasticsearch
        .as_ref()
        .map(|e| {
            format!(
                "{}, {} indices, {} Camunda indices{}",
                e.health,
                e.indices,
                e.camunda_indices.len(),
                if e.restoring { ", restoring" } else { "" }
            )
        })
        .unwrap_or_else(|| "unknown".into())
}

/// One broker's row of the cluster table.
fn broker_row(b: &super::view::BrokerView) -> Vec<String> {
    // The compact form of `topology` (`1L 6F`), so that eight partitions fit 80 columns.
    let parts = b
        .partitions
        .iter()
        .map(|p| {
            crate::commands::topology::partition_cell(
                p.id,
                &p.role,
                p.health.as_deref().map(|h| h == "healthy"),
            )
        })
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
        b.broker_id.clone().unwrap_or_else(|| b.id.to_string()),
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
}

/// The exporters, the pending change and the last one.
fn changes_text(c: &ClusterView) -> String {
    let mut out = String::new();
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
        let view = self.regions.iter().find(|r| r.region == region);
        // Its release answers from its own Kubernetes API: whatever the phase, it is not lost.
        let running = view.is_some_and(|r| r.reachable && r.installed == Some(true));
        match self.procedure.phase {
            Phase::Healthy => None,
            Phase::Failback => Some((region, true)),
            Phase::Failover | Phase::FailedOver => Some((region, false)),
            // A change (e.g. the re-add of the brokers' re-add) or too little evidence: named by what
            // is seen of the region itself; a region that is not configured is neither.
            Phase::ChangeInProgress | Phase::Unknown => {
                if running {
                    (self.procedure.phase == Phase::ChangeInProgress).then_some((region, true))
                } else if view.is_some_and(|r| r.configured && !r.reachable) {
                    Some((region, false))
                } else {
                    None
                }
            }
        }
    }

    /// When the next steps are the kubectl steps a composite driver runs, say so: it does them
    /// all, in order, from wherever the installation is.
    fn driver_hint(&self) -> Option<String> {
        if !self.release.supported {
            return None;
        }
        let (stage, driver) = match self.procedure.phase {
            Phase::Failover => (Stage::Failover, hint::FAILOVER),
            Phase::Failback => (Stage::Failback, hint::FAILBACK),
            _ => return None,
        };
        let driver = match &self.procedure.region_flag {
            Some(flag) => crate::procedure::with_region_flag(&format!("{driver} "), flag)
                .trim_end()
                .to_string(),
            None => driver.to_string(),
        };
        let kubectl: Vec<u8> = stage.run_by(Tool::Kubectl).map(|s| s.number()).collect();
        let steps = &self.procedure.steps;
        // Before the surviving region's redeploy without webapps turns the webapps off, the failback driver takes the Elasticsearch
        // pre-copy (a full snapshot while Camunda runs whole) and stops at the surviving region's redeploy without webapps: the time
        // without webapps then holds only the incremental snapshot (docs/performance.md).
        if stage == Stage::Failback && steps[..] == [Action::RedeploySurviving.step().number()] {
            return Some(format!(
                "first, webapps still on: {driver} takes the Elasticsearch pre-copy"
            ));
        }
        (!steps.is_empty() && steps.iter().all(|n| kubectl.contains(n))).then(|| {
            format!(
                "or every remaining kubectl step of the {} at once: {driver}",
                stage.name()
            )
        })
    }

    /// The headline's colour: by phase; plain bold for a one-region view, which judges none.
    fn headline_paint(&self) -> Paint {
        match self.scope {
            super::view::Scope::OneRegion => Paint::Bold,
            super::view::Scope::BothRegions => phase_paint(self.procedure.phase),
        }
    }

    /// The first line: the phase, the region it is about, the next command.
    pub fn summary(&self) -> String {
        let head = paint(self.headline_paint(), &format!("status: {}", self.phase));
        match self.region_state() {
            Some((region, true)) => {
                format!("{head} ({} being rebuilt)", paint(Paint::Yellow, region))
            }
            Some((region, false)) => format!("{head} ({} lost)", paint(Paint::Red, region)),
            None => head,
        }
    }
}

impl Render for StatusReport {
    fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.summary());
        out.push_str(&release_text(&self.release));
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
            Some((region, true)) => out.push_str(&format!(
                "being rebuilt: {}\n",
                paint(Paint::Yellow, region)
            )),
            Some((region, false)) => {
                out.push_str(&format!("looks lost: {}\n", paint(Paint::Red, region)))
            }
            None => {}
        }
        out.push_str(&format!("{}\n", paint(self.headline_paint(), &self.phase)));
        // The hint and the notes name commands to copy: never broken across lines.
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
            None,
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
        // Running but not a member (a recreated broker before the brokers' re-add).
        let b1 = &v.brokers[1];
        assert_eq!((b1.member, b1.reachable), (false, Some(true)));
        // A member the gateway cannot reach: the management view's partitions, no health.
        let b2 = &v.brokers[2];
        assert_eq!((b2.member, b2.reachable), (true, Some(false)));
        assert_eq!(b2.partitions[0].role, "active");
        assert_eq!(b2.partitions[0].health, None);
        let text = cluster_text(&v);
        assert!(
            text.contains("2 members\nreplication factor 2 (configured 4)"),
            "{text}"
        );
        assert!(text.contains("last change: 3 COMPLETED"), "{text}");
    }
}
