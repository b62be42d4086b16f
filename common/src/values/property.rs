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

/// Every value the YAML document `doc` gives the property whose remaining segments are `want`
/// (a parent map is not a value of the property; a null is no value).
fn values_at<'a>(doc: &'a Value, want: &[String], out: &mut Vec<&'a Value>) {
    let Value::Object(map) = doc else {
        return;
    };
    for (key, value) in map {
        let key = segments_of_key(key);
        match want.strip_prefix(key.as_slice()) {
            Some([]) if !value.is_null() && !value.is_object() => out.push(value),
            Some([]) => {}
            Some(rest) => values_at(value, rest, out),
            None => {}
        }
    }
}

/// Every value an application configuration document gives the property that the environment
/// variable `var` names, by Spring's relaxed binding (nested or dotted keys, any case, `-`/`_`).
pub fn property_values<'a>(doc: &'a Value, var: &str) -> Vec<&'a Value> {
    let mut out = vec![];
    values_at(doc, &segments_of_env(var), &mut out);
    out
}

/// Whether any application configuration string in `values` sets the property that the
/// environment variable `var` also sets.
pub fn configuration_sets(values: &Value, var: &str) -> bool {
    strings(values).into_iter().any(|text| {
        // Only a string that is a YAML map can be an application configuration.
        text.contains(':')
            && serde_saphyr::from_str::<Value>(text)
                .is_ok_and(|doc| !property_values(&doc, var).is_empty())
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
