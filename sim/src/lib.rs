//! c8dr-sim: a simulated dual-region Camunda 8.8, 8.9 or 8.10 installation on loopback
//! (`SimConfig::camunda`, facts per release in [`release`]).
//!
//! Per region: a fake Kubernetes API server that real `kubectl` and kube-rs accept, the Zeebe
//! gateway's management and REST APIs, and Elasticsearch; a helm stand-in; fault injection. The
//! behaviour follows docs/api-behaviour.md (the real APIs), not what is convenient for c8dr.

pub mod demo;
pub mod es;
pub mod exec;
pub mod helm;
pub mod http;
pub mod invariants;
pub mod kube_api;
pub mod release;
#[cfg(test)]
mod release_tests;
pub mod server;
pub mod timeline;
pub mod world;
pub mod zeebe;

pub use release::{CamundaRelease, SecondaryStorage};
pub use server::{Sim, context_name, state_json};
pub use world::{DeadCoordinator, RegionId, SharedWorld, SimConfig, World};
