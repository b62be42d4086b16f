//! Kubernetes access for one region: kubeconfig and context selection, reads (pods, ConfigMaps,
//! Secrets, logs), exec and port-forward tunnels to Services, all through kube-rs.
//!
//! Protocol facts (what kube-rs sends, what the API server answers) are from the project's notes
//! on kubectl, helm and kube-rs, section 3; kube-client 5.0.0's `api/subresource.rs`,
//! `portforward.rs` and `remote_command.rs`.

mod errors;
pub mod exec;
pub mod kubeconfig;
pub mod pods;
pub mod proxy;
pub mod rbac;
pub mod tunnel;

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use kube::api::{Api, ListParams, LogParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

pub use errors::API_SERVICE;
pub use exec::ExecOutput;
pub use tunnel::Tunnel;

use crate::{Error, Result};

/// Which cluster and namespace to talk to. `None` means what kubectl would use: `KUBECONFIG` or
/// `~/.kube/config`, its current context, the context's namespace (else `default`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Where the context came from (`--context`, `CLUSTER_SURVIVING`, …), for messages.
    pub context_source: Option<String>,
    pub namespace: Option<String>,
}

/// A connection to one region's Kubernetes API, bound to a namespace.
#[derive(Clone)]
pub struct RegionClient {
    client: Client,
    namespace: String,
    /// The context name, for messages (`current context` when none was named).
    context: String,
    /// The API server's URL: which server a wait is on ([`crate::wait::within_server`]).
    server: String,
}

impl std::fmt::Debug for RegionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionClient")
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// The first of `names` set to a non-empty value: which variable a proxy setting came from.
fn set_var(names: [&'static str; 2]) -> &'static str {
    names
        .into_iter()
        .find(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
        .unwrap_or(names[0])
}

/// A proxy setting that does not parse, named by where it came from: the kubeconfig's
/// `proxy-url` of the cluster, else the variable (kube-rs reads `HTTPS_PROXY`/`https_proxy` and
/// `NO_PROXY`/`no_proxy` itself while loading the kubeconfig, kube-client 5.0.0
/// `config/file_loader.rs` `proxy_url`).
fn proxy_error(cluster_proxy: Option<&str>, e: &KubeconfigError) -> Option<Error> {
    let (source, value) = match e {
        KubeconfigError::ParseProxyUrl(_) => match cluster_proxy {
            Some(p) => (
                "the kubeconfig's proxy-url".to_string(),
                Some(p.to_string()),
            ),
            None => {
                let var = set_var(["HTTPS_PROXY", "https_proxy"]);
                (var.to_string(), std::env::var(var).ok())
            }
        },
        KubeconfigError::ParseNoProxy(_) => {
            let var = set_var(["NO_PROXY", "no_proxy"]);
            (var.to_string(), std::env::var(var).ok())
        }
        _ => return None,
    };
    // A proxy URL may carry a password (`http://user:pw@proxy`): never echoed.
    let value = value
        .map(|v| crate::error::shown(&crate::http::redact_userinfo(&v)))
        .unwrap_or_default();
    Some(Error::usage(format!(
        "{source} {value}: not a valid proxy setting ({}); fix or unset it",
        one_line(&errors::chain(e))
    )))
}

fn kubeconfig_error(target: &KubeTarget, e: KubeconfigError) -> Error {
    let source = target
        .kubeconfig
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| {
            std::env::var_os("KUBECONFIG")
                .filter(|v| !v.is_empty())
                .map(|v| format!("KUBECONFIG={}", v.to_string_lossy()))
        })
        .unwrap_or_else(|| "~/.kube/config".to_string());
    match e {
        KubeconfigError::LoadContext(ctx) => match &target.context_source {
            Some(from) => Error::usage(format!(
                "{from} {ctx:?}: kube context not in the kubeconfig ({source})"
            )),
            None => Error::usage(format!(
                "kube context {ctx:?} is not in the kubeconfig ({source})"
            )),
        },
        KubeconfigError::CurrentContextNotSet => Error::usage(format!(
            "the kubeconfig ({source}) has no current context: pass --context"
        )),
        KubeconfigError::FindPath | KubeconfigError::ReadConfig(..) => Error::usage(format!(
            "cannot read the kubeconfig ({source}): {}",
            one_line(&e.to_string())
        )),
        other => Error::usage(format!(
            "invalid kubeconfig ({source}): {}",
            one_line(&other.to_string())
        )),
    }
}

/// A parser's message on one line (YAML errors come with a source snippet over several lines;
/// docs/contract.md §4 rule 8 wants one line naming the file, with line and column).
fn one_line(message: &str) -> String {
    // serde-saphyr appends a source snippet (` --> <input>:L:C | …`) to the line and column it
    // already named: the snippet would echo the file's contents.
    let message = message.split(" --> ").next().unwrap_or(message);
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `proxy-url` of the cluster the context points at, if the kubeconfig sets one.
fn cluster_proxy_url(kubeconfig: &Kubeconfig, context: &str) -> Option<String> {
    let cluster = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .cluster
        .clone();
    kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster)?
        .cluster
        .as_ref()?
        .proxy_url
        .clone()
}

impl RegionClient {
    /// Load the kubeconfig and select the context and namespace. No request is sent yet: an
    /// unreachable cluster shows up as [`Error::Unreachable`] on the first call.
    pub async fn connect(target: &KubeTarget) -> Result<Self> {
        kubeconfig::check_files(
            target.kubeconfig.as_deref(),
            &crate::config::Env::from_process(),
        )?;
        let kubeconfig = match &target.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|e| kubeconfig_error(target, e))?;
        let context = target
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
            .unwrap_or_else(|| "current context".to_string());
        let options = KubeConfigOptions {
            context: target.context.clone(),
            ..Default::default()
        };
        let cluster_proxy = cluster_proxy_url(&kubeconfig, &context);
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| {
                proxy_error(cluster_proxy.as_deref(), &e)
                    .unwrap_or_else(|| kubeconfig_error(target, e))
            })?;
        // The proxy as kubectl chooses it (kube-rs 5.0.0 gets NO_PROXY and loopback wrong).
        config.proxy_url = proxy::proxy_for(&config.cluster_url, cluster_proxy.as_deref(), |k| {
            std::env::var(k).ok()
        })
        .map(|p| {
            p.parse::<http::Uri>().map_err(|e| {
                let source = match &cluster_proxy {
                    Some(_) => "the kubeconfig's proxy-url",
                    None if config.cluster_url.scheme_str() == Some("http") => {
                        set_var(["HTTP_PROXY", "http_proxy"])
                    }
                    None => set_var(["HTTPS_PROXY", "https_proxy"]),
                };
                Error::usage(format!(
                    "{source} {}: not a valid proxy URL ({e}); fix or unset it",
                    crate::error::shown(&crate::http::redact_userinfo(&p))
                ))
            })
        })
        .transpose()?;
        let namespace = target
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config)
            .map_err(|e| Error::usage(format!("cannot build a client for {context}: {e}")))?;
        Ok(Self {
            client,
            namespace,
            context,
            server,
        })
    }

    /// A client over an existing kube-rs client (tests, custom configs).
    pub fn from_client(
        client: Client,
        namespace: impl Into<String>,
        context: impl Into<String>,
    ) -> Self {
        let context = context.into();
        Self {
            client,
            namespace: namespace.into(),
            server: format!("context {context}"),
            context,
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn pods_api(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Where this client points, for messages: `context/namespace`.
    pub fn location(&self) -> String {
        format!("{}/{}", self.context, self.namespace)
    }

    fn map_err(&self, what: &str, e: kube::Error) -> Error {
        errors::map(&self.location(), what, e)
    }

    /// One API call, within the command's network bound ([`crate::wait::within`]): an API
    /// server that accepts the connection and never answers ends it with exit 4.
    async fn call<T>(
        &self,
        what: &str,
        op: impl std::future::Future<Output = std::result::Result<T, kube::Error>>,
    ) -> Result<T> {
        crate::wait::within_server(
            &self.server,
            None,
            || {
                format!(
                    "the Kubernetes API of {} to answer ({what})",
                    self.location()
                )
            },
            async { op.await.map_err(|e| self.map_err(what, e)) },
        )
        .await
    }

    /// Run `op` (calls of this client, of tunnels through it) within `limit`: past it, or at
    /// once when this API server did not answer earlier in this command, [`Error::Timeout`]
    /// naming `what`. How a read of a region that may be lost is bounded.
    pub async fn bounded<T>(
        &self,
        limit: std::time::Duration,
        what: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        crate::wait::within_server(
            &self.server,
            Some(limit),
            || format!("the Kubernetes API of {} ({what})", self.location()),
            op,
        )
        .await
    }

    /// The API server's version (`GET /version`): a cheap reachability probe.
    pub async fn server_version(&self) -> Result<String> {
        self.call(
            "getting the server version",
            self.client.apiserver_version(),
        )
        .await
        .map(|v| v.git_version)
    }

    /// Pods matching a label selector (`k=v,k2`).
    pub async fn list_pods(&self, selector: &str) -> Result<Vec<Pod>> {
        let lp = ListParams::default().labels(selector);
        let api = self.pods_api();
        self.call(&format!("listing pods {selector:?}"), api.list(&lp))
            .await
            .map(|l| l.items)
    }

    /// One pod by name.
    pub async fn get_pod(&self, name: &str) -> Result<Pod> {
        let api = self.pods_api();
        self.call(&format!("getting pod {name}"), api.get(name))
            .await
    }

    /// One Service by name.
    pub async fn get_service(&self, name: &str) -> Result<Service> {
        let api = Api::<Service>::namespaced(self.client.clone(), &self.namespace);
        self.call(&format!("getting service {name}"), api.get(name))
            .await
    }

    /// A ConfigMap by name, `None` when it does not exist.
    pub async fn get_configmap(&self, name: &str) -> Result<Option<ConfigMap>> {
        let api = Api::<ConfigMap>::namespaced(self.client.clone(), &self.namespace);
        self.call(&format!("getting configmap {name}"), api.get_opt(name))
            .await
    }

    /// One key of a Secret, decoded; `None` when the Secret or the key does not exist. The value
    /// is never logged.
    pub async fn get_secret_value(&self, name: &str, key: &str) -> Result<Option<String>> {
        let api = Api::<Secret>::namespaced(self.client.clone(), &self.namespace);
        let secret = self
            .call(&format!("getting secret {name}"), api.get_opt(name))
            .await?;
        let Some(secret) = secret else {
            return Ok(None);
        };
        if let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) {
            return String::from_utf8(bytes.0.clone())
                .map(Some)
                .map_err(|_| Error::failed(format!("key {key:?} of secret {name} is not UTF-8")));
        }
        Ok(secret
            .string_data
            .as_ref()
            .and_then(|d| d.get(key))
            .cloned())
    }

    /// The logs of a container (`tail`: last N lines only).
    pub async fn pod_logs(&self, pod: &str, container: &str, tail: Option<i64>) -> Result<String> {
        let lp = LogParams {
            container: Some(container.to_string()),
            tail_lines: tail,
            ..Default::default()
        };
        let api = self.pods_api();
        self.call(
            &format!("reading logs of {pod}/{container}"),
            api.logs(pod, &lp),
        )
        .await
    }

    /// The best pod for `selector` that has `container`: Running and Ready first, as kubectl
    /// chooses (see [`pods::best_pod`]).
    pub async fn pick_pod(&self, selector: &str, container: &str) -> Result<String> {
        let pods: Vec<Pod> = self
            .list_pods(selector)
            .await?
            .into_iter()
            .filter(|p| pods::has_container(p, container))
            .collect();
        pods::best_pod(&pods)
            .and_then(|p| p.metadata.name.clone())
            .ok_or_else(|| {
                Error::failed(format!(
                    "no pod with container {container:?} matches {selector:?} in {}",
                    self.location()
                ))
            })
    }

    /// Resolve a Service port to a pod and container port, as `kubectl port-forward svc/…`
    /// does (notes, section 3.5): the Service's selector, the best pod, `targetPort`.
    pub async fn resolve_service(&self, service: &str, port: u16) -> Result<(String, u16)> {
        let svc = self.get_service(service).await?;
        let selector = pods::service_selector(&svc).ok_or_else(|| {
            Error::failed(format!(
                "invalid service '{service}': Service is defined without a selector"
            ))
        })?;
        let candidates = self.list_pods(&selector).await?;
        let pod = pods::best_pod(&candidates).ok_or_else(|| {
            Error::unreachable(
                format!("service {service} in {}", self.location()),
                format!("no pod matches its selector {selector}"),
            )
        })?;
        let name = pod
            .metadata
            .name
            .clone()
            .ok_or_else(|| Error::failed("a pod without a name"))?;
        let target = pods::target_port(&svc, port, pod)?;
        Ok((name, target))
    }
}
