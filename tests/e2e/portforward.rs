//! The Zeebe commands with nothing but a kubeconfig and the docs' env vars: the gateway is
//! reached through kubectl c8dr's own port-forward to `<release>-zeebe-gateway`.

use c8dr_e2e::TestEnv;

#[test]
fn failover_through_port_forward_with_only_the_docs_env_vars() {
    let env = TestEnv::start();
    env.lose_region(1);
    env.c8dr("brokers remove --odd --yes")
        .success()
        .stdout_has("brokers [1, 3, 5, 7] removed");
    env.c8dr("exporters disable camundaregion1 --yes")
        .success()
        .stdout_has("camundaregion1 is DISABLED");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([0, 2, 4, 6]));
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
}

#[test]
fn a_tunnel_dropped_during_a_wait_is_reopened() {
    let env = TestEnv::builder()
        .config(|c| c.operation_duration = std::time::Duration::from_millis(60))
        .start();
    env.lose_region(1);
    // Once the change is pending, the next port-forward WebSockets die after their first data.
    let world = env.sim.world().clone();
    let injector = std::thread::spawn(move || {
        for _ in 0..2000 {
            let mut w = world.lock();
            if w.zeebe.pending.is_some() {
                w.faults.drop_port_forwards = 8;
                return true;
            }
            drop(w);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        false
    });
    env.c8dr("brokers remove --odd --yes")
        .success()
        .stdout_has("removed");
    assert!(
        injector.join().unwrap_or(false),
        "the change was observed pending"
    );
    assert_eq!(env.state()["members"], serde_json::json!([0, 2, 4, 6]));
    assert_eq!(
        env.sim.world().lock().faults.drop_port_forwards,
        0,
        "the fault was exercised"
    );
}

#[test]
fn without_rest_credentials_ready_pods_alone_are_not_evidence() {
    // Issue 9 item 1: the surviving cluster's Ready pods say nothing about the other region's
    // brokers; without /v2/topology a forced removal is refused, naming what is missing.
    let mut env = TestEnv::start();
    env.remove_rest_credentials();
    env.c8dr("brokers remove --even --yes")
        .code(3)
        .stderr_has("CAMUNDA_CLIENT_AUTH_METHOD");
    env.lose_region(1);
    env.c8dr("brokers remove --odd --yes")
        .code(3)
        .stderr_has("no evidence that brokers [1, 3, 5, 7] are down");
    assert_eq!(env.state()["members"].as_array().map(Vec::len), Some(8));
}

#[test]
fn a_lost_surviving_context_is_exit_5_and_a_missing_context_exit_2() {
    let mut env = TestEnv::start();
    env.lose_region(0);
    env.c8dr("exporters list").code(5);
    env.set_env("CLUSTER_SURVIVING", "no-such-context");
    env.c8dr("exporters list")
        .code(2)
        .stderr_has("no-such-context");
}

#[test]
fn the_failover_driver_detects_the_lost_region_and_runs_both_steps() {
    let env = TestEnv::start();
    env.c8dr("failover --yes")
        .code(3)
        .stderr_has("no region looks lost");
    env.lose_region(1);
    env.c8dr("failover --lost region0 --yes")
        .code(3)
        .stderr_has("region1 is the region");
    let doc = env
        .kubectl_c8dr(["failover", "--yes", "-o", "json"])
        .success()
        .json();
    assert_eq!(doc["details"]["lostRegion"], "region1");
    assert_eq!(doc["status"], "done");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([0, 2, 4, 6]));
    assert_eq!(s["exporters"]["camundaregion1"], "DISABLED");
    // Re-run after completion: converges, nothing sent.
    env.c8dr("failover --yes")
        .success()
        .stdout_has("already done");
}

#[test]
fn the_failover_driver_works_when_region0_is_lost() {
    let mut env = TestEnv::builder().surviving(1).start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.lose_region(0);
    env.c8dr("failover")
        .success()
        .stdout_has("Camunda runs in region1 alone");
    let s = env.state();
    assert_eq!(s["members"], serde_json::json!([1, 3, 5, 7]));
    assert_eq!(s["exporters"]["camundaregion0"], "DISABLED");
}

/// A proxy address that refuses every connection: anything sent through it fails.
fn dead_proxy() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn behind_a_proxy_kube_access_works_and_the_tunnels_stay_on_loopback() {
    // The operator's shell behind a corporate proxy, with the API server exempted as kubectl
    // users do (kube needs its `http-proxy` feature to even build a client when HTTPS_PROXY is set).
    let mut env = TestEnv::start();
    let proxy = dead_proxy();
    env.set_env("HTTPS_PROXY", proxy.clone());
    env.set_env("HTTP_PROXY", proxy.clone());
    env.set_env("NO_PROXY", "127.0.0.1");
    env.c8dr("topology").success().stdout_has("cluster size 8");
    // Without NO_PROXY: c8dr's own port-forwards (http://127.0.0.1:PORT) must still not be sent
    // to HTTP_PROXY (the kube API itself is reached directly: HTTPS_PROXY is not set).
    env.remove_env("NO_PROXY");
    env.remove_env("HTTPS_PROXY");
    env.c8dr("topology").success().stdout_has("cluster size 8");
    env.c8dr("exporters list")
        .success()
        .stdout_has("camundaregion1");
}

#[test]
fn a_loopback_api_server_is_reached_directly_with_a_proxy_set_as_kubectl_does() {
    // kubectl and helm (Go's httpproxy, useProxy) never send localhost or a loopback address to a
    // proxy. kube-client 5.0.0 did: with HTTPS_PROXY set and no NO_PROXY, every kube call went to
    // the (here dead) proxy and c8dr could not reach a cluster kubectl reaches. Found by the
    // real-stack tier; c8dr now chooses the proxy itself (common/src/kube/proxy.rs).
    let mut env = TestEnv::start();
    let proxy = dead_proxy();
    env.set_env("HTTPS_PROXY", proxy.clone());
    env.set_env("HTTP_PROXY", proxy);
    env.c8dr("topology").success().stdout_has("cluster size 8");
    env.c8dr("exporters list")
        .success()
        .stdout_has("camundaregion1");
}
