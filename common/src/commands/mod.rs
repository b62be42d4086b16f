//! The commands' logic, one function per command: gather evidence, check safety, print the
//! plan, confirm, act once, wait until it really happened, report. Binaries only parse and render.

pub mod brokers;
pub mod changes;
pub(crate) mod cluster;
pub mod driver;
pub mod es;
pub mod exporters;
pub mod exporting;
pub mod failback;
pub mod failover;
pub(crate) mod follow;
#[cfg(test)]
mod function_size;
pub mod history;
pub mod installation;
pub(crate) mod liveness;
pub mod mutation;
pub mod pause_guard;
pub mod pause_state;
pub mod preflight;
pub mod rebalance;
pub mod status;
pub mod topology;

use serde::Serialize;
use serde_json::Value;

use crate::output::Render;
use crate::session::Session;

/// How a mutating command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// The change was made and verified.
    Done,
    /// Nothing to do: the desired state was already there (exit 0).
    AlreadyDone,
    /// `--dry-run`: the plan only, no mutating call.
    DryRun,
    /// Submitted without waiting (`--no-wait`).
    Submitted,
}

impl Ending {
    /// As `-o json` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Done => "done",
            Ending::AlreadyDone => "already-done",
            Ending::DryRun => "dry-run",
            Ending::Submitted => "submitted",
        }
    }
}

/// The result of a mutating command, stable in `-o json|yaml`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub command: String,
    pub status: Ending,
    pub summary: String,
    /// The exact calls, or the gateway's planned operations.
    pub plan: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<i64>,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
    /// After a single step of the procedure: the next command, as `status` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Text after the result line (a driver's closing timeline); in documents it is part of
    /// `details`.
    #[serde(skip)]
    pub epilogue: Option<String>,
}

impl Outcome {
    pub fn new(command: &str, status: Ending, summary: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            status,
            summary: summary.into(),
            plan: vec![],
            change_id: None,
            details: Value::Null,
            next: None,
            epilogue: None,
        }
    }
    pub fn with_plan(mut self, plan: Vec<String>) -> Self {
        self.plan = plan;
        self
    }
    pub fn with_change(mut self, id: Option<i64>) -> Self {
        self.change_id = id;
        self
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
    /// A driver's closing timeline: `details.timeline` in documents, the text after the result
    /// line.
    pub fn with_timeline(mut self, timeline: Option<crate::journal::timeline::Timeline>) -> Self {
        if let Some(t) = timeline {
            if let Value::Object(map) = &mut self.details {
                map.insert(
                    "timeline".into(),
                    serde_json::to_value(&t).unwrap_or_default(),
                );
            }
            self.epilogue = Some(t.text());
        }
        self
    }
}

/// The commands that are single steps of the procedure (the drivers name their own next).
const SINGLE_STEPS: [&str; 7] = [
    "brokers remove",
    "brokers add",
    "exporters disable",
    "exporters enable",
    "exporting pause",
    "exporting resume",
    "es copy",
];

/// A single step of the procedure that did its work (or found it done) ends as `status` does:
/// with the next command, read from both regions within `status`'s probe bound (a region that
/// cannot be read leaves it out; the step's own result stands).
pub async fn with_next(session: &Session, mut outcome: Outcome) -> Outcome {
    let ended = matches!(outcome.status, Ending::Done | Ending::AlreadyDone);
    if ended
        && SINGLE_STEPS.contains(&outcome.command.as_str())
        && let Ok(report) = status::status(session, status::PROBE_TIMEOUT).await
    {
        outcome.next = report.procedure.next;
    }
    outcome
}

impl Render for Outcome {
    fn text(&self) -> String {
        let mut out = String::new();
        match self.status {
            Ending::DryRun => {
                out.push_str(&format!("dry run: {}\n", self.summary));
                for p in &self.plan {
                    out.push_str(&format!("  {p}\n"));
                }
                out.push_str("nothing was changed (--dry-run)\n");
            }
            Ending::AlreadyDone => out.push_str(&format!("already done: {}\n", self.summary)),
            Ending::Done => out.push_str(&format!("done: {}\n", self.summary)),
            Ending::Submitted => out.push_str(&format!("submitted: {}\n", self.summary)),
        }
        if let Some(next) = &self.next {
            out.push_str(&format!("next: {next}\n"));
        }
        if let Some(e) = &self.epilogue {
            out.push_str(e);
        }
        out
    }
}
