//! How a region's Elasticsearch is reached (docs/api-behaviour.md §5): by default curl runs in a Running
//! Elasticsearch pod of the session's region through the exec subresource, with credentials and
//! body on stdin (`curl -K -`); `--es-url` reaches Elasticsearch directly instead. The pod is the
//! chart's Bitnami subchart's when there is one ([`chart::ES_SELECTOR`], the 8.8 reference), else
//! ECK's ([`chart::ECK_SELECTOR`], the 8.9/8.10 reference), container [`chart::ES_CONTAINER`]
//! either way. Credentials come from `--es-user`/`--es-password-env`, else the Secrets
//! ([`chart::es_password_secrets`], ECK's `<cluster>-es-elastic-user` of the cluster found
//! first); they never appear in argv or output. Whether the pod serves https is read from its
//! container's environment.

use std::sync::Arc;
use std::time::Duration;

use super::client::EsOptions;
use super::exec::{CurlTransport, ExecOutput, PodExec};
use super::transport::{BoxFuture, EsCredentials, EsTransport, HttpTransport};
use crate::chart;
use crate::error::{Error, Result};
use crate::kube::RegionClient;
use crate::region::RegionId;
use crate::session::Session;
use crate::wait::{self, Backoff};
use k8s_openapi::api::core::v1::Pod;

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

/// How a region's Elasticsearch pods are deployed, as far as reaching them goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsPods {
    /// The chart's Bitnami subchart ([`chart::ES_SELECTOR`]).
    Subchart,
    /// ECK's cluster `cluster` ([`chart::ECK_SELECTOR`] and [`chart::ECK_CLUSTER_LABEL`]).
    Eck { cluster: String },
}

impl EsPods {
    /// The label selector of the pods to run curl in.
    pub fn selector(&self) -> String {
        match self {
            Self::Subchart => chart::ES_SELECTOR.to_string(),
            Self::Eck { cluster } => format!(
                "{},{}={cluster}",
                chart::ECK_SELECTOR,
                chart::ECK_CLUSTER_LABEL
            ),
        }
    }

    /// Where the `elastic` password is looked for, in order: ECK's Secret of this cluster first
    /// when the pods are ECK's, then the chart's list ([`chart::es_password_secrets`]).
    pub fn password_secrets(this: Option<&Self>, release: &str) -> Vec<(String, &'static str)> {
        let mut out = vec![];
        if let Some(Self::Eck { cluster }) = this {
            out.push((
                chart::eck_elastic_user_secret(cluster),
                chart::ECK_ELASTIC_USER_KEY,
            ));
        }
        for s in chart::es_password_secrets(release) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// Which pods the region's Elasticsearch runs in: the subchart's when one of its pods (with the
/// Elasticsearch container, without ECK's cluster label) is there, else ECK's cluster; `Ok(None)`
/// when neither (the pick then fails naming the subchart's selector, as before). Two ECK
/// clusters are never picked from silently: the one the installation's exporter URL names
/// ([`exporter_hosts`]: `<cluster>-es-http`, or any `<cluster>-es-` Service) wins, else
/// `Err(clusters)`, for the caller to refuse or show.
pub fn es_pods_of(
    subchart: &[Pod],
    eck: &[Pod],
    exporter_hosts: &[String],
) -> std::result::Result<Option<EsPods>, Vec<String>> {
    let has_container = |p: &&Pod| crate::kube::pods::has_container(p, chart::ES_CONTAINER);
    if subchart
        .iter()
        .filter(has_container)
        .any(|p| label(p, chart::ECK_CLUSTER_LABEL).is_none())
    {
        return Ok(Some(EsPods::Subchart));
    }
    let clusters: std::collections::BTreeSet<&str> = eck
        .iter()
        .filter(has_container)
        .filter_map(|p| label(p, chart::ECK_CLUSTER_LABEL))
        .collect();
    let eck = |c: &str| {
        Some(EsPods::Eck {
            cluster: c.to_string(),
        })
    };
    if clusters.len() <= 1 {
        return Ok(clusters.first().and_then(|c| eck(c)));
    }
    let named: std::collections::BTreeSet<&str> = clusters
        .iter()
        .copied()
        .filter(|c| {
            let service = format!("{c}-es-");
            exporter_hosts.iter().any(|h| h.starts_with(&service))
        })
        .collect();
    match named.len() {
        1 => Ok(named.first().and_then(|c| eck(c))),
        _ => Err(clusters.into_iter().map(String::from).collect()),
    }
}

/// The refusal of two ECK clusters with none named by the exporter URL (exit 3).
pub fn two_clusters(clusters: &[String]) -> Error {
    Error::refused(format!(
        "{} ECK clusters ({}) in the namespace and the exporter URL names none of them: c8dr does \
         not pick one; pass --es-url with the one Camunda exports to",
        if clusters.len() == 2 {
            "two".to_string()
        } else {
            clusters.len().to_string()
        },
        clusters.join(", ")
    ))
}

/// The Services (first host label) the installation's exporters are configured for, from the
/// orchestration pods' `…CAMUNDAREGION<N>_ARGS_CONNECT_URL` (any release's prefix): region `N`'s
/// own when the region id is known, else every URL whose host is in this namespace
/// (`<service>.<namespace>…`, or a bare `<service>`).
pub fn exporter_hosts(pods: &[Pod], region: Option<RegionId>, namespace: &str) -> Vec<String> {
    let mut out = vec![];
    let entries = crate::kube::pods::env_entries(pods);
    for e in entries {
        let Some(n) = e
            .name
            .strip_suffix("_ARGS_CONNECT_URL")
            .and_then(|n| n.rsplit_once("CAMUNDAREGION"))
            .and_then(|(_, n)| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(host) = e
            .value
            .as_deref()
            .and_then(|v| url::Url::parse(v.trim()).ok())
        else {
            continue;
        };
        let Some(host) = host.host_str() else {
            continue;
        };
        let mut labels = host.split('.');
        let service = labels.next().unwrap_or_default();
        let ours = match region {
            Some(r) => r.index() == n,
            None => labels.next().is_none_or(|ns| ns == namespace),
        };
        if ours && !out.iter().any(|h: &String| h == service) {
            out.push(service.to_string());
        }
    }
    out
}

/// Read [`es_pods_of`] in a region: its search-engine pods and the exporter URLs of `release`'s
/// orchestration pods (`orchestration`, when the caller listed them already). `status` and the
/// `es` commands make their choice here, the one place.
pub async fn es_pods(
    kube: &RegionClient,
    release: &str,
    region: Option<RegionId>,
    orchestration: Option<&[Pod]>,
) -> Result<std::result::Result<Option<EsPods>, Vec<String>>> {
    let subchart = kube.list_pods(chart::ES_SELECTOR).await?;
    if let Ok(Some(found @ EsPods::Subchart)) = es_pods_of(&subchart, &[], &[]) {
        return Ok(Ok(Some(found)));
    }
    let eck = kube.list_pods(chart::ECK_SELECTOR).await?;
    let listed;
    let orchestration = match orchestration {
        Some(pods) => pods,
        None => {
            listed = kube.list_pods(&chart::broker_selector(release)).await?;
            &listed
        }
    };
    let hosts = exporter_hosts(orchestration, region, kube.namespace());
    Ok(es_pods_of(&subchart, &eck, &hosts))
}

/// `PodExec` over the kube layer: the best Running Elasticsearch pod, re-picked after a cut
/// stream (the pod may have vanished).
struct KubePodExec {
    kube: RegionClient,
    /// The pods to pick from ([`EsPods::selector`]).
    selector: String,
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
            .pick_pod(&self.selector, chart::ES_CONTAINER)
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
            .unwrap_or_else(|| self.selector.clone());
        format!("pod {pod} ({})", self.kube.location())
    }
}

/// The credentials to use: flags, else the Secrets ([`EsPods::password_secrets`]: ECK's of the
/// cluster found first when the pods are ECK's, the bitnami one, ECK's reference one), else none.
async fn credentials(
    session: &Session,
    access: &EsAccess,
    kube: Option<&RegionClient>,
    pods: Option<&EsPods>,
) -> Result<Option<EsCredentials>> {
    if let Some(password) = access.password(&session.settings.env)? {
        let user = access.user.clone().unwrap_or_else(|| "elastic".into());
        return Ok(Some(EsCredentials::new(user, password)));
    }
    let Some(kube) = kube else {
        return Ok(None);
    };
    for (secret, key) in EsPods::password_secrets(pods, &session.settings.release) {
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
            credentials(session, access, None, None).await?
        } else {
            match session.kube().await {
                Ok(k) => credentials(session, access, Some(k), None)
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
    let region = session.settings.location.id;
    let pods = es_pods(&kube, &session.settings.release, region, None)
        .await?
        .map_err(|clusters| two_clusters(&clusters))?;
    let creds = credentials(session, access, Some(&kube), pods.as_ref()).await?;
    let exec = KubePodExec {
        selector: pods
            .as_ref()
            .map(EsPods::selector)
            .unwrap_or_else(|| chart::ES_SELECTOR.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, labels: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "elasticsearch"}]}
        }))
        .expect("pod")
    }

    fn eck_pod(n: u32, cluster: &str) -> Pod {
        pod(
            &format!("{cluster}-es-masters-{n}"),
            json!({
                "common.k8s.elastic.co/type": "elasticsearch",
                "elasticsearch.k8s.elastic.co/cluster-name": cluster,
            }),
        )
    }

    #[test]
    fn the_subcharts_pods_are_picked_when_present_else_ecks() {
        let bitnami = pod(
            "camunda-elasticsearch-master-0",
            json!({"app.kubernetes.io/name": "elasticsearch"}),
        );
        let eck = [eck_pod(0, "elasticsearch"), eck_pod(1, "elasticsearch")];
        assert_eq!(
            es_pods_of(std::slice::from_ref(&bitnami), &eck, &[]),
            Ok(Some(EsPods::Subchart))
        );
        let found = es_pods_of(&[], &eck, &[]).ok().flatten().expect("ECK");
        assert_eq!(
            found,
            EsPods::Eck {
                cluster: "elasticsearch".into()
            }
        );
        assert_eq!(
            found.selector(),
            "common.k8s.elastic.co/type=elasticsearch,\
             elasticsearch.k8s.elastic.co/cluster-name=elasticsearch"
        );
        assert_eq!(EsPods::Subchart.selector(), chart::ES_SELECTOR);
        // An ECK pod that also carries app.kubernetes.io/name is not the subchart's.
        let both_labels = pod(
            "elasticsearch-es-masters-0",
            json!({"app.kubernetes.io/name": "elasticsearch",
                   "elasticsearch.k8s.elastic.co/cluster-name": "elasticsearch"}),
        );
        assert_eq!(
            es_pods_of(std::slice::from_ref(&both_labels), &eck, &[]),
            Ok(Some(EsPods::Eck {
                cluster: "elasticsearch".into()
            }))
        );
        assert_eq!(es_pods_of(&[], &[], &[]), Ok(None));
    }

    #[test]
    fn of_two_eck_clusters_the_exporters_is_picked_else_none() {
        let eck = [eck_pod(0, "aaa-logs"), eck_pod(0, "elasticsearch")];
        assert_eq!(
            es_pods_of(&[], &eck, &[]),
            Err(vec!["aaa-logs".to_string(), "elasticsearch".to_string()])
        );
        assert_eq!(
            es_pods_of(&[], &eck, &["elasticsearch-es-http".into()]),
            Ok(Some(EsPods::Eck {
                cluster: "elasticsearch".into()
            }))
        );
        let e = two_clusters(&["aaa-logs".into(), "elasticsearch".into()]);
        assert_eq!(e.exit_code(), 3);
        assert!(
            e.to_string()
                .contains("two ECK clusters (aaa-logs, elasticsearch)"),
            "{e}"
        );
        assert!(e.to_string().contains("--es-url"), "{e}");
        // The exporter URLs of the orchestration pods, this region's only.
        let broker: Pod = serde_json::from_value(json!({
            "metadata": {"name": "camunda-zeebe-0"},
            "spec": {"containers": [{"name": "orchestration", "env": [
                {"name": "CAMUNDA_DATA_EXPORTERS_CAMUNDAREGION0_ARGS_CONNECT_URL",
                 "value": "http://elasticsearch-es-http.camunda-r0.svc.cluster.local:9200"},
                {"name": "CAMUNDA_DATA_EXPORTERS_CAMUNDAREGION1_ARGS_CONNECT_URL",
                 "value": "http://search-es-http.camunda-r1.svc.cluster.local:9200"},
            ]}]}
        }))
        .expect("pod");
        let pods = std::slice::from_ref(&broker);
        assert_eq!(
            exporter_hosts(pods, Some(RegionId::ONE), "x"),
            ["search-es-http"]
        );
        assert_eq!(
            exporter_hosts(pods, None, "camunda-r0"),
            ["elasticsearch-es-http"]
        );
    }

    #[test]
    fn ecks_password_comes_from_the_clusters_elastic_user_secret_first() {
        let eck = EsPods::Eck {
            cluster: "search".into(),
        };
        let secrets = EsPods::password_secrets(Some(&eck), "camunda");
        assert_eq!(
            secrets,
            [
                ("search-es-elastic-user".to_string(), "elastic"),
                (
                    "camunda-elasticsearch".to_string(),
                    "elasticsearch-password"
                ),
                ("elasticsearch-es-elastic-user".to_string(), "elastic"),
            ]
        );
        let reference = EsPods::Eck {
            cluster: "elasticsearch".into(),
        };
        assert_eq!(
            EsPods::password_secrets(Some(&reference), "camunda")[0],
            ("elasticsearch-es-elastic-user".to_string(), "elastic")
        );
        assert_eq!(
            EsPods::password_secrets(Some(&reference), "camunda").len(),
            2,
            "no Secret twice"
        );
        // The subchart: the order of 8.8, unchanged.
        assert_eq!(
            EsPods::password_secrets(Some(&EsPods::Subchart), "camunda"),
            chart::es_password_secrets("camunda").to_vec()
        );
        assert_eq!(
            EsPods::password_secrets(None, "camunda"),
            chart::es_password_secrets("camunda").to_vec()
        );
    }
}
