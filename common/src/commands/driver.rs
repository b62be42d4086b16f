//! What the two drivers ([`super::failover`], [`super::failback`]) share: the report of each
//! step they ran. Their steps, numbers and commands come from [`crate::procedure::steps`].

use std::time::Instant;

use serde::Serialize;

use super::{Ending, Outcome};
use crate::procedure::Step;
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

/// The steps a driver ran, in order, each noted as it ends (`✓ failback 3: …`).
pub struct Steps<'a> {
    ui: &'a Ui,
    pub done: Vec<StepReport>,
}

impl<'a> Steps<'a> {
    pub fn new(ui: &'a Ui) -> Self {
        Self { ui, done: vec![] }
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
