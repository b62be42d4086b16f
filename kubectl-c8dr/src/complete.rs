//! Shell completion, one engine for every way in: clap_complete's completion engine
//! (`clap_complete::engine::complete`) walks the real command tree, so a flag's value is
//! completed where a value goes (typed lists for `-o`, `--region`, `--lost`, `--color`;
//! contexts and namespaces read from the kubeconfig, no call to any cluster) and subcommands
//! only where a subcommand goes.
//!
//! - `kubectl c8dr …<TAB>`: kubectl (1.26+) runs `kubectl_complete-c8dr` from PATH with the
//!   plugin's words and the word being completed (empty for a new word); the shim calls
//!   `kubectl-c8dr __complete WORDS…`, which answers in cobra's `__complete` format: one
//!   candidate a line (`value<TAB>description`), then `:<directive>` (kubernetes/kubernetes
//!   staging/src/k8s.io/kubectl/pkg/cmd/plugin/plugin_completion.go, `getPluginCompletions`).
//! - `kubectl-c8dr …<TAB>` run directly: `kubectl-c8dr completion SHELL` prints clap's dynamic
//!   registration, which calls back `KUBECTL_C8DR_COMPLETE=SHELL kubectl-c8dr -- WORDS…` (the
//!   same engine). It
//!   replaces clap's static scripts, whose bash script never matched the words of a binary
//!   named `kubectl c8dr` below the first level.

use std::ffi::OsString;
use std::sync::OnceLock;

use c8dr_common::config::Env;
use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;

use crate::cli::Cli;

/// The binary's name as shells see it when it is run directly.
pub const BIN: &str = "kubectl-c8dr";

/// The variable that makes the binary answer a completion callback instead of running
/// (clap's default, `COMPLETE`, is too generic a name: set in a user's environment for another
/// tool, it would turn every `kubectl c8dr` run into a completion error).
const CALLBACK_VAR: &str = "KUBECTL_C8DR_COMPLETE";

/// cobra's `ShellCompDirectiveNoFileComp`: do not fall back to file names.
const NO_FILE_COMP: u32 = 4;

/// The location flags on the line being completed (`--kubeconfig`, `--context`, `-n`,
/// `--region`, `--release`, `--gateway-url`): the kubeconfig's candidates come from the file the
/// command would read, the cluster's candidates from the region it would talk to.
static LINE_FLAGS: OnceLock<LineFlags> = OnceLock::new();

#[derive(Debug, Default)]
struct LineFlags {
    kubeconfig: Option<String>,
    context: Option<String>,
    namespace: Option<String>,
    region: Option<String>,
    release: Option<String>,
    gateway_url: Option<String>,
}

/// The command as completion sees it: named as the binary a shell runs.
fn command() -> clap::Command {
    crate::step_text::with_step_numbers(Cli::command())
        .bin_name(BIN)
        .name(BIN)
}

/// `kubectl-c8dr __complete WORDS…` (WORDS: the plugin's arguments, the last one the word being
/// completed): the candidates in cobra's format.
pub fn cobra(words: &[String]) -> String {
    remember_flags(words);
    let mut args: Vec<OsString> = vec![BIN.into()];
    args.extend(words.iter().map(OsString::from));
    if words.is_empty() {
        args.push(OsString::new());
    }
    let index = args.len() - 1;
    let cwd = std::env::current_dir().ok();
    let candidates = clap_complete::engine::complete(&mut command(), args, index, cwd.as_deref())
        .unwrap_or_default();
    // As cobra does: flags only when the word being completed starts with '-'.
    let word = words.last().map(String::as_str).unwrap_or_default();
    let flags_wanted = word.starts_with('-');
    let mut out = String::new();
    for c in candidates
        .iter()
        .filter(|c| !c.is_hide_set())
        .filter(|c| flags_wanted || !c.get_value().to_string_lossy().starts_with('-'))
    {
        let value = c.get_value().to_string_lossy();
        match c.get_help() {
            Some(help) => {
                let help = help.to_string();
                out.push_str(&format!("{value}\t{}\n", short_description(&help)));
            }
            None => out.push_str(&format!("{value}\n")),
        }
    }
    out.push_str(&format!(":{NO_FILE_COMP}\n"));
    out
}

/// A candidate's description as shells show it beside the value: the first sentence of the first
/// line, at most [`DESCRIPTION_WIDTH`] characters (cut at a word, marked with `…`).
fn short_description(help: &str) -> String {
    let line = help.lines().next().unwrap_or_default();
    let sentence = line
        .split(". ")
        .next()
        .unwrap_or(line)
        .trim_end_matches('.');
    if sentence.chars().count() <= DESCRIPTION_WIDTH {
        return sentence.to_string();
    }
    let mut out = String::new();
    for word in sentence.split(' ') {
        if out.chars().count() + word.chars().count() + 1 > DESCRIPTION_WIDTH - 1 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

/// The longest description shown beside a candidate.
const DESCRIPTION_WIDTH: usize = 60;

/// `KUBECTL_C8DR_COMPLETE=SHELL kubectl-c8dr -- WORDS…`: the callback of the registration printed by
/// `completion SHELL`. Returns whether it answered (then the process exits).
pub fn env_callback() -> bool {
    let args: Vec<OsString> = std::env::args_os().collect();
    remember_flags(
        &args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
    );
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

fn remember_flags(words: &[String]) {
    let mut flags = LineFlags::default();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let (name, inline) = match w.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let slot = match name {
            "--kubeconfig" => &mut flags.kubeconfig,
            "--context" => &mut flags.context,
            "-n" | "--namespace" => &mut flags.namespace,
            "--region" => &mut flags.region,
            "--release" => &mut flags.release,
            "--gateway-url" => &mut flags.gateway_url,
            _ => continue,
        };
        *slot = inline
            .or_else(|| it.next().cloned())
            .filter(|v| !v.is_empty());
    }
    let _ = LINE_FLAGS.set(flags);
}

/// The environment the kubeconfig is found with: `--kubeconfig` on the line wins over
/// `$KUBECONFIG`, as it does when the command runs.
fn kube_env() -> Env {
    let flag = LINE_FLAGS.get().and_then(|f| f.kubeconfig.clone());
    let process = Env::from_process();
    let mut vars: Vec<(String, String)> = process
        .pairs()
        .filter(|(k, _)| flag.is_none() || *k != "KUBECONFIG")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.extend(flag.map(|path| ("KUBECONFIG".to_string(), path)));
    Env::from_pairs(vars)
}

fn candidates(values: &[(&'static str, &'static str)]) -> Vec<CompletionCandidate> {
    values
        .iter()
        .map(|(v, help)| CompletionCandidate::new(*v).help(Some((*help).into())))
        .collect()
}

/// `-o/--output`.
pub fn formats() -> Vec<CompletionCandidate> {
    candidates(&[
        ("text", "human-readable (default)"),
        ("json", "one JSON document on stdout"),
        ("yaml", "one YAML document on stdout"),
        (
            "name",
            "kind/name lines (exporters list, topology, es snapshot list)",
        ),
        ("jsonpath=", "kubectl's template over the JSON document"),
    ])
}

/// `--region`, `es copy --from/--to`.
pub fn regions() -> Vec<CompletionCandidate> {
    candidates(&[
        (
            "surviving",
            "the region of REGION_SURVIVING / CLUSTER_SURVIVING",
        ),
        (
            "recreated",
            "the region of REGION_RECREATED / CLUSTER_RECREATED",
        ),
        ("region0", "region 0 (even broker ids; CLUSTER_0)"),
        ("region1", "region 1 (odd broker ids; CLUSTER_1)"),
    ])
}

/// `failover --lost`.
pub fn lost_regions() -> Vec<CompletionCandidate> {
    candidates(&[
        ("region0", "region 0 is lost (even broker ids)"),
        ("region1", "region 1 is lost (odd broker ids)"),
    ])
}

/// `--context`: the kubeconfig's contexts (with their namespace as help).
pub fn contexts() -> Vec<CompletionCandidate> {
    c8dr_common::location::kubeconfig_contexts(&kube_env())
        .into_iter()
        .map(|(name, ns)| {
            CompletionCandidate::new(name).help(ns.map(|n| format!("namespace {n}").into()))
        })
        .collect()
}

/// `-n/--namespace`: the namespaces the kubeconfig's contexts name (the cluster is not asked).
pub fn namespaces() -> Vec<CompletionCandidate> {
    let mut seen: Vec<String> = Vec::new();
    for (_, ns) in c8dr_common::location::kubeconfig_contexts(&kube_env()) {
        if let Some(ns) = ns
            && !seen.contains(&ns)
        {
            seen.push(ns);
        }
    }
    seen.into_iter().map(CompletionCandidate::new).collect()
}

/// How long a completion may wait for the cluster: a shell waits for it on every TAB.
const CLUSTER_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

/// Candidates read from the cluster the command would talk to (the line's flags, the docs'
/// variables), within [`CLUSTER_BOUND`]; none when it cannot be read (nothing is printed: a
/// completion never shows an error).
fn from_cluster<F>(read: F) -> Vec<CompletionCandidate>
where
    F: AsyncFnOnce(&c8dr_common::session::Session) -> c8dr_common::Result<Vec<(String, String)>>,
{
    let line = LINE_FLAGS.get();
    let flags = c8dr_common::session::GlobalFlags {
        kubeconfig: line.and_then(|f| f.kubeconfig.clone()).map(Into::into),
        context: line.and_then(|f| f.context.clone()),
        namespace: line.and_then(|f| f.namespace.clone()),
        region: line.and_then(|f| f.region.clone()),
        release: line.and_then(|f| f.release.clone()),
        gateway_url: line.and_then(|f| f.gateway_url.clone()),
        timeout: Some("3s".into()),
        quiet: true,
        yes: true,
        ..Default::default()
    };
    let Ok((settings, ui)) = flags.resolve(Env::from_process()) else {
        return vec![];
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return vec![];
    };
    c8dr_common::wait::set_network_bound(CLUSTER_BOUND);
    let session = c8dr_common::session::Session::new(settings, ui);
    let found = runtime.block_on(async {
        tokio::time::timeout(CLUSTER_BOUND, read(&session))
            .await
            .ok()
            .and_then(Result::ok)
    });
    found
        .unwrap_or_default()
        .into_iter()
        .map(|(value, help)| CompletionCandidate::new(value).help(Some(help.into())))
        .collect()
}

/// `exporters disable|enable ID`, `--initialize-from`: the cluster's exporters, with their status.
pub fn exporter_ids() -> Vec<CompletionCandidate> {
    from_cluster(async |s| {
        let exporters = s.management().await?.exporters().await?;
        Ok(exporters
            .into_iter()
            .map(|e| (e.exporter_id, e.status))
            .collect())
    })
}

/// `es snapshot restore NAME`, `es copy --snapshot`: the snapshots of the repository in the
/// region the command would talk to (the default access: a cluster whose Elasticsearch needs a
/// password given by `--es-password-env` completes nothing), newest first.
pub fn snapshot_names() -> Vec<CompletionCandidate> {
    from_cluster(async |s| {
        let access = c8dr_common::es::EsAccess::default();
        let list = c8dr_common::commands::es::snapshot_list(s, &access)
            .await?
            .0;
        Ok(list
            .snapshots
            .into_iter()
            .rev()
            .map(|i| (i.snapshot, i.state))
            .collect())
    })
}

/// `changes wait|cancel ID`: the pending change and the last one.
pub fn change_ids() -> Vec<CompletionCandidate> {
    from_cluster(async |s| {
        let view = c8dr_common::commands::changes::changes_show(s).await?;
        let pending = view
            .pending_change
            .map(|p| (p.id.to_string(), "pending change".to_string()));
        let last = view
            .last_change
            .map(|l| (l.id.to_string(), format!("last change, {}", l.status)));
        Ok(pending.into_iter().chain(last).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(out: &str) -> Vec<&str> {
        out.lines()
            .map(|l| l.split('\t').next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_flag_value_is_completed_with_its_values_not_subcommands() {
        let out = cobra(&["--region".into(), String::new()]);
        assert_eq!(
            values(&out),
            ["surviving", "recreated", "region0", "region1", ":4"],
            "{out}"
        );
        let out = cobra(&["brokers".into(), "remove".into(), "-o".into(), "j".into()]);
        assert_eq!(values(&out), ["json", "jsonpath=", ":4"], "{out}");
        let out = cobra(&["failover".into(), "--lost".into(), String::new()]);
        assert_eq!(values(&out), ["region0", "region1", ":4"], "{out}");
    }

    #[test]
    fn descriptions_are_one_short_sentence() {
        assert_eq!(
            short_description("Pause it. Then more.\nsecond"),
            "Pause it"
        );
        let long =
            "Failback steps in one go (after the helm steps): pause exporting, copy Elasticsearch";
        let short = short_description(long);
        assert!(
            short.chars().count() <= DESCRIPTION_WIDTH && short.ends_with('…'),
            "{short}"
        );
        assert!(long.starts_with(short.trim_end_matches('…')), "{short}");
    }

    #[test]
    fn subcommands_are_offered_where_a_subcommand_goes() {
        let out = cobra(&["brokers".into(), String::new()]);
        let v = values(&out);
        assert!(v.contains(&"remove") && v.contains(&"add"), "{out}");
        assert!(!v.contains(&"status"), "{out}");
        let out = cobra(&["--region".into(), "region1".into(), "exp".into()]);
        assert_eq!(values(&out), ["exporters", "exporting", ":4"], "{out}");
    }
}
