//! Progress of the long Elasticsearch jobs (creating a snapshot, restoring one) for the CLI's
//! bars, and the completion estimate the waits poll by.

use std::time::Duration;

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

pub(super) fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

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
