//! Starting a simulator: per region a fake Kubernetes API server, the gateway's management and
//! REST ports and Elasticsearch's REST port, all on loopback; a control endpoint; a kubeconfig.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};

use crate::http::{self, SimRequest, Switch, bind_loopback, serve};
use crate::world::{RegionId, SharedWorld, SimConfig, World};
use crate::zeebe::http::GatewayPort;

/// Loopback addresses of one region's endpoints.
#[derive(Debug, Clone)]
pub struct RegionEndpoints {
    pub kube_api: SocketAddr,
    pub management: SocketAddr,
    pub rest: SocketAddr,
    pub elasticsearch: SocketAddr,
    /// Each broker pod's own management port (9600), by pod ordinal: `/actuator/partitions` of
    /// that broker, and the gateway's management API (8.8 pods are broker and gateway at once).
    /// A port-forward to pod `<release>-zeebe-N` port 9600 reaches `brokers[N]`.
    pub brokers: Vec<SocketAddr>,
}

/// What every handler of a running simulator shares.
#[derive(Debug, Clone)]
pub struct SimShared {
    pub world: SharedWorld,
    /// Per region: whether its listeners accept connections.
    pub switches: Arc<[Switch; 2]>,
    pub endpoints: Arc<[RegionEndpoints; 2]>,
    /// Every request any region endpoint received (Kubernetes API, gateway, REST, Elasticsearch,
    /// broker pods): tests assert that bad input makes no call at all.
    pub hits: Arc<std::sync::atomic::AtomicU64>,
    /// The same requests, one entry each, in arrival order (see [`RequestLog`]).
    pub requests: RequestLog,
}

/// One request a simulator listener received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedRequest {
    pub region: RegionId,
    /// `kube-api`, `management`, `rest`, `elasticsearch` or `broker-N` (pod ordinal N's port 9600).
    pub listener: String,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
}

/// The simulator's request log: every HTTP request any region listener receives (Kubernetes API
/// server incl. exec/port-forward upgrades and the helm stand-in's apply, gateway management and
/// REST ports, Elasticsearch, broker pods), readable in process ([`SimShared::requests`]) and at
/// the control endpoint `GET /requests` (a JSON array of [`LoggedRequest`]).
///
/// Test instrumentation, not a model of any real system (nothing upstream to cite): it lets the
/// tests assert that bad input reaches no cluster at all (docs/contract.md §4 rule 8). The control endpoint itself
/// is not logged.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<std::sync::Mutex<Vec<LoggedRequest>>>);

impl RequestLog {
    fn push(&self, entry: LoggedRequest) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }

    /// Everything logged so far, oldest first.
    pub fn all(&self) -> Vec<LoggedRequest> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many requests were logged so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The requests logged after the first `from` ones.
    pub fn since(&self, from: usize) -> Vec<LoggedRequest> {
        self.all().into_iter().skip(from).collect()
    }
}

impl SimShared {
    /// Whether a region is reachable (its listeners are on).
    pub fn reachable(&self, region: RegionId) -> bool {
        self.switches[region].is_on()
    }

    /// Count one request (see [`SimShared::hits`]) without logging it.
    pub fn hit(&self) {
        self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Count and log one request a region listener received (see [`RequestLog`]).
    pub fn log<B>(&self, region: RegionId, listener: &str, req: &hyper::Request<B>) {
        self.hit();
        self.requests.push(LoggedRequest {
            region,
            listener: listener.to_string(),
            method: req.method().as_str().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| req.uri().path().to_string()),
        });
    }
}

/// A running simulator. Dropping it stops every listener.
#[derive(Debug)]
pub struct Sim {
    pub shared: SimShared,
    pub control: SocketAddr,
    pub kubeconfig: PathBuf,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The kube context name of a region in the generated kubeconfig.
pub fn context_name(region: RegionId) -> String {
    format!("c8dr-sim-region{region}")
}

impl Sim {
    /// Start a healthy dual-region installation and write its kubeconfig into `dir`.
    pub async fn start(cfg: SimConfig, dir: &Path) -> anyhow::Result<Self> {
        let world = SharedWorld::new(World::healthy(cfg.clone()));
        let switches = Arc::new([Switch::on(), Switch::on()]);
        let mut listeners = vec![];
        let mut endpoints = vec![];
        let ordinals = cfg.cluster_size / 2;
        let mut broker_listeners = vec![];
        for _ in 0..2 {
            let mut listeners = vec![];
            let mut addrs = vec![];
            for _ in 0..ordinals {
                let (l, a) = bind_loopback().await?;
                listeners.push(l);
                addrs.push(a);
            }
            broker_listeners.push((listeners, addrs));
        }
        for (_, broker_addrs) in &broker_listeners {
            let (kube, kube_addr) = bind_loopback().await?;
            let (mgmt, mgmt_addr) = bind_loopback().await?;
            let (rest, rest_addr) = bind_loopback().await?;
            let (es, es_addr) = bind_loopback().await?;
            listeners.push((kube, mgmt, rest, es));
            endpoints.push(RegionEndpoints {
                kube_api: kube_addr,
                management: mgmt_addr,
                rest: rest_addr,
                elasticsearch: es_addr,
                brokers: broker_addrs.clone(),
            });
        }
        let endpoints: [RegionEndpoints; 2] = endpoints
            .try_into()
            .map_err(|_| anyhow::anyhow!("two regions expected"))?;
        let shared = SimShared {
            world,
            switches,
            endpoints: Arc::new(endpoints),
            hits: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            requests: RequestLog::default(),
        };
        let mut tasks = vec![];
        for (region, (kube, mgmt, rest, es)) in listeners.into_iter().enumerate() {
            let switch = shared.switches[region].clone();
            let s = shared.clone();
            tasks.push(serve(kube, switch.clone(), move |req| {
                let s = s.clone();
                s.log(region, "kube-api", &req);
                async move { crate::kube_api::handle(s, region, req).await }
            }));
            for (listener, port, name) in [
                (mgmt, GatewayPort::Management, "management"),
                (rest, GatewayPort::Rest, "rest"),
            ] {
                let s = shared.clone();
                tasks.push(serve(listener, switch.clone(), move |req| {
                    let s = s.clone();
                    s.log(region, name, &req);
                    async move {
                        if !s.reachable(region) {
                            // A kept-alive connection into a lost region.
                            return http::text(503, "region unreachable");
                        }
                        match SimRequest::read(req).await {
                            Ok(r) => crate::zeebe::http::handle(&s.world, region, port, &r).await,
                            Err(e) => http::text(400, e.to_string()),
                        }
                    }
                }));
            }
            let s = shared.clone();
            tasks.push(serve(es, switch, move |req| {
                let s = s.clone();
                s.log(region, "elasticsearch", &req);
                async move {
                    if !s.reachable(region) {
                        return http::text(503, "region unreachable");
                    }
                    match SimRequest::read(req).await {
                        Ok(r) => {
                            let (status, body) = crate::es::handle(&mut s.world.lock(), region, &r);
                            http::json(status, &body)
                        }
                        Err(e) => http::text(400, e.to_string()),
                    }
                }
            }));
        }
        for (region, (listeners, _)) in broker_listeners.into_iter().enumerate() {
            for (ordinal, listener) in listeners.into_iter().enumerate() {
                let broker = ordinal as u32 * 2 + region as u32;
                let name = format!("broker-{ordinal}");
                let s = shared.clone();
                tasks.push(serve(
                    listener,
                    shared.switches[region].clone(),
                    move |req| {
                        let s = s.clone();
                        s.log(region, &name, &req);
                        async move {
                            if !s.reachable(region) {
                                return http::text(503, "region unreachable");
                            }
                            match SimRequest::read(req).await {
                                Ok(r) => {
                                    crate::zeebe::partitions::handle_broker(
                                        &s.world, region, broker, &r,
                                    )
                                    .await
                                }
                                Err(e) => http::text(400, e.to_string()),
                            }
                        }
                    },
                ));
            }
        }
        let (control, control_addr) = bind_loopback().await?;
        let s = shared.clone();
        tasks.push(serve(control, Switch::on(), move |req| {
            let s = s.clone();
            async move {
                match SimRequest::read(req).await {
                    Ok(r) => control_handle(&s, &r),
                    Err(e) => http::text(400, e.to_string()),
                }
            }
        }));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml(&shared))
            .with_context(|| format!("writing {}", kubeconfig.display()))?;
        Ok(Self {
            shared,
            control: control_addr,
            kubeconfig,
            tasks,
        })
    }

    pub fn world(&self) -> &SharedWorld {
        &self.shared.world
    }

    pub fn endpoints(&self, region: RegionId) -> &RegionEndpoints {
        &self.shared.endpoints[region]
    }

    /// Lose a region: its listeners refuse connections and its brokers vanish.
    pub fn lose_region(&self, region: RegionId) {
        lose(&self.shared, region);
    }

    /// Bring a lost region back empty, as the docs' "recreated region".
    pub fn recreate_region(&self, region: RegionId) {
        recreate(&self.shared, region);
    }

    /// The environment variables of the Camunda docs for this simulator, surviving region first.
    pub fn docs_env(&self, surviving: RegionId) -> Vec<(String, String)> {
        let recreated = 1 - surviving;
        let w = self.shared.world.lock();
        let mut env = vec![
            (
                "KUBECONFIG".to_string(),
                self.kubeconfig.display().to_string(),
            ),
            ("CAMUNDA_RELEASE_NAME".into(), w.cfg.release.clone()),
            ("CLUSTER_SURVIVING".into(), context_name(surviving)),
            (
                "CAMUNDA_NAMESPACE_SURVIVING".into(),
                w.regions[surviving].namespace.clone(),
            ),
            ("REGION_SURVIVING".into(), format!("region{surviving}")),
            ("CLUSTER_RECREATED".into(), context_name(recreated)),
            (
                "CAMUNDA_NAMESPACE_RECREATED".into(),
                w.regions[recreated].namespace.clone(),
            ),
            ("REGION_RECREATED".into(), format!("region{recreated}")),
            ("CAMUNDA_CLIENT_AUTH_METHOD".into(), "basic".into()),
            (
                "CAMUNDA_CLIENT_AUTH_USERNAME".into(),
                w.cfg.rest_username.clone(),
            ),
            (
                "CAMUNDA_CLIENT_AUTH_PASSWORD".into(),
                w.cfg.rest_password.clone(),
            ),
        ];
        for r in 0..2 {
            env.push((format!("CLUSTER_{r}"), context_name(r)));
            env.push((
                format!("CAMUNDA_NAMESPACE_{r}"),
                w.regions[r].namespace.clone(),
            ));
        }
        env
    }
}

fn lose(shared: &SimShared, region: RegionId) {
    shared.switches[region].set(false);
    shared.world.lock().lose_region(region);
}

fn recreate(shared: &SimShared, region: RegionId) {
    shared.world.lock().recreate_region(region);
    shared.switches[region].set(true);
}

fn kubeconfig_yaml(shared: &SimShared) -> String {
    let w = shared.world.lock();
    let mut clusters = String::new();
    let mut contexts = String::new();
    for r in 0..2 {
        let name = context_name(r);
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: http://{}\n",
            shared.endpoints[r].kube_api
        ));
        contexts.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: c8dr-sim\n    namespace: {}\n",
            w.regions[r].namespace
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\nclusters:\n{clusters}contexts:\n{contexts}current-context: {}\nusers:\n- name: c8dr-sim\n  user:\n    token: c8dr-sim-token\n",
        context_name(0)
    )
}

/// The control endpoint: world state for tests and the demo, region loss, faults.
fn control_handle(shared: &SimShared, req: &SimRequest) -> hyper::Response<http::Body> {
    let region = || -> Option<RegionId> {
        match req.param("region")? {
            "0" | "region0" => Some(0),
            "1" | "region1" => Some(1),
            _ => None,
        }
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/state") => {
            let mut state = state_json(&shared.world.lock());
            state["endpoints"] = endpoints_json(shared);
            http::json(200, &state)
        }
        ("GET", "/requests") => http::json(200, &json!(shared.requests.all())),
        // The recovery benchmark's measurements (bench/recovery.sh), in simulated seconds.
        ("GET", "/timeline") => {
            let w = shared.world.lock();
            http::json(200, &w.timeline.json(&w, tokio::time::Instant::now()))
        }
        ("POST", "/timeline/reset") => {
            shared
                .world
                .lock()
                .timeline
                .reset(tokio::time::Instant::now());
            http::json(200, &json!({"ok": true}))
        }
        ("POST", "/lose") | ("POST", "/recreate") => match region() {
            Some(r) => {
                if req.path == "/lose" {
                    lose(shared, r);
                } else {
                    recreate(shared, r);
                }
                http::json(200, &json!({"ok": true}))
            }
            None => http::json(400, &json!({"message": "region=0|1 required"})),
        },
        ("POST", "/faults") => {
            let Ok(Value::Object(mut body)) = req.json_body() else {
                return http::json(200, &json!({"ok": true}));
            };
            let mut w = shared.world.lock();
            // `{"clear": true}` first: every fault off, then the ones this body sets.
            let faults = if body.remove("clear").and_then(|c| c.as_bool()) == Some(true) {
                crate::world::Faults::default()
            } else {
                w.faults.clone()
            };
            // `times` counts both `zeebeError` and `zeebeReadError` (`{"zeebeError": 504,
            // "times": 2}`); either status without `times` sets nothing.
            let times = body.remove("times").filter(Value::is_u64);
            for key in ["zeebeError", "zeebeReadError"] {
                if let (Some(status), Some(times)) =
                    (body.remove(key).filter(Value::is_u64), &times)
                {
                    body.insert(key.into(), json!([status, times]));
                }
            }
            // The keys present replace their faults; the others keep theirs.
            let Value::Object(mut merged) = serde_json::to_value(&faults).unwrap_or_default()
            else {
                return http::json(500, &json!({"message": "faults do not serialise"}));
            };
            merged.extend(body);
            match serde_json::from_value(Value::Object(merged)) {
                Ok(f) => {
                    w.faults = f;
                    http::json(200, &json!({"ok": true}))
                }
                Err(e) => http::json(400, &json!({"message": format!("bad faults: {e}")})),
            }
        }
        _ => http::json(404, &json!({"message": "unknown control endpoint"})),
    }
}

/// Every loopback listener of the simulator, per region: what a port-forward to a pod or
/// Service reaches (`brokers` by pod ordinal: each broker pod's own port 9600).
pub fn endpoints_json(shared: &SimShared) -> Value {
    let cfg = shared.world.lock().cfg.clone();
    Value::Array(
        shared
            .endpoints
            .iter()
            .enumerate()
            .map(|(region, e)| {
                json!({
                    "kubeApi": format!("http://{}", e.kube_api),
                    "management": format!("http://{}", e.management),
                    "rest": format!("http://{}", e.rest),
                    "elasticsearch": format!("http://{}", e.elasticsearch),
                    "brokers": e.brokers.iter().enumerate().map(|(n, a)| json!({
                        "pod": crate::kube_api::objects::broker_pod_name(&cfg, region, n as u32),
                        "management": format!("http://{a}"),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// A summary of the world for assertions: what a test or the demo verifies against.
pub fn state_json(w: &World) -> Value {
    let exporters: Value = w
        .zeebe
        .exporter_ids()
        .into_iter()
        .map(|id| {
            let s = w.zeebe.exporter_status(&id);
            (id, Value::String(s))
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    json!({
        "members": w.zeebe.members.keys().collect::<Vec<_>>(),
        "aliveBrokers": w.alive_brokers(),
        "replicationFactor": w.zeebe.replication_factor(),
        "partitions": w.zeebe.partition_members(),
        "exporters": exporters,
        "initializedFrom": w.zeebe.initialized_from,
        "exporting": w.zeebe.exporting_summary(&w.alive_brokers()),
        "exportingByBroker": w.zeebe.exporting_detail(&w.alive_brokers()),
        "pauseFileCorrupted": w.zeebe.pause_file_corrupted,
        "pendingChange": w.zeebe.pending.as_ref().map(|p| p.id),
        "lastChange": w.zeebe.last_change.as_ref().map(|c| json!({"id": c.id, "status": c.status})),
        "requests": w.zeebe.requests.iter().map(|(m, p, b)| json!({"method": m, "path": p, "body": b})).collect::<Vec<_>>(),
        "applied": w.zeebe.applied.iter().map(|(m, p, b)| json!({"method": m, "path": p, "body": b})).collect::<Vec<_>>(),
        "regions": w.regions.iter().map(|r| json!({
            "reachable": r.reachable,
            "recreated": r.recreated,
            "namespace": r.namespace,
            "helmRevision": r.release.as_ref().map(|h| h.revision),
            "profiles": r.profiles,
            "schemaManagerDisabled": r.schema_manager_disabled,
            "esIndices": r.es.indices.keys().collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_region_listener_logs_its_requests_and_the_control_endpoint_serves_the_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(SimConfig::default(), dir.path())
            .await
            .expect("simulator starts");
        assert!(sim.shared.requests.is_empty());
        let e = sim.endpoints(1).clone();
        let client = reqwest::Client::new();
        let expected = [
            (e.kube_api, "kube-api", "/api/v1/namespaces"),
            (e.management, "management", "/actuator/cluster"),
            (e.rest, "rest", "/v2/topology"),
            (e.elasticsearch, "elasticsearch", "/_cat/indices?v"),
            (e.brokers[2], "broker-2", "/actuator/partitions"),
        ];
        for (addr, _, target) in &expected {
            client
                .get(format!("http://{addr}{target}"))
                .send()
                .await
                .expect("request answered");
        }
        let log = sim.shared.requests.all();
        assert_eq!(
            log.iter()
                .map(|r| (
                    r.region,
                    r.listener.as_str(),
                    r.method.as_str(),
                    r.target.as_str()
                ))
                .collect::<Vec<_>>(),
            expected
                .iter()
                .map(|(_, l, t)| (1, *l, "GET", *t))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            sim.shared.hits.load(std::sync::atomic::Ordering::Relaxed),
            5
        );
        // The control endpoint serves the same log and is not logged itself.
        let served: Value = client
            .get(format!("http://{}/requests", sim.control))
            .send()
            .await
            .expect("control answers")
            .json()
            .await
            .expect("a JSON log");
        assert_eq!(served, serde_json::to_value(&log).expect("serialisable"));
        assert_eq!(sim.shared.requests.len(), 5);
        assert_eq!(sim.shared.requests.since(4)[0].listener, "broker-2");
    }

    #[tokio::test]
    async fn posted_faults_patch_the_ones_set_before() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(SimConfig::default(), dir.path())
            .await
            .expect("simulator starts");
        let client = reqwest::Client::new();
        let post = |body: Value| {
            client
                .post(format!("http://{}/faults", sim.control))
                .json(&body)
                .send()
        };
        let ok = post(json!({"zeebeError": 502, "times": 3, "dropPortForwards": 2}))
            .await
            .expect("control answers");
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.json::<Value>().await.expect("json"), json!({"ok": true}));
        // A status without `times` sets nothing; the faults set before stay.
        post(json!({"zeebeReadError": 504, "kubeApiDelayMs": 20, "helmFailsRegion": 0}))
            .await
            .expect("control answers");
        {
            let w = sim.world().lock();
            assert_eq!(w.faults.zeebe_error, Some((502, 3)));
            assert_eq!(w.faults.zeebe_read_error, None);
            assert_eq!(w.faults.drop_port_forwards, 2);
            assert_eq!(
                w.faults.kube_api_delay,
                Some(std::time::Duration::from_millis(20))
            );
            assert_eq!(w.faults.helm_fails_region, Some(0));
        }
        // 0 ms is no delay, a region that does not exist is none.
        post(json!({"kubeApiDelayMs": 0, "helmFailsRegion": 2}))
            .await
            .expect("control answers");
        let w = sim.world().lock();
        assert_eq!(w.faults.kube_api_delay, None);
        assert_eq!(w.faults.helm_fails_region, None);
        assert_eq!(w.faults.zeebe_error, Some((502, 3)));
    }

    #[tokio::test]
    async fn the_control_endpoint_sets_the_fault_matrix_faults_and_clears_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(SimConfig::default(), dir.path())
            .await
            .expect("simulator starts");
        let client = reqwest::Client::new();
        let post = |body: Value| {
            client
                .post(format!("http://{}/faults", sim.control))
                .json(&body)
                .send()
        };
        post(
            json!({"zeebeReadError": 504, "times": 2, "loseMutationAnswer": 1,
            "stoppedBrokers": [2, 4], "cancelNextChange": true, "kubeApiUnavailable": 3,
            "kubeApiDelayMs": 150, "helmFailsRegion": 1}),
        )
        .await
        .expect("control answers");
        {
            let w = sim.world().lock();
            let f = &w.faults;
            assert_eq!(f.zeebe_read_error, Some((504, 2)));
            assert_eq!(f.lose_mutation_answer, 1);
            assert_eq!(
                f.stopped_brokers.iter().copied().collect::<Vec<_>>(),
                [2, 4]
            );
            assert!(f.cancel_next_change);
            assert_eq!(f.kube_api_unavailable, 3);
            assert_eq!(
                f.kube_api_delay,
                Some(std::time::Duration::from_millis(150))
            );
            assert_eq!(f.helm_fails_region, Some(1));
        }
        // A read answered by the injected fault, then the real answer.
        let cluster = format!("http://{}/actuator/cluster", sim.endpoints(0).management);
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(
            status(client.get(&cluster).send().await.expect("gateway")),
            504
        );
        // The API server answers 503 while the fault lasts.
        let pods = format!(
            "http://{}/api/v1/namespaces/camunda-region0/pods",
            sim.endpoints(0).kube_api
        );
        assert_eq!(
            status(client.get(&pods).send().await.expect("kube api")),
            503
        );
        post(json!({"clear": true})).await.expect("control answers");
        assert!(sim.world().lock().faults.stopped_brokers.is_empty());
        assert_eq!(
            status(client.get(&cluster).send().await.expect("gateway")),
            200
        );
        assert_eq!(
            status(client.get(&pods).send().await.expect("kube api")),
            200
        );
    }
}
