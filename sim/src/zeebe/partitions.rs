//! Per-broker partition state: the exporting phase of every replica and the positions a broker's
//! own `GET /actuator/partitions` reports (docs/api-behaviour.md §3, corrected).
//!
//! Sources (camunda/camunda, main, read for this simulator):
//! - `zeebe/broker/src/main/java/io/camunda/zeebe/broker/system/management/BrokerAdminServiceEndpoint.java`:
//!   actuator endpoint id `partitions` on the broker's management port; the read operation
//!   answers `Map<Integer, PartitionStatus>`, one entry per partition the broker hosts.
//! - `.../system/management/PartitionStatus.java` and `BrokerAdminServiceImpl.getPartitionStatus`:
//!   `role`, `processedPosition`, `snapshotId`, `processedPositionInSnapshot`,
//!   `streamProcessorPhase`, `exporterPhase` (`EXPORTING|PAUSED|SOFT_PAUSED`), `exportedPosition`
//!   (the exporter director's lowest position), `clock`, `health` (a `HealthTree`).
//! - `zeebe/qa/integration-tests/.../management/ExportingEndpointIT.java`: Camunda's own QA asserts
//!   a pause by querying every broker's partitions endpoint (`exporterPhase == "PAUSED"`), and that
//!   the exported position stops moving while paused or soft-paused.
//! - `service/src/main/java/io/camunda/service/management/PhysicalTenantManagementService.java`:
//!   the gateway first requires a complete topology ("Expected %s members of partition %s but
//!   found %s") and then broadcasts the pause to every member of every partition — leader,
//!   followers, inactive — completing only when all answered; nothing is rolled back when one
//!   member fails, so a failed pause may leave some replicas paused ("not atomic").
//! - The phase survives a restart (the `.exporterPaused` file per partition, camunda/camunda#55838),
//!   so it belongs to the broker's disk: a recreated region starts with empty disks (EXPORTING).
//!
//! Positions: processing goes on while exporting is paused (only the exporter stops), so
//! `processedPosition` keeps growing and `exportedPosition` stays where the pause found it; on
//! resume the exporter catches up. The simulator derives positions from the time since start
//! (the simulator's own choice of a steady load: 50 records per second per partition).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Exporting, Zeebe};

/// Records per second each partition processes (the simulator's steady load).
const RECORDS_PER_SECOND: u64 = 50;

impl Exporting {
    /// The `ExporterPhase` name a broker reports.
    pub fn phase(self) -> &'static str {
        match self {
            Exporting::Running => "EXPORTING",
            Exporting::Paused => "PAUSED",
            Exporting::SoftPaused => "SOFT_PAUSED",
        }
    }
}

/// The exporting state of one replica: its phase, and where the exporter stopped when paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replica {
    pub phase: Exporting,
    /// The exported position frozen by the pause (`None` while exporting).
    pub exported_at_pause: Option<u64>,
}

/// Per broker, per partition: the replica's exporting state. A replica missing here exports.
#[derive(Debug, Clone, Default)]
pub struct ExportingState {
    pub replicas: BTreeMap<u32, BTreeMap<u32, Replica>>,
    /// When the simulated load started (positions grow from here).
    pub since: Option<Instant>,
}

impl ExportingState {
    pub fn new(now: Instant) -> Self {
        Self {
            replicas: BTreeMap::new(),
            since: Some(now),
        }
    }

    /// The processed position of a partition now (the same on every replica: they share a log).
    pub fn processed_position(&self, partition: u32, now: Instant) -> u64 {
        let elapsed = self
            .since
            .map(|s| now.saturating_duration_since(s))
            .unwrap_or_default();
        // Each partition starts at a different position, as real logs do.
        1000 * u64::from(partition) + elapsed.as_millis() as u64 * RECORDS_PER_SECOND / 1000
    }

    pub fn replica(&self, broker: u32, partition: u32) -> Replica {
        self.replicas
            .get(&broker)
            .and_then(|p| p.get(&partition))
            .copied()
            .unwrap_or(Replica {
                phase: Exporting::Running,
                exported_at_pause: None,
            })
    }

    /// Set the phase of one replica (what a broker does when the gateway's broadcast reaches it).
    pub fn set(&mut self, broker: u32, partition: u32, phase: Exporting, now: Instant) {
        let current = self.replica(broker, partition);
        let exported_at_pause = match phase {
            Exporting::Running => None,
            // A replica already stopped keeps the position it stopped at.
            _ => Some(
                current
                    .exported_at_pause
                    .unwrap_or_else(|| self.processed_position(partition, now)),
            ),
        };
        self.replicas.entry(broker).or_default().insert(
            partition,
            Replica {
                phase,
                exported_at_pause,
            },
        );
    }

    /// A broker's disk is gone (its region was recreated): it starts exporting.
    pub fn forget_broker(&mut self, broker: u32) {
        self.replicas.remove(&broker);
    }
}

impl Zeebe {
    /// `GET /actuator/partitions` of broker `id`: the partitions it hosts. A running broker that
    /// is not a member (a recreated region before the re-add) hosts none and answers `{}`.
    pub fn broker_partitions_json(&self, id: u32, alive: &[u32], now: Instant) -> Value {
        let members = self.partition_members();
        let Some(member) = self.members.get(&id) else {
            return json!({});
        };
        let mut out = serde_json::Map::new();
        for (p, config) in &member.partitions {
            let holders = members.get(p).cloned().unwrap_or_default();
            let alive_holders = holders.iter().filter(|h| alive.contains(h)).count();
            let quorum = alive_holders * 2 > holders.len();
            // The leader as elected and kept (`super::leaders`).
            let leader = self.leader(*p, alive);
            let role = match leader {
                Some(l) if l == id => "LEADER",
                Some(_) => "FOLLOWER",
                None => "CANDIDATE",
            };
            let replica = self.exporting.replica(id, *p);
            let processed = self.exporting.processed_position(*p, now);
            let exported = replica.exported_at_pause.unwrap_or(processed);
            let _ = config;
            out.insert(
                p.to_string(),
                json!({
                    "role": role,
                    "processedPosition": processed,
                    "snapshotId": format!("{}-1-{}-{}-1", processed / 2, processed / 2, processed / 2),
                    "processedPositionInSnapshot": processed / 2,
                    "streamProcessorPhase": "PROCESSING",
                    "exporterPhase": replica.phase.phase(),
                    "exportedPosition": exported,
                    "health": {
                        "id": format!("Partition-{p}"),
                        "name": format!("Partition-{p}"),
                        "status": if quorum { "HEALTHY" } else { "UNHEALTHY" },
                        "children": [],
                    },
                }),
            );
        }
        Value::Object(out)
    }

    /// Aggregate exporting phase over the replicas of live members, for tests and the demo:
    /// `Running`, `Paused`, `SoftPaused`, or `Mixed` when the replicas disagree.
    pub fn exporting_summary(&self, alive: &[u32]) -> &'static str {
        let mut phases = std::collections::BTreeSet::new();
        for (b, m) in &self.members {
            if !alive.contains(b) {
                continue;
            }
            for p in m.partitions.keys() {
                phases.insert(match self.exporting.replica(*b, *p).phase {
                    Exporting::Running => "Running",
                    Exporting::Paused => "Paused",
                    Exporting::SoftPaused => "SoftPaused",
                });
            }
        }
        match phases.len() {
            0 => "Running",
            1 => phases.into_iter().next().unwrap_or("Running"),
            _ => "Mixed",
        }
    }

    /// Per broker: partition -> phase, for live members (the state JSON's detail).
    pub fn exporting_detail(&self, alive: &[u32]) -> Value {
        let mut out = serde_json::Map::new();
        for (b, m) in &self.members {
            if !alive.contains(b) {
                continue;
            }
            let parts: serde_json::Map<String, Value> = m
                .partitions
                .keys()
                .map(|p| {
                    (
                        p.to_string(),
                        json!(self.exporting.replica(*b, *p).phase.phase()),
                    )
                })
                .collect();
            out.insert(b.to_string(), Value::Object(parts));
        }
        Value::Object(out)
    }
}

/// Serve one request that reached broker `id`'s own management port (9600 of its pod). In 8.8
/// each orchestration pod is broker and gateway at once, so everything but the broker's own
/// `/actuator/partitions` is the gateway's management API of the region.
pub async fn handle_broker(
    world: &crate::world::SharedWorld,
    region: crate::world::RegionId,
    id: u32,
    req: &crate::http::SimRequest,
) -> hyper::Response<crate::http::Body> {
    let path = req.path.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix("/actuator/partitions") {
        let w = world.lock();
        let alive = w.alive_brokers();
        if !alive.contains(&id) {
            return crate::http::text(503, "broker not running");
        }
        if req.method != "GET" {
            return crate::http::json(
                405,
                &json!({"message": format!("{} {} is not simulated", req.method, req.path)}),
            );
        }
        // Fault `partitions_query_times_out`: the broker's own query gave up, it answers `{}`.
        let all = if w.faults.partitions_query_times_out.contains(&id) {
            json!({})
        } else {
            w.zeebe.broker_partitions_json(id, &alive, Instant::now())
        };
        return match rest.trim_start_matches('/') {
            "" => crate::http::json(200, &all),
            // `singlePartition`: an absent partition is an empty Optional, answered 404.
            p => match all.get(p) {
                Some(v) => crate::http::json(200, v),
                None => crate::http::json(404, &Value::Null),
            },
        };
    }
    super::http::handle(world, region, super::http::GatewayPort::Management, req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimConfig;
    use std::time::Duration;

    #[test]
    fn a_pause_freezes_the_exported_position_while_processing_goes_on() {
        let now = Instant::now();
        let mut z = Zeebe::healthy(&SimConfig::default(), now);
        let alive: Vec<u32> = (0..8).collect();
        for p in 1..=8 {
            for b in z.partition_members()[&p].clone() {
                z.exporting.set(b, p, Exporting::Paused, now);
            }
        }
        let later = now + Duration::from_secs(2);
        let v = z.broker_partitions_json(0, &alive, later);
        let p1 = &v["1"];
        assert_eq!(p1["exporterPhase"], "PAUSED");
        assert!(p1["processedPosition"].as_u64() > p1["exportedPosition"].as_u64());
        assert_eq!(z.exporting_summary(&alive), "Paused");
    }

    #[test]
    fn a_non_member_hosts_no_partition() {
        let now = Instant::now();
        let mut z = Zeebe::healthy(&SimConfig::default(), now);
        z.members.remove(&7);
        assert_eq!(z.broker_partitions_json(7, &[0, 7], now), json!({}));
    }
}
