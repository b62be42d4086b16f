//! Redaction for plans and printed overlays (SPEC safety rule 6): values whose key looks secret.

use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

/// Whether a key or variable name looks like it holds a secret.
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "passwd",
        "credential",
        "apikey",
        "api_key",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// A copy of `value` with secret-looking scalars replaced: map entries whose key looks secret,
/// and the `value` of `{name, value}` entries (env lists) whose name looks secret. References
/// such as `valueFrom.secretKeyRef` name a Secret, not its content, and are kept.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let secret_name = map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(looks_secret);
            map.iter()
                .map(|(k, v)| {
                    let hide = v.is_string() || v.is_number();
                    let secret = (looks_secret(k) && !k.ends_with("Ref") && !is_reference(v))
                        || (secret_name && k == "value");
                    let v = if secret && hide {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        }
        Value::Array(list) => list.iter().map(redact).collect(),
        other => other.clone(),
    }
}

fn is_reference(v: &Value) -> bool {
    v.is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_and_secret_env_values_are_hidden() {
        let v = json!({
            "elasticsearch": {"auth": {"password": "hunter2", "user": "elastic"}},
            "env": [
                {"name": "CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", "value": "s3cr3t"},
                {"name": "ES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "es", "key": "password"}}},
                {"name": "PLAIN", "value": "visible"},
            ],
            "existingSecret": {"name": "x"},
        });
        let r = redact(&v);
        assert_eq!(r["elasticsearch"]["auth"]["password"], REDACTED);
        assert_eq!(r["elasticsearch"]["auth"]["user"], "elastic");
        assert_eq!(r["env"][0]["value"], REDACTED);
        assert_eq!(r["env"][1], v["env"][1]);
        assert_eq!(r["env"][2]["value"], "visible");
        assert_eq!(r["existingSecret"], v["existingSecret"]);
        assert!(!r.to_string().contains("hunter2"));
    }
}
