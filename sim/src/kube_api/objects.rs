//! Pods, Services, ConfigMaps and Secrets derived from the world (no StatefulSets are served),
//! with the names, labels and ports of the simulated release's chart and its Elasticsearch (the
//! 8.8 bitnami subchart, or ECK for 8.9+: notes on Camunda sources, sections 2.2 and 2.4, and
//! [`crate::release`] for what differs per release). A region without a running release has no
//! pods.

use std::time::{Duration, SystemTime};

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::release::zone_name;
use crate::world::{RegionId, SimConfig, World};

/// The broker/gateway container.
pub const ORCHESTRATION_CONTAINER: &str = "orchestration";
/// The Elasticsearch container.
pub const ELASTICSEARCH_CONTAINER: &str = "elasticsearch";

/// `orchestration.fullname`: `R-zeebe`, or `R` when the release name contains "zeebe".
pub fn orchestration_fullname(release: &str) -> String {
    if release.contains("zeebe") {
        release.to_string()
    } else {
        format!("{release}-zeebe")
    }
}

/// The broker StatefulSet of a region: `<fullname>`, or `<fullname>-<zone>` for zone-aware
/// brokers (one StatefulSet per zone, camunda/camunda-platform-helm#6949).
pub fn broker_statefulset_name(cfg: &SimConfig, region: RegionId) -> String {
    let full = orchestration_fullname(&cfg.release);
    match cfg.broker_ids() {
        crate::release::BrokerIds::Numbered => full,
        crate::release::BrokerIds::Zoned => format!("{full}-{}", zone_name(region)),
    }
}

/// The broker pod of a region's ordinal.
pub fn broker_pod_name(cfg: &SimConfig, region: RegionId, ordinal: u32) -> String {
    format!("{}-{ordinal}", broker_statefulset_name(cfg, region))
}

/// The Elasticsearch master pod (one per region in the simulator).
pub fn es_pod_name(cfg: &SimConfig) -> String {
    cfg.camunda.es_pod_name(&cfg.release, 0)
}

/// The gateway Service.
pub fn gateway_service_name(release: &str) -> String {
    format!("{}-gateway", orchestration_fullname(release))
}

/// The orchestration configuration ConfigMap (`-configuration-unified` in 8.8,
/// `-configuration` from 8.9: [`crate::release::CamundaRelease::configmap_name`]).
pub fn configmap_name(cfg: &SimConfig) -> String {
    cfg.camunda
        .configmap_name(&orchestration_fullname(&cfg.release))
}

/// The chart's common labels on an object it renders: `helm.sh/chart`
/// (templates/common/_helpers.tpl `camundaPlatform.labels`) over the broker match labels.
pub fn chart_labels(cfg: &SimConfig) -> Value {
    let mut labels = broker_labels(&cfg.release);
    labels["helm.sh/chart"] = json!(cfg.camunda.chart_label());
    labels
}

/// The broker match labels, which are also the gateway Service's selector.
pub fn broker_labels(release: &str) -> Value {
    json!({
        "app": "camunda-platform",
        "app.kubernetes.io/name": "camunda-platform",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "camunda-platform",
        "app.kubernetes.io/component": "zeebe-broker",
    })
}

/// The Elasticsearch master match labels (bitnami subchart or ECK, per release).
pub fn es_labels(cfg: &SimConfig) -> Value {
    cfg.camunda.es_labels(&cfg.release)
}

/// RFC 3339 (UTC, seconds) of a system time; kubectl computes AGE from it.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// When the region's objects were created (an hour before the simulator started), RFC 3339.
pub fn created(world: &World) -> String {
    let age = world.started.elapsed();
    rfc3339(SystemTime::now() - age - Duration::from_secs(3600))
}

fn metadata(world: &World, region: RegionId, name: &str, labels: Value) -> Value {
    json!({
        "name": name,
        "namespace": world.regions[region].namespace,
        "uid": format!("c8dr-sim-{region}-{name}"),
        "resourceVersion": "1",
        "creationTimestamp": created(world),
        "labels": labels,
    })
}

fn port(name: &str, number: u16) -> Value {
    json!({"name": name, "containerPort": number, "protocol": "TCP"})
}

fn pod(
    world: &World,
    region: RegionId,
    name: &str,
    labels: Value,
    container: (&str, &str, Vec<Value>),
    ready: bool,
    ip: String,
) -> Value {
    let (cname, image, ports) = container;
    let since = created(world);
    let flag = if ready { "True" } else { "False" };
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata(world, region, name, labels),
        "spec": {
            "nodeName": format!("region{region}-node-1"),
            "containers": [{"name": cname, "image": image, "ports": ports}],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "startTime": since,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": since},
                {"type": "Initialized", "status": "True", "lastTransitionTime": since},
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": since},
                {"type": "Ready", "status": flag, "lastTransitionTime": since},
            ],
            "containerStatuses": [{
                "name": cname,
                "image": image,
                "imageID": "",
                "ready": ready,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": since}},
            }],
        },
    })
}

/// Every pod of a region (broker pods by ordinal, then Elasticsearch).
pub fn pods(world: &World, region: RegionId) -> Vec<Value> {
    let r = &world.regions[region];
    if !r.running() {
        return vec![];
    }
    let cfg = &world.cfg;
    let version = cfg.camunda.camunda_version();
    let image = format!("camunda/camunda:{version}");
    let mut pods: Vec<Value> = world
        .broker_ids_of_region(region)
        .into_iter()
        .map(|id| {
            let ordinal = id / 2;
            let name = broker_pod_name(cfg, region, ordinal);
            let mut labels = chart_labels(cfg);
            labels["statefulset.kubernetes.io/pod-name"] = json!(name);
            labels["app.kubernetes.io/version"] = json!(version);
            if cfg.broker_ids() == crate::release::BrokerIds::Zoned {
                // Zone-aware brokers (camunda/camunda-platform-helm#6949).
                labels["camunda.io/zone"] = json!(zone_name(region));
                labels["camunda.io/broker-generation"] = json!("zoned");
            }
            pod(
                world,
                region,
                &name,
                labels,
                (
                    ORCHESTRATION_CONTAINER,
                    &image,
                    vec![
                        port("http", 8080),
                        port("server", 9600),
                        port("grpc", 26500),
                        port("command", 26501),
                        port("internal", 26502),
                    ],
                ),
                world.broker_ready(id),
                format!("10.{region}.0.{}", 10 + ordinal),
            )
        })
        .map(|mut pod| {
            pod["spec"]["containers"][0]["env"] = orchestration_env(world, region);
            pod
        })
        .collect();
    let mut es_pod_labels = es_labels(cfg);
    if cfg.camunda.search_deployment() == crate::release::SearchDeployment::Eck {
        es_pod_labels["statefulset.kubernetes.io/pod-name"] = json!(es_pod_name(cfg));
    }
    pods.push(pod(
        world,
        region,
        &es_pod_name(cfg),
        es_pod_labels,
        (
            ELASTICSEARCH_CONTAINER,
            cfg.camunda.es_image(),
            cfg.camunda
                .es_container_ports()
                .iter()
                .map(|(name, number)| port(name, *number))
                .collect(),
        ),
        true,
        format!("10.{region}.1.10"),
    ));
    pods
}

/// The orchestration container's env as the chart renders it: the release's
/// `orchestration.env` list (name/value entries), so the schema-manager variable shows on the pods.
/// A world set up without values shows the reference values' dual-region variables under the
/// release's names (initial contact points, both exporters' URLs; see
/// [`crate::release::CamundaRelease::exporter_url_var`]).
pub fn orchestration_env(world: &World, region: RegionId) -> Value {
    let values = world.regions[region]
        .release
        .as_ref()
        .map(|h| &h.values)
        .and_then(|v| v.pointer("/orchestration/env"))
        .and_then(Value::as_array);
    let mut env: Vec<Value> = values
        .map(|list| {
            list.iter()
                .filter(|e| e.get("name").and_then(Value::as_str).is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    // A world set up directly (without values) still shows what it simulates.
    if values.is_none() {
        env.extend(reference_env(world));
    }
    let var = crate::helm::SCHEMA_MANAGER_VAR;
    let listed = env.iter().any(|e| e["name"] == var);
    if world.regions[region].schema_manager_disabled && !listed {
        env.push(json!({"name": var, "value": "false"}));
    }
    if world.cfg.broker_ids() == crate::release::BrokerIds::Zoned {
        // "The pod receives `CAMUNDA_CLUSTER_ZONE` with the configured local zone" (chart 15
        // zoned StatefulSet, camunda/camunda-platform-helm cs/zoned-multiregion @ 86e95a255f58).
        env.push(json!({"name": "CAMUNDA_CLUSTER_ZONE", "value": zone_name(region)}));
    }
    Value::Array(env)
}

/// The dual-region variables of the reference values, with this release's names: the brokers of
/// both regions as initial contact points and each region's Elasticsearch as its exporter's URL.
fn reference_env(world: &World) -> Vec<Value> {
    let cfg = &world.cfg;
    let full = orchestration_fullname(&cfg.release);
    let contact_points: Vec<String> = (0..2)
        .flat_map(|r| (0..cfg.cluster_size / 2).map(move |ordinal| (r, ordinal)))
        .map(|(r, ordinal)| {
            format!(
                "{}.{full}.{}.svc.cluster.local:26502",
                broker_pod_name(cfg, r, ordinal),
                cfg.namespaces[r]
            )
        })
        .collect();
    let es_service = cfg
        .camunda
        .es_services(&cfg.release)
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let mut env = vec![json!({
        "name": cfg.camunda.initial_contact_points_var(),
        "value": contact_points.join(","),
    })];
    for r in 0..2 {
        env.push(json!({
            "name": cfg.camunda.exporter_url_var(r),
            "value": format!("http://{es_service}.{}.svc.cluster.local:9200", cfg.namespaces[r]),
        }));
    }
    env
}

fn service_port(name: &str, number: u16) -> Value {
    json!({"name": name, "port": number, "targetPort": name, "protocol": "TCP"})
}

/// The region's Services: gateway, headless broker service, Elasticsearch.
pub fn services(world: &World, region: RegionId) -> Vec<Value> {
    if world.regions[region].release.is_none() {
        return vec![];
    }
    let cfg = &world.cfg;
    let release = cfg.release.as_str();
    let svc = |name: String, labels: Value, selector: Value, ports: Vec<Value>, headless: bool| {
        json!({
            "kind": "Service",
            "apiVersion": "v1",
            "metadata": metadata(world, region, &name, labels),
            "spec": {
                "type": "ClusterIP",
                "clusterIP": if headless { "None".to_string() } else { format!("10.96.{region}.{}", 10 + name.bytes().map(u32::from).sum::<u32>() % 240) },
                "selector": selector,
                "ports": ports,
            },
        })
    };
    let mut gateway_labels = chart_labels(cfg);
    gateway_labels["app.kubernetes.io/component"] = json!("zeebe-gateway");
    let mut services = vec![
        svc(
            gateway_service_name(release),
            gateway_labels,
            broker_labels(release),
            vec![
                service_port("server", 9600),
                service_port("http", 8080),
                service_port("grpc", 26500),
            ],
            false,
        ),
        svc(
            orchestration_fullname(release),
            broker_labels(release),
            broker_labels(release),
            vec![
                service_port("server", 9600),
                service_port("internal", 26502),
                service_port("command", 26501),
            ],
            true,
        ),
    ];
    for crate::release::EsService {
        name,
        headless,
        ports,
    } in cfg.camunda.es_services(release)
    {
        let ports = ports
            .into_iter()
            .map(|(port_name, number)| {
                let target = cfg
                    .camunda
                    .es_container_ports()
                    .iter()
                    .find(|(_, n)| *n == number)
                    .map_or("rest-api", |(name, _)| *name);
                json!({"name": port_name, "port": number, "targetPort": target, "protocol": "TCP"})
            })
            .collect();
        services.push(svc(name, es_labels(cfg), es_labels(cfg), ports, headless));
    }
    services
}

/// `spring.profiles.active` as the chart renders it: sorted enabled profiles, then
/// `consolidated-auth` (docs/api-behaviour.md §6).
pub fn profiles_active(profiles: &[String]) -> String {
    let mut sorted: Vec<&str> = profiles.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.push("consolidated-auth");
    sorted.join(",")
}

/// The configuration's `application.yaml` for a region. `camunda.data.secondary-storage.type`
/// is rendered by the chart helper `orchestration.secondaryStorage` (files/_application-unified.yaml
/// in 8.8, files/_application.yaml in 8.9/8.10).
///
/// Zone-aware brokers (chart 15, `orchestration.partitioning.scheme: zone-aware`): the chart renders
/// `camunda.cluster.partitioning` with the zone list of the values, the same in every release
/// (camunda/camunda-platform-helm `templates/orchestration/files/_application.yaml`, branch
/// cs/zoned-multiregion @ 86e95a255f58; the keys of camunda-docs `zone-aware-clusters.md`
/// @ 2feba5f25a2a), and no `node-id`. The list is the installed one: the persisted layout of the
/// cluster may lose a zone in a failover, the values do not.
pub fn application_yaml(world: &World, region: RegionId) -> String {
    let cfg = &world.cfg;
    let partitioning = if cfg.broker_ids() == crate::release::BrokerIds::Zoned {
        let per_zone = cfg.cluster_size / 2;
        let zones: String = crate::zeebe::zones::initial_layout(cfg.replication_factor)
            .iter()
            .map(|z| {
                format!(
                    "          - name: {}\n            number-of-brokers: {per_zone}\n            number-of-replicas: {}\n            priority: {}\n",
                    z.name, z.replicas, z.priority
                )
            })
            .collect();
        format!(
            "    partitioning:\n      scheme: ZONE_AWARE\n      zone-aware:\n        zones:\n{zones}"
        )
    } else {
        String::new()
    };
    format!(
        "camunda:\n  cluster:\n    size: {}\n    replication-factor: {}\n    partition-count: {}\n{partitioning}  data:\n    secondary-storage:\n      type: {}\nspring:\n  profiles:\n    active: \"{}\"\n",
        cfg.cluster_size,
        cfg.replication_factor,
        cfg.partitions,
        cfg.secondary_storage.as_str(),
        profiles_active(&world.regions[region].profiles)
    )
}

/// The region's ConfigMaps.
pub fn configmaps(world: &World, region: RegionId) -> Vec<Value> {
    let mut cms = vec![json!({
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": metadata(world, region, "kube-root-ca.crt", json!({})),
        "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nc8dr-sim\n-----END CERTIFICATE-----\n"},
    })];
    if world.regions[region].release.is_some() {
        let cfg = &world.cfg;
        cms.push(json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": metadata(world, region, &configmap_name(cfg), chart_labels(cfg)),
            "data": {
                "application.yaml": application_yaml(world, region),
                "startup.sh": "#!/usr/bin/env bash\nexec /usr/local/camunda/bin/camunda\n",
            },
        }));
    }
    cms
}

/// The region's Secrets (values base64-encoded, as the API serves them).
pub fn secrets(world: &World, region: RegionId) -> Vec<Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    world.regions[region]
        .secrets
        .iter()
        .map(|(name, data)| {
            let data: Map<String, Value> = data
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(b64.encode(v))))
                .collect();
            json!({
                "kind": "Secret",
                "apiVersion": "v1",
                "metadata": metadata(world, region, name, json!({})),
                "type": "Opaque",
                "data": data,
            })
        })
        .collect()
}

/// The region's namespaces (kubectl checks that a namespace exists after a 404 on a get).
pub fn namespaces(world: &World, region: RegionId) -> Vec<Value> {
    let mut names = vec![
        "default",
        "kube-system",
        world.regions[region].namespace.as_str(),
    ];
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let mut meta = metadata(
                world,
                region,
                name,
                json!({"kubernetes.io/metadata.name": name}),
            );
            if let Some(m) = meta.as_object_mut() {
                m.remove("namespace");
            }
            json!({
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": meta,
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            })
        })
        .collect()
}

/// The list kind of a served resource, `None` for a resource the simulator does not serve.
pub fn list_kind(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "pods" => "PodList",
        "services" => "ServiceList",
        "configmaps" => "ConfigMapList",
        "secrets" => "SecretList",
        "namespaces" => "NamespaceList",
        _ => return None,
    })
}

/// Every object of a resource in the region's namespace.
pub fn list(world: &World, region: RegionId, resource: &str) -> Vec<Value> {
    match resource {
        "pods" => pods(world, region),
        "services" => services(world, region),
        "configmaps" => configmaps(world, region),
        "secrets" => secrets(world, region),
        "namespaces" => namespaces(world, region),
        _ => vec![],
    }
}

/// One object by name.
pub fn get(world: &World, region: RegionId, resource: &str, name: &str) -> Option<Value> {
    list(world, region, resource)
        .into_iter()
        .find(|o| o["metadata"]["name"] == name)
}

/// The container names of a pod, `None` when the pod does not exist.
pub fn pod_containers(world: &World, region: RegionId, pod: &str) -> Option<Vec<String>> {
    let p = get(world, region, "pods", pod)?;
    Some(
        p["spec"]["containers"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// Choose the container a request addresses, as the real server does: a named container must
/// exist; without a name the pod must have exactly one. The error is a `(code, message)`.
pub fn resolve_container(
    pod: &str,
    containers: &[String],
    requested: Option<&str>,
) -> Result<String, String> {
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if containers.iter().any(|x| x == c) => Ok(c.to_string()),
        Some(c) => Err(format!("container {c} is not valid for pod {pod}")),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => Err(format!(
            "a container name must be specified for pod {pod}, choose one of: [{}]",
            containers.join(" ")
        )),
    }
}

/// The parts of a streaming request on a pod (exec, port-forward): its query, the request to
/// upgrade, and the pod's containers — or the NotFound answer when no such pod is in `namespace`.
#[allow(clippy::result_large_err)]
pub fn pod_stream_request(
    shared: &crate::server::SimShared,
    region: RegionId,
    namespace: &str,
    pod: &str,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<
    (
        crate::http::SimRequest,
        hyper::Request<hyper::body::Incoming>,
        Vec<String>,
    ),
    hyper::Response<crate::http::Body>,
> {
    let (parts, body) = req.into_parts();
    let query = crate::http::SimRequest::from_parts(&parts, bytes::Bytes::new());
    let req = hyper::Request::from_parts(parts, body);
    let containers = {
        let world = shared.world.lock();
        if world.regions[region].namespace != namespace {
            None
        } else {
            pod_containers(&world, region, pod)
        }
    };
    match containers {
        Some(c) => Ok((query, req, c)),
        None => Err(super::not_found("pods", pod)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimConfig;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_709_251_199); // 2024-02-29T23:59:59Z
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn healthy_region_has_four_brokers_and_es() {
        let w = World::healthy(SimConfig::default());
        let names: Vec<String> = pods(&w, 1)
            .iter()
            .map(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "camunda-zeebe-0",
                "camunda-zeebe-1",
                "camunda-zeebe-2",
                "camunda-zeebe-3",
                "camunda-elasticsearch-master-0"
            ]
        );
        assert!(
            application_yaml(&w, 0)
                .contains("active: \"broker,identity,operate,tasklist,consolidated-auth\"")
        );
    }

    #[test]
    fn container_resolution() {
        let one = vec!["elasticsearch".to_string()];
        assert_eq!(
            resolve_container("p", &one, None),
            Ok("elasticsearch".into())
        );
        assert!(resolve_container("p", &one, Some("x")).is_err());
        let two = vec!["a".to_string(), "b".to_string()];
        assert!(resolve_container("p", &two, None).is_err());
    }
}
