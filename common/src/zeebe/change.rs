//! Tracking a topology change by its id, exactly as SPEC 3.1 describes: never by substrings,
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
                // Only a FORCED removal (`BROKER_REMOVE` naming the removed broker in `brokers`,
                // `MemberRemoveOperation`): a normal removal of lost brokers waits for them forever.
                let removed: Vec<u32> = p
                    .completed
                    .iter()
                    .chain(&p.pending)
                    .filter(|o| o.brokers.as_ref().is_some_and(|b| !b.is_empty()))
                    .flat_map(|o| o.removed_brokers())
                    .collect();
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
