//! Tracking a topology change by its id, exactly as SPEC 3.1 describes: never by substrings,
//! never by an older `lastChange`.

use serde::Serialize;

use super::model::ClusterTopology;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeebe::model::{LastChange, Operation, PendingChange};

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
}
