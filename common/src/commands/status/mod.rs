//! `status` (both regions on one screen, and the procedure step) and `profiles` (a region's
//! active Spring profiles compared with what is expected).
//!
//! `status` probes both regions concurrently, each part bounded by a short timeout, so a lost
//! region shows as unreachable instead of hiding the other one or hanging the command.
//!
//! - `observe`: probing a region, and the procedure's observation of both.
//! - `view`: what `status` reports, as data; `render`: as text.
//! - `profiles`: the `profiles` command.

mod observe;
mod profiles;
mod render;
mod view;
mod watch;

use std::time::Duration;

pub use observe::{PROBE_TIMEOUT, configured_sizes, pod_disables_schema_manager};
pub use profiles::{PodProfiles, ProfilesReport, logged_profiles, profiles};
pub use view::{
    BrokerPod, BrokerView, ClusterView, PartitionView, PendingView, ProfilesView, RegionView,
    Scope, StatusReport,
};
pub use watch::{Frame, Watch, fingerprint, watch};

use observe::{Evidence, RegionProbe, probe_region};

use crate::error::{Error, Result};
use crate::location::RegionLocation;
use crate::procedure;
use crate::region::{RegionId, RegionRef};
use crate::session::{Session, Settings};

/// One region to probe: its id, its role as the environment names it, and a session for it
/// (or why none could be built, e.g. no context configured for the recreated region).
pub(crate) struct RegionTarget {
    pub(crate) id: RegionId,
    pub(crate) role: String,
    /// The `--region` value that reaches it, when not the default (`surviving`).
    pub(crate) flag: Option<String>,
    pub(crate) session: std::result::Result<Session, String>,
}

/// Sessions for both regions: the command's own (with its flags and direct URLs) and one for the
/// other region from the environment; plus notes about assumptions made.
pub(crate) fn region_targets(session: &Session) -> (Vec<RegionTarget>, Vec<String>) {
    let s = &session.settings;
    let other_ref = match s.region {
        RegionRef::Surviving => RegionRef::Recreated,
        RegionRef::Recreated => RegionRef::Surviving,
        RegionRef::Index(id) => RegionRef::Index(id.other()),
    };
    let other = s.for_region(other_ref);
    let mut notes = vec![];
    let other_id = other.as_ref().ok().and_then(|o| o.location.id);
    let own_id = match (s.location.id, other_id) {
        (Some(id), _) => id,
        (None, Some(o)) => o.other(),
        (None, None) => {
            notes.push(
                "REGION_SURVIVING is not set: assuming the surviving region is region0 (set it, or CLUSTER_0/CLUSTER_1)"
                    .to_string(),
            );
            match s.region {
                RegionRef::Recreated => RegionId::ONE,
                _ => RegionId::ZERO,
            }
        }
    };
    let hint = recreated_hint(s);
    let flag = |r: RegionRef| (r != RegionRef::Surviving).then(|| r.to_string());
    let role = |id: RegionId, r: RegionRef| match (hint, r) {
        (Some(h), _) if h == id => "recreated".to_string(),
        (Some(_), _) => "surviving".to_string(),
        (None, RegionRef::Surviving) => "surviving".to_string(),
        (None, RegionRef::Recreated) => "recreated".to_string(),
        (None, RegionRef::Index(_)) => String::new(),
    };
    let mut out = vec![
        RegionTarget {
            id: own_id,
            role: role(own_id, s.region),
            flag: flag(s.region),
            session: Ok(Session::new(s.clone(), session.ui.clone())),
        },
        RegionTarget {
            id: own_id.other(),
            role: role(own_id.other(), other_ref),
            flag: flag(other_ref),
            session: other
                .map(|o| Session::new(o, session.ui.clone()))
                .map_err(|e| e.to_string()),
        },
    ];
    out.sort_by_key(|t| t.id);
    (out, notes)
}

/// The region the environment names as recreated, if any.
fn recreated_hint(settings: &Settings) -> Option<RegionId> {
    let env = &settings.env;
    crate::location::locate(RegionRef::Recreated, env)
        .ok()
        .and_then(|l| l.id)
        .or_else(|| {
            crate::location::locate(RegionRef::Surviving, env)
                .ok()
                .and_then(|l| l.id)
                .map(RegionId::other)
        })
}

/// Gather both regions concurrently and decide the procedure step.
pub async fn status(session: &Session, limit: Duration) -> Result<StatusReport> {
    let (targets, mut notes) = region_targets(session);
    let probes = targets.iter().map(|t| async move {
        match &t.session {
            Ok(s) => probe_region(s, t.id, &t.role, limit).await,
            Err(err) => RegionProbe::unconfigured(t.id, &t.role, err),
        }
    });
    // The installation read is bounded like every probe (--probe-timeout), at the same time.
    let (probes, release) = tokio::join!(
        futures_util::future::join_all(probes),
        session.release_within(limit)
    );
    let probes: Vec<RegionProbe> = probes;
    let evidence = Evidence::of(&probes);
    let cluster = evidence.cluster_view();
    let mut obs = evidence.observation(&probes, recreated_hint(&session.settings));
    for t in &targets {
        if t.session.is_ok() {
            obs.region_flags[t.id.index()] = t.flag.clone();
        }
    }
    let mut verdict = procedure::detect(&obs);
    if let Some(why) = &release.refusal {
        // status never suggests a command that would be refused for what it can see.
        verdict.next = None;
        verdict
            .notes
            .push(format!("c8dr refuses to change this installation: {why}"));
    }
    // A region that is not configured is taken for lost only on evidence (detection says what
    // is missing otherwise).
    let has_topology = evidence.topology.is_some();
    if cluster.is_some() && !has_topology {
        let why = match evidence.topology_error {
            Some(e) => format!("/v2/topology could not be read ({e})"),
            None => "set CAMUNDA_CLIENT_AUTH_*".to_string(),
        };
        notes.push(format!(
            "broker roles and health need the v2 REST API ({why}): showing the management view"
        ));
        removal_refused(
            &mut verdict,
            &format!(
                "it needs evidence that the lost brokers are down, which /v2/topology gives: {why}"
            ),
        );
    }
    let disabled = evidence.disabled_tenants();
    if !disabled.is_empty() {
        removal_refused(
            &mut verdict,
            &format!(
                "physical tenant(s) {} are disabled but hold partitions, so the cluster refuses \
                 every removal: discard each with DELETE /actuator/cluster/physical-tenants/<id>?force=true \
                 on a surviving broker (it keeps the tenant's data)",
                disabled.join(", ")
            ),
        );
        notes.push(format!(
            "physical tenant(s) {} disabled, still holding partitions (docs/zone-aware.md)",
            disabled.join(", ")
        ));
    }
    notes.extend(leaders_note(session, release, cluster.as_ref(), &verdict, limit).await);
    Ok(StatusReport {
        scope: Scope::BothRegions,
        regions: probes.into_iter().map(|p| p.report).collect(),
        cluster,
        lost_region: verdict.lost_region.map(|r| r.to_string()),
        phase: verdict.line(),
        procedure: verdict,
        notes,
        release: release.clone(),
    })
}

/// Healthy, but one region leads every partition (what a failback leaves, camunda/camunda#40036):
/// suggest `kubectl c8dr rebalance`, in the document's notes too, unless c8dr refuses this
/// installation or the rebalance would be refused: 8.10's coordinated rebalance is read first
/// (`GET /cluster/v2/rebalance`, within `limit`), and a 401/403 says what is missing instead.
async fn leaders_note(
    session: &Session,
    release: &crate::release::installation::Judgement,
    cluster: Option<&ClusterView>,
    verdict: &procedure::Verdict,
    limit: Duration,
) -> Option<String> {
    let region = cluster?.leaders?.one_region_leads_all()?;
    let facts = release.facts().ok()?;
    if verdict.phase != procedure::Phase::Healthy {
        return None;
    }
    let leads = format!("{region} leads every partition");
    if facts.coordinated_rebalance {
        let read = async { session.rest().await?.balance().await };
        if let Ok(Err(
            e @ Error::Api {
                status: 401 | 403, ..
            },
        )) = tokio::time::timeout(limit, read).await
        {
            return Some(format!(
                "{leads}: kubectl c8dr rebalance would spread the leaders but would be refused \
                 now ({e})"
            ));
        }
    }
    Some(format!(
        "{leads}: spread the leaders with kubectl c8dr rebalance"
    ))
}

/// The forced removal would be refused — for want of evidence that the lost brokers are down,
/// which `/v2/topology` gives (docs/contract.md §4 rule 2), or by the cluster itself — so status
/// names what is missing instead of the command (rule 13).
fn removal_refused(verdict: &mut procedure::Verdict, why: &str) {
    let remove = procedure::Action::RemoveBrokers.step();
    let suggests_removal =
        verdict.phase == procedure::Phase::Failover && verdict.steps.contains(&remove.number());
    if let (true, Some(next)) = (suggests_removal, verdict.next.take()) {
        verdict.notes.push(format!(
            "{} ({next}) would be refused now: {why}; then run it",
            remove.named()
        ));
    }
}

/// `status --context CONTEXT`: the one region of that context (namespace: `namespace_flag`, else
/// the docs' variables' for that context, else the context's own), the cluster as its gateway
/// shows it, and no procedure step (judging one needs both regions).
pub async fn status_of_context(
    session: &Session,
    context: &str,
    namespace_flag: Option<&str>,
    limit: Duration,
) -> Result<StatusReport> {
    let s = &session.settings;
    let found = crate::location::located_context(context, &s.env);
    let mut notes = vec![];
    let id = match found.as_ref().and_then(|l| l.id) {
        Some(id) => id,
        None => {
            notes.push(format!(
                "the docs' variables do not say which region context {context} is: broker ids \
                 are read as region0's (set CLUSTER_0/CLUSTER_1 or REGION_SURVIVING)"
            ));
            RegionId::ZERO
        }
    };
    let side = found.as_ref().and_then(|l| l.side);
    let role = match (side, recreated_hint(s)) {
        (_, Some(h)) if h == id => "recreated",
        (_, Some(_)) => "surviving",
        (Some(RegionRef::Surviving), None) => "surviving",
        (Some(RegionRef::Recreated), None) => "recreated",
        _ => "",
    };
    let location = RegionLocation {
        id: Some(id),
        side,
        context: Some(context.to_string()),
        context_source: Some("--context".to_string()),
        namespace: namespace_flag
            .map(str::to_string)
            .or_else(|| found.and_then(|l| l.namespace)),
    };
    let region = Session::new(
        Settings {
            location,
            ..s.clone()
        },
        session.ui.clone(),
    );
    // A context the kubeconfig does not have is bad input, found before any call (building the
    // client sends nothing); one that does not answer is shown as unreachable.
    if let Err(e) = region.kube().await
        && e.exit_code() == 2
    {
        return Err(e);
    }
    let (probe, release) = tokio::join!(probe_region(&region, id, role, limit), region.release());
    let probes = [probe];
    let cluster = Evidence::of(&probes).cluster_view();
    let what = format!(
        "one-region view of {id} (context {context}): the procedure step needs both regions; \
         run kubectl c8dr status without --context to judge it"
    );
    let verdict = procedure::Verdict::not_judged(what.clone());
    let [probe] = probes;
    Ok(StatusReport {
        scope: Scope::OneRegion,
        regions: vec![probe.report],
        cluster,
        lost_region: None,
        phase: what,
        procedure: verdict,
        notes,
        release: release.clone(),
    })
}
