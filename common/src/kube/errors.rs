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
            "{what} in {location}: authentication failed: {}",
            chain(&err)
        )),
        kube::Error::InferKubeconfig(err) => Error::usage(format!("{what}: {err}")),
        kube::Error::SerdeError(err) => Error::failed(format!(
            "{what} in {location}: unexpected answer from the API server: {err}"
        )),
        other => Error::unreachable(
            format!("the Kubernetes API of {location}"),
            format!("{what}: {}", chain(&other)),
        ),
    }
}

/// An error with its causes on one line, as kubectl shows them (`x509: …`, `connection
/// refused`): kube-rs' own message for a failed connection is only `ServiceError: client error
/// (Connect)`, the reason is in its sources. A cause already quoted by its parent is not repeated.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn the_causes_are_kept_on_one_line_without_repeats() {
        let e = Layer(
            "ServiceError: client error (Connect)",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "tcp connect error",
                    Some(Box::new(Layer("Connection refused (os error 111)", None))),
                ))),
            ))),
        );
        assert_eq!(
            chain(&e),
            "ServiceError: client error (Connect): tcp connect error: Connection refused (os error 111)"
        );
    }
}
