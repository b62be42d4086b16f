//! Shard copies: an index's layout (`_cat/indices`), their recoveries (`_recovery`) and the
//! progress of a restore counted in shard copies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// One shard recovery from `GET _recovery`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// Progress of restoring `indices` (docs/api-behaviour.md §5): shard copies DONE over shard copies expected,
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
