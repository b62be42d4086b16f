//! Probing: each region read with every part bounded by a short timeout, failures recorded,
//! never raised; then both regions' evidence as the procedure's [`Observation`].

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::view::{ClusterView, ProfilesView, RegionView, broker_pods, cluster_view};
use crate::chart;
use crate::error::{Error, Result};
use crate::es::{self, EsOptions, EsStatus};
use crate::procedure::{
    ClusterObservation, EsObservation, Exporting, Observation, RegionObservation,
};
use crate::region::RegionId;
use crate::session::Session;
use crate::values::{SCHEMA_MANAGER_VAR, active_profiles};
use crate::zeebe::RestAuth;
use crate::zeebe::model::{ClusterTopology, ExporterStatus, Topology};

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

/// What probing one region yielded (the report plus raw evidence for the cluster view).
pub(super) struct RegionProbe {
    pub(super) id: RegionId,
    pub(super) report: RegionView,
    cluster: Option<ClusterTopology>,
    exporters: Option<Vec<ExporterStatus>>,
    topology: Option<Topology>,
    /// Why `/v2/topology` could not be read (credentials set but the read failed).
    topology_error: Option<String>,
    configured_rf: Option<u32>,
    cluster_size: Option<u32>,
    /// Zone-aware brokers: which region runs which zone (brokers shown by their zone ids).
    zones: Option<crate::zeebe::zones::ZoneMap>,
    obs: RegionObservation,
}

impl RegionProbe {
    fn new(id: RegionId, report: RegionView) -> Self {
        Self {
            id,
            report,
            cluster: None,
            exporters: None,
            topology: None,
            topology_error: None,
            configured_rf: None,
            cluster_size: None,
            zones: None,
            obs: RegionObservation::default(),
        }
    }

    /// A region no session could be built for (`err` says why): nothing probed.
    pub(super) fn unconfigured(id: RegionId, role: &str, err: &str) -> Self {
        let mut probe = Self::new(
            id,
            RegionView {
                configured: false,
                errors: vec![err.to_string()],
                ..RegionView::unread(id, role)
            },
        );
        probe.obs.unconfigured = true;
        probe
    }
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

/// Whether a pod's orchestration container turns the schema manager off, in any spelling a
/// known release reads ([`crate::release::all_schema_switch_names`]): a canonical spelling that
/// is set decides (8.10: it wins over the legacy `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA`,
/// camunda/camunda `configuration/` `UnifiedConfigurationHelper`), else the legacy one.
pub fn pod_disables_schema_manager(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let env: Vec<_> = spec
        .containers
        .iter()
        .filter(|c| c.name == chart::ORCHESTRATION_CONTAINER)
        .flat_map(|c| c.env.iter().flatten())
        .collect();
    let value = |name: &str| {
        env.iter()
            .find(|e| e.name == name)
            .map(|e| e.value.as_deref().unwrap_or_default())
    };
    let names = crate::release::all_schema_switch_names();
    let deciding = names
        .iter()
        .filter(|n| **n != SCHEMA_MANAGER_VAR)
        .find_map(|n| value(n))
        .or_else(|| value(SCHEMA_MANAGER_VAR));
    deciding.is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

/// The region's Elasticsearch, reached the way `kubectl c8dr es` reaches it (`--es-url`, else
/// curl in the Elasticsearch pod, credentials from the chart's Secret). The probe's own bound
/// (`bounded`) cuts it off when the region does not answer.
async fn es_status(session: &Session) -> Result<EsStatus> {
    let conn = crate::es::connect(session, &crate::es::EsAccess::default()).await?;
    let t = conn.transport;
    let opts = EsOptions {
        retries: 1,
        ..EsOptions::default()
    };
    es::cluster_status(t.as_ref(), &opts).await
}

/// Probe one region: every part bounded by `limit`, failures recorded, never raised.
pub(super) async fn probe_region(
    session: &Session,
    id: RegionId,
    role: &str,
    limit: Duration,
) -> RegionProbe {
    let s = &session.settings;
    let mut report = RegionView {
        context: s.location.context.clone(),
        namespace: s.location.namespace.clone(),
        ..RegionView::unread(id, role)
    };
    let mut probe = RegionProbe::new(id, report.clone());
    let kube = match bounded("the Kubernetes API", limit, async {
        let kube = session.kube().await?;
        kube.server_version().await?;
        Ok(kube)
    })
    .await
    {
        Ok(k) => k,
        Err(e) => {
            if e.exit_code() == 2 {
                report.input_error = Some(e.to_string());
            }
            report.errors.push(e.to_string());
            probe.report = report;
            return probe;
        }
    };
    report.reachable = true;
    probe.obs.reachable = true;

    let installed = read_install(session, kube, id, limit, &mut report, &mut probe).await;
    if installed != Some(false) {
        read_services(session, id, limit, &mut report, &mut probe).await;
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

/// The release in a region: the unified ConfigMap (profiles, configured sizes) and the broker
/// pods; whether it is installed (`None`: cannot tell).
async fn read_install(
    session: &Session,
    kube: &crate::kube::RegionClient,
    id: RegionId,
    limit: Duration,
    report: &mut RegionView,
    probe: &mut RegionProbe,
) -> Option<bool> {
    let s = &session.settings;
    let selector = chart::broker_selector(&s.release);
    // The configuration ConfigMap under every name a known release gives it
    // (`-configuration-unified` in 8.8, `-configuration` from 8.9).
    let (cm, pods) = tokio::join!(
        bounded(
            "the configuration ConfigMap",
            limit,
            crate::commands::installation::configuration(kube, &s.release)
        ),
        bounded("the orchestration pods", limit, kube.list_pods(&selector)),
    );
    let yaml = match cm {
        Ok(cm) => Some(cm),
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
    installed
}

/// The services of an installed region, at once: the gateway (cluster, exporters), the v2 REST
/// API, Elasticsearch and the brokers' partitions.
async fn read_services(
    session: &Session,
    id: RegionId,
    limit: Duration,
    report: &mut RegionView,
    probe: &mut RegionProbe,
) {
    let s = &session.settings;
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
        Ok(crate::commands::pause_state::observe_region(session).await)
    });
    let (mgmt, rest, es, exporting) = tokio::join!(mgmt, rest, es, exporting);
    if let Ok(m) = session.management().await {
        probe.zones = m.zones().cloned();
    }
    if let Ok(x) = exporting {
        // A member that answered `{}` (its own partition query timed out) is unread, not
        // "nothing to check": judged against the configuration read at the same time.
        report.exporting = Some(match &mgmt {
            Ok((cluster, _)) => x.judged(&crate::commands::pause_state::expected_of(cluster)),
            Err(_) => x,
        });
    }
    let topo_ok = match &rest {
        Some(Ok(t)) => Some(t),
        _ => None,
    };
    record_gateway(mgmt, topo_ok, report, probe);
    match rest {
        Some(Ok(t)) => probe.topology = Some(t),
        Some(Err(e)) => {
            tracing::debug!("{id}: v2 topology: {e}");
            probe.topology_error = Some(e.to_string());
        }
        None => {}
    }
    match es {
        Ok(es) => report.elasticsearch = Some(es),
        Err(e) => report.errors.push(e.to_string()),
    }
}

/// What the gateway answered, or why not.
fn record_gateway(
    mgmt: Result<(ClusterTopology, Vec<ExporterStatus>)>,
    topo_ok: Option<&Topology>,
    report: &mut RegionView,
    probe: &mut RegionProbe,
) {
    match mgmt {
        Ok((cluster, exporters)) => {
            report.gateway_reachable = Some(true);
            probe.cluster = Some(cluster);
            probe.exporters = Some(exporters);
        }
        // The gateway answers but its coordinator (the lowest member) does not: region 0 lost
        // (docs/api-behaviour.md §1 "Routing"). Membership from /v2/topology; exporters and a pending change
        // cannot be read until the forced removal completes (camunda/camunda#63506).
        Err(e) if crate::zeebe::management::coordinator_unreachable(&e) && topo_ok.is_some() => {
            report.gateway_reachable = Some(true);
            if let Some(t) = topo_ok {
                probe.cluster = Some(crate::commands::cluster::cluster_from_topology(t));
            }
            probe.exporters = Some(vec![]);
            report.errors.push(format!(
                "the coordinator does not answer ({e}): membership from /v2/topology; the exporters and a pending \
                 change cannot be read until the lost region's brokers are removed (camunda/camunda#63506)"
            ));
        }
        Err(e) => {
            report.gateway_reachable = Some(false);
            report.errors.push(e.to_string());
        }
    }
}

/// What both probes show of the cluster: the surviving side's gateway when it answers, else the
/// other's; the sizes configured in either region.
pub(super) struct Evidence<'a> {
    source: Option<&'a RegionProbe>,
    pub(super) topology: Option<&'a Topology>,
    /// Why no gateway's `/v2/topology` could be read, when credentials were set.
    pub(super) topology_error: Option<&'a str>,
    configured_rf: Option<u32>,
    cluster_size: Option<u32>,
}

impl<'a> Evidence<'a> {
    pub(super) fn of(probes: &'a [RegionProbe]) -> Self {
        let mut surviving_first: Vec<&RegionProbe> = probes.iter().collect();
        surviving_first.sort_by_key(|p| p.report.role != "surviving");
        Self {
            source: surviving_first
                .iter()
                .find(|p| p.cluster.is_some() && p.exporters.is_some())
                .copied(),
            topology: surviving_first.iter().find_map(|p| p.topology.as_ref()),
            topology_error: surviving_first
                .iter()
                .find_map(|p| p.topology_error.as_deref()),
            configured_rf: probes.iter().find_map(|p| p.configured_rf),
            cluster_size: probes.iter().find_map(|p| p.cluster_size),
        }
    }

    /// Physical tenants the cluster keeps disabled (8.10): they hold partitions and refuse every
    /// broker removal until discarded.
    pub(super) fn disabled_tenants(&self) -> Vec<String> {
        self.source
            .and_then(|p| p.cluster.as_ref())
            .map(|c| {
                c.physical_tenants
                    .iter()
                    .filter(|t| t.disabled)
                    .map(|t| t.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cluster as the source gateway shows it, `None` when no gateway answered.
    pub(super) fn cluster_view(&self) -> Option<ClusterView> {
        let p = self.source?;
        Some(cluster_view(
            p.id,
            p.cluster.as_ref()?,
            p.exporters.as_deref()?,
            self.topology,
            self.configured_rf,
            self.cluster_size,
            p.zones.as_ref(),
        ))
    }

    /// What phase detection looks at.
    pub(super) fn observation(
        &self,
        probes: &[RegionProbe],
        recreated_hint: Option<RegionId>,
    ) -> Observation {
        let mut regions: [RegionObservation; 2] = Default::default();
        for p in probes {
            regions[p.id.index()] = p.obs.clone();
        }
        Observation {
            regions,
            cluster: self.source.and_then(|p| {
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
            cluster_size: self.cluster_size,
            configured_replication_factor: self.configured_rf,
            recreated_hint,
            alive_brokers: self
                .topology
                .map(|t| t.brokers.iter().map(|b| b.node_id).collect()),
            exporting: exporting_of(probes),
            region_flags: Default::default(),
        }
    }
}

/// The exporting pause over every partition replica the brokers of both regions answered for
/// (a pause applies to the whole cluster); `None` when none could be read, or when a broker pod
/// of a region whose brokers were listed could not be read (a pause is not atomic across
/// partitions: the replicas read do not speak for it).
fn exporting_of(probes: &[RegionProbe]) -> Option<Exporting> {
    let read: Vec<&crate::commands::pause_state::RegionExporting> = probes
        .iter()
        .filter_map(|p| p.report.exporting.as_ref())
        .collect();
    if read.iter().any(|x| x.unread() > 0 || x.error.is_some()) {
        return None;
    }
    let replicas = read.iter().flat_map(|x| x.replicas().map(|(_, p)| p));
    Exporting::of_summary(crate::zeebe::partitions::summarize(replicas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::pause_state::{BrokerExporting, RegionExporting};
    use crate::zeebe::partitions::PartitionStatus;

    fn broker(pod: &str, phase: Option<&str>) -> BrokerExporting {
        BrokerExporting {
            pod: pod.into(),
            node_id: None,
            ready: true,
            partitions: phase
                .map(|ph| {
                    vec![PartitionStatus {
                        partition: 1,
                        role: Some("LEADER".into()),
                        exporter_phase: Some(ph.into()),
                        exported_position: None,
                        processed_position: None,
                    }]
                })
                .unwrap_or_default(),
            missing_partitions: vec![],
            error: phase.is_none().then(|| "no answer".to_string()),
        }
    }

    fn probe_with(brokers: Vec<BrokerExporting>) -> RegionProbe {
        let mut p = RegionProbe::new(RegionId::ZERO, RegionView::unread(RegionId::ZERO, ""));
        p.report.exporting = Some(RegionExporting {
            region_id: Some("region0".into()),
            region: "region0".into(),
            state: String::new(),
            max_lag: 0,
            brokers,
            error: None,
            unanswered: false,
        });
        p
    }

    #[test]
    fn the_pause_is_paused_only_when_every_broker_pod_was_read() {
        let all = probe_with(vec![
            broker("b0", Some("PAUSED")),
            broker("b2", Some("PAUSED")),
        ]);
        assert_eq!(exporting_of(&[all]), Some(Exporting::Paused));
        // One broker did not answer: its partitions may still export (a pause is not atomic).
        let partial = probe_with(vec![broker("b0", Some("PAUSED")), broker("b2", None)]);
        assert_eq!(exporting_of(&[partial]), None);
        let running = probe_with(vec![broker("b0", Some("EXPORTING"))]);
        assert_eq!(exporting_of(&[running]), Some(Exporting::Running));
        assert_eq!(exporting_of(&[probe_with(vec![])]), None, "nothing read");
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

    fn orchestration_pod(env: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "camunda-zeebe-0"},
            "spec": {"containers": [{"name": "orchestration", "env": env}]}
        }))
        .expect("pod")
    }

    #[test]
    fn the_810_spelling_of_the_schema_switch_is_read_and_wins() {
        const CANONICAL: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";
        assert!(crate::release::all_schema_switch_names().contains(&CANONICAL));
        let off = orchestration_pod(serde_json::json!([{"name": CANONICAL, "value": "false"}]));
        assert!(pod_disables_schema_manager(&off));
        // The canonical variable set to true wins over a legacy false: the manager runs.
        let on = orchestration_pod(serde_json::json!([
            {"name": SCHEMA_MANAGER_VAR, "value": "false"},
            {"name": CANONICAL, "value": "true"}
        ]));
        assert!(!pod_disables_schema_manager(&on));
        let legacy_only =
            orchestration_pod(serde_json::json!([{"name": SCHEMA_MANAGER_VAR, "value": "false"}]));
        assert!(pod_disables_schema_manager(&legacy_only));
        assert!(!pod_disables_schema_manager(&orchestration_pod(
            serde_json::json!([])
        )));
    }
}
