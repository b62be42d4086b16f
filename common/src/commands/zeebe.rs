//! Zeebe commands: brokers, exporters, exporting, changes, topology.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::http::answer_lost;
use crate::output::{Render, table};
use crate::region::RegionId;
use crate::session::Session;
use crate::wait::Poller;
use crate::zeebe::brokers::{self, Evidence, Liveness, Selection};
use crate::zeebe::change::{ChangeState, observe};
use crate::zeebe::management::coordinator_unreachable;
use crate::zeebe::model::{
    BrokerState, BrokersPatch, ClusterPatch, ClusterTopology, ExporterStatus, LastChange,
    PartitionState, PartitionsPatch, PendingChange, PlannedOperations, Topology,
};
use crate::zeebe::{ManagementClient, RestAuth};

fn plan_lines(planned: &PlannedOperations) -> Vec<String> {
    planned
        .planned_changes
        .iter()
        .map(|op| op.describe())
        .collect()
}

fn pending_refusal(t: &ClusterTopology) -> Result<()> {
    if let Some(p) = &t.pending_change {
        return Err(Error::refused(format!(
            "change {} is still in progress ({} of {} operations done); sending another change now would be \
             rejected (409) or race it. Wait for it: kubectl c8dr changes wait {}; or, if it is stuck, cancel it: \
             kubectl c8dr changes cancel {}",
            p.id,
            p.completed.len(),
            p.completed.len() + p.pending.len(),
            p.id,
            p.id
        )));
    }
    Ok(())
}

/// Context for an error of a routed management call: when the gateway cannot reach the
/// coordinator, say so and what it means (SPEC 3.1 "Routing", camunda/camunda#63506).
pub(crate) fn explain_coordinator(e: Error, t: Option<&ClusterTopology>) -> Error {
    if !coordinator_unreachable(&e) {
        return e;
    }
    let who = t
        .and_then(|t| t.member_ids().first().copied())
        .map(|b| format!("broker {b}, the lowest member id"))
        .unwrap_or_else(|| "the lowest member id".into());
    Error::unreachable(
        "the cluster coordinator",
        format!(
            "{e}. The gateway forwards this request to the coordinator ({who}), which does not answer: \
             its region looks lost. Until the forced removal of that region's brokers completes, the \
             cluster configuration, a pending change and the exporters cannot be read or changed \
             (camunda/camunda#63506); kubectl c8dr topology shows what the gateway still sees"
        ),
    )
}

/// The cluster configuration as far as it can be read.
pub(crate) enum ClusterRead {
    /// `GET /actuator/cluster` answered.
    Full(ClusterTopology),
    /// The coordinator does not answer; membership comes from `/v2/topology` (reachable members
    /// plus, up to `clusterSize`, the unlisted ids), the pending change is unknown.
    CoordinatorLost { cluster: ClusterTopology },
}

impl ClusterRead {
    pub(crate) fn cluster(&self) -> &ClusterTopology {
        match self {
            Self::Full(t) | Self::CoordinatorLost { cluster: t, .. } => t,
        }
    }
    pub(crate) fn coordinator_lost(&self) -> bool {
        matches!(self, Self::CoordinatorLost { .. })
    }
}

/// Membership from `/v2/topology` alone: the reachable members, then the lowest unlisted ids up to
/// `clusterSize` (region ids are dense: `nodeId = ordinal * 2 + region`).
pub(crate) fn cluster_from_topology(topo: &Topology) -> ClusterTopology {
    let listed = topo.reachable();
    let mut brokers: Vec<BrokerState> = topo
        .brokers
        .iter()
        .filter(|b| !b.partitions.is_empty())
        .map(|b| BrokerState {
            id: b.node_id,
            state: "ACTIVE".into(),
            partitions: b
                .partitions
                .iter()
                .map(|p| PartitionState {
                    id: p.partition_id,
                    state: "ACTIVE".into(),
                    priority: 0,
                    config: serde_json::Value::Null,
                })
                .collect(),
        })
        .collect();
    let missing = (topo.cluster_size as usize).saturating_sub(brokers.len());
    brokers.extend(
        (0u32..)
            .filter(|id| !listed.contains(id))
            .take(missing)
            .map(|id| BrokerState {
                id,
                state: "ACTIVE".into(),
                partitions: vec![],
            }),
    );
    brokers.sort_by_key(|b| b.id);
    ClusterTopology {
        version: 0,
        brokers,
        last_change: topo.last_completed_change().map(|id| LastChange {
            id,
            status: "COMPLETED".into(),
            started_at: None,
            completed_at: None,
        }),
        pending_change: None,
    }
}

/// Read the cluster configuration; when the coordinator cannot answer, fall back to
/// `/v2/topology` (the gateway's own view) and say what cannot be known.
pub(crate) async fn read_cluster(
    session: &Session,
    mgmt: &ManagementClient,
) -> Result<ClusterRead> {
    let error = match mgmt.cluster_quick().await {
        Ok(t) => return Ok(ClusterRead::Full(t)),
        Err(e) if coordinator_unreachable(&e) => e,
        Err(e) => return Err(e),
    };
    let topo = match session.rest().await {
        Ok(rest) => rest.topology().await,
        Err(e) => Err(e),
    };
    match topo {
        Ok(topo) => {
            session.ui.note(format!(
                "GET /actuator/cluster does not answer ({error}): the coordinator looks lost; reading membership \
                 from /v2/topology. A pending change cannot be read until broker {} is removed (camunda/camunda#63506)",
                cluster_from_topology(&topo)
                    .member_ids()
                    .iter()
                    .find(|m| !topo.reachable().contains(m))
                    .map(u32::to_string)
                    .unwrap_or_else(|| "0".into())
            ));
            Ok(ClusterRead::CoordinatorLost {
                cluster: cluster_from_topology(&topo),
            })
        }
        // Credentials are what is missing: with them, /v2/topology carries the procedure while the
        // coordinator is lost. Refuse (exit 3) and say how to provide them (SPEC 4.2).
        Err(
            rest @ Error::Api {
                status: 401 | 403, ..
            },
        ) => Err(Error::refused(format!(
            "the cluster coordinator does not answer (its region looks lost), so membership and liveness \
             must come from /v2/topology, and {}",
            rest_missing(session, &rest)
        ))),
        Err(rest) => Err(explain_coordinator(error, None).context(format!(
            "and /v2/topology could not be read either ({rest})"
        ))),
    }
}

/// The newest change id a topology shows (pending or last), -1 when none.
fn baseline(t: &ClusterTopology) -> i64 {
    t.pending_change
        .as_ref()
        .map(|p| p.id)
        .into_iter()
        .chain(t.last_change.as_ref().map(|l| l.id))
        .max()
        .unwrap_or(-1)
}

/// What a mutation means to do: how its change is recognised when its answer is lost or another
/// c8dr run sent it first.
#[derive(Debug, Clone)]
pub(crate) enum Intent {
    Remove(Vec<u32>),
    Add(Vec<u32>),
    Exporter { id: String, enable: bool },
}

impl Intent {
    fn matches(&self, p: &PendingChange) -> bool {
        let mut ops = p.completed.iter().chain(&p.pending);
        match self {
            Self::Remove(ids) => {
                // Only a FORCED removal (`BROKER_REMOVE` naming the removed broker in `brokers`,
                // `MemberRemoveOperation`): a normal removal of lost brokers waits for them forever.
                let removed: Vec<u32> = p
                    .completed
                    .iter()
                    .chain(&p.pending)
                    .filter(|o| o.brokers.as_ref().is_some_and(|b| !b.is_empty()))
                    .flat_map(|o| o.removed_brokers())
                    .collect();
                !ids.is_empty() && ids.iter().all(|b| removed.contains(b))
            }
            Self::Add(ids) if ids.is_empty() => ops.any(|o| o.operation.starts_with("PARTITION_")),
            Self::Add(ids) => ops.any(|o| {
                o.operation == "BROKER_ADD" && o.broker_id.is_some_and(|b| ids.contains(&b))
            }),
            Self::Exporter { id, enable } => {
                let kind = if *enable {
                    "PARTITION_ENABLE_EXPORTER"
                } else {
                    "PARTITION_DISABLE_EXPORTER"
                };
                ops.any(|o| o.operation == kind && o.exporter_id.as_deref() == Some(id.as_str()))
            }
        }
    }
}

/// The change to follow after a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Nothing was started (the plan was empty).
    Nothing,
    /// This change.
    Change(i64),
    /// Some change newer than this id, not readable yet (the coordinator is lost).
    After(i64),
}

impl Follow {
    fn id(self) -> Option<i64> {
        match self {
            Self::Change(id) => Some(id),
            _ => None,
        }
    }
}

/// A change already pending when a mutation is about to be sent: follow it when it does what the
/// mutation would (another c8dr run, or an earlier run whose answer was lost), else refuse.
fn follow_pending(
    session: &Session,
    t: &ClusterTopology,
    intent: &Intent,
) -> Result<Option<Follow>> {
    match &t.pending_change {
        Some(p) if intent.matches(p) => {
            session.ui.note(format!(
                "change {} is already in progress and does exactly this (another c8dr run?): following it \
                 instead of sending a second request",
                p.id
            ));
            Ok(Some(Follow::Change(p.id)))
        }
        Some(_) => pending_refusal(t).map(|_| None),
        None => Ok(None),
    }
}

/// Send a mutation ONCE (SPEC safety rule 7) and return the change to follow. When its answer is
/// lost, the cluster is re-read to learn whether it was applied; a 409 is judged the same way (a
/// change that does the same is followed). It is never sent again.
pub(crate) async fn send_once<F>(
    session: &Session,
    mgmt: &ManagementClient,
    call: &str,
    before: i64,
    intent: &Intent,
    send: F,
) -> Result<Follow>
where
    F: std::future::Future<Output = Result<PlannedOperations>>,
{
    let error = match send.await {
        Ok(planned) if planned.planned_changes.is_empty() => return Ok(Follow::Nothing),
        Ok(planned) => return Ok(Follow::Change(planned.change_id)),
        Err(e) => e,
    };
    let conflict = matches!(error, Error::Api { status: 409, .. });
    if !conflict && !answer_lost(&error) {
        return Err(error);
    }
    if !conflict {
        session.ui.warn(format!(
            "the answer to {call} was lost ({error}); it is NOT sent again: reading the cluster to learn whether it was applied"
        ));
    }
    let read = match read_cluster(session, mgmt).await {
        Ok(r) => r,
        Err(e) => {
            return Err(e.context(format!(
                "{call}: the answer was lost ({error}) and the cluster cannot be read to tell whether it was applied; \
                 check with kubectl c8dr changes show before running it again"
            )));
        }
    };
    let t = match read {
        ClusterRead::Full(t) => t,
        ClusterRead::CoordinatorLost { .. } => {
            session.ui.note(format!(
                "{call}: {}; following the cluster through /v2/topology",
                if conflict {
                    "another change is in progress (409) and cannot be read while the coordinator is lost"
                } else {
                    "whether it was applied cannot be read while the coordinator is lost"
                }
            ));
            return Ok(Follow::After(before));
        }
    };
    if let Some(p) = t
        .pending_change
        .as_ref()
        .filter(|p| p.id > before || conflict)
    {
        if intent.matches(p) {
            session.ui.note(format!(
                "change {} is in progress and does what {call} asked{}: following it",
                p.id,
                if conflict {
                    " (sent by another c8dr run?)"
                } else {
                    ""
                }
            ));
            return Ok(Follow::Change(p.id));
        }
        return pending_refusal(&t).map(|_| Follow::Nothing);
    }
    if let Some(l) = t.last_change.as_ref().filter(|l| l.id > before) {
        session.ui.note(format!(
            "change {} was started and has ended {}: judging it",
            l.id, l.status
        ));
        return Ok(Follow::Change(l.id));
    }
    if conflict {
        return Err(error);
    }
    Err(Error::unreachable(
        call.to_string(),
        format!(
            "{error}; the cluster shows no new change, so the request was not applied and nothing changed. \
             Run the command again when the gateway answers"
        ),
    ))
}

/// Wait for change `id` to complete (SPEC 3.1), with progress. `Ok` only on COMPLETED.
pub async fn wait_for_change(
    session: &Session,
    mgmt: &ManagementClient,
    id: i64,
    label: &str,
) -> Result<()> {
    wait_for(session, mgmt, Follow::Change(id), label)
        .await
        .map(|_| ())
}

/// Wait for a change to complete: by `GET /actuator/cluster`, or, while the coordinator cannot
/// answer, by `/v2/topology` `lastCompletedChangeId` (SPEC 3.1 "Routing"). Returns the change id
/// when it became known.
pub async fn wait_for(
    session: &Session,
    mgmt: &ManagementClient,
    follow: Follow,
    label: &str,
) -> Result<Option<i64>> {
    let (mut id, after) = match follow {
        Follow::Nothing => return Ok(None),
        Follow::Change(id) => (Some(id), id - 1),
        Follow::After(b) => (None, b),
    };
    let mut poller = Poller::new(label, session.settings.timeout);
    let progress = session.ui.progress(label, 0);
    let mut said_fallback = false;
    let mut state = ChangeState::NotStarted;
    // Readable observations showing no change newer than `after` (for `Follow::After`).
    let mut nothing_new = 0u32;
    loop {
        // Each poll is a fresh request. A dropped tunnel, a restarting gateway or a lost
        // coordinator must not end a wait that may take minutes.
        match mgmt.cluster_quick().await {
            Ok(t) => {
                if id.is_none() {
                    id = t
                        .pending_change
                        .as_ref()
                        .map(|p| p.id)
                        .or(t.last_change.as_ref().map(|l| l.id))
                        .filter(|i| *i > after);
                    if id.is_none() {
                        // The coordinator answers again and shows no newer change: the request
                        // whose answer was lost was not applied.
                        nothing_new += 1;
                        if nothing_new >= 3 {
                            progress.finish();
                            return Err(Error::unreachable(
                                label.to_string(),
                                format!(
                                    "the cluster shows no change newer than {after}: the request was not applied and                                      nothing changed. Run the command again"
                                ),
                            ));
                        }
                    }
                }
                if let Some(cid) = id {
                    state = observe(&t, cid);
                    match &state {
                        ChangeState::Completed => {
                            progress.finish();
                            return Ok(Some(cid));
                        }
                        ChangeState::Ended { status } => {
                            progress.finish();
                            return Err(Error::failed(format!(
                                "change {cid} ended {status}: it did not complete"
                            )));
                        }
                        ChangeState::InProgress { completed, total } => {
                            progress.update(*completed as u64, *total as u64)
                        }
                        ChangeState::NotStarted => {}
                    }
                }
            }
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "cannot read the cluster while waiting; polling on");
                if let Ok(rest) = session.rest().await
                    && let Ok(topo) = rest.topology().await
                {
                    if !said_fallback && coordinator_unreachable(&e) {
                        said_fallback = true;
                        session.ui.note(
                            "GET /actuator/cluster does not answer (coordinator lost): following the change through \
                             /v2/topology lastCompletedChangeId",
                        );
                    }
                    if let Some(done) = topo.last_completed_change()
                        && done > after
                        && id.is_none_or(|cid| done >= cid)
                    {
                        progress.finish();
                        return Ok(Some(id.unwrap_or(done)));
                    }
                }
            }
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        }
        if !poller.tick().await {
            progress.finish();
            let what = match (id, &state) {
                (Some(cid), ChangeState::InProgress { completed, total }) => format!(
                    "change {cid} ({label}) is still in progress ({completed}/{total}) — follow it with: kubectl c8dr changes wait {cid}"
                ),
                (Some(cid), _) => format!(
                    "change {cid} ({label}) has not completed — follow it with: kubectl c8dr changes wait {cid}"
                ),
                (None, _) => format!(
                    "{label}: no change newer than {after} was seen completing; while the coordinator is lost \
                     the change cannot be read (camunda/camunda#63506): check kubectl c8dr topology, and do not \
                     send the request again blindly"
                ),
            };
            return Err(Error::Timeout {
                what,
                after: humantime::format_duration(session.settings.timeout).to_string(),
            });
        }
    }
}

/// Evidence that brokers are down or alive, with what could not be checked (SPEC safety rule 2).
fn rest_missing(session: &Session, e: &Error) -> String {
    let none = RestAuth::from_env(&session.settings.env)
        .map(|a| a.is_none())
        .unwrap_or(false);
    match e {
        Error::Api { status: 401, .. } if none => "/v2/topology needs credentials and none are set: export \
             CAMUNDA_CLIENT_AUTH_METHOD=basic, CAMUNDA_CLIENT_AUTH_USERNAME and CAMUNDA_CLIENT_AUTH_PASSWORD \
             (or CAMUNDA_CLIENT_AUTH_METHOD=oidc with CAMUNDA_CLIENT_AUTH_CLIENT_ID, CAMUNDA_CLIENT_AUTH_CLIENT_SECRET \
             and CAMUNDA_CLIENT_AUTH_TOKEN_URL), as the Camunda docs do"
            .to_string(),
        Error::Api { status: 401, service, .. } => format!(
            "{service} answered HTTP 401: the credentials in CAMUNDA_CLIENT_AUTH_* were rejected; check the \
             username/password (or the OIDC client id, secret and token URL)"
        ),
        Error::Api { status: 403, .. } => "/v2/topology answered HTTP 403: the CAMUNDA_CLIENT_AUTH_* user may \
             not read the topology; use a user or client with access to the orchestration cluster API"
            .to_string(),
        Error::Unreachable { .. } => format!(
            "/v2/topology could not be reached ({e}); check the gateway's port 8080 or pass --rest-url"
        ),
        other => format!("/v2/topology could not be read ({other})"),
    }
}

/// Broker ids that run Ready in region `region`'s cluster, when its API answers within a few
/// seconds; `Err` says why not (not configured, unreachable).
async fn ready_in_region(
    session: &Session,
    region: RegionId,
) -> std::result::Result<Vec<u32>, String> {
    let own = session.settings.location.id == Some(region);
    let other;
    let s = if own {
        session
    } else {
        let settings = session
            .settings
            .for_region(crate::region::RegionRef::Index(region))
            .map_err(|e| e.to_string())?;
        // Without its own context the kubeconfig's current one would answer for the wrong cluster.
        if settings.location.context.is_none() {
            return Err(format!(
                "no kube context is configured for {region} (CLUSTER_{} or CLUSTER_SURVIVING/CLUSTER_RECREATED)",
                region.index()
            ));
        }
        other = Session::new(settings, session.ui.clone());
        &other
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), s.ready_broker_ids()).await {
        Ok(Ok(ids)) => Ok(ids),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the Kubernetes API of {region} did not answer within 5 s"
        )),
    }
}

/// Which brokers are alive: `/v2/topology` is required (a broker it does not list is not
/// reachable by the gateway); broker pods Ready in the regions holding `candidates` count as
/// alive too, when those regions' Kubernetes APIs answer. Without `/v2/topology` there is no
/// evidence that anything is down: refused (SPEC safety rule 2).
pub(crate) async fn liveness(session: &Session, candidates: &[u32]) -> Result<Liveness> {
    let topo = match session.rest().await {
        Ok(rest) => rest.topology().await,
        Err(e) => Err(e),
    };
    let topo = match topo {
        Ok(t) => t,
        Err(e) => {
            return Err(Error::refused(format!(
                "no evidence that brokers {candidates:?} are down: {}. Without it c8dr does not remove brokers by force \
                 (the surviving region's pods say nothing about the other region's brokers). Pass --skip-liveness-check \
                 only if you have verified yourself that these brokers are gone: removing live brokers by force splits \
                 the cluster and can lose data",
                rest_missing(session, &e)
            )));
        }
    };
    let listed = topo.reachable();
    let mut regions: Vec<RegionId> = candidates.iter().map(|b| RegionId::of_broker(*b)).collect();
    regions.sort_by_key(|r| r.index());
    regions.dedup();
    let mut ready = vec![];
    for r in regions {
        match ready_in_region(session, r).await {
            Ok(ids) => {
                tracing::debug!(%r, ?ids, "ready broker pods");
                ready.extend(ids);
            }
            Err(why) => session
                .ui
                .note(format!("broker pods of {r} not checked: {why}")),
        }
    }
    let listed_hit = candidates.iter().any(|b| listed.contains(b));
    let pods_hit = candidates.iter().any(|b| ready.contains(b));
    let mut alive: Vec<u32> = listed.iter().chain(&ready).copied().collect();
    alive.sort_unstable();
    alive.dedup();
    Ok(Liveness {
        evidence: if !listed_hit && pods_hit {
            Evidence::ReadyPods
        } else {
            Evidence::V2Topology
        },
        alive,
    })
}

/// Dry-run, confirm, submit a cluster PATCH once and wait for its change. `Ok(Ok(id))` is the
/// completed change; `Ok(Err(outcome))` an early result (`--dry-run`, `--no-wait`).
#[allow(clippy::too_many_arguments)]
async fn submit_patch(
    session: &Session,
    mgmt: &ManagementClient,
    cmd: &str,
    patch: &ClusterPatch,
    force: bool,
    operations: usize,
    plan: &[String],
    summary: &str,
    before: i64,
    intent: &Intent,
) -> Result<std::result::Result<Option<i64>, Outcome>> {
    if session.settings.dry_run {
        return Ok(Err(
            Outcome::new(cmd, Ending::DryRun, summary).with_plan(plan.to_vec())
        ));
    }
    session
        .ui
        .confirm(&format!("Plan: {summary} ({operations} operations)"), plan)?;
    let call = format!(
        "PATCH /actuator/cluster{}",
        if force { "?force=true" } else { "" }
    );
    let follow = send_once(
        session,
        mgmt,
        &call,
        before,
        intent,
        mgmt.patch_cluster(patch, false, force),
    )
    .await?;
    if session.settings.no_wait {
        return Ok(Err(Outcome::new(
            cmd,
            Ending::Submitted,
            match follow.id() {
                Some(id) => format!("change {id}: {summary}"),
                None => summary.to_string(),
            },
        )
        .with_plan(plan.to_vec())
        .with_change(follow.id())));
    }
    Ok(Ok(wait_for(session, mgmt, follow, summary).await?))
}

/// `brokers remove`: force-remove the lost region's brokers (failover step 1). Works with the
/// coordinator lost (region 0): membership and liveness from `/v2/topology`, the forced removal
/// sent to the lowest surviving member by the gateway, completion from `/v2/topology`.
pub async fn brokers_remove(
    session: &Session,
    selection: Selection,
    skip_liveness_check: bool,
) -> Result<Outcome> {
    const CMD: &str = "brokers remove";
    let mgmt = session.management().await?;
    let read = read_cluster(session, mgmt).await?;
    let t = read.cluster().clone();
    let members = t.member_ids();
    let remove = brokers::to_remove(&selection, &members);
    if remove.is_empty() {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!("none of the selected brokers is a member (members: {members:?})"),
        )
        .with_details(json!({"members": members})));
    }
    let intent = Intent::Remove(remove.clone());
    let summary = format!("force-remove brokers {remove:?}");
    let pending = follow_pending(session, &t, &intent)?;
    let follow = match pending {
        Some(f) => Some(f),
        None => {
            let liveness = if skip_liveness_check {
                session.ui.warn(
                    "--skip-liveness-check: NOT verifying that the brokers to remove are down; removing live brokers \
                     by force splits the cluster and can lose data",
                );
                Liveness {
                    evidence: Evidence::V2Topology,
                    alive: vec![],
                }
            } else {
                liveness(session, &remove).await?
            };
            brokers::check_removal(&remove, &members, &liveness)?;
            session.ui.note(format!(
                "brokers {remove:?} are unreachable (evidence: {}); planning a forced removal",
                liveness.evidence
            ));
            None
        }
    };
    let patch = ClusterPatch {
        brokers: BrokersPatch {
            remove: remove.clone(),
            add: vec![],
        },
        ..Default::default()
    };
    let mut plan = vec![format!(
        "PATCH /actuator/cluster?force=true {}",
        serde_json::to_string(&patch).unwrap_or_default()
    )];
    let completed = match follow {
        Some(f) => {
            if session.settings.dry_run {
                return Ok(Outcome::new(
                    CMD,
                    Ending::DryRun,
                    format!(
                        "{summary}: already in progress as change {}",
                        f.id().unwrap_or(-1)
                    ),
                ));
            }
            wait_for(session, mgmt, f, &summary).await?
        }
        None => {
            // The dry run goes to the lowest surviving member too: it works with the coordinator lost.
            let planned = mgmt.patch_cluster(&patch, true, true).await?;
            plan.extend(plan_lines(&planned));
            match submit_patch(
                session,
                mgmt,
                CMD,
                &patch,
                true,
                planned.planned_changes.len(),
                &plan,
                &summary,
                baseline(&t),
                &intent,
            )
            .await?
            {
                Ok(id) => id,
                Err(early) => return Ok(early),
            }
        }
    };
    let after = read_cluster(session, mgmt).await?;
    let after_t = after.cluster();
    let still: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| after_t.member_ids().contains(b))
        .collect();
    let change = completed
        .map(|id| format!("change {id}"))
        .unwrap_or_else(|| "the change".into());
    if !still.is_empty() {
        return Err(Error::failed(format!(
            "{change} completed but brokers {still:?} are still members"
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: brokers {remove:?} removed; members now {:?}, replication factor {}",
            after_t.member_ids(),
            after_t.replication_factor()
        ),
    )
    .with_plan(plan)
    .with_change(completed)
    .with_details(json!({"members": after_t.member_ids(), "replicationFactor": after_t.replication_factor()})))
}

/// `brokers add`: re-add the recreated region's brokers with the original replication factor
/// (failback step 7). A normal change: `force` is never sent with `add` (SPEC 3.1).
pub async fn brokers_add(
    session: &Session,
    selection: Selection,
    cluster_size: Option<u32>,
    replication_factor: Option<u32>,
) -> Result<Outcome> {
    const CMD: &str = "brokers add";
    let mgmt = session.management().await?;
    let t = mgmt
        .cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    let members = t.member_ids();
    let add = brokers::to_add(&selection, &members, cluster_size)?;
    let current_rf = t.replication_factor();
    let (rf, rf_reason) = match (add.is_empty(), replication_factor) {
        // Already members: only a stated factor that differs is left to apply.
        (true, stated) => (
            stated.unwrap_or(current_rf),
            format!("replication factor {current_rf}"),
        ),
        (false, stated) => brokers::restored_replication_factor(stated, current_rf),
    };
    if add.is_empty() && rf == current_rf {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the brokers are members and the replication factor is {rf} (members: {members:?})"
            ),
        )
        .with_details(json!({"members": members, "replicationFactor": rf})));
    }
    let intent = Intent::Add(add.clone());
    let pending = follow_pending(session, &t, &intent)?;
    if pending.is_none() && !add.is_empty() {
        // The brokers must run, or the change waits for them forever.
        if let Ok(rest) = session.rest().await
            && let Ok(topo) = rest.topology().await
        {
            let missing: Vec<u32> = add
                .iter()
                .copied()
                .filter(|b| !topo.brokers.iter().any(|x| x.node_id == *b))
                .collect();
            if !missing.is_empty() {
                return Err(Error::refused(format!(
                    "brokers {missing:?} are not running (absent from /v2/topology): install the recreated region first \
                     (helm c8dr redeploy --region recreated --no-webapps --no-schema-manager)"
                )));
            }
        }
    }
    let patch = ClusterPatch {
        brokers: BrokersPatch {
            add: add.clone(),
            remove: vec![],
        },
        partitions: PartitionsPatch {
            replication_factor: Some(rf),
        },
    };
    let summary = if add.is_empty() {
        format!("set the replication factor to {rf}")
    } else {
        format!("add brokers {add:?} with replication factor {rf}")
    };
    let mut plan = vec![
        format!(
            "PATCH /actuator/cluster {}",
            serde_json::to_string(&patch).unwrap_or_default()
        ),
        rf_reason,
    ];
    let id = match pending {
        Some(f) if !session.settings.dry_run => wait_for(session, mgmt, f, &summary).await?,
        Some(f) => {
            return Ok(Outcome::new(
                CMD,
                Ending::DryRun,
                format!(
                    "{summary}: already in progress as change {}",
                    f.id().unwrap_or(-1)
                ),
            ));
        }
        None => {
            let planned = mgmt.patch_cluster(&patch, true, false).await?;
            plan.extend(plan_lines(&planned));
            match submit_patch(
                session,
                mgmt,
                CMD,
                &patch,
                false,
                planned.planned_changes.len(),
                &plan,
                &summary,
                baseline(&t),
                &intent,
            )
            .await?
            {
                Ok(id) => id,
                Err(early) => return Ok(early),
            }
        }
    };
    let change = id
        .map(|id| format!("change {id}"))
        .unwrap_or_else(|| "the change".into());
    let after = mgmt.cluster().await?;
    if after.replication_factor() != rf || add.iter().any(|b| !after.member_ids().contains(b)) {
        return Err(Error::failed(format!(
            "{change} completed but the cluster has members {:?} and replication factor {} (expected {rf})",
            after.member_ids(),
            after.replication_factor()
        )));
    }
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "{change} completed: members {:?}, replication factor {rf}",
            after.member_ids()
        ),
    )
    .with_plan(plan)
    .with_change(id)
    .with_details(json!({"members": after.member_ids(), "replicationFactor": rf})))
}

/// The exporters, for `exporters list`.
#[derive(Debug, Serialize)]
pub struct ExporterList {
    pub exporters: Vec<ExporterStatus>,
}

impl Render for ExporterList {
    fn text(&self) -> String {
        table(
            &["EXPORTER", "STATUS", "REGION"],
            self.exporters
                .iter()
                .map(|e| {
                    let region = crate::region::region_of_exporter(&e.exporter_id)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into());
                    vec![e.exporter_id.clone(), e.status.clone(), region]
                })
                .collect(),
        )
    }
}

pub async fn exporters_list(session: &Session) -> Result<ExporterList> {
    let mgmt = session.management().await?;
    Ok(ExporterList {
        exporters: mgmt
            .exporters()
            .await
            .map_err(|e| explain_coordinator(e, None))?,
    })
}

fn find_exporter<'a>(
    list: &'a [ExporterStatus],
    id: &str,
    flag: &str,
) -> Result<&'a ExporterStatus> {
    list.iter().find(|e| e.exporter_id == id).ok_or_else(|| {
        Error::usage(format!(
            "{flag}: unknown exporter '{id}'; the gateway knows {}",
            list.iter()
                .map(|e| e.exporter_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Wait until `GET /actuator/exporters` shows the target status (it lags briefly, SPEC 3.2).
async fn wait_exporter_status(
    session: &Session,
    mgmt: &ManagementClient,
    id: &str,
    target: &str,
) -> Result<()> {
    let mut poller = Poller::new(format!("exporter {id}"), session.settings.timeout);
    loop {
        let list = mgmt.exporters().await?;
        let status = list
            .iter()
            .find(|e| e.exporter_id == id)
            .map(|e| e.status.as_str())
            .unwrap_or("missing");
        if status == target {
            return Ok(());
        }
        if !poller.tick().await {
            return Err(Error::Timeout {
                what: format!("exporter {id} still reports {status}, expected {target}"),
                after: humantime::format_duration(session.settings.timeout).to_string(),
            });
        }
    }
}

/// `exporters disable ID` (failover step 2) and `exporters enable ID [--initialize-from F]`
/// (failback step 5).
pub async fn exporter_set(
    session: &Session,
    id: &str,
    enable: bool,
    initialize_from: Option<&str>,
) -> Result<Outcome> {
    exporter_set_with(session, id, enable, initialize_from, false).await
}

/// [`exporter_set`], with `allow_no_exporter`: disabling the last enabled exporter is refused
/// unless it is set (SPEC safety rule 10).
pub async fn exporter_set_with(
    session: &Session,
    id: &str,
    enable: bool,
    initialize_from: Option<&str>,
    allow_no_exporter: bool,
) -> Result<Outcome> {
    let cmd = if enable {
        "exporters enable"
    } else {
        "exporters disable"
    };
    let target = if enable { "ENABLED" } else { "DISABLED" };
    let mgmt = session.management().await?;
    let list = mgmt
        .exporters()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    let current = find_exporter(&list, id, "exporter")?;
    if let Some(from) = initialize_from {
        find_exporter(&list, from, "--initialize-from")?;
        if from == id {
            return Err(Error::usage(format!(
                "--initialize-from {from}: an exporter cannot be initialised from itself"
            )));
        }
    }
    // The cluster configuration decides "already done": GET /actuator/exporters can still show
    // the previous state right after a change (SPEC 3.2).
    let t = mgmt
        .cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    let state_of = |e: &ExporterStatus| {
        t.exporter_state(&e.exporter_id)
            .unwrap_or_else(|| e.status.clone())
    };
    if state_of(current) == target {
        return Ok(Outcome::new(
            cmd,
            Ending::AlreadyDone,
            format!("exporter {id} is {target}"),
        ));
    }
    let intent = Intent::Exporter {
        id: id.to_string(),
        enable,
    };
    let pending = follow_pending(session, &t, &intent)?;
    let mut warnings = vec![];
    if !enable {
        let others: Vec<&str> = list
            .iter()
            .filter(|e| e.exporter_id != id && state_of(e) == "ENABLED")
            .map(|e| e.exporter_id.as_str())
            .collect();
        if others.is_empty() && !allow_no_exporter {
            return Err(Error::refused(format!(
                "disabling {id} would leave no exporter enabled: nothing would reach Elasticsearch any more, \
                 Operate and Tasklist would stop updating, and no exporter would hold back log compaction for a \
                 later restore. Pass --allow-no-exporter if that is really what you want"
            )));
        }
        let own = session.settings.location.id;
        if let Some(region) = crate::region::region_of_exporter(id)
            && own == Some(region)
        {
            warnings.push(format!(
                "WARNING: {id} exports to the Elasticsearch of {region}, the surviving region this command runs \
                 against: disabling it stops exporting there{}",
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (still enabled: {})", others.join(", "))
                }
            ));
        }
    }
    let call = match (enable, initialize_from) {
        (true, Some(f)) => format!(
            "POST /actuator/exporters/{id}/enable {}",
            json!({"initializeFrom": f})
        ),
        (true, None) => format!("POST /actuator/exporters/{id}/enable"),
        (false, _) => format!("POST /actuator/exporters/{id}/disable"),
    };
    let verb = if enable { "enable" } else { "disable" };
    let summary = match initialize_from {
        Some(f) => format!("{verb} exporter {id}, initialised from {f}"),
        None => format!("{verb} exporter {id} (currently {})", current.status),
    };
    let mut plan = warnings.clone();
    plan.push(call.clone());
    plan.push(format!(
        "then wait for the change to complete and for {id} to report {target}"
    ));
    for w in &warnings {
        session.ui.warn(w);
    }
    if session.settings.dry_run {
        return Ok(Outcome::new(cmd, Ending::DryRun, summary).with_plan(plan));
    }
    let follow = match pending {
        Some(f) => f,
        None => {
            session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
            let send = async {
                if enable {
                    mgmt.exporter_enable(id, initialize_from).await
                } else {
                    mgmt.exporter_disable(id).await
                }
            };
            send_once(session, mgmt, &call, baseline(&t), &intent, send).await?
        }
    };
    if session.settings.no_wait {
        return Ok(Outcome::new(cmd, Ending::Submitted, summary)
            .with_plan(plan)
            .with_change(follow.id()));
    }
    let change = wait_for(session, mgmt, follow, &summary).await?;
    wait_exporter_status(session, mgmt, id, target).await?;
    Ok(
        Outcome::new(cmd, Ending::Done, format!("exporter {id} is {target}"))
            .with_plan(plan)
            .with_change(change),
    )
}

/// How long a pause or resume may take to show on every broker after the gateway accepted it.
const PHASE_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

fn phase_word(soft: bool) -> &'static str {
    if soft { "SOFT_PAUSED" } else { "PAUSED" }
}

fn first(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(", …");
    }
    s
}

/// `exporting pause [--soft]` (failback step 3). The pause state is read on every broker first
/// (SPEC 3.3): a hard pause over a soft one is refused (camunda/camunda#55838), a pause already in
/// place is "already done". The pause needs every partition complete and is not atomic: retried a
/// few times, then reverted with a resume. Success is reported only once every partition of every
/// broker that can be read shows the pause.
pub async fn exporting_pause(session: &Session, soft: bool) -> Result<Outcome> {
    const CMD: &str = "exporting pause";
    let mgmt = session.management().await?;
    let call = format!(
        "POST /actuator/exporting/pause{}",
        if soft { "?soft=true" } else { "" }
    );
    let target = phase_word(soft);
    let plan = vec![
        call,
        "judged by the body's status (HTTP 200 wraps the real result)".into(),
        format!(
            "verified on every broker pod: GET /actuator/partitions shows {target} on each partition"
        ),
    ];
    let summary = if soft {
        "soft-pause exporting"
    } else {
        "pause exporting"
    }
    .to_string();
    let before = super::exporting::observe(session).await;
    if !soft && before.count_in("SOFT_PAUSED") > 0 {
        let soft_on: Vec<String> = before
            .replicas()
            .filter(|(_, p)| p.exporter_phase.as_deref() == Some("SOFT_PAUSED"))
            .map(|(b, p)| format!("{} partition {}", b.pod, p.partition))
            .collect();
        return Err(Error::refused(format!(
            "exporting is soft-paused ({}): a hard pause over a soft pause corrupts the brokers' pause \
             state (camunda/camunda#55838). Resume first, then pause: kubectl c8dr exporting resume, \
             then kubectl c8dr exporting pause",
            first(&soft_on, 4)
        )));
    }
    if before.observed() && before.not_in(target).is_empty() {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "exporting is already {}paused: {} partition replicas on {} brokers show {target}",
                if soft { "soft-" } else { "" },
                before.count_in(target),
                before.brokers_read()
            ),
        )
        .with_plan(plan)
        .with_details(serde_json::to_value(&before).unwrap_or_default()));
    }
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, summary).with_plan(plan));
    }
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let mut last = None;
    for attempt in 1..=4u32 {
        match mgmt.exporting_pause(soft).await {
            Ok(()) => {
                let after = super::exporting::wait_for_phase(session, target, PHASE_SETTLE).await;
                let missing = after.not_in(target);
                if !missing.is_empty() {
                    last = Some(Error::failed(format!(
                        "the gateway reported the pause, but {} partition replicas do not show {target}: {}",
                        missing.len(),
                        first(&missing, 4)
                    )));
                    break;
                }
                if soft {
                    // camunda/camunda#55838: a hard pause over a soft one corrupts the pause file.
                    session.ui.note(
                        "to switch to a hard pause later, resume first (kubectl c8dr exporting resume): \
                         a hard pause over a soft one corrupts the brokers' pause state",
                    );
                }
                let verified = if after.observed() {
                    format!(
                        "; verified: {} partition replicas on {} brokers show {target}",
                        after.count_in(target),
                        after.brokers_read()
                    )
                } else {
                    format!(
                        "; NOT verified: the brokers' /actuator/partitions could not be read ({})",
                        after.unread().join("; ")
                    )
                };
                return Ok(Outcome::new(
                    CMD,
                    Ending::Done,
                    format!(
                        "exporting is {}paused{verified}",
                        if soft { "soft-" } else { "" }
                    ),
                )
                .with_plan(plan)
                .with_details(serde_json::to_value(&after).unwrap_or_default()));
            }
            Err(e @ Error::Api { .. }) => {
                session
                    .ui
                    .note(format!("pause attempt {attempt} failed: {e}"));
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(250 * u64::from(attempt)))
                    .await;
            }
            Err(e) => return Err(e),
        }
    }
    // Some partitions may have paused (the broadcast is not atomic): revert so log compaction is
    // not left stopped — unless the brokers show that nothing paused (e.g. the topology was
    // incomplete: the gateway then sends nothing, and would refuse the resume just the same).
    let view = super::exporting::observe(session).await;
    let stopped = view.count_in("PAUSED") + view.count_in("SOFT_PAUSED");
    let revert = if view.observed() && stopped == 0 {
        format!(
            "no partition was paused (observed on {} brokers): nothing to revert",
            view.brokers_read()
        )
    } else {
        match mgmt.exporting_resume().await {
            Ok(()) => "exporting was resumed to revert a partial pause".to_string(),
            Err(e) => format!(
                "resuming to revert a partial pause ALSO failed ({e}): run kubectl c8dr exporting resume"
            ),
        }
    };
    Err(Error::failed(format!(
        "pausing exporting failed: {}; {revert}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// `exporting resume` (failback step 6), verified on the brokers like a pause.
pub async fn exporting_resume(session: &Session) -> Result<Outcome> {
    const CMD: &str = "exporting resume";
    let mgmt = session.management().await?;
    let plan = vec![
        "POST /actuator/exporting/resume".to_string(),
        "verified on every broker pod: GET /actuator/partitions shows EXPORTING on each partition"
            .to_string(),
    ];
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, "resume exporting").with_plan(plan));
    }
    session.ui.confirm("Plan: resume exporting", &plan)?;
    mgmt.exporting_resume().await?;
    let after = super::exporting::wait_for_phase(session, "EXPORTING", PHASE_SETTLE).await;
    let missing = after.not_in("EXPORTING");
    if !missing.is_empty() {
        return Err(Error::failed(format!(
            "the gateway reported the resume, but {} partition replicas are still not exporting: {}; \
             run kubectl c8dr exporting resume again",
            missing.len(),
            first(&missing, 4)
        )));
    }
    let verified = if after.observed() {
        format!(
            "; verified: {} partition replicas on {} brokers show EXPORTING",
            after.count_in("EXPORTING"),
            after.brokers_read()
        )
    } else {
        String::new()
    };
    Ok(
        Outcome::new(CMD, Ending::Done, format!("exporting is resumed{verified}"))
            .with_plan(plan)
            .with_details(serde_json::to_value(&after).unwrap_or_default()),
    )
}

/// `changes show`: the pending and last change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesView {
    pub pending_change: Option<crate::zeebe::model::PendingChange>,
    pub last_change: Option<crate::zeebe::model::LastChange>,
}

impl Render for ChangesView {
    fn text(&self) -> String {
        let mut s = String::new();
        match &self.pending_change {
            Some(p) => {
                s.push_str(&format!(
                    "pending change {}: {} ({} of {} operations done)\n",
                    p.id,
                    p.status,
                    p.completed.len(),
                    p.completed.len() + p.pending.len()
                ));
                for op in p.pending.iter().take(10) {
                    s.push_str(&format!("  next: {}\n", op.describe()));
                }
            }
            None => s.push_str("no change in progress\n"),
        }
        if let Some(l) = &self.last_change {
            s.push_str(&format!(
                "last change {}: {}{}\n",
                l.id,
                l.status,
                l.completed_at
                    .as_deref()
                    .map(|c| format!(" at {c}"))
                    .unwrap_or_default()
            ));
        }
        s
    }
}

pub async fn changes_show(session: &Session) -> Result<ChangesView> {
    let t = session
        .management()
        .await?
        .cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    Ok(ChangesView {
        pending_change: t.pending_change,
        last_change: t.last_change,
    })
}

/// `changes wait [ID]`: the given change, else the pending one.
pub async fn changes_wait(session: &Session, id: Option<i64>) -> Result<Outcome> {
    let mgmt = session.management().await?;
    if let Some(id) = id {
        // A known id can be followed through /v2/topology while the coordinator is lost.
        wait_for_change(session, mgmt, id, &format!("change {id}")).await?;
        return Ok(Outcome::new(
            "changes wait",
            Ending::Done,
            format!("change {id} completed"),
        )
        .with_change(Some(id)));
    }
    let t = mgmt
        .cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    let id = match id.or(t.pending_change.as_ref().map(|p| p.id)) {
        Some(id) => id,
        None => {
            return Ok(Outcome::new(
                "changes wait",
                Ending::AlreadyDone,
                match &t.last_change {
                    Some(l) => format!("no change in progress; last change {} {}", l.id, l.status),
                    None => "no change in progress".into(),
                },
            ));
        }
    };
    wait_for_change(session, mgmt, id, &format!("change {id}")).await?;
    Ok(Outcome::new(
        "changes wait",
        Ending::Done,
        format!("change {id} completed"),
    )
    .with_change(Some(id)))
}

/// `changes cancel ID`: applied operations are NOT rolled back; confirmed with the operator.
pub async fn changes_cancel(session: &Session, id: i64) -> Result<Outcome> {
    const CMD: &str = "changes cancel";
    let mgmt = session.management().await?;
    let t = mgmt
        .cluster()
        .await
        .map_err(|e| explain_coordinator(e, None))?;
    match &t.pending_change {
        Some(p) if p.id == id => {}
        Some(p) => {
            return Err(Error::usage(format!(
                "change {id} is not in progress (the pending change is {})",
                p.id
            )));
        }
        None => {
            if t.last_change
                .as_ref()
                .is_some_and(|l| l.id == id && l.status == "CANCELLED")
            {
                return Ok(Outcome::new(
                    CMD,
                    Ending::AlreadyDone,
                    format!("change {id} is cancelled"),
                ));
            }
            return Err(Error::usage(format!(
                "change {id} is not in progress (no change is pending)"
            )));
        }
    }
    let plan = vec![
        format!("DELETE /actuator/cluster/changes/{id}"),
        "operations already applied are NOT rolled back; the cluster keeps the partial configuration".into(),
    ];
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Ending::DryRun, format!("cancel change {id}")).with_plan(plan),
        );
    }
    session
        .ui
        .confirm(&format!("Plan: cancel change {id}"), &plan)?;
    // Sent once: after a lost answer the cluster tells whether the change was cancelled.
    if let Err(e) = mgmt.cancel_change(id).await {
        if !answer_lost(&e) {
            return Err(e);
        }
        session.ui.warn(format!(
            "the answer to DELETE /actuator/cluster/changes/{id} was lost ({e}); it is NOT sent again: reading the cluster"
        ));
        let after = mgmt
            .cluster()
            .await
            .map_err(|e2| explain_coordinator(e2, Some(&t)))?;
        match (&after.pending_change, &after.last_change) {
            (Some(p), _) if p.id == id => {
                return Err(Error::unreachable(
                    format!("DELETE /actuator/cluster/changes/{id}"),
                    format!("{e}; change {id} is still in progress: the cancel was not applied"),
                ));
            }
            (_, Some(l)) if l.id == id && l.status != "CANCELLED" => {
                return Err(Error::failed(format!(
                    "change {id} ended {} before the cancel took effect",
                    l.status
                )));
            }
            _ => {}
        }
    }
    Ok(
        Outcome::new(CMD, Ending::Done, format!("change {id} cancelled"))
            .with_plan(plan)
            .with_change(Some(id)),
    )
}

/// `topology`: the v2 view (reachable brokers with partition roles and health).
#[derive(Debug, Serialize)]
pub struct TopologyView(pub Topology);

impl Render for TopologyView {
    fn text(&self) -> String {
        let t = &self.0;
        let mut brokers = t.brokers.clone();
        brokers.sort_by_key(|b| b.node_id);
        let rows = brokers
            .iter()
            .map(|b| {
                let mut parts: BTreeMap<u32, String> = BTreeMap::new();
                for p in &b.partitions {
                    let role = match p.role.as_str() {
                        "leader" => "L",
                        "follower" => "F",
                        _ => "I",
                    };
                    parts.insert(
                        p.partition_id,
                        format!(
                            "{}{role}{}",
                            p.partition_id,
                            if p.health == "healthy" { "" } else { "!" }
                        ),
                    );
                }
                vec![
                    b.node_id.to_string(),
                    crate::region::RegionId::of_broker(b.node_id).to_string(),
                    if b.partitions.is_empty() {
                        "(not a member)".into()
                    } else {
                        parts.into_values().collect::<Vec<_>>().join(" ")
                    },
                    b.version.clone(),
                ]
            })
            .collect();
        format!(
            "cluster size {}, partitions {}, replication factor {}, gateway {}, last completed change {}\n{}",
            t.cluster_size,
            t.partitions_count,
            t.replication_factor,
            t.gateway_version,
            t.last_completed_change_id,
            table(
                &[
                    "BROKER",
                    "REGION",
                    "PARTITIONS (L=leader F=follower !=unhealthy)",
                    "VERSION"
                ],
                rows
            )
        )
    }
}

pub async fn topology(session: &Session) -> Result<TopologyView> {
    Ok(TopologyView(session.rest().await?.topology().await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeebe::model::Operation;

    fn op(v: serde_json::Value) -> Operation {
        serde_json::from_value(v).expect("operation")
    }

    fn pending(ops: Vec<Operation>) -> PendingChange {
        PendingChange {
            id: 3,
            status: "IN_PROGRESS".into(),
            completed: vec![],
            pending: ops,
        }
    }

    #[test]
    fn a_forced_removal_is_recognised_by_the_removed_brokers_not_the_executor() {
        let forced = pending(vec![
            op(json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [1]})),
            op(json!({"operation": "BROKER_REMOVE", "brokerId": 0, "brokers": [3]})),
        ]);
        assert!(Intent::Remove(vec![1, 3]).matches(&forced));
        assert!(!Intent::Remove(vec![0]).matches(&forced));
        // A normal removal of lost brokers waits for them forever: not followed.
        let normal = pending(vec![op(
            json!({"operation": "BROKER_REMOVE", "brokerId": 1}),
        )]);
        assert!(!Intent::Remove(vec![1]).matches(&normal));
    }

    #[test]
    fn an_exporter_change_is_recognised_by_exporter_and_direction() {
        let disable = pending(vec![op(json!({"operation": "PARTITION_DISABLE_EXPORTER",
            "brokerId": 0, "partitionId": 1, "exporterId": "camundaregion1"}))]);
        let intent = |id: &str, enable| Intent::Exporter {
            id: id.into(),
            enable,
        };
        assert!(intent("camundaregion1", false).matches(&disable));
        assert!(!intent("camundaregion1", true).matches(&disable));
        assert!(!intent("camundaregion0", false).matches(&disable));
    }

    #[test]
    fn membership_from_v2_topology_fills_the_unlisted_ids_up_to_the_cluster_size() {
        let mut brokers: Vec<serde_json::Value> = [1, 3, 5, 7]
            .iter()
            .map(|id| {
                json!({"nodeId": id, "partitions": [{"partitionId": 1, "role": "follower", "health": "healthy"}]})
            })
            .collect();
        // A running non-member (a recreated broker) is listed with no partitions.
        brokers.push(json!({"nodeId": 9, "partitions": []}));
        let topo: Topology = serde_json::from_value(json!({
            "clusterSize": 8,
            "partitionsCount": 8,
            "lastCompletedChangeId": "4",
            "brokers": brokers,
        }))
        .expect("topology");
        let t = cluster_from_topology(&topo);
        assert_eq!(t.member_ids(), vec![0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(t.last_change.map(|l| l.id), Some(4));
        assert!(t.pending_change.is_none());
    }
}
