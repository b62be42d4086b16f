//! `kubectl c8dr exporting pause [--soft]|resume` (the pause and the resume of the failback), run by the mutation
//! runner and verified on every broker pod (`commands::pause_state`, docs/api-behaviour.md §3).

use std::time::Duration;

use super::mutation::Mutation;
use super::pause_state::{self, ExportingView};
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::procedure::{Action, Fill};
use crate::session::Session;
use crate::wait::{Backoff, retry_if};
use crate::zeebe::ManagementClient;

/// How long a pause or resume may take to show on every broker after the gateway accepted it.
const PHASE_SETTLE: Duration = Duration::from_secs(10);

/// A pause the brokers refused is sent again (it is what makes a partial pause complete,
/// docs/api-behaviour.md §3): four attempts in all, 250 ms apart at first.
const PAUSE_ATTEMPTS: Backoff = Backoff::new(4, Duration::from_millis(250), Duration::from_secs(1));

fn phase_word(soft: bool) -> &'static str {
    if soft { "SOFT_PAUSED" } else { "PAUSED" }
}

fn first(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(", …");
    }
    s
}

fn details(view: &ExportingView) -> serde_json::Value {
    serde_json::to_value(view).unwrap_or_default()
}

/// How many replicas show `phase` on how many brokers, or why it could not be verified.
fn verified(after: &ExportingView, phase: &str) -> String {
    let unread = after.unread_members();
    if after.observed() && !unread.is_empty() {
        format!(
            "; NOT verified: {} partition replicas on {} brokers show {phase}, but member brokers {unread:?} \
             were not read in full ({})",
            after.count_in(phase),
            after.brokers_read(),
            after.unread().join("; ")
        )
    } else if after.observed() {
        format!(
            "; verified: {} partition replicas on {} brokers show {phase}",
            after.count_in(phase),
            after.brokers_read()
        )
    } else {
        format!(
            "; NOT verified: the brokers' /actuator/partitions could not be read ({})",
            after.unread().join("; ")
        )
    }
}

/// An answer the brokers gave (the gateway's own failure, e.g. "Expected 3 members of partition
/// 1 but found 2"): the request reached the gateway and it said no, so sending it again is what
/// completes a partial pause. A lost answer (a dropped connection, a 502/503/504 of whatever
/// stands in front of the gateway — the gateway itself wraps its errors in an HTTP 200) is not
/// one: it may have been applied, so it is read on the brokers, never sent blindly again.
fn refused(e: &Error) -> bool {
    matches!(e, Error::Api { .. }) && !e.answer_lost()
}

/// A pause sent: with, when its answer was lost, what reading the brokers showed.
struct Sent(Option<String>);

impl super::mutation::Ticket for Sent {}

/// How long the brokers may take to show a pause whose answer was lost.
const LOST_SETTLE: Duration = Duration::from_secs(3);

/// The answer to a pause was lost: read the brokers and say what they show (returned as a note
/// for the report). Every replica in `target`: it took. Nothing paused: it was not applied, and
/// is sent once more — informed by the read, as a resume is. Part of it paused: reverted like a
/// refused pause. Not readable: exporting MAY be paused, and the error says how to check and
/// resume.
async fn pause_answer_lost(
    session: &Session,
    mgmt: &ManagementClient,
    soft: bool,
    target: &str,
    error: Error,
) -> Result<String> {
    let view = pause_state::wait_for_phase(session, target, LOST_SETTLE).await;
    let resume = Action::ResumeExporting.step().command(&Fill::default());
    let paused = view.count_in("PAUSED") + view.count_in("SOFT_PAUSED");
    if !view.observed() {
        let detail = format!(
            "the answer to the pause was lost, and the brokers' /actuator/partitions could not be read ({}): \
             exporting MAY be paused; check with kubectl c8dr status and resume with {resume} if it is",
            view.unread().join("; ")
        );
        return Err(match error {
            Error::Unreachable { what, detail: d } => Error::Unreachable {
                what,
                detail: format!("{d}; {detail}"),
            },
            other => Error::failed(format!("pausing exporting: {other}; {detail}")),
        });
    }
    if view.not_in(target).is_empty() && view.unread_members().is_empty() {
        return Ok(format!(
            "the answer to the pause was lost ({error}); read on the brokers: it took"
        ));
    }
    if paused > 0 {
        let e = Error::failed(format!(
            "the answer to the pause was lost ({error}) and only part of it took ({} partition replicas do not show \
             {target}: {})",
            view.not_in(target).len(),
            first(&view.not_in(target), 4)
        ));
        return Err(revert(session, mgmt, e).await);
    }
    session.ui.note(format!(
        "the answer to the pause was lost ({error}); no partition is paused (observed on {} brokers): sending it once more",
        view.brokers_read()
    ));
    match mgmt.exporting_pause(soft).await {
        Ok(()) => Ok(format!(
            "the answer to the first pause was lost ({error}); the brokers showed nothing paused, so it was sent once more"
        )),
        Err(e) if refused(&e) => Err(revert(session, mgmt, e).await),
        Err(e) => Err(Error::failed(format!(
            "pausing exporting: the answer to the pause was lost ({error}), no partition was paused, and sending it \
             once more failed too ({e}); exporting may be paused in part: check with kubectl c8dr status and resume \
             with {resume} if it is"
        ))),
    }
}

/// A pause failed part-way (the broadcast is not atomic): resume so log compaction is not left
/// stopped — unless the brokers show that nothing paused (e.g. the topology was incomplete: the
/// gateway then sends nothing, and would refuse the resume just the same).
async fn revert(session: &Session, mgmt: &ManagementClient, error: Error) -> Error {
    // The brokers' view: a region that did not answer is not waited for again. The resume
    // itself goes to the gateway whatever happened before (a repair tries again).
    let view = pause_state::observe(session).await;
    crate::wait::forget_hung();
    let stopped = view.count_in("PAUSED") + view.count_in("SOFT_PAUSED");
    let revert = if view.observed() && stopped == 0 {
        format!(
            "no partition was paused (observed on {} brokers): nothing to revert",
            view.brokers_read()
        )
    } else {
        match mgmt.exporting_resume().await {
            Ok(()) => "exporting was resumed to revert a partial pause".to_string(),
            Err(e) => format!(
                "resuming to revert a partial pause ALSO failed ({e}): run {}",
                Action::ResumeExporting.step().command(&Fill::default())
            ),
        }
    };
    Error::failed(format!("pausing exporting failed: {error}; {revert}"))
}

/// `exporting pause [--soft]` (the pause). The pause state is read on every broker first
/// (docs/api-behaviour.md §3): a hard pause over a soft one is refused (camunda/camunda#55838), a pause already in
/// place is "already done". The pause needs every partition complete and is not atomic: retried a
/// few times, then reverted with a resume. Success is reported only once every partition of every
/// member broker was read and shows the pause; a pause that cannot be verified so (a member's
/// pod unreadable, its answer incomplete) is an error (exit 1) and is reverted with a resume.
pub async fn exporting_pause(session: &Session, soft: bool) -> Result<Outcome> {
    const CMD: &str = "exporting pause";
    let mgmt = session.management().await?;
    let call = format!(
        "POST /actuator/exporting/pause{}",
        if soft { "?soft=true" } else { "" }
    );
    let target = phase_word(soft);
    let plan = vec![
        call,
        "judged by the body's status (HTTP 200 wraps the real result)".into(),
        format!(
            "verified on every broker pod: GET /actuator/partitions shows {target} on each partition"
        ),
    ];
    let soft_ = if soft { "soft-" } else { "" };
    let before = pause_state::observe(session).await;
    if !soft {
        no_soft_pause(&before)?;
    }
    // Already done only when every member was read in full: a member that answered `{}` may
    // be the one that missed the pause.
    if before.observed() && before.not_in(target).is_empty() && before.unread_members().is_empty() {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "exporting is already {soft_}paused: {} partition replicas on {} brokers show {target}",
                before.count_in(target),
                before.brokers_read()
            ),
        )
        .with_plan(plan)
        .with_details(details(&before)));
    }
    Mutation::new(session, CMD, format!("{soft_}pause exporting"), plan)
        .always_waits()
        .run(
            async || {
                retry_if(
                    "exporting pause",
                    PAUSE_ATTEMPTS,
                    refused,
                    |attempt| async move {
                        mgmt.exporting_pause(soft).await.inspect_err(|e| {
                            if refused(e) {
                                session
                                    .ui
                                    .note(format!("pause attempt {attempt} failed: {e}"));
                            }
                        })
                    },
                )
                .await
                .map(|()| Sent(None))
            },
            // A lost answer (a dropped connection, a proxy's 502/504): the brokers say whether
            // it took. A refused pause may have paused some partitions: revert. Any other error
            // stands as it is.
            async |e| {
                if e.answer_lost() {
                    pause_answer_lost(session, mgmt, soft, target, e)
                        .await
                        .map(|note| Sent(Some(note)))
                } else if matches!(e, Error::Api { .. }) {
                    Err(revert(session, mgmt, e).await)
                } else {
                    Err(e)
                }
            },
            async |Sent(lost), plan| paused(session, mgmt, soft, lost, plan).await,
        )
        .await
}

/// Safety of a hard pause: none over a soft one (camunda/camunda#55838).
fn no_soft_pause(before: &pause_state::ExportingView) -> Result<()> {
    if before.count_in("SOFT_PAUSED") == 0 {
        return Ok(());
    }
    let soft_on: Vec<String> = before
        .replicas()
        .filter(|(_, p)| p.exporter_phase.as_deref() == Some("SOFT_PAUSED"))
        .map(|(b, p)| format!("{} partition {}", b.pod, p.partition))
        .collect();
    Err(Error::refused(format!(
        "exporting is soft-paused ({}): a hard pause over a soft pause corrupts the brokers' pause \
         state (camunda/camunda#55838). Resume first, then pause: {}, then {}",
        first(&soft_on, 4),
        Action::ResumeExporting.step().command(&Fill::default()),
        Action::PauseExporting.step().command(&Fill::default())
    )))
}

/// The pause was sent (`lost`: how a lost answer was settled): every partition replica must show
/// it, else it is reverted.
async fn paused(
    session: &Session,
    mgmt: &ManagementClient,
    soft: bool,
    lost: Option<String>,
    plan: Vec<String>,
) -> Result<Outcome> {
    const CMD: &str = "exporting pause";
    let target = phase_word(soft);
    let soft_ = if soft { "soft-" } else { "" };
    let after = pause_state::wait_for_phase(session, target, PHASE_SETTLE).await;
    let missing = after.not_in(target);
    if !missing.is_empty() {
        let e = Error::failed(format!(
            "the gateway reported the pause, but {} partition replicas do not show {target}: {}",
            missing.len(),
            first(&missing, 4)
        ));
        return Err(revert(session, mgmt, e).await);
    }
    if !after.observed() || !after.unread_members().is_empty() {
        // Not verified is not done: a member that was not read may be the one that missed the
        // pause, and a copy taken then would miss what it exports. Reverted like a partial
        // pause (docs/contract.md §4 rule 12: a pause c8dr made is resumed on every exit path).
        let e = Error::failed(format!(
            "the gateway reported the pause, but it could not be verified on every member broker{}",
            verified(&after, target)
        ));
        return Err(revert(session, mgmt, e).await);
    }
    if soft {
        // camunda/camunda#55838: a hard pause over a soft one corrupts the pause file.
        session.ui.note(format!(
            "to switch to a hard pause later, resume first ({}): \
             a hard pause over a soft one corrupts the brokers' pause state",
            Action::ResumeExporting.step().command(&Fill::default())
        ));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "exporting is {soft_}paused{}{}",
            verified(&after, target),
            lost.map(|l| format!(" ({l})")).unwrap_or_default()
        ),
    )
    .with_plan(plan)
    .with_details(details(&after)))
}

/// A resume that did not go through. Its answer lost (a dropped tunnel, a reset connection):
/// the brokers say whether it took (docs/contract.md §4 rule 7: re-read, do not guess); when they show partitions
/// still paused, it was not applied there and is sent once more. Whatever remains an error says
/// that exporting may still be paused and what to run.
async fn resume_failed(session: &Session, mgmt: &ManagementClient, error: Error) -> Result<()> {
    let again = Action::ResumeExporting.step().command(&Fill::default());
    if error.answer_lost() {
        let view = pause_state::observe(session).await;
        if view.observed() {
            if view.not_in("EXPORTING").is_empty() && view.unread_members().is_empty() {
                session.ui.note(format!(
                    "the answer to the resume was lost ({error}); every broker shows EXPORTING: it took"
                ));
                return Ok(());
            }
            session.ui.note(format!(
                "the answer to the resume was lost ({error}); {} partition replicas still show a pause: resuming again",
                view.not_in("EXPORTING").len()
            ));
            if mgmt.exporting_resume().await.is_ok() {
                return Ok(());
            }
        }
    }
    let hint = format!(
        "exporting may still be paused (log compaction stops while it is): run {again} again"
    );
    Err(match error {
        Error::Unreachable { what, detail } => Error::Unreachable {
            what,
            detail: format!("{detail}; {hint}"),
        },
        other => Error::failed(format!("resuming exporting failed: {other}; {hint}")),
    })
}

/// `exporting resume` (the resume), verified on the brokers like a pause.
pub async fn exporting_resume(session: &Session) -> Result<Outcome> {
    const CMD: &str = "exporting resume";
    let mgmt = session.management().await?;
    let plan = vec![
        "POST /actuator/exporting/resume".to_string(),
        "verified on every broker pod: GET /actuator/partitions shows EXPORTING on each partition"
            .to_string(),
    ];
    Mutation::new(session, CMD, "resume exporting", plan)
        .always_waits()
        .run(
            // Like the pause: a broadcast the gateway refused reached no broker, or only some;
            // resuming again is harmless and is what docs/api-behaviour.md §3 asks (retry until success).
            async || {
                retry_if("exporting resume", PAUSE_ATTEMPTS, refused, |attempt| async move {
                    mgmt.exporting_resume().await.inspect_err(|e| {
                        if refused(e) {
                            session
                                .ui
                                .note(format!("resume attempt {attempt} failed: {e}"));
                        }
                    })
                })
                .await
            },
            async |e| resume_failed(session, mgmt, e).await,
            async |(), plan| {
                let after = pause_state::wait_for_phase(session, "EXPORTING", PHASE_SETTLE).await;
                let missing = after.not_in("EXPORTING");
                if !missing.is_empty() {
                    return Err(Error::failed(format!(
                        "the gateway reported the resume, but {} partition replicas are still not exporting: {}; \
                         run {} again",
                        missing.len(),
                        first(&missing, 4),
                        Action::ResumeExporting.step().command(&Fill::default())
                    )));
                }
                // Unlike a pause, an unverifiable resume says nothing more.
                let verified = if after.observed() {
                    verified(&after, "EXPORTING")
                } else {
                    String::new()
                };
                Ok(Outcome::new(
                    CMD,
                    Ending::Done,
                    format!("exporting is resumed{verified}"),
                )
                .with_plan(plan)
                .with_details(details(&after)))
            },
        )
        .await
}
