//! Discovery documents kubectl needs on a cold cache (notes on kubectl/kube-rs, section 3.6):
//! without `/api/v1` listing `pods`, kubectl fails with `the server doesn't have a resource type
//! "pods"`. The gcloud kubectl dispatcher calls `GET /version?timeout=5s` to pick a kubectl.

use hyper::Response;
use serde_json::{Value, json};

use crate::http::{Body, SimRequest, json};

/// The Kubernetes version the simulated API servers report.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "c8dr-sim",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn resource(name: &str, kind: &str, verbs: &[&str]) -> Value {
    json!({
        "name": name,
        "singularName": if name.contains('/') { "" } else { name.trim_end_matches('s') },
        "namespaced": true,
        "kind": kind,
        "verbs": verbs,
    })
}

/// The `APIResourceList` of the core group: what the simulator serves.
pub fn core_resources() -> Value {
    let read = ["get", "list"];
    let mut pods = resource("pods", "Pod", &read);
    pods["shortNames"] = json!(["po"]);
    let mut services = resource("services", "Service", &read);
    services["shortNames"] = json!(["svc"]);
    let mut configmaps = resource("configmaps", "ConfigMap", &read);
    configmaps["shortNames"] = json!(["cm"]);
    let mut namespaces = resource("namespaces", "Namespace", &read);
    namespaces["namespaced"] = json!(false);
    namespaces["singularName"] = json!("namespace");
    namespaces["shortNames"] = json!(["ns"]);
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            pods,
            resource("pods/exec", "PodExecOptions", &["create", "get"]),
            resource("pods/log", "Pod", &["get"]),
            resource("pods/portforward", "PodPortForwardOptions", &["create", "get"]),
            services,
            configmaps,
            resource("secrets", "Secret", &read),
            namespaces,
        ],
    })
}

/// Answer a discovery request, or `None` when the path is not one.
pub fn handle(req: &SimRequest) -> Option<Response<Body>> {
    if req.method != "GET" {
        return None;
    }
    let body = match req.path.trim_end_matches('/') {
        "/version" => version(),
        "/api" => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }),
        "/apis" => json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        "/api/v1" => core_resources(),
        _ => return None,
    };
    Some(json(200, &body))
}
