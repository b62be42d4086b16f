//! The Zones API and the persisted zone layout of a zone-aware 8.10 cluster.
//!
//! Upstream (camunda/camunda, read from the stored index by commit; the branch of each commit is
//! not known, the behaviour is the one labelled for 8.10.0-rc1):
//! - `dist/src/main/java/io/camunda/zeebe/shared/management/ClusterEndpoint.java` @ 024e5156d08f:
//!   `DELETE /actuator/cluster/zones/{zoneId}?dryRun&force` (`force` defaults to false: camunda/camunda
//!   #63246 / PR #63247, "do not default to `force=true`", 8.10.0-rc1) and
//!   `POST /actuator/cluster/zones/{zoneId}` with `{numberOfReplicas, priority, brokers[] |
//!   numberOfBrokers}` ("Exactly one of brokers and numberOfBrokers must be set."); both answer 202
//!   with the planned change.
//! - `zeebe/dynamic-config/.../RemoveZoneTransformer.java` @ 12b27b12a7fe: without `force` the
//!   zone's replicas are moved off before its brokers leave (a drain that needs them running);
//!   with `force` they are evicted, and the zone leaves the persisted layout in the same change.
//!   Its errors (all 400) are quoted below.
//! - `zeebe/dynamic-config/.../AddZoneTransformer.java` @ 089e27953723: "re-adds the
//!   operator-supplied brokers to the member set, re-includes the zone in the persisted
//!   ZoneAwareConfig, and reassigns partitions"; a zone still in the layout is refused. The
//!   replication factor is the sum of the zones' replicas (camunda/camunda PR #60424), so
//!   changing it with `PATCH /actuator/cluster` is refused on a zone-aware cluster
//!   (camunda/camunda-deployment-references `aws/kubernetes/eks-multi-region-rdbms/procedure/
//!   lib-management-api.sh` @ 04b4f9aed4f7 quotes "Changing the replication factor is not
//!   supported on zone-aware clusters.").
//! - `GET /actuator/cluster` reports the layout as `partitioning: {scheme: "ZONE_AWARE", zones:
//!   [{name, numberOfReplicas, priority}]}` (camunda-docs management-api page for 8.10 and
//!   zone-aware-migration.md @ 32272511ca79; alpha builds named it `partitionDistribution` with
//!   `type`, `dist/src/main/resources/api/cluster/components.yaml` @ 0206810afc56).
//!
//! The simulator's zones are its regions (`crate::release::zone_name`): the layout starts with
//! both, half of the replication factor each, priorities 100 and 90 as the docs' example.

use hyper::Response;
use tokio::time::Instant;

use crate::http::Body;
use serde_json::{Value, json};

use super::http::{message, submit};
use crate::release::{zone_name, zone_region};
use crate::world::World;

/// One zone of the persisted layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSpec {
    pub name: String,
    pub replicas: u32,
    pub priority: u32,
}

/// The layout a zone-aware cluster starts with: each region a zone holding half the replicas.
pub fn initial_layout(replication_factor: u32) -> Vec<ZoneSpec> {
    let first = replication_factor - replication_factor / 2;
    vec![
        ZoneSpec {
            name: zone_name(0),
            replicas: first,
            priority: 100,
        },
        ZoneSpec {
            name: zone_name(1),
            replicas: replication_factor / 2,
            priority: 90,
        },
    ]
}

/// `partitioning` of `GET /actuator/cluster`.
pub fn layout_json(layout: &[ZoneSpec]) -> Value {
    json!({
        "scheme": "ZONE_AWARE",
        "zones": layout.iter().map(|z| json!({
            "name": z.name, "numberOfReplicas": z.replicas, "priority": z.priority,
        })).collect::<Vec<_>>(),
    })
}

pub const ZONES_PATH: &str = "/actuator/cluster/zones/";

/// The Zones API is served where brokers are zone-aware (the simulator's choice for a numbered
/// cluster: no zones to address, 404).
pub fn served(w: &World) -> bool {
    w.zeebe.zones.is_some()
}

fn zone_of(path: &str) -> &str {
    path.trim_start_matches(ZONES_PATH)
}

/// The configured members of a zone (a zone is a region here).
pub fn members(w: &World, zone: &str) -> Vec<u32> {
    let Some(region) = zone_region(zone) else {
        return vec![];
    };
    w.zeebe
        .members
        .keys()
        .copied()
        .filter(|b| World::region_of_broker(*b) == region as usize)
        .collect()
}

/// `DELETE /actuator/cluster/zones/{zone}[?force=true][&dryRun=true]`.
pub fn remove(
    w: &mut World,
    dry_run: bool,
    force: bool,
    path: &str,
    now: Instant,
) -> Response<Body> {
    let zone = zone_of(path).to_string();
    let layout = w.zeebe.zones.clone().unwrap_or_default();
    if !layout.iter().any(|z| z.name == zone) {
        return message(
            400,
            format!("Remove zone request targets unknown zone '{zone}'."),
        );
    }
    let remove = members(w, &zone);
    if remove.is_empty() {
        return message(
            400,
            format!("Remove zone request targets zone '{zone}' which has no current members."),
        );
    }
    if layout.len() == 1 {
        return message(
            400,
            format!(
                "Cannot remove zone '{zone}' because it is the last remaining zone in the partition distribution config."
            ),
        );
    }
    if w.zeebe.pending.is_some() {
        return message(409, "Another topology change is in progress");
    }
    if let Some(refused) = super::tenants::blocks_removal(w, &remove) {
        return refused;
    }
    let remaining: Vec<ZoneSpec> = layout.into_iter().filter(|z| z.name != zone).collect();
    let plan = if force {
        w.zeebe.plan_force_remove(&remove)
    } else {
        // The drain: the zone's replicas move to the remaining brokers first, which needs the
        // zone's brokers running (the change stalls on a dead one, as a real drain does).
        let target: Vec<u32> = w
            .zeebe
            .members
            .keys()
            .copied()
            .filter(|b| !remove.contains(b))
            .collect();
        let rf: u32 = remaining.iter().map(|z| z.replicas).sum();
        w.zeebe.plan_scale(&target, rf.min(target.len() as u32))
    };
    match plan {
        Ok(ops) => {
            let layout_after = (!dry_run).then_some(remaining);
            submit_with_layout(w, ops, dry_run, layout_after, now)
        }
        Err(e) => message(400, e),
    }
}

/// `POST /actuator/cluster/zones/{zone}` `{numberOfReplicas, priority, brokers | numberOfBrokers}`.
pub fn add(w: &mut World, dry_run: bool, body: &Value, path: &str, now: Instant) -> Response<Body> {
    let zone = zone_of(path).to_string();
    let Some(region) = zone_region(&zone) else {
        return message(400, format!("Invalid zone id '{zone}'"));
    };
    let ids = w.zeebe.ids;
    let brokers: Vec<u32> = match (&body["brokers"], body["numberOfBrokers"].as_u64()) {
        (Value::Null, Some(0)) => return message(400, "numberOfBrokers must be at least 1."),
        (Value::Null, Some(n)) => (0..n.min(u64::from(u16::MAX)) as u32)
            .map(|i| i * 2 + region)
            .collect(),
        (Value::Array(list), None) => {
            let mut out = vec![];
            for item in list {
                match ids.parse(item) {
                    Some(b) => out.push(b),
                    None => return message(400, format!("Invalid member ID '{item}'")),
                }
            }
            out
        }
        _ => {
            return message(
                400,
                "Exactly one of brokers and numberOfBrokers must be set.",
            );
        }
    };
    let stray: Vec<String> = brokers
        .iter()
        .filter(|b| World::region_of_broker(**b) != region as usize)
        .map(|b| ids.string(*b))
        .collect();
    if !stray.is_empty() {
        return message(
            400,
            format!(
                "Requested brokers must belong to zone '{zone}', but got brokers not in that zone: {stray:?}"
            ),
        );
    }
    if brokers.is_empty() {
        return message(400, "Failback request must specify at least one broker.");
    }
    let (Some(replicas), Some(priority)) = (
        body["numberOfReplicas"].as_u64().map(|r| r as u32),
        body["priority"].as_u64().map(|p| p as u32),
    ) else {
        return message(400, "numberOfReplicas and priority are required");
    };
    let mut layout = w.zeebe.zones.clone().unwrap_or_default();
    if layout.iter().any(|z| z.name == zone) {
        return message(
            400,
            format!(
                "Cannot add back zone '{zone}' because it is already present in the partition distribution config."
            ),
        );
    }
    if (brokers.len() as u32) < replicas {
        return message(
            400,
            format!(
                "Request provided {} broker(s), which is less than the requested number of replicas [{replicas}] for zone '{zone}'.",
                brokers.len()
            ),
        );
    }
    if w.zeebe.pending.is_some() {
        return message(409, "Another topology change is in progress");
    }
    let mut target: Vec<u32> = w.zeebe.members.keys().copied().collect();
    for b in brokers {
        if !target.contains(&b) {
            target.push(b);
        }
    }
    target.sort_unstable();
    layout.push(ZoneSpec {
        name: zone,
        replicas,
        priority,
    });
    let rf: u32 = layout.iter().map(|z| z.replicas).sum();
    match w.zeebe.plan_scale(&target, rf) {
        Ok(ops) => {
            let layout_after = (!dry_run).then_some(layout);
            submit_with_layout(w, ops, dry_run, layout_after, now)
        }
        Err(e) => message(400, e),
    }
}

/// Submit a zone change: the layout changes with the change's last operation.
fn submit_with_layout(
    w: &mut World,
    ops: Vec<super::Operation>,
    dry_run: bool,
    layout_after: Option<Vec<ZoneSpec>>,
    now: Instant,
) -> Response<Body> {
    let response = submit(w, ops, dry_run, now);
    if response.status().is_success()
        && let (Some(layout), Some(pending)) = (layout_after, w.zeebe.pending.as_mut())
    {
        pending.layout_after = Some(layout);
    }
    response
}

/// The answer to `PATCH /actuator/cluster` with a replication factor on a zone-aware cluster.
pub fn replication_factor_refused() -> Response<Body> {
    message(
        400,
        "Changing the replication factor is not supported on zone-aware clusters.",
    )
}
