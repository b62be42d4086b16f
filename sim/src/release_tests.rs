//! What a client observes of each simulated Camunda release (`SimConfig::camunda`): the objects
//! the Kubernetes API serves, the gateway's answers, Elasticsearch's authentication. The facts
//! and their sources are in [`crate::release`].

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::http::SimRequest;
use crate::kube_api::objects;
use crate::release::{CANONICAL_SCHEMA_VAR, CamundaRelease, LEGACY_SCHEMA_VAR, SecondaryStorage};
use crate::world::{SharedWorld, SimConfig, World};
use crate::zeebe::http::{GatewayPort, handle};

fn cfg(camunda: CamundaRelease) -> SimConfig {
    SimConfig {
        camunda,
        operation_duration: Duration::ZERO,
        exporter_status_lag: Duration::ZERO,
        ..SimConfig::default()
    }
}

fn world(camunda: CamundaRelease) -> World {
    World::healthy(cfg(camunda))
}

fn req(method: &str, path: &str, body: Option<Value>) -> SimRequest {
    SimRequest {
        method: method.into(),
        path: path.into(),
        query: vec![],
        headers: Default::default(),
        body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
    }
}

/// One gateway request: (status, JSON body).
async fn gateway(w: &SharedWorld, port: GatewayPort, r: SimRequest) -> (u16, Value) {
    let mut r = r;
    if port == GatewayPort::Rest {
        let basic = base64::engine::general_purpose::STANDARD.encode("demo:demo");
        r.headers
            .insert("authorization".into(), format!("Basic {basic}"));
    }
    let resp = handle(w, 0, port, &r).await;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn names(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|o| o["metadata"]["name"].as_str().map(String::from))
        .collect()
}

#[test]
fn the_configmap_name_profiles_and_secondary_storage_follow_the_release() {
    let cases = [
        (
            CamundaRelease::V8_8,
            "camunda-zeebe-configuration-unified",
            "broker,identity,operate,tasklist,consolidated-auth",
            "camunda-platform-13.12.7",
        ),
        (
            CamundaRelease::V8_9,
            "camunda-zeebe-configuration",
            "admin,broker,operate,tasklist,consolidated-auth",
            "camunda-platform-14.8.4",
        ),
        (
            CamundaRelease::V8_10,
            "camunda-zeebe-configuration",
            "admin,broker,operate,tasklist,consolidated-auth",
            "camunda-platform-15.0.0-alpha4",
        ),
    ];
    for (release, cm_name, active, chart) in cases {
        let w = world(release);
        let cm = objects::get(&w, 0, "configmaps", cm_name)
            .unwrap_or_else(|| panic!("{release}: no ConfigMap {cm_name}"));
        let yaml = cm["data"]["application.yaml"].as_str().unwrap_or_default();
        assert!(
            yaml.contains(&format!("active: \"{active}\"")),
            "{release}: {yaml}"
        );
        assert!(yaml.contains("type: elasticsearch"), "{release}: {yaml}");
        assert_eq!(cm["metadata"]["labels"]["helm.sh/chart"], chart);
        let gateway = objects::get(&w, 0, "services", "camunda-zeebe-gateway").expect("gateway");
        assert_eq!(gateway["metadata"]["labels"]["helm.sh/chart"], chart);
        assert_eq!(
            gateway["metadata"]["labels"]["app.kubernetes.io/instance"],
            "camunda"
        );
        let broker = objects::get(&w, 0, "pods", "camunda-zeebe-0").expect("broker pod");
        assert_eq!(broker["metadata"]["labels"]["helm.sh/chart"], chart);
        assert_eq!(
            broker["metadata"]["labels"]["app.kubernetes.io/component"],
            "zeebe-broker"
        );
        assert_eq!(broker["spec"]["containers"][0]["name"], "orchestration");
        // The other release's ConfigMap name does not exist.
        let other = if release == CamundaRelease::V8_8 {
            "camunda-zeebe-configuration"
        } else {
            "camunda-zeebe-configuration-unified"
        };
        assert!(objects::get(&w, 0, "configmaps", other).is_none());
    }
    let w = World::healthy(SimConfig {
        secondary_storage: SecondaryStorage::Rdbms,
        ..cfg(CamundaRelease::V8_9)
    });
    let yaml = objects::application_yaml(&w, 0);
    assert!(
        yaml.contains("secondary-storage:\n      type: rdbms"),
        "{yaml}"
    );
}

#[test]
fn the_pods_env_names_follow_the_release() {
    let env_names = |release| -> Vec<String> {
        let w = world(release);
        let pod = objects::get(&w, 1, "pods", "camunda-zeebe-0").expect("broker pod");
        pod["spec"]["containers"][0]["env"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|v| v["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        env_names(CamundaRelease::V8_8),
        [
            "ZEEBE_BROKER_CLUSTER_INITIALCONTACTPOINTS",
            "ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION0_ARGS_CONNECT_URL",
            "ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION1_ARGS_CONNECT_URL",
        ]
    );
    for release in [CamundaRelease::V8_9, CamundaRelease::V8_10] {
        assert_eq!(
            env_names(release),
            [
                "CAMUNDA_CLUSTER_INITIALCONTACTPOINTS",
                "CAMUNDA_DATA_EXPORTERS_CAMUNDAREGION0_ARGS_CONNECT_URL",
                "CAMUNDA_DATA_EXPORTERS_CAMUNDAREGION1_ARGS_CONNECT_URL",
            ]
        );
    }
}

#[test]
fn elasticsearch_is_bitnami_on_8_8_and_eck_with_auth_on_8_9_and_8_10() {
    let w = world(CamundaRelease::V8_8);
    let pods = objects::pods(&w, 0);
    assert_eq!(
        names(&pods).last().map(String::as_str),
        Some("camunda-elasticsearch-master-0")
    );
    assert!(objects::secrets(&w, 0).is_empty(), "8.8: security opt-in");
    let (status, _) =
        crate::es::handle(&mut world(CamundaRelease::V8_8), 0, &req("GET", "/", None));
    assert_eq!(status, 200, "8.8: no auth by default");

    for release in [CamundaRelease::V8_9, CamundaRelease::V8_10] {
        let mut w = world(release);
        let es = objects::get(&w, 0, "pods", "elasticsearch-es-masters-0")
            .unwrap_or_else(|| panic!("{release}: no ECK pod"));
        let labels = &es["metadata"]["labels"];
        assert_eq!(
            labels["elasticsearch.k8s.elastic.co/cluster-name"],
            "elasticsearch"
        );
        assert_eq!(labels["common.k8s.elastic.co/type"], "elasticsearch");
        assert_eq!(labels["elasticsearch.k8s.elastic.co/node-master"], "true");
        assert_eq!(es["spec"]["containers"][0]["name"], "elasticsearch");
        assert!(objects::get(&w, 0, "pods", "camunda-elasticsearch-master-0").is_none());
        let services = names(&objects::services(&w, 0));
        assert!(
            services.contains(&"elasticsearch-es-http".to_string()),
            "{services:?}"
        );
        assert!(
            services.contains(&"elasticsearch-es-masters".to_string()),
            "{services:?}"
        );
        assert!(!services.contains(&"camunda-elasticsearch".to_string()));
        let secret = objects::get(&w, 0, "secrets", "elasticsearch-es-elastic-user")
            .unwrap_or_else(|| panic!("{release}: no ECK Secret"));
        let password = secret["data"]["elastic"].as_str().unwrap_or_default();
        let password = base64::engine::general_purpose::STANDARD
            .decode(password)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        assert_eq!(password, w.cfg.es_password);
        // Elasticsearch names its nodes after the ECK pods and the cluster after the CR.
        let mut authed_root = req("GET", "/", None);
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("elastic:{}", w.cfg.es_password));
        authed_root
            .headers
            .insert("authorization".into(), format!("Basic {basic}"));
        let (_, root) = crate::es::handle(&mut w, 0, &authed_root);
        assert_eq!(root["name"], "elasticsearch-es-masters-0");
        assert_eq!(root["cluster_name"], "elasticsearch");
        // Basic auth required (ECK security), plain http.
        let (status, _) = crate::es::handle(&mut w, 0, &req("GET", "/", None));
        assert_eq!(status, 401, "{release}");
        let mut authed = req("GET", "/", None);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("elastic:{password}"));
        authed
            .headers
            .insert("authorization".into(), format!("Basic {basic}"));
        assert_eq!(crate::es::handle(&mut w, 0, &authed).0, 200, "{release}");
    }
}

#[test]
fn the_canonical_schema_key_wins_on_8_10_only() {
    let values = json!({"orchestration": {"env": [
        {"name": LEGACY_SCHEMA_VAR, "value": "false"},
        {"name": CANONICAL_SCHEMA_VAR, "value": "true"},
    ]}});
    for (release, seeded) in [
        (CamundaRelease::V8_8, false),
        (CamundaRelease::V8_9, false),
        (CamundaRelease::V8_10, true),
    ] {
        let mut w = world(release);
        w.lose_region(1);
        w.recreate_region(1);
        assert!(w.regions[1].es.indices.is_empty());
        crate::helm::apply_release(&mut w, 1, values.clone());
        assert_eq!(w.regions[1].schema_manager_disabled, !seeded, "{release}");
        assert_eq!(!w.regions[1].es.indices.is_empty(), seeded, "{release}");
    }
}

#[tokio::test]
async fn topology_versions_cluster_id_and_broker_id_follow_the_release() {
    for (release, version) in [
        (CamundaRelease::V8_8, "8.8.9"),
        (CamundaRelease::V8_9, "8.9.4"),
        (CamundaRelease::V8_10, "8.10.1"),
    ] {
        let w = SharedWorld::new(world(release));
        let (status, topo) = gateway(&w, GatewayPort::Rest, req("GET", "/v2/topology", None)).await;
        assert_eq!(status, 200);
        assert_eq!(topo["gatewayVersion"], version);
        let brokers = topo["brokers"].as_array().cloned().unwrap_or_default();
        assert_eq!(brokers.len(), 8);
        assert!(brokers.iter().all(|b| b["version"] == version));
        assert_eq!(
            topo.get("clusterId").is_some(),
            release != CamundaRelease::V8_8
        );
        let b3 = brokers.iter().find(|b| b["nodeId"] == 3).expect("broker 3");
        if release == CamundaRelease::V8_10 {
            assert_eq!(b3["brokerId"], "3");
        } else {
            assert!(b3.get("brokerId").is_none(), "{release}");
        }
        // GET /actuator/cluster: numeric ids.
        let (_, cluster) = gateway(
            &w,
            GatewayPort::Management,
            req("GET", "/actuator/cluster", None),
        )
        .await;
        assert_eq!(cluster["brokers"][0]["id"], 0);
    }
}

#[tokio::test]
async fn zone_aware_brokers_have_string_ids_zone_labels_and_zone_pod_names() {
    let w = SharedWorld::new(World::healthy(SimConfig {
        zone_aware: true,
        ..cfg(CamundaRelease::V8_10)
    }));
    {
        let world = w.lock();
        let pods = objects::pods(&world, 1);
        let pod = pods
            .iter()
            .find(|p| p["metadata"]["name"] == "camunda-zeebe-eu-west1-2")
            .unwrap_or_else(|| panic!("no zone pod in {:?}", names(&pods)));
        assert_eq!(pod["metadata"]["labels"]["camunda.io/zone"], "eu-west1");
        assert_eq!(
            pod["metadata"]["labels"]["camunda.io/broker-generation"],
            "zoned"
        );
    }
    let (_, cluster) = gateway(
        &w,
        GatewayPort::Management,
        req("GET", "/actuator/cluster", None),
    )
    .await;
    let ids: Vec<Value> = cluster["brokers"]
        .as_array()
        .map(|b| b.iter().map(|b| b["id"].clone()).collect())
        .unwrap_or_default();
    assert!(ids.iter().all(Value::is_string), "{ids:?}");
    assert!(ids.contains(&json!("eu-west1_2")));
    let (_, topo) = gateway(&w, GatewayPort::Rest, req("GET", "/v2/topology", None)).await;
    let b5 = topo["brokers"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["nodeId"] == 5).cloned())
        .expect("broker 5");
    assert_eq!(b5["brokerId"], "eu-west1_2");
    // A management request names brokers by their string ids.
    let (status, plan) = gateway(
        &w,
        GatewayPort::Management,
        SimRequest {
            query: vec![("dryRun".into(), "true".into())],
            ..req(
                "PATCH",
                "/actuator/cluster",
                Some(json!({"brokers": {"remove": ["eu-west1_3"]}})),
            )
        },
    )
    .await;
    assert_eq!(status, 202, "{plan}");
    let planned = plan["plannedChanges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        planned.iter().any(|o| o["brokerId"] == "eu-west1_3"),
        "{plan}"
    );
    // Zone-aware is an 8.10 feature: on 8.9 the option has no effect.
    let w = World::healthy(SimConfig {
        zone_aware: true,
        ..cfg(CamundaRelease::V8_9)
    });
    assert!(objects::get(&w, 0, "pods", "camunda-zeebe-0").is_some());
}

#[tokio::test]
async fn the_change_query_exists_on_8_10_and_not_on_8_8() {
    let w = SharedWorld::new(world(CamundaRelease::V8_10));
    let (status, started) = gateway(
        &w,
        GatewayPort::Management,
        req("POST", "/actuator/exporters/camundaregion1/disable", None),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let id = started["changeId"].as_i64().expect("changeId");
    let (status, change) = gateway(
        &w,
        GatewayPort::Management,
        req("GET", &format!("/actuator/cluster/changes/{id}"), None),
    )
    .await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["id"], id);
    assert_eq!(change["status"], "COMPLETED");
    assert!(change["completedAt"].is_string());
    assert!(!change["completed"].as_array().is_none_or(Vec::is_empty));
    let (status, _) = gateway(
        &w,
        GatewayPort::Management,
        req("GET", "/actuator/cluster/changes/999", None),
    )
    .await;
    assert_eq!(status, 404);

    for release in [CamundaRelease::V8_8, CamundaRelease::V8_9] {
        let w = SharedWorld::new(world(release));
        let (_, started) = gateway(
            &w,
            GatewayPort::Management,
            req("POST", "/actuator/exporters/camundaregion1/disable", None),
        )
        .await;
        let id = started["changeId"].as_i64().expect("changeId");
        let (status, _) = gateway(
            &w,
            GatewayPort::Management,
            req("GET", &format!("/actuator/cluster/changes/{id}"), None),
        )
        .await;
        assert_eq!(status, 404, "{release}: no such route");
    }
}

#[tokio::test]
async fn the_zones_api_removes_and_adds_a_zones_brokers() {
    let w = SharedWorld::new(World::healthy(SimConfig {
        zone_aware: true,
        ..cfg(CamundaRelease::V8_10)
    }));
    w.lock().lose_region(1);
    let (status, plan) = gateway(
        &w,
        GatewayPort::Management,
        SimRequest {
            query: vec![("force".into(), "true".into())],
            ..req("DELETE", "/actuator/cluster/zones/eu-west1", None)
        },
    )
    .await;
    assert_eq!(status, 202, "{plan}");
    assert!(plan["changeId"].is_i64());
    let (_, cluster) = gateway(
        &w,
        GatewayPort::Management,
        req("GET", "/actuator/cluster", None),
    )
    .await;
    let ids: Vec<Value> = cluster["brokers"]
        .as_array()
        .map(|b| b.iter().map(|b| b["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        ids,
        [
            json!("us-east1_0"),
            json!("us-east1_1"),
            json!("us-east1_2"),
            json!("us-east1_3")
        ]
    );
    let rf = w.lock().zeebe.replication_factor();
    assert_eq!(rf, 2, "the surviving replicas");
    // The zone left the persisted layout with its brokers; removing it again names it unknown.
    assert_eq!(
        cluster["partitioning"],
        json!({"scheme": "ZONE_AWARE", "zones": [{"name": "us-east1", "numberOfReplicas": 2, "priority": 100}]})
    );
    let (status, body) = gateway(
        &w,
        GatewayPort::Management,
        SimRequest {
            query: vec![("force".into(), "true".into())],
            ..req("DELETE", "/actuator/cluster/zones/eu-west1", None)
        },
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("unknown zone 'eu-west1'"),
        "{body}"
    );
    // The replication factor follows the zones: PATCH may not change it.
    let (status, body) = gateway(
        &w,
        GatewayPort::Management,
        req(
            "PATCH",
            "/actuator/cluster",
            Some(json!({"partitions": {"replicationFactor": 4}})),
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("not supported on zone-aware"),
        "{body}"
    );
    {
        let mut guard = w.lock();
        guard.recreate_region(1);
        crate::helm::apply_release(&mut guard, 1, json!({}));
    }
    let (status, plan) = gateway(
        &w,
        GatewayPort::Management,
        req(
            "POST",
            "/actuator/cluster/zones/eu-west1",
            Some(json!({"numberOfReplicas": 2, "priority": 1, "numberOfBrokers": 4})),
        ),
    )
    .await;
    assert_eq!(status, 202, "{plan}");
    let guard = w.lock();
    assert_eq!(guard.zeebe.members.len(), 8);
    assert_eq!(guard.zeebe.replication_factor(), 4);
    drop(guard);
    // Back in the layout: adding it again is refused, not repeated.
    let (status, body) = gateway(
        &w,
        GatewayPort::Management,
        req(
            "POST",
            "/actuator/cluster/zones/eu-west1",
            Some(json!({"numberOfReplicas": 2, "priority": 1, "brokers": ["eu-west1_0", "eu-west1_1"]})),
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("already present"), "{body}");
    let (status, _) = gateway(
        &w,
        GatewayPort::Management,
        req("DELETE", "/actuator/cluster/zones/zone7", None),
    )
    .await;
    assert_eq!(status, 400);
    // A numbered 8.10 cluster has no zones route.
    let w = SharedWorld::new(world(CamundaRelease::V8_10));
    let (status, _) = gateway(
        &w,
        GatewayPort::Management,
        req("DELETE", "/actuator/cluster/zones/eu-west1", None),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_disabled_physical_tenant_blocks_every_removal_until_it_is_discarded() {
    let w = SharedWorld::new(World::healthy(SimConfig {
        disabled_tenant: Some("tenanta".into()),
        ..cfg(CamundaRelease::V8_10)
    }));
    let (_, cluster) = gateway(
        &w,
        GatewayPort::Management,
        req("GET", "/actuator/cluster", None),
    )
    .await;
    assert_eq!(
        cluster["physicalTenants"][1],
        json!({"id": "tenanta", "disabled": true})
    );
    assert!(
        cluster.get("lastChange").is_none() && cluster.get("version").is_none(),
        "{cluster}"
    );
    w.lock().lose_region(1);
    let force = |r: SimRequest| SimRequest {
        query: vec![("force".into(), "true".into())],
        ..r
    };
    let (status, body) = gateway(
        &w,
        GatewayPort::Management,
        force(req(
            "PATCH",
            "/actuator/cluster",
            Some(json!({"brokers": {"remove": [1, 3, 5, 7]}})),
        )),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("still has partitions assigned"),
        "{body}"
    );
    let (status, _) = gateway(
        &w,
        GatewayPort::Management,
        force(req(
            "DELETE",
            "/actuator/cluster/physical-tenants/tenanta",
            None,
        )),
    )
    .await;
    assert_eq!(status, 202);
    let (status, body) = gateway(
        &w,
        GatewayPort::Management,
        force(req(
            "PATCH",
            "/actuator/cluster",
            Some(json!({"brokers": {"remove": [1, 3, 5, 7]}})),
        )),
    )
    .await;
    assert_eq!(status, 202, "{body}");
}
