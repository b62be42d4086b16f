//! `kubectl c8dr exporters list|disable|enable`: the Zeebe exporters (the lost exporter's disable,
//! the recreated one's enable). Disabling and enabling are topology changes, run by the mutation runner.

use serde::Serialize;
use serde_json::json;

use super::cluster::{cluster, explain_coordinator};
use super::follow::{follow_pending, recover, started, wait_for};
use super::mutation::Mutation;
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::output::{Render, table};
use crate::session::Session;
use crate::wait::Poller;
use crate::zeebe::ManagementClient;
use crate::zeebe::change::{Intent, baseline};
use crate::zeebe::model::ExporterStatus;

/// `GET /actuator/exporters`, a lost coordinator explained.
async fn exporters(mgmt: &ManagementClient) -> Result<Vec<ExporterStatus>> {
    mgmt.exporters()
        .await
        .map_err(|e| explain_coordinator(e, None))
}

/// The exporters, for `exporters list`.
#[derive(Debug, Serialize)]
pub struct ExporterList {
    #[serde(serialize_with = "with_regions")]
    pub exporters: Vec<ExporterStatus>,
}

/// An exporter in a document: the gateway's fields plus the region its id names (`region`, as
/// the REGION column of `exporters list`; `null` for an id without a region digit).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExporterView<'a> {
    exporter_id: &'a str,
    status: &'a str,
    region: Option<String>,
}

/// Serialize exporters with their regions (`exporters list`, `status`'s cluster).
pub(crate) fn with_regions<S: serde::Serializer>(
    list: &[ExporterStatus],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(|e| ExporterView {
        exporter_id: &e.exporter_id,
        status: &e.status,
        region: crate::region::region_of_exporter(&e.exporter_id).map(|r| r.to_string()),
    }))
}

impl Render for ExporterList {
    fn text(&self) -> String {
        table(
            &["EXPORTER", "STATUS", "REGION"],
            self.exporters
                .iter()
                .map(|e| {
                    let region = crate::region::region_of_exporter(&e.exporter_id)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into());
                    vec![e.exporter_id.clone(), e.status.clone(), region]
                })
                .collect(),
        )
    }
}

pub async fn exporters_list(session: &Session) -> Result<ExporterList> {
    let mgmt = session.management().await?;
    Ok(ExporterList {
        exporters: exporters(mgmt).await?,
    })
}

fn find_exporter<'a>(
    list: &'a [ExporterStatus],
    id: &str,
    flag: &str,
) -> Result<&'a ExporterStatus> {
    list.iter().find(|e| e.exporter_id == id).ok_or_else(|| {
        Error::usage(format!(
            "{flag}: unknown exporter '{id}'; the gateway knows {}",
            list.iter()
                .map(|e| e.exporter_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Wait until `GET /actuator/exporters` shows the target status (it lags briefly, docs/api-behaviour.md §2).
async fn wait_exporter_status(
    session: &Session,
    mgmt: &ManagementClient,
    id: &str,
    target: &str,
) -> Result<()> {
    let mut poller = Poller::new(format!("exporter {id}"), session.settings.timeout);
    loop {
        let list = mgmt.exporters().await?;
        let status = list
            .iter()
            .find(|e| e.exporter_id == id)
            .map(|e| e.status.as_str())
            .unwrap_or("missing");
        if status == target {
            return Ok(());
        }
        if !poller.tick().await {
            return Err(poller.timeout_saying(format!(
                "exporter {id} still reports {status}, expected {target}"
            )));
        }
    }
}

/// `exporters disable ID` (the lost exporter's disable) and `exporters enable ID [--initialize-from F]`
/// (the exporter's enable).
pub async fn exporter_set(
    session: &Session,
    id: &str,
    enable: bool,
    initialize_from: Option<&str>,
) -> Result<Outcome> {
    exporter_set_with(session, id, enable, initialize_from, false).await
}

/// [`exporter_set`], with `allow_no_exporter`: disabling the last enabled exporter is refused
/// unless it is set (docs/contract.md §4 rule 10).
/// An exporter id goes into the management API's path (`/actuator/exporters/{id}/disable`):
/// refuse what cannot be one (empty, whitespace, control characters, path or query characters)
/// before anything is sent.
fn check_exporter_id(source: &str, id: &str) -> Result<()> {
    let bad = id.is_empty()
        || id.contains("..")
        || id.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%')
        });
    if bad {
        return Err(Error::usage(format!(
            "{source} {id:?}: not an exporter id (no whitespace, control characters, '/', '?', '#', \
             '%' or '..'; see kubectl c8dr exporters list)"
        )));
    }
    Ok(())
}

/// Bad input before any call (docs/contract.md §4 rule 8): the exporter ids.
fn validate_ids(id: &str, initialize_from: Option<&str>) -> Result<()> {
    check_exporter_id("exporter id", id)?;
    if let Some(from) = initialize_from {
        check_exporter_id("--initialize-from", from)?;
        if from == id {
            return Err(Error::usage(format!(
                "--initialize-from {from}: an exporter cannot be initialised from itself"
            )));
        }
    }
    Ok(())
}

/// Safety of a disable: never no exporter (`others` are the other enabled ones) unless forced;
/// a warning when it is the surviving region's own exporter.
fn disable_safety(
    session: &Session,
    id: &str,
    others: &[&str],
    allow_no_exporter: bool,
) -> Result<Vec<String>> {
    if others.is_empty() && !allow_no_exporter {
        return Err(Error::refused(format!(
            "disabling {id} would leave no exporter enabled: nothing would reach Elasticsearch any more, \
             Operate and Tasklist would stop updating, and no exporter would hold back log compaction for a \
             later restore. Pass --allow-no-exporter if that is really what you want"
        )));
    }
    let own = session.settings.location.id;
    let mut warnings = vec![];
    if let Some(region) = crate::region::region_of_exporter(id)
        && own == Some(region)
    {
        warnings.push(format!(
            "WARNING: {id} exports to the Elasticsearch of {region}, the surviving region this command runs \
             against: disabling it stops exporting there{}",
            if others.is_empty() {
                String::new()
            } else {
                format!(" (still enabled: {})", others.join(", "))
            }
        ));
    }
    Ok(warnings)
}

/// The exporter to change, its `--initialize-from` checked too.
fn named_exporters<'a>(
    list: &'a [ExporterStatus],
    id: &str,
    initialize_from: Option<&str>,
) -> Result<&'a ExporterStatus> {
    let current = find_exporter(list, id, "exporter")?;
    if let Some(from) = initialize_from {
        find_exporter(list, from, "--initialize-from")?;
    }
    Ok(current)
}

/// Before a new exporter change: the release gate first (the runner passes it too; an
/// installation c8dr does not support is refused as such, not for what the next check reads),
/// then every member must be reachable.
async fn gate_and_members(
    session: &Session,
    mgmt: &ManagementClient,
    t: &crate::zeebe::model::ClusterTopology,
) -> Result<()> {
    session.facts().await?;
    all_members_reachable(session, mgmt, t).await
}

/// An exporter change is applied by every member for its partitions: a member that is down
/// never applies it, and the change never completes (it then blocks the forced removal that
/// would take the member out). So a lost region's brokers are removed first, as the procedure's
/// order says. Judged from `/v2/topology` when it can be read; without it, not known (the
/// procedure's own order is then the operator's).
async fn all_members_reachable(
    session: &Session,
    mgmt: &ManagementClient,
    t: &crate::zeebe::model::ClusterTopology,
) -> Result<()> {
    let Ok(rest) = session.rest().await else {
        return Ok(());
    };
    let Ok(topology) = rest.topology().await else {
        return Ok(());
    };
    let reachable = topology.reachable();
    let down: Vec<u32> = t
        .member_ids()
        .into_iter()
        .filter(|b| !reachable.contains(b))
        .collect();
    if down.is_empty() {
        return Ok(());
    }
    let remove = crate::procedure::Action::RemoveBrokers.step();
    Err(Error::refused(format!(
        "members {} are unreachable (absent from /v2/topology): an exporter change is applied by \
         every member and would never complete, and then block the failover. Remove the lost \
         brokers first ({}: kubectl c8dr brokers remove --{}), or bring them back",
        mgmt.names(&down),
        remove.named(),
        crate::region::RegionId::of_broker(down[0]).parity()
    )))
}

/// What an enable or disable does, in one line.
fn exporter_summary(id: &str, enable: bool, initialize_from: Option<&str>, status: &str) -> String {
    let verb = if enable { "enable" } else { "disable" };
    match initialize_from {
        Some(f) => format!("{verb} exporter {id}, initialised from {f}"),
        None => format!("{verb} exporter {id} (currently {status})"),
    }
}

/// The call an enable or disable sends.
fn exporter_call(id: &str, enable: bool, initialize_from: Option<&str>) -> String {
    match (enable, initialize_from) {
        (true, Some(f)) => format!(
            "POST /actuator/exporters/{id}/enable {}",
            json!({"initializeFrom": f})
        ),
        (true, None) => format!("POST /actuator/exporters/{id}/enable"),
        (false, _) => format!("POST /actuator/exporters/{id}/disable"),
    }
}

pub async fn exporter_set_with(
    session: &Session,
    id: &str,
    enable: bool,
    initialize_from: Option<&str>,
    allow_no_exporter: bool,
) -> Result<Outcome> {
    let (cmd, target) = if enable {
        ("exporters enable", "ENABLED")
    } else {
        ("exporters disable", "DISABLED")
    };
    validate_ids(id, initialize_from)?;
    let mgmt = session.management().await?;
    let list = exporters(mgmt).await?;
    let current = named_exporters(&list, id, initialize_from)?;
    // The cluster configuration decides "already done": GET /actuator/exporters can still show
    // the previous state right after a change (docs/api-behaviour.md §2).
    let t = cluster(mgmt).await?;
    let state_of = |e: &ExporterStatus| {
        t.exporter_state(&e.exporter_id)
            .unwrap_or_else(|| e.status.clone())
    };
    if state_of(current) == target {
        return Ok(Outcome::new(
            cmd,
            Ending::AlreadyDone,
            format!("exporter {id} is {target}"),
        ));
    }
    let intent = Intent::Exporter {
        id: id.to_string(),
        enable,
    };
    let pending = follow_pending(session, &t, &intent)?;
    let others: Vec<&str> = list
        .iter()
        .filter(|e| e.exporter_id != id && state_of(e) == "ENABLED")
        .map(|e| e.exporter_id.as_str())
        .collect();
    let warnings = match enable {
        true => vec![],
        false => disable_safety(session, id, &others, allow_no_exporter)?,
    };
    if pending.is_none() {
        gate_and_members(session, mgmt, &t).await?;
    }
    let call = exporter_call(id, enable, initialize_from);
    let summary = exporter_summary(id, enable, initialize_from, &current.status);
    let mut plan = warnings.clone();
    plan.extend([
        call.clone(),
        format!("then wait for the change to complete and for {id} to report {target}"),
    ]);
    for w in &warnings {
        session.ui.warn(w);
    }
    Mutation::new(session, cmd, summary.clone(), plan)
        .following(pending)
        .run(
            async || {
                if enable {
                    mgmt.exporter_enable(id, initialize_from).await
                } else {
                    mgmt.exporter_disable(id).await
                }
                .map(started)
            },
            async |e| recover(session, mgmt, &call, baseline(&t), &intent, e).await,
            async |follow, plan| {
                let change = wait_for(session, mgmt, follow, &summary).await?;
                wait_exporter_status(session, mgmt, id, target).await?;
                let done = format!("exporter {id} is {target}");
                Ok(Outcome::new(cmd, Ending::Done, done)
                    .with_plan(plan)
                    .with_change(change))
            },
        )
        .await
}
