//! The Zeebe management API client (port 9600): cluster, changes, exporters, exporting,
//! rebalance.

use reqwest::Method;
use serde_json::{Value, json};

use super::model::{ClusterPatch, ClusterTopology, ExporterStatus, PlannedOperations};
use super::zones::{AddZone, ZoneMap, has_zone_ids};
use crate::error::{Error, Result};
use crate::http::{Answer, JsonClient, Retry};

pub const SERVICE: &str = "Zeebe management API";

/// Whether an error of a routed management call means the gateway could not reach the broker it
/// forwards to (the coordinator): 502 (`NoSuchMemberException`, `ConnectException`) or 504 (its
/// request timeout), per `ClusterApiUtils.mapError` (docs/api-behaviour.md §1 "Routing").
pub fn coordinator_unreachable(e: &Error) -> bool {
    matches!(e, Error::Api { service, status: 502 | 504, .. } if *service == SERVICE)
}

#[derive(Debug, Clone)]
pub struct ManagementClient {
    http: JsonClient,
    /// Zone-aware brokers: which region runs which zone (ids are translated at the wire).
    zones: Option<ZoneMap>,
}

/// Read a document, zone ids first rewritten to c8dr's broker numbers ([`ZoneMap`]).
pub(super) fn decode_with<T: serde::de::DeserializeOwned>(
    zones: Option<&ZoneMap>,
    what: &str,
    mut body: Value,
) -> Result<T> {
    match zones {
        Some(map) => map.normalise(&mut body)?,
        None if has_zone_ids(&body) => {
            return Err(Error::refused(format!(
                "the {what} names zone-aware brokers (<zone>_<n>), but which region runs which zone \
                 could not be read here: the orchestration pods carry no camunda.io/zone label, or \
                 the region is unknown (set REGION_SURVIVING or pass --region)"
            )));
        }
        None => {}
    }
    serde_json::from_value(body)
        .map_err(|e| Error::failed(format!("unexpected {what} response from the gateway: {e}")))
}

fn flags(dry_run: bool, force: bool) -> Vec<(&'static str, String)> {
    let mut q = vec![];
    if dry_run {
        q.push(("dryRun", "true".to_string()));
    }
    if force {
        q.push(("force", "true".to_string()));
    }
    q
}

/// Judge an exporting pause/resume answer (docs/api-behaviour.md §3): HTTP 200 wraps the real result as
/// `{"body":…,"status":N}`; a genuine 204 with no body is success too.
pub fn exporting_result(answer: &Answer) -> Result<()> {
    if answer.status == 204 {
        return Ok(());
    }
    if answer.status != 200 {
        return Err(Error::Api {
            service: SERVICE,
            status: answer.status,
            message: answer.message(),
        });
    }
    match answer.body.get("status").and_then(Value::as_u64) {
        Some(s) if (200..300).contains(&s) => Ok(()),
        Some(s) => {
            let message = answer
                .body
                .pointer("/body/message")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| {
                    answer
                        .body
                        .get("body")
                        .map(Value::to_string)
                        .unwrap_or_default()
                });
            Err(Error::Api {
                service: SERVICE,
                status: s as u16,
                message,
            })
        }
        // A 200 with a body we do not understand is not evidence of success.
        None => Err(Error::failed(format!(
            "unexpected exporting response: {}",
            answer.body
        ))),
    }
}

impl ManagementClient {
    pub fn new(http: JsonClient) -> Self {
        Self { http, zones: None }
    }

    /// The client of a zone-aware cluster.
    pub fn with_zones(mut self, zones: Option<ZoneMap>) -> Self {
        self.zones = zones;
        self
    }

    /// Which region runs which zone (`None`: numbered brokers, or not read).
    pub fn zones(&self) -> Option<&ZoneMap> {
        self.zones.as_ref()
    }

    /// Brokers as the user knows them: `[1, 3]`, or `us-east1_0, us-east1_1` when zone-aware.
    pub fn names(&self, brokers: &[u32]) -> String {
        match &self.zones {
            Some(map) => map.labels(brokers),
            None => format!("{brokers:?}"),
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, what: &str, body: Value) -> Result<T> {
        decode_with(self.zones.as_ref(), what, body)
    }

    /// `DELETE /actuator/cluster/zones/{zone}?force=true[&dryRun=true]`: the forced removal of
    /// a lost zone's brokers, which also drops the zone from the cluster's layout. `force` is
    /// always sent: from 8.10.0-rc1 the default is a drain that needs the zone's brokers
    /// running (camunda/camunda#63246); before it the removal was always forced.
    pub async fn remove_zone(&self, zone: &str, dry_run: bool) -> Result<PlannedOperations> {
        let a = self
            .http
            .expect_ok(
                Method::DELETE,
                &format!("/actuator/cluster/zones/{zone}"),
                &flags(dry_run, true),
                None,
            )
            .await?;
        self.decode("zone removal", a.body)
    }

    /// `POST /actuator/cluster/zones/{zone}`: re-add a zone a forced removal dropped.
    pub async fn add_zone(
        &self,
        zone: &str,
        body: &AddZone,
        dry_run: bool,
    ) -> Result<PlannedOperations> {
        let body = serde_json::to_value(body).map_err(|e| Error::failed(e.to_string()))?;
        let a = self
            .http
            .expect_ok(
                Method::POST,
                &format!("/actuator/cluster/zones/{zone}"),
                &flags(dry_run, false),
                Some(&body),
            )
            .await?;
        self.decode("zone re-add", a.body)
    }

    pub fn base_url(&self) -> &url::Url {
        self.http.base()
    }

    pub async fn cluster(&self) -> Result<ClusterTopology> {
        let a = self
            .http
            .expect_ok(Method::GET, "/actuator/cluster", &[], None)
            .await?;
        self.decode("cluster", a.body)
    }

    /// `GET /actuator/cluster` with at most one retry: for loops that poll anyway and fall back
    /// to `/v2/topology` when the coordinator cannot answer (a dead coordinator costs the
    /// gateway's 10 s timeout per attempt).
    ///
    /// Only the gateway's 502/504 (the coordinator) are cut short: a transport failure (a
    /// dropped port-forward, a refused connection) costs nothing to retry and gets the full
    /// retries of a read, each over a fresh connection (docs/contract.md §4 rule 7).
    pub async fn cluster_quick(&self) -> Result<ClusterTopology> {
        let http = self.http.clone().with_retry(Retry {
            attempts: 2,
            ..Retry::default()
        });
        match http
            .expect_ok(Method::GET, "/actuator/cluster", &[], None)
            .await
        {
            Ok(a) => self.decode("cluster", a.body),
            Err(e @ Error::Unreachable { .. }) => {
                tracing::debug!(error = %e, "cluster read failed in transport; retrying");
                self.cluster().await
            }
            Err(e) => Err(e),
        }
    }

    pub async fn patch_cluster(
        &self,
        patch: &ClusterPatch,
        dry_run: bool,
        force: bool,
    ) -> Result<PlannedOperations> {
        let body = serde_json::to_value(patch).map_err(|e| Error::failed(e.to_string()))?;
        let a = self
            .http
            .expect_ok(
                Method::PATCH,
                "/actuator/cluster",
                &flags(dry_run, force),
                Some(&body),
            )
            .await?;
        self.decode("cluster change", a.body)
    }

    pub async fn cancel_change(&self, id: i64) -> Result<()> {
        self.http
            .expect_ok(
                Method::DELETE,
                &format!("/actuator/cluster/changes/{id}"),
                &[],
                None,
            )
            .await
            .map(|_| ())
    }

    pub async fn exporters(&self) -> Result<Vec<ExporterStatus>> {
        let a = self
            .http
            .expect_ok(Method::GET, "/actuator/exporters", &[], None)
            .await?;
        self.decode("exporters", a.body)
    }

    pub async fn exporter_disable(&self, id: &str) -> Result<PlannedOperations> {
        let a = self
            .http
            .expect_ok(
                Method::POST,
                &format!("/actuator/exporters/{id}/disable"),
                &[],
                None,
            )
            .await?;
        self.decode("exporter change", a.body)
    }

    pub async fn exporter_enable(
        &self,
        id: &str,
        initialize_from: Option<&str>,
    ) -> Result<PlannedOperations> {
        let body = initialize_from.map(|f| json!({ "initializeFrom": f }));
        let a = self
            .http
            .expect_ok(
                Method::POST,
                &format!("/actuator/exporters/{id}/enable"),
                &[],
                body.as_ref(),
            )
            .await?;
        self.decode("exporter change", a.body)
    }

    pub async fn exporting_pause(&self, soft: bool) -> Result<()> {
        let q = if soft {
            vec![("soft", "true".to_string())]
        } else {
            vec![]
        };
        let a = self
            .http
            .send(Method::POST, "/actuator/exporting/pause", &q, None)
            .await?;
        exporting_result(&a)
    }

    pub async fn exporting_resume(&self) -> Result<()> {
        let a = self
            .http
            .send(Method::POST, "/actuator/exporting/resume", &[], None)
            .await?;
        exporting_result(&a)
    }

    /// `POST /actuator/rebalance`: the gateway asks every partition's primary to take over
    /// leadership (camunda/camunda `dist/.../shared/management/RebalancingEndpoint.java`: HTTP 200,
    /// no body, no feedback; the leaders move afterwards, asynchronously). Sent once.
    pub async fn rebalance(&self) -> Result<()> {
        let a = self
            .http
            .send(Method::POST, "/actuator/rebalance", &[], None)
            .await?;
        if a.is_success() {
            Ok(())
        } else {
            Err(Error::Api {
                service: SERVICE,
                status: a.status,
                message: a.message(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: Value) -> Answer {
        Answer { status, body }
    }

    #[test]
    fn a_pause_that_says_500_in_its_body_is_a_failure() {
        let failed = answer(
            200,
            json!({"body": {"message": "Expected 3 members of partition 1 but found 2"}, "status": 500, "contentType": null}),
        );
        let err = exporting_result(&failed)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("Expected 3 members of partition 1 but found 2"),
            "{err}"
        );
    }

    #[test]
    fn wrapped_204_and_genuine_204_are_success() {
        assert!(
            exporting_result(&answer(
                200,
                json!({"body": null, "status": 204, "contentType": null})
            ))
            .is_ok()
        );
        assert!(exporting_result(&answer(204, Value::Null)).is_ok());
    }

    #[test]
    fn an_unexplained_200_is_not_taken_as_success() {
        assert!(exporting_result(&answer(200, json!({"hello": 1}))).is_err());
        assert!(exporting_result(&answer(500, json!({"message": "boom"}))).is_err());
    }
}
