//! The helm stand-in (`c8dr-sim-helm`) and its effect on the simulated world.
//!
//! The stand-in behaves as `helm upgrade --install` would against a simulated region: it parses
//! helm's argv, records it (and copies of every `-f` file, which may be temporary) for the tests,
//! merges the values with Helm's semantics, finds the region's API server through the kubeconfig
//! context as helm does, and POSTs the result to `<server>/c8dr-sim/helm/apply`. The simulator
//! applies it with [`apply_release`]. This module does not depend on c8dr-common on purpose: the
//! merge here is an independent implementation to test the product's against.
//!
//! One concern per file: `args` (helm's argv), `values` (merging), `kubeconfig` (the region's
//! API server), `client` (the POST), `record` (the tests' record of each call), `cli` (the
//! stand-in's main), `release` and `endpoint` (the simulator's side).

mod args;
mod cli;
mod client;
mod endpoint;
mod kubeconfig;
mod record;
mod release;
mod values;

pub use args::{UpgradeArgs, parse_upgrade};
pub use cli::run_cli;
pub use endpoint::handle_http;
pub use kubeconfig::kube_server;
pub use release::{apply_release, enabled_profiles, schema_manager_disabled};
pub use values::{apply_set, merge_values};

/// The (legacy) variable whose value `"false"` keeps the schema manager from creating indices;
/// 8.10's canonical one is [`crate::release::CANONICAL_SCHEMA_VAR`].
pub const SCHEMA_MANAGER_VAR: &str = crate::release::LEGACY_SCHEMA_VAR;

/// The path the stand-in POSTs to on the region's API server.
pub const APPLY_PATH: &str = "/c8dr-sim/helm/apply";
