//! `--verify`: after a region's upgrade, wait until its configuration ConfigMap (named as the
//! plan's row names it: `-configuration-unified` in 8.8, `-configuration` from 8.9) shows the
//! Spring profiles the upgrade should render (compared as a set). The ConfigMap is read with the same
//! kube client as the rest of c8dr ([`RegionClient`]); the wait is a [`Poller`].

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use super::plan::{Plan, RegionPlan};
use crate::error::{Error, Result};
use crate::kube::{KubeTarget, RegionClient};
use crate::values;
use crate::wait::Poller;

/// What `--verify` saw in one region.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub configmap: String,
    pub expected: Vec<String>,
    /// The last `spring.profiles.active` seen (sorted), if any.
    pub active: Option<Vec<String>>,
    pub ok: bool,
    pub message: Option<String>,
    /// The exit code a failed verification maps to (4 timeout, 5 unreachable, ...).
    #[serde(skip)]
    pub exit_code: i32,
}

/// First pause between two reads: the chart renders the ConfigMap within the upgrade itself, so
/// it is usually there on the first or second read.
const FIRST_POLL: Duration = Duration::from_millis(50);

/// Poll `fetch` (the ConfigMap's `application.yaml`, `None` while absent) until its active
/// profiles equal `expected` as a set. Transient errors are retried until the deadline, when the
/// last one is returned instead of the timeout.
pub async fn wait_for_profiles<F, Fut>(
    mut fetch: F,
    expected: &BTreeSet<String>,
    timeout: Duration,
) -> (Result<()>, Option<BTreeSet<String>>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    let mut poll = Poller::with_cadence(
        "spring.profiles.active",
        FIRST_POLL,
        crate::wait::MAX_POLL,
        timeout,
    );
    let mut seen = None;
    loop {
        let transient = match fetch().await {
            Ok(Some(yaml)) => {
                if let Some(active) = values::active_profiles(&yaml) {
                    if &active == expected {
                        return (Ok(()), Some(active));
                    }
                    seen = Some(active);
                }
                None
            }
            Ok(None) => None,
            Err(e) if e.is_transient() => Some(e),
            Err(e) => return (Err(e), seen),
        };
        if !poll.tick().await {
            let err = transient.unwrap_or_else(|| Error::Timeout {
                what: format!(
                    "spring.profiles.active to be {} (it is {})",
                    join(expected),
                    seen.as_ref()
                        .map(join)
                        .unwrap_or_else(|| "not rendered yet".into())
                ),
                after: humantime::format_duration(timeout).to_string(),
            });
            return (Err(err), seen);
        }
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(",")
}

/// helm's kubeconfig: the command's `KUBECONFIG` when it names one file (kube-rs would read the
/// process's), else the process's (`None`: a list, or `~/.kube/config`).
pub(super) fn helm_kubeconfig(env: &crate::config::Env) -> Option<std::path::PathBuf> {
    let (files, _) = crate::kube::kubeconfig::files(None, env);
    (files.len() == 1 && env.get("KUBECONFIG").is_some()).then(|| files[0].clone())
}

/// How long the check that a region's Kubernetes API answers may take, before any helm runs.
const REACH_LIMIT: Duration = Duration::from_secs(10);

impl Plan {
    /// Every region's Kubernetes API answers (`GET /version`, bounded) before the first helm
    /// runs: with `--region both`, an upgrade of one region followed by a lost other region would
    /// leave the two regions on different values with nothing said before it started. A region
    /// that does not answer is exit 5 naming it; nothing is upgraded.
    pub(super) async fn check_reachable(&self, env: &crate::config::Env) -> Result<()> {
        let kubeconfig = helm_kubeconfig(env);
        let checks = self.regions.iter().map(|region| async {
            let target = KubeTarget {
                kubeconfig: kubeconfig.clone(),
                context: Some(region.context.clone()),
                context_source: Some(region.context_source.clone()),
                namespace: Some(region.namespace.clone()),
            };
            let answer = tokio::time::timeout(REACH_LIMIT, async {
                RegionClient::connect(&target).await?.server_version().await
            })
            .await;
            match answer {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if e.exit_code() == 2 => Err(e),
                Ok(Err(e)) => Err(Error::unreachable(
                    format!("{} (context {})", region.describe(), region.context),
                    format!("nothing was upgraded: {e}"),
                )),
                Err(_) => Err(Error::unreachable(
                    format!("{} (context {})", region.describe(), region.context),
                    format!(
                        "its Kubernetes API did not answer within {}s; nothing was upgraded",
                        REACH_LIMIT.as_secs()
                    ),
                )),
            }
        });
        futures_util::future::join_all(checks)
            .await
            .into_iter()
            .collect::<Result<Vec<()>>>()
            .map(|_| ())
    }

    /// Wait until a region's configuration ConfigMap (the first of the row's names that exists)
    /// shows the profiles its upgrade should render.
    /// The kubeconfig is helm's: `KUBECONFIG` (helm sets it for `--kubeconfig`) or
    /// `~/.kube/config`.
    pub(super) async fn verify_region(
        &self,
        region: &RegionPlan,
        timeout: Duration,
    ) -> VerifyReport {
        let names = crate::chart::configuration_configmaps(&self.release, self.row.facts);
        let found = std::sync::Mutex::new(None::<String>);
        let expected: BTreeSet<String> = region.expected_profiles.iter().cloned().collect();
        let target = KubeTarget {
            kubeconfig: None,
            context: Some(region.context.clone()),
            context_source: Some(region.context_source.clone()),
            namespace: Some(region.namespace.clone()),
        };
        let (result, seen) = match RegionClient::connect(&target).await {
            Ok(kube) => {
                let (kube, names, found) = (&kube, &names, &found);
                let fetch = || async move {
                    for name in names {
                        let cm = kube.get_configmap(name).await?;
                        if let Some(yaml) = crate::chart::unified_config(cm) {
                            if let Ok(mut f) = found.lock() {
                                *f = Some(name.clone());
                            }
                            return Ok(Some(yaml));
                        }
                    }
                    Ok(None)
                };
                wait_for_profiles(fetch, &expected, timeout).await
            }
            Err(e) => (Err(e), None),
        };
        let configmap = found
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| names.join(" or "));
        VerifyReport {
            configmap,
            expected: region.expected_profiles.clone(),
            active: seen.map(|s| s.into_iter().collect()),
            ok: result.is_ok(),
            exit_code: result.as_ref().err().map(Error::exit_code).unwrap_or(0),
            message: result.err().map(|e| format!("verification failed: {e}")),
        }
    }
}
