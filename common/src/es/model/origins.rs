//! Where a target's indices came from, and what restoring a snapshot there would do.

use std::collections::{BTreeMap, BTreeSet};

use super::is_camunda_index;
use super::shards::{CatIndex, ShardRecovery};

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
