//! What the installation went through, in simulated seconds: when Operate/Tasklist were off,
//! when exporting was paused, and which server-side work ran (topology changes, snapshots,
//! restores). The recovery benchmark reads it from `GET /timeline` instead of timing a script:
//! the windows are the servers' view, not the client's.
//!
//! Simulated seconds are real seconds × `SimConfig::time_scale`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::world::{SimConfig, World};
use crate::zeebe::{Zeebe, operation_time};

/// One change the timeline saw.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Instant,
    pub what: String,
}

/// Server-side work between two instants.
#[derive(Debug, Clone)]
pub struct Work {
    pub start: Instant,
    pub end: Instant,
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    pub origin: Instant,
    pub events: Vec<Event>,
    pub work: Vec<Work>,
    /// Last observed: Operate and Tasklist serve in region 0/1.
    webapps: Option<[bool; 2]>,
    /// Last observed: some live replica has exporting hard-paused.
    paused: Option<bool>,
    revisions: Option<[Option<u32>; 2]>,
    /// Restores in flight: (region, restore uuid) -> start.
    restores: BTreeMap<(usize, String), Instant>,
    /// The Zeebe change in flight: (id, start).
    change: Option<(i64, Instant)>,
}

impl Timeline {
    pub fn new(now: Instant) -> Self {
        Self {
            origin: now,
            events: vec![],
            work: vec![],
            webapps: None,
            paused: None,
            revisions: None,
            restores: BTreeMap::new(),
            change: None,
        }
    }

    /// Forget everything before `now` (the benchmark marks the start of a failback). The
    /// current state stays known, so only later transitions are recorded.
    pub fn reset(&mut self, now: Instant) {
        self.origin = now;
        self.events.clear();
        self.work.clear();
        for start in self.restores.values_mut() {
            *start = (*start).max(now);
        }
        if let Some((_, start)) = self.change.as_mut() {
            *start = (*start).max(now);
        }
    }

    fn event(&mut self, at: Instant, what: String) {
        self.events.push(Event { at, what });
    }

    pub fn work(&mut self, start: Instant, end: Instant, what: String) {
        let start = start.max(self.origin);
        if end > start {
            self.work.push(Work { start, end, what });
        }
    }

    pub fn restore_started(&mut self, region: usize, uuid: &str, now: Instant) {
        self.restores.insert((region, uuid.to_string()), now);
    }

    /// Compare the visible state with the last one seen and record the transitions.
    pub fn observe(
        &mut self,
        now: Instant,
        webapps: [bool; 2],
        paused: bool,
        revisions: [Option<u32>; 2],
    ) {
        let before = self.webapps;
        if before != Some(webapps) {
            let any_before = before.map(|w| w[0] || w[1]);
            for r in 0..2 {
                if before.map(|w| w[r]) != Some(webapps[r]) && before.is_some() {
                    let state = if webapps[r] { "on" } else { "off" };
                    self.event(now, format!("region{r} webapps {state}"));
                }
            }
            let any = webapps[0] || webapps[1];
            if any_before.is_some() && any_before != Some(any) {
                self.event(now, if any { "webapps on" } else { "webapps off" }.into());
            }
            self.webapps = Some(webapps);
        }
        if self.paused.is_some() && self.paused != Some(paused) {
            self.event(
                now,
                if paused {
                    "exporting paused"
                } else {
                    "exporting resumed"
                }
                .into(),
            );
        }
        self.paused = Some(paused);
        if let Some(before) = self.revisions {
            for r in 0..2 {
                if before[r] != revisions[r] && revisions[r].is_some() {
                    self.event(now, format!("region{r} helm upgrade"));
                }
            }
        }
        self.revisions = Some(revisions);
    }

    fn secs(&self, t: Instant, scale: f64) -> f64 {
        t.saturating_duration_since(self.origin).as_secs_f64() * scale
    }

    /// Total time of the intervals between `off` and `on` events (an open one counts to `now`),
    /// starting in state `initially_off`.
    fn window(&self, off: &str, on: &str, initially_off: bool, now: Instant) -> Duration {
        let mut total = Duration::ZERO;
        let mut since = if initially_off {
            Some(self.origin)
        } else {
            None
        };
        for e in &self.events {
            if e.what == off && since.is_none() {
                since = Some(e.at);
            } else if e.what == on
                && let Some(s) = since.take()
            {
                total += e.at.saturating_duration_since(s);
            }
        }
        if let Some(s) = since {
            total += now.saturating_duration_since(s);
        }
        total
    }

    /// Length of the union of the work intervals.
    fn busy(&self) -> Duration {
        let mut spans: Vec<(Instant, Instant)> =
            self.work.iter().map(|w| (w.start, w.end)).collect();
        spans.sort();
        let mut total = Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (s, e) in spans {
            current = match current {
                Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    total += ce - cs;
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((cs, ce)) = current {
            total += ce - cs;
        }
        total
    }

    /// `GET /timeline`.
    pub fn json(&self, world: &World, now: Instant) -> Value {
        let scale = world.cfg.time_scale;
        // Off at the origin when the first transition turns them on (or, with none, now).
        let webapps_off_at_origin = self
            .events
            .iter()
            .find(|e| e.what == "webapps off" || e.what == "webapps on")
            .map(|e| e.what == "webapps on")
            .unwrap_or(!self.webapps.map(|w| w[0] || w[1]).unwrap_or(true));
        let paused_at_origin = self
            .events
            .iter()
            .find(|e| e.what.starts_with("exporting "))
            .map(|e| e.what == "exporting resumed")
            .unwrap_or(self.paused.unwrap_or(false));
        let first = self
            .events
            .iter()
            .map(|e| e.at)
            .chain(self.work.iter().map(|w| w.start))
            .min();
        let last = self
            .events
            .iter()
            .map(|e| e.at)
            .chain(self.work.iter().map(|w| w.end))
            .max();
        let span = match (first, last) {
            (Some(f), Some(l)) => l.saturating_duration_since(f),
            _ => Duration::ZERO,
        };
        json!({
            "time_scale": scale,
            "now_s": self.secs(now, scale),
            "events": self.events.iter().map(|e| json!({"at_s": self.secs(e.at, scale), "what": e.what})).collect::<Vec<_>>(),
            "work": self.work.iter().map(|w| json!({"start_s": self.secs(w.start, scale),
                "end_s": self.secs(w.end, scale), "what": w.what})).collect::<Vec<_>>(),
            "in_progress": {
                "zeebe_change": self.change.is_some(),
                "restores": self.restores.len(),
            },
            "windows": {
                "webapps_off_s": self.window("webapps off", "webapps on", webapps_off_at_origin, now).as_secs_f64() * scale,
                "exporting_paused_s": self.window("exporting paused", "exporting resumed", paused_at_origin, now).as_secs_f64() * scale,
                "busy_s": self.busy().as_secs_f64() * scale,
                "span_s": span.as_secs_f64() * scale,
            },
        })
    }
}

/// Before the Zeebe change advances: its id, and when it will complete if every broker it
/// needs stays up (the simulator's lazily-applied operations complete at known instants).
pub fn zeebe_change_before(
    z: &Zeebe,
    cfg: &SimConfig,
    now: Instant,
) -> Option<(i64, Instant, Instant)> {
    let p = z.pending.as_ref()?;
    let mut end = p.next_due;
    for op in &p.pending {
        end += operation_time(Some(op), cfg);
    }
    end += operation_time(None, cfg);
    let start = if p.completed.is_empty() {
        p.next_due
    } else {
        now
    };
    Some((p.id, start, end))
}

/// After it advanced: record the change as work once it is over.
pub fn zeebe_change_after(
    world: &mut World,
    before: Option<(i64, Instant, Instant)>,
    now: Instant,
) {
    let Some((id, start, end)) = before else {
        return;
    };
    let t = &mut world.timeline;
    match t.change {
        Some((known, _)) if known == id => {}
        _ => t.change = Some((id, start)),
    }
    let still = world.zeebe.pending.as_ref().is_some_and(|p| p.id == id);
    if !still {
        let start = t.change.take().map(|(_, s)| s).unwrap_or(start);
        t.work(start, end.min(now), format!("zeebe change {id}"));
    }
}

/// Restores whose every copy is active are over: record them as work.
pub fn restores_done(world: &mut World, region: usize, now: Instant) {
    let es = &world.regions[region].es;
    let mut over = vec![];
    for ((r, uuid), start) in &world.timeline.restores {
        if *r != region {
            continue;
        }
        let copies: Vec<_> = es
            .indices
            .values()
            .filter(|i| {
                matches!(&i.recovery.source,
                    crate::es::RecoverySource::Snapshot { restore_uuid, .. } if restore_uuid == uuid)
            })
            .flat_map(|i| i.copies(0).iter())
            .collect();
        if copies.iter().all(|c| c.done(now)) {
            let end = copies.iter().filter_map(|c| c.done_at).max().unwrap_or(now);
            over.push(((*r, uuid.clone()), *start, end));
        }
    }
    for (key, start, end) in over {
        world.timeline.restores.remove(&key);
        world
            .timeline
            .work(start, end, format!("restore in region{}", key.0));
    }
}
