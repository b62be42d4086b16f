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
use crate::error::{Error, Result};
use crate::kube::{KubeTarget, RegionClient};
use crate::region::{RegionId, RegionRef};
use crate::release::installation::{
    BrokerIdentity, Installation, Judgement, RegionEvidence, SearchDeployment, Unread,
};
use crate::session::Session;

/// The label Helm's chart writes on every object of the release.
const CHART_LABEL: &str = "helm.sh/chart";
/// The zone label of zoned orchestration pods (camunda-platform-helm #6949).
const ZONE_LABEL: &str = "camunda.io/zone";

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
pub async fn read_region(
    kube: &RegionClient,
    release: &str,
    region: Option<RegionId>,
) -> Result<RegionEvidence> {
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
    let (secondary_storage, storage_unreadable) = match storage_from_env(&pods) {
        Ok(Some(kind)) => (Some(kind), None),
        Err(why) => (None, Some(why)),
        Ok(None) => match configuration(kube, release).await? {
            Some(yaml) => match storage_kind(&yaml) {
                Ok(kind) => (kind, None),
                Err(why) => (None, Some(why)),
            },
            None => (None, None),
        },
    };
    Ok(RegionEvidence {
        chart,
        search: Some(search_deployment(kube, release, region, &pods).await?),
        secondary_storage,
        storage_unreadable,
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

/// How the search engine is deployed, chosen where the `es` commands choose it
/// ([`crate::es::access::es_pods`], one function): the chart's subchart, else ECK's cluster (of
/// two, the one the exporter URL names), else external.
async fn search_deployment(
    kube: &RegionClient,
    release: &str,
    region: Option<RegionId>,
    pods: &[Pod],
) -> Result<SearchDeployment> {
    use crate::es::access::EsPods;
    Ok(
        match crate::es::access::es_pods(kube, release, region, Some(pods)).await? {
            Ok(Some(EsPods::Subchart)) => SearchDeployment::Subchart,
            Ok(Some(EsPods::Eck { cluster })) => SearchDeployment::Eck { cluster },
            Ok(None) => SearchDeployment::External,
            Err(clusters) => SearchDeployment::Ambiguous { clusters },
        },
    )
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

/// The variable that sets the secondary storage kind (Spring's environment binding of
/// `camunda.data.secondary-storage.type`); it overrides the configuration file.
pub const STORAGE_VAR: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_TYPE";

/// The storage kind the orchestration pods' environment sets: `Ok(None)` when no pod sets it;
/// `Err` (why) when it is set in a way c8dr cannot read (`valueFrom`, pods that disagree).
pub fn storage_from_env(pods: &[Pod]) -> std::result::Result<Option<String>, String> {
    let mut kinds = BTreeSet::new();
    let entries = crate::kube::pods::env_entries(pods);
    for e in entries {
        let name = e
            .name
            .to_ascii_uppercase()
            .replace('.', "_")
            .replace('-', "");
        if name != STORAGE_VAR {
            continue;
        }
        match &e.value {
            Some(v) if e.value_from.is_none() => {
                kinds.insert(v.trim().to_ascii_lowercase());
            }
            _ => {
                return Err(format!(
                    "{STORAGE_VAR} of the orchestration pods is set from a reference c8dr does not read"
                ));
            }
        }
    }
    let mut it = kinds.into_iter();
    match (it.next(), it.next()) {
        (Some(kind), None) if !kind.is_empty() => Ok(Some(kind)),
        (None, _) => Ok(None),
        _ => Err(format!(
            "the orchestration pods set {STORAGE_VAR} differently or empty"
        )),
    }
}

/// The secondary storage kind of a rendered `application.yaml`, read with Spring's relaxed
/// binding ([`crate::values::property_values`]: nested or dotted keys, any case, `-`/`_`):
/// `Ok(None)` when the configuration does not set it; `Err` (why) when it cannot be read — it
/// does not parse (duplicate keys too), is several documents, is not a map, or sets the kind
/// to something other than one string. Never "no information" (docs/contract.md §4 rule 13).
pub fn storage_kind(application_yaml: &str) -> std::result::Result<Option<String>, String> {
    let doc: Value = serde_saphyr::from_str(application_yaml).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or_default();
        format!(
            "the orchestration configuration does not parse as one YAML document: {}",
            crate::error::shown(first)
        )
    })?;
    if !(doc.is_object() || doc.is_null()) {
        return Err("the orchestration configuration is not a YAML map".into());
    }
    let mut kinds = BTreeSet::new();
    for v in crate::values::property_values(&doc, STORAGE_VAR) {
        let kind = v
            .as_str()
            .ok_or("camunda.data.secondary-storage.type is not a string")?;
        kinds.insert(kind.trim().to_ascii_lowercase());
    }
    let mut it = kinds.into_iter();
    match (it.next(), it.next()) {
        (None, _) => Ok(None),
        (Some(kind), None) if !kind.is_empty() => Ok(Some(kind)),
        (Some(_), None) => Ok(None),
        _ => Err("camunda.data.secondary-storage.type is set more than once, differently".into()),
    }
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

/// Where region `id` is: the session's own, or the other located by the docs' variables
/// (`None` when it cannot be located).
fn region_target(session: &Session, id: RegionId) -> Option<KubeTarget> {
    let settings = if session.settings.location.id == Some(id) {
        session.settings.clone()
    } else {
        session.settings.for_region(RegionRef::Index(id)).ok()?
    };
    Some(KubeTarget {
        kubeconfig: settings.kubeconfig,
        context: settings.location.context,
        context_source: settings.location.context_source,
        namespace: settings.location.namespace,
    })
}

/// Read one region, bounded by `limit`: `Ok(None)` when it is not located, an error when it does
/// not answer in time (and then its API server is not waited for again in this command) or
/// cannot be read.
async fn read_region_at(
    target: Option<KubeTarget>,
    release: &str,
    id: RegionId,
    limit: Duration,
) -> Result<Option<(RegionEvidence, BTreeSet<String>)>> {
    let Some(target) = target else {
        return Ok(None);
    };
    // Building the client reads the kubeconfig only; every call is within the bound.
    let kube = RegionClient::connect(&target).await?;
    kube.bounded(limit, "reading the installation", async {
        Ok((
            read_region(&kube, release, Some(id)).await?,
            zones(&kube, release).await?,
        ))
    })
    .await
    .map(Some)
}

/// Read the whole installation, each part bounded by `limit`: both regions at once where they
/// answer, and the gateway's `/v2/topology` when REST credentials are set.
pub async fn read(session: &Session, limit: Duration) -> Installation {
    let targets = RegionId::ALL.map(|id| region_target(session, id));
    read_at(session, targets, limit).await
}

/// [`read`] with the regions where the caller located them (`helm c8dr`, whose contexts come
/// from its own flags): `targets[i]` is region `i`; the session's gateway answers `/v2/topology`.
pub async fn read_at(
    session: &Session,
    targets: [Option<KubeTarget>; 2],
    limit: Duration,
) -> Installation {
    let mut out = Installation::default();
    let topology = async {
        // Opening the REST client may open a port-forward: bounded too.
        let rest = match tokio::time::timeout(limit, session.rest()).await {
            Ok(rest) => rest?,
            Err(_) => {
                return Err(Error::Timeout {
                    what: "opening the v2 REST API".into(),
                    after: humantime::format_duration(limit).to_string(),
                });
            }
        };
        rest.bounded(limit, "/v2/topology", rest.topology_document())
            .await
    };
    let release = &session.settings.release;
    let [t0, t1] = targets;
    let (r0, r1, doc) = tokio::join!(
        Box::pin(read_region_at(t0, release, RegionId::ZERO, limit)),
        Box::pin(read_region_at(t1, release, RegionId::ONE, limit)),
        Box::pin(topology)
    );
    let mut labelled_zones = BTreeSet::new();
    for (id, read) in RegionId::ALL.into_iter().zip([r0, r1]) {
        match read {
            Ok(Some((evidence, zones))) => {
                labelled_zones.extend(zones);
                out.regions[id.index()] = Some(evidence);
            }
            Ok(None) => {}
            Err(e) => out
                .unread
                .extend(Unread::of(&format!("{id}'s objects"), &e)),
        }
    }
    match doc {
        Ok(doc) => from_topology(&doc, &mut out),
        // No credentials set is no evidence, not a failure.
        Err(e) => out.unread.extend(Unread::of("/v2/topology", &e)),
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
    fn the_storage_kind_is_read_with_relaxed_binding() {
        for yaml in [
            "camunda:\n  data:\n    secondary-storage:\n      type: RDBMS\n",
            "camunda.data.secondary-storage.type: rdbms\n",
            "camunda:\n  data:\n    secondaryStorage:\n      type: rdbms\n",
            "camunda:\n  data.secondary-storage.type: rdbms\n",
            "camunda.data:\n  secondary-storage:\n    type: rdbms\n",
            "camunda:\n  data:\n    secondary_storage:\n      type: rdbms\n",
            "CAMUNDA:\n  Data:\n    SecondaryStorage:\n      TYPE: rdbms\n",
        ] {
            assert_eq!(storage_kind(yaml), Ok(Some("rdbms".into())), "{yaml}");
        }
        assert_eq!(storage_kind("spring: {}\n"), Ok(None));
        assert_eq!(storage_kind(""), Ok(None));
    }

    #[test]
    fn a_configuration_that_cannot_be_read_is_no_answer_not_elasticsearch() {
        for (yaml, why) in [
            ("\tgarbage: [", "does not parse"),
            (
                "camunda.data.secondary-storage.type: elasticsearch\n---\ncamunda.data.secondary-storage.type: rdbms\n",
                "one YAML document",
            ),
            (
                "camunda:\n  data: 1\ncamunda:\n  data: 2\n",
                "does not parse",
            ),
            (
                "camunda.data.secondary-storage.type: [rdbms]\n",
                "not a string",
            ),
            ("just a sentence", "not a YAML map"),
            (
                "camunda.data.secondary-storage.type: elasticsearch\ncamunda:\n  data:\n    secondaryStorage:\n      type: rdbms\n",
                "more than once",
            ),
        ] {
            let e = storage_kind(yaml).expect_err(yaml);
            assert!(e.contains(why), "{yaml}: {e}");
        }
    }

    #[test]
    fn the_pods_variable_sets_the_storage_kind() {
        let pod = |env: Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "camunda-zeebe-0"},
                "spec": {"containers": [{"name": "orchestration", "env": env}]}}))
            .expect("pod")
        };
        let rdbms = pod(json!([{"name": "CAMUNDA_DATA_SECONDARYSTORAGE_TYPE", "value": "RDBMS"}]));
        assert_eq!(storage_from_env(&[rdbms]), Ok(Some("rdbms".into())));
        assert_eq!(
            storage_from_env(&[pod(json!([{"name": "X", "value": "1"}]))]),
            Ok(None)
        );
        let from = pod(json!([{"name": "CAMUNDA_DATA_SECONDARYSTORAGE_TYPE",
            "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]));
        assert!(storage_from_env(&[from]).is_err());
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
