//! Phase detection: from what can be observed of both regions, which step of the procedure
//! (docs/contract.md §1) the installation is in, and the next command.
//!
//! Pure: [`detect`] takes an [`Observation`] (gathered by `commands::status`) and returns a
//! [`Verdict`]. The steps, their numbers and their commands are data ([`steps`]): drivers,
//! detection and hints take them from there.
//!
//! - [`steps`]: the table (one row a step) and the commands the procedure points at.
//! - [`observe`]: what detection looks at.
//! - [`verdict`]: what it returns.
//! - `detect`: the lost region, then one file per stage.
//!
//! Whether exporting is paused is read on every broker (`GET /actuator/partitions`): it tells
//! the pause from the copy and the resume from the re-add. Only when no broker answered are those
//! steps reported as pairs, with a note.

mod detect;
pub mod observe;
pub mod steps;
pub mod verdict;

pub use detect::{detect, exporter_of, lost_region, with_region_flag};
pub use observe::{ClusterObservation, EsObservation, Exporting, Observation, RegionObservation};
pub use steps::{Action, FAILBACK, FAILOVER, Fill, Stage, Step, Tool, hint};
pub use verdict::{Phase, Verdict};

#[cfg(test)]
use {crate::region::RegionId, std::collections::BTreeSet};

#[cfg(test)]
mod tests;
