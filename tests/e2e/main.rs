//! End-to-end tests: one test binary, one module per area.

mod helm;
mod sim_gateway;
mod status;
mod zeebe;
