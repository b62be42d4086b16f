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
        format!(
            "cluster size {}, partitions {}, replication factor {}, gateway {}, last completed change {}\n{}",
            t.cluster_size,
            t.partitions_count,
            t.replication_factor,
            t.gateway_version,
            t.last_completed_change_id,
            table(
                &[
                    "BROKER",
                    "REGION",
                    "PARTITIONS (L=leader F=follower !=unhealthy)",
                    "VERSION"
                ],
                rows
            )
        )
    }
}

pub async fn topology(session: &Session) -> Result<TopologyView> {
    Ok(TopologyView(session.rest().await?.topology().await?))
}
