//! Reading the Zeebe cluster configuration as far as it can be read: `GET /actuator/cluster`, or,
//! while the coordinator does not answer (its region is lost), membership from `/v2/topology`
//! (docs/api-behaviour.md §1 "Routing", camunda/camunda#63506). Every Zeebe command reads the cluster through here.

use crate::error::{Error, Result};
use crate::session::Session;
use crate::zeebe::management::coordinator_unreachable;
use crate::zeebe::model::{BrokerState, ClusterTopology, LastChange, PartitionState, Topology};
use crate::zeebe::{ManagementClient, RestAuth};

/// Context for an error of a routed management call: when the gateway cannot reach the
/// coordinator, say so and what it means (docs/api-behaviour.md §1 "Routing", camunda/camunda#63506).
pub(crate) fn explain_coordinator(e: Error, t: Option<&ClusterTopology>) -> Error {
    if !coordinator_unreachable(&e) {
        return e;
    }
    let who = t
        .and_then(|t| t.member_ids().first().copied())
        .map(|b| format!("broker {b}, the lowest member id"))
        .unwrap_or_else(|| "the lowest member id".into());
    Error::unreachable(
        "the cluster coordinator",
        format!(
            "{e}. The gateway forwards this request to the coordinator ({who}), which does not answer: \
             its region looks lost. Until the forced removal of that region's brokers completes, the \
             cluster configuration, a pending change and the exporters cannot be read or changed \
             (camunda/camunda#63506); {} shows what the gateway still sees",
            crate::procedure::steps::hint::TOPOLOGY
        ),
    )
}

/// `GET /actuator/cluster`, a lost coordinator explained ([`explain_coordinator`]).
pub(crate) async fn cluster(mgmt: &ManagementClient) -> Result<ClusterTopology> {
    mgmt.cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))
}

/// The cluster configuration as far as it can be read.
pub(crate) enum ClusterRead {
    /// `GET /actuator/cluster` answered.
    Full(ClusterTopology),
    /// The coordinator does not answer; membership comes from `/v2/topology` (reachable members
    /// plus, up to `clusterSize`, the unlisted ids), the pending change is unknown.
    CoordinatorLost { cluster: ClusterTopology },
}

impl ClusterRead {
    pub(crate) fn cluster(&self) -> &ClusterTopology {
        match self {
            Self::Full(t) | Self::CoordinatorLost { cluster: t, .. } => t,
        }
    }
    pub(crate) fn coordinator_lost(&self) -> bool {
        matches!(self, Self::CoordinatorLost { .. })
    }
}

/// Membership from `/v2/topology` alone: the reachable members, then the lowest unlisted ids up to
/// `clusterSize` (region ids are dense: `nodeId = ordinal * 2 + region`).
pub(crate) fn cluster_from_topology(topo: &Topology) -> ClusterTopology {
    let listed = topo.reachable();
    let mut brokers: Vec<BrokerState> = topo
        .brokers
        .iter()
        .filter(|b| !b.partitions.is_empty())
        .map(|b| BrokerState {
            id: b.node_id,
            state: "ACTIVE".into(),
            partitions: b
                .partitions
                .iter()
                .map(|p| PartitionState {
                    id: p.partition_id,
                    state: "ACTIVE".into(),
                    priority: 0,
                    config: serde_json::Value::Null,
                })
                .collect(),
        })
        .collect();
    let missing = (topo.cluster_size as usize).saturating_sub(brokers.len());
    brokers.extend(
        (0u32..)
            .filter(|id| !listed.contains(id))
            .take(missing)
            .map(|id| BrokerState {
                id,
                state: "ACTIVE".into(),
                partitions: vec![],
            }),
    );
    brokers.sort_by_key(|b| b.id);
    ClusterTopology {
        version: 0,
        brokers,
        last_change: topo.last_completed_change().map(|id| LastChange {
            id,
            status: "COMPLETED".into(),
            started_at: None,
            completed_at: None,
        }),
        pending_change: None,
        // Neither shows in /v2/topology.
        partitioning: None,
        physical_tenants: vec![],
    }
}

/// Read the cluster configuration; when the coordinator cannot answer, fall back to
/// `/v2/topology` (the gateway's own view) and say what cannot be known.
pub(crate) async fn read_cluster(
    session: &Session,
    mgmt: &ManagementClient,
) -> Result<ClusterRead> {
    let error = match mgmt.cluster_quick().await {
        Ok(t) => return Ok(ClusterRead::Full(t)),
        Err(e) if coordinator_unreachable(&e) => e,
        Err(e) => return Err(e),
    };
    let topo = match session.rest().await {
        Ok(rest) => rest.topology().await,
        Err(e) => Err(e),
    };
    match topo {
        Ok(topo) => {
            session.ui.note(format!(
                "GET /actuator/cluster does not answer ({error}): the coordinator looks lost; reading membership \
                 from /v2/topology. A pending change cannot be read until broker {} is removed (camunda/camunda#63506)",
                cluster_from_topology(&topo)
                    .member_ids()
                    .iter()
                    .find(|m| !topo.reachable().contains(m))
                    .map(u32::to_string)
                    .unwrap_or_else(|| "0".into())
            ));
            Ok(ClusterRead::CoordinatorLost {
                cluster: cluster_from_topology(&topo),
            })
        }
        // Credentials are what is missing: with them, /v2/topology carries the procedure while the
        // coordinator is lost. Refuse (exit 3) and say how to provide them (docs/contract.md §4 rule 2).
        Err(
            rest @ Error::Api {
                status: 401 | 403, ..
            },
        ) => Err(Error::refused(format!(
            "the cluster coordinator does not answer (its region looks lost), so membership and liveness \
             must come from /v2/topology, and {}",
            topology_unreadable(session, &rest)
        ))),
        Err(rest) => Err(explain_coordinator(error, None).context(format!(
            "and /v2/topology could not be read either ({rest})"
        ))),
    }
}

/// Why `/v2/topology` could not be read, and what to do about it (credentials, access, the port).
pub(crate) fn topology_unreadable(session: &Session, e: &Error) -> String {
    let none = RestAuth::from_env(&session.settings.env)
        .map(|a| a.is_none())
        .unwrap_or(false);
    match e {
        Error::Api {
            status: status @ (401 | 403),
            ..
        } => format!(
            "/v2/topology answered HTTP {status}: {}",
            crate::zeebe::rest::refusal_hint(*status, none).unwrap_or_default()
        ),
        Error::Unreachable { .. } => format!(
            "/v2/topology could not be reached ({e}); check the gateway's port 8080 or pass --rest-url"
        ),
        other => format!("/v2/topology could not be read ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn membership_from_v2_topology_fills_the_unlisted_ids_up_to_the_cluster_size() {
        let mut brokers: Vec<serde_json::Value> = [1, 3, 5, 7]
            .iter()
            .map(|id| {
                json!({"nodeId": id, "partitions": [{"partitionId": 1, "role": "follower", "health": "healthy"}]})
            })
            .collect();
        // A running non-member (a recreated broker) is listed with no partitions.
        brokers.push(json!({"nodeId": 9, "partitions": []}));
        let topo: Topology = serde_json::from_value(json!({
            "clusterSize": 8,
            "partitionsCount": 8,
            "lastCompletedChangeId": "4",
            "brokers": brokers,
        }))
        .expect("topology");
        let t = cluster_from_topology(&topo);
        assert_eq!(t.member_ids(), vec![0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(t.last_change.map(|l| l.id), Some(4));
        assert!(t.pending_change.is_none());
    }
}
