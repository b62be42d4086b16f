//! Progress of the long Elasticsearch jobs (creating a snapshot, restoring one) for the CLI's
//! bars and lines, and the completion estimate the waits poll by. [`Tracker`] turns the
//! successive readings of a job into what the operator is shown: a percentage of the bytes that
//! never goes back (the bytes to recover grow while replicas get allocated), the rate over the
//! last minute, the time left at that rate, sizes in binary units.

use std::collections::VecDeque;
use std::time::Duration;

use indicatif::HumanBytes;

use serde::Serialize;

use super::model::Progress;

/// The long Elasticsearch job a progress report is about (not a step of the procedure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressOf {
    /// Shards snapshotted of the snapshot's total.
    Snapshot,
    /// Shard copies recovered (DONE) of the copies expected: every primary restored from the
    /// snapshot, then every replica the cluster can allocate, recovered from its primary.
    Restore,
}

impl ProgressOf {
    /// The job, for "still waiting for …".
    pub fn label(self) -> &'static str {
        match self {
            Self::Snapshot => "the snapshot",
            Self::Restore => "the restore",
        }
    }

    /// The job in a word, for the bar.
    pub fn name(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Restore => "restore",
        }
    }

    /// What happens to the bytes.
    fn verb(self) -> &'static str {
        match self {
            Self::Snapshot => "uploaded",
            Self::Restore => "recovered",
        }
    }

    /// What the units counted are.
    fn units(self) -> &'static str {
        match self {
            Self::Snapshot => "shards",
            Self::Restore => "shard copies",
        }
    }
}

/// Progress callback (the CLI draws a bar on a TTY).
pub type ProgressFn<'a> = &'a (dyn Fn(ProgressOf, Progress) + Send + Sync);

/// A callback that ignores progress.
pub fn no_progress(_: ProgressOf, _: Progress) {}

/// Expected time left for work `percent` done after `elapsed`, assuming a steady pace.
pub fn eta(elapsed: Duration, percent: f64) -> Option<Duration> {
    if !(percent > 0.0 && percent < 100.0) {
        return None;
    }
    Some(elapsed.mul_f64((100.0 - percent) / percent))
}

/// The span the rate is measured over: long enough to smooth the bursts of one shard after
/// another, short enough to follow a change of throttle.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What the operator is shown of one job at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub of: ProgressOf,
    /// The job's progress as last read.
    pub progress: Progress,
    /// Of the bytes to move (of the units when the job reports no bytes), never lower than
    /// before, and 100 only once every unit is done.
    pub percent: f64,
    /// Bytes per second over the last [`RATE_WINDOW`].
    pub rate: Option<f64>,
    /// Time left: the bytes left at `rate`; without bytes, the pace so far.
    pub eta: Option<Duration>,
}

impl Reading {
    /// The bar's position, in thousandths.
    pub fn permille(&self) -> u64 {
        (self.percent * 10.0).round().clamp(0.0, 1000.0) as u64
    }

    /// `43% of ~50.59 GiB, 223.16 MiB/s, ETA 2m 12s, 21.79 GiB recovered, shard copies 12/40`
    /// (`~`: the total is an estimate): what matters first, so that a narrow terminal cuts the
    /// counts, not the time left.
    pub fn text(&self) -> String {
        let p = &self.progress;
        let mut parts = vec![];
        if p.bytes_total > 0 {
            parts.push(format!(
                "{:.0}% of {}{}",
                self.percent.floor(),
                if p.estimated { "~" } else { "" },
                HumanBytes(p.bytes_total)
            ));
            if let Some(rate) = self.rate {
                parts.push(format!("{}/s", HumanBytes(rate as u64)));
            }
        } else {
            parts.push(format!(
                "{:.0}% of {}",
                self.percent.floor(),
                self.of.units()
            ));
        }
        if let Some(eta) = self.eta {
            let secs = Duration::from_secs(eta.as_secs().max(1));
            parts.push(format!("ETA {}", humantime::format_duration(secs)));
        }
        if p.bytes_total > 0 {
            parts.push(format!("{} {}", HumanBytes(p.bytes_done), self.of.verb()));
        }
        parts.push(format!("{} {}/{}", self.of.units(), p.done, p.total));
        parts.join(", ")
    }
}

/// Successive readings of one job, turned into [`Reading`]s. Pure: the caller says when.
#[derive(Debug)]
pub struct Tracker {
    of: ProgressOf,
    shown: f64,
    /// `(since the start, bytes done)`, the oldest first, spanning about [`RATE_WINDOW`].
    samples: VecDeque<(Duration, u64)>,
}

impl Tracker {
    pub fn new(of: ProgressOf) -> Self {
        Self {
            of,
            shown: 0.0,
            samples: VecDeque::new(),
        }
    }

    /// The job tracked.
    pub fn of(&self) -> ProgressOf {
        self.of
    }

    /// The job read `p` at `at` since it started.
    pub fn observe(&mut self, at: Duration, p: Progress) -> Reading {
        let complete = p.done == p.total;
        // A percentage that went back (more bytes to move than estimated) holds until the
        // job catches up; 100 % means every unit is done.
        let now = if complete { 100.0 } else { p.percent.min(99.0) };
        self.shown = self.shown.max(now);
        if self.samples.back().is_some_and(|&(_, b)| p.bytes_done < b) {
            // A copy started over: the bytes before say nothing about the rate now.
            self.samples.clear();
        }
        self.samples.push_back((at, p.bytes_done));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|&(t, _)| at - t >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let rate = match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, b0)), Some(&(t1, b1))) if t1 > t0 && p.bytes_total > 0 => {
                Some((b1 - b0) as f64 / (t1 - t0).as_secs_f64())
            }
            _ => None,
        };
        let eta = if complete {
            None
        } else if p.bytes_total > 0 {
            rate.filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64((p.bytes_total - p.bytes_done) as f64 / r))
        } else {
            eta(at, p.percent)
        };
        Reading {
            of: self.of,
            progress: p,
            percent: self.shown,
            rate,
            eta,
        }
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restore of 1000 shard copies with `done` GiB of `total` GiB recovered.
    fn gib(done: u64, total: u64) -> Progress {
        Progress::units(done / 2, 1000).with_bytes(done * GIB, total * GIB)
    }

    const GIB: u64 = 1 << 30;

    #[test]
    fn the_percentage_never_goes_back_when_the_total_grows() {
        let mut t = Tracker::new(ProgressOf::Restore);
        // 88 % of an estimate, then the replicas get allocated: 83 % of the larger total.
        let r = t.observe(
            secs(10),
            Progress::units(7, 8).with_bytes(88 * GIB, 100 * GIB),
        );
        assert_eq!(r.percent.floor(), 88.0);
        let r = t.observe(
            secs(20),
            Progress::units(7, 9).with_bytes(90 * GIB, 108 * GIB),
        );
        assert_eq!(r.percent.floor(), 88.0, "held, not 83 %");
        let r = t.observe(
            secs(30),
            Progress::units(8, 9).with_bytes(100 * GIB, 108 * GIB),
        );
        assert_eq!(r.percent.floor(), 92.0, "moves again once it catches up");
        // Every byte moved but a copy not DONE yet: not 100 %.
        let r = t.observe(
            secs(40),
            Progress::units(8, 9).with_bytes(108 * GIB, 108 * GIB),
        );
        assert!(r.percent < 100.0, "{r:?}");
        let r = t.observe(
            secs(41),
            Progress::units(9, 9).with_bytes(108 * GIB, 108 * GIB),
        );
        assert_eq!((r.percent, r.eta), (100.0, None));
        assert_eq!(r.permille(), 1000);
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn rate_and_eta_come_from_the_last_minute_of_bytes() {
        let mut t = Tracker::new(ProgressOf::Restore);
        let r = t.observe(secs(0), gib(0, 1000));
        assert_eq!((r.rate, r.eta), (None, None), "one reading: no rate yet");
        // 1 GiB/s for two minutes, then 2 GiB/s: the rate follows within a minute.
        for s in 1..=120 {
            t.observe(secs(s), gib(s, 1000));
        }
        let r = t.observe(secs(121), gib(121, 1000));
        assert_eq!(r.rate, Some(GIB as f64));
        assert_eq!(r.eta, Some(secs(879)), "879 GiB left at 1 GiB/s");
        for s in 1..=60 {
            t.observe(secs(121 + s), gib(121 + 2 * s, 1000));
        }
        let r = t.observe(secs(182), gib(243, 1000));
        assert_eq!(r.rate, Some(2.0 * GIB as f64));
        assert_eq!(
            r.eta,
            Some(Duration::from_millis(378_500)),
            "757 GiB at 2 GiB/s"
        );
        // A copy that starts over (fewer bytes than before) restarts the measurement.
        let r = t.observe(secs(200), gib(100, 1000));
        assert_eq!((r.rate, r.eta), (None, None));
        // A stalled job has a rate of 0 and no ETA.
        let r = t.observe(secs(230), gib(100, 1000));
        assert_eq!((r.rate, r.eta), (Some(0.0), None));
    }

    #[test]
    fn a_reading_says_what_its_percentage_is_of_in_binary_units() {
        let mut t = Tracker::new(ProgressOf::Restore);
        t.observe(
            secs(0),
            Progress::units(0, 40).with_bytes(0, 54_321_317_778),
        );
        let mut p = Progress::units(12, 40).with_bytes(23_400_000_000, 54_321_317_778);
        p.estimated = true;
        let r = t.observe(secs(100), p);
        assert_eq!(
            r.text(),
            "43% of ~50.59 GiB, 223.16 MiB/s, ETA 2m 12s, 21.79 GiB recovered, shard copies 12/40"
        );
        // Without bytes (an old version's snapshot status): the units, the pace so far.
        let mut t = Tracker::new(ProgressOf::Snapshot);
        let r = t.observe(secs(30), Progress::units(10, 40));
        assert_eq!(r.text(), "25% of shards, ETA 1m 30s, shards 10/40");
    }

    #[test]
    fn eta_from_progress() {
        assert_eq!(
            eta(Duration::from_secs(1), 50.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            eta(Duration::from_secs(3), 75.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(eta(Duration::from_secs(1), 0.0), None);
        assert_eq!(eta(Duration::from_secs(1), 100.0), None);
    }
}
