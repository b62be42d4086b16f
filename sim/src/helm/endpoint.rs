//! The simulator's side of the stand-in: the apply endpoint on each region's API server.

use serde_json::json;

use super::{APPLY_PATH, apply_release};
use crate::world::RegionId;

/// The helm stand-in's channel into a running simulator: `POST /c8dr-sim/helm/apply` on the
/// region's fake Kubernetes API server (the stand-in finds it through the kube context, as helm
/// would). Body: `{namespace, release, values, argv}`.
pub fn handle_http(
    world: &crate::world::SharedWorld,
    region: RegionId,
    req: &crate::http::SimRequest,
) -> hyper::Response<crate::http::Body> {
    if req.method != "POST" || req.path != APPLY_PATH {
        return crate::http::json(
            404,
            &json!({"message": format!("no helm stand-in endpoint {} {}", req.method, req.path)}),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return crate::http::json(400, &json!({"message": format!("bad body: {e}")})),
    };
    let namespace = body["namespace"].as_str().unwrap_or_default();
    let release = body["release"].as_str().unwrap_or_default();
    let mut w = world.lock();
    if namespace != w.regions[region].namespace {
        return crate::http::json(
            404,
            &json!({"message": format!("create: failed to create: namespaces \"{namespace}\" not found")}),
        );
    }
    if release != w.cfg.release {
        return crate::http::json(
            400,
            &json!({"message": format!(
                "the simulator runs release \"{}\", not \"{release}\"", w.cfg.release
            )}),
        );
    }
    if w.faults.helm_fails_region == Some(region) {
        // Fault `helm_fails_region`: another helm operation holds the release (helm/helm v3.17.0
        // pkg/action/upgrade.go `errPending`); nothing is applied.
        return crate::http::json(
            409,
            &json!({"message": "another operation (install/upgrade/rollback) is in progress"}),
        );
    }
    let installed = w.regions[region].release.is_some();
    apply_release(&mut w, region, body["values"].clone());
    let r = &w.regions[region];
    crate::http::json(
        200,
        &json!({
            "installed": !installed,
            "revision": r.release.as_ref().map(|h| h.revision),
            "profiles": r.profiles,
            "schemaManagerDisabled": r.schema_manager_disabled,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use serde_json::Value;

    fn request(body: Value) -> crate::http::SimRequest {
        crate::http::SimRequest {
            method: "POST".into(),
            path: APPLY_PATH.into(),
            query: vec![],
            headers: Default::default(),
            body: serde_json::to_vec(&body).unwrap_or_default().into(),
        }
    }
    #[test]
    fn the_endpoint_refuses_a_foreign_namespace() {
        let world = crate::world::SharedWorld::new(World::healthy(Default::default()));
        let resp = handle_http(
            &world,
            0,
            &request(json!({"namespace": "camunda-region1", "release": "camunda", "values": {}})),
        );
        assert_eq!(resp.status(), 404);
        let resp = handle_http(
            &world,
            0,
            &request(json!({"namespace": "camunda-region0", "release": "camunda", "values": {}})),
        );
        assert_eq!(resp.status(), 200);
        assert_eq!(
            world.lock().regions[0].release.as_ref().map(|h| h.revision),
            Some(2)
        );
    }
}
