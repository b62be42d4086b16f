//! Helm's merge of user values files (`helm upgrade -f a -f b`): maps merge deeply, lists and
//! scalars are replaced by the later file, and `null` deletes a key.

use serde_json::Value;

/// Merge `later` into `base` in place, as Helm does with a later `-f` file.
pub fn merge_into(base: &mut Value, later: Value) {
    match (base, later) {
        (Value::Object(base), Value::Object(later)) => {
            for (key, value) in later {
                if value.is_null() {
                    base.remove(&key);
                    continue;
                }
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge_into(existing, value)
                    }
                    _ => {
                        base.insert(key, strip_nulls(value));
                    }
                }
            }
        }
        (base, later) => *base = strip_nulls(later),
    }
}

/// A map taken over whole has no keys to delete: drop its `null` entries as Helm's coalescing
/// would (a `null` never reaches the chart as a value).
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(a: Value, b: Value) -> Value {
        let mut a = a;
        merge_into(&mut a, b);
        a
    }

    #[test]
    fn maps_merge_deeply() {
        let m = merged(
            json!({"global": {"multiregion": {"regions": 2}}, "a": 1}),
            json!({"global": {"multiregion": {"regionId": 1}}}),
        );
        assert_eq!(
            m,
            json!({"global": {"multiregion": {"regions": 2, "regionId": 1}}, "a": 1})
        );
    }

    #[test]
    fn lists_and_scalars_are_replaced_whole() {
        let m = merged(
            json!({"env": [{"name": "A"}, {"name": "B"}], "size": "8", "x": {"y": 1}}),
            json!({"env": [{"name": "C"}], "size": "4", "x": "flat"}),
        );
        assert_eq!(m, json!({"env": [{"name": "C"}], "size": "4", "x": "flat"}));
    }

    #[test]
    fn null_deletes_a_key() {
        let m = merged(
            json!({"orchestration": {"env": [1], "keep": true}}),
            json!({"orchestration": {"env": null}}),
        );
        assert_eq!(m, json!({"orchestration": {"keep": true}}));
        let m = merged(json!({"a": 1}), json!({"b": null}));
        assert_eq!(m, json!({"a": 1}));
    }

    #[test]
    fn a_map_replacing_a_scalar_loses_its_nulls() {
        let m = merged(json!({"a": 1}), json!({"a": {"b": null, "c": 2}}));
        assert_eq!(m, json!({"a": {"c": 2}}));
    }
}
