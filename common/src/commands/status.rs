//! `status` (both regions on one screen, and the procedure step) and `profiles` (a region's
//! active Spring profiles compared with what is expected).
//!
//! `status` probes both regions concurrently, each part bounded by a short timeout, so a lost
//! region shows as unreachable instead of hiding the other one or hanging the command.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::Value;

use crate::chart;
use crate::error::{Error, Result};
use crate::es::{self, EsOptions, EsStatus};
use crate::output::{Render, table};
use crate::procedure::{
    self, ClusterObservation, EsObservation, Observation, RegionObservation, Verdict,
};
use crate::region::{RegionId, RegionRef};
use crate::session::{Session, Settings};
use crate::values::{SCHEMA_MANAGER_VAR, active_profiles};
use crate::zeebe::RestAuth;
use crate::zeebe::model::{ClusterTopology, ExporterStatus, LastChange, Topology};

/// How long each part of a region's probe may take (API server, ConfigMap, gateway, ES).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

async fn bounded<T>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Error::Timeout {
            what: what.to_string(),
            after: humantime::format_duration(limit).to_string(),
        });
    tracing::debug!(
        "status: {what}: {:?} ({})",
        started.elapsed(),
        match &result {
            Ok(Ok(_)) => "ok",
            _ => "failed",
        }
    );
    result?
}

fn set_of(items: &BTreeSet<String>) -> Vec<String> {
    items.iter().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// Reading one region

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
    fn of(active: &BTreeSet<String>) -> Self {
        let matches = if *active == chart::full_profiles() {
            "full"
        } else if *active == chart::no_webapps_profiles() {
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
pub struct RegionReport {
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
    /// The Camunda release is installed; `null` when unknown.
    pub installed: Option<bool>,
    pub broker_pods: Vec<BrokerPod>,
    pub profiles: Option<ProfilesView>,
    /// `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false` on the orchestration pods.
    pub schema_manager_disabled: Option<bool>,
    /// The gateway of this region answered `GET /actuator/cluster`.
    pub gateway_reachable: Option<bool>,
    pub elasticsearch: Option<EsStatus>,
    /// The exporting phase of every partition replica, read on each broker pod (SPEC 3.3).
    pub exporting: Option<super::exporting::RegionExporting>,
}

/// What probing one region yielded (the report plus raw evidence for the cluster view).
struct RegionProbe {
    id: RegionId,
    report: RegionReport,
    cluster: Option<ClusterTopology>,
    exporters: Option<Vec<ExporterStatus>>,
    topology: Option<Topology>,
    configured_rf: Option<u32>,
    cluster_size: Option<u32>,
    obs: RegionObservation,
}

/// A number in the rendered `application.yaml` (numbers or strings), first path that has one.
fn yaml_number(doc: &Value, pointers: &[&str]) -> Option<u32> {
    pointers.iter().find_map(|p| match doc.pointer(p)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `(configured replication factor, cluster size)` from the unified ConfigMap's application.yaml.
pub fn configured_sizes(application_yaml: &str) -> (Option<u32>, Option<u32>) {
    let Ok(doc) = serde_saphyr::from_str::<Value>(application_yaml) else {
        return (None, None);
    };
    (
        yaml_number(
            &doc,
            &[
                "/camunda/cluster/replication-factor",
                "/camunda/cluster/replicationFactor",
                "/zeebe/broker/cluster/replicationFactor",
            ],
        ),
        yaml_number(
            &doc,
            &["/camunda/cluster/size", "/zeebe/broker/cluster/clusterSize"],
        ),
    )
}

/// Whether a pod's orchestration container sets the schema-manager variable to `false`.
pub fn pod_disables_schema_manager(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| {
        s.containers
            .iter()
            .filter(|c| c.name == chart::ORCHESTRATION_CONTAINER)
            .flat_map(|c| c.env.iter().flatten())
            .any(|e| {
                e.name == SCHEMA_MANAGER_VAR
                    && e.value
                        .as_deref()
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
            })
    })
}

fn broker_pods(pods: &[Pod], region: RegionId) -> Vec<BrokerPod> {
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

/// The region's Elasticsearch, reached the way `kubectl c8dr es` reaches it (`--es-url`, else
/// curl in the Elasticsearch pod, credentials from the chart's Secret). The probe's own bound
/// (`bounded`) cuts it off when the region does not answer.
async fn es_status(session: &Session) -> Result<EsStatus> {
    let conn = super::es::transport(session, &super::es::EsAccess::default()).await?;
    let t = conn.transport;
    let opts = EsOptions {
        retries: 1,
        ..EsOptions::default()
    };
    es::cluster_status(t.as_ref(), &opts).await
}

/// Probe one region: every part bounded by `limit`, failures recorded, never raised.
async fn probe_region(session: &Session, id: RegionId, role: &str, limit: Duration) -> RegionProbe {
    let s = &session.settings;
    let mut report = RegionReport {
        region: id.to_string(),
        role: role.to_string(),
        context: s.location.context.clone(),
        namespace: s.location.namespace.clone(),
        configured: true,
        reachable: false,
        errors: vec![],
        installed: None,
        broker_pods: vec![],
        profiles: None,
        schema_manager_disabled: None,
        gateway_reachable: None,
        elasticsearch: None,
        exporting: None,
    };
    let mut probe = RegionProbe {
        id,
        report: report.clone(),
        cluster: None,
        exporters: None,
        topology: None,
        configured_rf: None,
        cluster_size: None,
        obs: RegionObservation::default(),
    };
    let kube = match bounded("the Kubernetes API", limit, async {
        let kube = session.kube().await?;
        kube.server_version().await?;
        Ok(kube)
    })
    .await
    {
        Ok(k) => k,
        Err(e) => {
            report.errors.push(e.to_string());
            probe.report = report;
            return probe;
        }
    };
    report.reachable = true;
    probe.obs.reachable = true;

    let configmap = crate::chart::unified_configmap(&s.release);
    let selector = chart::broker_selector(&s.release);
    let (cm, pods) = tokio::join!(
        bounded(
            "the unified ConfigMap",
            limit,
            kube.get_configmap(&configmap)
        ),
        bounded("the orchestration pods", limit, kube.list_pods(&selector)),
    );
    let yaml = match cm {
        Ok(cm) => Some(cm.and_then(|c| c.data?.get("application.yaml").cloned())),
        Err(e) => {
            report.errors.push(e.to_string());
            None
        }
    };
    let pods = match pods {
        Ok(p) => Some(p),
        Err(e) => {
            report.errors.push(e.to_string());
            None
        }
    };
    let installed = match (&yaml, &pods) {
        (Some(Some(_)), _) => Some(true),
        (_, Some(p)) if !p.is_empty() => Some(true),
        (Some(None), Some(_)) => Some(false),
        _ => None,
    };
    report.installed = installed;
    if let Some(Some(text)) = &yaml {
        if let Some(active) = active_profiles(text) {
            report.profiles = Some(ProfilesView::of(&active));
            probe.obs.profiles = Some(active);
        }
        (probe.configured_rf, probe.cluster_size) = configured_sizes(text);
    }
    if let Some(pods) = &pods {
        report.broker_pods = broker_pods(pods, id);
        if !pods.is_empty() {
            report.schema_manager_disabled = Some(pods.iter().any(pod_disables_schema_manager));
        }
    }

    if installed != Some(false) {
        let want_rest = RestAuth::from_env(&s.env).is_ok_and(|a| !a.is_none());
        let mgmt = bounded("the Zeebe gateway", limit, async {
            let m = session.management().await?;
            let (cluster, exporters) = tokio::join!(m.cluster(), m.exporters());
            Ok((cluster?, exporters?))
        });
        let rest = async {
            if !want_rest {
                return None;
            }
            Some(
                bounded("the v2 REST API", limit, async {
                    session.rest().await?.topology().await
                })
                .await,
            )
        };
        let es = bounded("Elasticsearch", limit, es_status(session));
        let exporting = bounded("the brokers' partitions", limit, async {
            Ok(super::exporting::observe_region(session).await)
        });
        let (mgmt, rest, es, exporting) = tokio::join!(mgmt, rest, es, exporting);
        if let Ok(x) = exporting {
            report.exporting = Some(x);
        }
        let topo_ok = match &rest {
            Some(Ok(t)) => Some(t.clone()),
            _ => None,
        };
        match mgmt {
            Ok((cluster, exporters)) => {
                report.gateway_reachable = Some(true);
                probe.cluster = Some(cluster);
                probe.exporters = Some(exporters);
            }
            // The gateway answers but its coordinator (the lowest member) does not: region 0 lost
            // (SPEC 3.1 "Routing"). Membership from /v2/topology; exporters and a pending change
            // cannot be read until the forced removal completes (camunda/camunda#63506).
            Err(e)
                if crate::zeebe::management::coordinator_unreachable(&e) && topo_ok.is_some() =>
            {
                report.gateway_reachable = Some(true);
                if let Some(t) = &topo_ok {
                    probe.cluster = Some(super::zeebe::cluster_from_topology(t));
                }
                probe.exporters = Some(vec![]);
                report.errors.push(format!(
                    "the coordinator does not answer ({e}): membership from /v2/topology; the exporters and a pending                      change cannot be read until the lost region's brokers are removed (camunda/camunda#63506)"
                ));
            }
            Err(e) => {
                report.gateway_reachable = Some(false);
                report.errors.push(e.to_string());
            }
        }
        match rest {
            Some(Ok(t)) => probe.topology = Some(t),
            Some(Err(e)) => tracing::debug!("{id}: v2 topology: {e}"),
            None => {}
        }
        match es {
            Ok(es) => report.elasticsearch = Some(es),
            Err(e) => report.errors.push(e.to_string()),
        }
    }

    probe.obs.installed = installed;
    probe.obs.schema_manager_disabled = report.schema_manager_disabled;
    probe.obs.es = report.elasticsearch.as_ref().map(|e| EsObservation {
        camunda_indices: e.camunda_indices.len(),
        restoring: e.restoring,
        restored_from: e.restored_from.clone(),
    });
    probe.report = report;
    probe
}

// ---------------------------------------------------------------------------------------------
// The cluster view

/// One partition replica of a broker.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionView {
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
    pub id: u32,
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
    pub exporters: Vec<ExporterStatus>,
    pub pending_change: Option<PendingView>,
    pub last_change: Option<LastChange>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    pub id: i64,
    pub completed: usize,
    pub pending: usize,
}

fn cluster_view(
    source: RegionId,
    cluster: &ClusterTopology,
    exporters: &[ExporterStatus],
    topology: Option<&Topology>,
    configured_rf: Option<u32>,
    cluster_size: Option<u32>,
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
    }
}

// ---------------------------------------------------------------------------------------------
// status

/// `kubectl c8dr status`: one stable document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// Region 0 then region 1.
    pub regions: Vec<RegionReport>,
    pub cluster: Option<ClusterView>,
    /// The region that looks lost (or is being rebuilt).
    pub lost_region: Option<String>,
    pub procedure: Verdict,
    /// The procedure line: `failback step 5 of 8: next: …`.
    pub phase: String,
    /// Caveats about the evidence (e.g. an assumed region id).
    pub notes: Vec<String>,
}

impl StatusReport {
    /// Neither region's Kubernetes API answered (exit 5).
    pub fn nothing_reachable(&self) -> bool {
        self.regions.iter().all(|r| !r.reachable)
    }
}

fn yes_no(b: Option<bool>, yes: &str, no: &str) -> String {
    match b {
        Some(true) => yes.into(),
        Some(false) => no.into(),
        None => "unknown".into(),
    }
}

/// One line: the phase over the region's replicas, how many were read, the exporting lag.
fn exporting_text(x: &super::exporting::RegionExporting) -> String {
    let replicas = x.replicas().count();
    let brokers = x.brokers.iter().filter(|b| b.error.is_none()).count();
    let mut line = match x.state.as_str() {
        "no partitions" => format!("no partitions on its {brokers} brokers (not members)"),
        "unknown" => "unknown (the brokers' /actuator/partitions could not be read)".to_string(),
        state => {
            let state = if state == "mixed" {
                let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
                for (_, p) in x.replicas() {
                    *by.entry(p.exporter_phase.as_deref().unwrap_or("-"))
                        .or_default() += 1;
                }
                format!(
                    "MIXED ({})",
                    by.iter()
                        .map(|(k, v)| format!("{v} {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                state.to_uppercase()
            };
            format!(
                "{state} on {replicas} partition replicas ({brokers} brokers); exported lags processed by {} records at most",
                x.max_lag
            )
        }
    };
    let unread = x.unread();
    if unread > 0 && x.state != "unknown" {
        line.push_str(&format!("; {unread} broker pods could not be read"));
    }
    line
}

fn region_text(r: &RegionReport) -> String {
    let role = if r.role.is_empty() {
        String::new()
    } else {
        format!("{}; ", r.role)
    };
    let mut out = format!(
        "{} ({role}context {}, namespace {}): ",
        r.region,
        r.context.as_deref().unwrap_or("<current>"),
        r.namespace.as_deref().unwrap_or("<current>")
    );
    if !r.reachable {
        out.push_str(if r.configured {
            "UNREACHABLE\n"
        } else {
            "NOT CONFIGURED\n"
        });
        for e in &r.errors {
            out.push_str(&format!("  {e}\n"));
        }
        return out;
    }
    out.push_str("reachable\n");
    let ready = r.broker_pods.iter().filter(|b| b.ready).count();
    out.push_str(&format!(
        "  release:         {}\n",
        match r.installed {
            Some(true) => format!(
                "installed ({} orchestration pods, {ready} ready)",
                r.broker_pods.len()
            ),
            Some(false) => "not installed".into(),
            None => "unknown".into(),
        }
    ));
    if r.installed != Some(false) {
        out.push_str(&format!(
            "  profiles:        {}\n",
            r.profiles
                .as_ref()
                .map(|p| format!("{} ({})", p.active.join(","), p.matches))
                .unwrap_or_else(|| "unknown".into())
        ));
        out.push_str(&format!(
            "  schema manager:  {}\n",
            yes_no(
                r.schema_manager_disabled,
                &format!("{SCHEMA_MANAGER_VAR}=false is set (no index creation)"),
                &format!("{SCHEMA_MANAGER_VAR} not set"),
            )
        ));
        out.push_str(&format!(
            "  gateway:         {}\n",
            yes_no(r.gateway_reachable, "answers", "does not answer")
        ));
        if let Some(x) = &r.exporting {
            out.push_str(&format!("  exporting:       {}\n", exporting_text(x)));
        }
    }
    if r.installed == Some(false) {
        for e in &r.errors {
            out.push_str(&format!("  ! {e}\n"));
        }
        return out;
    }
    out.push_str(&format!(
        "  elasticsearch:   {}\n",
        r.elasticsearch
            .as_ref()
            .map(|e| format!(
                "{}, {} indices, {} Camunda indices{}",
                e.health,
                e.indices,
                e.camunda_indices.len(),
                if e.restoring { ", restoring" } else { "" }
            ))
            .unwrap_or_else(|| "unknown".into())
    ));
    for e in &r.errors {
        out.push_str(&format!("  ! {e}\n"));
    }
    out
}

fn cluster_text(c: &ClusterView) -> String {
    let mut out = format!(
        "cluster (from {}'s gateway, {} view): {} members, replication factor {}{}\n",
        c.source,
        c.view,
        c.cluster_size,
        c.replication_factor,
        c.configured_replication_factor
            .map(|rf| format!(" (configured {rf})"))
            .unwrap_or_default()
    );
    let rows = c
        .brokers
        .iter()
        .map(|b| {
            let parts = b
                .partitions
                .iter()
                .map(|p| format!("{}:{}", p.id, p.role))
                .collect::<Vec<_>>()
                .join(" ");
            let unhealthy = b
                .partitions
                .iter()
                .filter(|p| p.health.as_deref().is_some_and(|h| h != "healthy"))
                .count();
            let health = if b.partitions.iter().all(|p| p.health.is_none()) {
                "-".to_string()
            } else if unhealthy == 0 {
                "healthy".to_string()
            } else {
                format!("{unhealthy} unhealthy")
            };
            vec![
                b.id.to_string(),
                b.region.clone(),
                if b.member { "yes" } else { "no" }.into(),
                match b.reachable {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                if parts.is_empty() { "-".into() } else { parts },
                health,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "BROKER",
            "REGION",
            "MEMBER",
            "REACHABLE",
            "PARTITIONS",
            "HEALTH",
        ],
        rows,
    ));
    out.push_str(&format!(
        "exporters: {}\n",
        if c.exporters.is_empty() {
            "none".into()
        } else {
            c.exporters
                .iter()
                .map(|e| format!("{} {}", e.exporter_id, e.status))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    out.push_str(&format!(
        "pending change: {}\n",
        c.pending_change
            .as_ref()
            .map(|p| format!(
                "{} ({} of {} operations done)",
                p.id,
                p.completed,
                p.completed + p.pending
            ))
            .unwrap_or_else(|| "none".into())
    ));
    out.push_str(&format!(
        "last change: {}\n",
        c.last_change
            .as_ref()
            .map(|l| format!("{} {}", l.id, l.status))
            .unwrap_or_else(|| "none".into())
    ));
    out
}

impl Render for StatusReport {
    fn text(&self) -> String {
        let mut out = String::new();
        for r in &self.regions {
            out.push_str(&region_text(r));
        }
        out.push('\n');
        match &self.cluster {
            Some(c) => out.push_str(&cluster_text(c)),
            None => out.push_str("cluster: no gateway answered\n"),
        }
        out.push('\n');
        out.push_str(&format!(
            "looks lost: {}\n",
            self.lost_region.as_deref().unwrap_or("none")
        ));
        out.push_str(&format!("{}\n", self.phase));
        for n in self.notes.iter().chain(&self.procedure.notes) {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }
}

/// One region to probe: its id, its role as the environment names it, and a session for it
/// (or why none could be built, e.g. no context configured for the recreated region).
struct RegionTarget {
    id: RegionId,
    role: String,
    session: std::result::Result<Session, String>,
}

/// Sessions for both regions: the command's own (with its flags and direct URLs) and one for the
/// other region from the environment; plus notes about assumptions made.
fn region_targets(session: &Session) -> (Vec<RegionTarget>, Vec<String>) {
    let s = &session.settings;
    let other_ref = match s.region {
        RegionRef::Surviving => RegionRef::Recreated,
        RegionRef::Recreated => RegionRef::Surviving,
        RegionRef::Index(id) => RegionRef::Index(id.other()),
    };
    let other = s.for_region(other_ref);
    let mut notes = vec![];
    let other_id = other.as_ref().ok().and_then(|o| o.location.id);
    let own_id = match (s.location.id, other_id) {
        (Some(id), _) => id,
        (None, Some(o)) => o.other(),
        (None, None) => {
            notes.push(
                "REGION_SURVIVING is not set: assuming the surviving region is region0 (set it, or CLUSTER_0/CLUSTER_1)"
                    .to_string(),
            );
            match s.region {
                RegionRef::Recreated => RegionId::ONE,
                _ => RegionId::ZERO,
            }
        }
    };
    let hint = recreated_hint(s);
    let role = |id: RegionId, r: RegionRef| match (hint, r) {
        (Some(h), _) if h == id => "recreated".to_string(),
        (Some(_), _) => "surviving".to_string(),
        (None, RegionRef::Surviving) => "surviving".to_string(),
        (None, RegionRef::Recreated) => "recreated".to_string(),
        (None, RegionRef::Index(_)) => String::new(),
    };
    let mut out = vec![
        RegionTarget {
            id: own_id,
            role: role(own_id, s.region),
            session: Ok(Session::new(s.clone(), session.ui.clone())),
        },
        RegionTarget {
            id: own_id.other(),
            role: role(own_id.other(), other_ref),
            session: other
                .map(|o| Session::new(o, session.ui.clone()))
                .map_err(|e| e.to_string()),
        },
    ];
    out.sort_by_key(|t| t.id);
    (out, notes)
}

/// The region the environment names as recreated, if any.
fn recreated_hint(settings: &Settings) -> Option<RegionId> {
    let env = &settings.env;
    crate::config::locate(RegionRef::Recreated, env)
        .ok()
        .and_then(|l| l.id)
        .or_else(|| {
            crate::config::locate(RegionRef::Surviving, env)
                .ok()
                .and_then(|l| l.id)
                .map(RegionId::other)
        })
}

/// Gather both regions concurrently and decide the procedure step.
pub async fn status(session: &Session, limit: Duration) -> Result<StatusReport> {
    let (targets, mut notes) = region_targets(session);
    let probes = targets.iter().map(|t| async move {
        let (id, role) = (&t.id, &t.role);
        match &t.session {
            Ok(s) => probe_region(s, *id, role, limit).await,
            Err(err) => RegionProbe {
                id: *id,
                report: RegionReport {
                    region: id.to_string(),
                    role: role.clone(),
                    context: None,
                    namespace: None,
                    configured: false,
                    reachable: false,
                    errors: vec![err.clone()],
                    installed: None,
                    broker_pods: vec![],
                    profiles: None,
                    schema_manager_disabled: None,
                    gateway_reachable: None,
                    elasticsearch: None,
                    exporting: None,
                },
                cluster: None,
                exporters: None,
                topology: None,
                configured_rf: None,
                cluster_size: None,
                obs: RegionObservation::default(),
            },
        }
    });
    let probes: Vec<RegionProbe> = futures_util::future::join_all(probes).await;

    // The cluster from the surviving side's gateway when it answers, else the other's.
    let surviving_first: Vec<&RegionProbe> = {
        let mut v: Vec<&RegionProbe> = probes.iter().collect();
        v.sort_by_key(|p| p.report.role != "surviving");
        v
    };
    let source = surviving_first
        .iter()
        .find(|p| p.cluster.is_some() && p.exporters.is_some());
    let configured_rf = probes.iter().find_map(|p| p.configured_rf);
    let cluster_size = probes.iter().find_map(|p| p.cluster_size);
    let topology = surviving_first.iter().find_map(|p| p.topology.as_ref());
    let cluster = source.and_then(|p| {
        Some(cluster_view(
            p.id,
            p.cluster.as_ref()?,
            p.exporters.as_deref()?,
            topology,
            configured_rf,
            cluster_size,
        ))
    });
    let mut regions: [RegionObservation; 2] = Default::default();
    for p in &probes {
        regions[p.id.index()] = p.obs.clone();
    }
    let obs = Observation {
        regions,
        cluster: source.and_then(|p| {
            let c = p.cluster.as_ref()?;
            Some(ClusterObservation {
                members: c.member_ids(),
                replication_factor: c.replication_factor(),
                pending_change: c.pending_change.as_ref().map(|p| p.id),
                exporters: p
                    .exporters
                    .as_ref()?
                    .iter()
                    .map(|e| (e.exporter_id.clone(), e.status.clone()))
                    .collect(),
            })
        }),
        cluster_size,
        configured_replication_factor: configured_rf,
        recreated_hint: recreated_hint(&session.settings),
        alive_brokers: topology.map(|t| t.brokers.iter().map(|b| b.node_id).collect()),
    };
    let verdict = procedure::detect(&obs);
    let unconfigured: Vec<&RegionProbe> = probes.iter().filter(|p| !p.report.configured).collect();
    if topology.is_none()
        && verdict.phase == procedure::Phase::Failover
        && unconfigured
            .iter()
            .any(|p| Some(p.id) == verdict.lost_region)
    {
        notes.push(
            "the lost region is not configured and /v2/topology could not be read, so nothing shows that its brokers \
             are down; brokers remove checks their liveness before removing them"
                .to_string(),
        );
    }
    if cluster.is_some() && topology.is_none() {
        notes.push(
            "broker roles and health need the v2 REST API (set CAMUNDA_CLIENT_AUTH_*): showing the management view"
                .to_string(),
        );
    }
    Ok(StatusReport {
        regions: probes.into_iter().map(|p| p.report).collect(),
        cluster,
        lost_region: verdict.lost_region.map(|r| r.to_string()),
        phase: verdict.line(),
        procedure: verdict,
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// profiles

/// What the broker logs say.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodProfiles {
    pub pod: String,
    /// `None` when the start-up line was not found.
    pub active: Option<Vec<String>>,
    pub matches: bool,
}

/// `kubectl c8dr profiles`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesReport {
    pub region: String,
    pub configmap: String,
    pub active: Vec<String>,
    pub expected: Vec<String>,
    pub matches: bool,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<Vec<PodProfiles>>,
}

impl ProfilesReport {
    /// The ConfigMap and every log line (with `--logs`) match.
    pub fn ok(&self) -> bool {
        self.matches
            && self
                .logs
                .as_ref()
                .is_none_or(|l| l.iter().all(|p| p.matches))
    }
}

impl Render for ProfilesReport {
    fn text(&self) -> String {
        let mut out = format!(
            "{}: {} {}\n",
            self.region,
            self.configmap,
            if self.matches { "matches" } else { "DIFFERS" }
        );
        out.push_str(&format!("  active:   {}\n", self.active.join(",")));
        out.push_str(&format!("  expected: {}\n", self.expected.join(",")));
        if !self.missing.is_empty() {
            out.push_str(&format!("  missing:  {}\n", self.missing.join(",")));
        }
        if !self.extra.is_empty() {
            out.push_str(&format!("  extra:    {}\n", self.extra.join(",")));
        }
        if let Some(logs) = &self.logs {
            let rows = logs
                .iter()
                .map(|p| {
                    vec![
                        p.pod.clone(),
                        p.active
                            .as_ref()
                            .map(|a| a.join(","))
                            .unwrap_or_else(|| "no start-up line".into()),
                        if p.matches { "yes" } else { "NO" }.into(),
                    ]
                })
                .collect();
            out.push_str(&table(&["POD", "LOGGED PROFILES", "MATCHES"], rows));
        }
        out
    }
}

/// The profiles of the Spring Boot start-up line `The following N profiles are active: "a", "b"`.
pub fn logged_profiles(logs: &str) -> Option<BTreeSet<String>> {
    let line = logs
        .lines()
        .rev()
        .find(|l| l.contains("profiles are active:") || l.contains("profile is active:"))?;
    let (_, list) = line.split_once("active:")?;
    Some(
        list.split(',')
            .map(|p| p.trim().trim_matches('"').trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// Compare a region's active profiles (and, with `logs`, what each broker logged at start-up)
/// with the expected set: Operate/Tasklist on (`webapps`) or off.
pub async fn profiles(session: &Session, webapps: bool, logs: bool) -> Result<ProfilesReport> {
    let s = &session.settings;
    let kube = session.kube().await?;
    let name = crate::chart::unified_configmap(&s.release);
    let expected = if webapps {
        chart::full_profiles()
    } else {
        chart::no_webapps_profiles()
    };
    let yaml = kube
        .get_configmap(&name)
        .await?
        .and_then(|c| c.data?.get("application.yaml").cloned())
        .ok_or_else(|| {
            Error::failed(format!(
                "ConfigMap {name} (key application.yaml) not found in {}: is Camunda installed there?",
                kube.location()
            ))
        })?;
    let active = active_profiles(&yaml).ok_or_else(|| {
        Error::failed(format!(
            "ConfigMap {name} has no spring.profiles.active in application.yaml"
        ))
    })?;
    let logs = if logs {
        let pods = kube.list_pods(&chart::broker_selector(&s.release)).await?;
        let mut names: Vec<String> = pods
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        names.sort();
        let expected = &expected;
        let reads = names.iter().map(|pod| async move {
            let text = kube
                .pod_logs(pod, chart::ORCHESTRATION_CONTAINER, None)
                .await?;
            let active = logged_profiles(&text);
            Ok::<_, Error>(PodProfiles {
                pod: pod.clone(),
                matches: active.as_ref() == Some(expected),
                active: active.map(|a| set_of(&a)),
            })
        });
        let results = futures_util::future::join_all(reads).await;
        Some(results.into_iter().collect::<Result<Vec<_>>>()?)
    } else {
        None
    };
    let region = s
        .location
        .id
        .map(|r| format!("{r} ({})", s.region))
        .unwrap_or_else(|| s.region.to_string());
    Ok(ProfilesReport {
        region,
        configmap: name,
        matches: active == expected,
        missing: set_of(&expected.difference(&active).cloned().collect()),
        extra: set_of(&active.difference(&expected).cloned().collect()),
        active: set_of(&active),
        expected: set_of(&expected),
        logs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_line_gives_the_logged_profiles_as_a_set() {
        let logs = "x INFO Starting\nx INFO io.camunda.application.StandaloneCamunda - The following 3 profiles are active: \"broker\", \"identity\", \"consolidated-auth\"\n";
        assert_eq!(logged_profiles(logs), Some(chart::no_webapps_profiles()));
        assert_eq!(logged_profiles("nothing here\n"), None);
    }

    #[test]
    fn configured_sizes_come_from_the_unified_configuration() {
        let yaml = "camunda:\n  cluster:\n    size: 8\n    replication-factor: \"4\"\nspring:\n  profiles:\n    active: broker\n";
        assert_eq!(configured_sizes(yaml), (Some(4), Some(8)));
        assert_eq!(configured_sizes("spring: {}\n"), (None, None));
    }

    #[test]
    fn the_schema_manager_variable_is_read_from_the_orchestration_container() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "camunda-zeebe-0"},
            "spec": {"containers": [
                {"name": "sidecar", "env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}]},
                {"name": "orchestration", "env": [{"name": "OTHER", "value": "1"}]}
            ]}
        }))
        .expect("pod");
        assert!(!pod_disables_schema_manager(&pod));
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "camunda-zeebe-0"},
            "spec": {"containers": [
                {"name": "orchestration", "env": [{"name": SCHEMA_MANAGER_VAR, "value": "False"}]}
            ]}
        }))
        .expect("pod");
        assert!(pod_disables_schema_manager(&pod));
    }

    #[test]
    fn profiles_are_classified_against_both_expected_sets() {
        assert_eq!(ProfilesView::of(&chart::full_profiles()).matches, "full");
        assert_eq!(
            ProfilesView::of(&chart::no_webapps_profiles()).matches,
            "no-webapps"
        );
        let odd: BTreeSet<String> = ["broker".to_string()].into();
        assert_eq!(ProfilesView::of(&odd).matches, "unexpected");
    }

    #[test]
    fn the_cluster_view_merges_roles_from_v2_with_the_membership() {
        let cluster: ClusterTopology = serde_json::from_value(serde_json::json!({
            "brokers": [
                {"id": 0, "state": "ACTIVE", "partitions": [{"id": 1, "state": "ACTIVE"}, {"id": 2, "state": "ACTIVE"}]},
                {"id": 2, "state": "ACTIVE", "partitions": [{"id": 1, "state": "ACTIVE"}, {"id": 2, "state": "ACTIVE"}]}
            ],
            "lastChange": {"id": 3, "status": "COMPLETED"}
        }))
        .expect("cluster");
        let topology: Topology = serde_json::from_value(serde_json::json!({
            "brokers": [
                {"nodeId": 0, "partitions": [{"partitionId": 1, "role": "leader", "health": "healthy"},
                                              {"partitionId": 2, "role": "follower", "health": "unhealthy"}]},
                {"nodeId": 1, "partitions": []}
            ]
        }))
        .expect("topology");
        let exporters = vec![ExporterStatus {
            exporter_id: "camundaregion0".into(),
            status: "ENABLED".into(),
        }];
        let v = cluster_view(
            RegionId::ZERO,
            &cluster,
            &exporters,
            Some(&topology),
            Some(4),
            Some(4),
        );
        assert_eq!(v.view, "v2-topology");
        assert_eq!(v.members, vec![0, 2]);
        assert_eq!(v.replication_factor, 2);
        let ids: Vec<u32> = v.brokers.iter().map(|b| b.id).collect();
        assert_eq!(ids, vec![0, 1, 2, 3], "every broker of the configured size");
        let b0 = &v.brokers[0];
        assert_eq!((b0.member, b0.reachable), (true, Some(true)));
        assert_eq!(b0.partitions[0].role, "leader");
        assert_eq!(b0.partitions[1].health.as_deref(), Some("unhealthy"));
        // Running but not a member (a recreated broker before failback 7).
        let b1 = &v.brokers[1];
        assert_eq!((b1.member, b1.reachable), (false, Some(true)));
        // A member the gateway cannot reach: the management view's partitions, no health.
        let b2 = &v.brokers[2];
        assert_eq!((b2.member, b2.reachable), (true, Some(false)));
        assert_eq!(b2.partitions[0].role, "active");
        assert_eq!(b2.partitions[0].health, None);
        let text = cluster_text(&v);
        assert!(
            text.contains("2 members, replication factor 2 (configured 4)"),
            "{text}"
        );
        assert!(text.contains("last change: 3 COMPLETED"), "{text}");
    }
}
