//! The recovery tuning step of `es copy` (see [`crate::es::tuning`]): made right after the
//! target accepted the restore, from the settings the restore brought.

use super::copy::CopyArgs;
use crate::commands::pause_guard::SettingsGuard;
use crate::es::tuning::{self, SettingChange};
use crate::es::{EsConn, EsOptions};
use crate::session::Session;

/// `--no-tuning`: nothing is raised; the changes of a leftover record are put back.
pub(super) fn without_raise(plan: tuning::TuningPlan) -> tuning::TuningPlan {
    tuning::TuningPlan {
        changes: plan
            .leftover
            .as_ref()
            .map(|m| m.changes.clone())
            .unwrap_or_default(),
        left_alone: vec![],
        leftover: plan.leftover,
    }
}

/// Right after the target accepted the restore: read the settings it brought, and raise the
/// recovery limits from there (or, with `--no-tuning`, only take over a leftover record to put
/// back). The guard is armed before the raise is sent. A failure here does not stop the copy:
/// the restore runs at the limits it has, and the warning says so.
pub(super) async fn raise_after_restore(
    session: &Session,
    tt: &EsConn,
    opts: &EsOptions,
    args: &CopyArgs,
) -> Option<(
    crate::commands::pause_guard::SettingsGuard,
    tuning::TuningPlan,
)> {
    let plan = match tuning::tuning_plan(tt.t(), opts).await {
        Ok(p) if args.tuning => p,
        Ok(p) => without_raise(p),
        Err(e) => {
            session.ui.warn(format!(
                "recovery tuning skipped: reading the target's cluster settings after the restore \
                 was accepted failed ({e}); the restore runs at the limits it has"
            ));
            return None;
        }
    };
    if plan.changes.is_empty() {
        return None;
    }
    let g = SettingsGuard::arm(
        tt.transport.clone(),
        opts,
        plan.changes.clone(),
        &args.rerun(),
    );
    if args.tuning
        && let Err(e) = tuning::apply(tt.t(), opts, &plan, &args.rerun()).await
    {
        let back = match g.put_back().await {
            Ok(_) => String::new(),
            Err(b) => format!("; {b}"),
        };
        session.ui.warn(format!(
            "raising the recovery limits failed ({e}){back}: the restore runs at the limits it has"
        ));
        return None;
    }
    Some((g, plan))
}

/// The changes as `key: before → after`, for reports.
pub(super) fn keys(changes: &[SettingChange]) -> String {
    changes
        .iter()
        .map(SettingChange::line)
        .collect::<Vec<_>>()
        .join(", ")
}
