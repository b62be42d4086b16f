//! A fake Kubernetes API server per region (OWNED BY THE KUBE API WORK: issue 3). Stub interface.

use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::http::{Body, json};
use crate::server::SimShared;
use crate::world::RegionId;

/// Serve one request to region `region`'s API server.
pub async fn handle(
    _shared: SimShared,
    _region: RegionId,
    _req: Request<Incoming>,
) -> Response<Body> {
    json(
        404,
        &serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "not simulated yet", "reason": "NotFound", "code": 404}),
    )
}
