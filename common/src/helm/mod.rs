//! `helm c8dr`: plan a `helm upgrade --install` per region (contexts, values chain, generated
//! overlay), show it for `--dry-run`, or run it (both regions concurrently) and report.
//!
//! - [`plan`]: pure, request + environment + values files → [`Plan`] (with [`extra_args`], the
//!   refusal of helm arguments that would override what c8dr decides);
//! - [`run`]: helm processes, their slots, signal forwarding, [`Interrupted`];
//! - [`verify`]: `--verify`, the unified ConfigMap's profiles awaited;
//! - [`report`]: [`RedeployReport`], what ran and the exit code it maps to.

pub mod extra_args;
pub mod plan;
pub mod report;
pub mod run;
pub mod verify;

pub use extra_args::check_extra_args;
pub use plan::{DEFAULT_BASE_VALUES, DEFAULT_VERIFY_TIMEOUT, Plan, RedeployRequest, RegionPlan};
pub use report::{RedeployReport, UpgradeReport};
pub use run::{Interrupted, SIGNAL_GRACE, Signal};
pub use verify::{VerifyReport, wait_for_profiles};

#[cfg(test)]
mod tests;
