//! End-to-end tests: one test binary, one module per area.

mod bad_input;
mod demo;
mod es;
mod exporting;
mod fault_matrix;
mod helm;
mod portforward;
mod procedure;
mod secrets;
mod signals;
mod sim_gateway;
mod status;
mod validation;
mod zeebe;
