//! Types of the Zeebe management API (port 9600) and the v2 REST topology (port 8080).
//! Unknown fields are ignored so newer gateways keep working.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /actuator/cluster`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterTopology {
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub brokers: Vec<BrokerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<LastChange>,
    /// Absent when no change runs (docs/api-behaviour.md §1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change: Option<PendingChange>,
    /// The zone layout of a zone-aware cluster ([`super::zones::Partitioning`]).
    #[serde(
        default,
        alias = "partitionDistribution",
        skip_serializing_if = "Option::is_none"
    )]
    pub partitioning: Option<super::zones::Partitioning>,
    /// 8.10's physical tenants; absent on a cluster that has only the default one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physical_tenants: Vec<PhysicalTenant>,
}

/// `physicalTenants[]` of `GET /actuator/cluster`: a tenant removed from the brokers'
/// configuration is kept, `disabled: true` and without `routing` (camunda/camunda PR #60102),
/// and still holds its partitions, so no broker holding them can leave (camunda/camunda#60344)
/// until it is discarded (`DELETE /actuator/cluster/physical-tenants/{id}`, PR #60571).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalTenant {
    pub id: String,
    #[serde(default)]
    pub disabled: bool,
}

impl ClusterTopology {
    /// Ids of the cluster's members (configuration, not liveness: a lost broker stays here).
    pub fn member_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.brokers.iter().map(|b| b.id).collect();
        ids.sort_unstable();
        ids
    }

    /// Replicas per partition: the effective replication factor is the smallest.
    pub fn replication_factor(&self) -> u32 {
        let mut counts = std::collections::BTreeMap::<u32, u32>::new();
        for b in &self.brokers {
            for p in &b.partitions {
                *counts.entry(p.id).or_default() += 1;
            }
        }
        counts.values().copied().min().unwrap_or(0)
    }

    /// An exporter's state as the cluster configuration holds it (every replica of every
    /// partition), `None` when the replicas disagree or none has it. Unlike
    /// `GET /actuator/exporters`, this does not lag behind a completed change.
    pub fn exporter_state(&self, id: &str) -> Option<String> {
        let states: std::collections::BTreeSet<&str> = self
            .brokers
            .iter()
            .flat_map(|b| &b.partitions)
            .filter_map(|p| {
                p.config
                    .pointer("/exporting/exporters")?
                    .as_array()?
                    .iter()
                    .find(|e| e["id"] == id)?
                    .get("state")?
                    .as_str()
            })
            .collect();
        match states.len() {
            1 => states.into_iter().next().map(String::from),
            _ => None,
        }
    }

    /// Members holding each partition.
    pub fn partition_members(&self) -> std::collections::BTreeMap<u32, Vec<u32>> {
        let mut out = std::collections::BTreeMap::<u32, Vec<u32>>::new();
        for b in &self.brokers {
            for p in &b.partitions {
                out.entry(p.id).or_default().push(b.id);
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerState {
    pub id: u32,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub partitions: Vec<PartitionState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionState {
    pub id: u32,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub priority: u32,
    #[serde(default)]
    pub config: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastChange {
    pub id: i64,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingChange {
    pub id: i64,
    #[serde(default)]
    pub status: String,
    /// When the change was accepted (camunda/camunda `zeebe/dynamic-config/.../state/
    /// ClusterChangePlan.java`, `startedAt`, as `CompletedChange.java` keeps it for the last one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed: Vec<Operation>,
    #[serde(default)]
    pub pending: Vec<Operation>,
}

/// One planned operation of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub operation: String,
    #[serde(default)]
    pub broker_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter_id: Option<String>,
}

impl Operation {
    /// A one-line description: `BROKER_REMOVE broker 1`, `PARTITION_JOIN broker 3 partition 2`.
    /// `brokerId` is the broker that EXECUTES an operation (`ClusterApiUtils.mapOperation`): a
    /// forced `BROKER_REMOVE` names the removed broker in `brokers` and a surviving executor in
    /// `brokerId`, so the removed broker is shown first (docs/api-behaviour.md §1 "Plan shape").
    pub fn describe(&self) -> String {
        self.describe_with(&|b| b.to_string())
    }

    /// [`Self::describe`] with brokers named by `name` (zone-aware ids).
    pub fn describe_with(&self, name: &dyn Fn(u32) -> String) -> String {
        if self.operation == "BROKER_REMOVE"
            && let Some(removed) = self.brokers.as_deref().filter(|b| !b.is_empty())
        {
            let ids = removed
                .iter()
                .map(|b| name(*b))
                .collect::<Vec<_>>()
                .join(", ");
            return match self.broker_id {
                Some(by) => format!(
                    "BROKER_REMOVE broker {ids} (executed by broker {})",
                    name(by)
                ),
                None => format!("BROKER_REMOVE broker {ids}"),
            };
        }
        let mut s = self.operation.clone();
        if let Some(b) = self.broker_id {
            s.push_str(&format!(" broker {}", name(b)));
        }
        if let Some(p) = self.partition_id {
            s.push_str(&format!(" partition {p}"));
        }
        if let Some(bs) = &self.brokers {
            let named: Vec<String> = bs.iter().map(|b| name(*b)).collect();
            s.push_str(&format!(" onto [{}]", named.join(", ")));
        }
        if let Some(e) = &self.exporter_id {
            s.push_str(&format!(" exporter {e}"));
        }
        s
    }

    /// The brokers this operation removes from the cluster, if it is a removal.
    pub fn removed_brokers(&self) -> Vec<u32> {
        if self.operation != "BROKER_REMOVE" {
            return vec![];
        }
        match self.brokers.as_deref().filter(|b| !b.is_empty()) {
            Some(b) => b.to_vec(),
            None => self.broker_id.into_iter().collect(),
        }
    }
}

/// The 202 body of every mutating cluster or exporter call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedOperations {
    pub change_id: i64,
    #[serde(default)]
    pub planned_changes: Vec<Operation>,
    #[serde(default)]
    pub expected_topology: Vec<BrokerState>,
}

/// `PATCH /actuator/cluster` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterPatch {
    #[serde(skip_serializing_if = "BrokersPatch::is_empty")]
    pub brokers: BrokersPatch,
    #[serde(skip_serializing_if = "PartitionsPatch::is_empty")]
    pub partitions: PartitionsPatch,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BrokersPatch {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<u32>,
}

impl BrokersPatch {
    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
}

impl PartitionsPatch {
    fn is_empty(&self) -> bool {
        self.replication_factor.is_none()
    }
}

/// `GET /actuator/exporters` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExporterStatus {
    pub exporter_id: String,
    pub status: String,
}

/// `GET /v2/topology`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    #[serde(default)]
    pub brokers: Vec<TopologyBroker>,
    #[serde(default)]
    pub cluster_size: u32,
    #[serde(default)]
    pub partitions_count: u32,
    #[serde(default)]
    pub replication_factor: u32,
    #[serde(default)]
    pub gateway_version: String,
    #[serde(default)]
    pub last_completed_change_id: Value,
}

impl Topology {
    /// `lastCompletedChangeId` as a number (the API sends a string, `"-1"` when none).
    pub fn last_completed_change(&self) -> Option<i64> {
        match &self.last_completed_change_id {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .filter(|id| *id >= 0)
    }

    /// Brokers the gateway reaches: every one listed (members and non-members alike).
    pub fn reachable(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.brokers.iter().map(|b| b.node_id).collect();
        ids.sort_unstable();
        ids
    }

    /// Reachable brokers that are members (they host partitions; non-members list none).
    pub fn reachable_members(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .brokers
            .iter()
            .filter(|b| !b.partitions.is_empty())
            .map(|b| b.node_id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologyBroker {
    pub node_id: u32,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: u32,
    #[serde(default)]
    pub partitions: Vec<TopologyPartition>,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologyPartition {
    pub partition_id: u32,
    pub role: String,
    pub health: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_v2_topology_sample_parses() {
        let raw = include_str!("../../../tests/fixtures/v2-topology-sample.json");
        let t: Topology = serde_json::from_str(raw).expect("sample parses");
        assert_eq!(t.cluster_size, 8);
        assert_eq!(t.brokers.len(), 8);
        assert!(t.brokers.iter().all(|b| b.partitions.len() == 4));
    }

    #[test]
    fn exporter_state_is_read_from_every_replica() {
        let part = |state: &str| PartitionState {
            id: 1,
            state: "ACTIVE".into(),
            priority: 1,
            config: serde_json::json!({"exporting": {"exporters": [{"id": "camundaregion1", "state": state}]}}),
        };
        let broker = |id, state: &str| BrokerState {
            id,
            state: "ACTIVE".into(),
            partitions: vec![part(state)],
        };
        let mut t = ClusterTopology {
            brokers: vec![broker(0, "ENABLED"), broker(2, "ENABLED")],
            ..Default::default()
        };
        assert_eq!(
            t.exporter_state("camundaregion1").as_deref(),
            Some("ENABLED")
        );
        assert_eq!(t.exporter_state("camundaregion0"), None);
        t.brokers.push(broker(4, "DISABLED"));
        assert_eq!(
            t.exporter_state("camundaregion1"),
            None,
            "mixed states are not a state"
        );
    }

    #[test]
    fn a_forced_broker_remove_shows_the_removed_broker_not_the_executor() {
        let op: Operation = serde_json::from_value(
            serde_json::json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [7]}),
        )
        .expect("operation");
        assert_eq!(
            op.describe(),
            "BROKER_REMOVE broker 7 (executed by broker 0)"
        );
        assert_eq!(op.removed_brokers(), vec![7]);
        let leave: Operation = serde_json::from_value(
            serde_json::json!({"operation": "BROKER_REMOVE", "brokerId": 3}),
        )
        .expect("operation");
        assert_eq!(leave.describe(), "BROKER_REMOVE broker 3");
        assert_eq!(leave.removed_brokers(), vec![3]);
    }

    #[test]
    fn the_last_completed_change_id_is_a_string() {
        let t: Topology =
            serde_json::from_value(serde_json::json!({"lastCompletedChangeId": "7"})).expect("t");
        assert_eq!(t.last_completed_change(), Some(7));
        let none: Topology =
            serde_json::from_value(serde_json::json!({"lastCompletedChangeId": "-1"})).expect("t");
        assert_eq!(none.last_completed_change(), None);
    }

    #[test]
    fn a_patch_serialises_only_what_is_set() {
        let p = ClusterPatch {
            brokers: BrokersPatch {
                add: vec![1, 3],
                remove: vec![],
            },
            partitions: PartitionsPatch {
                replication_factor: Some(4),
            },
        };
        assert_eq!(
            serde_json::to_value(&p).ok(),
            Some(
                serde_json::json!({"brokers": {"add": [1, 3]}, "partitions": {"replicationFactor": 4}})
            )
        );
        let remove = ClusterPatch {
            brokers: BrokersPatch {
                add: vec![],
                remove: vec![1],
            },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&remove).ok(),
            Some(serde_json::json!({"brokers": {"remove": [1]}}))
        );
    }
}
