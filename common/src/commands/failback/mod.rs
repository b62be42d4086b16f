//! `kubectl c8dr failback`: the failback's kubectl steps, after checking that the helm steps
//! before them are done. Its steps, their numbers and commands come from the procedure's table
//! ([`crate::procedure::steps`]); each step is skipped when already done, so an interrupted run
//! converges when run again.
//!
//! The driver is a pipeline of stages: validate → evidence → safety → plan → confirm → act →
//! report. Its steps are the table's kubectl steps of the failback, in order: each has an
//! executor in [`steps`] (its plan lines, its run, how it stands to the pause), found by its
//! [`Action`]; the loops in [`plan`] and [`act`] do not name a step. Adding a kubectl step is
//! its row in the table and its executor in [`steps`].

use std::time::Instant;

use serde_json::json;

use super::driver::Steps;
use super::pause_guard::PauseGuard;
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::procedure::{Action, Fill, Stage, Step, Tool, hint};
use crate::region::RegionId;
use crate::session::Session;
use crate::zeebe::ManagementClient;
use crate::zeebe::brokers::Selection;
use crate::zeebe::model::ClusterTopology;

mod steps;
use steps::{Pause, executors};

const CMD: &str = "failback";

/// Options of `kubectl c8dr failback`.
#[derive(Debug, Clone, Default)]
pub struct FailbackArgs {
    /// The replication factor to restore (default: twice the current one).
    pub replication_factor: Option<u32>,
    pub cluster_size: Option<u32>,
    /// Repository flags for the Elasticsearch copy (bucket defaults to `S3_BUCKET_NAME`).
    pub repo: crate::es::RepoFlags,
    pub es: crate::es::EsAccess,
    pub delete_existing_indices: bool,
    /// `--no-pre-copy`: no full snapshot of the surviving Elasticsearch before the pause. By
    /// default it is taken already after the recreated region's install, before the surviving region's redeploy without webapps turns the webapps off
    /// (that run then stops and names the surviving region's redeploy without webapps), else right before the pause.
    pub no_pre_copy: bool,
    /// `--no-tuning`: leave the recreated Elasticsearch's recovery limits as they are.
    pub no_tuning: bool,
    /// `--snapshot-rate`: the repository's `max_snapshot_bytes_per_sec` for the snapshots of the
    /// surviving region (production is otherwise left alone).
    pub snapshot_rate: Option<String>,
}

/// Whether a region's configuration ConfigMap (any release's name) shows the webapps (operate, tasklist) on; `None` when the
/// release is not installed there.
async fn webapps_on(session: &Session) -> Result<Option<bool>> {
    let kube = session.kube().await?;
    let release = &session.settings.release;
    let Some(yaml) = super::installation::configuration(kube, release).await? else {
        return Ok(None);
    };
    Ok(crate::values::active_profiles(&yaml).map(|p| crate::chart::serves_webapps(&p)))
}

/// `kubectl c8dr failback`: the kubectl-side steps of the table (3–7) in order, after checking that the helm
/// steps before them are done. Everything the steps need (bucket, repository, Elasticsearch in both
/// regions, exporter ids, replication factor, both regions) is checked before the first mutation,
/// in `--dry-run` too (docs/contract.md §4 rule 9). The pause state is read on the brokers (docs/api-behaviour.md §3): a pause that
/// is already in place is not sent again, a soft pause is refused. Each step is skipped when
/// already done, so a run interrupted at any point converges when run again; exporting is resumed
/// on every failure after a pause, and on SIGINT/SIGTERM/SIGHUP ([`super::pause_guard`]).
pub async fn failback(session: &Session, args: &FailbackArgs) -> Result<Outcome> {
    let input = validate(session, args)?;
    session.facts().await?;
    let mgmt = session.management().await?;
    let t = settled_cluster(session, mgmt).await?;
    super::brokers::zone_readd_refusal(mgmt, &t, input.lost)?;
    let rf = match replication_factor(args, &t, input.lost)? {
        Ok(rf) => rf,
        Err(already_done) => return Ok(already_done),
    };
    let fill = Fill::of(input.lost, rf);
    if let Some(out) = helm_steps_done(session, &input, args, &fill).await? {
        return Ok(out);
    }
    let run = evidence(session, args, mgmt, &t, input, rf, fill).await?;
    let plan = plan(&run).await?;
    if session.settings.dry_run {
        return Ok(
            Outcome::new(CMD, Ending::DryRun, format!("fail back {}", run.lost)).with_plan(plan),
        );
    }
    confirm(&run, &plan)?;
    let steps = act(&run).await?;
    Ok(report(&run, plan, steps))
}

/// The input, checked before any call (exit 2): the Elasticsearch flags, the snapshot rate, the
/// repository (its bucket), and which region is recreated.
struct Input {
    bucket: Option<String>,
    lost: RegionId,
    recreated: Session,
}

fn validate(session: &Session, args: &FailbackArgs) -> Result<Input> {
    args.es.validate(&session.settings.env)?;
    if let Some(r) = &args.snapshot_rate {
        crate::es::precopy::check_rate(r)?;
    }
    let repo_spec = args.repo.spec(&session.settings)?;
    let bucket = repo_spec
        .settings
        .get("bucket")
        .and_then(serde_json::Value::as_str)
        .map(String::from);
    let recreated_settings = session
        .settings
        .for_region(crate::region::RegionRef::Recreated)?;
    let lost = recreated_settings.location.id.ok_or_else(|| {
        Error::usage("which region is recreated? set REGION_RECREATED (or REGION_SURVIVING) to region0 or region1")
    })?;
    let recreated = Session::new(recreated_settings, session.ui.clone());
    Ok(Input {
        bucket,
        lost,
        recreated,
    })
}

/// The cluster configuration once no change runs. A change still running (most likely the re-add
/// of an interrupted run) is waited for, not raced: the state is re-read once it has ended.
async fn settled_cluster(session: &Session, mgmt: &ManagementClient) -> Result<ClusterTopology> {
    let t = mgmt.cluster().await?;
    let Some(p) = t.pending_change.clone() else {
        return Ok(t);
    };
    session.ui.note(format!(
        "change {} is in progress (an interrupted run?): waiting for it before continuing",
        p.id
    ));
    super::follow::wait_for_change(session, mgmt, p.id, &format!("change {}", p.id)).await?;
    mgmt.cluster().await
}

/// The kubectl steps of the failback, in the table's order (this driver's steps).
fn kubectl_steps() -> Vec<&'static Step> {
    Stage::Failback.run_by(Tool::Kubectl).collect()
}

/// The command after this driver's last step (the next helm step).
fn next_step(fill: &Fill) -> String {
    kubectl_steps()
        .last()
        .and_then(|s| s.next())
        .map(|s| s.command(fill))
        .unwrap_or_default()
}

/// The replication factor to restore, checked against the cluster size after the re-add (known
/// only now); `Err(outcome)` when the lost region's brokers are members again (all done).
fn replication_factor(
    args: &FailbackArgs,
    t: &ClusterTopology,
    lost: RegionId,
) -> Result<std::result::Result<u32, Outcome>> {
    if kubectl_steps().is_empty() {
        return Err(Error::failed("the failback has no kubectl steps"));
    }
    let to_add = crate::zeebe::brokers::to_add(
        &Selection::Parity(lost),
        &t.member_ids(),
        args.cluster_size,
    )?;
    let rf_now = t.replication_factor();
    // Done only as status judges it: the brokers back *and* the recreated exporter enabled (the
    // brokers can be re-added by hand before the copy; then steps 3–6 are still to run).
    let exporter_enabled = t
        .exporter_state(&Fill::of(lost, rf_now).lost_exporter)
        .as_deref()
        == Some("ENABLED");
    if to_add.is_empty()
        && exporter_enabled
        && args.replication_factor.is_none_or(|rf| rf == rf_now)
    {
        let next = next_step(&Fill::of(lost, rf_now));
        return Ok(Err(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the {lost} brokers are members again (replication factor {rf_now}); next: {next}"
            ),
        )
        .with_details(json!({ "next": next }))));
    }
    // The re-add doubles the factor the forced removal halved; with the brokers back already,
    // the factor is what the cluster has.
    let rf = args.replication_factor.unwrap_or(if to_add.is_empty() {
        rf_now
    } else {
        rf_now * 2
    });
    let size_after = t.member_ids().len() + to_add.len();
    if rf == 0 || rf as usize > size_after {
        return Err(Error::usage(format!(
            "--replication-factor {rf}: must be between 1 and the cluster size after the re-add ({size_after} brokers)"
        )));
    }
    Ok(Ok(rf))
}

/// Safety: the helm side must be done first (the recreated region's install and the surviving region's redeploy). With the recreated region installed and the surviving one not yet redeployed,
/// the webapps still run, and so can the pre-copy: it is taken then, and the run stops there
/// (`Some`).
async fn helm_steps_done(
    session: &Session,
    input: &Input,
    args: &FailbackArgs,
    fill: &Fill,
) -> Result<Option<Outcome>> {
    let install = Action::InstallRecreated.step();
    let redeploy = Action::RedeploySurviving.step();
    if webapps_on(&input.recreated).await? != Some(false) {
        return Err(Error::refused(format!(
            "{} is not done: {} must run without Operate/Tasklist and without the schema manager: {}",
            install.named(),
            input.lost,
            install.command(fill)
        )));
    }
    if webapps_on(session).await? == Some(false) {
        return Ok(None);
    }
    if args.no_pre_copy {
        return Err(Error::refused(format!(
            "{} is not done: the surviving region still runs Operate/Tasklist: {}",
            redeploy.named(),
            redeploy.command(fill)
        )));
    }
    // The long upload happens before anything is off.
    pre_copy_before_step_2(session, args, fill).await.map(Some)
}

/// What a failback run established before its first mutation: what every step's plan and run
/// read.
struct Run<'a> {
    session: &'a Session,
    args: &'a FailbackArgs,
    mgmt: &'a ManagementClient,
    lost: RegionId,
    rf: u32,
    fill: Fill,
    /// The recreated region's exporter is enabled (from the cluster configuration, not GET
    /// /actuator/exporters, which lags after a change): the steps up to the enable are done.
    enabled: bool,
    /// Exporting was paused before this run: `(partition replicas, brokers)` showing PAUSED.
    already_paused: Option<(usize, usize)>,
    /// The copy as this run makes it, and its command.
    copy: super::es::CopyArgs,
    copy_cmd: String,
    /// The recovery settings the copy raises on the recreated Elasticsearch (before → after).
    tuning_plan: Vec<String>,
    /// The pre-copy runs before the pause (not when exporting is paused already: no "before").
    pre_copy: bool,
    /// The snapshot a new pre-copy gets: computed once, named in the plan and taken by the act.
    pre_copy_name: String,
}

/// Evidence and safety: the recreated exporter's state, the pause state read on the brokers (a
/// soft pause is refused), the exporter ids and the copy's own read-only checks.
async fn evidence<'a>(
    session: &'a Session,
    args: &'a FailbackArgs,
    mgmt: &'a ManagementClient,
    t: &ClusterTopology,
    input: Input,
    rf: u32,
    fill: Fill,
) -> Result<Run<'a>> {
    let enabled = t.exporter_state(&fill.lost_exporter).as_deref() == Some("ENABLED");
    let already_paused = observed_pause(session, &fill).await?;
    let copy = super::es::CopyArgs {
        delete_existing: args.delete_existing_indices,
        exporting_paused: true,
        // The driver takes the pre-copy itself, before its pause.
        pre_copy: false,
        tuning: !args.no_tuning,
        snapshot_rate: args.snapshot_rate.clone(),
        rerun: Some(hint::FAILBACK.to_string()),
        ..super::es::CopyArgs::failback_copy()
    };
    let copy_cmd = Action::CopyElasticsearch
        .step()
        .command_with(&fill, &copy.flags(&args.es, input.bucket.as_deref()));
    let mut run = Run {
        session,
        args,
        mgmt,
        lost: input.lost,
        rf,
        fill,
        enabled,
        already_paused,
        copy,
        copy_cmd,
        tuning_plan: vec![],
        pre_copy: !enabled && already_paused.is_none() && !args.no_pre_copy,
        pre_copy_name: crate::es::precopy::pre_copy_name()?,
    };
    if !enabled {
        check_exporter_ids(&run).await?;
        run.tuning_plan = copy_checks(&run).await?;
    }
    Ok(run)
}

/// The pause state, read on the brokers themselves: `Some((replicas, brokers))` when every
/// member broker was read in full and shows PAUSED; a soft pause is refused.
async fn observed_pause(session: &Session, fill: &Fill) -> Result<Option<(usize, usize)>> {
    let observed = super::pause_state::observe(session).await;
    let soft = observed.count_in("SOFT_PAUSED");
    if soft > 0 {
        return Err(Error::refused(format!(
            "exporting is soft-paused on {soft} partition replicas: failback pauses exporting, and a hard pause \
             over a soft one corrupts the brokers' pause state (camunda/camunda#55838). Resume first \
             ({}), then run {} again",
            Action::ResumeExporting.step().command(fill),
            hint::FAILBACK
        )));
    }
    // Paused only when every member broker was read in full (as `exporting pause` judges it):
    // an unread member may be the one that missed the pause; the pause step then sends it and
    // verifies it, or fails and reverts it.
    let paused = observed.observed()
        && observed.not_in("PAUSED").is_empty()
        && observed.unread_members().is_empty();
    Ok(paused.then(|| (observed.count_in("PAUSED"), observed.brokers_read())))
}

/// Exporter ids: both must be configured, else the enable fails after the pause.
async fn check_exporter_ids(run: &Run<'_>) -> Result<()> {
    let exporters = run.mgmt.exporters().await?;
    let known: Vec<&str> = exporters.iter().map(|e| e.exporter_id.as_str()).collect();
    for id in [&run.fill.lost_exporter, &run.fill.surviving_exporter] {
        if !known.contains(&id.as_str()) {
            return Err(Error::refused(format!(
                "exporter {id} is not configured (the brokers know {known:?}): {} would fail \
                 after exporting is paused; run the steps by hand with the right exporter ids",
                Action::EnableExporter.step().named()
            )));
        }
    }
    Ok(())
}

/// The copy's own checks, read-only: repository, Elasticsearch of both regions, existing indices
/// in the target. A dry run of the copy makes no mutating call. Returns the recovery tuning it
/// plans.
async fn copy_checks(run: &Run<'_>) -> Result<Vec<String>> {
    let session = run.session;
    let dry = Session::new(
        crate::session::Settings {
            dry_run: true,
            ..session.settings.clone()
        },
        session.ui.clone(),
    );
    // Checked as a copy that pauses exporting itself, which this run does (the pause): warning
    // here that exporting is not paused yet would tell the operator to do what this run is
    // about to do.
    let dry_copy = super::es::CopyArgs {
        pause_exporting: true,
        exporting_paused: false,
        ..run.copy.clone()
    };
    let dry_plan = super::es::copy(&dry, &run.args.es, &run.args.repo, &dry_copy)
        .await?
        .plan;
    Ok(dry_plan
        .into_iter()
        .filter(|l| l.contains("_cluster/settings") || l.contains("recovery tuning"))
        .collect())
}

/// The plan: the pre-copy's lines, each step's lines, the promise about the pause.
async fn plan(run: &Run<'_>) -> Result<Vec<String>> {
    let copy_step = Action::CopyElasticsearch.step();
    let pre_copy_lines = if run.pre_copy {
        super::es::pre_copy_preview(
            run.session,
            &run.args.es,
            &run.args.repo,
            &pre_copy_args(run.args),
            &run.pre_copy_name,
        )
        .await?
    } else {
        vec![]
    };
    let mut plan: Vec<String> = pre_copy_lines
        .iter()
        .map(|l| {
            format!(
                "pre-copy (part of {}, before the pause): {l}",
                copy_step.label()
            )
        })
        .collect();
    for (step, exec) in executors()? {
        plan.extend((exec.plan)(run, step));
    }
    plan.push(format!(
        "on any failure or signal after the pause: {}",
        Action::ResumeExporting.step().command(&run.fill)
    ));
    Ok(plan)
}

/// Confirm the plan (the one prompt of the run).
fn confirm(run: &Run<'_>, plan: &[String]) -> Result<()> {
    run.session
        .ui
        .confirm_all(&format!("Failback plan ({} recreated):", run.lost), plan)
}

/// Act: the pre-copy, then each step in the table's order (steps already done are skipped).
/// From the pause on (armed before it is sent), neither a failure nor a signal may leave
/// exporting paused: a step failing while paused resumes it and says so in its error.
async fn act(run: &Run<'_>) -> Result<Steps> {
    let mut steps = Steps::new(&run.session.ui);
    if run.pre_copy {
        pre_copy_step(run, &mut steps).await?;
    }
    let mut guard: Option<PauseGuard> = None;
    for (step, exec) in executors()? {
        if (exec.done)(run) {
            continue;
        }
        if exec.pause == Pause::Arms {
            guard = Some(arm(run));
        }
        let started = Instant::now();
        let _journaled_as = crate::journal::in_step(step.tag());
        let ran = match (exec.run)(run, step).await {
            Ok(ran) => ran,
            Err(e) => return Err(recover(run, exec.pause, guard.take(), e).await),
        };
        if exec.pause == Pause::Ends {
            guard = None;
        }
        steps.record(step, &step.tag(), ran.command, &ran.outcome, started);
        if let Some(g) = &guard {
            g.done(step.entry(&run.fill));
        }
    }
    Ok(steps)
}

/// Arm the pause guard before the pause: every step this driver runs is still to do.
fn arm(run: &Run<'_>) -> PauseGuard {
    PauseGuard::arm(
        run.session,
        run.mgmt,
        hint::FAILBACK,
        kubectl_steps().iter().map(|s| s.entry(&run.fill)).collect(),
    )
}

/// A step failed: while paused (after the pause, before the resume), resume exporting and say
/// so in the error (keeping its kind).
async fn recover(run: &Run<'_>, pause: Pause, guard: Option<PauseGuard>, e: Error) -> Error {
    let Some(g) = guard.filter(|_| pause == Pause::Within) else {
        return e;
    };
    let resumed = if run.already_paused.is_some() {
        "exporting (paused before this run) was resumed"
    } else {
        "exporting was resumed"
    };
    e.also(super::pause_guard::resume_after_failure(run.session, g, resumed).await)
}

/// The pre-copy (part of the copy step), before the pause.
async fn pre_copy_step(run: &Run<'_>, steps: &mut Steps) -> Result<()> {
    let copy_step = Action::CopyElasticsearch.step();
    let started = Instant::now();
    let _journaled_as = crate::journal::in_step(copy_step.tag());
    let (_, note) = super::es::pre_copy_run(
        run.session,
        &run.args.es,
        &run.args.repo,
        &pre_copy_args(run.args),
        &run.pre_copy_name,
    )
    .await?;
    let out = Outcome::new("es pre-copy", Ending::Done, note);
    steps.record(
        copy_step,
        &format!("{} (pre-copy)", copy_step.tag()),
        "kubectl c8dr es copy (pre-copy snapshot)".to_string(),
        &out,
        started,
    );
    Ok(())
}

/// Report: the steps run and the next command.
fn report(run: &Run<'_>, plan: Vec<String>, steps: Steps) -> Outcome {
    let kubectl = kubectl_steps();
    let (first, last) = (
        kubectl.first().map_or(0, |s| s.number()),
        kubectl.last().map_or(0, |s| s.number()),
    );
    let next = next_step(&run.fill);
    Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "failback steps {first}-{last} done: {} is back in the cluster; next: {next}",
            run.lost
        ),
    )
    .with_plan(plan)
    .with_details(
        json!({"recreatedRegion": run.lost.to_string(), "steps": steps.done, "next": next}),
    )
    .with_timeline(super::history::this_run(run.session))
}

/// The copy's arguments for the pre-copy (source, repository, `--snapshot-rate`).
fn pre_copy_args(args: &FailbackArgs) -> super::es::CopyArgs {
    super::es::CopyArgs {
        snapshot_rate: args.snapshot_rate.clone(),
        rerun: Some(hint::FAILBACK.to_string()),
        ..super::es::CopyArgs::failback_copy()
    }
}

/// The recreated region is installed and the surviving one not yet redeployed: take the pre-copy while the webapps still run, then stop
/// and name the surviving region's redeploy without webapps (the next run continues with the pause).
async fn pre_copy_before_step_2(
    session: &Session,
    args: &FailbackArgs,
    fill: &Fill,
) -> Result<Outcome> {
    let redeploy = Action::RedeploySurviving.step();
    let copy_step = Action::CopyElasticsearch.step();
    let next = format!(
        "{}: {}, then {} again",
        redeploy.named(),
        redeploy.command(fill),
        hint::FAILBACK
    );
    // One name for the plan and the act (docs/contract.md §4 rule 1: the exact calls).
    let name = crate::es::precopy::pre_copy_name()?;
    let copy = pre_copy_args(args);
    let lines = super::es::pre_copy_preview(session, &args.es, &args.repo, &copy, &name).await?;
    let mut plan: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "pre-copy (part of {}, while the webapps still run): {l}",
                copy_step.label()
            )
        })
        .collect();
    plan.push(format!("then stop; next: {next}"));
    if session.settings.dry_run {
        return Ok(Outcome::new(
            CMD,
            Ending::DryRun,
            format!("pre-copy before {}", redeploy.named()),
        )
        .with_plan(plan));
    }
    session.ui.confirm_all(
        &format!(
            "{} is not done yet: the pre-copy can run now, while Camunda is whole:",
            redeploy.named()
        ),
        &plan,
    )?;
    let (report, note) =
        super::es::pre_copy_run(session, &args.es, &args.repo, &copy, &name).await?;
    Ok(
        Outcome::new(CMD, Ending::Done, format!("{note}; next: {next}"))
            .with_plan(plan)
            .with_details(json!({"preCopy": report, "next": next})),
    )
}
