//! One broker's own partitions endpoint: `GET /actuator/partitions` on the broker pod's management
//! port (9600, reached by a port-forward to that pod, not the Service), docs/api-behaviour.md §3.
//!
//! The answer maps each partition the broker hosts to its status (camunda/camunda
//! `zeebe/broker/.../system/management/BrokerAdminServiceEndpoint.java`, `PartitionStatus.java`):
//! `{"1": {"role": "LEADER", "exporterPhase": "EXPORTING"|"PAUSED"|"SOFT_PAUSED",
//! "exportedPosition": …, "processedPosition": …, …}}`. Newer versions group that map by
//! (physical) tenant, `{"default": {"1": {…}}}` or `{"default": [{…}]}`; both are read here.
//! Camunda's own QA (`ExportingEndpointIT`) accepts a missing `exporterPhase` as "no exporter on
//! this replica", and so does c8dr.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{JsonClient, Retry};

pub const SERVICE: &str = "Zeebe broker management API";

/// What one replica reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionStatus {
    /// `partitionId` in documents, as in `topology` and `status`'s cluster.
    #[serde(rename = "partitionId")]
    pub partition: u32,
    pub role: Option<String>,
    /// `EXPORTING`, `PAUSED`, `SOFT_PAUSED`; `None` when the replica reports no exporter.
    pub exporter_phase: Option<String>,
    pub exported_position: Option<i64>,
    pub processed_position: Option<i64>,
}

impl PartitionStatus {
    /// Records processed but not yet exported on this replica (0 when unknown).
    pub fn lag(&self) -> i64 {
        match (self.processed_position, self.exported_position) {
            (Some(p), Some(e)) if p > e => p - e,
            _ => 0,
        }
    }
}

fn status_of(partition: u32, v: &Value) -> PartitionStatus {
    PartitionStatus {
        partition,
        role: v.get("role").and_then(Value::as_str).map(String::from),
        exporter_phase: v
            .get("exporterPhase")
            .and_then(Value::as_str)
            .map(String::from),
        exported_position: v.get("exportedPosition").and_then(Value::as_i64),
        processed_position: v.get("processedPosition").and_then(Value::as_i64),
    }
}

/// Parse a partitions answer, flat or grouped by tenant. Unknown shapes are an error, never an
/// empty (and so "all paused") list.
pub fn parse(body: &Value) -> Result<Vec<PartitionStatus>> {
    let unexpected = || {
        Error::failed(format!(
            "unexpected /actuator/partitions answer from a broker: {}",
            body.to_string().chars().take(200).collect::<String>()
        ))
    };
    let Some(map) = body.as_object() else {
        return Err(unexpected());
    };
    let mut out = vec![];
    for (key, v) in map {
        if let Ok(p) = key.parse::<u32>() {
            if !v.is_object() {
                return Err(unexpected());
            }
            out.push(status_of(p, v));
            continue;
        }
        // Grouped by tenant: an object keyed by partition id, or a list of statuses.
        match v {
            Value::Object(inner) => {
                for (k, s) in inner {
                    let p = k.parse::<u32>().map_err(|_| unexpected())?;
                    out.push(status_of(p, s));
                }
            }
            Value::Array(items) => {
                // Newer versions list a tenant's statuses (e.g. camunda/camunda's own
                // physical-tenant checks read `.default[] | .exporterPhase`); an element without
                // a partition id is numbered by its position, which is enough to judge phases.
                for (i, s) in items.iter().enumerate() {
                    if !s.is_object() {
                        return Err(unexpected());
                    }
                    let p = s
                        .get("partitionId")
                        .or_else(|| s.get("partition"))
                        .or_else(|| s.get("id"))
                        .and_then(Value::as_u64)
                        .unwrap_or(i as u64 + 1);
                    out.push(status_of(p as u32, s));
                }
            }
            _ => return Err(unexpected()),
        }
    }
    out.sort_by_key(|s| s.partition);
    Ok(out)
}

/// `GET /actuator/partitions` of one broker, with a short timeout (a status read, not a wait).
pub async fn read(base: url::Url) -> Result<Vec<PartitionStatus>> {
    let http = JsonClient::new(SERVICE, base, Duration::from_secs(5))?.with_retry(Retry {
        attempts: 2,
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
    });
    let a = http
        .expect_ok(Method::GET, "/actuator/partitions", &[], None)
        .await?;
    parse(&a.body)
}

/// Summary of many replicas' phases: one word for a region or a whole cluster.
pub fn summarize<'a>(phases: impl IntoIterator<Item = &'a PartitionStatus>) -> &'static str {
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for s in phases {
        let word = match s.exporter_phase.as_deref() {
            None => continue,
            Some("EXPORTING") => "exporting",
            Some("PAUSED") => "paused",
            Some("SOFT_PAUSED") => "soft-paused",
            Some(_) => "unknown",
        };
        *seen.entry(word).or_default() += 1;
    }
    match seen.len() {
        0 => "no partitions",
        1 => seen.keys().next().copied().unwrap_or("unknown"),
        _ => "mixed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_and_tenant_grouped_answers_are_read() {
        let flat = json!({"1": {"role": "LEADER", "exporterPhase": "PAUSED", "exportedPosition": 5, "processedPosition": 9},
                          "2": {"role": "FOLLOWER", "exporterPhase": "EXPORTING"}});
        let s = parse(&flat).expect("flat");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].exporter_phase.as_deref(), Some("PAUSED"));
        assert_eq!(s[0].lag(), 4);
        assert_eq!(summarize(&s), "mixed");
        let grouped = json!({"default": {"3": {"role": "LEADER", "exporterPhase": "SOFT_PAUSED"}}});
        let s = parse(&grouped).expect("grouped");
        assert_eq!(s[0].partition, 3);
        assert_eq!(summarize(&s), "soft-paused");
        let listed = json!({"default": [{"partitionId": 4, "exporterPhase": "EXPORTING", "role": "LEADER"}]});
        assert_eq!(parse(&listed).expect("listed")[0].partition, 4);
        let by_tenant = json!({"default": [{"exporterPhase": "PAUSED"}, {"exporterPhase": "PAUSED"}],
                               "tenanta": [{"exporterPhase": "EXPORTING"}]});
        let s = parse(&by_tenant).expect("by tenant");
        assert_eq!(s.len(), 3);
        assert_eq!(summarize(&s), "mixed");
    }

    #[test]
    fn an_unknown_shape_is_not_read_as_no_partitions() {
        assert!(parse(&json!([1, 2])).is_err());
        assert!(parse(&json!({"1": 7})).is_err());
        assert!(parse(&json!("PAUSED")).is_err());
    }
}
