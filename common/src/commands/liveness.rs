//! Evidence that brokers are down or alive before a forced removal: `/v2/topology` (what the
//! gateway reaches) and, where their Kubernetes APIs answer, the Ready broker pods of the regions
//! concerned. Gathered here, judged by the pure `zeebe::brokers::removal_allowed` (a topology is
//! evidence only when it lists the brokers that remain).

use crate::error::{Error, Result};
use crate::region::{RegionId, RegionRef};
use crate::session::Session;
use crate::zeebe::brokers::Liveness;

use super::cluster::topology_unreadable;

/// How long a region's Kubernetes API may take to list its broker pods.
const REGION_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a region's broker pods could not be checked.
enum Unchecked {
    /// The environment does not say where the region is.
    NotConfigured(String),
    /// It is configured and did not answer (as a lost region does).
    Unreachable(String),
}

/// Broker ids that run Ready in region `region`'s cluster, when its API answers within a few
/// seconds; `Err` says why not (not configured, unreachable).
async fn ready_in_region(
    session: &Session,
    region: RegionId,
) -> std::result::Result<Vec<u32>, Unchecked> {
    let own = session.settings.location.id == Some(region);
    let other;
    let s = if own {
        session
    } else {
        let settings = session
            .settings
            .for_region(RegionRef::Index(region))
            .map_err(|e| Unchecked::NotConfigured(e.to_string()))?;
        // Without its own context the kubeconfig's current one would answer for the wrong cluster.
        if settings.location.context.is_none() {
            return Err(Unchecked::NotConfigured(format!(
                "no kube context is configured for {region} (CLUSTER_{} or CLUSTER_SURVIVING/CLUSTER_RECREATED)",
                region.index()
            )));
        }
        other = Session::new(settings, session.ui.clone());
        &other
    };
    // Bounded on the region's API server: one that did not answer is not waited for again.
    let read = async {
        let kube = s.kube().await?;
        kube.bounded(
            REGION_BOUND,
            "listing the broker pods",
            s.ready_broker_ids(),
        )
        .await
    };
    match read.await {
        Ok(ids) => Ok(ids),
        Err(e @ Error::Timeout { .. }) => Err(Unchecked::Unreachable(format!(
            "the Kubernetes API of {region} did not answer: {e}"
        ))),
        Err(e) => Err(Unchecked::Unreachable(e.to_string())),
    }
}

/// Broker ids whose pods run Ready in the regions holding `candidates`, where those regions'
/// Kubernetes APIs answer, and the regions that could not be checked (each noted).
pub(crate) async fn ready_brokers(
    session: &Session,
    candidates: &[u32],
) -> (Vec<u32>, Vec<(RegionId, String)>, Vec<(RegionId, String)>) {
    let mut regions: Vec<RegionId> = candidates.iter().map(|b| RegionId::of_broker(*b)).collect();
    regions.sort_by_key(|r| r.index());
    regions.dedup();
    let mut ready = vec![];
    let mut unchecked = vec![];
    let mut unconfigured = vec![];
    for r in regions {
        match ready_in_region(session, r).await {
            Ok(ids) => {
                tracing::debug!(%r, ?ids, "ready broker pods");
                ready.extend(ids);
            }
            Err(Unchecked::Unreachable(why)) => {
                session
                    .ui
                    .note(format!("broker pods of {r} not checked: {why}"));
                unchecked.push((r, why));
            }
            Err(Unchecked::NotConfigured(why)) => {
                unchecked.push((r, why.clone()));
                unconfigured.push((r, why));
            }
        }
    }
    ready.sort_unstable();
    ready.dedup();
    (ready, unchecked, unconfigured)
}

/// What `/v2/topology` lists and which broker pods run Ready in the regions holding
/// `candidates`, when those regions' Kubernetes APIs answer. Without `/v2/topology` there is no
/// evidence that anything is down: refused (exit 3). Whether the evidence supports a removal is
/// judged by `zeebe::brokers::check_removal`.
pub(crate) async fn liveness(session: &Session, candidates: &[u32]) -> Result<Liveness> {
    let topo = match session.rest().await {
        Ok(rest) => rest.topology().await,
        Err(e) => Err(e),
    };
    let topo = match topo {
        Ok(t) => t,
        Err(e) => {
            // Ready pods are evidence that brokers are alive: when every region of the
            // candidates has some, none is lost and skipping the check is never the way out
            // (issue 19 item 11). (A failover passes every member: the surviving region's
            // Ready pods alone say nothing about the other's.)
            let (ready, _, _) = ready_brokers(session, candidates).await;
            let live: Vec<u32> = candidates
                .iter()
                .copied()
                .filter(|b| ready.contains(b))
                .collect();
            let regions = |ids: &[u32]| -> std::collections::BTreeSet<RegionId> {
                ids.iter().map(|b| RegionId::of_broker(*b)).collect()
            };
            if !live.is_empty() && regions(&live) == regions(candidates) {
                return Err(Error::refused(format!(
                    "brokers {live:?} are alive: their pods run Ready. A forced removal would split the cluster; \
                     nothing to remove. (Also: {})",
                    topology_unreadable(session, &e)
                )));
            }
            return Err(Error::refused(format!(
                "no evidence that brokers {candidates:?} are down: {}. Without it c8dr does not remove brokers by force \
                 (the surviving region's pods say nothing about the other region's brokers). Pass --skip-liveness-check \
                 only if you have verified yourself that these brokers are gone: removing live brokers by force splits \
                 the cluster and can lose data",
                topology_unreadable(session, &e)
            )));
        }
    };
    let listed = topo.reachable();
    let (ready, unchecked, unconfigured) = ready_brokers(session, candidates).await;
    // From one region's gateway a network partition between the regions looks exactly like a
    // lost region: the other region's brokers are not listed. Its own Kubernetes API tells the
    // two apart (Ready pods: partitioned; no answer: lost), so a region the environment does not
    // locate is not taken for lost (found by the model-based test: a partition, the recreated
    // region's variables unset, and a failover removed the live region's brokers).
    let removed_unlisted = |r: &RegionId| {
        candidates
            .iter()
            .any(|b| RegionId::of_broker(*b) == *r && !listed.contains(b))
    };
    if let Some((region, why)) = unconfigured.iter().find(|(r, _)| removed_unlisted(r)) {
        return Err(Error::refused(format!(
            "cannot check whether {region}'s brokers are down: {why}. From the other region alone, \
             a network partition between the regions looks exactly like a lost region; set the \
             lost region's variables (CLUSTER_{i}/CAMUNDA_NAMESPACE_{i}, or CLUSTER_RECREATED/\
             CAMUNDA_NAMESPACE_RECREATED) so c8dr can ask its Kubernetes API (no answer: it is \
             taken as lost)",
            i = region.index()
        )));
    }
    Ok(Liveness::new(listed, ready, unchecked))
}
