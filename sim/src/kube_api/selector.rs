//! Label selectors as the API server parses `?labelSelector=`: comma-separated requirements
//! `k=v`, `k==v`, `k!=v`, `k` (exists) and `!k` (does not exist). Set-based forms (`in`,
//! `notin`) are not simulated and are rejected as the real server rejects malformed selectors.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = vec![];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let req = if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().into())
            } else if part.contains(' ') || part.contains('(') {
                return Err(format!(
                    "unable to parse requirement: set-based selector {part:?} is not simulated"
                ));
            } else {
                Requirement::Exists(part.into())
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_and_existence() {
        let labels =
            json!({"app": "camunda-platform", "app.kubernetes.io/component": "zeebe-broker"});
        let ok = |s: &str| Selector::parse(s).expect("parses").matches(&labels);
        assert!(ok(
            "app=camunda-platform,app.kubernetes.io/component==zeebe-broker"
        ));
        assert!(ok("app"));
        assert!(ok("!missing"));
        assert!(ok("app!=other"));
        assert!(ok(""));
        assert!(!ok("app=other"));
        assert!(!ok("missing"));
        assert!(Selector::parse("app in (a,b)").is_err());
    }
}
