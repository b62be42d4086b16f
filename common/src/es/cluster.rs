//! What a cluster holds, read only: its engine, health, indices (Camunda's among them) and
//! whether they were restored from a snapshot. Shared by restore, copy and `status`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::client::{EsClient, EsOptions};
use super::model::{
    CatIndex, Distribution, Origin, index_origins, is_camunda_index, parse_distribution,
    parse_recovery,
};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// `GET _cat/indices`, parsed.
pub(super) async fn cat_indices(c: &EsClient<'_>) -> Result<Vec<CatIndex>> {
    let v = c.get("_cat/indices?format=json").await?;
    serde_json::from_value(v).map_err(|e| Error::failed(format!("unexpected _cat/indices: {e}")))
}

/// The Camunda indices and their document counts (`None` while not recovered).
pub(super) async fn camunda_docs(c: &EsClient<'_>) -> Result<BTreeMap<String, Option<u64>>> {
    Ok(cat_indices(c)
        .await?
        .into_iter()
        .filter(|i| is_camunda_index(&i.index))
        .map(|i| (i.index, i.docs_count))
        .collect())
}

/// Data nodes of the cluster (`_cluster/health` `number_of_data_nodes`) and its status.
pub(super) async fn health(c: &EsClient<'_>) -> Result<(u64, String)> {
    let health = c.get("_cluster/health").await?;
    let nodes = health
        .get("number_of_data_nodes")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let status = health
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    Ok((nodes, status))
}

/// What the cluster runs, from `GET /` (Elasticsearch or OpenSearch; see
/// [`super::model::parse_distribution`]). An answer that is not a 2xx is an error.
pub async fn detect(t: &dyn EsTransport, opts: &EsOptions) -> Result<Distribution> {
    detect_with(&EsClient::new(t, opts)).await
}

pub(super) async fn detect_with(c: &EsClient<'_>) -> Result<Distribution> {
    let dist = parse_distribution(&c.get("").await?);
    tracing::debug!(engine = %dist.describe(), "search engine");
    Ok(dist)
}

/// One cluster's Elasticsearch state for `status` (reads only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EsStatus {
    /// `green`, `yellow` or `red`.
    pub health: String,
    pub indices: usize,
    /// Camunda indices with their document counts (`None` while not recovered).
    pub camunda_indices: BTreeMap<String, Option<u64>>,
    /// The snapshot every Camunda index was restored from, when they all share one.
    pub restored_from: Option<String>,
    /// A restore is still recovering shards.
    pub restoring: bool,
}

/// Health, Camunda indices and restore state of a cluster (what `status` shows and what phase
/// detection needs: empty / schema-manager indices / restoring / restored).
pub async fn cluster_status(t: &dyn EsTransport, opts: &EsOptions) -> Result<EsStatus> {
    let c = EsClient::new(t, opts);
    let health = c.get("_cluster/health").await?;
    let cat = cat_indices(&c).await?;
    let recs = parse_recovery(&c.get("_recovery").await?);
    let camunda_indices: BTreeMap<String, Option<u64>> = cat
        .iter()
        .filter(|i| is_camunda_index(&i.index))
        .map(|i| (i.index.clone(), i.docs_count))
        .collect();
    let all_origins = index_origins(&cat, &recs);
    let origins: BTreeSet<Option<&str>> = camunda_indices
        .keys()
        .filter_map(|i| all_origins.get(i))
        .filter(|o| **o != Origin::Unassigned)
        .map(|o| match o {
            Origin::Snapshot { snapshot, .. } => Some(snapshot.as_str()),
            _ => None,
        })
        .collect();
    let restored_from = match origins.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(name)] => Some(name.to_string()),
        _ => None,
    };
    // A restore runs while a shard copy of a restored index still recovers (its primaries from
    // the snapshot, then its replicas from them) or waits for its turn.
    let restoring = recs.iter().any(|r| r.kind == "SNAPSHOT" && !r.done())
        || (restored_from.is_some()
            && (recs
                .iter()
                .any(|r| camunda_indices.contains_key(&r.index) && !r.done())
                || all_origins.values().any(|o| *o == Origin::Unassigned)));
    Ok(EsStatus {
        health: health
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        indices: cat.len(),
        camunda_indices,
        restored_from,
        restoring,
    })
}
