//! What the two drivers ([`super::failover`], [`super::failback`]) share: the report of each
//! step they ran. Their steps, numbers and commands come from [`crate::procedure::steps`].

use std::time::Instant;

use serde::Serialize;

use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::procedure::{Action, Stage, Step, Tool};
use crate::ui::Ui;

/// One step of a composite run, for the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub step: String,
    pub command: String,
    pub status: Ending,
    pub summary: String,
    pub seconds: f64,
}

/// The steps a driver ran, in order, each noted as it ends (`✓ <step tag>: …`).
pub struct Steps {
    ui: Ui,
    pub done: Vec<StepReport>,
}

impl Steps {
    pub fn new(ui: &Ui) -> Self {
        Self {
            ui: ui.clone(),
            done: vec![],
        }
    }

    /// Record that `step` ran `command` (started at `started`) and ended with `out`; `shown` is how
    /// the progress line names it.
    pub fn record(
        &mut self,
        step: &Step,
        shown: &str,
        command: String,
        out: &Outcome,
        started: Instant,
    ) {
        self.ui.note(format!("✓ {shown}: {}", out.summary));
        self.done.push(StepReport {
            step: step.tag(),
            command,
            status: out.status,
            summary: out.summary.clone(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    /// Every step found its work already done.
    pub fn all_already_done(&self) -> bool {
        self.done.iter().all(|s| s.status == Ending::AlreadyDone)
    }
}

/// The kubectl steps of `stage` in the table's order, each with its executor in `executors`
/// (found by the step's [`Action`]): what a driver's plan and act loops iterate. A kubectl step
/// without an executor is a bug, said before anything is sent.
pub fn with_executors<E>(
    stage: Stage,
    executors: &'static [E],
    action: fn(&E) -> Action,
) -> Result<Vec<(&'static Step, &'static E)>> {
    stage
        .run_by(Tool::Kubectl)
        .map(|step| {
            executors
                .iter()
                .find(|e| action(e) == step.action)
                .map(|e| (step, e))
                .ok_or_else(|| {
                    Error::failed(format!(
                        "{} has no executor in {}",
                        step.tag(),
                        stage.name()
                    ))
                })
        })
        .collect()
}
