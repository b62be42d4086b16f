//! The steps of the procedure and their commands (docs/contract.md §1), as data: the single source of
//! step numbers, names and commands. Drivers, phase detection and every "next:" hint refer to a
//! step by what it does ([`Action`]) and take its number, label and command from here, so adding
//! a step is one row in [`FAILOVER`]/[`FAILBACK`] (its number and the numbers after it follow).
//!
//! Commands are templates: `{parity}` (the lost region's broker parity, `odd`/`even`),
//! `{lost_exporter}`, `{surviving_exporter}` and `{rf}` (the replication factor to restore) are
//! filled in by [`Step::command`]. A command is its `base` (the command and what it acts on) and
//! its `options`; [`Step::brief`] is the base alone.
//!
//! Adding a step: its row here (with a new [`Action`]); its executor (a kubectl step in
//! `commands/failback.rs` or `commands/failover.rs`, which list and guard the table's kubectl
//! steps; a helm step in the helm plugin); its detection branch in `procedure/detect/`.
//!
//! For a hint in another command: `Action::PauseExporting.step().cite(&Fill::default())` gives
//! `failback step 3: kubectl c8dr exporting pause`.

use serde::Serialize;

use crate::region::RegionId;

/// The two halves of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Failover,
    Failback,
}

impl Stage {
    /// How many steps the stage has.
    pub fn total(self) -> u8 {
        u8::try_from(self.steps().len()).unwrap_or(u8::MAX)
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Failover => "failover",
            Self::Failback => "failback",
        }
    }
    /// The steps of the stage, in order.
    pub fn steps(self) -> &'static [Step] {
        match self {
            Self::Failover => &FAILOVER,
            Self::Failback => &FAILBACK,
        }
    }
    /// Step `number` (1-based) of the stage.
    pub fn step(self, number: u8) -> Option<&'static Step> {
        self.steps().get(usize::from(number).checked_sub(1)?)
    }
    /// The stage after this one.
    pub fn following(self) -> Option<Stage> {
        match self {
            Self::Failover => Some(Self::Failback),
            Self::Failback => None,
        }
    }
    /// The steps of the stage one plugin runs (a driver covers the kubectl side of its stage).
    pub fn run_by(self, tool: Tool) -> impl Iterator<Item = &'static Step> {
        self.steps().iter().filter(move |s| s.tool() == tool)
    }
}

/// What a step does: its identity, independent of its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    RemoveBrokers,
    DisableExporter,
    InstallRecreated,
    RedeploySurviving,
    PauseExporting,
    CopyElasticsearch,
    EnableExporter,
    ResumeExporting,
    AddBrokers,
    RedeployBoth,
}

impl Action {
    /// This action's row in the table.
    pub fn step(self) -> &'static Step {
        FAILOVER
            .iter()
            .chain(FAILBACK.iter())
            .find(|s| s.action == self)
            // Every action has a row: `every_action_has_exactly_one_row` checks the table.
            .unwrap_or(&FAILOVER[0])
    }
}

/// The plugin a step's command belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `kubectl c8dr …` (Zeebe, exporting, Elasticsearch).
    Kubectl,
    /// `helm c8dr …` (the releases).
    Helm,
}

/// One step of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub action: Action,
    /// What happens, in the docs' words.
    pub what: &'static str,
    /// The c8dr command and what it acts on, with placeholders.
    pub base: &'static str,
    /// The command's options after [`Self::base`] (with a leading space), with placeholders.
    pub options: &'static str,
}

/// The values that fill a step's command template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fill {
    pub parity: String,
    pub lost_exporter: String,
    pub surviving_exporter: String,
    pub rf: u32,
}

impl Fill {
    /// The values for `lost` as the recreated region, with the 8.8 exporter ids.
    pub fn of(lost: RegionId, rf: u32) -> Self {
        Self {
            parity: lost.parity().to_string(),
            lost_exporter: lost.exporter_id(),
            surviving_exporter: lost.other().exporter_id(),
            rf,
        }
    }
    /// The same values with another exporter of the lost region (a legacy id).
    pub fn with_lost_exporter(&self, id: &str) -> Self {
        Self {
            lost_exporter: id.to_string(),
            ..self.clone()
        }
    }
    fn apply(&self, template: &str) -> String {
        template
            .replace("{parity}", &self.parity)
            .replace("{lost_exporter}", &self.lost_exporter)
            .replace("{surviving_exporter}", &self.surviving_exporter)
            .replace("{rf}", &self.rf.to_string())
    }
}

impl Step {
    /// Its 1-based number in its stage (its position in the table).
    pub fn number(&self) -> u8 {
        let i = self
            .stage
            .steps()
            .iter()
            .position(|s| s.action == self.action)
            .unwrap_or(0);
        u8::try_from(i + 1).unwrap_or(u8::MAX)
    }
    /// Steps of its stage.
    pub fn total(&self) -> u8 {
        self.stage.total()
    }
    /// `failback 3`: the step in reports and in the pause guard's done/not-done lists.
    pub fn tag(&self) -> String {
        format!("{} {}", self.stage.name(), self.number())
    }
    /// `failback step 3`: the step in prose.
    pub fn named(&self) -> String {
        format!("{} step {}", self.stage.name(), self.number())
    }
    /// `Failback step 3`: the step at the start of a sentence (the plugins' help examples).
    pub fn named_capitalised(&self) -> String {
        let named = self.named();
        let mut chars = named.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => named,
        }
    }
    /// `3/8`.
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.number(), self.total())
    }
    /// `step 3/8`: the step in a driver's plan.
    pub fn label(&self) -> String {
        format!("step {}", self.fraction())
    }
    /// `failback 3/8`: the step in a driver's progress lines.
    pub fn progress(&self) -> String {
        format!("{} {}", self.stage.name(), self.fraction())
    }
    /// `failback step 3/8`: the step in an error's context.
    pub fn heading(&self) -> String {
        format!("{} {}", self.stage.name(), self.label())
    }
    /// The command for this installation.
    pub fn command(&self, fill: &Fill) -> String {
        fill.apply(&format!("{}{}", self.base, self.options))
    }
    /// The command with `extra` options appended (e.g. the repository of an Elasticsearch copy).
    pub fn command_with(&self, fill: &Fill, extra: &str) -> String {
        let mut cmd = self.command(fill);
        if !extra.is_empty() {
            cmd.push(' ');
            cmd.push_str(extra);
        }
        cmd
    }
    /// The command without its options: `kubectl c8dr brokers add --odd`.
    pub fn brief(&self, fill: &Fill) -> String {
        fill.apply(self.base)
    }
    /// `failback step 3: kubectl c8dr exporting pause`: a step pointed at from a hint.
    pub fn cite(&self, fill: &Fill) -> String {
        format!("{}: {}", self.named(), self.command(fill))
    }
    /// `failback 3: kubectl c8dr exporting pause`: the pause guard's entry for this step.
    pub fn entry(&self, fill: &Fill) -> String {
        format!("{}: {}", self.tag(), self.brief(fill))
    }
    /// The plugin that runs it.
    pub fn tool(&self) -> Tool {
        if self.base.starts_with("helm ") {
            Tool::Helm
        } else {
            Tool::Kubectl
        }
    }
    /// The step that follows: the next of its stage, else the first of the following stage.
    pub fn next(&self) -> Option<&'static Step> {
        self.stage
            .step(self.number() + 1)
            .or_else(|| self.stage.following().and_then(|s| s.steps().first()))
    }
}

/// Commands the procedure points at that are not steps of it.
pub mod hint {
    /// Follow a running topology change.
    pub fn changes_wait(id: i64) -> String {
        format!("kubectl c8dr changes wait {id}")
    }
    /// Cancel a stuck topology change.
    pub fn changes_cancel(id: i64) -> String {
        format!("kubectl c8dr changes cancel {id}")
    }
    /// Look at the cluster's membership and its last change.
    pub const CHANGES_SHOW: &str = "kubectl c8dr changes show";
    /// What the gateway sees (`/v2/topology`), also with the coordinator lost.
    pub const TOPOLOGY: &str = "kubectl c8dr topology";
    /// The driver of the failover's kubectl steps.
    pub const FAILOVER: &str = "kubectl c8dr failover";
    /// The driver of the failback's kubectl steps.
    pub const FAILBACK: &str = "kubectl c8dr failback";
}

const fn step(
    stage: Stage,
    action: Action,
    what: &'static str,
    base: &'static str,
    options: &'static str,
) -> Step {
    Step {
        stage,
        action,
        what,
        base,
        options,
    }
}

/// Failover (docs/contract.md §1).
pub const FAILOVER: [Step; 2] = [
    step(
        Stage::Failover,
        Action::RemoveBrokers,
        "force-remove the lost region's brokers",
        "kubectl c8dr brokers remove --{parity}",
        "",
    ),
    step(
        Stage::Failover,
        Action::DisableExporter,
        "disable the lost region's exporter",
        "kubectl c8dr exporters disable {lost_exporter}",
        "",
    ),
];

/// Failback (docs/contract.md §1).
pub const FAILBACK: [Step; 8] = [
    step(
        Stage::Failback,
        Action::InstallRecreated,
        "install the recreated region: Operate/Tasklist off, schema manager off",
        "helm c8dr redeploy --region recreated",
        " --no-webapps --no-schema-manager",
    ),
    step(
        Stage::Failback,
        Action::RedeploySurviving,
        "redeploy the surviving region with Operate/Tasklist off",
        "helm c8dr redeploy --region surviving",
        " --no-webapps",
    ),
    step(
        Stage::Failback,
        Action::PauseExporting,
        "pause exporting",
        "kubectl c8dr exporting pause",
        "",
    ),
    step(
        Stage::Failback,
        Action::CopyElasticsearch,
        "snapshot the surviving Elasticsearch and restore it in the recreated one",
        "kubectl c8dr es copy",
        " --from surviving --to recreated",
    ),
    step(
        Stage::Failback,
        Action::EnableExporter,
        "enable the recreated region's exporter, initialised from the surviving one",
        "kubectl c8dr exporters enable {lost_exporter}",
        " --initialize-from {surviving_exporter}",
    ),
    step(
        Stage::Failback,
        Action::ResumeExporting,
        "resume exporting",
        "kubectl c8dr exporting resume",
        "",
    ),
    step(
        Stage::Failback,
        Action::AddBrokers,
        "re-add the recreated brokers with the original replication factor",
        "kubectl c8dr brokers add --{parity}",
        " --replication-factor {rf}",
    ),
    step(
        Stage::Failback,
        Action::RedeployBoth,
        "redeploy both regions with Operate/Tasklist on and no schema-manager override",
        "helm c8dr redeploy --region both",
        "",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> Fill {
        Fill {
            parity: "odd".into(),
            lost_exporter: "camundaregion1".into(),
            surviving_exporter: "camundaregion0".into(),
            rf: 4,
        }
    }

    #[test]
    fn the_table_is_numbered_in_order_and_fills_its_placeholders() {
        for stage in [Stage::Failover, Stage::Failback] {
            for (i, s) in stage.steps().iter().enumerate() {
                assert_eq!(usize::from(s.number()), i + 1);
                assert_eq!(s.stage, stage);
            }
        }
        let all: Vec<String> = FAILOVER
            .iter()
            .chain(FAILBACK.iter())
            .map(|s| s.command(&fill()))
            .collect();
        assert!(all.iter().all(|c| !c.contains('{')), "{all:?}");
        assert_eq!(
            Stage::Failback
                .step(7)
                .map(|s| s.command(&fill()))
                .as_deref(),
            Some("kubectl c8dr brokers add --odd --replication-factor 4")
        );
        assert!(Stage::Failback.step(0).is_none());
        assert!(Stage::Failover.step(3).is_none());
    }

    #[test]
    fn every_action_has_exactly_one_row() {
        let rows: Vec<Action> = FAILOVER
            .iter()
            .chain(FAILBACK.iter())
            .map(|s| s.action)
            .collect();
        for a in &rows {
            assert_eq!(rows.iter().filter(|b| *b == a).count(), 1, "{a:?}");
            assert_eq!(a.step().action, *a);
        }
        assert_eq!(rows.len(), 10, "a new Action needs its row");
    }

    #[test]
    fn labels_commands_and_the_next_step_come_from_the_table() {
        let add = Action::AddBrokers.step();
        assert_eq!(add.tag(), "failback 7");
        assert_eq!(add.named(), "failback step 7");
        assert_eq!(add.named_capitalised(), "Failback step 7");
        assert_eq!(add.label(), "step 7/8");
        assert_eq!(add.progress(), "failback 7/8");
        assert_eq!(add.heading(), "failback step 7/8");
        assert_eq!(Fill::of(RegionId::ONE, 4), fill());
        assert_eq!(add.brief(&fill()), "kubectl c8dr brokers add --odd");
        assert_eq!(
            add.command_with(&fill(), "--cluster-size 8"),
            "kubectl c8dr brokers add --odd --replication-factor 4 --cluster-size 8"
        );
        assert_eq!(
            Action::PauseExporting.step().cite(&Fill::default()),
            "failback step 3: kubectl c8dr exporting pause"
        );
        assert_eq!(
            Action::EnableExporter.step().entry(&fill()),
            "failback 5: kubectl c8dr exporters enable camundaregion1"
        );
        // The failover's last step leads to the failback's first.
        assert_eq!(
            Action::DisableExporter.step().next().map(|s| s.action),
            Some(Action::InstallRecreated)
        );
        assert_eq!(Action::RedeployBoth.step().next(), None);
        let kubectl: Vec<u8> = Stage::Failback
            .run_by(Tool::Kubectl)
            .map(Step::number)
            .collect();
        assert_eq!(kubectl, [3, 4, 5, 6, 7]);
        assert_eq!(Stage::Failover.run_by(Tool::Helm).count(), 0);
    }
}
