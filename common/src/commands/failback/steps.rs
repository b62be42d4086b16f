//! The executors of the failback's kubectl steps: for each step of the table (found by its
//! [`Action`]), its plan lines, its run and how it stands to the pause the
//! [`PauseGuard`](crate::commands::pause_guard::PauseGuard) covers. A new kubectl step of the
//! failback is its row in the table and its executor here; the driver's loops stay as they are.

use futures_util::future::BoxFuture;

use super::Run;
use crate::commands::exporters::exporter_set;
use crate::commands::{Ending, Outcome};
use crate::error::Result;
use crate::procedure::{Action, Stage, Step};
use crate::zeebe::brokers::Selection;

/// How a step stands to the pause that the [`PauseGuard`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pause {
    /// It pauses: the guard is armed before it is sent.
    Arms,
    /// It runs while paused: a failure resumes exporting.
    Within,
    /// It resumes: the guard is dropped once it has.
    Ends,
    /// It runs outside the pause.
    Outside,
}

/// What a step's run did: the command it stands for in the report, and its outcome.
pub(super) struct Ran {
    pub(super) command: String,
    pub(super) outcome: Outcome,
}

/// A kubectl step of the failback: its plan lines and its run, found by the table's [`Action`].
pub(super) struct Executor {
    pub(super) action: Action,
    pub(super) pause: Pause,
    /// Done already (shown in the plan, not run).
    pub(super) done: fn(&Run<'_>) -> bool,
    pub(super) plan: fn(&Run<'_>, &Step) -> Vec<String>,
    pub(super) run: for<'r> fn(&'r Run<'r>, &'static Step) -> BoxFuture<'r, Result<Ran>>,
}

/// The executors of the failback's kubectl steps (order does not matter: the table's does).
const EXECUTORS: [Executor; 5] = [
    Executor {
        action: Action::PauseExporting,
        pause: Pause::Arms,
        done: enabled,
        plan: plan_pause,
        run: run_pause,
    },
    Executor {
        action: Action::CopyElasticsearch,
        pause: Pause::Within,
        done: enabled,
        plan: plan_copy,
        run: run_copy,
    },
    Executor {
        action: Action::EnableExporter,
        pause: Pause::Within,
        done: enabled,
        plan: plan_marked,
        run: run_enable,
    },
    Executor {
        action: Action::ResumeExporting,
        pause: Pause::Ends,
        done: never,
        plan: plan_marked,
        run: run_resume,
    },
    Executor {
        action: Action::AddBrokers,
        pause: Pause::Outside,
        done: never,
        plan: plan_add,
        run: run_add,
    },
];

/// The table's kubectl failback steps, each with its executor.
pub(super) fn executors() -> Result<Vec<(&'static Step, &'static Executor)>> {
    crate::commands::driver::with_executors(Stage::Failback, &EXECUTORS, |e| e.action)
}

fn enabled(run: &Run<'_>) -> bool {
    run.enabled
}

fn never(_: &Run<'_>) -> bool {
    false
}

/// ` (done)` after a step that is done.
fn mark(run: &Run<'_>, step: &Step) -> &'static str {
    let done = EXECUTORS
        .iter()
        .find(|e| e.action == step.action)
        .is_some_and(|e| (e.done)(run));
    if done { " (done)" } else { "" }
}

/// `step <n>/<total>: <command>[ (done)]` (numbers from the table).
fn plan_marked(run: &Run<'_>, step: &Step) -> Vec<String> {
    vec![format!(
        "{}: {}{}",
        step.label(),
        step.command(&run.fill),
        mark(run, step)
    )]
}

fn plan_pause(run: &Run<'_>, step: &Step) -> Vec<String> {
    let status = if run.enabled {
        " (done)"
    } else if run.already_paused.is_some() {
        " (already paused: observed on every broker)"
    } else {
        ""
    };
    vec![format!(
        "{}: {}{status}",
        step.label(),
        step.command(&run.fill)
    )]
}

fn run_pause<'r>(run: &'r Run<'r>, step: &'static Step) -> BoxFuture<'r, Result<Ran>> {
    Box::pin(async move {
        let outcome = match run.already_paused {
            Some((replicas, brokers)) => Outcome::new(
                "exporting pause",
                Ending::AlreadyDone,
                format!(
                    "exporting was already paused (an earlier run, or by hand): {replicas} partition replicas on {brokers} brokers show PAUSED"
                ),
            ),
            None => crate::commands::exporting::exporting_pause(run.session, false).await?,
        };
        Ok(Ran {
            command: step.command(&run.fill),
            outcome,
        })
    })
}

/// The copy's line, then the recovery settings it raises on the recreated Elasticsearch.
fn plan_copy(run: &Run<'_>, step: &Step) -> Vec<String> {
    let mut lines = vec![format!(
        "{}: {}{}",
        step.label(),
        run.copy_cmd,
        mark(run, step)
    )];
    lines.extend(
        run.tuning_plan
            .iter()
            .map(|l| format!("  recovery tuning ({}): {l}", step.label())),
    );
    lines
}

fn run_copy<'r>(run: &'r Run<'r>, _: &'static Step) -> BoxFuture<'r, Result<Ran>> {
    Box::pin(async move {
        let outcome =
            crate::commands::es::copy(run.session, &run.args.es, &run.args.repo, &run.copy).await?;
        Ok(Ran {
            command: run.copy_cmd.clone(),
            outcome,
        })
    })
}

fn run_enable<'r>(run: &'r Run<'r>, step: &'static Step) -> BoxFuture<'r, Result<Ran>> {
    Box::pin(async move {
        let f = &run.fill;
        let outcome = exporter_set(
            run.session,
            &f.lost_exporter,
            true,
            Some(&f.surviving_exporter),
        )
        .await?;
        Ok(Ran {
            command: step.command(f),
            outcome,
        })
    })
}

fn run_resume<'r>(run: &'r Run<'r>, step: &'static Step) -> BoxFuture<'r, Result<Ran>> {
    Box::pin(async move {
        let outcome = crate::commands::exporting::exporting_resume(run.session).await?;
        Ok(Ran {
            command: step.command(&run.fill),
            outcome,
        })
    })
}

/// The re-add's line, with `--cluster-size` when given.
fn plan_add(run: &Run<'_>, step: &Step) -> Vec<String> {
    let size = run
        .args
        .cluster_size
        .map(|c| format!("--cluster-size {c}"))
        .unwrap_or_default();
    vec![format!(
        "{}: {}",
        step.label(),
        step.command_with(&run.fill, &size)
    )]
}

fn run_add<'r>(run: &'r Run<'r>, step: &'static Step) -> BoxFuture<'r, Result<Ran>> {
    Box::pin(async move {
        let outcome = crate::commands::brokers::brokers_add(
            run.session,
            Selection::Parity(run.lost),
            run.args.cluster_size,
            Some(run.rf),
        )
        .await?;
        Ok(Ran {
            command: step.command(&run.fill),
            outcome,
        })
    })
}
