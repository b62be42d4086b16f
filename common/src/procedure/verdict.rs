//! The result of phase detection: the phase, the step(s) of the table, and the next command.

use serde::Serialize;

use super::steps::{Action, Fill, Stage, Step};
use crate::region::RegionId;

fn region_name<S: serde::Serializer>(r: &Option<RegionId>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.to_string()),
        None => s.serialize_none(),
    }
}

/// Where the installation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Both regions complete: no action.
    Healthy,
    /// A topology change runs: wait for it first.
    ChangeInProgress,
    Failover,
    /// Failover done; the lost region is still gone.
    FailedOver,
    Failback,
    /// Not enough evidence (no gateway answered, neither region reachable, or an unexpected mix).
    Unknown,
}

/// The result of phase detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub phase: Phase,
    /// The step numbers of the stage the installation is in (two when they cannot be told
    /// apart, e.g. the pause and the copy).
    pub steps: Vec<u8>,
    /// Steps of the stage (2 for failover, 8 for failback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps_total: Option<u8>,
    /// The region that looks lost (or is being rebuilt), as `region0`/`region1`.
    #[serde(serialize_with = "region_name")]
    pub lost_region: Option<RegionId>,
    /// What the next step does.
    pub what: String,
    /// The next command(s), `None` when there is nothing to do (or nothing safe to suggest).
    pub next: Option<String>,
    /// Caveats: unobservable state, mistakes seen, missing evidence.
    pub notes: Vec<String>,
    /// The `--region` value the kubectl commands need (the environment names the lost region as
    /// the surviving one); already part of `next`, so not in the document.
    #[serde(skip)]
    pub region_flag: Option<String>,
}

impl Verdict {
    pub(super) fn new(phase: Phase, what: impl Into<String>, next: Option<String>) -> Self {
        Self {
            phase,
            steps: vec![],
            steps_total: None,
            lost_region: None,
            what: what.into(),
            next,
            notes: vec![],
            region_flag: None,
        }
    }

    /// No step judged, for `what` reason (e.g. a view of one region: the procedure step needs
    /// both), and nothing suggested.
    pub fn not_judged(what: impl Into<String>) -> Self {
        Self::new(Phase::Unknown, what, None)
    }

    /// At the steps that do `actions` (of one stage), with their commands for this installation.
    pub(super) fn at(actions: &[Action], fill: &Fill, lost: RegionId) -> Self {
        let steps: Vec<&Step> = actions.iter().map(|a| a.step()).collect();
        let stage = steps.first().map_or(Stage::Failback, |s| s.stage);
        let what = steps
            .iter()
            .map(|s| s.what)
            .collect::<Vec<_>>()
            .join(", then ");
        let next = steps
            .iter()
            .map(|s| s.command(fill))
            .collect::<Vec<_>>()
            .join(", then ");
        Self {
            phase: match stage {
                Stage::Failover => Phase::Failover,
                Stage::Failback => Phase::Failback,
            },
            steps: steps.iter().map(|s| s.number()).collect(),
            steps_total: Some(stage.total()),
            lost_region: Some(lost),
            what,
            next: Some(next),
            notes: vec![],
            region_flag: None,
        }
    }

    pub(super) fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub(super) fn lost(mut self, lost: RegionId) -> Self {
        self.lost_region = Some(lost);
        self
    }

    /// The one-line summary: the stage, the step numbers of the table and the next command.
    pub fn line(&self) -> String {
        let head = match self.phase {
            Phase::Healthy => "healthy".to_string(),
            Phase::ChangeInProgress => "a topology change is in progress".to_string(),
            Phase::FailedOver => {
                "failed over: waiting for the lost region to be recreated".to_string()
            }
            Phase::Unknown => "procedure step unknown".to_string(),
            Phase::Failover | Phase::Failback => {
                let stage = if self.phase == Phase::Failover {
                    Stage::Failover
                } else {
                    Stage::Failback
                };
                let numbers = match self.steps.as_slice() {
                    [one] => format!("step {one}"),
                    [first, .., last] => format!("steps {first}-{last}"),
                    [] => "step ?".to_string(),
                };
                format!("{} {numbers} of {}", stage.name(), stage.total())
            }
        };
        match (&self.next, self.phase) {
            (Some(next), Phase::FailedOver) => format!("{head}; next: {next}"),
            (Some(next), _) => format!("{head}: next: {next}"),
            (None, Phase::Healthy) => format!("{head}: no action"),
            (None, _) => format!("{head}: {}", self.what),
        }
    }
}
