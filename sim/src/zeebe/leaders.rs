//! Partition leadership: who leads each partition, how leadership survives a failover and a
//! failback, and the two ways a client moves it back to each partition's primary.
//!
//! What is modelled, with the sources (camunda/camunda):
//! - Every partition has one leader among its live replicas, and only while a quorum of its
//!   replicas is alive (Raft). A client sees it as `partitions[].role: leader|follower` in
//!   `GET /v2/topology` (`zeebe/gateway-protocol/.../v2/cluster.yaml`, `Partition.role`) and as
//!   `role: LEADER|FOLLOWER` in a broker's `/actuator/partitions`.
//! - An election is won by the live replica with the highest priority: Zeebe's Raft runs with
//!   priority election on by default (`zeebe/atomix/cluster/.../raft/...`, the
//!   `enablePriorityElection` broker setting). The simulator makes that replica the winner every
//!   time (in reality it is only the likeliest).
//! - A leader is never pre-empted: a higher-priority replica that comes back, or joins through a
//!   re-add, stays a follower. After a failover and a failback every leader therefore sits in the
//!   surviving region, and Zeebe does not move them back by itself (camunda/camunda#40036).
//! - `POST /actuator/rebalance` on the management port (all modelled releases):
//!   `dist/src/main/java/io/camunda/zeebe/shared/management/RebalancingEndpoint.java`,
//!   `@WebEndpoint(id = "rebalance")`, a `@WriteOperation` that calls
//!   `RebalancingService.rebalanceCluster()` and returns `new WebEndpointResponse<>()` (HTTP 200,
//!   no body, no feedback). The service asks each partition's primary (the highest-priority
//!   member) to take over; it is asynchronous. `RebalancingService` itself was not read for this
//!   simulator: the simulator's own choice is that every partition not led by its primary moves
//!   at once, `SimConfig::operation_duration` after the request (a partition whose primary is not
//!   alive keeps its leader).
//! - 8.10's coordinated rebalance on the REST port:
//!   `zeebe/gateway-protocol/src/main/proto/v2/cluster-admin.yaml` (every operation
//!   `x-added-in-version: "8.10"`), `triggerClusterRebalance` / `getClusterRebalance` /
//!   `cancelClusterRebalance` on `/cluster/v2/rebalance`: "Transfers leadership of every partition
//!   that is not led by its highest-priority replica towards that replica, one partition at a
//!   time" — one transfer every `SimConfig::operation_duration` here. Its documents are built in
//!   `super::http` ([`Zeebe::balance_json`] and friends).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Zeebe, now_rfc3339};
use crate::world::SimConfig;

/// `ClusterRebalanceOperationPartition.progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Pending,
    Transferring,
    Completed,
}

impl Progress {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Transferring => "TRANSFERRING",
            Self::Completed => "COMPLETED",
        }
    }
}

/// One partition of a rebalance plan.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub partition: u32,
    /// The leader when the rebalance was planned (or last observed), `None` without one.
    pub current: Option<u32>,
    pub desired: u32,
    pub progress: Progress,
    /// `ClusterRebalanceOperationPartition.result`, once `Completed`.
    pub result: Option<&'static str>,
}

/// A rebalance: the management endpoint's (all partitions at once, no id visible to a client)
/// or 8.10's coordinated one (one partition at a time).
#[derive(Debug, Clone)]
pub struct Rebalance {
    pub id: i64,
    pub coordinated: bool,
    pub started_at: String,
    pub plan: Vec<Transfer>,
    pub next_due: Instant,
    pub cancel_requested: bool,
}

/// A finished coordinated rebalance (`ClusterCompletedRebalance`).
#[derive(Debug, Clone)]
pub struct Completed {
    pub rebalance: Rebalance,
    pub finished_at: String,
    /// `COMPLETED | CANCELLED | FAILED`.
    pub result: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Leadership {
    /// partition -> the broker that won its last election (or took it over in a rebalance).
    pub leaders: BTreeMap<u32, u32>,
    pub running: Option<Rebalance>,
    pub last: Option<Completed>,
    pub next_id: i64,
    /// How many rebalances were accepted (both kinds, dry runs not counted), for tests.
    pub accepted: u32,
}

impl Zeebe {
    /// The primary of a partition: its member with the highest priority (the lowest id on a tie,
    /// the simulator's choice).
    pub fn primary(&self, partition: u32) -> Option<u32> {
        self.members
            .iter()
            .filter_map(|(b, m)| m.partitions.get(&partition).map(|c| (*b, c.priority)))
            .max_by(|(a, pa), (b, pb)| pa.cmp(pb).then(b.cmp(a)))
            .map(|(b, _)| b)
    }

    /// The leader of `partition` as brokers `alive` see it: the last elected leader while it is a
    /// live replica; otherwise the live replica an election picks (the highest priority); none
    /// without a quorum of live replicas.
    pub fn leader(&self, partition: u32, alive: &[u32]) -> Option<u32> {
        let holders: Vec<(u32, u32)> = self
            .members
            .iter()
            .filter_map(|(b, m)| m.partitions.get(&partition).map(|c| (*b, c.priority)))
            .collect();
        let live: Vec<(u32, u32)> = holders
            .iter()
            .copied()
            .filter(|(b, _)| alive.contains(b))
            .collect();
        if live.len() * 2 <= holders.len() {
            return None;
        }
        let kept = self.leadership.leaders.get(&partition).copied();
        if let Some(l) = kept.filter(|l| live.iter().any(|(b, _)| b == l)) {
            return Some(l);
        }
        live.iter()
            .max_by(|(a, pa), (b, pb)| pa.cmp(pb).then(b.cmp(a)))
            .map(|(b, _)| *b)
    }

    /// Record the elections that happened by now and apply the transfers that are due.
    pub fn settle_leaders(&mut self, now: Instant, alive: &[u32], cfg: &SimConfig) {
        for p in 1..=self.partitions_count {
            match self.leader(p, alive) {
                Some(l) => self.leadership.leaders.insert(p, l),
                None => self.leadership.leaders.remove(&p),
            };
        }
        while let Some(r) = self.leadership.running.as_ref() {
            if now < r.next_due {
                return;
            }
            self.transfer_next(alive, cfg);
        }
    }

    /// Complete the transfer(s) in flight: all of the management endpoint's at once, one of the
    /// coordinated rebalance's (then the next one starts, unless cancelled).
    fn transfer_next(&mut self, alive: &[u32], cfg: &SimConfig) {
        let Some(mut r) = self.leadership.running.take() else {
            return;
        };
        let batch: Vec<usize> = r
            .plan
            .iter()
            .enumerate()
            .filter(|(_, t)| t.progress != Progress::Completed)
            .map(|(i, _)| i)
            .take(if r.coordinated { 1 } else { usize::MAX })
            .collect();
        for i in batch {
            let (p, desired) = (r.plan[i].partition, r.plan[i].desired);
            let result = if self.primary(p) != Some(desired) {
                "STALE_CONFIGURATION"
            } else if !alive.contains(&desired) {
                "UNREACHABLE"
            } else if self.leader(p, alive).is_none() {
                "NO_LEADER"
            } else {
                self.leadership.leaders.insert(p, desired);
                "TRANSFERRED"
            };
            let t = &mut r.plan[i];
            t.progress = Progress::Completed;
            t.result = Some(result);
        }
        r.next_due += cfg.operation_duration;
        let left = r.plan.iter().any(|t| t.progress != Progress::Completed);
        if left && r.cancel_requested {
            for t in r
                .plan
                .iter_mut()
                .filter(|t| t.progress != Progress::Completed)
            {
                t.progress = Progress::Completed;
                t.result = Some("CANCELLED");
            }
            self.finish_rebalance(r, "CANCELLED");
        } else if left {
            if let Some(t) = r
                .plan
                .iter_mut()
                .find(|t| t.progress == Progress::Pending)
                .filter(|_| r.coordinated)
            {
                t.progress = Progress::Transferring;
            }
            self.leadership.running = Some(r);
        } else {
            self.finish_rebalance(r, "COMPLETED");
        }
    }

    fn finish_rebalance(&mut self, r: Rebalance, result: &'static str) {
        if r.coordinated {
            self.leadership.last = Some(Completed {
                rebalance: r,
                finished_at: now_rfc3339(),
                result,
            });
        }
    }

    /// The plan of a rebalance now: every partition with its current and desired leader; those
    /// already led by their primary are completed at once (`ALREADY_LEADER`).
    pub fn plan_rebalance(&self, alive: &[u32]) -> Vec<Transfer> {
        (1..=self.partitions_count)
            .filter_map(|p| {
                let desired = self.primary(p)?;
                let current = self.leader(p, alive);
                let done = current == Some(desired);
                Some(Transfer {
                    partition: p,
                    current,
                    desired,
                    progress: if done {
                        Progress::Completed
                    } else {
                        Progress::Pending
                    },
                    result: done.then_some("ALREADY_LEADER"),
                })
            })
            .collect()
    }

    /// Start a rebalance (`coordinated`: 8.10's, else the management endpoint's). The management
    /// endpoint's replaces one that runs (the service just asks every primary again).
    pub fn start_rebalance(
        &mut self,
        coordinated: bool,
        now: Instant,
        cfg: &SimConfig,
        alive: &[u32],
    ) -> i64 {
        let mut plan = self.plan_rebalance(alive);
        if coordinated && let Some(t) = plan.iter_mut().find(|t| t.progress == Progress::Pending) {
            t.progress = Progress::Transferring;
        }
        if !coordinated {
            for t in plan.iter_mut().filter(|t| t.progress == Progress::Pending) {
                t.progress = Progress::Transferring;
            }
        }
        self.leadership.next_id += 1;
        self.leadership.accepted += 1;
        let id = self.leadership.next_id;
        self.leadership.running = Some(Rebalance {
            id,
            coordinated,
            started_at: now_rfc3339(),
            plan,
            next_due: now + cfg.operation_duration,
            cancel_requested: false,
        });
        id
    }

    /// Whether a coordinated rebalance runs (not the management endpoint's: it has no status).
    pub fn coordinated_running(&self) -> bool {
        self.leadership
            .running
            .as_ref()
            .is_some_and(|r| r.coordinated)
    }

    fn transfer_json(&self, t: &Transfer) -> Value {
        json!({
            "partitionId": t.partition,
            "physicalTenantId": "default",
            "currentLeader": t.current.map(|b| self.ids.string(b)),
            "desiredLeader": self.ids.string(t.desired),
            "progress": t.progress.as_str(),
            "result": t.result,
        })
    }

    /// `ClusterRunningRebalance` (for a dry run: its unexecuted plan, `dryRun: true`).
    pub fn running_json(&self, r: &Rebalance, dry_run: bool) -> Value {
        json!({
            "rebalanceId": r.id,
            "partitions": r.plan.iter().map(|t| self.transfer_json(t)).collect::<Vec<_>>(),
            "startedAt": r.started_at,
            "dryRun": dry_run,
            "cancelRequested": r.cancel_requested,
        })
    }

    /// `ClusterBalanceResponse` as of now; `dry_run`: the plan to report as `runningRebalance`.
    pub fn balance_json(&self, alive: &[u32], dry_run: Option<&Rebalance>) -> Value {
        let running = self.leadership.running.as_ref().filter(|r| r.coordinated);
        let in_flight = |p: u32| {
            running.is_some_and(|r| {
                r.plan
                    .iter()
                    .any(|t| t.partition == p && t.progress == Progress::Transferring)
            })
        };
        let partitions: Vec<Value> = (1..=self.partitions_count)
            .filter_map(|p| {
                let desired = self.primary(p)?;
                let current = self.leader(p, alive);
                // A partition without a leader is not balanced (the simulator's choice).
                let state = if in_flight(p) {
                    "TRANSFERRING"
                } else if current == Some(desired) {
                    "BALANCED"
                } else {
                    "UNBALANCED"
                };
                Some(json!({
                    "partitionId": p,
                    "physicalTenantId": "default",
                    "currentLeader": current.map(|b| self.ids.string(b)),
                    "desiredLeader": self.ids.string(desired),
                    "state": state,
                }))
            })
            .collect();
        let state = if running.is_some() {
            "BALANCING"
        } else if partitions.iter().all(|p| p["state"] == "BALANCED") {
            "BALANCED"
        } else {
            "UNBALANCED"
        };
        let running_json = match (dry_run, running) {
            (Some(plan), _) => self.running_json(plan, true),
            (None, Some(r)) => self.running_json(r, false),
            (None, None) => Value::Null,
        };
        let last = self.leadership.last.as_ref().map(|c| {
            json!({
                "rebalanceId": c.rebalance.id,
                "partitions": c.rebalance.plan.iter().map(|t| self.transfer_json(t)).collect::<Vec<_>>(),
                "startedAt": c.rebalance.started_at,
                "finishedAt": c.finished_at,
                "result": c.result,
            })
        });
        json!({
            "state": state,
            "partitions": partitions,
            "runningRebalance": running_json,
            "lastCompletedRebalance": last,
        })
    }

    /// `DELETE /cluster/v2/rebalance`: the running rebalance stops once the transfer in flight has
    /// finished; answers whether one was running (`RebalanceCancellationResponse.wasRunning`).
    pub fn cancel_rebalance(&mut self) -> bool {
        match self.leadership.running.as_mut().filter(|r| r.coordinated) {
            Some(r) => {
                r.cancel_requested = true;
                true
            }
            None => false,
        }
    }

    /// Leaders per region (region = broker id parity), for tests and the demo.
    pub fn leaders_per_region(&self, alive: &[u32]) -> [u32; 2] {
        let mut out = [0, 0];
        for p in 1..=self.partitions_count {
            if let Some(l) = self.leader(p, alive) {
                out[(l % 2) as usize] += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg() -> SimConfig {
        SimConfig {
            operation_duration: Duration::ZERO,
            ..SimConfig::default()
        }
    }

    /// Region 1 lost, its brokers force-removed, the region recreated and its brokers re-added
    /// with the original replication factor: what a failback leaves.
    /// Operations (and so each leader transfer) take one second.
    fn one_second_operations() -> SimConfig {
        SimConfig {
            operation_duration: Duration::from_secs(1),
            ..SimConfig::default()
        }
    }

    fn failed_back() -> (Zeebe, Vec<u32>) {
        let cfg = cfg();
        let now = Instant::now();
        let mut z = Zeebe::healthy(&cfg, now);
        let all: Vec<u32> = (0..8).collect();
        let survivors = [0, 2, 4, 6];
        z.settle_leaders(now, &all, &cfg);
        z.settle_leaders(now, &survivors, &cfg);
        let ops = z.plan_force_remove(&[1, 3, 5, 7]).expect("plan");
        z.start_change(ops, now);
        z.advance(now, &survivors, &cfg);
        let ops = z.plan_scale(&all, 4).expect("plan");
        z.start_change(ops, now);
        z.advance(now, &all, &cfg);
        assert!(z.pending.is_none());
        (z, all)
    }

    #[test]
    fn a_healthy_cluster_is_led_by_its_primaries_in_both_regions() {
        let z = Zeebe::healthy(&cfg(), Instant::now());
        let all: Vec<u32> = (0..8).collect();
        for p in 1..=8 {
            assert_eq!(z.leader(p, &all), z.primary(p));
        }
        assert_eq!(z.leaders_per_region(&all), [4, 4]);
    }

    #[test]
    fn after_a_failback_every_leader_stays_in_the_surviving_region() {
        let (z, all) = failed_back();
        assert_eq!(z.leaders_per_region(&all), [8, 0]);
        // The re-added brokers are primaries again (round-robin priorities), yet followers.
        assert!((1..=8).any(|p| z.primary(p).is_some_and(|b| b % 2 == 1)));
    }

    #[test]
    fn the_management_rebalance_moves_every_leader_to_its_primary_after_a_while() {
        let (mut z, all) = failed_back();
        let cfg = one_second_operations();
        let now = Instant::now();
        z.start_rebalance(false, now, &cfg, &all);
        z.settle_leaders(now, &all, &cfg);
        assert_eq!(z.leaders_per_region(&all), [8, 0], "asynchronous");
        z.settle_leaders(now + Duration::from_secs(1), &all, &cfg);
        assert_eq!(z.leaders_per_region(&all), [4, 4]);
        assert!(z.leadership.running.is_none());
        assert!(z.leadership.last.is_none(), "no feedback of its own");
    }

    #[test]
    fn the_coordinated_rebalance_moves_one_partition_at_a_time_and_reports_its_state() {
        let (mut z, all) = failed_back();
        let cfg = one_second_operations();
        assert_eq!(z.balance_json(&all, None)["state"], "UNBALANCED");
        let now = Instant::now();
        z.start_rebalance(true, now, &cfg, &all);
        let doc = z.balance_json(&all, None);
        assert_eq!(doc["state"], "BALANCING");
        assert_eq!(doc["runningRebalance"]["dryRun"], false);
        z.settle_leaders(now + Duration::from_secs(1), &all, &cfg);
        assert_eq!(z.leaders_per_region(&all), [7, 1]);
        z.settle_leaders(now + Duration::from_secs(4), &all, &cfg);
        assert_eq!(z.leaders_per_region(&all), [4, 4]);
        let doc = z.balance_json(&all, None);
        assert_eq!(doc["state"], "BALANCED");
        assert_eq!(doc["runningRebalance"], Value::Null);
        assert_eq!(doc["lastCompletedRebalance"]["result"], "COMPLETED");
        assert_eq!(doc["partitions"][0]["desiredLeader"], "0");
    }

    #[test]
    fn a_cancelled_rebalance_stops_after_the_transfer_in_flight() {
        let (mut z, all) = failed_back();
        let cfg = one_second_operations();
        let now = Instant::now();
        z.start_rebalance(true, now, &cfg, &all);
        assert!(z.cancel_rebalance());
        z.settle_leaders(now + Duration::from_secs(5), &all, &cfg);
        assert_eq!(z.leaders_per_region(&all), [7, 1]);
        assert_eq!(
            z.balance_json(&all, None)["lastCompletedRebalance"]["result"],
            "CANCELLED"
        );
        assert!(!z.cancel_rebalance());
    }
}

/// What a client sees of the endpoints, through the gateway's HTTP handler.
#[cfg(test)]
mod endpoint_tests {
    use std::time::Duration;

    use base64::Engine;
    use bytes::Bytes;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};

    use crate::http::SimRequest;
    use crate::release::CamundaRelease;
    use crate::world::{SharedWorld, SimConfig, World};
    use crate::zeebe::http::{GatewayPort, handle};

    /// A failed-back world: every leader in region 0, the re-added region 1 holding primaries.
    fn failed_back(camunda: CamundaRelease) -> SharedWorld {
        let cfg = SimConfig {
            camunda,
            operation_duration: Duration::from_millis(200),
            ..SimConfig::default()
        };
        let mut w = World::healthy(cfg);
        let now = tokio::time::Instant::now();
        let survivors = [0, 2, 4, 6];
        w.zeebe.settle_leaders(now, &survivors, &w.cfg.clone());
        for p in 1..=8 {
            let keep: Vec<u32> = w.zeebe.partition_members()[&p]
                .iter()
                .copied()
                .filter(|b| b % 2 == 0)
                .collect();
            for b in [1, 3, 5, 7] {
                if !keep.contains(&b)
                    && let Some(m) = w.zeebe.members.get_mut(&b)
                {
                    m.partitions.remove(&p);
                }
            }
        }
        w.zeebe.leadership.leaders.clear();
        w.zeebe.settle_leaders(now, &survivors, &w.cfg.clone());
        // Re-add the odd brokers with their round-robin priorities: joined as followers.
        let all: Vec<u32> = (0..8).collect();
        for (p, holders) in crate::zeebe::round_robin(&all, 8, 4) {
            for (b, priority) in holders {
                if let Some(m) = w.zeebe.members.get_mut(&b) {
                    m.partitions
                        .entry(p)
                        .or_insert(crate::zeebe::PartitionConfig {
                            priority,
                            exporters: Default::default(),
                        });
                }
            }
        }
        assert_eq!(w.zeebe.leaders_per_region(&all), [8, 0]);
        SharedWorld::new(w)
    }

    fn req(method: &str, path: &str, body: Option<Value>) -> SimRequest {
        SimRequest {
            method: method.into(),
            path: path.into(),
            query: vec![],
            headers: Default::default(),
            body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
        }
    }

    async fn call(
        w: &SharedWorld,
        port: GatewayPort,
        mut r: SimRequest,
        auth: bool,
    ) -> (u16, Value, usize) {
        if auth {
            let basic = base64::engine::general_purpose::STANDARD.encode("demo:demo");
            r.headers
                .insert("authorization".into(), format!("Basic {basic}"));
        }
        let resp = handle(w, 0, port, &r).await;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            bytes.len(),
        )
    }

    fn leaders(topology: &Value) -> [u32; 2] {
        let mut out = [0, 0];
        for b in topology["brokers"].as_array().into_iter().flatten() {
            let id = b["nodeId"].as_u64().unwrap_or(0) as usize;
            for p in b["partitions"].as_array().into_iter().flatten() {
                if p["role"] == "leader" {
                    out[id % 2] += 1;
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn the_management_rebalance_answers_200_without_a_body_and_moves_leaders_later() {
        for camunda in CamundaRelease::ALL {
            let w = failed_back(camunda);
            let (_, t, _) = call(
                &w,
                GatewayPort::Rest,
                req("GET", "/v2/topology", None),
                true,
            )
            .await;
            assert_eq!(leaders(&t), [8, 0], "{camunda}: after a failback");
            let (status, _, len) = call(
                &w,
                GatewayPort::Management,
                req("POST", "/actuator/rebalance", None),
                false,
            )
            .await;
            assert_eq!((status, len), (200, 0), "{camunda}");
            let (_, t, _) = call(
                &w,
                GatewayPort::Rest,
                req("GET", "/v2/topology", None),
                true,
            )
            .await;
            assert_eq!(leaders(&t), [8, 0], "{camunda}: asynchronous");
            tokio::time::sleep(Duration::from_millis(250)).await;
            let (_, t, _) = call(
                &w,
                GatewayPort::Rest,
                req("GET", "/v2/topology", None),
                true,
            )
            .await;
            assert_eq!(
                leaders(&t),
                [4, 4],
                "{camunda}: every partition led by its primary"
            );
        }
    }

    #[tokio::test]
    async fn the_coordinated_rebalance_exists_from_8_10_with_dry_run_status_and_cancel() {
        for camunda in [CamundaRelease::V8_8, CamundaRelease::V8_9] {
            let w = failed_back(camunda);
            let (status, _, _) = call(
                &w,
                GatewayPort::Rest,
                req("GET", "/cluster/v2/rebalance", None),
                true,
            )
            .await;
            assert_eq!(status, 404, "{camunda}");
        }
        let w = failed_back(CamundaRelease::V8_10);
        let path = "/cluster/v2/rebalance";
        let (status, _, _) = call(&w, GatewayPort::Rest, req("GET", path, None), false).await;
        assert_eq!(status, 401);
        let (status, doc, _) = call(&w, GatewayPort::Rest, req("GET", path, None), true).await;
        assert_eq!((status, doc["state"].as_str()), (200, Some("UNBALANCED")));
        assert_eq!(doc["runningRebalance"], Value::Null);
        let dry = Some(json!({"dryRun": true}));
        let (status, doc, _) = call(&w, GatewayPort::Rest, req("POST", path, dry), true).await;
        assert_eq!(status, 202);
        assert_eq!(doc["runningRebalance"]["dryRun"], true);
        assert_eq!(doc["state"], "UNBALANCED", "a dry run moves nothing");
        let moves = doc["runningRebalance"]["partitions"]
            .as_array()
            .map(|a| a.iter().filter(|p| p["progress"] == "PENDING").count());
        assert_eq!(moves, Some(4));
        let (status, doc, _) = call(&w, GatewayPort::Rest, req("POST", path, None), true).await;
        assert_eq!((status, doc["state"].as_str()), (202, Some("BALANCING")));
        let (status, _, _) = call(&w, GatewayPort::Rest, req("POST", path, None), true).await;
        assert_eq!(status, 409, "one rebalance at a time");
        tokio::time::sleep(Duration::from_millis(900)).await;
        let (_, doc, _) = call(&w, GatewayPort::Rest, req("GET", path, None), true).await;
        assert_eq!(doc["state"], "BALANCED");
        assert_eq!(doc["lastCompletedRebalance"]["result"], "COMPLETED");
        let (status, doc, _) = call(&w, GatewayPort::Rest, req("DELETE", path, None), true).await;
        assert_eq!((status, &doc), (200, &json!({"wasRunning": false})));
    }
}
