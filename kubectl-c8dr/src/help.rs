//! The `Examples:` section of every command's help, in one table: kubectl's convention (every
//! `kubectl … --help` shows examples), applied to the command tree after clap built it, so that
//! the commands' definitions stay short. A unit test requires an entry for every command.

use clap::Command;

/// Examples by command path (the words after `kubectl c8dr`; "" is the root).
const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "# Where is the installation in the procedure, and what is the next command?",
            "kubectl c8dr status",
            "# Region 1 is lost: failover steps {kubectl:failover} in one go, plan shown first",
            "kubectl c8dr failover",
            "# Region 1 recreated and both helm steps done: failback steps {kubectl:failback} in one go",
            "kubectl c8dr failback --replication-factor 4",
        ],
    ),
    (
        "brokers",
        &[
            "kubectl c8dr brokers remove --odd",
            "kubectl c8dr brokers add --odd --replication-factor 4",
        ],
    ),
    (
        "brokers remove",
        &[
            "# {Named:RemoveBrokers}, region 1 lost (odd broker ids)",
            "kubectl c8dr brokers remove --odd",
            "# What the gateway would do, nothing changed",
            "kubectl c8dr brokers remove --even --dry-run=server",
        ],
    ),
    (
        "brokers add",
        &[
            "# {Named:AddBrokers}: re-add region 1's brokers with the original replication factor",
            "kubectl c8dr brokers add --odd --replication-factor 4",
            "kubectl c8dr brokers add --ids 1,3,5,7 --replication-factor 4 --no-wait",
        ],
    ),
    (
        "exporters",
        &[
            "kubectl c8dr exporters list",
            "kubectl c8dr exporters disable camundaregion1",
        ],
    ),
    (
        "exporters list",
        &[
            "kubectl c8dr exporters list",
            "kubectl c8dr exporters list -o json",
            "kubectl c8dr exporters list -o jsonpath='{.exporters[*].exporterId}'",
        ],
    ),
    (
        "exporters disable",
        &[
            "# {Named:DisableExporter}, region 1 lost",
            "kubectl c8dr exporters disable camundaregion1",
        ],
    ),
    (
        "exporters enable",
        &[
            "# {Named:EnableExporter}: the recreated region's exporter, from the surviving one's position",
            "kubectl c8dr exporters enable camundaregion1 --initialize-from camundaregion0",
        ],
    ),
    (
        "exporting",
        &[
            "kubectl c8dr exporting pause",
            "kubectl c8dr exporting resume",
        ],
    ),
    (
        "exporting pause",
        &[
            "# {Named:PauseExporting}",
            "kubectl c8dr exporting pause --yes",
        ],
    ),
    (
        "exporting resume",
        &["# {Named:ResumeExporting}", "kubectl c8dr exporting resume"],
    ),
    (
        "changes",
        &["kubectl c8dr changes show", "kubectl c8dr changes wait"],
    ),
    (
        "changes show",
        &[
            "kubectl c8dr changes show",
            "kubectl c8dr changes show --region region1 -o yaml",
        ],
    ),
    (
        "changes wait",
        &[
            "# The pending change, or change 12",
            "kubectl c8dr changes wait",
            "kubectl c8dr changes wait 12 --timeout 30m",
        ],
    ),
    (
        "changes cancel",
        &[
            "# A stuck change; operations already applied stay applied",
            "kubectl c8dr changes cancel 12",
        ],
    ),
    (
        "topology",
        &[
            "kubectl c8dr topology",
            "kubectl c8dr topology --region recreated -o json",
        ],
    ),
    (
        "history",
        &[
            "# Every change sent from here, with the webapps-off and exporting-paused windows",
            "kubectl c8dr history",
            "kubectl c8dr history --since 2h",
            "kubectl c8dr history --since 2026-12-06T08:00:00Z -o json",
        ],
    ),
    (
        "rebalance",
        &[
            "# After a failback: leaders back to their primaries, in both regions",
            "kubectl c8dr rebalance --dry-run",
            "kubectl c8dr rebalance --yes",
        ],
    ),
    (
        "status",
        &[
            "kubectl c8dr status",
            "kubectl c8dr status -o json",
            "kubectl c8dr status --probe-timeout 10s --color never",
            "kubectl c8dr status -w --interval 5s",
            "kubectl c8dr status -w -o json | jq --unbuffered -r .summary",
            "kubectl c8dr status -q",
            "kubectl c8dr --context gke-region1 status",
        ],
    ),
    (
        "preflight",
        &[
            "# Is everything a failover and a failback need in place? (reads only)",
            "kubectl c8dr preflight",
            "kubectl c8dr preflight -o json | jq '.checks[] | select(.result == \"problem\")'",
            "# The repository es copy will use is a shared directory",
            "kubectl c8dr preflight --repo-type fs --location /mnt/shared/backups",
        ],
    ),
    (
        "profiles",
        &[
            "kubectl c8dr profiles --region recreated --expect-no-webapps",
            "kubectl c8dr profiles --logs",
        ],
    ),
    (
        "es",
        &[
            "kubectl c8dr es status --region recreated",
            "kubectl c8dr es copy --from surviving --to recreated",
        ],
    ),
    (
        "es repo",
        &[
            "kubectl c8dr es repo register --bucket my-bucket",
            "kubectl c8dr es repo show",
        ],
    ),
    (
        "es repo register",
        &[
            "kubectl c8dr es repo register --bucket my-bucket",
            "kubectl c8dr es repo register --region recreated --bucket my-bucket --readonly",
            "kubectl c8dr es repo register --repo-type fs --location /shared/snapshots",
        ],
    ),
    (
        "es repo show",
        &[
            "kubectl c8dr es repo show",
            "kubectl c8dr es repo show --repo camunda_backup -o json",
        ],
    ),
    (
        "es snapshot",
        &[
            "kubectl c8dr es snapshot create",
            "kubectl c8dr es snapshot list",
        ],
    ),
    (
        "es snapshot create",
        &[
            "kubectl c8dr es snapshot create",
            "kubectl c8dr es snapshot create failback-1",
        ],
    ),
    (
        "es snapshot list",
        &[
            "kubectl c8dr es snapshot list",
            "kubectl c8dr es snapshot list --region recreated",
        ],
    ),
    (
        "es snapshot show",
        &["kubectl c8dr es snapshot show failback-1"],
    ),
    (
        "es snapshot restore",
        &["kubectl c8dr es snapshot restore failback-1 --region recreated"],
    ),
    (
        "es copy",
        &[
            "# {Named:CopyElasticsearch} (exporting paused first: {named:PauseExporting})",
            "kubectl c8dr es copy --from surviving --to recreated --bucket my-bucket",
            "kubectl c8dr es copy --pause-exporting --repo-type fs --location /shared/snapshots",
        ],
    ),
    (
        "es status",
        &[
            "kubectl c8dr es status",
            "kubectl c8dr es status --region recreated",
        ],
    ),
    (
        "failover",
        &[
            "# The lost region is detected; its plan is shown before you are asked",
            "kubectl c8dr failover",
            "kubectl c8dr failover --lost region1 --dry-run=server",
        ],
    ),
    (
        "failback",
        &[
            "# After helm c8dr redeploy --region recreated … and --region surviving …",
            "kubectl c8dr failback --replication-factor 4 --bucket my-bucket",
            "kubectl c8dr failback --repo-type fs --location /shared/snapshots --dry-run",
        ],
    ),
    (
        "completion",
        &[
            "# kubectl-c8dr typed directly (kubectl c8dr completes through kubectl_complete-c8dr)",
            "source <(kubectl-c8dr completion bash)",
            "kubectl-c8dr completion fish | source",
        ],
    ),
    ("man", &["kubectl-c8dr man /usr/local/share/man/man1"]),
    (
        "version",
        &[
            "kubectl c8dr version",
            "kubectl c8dr version -o jsonpath='{.gitCommit}'",
        ],
    ),
];

/// The `Examples:` block of `path`, if the table has one.
fn examples(path: &str) -> Option<String> {
    let (_, lines) = EXAMPLES.iter().find(|(p, _)| *p == path)?;
    let mut out = String::from("Examples:\n");
    for l in lines.iter() {
        out.push_str(&format!("  {l}\n"));
    }
    Some(out.trim_end().to_string())
}

/// `cmd` with the examples of every command of its tree added after its own epilogue, both shown
/// before the options.
pub fn with_examples(cmd: Command) -> Command {
    walk(cmd, &mut Vec::new())
}

fn walk(mut cmd: Command, path: &mut Vec<String>) -> Command {
    if let Some(ex) = examples(&path.join(" ")) {
        let text = match cmd.get_after_help() {
            Some(own) => format!("{own}\n\n{ex}"),
            None => ex,
        };
        // kubectl's order: the examples before the options (the global ones are long).
        cmd = cmd.after_help(text).help_template(
            "{about-with-newline}\n{usage-heading} {usage}{after-help}\n\n{all-args}",
        );
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    for name in names {
        path.push(name.clone());
        cmd = cmd.mut_subcommand(&name, |sub| walk(sub, path));
        path.pop();
    }
    cmd
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn paths(cmd: &Command, path: &mut Vec<String>, out: &mut Vec<String>) {
        out.push(path.join(" "));
        for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
            path.push(sub.get_name().to_string());
            paths(sub, path, out);
            path.pop();
        }
    }

    #[test]
    fn every_command_has_examples_and_every_example_a_command() {
        let cmd = crate::cli::Cli::command();
        let mut all = vec![];
        paths(&cmd, &mut vec![], &mut all);
        for p in &all {
            assert!(examples(p).is_some(), "no examples for `{p}`");
        }
        for (p, _) in EXAMPLES {
            assert!(all.iter().any(|a| a == p), "examples for no command: `{p}`");
        }
    }

    /// Issue 22 item 8: as in kubectl, the examples come before the (long) global options.
    #[test]
    fn the_examples_come_before_the_options() {
        let mut cmd = with_examples(crate::cli::Cli::command());
        cmd.build();
        for path in [vec![], vec!["status"], vec!["brokers", "remove"]] {
            let mut sub = &mut cmd;
            for name in &path {
                sub = sub.find_subcommand_mut(name).expect("subcommand");
            }
            let help = sub.render_help().to_string();
            let examples = help.find("Examples:").expect("examples");
            let options = help.find("Global options:").expect("global options");
            assert!(examples < options, "{path:?}:\n{help}");
        }
    }
}
