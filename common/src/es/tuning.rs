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
//!   and serves no traffic until the failback's last redeploy, so there is nothing for the limit to protect.
//! - `cluster.routing.allocation.node_initial_primaries_recoveries` (default 4;
//!   `ThrottlingAllocationDecider.java`): primaries restored from a snapshot are throttled by this
//!   one ("primary is unassigned, means we are going to do recovery from store, snapshot or local
//!   shards"), not by `node_concurrent_recoveries`.
//! - `cluster.routing.allocation.node_concurrent_recoveries` (default 2; same file, sets the
//!   `node_concurrent_incoming_recoveries`/`_outgoing_` defaults): the replicas' peer recoveries.
//!
//! **When.** A restore with `include_global_state: true` replaces the target's persistent
//! cluster settings with the snapshot's (elastic/elasticsearch 8.x
//! `server/.../snapshots/RestoreService.java` `applyGlobalStateRestore`:
//! `mdBuilder.persistentSettings(settings)`; opensearch-project/OpenSearch 2.x the same file):
//! a raise written before the restore is erased by it, record included. So the raise is written
//! right after the target accepted the restore, from the settings read then (what the snapshot
//! brought), and the put-back restores exactly those. Before the restore (plans, `--dry-run`),
//! the values are predicted: the source's persistent settings (the snapshot will carry them),
//! the target's transient settings (a restore keeps them) and its defaults.
//!
//! A setting is only ever raised: when its effective value is already at least c8dr's, it is left
//! alone. c8dr writes **persistent** settings: transient settings are deprecated since ES 7.16
//! ("We no longer recommend using transient cluster settings", cluster update settings API) and
//! may vanish or stay unexpectedly. Precedence is transient > persistent > `elasticsearch.yml` >
//! default, so a key that has a transient value is left alone too (a persistent change would not
//! take effect), and the plan says so.
//!
//! **Finding it again after SIGKILL.** In the same `PUT _cluster/settings` as the raise, c8dr
//! stores what it changed and the values before under one user-defined metadata key,
//! [`MARKER`]: Elasticsearch and OpenSearch accept any dynamic string setting prefixed with
//! `cluster.metadata.` (`ClusterService.USER_DEFINED_METADATA`, a `prefixKeySetting`, in
//! elastic/elasticsearch and opensearch-project/OpenSearch `server/.../cluster/service/ClusterService.java`).
//! One request sets both, so the cluster holds either the raise and its record or neither; the
//! put-back resets both in one request too. A later run (`es copy`, `failback`) that finds the
//! record puts back every key that still holds c8dr's value (a key someone changed since is left
//! alone). The record lives in the cluster it is about: found from any machine, and it shares
//! the raise's fate (persistent: both survive a full cluster restart). Not transient settings:
//! deprecated, they vanish on a full restart, possibly leaving a raise without its record.

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{EsClient, EsOptions};
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// The user-defined metadata key that records a raise in place (see the module docs).
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

/// What [`MARKER`] holds (a JSON string; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The command that raised (for messages).
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
    /// A tuning an earlier run left in place (it was interrupted): its changes that are still
    /// in place are kept for this restore and put back at its end.
    pub leftover: Option<Record>,
}

impl TuningPlan {
    /// The `PUT _cluster/settings` body that raises the limits and writes the record.
    pub fn apply_body(&self, by: &str) -> Value {
        let mut persistent = Map::new();
        for c in &self.changes {
            persistent.insert(c.key.clone(), json!(c.during));
        }
        let record = Record {
            by: by.to_string(),
            changes: self.changes.clone(),
        };
        persistent.insert(
            MARKER.into(),
            json!(serde_json::to_string(&record).unwrap_or_default()),
        );
        json!({ "persistent": persistent })
    }

    /// Plan lines: the calls with before → after.
    pub fn plan_lines(&self, side: &str) -> Vec<String> {
        self.plan_lines_when(side, "for the restore")
    }

    /// Plan lines for a raise made right after the restore is accepted (see the module docs).
    pub fn plan_lines_after_restore(&self, side: &str) -> Vec<String> {
        self.plan_lines_when(
            side,
            "right after the restore is accepted: it replaces the persistent settings with the \
             snapshot's, so these are the values the snapshot brings",
        )
    }

    fn plan_lines_when(&self, side: &str, when: &str) -> Vec<String> {
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
                "{side}: PUT _cluster/settings (persistent, {when}): {}",
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

/// The body that puts back what `changes` changed and removes the record.
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

/// The record in a `GET _cluster/settings?flat_settings=true` answer, if any.
pub fn record_in(settings: &Value) -> Result<Option<Record>> {
    let Some(raw) = settings.get("persistent").and_then(|p| flat(p, MARKER)) else {
        return Ok(None);
    };
    serde_json::from_str(&raw).map(Some).map_err(|e| {
        Error::failed(format!(
            "the cluster setting {MARKER} does not hold what c8dr writes there ({e}): \
             remove it by hand: PUT _cluster/settings {{\"persistent\":{{\"{MARKER}\":null}}}}"
        ))
    })
}

/// A value of a flat settings map as a string (ES answers strings; be lenient with numbers).
fn flat(layer: &Value, key: &str) -> Option<String> {
    match layer.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
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
/// `0` bare, else a number with a unit b, k/kb, m/mb, g/gb, t/tb, p/pb, case-insensitive), in
/// bytes.
pub(crate) fn bytes(v: &str) -> Option<i128> {
    let v = v.trim().to_ascii_lowercase();
    if v == "-1" {
        return Some(-1);
    }
    if v == "0" {
        return Some(0);
    }
    let units: [(&str, i128); 11] = [
        ("pb", 1 << 50),
        ("tb", 1 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("p", 1 << 50),
        ("t", 1 << 40),
        ("g", 1 << 30),
        ("m", 1 << 20),
        ("k", 1 << 10),
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

/// The changes of `record` still in place in `settings` (their key holds c8dr's value).
pub fn still_in_place(settings: &Value, changes: &[SettingChange]) -> Vec<SettingChange> {
    let persistent = settings.get("persistent").cloned().unwrap_or(Value::Null);
    changes
        .iter()
        .filter(|c| flat(&persistent, &c.key).as_deref() == Some(c.during.as_str()))
        .cloned()
        .collect()
}

/// The tuning for `settings` (a `GET` [`SETTINGS_READ`] answer), with the record an
/// interrupted run left in it.
pub fn plan_from(settings: &Value) -> Result<TuningPlan> {
    let record = record_in(settings)?;
    let empty = json!({});
    let layer = |k: &str| settings.get(k).unwrap_or(&empty);
    let (persistent, transient, defaults) =
        (layer("persistent"), layer("transient"), layer("defaults"));
    let leftover = record.map(|mut r| {
        r.changes = still_in_place(settings, &r.changes);
        r
    });
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

/// The settings the target will have once it accepted a restore of a snapshot of the source
/// taken now (see the module docs): the source's persistent layer, the target's transient layer
/// and defaults. Both are `GET` [`SETTINGS_READ`] answers.
pub fn after_restore(source: &Value, target: &Value) -> Value {
    let layer = |v: &Value, k: &str| v.get(k).cloned().unwrap_or_else(|| json!({}));
    json!({
        "persistent": layer(source, "persistent"),
        "transient": layer(target, "transient"),
        "defaults": layer(target, "defaults"),
    })
}

/// The tuning a restore into `target` of a snapshot of `source` will make, predicted with reads
/// only (for plans and `--dry-run`; the run plans again from the settings the restore brought).
pub async fn predicted_plan(
    source: &dyn EsTransport,
    target: &dyn EsTransport,
    opts: &EsOptions,
) -> Result<TuningPlan> {
    let s = EsClient::new(source, opts).get(SETTINGS_READ).await?;
    let t = EsClient::new(target, opts).get(SETTINGS_READ).await?;
    plan_from(&after_restore(&s, &t))
}

/// Whether the record is in place now.
async fn record_present(c: &EsClient<'_>) -> Result<bool> {
    Ok(record_in(&c.get(SETTINGS_READ).await?)?.is_some())
}

/// Raise the limits and write the record, in one request sent once (a lost answer is followed
/// by a read: the record says whether it landed).
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
        || async { record_present(&c).await },
    )
    .await
}

/// Put back what `changes` changed and remove the record (one request, sent once; a lost
/// answer is followed by a read: the record gone means it landed).
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
        || async { Ok(!record_present(&c).await?) },
    )
    .await
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
            record_in(&body).expect("parses").map(|r| r.changes),
            Some(plan.changes.clone())
        );
        assert_eq!(
            body["persistent"]["indices.recovery.max_bytes_per_sec"],
            "-1"
        );
        assert_eq!(
            body["persistent"]["cluster.routing.allocation.node_initial_primaries_recoveries"],
            "8"
        );
        let back = revert_body(&plan.changes);
        assert_eq!(
            back["persistent"]["indices.recovery.max_bytes_per_sec"],
            Value::Null
        );
        assert!(plan.plan_lines("target")[0].contains("40mb → -1 (no limit)"));
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
    fn a_record_of_an_interrupted_run_keeps_its_values_before_for_the_keys_still_raised() {
        let first = plan_from(&defaults_only()).expect("plan");
        let mut s = defaults_only();
        s["persistent"] = first.apply_body("kubectl c8dr failback")["persistent"].clone();
        let record = record_in(&s).expect("parses").expect("present");
        assert_eq!(record.changes, first.changes);
        // Someone changed one of them since: it is not c8dr's to put back any more.
        s["persistent"]["cluster.routing.allocation.node_concurrent_recoveries"] = json!("3");
        let again = plan_from(&s).expect("plan");
        let leftover = again.leftover.as_ref().expect("leftover");
        assert_eq!(leftover.changes.len(), 2);
        assert_eq!(again.changes[..2], first.changes[..2]);
        assert!(again.plan_lines("target")[0].contains("interrupted `kubectl c8dr failback`"));
        let back = revert_body(&leftover.changes);
        assert_eq!(back["persistent"][MARKER], Value::Null);
        assert!(
            back["persistent"]
                .get("cluster.routing.allocation.node_concurrent_recoveries")
                .is_none()
        );
    }

    #[test]
    fn a_record_c8dr_did_not_write_is_an_error_naming_the_way_out() {
        let mut s = defaults_only();
        s["persistent"] = json!({MARKER: "not json"});
        let e = plan_from(&s).expect_err("refused");
        assert!(e.to_string().contains("remove it by hand"), "{e}");
    }

    #[test]
    fn byte_sizes_parse_as_elasticsearch_does() {
        assert_eq!(bytes("40mb"), Some(40 << 20));
        assert_eq!(bytes("1GB"), Some(1 << 30));
        assert_eq!(bytes("512k"), Some(512 << 10));
        assert_eq!(bytes("-1"), Some(-1));
        assert_eq!(bytes("12"), None);
        assert!(raises("indices.recovery.max_bytes_per_sec", "40mb", "-1"));
        assert!(!raises("indices.recovery.max_bytes_per_sec", "-1", "-1"));
    }
}
