//! Reading what the installation is from the live cluster (never from a flag the user must
//! know), for `status` and for the gate every mutating command passes before its first change:
//! the versions in `/v2/topology`, the release's chart label, the search engine's pods, the
//! rendered secondary storage kind and the broker identity. Judged by
//! [`crate::release::installation`].

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use crate::chart;
use crate::error::Result;
use crate::kube::RegionClient;
use crate::region::{RegionId, RegionRef};
use crate::release::installation::{
    BrokerIdentity, Installation, Judgement, RegionEvidence, SearchDeployment,
};
use crate::session::Session;

/// The label Helm's chart writes on every object of the release.
const CHART_LABEL: &str = "helm.sh/chart";
/// The zone label of zoned orchestration pods (camunda-platform-helm #6949).
const ZONE_LABEL: &str = "camunda.io/zone";
/// ECK's label on the pods of an Elasticsearch cluster (elastic/cloud-on-k8s
/// `pkg/controller/elasticsearch/label`).
const ECK_CLUSTER_LABEL: &str = "elasticsearch.k8s.elastic.co/cluster-name";

/// The most reading one region may take (it never blocks a command on a lost region).
pub const REGION_LIMIT: Duration = Duration::from_secs(10);

/// How long a read of one region (or the gateway) for the installation may take in a command
/// with these settings: its `--timeout`, at most [`REGION_LIMIT`] (`status` passes its own
/// `--probe-timeout` instead, see [`crate::session::Session::release_within`]).
pub fn read_limit(settings: &crate::session::Settings) -> Duration {
    settings.timeout.min(REGION_LIMIT)
}

/// Read one region: the chart label and zones of the orchestration pods, the search engine's
/// pods, the secondary storage kind of the rendered configuration.
pub async fn read_region(kube: &RegionClient, release: &str) -> Result<RegionEvidence> {
    let pods = kube.list_pods(&chart::broker_selector(release)).await?;
    let chart = pods
        .iter()
        .find_map(|p| label(p, CHART_LABEL))
        .map(String::from);
    let chart = match chart {
        Some(c) => Some(c),
        None => kube
            .get_service(&chart::gateway_service(release))
            .await
            .ok()
            .and_then(|s| s.metadata.labels?.get(CHART_LABEL).cloned()),
    };
    Ok(RegionEvidence {
        chart,
        search: Some(search_deployment(kube).await?),
        secondary_storage: secondary_storage(kube, release).await?,
    })
}

/// The zones the orchestration pods of a region are labelled with.
pub async fn zones(kube: &RegionClient, release: &str) -> Result<BTreeSet<String>> {
    let pods = kube.list_pods(&chart::broker_selector(release)).await?;
    Ok(pods
        .iter()
        .filter_map(|p| label(p, ZONE_LABEL).map(String::from))
        .collect())
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// The chart's subchart when its pods are there, else ECK's, else external.
async fn search_deployment(kube: &RegionClient) -> Result<SearchDeployment> {
    let subchart = kube.list_pods(chart::ES_SELECTOR).await?;
    if subchart
        .iter()
        .any(|p| label(p, ECK_CLUSTER_LABEL).is_none())
    {
        return Ok(SearchDeployment::Subchart);
    }
    let eck = kube.list_pods(ECK_CLUSTER_LABEL).await?;
    Ok(match eck.iter().find_map(|p| label(p, ECK_CLUSTER_LABEL)) {
        Some(cluster) => SearchDeployment::Eck {
            cluster: cluster.to_string(),
        },
        None => SearchDeployment::External,
    })
}

/// `camunda.data.secondary-storage.type` of the rendered configuration (the first ConfigMap of
/// any known release's names that exists).
async fn secondary_storage(kube: &RegionClient, release: &str) -> Result<Option<String>> {
    let Some(yaml) = configuration(kube, release).await? else {
        return Ok(None);
    };
    Ok(storage_kind(&yaml))
}

/// The rendered `application.yaml` of the orchestration configuration ConfigMap, looked up
/// under every name a known release gives it.
pub async fn configuration(kube: &RegionClient, release: &str) -> Result<Option<String>> {
    let mut seen = BTreeSet::new();
    for suffix in crate::release::KNOWN
        .iter()
        .flat_map(|f| f.configmap_suffixes.iter())
    {
        if !seen.insert(*suffix) {
            continue;
        }
        let name = format!("{}{suffix}", chart::orchestration_fullname(release));
        if let Some(yaml) = chart::unified_config(kube.get_configmap(&name).await?) {
            return Ok(Some(yaml));
        }
    }
    Ok(None)
}

/// The secondary storage kind of a rendered `application.yaml` (nested or dotted keys).
pub fn storage_kind(application_yaml: &str) -> Option<String> {
    let doc: Value = serde_saphyr::from_str(application_yaml).ok()?;
    doc.pointer("/camunda/data/secondary-storage/type")
        .or_else(|| doc.get("camunda.data.secondary-storage.type"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

/// What `/v2/topology` shows: the gateway's version, every broker's, and the broker identity
/// (a string id that is not a number is zone-aware: `<zone>_<n>`).
pub fn from_topology(doc: &Value, into: &mut Installation) {
    into.gateway_version = doc["gatewayVersion"].as_str().map(String::from);
    let brokers = doc["brokers"].as_array().cloned().unwrap_or_default();
    let mut zones = BTreeSet::new();
    for b in &brokers {
        if let Some(v) = b["version"].as_str() {
            into.broker_versions.insert(v.to_string());
        }
        let id = b.get("brokerId").unwrap_or(&b["nodeId"]);
        if let Some(s) = id.as_str().filter(|s| s.parse::<u32>().is_err())
            && let Some((zone, _)) = s.rsplit_once('_')
        {
            zones.insert(zone.to_string());
        }
    }
    if !brokers.is_empty() {
        into.identity = Some(if zones.is_empty() {
            BrokerIdentity::Numbered
        } else {
            BrokerIdentity::ZoneAware {
                zones: zones.into_iter().collect(),
            }
        });
    }
}

/// Read one region by id (the session's own, or the other located by the docs' variables),
/// bounded by `limit`: `None` when it cannot be located or does not answer in time (and then
/// its API server is not waited for again in this command).
async fn read_region_by_id(
    session: &Session,
    id: RegionId,
    limit: Duration,
) -> Option<(RegionEvidence, BTreeSet<String>)> {
    let release = &session.settings.release;
    let other;
    let s = if session.settings.location.id == Some(id) {
        session
    } else {
        let settings = session.settings.for_region(RegionRef::Index(id)).ok()?;
        other = Session::new(settings, session.ui.clone());
        &other
    };
    // Building the client reads the kubeconfig only; every call is within the bound.
    let kube = s.kube().await.ok()?;
    kube.bounded(limit, "reading the installation", async {
        Ok((
            read_region(kube, release).await?,
            zones(kube, release).await?,
        ))
    })
    .await
    .ok()
}

/// Read the whole installation, each part bounded by `limit`: both regions at once where they
/// answer, and the gateway's `/v2/topology` when REST credentials are set.
pub async fn read(session: &Session, limit: Duration) -> Installation {
    let mut out = Installation::default();
    let topology = async {
        // Opening the REST client may open a port-forward: bounded too.
        let rest = tokio::time::timeout(limit, session.rest())
            .await
            .ok()?
            .ok()?;
        rest.bounded(limit, "/v2/topology", rest.topology_document())
            .await
            .ok()
    };
    let (r0, r1, doc) = tokio::join!(
        Box::pin(read_region_by_id(session, RegionId::ZERO, limit)),
        Box::pin(read_region_by_id(session, RegionId::ONE, limit)),
        Box::pin(topology)
    );
    let mut labelled_zones = BTreeSet::new();
    for (i, read) in [r0, r1].into_iter().enumerate() {
        if let Some((evidence, zones)) = read {
            labelled_zones.extend(zones);
            out.regions[i] = Some(evidence);
        }
    }
    if let Some(doc) = doc {
        from_topology(&doc, &mut out);
    }
    if !labelled_zones.is_empty() {
        // Zoned pods are evidence enough, whatever the topology could show.
        out.identity = Some(BrokerIdentity::ZoneAware {
            zones: labelled_zones.into_iter().collect(),
        });
    }
    out
}

/// Read (each part within `limit`) and judge (`--allow-unknown-release` as `allow_unknown`).
pub async fn judge(session: &Session, allow_unknown: bool, limit: Duration) -> Judgement {
    read(session, limit).await.judge(allow_unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_storage_kind_is_read_nested_or_dotted() {
        let nested = "camunda:\n  data:\n    secondary-storage:\n      type: RDBMS\n";
        assert_eq!(storage_kind(nested).as_deref(), Some("rdbms"));
        let dotted = "camunda.data.secondary-storage.type: elasticsearch\n";
        assert_eq!(storage_kind(dotted).as_deref(), Some("elasticsearch"));
        assert_eq!(storage_kind("spring: {}\n"), None);
    }

    #[test]
    fn the_topology_names_versions_and_zone_aware_ids() {
        let mut i = Installation::default();
        from_topology(
            &json!({"gatewayVersion": "8.10.1", "brokers": [
                {"nodeId": 0, "brokerId": "region-0_0", "version": "8.10.1"},
                {"nodeId": 1, "brokerId": "region-1_0", "version": "8.10.1"}]}),
            &mut i,
        );
        assert_eq!(i.gateway_version.as_deref(), Some("8.10.1"));
        assert_eq!(
            i.identity,
            Some(BrokerIdentity::ZoneAware {
                zones: vec!["region-0".into(), "region-1".into()]
            })
        );
        let mut n = Installation::default();
        from_topology(
            &json!({"brokers": [{"nodeId": 3, "brokerId": "3", "version": "8.10.1"}]}),
            &mut n,
        );
        assert_eq!(n.identity, Some(BrokerIdentity::Numbered));
        let mut empty = Installation::default();
        from_topology(&json!({"brokers": []}), &mut empty);
        assert_eq!(empty.identity, None, "no broker listed: identity unknown");
    }
}
