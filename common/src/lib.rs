//! c8dr-common: the core shared by `kubectl-c8dr` and `helm-c8dr`.
//!
//! Domain logic (broker parity, change tracking, overlay merge, phase detection) is pure and unit
//! tested; I/O sits behind small types that can be pointed at the simulator.

pub mod config;
pub mod error;
pub mod helm;
pub mod region;
pub mod values;

pub use error::{Error, Result};
