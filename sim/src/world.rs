//! The simulated dual-region installation: one mutable world that every fake endpoint reads and
//! changes (Zeebe gateway, Kubernetes API servers, Elasticsearch, the helm stand-in).
//!
//! Time is evaluated lazily: every request first calls [`World::advance`], which applies whatever
//! asynchronous work (topology change operations, snapshots, restores) is due by now. No
//! background task is needed, and a test that waits long enough always sees a consistent state.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::es::EsCluster;
use crate::release::{BrokerIds, CamundaRelease, SecondaryStorage};
use crate::zeebe::Zeebe;

/// A region index: 0 holds the even broker ids, 1 the odd ones.
pub type RegionId = usize;

/// Knobs of a simulation run. Durations are server-side: what the real system would take.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub release: String,
    /// The Camunda release simulated (8.8 by default); every per-release fact is in
    /// [`crate::release::CamundaRelease`].
    pub camunda: CamundaRelease,
    /// Opt-in, 8.10 only: zone-aware brokers with string ids `<zone>_<index>` (zones
    /// see `release::zone_name`, chart PR camunda/camunda-platform-helm#6949).
    pub zone_aware: bool,
    /// 8.10: a physical tenant removed from the brokers' configuration, which the cluster keeps
    /// as disabled and which still holds partitions ([`crate::zeebe::tenants`]).
    pub disabled_tenant: Option<String>,
    /// `camunda.data.secondary-storage.type` rendered into application.yaml (elasticsearch by
    /// default; rdbms selectable so a client's refusal can be tested).
    pub secondary_storage: SecondaryStorage,
    pub namespaces: [String; 2],
    pub cluster_size: u32,
    pub partitions: u32,
    pub replication_factor: u32,
    /// Time each operation of a topology change takes.
    pub operation_duration: Duration,
    /// How long `GET /actuator/exporters` keeps showing an exporter's previous state after a change.
    pub exporter_status_lag: Duration,
    /// Time a snapshot or restore takes per index (a restore recovers the index's primaries one
    /// after the other in that time, then each replica takes as long as one primary).
    pub es_shard_duration: Duration,
    /// Elasticsearch data nodes per region. Default 2: the dual-region reference values run two
    /// Elasticsearch masters per region (camunda/c8-multi-region stable/8.8
    /// `aws/dual-region/kubernetes/camunda-values.yml`); replicas need a node besides their
    /// primary's, so with 1 node and replicas the cluster stays yellow.
    pub es_nodes: u32,
    /// `numberOfShards` / `numberOfReplicas` of the Camunda indices (Camunda's index settings,
    /// `camunda.database.index.number-of-shards|replicas`; defaults there are 1 and 0, production
    /// setups raise them: the simulator uses several primaries and a replica).
    pub es_number_of_shards: u32,
    pub es_number_of_replicas: u32,
    /// Opt-in: each region's search engine answers as OpenSearch 2.19 instead of
    /// Elasticsearch 8.18 where they differ for c8dr (`GET /`, the restore request's accepted
    /// keys, snapshot and recovery fields); see `es::opensearch`.
    pub es_opensearch: bool,
    /// Basic-auth credentials the v2 REST API requires (`/v2/topology` answers 401 without them).
    pub rest_username: String,
    pub rest_password: String,
    /// The REST credentials are not cluster-admin ones: 8.10's `/cluster/v2/rebalance` needs the
    /// cluster-admin credentials (see `zeebe::http::cluster_rebalance`), so it answers 403 to
    /// them. 403 is what Spring Security answers an authenticated caller without the authority;
    /// the problem body's wording is the simulator's.
    pub rebalance_forbidden: bool,
    /// Elasticsearch security (basic auth with user `elastic`, password in the bitnami Secret).
    /// Always on for 8.9+ (ECK), see [`SimConfig::es_auth_required`].
    pub es_security: bool,
    pub es_password: String,
    /// How the gateway answers a cluster request routed to a dead coordinator (docs/api-behaviour.md §1 "Routing").
    pub dead_coordinator: DeadCoordinator,
    /// The gateway's timeout for a request to a broker: 10 s in Zeebe
    /// (`ClusterConfigurationManagementRequestSender.TIMEOUT`); tests shorten it.
    pub gateway_request_timeout: Duration,
    /// Bytes of primary Elasticsearch data each region holds at start, spread over the Camunda
    /// indices in proportion to their documents (`es::EsCluster::seed_data`). Small by default.
    pub es_data_bytes: u64,
    /// Bytes per second the exporters write into a region's Elasticsearch while its exporter is
    /// enabled and exporting is not paused (`es::ingest`). 0 by default.
    pub es_ingest_bytes_per_sec: u64,
    /// A data node's physical disk/network limit in bytes per second, shared by its transfers:
    /// what an "unlimited" rate setting still takes (`es::recovery`). 250 MiB/s by default.
    pub es_node_bytes_per_sec: u64,
    /// Bytes of a Zeebe partition's snapshot: a broker joining a partition receives it from the
    /// leader before it is a member (`zeebe::operation_time`). 0 by default.
    pub partition_bytes: u64,
    /// Bytes per second a partition snapshot is sent to a joining broker (network limited;
    /// Zeebe has no throttle for it). 100 MiB/s by default.
    pub partition_bytes_per_sec: u64,
    /// Every modelled server duration is divided by this factor and every modelled byte rate
    /// multiplied by it (`with_time_scale`): simulated seconds = real seconds × `time_scale`.
    pub time_scale: f64,
}

impl SimConfig {
    /// Run the servers `n` times faster than reality: durations divided by `n` (here), byte
    /// rates multiplied by `n` where they are used (`byte_rate`), including the rates clients
    /// set through the APIs (`indices.recovery.max_bytes_per_sec`, repository limits).
    pub fn with_time_scale(mut self, n: f64) -> Self {
        let n = if n.is_finite() && n > 0.0 { n } else { 1.0 };
        let scale = |d: Duration| d.div_f64(n);
        self.operation_duration = scale(self.operation_duration);
        self.exporter_status_lag = scale(self.exporter_status_lag);
        self.es_shard_duration = scale(self.es_shard_duration);
        self.gateway_request_timeout = scale(self.gateway_request_timeout);
        self.time_scale = n;
        self
    }

    /// How broker ids appear on the wire (zone-aware strings only on a release that has them).
    pub fn broker_ids(&self) -> BrokerIds {
        if self.zone_aware && self.camunda.supports_zone_aware() {
            BrokerIds::Zoned
        } else {
            BrokerIds::Numbered
        }
    }

    /// Whether the regions' Elasticsearch requires basic auth: the `es_security` option, or a
    /// release whose reference Elasticsearch always has security on (ECK, 8.9+).
    pub fn es_auth_required(&self) -> bool {
        self.es_security || self.camunda.es_requires_auth()
    }

    /// A real-world byte rate as the simulator's clock sees it.
    pub fn byte_rate(&self, bytes_per_sec: f64) -> f64 {
        bytes_per_sec * self.time_scale.max(f64::MIN_POSITIVE)
    }
}

/// What a request to a dead coordinator gets. camunda/camunda `ClusterApiUtils.mapError`
/// (zeebe/gateway-rest/.../controller/ClusterApiUtils.java, main @07114aee, same mapping in 8.8):
/// `ConnectException`/`NoSuchMemberException` -> 502 (the member is known to be gone or refuses the
/// connection), `TimeoutException` -> 504 (the message went out and no answer came within the
/// sender's timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeadCoordinator {
    #[default]
    Fail502,
    Timeout504,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            release: "camunda".into(),
            camunda: CamundaRelease::default(),
            zone_aware: false,
            disabled_tenant: None,
            secondary_storage: SecondaryStorage::default(),
            namespaces: ["camunda-region0".into(), "camunda-region1".into()],
            cluster_size: 8,
            partitions: 8,
            replication_factor: 4,
            operation_duration: Duration::from_millis(150),
            exporter_status_lag: Duration::from_millis(300),
            es_shard_duration: Duration::from_millis(40),
            es_nodes: 2,
            es_number_of_shards: 3,
            es_number_of_replicas: 1,
            es_opensearch: false,
            rest_username: "demo".into(),
            rest_password: "demo".into(),
            rebalance_forbidden: false,
            es_security: false,
            es_password: "es-secret-password".into(),
            dead_coordinator: DeadCoordinator::Fail502,
            gateway_request_timeout: Duration::from_secs(10),
            es_data_bytes: 300 * 1024,
            es_ingest_bytes_per_sec: 0,
            es_node_bytes_per_sec: 250 * 1024 * 1024,
            partition_bytes: 0,
            partition_bytes_per_sec: 100 * 1024 * 1024,
            time_scale: 1.0,
        }
    }
}

/// Faults that tests and the demo inject. On the control endpoint (`POST /faults`) each field is
/// its camelCase key; `server.rs` folds `times` into `zeebeError`/`zeebeReadError` first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Faults {
    /// The next N mutating Zeebe management calls (dry runs excepted) answer with this status
    /// (409, 502, 504, 500) without reaching a broker.
    pub zeebe_error: Option<(u16, u32)>,
    /// The next N port-forward WebSockets are closed right after the first data they carry.
    pub drop_port_forwards: u32,
    /// The next N exec streams are cut after sending part of their stdout, with no status frame.
    pub cut_exec_streams: u32,
    /// The next snapshot created ends `PARTIAL` with one failed shard.
    pub partial_snapshot: bool,
    /// Repository verification fails (e.g. no S3 credentials in the keystore).
    pub repo_verify_fails: bool,
    /// The next N mutating Zeebe management calls are APPLIED (the change starts) and then their
    /// answer is lost: the gateway answers 504 as when its request timeout expires after the
    /// request reached the coordinator (`ClusterApiUtils.mapError`: TimeoutException -> 504).
    pub lose_mutation_answer: u32,
    /// The network between the regions is cut (a split, not a lost region): each gateway reaches
    /// only its own region's brokers, while both Kubernetes APIs answer and every broker pod stays
    /// Ready. `/v2/topology` lists only the brokers the answering gateway reaches (docs/api-behaviour.md §4).
    pub regions_partitioned: bool,
    /// The next exporting pause/resume fails at this partition: the partitions before it are
    /// changed, the rest are not (the broadcast is not atomic, docs/api-behaviour.md §3).
    pub exporting_fails_at_partition: Option<u32>,
    /// The next N read requests (`GET`) of the management API answer with this status (502, 504)
    /// without reaching a broker: the same `ClusterApiUtils.mapError` mapping as for mutations
    /// (camunda/camunda zeebe/gateway-rest/.../controller/ClusterApiUtils.java, 8.8): a broker
    /// that cannot be reached (502) or does not answer within the gateway's timeout (504).
    pub zeebe_read_error: Option<(u16, u32)>,
    /// Broker processes that are down while their region stays up (a crash-looping pod, an
    /// evicted node): absent from `/v2/topology`, their pods not Ready, and every topology-change
    /// operation they must execute waits for them — the change stalls, as a real one does
    /// (`ClusterChangePlan` runs its operations one after the other, each on its member,
    /// camunda/camunda zeebe/dynamic-config/.../state/ClusterChangePlan.java, 8.8).
    pub stopped_brokers: std::collections::BTreeSet<u32>,
    /// The next topology change is cancelled by someone else after its first operation (a second
    /// operator's `DELETE /actuator/cluster/changes/{id}`): `lastChange.status` CANCELLED. This is
    /// the only way a real change ends other than COMPLETED: `ClusterChangePlan` has a `FAILED`
    /// status but only `completed()` and `cancel()` ever end a plan (camunda/camunda
    /// zeebe/dynamic-config/.../state/ClusterChangePlan.java, 8.8).
    pub cancel_next_change: bool,
    /// The next N requests to a region's Kubernetes API server answer 503 ServiceUnavailable (an
    /// API server restarting behind its load balancer, as a lost region's does here).
    pub kube_api_unavailable: u32,
    /// Every Kubernetes API request waits this long before it is served (an overloaded API
    /// server queueing requests: API Priority and Fairness, kubernetes/kubernetes
    /// staging/src/k8s.io/apiserver/pkg/server/filters/priority-and-fairness.go).
    #[serde(rename = "kubeApiDelayMs", with = "millis")]
    pub kube_api_delay: Option<Duration>,
    /// `helm upgrade` into this region fails as when another helm operation holds the release:
    /// helm/helm v3.17.0 pkg/action/upgrade.go `errPending` ("another operation
    /// (install/upgrade/rollback) is in progress"), helm exits 1 and the release is unchanged.
    #[serde(deserialize_with = "region_or_none")]
    pub helm_fails_region: Option<RegionId>,
    /// The gateway's own view of the brokers is empty: `/v2/topology` lists no broker (the
    /// configured clusterSize, partitionsCount, replicationFactor and lastCompletedChangeId
    /// stay), as a gateway that just restarted or is cut off from every broker answers. The
    /// gateway adds a broker to its topology only on a membership event carrying that broker's
    /// info and drops it on MEMBER_REMOVED, while the configured part comes from the cluster
    /// configuration (camunda/camunda zeebe/broker-client/.../impl/BrokerTopologyManagerImpl.java
    /// `event`, `removeBroker`, `updateConfiguredClusterState`; the REST answer lists
    /// `clusterState.getBrokers()`, service/.../TopologyServices.java). Management calls go to
    /// member ids directly and are not affected.
    pub gateway_lists_no_broker: bool,
    /// The next N mutating management calls (dry runs excepted) that take effect are applied,
    /// then the connection is closed before their answer is written: a port-forward or proxy
    /// that dies while the gateway works. The brokers keep what they applied: an exporting
    /// pause/resume is broadcast to the partitions before the endpoint waits for the result
    /// (camunda/camunda dist/.../shared/management/ExportingEndpoint.java `post`: the service
    /// call, then `result.join()`), and a topology change is started by the coordinator.
    pub drop_mutation_answer: u32,
    /// Brokers whose own partition-status query does not complete in time: their
    /// `GET /actuator/partitions` answers `{}`. The broker collects every partition's status
    /// and waits at most 5 s for them; on that timeout (or any error) it logs "Error when
    /// querying partition status" and returns an empty map (camunda/camunda
    /// zeebe/broker/.../system/management/BrokerAdminServiceImpl.java `getPartitionStatus`,
    /// `future.get(5, TimeUnit.SECONDS)` ... `return Map.of()`). The simulator answers at once.
    pub partitions_query_times_out: std::collections::BTreeSet<u32>,
    /// Permissions the API servers deny to the caller, as `kubectl auth can-i` names them:
    /// `VERB RESOURCE[/SUBRESOURCE][.GROUP]` (`create pods/exec`, `patch statefulsets.apps`).
    /// Only the `SelfSubjectAccessReview` answer changes (`status.allowed` false): the
    /// simulated API servers do not authorize the requests themselves.
    pub denied_permissions: std::collections::BTreeSet<String>,
}

/// `kubeApiDelayMs`: whole milliseconds, 0 (or null) for none.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let ms = Option::<u64>::deserialize(d)?.unwrap_or(0);
        Ok((ms > 0).then(|| Duration::from_millis(ms)))
    }
}

/// `helmFailsRegion`: a region id; anything else (null, 2, …) is no region.
fn region_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<RegionId>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64().map(|r| r as usize).filter(|r| *r < 2))
}

/// What the helm stand-in last applied to a region.
#[derive(Debug, Clone, Default)]
pub struct HelmRelease {
    /// Number of `upgrade --install` runs applied.
    pub revision: u32,
    /// The merged values of the last upgrade, as Helm would compute them.
    pub values: serde_json::Value,
}

/// One region: a Kubernetes cluster with a Camunda namespace.
#[derive(Debug)]
pub struct Region {
    pub id: RegionId,
    /// The region's Kubernetes API server, gateway and Elasticsearch answer.
    pub reachable: bool,
    /// The region was lost and rebuilt empty (the "recreated region" of the docs).
    pub recreated: bool,
    pub namespace: String,
    /// The Camunda Helm release, once installed.
    pub release: Option<HelmRelease>,
    /// `orchestration.profiles` that are true (sorted), as the unified ConfigMap renders them.
    pub profiles: Vec<String>,
    /// `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false` is in `orchestration.env`.
    pub schema_manager_disabled: bool,
    /// Secrets in the namespace: name -> key -> value.
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    pub es: EsCluster,
}

impl Region {
    /// Camunda is installed and the region is up: its broker and Elasticsearch pods run.
    pub fn running(&self) -> bool {
        self.reachable && self.release.is_some()
    }
}

/// The whole simulated installation.
#[derive(Debug)]
pub struct World {
    pub cfg: SimConfig,
    pub regions: [Region; 2],
    pub zeebe: Zeebe,
    /// The S3 bucket shared by both regions: bucket -> base_path -> snapshots stored there.
    pub object_store: BTreeMap<String, BTreeMap<String, crate::es::StoredRepository>>,
    pub faults: Faults,
    pub started: Instant,
    /// When webapps and exporting were off, and what server work ran (`GET /timeline`).
    pub timeline: crate::timeline::Timeline,
}

impl World {
    /// A healthy dual-region installation: both regions deployed with all profiles, brokers
    /// distributed round-robin, both exporters enabled, Elasticsearch seeded with Camunda indices.
    pub fn healthy(cfg: SimConfig) -> Self {
        let now = Instant::now();
        let regions = [0, 1].map(|id| {
            let mut region = Region {
                id,
                reachable: true,
                recreated: false,
                namespace: cfg.namespaces[id].clone(),
                release: Some(HelmRelease {
                    revision: 1,
                    values: serde_json::Value::Null,
                }),
                profiles: default_profiles(cfg.camunda),
                schema_manager_disabled: false,
                secrets: BTreeMap::new(),
                es: EsCluster::seeded_for(&cfg),
            };
            region.secrets = default_secrets(&cfg);
            region
        });
        let zeebe = Zeebe::healthy(&cfg, now);
        Self {
            cfg,
            regions,
            zeebe,
            object_store: BTreeMap::new(),
            faults: Faults::default(),
            started: now,
            timeline: crate::timeline::Timeline::new(now),
        }
    }

    /// Apply every asynchronous step that is due by `now`.
    pub fn advance(&mut self, now: Instant) {
        let alive = self.alive_brokers();
        let change = crate::timeline::zeebe_change_before(&self.zeebe, &self.cfg, now);
        self.zeebe.advance(now, &alive, &self.cfg);
        if self.faults.cancel_next_change
            && let Some(id) = self
                .zeebe
                .pending
                .as_ref()
                .filter(|p| !p.completed.is_empty())
                .map(|p| p.id)
        {
            // Fault `cancel_next_change`: another operator cancels it (applied operations stay).
            self.faults.cancel_next_change = false;
            let cfg = self.cfg.clone();
            self.zeebe.cancel(id, now, &cfg);
        }
        crate::timeline::zeebe_change_after(self, change, now);
        for region in 0..2 {
            crate::es::advance(self, region, now);
        }
        self.observe(now);
    }

    /// Record in the timeline what changed in the installation's visible state.
    pub fn observe(&mut self, now: Instant) {
        let webapps: [bool; 2] = [0, 1].map(|r| {
            let region = &self.regions[r];
            region.running()
                && region.profiles.iter().any(|p| p == "operate")
                && region.profiles.iter().any(|p| p == "tasklist")
        });
        let alive = self.alive_brokers();
        let paused = self.zeebe.members.iter().any(|(b, m)| {
            alive.contains(b)
                && m.partitions.keys().any(|p| {
                    self.zeebe.exporting.replica(*b, *p).phase == crate::zeebe::Exporting::Paused
                })
        });
        let revisions = [0, 1].map(|r| self.regions[r].release.as_ref().map(|h| h.revision));
        self.timeline.observe(now, webapps, paused, revisions);
    }

    /// The region a broker id belongs to (`nodeId = ordinal * regions + regionId`).
    pub fn region_of_broker(id: u32) -> RegionId {
        (id % 2) as RegionId
    }

    /// Broker ids whose pods exist in a region (ordinal 0..clusterSize/2).
    pub fn broker_ids_of_region(&self, region: RegionId) -> Vec<u32> {
        (0..self.cfg.cluster_size / 2)
            .map(|ordinal| ordinal * 2 + region as u32)
            .collect()
    }

    /// Brokers whose process runs (their region is up and Camunda is installed there).
    pub fn alive_brokers(&self) -> Vec<u32> {
        (0..2)
            .filter(|r| self.regions[*r].running())
            .flat_map(|r| self.broker_ids_of_region(r))
            .filter(|b| !self.faults.stopped_brokers.contains(b))
            .collect()
    }

    /// Brokers the gateway of `region` can reach: the running ones, only its own region's when
    /// the regions are partitioned.
    pub fn reachable_from(&self, region: RegionId) -> Vec<u32> {
        self.alive_brokers()
            .into_iter()
            .filter(|b| !self.faults.regions_partitioned || Self::region_of_broker(*b) == region)
            .collect()
    }

    /// A broker pod is Ready when its process runs and it is a member of the cluster
    /// (the docs: a recreated region's brokers are never Ready until re-added).
    pub fn broker_ready(&self, id: u32) -> bool {
        self.regions[Self::region_of_broker(id)].running()
            && !self.faults.stopped_brokers.contains(&id)
            && self.zeebe.members.contains_key(&id)
    }

    /// Lose a region: its API server, gateway, Elasticsearch and brokers vanish.
    pub fn lose_region(&mut self, region: RegionId) {
        self.regions[region].reachable = false;
    }

    /// Bring a lost region back as a fresh, empty cluster (no release, no data).
    pub fn recreate_region(&mut self, region: RegionId) {
        let r = &mut self.regions[region];
        r.reachable = true;
        r.recreated = true;
        r.release = None;
        r.profiles.clear();
        r.schema_manager_disabled = false;
        r.es = EsCluster::with_topology(&self.cfg);
        r.secrets = default_secrets(&self.cfg);
        // Its brokers' disks are new: no pause file (`.exporterPaused`), so they export.
        for b in self.broker_ids_of_region(region) {
            self.zeebe.exporting.forget_broker(b);
        }
    }
}

fn default_profiles(camunda: CamundaRelease) -> Vec<String> {
    camunda.default_profiles().map(String::from).to_vec()
}

fn default_secrets(cfg: &SimConfig) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut secrets = BTreeMap::new();
    if cfg.es_auth_required() {
        let (name, key) = cfg.camunda.es_password_secret(&cfg.release);
        secrets.insert(
            name,
            BTreeMap::from([(key.to_string(), cfg.es_password.clone())]),
        );
    }
    secrets
}

/// The world shared by every endpoint of a running simulator.
#[derive(Debug, Clone)]
pub struct SharedWorld(Arc<Mutex<World>>);

impl SharedWorld {
    pub fn new(world: World) -> Self {
        Self(Arc::new(Mutex::new(world)))
    }

    /// Lock the world after applying everything due by now. A poisoned lock (a panicking
    /// handler) is recovered: the simulator keeps serving.
    pub fn lock(&self) -> WorldGuard<'_> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard.advance(Instant::now());
        WorldGuard(guard)
    }
}

/// The locked world. When released it records what the request changed in the timeline (a
/// helm upgrade, a pause), at the instant it happened.
pub struct WorldGuard<'a>(MutexGuard<'a, World>);

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.0
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.0
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        self.0.observe(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::healthy(SimConfig {
            operation_duration: Duration::ZERO,
            ..SimConfig::default()
        })
    }

    /// Disable camundaregion1: one operation per partition replica, each on its member.
    fn start_disable(w: &mut World) -> i64 {
        let ops = w.zeebe.plan_exporter("camundaregion1", false);
        w.zeebe.start_change(ops, Instant::now()).expect("a change")
    }

    #[test]
    fn a_stopped_broker_stalls_the_change_until_it_runs_again_and_is_not_ready() {
        let mut w = world();
        w.faults.stopped_brokers.insert(2);
        assert!(!w.alive_brokers().contains(&2));
        assert!(!w.broker_ready(2));
        let id = start_disable(&mut w);
        w.advance(Instant::now());
        assert_eq!(w.zeebe.pending.as_ref().map(|p| p.id), Some(id));
        assert_eq!(w.zeebe.exporter_status("camundaregion1"), "DISABLING");
        w.faults.stopped_brokers.clear();
        w.advance(Instant::now());
        assert!(w.zeebe.pending.is_none());
        assert_eq!(
            w.zeebe.last_change.as_ref().map(|c| c.status.as_str()),
            Some("COMPLETED")
        );
    }

    #[test]
    fn cancel_next_change_ends_the_next_change_cancelled_after_its_first_operation() {
        let mut w = world();
        w.faults.cancel_next_change = true;
        // Nothing pending: the fault waits for a change.
        w.advance(Instant::now());
        assert!(w.faults.cancel_next_change);
        // The first operation runs, then another operator cancels it.
        w.faults.stopped_brokers.insert(2);
        let id = start_disable(&mut w);
        w.advance(Instant::now());
        let last = w.zeebe.last_change.clone().expect("ended");
        assert_eq!((last.id, last.status.as_str()), (id, "CANCELLED"));
        assert!(w.zeebe.pending.is_none());
        assert!(!w.faults.cancel_next_change, "the fault fires once");
    }
}
