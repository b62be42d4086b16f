//! The steps of the procedure and their commands (SPEC section 1), as data.
//!
//! Commands are templates: `{parity}` (the lost region's broker parity, `odd`/`even`),
//! `{lost_exporter}`, `{surviving_exporter}` and `{rf}` (the replication factor to restore) are
//! filled in by [`Step::command`].

use serde::Serialize;

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
        match self {
            Self::Failover => FAILOVER.len() as u8,
            Self::Failback => FAILBACK.len() as u8,
        }
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
}

/// One step of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub number: u8,
    /// What happens, in the docs' words.
    pub what: &'static str,
    /// The c8dr command, with placeholders.
    pub template: &'static str,
}

/// The values that fill a step's command template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fill {
    pub parity: String,
    pub lost_exporter: String,
    pub surviving_exporter: String,
    pub rf: u32,
}

impl Step {
    /// The command for this installation.
    pub fn command(&self, fill: &Fill) -> String {
        self.template
            .replace("{parity}", &fill.parity)
            .replace("{lost_exporter}", &fill.lost_exporter)
            .replace("{surviving_exporter}", &fill.surviving_exporter)
            .replace("{rf}", &fill.rf.to_string())
    }
}

const fn step(stage: Stage, number: u8, what: &'static str, template: &'static str) -> Step {
    Step {
        stage,
        number,
        what,
        template,
    }
}

/// Failover (SPEC section 1).
pub const FAILOVER: [Step; 2] = [
    step(
        Stage::Failover,
        1,
        "force-remove the lost region's brokers",
        "kubectl c8dr brokers remove --{parity}",
    ),
    step(
        Stage::Failover,
        2,
        "disable the lost region's exporter",
        "kubectl c8dr exporters disable {lost_exporter}",
    ),
];

/// Failback (SPEC section 1).
pub const FAILBACK: [Step; 8] = [
    step(
        Stage::Failback,
        1,
        "install the recreated region: Operate/Tasklist off, schema manager off",
        "helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
    ),
    step(
        Stage::Failback,
        2,
        "redeploy the surviving region with Operate/Tasklist off",
        "helm c8dr redeploy --region surviving --no-webapps",
    ),
    step(
        Stage::Failback,
        3,
        "pause exporting",
        "kubectl c8dr exporting pause",
    ),
    step(
        Stage::Failback,
        4,
        "snapshot the surviving Elasticsearch and restore it in the recreated one",
        "kubectl c8dr es copy --from surviving --to recreated",
    ),
    step(
        Stage::Failback,
        5,
        "enable the recreated region's exporter, initialised from the surviving one",
        "kubectl c8dr exporters enable {lost_exporter} --initialize-from {surviving_exporter}",
    ),
    step(
        Stage::Failback,
        6,
        "resume exporting",
        "kubectl c8dr exporting resume",
    ),
    step(
        Stage::Failback,
        7,
        "re-add the recreated brokers with the original replication factor",
        "kubectl c8dr brokers add --{parity} --replication-factor {rf}",
    ),
    step(
        Stage::Failback,
        8,
        "redeploy both regions with Operate/Tasklist on and no schema-manager override",
        "helm c8dr redeploy --region both",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_numbered_in_order_and_fills_its_placeholders() {
        for stage in [Stage::Failover, Stage::Failback] {
            for (i, s) in stage.steps().iter().enumerate() {
                assert_eq!(usize::from(s.number), i + 1);
                assert_eq!(s.stage, stage);
            }
        }
        let fill = Fill {
            parity: "odd".into(),
            lost_exporter: "camundaregion1".into(),
            surviving_exporter: "camundaregion0".into(),
            rf: 4,
        };
        let all: Vec<String> = FAILOVER
            .iter()
            .chain(FAILBACK.iter())
            .map(|s| s.command(&fill))
            .collect();
        assert!(all.iter().all(|c| !c.contains('{')), "{all:?}");
        assert_eq!(
            Stage::Failback.step(7).map(|s| s.command(&fill)).as_deref(),
            Some("kubectl c8dr brokers add --odd --replication-factor 4")
        );
        assert!(Stage::Failback.step(0).is_none());
        assert!(Stage::Failover.step(3).is_none());
    }
}
