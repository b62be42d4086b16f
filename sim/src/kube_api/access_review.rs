//! `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: "may I do this?", as `kubectl
//! auth can-i` asks it.
//!
//! The request and answer are `SelfSubjectAccessReview` (k8s.io/api `authorization/v1/types.go`:
//! `spec.resourceAttributes` with `namespace`, `verb`, `group`, `resource`, `subresource`,
//! `name`; the answer echoes the spec and adds `status`, a `SubjectAccessReviewStatus` with
//! `allowed`, `denied` and `reason`). The API server answers 201 Created with the object and
//! stores nothing (k8s.io/kubernetes `pkg/registry/authorization/selfsubjectaccessreview/rest.go`
//! `Create`). Every authenticated user may create one (the `system:basic-user` ClusterRole,
//! k8s.io/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`).
//!
//! Everything is allowed except what a test denies in [`crate::world::Faults::denied_permissions`]
//! (`VERB RESOURCE[/SUBRESOURCE][.GROUP]`).

use hyper::Response;
use serde_json::{Value, json};

use crate::http::{Body, SimRequest};
use crate::server::SimShared;

/// The path of the review.
pub const PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// `VERB RESOURCE[/SUBRESOURCE][.GROUP]` of a review's `resourceAttributes`, as
/// [`crate::world::Faults::denied_permissions`] names a permission.
pub fn permission_key(attributes: &Value) -> String {
    let field = |k: &str| attributes[k].as_str().unwrap_or_default().to_string();
    let mut resource = field("resource");
    let sub = field("subresource");
    if !sub.is_empty() {
        resource = format!("{resource}/{sub}");
    }
    let group = field("group");
    if !group.is_empty() {
        resource = format!("{resource}.{group}");
    }
    format!("{} {resource}", field("verb"))
}

/// Answer one review.
pub fn handle(shared: &SimShared, req: &SimRequest) -> Response<Body> {
    if req.method != "POST" {
        return super::status_error(
            405,
            "MethodNotAllowed",
            format!(
                "{} is not supported on selfsubjectaccessreviews",
                req.method
            ),
        );
    }
    let review = match req.json_body() {
        Ok(v) => v,
        Err(e) => return super::status_error(400, "BadRequest", e.to_string()),
    };
    let Some(attributes) = review.pointer("/spec/resourceAttributes") else {
        // Non-resource URLs (`/version`, discovery) are allowed to every authenticated user.
        return answer(&review, true, "");
    };
    let key = permission_key(attributes);
    let denied = shared.world.lock().faults.denied_permissions.contains(&key);
    if denied {
        answer(&review, false, "")
    } else {
        answer(&review, true, "RBAC: allowed by the simulator")
    }
}

fn answer(review: &Value, allowed: bool, reason: &str) -> Response<Body> {
    let mut status = json!({"allowed": allowed});
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    crate::http::json(
        201,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": review.get("spec").cloned().unwrap_or(Value::Null),
            "status": status,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_named_as_kubectl_auth_can_i_names_them() {
        assert_eq!(
            permission_key(&json!({"verb": "create", "resource": "pods", "subresource": "exec"})),
            "create pods/exec"
        );
        assert_eq!(
            permission_key(&json!({"verb": "patch", "group": "apps", "resource": "statefulsets"})),
            "patch statefulsets.apps"
        );
        assert_eq!(
            permission_key(&json!({"verb": "list", "group": "", "resource": "pods"})),
            "list pods"
        );
    }
}
