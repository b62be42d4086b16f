//! `kubectl c8dr es …`: Elasticsearch repository, snapshot, restore and copy (the failback's
//! Elasticsearch copy step).
//! Parsing and rendering only; the logic is in `c8dr_common::commands::es`.

use c8dr_common::chart;
use c8dr_common::commands::es::{self as cmd, CopyArgs};
use c8dr_common::error::Result;
use c8dr_common::es::{EsAccess, RepoFlags};
use c8dr_common::region::RegionRef;
use c8dr_common::session::Session;
use clap::{Args, Subcommand};

/// How `kubectl c8dr es` reaches Elasticsearch, from the chart's facts (`c8dr_common::chart`).
fn access_help() -> String {
    let (selector, container) = (chart::ES_SELECTOR, chart::ES_CONTAINER);
    let [(bitnami, bitnami_key), (eck, eck_key)] = chart::es_password_secrets("<release>");
    format!(
        "Elasticsearch (8.x) or OpenSearch (2.x, detected from GET /) is reached by running curl in a Running pod
labelled {selector} (container {container}) of --region's namespace, or
directly with --es-url. The password comes from
--es-user/--es-password-env, else the Secret {bitnami} (key {bitnami_key}), else
ECK's {eck} (key {eck_key}). It is passed to curl on stdin, never in argv or output."
    )
}

#[derive(Debug, Subcommand)]
#[command(after_help = access_help())]
pub enum EsCommand {
    /// Register or show the snapshot repository
    #[command(subcommand)]
    Repo(Box<Repo>),
    /// Create, list, show or restore snapshots
    #[command(subcommand)]
    Snapshot(Box<Snapshot>),
    /// The whole {named:CopyElasticsearch}: snapshot the surviving region's Elasticsearch and restore it
    /// in the recreated one
    #[command(
        long_about = "The whole {named:CopyElasticsearch}: register the repository writable on the source and verify it, \
                      snapshot the source (include_global_state), register the repository read-only on the \
                      target and verify it, wait until the snapshot is visible there, check the target has no \
                      Camunda indices (operate-*, tasklist-*, camunda-*), restore, and verify that the \
                      target's Camunda indices equal the source's.\n\n\
                      Exporting must be paused first ({named:PauseExporting}: kubectl c8dr exporting pause). c8dr \
                      reads the pause state on every broker pod (GET /actuator/partitions on port 9600) and \
                      refuses the copy (exit 3) when a partition is not paused; --exporting-paused states it \
                      only where the brokers cannot be read, and --pause-exporting pauses first.\n\n\
                      With --pause-exporting, a full snapshot of the source (failback-precopy-<UTC time>) is \
                      taken first, while exporting runs (a finished one in the repository is reused), so that \
                      the snapshot taken in the pause uploads only what changed since (--no-pre-copy: none). \
                      For the restore, the target's indices.recovery.max_bytes_per_sec, \
                      node_initial_primaries_recoveries and node_concurrent_recoveries are raised (persistent, \
                      recorded in cluster.metadata.c8dr_recovery_tuning) and put back afterwards, also on \
                      failure and on SIGINT/SIGTERM/SIGHUP; a run that finds a record left by a killed run \
                      puts those values back (--no-tuning: the limits are left alone). The source is left \
                      alone unless --snapshot-rate sets its repository's max_snapshot_bytes_per_sec (put back \
                      afterwards).\n\n\
                      With Elasticsearch security on, the restore uses feature_states [\"none\"] so that \
                      the target keeps its own users (--feature-states overrides). OpenSearch has no \
                      feature states: none are sent there.\n\n\
                      The repository is S3 by default (--bucket or S3_BUCKET_NAME); for a directory both \
                      clusters share, use --repo-type fs --location /path/shared (in path.repo of every node).\n\n\
                      Each region's kube context and namespace come from the docs' variables \
                      (CLUSTER_SURVIVING, CAMUNDA_NAMESPACE_SURVIVING, CLUSTER_RECREATED, …)."
    )]
    Copy(Box<CopyCmd>),
    /// Show the Elasticsearch cluster's health and Camunda indices
    Status {
        #[command(flatten)]
        access: AccessFlags,
    },
}

/// How to reach Elasticsearch and which repository to use.
#[derive(Debug, Args)]
pub struct AccessFlags {
    /// Snapshot repository name
    #[arg(long = "repo", value_name = "NAME", default_value = c8dr_common::chart::REPOSITORY)]
    pub repo: String,
    /// Elasticsearch user (needs --es-password-env) [default: elastic]
    #[arg(long, value_name = "USER")]
    pub es_user: Option<String>,
    /// Name of the environment variable holding the Elasticsearch password
    #[arg(long, value_name = "VAR")]
    pub es_password_env: Option<String>,
}

impl AccessFlags {
    /// The core's view of the flags.
    pub fn access(&self) -> EsAccess {
        EsAccess {
            repository: self.repo.clone(),
            user: self.es_user.clone(),
            password_env: self.es_password_env.clone(),
        }
    }
}

/// The repository to register.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// Repository type: s3, fs (a shared directory), gcs or azure
    #[arg(
        long = "repo-type",
        alias = "type",
        value_name = "TYPE",
        default_value = "s3",
        value_parser = ["s3", "fs", "gcs", "azure"]
    )]
    pub kind: String,
    /// Bucket (s3, gcs) or container (azure); not for fs [env: S3_BUCKET_NAME for s3]
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Directory of an fs repository, shared by every node of both clusters and listed in their
    /// path.repo (only with --repo-type fs)
    #[arg(long, value_name = "PATH")]
    pub location: Option<String>,
    /// Path inside the bucket (s3, gcs, azure) [default: backups]
    #[arg(long, value_name = "PATH")]
    pub base_path: Option<String>,
    /// Client name whose credentials are in the keystore (s3, gcs, azure) [default: camunda]
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// Extra repository setting (repeatable), e.g. --setting compress=true
    #[arg(long = "setting", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
}

impl RepoArgs {
    /// The core's view of the flags, for a repository registered `readonly` or writable.
    pub fn flags(&self, readonly: bool) -> RepoFlags {
        RepoFlags {
            kind: Some(self.kind.clone()),
            bucket: self.bucket.clone(),
            location: self.location.clone(),
            base_path: self.base_path.clone(),
            client: self.client.clone(),
            settings: self.settings.clone(),
            readonly,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Repo {
    /// Register the snapshot repository (PUT _snapshot/<repo>) and verify it (_verify)
    Register {
        #[command(flatten)]
        repo: RepoArgs,
        /// Register read-only (the restoring side: two writable registrations can corrupt the repository)
        #[arg(long)]
        readonly: bool,
        #[command(flatten)]
        access: AccessFlags,
    },
    /// Show the repository's registration
    Show {
        #[command(flatten)]
        access: AccessFlags,
    },
}

#[derive(Debug, Subcommand)]
pub enum Snapshot {
    /// Snapshot the cluster with its global state and wait until it is SUCCESS with no failed shard
    Create {
        /// Snapshot name [default: failback-<UTC timestamp>]
        #[arg(value_name = "NAME")]
        name: Option<String>,
        #[command(flatten)]
        access: AccessFlags,
    },
    /// List the repository's snapshots
    List {
        #[command(flatten)]
        access: AccessFlags,
    },
    /// Show one snapshot
    Show {
        #[arg(value_name = "NAME")]
        name: String,
        #[command(flatten)]
        access: AccessFlags,
    },
    /// Restore a snapshot (in the recreated region: --region recreated) and wait until it is complete
    #[command(
        long_about = "Restore a snapshot with its global state and wait until every index is recovered and the \
                      cluster is green. Checks first that the snapshot exists, succeeded and carries the global \
                      state. Refuses (exit 3, listing them) when Camunda indices (operate-*, tasklist-*, \
                      camunda-*) already exist, unless --delete-existing-indices is given (recreated region \
                      only) and confirmed."
    )]
    Restore {
        #[arg(value_name = "NAME", add = clap_complete::engine::ArgValueCandidates::new(crate::complete::snapshot_names))]
        name: String,
        /// Delete the existing Camunda indices first (recreated region only; asks for confirmation)
        #[arg(long)]
        delete_existing_indices: bool,
        /// Feature states to restore with the global state, comma-separated (`none`: keep the
        /// target's system indices) [default: none when Elasticsearch security is on, else all]
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        feature_states: Vec<String>,
        #[command(flatten)]
        access: AccessFlags,
    },
}

#[derive(Debug, Args)]
pub struct CopyCmd {
    /// Region to snapshot
    #[arg(long, value_name = "REGION", default_value = "surviving",
          add = clap_complete::engine::ArgValueCandidates::new(crate::complete::regions))]
    pub from: String,
    /// Region to restore into
    #[arg(long, value_name = "REGION", default_value = "recreated",
          add = clap_complete::engine::ArgValueCandidates::new(crate::complete::regions))]
    pub to: String,
    /// Snapshot name [default: failback-<UTC timestamp>]
    #[arg(long = "snapshot", value_name = "NAME", add = clap_complete::engine::ArgValueCandidates::new(crate::complete::snapshot_names))]
    pub snapshot: Option<String>,
    /// I have paused exporting ({named:PauseExporting}): needed only where the brokers' pause state cannot be read
    #[arg(long)]
    pub exporting_paused: bool,
    /// Pause exporting first ({named:PauseExporting}) through --region's gateway, then copy
    #[arg(long)]
    pub pause_exporting: bool,
    /// Feature states to restore with the global state, comma-separated (`none`: keep the
    /// target's system indices) [default: none when Elasticsearch security is on, else all]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub feature_states: Vec<String>,
    /// Delete the target's existing Camunda indices first (asks for confirmation)
    #[arg(long)]
    pub delete_existing_indices: bool,
    /// The source's Elasticsearch URL (instead of exec)
    #[arg(long, value_name = "URL")]
    pub from_es_url: Option<String>,
    /// The target's Elasticsearch URL (instead of exec)
    #[arg(long, value_name = "URL")]
    pub to_es_url: Option<String>,
    /// No pre-copy: with --pause-exporting, do not take a full snapshot before the pause (by
    /// default one is taken, or a finished one reused, so that the pause holds only the
    /// incremental snapshot and the restore)
    #[arg(long, help_heading = "Speed")]
    pub no_pre_copy: bool,
    /// Leave the target's recovery limits as they are (by default indices.recovery.max_bytes_per_sec,
    /// node_initial_primaries_recoveries and node_concurrent_recoveries are raised for the
    /// restore and put back afterwards, also on failure and signals)
    #[arg(long, help_heading = "Speed")]
    pub no_tuning: bool,
    /// The source repository's max_snapshot_bytes_per_sec for the snapshots, e.g. 200mb (put
    /// back afterwards; the source is otherwise left alone)
    #[arg(long, value_name = "RATE", help_heading = "Speed")]
    pub snapshot_rate: Option<String>,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub access: AccessFlags,
}

pub async fn run(session: &Session, command: EsCommand) -> Result<()> {
    let s = session;
    match command {
        EsCommand::Repo(r) => repo(s, *r).await,
        EsCommand::Snapshot(c) => snapshot(s, *c).await,
        EsCommand::Copy(c) => {
            let args = CopyArgs {
                from: region(&c.from, "--from")?,
                to: region(&c.to, "--to")?,
                snapshot: c.snapshot.clone(),
                delete_existing: c.delete_existing_indices,
                exporting_paused: c.exporting_paused,
                from_es_url: c.from_es_url.clone(),
                to_es_url: c.to_es_url.clone(),
                feature_states: Some(c.feature_states.clone()).filter(|f| !f.is_empty()),
                pause_exporting: c.pause_exporting,
                pre_copy: !c.no_pre_copy,
                tuning: !c.no_tuning,
                snapshot_rate: c.snapshot_rate.clone(),
                rerun: None,
            };
            let out = cmd::copy(s, &c.access.access(), &c.repo.flags(false), &args).await?;
            crate::show_step(s, out).await
        }
        EsCommand::Status { access } => crate::show(s, &cmd::status(s, &access.access()).await?),
    }
}

async fn repo(s: &Session, command: Repo) -> Result<()> {
    match command {
        Repo::Register {
            repo,
            readonly,
            access,
        } => crate::show(
            s,
            &cmd::repo_register(s, &access.access(), &repo.flags(readonly)).await?,
        ),
        Repo::Show { access } => crate::show(s, &cmd::repo_show(s, &access.access()).await?),
    }
}

async fn snapshot(s: &Session, command: Snapshot) -> Result<()> {
    match command {
        Snapshot::Create { name, access } => crate::show(
            s,
            &cmd::snapshot_create(s, &access.access(), name.as_deref()).await?,
        ),
        Snapshot::List { access } => {
            crate::show(s, &cmd::snapshot_list(s, &access.access()).await?)
        }
        Snapshot::Show { name, access } => {
            crate::show(s, &cmd::snapshot_show(s, &access.access(), &name).await?)
        }
        Snapshot::Restore {
            name,
            delete_existing_indices,
            feature_states,
            access,
        } => crate::show(
            s,
            &cmd::snapshot_restore(
                s,
                &access.access(),
                &name,
                delete_existing_indices,
                Some(feature_states.as_slice()).filter(|f| !f.is_empty()),
            )
            .await?,
        ),
    }
}

fn region(raw: &str, flag: &str) -> Result<RegionRef> {
    raw.parse()
        .map_err(|e| c8dr_common::error::Error::usage(format!("{flag} {raw}: {e}")))
}
