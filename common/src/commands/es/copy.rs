//! `kubectl c8dr es copy --from surviving --to recreated`: the whole failback step 4.

use super::{Bars, check_delete_allowed, details, feature_states, unassigned_note};
use crate::commands::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::es::{self, CopyOutcome, CopySpec, EsAccess, RepoFlags};
use crate::region::RegionRef;
use crate::session::Session;

/// What `es copy` needs besides the repository flags.
#[derive(Debug, Clone)]
pub struct CopyArgs {
    pub from: RegionRef,
    pub to: RegionRef,
    pub snapshot: Option<String>,
    pub delete_existing: bool,
    /// `--exporting-paused`: the operator states that exporting is paused (failback step 3).
    pub exporting_paused: bool,
    /// Direct URLs for each side (instead of exec).
    pub from_es_url: Option<String>,
    pub to_es_url: Option<String>,
    /// `--feature-states` of the restore (see [`feature_states`]).
    pub feature_states: Option<Vec<String>>,
    /// `--pause-exporting`: pause exporting first (failback step 3) through this session's
    /// gateway, which also establishes that it is paused.
    pub pause_exporting: bool,
}

/// `es copy --from surviving --to recreated`: the whole failback step 4.
pub async fn copy(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
) -> Result<Outcome> {
    const CMD: &str = "es copy";
    access.validate()?;
    if session.settings.es_url.is_some() {
        return Err(Error::usage(
            "--es-url: ambiguous for es copy (two clusters); use --from-es-url and --to-es-url",
        ));
    }
    if repo.readonly {
        return Err(Error::usage(
            "--readonly: es copy registers the repository writable on the source and read-only on the target itself",
        ));
    }
    if args.from == args.to {
        return Err(Error::usage(format!(
            "--from and --to are both {}: they must name different regions",
            args.from
        )));
    }
    let spec = repo.spec(&session.settings)?;
    if let Some(n) = &args.snapshot {
        es::snapshot_name(Some(n))?;
    }
    let mut from = session.settings.for_region(args.from)?;
    let mut to = session.settings.for_region(args.to)?;
    let parse = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|raw| crate::http::parse_base_url(flag, raw))
            .transpose()
    };
    if args.delete_existing {
        check_delete_allowed(&to)?;
    }
    from.es_url = parse("--from-es-url", &args.from_es_url)?;
    to.es_url = parse("--to-es-url", &args.to_es_url)?;
    if from.es_url.is_none()
        && to.es_url.is_none()
        && from.location.context == to.location.context
        && from.location.namespace == to.location.namespace
    {
        return Err(Error::usage(format!(
            "--from {} and --to {} resolve to the same kube context and namespace: set CLUSTER_SURVIVING/\
             CAMUNDA_NAMESPACE_SURVIVING and CLUSTER_RECREATED/CAMUNDA_NAMESPACE_RECREATED (or CLUSTER_0/1)",
            args.from, args.to
        )));
    }
    if args.pause_exporting && args.exporting_paused {
        return Err(Error::usage(
            "--pause-exporting and --exporting-paused: give one (pause now, or state it is paused)",
        ));
    }
    let source = Session::new(from, session.ui.clone());
    let target = Session::new(to, session.ui.clone());
    let st = es::connect(&source, access).await?;
    let tt = es::connect(&target, access).await?;
    // Both Elasticsearch clusters answer; now the pause (an unreachable region is exit 5 first).
    if !args.pause_exporting {
        // The pause state is read on the brokers (SPEC 3.3); `--exporting-paused` is the
        // operator's word for it, needed only where the brokers cannot be read.
        let view = crate::commands::exporting::observe(session).await;
        let not_paused = view.not_in("PAUSED");
        let refusal = if view.observed() && !not_paused.is_empty() {
            Some(format!(
                "exporting is not paused: {} partition replicas show otherwise ({}{}). Pause it first \
                 (failback step 3: kubectl c8dr exporting pause), else the copy misses what is exported \
                 meanwhile; or let this run pause it with --pause-exporting",
                not_paused.len(),
                not_paused
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if not_paused.len() > 3 { ", …" } else { "" }
            ))
        } else if !view.observed() && !args.exporting_paused {
            Some(format!(
                "exporting must be paused before copying Elasticsearch (failback step 3: kubectl c8dr \
                 exporting pause), else the copy misses what is exported meanwhile. The brokers' pause state \
                 could not be read ({}): state it with --exporting-paused once you have paused it, or let \
                 this run pause it with --pause-exporting",
                view.unread().join("; ")
            ))
        } else {
            None
        };
        if let Some(msg) = refusal {
            if !session.settings.dry_run {
                return Err(Error::refused(msg));
            }
            session.ui.warn(msg);
        }
    }
    let mut opts = access.options(session);
    let target_engine = es::detect(tt.t(), &opts).await?;
    opts.restore_feature_states =
        feature_states(args.feature_states.as_deref(), &tt, session, &target_engine);
    let copy_spec = CopySpec {
        repo: spec,
        snapshot: args.snapshot.clone(),
        delete_existing: args.delete_existing,
    };
    let preview = es::copy_preview(st.t(), tt.t(), &opts, &copy_spec).await?;
    let describe = format!(
        "from the {} to the {}",
        source.describe_region(),
        target.describe_region()
    );
    if preview.already_done {
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the target already holds exactly the source's {} Camunda indices, restored from a snapshot",
                preview.source_indices.len()
            ),
        )
        .with_details(details(&preview)));
    }
    let summary = format!(
        "copy {} Camunda indices {describe} through snapshot {} in repository {}{}",
        preview.source_indices.len(),
        preview.snapshot,
        access.repository,
        if preview.delete_indices.is_empty() {
            String::new()
        } else {
            format!(
                ", DELETING the target's {} existing Camunda indices first",
                preview.delete_indices.len()
            )
        }
    );
    if session.settings.dry_run {
        let mut plan = preview.calls.clone();
        if args.pause_exporting {
            plan.insert(0, "gateway: POST /actuator/exporting/pause".into());
        }
        return Ok(Outcome::new(CMD, Ending::DryRun, summary)
            .with_plan(plan)
            .with_details(details(&preview)));
    }
    let mut plan = preview.calls.clone();
    if args.pause_exporting {
        plan.insert(0, "gateway: POST /actuator/exporting/pause".into());
    }
    session.ui.confirm(&format!("Plan: {summary}"), &plan)?;
    let mut guard = None;
    if args.pause_exporting {
        // Until the copy ends (armed before the pause is sent), neither a failure nor a signal
        // may leave exporting paused.
        let g = crate::commands::pause_guard::PauseGuard::arm(
            session,
            session.management().await?,
            "kubectl c8dr es copy --pause-exporting",
            vec![
                "exporting pause".into(),
                "es copy: snapshot of the source, restore into the target".into(),
            ],
        );
        // The pause is the run's own: it prints its own plan, and --yes covers it.
        let paused = crate::commands::zeebe::exporting_pause(session, false).await?;
        session
            .ui
            .note(format!("{}: {}", paused.command, paused.summary));
        g.done("exporting pause");
        // A pause found in place is not this run's to undo.
        if paused.status == Ending::Done {
            guard = Some(g);
        }
    }
    let copy_spec = CopySpec {
        snapshot: Some(preview.snapshot.clone()),
        ..copy_spec
    };
    let bars = Bars::new(session);
    let result = es::copy(st.t(), tt.t(), &opts, &copy_spec, &|ph, p| {
        bars.update(ph, p)
    })
    .await;
    bars.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) if guard.is_some() => {
            drop(guard.take());
            let revert = match crate::commands::zeebe::exporting_resume(session).await {
                Ok(_) => "exporting (paused by this run) was resumed".to_string(),
                Err(r) => format!(
                    "resuming exporting ALSO failed ({r}): run now: {}",
                    crate::commands::pause_guard::resume_command(session)
                ),
            };
            session.ui.warn(&revert);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // The copy is done: the pause stays for failback step 5 (exporters enable), by design.
    drop(guard);
    let status = match report.outcome {
        CopyOutcome::AlreadyDone => Ending::AlreadyDone,
        CopyOutcome::Copied | CopyOutcome::Resumed => Ending::Done,
    };
    let summary = format!(
        "{} Camunda indices copied {describe} (snapshot {}); the target's Camunda indices equal the source's{}{}",
        report.indices.len(),
        preview.snapshot,
        if report.outcome == CopyOutcome::Resumed {
            " (an interrupted restore was followed to its end)"
        } else {
            ""
        },
        report
            .restore
            .as_ref()
            .map(|r| format!(
                "; {} shard copies recovered, cluster health {}{}",
                r.shard_copies,
                r.health,
                unassigned_note(r)
            ))
            .unwrap_or_default()
    );
    Ok(Outcome::new(CMD, status, summary)
        .with_plan(plan)
        .with_details(details(&report)))
}
