//! c8dr-common: the core shared by `kubectl-c8dr` and `helm-c8dr`.
//!
//! Domain logic (broker parity, change tracking, overlay merge, phase detection) is pure and unit
//! tested; I/O sits behind small types that can be pointed at the simulator.

pub mod chart;
pub mod commands;
pub mod config;
pub mod duration;
pub mod error;
pub mod es;
pub mod helm;
pub mod http;
pub mod journal;
pub mod kube;
pub mod location;
pub mod output;
pub mod procedure;
pub mod region;
pub mod release;
pub mod session;
pub mod signal;
pub mod ui;
pub mod values;
pub mod wait;
pub mod zeebe;

pub use error::{Error, Result};
