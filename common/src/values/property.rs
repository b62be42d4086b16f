//! Whether the application configuration carried in the values sets a Spring property.
//!
//! Camunda's charts mount the orchestration application configuration from YAML strings in the
//! values (`orchestration.configuration`, `orchestration.extraConfiguration[].content`). A
//! property set there competes with the variables c8dr adds to `orchestration.env`, so the
//! overlay must know about it. Spring's relaxed binding decides what matches (Spring Boot
//! reference, "Relaxed Binding"): case, `-` and `_` do not matter, a key may be nested maps or a
//! dotted name, and the environment variable `CAMUNDA_DATA_X_Y` names the property
//! `camunda.data.x.y` (its `_` separate the segments).

use serde_json::Value;

/// The property segments an environment variable names, normalised.
fn segments_of_env(var: &str) -> Vec<String> {
    var.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// One key of a YAML map as normalised segments (`secondary-storage.create_Schema` →
/// `secondarystorage`, `createschema`).
fn segments_of_key(key: &str) -> Vec<String> {
    key.split('.')
        .map(|s| {
            s.chars()
                .filter(|c| *c != '-' && *c != '_')
                .map(|c| c.to_ascii_lowercase())
                .collect()
        })
        .collect()
}

/// Whether the YAML document `doc` sets the property whose remaining segments are `want`.
fn sets(doc: &Value, want: &[String]) -> bool {
    let Value::Object(map) = doc else {
        return false;
    };
    map.iter().any(|(key, value)| {
        let key = segments_of_key(key);
        match want.strip_prefix(key.as_slice()) {
            Some([]) => !value.is_null() && !value.is_object(),
            Some(rest) => sets(value, rest),
            None => false,
        }
    })
}

/// Whether any application configuration string in `values` sets the property that the
/// environment variable `var` also sets.
pub fn configuration_sets(values: &Value, var: &str) -> bool {
    let want = segments_of_env(var);
    strings(values).into_iter().any(|text| {
        // Only a string that is a YAML map can be an application configuration.
        text.contains(':')
            && serde_saphyr::from_str::<Value>(text).is_ok_and(|doc| sets(&doc, &want))
    })
}

/// Every string value in the document.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(map) => map.values().flat_map(strings).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VAR: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";

    #[test]
    fn nested_dotted_and_mixed_spellings_match_the_variable() {
        for yaml in [
            "camunda:\n  data:\n    secondary-storage:\n      elasticsearch:\n        create-schema: false\n",
            "camunda.data.secondaryStorage.elasticsearch.createSchema: true\n",
            "Camunda:\n  DATA.secondary_storage:\n    elasticsearch.create-schema: \"true\"\n",
        ] {
            assert!(
                configuration_sets(&json!({"a": {"b": yaml}}), VAR),
                "{yaml}"
            );
        }
    }

    #[test]
    fn other_properties_prefixes_and_plain_strings_do_not() {
        for yaml in [
            // a parent map is not the property
            "camunda.data.secondary-storage.elasticsearch:\n  url: x\n",
            // a longer key that merely starts like it
            "camunda.data.secondary-storage.elasticsearch.create-schema-later: true\n",
            "createschema: true\n",
            "not yaml: [",
            "just a sentence",
        ] {
            assert!(!configuration_sets(&json!([yaml]), VAR), "{yaml}");
        }
        assert!(!configuration_sets(&json!({"n": 1, "b": true}), VAR));
    }
}
