//! End-to-end tests: one test binary, one module per area.

mod sim_gateway;
mod zeebe;
