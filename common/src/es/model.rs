//! Pure Elasticsearch logic: what the API answers mean for c8dr. No I/O here.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Index name prefixes the Camunda 8.8 schema manager creates (SPEC 3.5).
pub const CAMUNDA_INDEX_PREFIXES: [&str; 3] = ["operate-", "tasklist-", "camunda-"];

/// Whether an index belongs to Camunda (`operate-*`, `tasklist-*`, `camunda-*`).
pub fn is_camunda_index(name: &str) -> bool {
    CAMUNDA_INDEX_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A snapshot name ES accepts (lowercase, none of `\ / * ? " < > | , #` or space, no leading
/// `_` or `-`; ES's `MetadataCreateIndexService`-style validation applied to snapshots).
pub fn validate_snapshot_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the snapshot name is empty".into());
    }
    if name != name.to_lowercase() {
        return Err(format!("snapshot name {name:?} must be lowercase"));
    }
    if name.starts_with('_') || name.starts_with('-') {
        return Err(format!(
            "snapshot name {name:?} must not start with '_' or '-'"
        ));
    }
    if let Some(c) = name.chars().find(|c| "\\/*?\"<>|,# ".contains(*c)) {
        return Err(format!("snapshot name {name:?} must not contain {c:?}"));
    }
    Ok(())
}

/// `failback-YYYYMMDD-HHMMSS` (UTC) from seconds since the epoch.
pub fn default_snapshot_name(epoch_secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_secs);
    // "2026-11-23T22:21:00Z" -> "20261123-222100"
    let stamp: String = humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("failback-{}", stamp.replace('T', "-"))
}

/// The search engine behind the REST API: Elasticsearch or OpenSearch (issue 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Elasticsearch,
    OpenSearch,
}

/// What `GET /` says the cluster runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub engine: Engine,
    /// `version.number` (empty when not shown).
    pub version: String,
}

impl Distribution {
    /// Elasticsearch 8 restores the snapshot's feature states unless told otherwise; OpenSearch
    /// has none and rejects the `feature_states` key of a restore with a 400 ("Unknown parameter
    /// feature_states", opensearch-project/OpenSearch 2.19 `RestoreSnapshotRequest.source`).
    pub fn has_feature_states(&self) -> bool {
        self.engine == Engine::Elasticsearch
    }

    pub fn describe(&self) -> String {
        let name = match self.engine {
            Engine::Elasticsearch => "Elasticsearch",
            Engine::OpenSearch => "OpenSearch",
        };
        if self.version.is_empty() {
            name.to_string()
        } else {
            format!("{name} {}", self.version)
        }
    }
}

/// The distribution `GET /` describes. OpenSearch writes `version.distribution: "opensearch"`
/// (opensearch-project/OpenSearch `MainResponse.toXContent`); Elasticsearch writes
/// `version.build_flavor` and no `distribution`. Anything else counts as Elasticsearch: the
/// cautious choice, since leaving `feature_states` out on a secured Elasticsearch would restore
/// the snapshot's security index over the target's users, while sending it to an OpenSearch
/// only earns a 400 before anything is restored.
pub fn parse_distribution(main: &Value) -> Distribution {
    let version = main
        .pointer("/version/number")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let engine = match main
        .pointer("/version/distribution")
        .and_then(Value::as_str)
    {
        Some(d) if d.eq_ignore_ascii_case("opensearch") => Engine::OpenSearch,
        _ => Engine::Elasticsearch,
    };
    Distribution { engine, version }
}

/// One row of `_cat/indices?format=json` (ES renders every value as a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatIndex {
    pub index: String,
    #[serde(default)]
    pub health: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    /// `None` while the primary is not started (a red index).
    #[serde(
        rename = "docs.count",
        default,
        deserialize_with = "de_opt_u64_string",
        serialize_with = "ser_opt_u64"
    )]
    pub docs_count: Option<u64>,
    /// Primary shards (`index.number_of_shards`), a default column of `_cat/indices`.
    #[serde(
        default,
        deserialize_with = "de_opt_u64_string",
        serialize_with = "ser_opt_u64"
    )]
    pub pri: Option<u64>,
    /// Replicas of each primary (`index.number_of_replicas`).
    #[serde(
        default,
        deserialize_with = "de_opt_u64_string",
        serialize_with = "ser_opt_u64"
    )]
    pub rep: Option<u64>,
}

impl CatIndex {
    /// The index's shard layout, when `_cat/indices` showed it.
    pub fn layout(&self) -> Option<ShardLayout> {
        Some(ShardLayout {
            shards: self.pri?,
            replicas: self.rep?,
        })
    }
}

/// How many shard copies an index has: `number_of_shards` primaries, each with
/// `number_of_replicas` replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShardLayout {
    pub shards: u64,
    pub replicas: u64,
}

impl ShardLayout {
    /// Replicas per shard a cluster of `data_nodes` can allocate: ES never puts two copies of a
    /// shard on one node (`SameShardAllocationDecider`), so the rest stay unassigned (yellow).
    pub fn allocatable_replicas(&self, data_nodes: u64) -> u64 {
        self.replicas.min(data_nodes.saturating_sub(1))
    }

    /// Shard copies the cluster will recover: every primary and its allocatable replicas.
    pub fn expected_copies(&self, data_nodes: u64) -> u64 {
        self.shards * (1 + self.allocatable_replicas(data_nodes))
    }

    /// Replica copies that can never be allocated on `data_nodes` nodes.
    pub fn unassignable_replicas(&self, data_nodes: u64) -> u64 {
        self.shards * (self.replicas - self.allocatable_replicas(data_nodes))
    }
}

fn de_opt_u64_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => s.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    })
}

fn ser_opt_u64<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_u64(*n),
        None => s.serialize_none(),
    }
}

/// Shard counts of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCounts {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub successful: u64,
}

/// A shard that failed to snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFailure {
    #[serde(default)]
    pub index: String,
    #[serde(default)]
    pub shard_id: u64,
    #[serde(default)]
    pub reason: String,
}

/// A snapshot as `GET _snapshot/<repo>/<name>` describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub snapshot: String,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub include_global_state: bool,
    #[serde(default)]
    pub indices: Vec<String>,
    /// ES 8 feature states (system indices such as security) the snapshot carries; a restore
    /// with `include_global_state: true` restores them too.
    #[serde(default)]
    pub feature_states: Vec<Value>,
    #[serde(default)]
    pub shards: ShardCounts,
    #[serde(default)]
    pub failures: Vec<ShardFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_millis: Option<u64>,
}

/// What a snapshot's state means for c8dr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotVerdict {
    Running,
    Succeeded,
    /// Not usable, with the reason (failed shards named).
    Failed(String),
}

/// SUCCESS with `shards.failed == 0` is the only success (SPEC 3.5); PARTIAL and FAILED are
/// failures naming the failed shards.
pub fn evaluate_snapshot(info: &SnapshotInfo) -> SnapshotVerdict {
    let failed_shards = || {
        if info.failures.is_empty() {
            format!(
                "{} of {} shards failed",
                info.shards.failed, info.shards.total
            )
        } else {
            let list: Vec<String> = info
                .failures
                .iter()
                .map(|f| format!("{}[{}]: {}", f.index, f.shard_id, f.reason))
                .collect();
            format!(
                "{} of {} shards failed: {}",
                info.shards.failed.max(info.failures.len() as u64),
                info.shards.total,
                list.join("; ")
            )
        }
    };
    match info.state.as_str() {
        "IN_PROGRESS" | "STARTED" | "INIT" => SnapshotVerdict::Running,
        "SUCCESS" if info.shards.failed == 0 && info.failures.is_empty() => {
            SnapshotVerdict::Succeeded
        }
        "SUCCESS" | "PARTIAL" => SnapshotVerdict::Failed(format!(
            "snapshot {} is {}: {}",
            info.snapshot,
            info.state,
            failed_shards()
        )),
        other => SnapshotVerdict::Failed(format!(
            "snapshot {} is {}: {}",
            info.snapshot,
            if other.is_empty() {
                "in an unknown state"
            } else {
                other
            },
            failed_shards()
        )),
    }
}

/// One shard recovery from `GET _recovery`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardRecovery {
    pub index: String,
    pub shard: u64,
    pub primary: bool,
    /// `EMPTY_STORE`, `SNAPSHOT`, `PEER`, `EXISTING_STORE`…
    pub kind: String,
    /// `INIT`, `INDEX`, `VERIFY_INDEX`, `TRANSLOG`, `FINALIZE`, `DONE`.
    pub stage: String,
    /// For `SNAPSHOT` recoveries: repository and snapshot restored from.
    pub repository: Option<String>,
    pub snapshot: Option<String>,
    pub total_bytes: u64,
    pub recovered_bytes: u64,
}

impl ShardRecovery {
    pub fn done(&self) -> bool {
        self.stage == "DONE"
    }

    pub fn from_snapshot(&self, repository: &str, snapshot: &str) -> bool {
        self.kind == "SNAPSHOT"
            && self.repository.as_deref() == Some(repository)
            && self.snapshot.as_deref() == Some(snapshot)
    }
}

/// Flatten a `GET _recovery` answer.
pub fn parse_recovery(v: &Value) -> Vec<ShardRecovery> {
    let mut out = vec![];
    let Some(map) = v.as_object() else {
        return out;
    };
    for (index, entry) in map {
        for s in entry
            .get("shards")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let str_of = |p: &str| s.pointer(p).and_then(Value::as_str).map(str::to_string);
            let u64_of = |p: &str| s.pointer(p).and_then(Value::as_u64).unwrap_or(0);
            out.push(ShardRecovery {
                index: index.clone(),
                shard: u64_of("/id"),
                primary: s.get("primary").and_then(Value::as_bool).unwrap_or(true),
                kind: str_of("/type").unwrap_or_default(),
                stage: str_of("/stage").unwrap_or_default(),
                repository: str_of("/source/repository"),
                snapshot: str_of("/source/snapshot"),
                total_bytes: u64_of("/index/size/total_in_bytes"),
                recovered_bytes: u64_of("/index/size/recovered_in_bytes"),
            });
        }
    }
    out
}

/// Progress of a wait: units done of total, and a byte-weighted percentage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub percent: f64,
}

impl Progress {
    pub fn units(done: u64, total: u64) -> Self {
        let percent = if total == 0 {
            100.0
        } else {
            (done.min(total) as f64) * 100.0 / total as f64
        };
        Self {
            done: done.min(total),
            total,
            percent,
        }
    }
}

/// Progress of restoring `indices` (SPEC 3.5): shard copies DONE over shard copies expected,
/// never shards over indices. `_recovery` lists every copy that started recovering: the
/// primaries restored from the snapshot (`SNAPSHOT`), then the replicas recovered from them
/// (`PEER`). An index expects `layout.expected_copies(data_nodes)` copies; an index whose
/// layout is not known yet (`None`: not in `_cat/indices`) expects at least one copy per
/// recovery seen plus one, so that it is never complete. The percentage weighs copies by bytes
/// (copies without an entry yet weigh as the average known copy).
pub fn restore_progress(
    recoveries: &[ShardRecovery],
    layouts: &BTreeMap<String, Option<ShardLayout>>,
    data_nodes: u64,
) -> Progress {
    let mut total = 0u64;
    let mut done = 0u64;
    let (mut got, mut all, mut listed) = (0u64, 0u64, 0u64);
    for (index, layout) in layouts {
        let recs: Vec<&ShardRecovery> = recoveries.iter().filter(|r| &r.index == index).collect();
        let expected = match layout {
            Some(l) => l.expected_copies(data_nodes),
            None => recs.len() as u64 + 1,
        };
        total += expected;
        done += (recs.iter().filter(|r| r.done()).count() as u64).min(expected);
        for r in recs.iter().take(expected as usize) {
            got += if r.done() {
                r.total_bytes
            } else {
                r.recovered_bytes.min(r.total_bytes)
            };
            all += r.total_bytes;
            listed += 1;
        }
    }
    let missing = total.saturating_sub(listed);
    let percent = if total == 0 {
        100.0
    } else if all == 0 {
        done as f64 * 100.0 / total as f64
    } else {
        let avg = all as f64 / listed.max(1) as f64;
        got as f64 * 100.0 / (all as f64 + avg * missing as f64)
    };
    Progress {
        done,
        total,
        percent: percent.min(100.0),
    }
}

/// Where the target stands with respect to restoring a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestorePlan {
    /// Nothing in the way: restore.
    Restore,
    /// Every index of the snapshot is present and was restored from this snapshot, and no other
    /// Camunda index exists: the restore already happened (`finished`) or is running.
    AlreadyRestored { finished: bool },
    /// Indices in the way: Camunda ones (deletable with an explicit flag) and others (never
    /// deleted by c8dr).
    Conflicts {
        camunda: Vec<String>,
        other: Vec<String>,
    },
}

/// Where an existing index's primaries came from, as `_recovery` and `_cat/indices` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Every listed primary was restored from this snapshot; `primaries_done` when all of the
    /// index's primaries are listed and DONE.
    Snapshot {
        repository: String,
        snapshot: String,
        primaries_done: bool,
    },
    /// Red with no recovery at all: its primaries are not allocated yet. A restore creates every
    /// index at once but recovers only a few shards per node at a time
    /// (`ThrottlingAllocationDecider`, `node_concurrent_recoveries` 2), and ES has no recovery
    /// state for the others yet.
    Unassigned,
    /// Anything else (created empty by the schema manager, or restored from mixed sources).
    Other,
}

/// The origin of every index of `cat`.
pub fn index_origins(cat: &[CatIndex], recoveries: &[ShardRecovery]) -> BTreeMap<String, Origin> {
    cat.iter()
        .map(|row| {
            let primaries: Vec<&ShardRecovery> = recoveries
                .iter()
                .filter(|r| r.primary && r.index == row.index)
                .collect();
            let origin = match primaries.first() {
                None if row.health.as_deref() == Some("red") && row.docs_count.is_none() => {
                    Origin::Unassigned
                }
                None => Origin::Other,
                Some(first) => {
                    let same = |r: &&ShardRecovery| {
                        r.kind == "SNAPSHOT"
                            && r.repository.is_some()
                            && r.snapshot.is_some()
                            && r.repository == first.repository
                            && r.snapshot == first.snapshot
                    };
                    if primaries.iter().all(same) {
                        let all_listed = row.pri.is_none_or(|pri| primaries.len() as u64 >= pri);
                        Origin::Snapshot {
                            repository: first.repository.clone().unwrap_or_default(),
                            snapshot: first.snapshot.clone().unwrap_or_default(),
                            primaries_done: all_listed && primaries.iter().all(|r| r.done()),
                        }
                    } else {
                        Origin::Other
                    }
                }
            };
            (row.index.clone(), origin)
        })
        .collect()
}

/// Decide how to restore `snapshot` (its `indices`) from `repository` into a target whose
/// existing indices have `origins` ([`index_origins`]).
///
/// Idempotency rule: the snapshot counts as already restored when every one of its indices
/// exists in the target, each one's primaries were recovered from *this* snapshot (`_recovery`
/// type `SNAPSHOT` with this repository and snapshot name) or are still waiting for their turn
/// (red, unassigned, while other indices recover from this snapshot), and no other Camunda index
/// exists. ES keeps that recovery record while the shard stays on its node; if it was lost (a
/// node restart), the indices count as conflicts: c8dr then refuses rather than guess.
pub fn plan_restore(
    repository: &str,
    snapshot: &str,
    snapshot_indices: &BTreeSet<String>,
    origins: &BTreeMap<String, Origin>,
) -> RestorePlan {
    let from_this = |o: &Origin| matches!(o, Origin::Snapshot { repository: r, snapshot: s, .. } if r == repository && s == snapshot);
    let any_from_this = origins.values().any(from_this);
    let ours = |i: &String| {
        origins
            .get(i)
            .is_some_and(|o| from_this(o) || (any_from_this && *o == Origin::Unassigned))
    };
    let all_ours = !snapshot_indices.is_empty() && snapshot_indices.iter().all(ours);
    let extra_camunda = origins
        .keys()
        .any(|i| is_camunda_index(i) && !snapshot_indices.contains(i));
    if all_ours && !extra_camunda {
        let finished = snapshot_indices.iter().all(|i| {
            matches!(
                origins.get(i),
                Some(Origin::Snapshot {
                    primaries_done: true,
                    ..
                })
            )
        });
        return RestorePlan::AlreadyRestored { finished };
    }
    let camunda: Vec<String> = origins
        .keys()
        .filter(|i| is_camunda_index(i))
        .cloned()
        .collect();
    let other: Vec<String> = origins
        .keys()
        .filter(|i| !is_camunda_index(i) && snapshot_indices.contains(*i))
        .cloned()
        .collect();
    if camunda.is_empty() && other.is_empty() {
        RestorePlan::Restore
    } else {
        RestorePlan::Conflicts { camunda, other }
    }
}

/// The `type: reason` of an ES error body (or the body itself when it has another shape).
pub fn error_reason(body: &Value) -> String {
    match body.get("error") {
        Some(Value::Object(e)) => {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let reason = e.get("reason").and_then(Value::as_str).unwrap_or("");
            let cause = e
                .get("caused_by")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                .map(|c| format!(" (caused by: {c})"))
                .unwrap_or_default();
            format!("{kind}: {reason}{cause}")
        }
        Some(Value::String(s)) => s.clone(),
        _ => match body {
            Value::String(s) => s.clone(),
            Value::Null => "empty answer".into(),
            other => other.to_string(),
        },
    }
}

/// The `error.type` of an ES error body.
pub fn error_type(body: &Value) -> Option<&str> {
    body.pointer("/error/type").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn rec(index: &str, stage: &str, snapshot: Option<&str>) -> ShardRecovery {
        ShardRecovery {
            index: index.into(),
            shard: 0,
            primary: true,
            kind: if snapshot.is_some() {
                "SNAPSHOT"
            } else {
                "EMPTY_STORE"
            }
            .into(),
            stage: stage.into(),
            repository: snapshot.map(|_| "camunda_backup".into()),
            snapshot: snapshot.map(str::to_string),
            total_bytes: 1000,
            recovered_bytes: if stage == "DONE" { 1000 } else { 250 },
        }
    }

    #[test]
    fn classification() {
        assert!(is_camunda_index("operate-list-view-8.3.0_"));
        assert!(is_camunda_index("tasklist-task-8.8.0_"));
        assert!(is_camunda_index("camunda-user-8.8.0_"));
        assert!(!is_camunda_index(".security-7"));
        assert!(!is_camunda_index("zeebe-record_job_8.8.0"));
        assert!(!is_camunda_index("operate"));
    }

    #[test]
    fn names() {
        assert_eq!(default_snapshot_name(0), "failback-19700101-000000");
        assert_eq!(
            default_snapshot_name(1_795_469_085),
            "failback-20261123-212445"
        );
        assert!(validate_snapshot_name("failback-20261123-212445").is_ok());
        assert!(validate_snapshot_name("Upper").is_err());
        assert!(validate_snapshot_name("a b").is_err());
        assert!(validate_snapshot_name("_x").is_err());
        assert!(validate_snapshot_name("").is_err());
    }

    #[test]
    fn snapshot_verdicts() {
        let mut info: SnapshotInfo = serde_json::from_value(json!({
            "snapshot": "s", "state": "SUCCESS", "include_global_state": true,
            "indices": ["a"], "shards": {"total": 3, "failed": 0, "successful": 3}
        }))
        .expect("info");
        assert_eq!(evaluate_snapshot(&info), SnapshotVerdict::Succeeded);
        info.state = "IN_PROGRESS".into();
        assert_eq!(evaluate_snapshot(&info), SnapshotVerdict::Running);
        info.state = "PARTIAL".into();
        info.shards.failed = 1;
        info.failures = vec![ShardFailure {
            index: "operate-x".into(),
            shard_id: 0,
            reason: "boom".into(),
        }];
        match evaluate_snapshot(&info) {
            SnapshotVerdict::Failed(m) => {
                assert!(
                    m.contains("PARTIAL") && m.contains("operate-x[0]: boom"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        // SUCCESS with a failed shard is not a success either.
        info.state = "SUCCESS".into();
        assert!(matches!(
            evaluate_snapshot(&info),
            SnapshotVerdict::Failed(_)
        ));
        info.state = "FAILED".into();
        assert!(matches!(
            evaluate_snapshot(&info),
            SnapshotVerdict::Failed(_)
        ));
    }

    #[test]
    fn cat_rows() {
        let rows: Vec<CatIndex> = serde_json::from_value(json!([
            {"index": "a", "health": "green", "docs.count": "42"},
            {"index": "b", "health": "red", "docs.count": null}
        ]))
        .expect("rows");
        assert_eq!(rows[0].docs_count, Some(42));
        assert_eq!(rows[1].docs_count, None);
    }

    fn layouts(items: &[(&str, u64, u64)]) -> BTreeMap<String, Option<ShardLayout>> {
        items
            .iter()
            .map(|(i, shards, replicas)| {
                (
                    i.to_string(),
                    Some(ShardLayout {
                        shards: *shards,
                        replicas: *replicas,
                    }),
                )
            })
            .collect()
    }

    fn copy(index: &str, shard: u64, primary: bool, stage: &str) -> ShardRecovery {
        ShardRecovery {
            shard,
            primary,
            kind: if primary { "SNAPSHOT" } else { "PEER" }.into(),
            repository: primary.then(|| "camunda_backup".into()),
            snapshot: primary.then(|| "s1".into()),
            ..rec(index, stage, Some("s1"))
        }
    }

    #[test]
    fn recovery_parsing_and_progress() {
        let v = json!({"operate-a": {"shards": [{"id": 0, "type": "SNAPSHOT", "stage": "INDEX", "primary": true,
            "source": {"repository": "camunda_backup", "snapshot": "s1"},
            "index": {"size": {"total_in_bytes": 1000, "recovered_in_bytes": 500}}}]}});
        let r = parse_recovery(&v);
        assert_eq!(r.len(), 1);
        assert!(r[0].from_snapshot("camunda_backup", "s1"));
        assert!(!r[0].done());
        // One primary, no replica each: half of one copy out of two.
        let p = restore_progress(&r, &layouts(&[("operate-a", 1, 0), ("operate-b", 1, 0)]), 2);
        assert_eq!((p.done, p.total), (0, 2));
        assert!((p.percent - 25.0).abs() < 0.01, "{}", p.percent);
        let done = vec![
            rec("operate-a", "DONE", Some("s1")),
            rec("operate-b", "DONE", Some("s1")),
        ];
        let p = restore_progress(
            &done,
            &layouts(&[("operate-a", 1, 0), ("operate-b", 1, 0)]),
            1,
        );
        assert_eq!((p.done, p.total, p.percent), (2, 2, 100.0));
        assert_eq!(Progress::units(1, 4).percent, 25.0);
        assert_eq!(Progress::units(0, 0).percent, 100.0);
    }

    #[test]
    fn progress_counts_shard_copies_not_indices() {
        // Three primaries and one replica each, two data nodes: six copies per index.
        let l = layouts(&[("operate-a", 3, 1), ("operate-b", 3, 1)]);
        let mut recs: Vec<ShardRecovery> =
            (0..3).map(|s| copy("operate-a", s, true, "DONE")).collect();
        let p = restore_progress(&recs, &l, 2);
        assert_eq!((p.done, p.total), (3, 12));
        recs.extend((0..3).map(|s| copy("operate-a", s, false, "DONE")));
        recs.extend((0..3).map(|s| copy("operate-b", s, true, "DONE")));
        let p = restore_progress(&recs, &l, 2);
        assert_eq!((p.done, p.total), (9, 12), "replicas of operate-b missing");
        recs.extend((0..3).map(|s| copy("operate-b", s, false, "DONE")));
        let p = restore_progress(&recs, &l, 2);
        assert_eq!((p.done, p.total, p.percent), (12, 12, 100.0));
        // One data node: replicas cannot be allocated, the primaries are all there is.
        let primaries: Vec<ShardRecovery> = recs.iter().filter(|r| r.primary).cloned().collect();
        let p = restore_progress(&primaries, &l, 1);
        assert_eq!((p.done, p.total), (6, 6));
        // An index whose layout is unknown yet is never complete.
        let mut unknown = l.clone();
        unknown.insert("operate-c".into(), None);
        let p = restore_progress(&recs, &unknown, 2);
        assert!(p.done < p.total, "{p:?}");
        let layout = ShardLayout {
            shards: 3,
            replicas: 2,
        };
        assert_eq!(layout.expected_copies(2), 6);
        assert_eq!(layout.unassignable_replicas(2), 3);
        assert_eq!(layout.expected_copies(5), 9);
    }

    fn cat(index: &str, health: &str, docs: Option<u64>, pri: u64) -> CatIndex {
        CatIndex {
            index: index.into(),
            health: Some(health.into()),
            status: Some("open".into()),
            uuid: None,
            docs_count: docs,
            pri: Some(pri),
            rep: Some(1),
        }
    }

    #[test]
    fn restore_plans() {
        let snap = set(&["operate-a", "tasklist-b"]);
        assert_eq!(
            plan_restore("camunda_backup", "s1", &snap, &BTreeMap::new()),
            RestorePlan::Restore
        );
        // The schema manager ran: same names, empty-store recoveries.
        let rows = vec![
            cat("camunda-c", "green", Some(0), 1),
            cat("operate-a", "green", Some(0), 1),
            cat("tasklist-b", "green", Some(0), 1),
        ];
        let recs = vec![
            rec("operate-a", "DONE", None),
            rec("tasklist-b", "DONE", None),
        ];
        assert_eq!(
            plan_restore("camunda_backup", "s1", &snap, &index_origins(&rows, &recs)),
            RestorePlan::Conflicts {
                camunda: vec!["camunda-c".into(), "operate-a".into(), "tasklist-b".into()],
                other: vec![]
            }
        );
        // Restored from this snapshot, one still recovering.
        let rows = vec![
            cat("operate-a", "green", Some(1), 1),
            cat("tasklist-b", "red", None, 1),
        ];
        let recs = vec![
            rec("operate-a", "DONE", Some("s1")),
            rec("tasklist-b", "INDEX", Some("s1")),
        ];
        let origins = index_origins(&rows, &recs);
        assert_eq!(
            plan_restore("camunda_backup", "s1", &snap, &origins),
            RestorePlan::AlreadyRestored { finished: false }
        );
        // Restored from another snapshot: a conflict.
        assert!(matches!(
            plan_restore("camunda_backup", "s2", &snap, &origins),
            RestorePlan::Conflicts { .. }
        ));
        // A restore whose second index waits for its turn (no recovery state yet).
        let recs = vec![rec("operate-a", "INDEX", Some("s1"))];
        let origins = index_origins(&rows, &recs);
        assert_eq!(origins["tasklist-b"], Origin::Unassigned);
        assert_eq!(
            plan_restore("camunda_backup", "s1", &snap, &origins),
            RestorePlan::AlreadyRestored { finished: false }
        );
        // Red and unassigned alone is no evidence of this snapshot.
        let origins = index_origins(&rows, &[]);
        assert!(matches!(
            plan_restore("camunda_backup", "s1", &snap, &origins),
            RestorePlan::Conflicts { .. }
        ));
        // Three primaries, only one listed and done: the primaries are not all done.
        let rows = vec![cat("operate-a", "red", None, 3)];
        let origins = index_origins(&rows, &[rec("operate-a", "DONE", Some("s1"))]);
        assert!(matches!(
            origins["operate-a"],
            Origin::Snapshot {
                primaries_done: false,
                ..
            }
        ));
        // A non-Camunda index of the snapshot in the way.
        let snap2 = set(&["custom"]);
        let origins = index_origins(&[cat("custom", "green", Some(1), 1)], &[]);
        assert_eq!(
            plan_restore("camunda_backup", "s1", &snap2, &origins),
            RestorePlan::Conflicts {
                camunda: vec![],
                other: vec!["custom".into()]
            }
        );
    }

    #[test]
    fn distributions_from_recorded_main_responses() {
        // OpenSearch 2.19 (MainResponse.toXContent: version.distribution first).
        let os = json!({"name": "node-1", "cluster_name": "opensearch", "cluster_uuid": "u",
            "version": {"distribution": "opensearch", "number": "2.19.1", "build_type": "tar",
                        "build_hash": "h", "build_date": "d", "build_snapshot": false,
                        "lucene_version": "9.12.1", "minimum_wire_compatibility_version": "7.10.0",
                        "minimum_index_compatibility_version": "7.0.0"},
            "tagline": "The OpenSearch Project: https://opensearch.org/"});
        let d = parse_distribution(&os);
        assert_eq!(d.engine, Engine::OpenSearch);
        assert_eq!(d.describe(), "OpenSearch 2.19.1");
        assert!(!d.has_feature_states());
        // Elasticsearch 8 (build_flavor, no distribution).
        let es = json!({"name": "n", "cluster_name": "elastic", "version": {"number": "8.18.0",
            "build_flavor": "default", "build_type": "docker"}, "tagline": "You Know, for Search"});
        let d = parse_distribution(&es);
        assert_eq!(d.engine, Engine::Elasticsearch);
        assert!(d.has_feature_states());
        // Unknown: treated as Elasticsearch (the cautious side).
        assert_eq!(
            parse_distribution(&json!(null)).engine,
            Engine::Elasticsearch
        );
    }

    #[test]
    fn error_reasons() {
        let body = json!({"error": {"type": "x_exception", "reason": "bad", "caused_by": {"reason": "deep"}}, "status": 500});
        assert_eq!(error_reason(&body), "x_exception: bad (caused by: deep)");
        assert_eq!(error_type(&body), Some("x_exception"));
        assert_eq!(error_reason(&json!({"error": "no handler"})), "no handler");
    }
}
