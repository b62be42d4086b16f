//! End-to-end tests: one test binary, one module per area.

mod demo;
mod es;
mod helm;
mod portforward;
mod procedure;
mod sim_gateway;
mod status;
mod zeebe;
