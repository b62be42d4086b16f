//! Snapshot repositories: what to register ([`RepoSpec`]), registering and verifying it, and
//! reading a registration back.

use http::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::client::{EsClient, EsOptions, Retry};
use super::model::{error_reason, error_type};
use super::transport::EsTransport;
use crate::error::{Error, Result};
use crate::session::Settings;

/// A repository registration to make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoSpec {
    /// `s3` (the references) or `fs`.
    #[serde(rename = "type")]
    pub kind: String,
    pub settings: Map<String, Value>,
    /// Register read-only (the restoring side: two writable registrations of one repository can
    /// corrupt it, and a writable one caches the repository contents).
    pub readonly: bool,
}

impl RepoSpec {
    /// The references' S3 repository: `{"bucket": B, "client": "camunda", "base_path": "backups"}`.
    pub fn s3(bucket: &str, base_path: &str, client: &str) -> Self {
        let mut settings = Map::new();
        settings.insert("bucket".into(), json!(bucket));
        settings.insert("client".into(), json!(client));
        settings.insert("base_path".into(), json!(base_path));
        Self {
            kind: "s3".into(),
            settings,
            readonly: false,
        }
    }

    /// A shared file system repository: `{"location": PATH}`. Every node of both clusters must
    /// list PATH (or a parent) in `path.repo` and see the same shared directory (ES/OpenSearch
    /// "Shared file system repository" docs: `type: fs`, setting `location`).
    pub fn fs(location: &str) -> Self {
        let mut settings = Map::new();
        settings.insert("location".into(), json!(location));
        Self {
            kind: "fs".into(),
            settings,
            readonly: false,
        }
    }

    pub fn with_readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The `PUT _snapshot/<repo>` body (`readonly` is a repository setting in ES).
    pub fn body(&self) -> Value {
        let mut settings = self.settings.clone();
        if self.readonly {
            settings.insert("readonly".into(), json!(true));
        } else {
            settings.remove("readonly");
        }
        json!({"type": self.kind, "settings": settings})
    }

    /// The calls a registration makes, for plans and `--dry-run`.
    pub fn plan(&self, repository: &str) -> Vec<String> {
        vec![
            format!("PUT _snapshot/{repository}?verify=false {}", self.body()),
            format!("POST _snapshot/{repository}/_verify"),
        ]
    }
}

/// A registered repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoReport {
    pub repository: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub settings: Map<String, Value>,
    pub readonly: bool,
    /// Nodes that verified access (empty when not verified by this call).
    pub verified_nodes: Vec<String>,
}

pub(super) fn not_registered(repo: &str, t: &dyn EsTransport) -> Error {
    Error::failed(format!(
        "repository {repo} is not registered in {}: register it first (es repo register)",
        t.describe()
    ))
}

/// A setting value as ES stores it (every repository setting is a string).
fn setting_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as c8dr shows it back: quoted, at most 60 characters.
fn shown(v: &str) -> String {
    if v.chars().count() <= 60 {
        format!("{v:?}")
    } else {
        format!("{:?}…", v.chars().take(60).collect::<String>())
    }
}

/// How `existing` differs from what `spec` would register: its type, and every setting `spec`
/// names (`readonly` aside: c8dr decides it per side). Settings only `existing` has are the
/// user's and are kept as they are.
fn differences(existing: &RepoReport, spec: &RepoSpec) -> Vec<String> {
    let mut out = vec![];
    if existing.kind != spec.kind {
        out.push(format!(
            "type is {} there, c8dr would use {}",
            shown(&existing.kind),
            shown(&spec.kind)
        ));
    }
    for (k, want) in spec
        .settings
        .iter()
        .filter(|(k, _)| k.as_str() != "readonly")
    {
        let want = setting_text(want);
        match existing.settings.get(k).map(setting_text) {
            Some(have) if have == want => {}
            Some(have) => out.push(format!(
                "{k} is {} there, c8dr would use {}",
                shown(&have),
                shown(&want)
            )),
            None => out.push(format!(
                "{k} is not set there, c8dr would use {}",
                shown(&want)
            )),
        }
    }
    out
}

/// `GET _snapshot/<repo>`: the registration, `None` when there is none.
async fn registered(c: &EsClient<'_>) -> Result<Option<RepoReport>> {
    match repo_show(c.transport, c.opts).await {
        Ok(r) => Ok(Some(r)),
        Err(Error::Failed(m)) if m.contains("is not registered") => Ok(None),
        Err(e) => Err(e),
    }
}

/// `PUT _snapshot/<repo>?verify=false` with `body` (a safe retry: the same registration twice
/// is the same registration).
async fn put_registration(c: &EsClient<'_>, body: &Value) -> Result<()> {
    let repo = &c.opts.repository;
    c.ok(
        Method::PUT,
        &format!("_snapshot/{repo}?verify=false"),
        Some(body),
        Retry::Safe,
    )
    .await
    .map(|_| ())
    .map_err(|e| {
        Error::failed(format!(
            "registering repository {repo} in {}: {e}",
            c.transport.describe()
        ))
    })
}

/// The body that registers `r` exactly as it is (its settings, `readonly` included).
fn body_of(r: &RepoReport) -> Value {
    json!({"type": r.kind, "settings": r.settings})
}

/// The refusal of a registration that differs from `spec` (see [`repo_register`]).
fn refuse_differences(
    t: &dyn EsTransport,
    repo: &str,
    existing: &RepoReport,
    spec: &RepoSpec,
) -> Result<()> {
    let diff = differences(existing, spec);
    if diff.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "repository {repo} is registered in {} with other settings: {}. c8dr never re-points a \
         registration it did not make: give the flags that match it (--repo-type, --bucket, \
         --base-path, --client, --location, --setting), or unregister it yourself \
         (DELETE _snapshot/{repo}) if nothing needs it",
        t.describe(),
        diff.join("; ")
    )))
}

/// What [`repo_register`] would refuse, with reads only (for plans and `--dry-run`).
pub async fn repo_check(t: &dyn EsTransport, opts: &EsOptions, spec: &RepoSpec) -> Result<()> {
    let c = EsClient::new(t, opts);
    match registered(&c).await? {
        Some(existing) => refuse_differences(t, &opts.repository, &existing, spec),
        None => Ok(()),
    }
}

/// Make sure the repository `opts.repository` is registered as `spec` says, then verify it
/// (`POST _snapshot/<repo>/_verify`).
///
/// c8dr never re-points a registration it did not make: when one exists (`GET
/// _snapshot/<repo>`) with another type or other values for the settings `spec` names, it is
/// refused (exit 3) with the differences named. One at the same place is used as it is (its
/// other settings, such as `compress`, are the user's and stay); only `readonly` is changed
/// when it differs (writable where c8dr snapshots, read-only where it restores), by
/// registering the same settings with it.
pub async fn repo_register(
    t: &dyn EsTransport,
    opts: &EsOptions,
    spec: &RepoSpec,
) -> Result<RepoReport> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let settings = match registered(&c).await? {
        None => {
            put_registration(&c, &spec.body()).await?;
            spec.settings.clone()
        }
        Some(existing) => {
            refuse_differences(t, repo, &existing, spec)?;
            if existing.readonly != spec.readonly {
                let mut changed = existing.clone();
                if spec.readonly {
                    changed.settings.insert("readonly".into(), json!("true"));
                } else {
                    changed.settings.remove("readonly");
                }
                put_registration(&c, &body_of(&changed)).await?;
                changed.settings
            } else {
                existing.settings
            }
        }
    };
    let verified_nodes = verify(t, opts, Some(&spec.kind)).await?;
    let mut settings = settings;
    settings.remove("readonly");
    Ok(RepoReport {
        repository: repo.clone(),
        kind: spec.kind.clone(),
        settings,
        readonly: spec.readonly,
        verified_nodes,
    })
}

/// Set `key` to `value` on the registration as it is (a rate limit: ES lets
/// `max_snapshot_bytes_per_sec` change even while the repository is in use,
/// `BlobStoreRepository.canUpdateInPlace`); returns the registration before, for
/// [`repo_put_back`].
pub async fn repo_set_setting(
    t: &dyn EsTransport,
    opts: &EsOptions,
    key: &str,
    value: &str,
) -> Result<RepoReport> {
    let c = EsClient::new(t, opts);
    let before = registered(&c)
        .await?
        .ok_or_else(|| not_registered(&opts.repository, t))?;
    let mut with = before.clone();
    with.settings.insert(key.into(), json!(value));
    put_registration(&c, &body_of(&with)).await?;
    Ok(before)
}

/// Register `before` again exactly as it was (after [`repo_set_setting`]).
pub async fn repo_put_back(
    t: &dyn EsTransport,
    opts: &EsOptions,
    before: &RepoReport,
) -> Result<()> {
    put_registration(&EsClient::new(t, opts), &body_of(before)).await
}

/// `POST _snapshot/<repo>/_verify`: the names of the nodes that can access the repository.
pub async fn repo_verify(t: &dyn EsTransport, opts: &EsOptions) -> Result<Vec<String>> {
    verify(t, opts, None).await
}

/// What a repository of `kind` needs on every node, for a failed verification.
fn verify_hint(kind: Option<&str>) -> &'static str {
    match kind {
        Some("fs") => {
            "Every node needs the location inside its path.repo setting, on a directory shared \
             by all nodes of both clusters and writable by the search engine's user"
        }
        Some("gcs") => {
            "Every node needs the GCS client credentials in its keystore \
             (gcs.client.<client>.credentials_file) and access to the bucket"
        }
        Some("azure") => {
            "Every node needs the Azure client account and key or SAS token in its keystore \
             (azure.client.<client>.account, .key or .sas_token) and access to the container"
        }
        _ => {
            "Every node needs the S3 client credentials in its keystore \
             (s3.client.<client>.access_key and secret_key) and access to the bucket"
        }
    }
}

async fn verify(t: &dyn EsTransport, opts: &EsOptions, kind: Option<&str>) -> Result<Vec<String>> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let (status, body) = c
        .send(
            Method::POST,
            &format!("_snapshot/{repo}/_verify"),
            None,
            Retry::Safe,
        )
        .await?;
    if status == 404 && error_type(&body) == Some("repository_missing_exception") {
        return Err(not_registered(repo, t));
    }
    if !(200..300).contains(&status) {
        // Name what the repository's type needs; ask ES for the type when the caller did not say.
        let registered = match kind {
            Some(_) => None,
            None => c
                .get(&format!("_snapshot/{repo}"))
                .await
                .ok()
                .and_then(|v| {
                    v.pointer(&format!("/{repo}/type"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }),
        };
        let kind = kind.or(registered.as_deref());
        return Err(Error::failed(format!(
            "repository {repo} failed verification in {}: {}. {}",
            t.describe(),
            error_reason(&body),
            verify_hint(kind)
        )));
    }
    let nodes = body
        .get("nodes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(id, n)| {
                    n.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or(id)
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(nodes)
}

/// The registration of `opts.repository` (`GET _snapshot/<repo>`).
pub async fn repo_show(t: &dyn EsTransport, opts: &EsOptions) -> Result<RepoReport> {
    let c = EsClient::new(t, opts);
    let repo = &opts.repository;
    let (status, body) = c
        .send(Method::GET, &format!("_snapshot/{repo}"), None, Retry::Safe)
        .await?;
    if status == 404 {
        return Err(not_registered(repo, t));
    }
    if !(200..300).contains(&status) {
        return Err(c.api(status, &body));
    }
    let entry = body.get(repo.as_str()).cloned().unwrap_or(Value::Null);
    let settings = entry
        .get("settings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let readonly = matches!(settings.get("readonly"), Some(Value::Bool(true)))
        || settings.get("readonly").and_then(Value::as_str) == Some("true");
    Ok(RepoReport {
        repository: repo.clone(),
        kind: entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        settings,
        readonly,
        verified_nodes: vec![],
    })
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
    ///
    /// Every setting is checked before any call (docs/contract.md §4 rule 8).
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
                let source = if self.bucket.is_some() {
                    "--bucket"
                } else {
                    "S3_BUCKET_NAME"
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
                check_bucket(&kind, source, &bucket)?;
                map.insert(what.into(), json!(bucket));
                let client = self.client.clone().unwrap_or_else(|| "camunda".into());
                if client.is_empty()
                    || !client
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                {
                    return Err(Error::usage(format!(
                        "--client {client:?}: not a repository client name (letters, digits, '_', '-')"
                    )));
                }
                map.insert("client".into(), json!(client));
                let base_path = self.base_path.clone().unwrap_or_else(|| "backups".into());
                no_control("--base-path", &base_path)?;
                map.insert("base_path".into(), json!(base_path));
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
                    no_control("--location", location)?;
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

/// A bucket (S3, GCS) or container (Azure) name as the object store accepts it, checked before
/// any call: S3 "Bucket naming rules" (3-63 characters, lowercase letters, digits, '.' and '-',
/// a letter or digit at both ends, no '..'); GCS also allows '_'; Azure containers have no '.'.
fn check_bucket(kind: &str, source: &str, bucket: &str) -> Result<()> {
    let extra = |c: char| match kind {
        "gcs" => matches!(c, '.' | '-' | '_'),
        "azure" => c == '-',
        _ => matches!(c, '.' | '-'),
    };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (3..=63).contains(&bucket.len())
        && bucket.chars().all(|c| alnum(c) || extra(c))
        && bucket.starts_with(alnum)
        && bucket.ends_with(alnum)
        && !bucket.contains("..");
    if ok {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{source} {bucket:?}: not a valid {kind} bucket name (3-63 lowercase letters, digits, '.' \
         or '-', starting and ending with a letter or digit)"
    )))
}

/// A path setting without control characters (a newline is never part of one).
fn no_control(flag: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "{flag} {value:?}: holds a control character"
        )));
    }
    Ok(())
}
