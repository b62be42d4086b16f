//! Recovery tuning of the recreated region's Elasticsearch for the restore (issue 14 item 3):
//! raise the recovery limits while the restore runs, put the previous values back afterwards.
//!
//! What is raised, and why these three (elastic/elasticsearch 8.x):
//! - `indices.recovery.max_bytes_per_sec` (default 40mb; `RecoverySettings.java`
//!   `INDICES_RECOVERY_MAX_BYTES_PER_SEC_SETTING`): every byte a restore copies from the
//!   repository, and every byte a replica copies from its primary, goes through this per-node
//!   limiter. A value `<= 0` removes the limiter (`RecoverySettings#setMaxBytesPerSec`: "if
//!   (maxBytesPerSec.getBytes() <= 0) rateLimiter = null"): c8dr sets `-1`, so the restore runs
//!   at what the node's disk and network and the repository give. The recreated cluster is empty
//!   and serves no traffic until failback 8, so there is nothing for the limit to protect.
//! - `cluster.routing.allocation.node_initial_primaries_recoveries` (default 4;
//!   `ThrottlingAllocationDecider.java`): primaries restored from a snapshot are throttled by this
//!   one ("primary is unassigned, means we are going to do recovery from store, snapshot or local
//!   shards"), not by `node_concurrent_recoveries`.
//! - `cluster.routing.allocation.node_concurrent_recoveries` (default 2; same file, sets the
//!   `node_concurrent_incoming_recoveries`/`_outgoing_` defaults): the replicas' peer recoveries.
//!
//! A setting is only ever raised: when its effective value is already at least c8dr's, it is left
//! alone. c8dr writes **persistent** settings: transient settings are deprecated since ES 7.16
//! ("We no longer recommend using transient cluster settings", cluster update settings API) and
//! may vanish or stay unexpectedly. Precedence is transient > persistent > `elasticsearch.yml` >
//! default, so a key that has a transient value is left alone too (a persistent change would not
//! take effect), and the plan says so.
//!
//! **Finding it again after SIGKILL.** In the same `PUT _cluster/settings` as the tuning, c8dr
//! stores what it changed and the values before under one user-defined metadata key,
//! [`MARKER`]: Elasticsearch and OpenSearch accept any dynamic string setting prefixed with
//! `cluster.metadata.` (`ClusterService.USER_DEFINED_METADATA`, a `prefixKeySetting`; ES
//! "Cluster-level settings: metadata"). One request sets both, so the cluster either holds the
//! tuning and its marker or neither; the put-back resets both in one request too. A later run
//! (of `es copy` or `failback`) that finds the marker puts back the values it records. The
//! marker lives in the cluster it is about: it is found from any machine, and it shares the
//! tuning's fate (persistent: it survives a full cluster restart exactly as the tuning does).

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{EsClient, EsOptions};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// The user-defined metadata key that records a tuning in place (see the module docs).
pub const MARKER: &str = "cluster.metadata.c8dr_recovery_tuning";

/// The settings raised for a restore and their values during it.
pub const TUNED: &[(&str, &str)] = &[
    ("indices.recovery.max_bytes_per_sec", "-1"),
    (
        "cluster.routing.allocation.node_initial_primaries_recoveries",
        "8",
    ),
    ("cluster.routing.allocation.node_concurrent_recoveries", "8"),
];

/// The read that shows every layer: flat keys, defaults included.
pub const SETTINGS_READ: &str = "_cluster/settings?flat_settings=true&include_defaults=true";

/// One setting changed: its persistent value before (`None`: not set, so the put-back resets it
/// with `null`), the value in effect before (for the plan), and the value during the restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingChange {
    pub key: String,
    pub persistent_before: Option<String>,
    pub effective_before: String,
    pub during: String,
}

impl SettingChange {
    /// `key: before → after` for plans and reports.
    pub fn line(&self) -> String {
        format!(
            "{}: {} → {}",
            self.key,
            show(&self.effective_before),
            show(&self.during)
        )
    }
}

fn show(v: &str) -> String {
    if bytes(v).is_some_and(|b| b <= 0) {
        format!("{v} (no limit)")
    } else {
        v.to_string()
    }
}

/// What the marker records (stored as a JSON string in [`MARKER`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The command that tuned (for messages).
    pub by: String,
    pub changes: Vec<SettingChange>,
}

/// The tuning of one restore, computed from the target's settings with reads only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TuningPlan {
    /// What will be raised (empty: nothing to raise).
    pub changes: Vec<SettingChange>,
    /// Keys left alone, with the reason.
    pub left_alone: Vec<String>,
    /// A tuning an earlier run left in place (it was interrupted): its changes are the ones to
    /// keep for this restore and to put back at its end.
    pub leftover: Option<Marker>,
}

impl TuningPlan {
    /// The `PUT _cluster/settings` body that raises the limits and writes the marker.
    pub fn apply_body(&self, by: &str) -> Value {
        let mut persistent = Map::new();
        for c in &self.changes {
            persistent.insert(c.key.clone(), json!(c.during));
        }
        let marker = Marker {
            by: by.to_string(),
            changes: self.changes.clone(),
        };
        persistent.insert(
            MARKER.into(),
            json!(serde_json::to_string(&marker).unwrap_or_default()),
        );
        json!({ "persistent": persistent })
    }

    /// Plan lines: the calls with before → after.
    pub fn plan_lines(&self, side: &str) -> Vec<String> {
        let mut lines = vec![];
        if let Some(m) = &self.leftover {
            lines.push(format!(
                "{side}: recovery tuning left in place by an interrupted `{}` found ({MARKER}): kept for this restore and put back after it",
                m.by
            ));
        }
        if !self.changes.is_empty() {
            let list: Vec<String> = self.changes.iter().map(SettingChange::line).collect();
            lines.push(format!(
                "{side}: PUT _cluster/settings (persistent, for the restore): {}",
                list.join(", ")
            ));
            lines.push(format!(
                "{side}: PUT _cluster/settings (after the restore, also on failure or signal): put back {}",
                self.changes
                    .iter()
                    .map(|c| format!(
                        "{} = {}",
                        c.key,
                        c.persistent_before.as_deref().unwrap_or("unset")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for l in &self.left_alone {
            lines.push(format!("{side}: recovery tuning: {l}"));
        }
        lines
    }
}

/// The body that puts back what `changes` changed and removes the marker.
pub fn revert_body(changes: &[SettingChange]) -> Value {
    let mut persistent = Map::new();
    for c in changes {
        persistent.insert(
            c.key.clone(),
            c.persistent_before
                .as_ref()
                .map_or(Value::Null, |v| json!(v)),
        );
    }
    persistent.insert(MARKER.into(), Value::Null);
    json!({ "persistent": persistent })
}

/// A value of a flat settings map as a string (ES answers strings; be lenient with numbers).
fn flat(layer: &Value, key: &str) -> Option<String> {
    match layer.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The marker in a `GET _cluster/settings?flat_settings=true` answer, if any.
pub fn marker_in(settings: &Value) -> Result<Option<Marker>> {
    let Some(raw) = settings.get("persistent").and_then(|p| flat(p, MARKER)) else {
        return Ok(None);
    };
    serde_json::from_str(&raw).map(Some).map_err(|e| {
        Error::failed(format!(
            "the cluster setting {MARKER} does not hold what c8dr writes there ({e}): \
             remove it by hand (PUT _cluster/settings {{\"persistent\":{{\"{MARKER}\":null}}}})"
        ))
    })
}

/// Whether `during` raises `before`: `-1`/`0` (no limit) beats any limit; byte sizes and
/// counts compare by value. Unparsable values count as "raise" only when they differ.
fn raises(key: &str, before: &str, during: &str) -> bool {
    if key.ends_with("max_bytes_per_sec") {
        match (bytes(before), bytes(during)) {
            (Some(b), Some(d)) => {
                let unlimited = |v: i128| v <= 0;
                !unlimited(b) && (unlimited(d) || d > b)
            }
            _ => before != during,
        }
    } else {
        match (before.trim().parse::<i64>(), during.trim().parse::<i64>()) {
            (Ok(b), Ok(d)) => d > b,
            _ => before != during,
        }
    }
}

/// A byte-size value as Elasticsearch parses it (`ByteSizeValue.parseBytesSizeValue`: `-1` and
/// `0` bare, else a number with a unit b, kb, mb, gb, tb, pb, case-insensitive), in bytes.
pub(crate) fn bytes(v: &str) -> Option<i128> {
    let v = v.trim().to_ascii_lowercase();
    if v == "-1" {
        return Some(-1);
    }
    if v == "0" {
        return Some(0);
    }
    let units: [(&str, i128); 6] = [
        ("pb", 1 << 50),
        ("tb", 1 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("b", 1),
    ];
    for (u, m) in units {
        if let Some(n) = v.strip_suffix(u) {
            let n: f64 = n.trim().parse().ok()?;
            return Some((n * m as f64) as i128);
        }
    }
    None
}

/// The tuning for `settings` (a `GET` [`SETTINGS_READ`] answer).
pub fn plan_from(settings: &Value) -> Result<TuningPlan> {
    let empty = json!({});
    let layer = |k: &str| settings.get(k).unwrap_or(&empty);
    let (persistent, transient, defaults) =
        (layer("persistent"), layer("transient"), layer("defaults"));
    let leftover = marker_in(settings)?;
    let mut plan = TuningPlan {
        changes: vec![],
        left_alone: vec![],
        leftover: leftover.clone(),
    };
    for (key, during) in TUNED {
        // An interrupted run's tuning: keep its record of the values before.
        if let Some(c) = leftover
            .as_ref()
            .and_then(|m| m.changes.iter().find(|c| c.key == *key))
        {
            plan.changes.push(c.clone());
            continue;
        }
        if let Some(t) = flat(transient, key) {
            plan.left_alone.push(format!(
                "{key} has the transient value {t}, which overrides persistent settings: left alone"
            ));
            continue;
        }
        let persistent_before = flat(persistent, key);
        let effective_before = persistent_before
            .clone()
            .or_else(|| flat(defaults, key))
            .unwrap_or_else(|| "default".to_string());
        if raises(key, &effective_before, during) {
            plan.changes.push(SettingChange {
                key: key.to_string(),
                persistent_before,
                effective_before,
                during: during.to_string(),
            });
        } else {
            plan.left_alone.push(format!(
                "{key} is {} already: left alone",
                show(&effective_before)
            ));
        }
    }
    Ok(plan)
}

/// Read the target's settings and plan the tuning (reads only).
pub async fn tuning_plan(t: &dyn EsTransport, opts: &EsOptions) -> Result<TuningPlan> {
    let c = EsClient::new(t, opts);
    plan_from(&c.get(SETTINGS_READ).await?)
}

/// Whether the marker is in place now.
async fn marker_present(c: &EsClient<'_>) -> Result<bool> {
    Ok(marker_in(&c.get(SETTINGS_READ).await?)?.is_some())
}

/// Raise the limits and write the marker, in one request sent once (a lost answer is followed
/// by a read: the marker says whether it landed).
pub async fn apply(
    t: &dyn EsTransport,
    opts: &EsOptions,
    plan: &TuningPlan,
    by: &str,
) -> Result<()> {
    if plan.changes.is_empty() {
        return Ok(());
    }
    let c = EsClient::new(t, opts);
    let mut poller = c.poller("the recovery tuning to apply");
    c.submit_once(
        Method::PUT,
        "_cluster/settings",
        &plan.apply_body(by),
        "raising the recovery limits for the restore",
        &mut poller,
        || async { marker_present(&c).await },
    )
    .await
}

/// Put back what `changes` changed and remove the marker (one request, sent once; a lost
/// answer is followed by a read: the marker gone means it landed).
pub async fn revert(
    t: &dyn EsTransport,
    opts: &EsOptions,
    changes: &[SettingChange],
) -> Result<()> {
    let c = EsClient::new(t, opts);
    let mut poller = c.poller("the recovery tuning to be put back");
    c.submit_once(
        Method::PUT,
        "_cluster/settings",
        &revert_body(changes),
        "putting back the recovery settings",
        &mut poller,
        || async { Ok(!marker_present(&c).await?) },
    )
    .await
}

/// Put back a tuning an interrupted run left in place, if there is one; returns what was put
/// back.
pub async fn revert_leftover(t: &dyn EsTransport, opts: &EsOptions) -> Result<Option<Marker>> {
    let c = EsClient::new(t, opts);
    let Some(m) = marker_in(&c.get(SETTINGS_READ).await?)? else {
        return Ok(None);
    };
    revert(t, opts, &m.changes).await?;
    Ok(Some(m))
}

/// The request that puts `changes` back, for messages when c8dr could not send it.
pub fn revert_request(changes: &[SettingChange]) -> String {
    format!("PUT _cluster/settings {}", revert_body(changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults_only() -> Value {
        json!({"persistent": {}, "transient": {}, "defaults": {
            "indices.recovery.max_bytes_per_sec": "40mb",
            "cluster.routing.allocation.node_initial_primaries_recoveries": "4",
            "cluster.routing.allocation.node_concurrent_recoveries": "2"}})
    }

    #[test]
    fn a_fresh_cluster_gets_all_three_raised_and_reset_to_unset_afterwards() {
        let plan = plan_from(&defaults_only()).expect("plan");
        assert_eq!(plan.changes.len(), 3);
        assert!(plan.changes.iter().all(|c| c.persistent_before.is_none()));
        assert_eq!(
            plan.changes[0].line(),
            "indices.recovery.max_bytes_per_sec: 40mb → -1 (no limit)"
        );
        let body = plan.apply_body("kubectl c8dr es copy");
        assert_eq!(
            body["persistent"]["indices.recovery.max_bytes_per_sec"],
            "-1"
        );
        let marker = marker_in(&body)
            .expect("marker parses")
            .expect("marker set");
        assert_eq!(marker.changes, plan.changes);
        let back = revert_body(&plan.changes);
        assert_eq!(
            back["persistent"]["indices.recovery.max_bytes_per_sec"],
            Value::Null
        );
        assert_eq!(back["persistent"][MARKER], Value::Null);
    }

    #[test]
    fn persistent_values_are_put_back_and_higher_ones_are_not_lowered() {
        let mut s = defaults_only();
        s["persistent"] = json!({"indices.recovery.max_bytes_per_sec": "100mb",
            "cluster.routing.allocation.node_concurrent_recoveries": "16"});
        let plan = plan_from(&s).expect("plan");
        let keys: Vec<&str> = plan.changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "indices.recovery.max_bytes_per_sec",
                "cluster.routing.allocation.node_initial_primaries_recoveries"
            ]
        );
        assert_eq!(plan.changes[0].persistent_before.as_deref(), Some("100mb"));
        assert_eq!(
            revert_body(&plan.changes)["persistent"]["indices.recovery.max_bytes_per_sec"],
            "100mb"
        );
        assert!(plan.left_alone[0].contains("node_concurrent_recoveries is 16 already"));
    }

    #[test]
    fn a_transient_value_or_no_limit_is_left_alone() {
        let mut s = defaults_only();
        s["transient"] =
            json!({"cluster.routing.allocation.node_initial_primaries_recoveries": "2"});
        s["defaults"]["indices.recovery.max_bytes_per_sec"] = json!("0b");
        let plan = plan_from(&s).expect("plan");
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.left_alone.len(), 2);
        assert!(plan.left_alone[1].contains("transient"));
    }

    #[test]
    fn a_leftover_marker_keeps_its_values_before() {
        let mut s = defaults_only();
        let first = plan_from(&defaults_only()).expect("plan");
        s["persistent"] = first.apply_body("kubectl c8dr failback")["persistent"].clone();
        let again = plan_from(&s).expect("plan");
        assert_eq!(again.changes, first.changes);
        assert_eq!(
            again.leftover.as_ref().map(|m| m.by.as_str()),
            Some("kubectl c8dr failback")
        );
        assert!(again.plan_lines("target")[0].contains("interrupted"));
    }

    #[test]
    fn byte_sizes_parse_as_elasticsearch_does() {
        assert_eq!(bytes("40mb"), Some(40 << 20));
        assert_eq!(bytes("1GB"), Some(1 << 30));
        assert_eq!(bytes("-1"), Some(-1));
        assert_eq!(bytes("12"), None);
        assert!(raises("indices.recovery.max_bytes_per_sec", "40mb", "-1"));
        assert!(!raises("indices.recovery.max_bytes_per_sec", "-1", "-1"));
    }
}
