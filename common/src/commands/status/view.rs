//! What `status` shows, as data (stable in `-o json|yaml`): the regions, the cluster, the report.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use crate::chart;
use crate::es::EsStatus;
use crate::procedure::Verdict;
use crate::region::RegionId;
use crate::zeebe::model::{ClusterTopology, ExporterStatus, LastChange, Topology};

pub(super) fn set_of(items: &BTreeSet<String>) -> Vec<String> {
    items.iter().cloned().collect()
}

/// An orchestration pod as `status` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerPod {
    pub name: String,
    /// `ordinal * 2 + regionId`.
    pub node_id: Option<u32>,
    pub ready: bool,
}

/// A region's profiles compared with the two expected sets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesView {
    pub active: Vec<String>,
    /// `full` (Operate/Tasklist on), `no-webapps`, or `unexpected`.
    pub matches: String,
}

impl ProfilesView {
    pub(super) fn of(active: &BTreeSet<String>) -> Self {
        // Judged against every known release's sets: the admin profile is `identity` on 8.8
        // and `admin` from 8.9 (docs/releases.md); the webapps are the same in all.
        let rows = crate::release::KNOWN.iter();
        let matches = if rows.clone().any(|f| *active == chart::full_profiles_of(f)) {
            "full"
        } else if rows
            .clone()
            .any(|f| *active == chart::no_webapps_profiles_of(f))
        {
            "no-webapps"
        } else {
            "unexpected"
        };
        Self {
            active: set_of(active),
            matches: matches.into(),
        }
    }
}

/// One region in `status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionView {
    pub region: String,
    /// `surviving` or `recreated`, as the environment names it (empty when it does not).
    pub role: String,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// The environment (or flags) say where the region is.
    pub configured: bool,
    pub reachable: bool,
    /// Why the region (or a part of it) could not be read.
    pub errors: Vec<String>,
    /// The region could not be read because of bad input (a kubeconfig that is not one, a
    /// context it does not name): the command ends with exit 2, not 5, when no region answered.
    #[serde(skip)]
    pub input_error: Option<String>,
    /// The Camunda release is installed; `null` when unknown.
    pub installed: Option<bool>,
    pub broker_pods: Vec<BrokerPod>,
    pub profiles: Option<ProfilesView>,
    /// `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false` on the orchestration pods.
    pub schema_manager_disabled: Option<bool>,
    /// The gateway of this region answered `GET /actuator/cluster`.
    pub gateway_reachable: Option<bool>,
    pub elasticsearch: Option<EsStatus>,
    /// The exporting phase of every partition replica, read on each broker pod (docs/api-behaviour.md §3).
    pub exporting: Option<crate::commands::pause_state::RegionExporting>,
}

impl RegionView {
    /// A region as known before probing it: nothing read yet.
    pub(super) fn unread(id: RegionId, role: &str) -> Self {
        Self {
            region: id.to_string(),
            role: role.to_string(),
            context: None,
            namespace: None,
            configured: true,
            reachable: false,
            errors: vec![],
            input_error: None,
            installed: None,
            broker_pods: vec![],
            profiles: None,
            schema_manager_disabled: None,
            gateway_reachable: None,
            elasticsearch: None,
            exporting: None,
        }
    }
}

/// The orchestration pods of a region, by node id.
pub(super) fn broker_pods(pods: &[Pod], region: RegionId) -> Vec<BrokerPod> {
    let mut out: Vec<BrokerPod> = pods
        .iter()
        .map(|p| {
            let name = p.metadata.name.clone().unwrap_or_default();
            let node_id = chart::pod_node_id(&name, region);
            BrokerPod {
                name,
                node_id,
                ready: crate::kube::pods::is_ready(p),
            }
        })
        .collect();
    out.sort_by_key(|b| (b.node_id, b.name.clone()));
    out
}

/// One partition replica of a broker.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionView {
    /// `partitionId`, as in `topology` and `/v2/topology`.
    #[serde(rename = "partitionId")]
    pub id: u32,
    /// `leader`/`follower`/`inactive` from `/v2/topology`; the management API's state otherwise.
    pub role: String,
    /// `healthy`/`unhealthy`/`dead` from `/v2/topology`; absent from the management view.
    pub health: Option<String>,
}

/// One broker of the cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerView {
    /// `nodeId`, as in `topology` and `/v2/topology`.
    #[serde(rename = "nodeId")]
    pub id: u32,
    /// The broker's id as a zone-aware cluster names it (`<zone>_<n>`); `None` when numbered.
    pub broker_id: Option<String>,
    pub region: String,
    /// A member of the cluster configuration (`/actuator/cluster`).
    pub member: bool,
    /// Listed by `/v2/topology` (reachable by the gateway); `None` without REST credentials.
    pub reachable: Option<bool>,
    pub partitions: Vec<PartitionView>,
}

/// The cluster as one gateway shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// The region whose gateway answered.
    pub source: String,
    /// `v2-topology` (roles and health) or `management` (configuration only).
    pub view: String,
    pub members: Vec<u32>,
    pub cluster_size: usize,
    pub replication_factor: u32,
    pub configured_replication_factor: Option<u32>,
    pub brokers: Vec<BrokerView>,
    #[serde(serialize_with = "crate::commands::exporters::with_regions")]
    pub exporters: Vec<ExporterStatus>,
    pub pending_change: Option<PendingView>,
    pub last_change: Option<LastChange>,
    /// Partition leaders per region, from `/v2/topology` (`None` without REST credentials).
    pub leaders: Option<crate::commands::rebalance::LeadersView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    pub id: i64,
    pub completed: usize,
    pub pending: usize,
}

pub(super) fn cluster_view(
    source: RegionId,
    cluster: &ClusterTopology,
    exporters: &[ExporterStatus],
    topology: Option<&Topology>,
    configured_rf: Option<u32>,
    cluster_size: Option<u32>,
    zones: Option<&crate::zeebe::zones::ZoneMap>,
) -> ClusterView {
    let mut ids: BTreeSet<u32> = cluster.member_ids().into_iter().collect();
    if let Some(n) = cluster_size {
        ids.extend(0..n);
    }
    if let Some(t) = topology {
        ids.extend(t.brokers.iter().map(|b| b.node_id));
    }
    let brokers = ids
        .into_iter()
        .map(|id| {
            let member = cluster.brokers.iter().find(|b| b.id == id);
            let listed = topology.and_then(|t| t.brokers.iter().find(|b| b.node_id == id));
            let partitions = match (listed, member) {
                (Some(b), _) if !b.partitions.is_empty() => b
                    .partitions
                    .iter()
                    .map(|p| PartitionView {
                        id: p.partition_id,
                        role: p.role.clone(),
                        health: Some(p.health.clone()),
                    })
                    .collect(),
                (_, Some(m)) => m
                    .partitions
                    .iter()
                    .map(|p| PartitionView {
                        id: p.id,
                        role: p.state.to_ascii_lowercase(),
                        health: None,
                    })
                    .collect(),
                _ => vec![],
            };
            BrokerView {
                id,
                broker_id: zones.map(|z| z.label(id)),
                region: RegionId::of_broker(id).to_string(),
                member: member.is_some(),
                reachable: topology.map(|_| listed.is_some()),
                partitions,
            }
        })
        .collect();
    ClusterView {
        source: source.to_string(),
        view: if topology.is_some() {
            "v2-topology".into()
        } else {
            "management".into()
        },
        members: cluster.member_ids(),
        cluster_size: cluster.brokers.len(),
        replication_factor: cluster.replication_factor(),
        configured_replication_factor: configured_rf,
        brokers,
        exporters: exporters.to_vec(),
        pending_change: cluster.pending_change.as_ref().map(|p| PendingView {
            id: p.id,
            completed: p.completed.len(),
            pending: p.pending.len(),
        }),
        last_change: cluster.last_change.clone(),
        leaders: topology.map(crate::commands::rebalance::LeadersView::of),
    }
}

/// What a `status` shows: both regions, with the procedure step judged from them, or the one
/// region `--context` names (no step: the procedure needs both regions to be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    BothRegions,
    OneRegion,
}

/// `kubectl c8dr status`: one stable document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// `both-regions`, or `one-region` with `--context`.
    pub scope: Scope,
    /// Region 0 then region 1.
    pub regions: Vec<RegionView>,
    pub cluster: Option<ClusterView>,
    /// The region that looks lost (or is being rebuilt). In the document once, as
    /// `procedure.lostRegion`.
    #[serde(skip)]
    pub lost_region: Option<String>,
    /// The phase, the steps, the lost region and the next command (`procedure.phase` is the
    /// document's one phase).
    pub procedure: Verdict,
    /// The procedure line for people: `<stage> step <n> of <total>: next: …` (`summary` in the document:
    /// the phase itself is `procedure.phase`).
    #[serde(rename = "summary")]
    pub phase: String,
    /// Caveats about the evidence (e.g. an assumed region id).
    pub notes: Vec<String>,
    /// The Camunda release, chart, search-engine deployment and broker identity as read, and
    /// whether c8dr supports them.
    pub release: crate::release::installation::Judgement,
}

impl StatusReport {
    /// Neither region's Kubernetes API answered (exit 5).
    pub fn nothing_reachable(&self) -> bool {
        self.regions.iter().all(|r| !r.reachable)
    }

    /// The bad input that kept a region from being read, if one did.
    pub fn input_error(&self) -> Option<&str> {
        self.regions.iter().find_map(|r| r.input_error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_classified_against_both_expected_sets() {
        assert_eq!(ProfilesView::of(&chart::full_profiles()).matches, "full");
        assert_eq!(
            ProfilesView::of(&chart::no_webapps_profiles()).matches,
            "no-webapps"
        );
        let odd: BTreeSet<String> = ["broker".to_string()].into();
        assert_eq!(ProfilesView::of(&odd).matches, "unexpected");
        let newest = crate::release::NEWEST;
        assert_eq!(
            ProfilesView::of(&chart::full_profiles_of(newest)).matches,
            "full",
            "8.10's admin profile"
        );
    }
}
