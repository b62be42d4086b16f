//! Physical tenants (8.10): a tenant removed from the brokers' static configuration is kept by
//! the cluster as disabled, with its data and partitions, and blocks every member removal until
//! it is discarded.
//!
//! Upstream (camunda/camunda, by PR; the stored code's branch is not known):
//! - PR #60102 "report disabled physical tenant status on GET /actuator/cluster": a disabled
//!   tenant is reported `disabled: true` without `routing`; an enabled one by its `routing`.
//!   `physicalTenants` is absent on a cluster with only the default tenant
//!   (`dist/src/main/resources/api/cluster/components.yaml` @ 0206810afc56 `GetTopologyResponse`).
//! - camunda/camunda#60344 (8.10.0-alpha5, rc1): "A broker that holds a disabled physical
//!   tenant's partitions cannot be removed from the cluster, gracefully or forcibly"; the
//!   coordinator answers `InvalidRequest` (HTTP 400) "Expected to remove member <id>, but the
//!   member still has partitions assigned. Partitions by group: {<tenant>=…}" and changes nothing.
//! - PR #60571: `DELETE /actuator/cluster/physical-tenants/{id}[?force=true]` discards a disabled
//!   tenant ("Does not delete the tenant's data"), 202 with the planned change; an enabled or
//!   unknown tenant is refused (`RemovePhysicalTenantRequestTransformer` @ 239ac32a1999).
//!
//! The simulator models one disabled tenant (`SimConfig::disabled_tenant`) that holds a replica
//! of every partition on every member; the default tenant is the one the rest of the simulator
//! runs.

use hyper::Response;
use serde_json::{Value, json};

use super::http::message;
use crate::http::{Body, json as json_response};
use crate::world::World;

pub const TENANTS_PATH: &str = "/actuator/cluster/physical-tenants/";

/// `GET /actuator/cluster` of a cluster with more than the default tenant, unscoped: "`version`,
/// `lastChange`, `pendingChange`, and `routing` are all absent", and `physicalTenants` lists
/// every tenant (components.yaml @ 0206810afc56).
pub fn multi_tenant(out: &mut Value, disabled: &str) {
    if let Value::Object(map) = out {
        for key in ["version", "lastChange", "pendingChange", "routing"] {
            map.remove(key);
        }
    }
    out["physicalTenants"] = json!([
        {"id": "default", "routing": {"version": 1}},
        {"id": disabled, "disabled": true},
    ]);
}

/// A member removal is refused while the disabled tenant still holds partitions.
pub fn blocks_removal(w: &World, removed: &[u32]) -> Option<Response<Body>> {
    let tenant = w.zeebe.disabled_tenant.as_ref()?;
    let member = removed.first()?;
    Some(message(
        400,
        format!(
            "InvalidRequest: IllegalStateException: Expected to remove member {}, but the member \
             still has partitions assigned. Partitions by group: {{{tenant}={{1=[{}]}}}}",
            w.zeebe.ids.string(*member),
            w.zeebe.ids.string(*member)
        ),
    ))
}

/// `DELETE /actuator/cluster/physical-tenants/{id}`.
pub fn discard(w: &mut World, path: &str, dry_run: bool) -> Response<Body> {
    let id = path.trim_start_matches(TENANTS_PATH);
    match &w.zeebe.disabled_tenant {
        Some(t) if t == id => {}
        _ if id == "default" => {
            return message(
                400,
                format!(
                    "Expected to remove physical tenant '{id}', but it is still enabled. Remove it from the brokers' static configuration first, so that it is disabled, and then retry"
                ),
            );
        }
        _ => {
            return message(
                404,
                format!("Expected to remove physical tenant '{id}', but there's no such tenant"),
            );
        }
    }
    if w.zeebe.pending.is_some() {
        return message(409, "Another topology change is in progress");
    }
    let change_id = w.zeebe.next_change_id;
    if !dry_run {
        w.zeebe.disabled_tenant = None;
        w.zeebe.next_change_id += 1;
    }
    json_response(
        202,
        &json!({"changeId": change_id, "currentTopology": [], "plannedChanges": [], "expectedTopology": []}),
    )
}
