//! `kubectl c8dr status` (both regions on one screen, and the procedure step) and
//! `kubectl c8dr profiles` (a region's active Spring profiles).

use c8dr_common::commands::status as ops;
use c8dr_common::duration::parse_duration;
use c8dr_common::error::{Error, Result};
use c8dr_common::output::Format;
use c8dr_common::session::Session;
use clap::Args;
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How long each region's probes may take (API server, ConfigMap, gateway, Elasticsearch)
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub probe_timeout: String,
    /// Keep polling and show the status again whenever it changes, as `kubectl get -w`: on a
    /// terminal the screen is redrawn; in a pipe each change is printed under a timestamp line,
    /// with -o json as one compact document per line (one per change). Ctrl-C ends it (exit 0)
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// How often --watch polls (each poll bounded by --timeout), e.g. 2s, 500ms, 1m [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = interval_value)]
    pub interval: Option<String>,
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

/// `--interval`: a duration above zero (`0` would poll without a pause).
fn interval_value(raw: &str) -> std::result::Result<String, String> {
    match parse_duration("--interval", raw) {
        Ok(d) if d.is_zero() => Err("must be above zero, e.g. 2s or 500ms".into()),
        Ok(_) => Ok(raw.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `status`: both regions, or with `--context` the one region of that context.
async fn poll(
    session: &Session,
    namespace_flag: Option<&str>,
    limit: Duration,
) -> Result<ops::StatusReport> {
    let l = &session.settings.location;
    match (&l.context, l.context_source.as_deref()) {
        // A context given on the command line cannot say which of the two regions it is, and
        // the other region is not the operator's question: that region alone.
        (Some(context), Some("--context")) => {
            ops::status_of_context(session, context, namespace_flag, limit).await
        }
        _ => ops::status(session, limit).await,
    }
}

/// `status` with the global `-q`: the headline only (the phase and the next command).
fn show_status(session: &Session, report: &ops::StatusReport) -> Result<()> {
    if session.ui.quiet && session.settings.output == Format::Text {
        c8dr_common::outln!("{}", report.summary());
        return Ok(());
    }
    crate::show(session, report)
}

pub async fn status(
    session: &Session,
    args: StatusArgs,
    namespace_flag: Option<&str>,
) -> Result<()> {
    let limit = parse_duration("--probe-timeout", &args.probe_timeout)?;
    if limit.is_zero() {
        return Err(Error::usage(
            "--probe-timeout 0: every probe would time out; give e.g. 5s",
        ));
    }
    if args.interval.is_some() && !args.watch {
        return Err(Error::usage(
            "--interval: how often --watch polls; add --watch (-w) or leave it out",
        ));
    }
    if args.watch {
        let interval = parse_duration("--interval", args.interval.as_deref().unwrap_or("2s"))?;
        let w = ops::Watch {
            interval,
            format: session.settings.output.clone(),
            quiet: session.ui.quiet,
            screen: std::io::stdout().is_terminal(),
            command: "kubectl c8dr status".to_string(),
        };
        // Each poll with a fresh session: what a session reads once (the installation's
        // release, the Kubernetes clients, port-forwards) changes during a procedure, e.g. a
        // region recreated and installed again.
        return ops::watch(&w, session.settings.timeout, || {
            let fresh = Session::new(session.settings.clone(), session.ui.clone());
            async move { poll(&fresh, namespace_flag, limit).await }
        })
        .await;
    }
    let report = poll(session, namespace_flag, limit).await?;
    show_status(session, &report)?;
    if report.nothing_reachable() {
        if let Some(bad) = report.input_error() {
            return Err(Error::usage(bad.to_string()));
        }
        return Err(match report.scope {
            ops::Scope::OneRegion => Error::unreachable(
                "the region of --context",
                "its Kubernetes API did not answer (see above)",
            ),
            ops::Scope::BothRegions => Error::unreachable(
                "either region",
                "neither region's Kubernetes API answered (see above)",
            ),
        });
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
