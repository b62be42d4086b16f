//! Zeebe: the management API, the v2 topology, change tracking and broker selection.

pub mod brokers;
pub mod change;
pub mod management;
pub mod model;
pub mod partitions;
pub mod rest;
pub mod zones;

pub use management::ManagementClient;
pub use rest::{RestAuth, RestClient};
