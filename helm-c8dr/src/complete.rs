//! Completion of `helm c8dr` through Helm's own: Helm completes a plugin from `completion.yaml`
//! in the plugin's directory (helm/helm v3.17.4 and v3.22.0 `cmd/helm/load_plugins.go`, v4.3.1
//! `pkg/cmd/load_plugins.go`, the same contract: `loadCompletionForPlugin`,
//! `addPluginCommands`). Each entry becomes a cobra command with `name`, `validArgs` and
//! `flags`; a flag of one letter is a shorthand, paired with the long flag at the same
//! position among the long ones (`BoolP(longs[i], shorts[i])`), so the long flags that have a
//! shorthand come first, in the shorthands' order. The file is read with `sigs.k8s.io/yaml`
//! (YAML 1.1): an unquoted `y` or `yes` is the boolean `true`, which Helm then defines twice and
//! panics on ("flag redefined: true"), so every name is quoted.
//!
//! The file is generated from the clap definition ([`completion_yaml`]); the repository's
//! `completion.yaml` is its output, and a test keeps them equal.
//!
//! `helm-c8dr` typed directly completes as `kubectl-c8dr` does: `completion SHELL` prints a
//! registration that calls the binary back (`HELM_C8DR_COMPLETE=SHELL helm-c8dr -- WORDS…`), and
//! clap's engine answers from the command tree ([`env_callback`]). (clap_complete's static bash
//! script cannot serve a binary whose name holds a `-`: its states are named with `helm__c8dr`,
//! its case labels with `helm__subcmd__c8dr`, and no label ever matches.)

use std::ffi::OsString;
use std::fmt::Write as _;

use clap::{Command, CommandFactory};

use crate::cli::Cli;

/// The binary's name, as the shell sees it.
const BIN: &str = "helm-c8dr";

/// The variable of the completion callback.
const CALLBACK_VAR: &str = "HELM_C8DR_COMPLETE";

/// The command tree under the binary's own name.
fn command() -> Command {
    Cli::command().name(BIN).bin_name(BIN)
}

/// `HELM_C8DR_COMPLETE=SHELL helm-c8dr -- WORDS…`: the callback of the registration printed by
/// `completion SHELL`. Returns whether it answered (then the process exits).
pub fn env_callback() -> bool {
    let args: Vec<OsString> = std::env::args_os().collect();
    clap_complete::CompleteEnv::with_factory(command)
        .var(CALLBACK_VAR)
        .bin(BIN)
        .try_complete(args, std::env::current_dir().ok().as_deref())
        .unwrap_or_else(|e| e.exit())
}

/// `completion SHELL`: the registration script of the dynamic completion for `shell`.
pub fn registration(shell: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let shells = clap_complete::env::Shells::builtins();
    let Some(completer) = shells.completer(shell) else {
        return Err(std::io::Error::other(format!(
            "unknown shell {shell:?}: expected one of {}",
            shells.names().collect::<Vec<_>>().join(", ")
        )));
    };
    completer.write_registration(CALLBACK_VAR, BIN, BIN, BIN, out)
}

/// The `completion.yaml` of the plugin for `cmd` (the root, named as the plugin): its visible
/// subcommands, their flags (global ones included) and the values of their positionals.
pub fn completion_yaml(cmd: &Command) -> String {
    let mut out = String::from(
        "# Generated from the clap definition of helm-c8dr (helm-c8dr completion-yaml): do not edit.\n\
         # Helm completes `helm c8dr <TAB>` from this file (see helm-c8dr/src/complete.rs).\n",
    );
    let globals: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).collect();
    write_command(&mut out, cmd, "c8dr", &globals, 0);
    out
}

fn write_command(
    out: &mut String,
    cmd: &Command,
    name: &str,
    globals: &[&clap::Arg],
    depth: usize,
) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(out, "{pad}name: \"{name}\"");
    let own = cmd.get_arguments().filter(|a| !a.is_global_set());
    let flags = flags(own.chain(globals.iter().copied()));
    if !flags.is_empty() {
        let _ = writeln!(out, "{pad}flags:");
        for f in flags {
            let _ = writeln!(out, "{pad}- \"{f}\"");
        }
    }
    let values: Vec<String> = cmd
        .get_positionals()
        .flat_map(|a| a.get_possible_values())
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() {
        let _ = writeln!(out, "{pad}validArgs:");
        for v in values {
            let _ = writeln!(out, "{pad}- \"{v}\"");
        }
    }
    let subs: Vec<&Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    if !subs.is_empty() {
        let _ = writeln!(out, "{pad}commands:");
        for sub in subs {
            let _ = write!(out, "{pad}- ");
            let mut inner = String::new();
            write_command(&mut inner, sub, sub.get_name(), globals, 0);
            // The first line follows "- ", the others are indented under it.
            for (i, line) in inner.lines().enumerate() {
                let indent = if i == 0 {
                    String::new()
                } else {
                    format!("{pad}  ")
                };
                let _ = writeln!(out, "{indent}{line}");
            }
        }
    }
}

/// The flag names Helm is given, in its pairing order: the long flags with a shorthand first,
/// then the shorthands in the same order, then the long flags without one. clap's own
/// `--help`/`--version` are not listed (cobra has its `--help`).
fn flags<'a>(args: impl Iterator<Item = &'a clap::Arg>) -> Vec<String> {
    let (mut paired, mut shorts, mut alone) = (vec![], vec![], vec![]);
    for a in args.filter(|a| !a.is_positional() && !a.is_hide_set()) {
        let Some(long) = a.get_long() else { continue };
        if matches!(
            a.get_action(),
            clap::ArgAction::Help
                | clap::ArgAction::HelpShort
                | clap::ArgAction::HelpLong
                | clap::ArgAction::Version
        ) {
            continue;
        }
        match a.get_short() {
            Some(s) => {
                paired.push(long.to_string());
                shorts.push(s.to_string());
            }
            None => alone.push(long.to_string()),
        }
    }
    paired.into_iter().chain(shorts).chain(alone).collect()
}
