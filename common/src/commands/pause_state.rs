//! The exporting pause state, observed on the brokers themselves (docs/api-behaviour.md §3): the gateway reports
//! none, but every broker answers `GET /actuator/partitions` on its own pod's port 9600 with the
//! `exporterPhase` of each partition it hosts. c8dr reads every broker pod of both regions through
//! a port-forward to the pod (not the Service), and uses it to verify a pause or resume, to refuse
//! a hard pause over a soft one, and to show the state in `status`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::region::RegionRef;
use crate::session::Session;
use crate::wait::Poller;
use crate::zeebe::partitions::{self, PartitionStatus};

/// One broker pod as read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerExporting {
    pub pod: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u32>,
    pub ready: bool,
    /// The partitions it hosts, when it could be read.
    pub partitions: Vec<PartitionStatus>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Partitions the cluster configuration gives this member that its answer left out: unread
    /// (a broker leaves out a partition whose status query failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_partitions: Vec<u32>,
}

/// Which partitions each member broker hosts, by the cluster configuration: what every broker's
/// `/actuator/partitions` must show (partitions × replication factor replicas in all).
pub type Expected = BTreeMap<u32, Vec<u32>>;

/// One region's brokers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionExporting {
    /// `region0`/`region1`, when known.
    #[serde(rename = "region")]
    pub region_id: Option<String>,
    /// Which region was read, for people: `surviving region region0 (context …, namespace …)`.
    #[serde(rename = "readFrom")]
    pub region: String,
    /// exporting, paused, soft-paused, mixed, no partitions, unknown.
    pub state: String,
    /// Records processed but not exported yet: the largest lag of any partition.
    pub max_lag: i64,
    pub brokers: Vec<BrokerExporting>,
    /// Why the region's brokers could not be listed at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The region's API server did not answer in time: it is not waited for again in this
    /// command, so polling it is no use.
    #[serde(skip)]
    pub unanswered: bool,
}

impl RegionExporting {
    pub fn replicas(&self) -> impl Iterator<Item = (&BrokerExporting, &PartitionStatus)> {
        self.brokers
            .iter()
            .flat_map(|b| b.partitions.iter().map(move |p| (b, p)))
    }
    fn finish(mut self) -> Self {
        let replicas: Vec<PartitionStatus> = self.replicas().map(|(_, p)| p.clone()).collect();
        self.state = if self.error.is_some() || (replicas.is_empty() && self.unread() > 0) {
            "unknown".into()
        } else {
            partitions::summarize(replicas.iter()).into()
        };
        self.max_lag = replicas.iter().map(|p| p.lag()).max().unwrap_or(0);
        self
    }
    /// Judge every broker's answer against the cluster configuration read meanwhile (as
    /// [`observe_region_expecting`] does while reading), and summarise again.
    pub fn judged(mut self, expected: &Expected) -> Self {
        for b in &mut self.brokers {
            judge(b, Some(expected));
        }
        self.finish()
    }
    /// Broker pods that could not be read, or not all of whose partitions were.
    pub fn unread(&self) -> usize {
        self.brokers
            .iter()
            .filter(|b| b.error.is_some() || !b.missing_partitions.is_empty())
            .count()
    }
}

/// Both regions (or the one this session can reach).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportingView {
    pub regions: Vec<RegionExporting>,
    /// The members and their partitions by the cluster configuration, when it could be read.
    #[serde(skip)]
    pub expected: Option<Expected>,
}

impl ExportingView {
    pub fn replicas(&self) -> impl Iterator<Item = (&BrokerExporting, &PartitionStatus)> {
        self.regions.iter().flat_map(|r| r.replicas())
    }
    /// Whether at least one replica was read (else the state is not observable).
    pub fn observed(&self) -> bool {
        self.replicas().next().is_some()
    }
    /// Replicas whose phase is not `phase` (replicas without an exporter are ignored, as
    /// Camunda's QA does).
    pub fn not_in(&self, phase: &str) -> Vec<String> {
        self.replicas()
            .filter(|(_, p)| p.exporter_phase.as_deref().is_some_and(|ph| ph != phase))
            .map(|(b, p)| {
                format!(
                    "{} partition {} {}",
                    b.pod,
                    p.partition,
                    p.exporter_phase.as_deref().unwrap_or("?")
                )
            })
            .collect()
    }
    /// Replicas in `phase`.
    pub fn count_in(&self, phase: &str) -> usize {
        self.replicas()
            .filter(|(_, p)| p.exporter_phase.as_deref() == Some(phase))
            .count()
    }
    pub fn brokers_read(&self) -> usize {
        self.regions
            .iter()
            .flat_map(|r| &r.brokers)
            .filter(|b| b.error.is_none())
            .count()
    }
    /// One word over every replica read.
    pub fn state(&self) -> &'static str {
        if !self.observed() {
            return "unknown";
        }
        partitions::summarize(self.replicas().map(|(_, p)| p))
    }
    /// Member brokers (by the cluster configuration) not all of whose replicas were read: a
    /// pause is not verified while there is one. Without the configuration, the brokers that
    /// could not be read or left partitions out.
    pub fn unread_members(&self) -> Vec<u32> {
        let brokers = || self.regions.iter().flat_map(|r| &r.brokers);
        let mut out: Vec<u32> = match &self.expected {
            Some(expected) => expected
                .iter()
                .filter(|(_, parts)| !parts.is_empty())
                .filter(|(id, parts)| {
                    !brokers().any(|b| {
                        b.node_id == Some(**id)
                            && b.error.is_none()
                            && parts
                                .iter()
                                .all(|p| b.partitions.iter().any(|s| s.partition == *p))
                    })
                })
                .map(|(id, _)| *id)
                .collect(),
            None => brokers()
                .filter(|b| b.error.is_some() || !b.missing_partitions.is_empty())
                .filter_map(|b| b.node_id)
                .collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
    /// What could not be read, for messages.
    pub fn unread(&self) -> Vec<String> {
        let mut out = vec![];
        let listed: Vec<u32> = self
            .regions
            .iter()
            .flat_map(|r| &r.brokers)
            .filter_map(|b| b.node_id)
            .collect();
        if let Some(expected) = &self.expected {
            for (id, parts) in expected {
                if !parts.is_empty() && !listed.contains(id) {
                    out.push(format!(
                        "broker {id} (a member hosting partitions {parts:?}): its pod was not read"
                    ));
                }
            }
        }
        for r in &self.regions {
            if let Some(e) = &r.error {
                out.push(format!("{}: {e}", r.region));
            }
            for b in &r.brokers {
                if let Some(e) = &b.error {
                    out.push(format!("{}: {e}", b.pod));
                } else if !b.missing_partitions.is_empty() {
                    out.push(format!(
                        "{}: its answer left out partitions {:?} it hosts",
                        b.pod, b.missing_partitions
                    ));
                }
            }
        }
        out
    }
}

/// How long reading the cluster configuration may take (the coordinator may be lost).
const CONFIG_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// The members and their partitions, from `GET /actuator/cluster`, when it answers in time.
pub async fn expected_replicas(session: &Session) -> Option<Expected> {
    let read = async {
        let mgmt = session.management().await.ok()?;
        mgmt.cluster_quick().await.ok()
    };
    let t = tokio::time::timeout(CONFIG_BOUND, read).await.ok()??;
    Some(expected_of(&t))
}

/// The members and their partitions of a cluster configuration already read.
pub fn expected_of(t: &crate::zeebe::model::ClusterTopology) -> Expected {
    t.brokers
        .iter()
        .map(|b| (b.id, b.partitions.iter().map(|p| p.id).collect()))
        .collect()
}

/// One broker's answer judged against what the cluster configuration gives it: a member that
/// answers no partition at all is unread (Zeebe answers `{}` when its own status query times
/// out); one that leaves some out has them listed as missing.
fn judge(b: &mut BrokerExporting, expected: Option<&Expected>) {
    let (Some(expected), Some(id)) = (expected, b.node_id) else {
        return;
    };
    let Some(hosted) = expected.get(&id).filter(|p| !p.is_empty()) else {
        return;
    };
    if b.error.is_some() {
        return;
    }
    if b.partitions.is_empty() {
        b.error = Some(format!(
            "answered no partitions, but it is a member hosting partitions {hosted:?} (a broker answers {{}} \
             when its own partition query takes over 5 s): unread"
        ));
        return;
    }
    b.missing_partitions = hosted
        .iter()
        .copied()
        .filter(|p| !b.partitions.iter().any(|s| s.partition == *p))
        .collect();
}

/// Read every broker pod of this session's region, as answered (no cluster configuration is
/// read: [`observe_region_expecting`] with [`expected_replicas`] judges each member's answer).
pub async fn observe_region(session: &Session) -> RegionExporting {
    observe_region_expecting(session, None).await
}

/// Read every broker pod of this session's region, each judged against `expected`.
pub async fn observe_region_expecting(
    session: &Session,
    expected: Option<&Expected>,
) -> RegionExporting {
    let mut region = RegionExporting {
        region_id: session.settings.location.id.map(|r| r.to_string()),
        region: session.describe_region(),
        state: String::new(),
        max_lag: 0,
        brokers: vec![],
        error: None,
        unanswered: false,
    };
    let pods = match session.broker_pods().await {
        Ok(p) => p,
        Err(e) => {
            region.unanswered = matches!(e, crate::Error::Timeout { .. });
            region.error = Some(e.to_string());
            return region.finish();
        }
    };
    let reads = pods.into_iter().map(|(pod, node_id, ready)| async move {
        let read = async {
            let base = session.pod_tunnel(&pod, 9600).await?;
            partitions::read(base).await
        }
        .await;
        let (partitions, error) = match read {
            Ok(p) => (p, None),
            Err(e) => (vec![], Some(e.to_string())),
        };
        let mut b = BrokerExporting {
            pod,
            node_id,
            ready,
            partitions,
            error,
            missing_partitions: vec![],
        };
        judge(&mut b, expected);
        b
    });
    region.brokers = futures_util::future::join_all(reads).await;
    region.finish()
}

/// How long reading one region's brokers may take (a lost region's API server may not answer).
const REGION_BOUND: std::time::Duration = std::time::Duration::from_secs(8);

/// One region's brokers within [`REGION_BOUND`] (each call within the command's `--timeout`): a
/// region whose API server did not answer is not waited for again in this command.
async fn observe_bounded(session: &Session, expected: Option<&Expected>) -> RegionExporting {
    let read = async {
        let kube = session.kube().await?;
        kube.bounded(REGION_BOUND, "reading the brokers' pause state", async {
            Ok(observe_region_expecting(session, expected).await)
        })
        .await
    };
    match read.await {
        Ok(r) => r,
        Err(e) => RegionExporting {
            region_id: session.settings.location.id.map(|r| r.to_string()),
            region: session.describe_region(),
            state: "unknown".into(),
            max_lag: 0,
            brokers: vec![],
            unanswered: matches!(e, crate::Error::Timeout { .. }),
            error: Some(e.to_string()),
        },
    }
}

/// Read the brokers of this session's region and, when the docs' variables name it, of the other
/// region too (a pause reaches the members of both), both at once.
pub async fn observe(session: &Session) -> ExportingView {
    let other = session
        .settings
        .location
        .id
        .map(|id| RegionRef::Index(id.other()))
        .or(match session.settings.region {
            RegionRef::Surviving => Some(RegionRef::Recreated),
            RegionRef::Recreated => Some(RegionRef::Surviving),
            RegionRef::Index(_) => None,
        });
    let other = other
        .and_then(|o| session.settings.for_region(o).ok())
        .filter(|o| {
            o.location.context != session.settings.location.context
                || o.location.namespace != session.settings.location.namespace
        })
        .map(|o| Session::new(o, session.ui.clone()));
    let expected = expected_replicas(session).await;
    let (own, other) = tokio::join!(observe_bounded(session, expected.as_ref()), async {
        match &other {
            Some(o) => Some(observe_bounded(o, expected.as_ref()).await),
            None => None,
        }
    });
    ExportingView {
        regions: std::iter::once(own).chain(other).collect(),
        expected,
    }
}

/// Poll the brokers until every replica read is in `phase`, for at most `within`. Returns the
/// last view; the caller judges it.
pub async fn wait_for_phase(
    session: &Session,
    phase: &str,
    within: std::time::Duration,
) -> ExportingView {
    let mut poller = Poller::with_cadence(
        format!("every partition {phase}"),
        std::time::Duration::from_millis(50),
        std::time::Duration::from_millis(500),
        within,
    );
    loop {
        let view = observe(session).await;
        // A region whose API server did not answer is not waited for again: polling it
        // changes nothing (docs/contract.md §4 rule 11).
        let unanswered = view.regions.iter().any(|r| r.unanswered);
        let settled =
            view.not_in(phase).is_empty() && (view.unread_members().is_empty() || unanswered);
        if !view.observed() || settled || !poller.tick().await {
            return view;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(id: u32, parts: &[u32]) -> BrokerExporting {
        BrokerExporting {
            pod: format!("camunda-zeebe-{}", id / 2),
            node_id: Some(id),
            ready: true,
            partitions: parts
                .iter()
                .map(|p| PartitionStatus {
                    partition: *p,
                    role: None,
                    exporter_phase: Some("PAUSED".into()),
                    exported_position: None,
                    processed_position: None,
                })
                .collect(),
            error: None,
            missing_partitions: vec![],
        }
    }

    fn view(brokers: Vec<BrokerExporting>, expected: Option<Expected>) -> ExportingView {
        ExportingView {
            regions: vec![
                RegionExporting {
                    region_id: None,
                    region: "region0".into(),
                    state: String::new(),
                    max_lag: 0,
                    brokers,
                    error: None,
                    unanswered: false,
                }
                .finish(),
            ],
            expected,
        }
    }

    #[test]
    fn a_member_that_answers_no_partition_is_unread_and_one_that_leaves_some_out_too() {
        let expected: Expected = [(0, vec![1, 2]), (1, vec![1, 2]), (2, vec![]), (3, vec![2])]
            .into_iter()
            .collect();
        let mut empty = broker(0, &[]);
        judge(&mut empty, Some(&expected));
        assert!(empty.error.as_deref().is_some_and(|e| e.contains("[1, 2]")));
        let mut partial = broker(1, &[1]);
        judge(&mut partial, Some(&expected));
        assert_eq!(partial.missing_partitions, vec![2]);
        // A non-member (no partitions by the configuration) answering `{}` is fine.
        let mut idle = broker(2, &[]);
        judge(&mut idle, Some(&expected));
        assert!(idle.error.is_none());
        // Broker 3 was not read at all.
        let v = view(vec![empty, partial, idle], Some(expected));
        assert_eq!(v.unread_members(), vec![0, 1, 3]);
        assert!(
            v.unread().iter().any(|u| u.contains("broker 3")),
            "{:?}",
            v.unread()
        );
        assert_eq!(v.regions[0].state, "paused");
    }

    #[test]
    fn every_member_read_in_full_leaves_nothing_unread() {
        let expected: Expected = [(0, vec![1, 2]), (1, vec![1, 2])].into_iter().collect();
        let v = view(vec![broker(0, &[1, 2]), broker(1, &[2, 1])], Some(expected));
        assert!(v.unread_members().is_empty());
        assert!(v.unread().is_empty());
        // Without the configuration only unreadable answers count.
        let v = view(vec![broker(0, &[1, 2]), broker(1, &[])], None);
        assert!(v.unread_members().is_empty());
    }
}
