//! The permissions c8dr and Helm need in each region's Camunda namespace: the README's "RBAC in
//! a real cluster" table as data (`tests/real-stack/rbac/role.yaml` is the same table as a Role;
//! a test below keeps the three equal; the krew manifest's caveat is written from it by
//! xtask/src/krew.rs), and the question `kubectl auth can-i` asks the API
//! server for one of them: a `SelfSubjectAccessReview` (k8s.io/api `authorization/v1/types.go`),
//! which every authenticated user may create (the `system:basic-user` ClusterRole).

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::RegionClient;
use crate::Result;

/// One permission of the table: a verb on a resource of an API group in the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub verb: &'static str,
    /// `""` for the core group.
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    /// What needs it (the README table's first column).
    pub needed_by: &'static str,
}

impl std::fmt::Display for Permission {
    /// As `kubectl auth can-i` takes it: `create pods/exec`, `patch statefulsets.apps`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(s) = self.subresource {
            write!(f, "/{s}")?;
        }
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        Ok(())
    }
}

const ZEEBE: &str = "every Zeebe command: port-forward to the gateway and broker pods";
const ES: &str = "es commands, es copy and failback: curl in the Elasticsearch pod";
const STATUS: &str = "status, profiles";
const HELM: &str = "helm c8dr redeploy: Helm's release storage and the chart's objects";
const HELM_WAIT: &str = "helm c8dr redeploy --wait";

const fn p(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    needed_by: &'static str,
) -> Permission {
    Permission {
        verb,
        group,
        resource,
        subresource,
        needed_by,
    }
}

/// Every permission of the README's RBAC table, in its order.
pub const PERMISSIONS: &[Permission] = &[
    p("get", "", "services", None, ZEEBE),
    p("list", "", "pods", None, ZEEBE),
    p("get", "", "pods", Some("portforward"), ZEEBE),
    p("create", "", "pods", Some("portforward"), ZEEBE),
    p("get", "", "configmaps", None, STATUS),
    p("get", "", "pods", Some("log"), "profiles --logs"),
    p("get", "", "pods", Some("exec"), ES),
    p("create", "", "pods", Some("exec"), ES),
    p("get", "", "secrets", None, ES),
    p("list", "", "secrets", None, HELM),
    p("create", "", "secrets", None, HELM),
    p("update", "", "secrets", None, HELM),
    p("delete", "", "secrets", None, HELM),
    p("patch", "", "secrets", None, HELM),
    p("create", "", "services", None, HELM),
    p("patch", "", "services", None, HELM),
    p("delete", "", "services", None, HELM),
    p("create", "", "configmaps", None, HELM),
    p("patch", "", "configmaps", None, HELM),
    p("delete", "", "configmaps", None, HELM),
    p("get", "apps", "statefulsets", None, HELM),
    p("create", "apps", "statefulsets", None, HELM),
    p("patch", "apps", "statefulsets", None, HELM),
    p("delete", "apps", "statefulsets", None, HELM),
    p("list", "", "services", None, HELM_WAIT),
    p("watch", "", "services", None, HELM_WAIT),
    p("list", "", "configmaps", None, HELM_WAIT),
    p("watch", "", "configmaps", None, HELM_WAIT),
    p("list", "apps", "statefulsets", None, HELM_WAIT),
    p("watch", "apps", "statefulsets", None, HELM_WAIT),
];

impl RegionClient {
    /// Whether the API server lets this client's user do `permission` in its namespace
    /// (`kubectl auth can-i VERB RESOURCE -n NS`): `POST
    /// /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, which changes nothing.
    pub async fn can_i(&self, permission: &Permission) -> Result<bool> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(self.namespace().to_string()),
                    verb: Some(permission.verb.to_string()),
                    group: Some(permission.group.to_string()),
                    resource: Some(permission.resource.to_string()),
                    subresource: permission.subresource.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client().clone());
        let answer = self
            .call(
                &format!("asking whether it may {permission}"),
                api.create(&PostParams::default(), &review),
            )
            .await?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// `verb resource[/sub][.group]` of every rule of a Role manifest.
    fn role_rules(yaml: &str) -> BTreeSet<String> {
        let role: serde_json::Value = serde_saphyr::from_str(yaml).expect("role.yaml parses");
        let mut out = BTreeSet::new();
        for rule in role["rules"].as_array().expect("rules") {
            let strings = |k: &str| -> Vec<String> {
                rule[k]
                    .as_array()
                    .expect("a list")
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        let named = if group.is_empty() {
                            format!("{verb} {resource}")
                        } else {
                            format!("{verb} {resource}.{group}")
                        };
                        out.insert(named);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_table_is_the_real_stack_role_exactly() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/real-stack/rbac/role.yaml");
        let yaml = std::fs::read_to_string(&path).expect("tests/real-stack/rbac/role.yaml");
        let ours: BTreeSet<String> = PERMISSIONS.iter().map(ToString::to_string).collect();
        assert_eq!(ours.len(), PERMISSIONS.len(), "no permission twice");
        assert_eq!(ours, role_rules(&yaml));
    }

    #[test]
    fn permissions_read_as_kubectl_auth_can_i_takes_them() {
        let exec = PERMISSIONS
            .iter()
            .find(|p| p.subresource == Some("exec") && p.verb == "create")
            .expect("create pods/exec");
        assert_eq!(exec.to_string(), "create pods/exec");
        let sts = PERMISSIONS
            .iter()
            .find(|p| p.group == "apps" && p.verb == "patch")
            .expect("patch statefulsets");
        assert_eq!(sts.to_string(), "patch statefulsets.apps");
    }
}
