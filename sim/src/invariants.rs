//! The safety contract as checks on the simulator's own state (test instrumentation, like the
//! request log: nothing upstream to cite). A test takes a [`Snapshot`] before and after a c8dr
//! command and asks [`broken`] which invariant the command broke; the model-based tests (in
//! process and through the real binaries) and the fault matrix share these, so "safe" means one
//! thing everywhere. The invariants and how they are checked: docs/reliability.md.

use std::collections::{BTreeMap, BTreeSet};

use crate::world::World;
use crate::zeebe::Exporting;

/// The generators' source of choices: splitmix64, so that one seed is one sequence on every
/// machine and a failing seed replays (no dependency, no platform-dependent state).
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the invariants compare before and after one command.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Members, minus the ones a pending change is taking out.
    pub members: BTreeSet<u32>,
    /// Broker processes that run (their region is up and they are not stopped).
    pub alive: BTreeSet<u32>,
    /// Whether each region runs Camunda (its cluster answers and the release is installed).
    pub running: [bool; 2],
    /// Exporter id -> its configured status (not the lagging `GET /actuator/exporters`).
    pub exporters: BTreeMap<String, String>,
    /// Any partition replica of a live member is paused (hard or soft).
    pub paused: bool,
    pub indices: [BTreeSet<String>; 2],
    /// Repository name -> its registration (type, settings, readonly), per region.
    pub repos: [BTreeMap<String, String>; 2],
    /// `key=value` of the persistent and transient cluster settings, per region.
    pub settings: [Vec<String>; 2],
    /// How many mutating Zeebe requests the gateways had accepted.
    pub requests: usize,
    /// Lost answers still to come (injected faults not yet consumed).
    pub lost_answers: u32,
}

impl Snapshot {
    pub fn of(w: &World) -> Self {
        let alive: BTreeSet<u32> = w.alive_brokers().into_iter().collect();
        let mut members: BTreeSet<u32> = w.zeebe.members.keys().copied().collect();
        if let Some(p) = &w.zeebe.pending {
            let ops: Vec<_> = p.pending.iter().cloned().collect();
            let expected = w.zeebe.expected_members(&ops);
            members.retain(|m| expected.contains_key(m));
        }
        let paused = w.zeebe.members.iter().any(|(b, m)| {
            alive.contains(b)
                && m.partitions
                    .keys()
                    .any(|p| w.zeebe.exporting.replica(*b, *p).phase != Exporting::Running)
        });
        Self {
            members,
            running: [w.regions[0].running(), w.regions[1].running()],
            alive,
            exporters: w
                .zeebe
                .exporter_ids()
                .into_iter()
                .map(|id| {
                    let s = w.zeebe.exporter_status(&id);
                    (id, s)
                })
                .collect(),
            paused,
            indices: [0, 1].map(|r| w.regions[r].es.indices.keys().cloned().collect()),
            repos: [0, 1].map(|r| {
                w.regions[r]
                    .es
                    .repositories
                    .iter()
                    .map(|(k, v)| (k.clone(), registration(v)))
                    .collect()
            }),
            settings: [0, 1].map(|r| {
                let s = &w.regions[r].es.settings;
                s.persistent
                    .iter()
                    .chain(&s.transient)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect()
            }),
            requests: w.zeebe.requests.len(),
            lost_answers: w.faults.lose_mutation_answer
                + w.faults.drop_mutation_answer
                + match w.faults.zeebe_error {
                    Some((504, n)) => n,
                    _ => 0,
                },
        }
    }
}

/// A repository registration as one comparable line.
pub fn registration(r: &crate::es::repository::RepoRegistration) -> String {
    format!("{} {:?} readonly={}", r.kind, r.settings, r.readonly)
}

/// What the test knows about the command it judges.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// It ended by itself (exit code), not killed.
    pub ended_by_itself: bool,
    /// It is `exporting pause` (which pauses on purpose).
    pub pauses: bool,
    /// The operator typed `exporters disable` of this region, with a right environment: a
    /// stated intent (c8dr warns when the region runs).
    pub stated_disable: Option<usize>,
    /// A user's own repository registration (region, name) that no command may change.
    pub user_repo: Option<(usize, String)>,
}

/// The invariants `cmd` broke, from the state before and after it (`w`: the world after).
pub fn broken(cmd: &Command, before: &Snapshot, after: &Snapshot, w: &World) -> Vec<String> {
    let mut broken = vec![];
    for b in before.members.intersection(&before.alive) {
        if after.alive.contains(b) && !after.members.contains(b) {
            broken.push(format!("live broker {b} removed from the cluster"));
        }
    }
    for r in 0..2 {
        let id = format!("camundaregion{r}");
        let up = before.running[r] && after.running[r];
        if up
            && cmd.stated_disable != Some(r)
            && before.exporters.get(&id).map(String::as_str) == Some("ENABLED")
            && after
                .exporters
                .get(&id)
                .is_some_and(|s| s.starts_with("DISABL"))
        {
            broken.push(format!("exporter {id} of running region{r} disabled"));
        }
        if up {
            let gone: Vec<_> = before.indices[r].difference(&after.indices[r]).collect();
            if !gone.is_empty() {
                broken.push(format!("indices of region{r} deleted: {gone:?}"));
            }
        }
    }
    if cmd.ended_by_itself && !cmd.pauses && !before.paused && after.paused {
        broken.push("exporting left paused".into());
    }
    if cmd.ended_by_itself {
        for r in 0..2 {
            if let Some(k) = after.settings[r].iter().find(|k| k.contains("c8dr")) {
                broken.push(format!("c8dr's recovery tuning left in region{r}: {k}"));
            }
        }
    }
    if let Some((r, name)) = &cmd.user_repo
        && before.running[*r]
        && after.running[*r]
        && before.repos[*r].contains_key(name)
        && after.repos[*r].get(name) != before.repos[*r].get(name)
    {
        broken.push(format!("the user's repository {name} in region{r} changed"));
    }
    // A mutation is sent once: after a lost answer c8dr reads the cluster instead of sending it
    // again, and a forced removal is never sent twice. Exporting pause/resume are the exception
    // both ways: after a definite failure answer the broadcast (not atomic) is retried until
    // every partition took it, and after a lost answer it is sent again only when every
    // broker's own partitions were read and show that it did not take (an idempotent call).
    let answer_lost = after.lost_answers < before.lost_answers;
    let sent = &w.zeebe.requests[before.requests.min(w.zeebe.requests.len())..];
    let mut seen = BTreeSet::new();
    for (method, path, body) in sent.iter().filter(|(_, p, _)| !p.contains("dryRun=true")) {
        let key = format!("{method} {path} {body}");
        let broadcast = path.contains("/actuator/exporting/");
        if !seen.insert(key.clone()) && (path.contains("force=true") || (answer_lost && !broadcast))
        {
            broken.push(format!("sent twice within one command: {key}"));
        }
    }
    broken
}
