//! `kubectl c8dr topology`: the gateway's v2 view (reachable brokers, partition roles, health).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::output::{Render, table};
use crate::region::RegionId;
use crate::session::Session;
use crate::zeebe::model::Topology;

/// The legend of the compact partition cells ([`partition_cell`]).
pub const PARTITION_LEGEND: &str =
    "partitions: L leader, F follower, I inactive, A active/role unknown, ! unhealthy";

/// One partition in the compact form `topology` and `status` share: its id, the role's initial
/// (`1L` leader, `1F` follower, `1I` inactive; another role, such as the management view's
/// `active` when the v2 roles are unknown, by its own initial) and `!` when it is known to be
/// unhealthy.
pub fn partition_cell(id: u32, role: &str, healthy: Option<bool>) -> String {
    let initial = role
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_else(|| "?".into());
    let mark = if healthy == Some(false) { "!" } else { "" };
    format!("{id}{initial}{mark}")
}

/// `topology`: the v2 view (reachable brokers with partition roles and health).
#[derive(Debug, Serialize)]
pub struct TopologyView(pub Topology);

impl Render for TopologyView {
    fn text(&self) -> String {
        let t = &self.0;
        let mut brokers = t.brokers.clone();
        brokers.sort_by_key(|b| b.node_id);
        let rows = brokers
            .iter()
            .map(|b| {
                let mut parts: BTreeMap<u32, String> = BTreeMap::new();
                for p in &b.partitions {
                    let role = match p.role.as_str() {
                        "leader" | "follower" => p.role.as_str(),
                        _ => "inactive",
                    };
                    parts.insert(
                        p.partition_id,
                        partition_cell(p.partition_id, role, Some(p.health == "healthy")),
                    );
                }
                vec![
                    b.node_id.to_string(),
                    RegionId::of_broker(b.node_id).to_string(),
                    if b.partitions.is_empty() {
                        "(not a member)".into()
                    } else {
                        parts.into_values().collect::<Vec<_>>().join(" ")
                    },
                    b.version.clone(),
                ]
            })
            .collect();
        // Within 80 columns, as `status` (the legend under the table, the header on two lines).
        let mut out = format!(
            "cluster size {}, partitions {}, replication factor {}\ngateway {}, last completed change {}\n",
            t.cluster_size,
            t.partitions_count,
            t.replication_factor,
            t.gateway_version,
            t.last_completed_change()
                .filter(|id| *id >= 0)
                .map(|id| id.to_string())
                .unwrap_or_else(|| "none".into()),
        );
        out.push_str(&table(&["BROKER", "REGION", "PARTITIONS", "VERSION"], rows));
        out.push_str(PARTITION_LEGEND);
        out.push('\n');
        out
    }
}

pub async fn topology(session: &Session) -> Result<TopologyView> {
    Ok(TopologyView(session.rest().await?.topology().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight brokers, eight partitions, replication factor 4, region 1's replicas unhealthy: the
    /// widest table a standard dual-region installation shows.
    #[test]
    fn eight_brokers_fit_80_columns_in_the_compact_form() {
        let brokers: Vec<serde_json::Value> = (0..8u32)
            .map(|id| {
                let partitions: Vec<serde_json::Value> = (0..4u32)
                    .map(|k| {
                        let p = (id + k) % 8 + 1;
                        serde_json::json!({
                            "partitionId": p,
                            "role": if k == 0 { "leader" } else { "follower" },
                            "health": if id % 2 == 1 { "unhealthy" } else { "healthy" }
                        })
                    })
                    .collect();
                serde_json::json!({"nodeId": id, "partitions": partitions, "version": "8.8.3-SNAPSHOT"})
            })
            .collect();
        let t: Topology = serde_json::from_value(serde_json::json!({
            "brokers": brokers, "clusterSize": 8, "partitionsCount": 8, "replicationFactor": 4,
            "gatewayVersion": "8.8.3-SNAPSHOT", "lastCompletedChangeId": "-1"
        }))
        .expect("topology");
        let text = TopologyView(t).text();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line}\n{text}",
                line.len()
            );
        }
        assert!(text.contains("1       region1  2L! 3F! 4F! 5F!"), "{text}");
        assert!(text.contains("last completed change none"), "{text}");
        assert!(text.contains("cluster size 8"), "{text}");
        assert!(text.contains(PARTITION_LEGEND), "{text}");
    }
}
