//! The gateway's HTTP surface: the management API (port 9600, `/actuator/...`) and the v2 REST
//! API (port 8080, `/v2/topology`, plus an OAuth token endpoint standing in for the IdP).

use base64::Engine;
use hyper::Response;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Exporting;
use super::zones::{self, ZONES_PATH};
use crate::http::{Body, SimRequest, json};
use crate::release::BrokerIds;
use crate::world::{DeadCoordinator, RegionId, SharedWorld, World};

/// Which gateway port a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayPort {
    Management,
    Rest,
}

impl GatewayPort {
    /// The container port this stands for (what a port-forward names).
    pub fn number(self) -> u16 {
        match self {
            Self::Management => 9600,
            Self::Rest => 8080,
        }
    }
}

/// The OAuth access token the simulated IdP hands out for the REST API's client credentials.
pub const SIM_ACCESS_TOKEN: &str = "c8dr-sim-access-token";

pub(super) fn message(status: u16, msg: impl Into<String>) -> Response<Body> {
    json(status, &json!({ "message": msg.into() }))
}

/// Serve one request that reached the gateway of `region`. A request routed to a dead
/// coordinator in `Timeout504` mode is answered only after the gateway's request timeout.
pub async fn handle(
    world: &SharedWorld,
    region: RegionId,
    port: GatewayPort,
    req: &SimRequest,
) -> Response<Body> {
    let (response, delay) = {
        let mut w = world.lock();
        match port {
            GatewayPort::Management => management(&mut w, region, req),
            GatewayPort::Rest => (rest(&mut w, region, req), None),
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// The member the gateway forwards a management request to (docs/api-behaviour.md §1 "Routing"), `None` for
/// requests the gateway does not route to the coordinator. camunda/camunda
/// `ClusterConfigurationManagementRequestSender` (zeebe/dynamic-config/src/main/java/io/camunda/
/// zeebe/dynamic/config/api/, main @e9f41773; "Forwards all requests to the coordinator"): the
/// topology query, add/remove/scale, cancel and the exporter enable/disable requests go to
/// `getDefaultCoordinator()`, the lowest configured member whether it is alive or not; only
/// `forceScaleDown` (the forced removal) goes to `getNextCoordinator(retained members)`.
/// Exporting pause/resume fan out to every partition instead (`ExportingEndpoint`) and are not
/// routed here.
fn coordinator_for(w: &World, req: &SimRequest, path: &str) -> Option<u32> {
    let zeebe = &w.zeebe;
    match (req.method.as_str(), path) {
        ("PATCH", "/actuator/cluster") if req.flag("force") => {
            let remove = req
                .json_body()
                .ok()
                .and_then(|b| id_list(zeebe.ids, &b["brokers"]["remove"]).ok().flatten())
                .unwrap_or_default();
            Some(zeebe.force_coordinator(&remove))
        }
        ("GET", "/actuator/cluster") | ("PATCH", "/actuator/cluster") => {
            Some(zeebe.default_coordinator())
        }
        ("DELETE", p) if zones::served(w) && p.starts_with(ZONES_PATH) && req.flag("force") => {
            // A forced removal is routed past the zone being removed ("the elected coordinator
            // may be inside it and unreachable", ClusterConfigurationManagementRequestSender
            // @ 024e5156d08f).
            let remove = zones::members(w, p.trim_start_matches(ZONES_PATH));
            Some(zeebe.force_coordinator(&remove))
        }
        ("POST" | "DELETE", p) if zones::served(w) && p.starts_with(ZONES_PATH) => {
            Some(zeebe.default_coordinator())
        }
        ("DELETE", p) if p.starts_with("/actuator/cluster/changes/") => {
            Some(zeebe.default_coordinator())
        }
        ("GET", p)
            if w.cfg.camunda.has_change_query() && p.starts_with("/actuator/cluster/changes/") =>
        {
            Some(zeebe.default_coordinator())
        }
        ("GET", "/actuator/exporters") => Some(zeebe.default_coordinator()),
        ("POST", p) if p.starts_with("/actuator/exporters/") => Some(zeebe.default_coordinator()),
        _ => None,
    }
}

/// The gateway's answer when the member it routes to is dead (`ClusterApiUtils.mapError`, see
/// `DeadCoordinator`), and how long it takes to come.
fn dead_member(w: &World, member: u32) -> (Response<Body>, Option<std::time::Duration>) {
    let member = w.zeebe.ids.string(member);
    match w.cfg.dead_coordinator {
        DeadCoordinator::Fail502 => (
            message(
                502,
                format!(
                    "io.atomix.cluster.messaging.MessagingException$NoSuchMemberException: Expected to send a message to member '{member}', but member is not known or not reachable"
                ),
            ),
            None,
        ),
        DeadCoordinator::Timeout504 => {
            let after = w.cfg.gateway_request_timeout;
            (
                message(
                    504,
                    format!(
                        "java.util.concurrent.TimeoutException: Request to member '{member}' timed out in {}",
                        humantime::format_duration(after)
                    ),
                ),
                Some(after),
            )
        }
    }
}

fn management(
    w: &mut World,
    region: RegionId,
    req: &SimRequest,
) -> (Response<Body>, Option<std::time::Duration>) {
    let now = Instant::now();
    let path = req.path.trim_end_matches('/').to_string();
    let path = path.as_str();
    let mutating = req.method != "GET";
    if mutating {
        let body = req.json_body().unwrap_or(Value::Null);
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!(
                "?{}",
                req.query
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            )
        };
        w.zeebe
            .requests
            .push((req.method.clone(), format!("{path}{query}"), body));
        // Injected before the request reaches a broker: nothing is applied. Dry runs pass.
        if let Some((status, left)) = w.faults.zeebe_error.filter(|_| !req.flag("dryRun")) {
            w.faults.zeebe_error = if left > 1 {
                Some((status, left - 1))
            } else {
                None
            };
            return (
                message(status, format!("c8dr-sim injected fault: HTTP {status}")),
                None,
            );
        }
    } else if let Some((status, left)) = w.faults.zeebe_read_error {
        // Fault `zeebe_read_error`: a read the gateway could not answer (502/504, see `Faults`).
        w.faults.zeebe_read_error = (left > 1).then_some((status, left - 1));
        return (
            message(status, format!("c8dr-sim injected fault: HTTP {status}")),
            None,
        );
    }
    if let Some(member) = coordinator_for(w, req, path)
        && !w.reachable_from(region).contains(&member)
    {
        return dead_member(w, member);
    }
    let changes_before = w.zeebe.next_change_id;
    w.zeebe.broadcast_applied = false;
    let response = route(w, req, path, now);
    if mutating && !req.flag("dryRun") {
        // What took effect: a change started, a change cancelled, or an exporting broadcast
        // that every member applied (for tests: a mutation must not be applied twice).
        let applied = w.zeebe.next_change_id != changes_before
            || w.zeebe.broadcast_applied
            || (req.method == "DELETE" && response.status().as_u16() == 200);
        if applied {
            let body = req.json_body().unwrap_or(Value::Null);
            w.zeebe
                .applied
                .push((req.method.clone(), path.to_string(), body));
            if w.faults.drop_mutation_answer > 0 {
                // Fault `drop_mutation_answer`: applied, and the answer never arrives.
                w.faults.drop_mutation_answer -= 1;
                let mut dropped = response;
                dropped.extensions_mut().insert(crate::http::DropConnection);
                return (dropped, None);
            }
        }
    }
    if mutating
        && !req.flag("dryRun")
        && w.faults.lose_mutation_answer > 0
        && response.status().as_u16() == 202
    {
        // The change was started; only the answer is lost (a gateway timeout after the request
        // reached the coordinator).
        w.faults.lose_mutation_answer -= 1;
        let after = w.cfg.gateway_request_timeout;
        return (
            message(
                504,
                format!(
                    "java.util.concurrent.TimeoutException: Request timed out in {}",
                    humantime::format_duration(after)
                ),
            ),
            Some(after),
        );
    }
    (response, None)
}

fn route(w: &mut World, req: &SimRequest, path: &str, now: Instant) -> Response<Body> {
    match (req.method.as_str(), path) {
        ("GET", "/actuator/cluster") => json(200, &w.zeebe.cluster_json()),
        // 8.10 only (`CamundaRelease::has_change_query`); earlier releases have no such route.
        ("GET", p)
            if w.cfg.camunda.has_change_query() && p.starts_with("/actuator/cluster/changes/") =>
        {
            let id = p.trim_start_matches("/actuator/cluster/changes/");
            match id
                .parse::<i64>()
                .ok()
                .and_then(|id| w.zeebe.change_json(id))
            {
                Some(change) => json(200, &change),
                None => message(404, format!("Change {id} not found")),
            }
        }
        ("PATCH", "/actuator/cluster") => patch_cluster(w, req, now),
        ("DELETE", p) if p.starts_with("/actuator/cluster/changes/") => {
            let Ok(id) = p
                .trim_start_matches("/actuator/cluster/changes/")
                .parse::<i64>()
            else {
                return message(400, "Expected a numeric change id");
            };
            let cfg = w.cfg.clone();
            if w.zeebe.cancel(id, now, &cfg) {
                json(200, &w.zeebe.cluster_json())
            } else {
                message(
                    400,
                    format!("Change {id} is not in progress, cannot cancel it"),
                )
            }
        }
        ("GET", "/actuator/exporters") => {
            let list: Vec<Value> = w
                .zeebe
                .exporter_ids()
                .into_iter()
                .map(|id| json!({"exporterId": id, "status": w.zeebe.reported_exporter_status(&id, now)}))
                .collect();
            json(200, &Value::Array(list))
        }
        ("POST", p) if p.starts_with("/actuator/exporters/") => exporter_change(w, req, p, now),
        ("DELETE", p) if zones::served(w) && p.starts_with(ZONES_PATH) => {
            zones::remove(w, req.flag("dryRun"), req.flag("force"), p, now)
        }
        ("DELETE", p)
            if w.cfg.camunda.has_change_query() && p.starts_with(super::tenants::TENANTS_PATH) =>
        {
            super::tenants::discard(w, p, req.flag("dryRun"))
        }
        ("POST", p) if zones::served(w) && p.starts_with(ZONES_PATH) => match req.json_body() {
            Ok(body) => zones::add(w, req.flag("dryRun"), &body, p, now),
            Err(_) => message(400, "Failed to parse request body"),
        },
        ("POST", "/actuator/exporting/pause") => {
            let phase = if req.flag("soft") {
                Exporting::SoftPaused
            } else {
                Exporting::Paused
            };
            exporting_broadcast(w, phase, "/actuator/exporting/pause", now)
        }
        // `RebalancingEndpoint` (see `super::leaders`): 200, no body, in every modelled release.
        ("POST", "/actuator/rebalance") => {
            let alive = w.alive_brokers();
            let cfg = w.cfg.clone();
            w.zeebe.start_rebalance(false, now, &cfg, &alive);
            // For tests: it took effect (recorded in `applied`, like a broadcast every member got).
            w.zeebe.broadcast_applied = true;
            crate::http::empty(200)
        }
        ("POST", "/actuator/exporting/resume") => {
            exporting_broadcast(w, Exporting::Running, "/actuator/exporting/resume", now)
        }
        _ => message(404, format!("No endpoint {} {}", req.method, req.path)),
    }
}

/// The exporting endpoints answer HTTP 200 with a serialised `WebEndpointResponse` (docs/api-behaviour.md §3).
fn wrapped(status: u16, body: Value) -> Response<Body> {
    json(
        200,
        &json!({"body": body, "status": status, "contentType": null}),
    )
}

/// Pause, soft-pause or resume exporting as the gateway does (camunda/camunda main,
/// `service/src/main/java/io/camunda/service/ExportingServices.java` over
/// `service/.../management/PhysicalTenantManagementService.java`, `broadcastPartitionMembers`):
/// first the topology must be complete — every partition with all its members, else
/// `IncompleteTopologyException` ("Expected %s members of partition %s but found %s") and nothing
/// is sent — then one request per member of every partition (leader, followers); the answer is a
/// success only when every member answered. A member that fails does not undo the others: the
/// operation is not atomic (fault `exportingFailsAtPartition`). Each broker applies it to its own
/// replica, whose phase its `GET /actuator/partitions` shows (see [`super::partitions`]).
fn exporting_broadcast(
    w: &mut World,
    phase: Exporting,
    path: &str,
    now: Instant,
) -> Response<Body> {
    let alive = w.alive_brokers();
    let failure = |msg: String| {
        wrapped(
            500,
            json!({"timestamp": super::now_rfc3339(), "status": 500, "error": "Internal Server Error",
                   "message": msg, "path": path}),
        )
    };
    let members = w.zeebe.partition_members();
    for (p, holders) in &members {
        let found = holders.iter().filter(|b| alive.contains(b)).count();
        if found < holders.len() {
            return failure(format!(
                "Expected {} members of partition {p} but found {found}, current topology: {:?}",
                holders.len(),
                holders
            ));
        }
    }
    for (p, holders) in &members {
        if w.faults.exporting_fails_at_partition == Some(*p) {
            // One member's request failed: the partitions before it are changed, this one and
            // the rest are not (the fault fires once).
            w.faults.exporting_fails_at_partition = None;
            return failure(format!(
                "Failed to handle admin request on partition {p}: request timed out after PT5S"
            ));
        }
        for b in holders {
            let current = w.zeebe.exporting.replica(*b, *p).phase;
            if current == Exporting::SoftPaused && phase == Exporting::Paused {
                // camunda/camunda#55838: a hard pause over a soft pause corrupts `.exporterPaused`.
                w.zeebe.pause_file_corrupted = true;
            }
            w.zeebe.exporting.set(*b, *p, phase, now);
        }
    }
    w.zeebe.broadcast_applied = true;
    wrapped(204, Value::Null)
}

fn planned(w: &World, change_id: i64, ops: &[super::Operation]) -> Value {
    json!({
        "changeId": change_id,
        "currentTopology": w.zeebe.brokers_json(&w.zeebe.members),
        "plannedChanges": ops.iter().map(|op| w.zeebe.operation_json(op)).collect::<Vec<_>>(),
        "expectedTopology": w.zeebe.brokers_json(&w.zeebe.expected_members(ops)),
    })
}

/// Start (or, with `dryRun`, only plan) a change, answering 202 with the plan.
pub(super) fn submit(
    w: &mut World,
    ops: Vec<super::Operation>,
    dry_run: bool,
    now: Instant,
) -> Response<Body> {
    if w.zeebe.pending.is_some() {
        return message(409, "Another topology change is in progress");
    }
    if dry_run || ops.is_empty() {
        // Nothing is started; the id is the one a change would get (or the last one).
        let id = if ops.is_empty() {
            w.zeebe.last_change.as_ref().map(|c| c.id).unwrap_or(0)
        } else {
            w.zeebe.next_change_id
        };
        return json(202, &planned(w, id, &ops));
    }
    let body = planned(w, w.zeebe.next_change_id, &ops);
    w.zeebe.start_change(ops, now);
    json(202, &body)
}

/// A list of broker ids in the cluster's id form (numbers, or `<zone>_<index>` strings for a
/// zone-aware 8.10 cluster).
fn id_list(ids: BrokerIds, v: &Value) -> Result<Option<Vec<u32>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                match ids {
                    BrokerIds::Numbered => i.as_u64().map(|n| n as u32),
                    BrokerIds::Zoned => ids.parse(i),
                }
                .ok_or_else(|| format!("Expected a broker id, got {i}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(format!("Expected a list of broker ids, got {other}")),
    }
}

fn patch_cluster(w: &mut World, req: &SimRequest, now: Instant) -> Response<Body> {
    let Ok(body) = req.json_body() else {
        return message(400, "Failed to parse request body");
    };
    let brokers = &body["brokers"];
    let partitions = &body["partitions"];
    let ids = w.zeebe.ids;
    let (add, remove) = match (
        id_list(ids, &brokers["add"]),
        id_list(ids, &brokers["remove"]),
    ) {
        (Ok(a), Ok(r)) => (a.unwrap_or_default(), r.unwrap_or_default()),
        (Err(e), _) | (_, Err(e)) => return message(400, e),
    };
    let count = brokers["count"].as_u64().map(|c| c as u32);
    let rf = partitions["replicationFactor"].as_u64().map(|r| r as u32);
    let pcount = partitions["count"].as_u64().map(|c| c as u32);
    if count.is_some() && (!add.is_empty() || !remove.is_empty()) {
        return message(
            400,
            "Cannot change brokers count and add/remove brokers at the same time. Specify either count or add/remove.",
        );
    }
    if req.flag("force") {
        // Force accepts only `brokers.remove` (docs/api-behaviour.md §1; ClusterEndpoint.forceRemoveBrokers).
        if !add.is_empty() {
            return message(400, "Cannot force add brokers");
        }
        if count.is_some() {
            return message(400, "Cannot force change the broker count.");
        }
        if pcount.is_some() {
            return message(400, "Cannot force change the partition count.");
        }
        if rf.is_some() {
            return message(400, "Cannot force change the replication factor.");
        }
        if remove.is_empty() {
            return message(400, "Must provide a set of brokers to force remove.");
        }
        if w.zeebe.pending.is_some() {
            return message(409, "Another topology change is in progress");
        }
        if let Some(refused) = super::tenants::blocks_removal(w, &remove) {
            return refused;
        }
        return match w.zeebe.plan_force_remove(&remove) {
            Ok(ops) => submit(w, ops, req.flag("dryRun"), now),
            Err(e) => message(400, e),
        };
    }
    if rf.is_some() && zones::served(w) {
        return zones::replication_factor_refused();
    }
    if let Some(pc) = pcount
        && pc != w.zeebe.partitions_count
    {
        // Partition scaling is experimental in 8.8 and outside the DR procedure.
        return message(
            400,
            "c8dr-sim does not simulate changing the partition count",
        );
    }
    let mut target: Vec<u32> = match count {
        Some(c) => (0..c).collect(),
        None => w
            .zeebe
            .members
            .keys()
            .copied()
            .filter(|b| !remove.contains(b))
            .collect(),
    };
    for a in add {
        if !target.contains(&a) {
            target.push(a);
        }
    }
    target.sort_unstable();
    let leaving: Vec<u32> = w
        .zeebe
        .members
        .keys()
        .copied()
        .filter(|b| !target.contains(b))
        .collect();
    if let Some(refused) = super::tenants::blocks_removal(w, &leaving) {
        return refused;
    }
    // Without `replicationFactor` the current (possibly lowered) factor is kept.
    let rf = rf.unwrap_or_else(|| w.zeebe.replication_factor());
    match w.zeebe.plan_scale(&target, rf) {
        Ok(ops) => submit(w, ops, req.flag("dryRun"), now),
        Err(e) => message(400, e),
    }
}

fn exporter_change(w: &mut World, req: &SimRequest, path: &str, now: Instant) -> Response<Body> {
    let rest = path.trim_start_matches("/actuator/exporters/");
    let (id, action) = match rest.split_once('/') {
        Some((id, action)) => (id.to_string(), action.to_string()),
        None => return message(404, format!("No endpoint POST {path}")),
    };
    if !w.zeebe.configured_exporters.contains(&id) {
        return message(
            400,
            format!(
                "Exporter '{id}' is not configured. Configured exporters: {:?}",
                w.zeebe.configured_exporters
            ),
        );
    }
    let enable = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return message(404, format!("No endpoint POST {path}")),
    };
    if enable {
        let body = req.json_body().unwrap_or(Value::Null);
        if let Some(from) = body.get("initializeFrom").and_then(Value::as_str) {
            if !w.zeebe.configured_exporters.iter().any(|e| e == from) {
                return message(
                    400,
                    format!("Cannot initialize exporter '{id}' from unknown exporter '{from}'"),
                );
            }
            if from == id {
                return message(
                    400,
                    format!("Cannot initialize exporter '{id}' from itself"),
                );
            }
            if !req.flag("dryRun") && w.zeebe.pending.is_none() {
                w.zeebe
                    .initialized_from
                    .insert(id.clone(), from.to_string());
            }
        }
    }
    let ops = w.zeebe.plan_exporter(&id, enable);
    submit(w, ops, req.flag("dryRun"), now)
}

fn authorized(w: &World, req: &SimRequest) -> bool {
    let Some(auth) = req.headers.get("authorization") else {
        return false;
    };
    if let Some(token) = auth.strip_prefix("Bearer ") {
        return token == SIM_ACCESS_TOKEN;
    }
    if let Some(basic) = auth.strip_prefix("Basic ") {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", w.cfg.rest_username, w.cfg.rest_password));
        return basic == expected;
    }
    false
}

fn rest(w: &mut World, region: RegionId, req: &SimRequest) -> Response<Body> {
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("POST", "/oauth/token") => {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let get = |k: &str| {
                form.iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
            };
            if get("grant_type") == Some("client_credentials")
                && get("client_id") == Some(w.cfg.rest_username.as_str())
                && get("client_secret") == Some(w.cfg.rest_password.as_str())
            {
                json(
                    200,
                    &json!({"access_token": SIM_ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300}),
                )
            } else {
                json(401, &json!({"error": "invalid_client"}))
            }
        }
        (_, "/cluster/v2/rebalance") if w.cfg.camunda.has_coordinated_rebalance() => {
            if !authorized(w, req) {
                return unauthorized(&req.path);
            }
            if w.cfg.rebalance_forbidden {
                return problem(
                    403,
                    "Forbidden",
                    "the authenticated principal is not a cluster admin",
                );
            }
            cluster_rebalance(w, region, req)
        }
        ("GET", "/v2/topology") => {
            if !authorized(w, req) {
                return unauthorized("/v2/topology");
            }
            json(200, &topology(w, region))
        }
        _ => json(
            404,
            &json!({"title": "Not Found", "status": 404, "detail": format!("No endpoint {}", req.path)}),
        ),
    }
}

fn unauthorized(instance: &str) -> Response<Body> {
    Response::builder()
        .status(401)
        .header("content-type", "application/problem+json")
        .body(crate::http::Body::from(
            serde_json::to_vec(&json!({"type": "about:blank", "title": "Unauthorized",
                "status": 401, "detail": "Full authentication is required", "instance": instance}))
            .unwrap_or_default(),
        ))
        .unwrap_or_else(|_| json(401, &Value::Null))
}

fn problem(status: u16, title: &str, detail: impl Into<String>) -> Response<Body> {
    json(
        status,
        &json!({"type": "about:blank", "title": title, "status": status, "detail": detail.into(),
            "instance": "/cluster/v2/rebalance"}),
    )
}

/// 8.10's coordinated rebalance, `/cluster/v2/rebalance` on the REST port (camunda/camunda
/// `zeebe/gateway-protocol/src/main/proto/v2/cluster-admin.yaml`: `triggerClusterRebalance` 202
/// with a `ClusterBalanceResponse`, 409 while a rebalance or a configuration change runs;
/// `getClusterRebalance` 200 `ClusterBalanceResponse`; `cancelClusterRebalance` 200
/// `{wasRunning}`). The spec puts `dryRun` in the optional JSON body (`ClusterRebalanceRequest`),
/// not in the query; the other settings of that body are accepted and ignored here. It needs the
/// cluster-admin credentials, a set of its own in Camunda; the simulator accepts the REST API's
/// (its choice). The coordinator (the lowest member) must be reachable, else 503.
fn cluster_rebalance(w: &mut World, region: RegionId, req: &SimRequest) -> Response<Body> {
    let now = Instant::now();
    let alive = w.reachable_from(region);
    if !alive.contains(&w.zeebe.default_coordinator()) {
        return problem(
            503,
            "Service Unavailable",
            "No coordinator is currently available or reachable.",
        );
    }
    match req.method.as_str() {
        "GET" => json(200, &w.zeebe.balance_json(&alive, None)),
        "DELETE" => {
            w.zeebe
                .requests
                .push(("DELETE".into(), req.path.clone(), Value::Null));
            let was_running = w.zeebe.cancel_rebalance();
            json(200, &json!({ "wasRunning": was_running }))
        }
        "POST" => {
            let body = if req.body.is_empty() {
                Value::Null
            } else {
                match req.json_body() {
                    Ok(v) => v,
                    Err(e) => return problem(400, "Bad Request", e.to_string()),
                }
            };
            w.zeebe
                .requests
                .push(("POST".into(), req.path.clone(), body.clone()));
            let dry_run = body.get("dryRun").and_then(Value::as_bool).unwrap_or(false);
            if w.zeebe.pending.is_some() || w.zeebe.coordinated_running() {
                return problem(
                    409,
                    "Conflict",
                    "A rebalance or cluster configuration change is already in progress",
                );
            }
            if dry_run {
                let plan = super::leaders::Rebalance {
                    id: w.zeebe.leadership.next_id + 1,
                    coordinated: true,
                    started_at: super::now_rfc3339(),
                    plan: w.zeebe.plan_rebalance(&alive),
                    next_due: now,
                    cancel_requested: false,
                };
                return json(202, &w.zeebe.balance_json(&alive, Some(&plan)));
            }
            let cfg = w.cfg.clone();
            w.zeebe.start_rebalance(true, now, &cfg, &alive);
            w.zeebe
                .applied
                .push(("POST".into(), req.path.clone(), body));
            json(202, &w.zeebe.balance_json(&alive, None))
        }
        m => problem(
            405,
            "Method Not Allowed",
            format!("{m} /cluster/v2/rebalance"),
        ),
    }
}

/// `GET /v2/topology`: only brokers the gateway of `region` can reach; non-members with no
/// partitions.
pub fn topology(w: &World, region: RegionId) -> Value {
    let mut alive = w.reachable_from(region);
    if w.faults.gateway_lists_no_broker {
        alive.clear();
    }
    let members = w.zeebe.partition_members();
    let brokers: Vec<Value> = alive
        .iter()
        .map(|b| {
            let partitions: Vec<Value> = w
                .zeebe
                .members
                .get(b)
                .map(|m| {
                    m.partitions
                        .iter()
                        .map(|(p, c)| {
                            let holders = members.get(p).cloned().unwrap_or_default();
                            let alive_holders =
                                holders.iter().filter(|h| alive.contains(h)).count();
                            let quorum = alive_holders * 2 > holders.len();
                            // The leader as elected and kept (`super::leaders`): after a
                            // failback it stays where the failover put it.
                            let leader = w.zeebe.leader(*p, &alive);
                            let _ = c;
                            json!({
                                "partitionId": p,
                                "role": if leader == Some(*b) { "leader" } else { "follower" },
                                "health": if quorum { "healthy" } else { "unhealthy" },
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let region = World::region_of_broker(*b);
            let ordinal = b / 2;
            let cfg = &w.cfg;
            let rel = &cfg.release;
            let pod = match w.zeebe.ids {
                BrokerIds::Numbered => format!("{rel}-zeebe-{ordinal}"),
                BrokerIds::Zoned => crate::kube_api::objects::broker_pod_name(cfg, region, ordinal),
            };
            // `nodeId` stays the simulator's integer id, also for zone-aware brokers (the
            // simulator's choice: clients must read `brokerId` there); `brokerId` is the string id
            // from 8.10 (`CamundaRelease::topology_has_broker_id`).
            let mut broker = json!({
                "nodeId": b,
                "host": format!("{pod}.{rel}-zeebe.{}.svc", w.regions[region].namespace),
                "port": 26501,
                "partitions": partitions,
                "version": cfg.camunda.camunda_version(),
            });
            if cfg.camunda.topology_has_broker_id() {
                broker["brokerId"] = json!(w.zeebe.ids.string(*b));
            }
            broker
        })
        .collect();
    let last_completed = match &w.zeebe.last_change {
        Some(c) if c.status == "COMPLETED" => c.id.to_string(),
        _ => "-1".to_string(),
    };
    let mut out = json!({
        "brokers": brokers,
        "clusterSize": w.zeebe.members.len(),
        "partitionsCount": w.zeebe.partitions_count,
        "replicationFactor": w.zeebe.replication_factor(),
        "gatewayVersion": w.cfg.camunda.camunda_version(),
        "lastCompletedChangeId": last_completed,
    });
    if w.cfg.camunda.topology_has_cluster_id() {
        // 8.9+ (gateway-protocol v2 cluster.yaml `clusterId`).
        out["clusterId"] = json!(w.zeebe.cluster_id);
    }
    out
}
