//! What phase detection looks at: the observation of both regions and the cluster, gathered by
//! `kubectl c8dr status` (`commands::status::observe`), without I/O here.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::region::RegionId;

/// What was seen of one region's Elasticsearch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EsObservation {
    /// Camunda indices (`operate-*`, `tasklist-*`, `camunda-*`, …).
    pub camunda_indices: usize,
    /// A snapshot restore is still recovering shards.
    pub restoring: bool,
    /// The snapshot every Camunda index was restored from, when ES still reports one.
    pub restored_from: Option<String>,
}

/// What was seen of one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionObservation {
    /// Its Kubernetes API answered.
    pub reachable: bool,
    /// The environment (or flags) do not say where the region is: not reaching it says nothing
    /// about whether it is lost.
    pub unconfigured: bool,
    /// The Camunda release is installed (its unified ConfigMap or broker pods exist); `None`
    /// when unknown.
    pub installed: Option<bool>,
    /// `spring.profiles.active` of the unified ConfigMap, as a set.
    pub profiles: Option<BTreeSet<String>>,
    /// `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false` is set on the orchestration pods.
    pub schema_manager_disabled: Option<bool>,
    /// `None` when Elasticsearch could not be read.
    pub es: Option<EsObservation>,
}

impl RegionObservation {
    /// Operate or Tasklist is active (`None` when the profiles are unknown).
    pub fn webapps(&self) -> Option<bool> {
        self.profiles.as_ref().map(crate::chart::serves_webapps)
    }
}

/// The cluster as the management API (`GET /actuator/cluster`, `/actuator/exporters`) of a
/// reachable gateway shows it. Both regions' gateways show the same cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterObservation {
    /// Member broker ids (configuration, not liveness).
    pub members: Vec<u32>,
    /// The effective replication factor (the smallest replica count of any partition).
    pub replication_factor: u32,
    pub pending_change: Option<i64>,
    /// `(exporter id, status)`.
    pub exporters: Vec<(String, String)>,
}

/// The exporting pause as the brokers report it (each broker's `GET /actuator/partitions`,
/// `exporterPhase` of every partition replica it hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exporting {
    /// Every replica read is `EXPORTING`.
    Running,
    /// Every replica read is `PAUSED`.
    Paused,
    /// Every replica read is `SOFT_PAUSED`.
    SoftPaused,
    /// Replicas in different phases (a pause is not atomic across partitions).
    Mixed,
}

impl Exporting {
    /// From the one-word summary of the replicas read (`zeebe::partitions::summarize`); `None`
    /// when it says nothing (no partitions, unknown).
    pub fn of_summary(word: &str) -> Option<Self> {
        match word {
            "exporting" => Some(Self::Running),
            "paused" => Some(Self::Paused),
            "soft-paused" => Some(Self::SoftPaused),
            "mixed" => Some(Self::Mixed),
            _ => None,
        }
    }
}

/// Everything phase detection looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Indexed by region id (0, 1).
    pub regions: [RegionObservation; 2],
    /// `None` when no gateway answered.
    pub cluster: Option<ClusterObservation>,
    /// Brokers of both regions when complete (the configured `clusterSize`).
    pub cluster_size: Option<u32>,
    /// The configured replication factor (`orchestration.replicationFactor`, rendered in the
    /// unified ConfigMap), when known.
    pub configured_replication_factor: Option<u32>,
    /// The region the operator's environment names as recreated (`REGION_RECREATED`, or the
    /// other of `REGION_SURVIVING`), if any.
    pub recreated_hint: Option<RegionId>,
    /// Brokers the gateway reaches (`/v2/topology`), when it could be read: liveness evidence
    /// that a region whose Kubernetes API does not answer is not lost.
    pub alive_brokers: Option<Vec<u32>>,
    /// The exporting pause over every partition replica the brokers answered for; `None` when
    /// no broker could be read.
    pub exporting: Option<Exporting>,
    /// Per region (by id), the `--region` value that reaches it when the default (the surviving
    /// region of the environment) does not: `recreated`, `region0`, `region1`.
    pub region_flags: [Option<String>; 2],
}
