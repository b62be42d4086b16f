//! Configuration: flags override environment variables, which override defaults (SPEC section 2).
//! The environment variables are the ones the Camunda docs have the operator export.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::region::{RegionId, RegionRef};

/// A snapshot of the environment, so that resolution is a pure function (and testable).
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
    pub fn release(&self) -> String {
        self.get("CAMUNDA_RELEASE_NAME")
            .unwrap_or("camunda")
            .to_string()
    }
}

/// Where a region lives: its kube context and namespace (None = kubeconfig's current ones).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionLocation {
    pub id: Option<RegionId>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// Which region id the docs' `REGION_SURVIVING`/`REGION_RECREATED` name, if any.
fn side_id(env: &Env, side: &str) -> Result<Option<RegionId>> {
    let own = format!("REGION_{side}");
    if let Some(v) = env.get(&own) {
        return v
            .parse()
            .map(Some)
            .map_err(|_| Error::usage(format!("{own}={v}: expected region0 or region1")));
    }
    let other = if side == "SURVIVING" {
        "RECREATED"
    } else {
        "SURVIVING"
    };
    let other_key = format!("REGION_{other}");
    match env.get(&other_key) {
        Some(v) => v
            .parse::<RegionId>()
            .map(|r| Some(r.other()))
            .map_err(|_| Error::usage(format!("{other_key}={v}: expected region0 or region1"))),
        None => Ok(None),
    }
}

fn by_index(env: &Env, id: RegionId) -> (Option<String>, Option<String>) {
    let i = id.index();
    (
        env.get(&format!("CLUSTER_{i}")).map(String::from),
        env.get(&format!("CAMUNDA_NAMESPACE_{i}")).map(String::from),
    )
}

fn by_side(env: &Env, side: &str) -> (Option<String>, Option<String>) {
    (
        env.get(&format!("CLUSTER_{side}")).map(String::from),
        env.get(&format!("CAMUNDA_NAMESPACE_{side}"))
            .map(String::from),
    )
}

/// Resolve a region reference against the environment. Explicit `--context`/`--namespace`
/// flags are applied by the caller on top of this.
pub fn locate(region: RegionRef, env: &Env) -> Result<RegionLocation> {
    let (side, id) = match region {
        RegionRef::Surviving => ("SURVIVING", side_id(env, "SURVIVING")?),
        RegionRef::Recreated => ("RECREATED", side_id(env, "RECREATED")?),
        RegionRef::Index(id) => {
            let (context, namespace) = by_index(env, id);
            // Fall back to the side variables when they name this region.
            let side = if side_id(env, "SURVIVING")? == Some(id) {
                Some("SURVIVING")
            } else if side_id(env, "RECREATED")? == Some(id) {
                Some("RECREATED")
            } else {
                None
            };
            let (sc, sn) = side.map(|s| by_side(env, s)).unwrap_or_default();
            return Ok(RegionLocation {
                id: Some(id),
                context: context.or(sc),
                namespace: namespace.or(sn),
            });
        }
    };
    let (mut context, mut namespace) = by_side(env, side);
    if let Some(id) = id {
        let (ic, ins) = by_index(env, id);
        context = context.or(ic);
        namespace = namespace.or(ins);
    }
    if region == RegionRef::Recreated && context.is_none() {
        return Err(Error::usage(
            "the recreated region has no kube context: set CLUSTER_RECREATED (and CAMUNDA_NAMESPACE_RECREATED) \
             or CLUSTER_0/CLUSTER_1 with REGION_RECREATED, or pass the context flag",
        ));
    }
    Ok(RegionLocation {
        id,
        context,
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs_env() -> Env {
        Env::from_pairs([
            ("CLUSTER_SURVIVING", "ctx-a"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-a"),
            ("REGION_SURVIVING", "region0"),
            ("CLUSTER_RECREATED", "ctx-b"),
            ("CAMUNDA_NAMESPACE_RECREATED", "camunda-b"),
            ("REGION_RECREATED", "region1"),
        ])
    }

    #[test]
    fn surviving_and_recreated_come_from_the_docs_variables() {
        let env = docs_env();
        let s = locate(RegionRef::Surviving, &env).ok();
        assert_eq!(
            s,
            Some(RegionLocation {
                id: Some(RegionId::ZERO),
                context: Some("ctx-a".into()),
                namespace: Some("camunda-a".into())
            })
        );
        let r = locate(RegionRef::Recreated, &env)
            .ok()
            .and_then(|l| l.context);
        assert_eq!(r.as_deref(), Some("ctx-b"));
    }

    #[test]
    fn an_index_falls_back_to_the_side_that_names_it() {
        let l = locate(RegionRef::Index(RegionId::ONE), &docs_env()).ok();
        assert_eq!(l.and_then(|l| l.namespace).as_deref(), Some("camunda-b"));
    }

    #[test]
    fn index_variables_serve_the_sides_when_only_region_names_are_given() {
        let env = Env::from_pairs([
            ("CLUSTER_0", "c0"),
            ("CAMUNDA_NAMESPACE_0", "n0"),
            ("CLUSTER_1", "c1"),
            ("CAMUNDA_NAMESPACE_1", "n1"),
            ("REGION_SURVIVING", "region1"),
        ]);
        let s = locate(RegionRef::Surviving, &env).ok();
        assert_eq!(s.as_ref().and_then(|l| l.context.as_deref()), Some("c1"));
        let r = locate(RegionRef::Recreated, &env).ok();
        assert_eq!(r.as_ref().and_then(|l| l.id), Some(RegionId::ZERO));
        assert_eq!(r.and_then(|l| l.namespace).as_deref(), Some("n0"));
    }

    #[test]
    fn a_recreated_region_without_context_is_a_usage_error() {
        let err = locate(RegionRef::Recreated, &Env::default()).err();
        assert_eq!(err.map(|e| e.exit_code()), Some(2));
    }

    #[test]
    fn the_surviving_region_defaults_to_the_current_context() {
        assert_eq!(
            locate(RegionRef::Surviving, &Env::default()).ok(),
            Some(RegionLocation::default())
        );
    }
}
