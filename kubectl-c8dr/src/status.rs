//! `kubectl c8dr status` (both regions on one screen, and the procedure step) and
//! `kubectl c8dr profiles` (a region's active Spring profiles).

use c8dr_common::error::{Error, Result};
use c8dr_common::session::Session;
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Args)]
pub struct ProfilesArgs {}

pub async fn status(_session: &Session, _args: StatusArgs) -> Result<()> {
    Err(Error::failed("not implemented yet"))
}

pub async fn profiles(_session: &Session, _args: ProfilesArgs) -> Result<()> {
    Err(Error::failed("not implemented yet"))
}
