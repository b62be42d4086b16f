//! Tracking a topology change by its id, exactly as SPEC 3.1 describes: never by substrings,
//! never by an older `lastChange`.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

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

/// Adaptive polling: start fast, back off gently, never slower than `cap`, so completion is
/// noticed within `cap` of the server finishing (SPEC 5: 0.5 s).
#[derive(Debug, Clone)]
pub struct Poller {
    next: Duration,
    cap: Duration,
    deadline: Instant,
}

impl Poller {
    pub fn new(timeout: Duration) -> Self {
        Self {
            next: Duration::from_millis(20),
            cap: Duration::from_millis(400),
            deadline: Instant::now() + timeout,
        }
    }

    /// Sleep until the next poll; `false` when the deadline has passed.
    pub async fn tick(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let sleep = self.next.min(self.deadline - now);
        tokio::time::sleep(sleep).await;
        self.next = (self.next * 3 / 2).min(self.cap);
        true
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

    #[tokio::test(start_paused = true)]
    async fn polling_backs_off_to_the_cap_and_stops_at_the_deadline() {
        let mut p = Poller::new(Duration::from_secs(2));
        let start = Instant::now();
        let mut gaps = vec![];
        let mut last = start;
        while p.tick().await {
            gaps.push(Instant::now() - last);
            last = Instant::now();
        }
        assert!(gaps.iter().all(|g| *g <= Duration::from_millis(400)));
        assert_eq!(gaps.first().copied(), Some(Duration::from_millis(20)));
        assert!(Instant::now() - start >= Duration::from_secs(2));
    }
}
