//! The session's way into a cluster when no direct URL is given: an in-process port-forward to
//! the gateway service. (Wired to the kube access layer.)

use url::Url;

use crate::error::{Error, Result};
use crate::session::Session;

/// Open (or reuse) a tunnel to `<release>-zeebe-gateway:<port>` and return its local base URL.
pub async fn gateway_tunnel(_session: &Session, port: u16) -> Result<Url> {
    Err(Error::usage(format!(
        "no direct URL for the gateway's port {port} and port-forwarding is not available in this build"
    )))
}

/// Broker ids whose pods run Ready in the session's region.
pub async fn ready_broker_ids(_session: &Session) -> Result<Vec<u32>> {
    Err(Error::refused(
        "cannot verify that the brokers to remove are down: /v2/topology could not be read (set \
         CAMUNDA_CLIENT_AUTH_* and --rest-url) and no kube access is available; pass --skip-liveness-check \
         only if you have verified it yourself",
    ))
}
