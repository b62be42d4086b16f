//! The search engine behind the REST API (`GET /`): Elasticsearch or OpenSearch.

use serde::Serialize;
use serde_json::Value;

/// The search engine behind the REST API: Elasticsearch or OpenSearch (issue 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Elasticsearch,
    OpenSearch,
}

/// What `GET /` says the cluster runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub engine: Engine,
    /// `version.number` (empty when not shown).
    pub version: String,
}

impl Distribution {
    /// Elasticsearch 8 restores the snapshot's feature states unless told otherwise; OpenSearch
    /// has none and rejects the `feature_states` key of a restore with a 400 ("Unknown parameter
    /// feature_states", opensearch-project/OpenSearch 2.19 `RestoreSnapshotRequest.source`).
    pub fn has_feature_states(&self) -> bool {
        self.engine == Engine::Elasticsearch
    }

    pub fn describe(&self) -> String {
        let name = match self.engine {
            Engine::Elasticsearch => "Elasticsearch",
            Engine::OpenSearch => "OpenSearch",
        };
        if self.version.is_empty() {
            name.to_string()
        } else {
            format!("{name} {}", self.version)
        }
    }
}

/// The distribution `GET /` describes. OpenSearch writes `version.distribution: "opensearch"`
/// (opensearch-project/OpenSearch `MainResponse.toXContent`); Elasticsearch writes
/// `version.build_flavor` and no `distribution`. Anything else counts as Elasticsearch: the
/// cautious choice, since leaving `feature_states` out on a secured Elasticsearch would restore
/// the snapshot's security index over the target's users, while sending it to an OpenSearch
/// only earns a 400 before anything is restored.
pub fn parse_distribution(main: &Value) -> Distribution {
    let version = main
        .pointer("/version/number")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let engine = match main
        .pointer("/version/distribution")
        .and_then(Value::as_str)
    {
        Some(d) if d.eq_ignore_ascii_case("opensearch") => Engine::OpenSearch,
        _ => Engine::Elasticsearch,
    };
    Distribution { engine, version }
}
