//! The Spring profiles the chart renders into the unified ConfigMap (docs/api-behaviour.md §6):
//! `spring.profiles.active` = the enabled `orchestration.profiles`, plus `consolidated-auth`.
//! Compared as sets (the docs print another order). The defaults are the row's
//! ([`crate::chart::default_profiles`]: `identity` in 8.8, `admin` from 8.9).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::chart::{AUTH_PROFILE, default_profiles};
use crate::release::Facts;

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The profiles a release of the row's line with these (fully merged) values renders.
pub fn expected_profiles(values: &Value, facts: &Facts) -> BTreeSet<String> {
    let mut on: BTreeSet<String> = default_profiles(facts)
        .iter()
        .map(|p| p.to_string())
        .collect();
    if let Some(Value::Object(user)) = values.pointer("/orchestration/profiles") {
        for (name, v) in user {
            match truthy(v) {
                Some(true) => {
                    on.insert(name.clone());
                }
                Some(false) => {
                    on.remove(name);
                }
                None => {}
            }
        }
    }
    on.insert(AUTH_PROFILE.to_string());
    on
}

/// `spring.profiles.active` of a rendered `application.yaml` (nested or dotted key, a
/// comma-separated string or a list), as a set; `None` when absent or unparsable.
pub fn active_profiles(application_yaml: &str) -> Option<BTreeSet<String>> {
    let doc: Value = serde_saphyr::from_str(application_yaml).ok()?;
    let active = doc
        .pointer("/spring/profiles/active")
        .or_else(|| doc.get("spring.profiles.active"))?;
    let items: Vec<String> = match active {
        Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
            .collect(),
        _ => return None,
    };
    Some(items.into_iter().filter(|p| !p.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{Line, OLDEST, facts};
    use serde_json::json;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn expected_profiles_follow_the_chart_defaults_and_overrides() {
        assert_eq!(
            expected_profiles(&json!({}), OLDEST),
            set(&[
                "broker",
                "identity",
                "operate",
                "tasklist",
                "consolidated-auth"
            ])
        );
        let no_webapps =
            json!({"orchestration": {"profiles": {"operate": false, "tasklist": false}}});
        assert_eq!(
            expected_profiles(&no_webapps, OLDEST),
            set(&["broker", "identity", "consolidated-auth"])
        );
    }

    #[test]
    fn from_89_the_admin_profile_replaces_identity() {
        for line in [Line(8, 9), Line(8, 10)] {
            let row = facts(line).expect("row");
            assert_eq!(
                expected_profiles(&json!({}), row),
                set(&[
                    "admin",
                    "broker",
                    "operate",
                    "tasklist",
                    "consolidated-auth"
                ])
            );
            let no_webapps =
                json!({"orchestration": {"profiles": {"operate": false, "tasklist": "false"}}});
            assert_eq!(
                expected_profiles(&no_webapps, row),
                set(&["admin", "broker", "consolidated-auth"])
            );
            // A user who turns the admin component off (`orchestration.profiles.admin: false`).
            let no_admin = json!({"orchestration": {"profiles": {"admin": false}}});
            assert_eq!(
                expected_profiles(&no_admin, row),
                set(&["broker", "operate", "tasklist", "consolidated-auth"])
            );
        }
    }

    #[test]
    fn active_profiles_are_read_as_a_set_in_any_order() {
        let yaml = "spring:\n  profiles:\n    active: \"identity,broker, consolidated-auth\"\n";
        assert_eq!(
            active_profiles(yaml),
            Some(set(&["broker", "identity", "consolidated-auth"]))
        );
        assert_eq!(active_profiles("camunda: {}\n"), None);
        assert_eq!(
            active_profiles("spring.profiles.active: broker\n"),
            Some(set(&["broker"]))
        );
    }
}
