//! `kubectl c8dr rebalance`: move partition leadership back to each partition's primary (the
//! member with the highest priority) after a failback, which leaves every leader in the surviving
//! region — Zeebe does not move them back by itself (camunda/camunda#40036).
//!
//! validate (credentials, release) → evidence (`/actuator/cluster`, `/v2/topology`; 8.10:
//! `GET /cluster/v2/rebalance`) → safety (no pending change, members in both regions) → plan
//! (8.10: the gateway's own dry run; older: `POST /actuator/rebalance`) → confirm → send once →
//! follow until the leaders are spread → report leaders per region before and after. Everything
//! after the plan is the one mutation runner's ([`super::mutation::Mutation`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::mutation::{Mutation, Ticket};
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::region::RegionId;
use crate::session::Session;
use crate::wait::Poller;
use crate::zeebe::model::{ClusterTopology, Topology};
use crate::zeebe::rest::{Balance, REBALANCE_PATH, RestAuth};

const COMMAND: &str = "rebalance";

/// Partition leaders per region, as `/v2/topology` shows them (region = broker id parity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadersView {
    pub region0: u32,
    pub region1: u32,
    pub partitions: u32,
}

impl LeadersView {
    /// Count the partitions each region leads.
    pub fn of(t: &Topology) -> Self {
        let mut out = Self {
            region0: 0,
            region1: 0,
            partitions: t.partitions_count,
        };
        for (_, leader) in leaders(t) {
            match RegionId::of_broker(leader) {
                RegionId::ZERO => out.region0 += 1,
                _ => out.region1 += 1,
            }
        }
        out
    }

    /// The one region that leads every partition (there are partitions), if one does.
    pub fn one_region_leads_all(&self) -> Option<RegionId> {
        if self.partitions == 0 {
            None
        } else if self.region0 == self.partitions {
            Some(RegionId::ZERO)
        } else if self.region1 == self.partitions {
            Some(RegionId::ONE)
        } else {
            None
        }
    }
}

impl std::fmt::Display for LeadersView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "region0 {}, region1 {} of {} partitions",
            self.region0, self.region1, self.partitions
        )
    }
}

/// partition -> its leader in `/v2/topology`.
fn leaders(t: &Topology) -> BTreeMap<u32, u32> {
    t.brokers
        .iter()
        .flat_map(|b| {
            b.partitions
                .iter()
                .filter(|p| p.role == "leader")
                .map(move |p| (p.partition_id, b.node_id))
        })
        .collect()
}

/// partition -> its primary: the member with the highest priority in the configuration.
fn primaries(c: &ClusterTopology) -> BTreeMap<u32, u32> {
    let mut best: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    for b in &c.brokers {
        for p in &b.partitions {
            let e = best.entry(p.id).or_insert((b.id, p.priority));
            if p.priority > e.1 || (p.priority == e.1 && b.id < e.0) {
                *e = (b.id, p.priority);
            }
        }
    }
    best.into_iter().map(|(p, (b, _))| (p, b)).collect()
}

/// What the older releases' rebalance aims at: every partition led by its primary. Priorities
/// that name no primary in the other region (all equal, say) cannot say where leaders belong:
/// then leaders in both regions is the aim.
fn spread(t: &Topology, primaries: &BTreeMap<u32, u32>) -> bool {
    let led = leaders(t);
    let by_primary = primaries
        .values()
        .any(|b| RegionId::of_broker(*b) == RegionId::ONE)
        && primaries
            .values()
            .any(|b| RegionId::of_broker(*b) == RegionId::ZERO);
    if by_primary {
        primaries.iter().all(|(p, b)| led.get(p) == Some(b))
    } else {
        led.len() as u32 == t.partitions_count
            && LeadersView::of(t).one_region_leads_all().is_none()
    }
}

/// The moves that bring leaders to the primaries: `partition N: leader A → B`.
fn moves(t: &Topology, primaries: &BTreeMap<u32, u32>) -> Vec<String> {
    let led = leaders(t);
    primaries
        .iter()
        .filter(|(p, b)| led.get(p) != Some(b))
        .map(|(p, b)| match led.get(p) {
            Some(l) => format!("partition {p}: leader {l} → {b}"),
            None => format!("partition {p}: no leader → {b}"),
        })
        .collect()
}

/// The evidence: the configuration, the topology and, on 8.10, the gateway's balance.
struct Evidence {
    coordinated: bool,
    topology: Topology,
    primaries: BTreeMap<u32, u32>,
    balance: Option<Balance>,
}

/// Leaders are seen only in `/v2/topology`, which needs the REST credentials.
fn require_credentials(session: &Session) -> Result<()> {
    if RestAuth::from_env(&session.settings.env)?.is_none() {
        return Err(Error::refused(
            "partition leaders are read from /v2/topology, which needs the REST API credentials: \
             set CAMUNDA_CLIENT_AUTH_METHOD and CAMUNDA_CLIENT_AUTH_* (basic or oidc)",
        ));
    }
    Ok(())
}

/// A 401/403 from the REST API: the credentials do not let c8dr see (or move) leaders.
fn denied(e: Error, what: &str) -> Error {
    match e {
        Error::Api {
            status: 401 | 403, ..
        } => Error::refused(format!(
            "{what} was refused ({e}); 8.10's rebalance needs the cluster-admin credentials"
        )),
        e => e,
    }
}

async fn gather(session: &Session) -> Result<Evidence> {
    require_credentials(session)?;
    let facts = session.facts().await?;
    let coordinated = facts.coordinated_rebalance;
    let cluster = session.management().await?.cluster().await?;
    if let Some(p) = &cluster.pending_change {
        return Err(Error::refused(format!(
            "topology change {} is in progress: leaders move only in a settled cluster; wait for it \
             with `kubectl c8dr changes wait`, then run rebalance again",
            p.id
        )));
    }
    let members = cluster.member_ids();
    for region in [RegionId::ZERO, RegionId::ONE] {
        if !members.iter().any(|b| RegionId::of_broker(*b) == region) {
            return Err(Error::refused(format!(
                "{region} has no member brokers: there is nowhere to move leaders to; finish the \
                 failback first (`kubectl c8dr status` names the next step)"
            )));
        }
    }
    let rest = session.rest().await?;
    let topology = rest
        .topology()
        .await
        .map_err(|e| denied(e, "GET /v2/topology"))?;
    // Leaders move only between running brokers: a member the gateway does not list is a lost
    // region (before its failover) or a broker down; a rebalance would name it as a leader.
    let reachable = topology.reachable();
    let down: Vec<u32> = members
        .iter()
        .copied()
        .filter(|b| !reachable.contains(b))
        .collect();
    if !down.is_empty() {
        return Err(Error::refused(format!(
            "member brokers {} are unreachable (absent from /v2/topology): leaders cannot move to \
             them; if their region is lost, fail over first (`kubectl c8dr status` names the step), \
             else bring them back and run rebalance again",
            session.management().await?.names(&down)
        )));
    }
    let balance = if coordinated {
        Some(
            rest.balance()
                .await
                .map_err(|e| denied(e, &format!("GET {REBALANCE_PATH}")))?,
        )
    } else {
        None
    };
    Ok(Evidence {
        coordinated,
        topology,
        primaries: primaries(&cluster),
        balance,
    })
}

impl Evidence {
    fn balanced(&self) -> bool {
        match &self.balance {
            Some(b) => b.state == "BALANCED",
            None => spread(&self.topology, &self.primaries),
        }
    }

    fn running(&self) -> bool {
        self.balance
            .as_ref()
            .is_some_and(|b| b.state == "BALANCING")
    }
}

/// A rebalance sent (or found running): followed until the leaders are spread.
struct Sent;

impl Ticket for Sent {}

/// The plan: the gateway's own dry run on 8.10, the one call and its expected moves before.
async fn plan(session: &Session, ev: &Evidence) -> Result<Vec<String>> {
    let before = LeadersView::of(&ev.topology);
    let mut plan = vec![];
    let settings = &session.settings;
    if ev.coordinated && settings.dry_run && !settings.server_dry_run {
        // `--dry-run=client`, as kubectl's: nothing is sent, not even the gateway's dry run.
        plan.push(format!("POST {REBALANCE_PATH}"));
        plan.push("  (the gateway's own plan: --dry-run=server asks it)".into());
    } else if ev.coordinated {
        let dry = session.rest().await?.rebalance(true).await?;
        plan.push(format!("POST {REBALANCE_PATH} (the gateway's dry run:)"));
        let steps = dry
            .running_rebalance
            .map(|r| r.partitions)
            .unwrap_or_default();
        for s in steps.iter().filter(|s| s.progress != "COMPLETED") {
            plan.push(format!(
                "  partition {}: leader {} → {}",
                s.partition_id,
                s.current_leader.as_deref().unwrap_or("none"),
                s.desired_leader.as_deref().unwrap_or("?")
            ));
        }
    } else {
        plan.push("POST /actuator/rebalance (every partition's primary takes over)".into());
        plan.extend(
            moves(&ev.topology, &ev.primaries)
                .into_iter()
                .map(|m| format!("  {m}")),
        );
    }
    plan.push(format!("leaders now: {before}"));
    Ok(plan)
}

/// `kubectl c8dr rebalance`.
pub async fn rebalance(session: &Session) -> Result<Outcome> {
    let ev = gather(session).await?;
    let before = LeadersView::of(&ev.topology);
    if ev.balanced() {
        return Ok(Outcome::new(
            COMMAND,
            Ending::AlreadyDone,
            format!("every partition is led by its primary (leaders: {before})"),
        )
        .with_details(serde_json::json!({ "before": before, "after": before })));
    }
    let plan = plan(session, &ev).await?;
    let summary = format!("move partition leaders to their primaries (leaders: {before})");
    let following = ev.running().then_some(Sent);
    let ev = &ev;
    Mutation::new(session, COMMAND, summary, plan)
        .following(following)
        .run(
            async || submit(session, ev).await,
            async |e| recover(session, ev, e).await,
            async |_: Sent, plan| finish(session, ev, before, plan).await,
        )
        .await
}

async fn submit(session: &Session, ev: &Evidence) -> Result<Sent> {
    if ev.coordinated {
        session
            .rest()
            .await?
            .rebalance(false)
            .await
            .map_err(|e| denied(e, &format!("POST {REBALANCE_PATH}")))?;
    } else {
        session.management().await?.rebalance().await?;
    }
    Ok(Sent)
}

/// The answer was lost (or, on 8.10, another rebalance runs): it is followed, never sent again;
/// the wait says whether the leaders moved (docs/contract.md §4 rule 7).
async fn recover(session: &Session, ev: &Evidence, e: Error) -> Result<Sent> {
    if e.answer_lost() {
        session.ui.note(format!(
            "the rebalance's answer was lost ({e}); following the leaders to learn whether it took"
        ));
        return Ok(Sent);
    }
    if ev.coordinated && e.is_conflict() {
        let b = session.rest().await?.balance().await?;
        if b.state == "BALANCING" {
            return Ok(Sent);
        }
    }
    Err(e)
}

/// Wait until the leaders are spread, then report them before and after.
async fn finish(
    session: &Session,
    ev: &Evidence,
    before: LeadersView,
    plan: Vec<String>,
) -> Result<Outcome> {
    let what = if ev.coordinated {
        format!("GET {REBALANCE_PATH} to report BALANCED")
    } else {
        "every partition to be led by its primary in /v2/topology (POST /actuator/rebalance gives \
         no feedback: it may not have taken)"
            .to_string()
    };
    let mut poller = Poller::new(what, session.settings.timeout);
    let rest = session.rest().await?;
    loop {
        if ev.coordinated {
            let b = rest.balance().await?;
            if b.state == "BALANCED" {
                break;
            }
            ended_unbalanced(&b)?;
        } else if spread(&rest.topology().await?, &ev.primaries) {
            break;
        }
        poller.wait().await?;
    }
    let after = LeadersView::of(&rest.topology().await?);
    Ok(Outcome::new(
        COMMAND,
        Ending::Done,
        format!("leaders moved to their primaries: {before} → {after}"),
    )
    .with_plan(plan)
    .with_details(serde_json::json!({ "before": before, "after": after })))
}

/// 8.10: no rebalance runs, the cluster is not balanced, and the last one ended: it will not get
/// there by waiting — say which partitions stayed and why.
fn ended_unbalanced(b: &Balance) -> Result<()> {
    let Some(last) = b
        .last_completed_rebalance
        .as_ref()
        .filter(|_| b.running_rebalance.is_none() && b.state == "UNBALANCED")
    else {
        return Ok(());
    };
    let stayed: Vec<String> = last
        .partitions
        .iter()
        .filter(|s| !matches!(s.result.as_deref(), Some("TRANSFERRED" | "ALREADY_LEADER")))
        .map(|s| {
            format!(
                "partition {} ({})",
                s.partition_id,
                s.result.as_deref().unwrap_or("no result")
            )
        })
        .collect();
    Err(Error::failed(format!(
        "rebalance {} ended {} with the cluster still unbalanced: {}",
        last.rebalance_id,
        last.result.as_deref().unwrap_or("without a result"),
        if stayed.is_empty() {
            "its leaders moved again since".to_string()
        } else {
            stayed.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(leaders: &[(u32, u32)]) -> Topology {
        let brokers: Vec<serde_json::Value> = (0..4u32)
            .map(|id| {
                let parts: Vec<serde_json::Value> = (1..=4u32)
                    .map(|p| {
                        let role = if leaders.contains(&(p, id)) {
                            "leader"
                        } else {
                            "follower"
                        };
                        serde_json::json!({"partitionId": p, "role": role, "health": "healthy"})
                    })
                    .collect();
                serde_json::json!({"nodeId": id, "partitions": parts})
            })
            .collect();
        serde_json::from_value(serde_json::json!({"brokers": brokers, "partitionsCount": 4}))
            .unwrap_or_default()
    }

    #[test]
    fn leaders_are_counted_per_region_by_parity() {
        let t = topology(&[(1, 0), (2, 2), (3, 0), (4, 2)]);
        let v = LeadersView::of(&t);
        assert_eq!(v.to_string(), "region0 4, region1 0 of 4 partitions");
        assert_eq!(v.one_region_leads_all(), Some(RegionId::ZERO));
        let t = topology(&[(1, 0), (2, 1), (3, 2), (4, 3)]);
        assert_eq!(LeadersView::of(&t).one_region_leads_all(), None);
    }

    #[test]
    fn spread_means_every_partition_led_by_its_primary() {
        let primaries: BTreeMap<u32, u32> = [(1, 0), (2, 1), (3, 2), (4, 3)].into();
        assert!(spread(
            &topology(&[(1, 0), (2, 1), (3, 2), (4, 3)]),
            &primaries
        ));
        let skewed = topology(&[(1, 0), (2, 2), (3, 2), (4, 0)]);
        assert!(!spread(&skewed, &primaries));
        assert_eq!(
            moves(&skewed, &primaries),
            ["partition 2: leader 2 → 1", "partition 4: leader 0 → 3"]
        );
    }
}
