//! `kubectl c8dr es copy --from surviving --to recreated`: the whole the Elasticsearch copy.

use super::copy_pause::{PAUSE_CALL, pause_for_the_copy, safety, undo_pause};
use super::pre_copy::{pre_copy_plan, run_pre_copy};
use super::tuning_step::{keys, raise_after_restore, without_raise};
use super::{Bars, check_delete_allowed, details, feature_states, unassigned_note};
use crate::commands::pause_guard::PauseGuard;
use crate::commands::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::es::tuning;
use crate::es::{self, CopyOutcome, CopySpec, EsAccess, RepoFlags, RepoSpec};
use crate::region::RegionRef;
use crate::session::{Session, Settings};

/// What `es copy` needs besides the repository flags.
#[derive(Debug, Clone)]
pub struct CopyArgs {
    pub from: RegionRef,
    pub to: RegionRef,
    pub snapshot: Option<String>,
    pub delete_existing: bool,
    /// `--exporting-paused`: the operator states that exporting is paused (the pause).
    pub exporting_paused: bool,
    /// Direct URLs for each side (instead of exec).
    pub from_es_url: Option<String>,
    pub to_es_url: Option<String>,
    /// `--feature-states` of the restore (see [`feature_states`]).
    pub feature_states: Option<Vec<String>>,
    /// `--pause-exporting`: pause exporting first (the pause) through this session's
    /// gateway, which also establishes that it is paused.
    pub pause_exporting: bool,
    /// Pre-copy (default; `--no-pre-copy` turns it off): a full snapshot before this run's pause
    /// (only with `--pause-exporting`: when exporting is paused already there is no "before").
    pub pre_copy: bool,
    /// Raise the target's recovery limits for the restore and put them back (default;
    /// `--no-tuning` turns it off). See [`crate::es::tuning`].
    pub tuning: bool,
    /// `--snapshot-rate`: the source repository's `max_snapshot_bytes_per_sec` for the
    /// snapshots (put back after each).
    pub snapshot_rate: Option<String>,
    /// The command to run again to continue (messages); `None`: this `es copy`.
    pub rerun: Option<String>,
}

impl CopyArgs {
    /// `es copy --from surviving --to recreated` with the defaults (pre-copy and tuning on).
    pub fn failback_copy() -> Self {
        Self {
            from: RegionRef::Surviving,
            to: RegionRef::Recreated,
            snapshot: None,
            delete_existing: false,
            exporting_paused: false,
            from_es_url: None,
            to_es_url: None,
            feature_states: None,
            pause_exporting: false,
            pre_copy: true,
            tuning: true,
            snapshot_rate: None,
            rerun: None,
        }
    }

    /// The flags of this copy beyond the table's `--from surviving --to recreated`, as an
    /// operator types them to run it alone (the failback's plan line and its rerun hints):
    /// `--repo R [--bucket B] [--exporting-paused] [--delete-existing-indices] [--es-user U]
    /// [--es-password-env V] [--snapshot-rate X] [--no-tuning]`.
    pub fn flags(&self, access: &EsAccess, bucket: Option<&str>) -> String {
        let mut f = format!("--repo {}", access.repository);
        let mut add = |on: bool, flag: &str, value: Option<&str>| {
            if on {
                f.push(' ');
                f.push_str(flag);
                if let Some(v) = value {
                    f.push(' ');
                    f.push_str(v);
                }
            }
        };
        add(bucket.is_some(), "--bucket", bucket);
        add(self.exporting_paused, "--exporting-paused", None);
        add(self.delete_existing, "--delete-existing-indices", None);
        add(access.user.is_some(), "--es-user", access.user.as_deref());
        let password_env = access.password_env.as_deref();
        add(password_env.is_some(), "--es-password-env", password_env);
        let rate = self.snapshot_rate.as_deref();
        add(rate.is_some(), "--snapshot-rate", rate);
        add(!self.tuning, "--no-tuning", None);
        f
    }

    pub(super) fn rerun(&self) -> String {
        self.rerun
            .clone()
            .unwrap_or_else(|| "kubectl c8dr es copy".to_string())
    }
}

/// `es copy --from surviving --to recreated`: the whole the Elasticsearch copy, in the stages of every
/// mutation: validate the input (exit 2, before any call) → gather evidence (both
/// Elasticsearch clusters, the brokers' pause state) → safety (refuse while exporting runs) →
/// plan (reads only) → confirm → act once (pause if asked, snapshot and restore) → recover (a
/// pause of this run is undone when the copy fails) → report.
pub async fn copy(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
) -> Result<Outcome> {
    // Validate.
    let (from, to, spec) = validate(session, access, repo, args)?;
    session.facts().await?;
    // Evidence: both Elasticsearch clusters answer; then the pause (an unreachable region is
    // exit 5 first).
    let source = Session::new(from, session.ui.clone());
    let target = Session::new(to, session.ui.clone());
    let st = es::connect(&source, access).await?;
    let tt = es::connect(&target, access).await?;
    // Safety.
    safety(session, args).await?;
    // Plan.
    let p = preview(session, access, args, &st, &tt, spec).await?;
    let describe = format!(
        "from the {} to the {}",
        source.describe_region(),
        target.describe_region()
    );
    // The target's recovery settings (reads only): the tuning to make, or one an interrupted
    // run left in place.
    let tuning = tuning::tuning_plan(tt.t(), &p.opts).await?;
    if p.preview.already_done {
        return already_done(session, &tt, &p, tuning).await;
    }
    let planned = plan(access, args, &st, &tt, &p, tuning, &describe).await?;
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, planned.summary)
            .with_plan(planned.lines)
            .with_details(details(&p.preview)));
    }
    // Confirm.
    session
        .ui
        .confirm(&format!("Plan: {}", planned.summary), &planned.lines)?;
    // Act once, recover; journaled as one mutation of the target (its pre-copy and pause are
    // journaled on their own too).
    let journaled =
        crate::journal::begin(&session.settings.env, target.journal(CMD, &planned.lines));
    let acted = act(
        session,
        args,
        (&st, &tt),
        &p,
        planned.pre_copy,
        planned.tuned,
    )
    .await;
    let (report, applied, pre) = match acted {
        Ok(a) => a,
        Err(e) => {
            journaled.failed(&e);
            return Err(e);
        }
    };
    // Report.
    let out = report_of(access, &p, planned, &describe, report, applied, pre);
    journaled.end_with(&Ok(out.clone()));
    Ok(out)
}

type Acted = (
    es::CopyReport,
    Option<tuning::TuningPlan>,
    Option<es::precopy::PreCopyReport>,
);

/// The pre-copy when planned, the pause when asked, then snapshot and restore.
async fn act(
    session: &Session,
    args: &CopyArgs,
    (st, tt): (&es::EsConn, &es::EsConn),
    p: &Preview,
    pre_copy: bool,
    tuned: bool,
) -> Result<Acted> {
    let pre = if pre_copy {
        Some(run_pre_copy(session, st, p).await?)
    } else {
        None
    };
    let guard = if args.pause_exporting {
        pause_for_the_copy(session).await?
    } else {
        None
    };
    let (report, applied) = transfer(session, args, st, tt, p, tuned, guard).await?;
    Ok((report, applied, pre))
}

const CMD: &str = "es copy";

/// What the plan is made of: the options (the target's engine decides the feature states), the
/// copy's spec and the preview of its calls.
pub(super) struct Preview {
    pub(super) opts: es::EsOptions,
    pub(super) copy_spec: CopySpec,
    pub(super) preview: es::CopyPreview,
    /// The name a new pre-copy gets: computed once, shown in the plan and used by the act.
    pub(super) pre_copy_name: String,
}

async fn preview(
    session: &Session,
    access: &EsAccess,
    args: &CopyArgs,
    st: &es::EsConn,
    tt: &es::EsConn,
    spec: RepoSpec,
) -> Result<Preview> {
    let mut opts = access.options(session);
    let target_engine = es::detect(tt.t(), &opts).await?;
    opts.restore_feature_states =
        feature_states(args.feature_states.as_deref(), tt, session, &target_engine);
    let copy_spec = CopySpec {
        repo: spec,
        snapshot: args.snapshot.clone(),
        delete_existing: args.delete_existing,
        snapshot_rate: args.snapshot_rate.clone(),
    };
    let preview = es::copy_preview(st.t(), tt.t(), &opts, &copy_spec).await?;
    Ok(Preview {
        opts,
        copy_spec,
        preview,
        pre_copy_name: es::precopy::pre_copy_name()?,
    })
}

/// The target holds the source's indices already: done, but recovery settings an interrupted
/// run left raised are put back (after a confirmation).
async fn already_done(
    session: &Session,
    tt: &es::EsConn,
    p: &Preview,
    tuning: tuning::TuningPlan,
) -> Result<Outcome> {
    let mut summary_extra = String::new();
    let mut plan = vec![];
    if let Some(m) = &tuning.leftover {
        plan.push(format!(
            "target: recovery tuning left in place by an interrupted `{}` found ({}): put back: {}",
            m.by,
            tuning::MARKER,
            tuning::revert_request(&m.changes)
        ));
        if session.settings.dry_run {
            summary_extra = format!(
                "; would put back the recovery settings an interrupted `{}` left raised",
                m.by
            );
        } else {
            session.ui.confirm(
                "Plan: put back the recovery settings an interrupted run left raised",
                &plan,
            )?;
            tuning::revert(tt.t(), &p.opts, &m.changes).await?;
            summary_extra = format!(
                "; the recovery settings an interrupted `{}` left raised were put back ({})",
                m.by,
                keys(&m.changes)
            );
        }
    }
    Ok(Outcome::new(
        CMD,
        Ending::AlreadyDone,
        format!(
            "the target already holds exactly the source's {} Camunda indices, restored from a snapshot{summary_extra}",
            p.preview.source_indices.len()
        ),
    )
    .with_plan(plan)
    .with_details(details(&p.preview)))
}

/// The plan shown and confirmed.
struct Planned {
    summary: String,
    lines: Vec<String>,
    /// A pre-copy runs (only before this run's own pause, and not when a restore is followed).
    pre_copy: bool,
    /// Recovery settings are raised (or a leftover put back) around the restore.
    tuned: bool,
}

async fn plan(
    access: &EsAccess,
    args: &CopyArgs,
    st: &es::EsConn,
    tt: &es::EsConn,
    p: &Preview,
    tuning: tuning::TuningPlan,
    describe: &str,
) -> Result<Planned> {
    let preview = &p.preview;
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
    let pre_copy = args.pre_copy && args.pause_exporting && preview.resume_restore.is_none();
    let mut lines = vec![];
    if pre_copy {
        lines.extend(pre_copy_plan(st, &p.opts, &p.copy_spec, &p.pre_copy_name).await);
    } else if args.pre_copy && !args.pause_exporting {
        lines.push(
            "pre-copy: none (exporting is paused already: a snapshot now is the copy's own; \
             --pause-exporting lets the copy take a full snapshot before its pause)"
                .into(),
        );
    }
    if args.pause_exporting {
        lines.push(PAUSE_CALL.into());
    }
    let (tuned, calls) = calls_with_tuning(args, st, tt, p, tuning).await?;
    lines.extend(calls);
    Ok(Planned {
        summary,
        lines,
        pre_copy,
        tuned,
    })
}

/// The copy's calls with the tuning's lines after the restore. The tuning is made right after
/// the restore is accepted (the restore replaces the target's persistent settings with the
/// snapshot's): for a new restore its values before are predicted from the source's settings; a
/// followed restore's are in place already.
async fn calls_with_tuning(
    args: &CopyArgs,
    st: &es::EsConn,
    tt: &es::EsConn,
    p: &Preview,
    tuning: tuning::TuningPlan,
) -> Result<(bool, Vec<String>)> {
    let new_restore = p.preview.resume_restore.is_none();
    let planned = if new_restore {
        tuning::predicted_plan(st.t(), tt.t(), &p.opts).await?
    } else {
        tuning
    };
    let tuned = args.tuning || planned.leftover.is_some();
    let planned = if args.tuning {
        planned
    } else {
        // --no-tuning: nothing is raised; a leftover of an interrupted run is put back.
        without_raise(planned)
    };
    let mut calls = p.preview.calls.clone();
    let restore_at = calls
        .iter()
        .position(|c| c.contains("/_restore") || c.starts_with("target: (none: follow"))
        .map_or(calls.len(), |i| i + 1);
    if tuned {
        let lines = if new_restore {
            planned.plan_lines_after_restore("target")
        } else {
            planned.plan_lines("target")
        };
        calls.splice(restore_at..restore_at, lines);
    }
    Ok((tuned, calls))
}

/// Snapshot and restore (act once), with the recovery tuning around the restore; a failure
/// resumes exporting when this run paused it. The pause stays after a copy that is done: it is
/// for the exporter's enable (exporters enable), by design.
async fn transfer(
    session: &Session,
    args: &CopyArgs,
    st: &es::EsConn,
    tt: &es::EsConn,
    p: &Preview,
    tuned: bool,
    guard: Option<PauseGuard>,
) -> Result<(es::CopyReport, Option<tuning::TuningPlan>)> {
    let copy_spec = CopySpec {
        snapshot: Some(p.preview.snapshot.clone()),
        ..p.copy_spec.clone()
    };
    let bars = Bars::new(session);
    let progress = |ph, pr| bars.update(ph, pr);
    let (result, put_back, applied) =
        match es::copy_start(st.t(), tt.t(), &p.opts, &copy_spec, &progress).await {
            Err(e) => (Err(e), None, None),
            Ok(es::CopyStart::Done(report)) => (Ok(*report), None, None),
            Ok(es::CopyStart::Restoring(inflight)) => {
                follow_restore(session, args, tt, &p.opts, *inflight, tuned, &progress).await
            }
        };
    bars.finish();
    let failure = match (result, put_back) {
        (Ok(r), None | Some(Ok(_))) => return Ok((r, applied)),
        (Ok(_), Some(Err(back))) => back,
        (Err(e), Some(Err(b))) => e.also(&b),
        (Err(e), _) => e,
    };
    if let Some(guard) = guard {
        undo_pause(session, guard).await;
    }
    Err(failure)
}

/// The restore was accepted: the snapshot's persistent settings are the target's now. Raise
/// the recovery limits, follow the restore to its end, then put the settings back first.
async fn follow_restore(
    session: &Session,
    args: &CopyArgs,
    tt: &es::EsConn,
    opts: &es::EsOptions,
    inflight: es::CopyInFlight,
    tuned: bool,
    progress: es::ProgressFn<'_>,
) -> (
    Result<es::CopyReport>,
    Option<Result<Vec<tuning::SettingChange>>>,
    Option<tuning::TuningPlan>,
) {
    let raised = if tuned {
        raise_after_restore(session, tt, opts, args).await
    } else {
        None
    };
    let result = es::copy_finish(tt.t(), opts, inflight, progress).await;
    match raised {
        Some((g, plan)) => (result, Some(g.put_back().await), Some(plan)),
        None => (result, None, None),
    }
}

/// The report: what was copied, the settings put back, the snapshots kept.
fn report_of(
    access: &EsAccess,
    p: &Preview,
    planned: Planned,
    describe: &str,
    report: es::CopyReport,
    applied: Option<tuning::TuningPlan>,
    pre: Option<es::precopy::PreCopyReport>,
) -> Outcome {
    let status = match report.outcome {
        CopyOutcome::AlreadyDone => Ending::AlreadyDone,
        CopyOutcome::Copied | CopyOutcome::Resumed => Ending::Done,
    };
    let raised_changes = applied.map(|p| p.changes).unwrap_or_default();
    let summary = copied_summary(access, p, describe, &report, &raised_changes, pre.as_ref());
    let mut details = details(&report);
    if let Some(obj) = details.as_object_mut() {
        if let Some(p) = &pre {
            obj.insert(
                "preCopy".into(),
                serde_json::to_value(p).unwrap_or_default(),
            );
        }
        if planned.tuned {
            obj.insert(
                "recoveryTuning".into(),
                serde_json::json!({"changes": raised_changes, "putBack": !raised_changes.is_empty()}),
            );
        }
    }
    Outcome::new(CMD, status, summary)
        .with_plan(planned.lines)
        .with_details(details)
}

/// The summary of a copy that is done.
fn copied_summary(
    access: &EsAccess,
    p: &Preview,
    describe: &str,
    report: &es::CopyReport,
    raised_changes: &[tuning::SettingChange],
    pre: Option<&es::precopy::PreCopyReport>,
) -> String {
    let mut summary = format!(
        "{} Camunda indices copied {describe} (snapshot {}); the target's Camunda indices equal the source's{}{}",
        report.indices.len(),
        p.preview.snapshot,
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
    if !raised_changes.is_empty() {
        summary.push_str(&format!(
            "; the recovery settings raised for the restore were put back ({})",
            keys(raised_changes)
        ));
    }
    if let Some(pc) = pre {
        summary.push_str(&format!(
            "; repository {} keeps the pre-copy {} and {} (delete them when no longer needed: DELETE _snapshot/{}/<name>)",
            access.repository, pc.snapshot.snapshot, p.preview.snapshot, access.repository
        ));
    }
    summary
}

/// The input of a copy, checked before any call: the source's and the target's settings and
/// the repository to register. Bad flags are exit 2; `--delete-existing-indices` outside the
/// recreated region is refused (exit 3).
pub(super) fn validate(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
) -> Result<(Settings, Settings, RepoSpec)> {
    access.validate(&session.settings.env)?;
    super::check_feature_states(args.feature_states.as_deref())?;
    if session.settings.es_url.is_some() {
        return Err(Error::usage(
            "--es-url: ambiguous for es copy (two clusters); use --from-es-url and --to-es-url",
        ));
    }
    if session.settings.location.context_source.as_deref() == Some("--context") {
        return Err(Error::usage(
            "--context: ambiguous for es copy (two clusters, each located by the docs' variables \
             CLUSTER_SURVIVING/CLUSTER_RECREATED or CLUSTER_0/CLUSTER_1); set those instead",
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
    if let Some(rate) = &args.snapshot_rate {
        es::precopy::check_rate(rate)?;
        if spec
            .settings
            .contains_key(es::precopy::SNAPSHOT_RATE_SETTING)
        {
            return Err(Error::usage(format!(
                "--snapshot-rate and --setting {}: give one",
                es::precopy::SNAPSHOT_RATE_SETTING
            )));
        }
    }
    if let Some(n) = &args.snapshot {
        es::snapshot_name(Some(n)).map_err(|e| e.context("--snapshot"))?;
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
    Ok((from, to, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_renders_its_own_flags_for_the_plan_and_the_rerun_hints() {
        let access = EsAccess {
            user: Some("elastic".into()),
            password_env: Some("ES_PASSWORD".into()),
            ..EsAccess::default()
        };
        let args = CopyArgs {
            exporting_paused: true,
            delete_existing: true,
            snapshot_rate: Some("200mb".into()),
            tuning: false,
            ..CopyArgs::failback_copy()
        };
        assert_eq!(
            args.flags(&access, Some("b")),
            "--repo camunda_backup --bucket b --exporting-paused --delete-existing-indices \
             --es-user elastic --es-password-env ES_PASSWORD --snapshot-rate 200mb --no-tuning"
        );
        assert_eq!(
            CopyArgs::failback_copy().flags(&EsAccess::default(), None),
            "--repo camunda_backup"
        );
    }
}
