//! `kubectl c8dr status` (both regions on one screen, and the procedure step) and
//! `kubectl c8dr profiles` (a region's active Spring profiles).

use c8dr_common::commands::status as ops;
use c8dr_common::duration::parse_duration;
use c8dr_common::error::{Error, Result};
use c8dr_common::session::Session;
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How long each region's probes may take (API server, ConfigMap, gateway, Elasticsearch)
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub probe_timeout: String,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Expect Operate and Tasklist on: broker,identity,operate,tasklist,consolidated-auth (default)
    #[arg(long, conflicts_with = "expect_no_webapps")]
    pub expect_webapps: bool,
    /// Expect Operate and Tasklist off: broker,identity,consolidated-auth (failback {range:InstallRecreated..AddBrokers})
    #[arg(long)]
    pub expect_no_webapps: bool,
    /// Also read the profiles each broker logged at start-up ("The following N profiles are active")
    #[arg(long)]
    pub logs: bool,
}

pub async fn status(session: &Session, args: StatusArgs) -> Result<()> {
    let limit = parse_duration("--probe-timeout", &args.probe_timeout)?;
    if limit.is_zero() {
        return Err(Error::usage(
            "--probe-timeout 0: every probe would time out; give e.g. 5s",
        ));
    }
    if session.settings.location.context_source.as_deref() == Some("--context") {
        // status shows both regions, each located by the docs' variables: one --context cannot
        // say which region it is, and ignoring it would show another cluster than asked.
        return Err(Error::usage(
            "--context: status shows both regions and locates each by the docs' variables \
             (CLUSTER_SURVIVING/CLUSTER_RECREATED or CLUSTER_0/CLUSTER_1); set those instead",
        ));
    }
    let report = ops::status(session, limit).await?;
    crate::show(session, &report)?;
    if report.nothing_reachable() {
        if let Some(bad) = report.input_error() {
            return Err(Error::usage(bad.to_string()));
        }
        return Err(Error::unreachable(
            "either region",
            "neither region's Kubernetes API answered (see above)",
        ));
    }
    Ok(())
}

pub async fn profiles(session: &Session, args: ProfilesArgs) -> Result<()> {
    let webapps = !args.expect_no_webapps;
    let report = ops::profiles(session, webapps, args.logs).await?;
    crate::show(session, &report)?;
    if !report.ok() {
        return Err(Error::failed(format!(
            "the active profiles of {} differ from the expected {}",
            report.region,
            report.expected.join(",")
        )));
    }
    Ok(())
}
