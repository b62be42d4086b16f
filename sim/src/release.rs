//! Every fact that differs between the Camunda releases the simulator models (8.8, 8.9, 8.10),
//! in one place: the rest of the simulator asks [`CamundaRelease`] instead of comparing versions.
//!
//! Each method cites its upstream source. Chart paths are under
//! camunda/camunda-platform-helm `charts/camunda-platform-<8.8|8.9|8.10>/` on branch main @
//! b5c494d23a79ba17105ed5fd55dbf2e05e3d21a7 ("the chart" below). Zeebe facts are from
//! camunda/camunda (gateway-protocol v2 `cluster.yaml`, `ClusterEndpoint.java`, `configuration/`).
//! The reference architecture for 8.9+ is camunda/camunda-deployment-references stable/8.9
//! `generic/kubernetes/dual-region` and camunda-docs version-8.9 `dual-region-ops.md`.

use std::fmt;

use serde_json::{Value, json};

/// The Camunda minor release being simulated. 8.8 is the default (what the simulator modelled
/// before releases were selectable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CamundaRelease {
    #[default]
    V8_8,
    V8_9,
    V8_10,
}

/// How the release's Elasticsearch runs in the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchDeployment {
    /// The chart's bitnami Elasticsearch subchart (`<release>-elasticsearch-master-N`).
    BitnamiSubchart,
    /// An Elasticsearch CR `elasticsearch` managed by the ECK operator, outside the chart.
    Eck,
}

/// `camunda.data.secondary-storage.type` (chart helper `orchestration.secondaryStorage`; 8.9+
/// values key `orchestration.data.secondaryStorage.type`: elasticsearch | opensearch | rdbms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecondaryStorage {
    #[default]
    Elasticsearch,
    Opensearch,
    Rdbms,
}

impl SecondaryStorage {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "elasticsearch" => Ok(Self::Elasticsearch),
            "opensearch" => Ok(Self::Opensearch),
            "rdbms" => Ok(Self::Rdbms),
            _ => Err(format!(
                "unknown secondary storage '{s}': expected elasticsearch, opensearch or rdbms"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Elasticsearch => "elasticsearch",
            Self::Opensearch => "opensearch",
            Self::Rdbms => "rdbms",
        }
    }
}

/// An Elasticsearch Service: name, whether headless, ports as (name, number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsService {
    pub name: String,
    pub headless: bool,
    pub ports: Vec<(&'static str, u16)>,
}

fn es_service(name: String, headless: bool, ports: Vec<(&'static str, u16)>) -> EsService {
    EsService {
        name,
        headless,
        ports,
    }
}

/// The legacy schema-manager variable (`camunda.database.schema-manager.create-schema`), the
/// one the simulator has always modelled; honoured by every release.
pub const LEGACY_SCHEMA_VAR: &str = "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA";

/// The canonical schema-creation variable of 8.10
/// (`camunda.data.secondary-storage.elasticsearch.create-schema`).
pub const CANONICAL_SCHEMA_VAR: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";

impl CamundaRelease {
    pub const ALL: [Self; 3] = [Self::V8_8, Self::V8_9, Self::V8_10];

    /// `8.8`, `8.9` or `8.10`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "8.8" => Ok(Self::V8_8),
            "8.9" => Ok(Self::V8_9),
            "8.10" => Ok(Self::V8_10),
            _ => Err(format!(
                "unknown Camunda release '{s}': expected 8.8, 8.9 or 8.10"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V8_8 => "8.8",
            Self::V8_9 => "8.9",
            Self::V8_10 => "8.10",
        }
    }

    /// The chart version (`Chart.yaml` `version` of each chart directory).
    pub fn chart_version(self) -> &'static str {
        match self {
            Self::V8_8 => "13.12.7",
            Self::V8_9 => "14.8.4",
            Self::V8_10 => "15.0.0-alpha4",
        }
    }

    /// The `helm.sh/chart` label every chart object carries (templates/common/_helpers.tpl
    /// `camundaPlatform.labels`: `<chart name>-<chart version>`).
    pub fn chart_label(self) -> String {
        format!("camunda-platform-{}", self.chart_version())
    }

    /// The application version the brokers and gateway report: `/v2/topology` `gatewayVersion`
    /// and each broker's `version` are plain strings (gateway-protocol v2 `cluster.yaml`). The
    /// patch level is the simulator's choice; one constant per release, also the image tag.
    pub fn camunda_version(self) -> &'static str {
        match self {
            Self::V8_8 => "8.8.9",
            Self::V8_9 => "8.9.4",
            Self::V8_10 => "8.10.1",
        }
    }

    /// The orchestration configuration ConfigMap: 8.8
    /// `templates/orchestration/configmap-unified.yaml` (`<fullname>-configuration-unified`);
    /// 8.9 and 8.10 `templates/orchestration/configmap.yaml` (`<fullname>-configuration`,
    /// commit 743be3fb2a "drop the -unified suffix (#4938)"). Key `application.yaml` in all.
    pub fn configmap_name(self, orchestration_fullname: &str) -> String {
        match self {
            Self::V8_8 => format!("{orchestration_fullname}-configuration-unified"),
            Self::V8_9 | Self::V8_10 => format!("{orchestration_fullname}-configuration"),
        }
    }

    /// `orchestration.profiles` defaults (values.yaml): 8.8 broker, identity, operate, tasklist;
    /// 8.9 and 8.10 admin, broker, operate, tasklist (identity became `admin`). Sorted.
    pub fn default_profiles(self) -> [&'static str; 4] {
        match self {
            Self::V8_8 => ["broker", "identity", "operate", "tasklist"],
            Self::V8_9 | Self::V8_10 => ["admin", "broker", "operate", "tasklist"],
        }
    }

    /// Where the release's Elasticsearch runs. The bitnami subchart is on by default in 8.8,
    /// deprecated and off by default in 8.9 (values.yaml `elasticsearch.enabled: false`) and
    /// removed in 8.10; the 8.9+ dual-region reference runs Elasticsearch under ECK
    /// (camunda-deployment-references stable/8.9 generic/kubernetes/dual-region, camunda-docs
    /// version-8.9 dual-region-ops.md).
    pub fn search_deployment(self) -> SearchDeployment {
        match self {
            Self::V8_8 => SearchDeployment::BitnamiSubchart,
            Self::V8_9 | Self::V8_10 => SearchDeployment::Eck,
        }
    }

    /// Whether the region's Elasticsearch requires basic auth even when the simulator's
    /// `es_security` option is off: the ECK reference runs with security on (ECK always enables
    /// it) and the password in `elasticsearch-es-elastic-user`; the 8.8 subchart as the
    /// simulator has always modelled it (security opt-in).
    pub fn es_requires_auth(self) -> bool {
        self.search_deployment() == SearchDeployment::Eck
    }

    /// Elasticsearch master pod `n`: bitnami `<release>-elasticsearch-master-N`; ECK
    /// `<cluster>-es-<nodeSet>-N` for the CR `elasticsearch` and nodeSet `masters`.
    pub fn es_pod_name(self, release: &str, n: u32) -> String {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => format!("{release}-elasticsearch-master-{n}"),
            SearchDeployment::Eck => format!("elasticsearch-es-masters-{n}"),
        }
    }

    /// The Elasticsearch pods' labels (also the Services' selector). Bitnami: the subchart's
    /// common labels; ECK: `elasticsearch.k8s.elastic.co/cluster-name`,
    /// `common.k8s.elastic.co/type`, `elasticsearch.k8s.elastic.co/node-master` (the labels ECK
    /// sets on every pod of a nodeSet with the master role).
    pub fn es_labels(self, release: &str) -> Value {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => json!({
                "app.kubernetes.io/name": "elasticsearch",
                "app.kubernetes.io/instance": release,
                "app.kubernetes.io/component": "master",
                "app.kubernetes.io/managed-by": "Helm",
            }),
            SearchDeployment::Eck => json!({
                "elasticsearch.k8s.elastic.co/cluster-name": "elasticsearch",
                "common.k8s.elastic.co/type": "elasticsearch",
                "elasticsearch.k8s.elastic.co/node-master": "true",
                "elasticsearch.k8s.elastic.co/statefulset-name": "elasticsearch-es-masters",
            }),
        }
    }

    /// The Elasticsearch cluster name (`GET /` and `_cluster/health` `cluster_name`): the
    /// bitnami subchart's `elastic` (as the simulator has always answered), ECK's CR name
    /// `elasticsearch` (ECK sets `cluster.name` to the Elasticsearch resource's name).
    pub fn es_cluster_name(self) -> &'static str {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => "elastic",
            SearchDeployment::Eck => "elasticsearch",
        }
    }

    /// The Elasticsearch image: bitnami's for the subchart, Elastic's for ECK.
    pub fn es_image(self) -> &'static str {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => "bitnamilegacy/elasticsearch:8.18.0",
            SearchDeployment::Eck => "docker.elastic.co/elasticsearch/elasticsearch:8.18.0",
        }
    }

    /// The Elasticsearch container's ports: bitnami names them `rest-api` and `transport`, ECK
    /// `http` (TLS disabled) and `transport`.
    pub fn es_container_ports(self) -> [(&'static str, u16); 2] {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => [("rest-api", 9200), ("transport", 9300)],
            SearchDeployment::Eck => [("http", 9200), ("transport", 9300)],
        }
    }

    /// Elasticsearch Services. Bitnami
    /// `<release>-elasticsearch` and `<release>-elasticsearch-master-hl`; ECK `<cluster>-es-http`
    /// (9200, plain http: `selfSignedCertificate.disabled: true`) and the nodeSet's headless
    /// `<cluster>-es-<nodeSet>`.
    pub fn es_services(self, release: &str) -> Vec<EsService> {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => vec![
                es_service(
                    format!("{release}-elasticsearch"),
                    false,
                    vec![("tcp-rest-api", 9200)],
                ),
                es_service(
                    format!("{release}-elasticsearch-master-hl"),
                    true,
                    vec![("tcp-rest-api", 9200), ("tcp-transport", 9300)],
                ),
            ],
            SearchDeployment::Eck => vec![
                es_service("elasticsearch-es-http".into(), false, vec![("http", 9200)]),
                es_service(
                    "elasticsearch-es-masters".into(),
                    true,
                    vec![("http", 9200), ("transport", 9300)],
                ),
            ],
        }
    }

    /// The Secret holding the `elastic` user's password: (name, key). Bitnami
    /// `<release>-elasticsearch` / `elasticsearch-password`; ECK `<cluster>-es-elastic-user` /
    /// `elastic`.
    pub fn es_password_secret(self, release: &str) -> (String, &'static str) {
        match self.search_deployment() {
            SearchDeployment::BitnamiSubchart => {
                (format!("{release}-elasticsearch"), "elasticsearch-password")
            }
            SearchDeployment::Eck => ("elasticsearch-es-elastic-user".into(), "elastic"),
        }
    }

    /// The env var of region `n`'s exporter URL in the reference values: 8.8
    /// `ZEEBE_BROKER_EXPORTERS_CAMUNDAREGIONn_ARGS_CONNECT_URL`; 8.9+
    /// `CAMUNDA_DATA_EXPORTERS_CAMUNDAREGIONn_ARGS_CONNECT_URL` (camunda-docs version-8.9
    /// dual-region-ops.md; the legacy name is still honoured with a warning).
    pub fn exporter_url_var(self, region: usize) -> String {
        match self {
            Self::V8_8 => format!("ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION{region}_ARGS_CONNECT_URL"),
            Self::V8_9 | Self::V8_10 => {
                format!("CAMUNDA_DATA_EXPORTERS_CAMUNDAREGION{region}_ARGS_CONNECT_URL")
            }
        }
    }

    /// The initial contact points variable: 8.8 `ZEEBE_BROKER_CLUSTER_INITIALCONTACTPOINTS`;
    /// 8.9+ `CAMUNDA_CLUSTER_INITIALCONTACTPOINTS` (camunda/camunda configuration/ Cluster.java).
    pub fn initial_contact_points_var(self) -> &'static str {
        match self {
            Self::V8_8 => "ZEEBE_BROKER_CLUSTER_INITIALCONTACTPOINTS",
            Self::V8_9 | Self::V8_10 => "CAMUNDA_CLUSTER_INITIALCONTACTPOINTS",
        }
    }

    /// Whether the application honours [`CANONICAL_SCHEMA_VAR`]: 8.10's canonical key
    /// `camunda.data.secondary-storage.elasticsearch.create-schema` wins over the legacy names
    /// when set (camunda/camunda configuration/ UnifiedConfigurationHelper); 8.8 and 8.9 do not
    /// know it (ignored).
    pub fn honours_canonical_schema_var(self) -> bool {
        self == Self::V8_10
    }

    /// Whether the schema manager creates the Camunda indices, given the orchestration env as
    /// (name, value) pairs: 8.10 with the canonical variable set → its value; otherwise the
    /// legacy variable (`"false"` disables it, anything else or unset leaves it on).
    pub fn creates_schema<'a>(self, env: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let env: Vec<(&str, &str)> = env.into_iter().collect();
        let last = |name: &str| env.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let is_false = |v: &str| v.trim().eq_ignore_ascii_case("false");
        if self.honours_canonical_schema_var()
            && let Some(v) = last(CANONICAL_SCHEMA_VAR)
        {
            return !is_false(v);
        }
        !env.iter()
            .any(|(n, v)| *n == LEGACY_SCHEMA_VAR && is_false(v))
    }

    /// `/v2/topology` carries `clusterId` from 8.9 (gateway-protocol v2 `cluster.yaml`).
    pub fn topology_has_cluster_id(self) -> bool {
        self != Self::V8_8
    }

    /// `/v2/topology` brokers carry a string `brokerId` from 8.10 (gateway-protocol v2
    /// `cluster.yaml`): the id as a string, e.g. "3", or `<zone>_<index>` when zone-aware.
    pub fn topology_has_broker_id(self) -> bool {
        self == Self::V8_10
    }

    /// `GET /actuator/cluster/changes/{id}` exists from 8.10 (camunda/camunda#59826,
    /// 8.10.0-alpha5, `ClusterEndpoint.java`); 8.8 and 8.9 have no such route.
    pub fn has_change_query(self) -> bool {
        self == Self::V8_10
    }

    /// The coordinated leader rebalance on the REST port (`POST|GET|DELETE /cluster/v2/rebalance`)
    /// exists from 8.10 (camunda/camunda `zeebe/gateway-protocol/src/main/proto/v2/cluster-admin.yaml`,
    /// every operation `x-added-in-version: "8.10"`); `POST /actuator/rebalance` exists in all.
    pub fn has_coordinated_rebalance(self) -> bool {
        self == Self::V8_10
    }

    /// Zone-aware brokers (string ids `<zone>_<index>`) exist only in 8.10 (chart PR
    /// camunda/camunda-platform-helm#6949).
    pub fn supports_zone_aware(self) -> bool {
        self == Self::V8_10
    }
}

impl fmt::Display for CamundaRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The zone of a region in a zone-aware cluster (`camunda.io/zone` label, `CAMUNDA_CLUSTER_ZONE`,
/// the `<zone>` of `<zone>_<index>` broker ids). Zones are named by the operator (the reference
/// architectures use cloud region names, e.g. `eu-central-1`); the simulator's choice is two
/// names that say nothing about the region index and sort the other way round, so a client that
/// guesses the region from the name or the order is caught.
pub fn zone_name(region: usize) -> String {
    match region {
        0 => "us-east1".to_string(),
        1 => "eu-west1".to_string(),
        r => format!("zone{r}"),
    }
}

/// The region whose zone is `zone`.
pub fn zone_region(zone: &str) -> Option<u32> {
    (0..2u32).find(|r| zone_name(*r as usize) == zone)
}

/// How broker ids appear on the wire: numbers, or zone-aware strings `<zone>_<index>`. The
/// simulator keeps its internal numbering (`nodeId = ordinal * 2 + region`) and maps it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrokerIds {
    #[default]
    Numbered,
    Zoned,
}

impl BrokerIds {
    /// The wire id of internal broker `b`: a JSON number, or `"<zone of region R>_I"` when zoned.
    pub fn json(self, b: u32) -> Value {
        match self {
            Self::Numbered => json!(b),
            Self::Zoned => json!(self.string(b)),
        }
    }

    /// The id as a string (`brokerId` of `/v2/topology`).
    pub fn string(self, b: u32) -> String {
        match self {
            Self::Numbered => b.to_string(),
            Self::Zoned => format!("{}_{}", zone_name((b % 2) as usize), b / 2),
        }
    }

    /// Parse a wire id back to the internal number; `None` when it is not one of this
    /// cluster's id forms.
    pub fn parse(self, v: &Value) -> Option<u32> {
        match (self, v) {
            (Self::Numbered, Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            (Self::Zoned, Value::String(s)) => {
                let (zone, index) = s.rsplit_once('_')?;
                let region = zone_region(zone)?;
                let index = index.parse::<u32>().ok()?;
                index.checked_mul(2)?.checked_add(region)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for r in CamundaRelease::ALL {
            assert_eq!(CamundaRelease::parse(r.as_str()), Ok(r));
        }
        assert!(CamundaRelease::parse("8.7").is_err());
        assert_eq!(CamundaRelease::default(), CamundaRelease::V8_8);
    }

    #[test]
    fn canonical_schema_var_wins_only_on_8_10() {
        let env = [(LEGACY_SCHEMA_VAR, "false"), (CANONICAL_SCHEMA_VAR, "true")];
        assert!(CamundaRelease::V8_10.creates_schema(env));
        assert!(!CamundaRelease::V8_9.creates_schema(env));
        assert!(!CamundaRelease::V8_8.creates_schema(env));
        let canonical_off = [(CANONICAL_SCHEMA_VAR, "false")];
        assert!(!CamundaRelease::V8_10.creates_schema(canonical_off));
        assert!(CamundaRelease::V8_9.creates_schema(canonical_off));
        assert!(CamundaRelease::V8_10.creates_schema([]));
    }

    #[test]
    fn zoned_ids_round_trip() {
        let z = BrokerIds::Zoned;
        assert_eq!(z.json(5), json!("eu-west1_2"));
        assert_eq!(z.parse(&json!("eu-west1_2")), Some(5));
        assert_eq!(z.parse(&json!(5)), None);
        assert_eq!(z.parse(&json!("zone2_0")), None);
        assert_eq!(BrokerIds::Numbered.json(5), json!(5));
        assert_eq!(BrokerIds::Numbered.string(5), "5");
    }
}
