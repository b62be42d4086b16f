//! The command line of `kubectl c8dr`. kubectl passes nothing to plugins, so the kubectl-like
//! global flags (`--context`, `-n`, `--kubeconfig`) are ours and come after `c8dr`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCandidates;

use crate::complete;

/// The root help's epilogue: every step of the procedure with its command, from the procedure
/// table (one home for step numbers and commands), for the docs' example (region 1 lost).
fn after_help() -> String {
    use c8dr_common::procedure::{Fill, Stage, Tool, hint};
    use c8dr_common::region::RegionId;
    let fill = Fill::of(RegionId::ONE, 4);
    let mut out = String::from("The procedure (Camunda 8.8 dual-region, region 1 lost):\n");
    for stage in [Stage::Failover, Stage::Failback] {
        for step in stage.steps() {
            out.push_str(&format!("  {:<12} {}\n", step.tag(), step.command(&fill)));
        }
    }
    let span = |stage: Stage| {
        let steps: Vec<_> = stage.run_by(Tool::Kubectl).map(|s| s.number()).collect();
        let (first, last) = (steps.first().copied(), steps.last().copied());
        format!(
            "{} {}-{}",
            stage.name(),
            first.unwrap_or_default(),
            last.unwrap_or_default()
        )
    };
    out.push_str(&format!(
        "Composite: {} runs {};\n           {} runs the kubectl steps of {}.\n\n",
        hint::FAILOVER,
        span(Stage::Failover),
        hint::FAILBACK,
        span(Stage::Failback)
    ));
    out.push_str(
        "Regions come from the docs' variables (CLUSTER_SURVIVING,
CAMUNDA_NAMESPACE_SURVIVING, REGION_SURVIVING, CLUSTER_RECREATED, …, CLUSTER_0/1,
CAMUNDA_NAMESPACE_0/1); flags override them.
Exit codes: 0 success or already done, 1 failed, 2 bad input,
3 refused by a safety check, 4 timed out, 5 cannot reach the cluster/gateway/Elasticsearch.",
    );
    out
}

#[derive(Debug, Parser)]
#[command(
    name = "kubectl c8dr",
    bin_name = "kubectl c8dr",
    version = env!("C8DR_LONG_VERSION"),
    about = "Camunda 8 dual-region failover and failback, safely",
    long_about = "Camunda 8 dual-region failover and failback, safely.\n\nEvery mutating command prints its plan, asks for \
                  confirmation (--yes to skip), does it exactly once, and waits until it really happened.",
    after_help = after_help(),
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The global flags, under their own help heading (as kubectl's `kubectl options`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Kube context (default: from --region's env vars, else the current context)
    #[arg(long, global = true, value_name = "NAME", add = ArgValueCandidates::new(complete::contexts))]
    pub context: Option<String>,
    /// Namespace of the Camunda release (default: from --region's env vars, else the context's)
    #[arg(short = 'n', long, global = true, value_name = "NS", add = ArgValueCandidates::new(complete::namespaces))]
    pub namespace: Option<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Which region to talk to: surviving, recreated, region0 or region1
    #[arg(long, global = true, value_name = "REGION", add = ArgValueCandidates::new(complete::regions))]
    pub region: Option<String>,
    /// Helm release name [env: CAMUNDA_RELEASE_NAME] [default: camunda]
    #[arg(long, global = true, value_name = "NAME")]
    pub release: Option<String>,
    /// Management API base URL (e.g. http://127.0.0.1:9600): skips the port-forward
    #[arg(long, global = true, value_name = "URL")]
    pub gateway_url: Option<String>,
    /// v2 REST API base URL (e.g. http://127.0.0.1:8080): skips the port-forward
    #[arg(long, global = true, value_name = "URL")]
    pub rest_url: Option<String>,
    /// Elasticsearch base URL: skips kubectl exec
    #[arg(long, global = true, value_name = "URL")]
    pub es_url: Option<String>,
    /// Output format: text, json, yaml (one document, docs/output.md), name (kind/name lines:
    /// exporters list, topology, es snapshot list) or jsonpath=TEMPLATE (kubectl's template over
    /// the JSON document: {.path}, text between, {"\n"}, {range .list[*]}…{end}), e.g.
    /// -o jsonpath='{.exporters[*].exporterId}'
    #[arg(short = 'o', long, global = true, value_name = "FORMAT", add = ArgValueCandidates::new(complete::formats))]
    pub output: Option<String>,
    /// Print the plan, change nothing. client (plain --dry-run): send nothing; server: also the
    /// gateway's own dry run (brokers remove|add, failover); none: not a dry run
    #[arg(
        long,
        global = true,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "client",
        value_parser = ["client", "server", "none"]
    )]
    pub dry_run: Option<String>,
    /// Colour text: auto (on a terminal, without NO_COLOR), always or never; never in -o json|yaml
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Do not ask for confirmation [env: C8DR_ASSUME_YES=1]
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// How long to wait for changes to complete
    #[arg(long, global = true, value_name = "DURATION", default_value = "15m", value_parser = timeout_value)]
    pub timeout: String,
    /// Submit changes without waiting for them to complete
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Work on a Camunda release newer than the newest c8dr knows, with the newest one's facts
    #[arg(long, global = true)]
    pub allow_unknown_release: bool,
    /// Log requests and decisions to stderr
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Print only the result
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Remove or re-add Zeebe brokers ({tag:RemoveBrokers}, {tag:AddBrokers})
    #[command(subcommand)]
    Brokers(Brokers),
    /// Enable, disable or list exporters ({tag:DisableExporter}, {tag:EnableExporter})
    #[command(subcommand)]
    Exporters(Exporters),
    /// Pause or resume exporting ({tag:PauseExporting} and {n:ResumeExporting})
    #[command(subcommand)]
    Exporting(Exporting),
    /// Show, wait for or cancel cluster topology changes
    #[command(subcommand)]
    Changes(Changes),
    /// The v2 topology: reachable brokers, partition roles and health (needs REST credentials)
    Topology,
    /// Move partition leaders back to their primaries after a failback (every leader is then in
    /// the surviving region); 8.10: the gateway's coordinated rebalance, older: POST
    /// /actuator/rebalance. Needs REST credentials (leaders are read from /v2/topology)
    Rebalance,
    /// The journal of every change c8dr sent from this machine, as a timeline: each mutation's
    /// start, duration and outcome, and the windows the webapps were off and exporting paused
    /// (the journal: C8DR_JOURNAL, else $XDG_STATE_HOME/c8dr/journal.jsonl, else
    /// ~/.local/state/c8dr/journal.jsonl). Reads that file only
    History {
        /// Only mutations started since then: a duration back from now (2h, 30m) or a time
        /// (2026-01-01T10:00:00Z)
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
    },
    /// Both regions on one screen, and which step of the procedure the installation is in
    Status(crate::status::StatusArgs),
    /// A region's active Spring profiles, compared with what is expected
    Profiles(crate::status::ProfilesArgs),
    /// Elasticsearch: snapshot repository, snapshots, restore, copy between regions ({tag:CopyElasticsearch})
    #[command(subcommand)]
    Es(crate::es::EsCommand),
    /// Fire drill on a healthy installation: check, with reads only, everything a failover and a
    /// failback need (contexts, RBAC, REST credentials, brokers, search engine, snapshot
    /// repository, helm, release, exporters). Exit 0 only when every check passes, 1 otherwise
    Preflight {
        /// The snapshot repository es copy would register (checked, never registered)
        #[command(flatten)]
        repository: crate::es::RepoArgs,
        /// The repository name and the Elasticsearch credentials (as every `es` command)
        #[command(flatten)]
        access: crate::es::AccessFlags,
    },
    /// Failover steps {kubectl:failover} in one go: pre-flight, remove the lost region's brokers, disable its exporter
    Failover {
        /// The lost region (default: detected, the region whose brokers are all unreachable)
        #[arg(long, value_name = "REGION", add = ArgValueCandidates::new(complete::lost_regions))]
        lost: Option<String>,
    },
    /// Failback steps {kubectl:failback} in one go (after the helm steps {range:InstallRecreated..RedeploySurviving}): pause exporting, copy
    /// Elasticsearch, enable the recreated exporter, resume, re-add the brokers. Re-run after an
    /// interruption, it continues where it stopped; it resumes exporting on every failure. Run
    /// after step {n:InstallRecreated} (before step {n:RedeploySurviving}), it takes the Elasticsearch pre-copy and stops at step {n:RedeploySurviving}.
    Failback {
        /// Replication factor to restore (default: twice the current one)
        #[arg(long, value_name = "N", value_parser = replication_factor_value)]
        replication_factor: Option<u32>,
        /// Total brokers of both regions (default: twice the surviving members)
        #[arg(long, value_name = "N", value_parser = cluster_size_value)]
        cluster_size: Option<u32>,
        /// The snapshot repository to register (as `es repo register`/`es copy` take it)
        #[command(flatten)]
        repository: crate::es::RepoArgs,
        /// The repository name and the Elasticsearch credentials (as every `es` command)
        #[command(flatten)]
        access: crate::es::AccessFlags,
        /// Delete Camunda indices that already exist in the recreated Elasticsearch (asks first)
        #[arg(long)]
        delete_existing_indices: bool,
        /// No pre-copy. By default a full snapshot of the surviving Elasticsearch is taken
        /// before the pause (run after {tag:InstallRecreated}, before {tag:RedeploySurviving}, failback takes it while
        /// the webapps still run and stops there), so that the pause holds only the
        /// incremental snapshot and the restore
        #[arg(long, help_heading = "Speed")]
        no_pre_copy: bool,
        /// Leave the recreated Elasticsearch's recovery limits as they are (by default they are
        /// raised for the restore and put back afterwards, also on failure and signals)
        #[arg(long, help_heading = "Speed")]
        no_tuning: bool,
        /// The repository's max_snapshot_bytes_per_sec for the surviving region's snapshots,
        /// e.g. 200mb (put back afterwards)
        #[arg(long, value_name = "RATE", help_heading = "Speed")]
        snapshot_rate: Option<String>,
    },
    /// Write man pages for kubectl-c8dr and its subcommands into DIR
    #[command(hide = true)]
    Man {
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
    /// Print the version, git commit, target and compiler of this binary (no cluster call)
    Version,
    /// Print the shell completion setup for kubectl-c8dr run directly (bash, zsh, fish,
    /// powershell, elvish); `kubectl c8dr` completes through kubectl_complete-c8dr on PATH
    Completion {
        #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish", "powershell", "elvish"])]
        shell: String,
    },
}

#[derive(Debug, Args)]
pub struct BrokerSelection {
    /// The odd broker ids (region 1)
    #[arg(long)]
    pub odd: bool,
    /// The even broker ids (region 0)
    #[arg(long)]
    pub even: bool,
    /// Explicit broker ids, e.g. 1,3,5,7
    #[arg(long, value_name = "LIST")]
    pub ids: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Brokers {
    /// Force-remove the lost region's brokers ({named:RemoveBrokers}). Refuses brokers that are alive.
    Remove {
        #[command(flatten)]
        selection: BrokerSelection,
        /// Do not check that the brokers are really down. RISK: removing live brokers by force
        /// splits the cluster and can lose data; use only if you verified yourself that they are gone
        #[arg(long)]
        skip_liveness_check: bool,
    },
    /// Re-add the recreated region's brokers with the original replication factor ({named:AddBrokers}).
    /// A normal (not forced) change.
    Add {
        #[command(flatten)]
        selection: BrokerSelection,
        /// Replication factor to restore (default: twice the current one, which a forced removal halved)
        #[arg(long, value_name = "N", value_parser = replication_factor_value)]
        replication_factor: Option<u32>,
        /// Total brokers of both regions, for --odd/--even (default: twice the surviving members)
        #[arg(long, value_name = "N", value_parser = cluster_size_value)]
        cluster_size: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum Exporters {
    /// List exporters and their status
    List,
    /// Disable an exporter, e.g. the lost region's camundaregion1 ({named:DisableExporter})
    Disable {
        #[arg(value_name = "EXPORTER_ID", add = ArgValueCandidates::new(complete::exporter_ids))]
        id: String,
        /// Allow disabling the last enabled exporter (nothing is exported to Elasticsearch then)
        #[arg(long)]
        allow_no_exporter: bool,
    },
    /// Enable an exporter ({named:EnableExporter}), optionally initialised from another one
    Enable {
        #[arg(value_name = "EXPORTER_ID", add = ArgValueCandidates::new(complete::exporter_ids))]
        id: String,
        /// Exporter to copy the export position from, e.g. camundaregion0
        #[arg(long, value_name = "EXPORTER_ID", add = ArgValueCandidates::new(complete::exporter_ids))]
        initialize_from: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum Exporting {
    /// Pause exporting on all partitions ({named:PauseExporting}). Reverted with a resume if it fails.
    Pause {
        /// Soft pause (exporters keep running but do not acknowledge). Resume before switching modes.
        #[arg(long)]
        soft: bool,
    },
    /// Resume exporting ({named:ResumeExporting})
    Resume,
}

#[derive(Debug, Subcommand)]
pub enum Changes {
    /// Show the pending and the last change
    Show,
    /// Wait for a change (default: the pending one) to complete
    Wait {
        #[arg(value_name = "CHANGE_ID", add = ArgValueCandidates::new(complete::change_ids))]
        id: Option<i64>,
    },
    /// Cancel a stuck change. Operations already applied are NOT rolled back.
    Cancel {
        #[arg(value_name = "CHANGE_ID", add = ArgValueCandidates::new(complete::change_ids))]
        id: i64,
    },
}

/// The largest cluster size accepted: far above any Zeebe cluster, far below what would exhaust
/// memory when the broker ids are listed (`--cluster-size 4294967294` aborted with an allocation
/// failure before this bound).
pub const MAX_CLUSTER_SIZE: u32 = 1024;

/// `--timeout`: a duration above zero (`0` would fail every wait at once).
fn timeout_value(raw: &str) -> Result<String, String> {
    match c8dr_common::duration::parse_duration("--timeout", raw) {
        Ok(d) if d.is_zero() => Err("must be above zero, e.g. 15m or 90s".into()),
        Ok(_) => Ok(raw.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A whole number of at least 1.
fn at_least_one(raw: &str) -> Result<u32, String> {
    let n: u32 = raw
        .trim()
        .parse()
        .map_err(|e: std::num::ParseIntError| match e.kind() {
            std::num::IntErrorKind::PosOverflow => {
                format!("'{raw}' is too large (at most {MAX_CLUSTER_SIZE} brokers)")
            }
            _ => format!("'{raw}' is not a whole number"),
        })?;
    if n == 0 {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// `--replication-factor`: at least 1 (the upper bound is the cluster size, checked with it).
fn replication_factor_value(raw: &str) -> Result<u32, String> {
    at_least_one(raw)
}

/// `--cluster-size`: 1 to [`MAX_CLUSTER_SIZE`] (evenness for --odd/--even is checked with them).
fn cluster_size_value(raw: &str) -> Result<u32, String> {
    let n = at_least_one(raw)?;
    if n > MAX_CLUSTER_SIZE {
        return Err(format!(
            "{n} is not a plausible cluster size (at most {MAX_CLUSTER_SIZE})"
        ));
    }
    Ok(n)
}

/// Checks of number flags against each other, before any call (exit 2): a parity needs an even
/// cluster size (two regions hold half each), and the replication factor cannot exceed it.
pub fn check_sizes(
    parity: bool,
    cluster_size: Option<u32>,
    replication_factor: Option<u32>,
) -> Result<(), String> {
    if let Some(c) = cluster_size {
        if parity && c % 2 != 0 {
            return Err(format!(
                "--cluster-size {c}: must be even with --odd/--even (each of the two regions holds half of the brokers)"
            ));
        }
        if let Some(rf) = replication_factor
            && rf > c
        {
            return Err(format!(
                "--replication-factor {rf}: above --cluster-size {c} (a partition cannot have more replicas than brokers)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn counts_say_too_large_for_a_number_beyond_the_type_and_not_a_number_otherwise() {
        let big = replication_factor_value("99999999999").expect_err("overflow");
        assert!(big.contains("too large"), "{big}");
        let word = replication_factor_value("four").expect_err("word");
        assert!(word.contains("not a whole number"), "{word}");
        assert_eq!(replication_factor_value(" 4 "), Ok(4));
        assert!(replication_factor_value("0").is_err());
    }
}
