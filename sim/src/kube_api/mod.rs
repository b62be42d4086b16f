//! A fake Kubernetes API server per region that real `kubectl` and kube-rs both accept.
//!
//! Protocol facts follow the notes on kubectl, helm and kube-rs (section 3): discovery documents,
//! `metav1.Status` errors, the WebSocket channel protocol for exec (v5, else v4) and kube-rs's
//! port-forward (v4). `kubectl port-forward` (SPDY) is deliberately not simulated: it gets a 400.

pub mod access_review;
pub mod discovery;
pub mod exec;
pub mod logs;
pub mod objects;
pub mod portforward;
pub mod selector;
pub mod table;
pub mod websocket;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::http::{Body, SimRequest};
use crate::server::SimShared;
use crate::world::RegionId;

/// A `metav1.Status` failure with its HTTP code; kube-rs turns it into `Error::Api(Status)`,
/// kubectl prints `Error from server (<reason>): <message>`.
pub fn status_error(code: u16, reason: &str, message: impl Into<String>) -> Response<Body> {
    crate::http::json(code, &status_failure(code, reason, message))
}

/// The JSON body of a failure `Status`.
pub fn status_failure(code: u16, reason: &str, message: impl Into<String>) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": reason,
        "code": code,
    })
}

/// `404 NotFound` for an object of `resource` (plural, as the real server words it).
pub fn not_found(resource: &str, name: &str) -> Response<Body> {
    status_error(404, "NotFound", format!("{resource} \"{name}\" not found"))
}

/// A parsed `/api/v1/...` path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CorePath {
    /// `None` for a cluster-wide list (`/api/v1/pods`).
    namespace: Option<String>,
    resource: String,
    name: Option<String>,
    subresource: Option<String>,
}

fn parse_core_path(path: &str) -> Option<CorePath> {
    let rest = path.strip_prefix("/api/v1/")?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        ["namespaces", ns, resource, tail @ ..] if tail.len() <= 2 => Some(CorePath {
            namespace: Some((*ns).to_string()),
            resource: (*resource).to_string(),
            name: tail.first().map(|s| s.to_string()),
            subresource: tail.get(1).map(|s| s.to_string()),
        }),
        ["namespaces", name] => Some(CorePath {
            namespace: None,
            resource: "namespaces".to_string(),
            name: Some((*name).to_string()),
            subresource: None,
        }),
        [resource] => Some(CorePath {
            namespace: None,
            resource: (*resource).to_string(),
            name: None,
            subresource: None,
        }),
        _ => None,
    }
}

/// Serve one request to region `region`'s API server.
pub async fn handle(shared: SimShared, region: RegionId, req: Request<Incoming>) -> Response<Body> {
    if !shared.reachable(region) {
        // The region was lost while a client still held a keep-alive connection (new
        // connections are refused by the listener's switch). Answer as a load balancer with no
        // backend would, and close the connection so the next attempt is refused.
        let mut resp = status_error(
            503,
            "ServiceUnavailable",
            "the region's Kubernetes API server is unavailable",
        );
        resp.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
        return resp;
    }
    let (unavailable, delay) = {
        let mut w = shared.world.lock();
        let unavailable = w.faults.kube_api_unavailable > 0;
        if unavailable {
            w.faults.kube_api_unavailable -= 1;
        }
        (unavailable, w.faults.kube_api_delay)
    };
    if unavailable {
        // Fault `kube_api_unavailable`: the API server is briefly down behind its load balancer.
        return status_error(
            503,
            "ServiceUnavailable",
            "the region's Kubernetes API server is unavailable",
        );
    }
    if let Some(d) = delay {
        // Fault `kube_api_delay`: an overloaded API server queues the request.
        tokio::time::sleep(d).await;
    }
    let path = req.uri().path().to_string();
    if let Some(core) = parse_core_path(&path)
        && let (Some(ns), Some(pod), Some(sub)) = (&core.namespace, &core.name, &core.subresource)
        && core.resource == "pods"
        && (sub == "exec" || sub == "portforward" || sub == "attach")
    {
        let (ns, pod, sub) = (ns.clone(), pod.clone(), sub.clone());
        return match sub.as_str() {
            "exec" => exec::handle(shared, region, &ns, &pod, req).await,
            "portforward" => portforward::handle(shared, region, &ns, &pod, req).await,
            _ => status_error(400, "BadRequest", "attach is not simulated"),
        };
    }
    let req = match SimRequest::read(req).await {
        Ok(r) => r,
        Err(e) => return status_error(400, "BadRequest", e.to_string()),
    };
    if path.starts_with("/c8dr-sim/") {
        // The helm stand-in's channel into the simulator (see `crate::helm::handle_http`).
        return crate::helm::handle_http(&shared.world, region, &req);
    }
    if path == access_review::PATH {
        return access_review::handle(&shared, &req);
    }
    if let Some(resp) = discovery::handle(&req) {
        return resp;
    }
    let Some(core) = parse_core_path(&path) else {
        return status_error(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    if req.method != "GET" {
        return status_error(
            405,
            "MethodNotAllowed",
            format!(
                "{} is not supported by the simulated API server",
                req.method
            ),
        );
    }
    let world = shared.world.lock();
    let region_ns = world.regions[region].namespace.clone();
    // Another namespace exists but holds nothing of ours: empty lists, 404 on get.
    let in_namespace = core.namespace.as_deref().is_none_or(|ns| ns == region_ns);
    match (core.name.as_deref(), core.subresource.as_deref()) {
        (None, None) => {
            let Some(kind) = objects::list_kind(&core.resource) else {
                return unknown_resource(&core.resource);
            };
            let items = if in_namespace {
                objects::list(&world, region, &core.resource)
            } else {
                vec![]
            };
            let items = match req.param("labelSelector") {
                Some(s) => match selector::Selector::parse(s) {
                    Ok(sel) => items
                        .into_iter()
                        .filter(|o| sel.matches(&o["metadata"]["labels"]))
                        .collect(),
                    Err(e) => return status_error(400, "BadRequest", e),
                },
                None => items,
            };
            if table::wants_table(req.headers.get("accept").map(String::as_str)) {
                return crate::http::json(200, &table::table(&core.resource, &items, &age(&world)));
            }
            crate::http::json(
                200,
                &json!({
                    "kind": kind,
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": "1"},
                    "items": items,
                }),
            )
        }
        (Some(name), None) => {
            if objects::list_kind(&core.resource).is_none() {
                return unknown_resource(&core.resource);
            }
            let found = in_namespace
                .then(|| objects::get(&world, region, &core.resource, name))
                .flatten();
            match found {
                Some(obj) if table::wants_table(req.headers.get("accept").map(String::as_str)) => {
                    crate::http::json(200, &table::table(&core.resource, &[obj], &age(&world)))
                }
                Some(obj) => crate::http::json(200, &obj),
                None => not_found(&core.resource, name),
            }
        }
        (Some(name), Some("log")) if core.resource == "pods" => {
            if !in_namespace {
                return not_found("pods", name);
            }
            logs::handle(&world, region, name, &req)
        }
        _ => unknown_resource(&core.resource),
    }
}

/// The age of every object: they were created an hour before the simulator started (see
/// `objects::created`).
fn age(world: &crate::world::World) -> String {
    table::short_age(world.started.elapsed().as_secs() + 3600)
}

fn unknown_resource(resource: &str) -> Response<Body> {
    status_error(
        404,
        "NotFound",
        format!("the server could not find the requested resource ({resource})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_paths_parse() {
        let p = parse_core_path("/api/v1/namespaces/ns/pods/p/exec").expect("parses");
        assert_eq!(p.namespace.as_deref(), Some("ns"));
        assert_eq!(p.resource, "pods");
        assert_eq!(p.name.as_deref(), Some("p"));
        assert_eq!(p.subresource.as_deref(), Some("exec"));
        let p = parse_core_path("/api/v1/pods").expect("parses");
        assert_eq!(p.namespace, None);
        assert!(parse_core_path("/api/v1/namespaces/ns/pods/p/exec/x").is_none());
    }
}
