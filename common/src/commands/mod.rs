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
        out
    }
}
