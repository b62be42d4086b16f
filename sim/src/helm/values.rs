//! Values files and `--set`, merged with Helm's semantics.

use std::path::Path;

use serde_json::{Map, Value, json};

/// Helm's merge of a later `-f` file into the earlier ones: maps deep-merged, lists and scalars
/// replaced, `null` deleting a key.
pub fn merge_values(base: &mut Value, later: Value) {
    let Value::Object(later) = later else {
        if !later.is_null() {
            *base = later;
        }
        return;
    };
    if !base.is_object() {
        *base = Value::Object(Map::new());
    }
    let Value::Object(base) = base else { return };
    for (k, v) in later {
        match v {
            Value::Null => {
                base.remove(&k);
            }
            Value::Object(_) if base.get(&k).is_some_and(Value::is_object) => {
                if let Some(existing) = base.get_mut(&k) {
                    merge_values(existing, v);
                }
            }
            Value::Object(_) => {
                let mut fresh = Value::Object(Map::new());
                merge_values(&mut fresh, v);
                base.insert(k, fresh);
            }
            other => {
                base.insert(k, other);
            }
        }
    }
}

/// Apply one `--set a.b[0].c=v,x=y` argument (typed as helm's strvals: bools and integers).
pub fn apply_set(values: &mut Value, set: &str) -> Result<(), String> {
    for pair in set.split(',') {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| format!("failed parsing --set data: key \"{pair}\" has no value"))?;
        let typed = match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n if n.parse::<i64>().is_ok() => json!(n.parse::<i64>().unwrap_or_default()),
            s => Value::String(s.to_string()),
        };
        let mut node = &mut *values;
        let parts: Vec<&str> = key.split('.').collect();
        for (idx, part) in parts.iter().enumerate() {
            let last = idx + 1 == parts.len();
            let (name, index) =
                match part.split_once('[') {
                    Some((n, rest)) => (
                        n,
                        Some(rest.trim_end_matches(']').parse::<usize>().map_err(|_| {
                            format!("failed parsing --set data: bad index in {key}")
                        })?),
                    ),
                    None => (*part, None),
                };
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(map) = node else {
                return Err(format!("failed parsing --set data: {key}"));
            };
            let entry = map.entry(name.to_string()).or_insert(Value::Null);
            node = match index {
                None if last => {
                    *entry = typed.clone();
                    break;
                }
                None => entry,
                Some(i) => {
                    if !entry.is_array() {
                        *entry = Value::Array(vec![]);
                    }
                    let Value::Array(list) = entry else {
                        return Err(format!("failed parsing --set data: {key}"));
                    };
                    while list.len() <= i {
                        list.push(Value::Null);
                    }
                    if last {
                        list[i] = typed.clone();
                        break;
                    }
                    &mut list[i]
                }
            };
        }
    }
    Ok(())
}

pub(super) fn parse_yaml_file(path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let v: Value = serde_saphyr::from_str(&text)
        .map_err(|e| format!("failed to parse {}: {e}", path.display()))?;
    Ok(if v.is_null() { json!({}) } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_as_helm() {
        let mut v = json!({"a": {"b": 1, "l": [1, 2]}, "c": 1});
        merge_values(&mut v, json!({"a": {"l": [3], "d": 2}, "c": null}));
        assert_eq!(v, json!({"a": {"b": 1, "l": [3], "d": 2}}));
        apply_set(&mut v, "orchestration.profiles.operate=false,a.l[1]=x").expect("set");
        assert_eq!(v["orchestration"]["profiles"]["operate"], false);
        assert_eq!(v["a"]["l"], json!([3, "x"]));
    }
}
