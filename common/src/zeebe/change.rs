//! Tracking a topology change by its id, exactly as docs/api-behaviour.md §1 describes: never by substrings,
//! never by an older `lastChange`; recognising a change by what it does ([`Intent`]) when its id
//! is not known (a lost answer, another c8dr run). Pure: the I/O is in `commands::follow`.

use serde::Serialize;

use super::model::{ClusterTopology, PendingChange};

/// Where a change stands in an observed topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ChangeState {
    /// `lastChange.id == id` and COMPLETED, or a newer change completed after it.
    Completed,
    /// `lastChange.id == id` with FAILED or CANCELLED.
    Ended { status: String },
    /// `pendingChange.id == id`: `completed` of `total` operations applied.
    InProgress { completed: usize, total: usize },
    /// Neither: the change is not visible yet (or another change is pending before it).
    NotStarted,
}

impl ChangeState {
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Ended { .. })
    }
}

/// Judge change `id` from one observation.
pub fn observe(topology: &ClusterTopology, id: i64) -> ChangeState {
    if let Some(last) = &topology.last_change {
        if last.id == id {
            return if last.status == "COMPLETED" {
                ChangeState::Completed
            } else {
                ChangeState::Ended {
                    status: last.status.clone(),
                }
            };
        }
        if last.id > id {
            return ChangeState::Completed;
        }
    }
    match &topology.pending_change {
        Some(p) if p.id == id => ChangeState::InProgress {
            completed: p.completed.len(),
            total: p.completed.len() + p.pending.len(),
        },
        _ => ChangeState::NotStarted,
    }
}

/// What a mutation means to do: how its change is recognised when its answer is lost or another
/// c8dr run sent it first.
#[derive(Debug, Clone)]
pub enum Intent {
    Remove(Vec<u32>),
    Add(Vec<u32>),
    Exporter { id: String, enable: bool },
}

impl Intent {
    /// Whether pending change `p` does what this intent asks.
    pub fn matches(&self, p: &PendingChange) -> bool {
        let mut ops = p.completed.iter().chain(&p.pending);
        match self {
            Self::Remove(ids) => {
                // Only a FORCED removal (a normal removal of lost brokers waits for them
                // forever), recognised by which brokers leave, whatever the layout.
                let removed = forced_removal(p).unwrap_or_default();
                !ids.is_empty() && ids.iter().all(|b| removed.contains(b))
            }
            Self::Add(ids) if ids.is_empty() => ops.any(|o| o.operation.starts_with("PARTITION_")),
            Self::Add(ids) => ops.any(|o| {
                o.operation == "BROKER_ADD" && o.broker_id.is_some_and(|b| ids.contains(&b))
            }),
            Self::Exporter { id, enable } => {
                let kind = if *enable {
                    "PARTITION_ENABLE_EXPORTER"
                } else {
                    "PARTITION_DISABLE_EXPORTER"
                };
                ops.any(|o| o.operation == kind && o.exporter_id.as_deref() == Some(id.as_str()))
            }
        }
    }
}

/// The brokers a pending change removes by force, or `None` when it is no forced removal.
/// Recognised by what the change does, not by one release's layout of its operations:
/// - it is forced when it reconfigures a partition by force (`PARTITION_FORCE_RECONFIGURE`,
///   whose `brokers` are the members that remain), or when a `BROKER_REMOVE` names in `brokers`
///   a broker other than the one executing it (8.8's `MemberRemoveOperation`: `brokerId` is a
///   surviving executor, camunda/camunda ClusterApiUtils.mapOperation); a normal removal has
///   neither (the leaving broker executes its own `BROKER_REMOVE` after `PARTITION_LEAVE`s);
/// - the brokers that leave are those its `BROKER_REMOVE` operations name (in `brokers`, else
///   `brokerId`), less any broker a forced reconfiguration keeps as a member.
pub fn forced_removal(p: &PendingChange) -> Option<Vec<u32>> {
    let ops: Vec<&super::model::Operation> = p.completed.iter().chain(&p.pending).collect();
    let remaining: Vec<u32> = ops
        .iter()
        .filter(|o| o.operation == "PARTITION_FORCE_RECONFIGURE")
        .flat_map(|o| o.brokers.clone().unwrap_or_default())
        .collect();
    let reconfigures = ops
        .iter()
        .any(|o| o.operation == "PARTITION_FORCE_RECONFIGURE");
    let removes_other = ops.iter().any(|o| {
        o.operation == "BROKER_REMOVE"
            && o.brokers
                .as_ref()
                .is_some_and(|b| b.iter().any(|id| Some(*id) != o.broker_id))
    });
    if !reconfigures && !removes_other {
        return None;
    }
    let mut removed: Vec<u32> = ops
        .iter()
        .flat_map(|o| o.removed_brokers())
        .filter(|b| !remaining.contains(b))
        .collect();
    removed.sort_unstable();
    removed.dedup();
    Some(removed)
}

/// The change to follow after a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Nothing was started (the plan was empty).
    Nothing,
    /// This change.
    Change(i64),
    /// Some change newer than this id, not readable yet (the coordinator is lost).
    After(i64),
}

impl Follow {
    /// The change id, when known.
    pub fn id(self) -> Option<i64> {
        match self {
            Self::Change(id) => Some(id),
            _ => None,
        }
    }
}

/// The newest change id a topology shows (pending or last), -1 when none: a change newer than
/// this was started after the topology was read.
pub fn baseline(t: &ClusterTopology) -> i64 {
    t.pending_change
        .as_ref()
        .map(|p| p.id)
        .into_iter()
        .chain(t.last_change.as_ref().map(|l| l.id))
        .max()
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeebe::model::{LastChange, Operation};
    use serde_json::json;

    fn topo(last: Option<(i64, &str)>, pending: Option<(i64, usize, usize)>) -> ClusterTopology {
        let op = Operation {
            operation: "BROKER_REMOVE".into(),
            broker_id: Some(1),
            partition_id: None,
            priority: None,
            brokers: None,
            exporter_id: None,
        };
        ClusterTopology {
            last_change: last.map(|(id, s)| LastChange {
                id,
                status: s.into(),
                started_at: None,
                completed_at: None,
            }),
            pending_change: pending.map(|(id, done, left)| PendingChange {
                id,
                status: "IN_PROGRESS".into(),
                started_at: None,
                completed: vec![op.clone(); done],
                pending: vec![op.clone(); left],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn completion_is_judged_by_the_change_id() {
        assert_eq!(
            observe(&topo(Some((7, "COMPLETED")), None), 7),
            ChangeState::Completed
        );
        // An older COMPLETED lastChange says nothing about ours.
        assert_eq!(
            observe(&topo(Some((6, "COMPLETED")), None), 7),
            ChangeState::NotStarted
        );
        assert_eq!(
            observe(&topo(Some((6, "COMPLETED")), Some((7, 2, 6))), 7),
            ChangeState::InProgress {
                completed: 2,
                total: 8
            }
        );
        // A newer change finished: ours finished before it.
        assert_eq!(
            observe(&topo(Some((9, "COMPLETED")), None), 7),
            ChangeState::Completed
        );
    }

    #[test]
    fn failed_and_cancelled_changes_end_without_success() {
        assert_eq!(
            observe(&topo(Some((7, "CANCELLED")), None), 7),
            ChangeState::Ended {
                status: "CANCELLED".into()
            }
        );
        assert!(observe(&topo(Some((7, "FAILED")), None), 7).is_final());
        // Someone else's pending change is not ours.
        assert_eq!(
            observe(&topo(Some((5, "COMPLETED")), Some((6, 0, 3))), 7),
            ChangeState::NotStarted
        );
    }

    fn op(v: serde_json::Value) -> Operation {
        serde_json::from_value(v).expect("operation")
    }

    fn pending(ops: Vec<Operation>) -> PendingChange {
        PendingChange {
            id: 3,
            status: "IN_PROGRESS".into(),
            started_at: None,
            completed: vec![],
            pending: ops,
        }
    }

    #[test]
    fn a_forced_removal_is_recognised_by_the_removed_brokers_not_the_executor() {
        let forced = pending(vec![
            op(json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [1]})),
            op(json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [3]})),
        ]);
        assert!(Intent::Remove(vec![1, 3]).matches(&forced));
        assert!(!Intent::Remove(vec![0]).matches(&forced));
        // A normal removal of lost brokers waits for them forever: not followed.
        let normal = pending(vec![op(
            json!({"operation": "BROKER_REMOVE", "brokerId": 1}),
        )]);
        assert!(!Intent::Remove(vec![1]).matches(&normal));
    }

    /// The same forced removal of brokers 1 and 3 from a 4-broker cluster (partitions 1 and 2
    /// on all four), laid out several ways: 8.8's (a survivor executes `BROKER_REMOVE` naming
    /// the removed broker in `brokers`), the removed broker as `brokerId` without `brokers`, the
    /// removal listed before or after the reconfigurations, half of it already completed.
    #[test]
    fn a_forced_removal_is_recognised_by_which_brokers_leave_whatever_the_layout() {
        let reconf = |p: u32| {
            op(
                json!({"operation": "PARTITION_FORCE_RECONFIGURE", "brokerId": 0,
                      "partitionId": p, "brokers": [0, 2]}),
            )
        };
        let by_executor =
            |b: u32| op(json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [b]}));
        let by_id = |b: u32| op(json!({"operation": "BROKER_REMOVE", "brokerId": b}));
        let layouts = vec![
            pending(vec![reconf(1), reconf(2), by_executor(1), by_executor(3)]),
            pending(vec![reconf(1), reconf(2), by_id(1), by_id(3)]),
            pending(vec![by_id(1), by_id(3), reconf(1), reconf(2)]),
            PendingChange {
                completed: vec![reconf(1), reconf(2), by_id(1)],
                pending: vec![by_id(3)],
                ..pending(vec![])
            },
        ];
        for p in &layouts {
            assert_eq!(forced_removal(p), Some(vec![1, 3]), "{p:?}");
            assert!(Intent::Remove(vec![1, 3]).matches(p), "{p:?}");
            assert!(Intent::Remove(vec![3]).matches(p), "{p:?}");
            assert!(!Intent::Remove(vec![1, 3, 5]).matches(p), "{p:?}");
            assert!(!Intent::Remove(vec![2]).matches(p), "{p:?}");
        }
        // A normal removal: the leaving broker leaves its partitions, then removes itself.
        let normal = pending(vec![
            op(json!({"operation": "PARTITION_LEAVE", "brokerId": 1, "partitionId": 1})),
            op(
                json!({"operation": "PARTITION_JOIN", "brokerId": 2, "partitionId": 1, "priority": 1}),
            ),
            by_id(1),
        ]);
        assert_eq!(forced_removal(&normal), None);
        assert!(!Intent::Remove(vec![1]).matches(&normal));
    }

    #[test]
    fn an_exporter_change_is_recognised_by_exporter_and_direction() {
        let disable = pending(vec![op(json!({"operation": "PARTITION_DISABLE_EXPORTER",
            "brokerId": 0, "partitionId": 1, "exporterId": "camundaregion1"}))]);
        let intent = |id: &str, enable| Intent::Exporter {
            id: id.into(),
            enable,
        };
        assert!(intent("camundaregion1", false).matches(&disable));
        assert!(!intent("camundaregion1", true).matches(&disable));
        assert!(!intent("camundaregion0", false).matches(&disable));
    }
}
