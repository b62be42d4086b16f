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
            format!("{what}: {}", connection_cause(&chain(&other))),
        ),
    }
}

/// What a failed connection means and what to check, from its causes on one line: kube-rs'
/// wrappers (`ServiceError: client error (Connect)`) say nothing to an operator, the last cause
/// does (`Connection refused`, a DNS failure, an untrusted certificate, a timeout).
pub(crate) fn connection_cause(chain: &str) -> String {
    let detail = chain
        .replace("ServiceError: ", "")
        .replace("client error (Connect): ", "")
        .replace("client error (Connect)", "")
        .trim_matches(|c: char| c == ':' || c.is_whitespace())
        .to_string();
    let lower = detail.to_ascii_lowercase();
    let why = if lower.contains("connection refused") {
        "connection refused: nothing listens at the context's API server address (is the cluster \
         up, is the kubeconfig's server address right?)"
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        "the API server's host name does not resolve (check the kubeconfig's server address, \
         DNS and VPN)"
    } else if lower.contains("certificate") || lower.contains("x509") {
        "the API server's certificate is not trusted (check the kubeconfig's \
         certificate-authority data for this cluster)"
    } else if lower.contains("no route to host") || lower.contains("network is unreachable") {
        "no route to the API server (check the network, VPN or bastion to this cluster)"
    } else if lower.contains("timed out") || lower.contains("deadline") {
        "the API server did not answer in time (check the network to this cluster)"
    } else if lower.contains("connection reset") || lower.contains("broken pipe") {
        "the connection to the API server was cut (a proxy or the server closed it)"
    } else {
        return detail;
    };
    format!("{why} [{detail}]")
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

    #[test]
    fn a_failed_connection_says_what_it_means_not_the_client_libraries_wrappers() {
        let refused = connection_cause(
            "ServiceError: client error (Connect): tcp connect error: Connection refused (os error 111)",
        );
        assert!(
            refused.starts_with("connection refused: nothing listens"),
            "{refused}"
        );
        assert!(!refused.contains("ServiceError"), "{refused}");
        assert!(refused.ends_with("[tcp connect error: Connection refused (os error 111)]"));
        let dns = connection_cause(
            "ServiceError: client error (Connect): dns error: failed to lookup address information",
        );
        assert!(
            dns.starts_with("the API server's host name does not resolve"),
            "{dns}"
        );
        let tls = connection_cause(
            "ServiceError: client error (Connect): invalid peer certificate: UnknownIssuer",
        );
        assert!(
            tls.starts_with("the API server's certificate is not trusted"),
            "{tls}"
        );
        // Unknown causes are kept, without the wrappers.
        assert_eq!(
            connection_cause("ServiceError: something odd"),
            "something odd"
        );
    }

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
