//! `kubectl c8dr es …`: Elasticsearch repository, snapshot, restore and copy (failback step 4).

use c8dr_common::error::{Error, Result};
use c8dr_common::session::Session;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum EsCommand {
    /// Show the Elasticsearch cluster's health and Camunda indices
    Status,
}

pub async fn run(_session: &Session, command: EsCommand) -> Result<()> {
    match command {
        EsCommand::Status => Err(Error::failed("not implemented yet")),
    }
}
