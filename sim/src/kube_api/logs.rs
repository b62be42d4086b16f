//! Pod logs (`GET …/pods/{pod}/log?container=…&tailLines=…`, `text/plain`). Broker logs carry the
//! Spring Boot start-up line that names the active profiles, as an operator would grep for it.

use hyper::Response;

use super::objects::{self, ELASTICSEARCH_CONTAINER, ORCHESTRATION_CONTAINER};
use super::{not_found, status_error};
use crate::http::{Body, SimRequest, text};
use crate::world::{RegionId, World};

/// The log lines of a container.
pub fn lines(world: &World, region: RegionId, pod: &str, container: &str) -> Vec<String> {
    let ts = objects::created(world);
    let version = world.cfg.camunda.camunda_version();
    match container {
        ORCHESTRATION_CONTAINER => {
            let profiles: Vec<String> = objects::profiles_active(&world.regions[region].profiles)
                .split(',')
                .map(|p| format!("\"{p}\""))
                .collect();
            vec![
                format!(
                    "{ts} INFO  io.camunda.application.StandaloneCamunda - Starting StandaloneCamunda v{version} using Java 21 with PID 7 ({pod})"
                ),
                format!(
                    "{ts} INFO  io.camunda.application.StandaloneCamunda - The following {} profiles are active: {}",
                    profiles.len(),
                    profiles.join(", ")
                ),
                format!("{ts} INFO  io.camunda.zeebe.broker.system - Version: {version}"),
                format!(
                    "{ts} INFO  io.camunda.application.StandaloneCamunda - Started StandaloneCamunda"
                ),
            ]
        }
        ELASTICSEARCH_CONTAINER => vec![
            format!("[{ts}][INFO ][o.e.n.Node               ] [{pod}] version[8.18.0]"),
            format!("[{ts}][INFO ][o.e.n.Node               ] [{pod}] started"),
        ],
        _ => vec![],
    }
}

/// Serve a log request for `pod` in the region's namespace.
pub fn handle(world: &World, region: RegionId, pod: &str, req: &SimRequest) -> Response<Body> {
    let Some(containers) = objects::pod_containers(world, region, pod) else {
        return not_found("pods", pod);
    };
    let container = match objects::resolve_container(pod, &containers, req.param("container")) {
        Ok(c) => c,
        Err(message) => return status_error(400, "BadRequest", message),
    };
    let mut lines = lines(world, region, pod, &container);
    if let Some(n) = req.param("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    text(200, body)
}
