//! The core's tests: one test binary, one module per area (as tests/e2e is); `support` is the
//! in-process harness the command tests share.

mod architecture;
mod commands_es;
mod commands_procedure;
mod commands_smoke;
mod commands_zeebe;
mod es_client;
mod fuzz_inputs;
mod kube_access;
mod location;
mod model_based;
mod support;
