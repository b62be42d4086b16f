//! Following a Zeebe topology change (docs/api-behaviour.md §1): a pending change that does what a mutation would
//! is followed instead of sending a second request; a mutation's lost answer or 409 is judged by
//! re-reading the cluster ([`recover`], the Zeebe recovery of `commands::mutation`); a change is
//! waited for by `GET /actuator/cluster` or, while the coordinator is lost, by `/v2/topology`.

use super::cluster::{ClusterRead, read_cluster};
use crate::error::{Error, Result};
use crate::procedure::steps::hint;
use crate::session::Session;
use crate::wait::Poller;
use crate::zeebe::ManagementClient;
use crate::zeebe::change::{ChangeState, Follow, Intent, forced_removal, observe};
use crate::zeebe::management::coordinator_unreachable;
use crate::zeebe::model::{ClusterTopology, PlannedOperations};

pub(crate) fn pending_refusal(t: &ClusterTopology) -> Result<()> {
    if let Some(p) = &t.pending_change
        && let Some(removed) = forced_removal(p)
    {
        // Never suggest cancelling a forced removal: stopped half-way, partitions may already be
        // reconfigured to members that cannot form a quorum while the brokers are not removed.
        return Err(Error::refused(format!(
            "change {} is a forced removal of brokers {removed:?}, still in progress ({} of {} operations done); \
             sending another change now would be rejected (409) or race it. Wait for it: {}. Do not cancel it: \
             a forced removal stopped half-way can leave partitions without a quorum",
            p.id,
            p.completed.len(),
            p.completed.len() + p.pending.len(),
            hint::changes_wait(p.id)
        )));
    }
    if let Some(p) = &t.pending_change {
        return Err(Error::refused(format!(
            "change {} is still in progress ({} of {} operations done); sending another change now would be \
             rejected (409) or race it. Wait for it: {}; or, if it is stuck, cancel it: {}",
            p.id,
            p.completed.len(),
            p.completed.len() + p.pending.len(),
            hint::changes_wait(p.id),
            hint::changes_cancel(p.id)
        )));
    }
    Ok(())
}

/// A change already pending when a mutation is about to be sent: follow it when it does what the
/// mutation would (another c8dr run, or an earlier run whose answer was lost), else refuse.
pub(crate) fn follow_pending(
    session: &Session,
    t: &ClusterTopology,
    intent: &Intent,
) -> Result<Option<Follow>> {
    match &t.pending_change {
        Some(p) if intent.matches(p) => {
            session.ui.note(format!(
                "change {} is already in progress and does exactly this (another c8dr run?): following it \
                 instead of sending a second request",
                p.id
            ));
            Ok(Some(Follow::Change(p.id)))
        }
        Some(_) => pending_refusal(t).map(|_| None),
        None => Ok(None),
    }
}

/// The change a topology mutation's answer started (none when its plan was empty).
pub(crate) fn started(planned: PlannedOperations) -> Follow {
    if planned.planned_changes.is_empty() {
        Follow::Nothing
    } else {
        Follow::Change(planned.change_id)
    }
}

/// The recovery of a topology mutation sent once (docs/contract.md §4 rule 7), given its `error`: when
/// its answer is lost, the cluster is re-read to learn whether it was applied; a 409 is judged the
/// same way (a change that does the same is followed). It is never sent again. `before` is the
/// newest change id seen before it was sent ([`crate::zeebe::change::baseline`]).
pub(crate) async fn recover(
    session: &Session,
    mgmt: &ManagementClient,
    call: &str,
    before: i64,
    intent: &Intent,
    error: Error,
) -> Result<Follow> {
    let conflict = error.is_conflict();
    if !conflict && !error.answer_lost() {
        return Err(error);
    }
    if !conflict {
        session.ui.warn(format!(
            "the answer to {call} was lost ({error}); it is NOT sent again: reading the cluster to learn whether it was applied"
        ));
    }
    let read = match read_cluster(session, mgmt).await {
        Ok(r) => r,
        Err(e) => {
            return Err(e.context(format!(
                "{call}: the answer was lost ({error}) and the cluster cannot be read to tell whether it was applied; \
                 check with {} before running it again",
                hint::CHANGES_SHOW
            )));
        }
    };
    let t = match read {
        ClusterRead::Full(t) => t,
        ClusterRead::CoordinatorLost { .. } => {
            session.ui.note(format!(
                "{call}: {}; following the cluster through /v2/topology",
                if conflict {
                    "another change is in progress (409) and cannot be read while the coordinator is lost"
                } else {
                    "whether it was applied cannot be read while the coordinator is lost"
                }
            ));
            return Ok(Follow::After(before));
        }
    };
    if let Some(p) = t
        .pending_change
        .as_ref()
        .filter(|p| p.id > before || conflict)
    {
        if intent.matches(p) {
            session.ui.note(format!(
                "change {} is in progress and does what {call} asked{}: following it",
                p.id,
                if conflict {
                    " (sent by another c8dr run?)"
                } else {
                    ""
                }
            ));
            return Ok(Follow::Change(p.id));
        }
        return pending_refusal(&t).map(|_| Follow::Nothing);
    }
    if let Some(l) = t.last_change.as_ref().filter(|l| l.id > before) {
        session.ui.note(format!(
            "change {} was started and has ended {}: judging it",
            l.id, l.status
        ));
        return Ok(Follow::Change(l.id));
    }
    if conflict {
        return Err(error);
    }
    Err(Error::unreachable(
        call.to_string(),
        format!(
            "{error}; the cluster shows no new change, so the request was not applied and nothing changed. \
             Run the command again when the gateway answers"
        ),
    ))
}

/// Wait for change `id` to complete (docs/api-behaviour.md §1), with progress. `Ok` only on COMPLETED.
pub async fn wait_for_change(
    session: &Session,
    mgmt: &ManagementClient,
    id: i64,
    label: &str,
) -> Result<()> {
    wait_for(session, mgmt, Follow::Change(id), label)
        .await
        .map(|_| ())
}

/// Wait for a change to complete: by `GET /actuator/cluster`, or, while the coordinator cannot
/// answer, by `/v2/topology` `lastCompletedChangeId` (docs/api-behaviour.md §1 "Routing"). Returns the change id
/// when it became known.
pub async fn wait_for(
    session: &Session,
    mgmt: &ManagementClient,
    follow: Follow,
    label: &str,
) -> Result<Option<i64>> {
    let (id, after) = match follow {
        Follow::Nothing => return Ok(None),
        Follow::Change(id) => (Some(id), id - 1),
        Follow::After(b) => (None, b),
    };
    let mut w = Watch {
        label,
        id,
        after,
        nothing_new: 0,
        state: ChangeState::NotStarted,
        said_fallback: false,
    };
    let mut poller = Poller::new(label, session.settings.timeout);
    let progress = session.ui.progress(label, 0);
    loop {
        // Each poll is a fresh request. A dropped tunnel, a restarting gateway or a lost
        // coordinator must not end a wait that may take minutes.
        let end = match mgmt.cluster_quick().await {
            Ok(t) => {
                let end = w.seen(&t);
                if let ChangeState::InProgress { completed, total } = &w.state
                    && end.is_none()
                {
                    progress.update(*completed as u64, *total as u64);
                }
                end
            }
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "cannot read the cluster while waiting; polling on");
                w.unreadable(session, &e).await.map(|id| Ok(Some(id)))
            }
            Err(e) => Some(Err(e)),
        };
        if let Some(end) = end {
            progress.finish();
            return end;
        }
        if !poller.tick().await {
            progress.finish();
            return Err(poller.timeout_saying(w.timed_out()));
        }
    }
}

/// What a wait for a change has seen so far.
struct Watch<'a> {
    label: &'a str,
    /// The change, once known.
    id: Option<i64>,
    /// Changes up to this id are not the one waited for.
    after: i64,
    /// Readable observations showing no change newer than `after` (for `Follow::After`).
    nothing_new: u32,
    state: ChangeState,
    said_fallback: bool,
}

impl Watch<'_> {
    /// One reading of the cluster configuration; `Some` ends the wait.
    fn seen(&mut self, t: &crate::zeebe::model::ClusterTopology) -> Option<Result<Option<i64>>> {
        let (label, after) = (self.label, self.after);
        if self.id.is_none() {
            self.id = t
                .pending_change
                .as_ref()
                .map(|p| p.id)
                .or(t.last_change.as_ref().map(|l| l.id))
                .filter(|i| *i > after);
            if self.id.is_none() {
                // The coordinator answers again and shows no newer change: the request whose
                // answer was lost was not applied.
                self.nothing_new += 1;
                if self.nothing_new >= 3 {
                    return Some(Err(Error::unreachable(
                        label.to_string(),
                        format!(
                            "the cluster shows no change newer than {after}: the request was not applied and \
                             nothing changed. Run the command again"
                        ),
                    )));
                }
            }
        }
        let cid = self.id?;
        self.state = observe(t, cid);
        match &self.state {
            ChangeState::Completed => Some(Ok(Some(cid))),
            // A real change ends otherwise only when someone cancels it (`ClusterChangePlan` has
            // only `completed()` and `cancel()`): what it applied stays applied. Say where to
            // look and what next.
            ChangeState::Ended { status } => Some(Err(Error::failed(format!(
                "change {cid} ({label}) ended {status}: it did not complete; \
                 operations it applied before that stay applied. See the cluster \
                 now with {}, then run the command again",
                hint::CHANGES_SHOW
            )))),
            ChangeState::InProgress { .. } | ChangeState::NotStarted => None,
        }
    }

    /// The cluster configuration does not answer (`e`): `/v2/topology` may show the change
    /// completed (docs/api-behaviour.md §1 "Routing"); its id then.
    async fn unreadable(&mut self, session: &Session, e: &Error) -> Option<i64> {
        let rest = session.rest().await.ok()?;
        let topo = rest.topology().await.ok()?;
        if !self.said_fallback && coordinator_unreachable(e) {
            self.said_fallback = true;
            session.ui.note(
                "GET /actuator/cluster does not answer (coordinator lost): following the change through \
                 /v2/topology lastCompletedChangeId",
            );
        }
        let done = topo.last_completed_change()?;
        (done > self.after && self.id.is_none_or(|cid| done >= cid))
            .then(|| self.id.unwrap_or(done))
    }

    /// What the wait timed out on, and the way on.
    fn timed_out(&self) -> String {
        let (label, after) = (self.label, self.after);
        match (self.id, &self.state) {
            (Some(cid), ChangeState::InProgress { completed, total }) => format!(
                "change {cid} ({label}) is still in progress ({completed}/{total}) — follow it with: {}",
                hint::changes_wait(cid)
            ),
            (Some(cid), _) => format!(
                "change {cid} ({label}) has not completed — follow it with: {}",
                hint::changes_wait(cid)
            ),
            (None, _) => format!(
                "{label}: no change newer than {after} was seen completing; while the coordinator is lost \
                 the change cannot be read (camunda/camunda#63506): check {}, and do not \
                 send the request again blindly",
                hint::TOPOLOGY
            ),
        }
    }
}
