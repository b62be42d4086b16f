//! The helm stand-in's effect on the world (OWNED BY THE HELM WORK: issue 5). Stub interface.

use serde_json::Value;

use crate::world::{HelmRelease, RegionId, World};

/// Apply an `upgrade --install` with the merged `values` to `region`.
pub fn apply_release(world: &mut World, region: RegionId, values: Value) {
    let r = &mut world.regions[region];
    let revision = r.release.as_ref().map(|h| h.revision).unwrap_or(0) + 1;
    r.release = Some(HelmRelease { revision, values });
}

/// The helm stand-in's channel into a running simulator: `POST /c8dr-sim/helm/...` on the
/// region's fake Kubernetes API server (the stand-in finds it through the kube context, as helm
/// would). The kube API server routes every `/c8dr-sim/` path here.
pub fn handle_http(
    _world: &crate::world::SharedWorld,
    _region: RegionId,
    _req: &crate::http::SimRequest,
) -> hyper::Response<crate::http::Body> {
    crate::http::json(
        404,
        &serde_json::json!({"message": "helm stand-in endpoint not implemented yet"}),
    )
}
