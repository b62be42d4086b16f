//! `kubectl c8dr exporting pause [--soft]|resume` (failback steps 3 and 6), run by the mutation
//! runner and verified on every broker pod (`commands::pause_state`, SPEC 3.3).

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

/// A pause the brokers refused is sent again (it is what makes a partial pause complete, SPEC
/// 3.3): four attempts in all, 250 ms apart at first.
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
    if after.observed() {
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

/// A pause failed part-way (the broadcast is not atomic): resume so log compaction is not left
/// stopped — unless the brokers show that nothing paused (e.g. the topology was incomplete: the
/// gateway then sends nothing, and would refuse the resume just the same).
async fn revert(session: &Session, mgmt: &ManagementClient, error: Error) -> Error {
    let view = pause_state::observe(session).await;
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

/// `exporting pause [--soft]` (failback step 3). The pause state is read on every broker first
/// (SPEC 3.3): a hard pause over a soft one is refused (camunda/camunda#55838), a pause already in
/// place is "already done". The pause needs every partition complete and is not atomic: retried a
/// few times, then reverted with a resume. Success is reported only once every partition of every
/// broker that can be read shows the pause.
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
    if !soft && before.count_in("SOFT_PAUSED") > 0 {
        let soft_on: Vec<String> = before
            .replicas()
            .filter(|(_, p)| p.exporter_phase.as_deref() == Some("SOFT_PAUSED"))
            .map(|(b, p)| format!("{} partition {}", b.pod, p.partition))
            .collect();
        return Err(Error::refused(format!(
            "exporting is soft-paused ({}): a hard pause over a soft pause corrupts the brokers' pause \
             state (camunda/camunda#55838). Resume first, then pause: {}, then {}",
            first(&soft_on, 4),
            Action::ResumeExporting.step().command(&Fill::default()),
            Action::PauseExporting.step().command(&Fill::default())
        )));
    }
    if before.observed() && before.not_in(target).is_empty() {
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
                let api = |e: &Error| matches!(e, Error::Api { .. });
                retry_if("exporting pause", PAUSE_ATTEMPTS, api, |attempt| async move {
                    mgmt.exporting_pause(soft).await.inspect_err(|e| {
                        if api(e) {
                            session
                                .ui
                                .note(format!("pause attempt {attempt} failed: {e}"));
                        }
                    })
                })
                .await
            },
            // A refused pause may have paused some partitions: revert. Any other error (the
            // gateway unreachable) stands as it is.
            async |e| match e {
                e @ Error::Api { .. } => Err(revert(session, mgmt, e).await),
                other => Err(other),
            },
            async |(), plan| {
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
                    format!("exporting is {soft_}paused{}", verified(&after, target)),
                )
                .with_plan(plan)
                .with_details(details(&after)))
            },
        )
        .await
}

/// A resume that did not go through. Its answer lost (a dropped tunnel, a reset connection):
/// the brokers say whether it took (SPEC 4.7: re-read, do not guess); when they show partitions
/// still paused, it was not applied there and is sent once more. Whatever remains an error says
/// that exporting may still be paused and what to run.
async fn resume_failed(session: &Session, mgmt: &ManagementClient, error: Error) -> Result<()> {
    let again = Action::ResumeExporting.step().command(&Fill::default());
    if matches!(error, Error::Unreachable { .. }) {
        let view = pause_state::observe(session).await;
        if view.observed() {
            if view.not_in("EXPORTING").is_empty() {
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

/// `exporting resume` (failback step 6), verified on the brokers like a pause.
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
            // resuming again is harmless and is what SPEC 3.3 asks (retry until success).
            async || {
                let api = |e: &Error| matches!(e, Error::Api { .. });
                retry_if("exporting resume", PAUSE_ATTEMPTS, api, |attempt| async move {
                    mgmt.exporting_resume().await.inspect_err(|e| {
                        if api(e) {
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
