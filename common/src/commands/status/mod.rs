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

use std::time::Duration;

pub use observe::{PROBE_TIMEOUT, configured_sizes, pod_disables_schema_manager};
pub use profiles::{PodProfiles, ProfilesReport, logged_profiles, profiles};
pub use view::{
    BrokerPod, BrokerView, ClusterView, PartitionView, PendingView, ProfilesView, RegionView,
    StatusReport,
};

use observe::{Evidence, RegionProbe, probe_region};

use crate::error::Result;
use crate::procedure;
use crate::region::{RegionId, RegionRef};
use crate::session::{Session, Settings};

/// One region to probe: its id, its role as the environment names it, and a session for it
/// (or why none could be built, e.g. no context configured for the recreated region).
struct RegionTarget {
    id: RegionId,
    role: String,
    /// The `--region` value that reaches it, when not the default (`surviving`).
    flag: Option<String>,
    session: std::result::Result<Session, String>,
}

/// Sessions for both regions: the command's own (with its flags and direct URLs) and one for the
/// other region from the environment; plus notes about assumptions made.
fn region_targets(session: &Session) -> (Vec<RegionTarget>, Vec<String>) {
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
        notes.push(
            "broker roles and health need the v2 REST API (set CAMUNDA_CLIENT_AUTH_*): showing the management view"
                .to_string(),
        );
    }
    Ok(StatusReport {
        regions: probes.into_iter().map(|p| p.report).collect(),
        cluster,
        lost_region: verdict.lost_region.map(|r| r.to_string()),
        phase: verdict.line(),
        procedure: verdict,
        notes,
        release: release.clone(),
    })
}
