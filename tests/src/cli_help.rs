//! The command-line definitions of a binary, read from its own `--help` output (clap's layout):
//! every command with its options, their value names and possible values, and its positional
//! arguments. Suites generate their cases from this, so a new flag or command is covered (or
//! reported as unclassified) without anyone editing a table.

use std::path::Path;
use std::process::Command;

/// One option of a command, as `--help` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliOption {
    /// The long name without dashes, e.g. `timeout`.
    pub long: String,
    pub short: Option<char>,
    /// The value name (`DURATION` of `--timeout <DURATION>`); `None` for a switch.
    pub value: Option<String>,
    /// clap's `[possible values: …]`, if any.
    pub possible: Vec<String>,
    /// An optional value, attached with `=` only (`--dry-run[=<MODE>]`): `--flag VALUE` would
    /// read VALUE as the next argument.
    pub equals: bool,
}

/// One positional argument: `<NAME>` (required) or `[NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positional {
    pub name: String,
    pub required: bool,
    /// `[ARGS]...`: takes the rest of the line (after `--` for helm-c8dr's extra helm args).
    pub trailing: bool,
}

/// A command (a leaf or a group) of a binary.
#[derive(Debug, Clone)]
pub struct CliCommand {
    /// The words after the binary, e.g. `["es", "snapshot", "restore"]`.
    pub path: Vec<String>,
    pub options: Vec<CliOption>,
    pub positionals: Vec<Positional>,
    pub subcommands: Vec<String>,
}

impl CliCommand {
    pub fn is_leaf(&self) -> bool {
        self.subcommands.is_empty()
    }
    pub fn option(&self, long: &str) -> Option<&CliOption> {
        self.options.iter().find(|o| o.long == long)
    }
    /// `es snapshot restore`.
    pub fn name(&self) -> String {
        self.path.join(" ")
    }
}

/// Every command of `binary` (the root first), read from `binary [PATH…] --help` recursively.
/// clap's own `help` subcommand is left out.
pub fn commands(binary: &Path) -> Vec<CliCommand> {
    let mut out = vec![];
    let mut todo = vec![vec![]];
    while let Some(path) = todo.pop() {
        let cmd = describe(binary, &path);
        for sub in cmd.subcommands.iter().rev() {
            let mut p = path.clone();
            p.push(sub.clone());
            todo.push(p);
        }
        out.push(cmd);
    }
    out
}

fn describe(binary: &Path, path: &[String]) -> CliCommand {
    let out = Command::new(binary)
        .args(path)
        .arg("--help")
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{} {} --help: {e}", binary.display(), path.join(" ")));
    assert!(
        out.status.success(),
        "{} {} --help failed",
        binary.display(),
        path.join(" ")
    );
    let mut cmd = parse(&String::from_utf8_lossy(&out.stdout));
    cmd.path = path.to_vec();
    cmd
}

/// Parse one `--help` page (clap 4's layout; long or short help).
pub fn parse(help: &str) -> CliCommand {
    #[derive(PartialEq)]
    enum Section {
        None,
        Commands,
        Arguments,
        Options,
    }
    let mut section = Section::None;
    let mut cmd = CliCommand {
        path: vec![],
        options: vec![],
        positionals: vec![],
        subcommands: vec![],
    };
    for line in help.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            section = match line.trim_end() {
                "Commands:" => Section::Commands,
                "Arguments:" => Section::Arguments,
                "Options:" | "Global options:" => Section::Options,
                _ => Section::None,
            };
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        match section {
            Section::Commands if indent == 2 => {
                if let Some(name) = text.split_whitespace().next()
                    && name != "help"
                {
                    cmd.subcommands.push(name.to_string());
                }
            }
            Section::Arguments if indent == 2 => {
                let word = text.split("  ").next().unwrap_or_default();
                let trailing = word.ends_with("...");
                let word = word.trim_end_matches("...");
                let required = word.starts_with('<');
                let name = word.trim_matches(|c| matches!(c, '<' | '>' | '[' | ']'));
                cmd.positionals.push(Positional {
                    name: name.to_string(),
                    required,
                    trailing,
                });
            }
            Section::Options if indent <= 6 && text.starts_with('-') => {
                if let Some(o) = parse_option(text) {
                    cmd.options.push(o);
                }
            }
            Section::Options => {
                if let (Some(last), Some(start)) =
                    (cmd.options.last_mut(), text.find("[possible values: "))
                {
                    let rest = &text[start + "[possible values: ".len()..];
                    let list = rest.split(']').next().unwrap_or_default();
                    last.possible = list.split(", ").map(str::to_string).collect();
                }
            }
            _ => {}
        }
    }
    cmd
}

/// `-n, --namespace <NS>  description…` or `--dry-run`.
fn parse_option(text: &str) -> Option<CliOption> {
    let head = text.split("  ").next().unwrap_or_default();
    let mut short = None;
    let mut rest = head;
    if let Some(r) = rest.strip_prefix('-')
        && !r.starts_with('-')
    {
        short = r.chars().next();
        rest = r.get(1..)?.trim_start_matches(',').trim_start();
    }
    let rest = rest.strip_prefix("--")?;
    if let Some((long, value)) = rest.split_once("[=") {
        // `--dry-run[=<MODE>]`
        return Some(CliOption {
            long: long.to_string(),
            short,
            value: Some(
                value
                    .trim_end_matches(']')
                    .trim_matches(|c| matches!(c, '<' | '>'))
                    .to_string(),
            ),
            possible: help_possible_values(text),
            equals: true,
        });
    }
    let (long, value) = match rest.split_once(' ') {
        Some((l, v)) => (
            l,
            Some(
                v.trim_end_matches("...")
                    .trim_matches(|c| matches!(c, '<' | '>'))
                    .to_string(),
            ),
        ),
        None => (rest, None),
    };
    let possible = help_possible_values(text);
    Some(CliOption {
        long: long.to_string(),
        short,
        value,
        possible,
        equals: false,
    })
}

/// `[possible values: a, b]` on the option's own line (short help).
fn help_possible_values(text: &str) -> Vec<String> {
    text.find("[possible values: ")
        .map(|start| {
            text[start + "[possible values: ".len()..]
                .split(']')
                .next()
                .unwrap_or_default()
                .split(", ")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clap_long_and_short_help() {
        let help = "\
Usage: x es copy [OPTIONS] <NAME> [-- <EXTRA HELM ARGS>...]

Commands:
  brokers     Remove or re-add
  help        Print this message

Arguments:
  <NAME>
          Snapshot name
  [EXTRA HELM ARGS]...  Extra arguments

Options:
  -n, --namespace <NS>
          Namespace
      --repo-type <TYPE>
          Repository type
          [possible values: s3, fs]
  -o, --output <OUTPUT>
          Output format [default: text] [possible values: text, json]
      --dry-run
          Print the plan

Global options:
      --dry-run-mode[=<MODE>]  Print the plan [possible values: client, server]
  -q, --quiet                  Print only the result
";
        let c = parse(help);
        assert_eq!(c.subcommands, ["brokers"]);
        assert_eq!(c.positionals.len(), 2);
        assert!(c.positionals[0].required && !c.positionals[0].trailing);
        assert_eq!(c.positionals[1].name, "EXTRA HELM ARGS");
        assert!(!c.positionals[1].required && c.positionals[1].trailing);
        let ns = c.option("namespace").expect("namespace");
        assert_eq!((ns.short, ns.value.as_deref()), (Some('n'), Some("NS")));
        assert_eq!(c.option("repo-type").expect("type").possible, ["s3", "fs"]);
        assert_eq!(c.option("output").expect("o").possible, ["text", "json"]);
        assert_eq!(c.option("dry-run").expect("switch").value, None);
        let mode = c.option("dry-run-mode").expect("global option");
        assert_eq!(
            (mode.value.as_deref(), mode.equals, mode.possible.clone()),
            (
                Some("MODE"),
                true,
                vec!["client".to_string(), "server".into()]
            )
        );
        assert_eq!(c.option("quiet").expect("global switch").short, Some('q'));
    }
}
