//! End-to-end tests: one test binary, one module per area.

mod bad_input;
mod closed_output;
mod color;
mod completion;
mod demo;
mod dry_run;
mod es;
mod es_speed;
mod exporting;
mod fault_matrix;
mod hang;
mod helm;
mod help;
mod install_hook;
mod model_signals;
mod output_schema;
mod portforward;
mod procedure;
mod readme;
mod releases;
mod secrets;
mod signals;
mod sim_gateway;
mod status;
mod validation;
mod zeebe;
