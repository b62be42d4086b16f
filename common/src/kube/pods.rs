//! Choosing a pod and a port the way kubectl does for `port-forward svc/…` and `exec`
//! (kubectl `pkg/util/podutils` `ActivePods`, `pkg/util/service_port.go`; notes, section 3.5).

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::{Error, Result};

fn is_running(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// The pod's `Ready` condition is `True`.
pub fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).sum())
        .unwrap_or(0)
}

/// Whether the pod has a container of that name.
/// Every environment entry of every container of `pods`.
pub fn env_entries(pods: &[Pod]) -> impl Iterator<Item = &k8s_openapi::api::core::v1::EnvVar> {
    pods.iter()
        .filter_map(|p| p.spec.as_ref())
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.env.iter().flatten())
}

pub fn has_container(p: &Pod, container: &str) -> bool {
    p.spec
        .as_ref()
        .is_some_and(|s| s.containers.iter().any(|c| c.name == container))
}

/// The most active pod, kubectl's order: assigned to a node, Running, Ready, not being deleted,
/// fewest restarts; ties broken by name for determinism.
pub fn best_pod(pods: &[Pod]) -> Option<&Pod> {
    pods.iter().max_by(|a, b| {
        let key = |p: &Pod| {
            (
                p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some(),
                is_running(p),
                is_ready(p),
                p.metadata.deletion_timestamp.is_none(),
                -restarts(p),
            )
        };
        key(a)
            .cmp(&key(b))
            // Reverse the name order so that max_by picks the lowest name on a tie.
            .then_with(|| b.metadata.name.cmp(&a.metadata.name))
    })
}

/// The Service's selector as a label selector string (`k=v,…`), `None` without a selector.
pub fn service_selector(svc: &Service) -> Option<String> {
    let sel = svc.spec.as_ref()?.selector.as_ref()?;
    if sel.is_empty() {
        return None;
    }
    Some(
        sel.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Map a Service port to the pod's container port: a numeric `targetPort` as is (0 or absent:
/// the port itself), a named one looked up among the pod's container ports; a headless Service
/// forwards the port unchanged.
pub fn target_port(svc: &Service, port: u16, pod: &Pod) -> Result<u16> {
    let name = svc.metadata.name.as_deref().unwrap_or("service");
    let spec = svc
        .spec
        .as_ref()
        .ok_or_else(|| Error::failed(format!("service {name} has no spec")))?;
    if spec.cluster_ip.as_deref() == Some("None") {
        return Ok(port);
    }
    let sp = spec
        .ports
        .iter()
        .flatten()
        .find(|p| p.port == i32::from(port))
        .ok_or_else(|| {
            Error::failed(format!(
                "service {name} does not have a service port {port}"
            ))
        })?;
    match &sp.target_port {
        None => Ok(port),
        Some(IntOrString::Int(0)) => Ok(port),
        Some(IntOrString::Int(n)) => u16::try_from(*n)
            .map_err(|_| Error::failed(format!("service {name}: invalid targetPort {n}"))),
        Some(IntOrString::String(port_name)) => pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(port_name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| {
                Error::failed(format!(
                    "service {name}: pod {} has no container port named {port_name:?}",
                    pod.metadata.name.as_deref().unwrap_or("?")
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"nodeName": "n1", "containers": [{"name": "orchestration", "ports": [
                {"name": "server", "containerPort": 9600}, {"name": "http", "containerPort": 8080}
            ]}]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        }))
        .expect("pod")
    }

    fn service(cluster_ip: &str) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "gw"},
            "spec": {"clusterIP": cluster_ip, "selector": {"b": "2", "a": "1"}, "ports": [
                {"name": "server", "port": 9600, "targetPort": "server"},
                {"name": "num", "port": 80, "targetPort": 8080},
                {"name": "zero", "port": 81, "targetPort": 0},
            ]},
        }))
        .expect("service")
    }

    #[test]
    fn running_and_ready_pods_win() {
        let pods = vec![
            pod("p0", "Pending", false),
            pod("p1", "Running", false),
            pod("p2", "Running", true),
            pod("p3", "Running", true),
        ];
        assert_eq!(
            best_pod(&pods).and_then(|p| p.metadata.name.as_deref()),
            Some("p2")
        );
        assert!(best_pod(&[]).is_none());
    }

    #[test]
    fn service_ports_map_to_container_ports() {
        let p = pod("p", "Running", true);
        let svc = service("10.0.0.1");
        assert_eq!(service_selector(&svc).as_deref(), Some("a=1,b=2"));
        assert_eq!(target_port(&svc, 9600, &p).expect("named"), 9600);
        assert_eq!(target_port(&svc, 80, &p).expect("number"), 8080);
        assert_eq!(target_port(&svc, 81, &p).expect("zero"), 81);
        assert!(target_port(&svc, 1234, &p).is_err());
        assert_eq!(
            target_port(&service("None"), 1234, &p).expect("headless"),
            1234
        );
    }
}
