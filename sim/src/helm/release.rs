//! What an `upgrade --install` does to a simulated region: the revision, the profiles and the
//! schema-manager setting rendered from the merged values.

use serde_json::{Map, Value};

use crate::release::CamundaRelease;
use crate::world::{HelmRelease, RegionId, World};

/// Apply an `upgrade --install` with the merged `values` to `region`: bump the revision, render
/// the profiles and the schema-manager setting; a fresh install whose schema manager is not
/// disabled seeds the region's Elasticsearch with the Camunda indices.
pub fn apply_release(world: &mut World, region: RegionId, values: Value) {
    let camunda = world.cfg.camunda;
    let r = &mut world.regions[region];
    let fresh = r.release.is_none();
    let revision = r.release.as_ref().map(|h| h.revision).unwrap_or(0) + 1;
    r.profiles = enabled_profiles(camunda, &values);
    r.schema_manager_disabled = schema_manager_disabled(camunda, &values);
    let seed = fresh && !r.schema_manager_disabled;
    r.release = Some(HelmRelease { revision, values });
    if seed {
        r.es.seed_schema();
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `orchestration.profiles` that are true over the release's chart defaults
/// ([`CamundaRelease::default_profiles`]: `identity` in 8.8, `admin` from 8.9), sorted.
pub fn enabled_profiles(camunda: CamundaRelease, values: &Value) -> Vec<String> {
    let mut profiles: Map<String, Value> = camunda
        .default_profiles()
        .iter()
        .map(|p| (p.to_string(), Value::Bool(true)))
        .collect();
    if let Some(Value::Object(user)) = values.pointer("/orchestration/profiles") {
        for (k, v) in user {
            profiles.insert(k.clone(), v.clone());
        }
    }
    let mut on: Vec<String> = profiles
        .into_iter()
        .filter(|(_, v)| as_bool(v) == Some(true))
        .map(|(k, _)| k)
        .collect();
    on.sort();
    on
}

/// Whether `orchestration.env` keeps the schema manager from creating indices, as the release
/// reads it ([`CamundaRelease::creates_schema`]): the legacy variable with value `"false"`, or
/// on 8.10 the canonical variable when set (it wins over the legacy one).
pub fn schema_manager_disabled(camunda: CamundaRelease, values: &Value) -> bool {
    let env: Vec<(&str, &str)> = values
        .pointer("/orchestration/env")
        .and_then(Value::as_array)
        .map(|env| {
            env.iter()
                .filter_map(|e| {
                    Some((
                        e.get("name").and_then(Value::as_str)?,
                        e.get("value").and_then(Value::as_str)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    !camunda.creates_schema(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::SCHEMA_MANAGER_VAR;
    use crate::release::CANONICAL_SCHEMA_VAR;
    use serde_json::json;

    const V88: CamundaRelease = CamundaRelease::V8_8;

    #[test]
    fn profiles_and_schema_manager_come_from_the_values() {
        assert_eq!(
            enabled_profiles(V88, &json!({})),
            ["broker", "identity", "operate", "tasklist"]
        );
        let v = json!({"orchestration": {
            "profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "A", "value": "x"}, {"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }});
        assert_eq!(enabled_profiles(V88, &v), ["broker", "identity"]);
        assert!(schema_manager_disabled(V88, &v));
        assert!(!schema_manager_disabled(
            V88,
            &json!({"orchestration": {"env": []}})
        ));
    }
    #[test]
    fn later_releases_default_to_admin_and_8_10_reads_the_canonical_schema_key() {
        for r in [CamundaRelease::V8_9, CamundaRelease::V8_10] {
            assert_eq!(
                enabled_profiles(r, &json!({})),
                ["admin", "broker", "operate", "tasklist"]
            );
            let v = json!({"orchestration": {"profiles": {"admin": false, "operate": false}}});
            assert_eq!(enabled_profiles(r, &v), ["broker", "tasklist"]);
        }
        // Legacy "false", canonical "true": 8.10 creates the schema, 8.8/8.9 ignore the
        // canonical key and do not.
        let both = json!({"orchestration": {"env": [
            {"name": SCHEMA_MANAGER_VAR, "value": "false"},
            {"name": CANONICAL_SCHEMA_VAR, "value": "true"},
        ]}});
        assert!(!schema_manager_disabled(CamundaRelease::V8_10, &both));
        assert!(schema_manager_disabled(CamundaRelease::V8_9, &both));
        assert!(schema_manager_disabled(V88, &both));
        let canonical = json!({"orchestration": {"env": [
            {"name": CANONICAL_SCHEMA_VAR, "value": "false"},
        ]}});
        assert!(schema_manager_disabled(CamundaRelease::V8_10, &canonical));
        assert!(!schema_manager_disabled(CamundaRelease::V8_9, &canonical));
    }

    #[test]
    fn installing_into_a_recreated_region_starts_its_brokers_without_seeding_when_disabled() {
        let mut w = World::healthy(crate::world::SimConfig::default());
        w.lose_region(1);
        w.recreate_region(1);
        assert!(!w.alive_brokers().contains(&1));
        let values = json!({"orchestration": {
            "profiles": {"operate": false, "tasklist": false},
            "env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }});
        apply_release(&mut w, 1, values);
        let r = &w.regions[1];
        assert_eq!(r.release.as_ref().map(|h| h.revision), Some(1));
        assert!(r.schema_manager_disabled);
        assert_eq!(r.profiles, ["broker", "identity"]);
        assert!(w.alive_brokers().contains(&1));
        apply_release(&mut w, 1, json!({}));
        assert_eq!(w.regions[1].release.as_ref().map(|h| h.revision), Some(2));
        assert!(!w.regions[1].schema_manager_disabled);
    }
}
