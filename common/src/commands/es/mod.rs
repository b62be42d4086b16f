//! Elasticsearch commands (the Elasticsearch copy): `es repo register|show`, `es snapshot
//! create|list|show|restore`, `es copy`, `es status`. Each command function gathers evidence,
//! checks safety, plans, confirms, acts once, waits and reports; how Elasticsearch is reached
//! is [`crate::es::access`], the operations are [`crate::es`].

mod copy;
mod copy_pause;
mod pre_copy;
mod repo;
mod restore;
mod snapshot;
mod tuning_step;

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::es::{self, EsAccess, EsConn, EsOptions, ProgressOf};
use crate::location::locate;
use crate::output::{Render, table};
use crate::region::RegionRef;
use crate::session::{Session, Settings};

pub use self::copy::{CopyArgs, copy};
pub use self::pre_copy::{pre_copy_preview, pre_copy_run};
pub use self::repo::{RepoView, repo_register, repo_show};
pub use self::restore::snapshot_restore;
pub use self::snapshot::{
    SnapshotListView, SnapshotView, snapshot_create, snapshot_list, snapshot_show,
};

/// The `feature_states` of a restore: `--feature-states` when given; else `none` when the
/// target is secured (restoring the snapshot's security feature state would replace the
/// target's users and passwords), else Elasticsearch's default (all of the snapshot's).
/// OpenSearch has no feature states and rejects the key (400 "Unknown parameter
/// feature_states"): nothing is sent there, and a `--feature-states` flag is ignored with a note.
/// `--feature-states` as Elasticsearch's restore API accepts it: `none` means "no feature state"
/// and cannot be combined with names (ES reference, restore snapshot API, `feature_states`);
/// checked before any call.
pub fn check_feature_states(flag: Option<&[String]>) -> Result<()> {
    if let Some(list) = flag
        && list.len() > 1
        && list.iter().any(|s| s == "none")
    {
        return Err(Error::usage(format!(
            "--feature-states {:?}: 'none' cannot be combined with other feature states",
            list.join(",")
        )));
    }
    Ok(())
}

pub fn feature_states(
    flag: Option<&[String]>,
    target: &EsConn,
    session: &Session,
    dist: &es::Distribution,
) -> Option<Vec<String>> {
    if !dist.has_feature_states() {
        if flag.is_some_and(|f| !f.is_empty()) {
            session.ui.warn(format!(
                "--feature-states ignored: the target runs {}, which has no feature states",
                dist.describe()
            ));
        }
        return None;
    }
    match flag {
        Some(list) if !list.is_empty() => Some(list.to_vec()),
        _ if target.secured => {
            session.ui.note(
                "Elasticsearch security is on: restoring with feature_states [\"none\"] so that the \
                 target keeps its own users (override with --feature-states)",
            );
            Some(vec!["none".into()])
        }
        _ => None,
    }
}

/// The session's Elasticsearch and the options of the operations, for a command that reads.
async fn reach(session: &Session, access: &EsAccess) -> Result<(EsConn, EsOptions)> {
    Ok((es::connect(session, access).await?, access.options(session)))
}

/// Progress of the snapshot and restore waits: a bar on a terminal, a line every 30 s
/// without one ([`crate::ui::Ui::progress`]), what they show from [`es::Tracker`].
struct Bars<'a> {
    session: &'a Session,
    current: Mutex<Option<Job>>,
}

/// The job shown now.
struct Job {
    started: tokio::time::Instant,
    tracker: es::Tracker,
    display: crate::ui::Progress,
}

impl<'a> Bars<'a> {
    fn new(session: &'a Session) -> Self {
        Self {
            session,
            current: Mutex::new(None),
        }
    }

    fn update(&self, phase: ProgressOf, p: es::Progress) {
        let Ok(mut cur) = self.current.lock() else {
            return;
        };
        if cur.as_ref().map(|j| j.tracker.of()) != Some(phase) {
            if let Some(old) = cur.take() {
                old.display.finish();
            }
            *cur = Some(Job {
                started: tokio::time::Instant::now(),
                tracker: es::Tracker::new(phase),
                display: self.session.ui.progress(phase.label(), 0),
            });
        }
        if let Some(job) = cur.as_mut() {
            let reading = job.tracker.observe(job.started.elapsed(), p);
            job.display
                .show(reading.permille(), phase.name(), &reading.text());
        }
    }

    fn finish(&self) {
        if let Ok(mut cur) = self.current.lock()
            && let Some(job) = cur.take()
        {
            job.display.finish();
        }
    }
}

fn details<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `--delete-existing-indices` is only for the recreated region (the surviving one holds the
/// data being copied).
fn check_delete_allowed(settings: &Settings) -> Result<()> {
    let recreated = match settings.region {
        RegionRef::Recreated => true,
        RegionRef::Index(id) => {
            locate(RegionRef::Recreated, &settings.env)
                .ok()
                .and_then(|l| l.id)
                == Some(id)
        }
        RegionRef::Surviving => false,
    };
    if !recreated {
        return Err(Error::refused(format!(
            "--delete-existing-indices deletes Camunda indices: it is only allowed in the recreated region \
             (pass --region recreated), not in the {} region",
            settings.region
        )));
    }
    Ok(())
}

/// Why a restored cluster stays yellow: replicas its data nodes cannot hold.
fn unassigned_note(report: &es::RestoreReport) -> String {
    if report.unassigned_replicas == 0 {
        return String::new();
    }
    format!(
        " ({} replica copies cannot be allocated on {} data node(s): Elasticsearch never puts a \
         replica on its primary's node)",
        report.unassigned_replicas, report.data_nodes
    )
}

// ---------------------------------------------------------------------------------------------
// Status

/// `es status`: health and Camunda indices.
pub async fn status(session: &Session, access: &EsAccess) -> Result<StatusView> {
    let (t, opts) = reach(session, access).await?;
    let mut read_from = session.describe_region();
    if session.settings.es_url.is_some() {
        read_from.push_str(", Elasticsearch through --es-url");
    }
    Ok(StatusView {
        region_id: session.settings.location.id.map(|r| r.to_string()),
        read_from,
        status: es::cluster_status(t.t(), &opts).await?,
    })
}

/// One cluster's Elasticsearch state, rendered, with the region it was read in (two regions
/// each have one: the output says which).
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    /// `region0`/`region1`, when known.
    #[serde(rename = "region")]
    pub region_id: Option<String>,
    /// Which region was read, for people: `surviving region region0 (context …, namespace …)`.
    #[serde(rename = "readFrom")]
    pub read_from: String,
    #[serde(flatten)]
    pub status: es::EsStatus,
}

impl Render for StatusView {
    fn text(&self) -> String {
        let s = &self.status;
        let mut out = format!(
            "{}\nhealth {}, {} indices, {} Camunda indices{}{}\n",
            self.read_from,
            s.health,
            s.indices,
            s.camunda_indices.len(),
            s.restored_from
                .as_deref()
                .map(|n| format!(", restored from snapshot {n}"))
                .unwrap_or_default(),
            if s.restoring { ", restore running" } else { "" }
        );
        if !s.camunda_indices.is_empty() {
            let rows = s
                .camunda_indices
                .iter()
                .map(|(i, d)| {
                    vec![
                        i.clone(),
                        d.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            out.push_str(&table(&["INDEX", "DOCS"], rows));
        }
        out
    }
}
