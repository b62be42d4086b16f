//! The cases: generated from both binaries' `--help` (every option with a value, every
//! positional, of every command), plus files, the environment variables of docs/contract.md §2 and
//! conflicting flags.

use c8dr_e2e::cli_help::{self, CliCommand};

use super::values::{self, Bad};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    /// `kubectl c8dr …` through the real kubectl.
    Kubectl,
    /// `helm-c8dr …` as helm runs it (`HELM_BIN` = the simulator's helm stand-in).
    Helm,
}

/// A file a case writes into its working directory first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    /// Bytes with NULs and invalid UTF-8.
    Binary,
    /// A YAML sequence where a map is expected.
    List,
    /// A YAML scalar where a map is expected.
    Scalar,
    /// Invalid YAML whose error is on line 3.
    Malformed,
    /// Just over 1 MiB of valid YAML: more than a Kubernetes Secret can hold (kubernetes/kubernetes
    /// `pkg/apis/core/types.go` `MaxSecretSize`); real values files and kubeconfigs are a few KiB.
    Huge,
    /// The simulator's kubeconfig without its contexts (current-context names a missing one).
    KubeconfigWithoutContext,
    /// A named pipe nobody writes to: reading it blocks forever.
    Fifo,
    /// A symbolic link to `/dev/zero`: reading it whole never ends and takes memory without bound.
    Device,
    /// `orchestration.env` given as a map (line 3) instead of a list.
    EnvMap,
    /// `orchestration.env` given as a scalar (line 2) instead of a list.
    EnvScalar,
}

pub const MALFORMED_LINE: usize = 3;

#[derive(Debug, Clone)]
pub struct Case {
    pub bin: Bin,
    pub args: Vec<String>,
    /// Environment changes: `Some(value)` sets, `None` removes.
    pub env: Vec<(String, Option<String>)>,
    /// Files written into the working directory (relative names) first.
    pub files: Vec<(String, FileKind)>,
    /// The error line must name one of these (the flag, variable or file).
    pub names: Vec<String>,
    /// The YAML error's line, to be named with a column.
    pub yaml_line: Option<usize>,
    /// What is wrong, for the report.
    pub what: String,
    /// Run `kubectl-c8dr` itself with the argv kubectl would give it, instead of going through
    /// the real kubectl (which passes a plugin's arguments verbatim and costs ~10x the run).
    pub direct: bool,
}

/// A shell-like rendering of a value: bare when plain, else quoted with escapes (`"cam\nunda"`).
pub fn shown(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:@+".contains(c))
    {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

impl Case {
    /// A stable, one-line id: `[VAR=value …] kubectl c8dr ARGS…` (values escaped).
    pub fn id(&self) -> String {
        let mut parts: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={}", shown(v)),
                None => format!("-u {k}"),
            })
            .collect();
        parts.push(match self.bin {
            Bin::Kubectl => "kubectl c8dr".into(),
            Bin::Helm => "helm c8dr".into(),
        });
        parts.extend(self.args.iter().map(|a| shown(a)));
        let mut id = parts.join(" ");
        for (name, kind) in &self.files {
            id.push_str(&format!(" [{name}: {kind:?}]"));
        }
        id
    }
}

/// The arguments that make `cmd` a valid invocation apart from the flag under test: required
/// positionals, a broker selection, `--yes` where a confirmation would stop it (so that bad input
/// that slips through really reaches the cluster, and the check below can see it).
pub fn base_args(cmd: &CliCommand, skip_flag: &str) -> Vec<String> {
    let mut args = cmd.path.clone();
    for p in &cmd.positionals {
        if p.required
            && let Some(v) = values::valid_positional(&p.name)
        {
            args.push(v.into());
        }
    }
    if cmd.path.first().map(String::as_str) == Some("brokers") && skip_flag != "ids" {
        args.push("--odd".into());
    }
    if skip_flag.starts_with("recreated-") {
        // Used only when the recreated region is deployed.
        args.extend(["--region".into(), "recreated".into()]);
    }
    if skip_flag == "location" {
        args.extend(["--repo-type".into(), "fs".into()]);
    }
    if cmd.option("yes").is_some() {
        args.push("--yes".into());
    }
    args
}

/// Commands no bad global flag is tried on: they reach no cluster and ignore the globals.
/// Commands that read no kubeconfig and call nothing, so the global flags mean nothing to them
/// (`version` as `kubectl version --client`; `history` reads the local journal only).
const NO_CLUSTER: &[&str] = &["completion", "version", "history"];

/// Flags a command accepts but does not use, so no value of theirs reaches anything: `helm c8dr
/// overlay` prints the values overlay only (no helm run, no cluster); chart, version, release,
/// contexts and namespaces only feed `helm upgrade`. Listed in docs/reliability.md.
pub const UNUSED_BY: &[(&str, &[&str])] = &[(
    "overlay",
    &[
        "chart",
        "version",
        "release",
        "surviving-context",
        "surviving-namespace",
        "recreated-context",
        "recreated-namespace",
    ],
)];

/// Flags whose cases are files, not values.
const FILE_FLAGS: &[&str] = &["kubeconfig", "values"];

/// Value cases of every option and positional of every leaf command of `bin`. Global options of
/// kubectl-c8dr get every bad value on `status` (it reads every endpoint) and their first bad
/// value on every other command. Returns the cases and the options nobody classified.
pub fn generated(bin: Bin, commands: &[CliCommand]) -> (Vec<Case>, Vec<String>) {
    let helm = bin == Bin::Helm;
    let root = &commands[0];
    let mut cases = vec![];
    let mut unclassified = vec![];
    for cmd in commands.iter().filter(|c| c.is_leaf()) {
        let name = cmd.name();
        for opt in &cmd.options {
            let Some(value_name) = &opt.value else {
                continue;
            };
            if FILE_FLAGS.contains(&opt.long.as_str())
                || UNUSED_BY
                    .iter()
                    .any(|(c, flags)| *c == name && flags.contains(&opt.long.as_str()))
            {
                continue;
            }
            let global = !helm && root.option(&opt.long).is_some();
            if global && NO_CLUSTER.contains(&name.as_str()) {
                continue;
            }
            let Some(bads) = values::for_flag(helm, &opt.long, value_name) else {
                unclassified.push(format!("{name}: --{} <{value_name}>", opt.long));
                continue;
            };
            let take = if global && name != "status" {
                1
            } else {
                bads.len()
            };
            for b in bads.into_iter().take(take) {
                let mut args = base_args(cmd, &opt.long);
                if b.value.starts_with('-') || opt.equals {
                    // The only way to pass such a value: `--flag -1` reads -1 as a flag.
                    args.push(format!("--{}={}", opt.long, b.value));
                } else {
                    args.extend([format!("--{}", opt.long), b.value.clone()]);
                }
                let mut c = value_case(bin, args, &opt.long, &b);
                c.names.extend(opt.short.map(|s| format!("-{s} ")));
                // A file or directory value may be named by its path instead of the flag.
                match opt.long.as_str() {
                    "region-values" => c.names.extend(
                        b.value
                            .split_once('=')
                            .map(|(_, f)| f.to_string())
                            .filter(|f| !f.is_empty()),
                    ),
                    "keep-overlay" if !b.value.is_empty() => c.names.push(b.value.clone()),
                    _ => {}
                }
                cases.push(c);
            }
        }
        for (i, pos) in cmd.positionals.iter().enumerate() {
            if pos.trailing {
                continue;
            }
            let Some(bads) = values::for_flag(helm, "", &pos.name) else {
                unclassified.push(format!("{name}: <{}>", pos.name));
                continue;
            };
            for b in bads {
                let mut args = base_args(cmd, "");
                // Replace the valid positional (or add the optional one) with the bad value.
                let at = cmd.path.len() + i;
                if pos.required && at < args.len() {
                    args[at] = b.value.clone();
                } else {
                    args.insert(at.min(args.len()), b.value.clone());
                }
                let mut c = value_case(bin, args, &pos.name, &b);
                c.names = vec![pos.name.clone(), pos.name.to_lowercase().replace('_', " ")];
                if !b.value.trim().is_empty() {
                    c.names.push(format!("'{}'", b.value));
                }
                cases.push(c);
            }
        }
    }
    (cases, unclassified)
}

fn value_case(bin: Bin, args: Vec<String>, flag: &str, b: &Bad) -> Case {
    Case {
        bin,
        args,
        env: vec![],
        files: vec![],
        names: vec![format!("--{flag}")],
        yaml_line: None,
        what: b.what.to_string(),
        direct: bin == Bin::Kubectl,
    }
}

/// Both binaries' command trees, from their `--help`.
pub fn definitions() -> (Vec<CliCommand>, Vec<CliCommand>) {
    let bins = c8dr_e2e::bin_dir();
    (
        cli_help::commands(&bins.join("kubectl-c8dr")),
        cli_help::commands(&bins.join("helm-c8dr")),
    )
}
