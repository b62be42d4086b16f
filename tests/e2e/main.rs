//! End-to-end tests: one test binary, one module per area.

mod demo;
mod es;
mod helm;
mod portforward;
mod sim_gateway;
mod zeebe;
