//! `kubectl c8dr changes show|wait|cancel`: the Zeebe topology change in progress and the last.

use serde::Serialize;

use super::cluster::{cluster, explain_coordinator};
use super::follow::wait_for_change;
use super::mutation::Mutation;
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::output::Render;
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::model::{LastChange, PendingChange};

/// `changes show`: the pending and last change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesView {
    pub pending_change: Option<PendingChange>,
    pub last_change: Option<LastChange>,
}

impl Render for ChangesView {
    fn text(&self) -> String {
        let mut s = String::new();
        match &self.pending_change {
            Some(p) => {
                s.push_str(&format!(
                    "pending change {}: {}{} ({} of {} operations done)\n",
                    p.id,
                    p.status,
                    p.started_at
                        .as_deref()
                        .map(|at| format!(", started at {at}"))
                        .unwrap_or_default(),
                    p.completed.len(),
                    p.completed.len() + p.pending.len()
                ));
                for op in p.pending.iter().take(10) {
                    s.push_str(&format!("  next: {}\n", op.describe()));
                }
            }
            None => s.push_str("no change in progress\n"),
        }
        if let Some(l) = &self.last_change {
            s.push_str(&format!("last change {}: {}{}\n", l.id, l.status, when(l)));
        }
        s
    }
}

/// `, started at A, completed at B (took 3.2s)`: what the cluster says of a change's times.
fn when(l: &LastChange) -> String {
    let mut s = String::new();
    if let Some(a) = &l.started_at {
        s.push_str(&format!(", started at {a}"));
    }
    if let Some(c) = &l.completed_at {
        s.push_str(&format!(", completed at {c}"));
    }
    let ms = |t: &Option<String>| t.as_deref().and_then(crate::journal::read::epoch_ms);
    if let (Some(a), Some(c)) = (ms(&l.started_at), ms(&l.completed_at))
        && c >= a
    {
        s.push_str(&format!(
            " (took {})",
            crate::journal::timeline::took((c - a) as f64 / 1000.0)
        ));
    }
    s
}

pub async fn changes_show(session: &Session) -> Result<ChangesView> {
    let t = cluster(session.management().await?).await?;
    Ok(ChangesView {
        pending_change: t.pending_change,
        last_change: t.last_change,
    })
}

/// `changes wait [ID]`: the given change, else the pending one.
pub async fn changes_wait(session: &Session, id: Option<i64>) -> Result<Outcome> {
    let mgmt = session.management().await?;
    if let Some(id) = id {
        // A known id can be followed through /v2/topology while the coordinator is lost.
        return waited(session, mgmt, id).await;
    }
    let t = cluster(mgmt).await?;
    let id = match t.pending_change.as_ref().map(|p| p.id) {
        Some(id) => id,
        None => {
            return Ok(Outcome::new(
                "changes wait",
                Ending::AlreadyDone,
                match &t.last_change {
                    Some(l) => format!("no change in progress; last change {} {}", l.id, l.status),
                    None => "no change in progress".into(),
                },
            ));
        }
    };
    waited(session, mgmt, id).await
}

async fn waited(session: &Session, mgmt: &ManagementClient, id: i64) -> Result<Outcome> {
    wait_for_change(session, mgmt, id, &format!("change {id}")).await?;
    Ok(Outcome::new(
        "changes wait",
        Ending::Done,
        format!("change {id} completed"),
    )
    .with_change(Some(id)))
}

/// `changes cancel ID`: applied operations are NOT rolled back; confirmed with the operator.
pub async fn changes_cancel(session: &Session, id: i64) -> Result<Outcome> {
    const CMD: &str = "changes cancel";
    let mgmt = session.management().await?;
    let t = cluster(mgmt).await?;
    match &t.pending_change {
        Some(p) if p.id == id => {}
        Some(p) => {
            return Err(Error::usage(format!(
                "change {id} is not in progress (the pending change is {})",
                p.id
            )));
        }
        None => {
            if t.last_change
                .as_ref()
                .is_some_and(|l| l.id == id && l.status == "CANCELLED")
            {
                return Ok(Outcome::new(
                    CMD,
                    Ending::AlreadyDone,
                    format!("change {id} is cancelled"),
                ));
            }
            return Err(Error::usage(format!(
                "change {id} is not in progress (no change is pending)"
            )));
        }
    }
    let plan = vec![
        format!("DELETE /actuator/cluster/changes/{id}"),
        "operations already applied are NOT rolled back; the cluster keeps the partial configuration".into(),
    ];
    Mutation::new(session, CMD, format!("cancel change {id}"), plan)
        .always_waits()
        .run(
            async || mgmt.cancel_change(id).await,
            // Sent once: after a lost answer the cluster tells whether the change was cancelled.
            async |e| {
                if !e.answer_lost() {
                    return Err(e);
                }
                session.ui.warn(format!(
                    "the answer to DELETE /actuator/cluster/changes/{id} was lost ({e}); it is NOT sent again: reading the cluster"
                ));
                let after = mgmt
                    .cluster()
                    .await
                    .map_err(|e2| explain_coordinator(e2, Some(&t)))?;
                match (&after.pending_change, &after.last_change) {
                    (Some(p), _) if p.id == id => Err(Error::unreachable(
                        format!("DELETE /actuator/cluster/changes/{id}"),
                        format!("{e}; change {id} is still in progress: the cancel was not applied"),
                    )),
                    (_, Some(l)) if l.id == id && l.status != "CANCELLED" => Err(Error::failed(
                        format!("change {id} ended {} before the cancel took effect", l.status),
                    )),
                    _ => Ok(()),
                }
            },
            async |(), plan| {
                Ok(
                    Outcome::new(CMD, Ending::Done, format!("change {id} cancelled"))
                        .with_plan(plan)
                        .with_change(Some(id)),
                )
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_shows_when_it_started_not_only_when_it_completed() {
        let pending: PendingChange = serde_json::from_value(serde_json::json!({
            "id": 6, "status": "IN_PROGRESS", "startedAt": "2026-01-01T10:00:00.000Z",
            "completed": [], "pending": []
        }))
        .expect("the cluster's pendingChange");
        let view = ChangesView {
            pending_change: Some(pending),
            last_change: Some(LastChange {
                id: 5,
                status: "COMPLETED".into(),
                started_at: Some("2026-01-01T09:58:00.000Z".into()),
                completed_at: Some("2026-01-01T09:59:05.000Z".into()),
            }),
        };
        let text = view.text();
        assert!(
            text.contains("pending change 6: IN_PROGRESS, started at 2026-01-01T10:00:00.000Z"),
            "{text}"
        );
        assert!(
            text.contains(
                "last change 5: COMPLETED, started at 2026-01-01T09:58:00.000Z, completed at \
                 2026-01-01T09:59:05.000Z (took 1m05s)"
            ),
            "{text}"
        );
    }
}
