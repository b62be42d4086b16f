//! `es copy` and exporting: the copy runs while exporting is paused (the pause), observed
//! on the brokers or stated; with `--pause-exporting` it pauses itself, and a failure after that
//! pause resumes exporting.

use crate::commands::Ending;
use crate::commands::pause_guard::PauseGuard;
use crate::error::{Error, Result};
use crate::session::Session;

use super::copy::CopyArgs;

/// Safety: exporting must be paused (a dry run warns instead of refusing).
pub(super) async fn safety(session: &Session, args: &CopyArgs) -> Result<()> {
    if args.pause_exporting {
        return Ok(());
    }
    let Some(msg) = exporting_refusal(session, args.exporting_paused).await else {
        return Ok(());
    };
    if !session.settings.dry_run {
        return Err(Error::refused(msg));
    }
    session.ui.warn(msg);
    Ok(())
}

/// The call `--pause-exporting` adds in front of the plan.
pub(super) const PAUSE_CALL: &str = "gateway: POST /actuator/exporting/pause";

/// Why the copy must not run yet, if it must not: exporting is not paused. The pause state is
/// read on the brokers (docs/api-behaviour.md §3); `--exporting-paused` (`stated_paused`) is the operator's word
/// for it, needed only where the brokers cannot be read.
async fn exporting_refusal(session: &Session, stated_paused: bool) -> Option<String> {
    let view = crate::commands::pause_state::observe(session).await;
    let not_paused = view.not_in("PAUSED");
    if view.observed() && !not_paused.is_empty() {
        Some(format!(
            "exporting is not paused: {} partition replicas show otherwise ({}{}). Pause it first \
             ({}), else the copy misses what is exported meanwhile; or let this run pause it with \
             --pause-exporting",
            not_paused.len(),
            not_paused
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if not_paused.len() > 3 { ", …" } else { "" },
            crate::procedure::Action::PauseExporting
                .step()
                .cite(&crate::procedure::Fill::default())
        ))
    } else if !view.observed() && !stated_paused {
        Some(format!(
            "exporting must be paused before copying Elasticsearch ({}), else the copy misses what is \
             exported meanwhile. The brokers' pause state could not be read ({}): state it with \
             --exporting-paused once you have paused it, or let this run pause it with --pause-exporting",
            crate::procedure::Action::PauseExporting
                .step()
                .cite(&crate::procedure::Fill::default()),
            view.unread().join("; ")
        ))
    } else {
        None
    }
}

/// `--pause-exporting`: pause exporting for the copy. The guard (armed before the pause is
/// sent) makes sure neither a failure nor a signal leaves it paused until the copy ends; it is
/// returned only when this run paused (a pause found in place is not this run's to undo).
pub(super) async fn pause_for_the_copy(session: &Session) -> Result<Option<PauseGuard>> {
    let g = PauseGuard::arm(
        session,
        session.management().await?,
        "kubectl c8dr es copy --pause-exporting",
        vec![
            "exporting pause".into(),
            "es copy: snapshot of the source, restore into the target".into(),
        ],
    );
    // The pause is the run's own: it prints its own plan, and --yes covers it.
    let paused = crate::commands::exporting::exporting_pause(session, false).await?;
    session
        .ui
        .note(format!("{}: {}", paused.command, paused.summary));
    g.done("exporting pause");
    Ok((paused.status == Ending::Done).then_some(g))
}

/// The copy failed after this run paused exporting: resume it, or say how.
pub(super) async fn undo_pause(session: &Session, guard: PauseGuard) {
    let revert = crate::commands::pause_guard::resume_after_failure(
        session,
        guard,
        "exporting (paused by this run) was resumed",
    )
    .await;
    session.ui.warn(&revert);
}
