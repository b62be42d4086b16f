//! The old home of the Zeebe commands, now split by command group (`brokers`, `exporters`,
//! `exporting`, `changes`, `topology`) and concern (`cluster`, `follow`, `liveness`,
//! `mutation`). These re-exports keep the old paths for callers not yet moved (merge: drop this
//! file once `drive`, `status`, `es` and the tests use the new paths).

pub use super::brokers::{brokers_add, brokers_remove};
pub use super::changes::{ChangesView, changes_cancel, changes_show, changes_wait};
pub(crate) use super::cluster::{ClusterRead, cluster_from_topology, read_cluster};
pub use super::exporters::{ExporterList, exporter_set, exporter_set_with, exporters_list};
pub use super::exporting::{exporting_pause, exporting_resume};
pub use super::follow::{wait_for, wait_for_change};
pub(crate) use super::liveness::liveness;
pub use super::topology::{TopologyView, topology};
pub use crate::zeebe::change::Follow;
