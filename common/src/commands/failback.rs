//! `kubectl c8dr failback`: the failback's kubectl steps, after checking that the helm steps
//! before them are done. Its steps, their numbers and commands come from the procedure's table
//! ([`crate::procedure::steps`]); each step is skipped when already done, so an interrupted run
//! converges when run again.

use std::time::Instant;

use serde_json::json;

use super::driver::Steps;
use super::exporters::exporter_set;
use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::procedure::{Action, Fill, Stage, Tool, hint};
use crate::session::Session;
use crate::zeebe::brokers::Selection;

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
    /// default it is taken already after failback 1, before failback 2 turns the webapps off
    /// (that run then stops and names failback 2), else right before the pause.
    pub no_pre_copy: bool,
    /// `--no-tuning`: leave the recreated Elasticsearch's recovery limits as they are.
    pub no_tuning: bool,
    /// `--snapshot-rate`: the repository's `max_snapshot_bytes_per_sec` for the snapshots of the
    /// surviving region (production is otherwise left alone).
    pub snapshot_rate: Option<String>,
}

/// Whether a region's unified ConfigMap shows the webapps (operate, tasklist) on; `None` when the
/// release is not installed there.
async fn webapps_on(session: &Session) -> Result<Option<bool>> {
    let name = crate::chart::unified_configmap(&session.settings.release);
    let cm = session.kube().await?.get_configmap(&name).await?;
    let Some(yaml) = crate::chart::unified_config(cm) else {
        return Ok(None);
    };
    Ok(crate::values::active_profiles(&yaml).map(|p| crate::chart::serves_webapps(&p)))
}

/// `kubectl c8dr failback`: the kubectl-side steps of the table (3–7) in order, after checking that the helm
/// steps before them are done. Everything the steps need (bucket, repository, Elasticsearch in both
/// regions, exporter ids, replication factor, both regions) is checked before the first mutation,
/// in `--dry-run` too (SPEC 4.9). The pause state is read on the brokers (SPEC 3.3): a pause that
/// is already in place is not sent again, a soft pause is refused. Each step is skipped when
/// already done, so a run interrupted at any point converges when run again; exporting is resumed
/// on every failure after a pause, and on SIGINT/SIGTERM/SIGHUP ([`super::pause_guard`]).
pub async fn failback(session: &Session, args: &FailbackArgs) -> Result<Outcome> {
    const CMD: &str = "failback";
    // Bad input first, before any call (exit 2).
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
    let mgmt = session.management().await?;
    let mut t = mgmt.cluster().await?;
    // A change still running (most likely the re-add of an interrupted run) is waited for, not
    // raced: the state is re-read once it has ended.
    if let Some(p) = t.pending_change.clone() {
        session.ui.note(format!(
            "change {} is in progress (an interrupted run?): waiting for it before continuing",
            p.id
        ));
        super::follow::wait_for_change(session, mgmt, p.id, &format!("change {}", p.id)).await?;
        t = mgmt.cluster().await?;
    }
    let steps_run: Vec<_> = Stage::Failback.run_by(Tool::Kubectl).collect();
    let (first_run, last_run) = match (steps_run.first(), steps_run.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return Err(Error::failed("the failback has no kubectl steps")),
    };
    let next_step = |fill: &Fill| last_run.next().map(|s| s.command(fill)).unwrap_or_default();
    let lost_exporter = lost.exporter_id();
    let surviving_exporter = lost.other().exporter_id();
    let to_add = crate::zeebe::brokers::to_add(
        &Selection::Parity(lost),
        &t.member_ids(),
        args.cluster_size,
    )?;
    let rf_now = t.replication_factor();
    let rf_ok = args.replication_factor.is_none_or(|rf| rf == rf_now);
    if to_add.is_empty() && rf_ok {
        let next = next_step(&Fill::of(lost, rf_now));
        return Ok(Outcome::new(
            CMD,
            Ending::AlreadyDone,
            format!(
                "the {lost} brokers are members again (replication factor {rf_now}); next: {next}"
            ),
        )
        .with_details(json!({ "next": next })));
    }
    // The replication factor against the cluster size after the re-add (known only now).
    let rf = args.replication_factor.unwrap_or(rf_now * 2);
    let size_after = t.member_ids().len() + to_add.len();
    if rf == 0 || rf as usize > size_after {
        return Err(Error::usage(format!(
            "--replication-factor {rf}: must be between 1 and the cluster size after the re-add ({size_after} brokers)"
        )));
    }
    let fill = Fill::of(lost, rf);
    let install = Action::InstallRecreated.step();
    let redeploy = Action::RedeploySurviving.step();
    let pause = Action::PauseExporting.step();
    let copy_step = Action::CopyElasticsearch.step();
    let enable = Action::EnableExporter.step();
    let resume = Action::ResumeExporting.step();
    let add = Action::AddBrokers.step();
    // The helm side must be done first (failback 1 and 2).
    match webapps_on(&recreated).await {
        Ok(Some(false)) => {}
        Ok(_) => {
            return Err(Error::refused(format!(
                "{} is not done: {lost} must run without Operate/Tasklist and without the schema manager: {}",
                install.named(),
                install.command(&fill)
            )));
        }
        Err(e) => return Err(e),
    }
    if webapps_on(session).await? != Some(false) {
        if args.no_pre_copy {
            return Err(Error::refused(format!(
                "{} is not done: the surviving region still runs Operate/Tasklist: {}",
                redeploy.named(),
                redeploy.command(&fill)
            )));
        }
        // Failback 1 is done, 2 is not: the webapps still run, and so can the pre-copy. Take
        // it now (the long upload happens before anything is off), then stop at failback 2.
        return pre_copy_before_step_2(session, args, &fill).await;
    }
    // From the cluster configuration, not GET /actuator/exporters (which lags after a change).
    let enabled = t.exporter_state(&lost_exporter).as_deref() == Some("ENABLED");
    // The pause state, read on the brokers themselves.
    let observed = super::pause_state::observe(session).await;
    let soft = observed.count_in("SOFT_PAUSED");
    if soft > 0 {
        return Err(Error::refused(format!(
            "exporting is soft-paused on {soft} partition replicas: failback pauses exporting, and a hard pause \
             over a soft one corrupts the brokers' pause state (camunda/camunda#55838). Resume first \
             ({}), then run {} again",
            resume.command(&fill),
            hint::FAILBACK
        )));
    }
    let already_paused = observed.observed() && observed.not_in("PAUSED").is_empty();
    // The copy's options beyond the table's (`--from surviving --to recreated`).
    let mut copy_flags = format!(
        "--repo {}{} --exporting-paused{}",
        args.es.repository,
        bucket
            .as_deref()
            .map(|b| format!(" --bucket {b}"))
            .unwrap_or_default(),
        if args.delete_existing_indices {
            " --delete-existing-indices"
        } else {
            ""
        }
    );
    if let Some(u) = &args.es.user {
        copy_flags.push_str(&format!(" --es-user {u}"));
    }
    if let Some(v) = &args.es.password_env {
        copy_flags.push_str(&format!(" --es-password-env {v}"));
    }
    if let Some(r) = &args.snapshot_rate {
        copy_flags.push_str(&format!(" --snapshot-rate {r}"));
    }
    if args.no_tuning {
        copy_flags.push_str(" --no-tuning");
    }
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
    let mut tuning_plan: Vec<String> = vec![];
    if !enabled {
        // Exporter ids: both must be configured, else the enable fails after the pause.
        let exporters = mgmt.exporters().await?;
        let known: Vec<&str> = exporters.iter().map(|e| e.exporter_id.as_str()).collect();
        for id in [&lost_exporter, &surviving_exporter] {
            if !known.contains(&id.as_str()) {
                return Err(Error::refused(format!(
                    "exporter {id} is not configured (the brokers know {known:?}): {} would fail \
                     after exporting is paused; run the steps by hand with the right exporter ids",
                    enable.named()
                )));
            }
        }
        // The copy's own checks, read-only: repository, Elasticsearch of both regions, existing
        // indices in the target. A dry run of the copy makes no mutating call.
        let dry = Session::new(
            crate::session::Settings {
                dry_run: true,
                ..session.settings.clone()
            },
            session.ui.clone(),
        );
        // Checked as a copy that pauses exporting itself, which this run does (failback 3):
        // warning here that exporting is not paused yet would tell the operator to do what
        // this run is about to do.
        let dry_copy = super::es::CopyArgs {
            pause_exporting: true,
            exporting_paused: false,
            ..copy.clone()
        };
        let dry_plan = super::es::copy(&dry, &args.es, &args.repo, &dry_copy)
            .await?
            .plan;
        tuning_plan = dry_plan
            .into_iter()
            .filter(|l| l.contains("_cluster/settings") || l.contains("recovery tuning"))
            .collect();
    }
    // The pre-copy, before the pause (not when exporting is paused already: no "before").
    let pre_copy = !enabled && !already_paused && !args.no_pre_copy;
    let pre_copy_lines = if pre_copy {
        super::es::pre_copy_preview(session, &args.es, &args.repo, &pre_copy_args(args)).await?
    } else {
        vec![]
    };
    let mark = |done: bool| if done { " (done)" } else { "" };
    let copy_cmd = copy_step.command_with(&fill, &copy_flags);
    let add_cmd = add.command_with(
        &fill,
        &args
            .cluster_size
            .map(|c| format!("--cluster-size {c}"))
            .unwrap_or_default(),
    );
    let mut plan: Vec<String> = pre_copy_lines
        .iter()
        .map(|l| {
            format!(
                "pre-copy (part of {}, before the pause): {l}",
                copy_step.label()
            )
        })
        .collect();
    plan.extend(vec![
        format!(
            "{}: {}{}",
            pause.label(),
            pause.command(&fill),
            if enabled {
                " (done)"
            } else if already_paused {
                " (already paused: observed on every broker)"
            } else {
                ""
            }
        ),
        format!("{}: {copy_cmd}{}", copy_step.label(), mark(enabled)),
        format!(
            "{}: {}{}",
            enable.label(),
            enable.command(&fill),
            mark(enabled)
        ),
        format!("{}: {}", resume.label(), resume.command(&fill)),
        format!("{}: {add_cmd}", add.label()),
        format!(
            "on any failure or signal after the pause: {}",
            resume.command(&fill)
        ),
    ]);
    // The recovery settings the copy raises on the recreated Elasticsearch (before → after).
    let copy_pos = plan
        .iter()
        .position(|l| l.starts_with(&format!("{}: ", copy_step.label())))
        .map_or(plan.len(), |p| p + 1);
    let tuning_lines: Vec<String> = tuning_plan
        .iter()
        .map(|l| format!("  recovery tuning ({}): {l}", copy_step.label()))
        .collect();
    plan.splice(copy_pos..copy_pos, tuning_lines);
    if session.settings.dry_run {
        return Ok(Outcome::new(CMD, Ending::DryRun, format!("fail back {lost}")).with_plan(plan));
    }
    session
        .ui
        .confirm_all(&format!("Failback plan ({lost} recreated):"), &plan)?;
    let mut steps = Steps::new(&session.ui);
    let mut guard = None;
    if pre_copy {
        let started = Instant::now();
        let (_, note) =
            super::es::pre_copy_run(session, &args.es, &args.repo, &pre_copy_args(args)).await?;
        let out = Outcome::new("es pre-copy", Ending::Done, note);
        steps.record(
            copy_step,
            &format!("{} (pre-copy)", copy_step.tag()),
            "kubectl c8dr es copy (pre-copy snapshot)".to_string(),
            &out,
            started,
        );
    }
    if !enabled {
        // From the pause on (armed before it is sent), neither a failure nor a signal may leave
        // exporting paused.
        let g = super::pause_guard::PauseGuard::arm(
            session,
            mgmt,
            hint::FAILBACK,
            // Every step this driver runs is still to do.
            steps_run.iter().map(|s| s.entry(&fill)).collect(),
        );
        let started = Instant::now();
        let out = if already_paused {
            Outcome::new(
                "exporting pause",
                Ending::AlreadyDone,
                format!(
                    "exporting was already paused (an earlier run, or by hand): {} partition replicas on {} brokers show PAUSED",
                    observed.count_in("PAUSED"),
                    observed.brokers_read()
                ),
            )
        } else {
            super::exporting::exporting_pause(session, false).await?
        };
        steps.record(pause, &pause.tag(), pause.command(&fill), &out, started);
        g.done(pause.entry(&fill));
        let paused_steps = async {
            let started = Instant::now();
            let out = super::es::copy(session, &args.es, &args.repo, &copy).await?;
            steps.record(copy_step, &copy_step.tag(), copy_cmd.clone(), &out, started);
            g.done(copy_step.entry(&fill));
            let started = Instant::now();
            let out =
                exporter_set(session, &lost_exporter, true, Some(&surviving_exporter)).await?;
            steps.record(enable, &enable.tag(), enable.command(&fill), &out, started);
            g.done(enable.entry(&fill));
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = paused_steps {
            drop(g);
            let who = if already_paused {
                "exporting (paused before this run) was resumed"
            } else {
                "exporting was resumed"
            };
            let revert = match super::exporting::exporting_resume(session).await {
                Ok(_) => who.to_string(),
                Err(r) => format!(
                    "resuming exporting ALSO failed ({r}): run now: {}",
                    super::pause_guard::resume_command(session)
                ),
            };
            return Err(match e {
                Error::Refused(m) => Error::Refused(format!("{m}; {revert}")),
                Error::Usage(m) => Error::Usage(format!("{m}; {revert}")),
                Error::Timeout { what, after } => Error::Timeout {
                    what: format!("{what}; {revert}"),
                    after,
                },
                Error::Unreachable { what, detail } => Error::Unreachable {
                    what,
                    detail: format!("{detail}; {revert}"),
                },
                other => Error::failed(format!("{other}; {revert}")),
            });
        }
        guard = Some(g);
    }
    let started = Instant::now();
    let out = super::exporting::exporting_resume(session).await?;
    drop(guard);
    steps.record(resume, &resume.tag(), resume.command(&fill), &out, started);
    let started = Instant::now();
    let out = super::brokers::brokers_add(
        session,
        Selection::Parity(lost),
        args.cluster_size,
        Some(rf),
    )
    .await?;
    steps.record(add, &add.tag(), add.command(&fill), &out, started);
    let next = next_step(&fill);
    Ok(Outcome::new(
        CMD,
        Ending::Done,
        format!(
            "failback steps {}-{} done: {lost} is back in the cluster; next: {next}",
            first_run.number(),
            last_run.number()
        ),
    )
    .with_plan(plan)
    .with_details(json!({"recreatedRegion": lost.to_string(), "steps": steps.done, "next": next})))
}

/// The copy's arguments for the pre-copy (source, repository, `--snapshot-rate`).
fn pre_copy_args(args: &FailbackArgs) -> super::es::CopyArgs {
    super::es::CopyArgs {
        snapshot_rate: args.snapshot_rate.clone(),
        rerun: Some(hint::FAILBACK.to_string()),
        ..super::es::CopyArgs::failback_copy()
    }
}

/// Failback 1 is done and 2 is not: take the pre-copy while the webapps still run, then stop
/// and name failback 2 (the next run continues with the pause).
async fn pre_copy_before_step_2(
    session: &Session,
    args: &FailbackArgs,
    fill: &Fill,
) -> Result<Outcome> {
    const CMD: &str = "failback";
    let redeploy = Action::RedeploySurviving.step();
    let copy_step = Action::CopyElasticsearch.step();
    let next = format!(
        "{}: {}, then {} again",
        redeploy.named(),
        redeploy.command(fill),
        hint::FAILBACK
    );
    let lines =
        super::es::pre_copy_preview(session, &args.es, &args.repo, &pre_copy_args(args)).await?;
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
        super::es::pre_copy_run(session, &args.es, &args.repo, &pre_copy_args(args)).await?;
    Ok(
        Outcome::new(CMD, Ending::Done, format!("{note}; next: {next}"))
            .with_plan(plan)
            .with_details(json!({"preCopy": report, "next": next})),
    )
}
