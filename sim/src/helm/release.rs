//! What an `upgrade --install` does to a simulated region: the revision, the profiles and the
//! schema-manager setting rendered from the merged values.

use serde_json::{Map, Value};

use super::SCHEMA_MANAGER_VAR;
use crate::world::{HelmRelease, RegionId, World};

/// The chart's `orchestration.profiles` defaults (camunda-platform 13.x).
const DEFAULT_PROFILES: [&str; 4] = ["broker", "identity", "operate", "tasklist"];

/// Apply an `upgrade --install` with the merged `values` to `region`: bump the revision, render
/// the profiles and the schema-manager setting; a fresh install whose schema manager is not
/// disabled seeds the region's Elasticsearch with the Camunda indices.
pub fn apply_release(world: &mut World, region: RegionId, values: Value) {
    let r = &mut world.regions[region];
    let fresh = r.release.is_none();
    let revision = r.release.as_ref().map(|h| h.revision).unwrap_or(0) + 1;
    r.profiles = enabled_profiles(&values);
    r.schema_manager_disabled = schema_manager_disabled(&values);
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

/// `orchestration.profiles` that are true over the chart defaults, sorted.
pub fn enabled_profiles(values: &Value) -> Vec<String> {
    let mut profiles: Map<String, Value> = DEFAULT_PROFILES
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

/// Whether `orchestration.env` holds the schema-manager variable with value `"false"`.
pub fn schema_manager_disabled(values: &Value) -> bool {
    values
        .pointer("/orchestration/env")
        .and_then(Value::as_array)
        .is_some_and(|env| {
            env.iter().any(|e| {
                e.get("name").and_then(Value::as_str) == Some(SCHEMA_MANAGER_VAR)
                    && e.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profiles_and_schema_manager_come_from_the_values() {
        assert_eq!(
            enabled_profiles(&json!({})),
            ["broker", "identity", "operate", "tasklist"]
        );
        let v = json!({"orchestration": {
            "profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "A", "value": "x"}, {"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }});
        assert_eq!(enabled_profiles(&v), ["broker", "identity"]);
        assert!(schema_manager_disabled(&v));
        assert!(!schema_manager_disabled(
            &json!({"orchestration": {"env": []}})
        ));
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
