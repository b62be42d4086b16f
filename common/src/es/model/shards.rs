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
    /// Bytes moved so far (0 when the job reports none).
    pub bytes_done: u64,
    /// Bytes to move (0 when unknown).
    pub bytes_total: u64,
    /// `bytes_total` is an estimate (copies whose size is not known yet weigh as their
    /// primary, or as the average known shard).
    pub estimated: bool,
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
            bytes_done: 0,
            bytes_total: 0,
            estimated: false,
        }
    }

    /// With `done` of `total` bytes moved: the percentage is of the bytes from then on.
    pub fn with_bytes(self, done: u64, total: u64) -> Self {
        if total == 0 {
            return self;
        }
        Self {
            percent: done.min(total) as f64 * 100.0 / total as f64,
            bytes_done: done.min(total),
            bytes_total: total,
            ..self
        }
    }
}

/// Progress of restoring `indices` (docs/api-behaviour.md §5): shard copies DONE over shard copies expected,
/// never shards over indices. `_recovery` lists every copy that started recovering: the
/// primaries restored from the snapshot (`SNAPSHOT`), then the replicas recovered from them
/// (`PEER`). An index expects `layout.expected_copies(data_nodes)` copies; an index whose
/// layout is not known yet (`None`: not in `_cat/indices`) expects at least one copy per
/// recovery seen plus one, so that it is never complete. The percentage is of the bytes to
/// recover: a replica copies its primary's files (a peer recovery), so a copy not listed yet, or
/// listed before its size is known (`INIT`: `total_in_bytes` 0), weighs as its shard's largest
/// listed copy, and a shard none of whose copies is sized yet as the average sized shard.
pub fn restore_progress(
    recoveries: &[ShardRecovery],
    layouts: &BTreeMap<String, Option<ShardLayout>>,
    data_nodes: u64,
) -> Progress {
    let (mut total, mut done, mut got) = (0u64, 0u64, 0u64);
    // Per index: expected copies of each shard, and each shard's known size.
    let mut shards: Vec<(u64, u64, BTreeMap<u64, u64>)> = vec![];
    for (index, layout) in layouts {
        let recs: Vec<&ShardRecovery> = recoveries.iter().filter(|r| &r.index == index).collect();
        let (expected, per_shard, count) = match layout {
            Some(l) => (
                l.expected_copies(data_nodes),
                1 + l.allocatable_replicas(data_nodes),
                l.shards,
            ),
            None => (recs.len() as u64 + 1, 1, recs.len() as u64 + 1),
        };
        total += expected;
        done += (recs.iter().filter(|r| r.done()).count() as u64).min(expected);
        let mut sizes = BTreeMap::new();
        for r in recs.iter().take(expected as usize) {
            got += if r.done() {
                r.total_bytes
            } else {
                r.recovered_bytes.min(r.total_bytes)
            };
            let size = sizes.entry(r.shard).or_insert(0);
            *size = (*size).max(r.total_bytes);
        }
        sizes.retain(|_, s| *s > 0);
        shards.push((count, per_shard, sizes));
    }
    let (known, sized) = shards.iter().fold((0u64, 0u64), |(b, n), (_, _, s)| {
        (b + s.values().sum::<u64>(), n + s.len() as u64)
    });
    let average = known.checked_div(sized).unwrap_or(0);
    let mut estimated = false;
    let mut all = 0u64;
    for (count, per_shard, sizes) in &shards {
        let unsized_shards = count.saturating_sub(sizes.len() as u64);
        estimated |= unsized_shards > 0;
        all += per_shard * (sizes.values().sum::<u64>() + unsized_shards * average);
    }
    let p = Progress {
        done,
        total,
        percent: 0.0,
        bytes_done: 0,
        bytes_total: 0,
        estimated,
    };
    if all == 0 {
        let units = Progress::units(done, total);
        return Progress {
            percent: units.percent,
            ..p
        };
    }
    let complete = total > 0 && done == total;
    // Every copy done: exactly what was recovered, whatever the estimate said.
    let all = if complete { got } else { all.max(got) };
    Progress {
        estimated: estimated && !complete,
        ..p.with_bytes(got, all)
    }
}
