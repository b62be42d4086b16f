//! The simulated Zeebe cluster: dynamic cluster configuration (members, partitions, exporters),
//! asynchronous topology changes applied one operation at a time, and exporting pause state.
//!
//! Behaviour follows docs/api-behaviour.md §1–§4 (sources: camunda/camunda `ClusterEndpoint`,
//! `ClusterApiUtils`, `ExportingEndpoint`; zeebe-chaos `waitForChange`). Where the spec is
//! silent, the comment names the source or says that the choice is the simulator's own.

pub mod http;
pub mod leaders;
pub mod partitions;
pub mod tenants;
pub mod zones;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::release::BrokerIds;
use crate::world::SimConfig;

/// One operation of a planned change, serialised as the management API's `Operation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub operation: String,
    pub broker_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exporter_id: Option<String>,
}

impl Operation {
    fn broker(kind: &str, broker_id: u32) -> Self {
        Self {
            operation: kind.into(),
            broker_id,
            partition_id: None,
            priority: None,
            brokers: None,
            exporter_id: None,
        }
    }
    fn partition(kind: &str, broker_id: u32, partition_id: u32) -> Self {
        Self {
            partition_id: Some(partition_id),
            ..Self::broker(kind, broker_id)
        }
    }
}

#[derive(Debug, Clone)]
pub struct PartitionConfig {
    pub priority: u32,
    /// exporter id -> ENABLED | DISABLED
    pub exporters: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub version: i64,
    pub last_updated_at: String,
    pub partitions: BTreeMap<u32, PartitionConfig>,
}

#[derive(Debug, Clone)]
pub struct LastChange {
    pub id: i64,
    pub status: String,
    pub started_at: String,
    pub completed_at: String,
    /// The operations applied (with when), and those left when it was cancelled: what
    /// `GET /actuator/cluster/changes/{id}` (8.10) shows of an ended change.
    pub completed: Vec<(Operation, String)>,
    pub pending: Vec<Operation>,
}

#[derive(Debug, Clone)]
pub struct PendingChange {
    pub id: i64,
    pub pending: VecDeque<Operation>,
    pub completed: Vec<(Operation, String)>,
    pub started_at: String,
    /// When the next operation may be applied.
    pub next_due: Instant,
    /// Exporter statuses before this change, for the status lag of `GET /actuator/exporters`.
    pub exporters_before: BTreeMap<String, String>,
    /// A zone change's layout, persisted when the change completes ([`zones`]).
    pub layout_after: Option<Vec<zones::ZoneSpec>>,
}

/// The exporting phase of one partition replica (`ExporterPhase`); every broker reports it for
/// the partitions it hosts on `GET /actuator/partitions` (docs/api-behaviour.md §3, see [`partitions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Exporting {
    Running,
    Paused,
    SoftPaused,
}

#[derive(Debug)]
pub struct Zeebe {
    /// How broker ids are written on the wire (numbers, or zone-aware strings on 8.10).
    pub ids: BrokerIds,
    pub version: i64,
    pub cluster_id: String,
    pub members: BTreeMap<u32, Member>,
    pub partitions_count: u32,
    pub last_change: Option<LastChange>,
    pub pending: Option<PendingChange>,
    pub next_change_id: i64,
    /// Per broker and partition: the exporting phase and the position a pause froze.
    pub exporting: partitions::ExportingState,
    /// Exporters in the brokers' static configuration (what `enable` may name).
    pub configured_exporters: Vec<String>,
    /// exporter id -> (status reported until `until`): the brief lag after a change.
    pub exporter_lag: BTreeMap<String, (String, Instant)>,
    /// exporter id -> the exporter it was last initialised from (for tests and `status`).
    pub initialized_from: BTreeMap<String, String>,
    /// A hard pause was sent over a soft pause (camunda/camunda#55838 corrupts the pause file).
    pub pause_file_corrupted: bool,
    /// Every mutating request the gateway accepted: (method, path+query, body), for tests.
    pub requests: Vec<(String, String, Value)>,
    /// The mutating requests that took effect (a change started or cancelled, an exporting
    /// pause/resume every member applied): (method, path without query, body), for tests.
    pub applied: Vec<(String, String, Value)>,
    /// Set by an exporting broadcast that every member applied (read right after it).
    pub broadcast_applied: bool,
    /// Who leads each partition, and a rebalance that moves leaders ([`leaders`]).
    pub leadership: leaders::Leadership,
    /// The persisted zone layout of a zone-aware cluster (`None`: numbered brokers).
    pub zones: Option<Vec<zones::ZoneSpec>>,
    /// A disabled physical tenant still holding partitions (8.10, [`tenants`]).
    pub disabled_tenant: Option<String>,
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Zeebe's round-robin distribution: partition `p` (1-based) lives on the `rf` members that follow
/// index `p-1` in the sorted member list; the first has the highest priority.
pub fn round_robin(members: &[u32], partitions: u32, rf: u32) -> BTreeMap<u32, Vec<(u32, u32)>> {
    let n = members.len();
    (1..=partitions)
        .map(|p| {
            let holders = (0..rf.min(n as u32))
                .map(|k| (members[(p as usize - 1 + k as usize) % n], rf - k))
                .collect();
            (p, holders)
        })
        .collect()
}

/// How long an operation of a change takes (`None`: the final step that completes the change).
/// A broker joining a partition (`PARTITION_JOIN`, in a re-add or a scale) is only a member once
/// it holds the partition's state: the leader sends it its latest snapshot in chunks
/// (camunda/camunda `zeebe/atomix/cluster/src/main/java/io/atomix/raft/roles/LeaderAppender.java`,
/// `InstallRequest`, when the follower lacks the log the leader still has), so the join takes
/// time proportional to the partition's size (`SimConfig::partition_bytes` at
/// `partition_bytes_per_sec`) on top of the fixed `operation_duration`.
pub fn operation_time(op: Option<&Operation>, cfg: &SimConfig) -> std::time::Duration {
    match op {
        Some(op) if op.operation == "PARTITION_JOIN" && cfg.partition_bytes > 0 => {
            let rate = cfg.byte_rate(cfg.partition_bytes_per_sec.max(1) as f64);
            cfg.operation_duration
                + std::time::Duration::from_secs_f64(cfg.partition_bytes as f64 / rate)
        }
        _ => cfg.operation_duration,
    }
}

impl Zeebe {
    pub fn healthy(cfg: &SimConfig, now: Instant) -> Self {
        let ids: Vec<u32> = (0..cfg.cluster_size).collect();
        let exporters = vec!["camundaregion0".to_string(), "camundaregion1".to_string()];
        let mut members: BTreeMap<u32, Member> = ids
            .iter()
            .map(|id| {
                (
                    *id,
                    Member {
                        version: 1,
                        last_updated_at: now_rfc3339(),
                        partitions: BTreeMap::new(),
                    },
                )
            })
            .collect();
        for (p, holders) in round_robin(&ids, cfg.partitions, cfg.replication_factor) {
            for (b, priority) in holders {
                if let Some(m) = members.get_mut(&b) {
                    m.partitions.insert(
                        p,
                        PartitionConfig {
                            priority,
                            exporters: exporters
                                .iter()
                                .map(|e| (e.clone(), "ENABLED".into()))
                                .collect(),
                        },
                    );
                }
            }
        }
        Self {
            ids: cfg.broker_ids(),
            version: 1,
            cluster_id: "c8dr-sim-cluster".into(),
            members,
            partitions_count: cfg.partitions,
            last_change: None,
            pending: None,
            next_change_id: 1,
            exporting: partitions::ExportingState::new(now),
            configured_exporters: exporters,
            exporter_lag: BTreeMap::new(),
            initialized_from: BTreeMap::new(),
            requests: Vec::new(),
            applied: Vec::new(),
            broadcast_applied: false,
            pause_file_corrupted: false,
            leadership: leaders::Leadership::default(),
            zones: (cfg.broker_ids() == BrokerIds::Zoned)
                .then(|| zones::initial_layout(cfg.replication_factor)),
            disabled_tenant: cfg
                .disabled_tenant
                .clone()
                .filter(|_| cfg.camunda.has_change_query()),
        }
    }

    /// Members holding each partition.
    pub fn partition_members(&self) -> BTreeMap<u32, Vec<u32>> {
        let mut out: BTreeMap<u32, Vec<u32>> =
            (1..=self.partitions_count).map(|p| (p, vec![])).collect();
        for (id, m) in &self.members {
            for p in m.partitions.keys() {
                out.entry(*p).or_default().push(*id);
            }
        }
        out
    }

    /// The current (effective) replication factor: replicas of the smallest partition.
    pub fn replication_factor(&self) -> u32 {
        self.partition_members()
            .values()
            .map(|m| m.len() as u32)
            .min()
            .unwrap_or(0)
    }

    /// Aggregated exporter status as `ClusterApiUtils` computes it: unanimous state, else
    /// ENABLING/DISABLING when a pending operation decides it, else UNKNOWN.
    pub fn exporter_status(&self, id: &str) -> String {
        let states: BTreeSet<&str> = self
            .members
            .values()
            .flat_map(|m| m.partitions.values())
            .filter_map(|p| p.exporters.get(id).map(String::as_str))
            .collect();
        if states.len() == 1 {
            return states
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default();
        }
        if states.is_empty() {
            return "CONFIG_NOT_FOUND".into();
        }
        if let Some(pending) = &self.pending {
            for op in pending.pending.iter() {
                if op.exporter_id.as_deref() == Some(id) {
                    return match op.operation.as_str() {
                        "PARTITION_ENABLE_EXPORTER" => "ENABLING".into(),
                        _ => "DISABLING".into(),
                    };
                }
            }
        }
        "UNKNOWN".into()
    }

    /// Every exporter id present in the dynamic configuration.
    pub fn exporter_ids(&self) -> Vec<String> {
        let ids: BTreeSet<String> = self
            .members
            .values()
            .flat_map(|m| m.partitions.values())
            .flat_map(|p| p.exporters.keys().cloned())
            .chain(self.configured_exporters.iter().cloned())
            .collect();
        ids.into_iter().collect()
    }

    /// The status `GET /actuator/exporters` reports now, lag included.
    pub fn reported_exporter_status(&self, id: &str, now: Instant) -> String {
        match self.exporter_lag.get(id) {
            Some((old, until)) if now < *until => old.clone(),
            _ => self.exporter_status(id),
        }
    }

    /// Start a change with the given operations, or report that there is nothing to do
    /// (`None`): the simulator answers 202 with an empty plan and starts no change.
    pub fn start_change(&mut self, ops: Vec<Operation>, now: Instant) -> Option<i64> {
        if ops.is_empty() {
            return None;
        }
        let id = self.next_change_id;
        self.next_change_id += 1;
        let exporters_before = self
            .exporter_ids()
            .into_iter()
            .map(|e| {
                let s = self.exporter_status(&e);
                (e, s)
            })
            .collect();
        self.pending = Some(PendingChange {
            id,
            pending: ops.into(),
            completed: vec![],
            started_at: now_rfc3339(),
            next_due: now,
            exporters_before,
            layout_after: None,
        });
        Some(id)
    }

    /// Apply what is due by `now`: the operations of a change, then the elections and leader
    /// transfers that follow from it ([`leaders`]).
    pub fn advance(&mut self, now: Instant, alive: &[u32], cfg: &SimConfig) {
        self.advance_change(now, alive, cfg);
        self.settle_leaders(now, alive, cfg);
    }

    /// Apply due operations. An operation whose broker is not running stalls the change, as a
    /// real change waits for an unreachable broker forever (hence force removal and cancel).
    fn advance_change(&mut self, now: Instant, alive: &[u32], cfg: &SimConfig) {
        loop {
            let Some(pending) = self.pending.as_mut() else {
                return;
            };
            let due = pending.next_due + operation_time(pending.pending.front(), cfg);
            if now < due {
                return;
            }
            let Some(op) = pending.pending.front().cloned() else {
                self.complete_change("COMPLETED", now, cfg);
                continue;
            };
            // Every operation runs on its `brokerId`, the executor, which must be running. A
            // forced BROKER_REMOVE names a surviving executor (the coordinator of the forced
            // change) and the removed broker in `brokers` (`MemberRemoveOperation`); a normal
            // BROKER_REMOVE (`MemberLeaveOperation`) is executed by the leaving broker itself.
            if !alive.contains(&op.broker_id) {
                return;
            }
            pending.pending.pop_front();
            pending.completed.push((op.clone(), now_rfc3339()));
            pending.next_due = due;
            self.apply(&op);
        }
    }

    fn complete_change(&mut self, status: &str, now: Instant, cfg: &SimConfig) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        for (exporter, before) in &pending.exporters_before {
            if *before != self.exporter_status(exporter) {
                self.exporter_lag.insert(
                    exporter.clone(),
                    (before.clone(), now + cfg.exporter_status_lag),
                );
            }
        }
        if status == "COMPLETED"
            && let Some(layout) = pending.layout_after
        {
            self.zones = Some(layout);
        }
        self.version += 1;
        self.last_change = Some(LastChange {
            id: pending.id,
            status: status.into(),
            started_at: pending.started_at,
            completed_at: now_rfc3339(),
            completed: pending.completed,
            pending: pending.pending.into(),
        });
    }

    /// `DELETE /actuator/cluster/changes/{id}`: applied operations stay applied.
    pub fn cancel(&mut self, id: i64, now: Instant, cfg: &SimConfig) -> bool {
        match &self.pending {
            Some(p) if p.id == id => {
                self.complete_change("CANCELLED", now, cfg);
                true
            }
            _ => false,
        }
    }

    fn apply(&mut self, op: &Operation) {
        let b = op.broker_id;
        let stamp = now_rfc3339();
        match op.operation.as_str() {
            "BROKER_ADD" => {
                self.members.entry(b).or_insert(Member {
                    version: 0,
                    last_updated_at: stamp.clone(),
                    partitions: BTreeMap::new(),
                });
            }
            "BROKER_REMOVE" => match &op.brokers {
                // MemberRemoveOperation(executor, memberToRemove): forced removal.
                Some(removed) => {
                    for r in removed {
                        self.members.remove(r);
                    }
                }
                // MemberLeaveOperation: the broker leaves by itself.
                None => {
                    self.members.remove(&b);
                }
            },
            "PARTITION_JOIN" => {
                let p = op.partition_id.unwrap_or(0);
                let exporters = self
                    .members
                    .values()
                    .find_map(|m| m.partitions.get(&p).map(|c| c.exporters.clone()))
                    .unwrap_or_else(|| {
                        self.configured_exporters
                            .iter()
                            .map(|e| (e.clone(), "ENABLED".to_string()))
                            .collect()
                    });
                if let Some(m) = self.members.get_mut(&b) {
                    m.partitions.insert(
                        p,
                        PartitionConfig {
                            priority: op.priority.unwrap_or(1),
                            exporters,
                        },
                    );
                }
            }
            "PARTITION_LEAVE" => {
                if let Some(m) = self.members.get_mut(&b) {
                    m.partitions.remove(&op.partition_id.unwrap_or(0));
                }
            }
            "PARTITION_FORCE_RECONFIGURE" => {
                let p = op.partition_id.unwrap_or(0);
                let keep = op.brokers.clone().unwrap_or_default();
                for (id, m) in self.members.iter_mut() {
                    if !keep.contains(id) {
                        m.partitions.remove(&p);
                    }
                }
            }
            "PARTITION_ENABLE_EXPORTER" | "PARTITION_DISABLE_EXPORTER" => {
                let state = if op.operation == "PARTITION_ENABLE_EXPORTER" {
                    "ENABLED"
                } else {
                    "DISABLED"
                };
                let (p, e) = (
                    op.partition_id.unwrap_or(0),
                    op.exporter_id.clone().unwrap_or_default(),
                );
                if let Some(c) = self
                    .members
                    .get_mut(&b)
                    .and_then(|m| m.partitions.get_mut(&p))
                {
                    c.exporters.insert(e, state.into());
                }
            }
            _ => {}
        }
        if let Some(m) = self.members.get_mut(&b) {
            m.version += 1;
            m.last_updated_at = stamp;
        }
    }

    /// Operations of a forced removal, as camunda/camunda `ForceScaleDownRequestTransformer`
    /// (zeebe/dynamic-config/.../config/api/ForceScaleDownRequestTransformer.java, main @003d964a;
    /// reached from `ForceRemoveBrokersRequestTransformer`) plans them: every partition is
    /// force-reconfigured onto its retained members, executed by the lowest of them; then one
    /// `MemberRemoveOperation(coordinator, removed)` per removed member, executed by
    /// `coordinator`, the lowest retained member. `ClusterApiUtils.mapOperation` renders them as
    /// `PARTITION_FORCE_RECONFIGURE {brokerId, partitionId, brokers: retained}` and
    /// `BROKER_REMOVE {brokerId: executor, brokers: [removed]}` (docs/api-behaviour.md §1 "Plan shape").
    pub fn plan_force_remove(&self, remove: &[u32]) -> Result<Vec<Operation>, String> {
        let retained: Vec<u32> = self
            .members
            .keys()
            .copied()
            .filter(|m| !remove.contains(m))
            .collect();
        let mut ops = vec![];
        let mut without = vec![];
        for (p, holders) in self.partition_members() {
            let keep: Vec<u32> = holders
                .iter()
                .copied()
                .filter(|h| !remove.contains(h))
                .collect();
            match keep.first() {
                Some(first) => ops.push(Operation {
                    brokers: Some(keep.clone()),
                    ..Operation::partition("PARTITION_FORCE_RECONFIGURE", *first, p)
                }),
                None => without.push(p),
            }
        }
        if !without.is_empty() {
            return Err(format!(
                "Expected to force configure and retain members '{retained:?}', but this will result in partitions '{without:?}' having no replicas"
            ));
        }
        let Some(coordinator) = retained.first().copied() else {
            return Err("Cannot remove all brokers from the cluster.".into());
        };
        for b in remove.iter().filter(|b| self.members.contains_key(b)) {
            ops.push(Operation {
                brokers: Some(vec![*b]),
                ..Operation::broker("BROKER_REMOVE", coordinator)
            });
        }
        Ok(ops)
    }

    /// The default coordinator the gateway sends cluster requests to: the lowest configured
    /// member id, alive or not. camunda/camunda `ClusterConfigurationCoordinatorSupplier.of(...)
    /// .getDefaultCoordinator()` -> `CoordinatorResolver.resolveCoordinator` (lowest member,
    /// "0" when none), used by every method of `ClusterConfigurationManagementRequestSender`
    /// except `forceScaleDown` (zeebe/dynamic-config/.../config/api/, main @e9f41773).
    pub fn default_coordinator(&self) -> u32 {
        self.members.keys().next().copied().unwrap_or(0)
    }

    /// The member a forced removal is sent to: `forceScaleDown` uses
    /// `getNextCoordinator(members to retain)`, the lowest retained member.
    pub fn force_coordinator(&self, remove: &[u32]) -> u32 {
        self.members
            .keys()
            .copied()
            .find(|m| !remove.contains(m))
            .unwrap_or(0)
    }

    /// Operations of a normal reconfiguration to `target` members with replication factor `rf`.
    pub fn plan_scale(&self, target: &[u32], rf: u32) -> Result<Vec<Operation>, String> {
        if target.is_empty() {
            return Err("Cannot remove all brokers from the cluster.".into());
        }
        if rf == 0 || rf as usize > target.len() {
            return Err(format!(
                "Replication factor {rf} is invalid for a cluster of {} brokers.",
                target.len()
            ));
        }
        let mut ops = vec![];
        for b in target.iter().filter(|b| !self.members.contains_key(b)) {
            ops.push(Operation::broker("BROKER_ADD", *b));
        }
        let current = self.partition_members();
        let wanted = round_robin(target, self.partitions_count, rf);
        for (p, holders) in &wanted {
            let have = current.get(p).cloned().unwrap_or_default();
            for (b, priority) in holders.iter().filter(|(b, _)| !have.contains(b)) {
                ops.push(Operation {
                    priority: Some(*priority),
                    ..Operation::partition("PARTITION_JOIN", *b, *p)
                });
            }
        }
        for (p, have) in &current {
            let want: Vec<u32> = wanted
                .get(p)
                .map(|h| h.iter().map(|(b, _)| *b).collect())
                .unwrap_or_default();
            for b in have.iter().filter(|b| !want.contains(b)) {
                ops.push(Operation::partition("PARTITION_LEAVE", *b, *p));
            }
        }
        for b in self.members.keys().filter(|b| !target.contains(b)) {
            ops.push(Operation::broker("BROKER_REMOVE", *b));
        }
        Ok(ops)
    }

    /// Operations enabling or disabling an exporter on every replica that is not in that state.
    pub fn plan_exporter(&self, exporter: &str, enable: bool) -> Vec<Operation> {
        let (kind, target) = if enable {
            ("PARTITION_ENABLE_EXPORTER", "ENABLED")
        } else {
            ("PARTITION_DISABLE_EXPORTER", "DISABLED")
        };
        let mut ops = vec![];
        for (b, m) in &self.members {
            for (p, c) in &m.partitions {
                if c.exporters.get(exporter).map(String::as_str) != Some(target) {
                    ops.push(Operation {
                        exporter_id: Some(exporter.into()),
                        ..Operation::partition(kind, *b, *p)
                    });
                }
            }
        }
        ops
    }

    /// An operation as the management API writes it: `brokerId` and `brokers` in this
    /// cluster's id form (strings for zone-aware brokers).
    pub fn operation_json(&self, op: &Operation) -> Value {
        let mut v = serde_json::to_value(op).unwrap_or(Value::Null);
        if self.ids == BrokerIds::Zoned {
            v["brokerId"] = self.ids.json(op.broker_id);
            if let Some(brokers) = &op.brokers {
                v["brokers"] = brokers.iter().map(|b| self.ids.json(*b)).collect();
            }
        }
        v
    }

    /// `BrokerState[]` of the given members map, as `GET /actuator/cluster` renders it: `id` a
    /// JSON number, or a string `<zone>_<index>` for a zone-aware cluster (8.10).
    pub fn brokers_json(&self, members: &BTreeMap<u32, Member>) -> Value {
        Value::Array(
            members
                .iter()
                .map(|(id, m)| {
                    json!({
                        "id": self.ids.json(*id),
                        "state": "ACTIVE",
                        "version": m.version,
                        "lastUpdatedAt": m.last_updated_at,
                        "partitions": m.partitions.iter().map(|(p, c)| json!({
                            "id": p,
                            "state": "ACTIVE",
                            "priority": c.priority,
                            "config": {"exporting": {"exporters": c.exporters.iter()
                                .map(|(e, s)| json!({"id": e, "state": s})).collect::<Vec<_>>()}}
                        })).collect::<Vec<_>>()
                    })
                })
                .collect(),
        )
    }

    /// The members map after applying `ops` (the `expectedTopology` of a plan).
    pub fn expected_members(&self, ops: &[Operation]) -> BTreeMap<u32, Member> {
        let mut copy = Zeebe {
            ids: self.ids,
            version: self.version,
            cluster_id: self.cluster_id.clone(),
            members: self.members.clone(),
            partitions_count: self.partitions_count,
            last_change: None,
            pending: None,
            next_change_id: 0,
            exporting: self.exporting.clone(),
            configured_exporters: self.configured_exporters.clone(),
            exporter_lag: BTreeMap::new(),
            initialized_from: BTreeMap::new(),
            requests: vec![],
            applied: vec![],
            broadcast_applied: false,
            pause_file_corrupted: false,
            leadership: self.leadership.clone(),
            zones: self.zones.clone(),
            disabled_tenant: self.disabled_tenant.clone(),
        };
        for op in ops {
            copy.apply(op);
        }
        copy.members
    }

    /// `GET /actuator/cluster`.
    pub fn cluster_json(&self) -> Value {
        let mut out = json!({
            "version": self.version,
            "brokers": self.brokers_json(&self.members),
            "routing": {"version": 1, "activePartitions": (1..=self.partitions_count).collect::<Vec<_>>(),
                        "messageCorrelation": {"strategy": "HashMod", "partitionCount": self.partitions_count}},
            "clusterId": self.cluster_id,
        });
        if let Some(layout) = &self.zones {
            out["partitioning"] = zones::layout_json(layout);
        }
        if let Some(last) = &self.last_change {
            out["lastChange"] = json!({"id": last.id, "status": last.status,
                "startedAt": last.started_at, "completedAt": last.completed_at});
        }
        // `pendingChange` is absent when no change runs (docs/api-behaviour.md §1).
        if let Some(p) = &self.pending {
            out["pendingChange"] = json!({
                "id": p.id,
                "status": "IN_PROGRESS",
                "startedAt": p.started_at,
                "internalVersion": self.version,
                "completed": self.completed_json(&p.completed),
                "pending": p.pending.iter().map(|op| self.operation_json(op)).collect::<Vec<_>>(),
            });
        }
        if let Some(t) = &self.disabled_tenant {
            tenants::multi_tenant(&mut out, t);
        }
        out
    }

    fn completed_json(&self, completed: &[(Operation, String)]) -> Vec<Value> {
        completed
            .iter()
            .map(|(op, at)| {
                let mut v = self.operation_json(op);
                v["completedAt"] = json!(at);
                v
            })
            .collect()
    }

    /// `GET /actuator/cluster/changes/{id}` (8.10, camunda/camunda#59826, 8.10.0-alpha5): the
    /// running change or the last ended one — id, status, startedAt, completedAt (once ended),
    /// completed and pending operations; `None` for any other id (404).
    pub fn change_json(&self, id: i64) -> Option<Value> {
        if let Some(p) = self.pending.as_ref().filter(|p| p.id == id) {
            return Some(json!({
                "id": p.id,
                "status": "IN_PROGRESS",
                "startedAt": p.started_at,
                "completed": self.completed_json(&p.completed),
                "pending": p.pending.iter().map(|op| self.operation_json(op)).collect::<Vec<_>>(),
            }));
        }
        let last = self.last_change.as_ref().filter(|c| c.id == id)?;
        Some(json!({
            "id": last.id,
            "status": last.status,
            "startedAt": last.started_at,
            "completedAt": last.completed_at,
            "completed": self.completed_json(&last.completed),
            "pending": last.pending.iter().map(|op| self.operation_json(op)).collect::<Vec<_>>(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeebe() -> Zeebe {
        Zeebe::healthy(&SimConfig::default(), Instant::now())
    }

    #[test]
    fn a_forced_removal_is_executed_by_survivors_and_names_the_removed_brokers() {
        let z = zeebe();
        let ops = z.plan_force_remove(&[0, 2, 4, 6]).expect("plan");
        let removes: Vec<&Operation> = ops
            .iter()
            .filter(|o| o.operation == "BROKER_REMOVE")
            .collect();
        assert_eq!(removes.len(), 4);
        // Executor: broker 1, the lowest retained member; the removed one is in `brokers`.
        assert!(removes.iter().all(|o| o.broker_id == 1));
        assert_eq!(removes[0].brokers, Some(vec![0]));
        let reconf: Vec<&Operation> = ops
            .iter()
            .filter(|o| o.operation == "PARTITION_FORCE_RECONFIGURE")
            .collect();
        assert_eq!(reconf.len(), 8, "every partition is reconfigured");
        for o in reconf {
            let keep = o.brokers.clone().unwrap_or_default();
            assert!(keep.iter().all(|b| b % 2 == 1));
            assert_eq!(keep.first().copied(), Some(o.broker_id));
        }
    }

    #[test]
    fn the_default_coordinator_is_the_lowest_member_and_force_skips_the_removed() {
        let z = zeebe();
        assert_eq!(z.default_coordinator(), 0);
        assert_eq!(z.force_coordinator(&[0, 2, 4, 6]), 1);
        assert_eq!(z.force_coordinator(&[1, 3, 5, 7]), 0);
    }

    #[test]
    fn a_forced_removal_applies_with_the_removed_brokers_gone() {
        let cfg = SimConfig {
            operation_duration: std::time::Duration::ZERO,
            ..SimConfig::default()
        };
        let mut z = Zeebe::healthy(&cfg, Instant::now());
        let ops = z.plan_force_remove(&[0, 2, 4, 6]).expect("plan");
        z.start_change(ops, Instant::now());
        z.advance(Instant::now(), &[1, 3, 5, 7], &cfg);
        assert!(z.pending.is_none());
        assert_eq!(
            z.members.keys().copied().collect::<Vec<_>>(),
            vec![1, 3, 5, 7]
        );
        assert_eq!(z.default_coordinator(), 1);
    }
}
