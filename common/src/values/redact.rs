//! Redaction (docs/contract.md §4 rule 6): secrets never reach output, logs, plans or JSON.
//!
//! Two layers:
//! - by name: [`redact`] hides, in a values document, scalars under secret-looking keys and the
//!   `value` of `{name, value}` entries (env lists) whose name looks secret;
//! - by value: a [`Redactor`] remembers the secret values it was shown (from the values, from
//!   `--set`, from URLs with userinfo) and hides them wherever they reappear in free text: a
//!   `--set` string under an innocent key, helm's output (`--debug`/HELM_DEBUG prints the
//!   user-supplied values), an error message. [`redact_text`] does the same without known
//!   values: URL userinfo, `secret=...`/`"token": "..."` pairs and `Bearer`/`Basic` credentials,
//!   for messages from other services (an OIDC token endpoint's error body, for instance).

use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

/// Fragments of a key or variable name that holds a secret (case-insensitive): `ES_PWD`,
/// `CAMUNDA_LICENSE_KEY`, `..._TOKEN`, `..._CLIENT_SECRET`, `password`, `apiKey`, ...
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "api_key",
    "api-key",
    "license",
    "licence",
    "privatekey",
    "private_key",
    "private-key",
    "accesskey",
    "access_key",
];

/// Whether a key or variable name looks like it holds a secret.
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

/// Keys that name a secret (a Kubernetes Secret, a key in it) rather than hold one.
fn names_a_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("ref") || k.ends_with("name") || k.starts_with("existing")
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
        Value::String(s) => Value::String(redact_urls(s)),
        other => other.clone(),
    }
}

fn is_reference(v: &Value) -> bool {
    v.is_object()
}

/// Shortest secret value hidden by value: shorter ones (`1`, `no`) would garble every line they
/// happen to occur in; they are still hidden by name.
pub const MIN_SECRET_LEN: usize = 4;

/// Remembers secret values and hides them in any text. `Debug` never prints them.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember one secret value (ignored when shorter than [`MIN_SECRET_LEN`]).
    pub fn add(&mut self, secret: &str) {
        let s = secret.trim();
        if s.chars().count() >= MIN_SECRET_LEN && !self.secrets.iter().any(|k| k == s) {
            self.secrets.push(s.to_string());
            // Longest first, so a secret containing another is hidden whole.
            self.secrets.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
    }

    /// Remember every secret a values document holds: values under secret-looking keys, the
    /// `value` of env entries with a secret-looking name, and passwords in URLs.
    pub fn add_values(&mut self, doc: &Value) {
        match doc {
            Value::Object(map) => {
                let secret_name = map
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(looks_secret);
                for (k, v) in map {
                    let by_key = looks_secret(k) && !names_a_secret(k);
                    if (by_key || (secret_name && k == "value"))
                        && let Some(s) = scalar(v)
                    {
                        self.add(&s);
                    }
                    self.add_values(v);
                }
            }
            Value::Array(list) => list.iter().for_each(|v| self.add_values(v)),
            Value::String(s) => self.add_url_secrets(s),
            _ => {}
        }
    }

    /// Remember the secrets of helm arguments: `--set key=value` pairs with a secret-looking
    /// key, `--password VALUE`, and passwords in URLs (a chart or `--repo` URL).
    pub fn add_args(&mut self, argv: &[String]) {
        let mut next: Option<&str> = None;
        for arg in argv {
            match next.take() {
                Some("set") => self.add_set_pairs(arg),
                Some("secret") => self.add(arg),
                _ => {}
            }
            self.add_url_secrets(arg);
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v)),
                _ => (arg.as_str(), None),
            };
            let kind = if flag.starts_with("--set") {
                Some("set")
            } else if matches!(flag, "--password" | "--kube-token") {
                Some("secret")
            } else {
                None
            };
            match (kind, inline) {
                (Some("set"), Some(v)) => self.add_set_pairs(v),
                (Some(_), Some(v)) => self.add(v),
                (Some(k), None) => next = Some(k),
                _ => {}
            }
        }
    }

    fn add_set_pairs(&mut self, pairs: &str) {
        for pair in pairs.split(',') {
            if let Some((k, v)) = pair.split_once('=')
                && looks_secret(k)
                && !names_a_secret(k)
            {
                self.add(v);
            }
        }
    }

    fn add_url_secrets(&mut self, s: &str) {
        for (start, end) in userinfo_spans(s) {
            let info = &s[start..end];
            match info.split_once(':') {
                Some((_, password)) => self.add(password),
                // A lone userinfo is a token used as user name (`https://TOKEN@host`).
                None => self.add(info),
            }
        }
    }

    /// A displayed command line: `--set` values hidden by key ([`redact_args`]), then every
    /// remembered secret by value.
    pub fn args(&self, argv: &[String]) -> Vec<String> {
        redact_args(argv).iter().map(|a| self.text(a)).collect()
    }

    /// `text` with every remembered secret, URL userinfo and secret-looking pair hidden.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        redact_text(&out)
    }

    /// A values document redacted by name, then by value (a secret under an innocent key).
    pub fn values(&self, doc: &Value) -> Value {
        self.values_by_value(&redact(doc))
    }

    fn values_by_value(&self, doc: &Value) -> Value {
        match doc {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), self.values_by_value(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Value::Array(list) => list.iter().map(|v| self.values_by_value(v)).collect(),
            Value::String(s) => Value::String(self.text(s)),
            other => other.clone(),
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Byte ranges of the userinfo (`user:pass` in `scheme://user:pass@host`) of every URL in `s`.
fn userinfo_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = vec![];
    let mut from = 0;
    while let Some(i) = s[from..].find("://") {
        let start = from + i + 3;
        let rest = &s[start..];
        let authority_end = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && at > 0
            && !rest[..at].starts_with(REDACTED)
        {
            spans.push((start, start + at));
        }
        from = start + authority_end.max(1).min(rest.len());
        if from >= s.len() {
            break;
        }
    }
    spans
}

/// Hide the password of URLs with userinfo (`https://user:<redacted>@host`; a lone userinfo,
/// often a token, is hidden whole).
fn redact_urls(s: &str) -> String {
    let spans = userinfo_spans(s);
    if spans.is_empty() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end) in spans {
        let info = &s[start..end];
        out.push_str(&s[last..start]);
        match info.split_once(':') {
            Some((user, _)) => {
                out.push_str(user);
                out.push(':');
                out.push_str(REDACTED);
            }
            None => out.push_str(REDACTED),
        }
        last = end;
    }
    out.push_str(&s[last..]);
    out
}

/// Hide secrets in free text without knowing them: URL userinfo, `Bearer`/`Basic` credentials,
/// and the value of `key=value`, `key: value` or `"key": "value"` where the key looks secret
/// (`client_secret=...`, `"access_token":"..."`, `password: ...`). For error messages of other
/// services (an OIDC token endpoint answering 400 with the request echoed, for instance); the
/// OIDC client can pass its error text through this before it becomes an `Error`.
pub fn redact_text(text: &str) -> String {
    let text = redact_urls(text);
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        // A key: a run of word characters.
        if !is_word(bytes[i]) || (i > 0 && is_word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        let key = &text[key_start..i];
        let lower = key.to_ascii_lowercase();
        let credential_scheme = lower == "bearer" || lower == "basic";
        // Separator: optional closing quote, `=` or `:`, spaces, optional opening quote.
        let mut j = i;
        if !credential_scheme {
            if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                j += 1;
            }
            if j >= bytes.len() || (bytes[j] != b'=' && bytes[j] != b':') {
                continue;
            }
            j += 1;
        } else if j >= bytes.len() || bytes[j] != b' ' {
            continue;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let quote = (j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'')).then(|| bytes[j]);
        if quote.is_some() {
            j += 1;
        }
        let value_start = j;
        while j < bytes.len() {
            let b = bytes[j];
            let end = match quote {
                Some(q) => b == q,
                None => b == b'&' || b == b',' || b == b';' || b == b'}' || b.is_ascii_whitespace(),
            };
            if end {
                break;
            }
            j += 1;
        }
        let value = &text[value_start..j];
        let secret_key = credential_scheme || (looks_secret(key) && !names_a_secret(key));
        if secret_key && !value.is_empty() && value != REDACTED && !value.starts_with('{') {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = j;
            i = j;
        } else {
            // The value may itself hold a pair (`Authorization: Bearer x`): scan it.
            i = value_start.max(i);
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// Hide secret-looking `--set key=value` values in a displayed argv.
pub fn redact_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut after_set = false;
    for arg in argv {
        let (flag_inline, pairs) = match arg.split_once('=') {
            Some((flag, rest)) if flag.starts_with("--set") => (Some(flag), rest),
            _ => (None, arg.as_str()),
        };
        if after_set || flag_inline.is_some() {
            let redacted = pairs
                .split(',')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if looks_secret(k) => format!("{k}={}", REDACTED),
                    _ => pair.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",");
            out.push(match flag_inline {
                Some(flag) => format!("{flag}={redacted}"),
                None => redacted,
            });
            after_set = false;
        } else {
            after_set = matches!(arg.as_str(), "--set" | "--set-string" | "--set-literal");
            out.push(arg.clone());
        }
    }
    out
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

    #[test]
    fn pwd_license_and_token_names_are_secret() {
        for name in [
            "ES_PWD",
            "ES_PWD_FILE",
            "CAMUNDA_LICENSE_KEY",
            "ZEEBE_TOKEN",
            "OIDC_CLIENT_SECRET",
            "DB_PASSWORD",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "ES_URL",
            "ZEEBE_BROKER_CLUSTER_SIZE",
            "name",
            "CAMUNDA_DATABASE_URL",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn secrets_are_hidden_by_value_wherever_they_reappear() {
        let values = json!({"orchestration": {"env": [
            {"name": "CAMUNDA_LICENSE_KEY", "value": "lic-0123456789"},
            {"name": "ES_PWD", "value": "pw-s3cr3t"},
            {"name": "ES_URL", "value": "https://elastic:url-pass@es:9200/"},
            {"name": "SHORT_TOKEN", "value": "ab"},
            {"name": "ES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "es-secret", "key": "password"}}},
        ]}});
        let mut r = Redactor::new();
        r.add_values(&values);
        r.add_args(&[
            "--set".into(),
            "auth.token=tok-987654".into(),
            "--password=repo-pass".into(),
            "https://bob@charts.example/x.tgz".into(),
        ]);
        let text = "helm said: pw-s3cr3t lic-0123456789 url-pass tok-987654 repo-pass es-secret";
        let shown = r.text(text);
        for secret in [
            "pw-s3cr3t",
            "lic-0123456789",
            "url-pass",
            "tok-987654",
            "repo-pass",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("es-secret"),
            "a Secret's name is not a secret: {shown}"
        );
        assert!(!r.text("get https://bob@charts.example/x").contains("bob"));
        let doc =
            r.values(&json!({"global": {"note": "pw-s3cr3t"}, "url": "https://u:url-pass@h"}));
        assert_eq!(doc["global"]["note"], REDACTED);
        assert_eq!(doc["url"], "https://u:<redacted>@h");
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }

    #[test]
    fn free_text_loses_userinfo_pairs_and_bearer_tokens() {
        let cases = [
            (
                "POST https://client:cs-123@idp/token failed",
                "POST https://client:<redacted>@idp/token failed",
            ),
            (
                "invalid_client: client_secret=abc123&grant_type=client_credentials",
                "invalid_client: client_secret=<redacted>&grant_type=client_credentials",
            ),
            (
                r#"{"access_token":"eyJhbGc.x.y","token_type":"Bearer"}"#,
                r#"{"access_token":"<redacted>","token_type":"<redacted>"}"#,
            ),
            (
                "Authorization: Bearer eyJabc",
                "Authorization: Bearer <redacted>",
            ),
            (
                "password: hunter2, user: elastic",
                "password: <redacted>, user: elastic",
            ),
            (
                "no secrets here: 502 Bad Gateway",
                "no secrets here: 502 Bad Gateway",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_text(input), expected, "{input}");
        }
    }
}
