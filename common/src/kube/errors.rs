//! kube-rs errors mapped to c8dr errors: connection problems are `Unreachable` (exit 5, retried
//! by callers), API refusals are `Api` with the HTTP status.

use kube::client::UpgradeConnectionError;

use crate::Error;

/// The `service` of `Error::Api` for the Kubernetes API.
pub const API_SERVICE: &str = "Kubernetes API";

/// Map a kube-rs error of `what` (e.g. "listing pods") against `location` (context/namespace).
pub(crate) fn map(location: &str, what: &str, e: kube::Error) -> Error {
    match e {
        // 502/503/504 come from what stands in front of an API server that is gone (a load
        // balancer without backends): the cluster is unreachable, and a retry may succeed.
        kube::Error::Api(status) if matches!(status.code, 502..=504) => Error::unreachable(
            format!("the Kubernetes API of {location}"),
            format!("{what}: HTTP {}: {}", status.code, status.message),
        ),
        kube::Error::Api(status) => Error::Api {
            service: API_SERVICE,
            status: status.code,
            message: format!("{what}: {}", status.message),
        },
        kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(code)) => {
            // The upgrade was refused with an HTTP status (404: no such pod; 400: bad container).
            Error::Api {
                service: API_SERVICE,
                status: code.as_u16(),
                message: format!("{what}: the WebSocket upgrade was refused"),
            }
        }
        kube::Error::Auth(err) => Error::usage(format!(
            "{what} in {location}: authentication failed: {err}"
        )),
        kube::Error::InferKubeconfig(err) => Error::usage(format!("{what}: {err}")),
        kube::Error::SerdeError(err) => Error::failed(format!(
            "{what} in {location}: unexpected answer from the API server: {err}"
        )),
        other => Error::unreachable(
            format!("the Kubernetes API of {location}"),
            format!("{what}: {other}"),
        ),
    }
}
