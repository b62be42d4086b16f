//! The core's kube access against the simulator's fake API servers (kube-rs in process): lists,
//! secrets, logs, exec with exit codes and stdin, Service tunnels (also under dropped
//! port-forwards), cut exec streams and a lost region.

use std::time::Duration;

use c8dr_common::Error;
use c8dr_common::kube::{KubeTarget, RegionClient};
use c8dr_sim::{Sim, SimConfig};

const BROKERS: &str = "app.kubernetes.io/component=zeebe-broker";
const TIMEOUT: Duration = Duration::from_secs(20);

async fn start(cfg: SimConfig) -> (Sim, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start(cfg, dir.path()).await.expect("sim starts");
    (sim, dir)
}

async fn client(sim: &Sim, region: usize) -> RegionClient {
    RegionClient::connect(&KubeTarget {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: Some(c8dr_sim::context_name(region)),
        namespace: None,
        context_source: None,
    })
    .await
    .expect("connects")
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_pods_and_reads_objects() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let c = client(&sim, 1).await;
    assert_eq!(c.namespace(), "camunda-region1");
    let mut names: Vec<String> = c
        .list_pods(BROKERS)
        .await
        .expect("lists")
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "camunda-zeebe-0",
            "camunda-zeebe-1",
            "camunda-zeebe-2",
            "camunda-zeebe-3"
        ]
    );

    let cm = c
        .get_configmap("camunda-zeebe-configuration-unified")
        .await
        .expect("gets")
        .expect("exists");
    let yaml = cm
        .data
        .and_then(|d| d.get("application.yaml").cloned())
        .unwrap_or_default();
    assert!(
        yaml.contains("broker,identity,operate,tasklist,consolidated-auth"),
        "{yaml}"
    );
    assert!(c.get_configmap("nope").await.expect("gets").is_none());

    let logs = c
        .pod_logs("camunda-zeebe-0", "orchestration", Some(10))
        .await
        .expect("logs");
    assert!(logs.contains("profiles are active"), "{logs}");

    let es = c
        .pick_pod("app.kubernetes.io/name=elasticsearch", "elasticsearch")
        .await
        .expect("picks");
    assert_eq!(es, "camunda-elasticsearch-master-0");

    // An explicit namespace other than the region's holds nothing.
    let other = RegionClient::connect(&KubeTarget {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: Some(c8dr_sim::context_name(1)),
        namespace: Some("elsewhere".into()),
        context_source: None,
    })
    .await
    .expect("connects");
    assert!(other.list_pods(BROKERS).await.expect("lists").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_secret_values() {
    let cfg = SimConfig {
        es_security: true,
        ..SimConfig::default()
    };
    let password = cfg.es_password.clone();
    let (sim, _dir) = start(cfg).await;
    let c = client(&sim, 0).await;
    let value = c
        .get_secret_value("camunda-elasticsearch", "elasticsearch-password")
        .await
        .expect("reads");
    assert_eq!(value.as_deref(), Some(password.as_str()));
    assert_eq!(
        c.get_secret_value("camunda-elasticsearch", "nope")
            .await
            .expect("reads"),
        None
    );
    assert_eq!(c.get_secret_value("nope", "x").await.expect("reads"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_context_or_kubeconfig_is_a_usage_error() {
    let (sim, dir) = start(SimConfig::default()).await;
    let err = RegionClient::connect(&KubeTarget {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: Some("no-such-context".into()),
        namespace: None,
        context_source: None,
    })
    .await
    .expect_err("unknown context");
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    let err = RegionClient::connect(&KubeTarget {
        kubeconfig: Some(dir.path().join("missing")),
        context: None,
        namespace: None,
        context_source: None,
    })
    .await
    .expect_err("missing file");
    assert_eq!(err.exit_code(), 2, "{err:?}");
    // The current context (region 0) is used when none is named.
    let c = RegionClient::connect(&KubeTarget {
        kubeconfig: Some(sim.kubeconfig.clone()),
        ..KubeTarget::default()
    })
    .await
    .expect("connects");
    assert_eq!(c.namespace(), "camunda-region0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_returns_output_and_exit_codes() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let c = client(&sim, 0).await;
    let es = "camunda-elasticsearch-master-0";
    let out = c
        .exec(es, "elasticsearch", argv(&["echo", "hi"]), None, TIMEOUT)
        .await
        .expect("runs");
    assert_eq!((out.stdout_lossy().as_str(), out.exit_code), ("hi\n", 0));

    let out = c
        .exec(
            es,
            "elasticsearch",
            argv(&["sh", "-c", "exit 7"]),
            None,
            TIMEOUT,
        )
        .await
        .expect("runs");
    assert_eq!(out.exit_code, 7);

    let out = c
        .exec(es, "elasticsearch", argv(&["nope"]), None, TIMEOUT)
        .await
        .expect("runs");
    assert_eq!(out.exit_code, 127);
    assert!(out.stdout.is_empty());
    assert!(out.stderr_lossy().contains("command not found"));

    let big = vec![b'x'; 200_000];
    let out = c
        .exec(
            es,
            "elasticsearch",
            argv(&["cat"]),
            Some(big.clone()),
            TIMEOUT,
        )
        .await
        .expect("runs");
    assert_eq!(out.stdout.len(), big.len());

    let err = c
        .exec(
            "no-such-pod",
            "elasticsearch",
            argv(&["true"]),
            None,
            TIMEOUT,
        )
        .await
        .expect_err("no pod");
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
    let err = c
        .exec(es, "orchestration", argv(&["true"]), None, TIMEOUT)
        .await
        .expect_err("wrong container");
    assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_exec_stream_is_unreachable() {
    let (sim, _dir) = start(SimConfig::default()).await;
    sim.world().lock().faults.cut_exec_streams = 1;
    let c = client(&sim, 0).await;
    let err = c
        .exec(
            "camunda-zeebe-0",
            "orchestration",
            argv(&["echo", "a", "long", "line"]),
            None,
            TIMEOUT,
        )
        .await
        .expect_err("cut");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());
    // The retry goes through.
    let out = c
        .exec(
            "camunda-zeebe-0",
            "orchestration",
            argv(&["echo", "ok"]),
            None,
            TIMEOUT,
        )
        .await
        .expect("runs");
    assert_eq!(out.stdout_lossy(), "ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_reaches_the_gateway() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let c = client(&sim, 0).await;
    let tunnel = c
        .tunnel("camunda-zeebe-gateway", 9600)
        .await
        .expect("tunnel");
    assert!(tunnel.base_url().starts_with("http://127.0.0.1:"));
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let resp = http
            .get(format!("{}/actuator/cluster", tunnel.base_url()))
            .send()
            .await
            .expect("GET through the tunnel");
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["brokers"].as_array().map(Vec::len), Some(8), "{body}");
    }
    // The REST port (named targetPort `http`) reaches the v2 API.
    let rest = c
        .tunnel("camunda-zeebe-gateway", 8080)
        .await
        .expect("tunnel");
    let resp = http
        .get(format!("{}/v2/topology", rest.base_url()))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .expect("GET through the tunnel");
    assert_eq!(resp.status(), 200);
    // The Elasticsearch Service reaches the region's Elasticsearch listener.
    let es = c
        .tunnel("camunda-elasticsearch", 9200)
        .await
        .expect("tunnel");
    http.get(format!("{}/_cluster/health", es.base_url()))
        .send()
        .await
        .expect("an HTTP answer through the tunnel");
    let err = c
        .tunnel("no-such-service", 9600)
        .await
        .expect_err("missing");
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
    let err = c
        .tunnel("camunda-zeebe-gateway", 1234)
        .await
        .expect_err("no such port");
    assert!(matches!(err, Error::Failed(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_survives_dropped_port_forwards() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let c = client(&sim, 0).await;
    let tunnel = c
        .tunnel("camunda-zeebe-gateway", 9600)
        .await
        .expect("tunnel");
    sim.world().lock().faults.drop_port_forwards = 2;
    let http = reqwest::Client::new();
    let mut failures = 0;
    let mut ok = false;
    for _ in 0..6 {
        match http
            .get(format!("{}/actuator/cluster", tunnel.base_url()))
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(resp) if resp.status() == 200 => {
                ok = true;
                break;
            }
            Ok(resp) => panic!("unexpected status {}", resp.status()),
            Err(_) => failures += 1,
        }
    }
    assert!(ok, "no GET succeeded");
    assert!(failures <= 2, "{failures} failures for 2 dropped forwards");
    assert_eq!(sim.world().lock().faults.drop_port_forwards, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_region_is_unreachable() {
    let (sim, _dir) = start(SimConfig::default()).await;
    let c = client(&sim, 1).await;
    assert_eq!(c.server_version().await.expect("version"), "v1.32.0");
    sim.lose_region(1);
    let err = c
        .exec(
            "camunda-zeebe-0",
            "orchestration",
            argv(&["true"]),
            None,
            TIMEOUT,
        )
        .await
        .expect_err("lost");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 5);
    let err = c.list_pods(BROKERS).await.expect_err("lost");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    // The cause, as kubectl would say it, not only kube-rs' "client error (Connect)".
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("connection refused"),
        "{err}"
    );
    let err = c.server_version().await.expect_err("lost");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let err = c
        .tunnel("camunda-zeebe-gateway", 9600)
        .await
        .expect_err("lost");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
}
