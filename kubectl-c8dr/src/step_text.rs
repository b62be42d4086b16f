//! Step numbers in help texts, from the table (`c8dr_common::procedure::steps`): a text names a
//! step by its action in a placeholder and its number is filled in when the command tree is
//! built ([`with_step_numbers`]), so no help text types a step number and a new row in the table
//! renumbers the help with it.
//!
//! Placeholders (an action in its Rust spelling, see `steps::Action`):
//! - `{tag:AddBrokers}`, `{named:AddBrokers}`, `{Named:AddBrokers}`: the step's `Step::tag`,
//!   `Step::named`, `Step::named_capitalised` (its stage and number); `{n:AddBrokers}`: the number;
//! - `{range:InstallRecreated..AddBrokers}`: `first-last`, the numbers of two steps of one stage;
//! - `{kubectl:failback}`: `first-last`, the steps of a stage its driver runs.
//!
//! Braces that are not one of these (a jsonpath in an example) stay as they are.

use c8dr_common::procedure::steps::{FAILBACK, FAILOVER, Stage, Step, Tool};
use clap::Command;

/// The placeholder kinds, for the check that none is left.
#[cfg(test)]
const KINDS: [&str; 6] = ["tag", "named", "Named", "n", "range", "kubectl"];

fn step(action: &str) -> Option<&'static Step> {
    FAILOVER
        .iter()
        .chain(FAILBACK.iter())
        .find(|s| format!("{:?}", s.action) == action)
}

fn span(numbers: &[u8]) -> Option<String> {
    match (numbers.first(), numbers.last()) {
        (Some(a), Some(b)) if a == b => Some(a.to_string()),
        (Some(a), Some(b)) => Some(format!("{a}-{b}")),
        _ => None,
    }
}

fn fill(kind: &str, arg: &str) -> Option<String> {
    match kind {
        "tag" => Some(step(arg)?.tag()),
        "named" => Some(step(arg)?.named()),
        "Named" => Some(step(arg)?.named_capitalised()),
        "n" => Some(step(arg)?.number().to_string()),
        "range" => {
            let (a, b) = arg.split_once("..")?;
            let (a, b) = (step(a)?, step(b)?);
            (a.stage == b.stage).then(|| format!("{}-{}", a.number(), b.number()))
        }
        "kubectl" => {
            let stage = [Stage::Failover, Stage::Failback]
                .into_iter()
                .find(|s| s.name() == arg)?;
            span(
                &stage
                    .run_by(Tool::Kubectl)
                    .map(Step::number)
                    .collect::<Vec<_>>(),
            )
        }
        _ => None,
    }
}

/// `text` with its placeholders filled in (one that names no step stays, for the test to find).
pub fn expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let filled = after.find('}').and_then(|close| {
            let (kind, arg) = after[1..close].split_once(':')?;
            Some((fill(kind, arg)?, close))
        });
        match filled {
            Some((text, close)) => {
                out.push_str(&text);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `cmd` with the step numbers of every help text of its tree filled in.
pub fn with_step_numbers(mut cmd: Command) -> Command {
    if let Some(t) = cmd.get_about().map(|s| expand(&s.to_string())) {
        cmd = cmd.about(t);
    }
    if let Some(t) = cmd.get_long_about().map(|s| expand(&s.to_string())) {
        cmd = cmd.long_about(t);
    }
    if let Some(t) = cmd.get_after_help().map(|s| expand(&s.to_string())) {
        cmd = cmd.after_help(t);
    }
    if let Some(t) = cmd.get_after_long_help().map(|s| expand(&s.to_string())) {
        cmd = cmd.after_long_help(t);
    }
    cmd = cmd.mut_args(|mut a| {
        if let Some(t) = a.get_help().map(|s| expand(&s.to_string())) {
            a = a.help(t);
        }
        if let Some(t) = a.get_long_help().map(|s| expand(&s.to_string())) {
            a = a.long_help(t);
        }
        a
    });
    cmd.mut_subcommands(with_step_numbers)
}

/// The placeholders left in `text` (a misspelt action or kind).
#[cfg(test)]
fn unfilled(text: &str) -> Vec<String> {
    KINDS
        .iter()
        .flat_map(|k| {
            let open = format!("{{{k}:");
            text.match_indices(&open)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        })
        .map(|i| text[i..].chars().take_while(|c| *c != '}').collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use c8dr_common::procedure::steps::Action;

    use super::*;

    #[test]
    fn placeholders_take_their_numbers_from_the_table() {
        let add = Action::AddBrokers.step();
        assert_eq!(expand("{tag:AddBrokers}"), add.tag());
        assert_eq!(
            expand("x {named:AddBrokers} y"),
            format!("x {} y", add.named())
        );
        assert_eq!(
            expand("{Named:PauseExporting}"),
            format!("F{}", &Action::PauseExporting.step().named()[1..])
        );
        assert_eq!(
            expand("{range:InstallRecreated..RedeploySurviving}"),
            format!("1-{}", Action::RedeploySurviving.step().number())
        );
        assert_eq!(expand("{kubectl:failover}"), "1-2");
        // Braces of another kind stay; a misspelt action is left for the tree test to find.
        assert_eq!(expand("-o jsonpath='{.a[*].b}'"), "-o jsonpath='{.a[*].b}'");
        assert_eq!(unfilled(&expand("{tag:AddBroker}")), ["{tag:AddBroker"]);
        assert!(expand("{range:RemoveBrokers..AddBrokers}").starts_with('{'));
    }

    fn texts(cmd: &Command, out: &mut Vec<String>) {
        let own = [
            cmd.get_about(),
            cmd.get_long_about(),
            cmd.get_after_help(),
            cmd.get_after_long_help(),
        ];
        out.extend(own.into_iter().flatten().map(ToString::to_string));
        for a in cmd.get_arguments() {
            out.extend(a.get_help().map(ToString::to_string));
            out.extend(a.get_long_help().map(ToString::to_string));
        }
        for sub in cmd.get_subcommands() {
            texts(sub, out);
        }
    }

    #[test]
    fn every_placeholder_of_the_command_tree_is_filled_in() {
        let mut all = vec![];
        texts(&crate::command(), &mut all);
        let left: Vec<String> = all.iter().flat_map(|t| unfilled(t)).collect();
        assert!(left.is_empty(), "{left:?}");
        let add = Action::AddBrokers.step();
        assert!(all.iter().any(|t| t.contains(&add.named())), "{all:?}");
    }
}
