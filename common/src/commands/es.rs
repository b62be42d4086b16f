//! Elasticsearch commands (failback step 4): `es repo register|show`, `es snapshot
//! create|list|show|restore`, `es copy`, `es status`.
//!
//! Access (SPEC 3.5): by default curl runs in a Running Elasticsearch pod of the session's
//! region (`app.kubernetes.io/name=elasticsearch`, container `elasticsearch`) through the exec
//! subresource, with credentials and body on stdin (`curl -K -`); `--es-url` reaches
//! Elasticsearch directly instead. Credentials come from `--es-user`/`--es-password-env`, else
//! the bitnami Secret `<release>-elasticsearch` (`elasticsearch-password`), else ECK's
//! `elasticsearch-es-elastic-user` (`elastic`); they never appear in argv or output.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Ending, Outcome};
use crate::config::locate;
use crate::error::{Error, Result};
use crate::es::{
    self, BoxFuture, CopyOutcome, CopySpec, CurlTransport, EsCredentials, EsOptions, EsTransport,
    ExecOutput, HttpTransport, Phase, PodExec, RepoReport, RepoSpec, RestoreOutcome, SnapshotInfo,
    SnapshotList,
};
use crate::kube::RegionClient;
use crate::output::{Render, table};
use crate::region::RegionRef;
use crate::session::{Session, Settings};

/// Per-request bound of one curl/HTTP call (waits poll with many short requests).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach and authenticate to Elasticsearch, and which repository to use.
#[derive(Debug, Clone)]
pub struct EsAccess {
    /// The snapshot repository (`camunda_backup`).
    pub repository: String,
    /// `--es-user` (default `elastic` when a password is given).
    pub user: Option<String>,
    /// `--es-password-env VAR`: the environment variable holding the password.
    pub password_env: Option<String>,
}

impl Default for EsAccess {
    fn default() -> Self {
        Self {
            repository: "camunda_backup".into(),
            user: None,
            password_env: None,
        }
    }
}

impl EsAccess {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.repository.is_empty()
            || !self
                .repository
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            || self.repository.starts_with(['_', '-', '.'])
        {
            return Err(Error::usage(format!(
                "--repo {:?}: expected letters, digits, '_', '-' or '.' (e.g. camunda_backup)",
                self.repository
            )));
        }
        if self.user.is_some() && self.password_env.is_none() {
            return Err(Error::usage(
                "--es-user needs --es-password-env VAR (the password is never taken from argv)",
            ));
        }
        Ok(())
    }
}

/// `PodExec` over the kube layer: the best Running Elasticsearch pod, re-picked after a cut
/// stream (the pod may have vanished).
struct KubePodExec {
    kube: RegionClient,
    pod: tokio::sync::Mutex<Option<String>>,
}

impl KubePodExec {
    async fn pod(&self) -> Result<String> {
        let mut pod = self.pod.lock().await;
        if let Some(p) = pod.as_ref() {
            return Ok(p.clone());
        }
        let picked = self
            .kube
            .pick_pod(crate::chart::ES_SELECTOR, crate::chart::ES_CONTAINER)
            .await
            .map_err(|e| match e {
                Error::Failed(m) => Error::failed(format!(
                    "{m}: is Camunda with its Elasticsearch installed there (failback step 1)? \
                     Or pass --es-url"
                )),
                other => other,
            })?;
        *pod = Some(picked.clone());
        Ok(picked)
    }

    async fn forget(&self, name: &str) {
        let mut pod = self.pod.lock().await;
        if pod.as_deref() == Some(name) {
            *pod = None;
        }
    }
}

impl PodExec for KubePodExec {
    fn exec<'a>(
        &'a self,
        argv: Vec<String>,
        stdin: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<ExecOutput>> {
        Box::pin(async move {
            let pod = self.pod().await?;
            let stdin = if stdin.is_empty() { None } else { Some(stdin) };
            match self
                .kube
                .exec(&pod, crate::chart::ES_CONTAINER, argv, stdin, timeout)
                .await
            {
                Ok(out) => Ok(ExecOutput {
                    stdout: out.stdout,
                    stderr: out.stderr,
                    exit_code: out.exit_code,
                }),
                Err(e) => {
                    // A cut stream or a vanished pod: pick again on the retry.
                    self.forget(&pod).await;
                    Err(e)
                }
            }
        })
    }

    fn describe(&self) -> String {
        let pod = self
            .pod
            .try_lock()
            .ok()
            .and_then(|p| p.clone())
            .unwrap_or_else(|| crate::chart::ES_SELECTOR.to_string());
        format!("pod {pod} ({})", self.kube.location())
    }
}

/// The credentials to use: flags, else the bitnami Secret, else ECK's, else none.
async fn credentials(
    session: &Session,
    access: &EsAccess,
    kube: Option<&RegionClient>,
) -> Result<Option<EsCredentials>> {
    if let Some(var) = &access.password_env {
        let password = session.settings.env.get(var).ok_or_else(|| {
            Error::usage(format!(
                "--es-password-env {var}: the environment variable {var} is not set"
            ))
        })?;
        let user = access.user.clone().unwrap_or_else(|| "elastic".into());
        return Ok(Some(EsCredentials::new(user, password)));
    }
    let Some(kube) = kube else {
        return Ok(None);
    };
    for (secret, key) in crate::chart::es_password_secrets(&session.settings.release) {
        let value = kube
            .get_secret_value(&secret, key)
            .await
            .map_err(|e| match e {
                Error::Unreachable { .. } => e,
                other => Error::failed(format!(
                    "{other} (reading the Elasticsearch password; without access to Secrets pass \
                     --es-password-env VAR)"
                )),
            })?;
        if let Some(password) = value {
            tracing::debug!(secret, "Elasticsearch password from the Secret");
            return Ok(Some(EsCredentials::elastic(password)));
        }
    }
    Ok(None)
}

/// Whether the pod's Elasticsearch serves https (bitnami: `ELASTICSEARCH_ENABLE_REST_TLS=true`;
/// ECK: `READINESS_PROBE_PROTOCOL=https`), read from the container's environment (`env`, an
/// argv without user input). A cut stream is retried; an answer without either variable (or a
/// container without `env`) means http.
async fn pod_serves_https(exec: &KubePodExec) -> Result<bool> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match exec
            .exec(vec!["env".into()], vec![], Duration::from_secs(10))
            .await
        {
            Ok(out) if out.exit_code == 0 => {
                return Ok(String::from_utf8_lossy(&out.stdout).lines().any(|l| {
                    matches!(
                        l.trim(),
                        "ELASTICSEARCH_ENABLE_REST_TLS=true"
                            | "ELASTICSEARCH_ENABLE_REST_TLS=yes"
                            | "READINESS_PROBE_PROTOCOL=https"
                    )
                }));
            }
            Ok(_) => return Ok(false),
            Err(e) if e.is_transient() && attempt < 4 => {
                tracing::debug!("reading the Elasticsearch container's environment: {e}");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A way to one cluster's Elasticsearch.
#[derive(Clone)]
pub struct EsConn {
    pub transport: Arc<dyn EsTransport>,
    /// Credentials are sent (Elasticsearch security is on).
    pub secured: bool,
}

impl EsConn {
    fn t(&self) -> &dyn EsTransport {
        self.transport.as_ref()
    }
}

/// The transport of a session: `--es-url` directly, else curl through exec in the ES pod.
pub async fn transport(session: &Session, access: &EsAccess) -> Result<EsConn> {
    access.validate()?;
    if let Some(url) = &session.settings.es_url {
        // The Secret is read when the cluster is at hand; a direct URL may have no cluster.
        let creds = if access.password_env.is_some() {
            credentials(session, access, None).await?
        } else {
            match session.kube().await {
                Ok(k) => credentials(session, access, Some(k))
                    .await
                    .unwrap_or_else(|e| {
                        tracing::debug!("no Elasticsearch credentials from the cluster: {e}");
                        None
                    }),
                Err(_) => None,
            }
        };
        return direct(url.as_str(), creds);
    }
    let kube = session.kube().await?.clone();
    let creds = credentials(session, access, Some(&kube)).await?;
    let exec = KubePodExec {
        kube,
        pod: tokio::sync::Mutex::new(None),
    };
    let https = pod_serves_https(&exec).await?;
    let secured = creds.is_some();
    let mut curl = CurlTransport::new(Arc::new(exec), creds, REQUEST_TIMEOUT);
    if https {
        curl = curl.with_url("https://localhost:9200", true);
    }
    Ok(EsConn {
        transport: Arc::new(curl),
        secured,
    })
}

fn direct(url: &str, creds: Option<EsCredentials>) -> Result<EsConn> {
    let secured = creds.is_some();
    Ok(EsConn {
        transport: Arc::new(HttpTransport::new(url, creds, REQUEST_TIMEOUT)?),
        secured,
    })
}

/// The `feature_states` of a restore: `--feature-states` when given; else `none` when the
/// target is secured (restoring the snapshot's security feature state would replace the
/// target's users and passwords), else Elasticsearch's default (all of the snapshot's).
/// OpenSearch has no feature states and rejects the key (400 "Unknown parameter
/// feature_states"): nothing is sent there, and a `--feature-states` flag is ignored with a note.
pub fn feature_states(
    flag: Option<&[String]>,
    target: &EsConn,
    session: &Session,
    dist: &es::Distribution,
) -> Option<Vec<String>> {
    if !dist.has_feature_states() {
        if flag.is_some_and(|f| !f.is_empty()) {
            session.ui.warn(format!(
                "--feature-states ignored: the target runs {}, which has no feature states",
                dist.describe()
            ));
        }
        return None;
    }
    match flag {
        Some(list) if !list.is_empty() => Some(list.to_vec()),
        _ if target.secured => {
            session.ui.note(
                "Elasticsearch security is on: restoring with feature_states [\"none\"] so that the \
                 target keeps its own users (override with --feature-states)",
            );
            Some(vec!["none".into()])
        }
        _ => None,
    }
}

/// The core options: the repository, waits bounded by `--timeout`.
pub fn options(session: &Session, access: &EsAccess) -> EsOptions {
    EsOptions {
        repository: access.repository.clone(),
        wait_timeout: session.settings.timeout,
        ..EsOptions::default()
    }
}

/// Progress bars for the snapshot and restore waits (shown only on a TTY).
struct Bars<'a> {
    session: &'a Session,
    current: Mutex<Option<(Phase, crate::ui::Progress)>>,
}

impl<'a> Bars<'a> {
    fn new(session: &'a Session) -> Self {
        Self {
            session,
            current: Mutex::new(None),
        }
    }

    fn update(&self, phase: Phase, p: es::Progress) {
        let Ok(mut cur) = self.current.lock() else {
            return;
        };
        if cur.as_ref().map(|(ph, _)| *ph) != Some(phase) {
            if let Some((_, old)) = cur.take() {
                old.finish();
            }
            let label = match phase {
                Phase::Snapshot => "snapshot: shards",
                Phase::Restore => "restore: shard copies",
            };
            *cur = Some((phase, self.session.ui.progress(label, p.total)));
        }
        if let Some((_, bar)) = cur.as_ref() {
            bar.update(p.done, p.total);
            let label = match phase {
                Phase::Snapshot => "snapshot: shards",
                Phase::Restore => "restore: shard copies",
            };
            bar.message(format!("{label} ({:.0}% of bytes)", p.percent));
        }
    }

    fn finish(&self) {
        if let Ok(mut cur) = self.current.lock()
            && let Some((_, bar)) = cur.take()
        {
            bar.finish();
        }
    }
}

/// The repository flags of `es repo register` and `es copy`.
#[derive(Debug, Clone, Default)]
pub struct RepoFlags {
    /// `--repo-type`: `s3` (default), `fs`, `gcs` or `azure`.
    pub kind: Option<String>,
    /// `--bucket`: the S3/GCS bucket or the Azure container.
    pub bucket: Option<String>,
    /// `--location`: the shared directory of an `fs` repository.
    pub location: Option<String>,
    pub base_path: Option<String>,
    pub client: Option<String>,
    /// `KEY=VALUE` repository settings.
    pub settings: Vec<String>,
    pub readonly: bool,
}

impl RepoFlags {
    /// The registration to make. Repository settings as Elasticsearch and OpenSearch name them
    /// (ES reference "Snapshot and restore" repository types; OpenSearch "Register repository"):
    /// - `s3`: `bucket` (required; defaults to the docs' `S3_BUCKET_NAME`), `client` (c8dr
    ///   default `camunda`: the keystore client of the docs' setup), `base_path` (default
    ///   `backups`);
    /// - `gcs`: `bucket`, `client`, `base_path`;
    /// - `azure`: `container` (given with `--bucket`), `client`, `base_path`;
    /// - `fs`: `location` (`--location`, required), a directory every node of both clusters
    ///   shares and lists in `path.repo`. No bucket, client or base path.
    pub fn spec(&self, settings: &Settings) -> Result<RepoSpec> {
        let kind = self.kind.clone().unwrap_or_else(|| "s3".into());
        let mut map = Map::new();
        match kind.as_str() {
            "s3" | "gcs" | "azure" => {
                if self.location.is_some() {
                    return Err(Error::usage(format!(
                        "--location: only for --repo-type fs (a {kind} repository takes --bucket)"
                    )));
                }
                let env = if kind == "s3" {
                    settings.env.get("S3_BUCKET_NAME").map(String::from)
                } else {
                    None
                };
                let what = if kind == "azure" {
                    "container"
                } else {
                    "bucket"
                };
                let bucket = self
                    .bucket
                    .clone()
                    .or(env)
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "--bucket: required for a {kind} repository (the {what}{})",
                            if kind == "s3" {
                                "; or set S3_BUCKET_NAME"
                            } else {
                                ""
                            }
                        ))
                    })?;
                map.insert(what.into(), json!(bucket));
                map.insert(
                    "client".into(),
                    json!(self.client.clone().unwrap_or_else(|| "camunda".into())),
                );
                map.insert(
                    "base_path".into(),
                    json!(self.base_path.clone().unwrap_or_else(|| "backups".into())),
                );
            }
            "fs" => {
                if self.bucket.is_some() || self.client.is_some() || self.base_path.is_some() {
                    return Err(Error::usage(
                        "--bucket/--client/--base-path: not used by an fs repository (give --location PATH, \
                         a directory shared by every node of both clusters and listed in their path.repo)",
                    ));
                }
                if let Some(location) = &self.location {
                    if location.is_empty() {
                        return Err(Error::usage("--location: empty path"));
                    }
                    map.insert("location".into(), json!(location));
                }
            }
            other => {
                return Err(Error::usage(format!(
                    "--repo-type {other}: expected s3, fs, gcs or azure"
                )));
            }
        }
        for kv in &self.settings {
            let (k, v) = kv
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Error::usage(format!("--setting {kv:?}: expected KEY=VALUE")))?;
            if k == "readonly" {
                return Err(Error::usage("--setting readonly: use --readonly"));
            }
            if map.contains_key(k) && k == "location" {
                return Err(Error::usage(
                    "--setting location and --location: give the path once",
                ));
            }
            map.insert(k.into(), json!(v));
        }
        if kind == "fs" && !map.contains_key("location") {
            return Err(Error::usage(
                "--location PATH: required for an fs repository (the directory shared by both clusters)",
            ));
        }
        Ok(RepoSpec {
            kind,
            settings: map,
            readonly: self.readonly,
        })
    }
}

fn details<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Repository

/// `es repo register`: register the repository and verify it.
pub async fn repo_register(
    session: &Session,
    access: &EsAccess,
    flags: &RepoFlags,
) -> Result<Outcome> {
    const CMD: &str = "es repo register";
    access.validate()?;
    let spec = flags.spec(&session.settings)?;
    let plan = spec.plan(&access.repository);
    let summary = format!(
        "register repository {} ({}{}) in the {}",
        access.repository,
        spec.kind,
        if spec.readonly { ", read-only" } else { "" },
        session.describe_region()
    );
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, summary).with_plan(plan));
    }
    let t = transport(session, access).await?;
    let opts = options(session, access);
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let report = es::repo_register(t.t(), &opts, &spec).await?;
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "repository {} registered{} and verified by {} node(s)",
            report.repository,
            if report.readonly { " read-only" } else { "" },
            report.verified_nodes.len()
        ),
    )
    .with_plan(plan)
    .with_details(details(&report)))
}

/// `es repo show`.
pub async fn repo_show(session: &Session, access: &EsAccess) -> Result<RepoView> {
    let t = transport(session, access).await?;
    Ok(RepoView(
        es::repo_show(t.t(), &options(session, access)).await?,
    ))
}

/// A repository registration, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RepoView(pub RepoReport);

impl Render for RepoView {
    fn text(&self) -> String {
        let r = &self.0;
        let mut out = format!(
            "repository {} (type {}, {})\n",
            r.repository,
            r.kind,
            if r.readonly { "read-only" } else { "writable" }
        );
        for (k, v) in &r.settings {
            let v = v
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string());
            out.push_str(&format!("  {k}: {v}\n"));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// `es snapshot create [NAME]`.
pub async fn snapshot_create(
    session: &Session,
    access: &EsAccess,
    name: Option<&str>,
) -> Result<Outcome> {
    const CMD: &str = "es snapshot create";
    access.validate()?;
    let name = es::snapshot_name(name)?;
    let plan = es::snapshot_create_calls(&access.repository, &name);
    let summary = format!(
        "snapshot {name} of the {} into repository {}",
        session.describe_region(),
        access.repository
    );
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, summary).with_plan(plan));
    }
    let t = transport(session, access).await?;
    let opts = options(session, access);
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let bars = Bars::new(session);
    let result = es::snapshot_create(t.t(), &opts, Some(&name), &|ph, p| bars.update(ph, p)).await;
    bars.finish();
    let report = result?;
    let s = &report.snapshot;
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "snapshot {} is {} ({} of {} shards, {} indices, global state included)",
            s.snapshot,
            s.state,
            s.shards.successful,
            s.shards.total,
            s.indices.len()
        ),
    )
    .with_plan(plan)
    .with_details(details(&report)))
}

/// `es snapshot list`.
pub async fn snapshot_list(session: &Session, access: &EsAccess) -> Result<SnapshotListView> {
    let t = transport(session, access).await?;
    Ok(SnapshotListView(
        es::snapshot_list(t.t(), &options(session, access)).await?,
    ))
}

/// Snapshots of a repository, rendered as a table.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SnapshotListView(pub SnapshotList);

impl Render for SnapshotListView {
    fn text(&self) -> String {
        if self.0.snapshots.is_empty() {
            return format!("no snapshots in repository {}\n", self.0.repository);
        }
        let rows = self
            .0
            .snapshots
            .iter()
            .map(|s| {
                vec![
                    s.snapshot.clone(),
                    s.state.clone(),
                    format!("{}/{}", s.shards.successful, s.shards.total),
                    s.indices.len().to_string(),
                    s.include_global_state.to_string(),
                    s.start_time.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &[
                "NAME",
                "STATE",
                "SHARDS",
                "INDICES",
                "GLOBAL-STATE",
                "STARTED",
            ],
            rows,
        )
    }
}

/// `es snapshot show NAME`.
pub async fn snapshot_show(
    session: &Session,
    access: &EsAccess,
    name: &str,
) -> Result<SnapshotView> {
    let t = transport(session, access).await?;
    Ok(SnapshotView(
        es::snapshot_show(t.t(), &options(session, access), name).await?,
    ))
}

/// One snapshot, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SnapshotView(pub SnapshotInfo);

impl Render for SnapshotView {
    fn text(&self) -> String {
        let s = &self.0;
        let mut out = format!(
            "snapshot {}: {} (shards {} ok, {} failed, {} total; global state {})\n",
            s.snapshot,
            s.state,
            s.shards.successful,
            s.shards.failed,
            s.shards.total,
            if s.include_global_state {
                "included"
            } else {
                "NOT included"
            }
        );
        if let Some(t) = &s.start_time {
            out.push_str(&format!("  started: {t}\n"));
        }
        if let Some(t) = &s.end_time {
            out.push_str(&format!("  ended:   {t}\n"));
        }
        out.push_str(&format!("  indices ({}):\n", s.indices.len()));
        for i in &s.indices {
            out.push_str(&format!("    {i}\n"));
        }
        for f in &s.failures {
            out.push_str(&format!(
                "  failed shard: {}[{}]: {}\n",
                f.index, f.shard_id, f.reason
            ));
        }
        out
    }
}

/// `--delete-existing-indices` is only for the recreated region (the surviving one holds the
/// data being copied).
fn check_delete_allowed(settings: &Settings) -> Result<()> {
    let recreated = match settings.region {
        RegionRef::Recreated => true,
        RegionRef::Index(id) => {
            locate(RegionRef::Recreated, &settings.env)
                .ok()
                .and_then(|l| l.id)
                == Some(id)
        }
        RegionRef::Surviving => false,
    };
    if !recreated {
        return Err(Error::refused(format!(
            "--delete-existing-indices deletes Camunda indices: it is only allowed in the recreated region \
             (pass --region recreated), not in the {} region",
            settings.region
        )));
    }
    Ok(())
}

/// Why a restored cluster stays yellow: replicas its data nodes cannot hold.
fn unassigned_note(report: &es::RestoreReport) -> String {
    if report.unassigned_replicas == 0 {
        return String::new();
    }
    format!(
        " ({} replica copies cannot be allocated on {} data node(s): Elasticsearch never puts a \
         replica on its primary's node)",
        report.unassigned_replicas, report.data_nodes
    )
}

/// `es snapshot restore NAME`.
pub async fn snapshot_restore(
    session: &Session,
    access: &EsAccess,
    name: &str,
    delete_existing: bool,
    feature_states_flag: Option<&[String]>,
) -> Result<Outcome> {
    const CMD: &str = "es snapshot restore";
    access.validate()?;
    es::snapshot_name(Some(name))?;
    if delete_existing {
        check_delete_allowed(&session.settings)?;
    }
    let t = transport(session, access).await?;
    let mut opts = options(session, access);
    let dist = es::detect(t.t(), &opts).await?;
    opts.restore_feature_states = feature_states(feature_states_flag, &t, session, &dist);
    let preview = es::snapshot_restore_preview(t.t(), &opts, name, delete_existing).await?;
    if preview.already_restored && session.settings.dry_run {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "snapshot {name} is already restored in the {}",
                session.describe_region()
            ),
        ));
    }
    let summary = format!(
        "restore snapshot {name} ({} indices) into the {}{}",
        preview.restore_indices.len(),
        session.describe_region(),
        if preview.delete_indices.is_empty() {
            String::new()
        } else {
            format!(
                ", DELETING its {} existing Camunda indices first",
                preview.delete_indices.len()
            )
        }
    );
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, summary)
            .with_plan(preview.calls)
            .with_details(json!({"deleteIndices": preview.delete_indices})));
    }
    if !preview.already_restored {
        session
            .ui
            .confirm(&format!("Plan: {summary}"), &preview.calls)?;
    }
    let bars = Bars::new(session);
    let result = es::snapshot_restore(t.t(), &opts, name, delete_existing, &|ph, p| {
        bars.update(ph, p)
    })
    .await;
    bars.finish();
    let report = result?;
    let (status, summary) = match report.outcome {
        RestoreOutcome::AlreadyRestored => (
            Ending::AlreadyDone,
            format!(
                "snapshot {name} is already restored ({} indices, {} shard copies, health {}{})",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(&report)
            ),
        ),
        RestoreOutcome::Restored => (
            Ending::Done,
            format!(
                "snapshot {name} restored: {} indices, {} shard copies, cluster health {}{}{}",
                report.restored_indices.len(),
                report.shard_copies,
                report.health,
                unassigned_note(&report),
                if report.deleted_indices.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} existing Camunda indices deleted first)",
                        report.deleted_indices.len()
                    )
                }
            ),
        ),
    };
    Ok(Outcome::new(CMD, status, summary)
        .with_plan(preview.calls)
        .with_details(details(&report)))
}

// ---------------------------------------------------------------------------------------------
// Copy

/// What `es copy` needs besides the repository flags.
#[derive(Debug, Clone)]
pub struct CopyArgs {
    pub from: RegionRef,
    pub to: RegionRef,
    pub snapshot: Option<String>,
    pub delete_existing: bool,
    /// `--exporting-paused`: the operator states that exporting is paused (failback step 3).
    pub exporting_paused: bool,
    /// Direct URLs for each side (instead of exec).
    pub from_es_url: Option<String>,
    pub to_es_url: Option<String>,
    /// `--feature-states` of the restore (see [`feature_states`]).
    pub feature_states: Option<Vec<String>>,
    /// `--pause-exporting`: pause exporting first (failback step 3) through this session's
    /// gateway, which also establishes that it is paused.
    pub pause_exporting: bool,
}

/// `es copy --from surviving --to recreated`: the whole failback step 4.
pub async fn copy(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
) -> Result<Outcome> {
    const CMD: &str = "es copy";
    access.validate()?;
    if session.settings.es_url.is_some() {
        return Err(Error::usage(
            "--es-url: ambiguous for es copy (two clusters); use --from-es-url and --to-es-url",
        ));
    }
    if repo.readonly {
        return Err(Error::usage(
            "--readonly: es copy registers the repository writable on the source and read-only on the target itself",
        ));
    }
    if args.from == args.to {
        return Err(Error::usage(format!(
            "--from and --to are both {}: they must name different regions",
            args.from
        )));
    }
    let spec = repo.spec(&session.settings)?;
    if let Some(n) = &args.snapshot {
        es::snapshot_name(Some(n))?;
    }
    let mut from = session.settings.for_region(args.from)?;
    let mut to = session.settings.for_region(args.to)?;
    let parse = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|raw| crate::http::parse_base_url(flag, raw))
            .transpose()
    };
    if args.delete_existing {
        check_delete_allowed(&to)?;
    }
    from.es_url = parse("--from-es-url", &args.from_es_url)?;
    to.es_url = parse("--to-es-url", &args.to_es_url)?;
    if from.es_url.is_none()
        && to.es_url.is_none()
        && from.location.context == to.location.context
        && from.location.namespace == to.location.namespace
    {
        return Err(Error::usage(format!(
            "--from {} and --to {} resolve to the same kube context and namespace: set CLUSTER_SURVIVING/\
             CAMUNDA_NAMESPACE_SURVIVING and CLUSTER_RECREATED/CAMUNDA_NAMESPACE_RECREATED (or CLUSTER_0/1)",
            args.from, args.to
        )));
    }
    if args.pause_exporting && args.exporting_paused {
        return Err(Error::usage(
            "--pause-exporting and --exporting-paused: give one (pause now, or state it is paused)",
        ));
    }
    let source = Session::new(from, session.ui.clone());
    let target = Session::new(to, session.ui.clone());
    let st = transport(&source, access).await?;
    let tt = transport(&target, access).await?;
    // Both Elasticsearch clusters answer; now the pause (an unreachable region is exit 5 first).
    if !args.pause_exporting {
        // The pause state is read on the brokers (SPEC 3.3); `--exporting-paused` is the
        // operator's word for it, needed only where the brokers cannot be read.
        let view = super::exporting::observe(session).await;
        let not_paused = view.not_in("PAUSED");
        let refusal = if view.observed() && !not_paused.is_empty() {
            Some(format!(
                "exporting is not paused: {} partition replicas show otherwise ({}{}). Pause it first \
                 (failback step 3: kubectl c8dr exporting pause), else the copy misses what is exported \
                 meanwhile; or let this run pause it with --pause-exporting",
                not_paused.len(),
                not_paused
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if not_paused.len() > 3 { ", …" } else { "" }
            ))
        } else if !view.observed() && !args.exporting_paused {
            Some(format!(
                "exporting must be paused before copying Elasticsearch (failback step 3: kubectl c8dr \
                 exporting pause), else the copy misses what is exported meanwhile. The brokers' pause state \
                 could not be read ({}): state it with --exporting-paused once you have paused it, or let \
                 this run pause it with --pause-exporting",
                view.unread().join("; ")
            ))
        } else {
            None
        };
        if let Some(msg) = refusal {
            if !session.settings.dry_run {
                return Err(Error::refused(msg));
            }
            session.ui.warn(msg);
        }
    }
    let mut opts = options(session, access);
    let target_engine = es::detect(tt.t(), &opts).await?;
    opts.restore_feature_states =
        feature_states(args.feature_states.as_deref(), &tt, session, &target_engine);
    let copy_spec = CopySpec {
        repo: spec,
        snapshot: args.snapshot.clone(),
        delete_existing: args.delete_existing,
    };
    let preview = es::copy_preview(st.t(), tt.t(), &opts, &copy_spec).await?;
    let describe = format!(
        "from the {} to the {}",
        source.describe_region(),
        target.describe_region()
    );
    if preview.already_done {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the target already holds exactly the source's {} Camunda indices, restored from a snapshot",
                preview.source_indices.len()
            ),
        )
        .with_details(details(&preview)));
    }
    let summary = format!(
        "copy {} Camunda indices {describe} through snapshot {} in repository {}{}",
        preview.source_indices.len(),
        preview.snapshot,
        access.repository,
        if preview.delete_indices.is_empty() {
            String::new()
        } else {
            format!(
                ", DELETING the target's {} existing Camunda indices first",
                preview.delete_indices.len()
            )
        }
    );
    if session.settings.dry_run {
        let mut plan = preview.calls.clone();
        if args.pause_exporting {
            plan.insert(0, "gateway: POST /actuator/exporting/pause".into());
        }
        return Ok(Outcome::new(CMD, Ending::DryRun, summary)
            .with_plan(plan)
            .with_details(details(&preview)));
    }
    let mut plan = preview.calls.clone();
    if args.pause_exporting {
        plan.insert(0, "gateway: POST /actuator/exporting/pause".into());
    }
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let mut guard = None;
    if args.pause_exporting {
        // Until the copy ends (armed before the pause is sent), neither a failure nor a signal
        // may leave exporting paused.
        let g = super::pause_guard::PauseGuard::arm(
            session,
            session.management().await?,
            "kubectl c8dr es copy --pause-exporting",
            vec![
                "exporting pause".into(),
                "es copy: snapshot of the source, restore into the target".into(),
            ],
        );
        // The pause is the run's own: it prints its own plan, and --yes covers it.
        let paused = super::zeebe::exporting_pause(session, false).await?;
        session
            .ui
            .note(format!("{}: {}", paused.command, paused.summary));
        g.done("exporting pause");
        // A pause found in place is not this run's to undo.
        if paused.status == Ending::Done {
            guard = Some(g);
        }
    }
    let copy_spec = CopySpec {
        snapshot: Some(preview.snapshot.clone()),
        ..copy_spec
    };
    let bars = Bars::new(session);
    let result = es::copy(st.t(), tt.t(), &opts, &copy_spec, &|ph, p| {
        bars.update(ph, p)
    })
    .await;
    bars.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) if guard.is_some() => {
            drop(guard.take());
            let revert = match super::zeebe::exporting_resume(session).await {
                Ok(_) => "exporting (paused by this run) was resumed".to_string(),
                Err(r) => format!(
                    "resuming exporting ALSO failed ({r}): run now: {}",
                    super::pause_guard::resume_command(session)
                ),
            };
            session.ui.warn(&revert);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // The copy is done: the pause stays for failback step 5 (exporters enable), by design.
    drop(guard);
    let status = match report.outcome {
        CopyOutcome::AlreadyDone => Ending::AlreadyDone,
        CopyOutcome::Copied | CopyOutcome::Resumed => Ending::Done,
    };
    let summary = format!(
        "{} Camunda indices copied {describe} (snapshot {}); the target's Camunda indices equal the source's{}{}",
        report.indices.len(),
        preview.snapshot,
        if report.outcome == CopyOutcome::Resumed {
            " (an interrupted restore was followed to its end)"
        } else {
            ""
        },
        report
            .restore
            .as_ref()
            .map(|r| format!(
                "; {} shard copies recovered, cluster health {}{}",
                r.shard_copies,
                r.health,
                unassigned_note(r)
            ))
            .unwrap_or_default()
    );
    Ok(Outcome::new(CMD, status, summary)
        .with_plan(plan)
        .with_details(details(&report)))
}

// ---------------------------------------------------------------------------------------------
// Status

/// `es status`: health and Camunda indices.
pub async fn status(session: &Session, access: &EsAccess) -> Result<StatusView> {
    let t = transport(session, access).await?;
    Ok(StatusView(
        es::cluster_status(t.t(), &options(session, access)).await?,
    ))
}

/// One cluster's Elasticsearch state, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct StatusView(pub es::EsStatus);

impl Render for StatusView {
    fn text(&self) -> String {
        let s = &self.0;
        let mut out = format!(
            "health {}, {} indices, {} Camunda indices{}{}\n",
            s.health,
            s.indices,
            s.camunda_indices.len(),
            s.restored_from
                .as_deref()
                .map(|n| format!(", restored from snapshot {n}"))
                .unwrap_or_default(),
            if s.restoring { ", restore running" } else { "" }
        );
        if !s.camunda_indices.is_empty() {
            let rows = s
                .camunda_indices
                .iter()
                .map(|(i, d)| {
                    vec![
                        i.clone(),
                        d.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            out.push_str(&table(&["INDEX", "DOCS"], rows));
        }
        out
    }
}
