//! Values overlays (docs/api-behaviour.md §6): load the user's `-f` chain with Helm's merge semantics, compute the
//! effective `orchestration.env`, and build the generated overlay that helm-c8dr passes last.
//!
//! Everything here is a pure function of its input except [`load`] (reads files, never writes them)
//! and [`write_overlay`] (writes the generated file, mode 0600).

mod load;
mod merge;
mod overlay;
mod profiles;
mod property;
mod redact;

pub use load::{load_chain, load_file, parse_yaml};
pub use merge::merge_into;
pub use overlay::{
    EnvChange, Overlay, OverlayDir, OverlayFile, OverlayOptions, SCHEMA_MANAGER_VAR, build_overlay,
    schema_switch_names_set, sets_schema_manager_var, still_set_notice, switch_to_set, to_yaml,
    user_env, write_overlay,
};
pub use profiles::{active_profiles, expected_profiles};
pub use property::{configuration_sets, property_values};
pub use redact::{
    MIN_SECRET_LEN, REDACTED, Redactor, looks_secret, redact, redact_args, redact_text,
};
