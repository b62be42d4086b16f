//! The rows of the fault matrix: which fault strikes which step, and the exit codes that are the
//! right answer to it. Adding a row is one line in [`rows`]; a new fault is a variant of
//! [`Fault`] with its injection and its clearing in `mod.rs`. A row may carry its own moment to
//! strike ([`Row::strike_when`], for signals) and its own checks ([`Row::check`]), e.g.
//!
//! ```ignore
//! // A signal during the restore puts the recovery settings back.
//! all.extend(checked(
//!     strike(row(Signal("TERM"), &[EsCopy], &[143]), "during the restore", restore_running),
//!     recovery_settings_restored,
//! ));
//! ```

use c8dr_e2e::{Run, TestEnv};

/// A step of the procedure (docs/contract.md §1, `common/src/procedure/steps.rs`) or a driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// failover 1: `kubectl c8dr brokers remove --odd`
    RemoveBrokers,
    /// failover 2: `kubectl c8dr exporters disable camundaregion1`
    DisableExporter,
    /// `kubectl c8dr failover`
    Failover,
    /// failback 3: `kubectl c8dr exporting pause`
    Pause,
    /// failback 4: `kubectl c8dr es copy --from surviving --to recreated`
    EsCopy,
    /// failback 5: `kubectl c8dr exporters enable camundaregion1 --initialize-from camundaregion0`
    EnableExporter,
    /// failback 6: `kubectl c8dr exporting resume`
    Resume,
    /// failback 7: `kubectl c8dr brokers add --odd --replication-factor 4`
    AddBrokers,
    /// `kubectl c8dr failback`
    Failback,
    /// failback 8: `helm c8dr redeploy --region both`
    RedeployBoth,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Self::RemoveBrokers => "failover 1",
            Self::DisableExporter => "failover 2",
            Self::Failover => "failover (driver)",
            Self::Pause => "failback 3",
            Self::EsCopy => "failback 4",
            Self::EnableExporter => "failback 5",
            Self::Resume => "failback 6",
            Self::AddBrokers => "failback 7",
            Self::Failback => "failback (driver)",
            Self::RedeployBoth => "failback 8",
        }
    }

    /// The step's command line for a lost region (`helm c8dr …` or `kubectl c8dr …`), without
    /// the program.
    pub fn command(self, lost: usize) -> (bool, String) {
        let parity = if lost == 1 { "odd" } else { "even" };
        let survivor = 1 - lost;
        let line = match self {
            Self::RemoveBrokers => format!("brokers remove --{parity}"),
            Self::DisableExporter => format!("exporters disable camundaregion{lost}"),
            Self::Failover => "failover".into(),
            Self::Pause => "exporting pause".into(),
            Self::EsCopy => "es copy --from surviving --to recreated".into(),
            Self::EnableExporter => format!(
                "exporters enable camundaregion{lost} --initialize-from camundaregion{survivor}"
            ),
            Self::Resume => "exporting resume".into(),
            Self::AddBrokers => format!("brokers add --{parity} --replication-factor 4"),
            Self::Failback => "failback".into(),
            Self::RedeployBoth => "redeploy --region both".into(),
        };
        (self == Self::RedeployBoth, line)
    }

    /// Whether exporting is paused once the step (and the steps before it) are done.
    pub fn leaves_paused(self) -> bool {
        matches!(self, Self::Pause | Self::EsCopy | Self::EnableExporter)
    }
}

/// A fault (issue 13 item 2), as the simulator injects it (every one is what the real system
/// does; the sources are cited at the simulator's hooks, `sim/src/world.rs` `Faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next port-forwards die after their first data (`drop_port_forwards`).
    PortForwardDropped,
    /// The gateway answers the next reads of the management API with 502 or 504.
    GatewayRead(u16),
    /// The gateway answers the next mutation with 502 or 504 before a broker saw it.
    GatewayMutation(u16),
    /// The mutation is applied, its answer lost (504 after the gateway's timeout).
    MutationAnswerLost,
    /// Region 0 is the lost one: broker 0, the default coordinator, is dead (docs/api-behaviour.md §1).
    CoordinatorDead,
    /// Another operator's topology change is in progress: the gateway answers 409.
    ConcurrentChange,
    /// The change ends CANCELLED (someone else cancelled it), not COMPLETED.
    ChangeCancelled,
    /// A broker the change needs is down: the change stalls past `--timeout`.
    ChangeStalls,
    /// Enabling the exporter waits for a broker that is down: the exporter stays ENABLING.
    ExporterStuckEnabling,
    /// Pause/resume answer HTTP 200 with `status: 500` in the body, one partition not done.
    PauseStatus500,
    /// The next exec streams are cut mid-way.
    ExecCut,
    /// The snapshot ends PARTIAL.
    SnapshotPartial,
    /// The recreated Elasticsearch already has Camunda indices (the schema manager ran).
    RestoreConflict,
    /// The Kubernetes API server answers 503 to the next requests.
    ApiServerUnavailable,
    /// The Kubernetes API server answers every request late.
    ApiServerSlow,
    /// `helm upgrade` fails in one region of `--region both`.
    HelmFailsOneRegion,
    /// The process gets a signal while the step runs.
    Signal(&'static str),
}

impl Fault {
    pub fn name(self) -> String {
        match self {
            Self::PortForwardDropped => "port-forward dropped".into(),
            Self::GatewayRead(s) => format!("gateway {s} on reads"),
            Self::GatewayMutation(s) => format!("gateway {s} on the mutation"),
            Self::MutationAnswerLost => "mutation applied, answer lost (504)".into(),
            Self::CoordinatorDead => "coordinator dead (region 0 lost)".into(),
            Self::ConcurrentChange => "409: a concurrent change".into(),
            Self::ChangeCancelled => "change ends CANCELLED".into(),
            Self::ChangeStalls => "change stalls past --timeout".into(),
            Self::ExporterStuckEnabling => "exporter stuck ENABLING".into(),
            Self::PauseStatus500 => "pause/resume: 200 with status 500".into(),
            Self::ExecCut => "exec stream cut".into(),
            Self::SnapshotPartial => "snapshot PARTIAL".into(),
            Self::RestoreConflict => "restore conflict (index exists)".into(),
            Self::ApiServerUnavailable => "API server briefly 503".into(),
            Self::ApiServerSlow => "API server slow (150 ms a request)".into(),
            Self::HelmFailsOneRegion => "helm fails in region 1".into(),
            Self::Signal(s) => format!("SIG{s}"),
        }
    }
}

/// One row: a fault striking a step, and the exit codes that are right for it.
#[derive(Debug, Clone)]
pub struct Row {
    pub fault: Fault,
    pub step: Step,
    /// The region that is lost (1 unless the row is about region 0).
    pub lost: usize,
    /// Acceptable exit codes of the faulted run (0: it coped; 1 failed; 3 refused; 4 timeout;
    /// 5 unreachable; 128+n: ended by signal n after cleaning up).
    pub expect: &'static [i32],
    /// Extra options for the faulted run (e.g. a short `--timeout`).
    pub extra: &'static str,
    /// Told after the fault's name, for a second row of one fault and step (e.g. "during the
    /// restore").
    pub when: &'static str,
    /// For a signal: send it once this holds (default: the step's own moment, see `run_step`).
    pub strike_when: Option<fn(&TestEnv) -> bool>,
    /// Checks of the row's own, after the re-run: (env, faulted run, re-run) -> problems.
    pub check: Option<Check>,
}

/// A row's own check: the problems it finds (none: it holds).
pub type Check = fn(&TestEnv, &Run, &Run) -> Vec<String>;

impl Row {
    pub fn id(&self) -> String {
        format!("{} × {}", self.fault_label(), self.step.label())
    }
    /// The fault's name, and when it strikes if the row says.
    pub fn fault_label(&self) -> String {
        if self.when.is_empty() {
            self.fault.name()
        } else {
            format!("{} ({})", self.fault.name(), self.when)
        }
    }
}

fn row(fault: Fault, steps: &[Step], expect: &'static [i32]) -> Vec<Row> {
    steps
        .iter()
        .map(|&step| Row {
            fault,
            step,
            lost: if fault == Fault::CoordinatorDead {
                0
            } else {
                1
            },
            expect,
            extra: "",
            when: "",
            strike_when: None,
            check: None,
        })
        .collect()
}

/// `rows` with their signal sent once `holds` holds, `when` naming that moment.
pub fn strike(mut rows: Vec<Row>, when: &'static str, holds: fn(&TestEnv) -> bool) -> Vec<Row> {
    for r in &mut rows {
        r.when = when;
        r.strike_when = Some(holds);
    }
    rows
}

/// `rows` with a check of their own.
pub fn checked(mut rows: Vec<Row>, check: Check) -> Vec<Row> {
    for r in &mut rows {
        r.check = Some(check);
    }
    rows
}

fn with_extra(mut rows: Vec<Row>, extra: &'static str) -> Vec<Row> {
    for r in &mut rows {
        r.extra = extra;
    }
    rows
}

/// Every row of the matrix.
pub fn rows() -> Vec<Row> {
    use Fault::*;
    use Step::*;
    let kubectl_steps = [
        RemoveBrokers,
        DisableExporter,
        Failover,
        Pause,
        EsCopy,
        EnableExporter,
        Resume,
        AddBrokers,
        Failback,
    ];
    // Topology changes (the drivers last).
    let changes = [
        RemoveBrokers,
        DisableExporter,
        Failover,
        EnableExporter,
        AddBrokers,
        Failback,
    ];
    let mut all = vec![];
    // Transient faults of reads and tunnels are retried (docs/contract.md §4 rule 7): the step succeeds.
    all.extend(row(PortForwardDropped, &kubectl_steps, &[0]));
    // failback 3, 4 and 6 read no gateway endpoint: pause and resume are verified on the broker
    // pods, the copy talks to Elasticsearch.
    let gateway_readers: Vec<Step> = kubectl_steps
        .iter()
        .copied()
        .filter(|s| ![Pause, EsCopy, Resume].contains(s))
        .collect();
    all.extend(row(GatewayRead(502), &gateway_readers, &[0]));
    all.extend(row(GatewayRead(504), &gateway_readers, &[0]));
    // A mutation is sent once; when the gateway refused it, c8dr re-reads, sees nothing applied
    // and fails (1) or reports the gateway unreachable (5), never sends it twice.
    let topology = &changes[..5];
    all.extend(row(GatewayMutation(502), topology, &[1, 5]));
    all.extend(row(GatewayMutation(504), topology, &[1, 4, 5]));
    // Pause and resume are broadcasts the gateway refused before any broker saw them: retried
    // until they succeed (docs/api-behaviour.md §3). The failback driver's first mutation is its pause.
    let exporting = [Pause, Resume, Failback];
    all.extend(row(GatewayMutation(502), &exporting, &[0]));
    all.extend(row(GatewayMutation(504), &exporting, &[0]));
    // The answer lost, the change applied: c8dr learns it from the cluster and follows it.
    all.extend(row(MutationAnswerLost, &changes, &[0]));
    all.extend(row(
        CoordinatorDead,
        &[RemoveBrokers, DisableExporter, Failover],
        &[0],
    ));
    // Refused while another change runs (docs/contract.md §4 rule 3), or, for a driver, waited for.
    all.extend(row(ConcurrentChange, &changes, &[0, 1, 3]));
    all.extend(row(ChangeCancelled, &changes, &[1]));
    all.extend(with_extra(
        row(ChangeStalls, &[DisableExporter, AddBrokers, Failover], &[4]),
        "--timeout 3s",
    ));
    all.extend(with_extra(
        row(ExporterStuckEnabling, &[EnableExporter, Failback], &[4]),
        "--timeout 3s",
    ));
    all.extend(row(PauseStatus500, &[Pause, Resume, Failback], &[0, 1]));
    all.extend(row(ExecCut, &[EsCopy, Failback], &[0]));
    all.extend(row(SnapshotPartial, &[EsCopy, Failback], &[1]));
    all.extend(row(RestoreConflict, &[EsCopy, Failback], &[3]));
    all.extend(row(ApiServerUnavailable, &kubectl_steps, &[0, 5]));
    all.extend(row(ApiServerUnavailable, &[RedeployBoth], &[0, 1]));
    all.extend(row(ApiServerSlow, &kubectl_steps, &[0]));
    all.extend(row(ApiServerSlow, &[RedeployBoth], &[0]));
    all.extend(checked(
        row(HelmFailsOneRegion, &[RedeployBoth], &[1]),
        the_other_region_was_upgraded,
    ));
    let signalled = [
        RemoveBrokers,
        DisableExporter,
        Failover,
        Pause,
        EsCopy,
        EnableExporter,
        Resume,
        AddBrokers,
        Failback,
        RedeployBoth,
    ];
    all.extend(row(Signal("KILL"), &signalled, &[-9]));
    all.extend(row(Signal("INT"), &signalled, &[130]));
    all.extend(row(Signal("TERM"), &signalled, &[143]));
    all.extend(row(Signal("HUP"), &signalled, &[129]));
    // The copy's longest part: the restore into the recreated region.
    all.extend(strike(
        row(Signal("TERM"), &[EsCopy, Failback], &[143]),
        "during the restore",
        restore_running,
    ));
    all
}

/// `--region both` with region 1 failing: region 0 was upgraded all the same, and the error
/// names the region that failed.
fn the_other_region_was_upgraded(env: &TestEnv, faulted: &Run, _rerun: &Run) -> Vec<String> {
    let mut p = vec![];
    let upgrades = env
        .helm_calls()
        .iter()
        .filter(|a| a.first().map(String::as_str) == Some("upgrade"))
        .filter(|a| a.iter().any(|x| x == "c8dr-sim-region0"))
        .count();
    // failback 1 and 2 prepared the row (region 0 once), then the faulted run and the re-run.
    if upgrades < 3 {
        p.push(format!(
            "region 0 was not upgraded by the faulted run ({upgrades} upgrades in all)"
        ));
    }
    if !faulted
        .stderr
        .lines()
        .any(|l| l.starts_with("error:") && l.contains("region1"))
    {
        p.push("the error does not name region1".into());
    }
    p
}

/// The restore into the recreated region has started (a restore of the copy's snapshot is
/// running there).
fn restore_running(env: &TestEnv) -> bool {
    let w = env.sim.world().lock();
    let recreated = &w.regions[1].es;
    !recreated.indices.is_empty()
}
