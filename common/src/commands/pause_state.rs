//! The exporting pause state, observed on the brokers themselves (SPEC 3.3): the gateway reports
//! none, but every broker answers `GET /actuator/partitions` on its own pod's port 9600 with the
//! `exporterPhase` of each partition it hosts. c8dr reads every broker pod of both regions through
//! a port-forward to the pod (not the Service), and uses it to verify a pause or resume, to refuse
//! a hard pause over a soft one, and to show the state in `status`.

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
}

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
    /// Broker pods that could not be read.
    pub fn unread(&self) -> usize {
        self.brokers.iter().filter(|b| b.error.is_some()).count()
    }
}

/// Both regions (or the one this session can reach).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportingView {
    pub regions: Vec<RegionExporting>,
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
    /// What could not be read, for messages.
    pub fn unread(&self) -> Vec<String> {
        let mut out = vec![];
        for r in &self.regions {
            if let Some(e) = &r.error {
                out.push(format!("{}: {e}", r.region));
            }
            for b in &r.brokers {
                if let Some(e) = &b.error {
                    out.push(format!("{}: {e}", b.pod));
                }
            }
        }
        out
    }
}

/// Read every broker pod of this session's region.
pub async fn observe_region(session: &Session) -> RegionExporting {
    let mut region = RegionExporting {
        region_id: session.settings.location.id.map(|r| r.to_string()),
        region: session.describe_region(),
        state: String::new(),
        max_lag: 0,
        brokers: vec![],
        error: None,
    };
    let pods = match session.broker_pods().await {
        Ok(p) => p,
        Err(e) => {
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
        BrokerExporting {
            pod,
            node_id,
            ready,
            partitions,
            error,
        }
    });
    region.brokers = futures_util::future::join_all(reads).await;
    region.finish()
}

/// How long reading one region's brokers may take (a lost region's API server may not answer).
const REGION_BOUND: std::time::Duration = std::time::Duration::from_secs(8);

async fn observe_bounded(session: &Session) -> RegionExporting {
    match tokio::time::timeout(REGION_BOUND, observe_region(session)).await {
        Ok(r) => r,
        Err(_) => RegionExporting {
            region_id: session.settings.location.id.map(|r| r.to_string()),
            region: session.describe_region(),
            state: "unknown".into(),
            max_lag: 0,
            brokers: vec![],
            error: Some(format!("no answer within {}s", REGION_BOUND.as_secs())),
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
    let (own, other) = tokio::join!(observe_bounded(session), async {
        match &other {
            Some(o) => Some(observe_bounded(o).await),
            None => None,
        }
    });
    ExportingView {
        regions: std::iter::once(own).chain(other).collect(),
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
        if !view.observed() || view.not_in(phase).is_empty() || !poller.tick().await {
            return view;
        }
    }
}
