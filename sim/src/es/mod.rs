//! The simulated Elasticsearch of a region (OWNED BY THE ES WORK: issue 4). Stub interface.

pub mod curl;

use serde_json::Value;
use tokio::time::Instant;

use crate::http::SimRequest;
use crate::world::{RegionId, World};

/// One region's Elasticsearch cluster.
#[derive(Debug, Clone, Default)]
pub struct EsCluster {
    /// Index names present.
    pub indices: std::collections::BTreeMap<String, Value>,
}

impl EsCluster {
    /// A cluster that holds the Camunda indices and templates of a running installation.
    pub fn seeded() -> Self {
        Self::default()
    }
    /// A fresh, empty cluster (a recreated region).
    pub fn empty() -> Self {
        Self::default()
    }
    /// What the schema manager does at start-up: create the Camunda indices and templates
    /// (`operate-*`, `tasklist-*`, `camunda-*`). The helm stand-in calls this for a recreated
    /// region whose env does not disable the schema manager.
    pub fn seed_schema(&mut self) {}
}

/// A snapshot repository's content in the shared object store.
#[derive(Debug, Clone, Default)]
pub struct StoredRepository {}

/// Apply due asynchronous work (snapshots, restores) of a region.
pub fn advance(_world: &mut World, _region: RegionId, _now: Instant) {}

/// Serve one Elasticsearch REST request in `region`: (HTTP status, JSON body).
pub fn handle(_world: &mut World, _region: RegionId, _req: &SimRequest) -> (u16, Value) {
    (501, Value::Null)
}
