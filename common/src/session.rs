//! A command's session: resolved settings and lazily opened connections to one region's
//! gateway (directly with `--gateway-url`/`--rest-url`, else through an in-process port-forward).

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use crate::config::Env;
use crate::duration::parse_duration;
use crate::error::{Error, Result};
use crate::http::{JsonClient, parse_base_url};
use crate::kube::{KubeTarget, RegionClient, Tunnel};
use crate::location::{self, LocationFlags, Plugin, RegionLocation};
use crate::output::Format;
use crate::region::RegionRef;
use crate::ui::Ui;
use crate::zeebe::zones::{ZoneMap, installed_zones};
use crate::zeebe::{ManagementClient, RestAuth, RestClient};

/// Global settings of `kubectl c8dr` (docs/contract.md §2), resolved: flags > env vars > defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kubeconfig: Option<PathBuf>,
    pub region: RegionRef,
    /// Where the region lives (context/namespace from flags or the docs' env vars).
    pub location: RegionLocation,
    pub release: String,
    pub gateway_url: Option<Url>,
    pub rest_url: Option<Url>,
    pub es_url: Option<Url>,
    pub output: Format,
    pub dry_run: bool,
    /// `--dry-run=server`: the plan also carries the gateway's own dry run (`PATCH
    /// /actuator/cluster?dryRun=true`, docs/api-behaviour.md §1) where one exists; implies `dry_run`.
    pub server_dry_run: bool,
    pub timeout: Duration,
    pub no_wait: bool,
    /// `--allow-unknown-release`: a Camunda release newer than the newest c8dr knows is worked
    /// on with the newest row of the release table instead of being refused.
    pub allow_unknown_release: bool,
    pub env: Env,
}

impl Settings {
    /// The same settings for another region: its context and namespace come from the docs'
    /// variables ([`location::locate`] on the same environment); the direct URLs (`--gateway-url`,
    /// `--rest-url`, `--es-url`) are cleared, since they point at this region's endpoints.
    pub fn for_region(&self, region: RegionRef) -> Result<Settings> {
        let location = location::locate(region, &self.env)?;
        Ok(Settings {
            region,
            location,
            gateway_url: None,
            rest_url: None,
            es_url: None,
            ..self.clone()
        })
    }
}

/// Raw global flags as parsed by a CLI.
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub region: Option<String>,
    pub release: Option<String>,
    pub gateway_url: Option<String>,
    pub rest_url: Option<String>,
    pub es_url: Option<String>,
    pub output: Option<String>,
    pub dry_run: bool,
    /// `--dry-run=server` (see [`Settings::server_dry_run`]).
    pub server_dry_run: bool,
    pub yes: bool,
    pub timeout: Option<String>,
    pub no_wait: bool,
    pub allow_unknown_release: bool,
    pub quiet: bool,
}

impl GlobalFlags {
    /// Validate and resolve every flag before any call to a cluster (docs/contract.md §4 rule 8).
    pub fn resolve(&self, env: Env) -> Result<(Settings, Ui)> {
        self.resolve_regions(env, true)
    }

    /// [`GlobalFlags::resolve`]; `distinct: false` leaves the check that the regions are two
    /// clusters ([`location::check_distinct`]) to the command: `preflight` reports it as one of
    /// its checks instead of refusing to start.
    pub fn resolve_regions(&self, env: Env, distinct: bool) -> Result<(Settings, Ui)> {
        env.check()?;
        // A kubeconfig file kubectl would refuse (missing `--kubeconfig`, a directory, too large)
        // is bad input, found before any call, by every command (preflight too).
        crate::kube::kubeconfig::check_files(self.kubeconfig.as_deref(), &env)?;
        // Bad REST credentials are bad input, found before any call (docs/contract.md §4 rule 8).
        RestAuth::from_env(&env)?;
        // Without --region, --context chooses the region whose variables name it (as kubectl
        // users expect); else the surviving region.
        let named = self
            .context
            .as_deref()
            .and_then(|c| location::region_of_context(c, &env));
        let region: RegionRef = match (&self.region, named) {
            (Some(r), _) => r.parse().map_err(|e: Error| e.context("--region"))?,
            (None, Some(named)) => named,
            (None, None) => RegionRef::Surviving,
        };
        let flags = LocationFlags::target(self.context.clone(), self.namespace.clone());
        let mut location = location::resolve(region, &flags, &env, Plugin::Kubectl)?;
        // A context the variables do not name, without --region and -n: its own namespace (as
        // kubectl), never the surviving region's (issue 22 item 4). With --region the user named
        // the region, whose namespace variable stays its own.
        if self.region.is_none()
            && self.context.is_some()
            && named.is_none()
            && self.namespace.is_none()
        {
            location.namespace = None;
        }
        if distinct {
            location::check_distinct(
                std::slice::from_ref(&location),
                self.kubeconfig.as_deref(),
                &env,
            )?;
        }
        let url = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|raw| parse_base_url(flag, raw))
                .transpose()
        };
        let settings = Settings {
            kubeconfig: self.kubeconfig.clone(),
            region,
            location,
            release: crate::chart::release(self.release.as_deref(), &env)?,
            gateway_url: url("--gateway-url", &self.gateway_url)?,
            rest_url: url("--rest-url", &self.rest_url)?,
            es_url: url("--es-url", &self.es_url)?,
            output: self
                .output
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            dry_run: self.dry_run || self.server_dry_run,
            server_dry_run: self.server_dry_run,
            timeout: self
                .timeout
                .as_deref()
                .map(|t| parse_duration("--timeout", t))
                .transpose()?
                .unwrap_or(Duration::from_secs(15 * 60)),
            no_wait: self.no_wait,
            allow_unknown_release: self.allow_unknown_release,
            env,
        };
        let assume_yes = crate::ui::assume_yes(self.yes, &settings.env);
        Ok((settings, Ui::new(assume_yes, self.quiet)))
    }
}

/// Per-request timeout: long enough for a slow gateway, short enough to retry a dead tunnel.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What a port-forward reaches: a Service (kubectl's `svc/NAME`) or one pod.
#[derive(Clone, Copy)]
enum Remote<'a> {
    Service(&'a str),
    Pod(&'a str),
}

/// Connections of one command, opened on first use and reused while they work.
pub struct Session {
    pub settings: Settings,
    pub ui: Ui,
    management: OnceCell<ManagementClient>,
    rest: OnceCell<RestClient>,
    kube: OnceCell<RegionClient>,
    /// What the installation is and whether c8dr supports it, read once per session.
    release: OnceCell<crate::release::installation::Judgement>,
    /// Zone-aware brokers: which region runs which zone (`None`: numbered), read once.
    zones: OnceCell<Option<ZoneMap>>,
    /// Port-forwards opened by this session, kept open while it lives (one per remote port).
    tunnels: tokio::sync::Mutex<Vec<Tunnel>>,
}

impl Session {
    pub fn new(settings: Settings, ui: Ui) -> Self {
        Self {
            settings,
            ui,
            management: OnceCell::new(),
            rest: OnceCell::new(),
            kube: OnceCell::new(),
            release: OnceCell::new(),
            zones: OnceCell::new(),
            tunnels: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// Where this session's region is, for messages.
    /// What the journal notes of a mutation sent in this session: its region and target.
    pub fn journal(&self, command: &str, request: &[String]) -> crate::journal::Intent {
        let l = &self.settings.location;
        let region =
            l.id.map(|r| r.to_string())
                .or_else(|| l.side.map(|s| s.to_string()));
        let target = format!(
            "{}/{}",
            l.context.as_deref().unwrap_or("<current>"),
            l.namespace.as_deref().unwrap_or("<current>")
        );
        crate::journal::Intent::kubectl(command, request).at(region, Some(target))
    }

    pub fn describe_region(&self) -> String {
        let l = &self.settings.location;
        format!(
            "{} region{} (context {}, namespace {})",
            self.settings.region,
            l.id.map(|r| format!(" {r}")).unwrap_or_default(),
            l.context.as_deref().unwrap_or("<current>"),
            l.namespace.as_deref().unwrap_or("<current>")
        )
    }

    async fn gateway_base(&self, port: u16, direct: &Option<Url>, flag: &str) -> Result<Url> {
        if let Some(url) = direct {
            return Ok(url.clone());
        }
        self.tunnel(&crate::chart::gateway_service(&self.settings.release), port)
            .await
            .map_err(|e| match e {
                // A kubeconfig that cannot be used: a direct URL needs none. A bad proxy
                // variable is not about the kubeconfig, and the flag would not help with it.
                Error::Usage(m) if !m.contains("proxy") => {
                    Error::Usage(format!("{m} (or pass {flag})"))
                }
                other => other,
            })
    }

    /// The region's Kubernetes API, from `--kubeconfig`/`--context`/`--namespace` or the env vars.
    pub async fn kube(&self) -> Result<&RegionClient> {
        self.kube
            .get_or_try_init(|| async {
                let target = KubeTarget {
                    kubeconfig: self.settings.kubeconfig.clone(),
                    context: self.settings.location.context.clone(),
                    context_source: self.settings.location.context_source.clone(),
                    namespace: self.settings.location.namespace.clone(),
                };
                RegionClient::connect(&target).await
            })
            .await
    }

    /// A local port forwarded to `service:port`, reused for the session's lifetime. Each local
    /// connection gets its own WebSocket, so a dropped one only costs a retried request.
    pub async fn tunnel(&self, service: &str, port: u16) -> Result<Url> {
        self.open_tunnel(Remote::Service(service), port).await
    }

    /// A local port forwarded to `port` of the pod `pod` itself (not a Service), reused for the
    /// session's lifetime: how one broker's own management endpoint is reached (docs/api-behaviour.md §3).
    pub async fn pod_tunnel(&self, pod: &str, port: u16) -> Result<Url> {
        self.open_tunnel(Remote::Pod(pod), port).await
    }

    async fn open_tunnel(&self, remote: Remote<'_>, port: u16) -> Result<Url> {
        // A pod tunnel's remote is named `pod/<name>` (see `RegionClient::tunnel_pod`).
        let key = match remote {
            Remote::Service(service) => service.to_string(),
            Remote::Pod(pod) => format!("pod/{pod}"),
        };
        let mut tunnels = self.tunnels.lock().await;
        if let Some(t) = tunnels.iter().find(|t| t.remote() == (key.as_str(), port)) {
            return parse_base_url("port-forward", &t.base_url());
        }
        let kube = self.kube().await?;
        let t = match remote {
            Remote::Service(service) => kube.tunnel(service, port).await.map_err(|e| match e {
                // Which release and namespace were tried, and how to change them.
                Error::Api { status: 404, .. } => e.context(format!(
                    "no Service {service} in namespace {} (context {}): is release {:?} installed \
                     there? Change the release with --release or CAMUNDA_RELEASE_NAME, the namespace \
                     with -n/--namespace or CAMUNDA_NAMESPACE_*, the cluster with --context or \
                     CLUSTER_*",
                    kube.namespace(),
                    kube.context(),
                    self.settings.release
                )),
                other => other,
            })?,
            Remote::Pod(pod) => kube.tunnel_pod(pod, port).await?,
        };
        tracing::debug!(remote = key, port, local = %t.local_addr(), "port-forward open");
        let url = parse_base_url("port-forward", &t.base_url())?;
        tunnels.push(t);
        Ok(url)
    }

    /// The broker pods of this session's release in its region: (pod name, node id, Ready).
    /// Node ids follow `ordinal * 2 + regionId` (`None` when the region id is unknown).
    pub async fn broker_pods(&self) -> Result<Vec<(String, Option<u32>, bool)>> {
        let region = self.settings.location.id;
        let kube = self.kube().await?;
        let selector = crate::chart::broker_selector(&self.settings.release);
        let pods = kube.list_pods(&selector).await?;
        let mut out: Vec<(String, Option<u32>, bool)> = pods
            .iter()
            .filter_map(|p| {
                let name = p.metadata.name.clone()?;
                crate::chart::pod_ordinal(&name)?;
                let id = region.and_then(|r| crate::chart::pod_node_id(&name, r));
                Some((name, id, crate::kube::pods::is_ready(p)))
            })
            .collect();
        out.sort_by_key(|(n, id, _)| (id.unwrap_or(u32::MAX), n.clone()));
        Ok(out)
    }

    /// Broker ids whose pods run Ready in this session's region (liveness evidence when
    /// `/v2/topology` cannot be read). Node ids follow `ordinal * 2 + regionId`.
    pub async fn ready_broker_ids(&self) -> Result<Vec<u32>> {
        let region = self.settings.location.id.ok_or_else(|| {
            Error::refused(
                "cannot tell which broker ids the Ready pods hold: the region id is unknown (set REGION_SURVIVING or \
                 pass --region region0|region1), and /v2/topology could not be read",
            )
        })?;
        let kube = self.kube().await?;
        let selector = crate::chart::broker_selector(&self.settings.release);
        let pods = kube.list_pods(&selector).await?;
        let mut ids: Vec<u32> = pods
            .iter()
            .filter(|p| crate::kube::pods::is_ready(p))
            .filter_map(|p| crate::chart::pod_node_id(p.metadata.name.as_deref()?, region))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// The management API (port 9600).
    /// The installation's judgement (read once: both regions where they answer, `/v2/topology`
    /// when credentials are set), see [`crate::commands::installation`].
    /// Each part is read within the command's bound
    /// ([`crate::commands::installation::read_limit`]).
    pub async fn release(&self) -> &crate::release::installation::Judgement {
        self.release_within(crate::commands::installation::read_limit(&self.settings))
            .await
    }

    /// [`Session::release`], each part read within `limit` (`status`: its `--probe-timeout`)
    /// when it is not read yet.
    pub async fn release_within(
        &self,
        limit: Duration,
    ) -> &crate::release::installation::Judgement {
        self.release
            .get_or_init(|| async {
                // Boxed: the reads of both regions make a large future, and every command
                // awaits this one.
                Box::pin(crate::commands::installation::judge(
                    self,
                    self.settings.allow_unknown_release,
                    limit,
                ))
                .await
            })
            .await
    }

    /// The installation is already judged (a caller that read it, or a test that states it):
    /// [`Session::release`] answers with this instead of reading the cluster.
    pub fn known_release(&self, judgement: crate::release::installation::Judgement) {
        let _ = self.release.set(judgement);
    }

    /// The release table's row for this installation, or the refusal (exit 3) of an installation
    /// c8dr does not support: the gate every mutating command passes before its first change.
    pub async fn facts(&self) -> Result<&'static crate::release::Facts> {
        // A context this command names must exist before any region is read: bad input
        // reaches no cluster (docs/contract.md §4 rule 8). Building the client sends nothing.
        if self.settings.location.context.is_some() {
            self.kube().await?;
        }
        self.release().await.facts()
    }

    /// Which region runs which zone when the brokers are zone-aware (`None`: numbered, or this
    /// region's pods could not be read, in which case a zone id from the gateway is refused
    /// rather than guessed): this region's zone from its orchestration pods' `camunda.io/zone`,
    /// the other from the zone list of the rendered configuration. Two reads of this region,
    /// bounded like every installation read.
    pub async fn zone_map(&self) -> Result<Option<ZoneMap>> {
        self.zones
            .get_or_try_init(|| async {
                let Some(own) = self.settings.location.id else {
                    return Ok(None);
                };
                let release = &self.settings.release;
                let limit = crate::commands::installation::read_limit(&self.settings);
                let read = async {
                    let kube = self.kube().await?;
                    kube.bounded(limit, "reading the zones", async {
                        let zones = crate::commands::installation::zones(kube, release).await?;
                        if zones.is_empty() {
                            return Ok(None);
                        }
                        let config = crate::commands::installation::configuration(kube, release)
                            .await
                            .ok()
                            .flatten();
                        Ok(Some((zones, config)))
                    })
                    .await
                };
                let Ok(Some((zones, config))) = read.await else {
                    return Ok(None);
                };
                let mut zones = zones.into_iter();
                let (Some(own_zone), None) = (zones.next(), zones.next()) else {
                    return Err(Error::refused(format!(
                        "the orchestration pods of {} carry more than one camunda.io/zone: one region runs one zone",
                        self.describe_region()
                    )));
                };
                let installed = config.as_deref().map(installed_zones).unwrap_or_default();
                ZoneMap::new(own, &own_zone, installed).map(Some)
            })
            .await
            .cloned()
    }

    pub async fn management(&self) -> Result<&ManagementClient> {
        self.management
            .get_or_try_init(|| async {
                let base = self
                    .gateway_base(
                        crate::chart::MANAGEMENT_PORT,
                        &self.settings.gateway_url,
                        "--gateway-url",
                    )
                    .await?;
                Ok(ManagementClient::new(JsonClient::new(
                    crate::zeebe::management::SERVICE,
                    base,
                    REQUEST_TIMEOUT,
                )?)
                .with_zones(self.zone_map().await?))
            })
            .await
    }

    /// The v2 REST API (port 8080), authenticated from the docs' `CAMUNDA_CLIENT_AUTH_*` vars.
    pub async fn rest(&self) -> Result<&RestClient> {
        self.rest
            .get_or_try_init(|| async {
                let auth = RestAuth::from_env(&self.settings.env)?;
                let base = self
                    .gateway_base(
                        crate::chart::REST_PORT,
                        &self.settings.rest_url,
                        "--rest-url",
                    )
                    .await?;
                let http = JsonClient::new(crate::zeebe::rest::SERVICE, base, REQUEST_TIMEOUT)?;
                Ok(RestClient::new(http, auth, REQUEST_TIMEOUT).with_zones(self.zone_map().await?))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::RegionId;

    /// Issue 22 item 4: `--context X` without `--region`: the region whose variables name X, in
    /// its namespace; a context they do not name, in its own namespace (never the surviving
    /// region's); with `--region`, the named region's namespace.
    #[test]
    fn a_context_flag_chooses_the_region_and_never_brings_another_regions_namespace() {
        let env = Env::from_pairs([
            ("CLUSTER_SURVIVING", "ctx-a"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "ns-a"),
            ("REGION_SURVIVING", "region0"),
            ("CLUSTER_RECREATED", "ctx-b"),
            ("CAMUNDA_NAMESPACE_RECREATED", "ns-b"),
        ]);
        let at = |context: &str, region: Option<&str>| {
            let flags = GlobalFlags {
                context: Some(context.into()),
                region: region.map(String::from),
                ..Default::default()
            };
            let (s, _) = flags.resolve(env.clone()).expect("settings");
            (s.location.id, s.location.namespace)
        };
        assert_eq!(
            at("ctx-b", None),
            (Some(RegionId::ONE), Some("ns-b".into()))
        );
        assert_eq!(at("elsewhere", None), (Some(RegionId::ZERO), None));
        assert_eq!(
            at("elsewhere", Some("surviving")),
            (Some(RegionId::ZERO), Some("ns-a".into()))
        );
    }

    #[test]
    fn another_region_gets_its_own_location_and_no_direct_urls() {
        let env = Env::from_pairs([
            ("CLUSTER_SURVIVING", "ctx-a"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "ns-a"),
            ("REGION_SURVIVING", "region0"),
            ("CLUSTER_RECREATED", "ctx-b"),
            ("CAMUNDA_NAMESPACE_RECREATED", "ns-b"),
        ]);
        let flags = GlobalFlags {
            gateway_url: Some("http://127.0.0.1:9600".into()),
            release: Some("rel".into()),
            ..Default::default()
        };
        let (own, _) = flags.resolve(env).expect("settings");
        let other = own.for_region(RegionRef::Recreated).expect("other");
        assert_eq!(other.location.context.as_deref(), Some("ctx-b"));
        assert_eq!(other.location.namespace.as_deref(), Some("ns-b"));
        assert_eq!(other.location.id, Some(RegionId::ONE));
        assert!(other.gateway_url.is_none());
        assert_eq!(other.release, "rel");
        assert!(own.gateway_url.is_some());
    }
}
