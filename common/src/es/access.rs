//! How a region's Elasticsearch is reached (docs/api-behaviour.md §5): by default curl runs in a Running
//! Elasticsearch pod of the session's region ([`chart::ES_SELECTOR`], container
//! [`chart::ES_CONTAINER`]) through the exec subresource, with credentials and body on stdin
//! (`curl -K -`); `--es-url` reaches Elasticsearch directly instead. Credentials come from
//! `--es-user`/`--es-password-env`, else the chart's Secrets ([`chart::es_password_secrets`]);
//! they never appear in argv or output. Whether the pod serves https is read from its
//! container's environment.

use std::sync::Arc;
use std::time::Duration;

use super::client::EsOptions;
use super::exec::{CurlTransport, ExecOutput, PodExec};
use super::transport::{BoxFuture, EsCredentials, EsTransport, HttpTransport};
use crate::chart;
use crate::error::{Error, Result};
use crate::kube::RegionClient;
use crate::session::Session;
use crate::wait::{self, Backoff};

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
            repository: crate::chart::REPOSITORY.into(),
            user: None,
            password_env: None,
        }
    }
}

impl EsAccess {
    /// The options of the operations: this repository, waits bounded by `--timeout`.
    pub fn options(&self, session: &Session) -> EsOptions {
        EsOptions {
            repository: self.repository.clone(),
            wait_timeout: session.settings.timeout,
            ..EsOptions::default()
        }
    }

    /// The password `--es-password-env` names: the variable must be a valid name and set
    /// (`None` without the flag).
    fn password<'e>(&self, env: &'e crate::config::Env) -> Result<Option<&'e str>> {
        let Some(var) = &self.password_env else {
            return Ok(None);
        };
        let valid = !var.is_empty()
            && !var.starts_with(|c: char| c.is_ascii_digit())
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::usage(format!(
                "--es-password-env {var:?}: not an environment variable name"
            )));
        }
        env.get_checked(var)?.map(Some).ok_or_else(|| {
            Error::usage(format!(
                "--es-password-env {var}: the environment variable {var} is not set"
            ))
        })
    }

    /// Bad input before any call: the repository name, `--es-user` without a password variable,
    /// and `--es-password-env` naming a variable that is not a valid name or not set.
    pub(crate) fn validate(&self, env: &crate::config::Env) -> Result<()> {
        self.password(env)?;
        if self.repository.is_empty()
            || !self
                .repository
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            || self.repository.starts_with(['_', '-', '.'])
        {
            return Err(Error::usage(format!(
                "--repo {:?}: expected letters, digits, '_', '-' or '.' (e.g. {})",
                self.repository,
                crate::chart::REPOSITORY
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
            .pick_pod(chart::ES_SELECTOR, chart::ES_CONTAINER)
            .await
            .map_err(|e| match e {
                Error::Failed(m) => Error::failed(format!(
                    "{m}: is Camunda with its Elasticsearch installed there ({})? Or pass --es-url",
                    crate::procedure::Action::InstallRecreated.step().named()
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
                .exec(&pod, chart::ES_CONTAINER, argv, stdin, timeout)
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
            .unwrap_or_else(|| chart::ES_SELECTOR.to_string());
        format!("pod {pod} ({})", self.kube.location())
    }
}

/// The credentials to use: flags, else the bitnami Secret, else ECK's, else none.
async fn credentials(
    session: &Session,
    access: &EsAccess,
    kube: Option<&RegionClient>,
) -> Result<Option<EsCredentials>> {
    if let Some(password) = access.password(&session.settings.env)? {
        let user = access.user.clone().unwrap_or_else(|| "elastic".into());
        return Ok(Some(EsCredentials::new(user, password)));
    }
    let Some(kube) = kube else {
        return Ok(None);
    };
    for (secret, key) in chart::es_password_secrets(&session.settings.release) {
        let value = kube
            .get_secret_value(&secret, key)
            .await
            .map_err(|e| match e {
                Error::Unreachable { .. } | Error::Timeout { .. } => e,
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
/// Whether the pod's Elasticsearch serves https (bitnami: `ELASTICSEARCH_ENABLE_REST_TLS=true`;
/// ECK: `READINESS_PROBE_PROTOCOL=https`), read from the container's environment (`env`, an
/// argv without user input). A cut stream is retried; an answer without either variable (or a
/// container without `env`) means http.
async fn pod_serves_https(exec: &KubePodExec) -> Result<bool> {
    let backoff = Backoff::new(4, Duration::from_millis(100), Duration::from_millis(400));
    let out = wait::retry(
        "reading the Elasticsearch container's environment",
        backoff,
        |_| exec.exec(vec!["env".into()], vec![], Duration::from_secs(10)),
    )
    .await?;
    if out.exit_code != 0 {
        return Ok(false);
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().any(|l| {
        matches!(
            l.trim(),
            "ELASTICSEARCH_ENABLE_REST_TLS=true"
                | "ELASTICSEARCH_ENABLE_REST_TLS=yes"
                | "READINESS_PROBE_PROTOCOL=https"
        )
    }))
}

/// A way to one cluster's Elasticsearch.
#[derive(Clone)]
pub struct EsConn {
    pub transport: Arc<dyn EsTransport>,
    /// Credentials are sent (Elasticsearch security is on).
    pub secured: bool,
}

impl EsConn {
    pub(crate) fn t(&self) -> &dyn EsTransport {
        self.transport.as_ref()
    }
}

/// The transport of a session: `--es-url` directly, else curl through exec in the ES pod.
pub async fn connect(session: &Session, access: &EsAccess) -> Result<EsConn> {
    access.validate(&session.settings.env)?;
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
