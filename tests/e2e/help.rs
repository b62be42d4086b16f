//! Every command's `--help` as kubectl users expect it (issue 12 item 3): an `Examples:`
//! section with real invocations, the global flags under their own heading, and the root help
//! listing every step of the procedure (failback 4 included) and the composite commands.

use std::process::Command;

use c8dr_e2e::{bin_dir, cli_help};

fn help(binary: &str, path: &[String]) -> String {
    let out = Command::new(bin_dir().join(binary))
        .args(path)
        .arg("--help")
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{binary} {path:?} --help");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The example lines of a help page: the indented lines after `Examples:` that are not comments.
fn examples(page: &str) -> Vec<String> {
    page.split("\nExamples:\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|l| l.starts_with("  ") || l.is_empty())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_of_both_plugins_shows_examples_of_itself() {
    for (binary, prefix) in [("kubectl-c8dr", "kubectl c8dr"), ("helm-c8dr", "helm c8dr")] {
        let commands = cli_help::commands(&bin_dir().join(binary));
        assert!(commands.len() > 3, "{binary}: {commands:?}");
        for cmd in &commands {
            let page = help(binary, &cmd.path);
            let ex = examples(&page);
            assert!(
                !ex.is_empty(),
                "`{prefix} {}` --help has no Examples:\n{page}",
                cmd.name()
            );
            // An example of the command itself (the completion setup runs the binary directly).
            let own = format!("{prefix} {}", cmd.name());
            let direct = format!("{binary} {}", cmd.name());
            assert!(
                ex.iter()
                    .any(|e| e.starts_with(own.trim_end()) || e.contains(direct.trim_end())),
                "`{}`: no example of the command itself: {ex:#?}",
                own
            );
        }
    }
}

#[test]
fn kubectl_c8drs_global_flags_have_their_own_heading_everywhere() {
    let commands = cli_help::commands(&bin_dir().join("kubectl-c8dr"));
    for cmd in &commands {
        let page = help("kubectl-c8dr", &cmd.path);
        let global = page
            .split("\nGlobal options:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`{}`: no Global options heading\n{page}", cmd.name()));
        for flag in [
            "--context",
            "--namespace",
            "--region",
            "--output",
            "--dry-run",
            "--color",
        ] {
            assert!(
                global.contains(flag),
                "`{}`: {flag} not global\n{page}",
                cmd.name()
            );
        }
        let own = page.split("\nGlobal options:\n").next().unwrap_or_default();
        assert!(
            !own.contains("--kubeconfig"),
            "`{}`: a global flag among the command's own\n{page}",
            cmd.name()
        );
    }
}

#[test]
fn the_root_help_lists_every_step_and_the_composites() {
    let page = help("kubectl-c8dr", &[]);
    for step in [
        "failover 1",
        "failover 2",
        "failback 1",
        "failback 2",
        "failback 3",
        "failback 4   kubectl c8dr es copy",
        "failback 5",
        "failback 6",
        "failback 7",
        "failback 8",
        "kubectl c8dr failover runs failover 1-2",
        "kubectl c8dr failback runs the kubectl steps of failback 3-7",
    ] {
        assert!(page.contains(step), "{step:?} missing:\n{page}");
    }
}
