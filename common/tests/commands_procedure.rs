//! The procedure in process: lose a region, `status` names the step, the failover and failback
//! drivers run against the simulator, and a dry run sends nothing. Assertions are on the returned
//! `Outcome`/`StatusReport` and on the simulator's typed state.

use std::time::Duration;

use crate::support::Cluster;
use c8dr_common::commands::failback::{FailbackArgs, failback};
use c8dr_common::commands::failover::failover;
use c8dr_common::commands::status::{StatusReport, status};
use c8dr_common::commands::{Ending, Outcome};
use c8dr_common::procedure::{Action, Fill, Phase, Stage};
use c8dr_common::region::RegionId;
use c8dr_common::session::Session;
use c8dr_common::values::SCHEMA_MANAGER_VAR;
use c8dr_sim::{SimConfig, World};
use serde_json::json;

/// Server-side durations short enough for a test (as the e2e harness's `fast_config`).
fn fast() -> SimConfig {
    SimConfig {
        operation_duration: Duration::from_millis(20),
        exporter_status_lag: Duration::from_millis(100),
        es_shard_duration: Duration::from_millis(10),
        ..SimConfig::default()
    }
}

fn session(c: &Cluster) -> Session {
    c.session()
        .timeout("30s")
        .env("S3_BUCKET_NAME", "camunda-bucket")
        .build()
}

fn dry_session(c: &Cluster) -> Session {
    c.session()
        .timeout("30s")
        .env("S3_BUCKET_NAME", "camunda-bucket")
        .dry_run()
        .build()
}

async fn status_of(c: &Cluster) -> StatusReport {
    status(&session(c), Duration::from_secs(5))
        .await
        .expect("status")
}

/// Requests to the Zeebe management API that change something (not reads, not dry runs).
fn mutations(w: &World) -> Vec<String> {
    w.zeebe
        .requests
        .iter()
        .filter(|(method, path, _)| method != "GET" && !path.contains("dryRun"))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect()
}

/// Repositories registered in each region and the indices of each.
fn es_state(w: &World) -> Vec<(Vec<String>, Vec<String>)> {
    w.regions
        .iter()
        .map(|r| {
            (
                r.es.repositories.keys().cloned().collect(),
                r.es.indices.keys().cloned().collect(),
            )
        })
        .collect()
}

fn members(w: &World) -> Vec<u32> {
    w.zeebe.members.keys().copied().collect()
}

fn step_tags(out: &Outcome) -> Vec<String> {
    out.details["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["step"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Failback steps 1 and 2 as `helm c8dr redeploy` renders them, applied the way the simulator's
/// helm stand-in applies a release: the recreated region without Operate/Tasklist and with the
/// schema manager off, the surviving one without Operate/Tasklist.
fn helm_steps_1_and_2(c: &Cluster, recreated: usize) {
    let no_webapps = json!({"operate": false, "tasklist": false});
    let mut w = c.sim.world().lock();
    c8dr_sim::helm::apply_release(
        &mut w,
        recreated,
        json!({"orchestration": {
            "replicationFactor": "4",
            "profiles": no_webapps,
            "env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }}),
    );
    c8dr_sim::helm::apply_release(
        &mut w,
        1 - recreated,
        json!({"orchestration": {"replicationFactor": "4", "profiles": no_webapps}}),
    );
}

/// Region 1 lost, failed over, and recreated empty.
async fn failed_over_and_recreated() -> Cluster {
    let c = Cluster::start(fast()).await;
    c.lose(1);
    failover(&session(&c), None).await.expect("failover");
    c.sim.recreate_region(1);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_region_is_failed_over_and_status_follows_every_step() {
    let c = Cluster::start(fast()).await;
    let before = status_of(&c).await;
    assert_eq!(before.procedure.phase, Phase::Healthy, "{}", before.phase);

    c.lose(1);
    let lost = status_of(&c).await;
    assert_eq!(lost.procedure.phase, Phase::Failover, "{}", lost.phase);
    assert_eq!(lost.procedure.steps, [1]);
    assert_eq!(lost.lost_region.as_deref(), Some("region1"));
    let fill = Fill::of(RegionId::ONE, 4);
    assert_eq!(
        lost.procedure.next.as_deref(),
        Some(Action::RemoveBrokers.step().command(&fill).as_str())
    );
    assert!(
        lost.phase
            .starts_with("failover step 1 of 2: next: kubectl c8dr brokers remove --odd"),
        "{}",
        lost.phase
    );

    // A dry run plans both steps, with the table's labels, and sends nothing (a server dry
    // run: the gateway's own plan of the removal is asked, still changing nothing).
    let members_before = c.world(members);
    let server = c
        .session()
        .timeout("30s")
        .env("S3_BUCKET_NAME", "camunda-bucket")
        .server_dry_run()
        .build();
    let dry = failover(&server, None).await.expect("dry run");
    assert_eq!(dry.status, Ending::DryRun);
    assert!(
        dry.plan
            .contains(&"step 1/2: kubectl c8dr brokers remove --odd".to_string()),
        "{:?}",
        dry.plan
    );
    // The gateway's own plan of the removal, before anyone is asked (issue 12 item 2).
    assert!(
        dry.plan
            .iter()
            .any(|l| l.contains("brokers [1, 3, 5, 7] removed, replication factor 4 -> 2")),
        "{:?}",
        dry.plan
    );
    assert!(
        dry.plan
            .contains(&"step 2/2: kubectl c8dr exporters disable camundaregion1".to_string()),
        "{:?}",
        dry.plan
    );
    assert_eq!(c.world(mutations), Vec::<String>::new());
    assert_eq!(c.world(members), members_before);

    // The failover removes region 1's brokers and disables its exporter.
    let out = failover(&session(&c), None).await.expect("failover");
    assert_eq!(out.status, Ending::Done, "{}", out.summary);
    assert_eq!(step_tags(&out), ["failover 1", "failover 2"]);
    assert!(!c.world(mutations).is_empty(), "the log sees what is sent");
    assert_eq!(c.world(members), [0, 2, 4, 6]);
    assert_eq!(
        c.world(|w| w.zeebe.exporter_status("camundaregion1")),
        "DISABLED"
    );
    let next = Stage::Failback.steps()[0].command(&fill);
    assert_eq!(
        out.details["next"],
        format!("when region1 is recreated: {next}")
    );

    let failed_over = status_of(&c).await;
    assert_eq!(failed_over.procedure.phase, Phase::FailedOver);
    assert_eq!(failed_over.procedure.next.as_deref(), Some(next.as_str()));

    // Run again: nothing left to do, nothing sent.
    let sent = c.world(mutations).len();
    let again = failover(&session(&c), None).await.expect("rerun");
    assert_eq!(again.status, Ending::AlreadyDone, "{}", again.summary);
    assert_eq!(c.world(mutations).len(), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_region_is_failed_back_and_status_points_at_the_last_helm_step() {
    let c = failed_over_and_recreated().await;

    let empty = status_of(&c).await;
    assert_eq!(empty.procedure.phase, Phase::Failback, "{}", empty.phase);
    assert_eq!(empty.procedure.steps, [1]);

    helm_steps_1_and_2(&c, 1);
    let ready = status_of(&c).await;
    // Exporting runs, as every broker reports: failback 3 (the pause) is next.
    assert_eq!(ready.procedure.steps, [3], "{}", ready.phase);

    // A dry run checks everything and plans steps 3-7 from the table; nothing is paused,
    // registered or restored.
    let sent = c.world(mutations).len();
    let es_before = c.world(es_state);
    let dry = failback(&dry_session(&c), &FailbackArgs::default())
        .await
        .expect("dry run");
    assert_eq!(dry.status, Ending::DryRun);
    let labels: Vec<&str> = dry
        .plan
        .iter()
        .filter_map(|p| p.split(':').next())
        .filter(|l| l.starts_with("step "))
        .collect();
    assert_eq!(
        labels,
        ["step 3/8", "step 4/8", "step 5/8", "step 6/8", "step 7/8"]
    );
    assert_eq!(c.world(mutations).len(), sent, "a dry run sends nothing");
    assert_eq!(c.world(es_state), es_before, "nor to Elasticsearch");
    assert_eq!(
        c.world(|w| c8dr_sim::state_json(w)["exporting"].clone()),
        "Running"
    );

    let out = failback(&session(&c), &FailbackArgs::default())
        .await
        .expect("failback");
    assert_eq!(out.status, Ending::Done, "{}", out.summary);
    // The pre-copy (part of failback 4, on by default) runs before the pause.
    assert_eq!(
        step_tags(&out),
        [
            "failback 4",
            "failback 3",
            "failback 4",
            "failback 5",
            "failback 6",
            "failback 7"
        ]
    );
    assert_eq!(c.world(members), [0, 1, 2, 3, 4, 5, 6, 7]);
    let (_, restored) = &c.world(es_state)[1];
    assert!(!restored.is_empty(), "the copy restored region 0's indices");
    assert_eq!(c.world(|w| w.zeebe.replication_factor()), 4);
    assert_eq!(
        c.world(|w| w.zeebe.exporter_status("camundaregion1")),
        "ENABLED"
    );
    let last = Action::RedeployBoth.step().command(&Fill::default());
    assert_eq!(out.details["next"], last);
    assert!(
        out.summary.starts_with("failback steps 3-7 done"),
        "{}",
        out.summary
    );

    let done = status_of(&c).await;
    assert_eq!(done.procedure.steps, [8], "{}", done.phase);
    assert_eq!(done.procedure.next.as_deref(), Some(last.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_before_the_helm_steps_is_refused_naming_the_step_and_its_command() {
    let c = failed_over_and_recreated().await;
    let sent = c.world(mutations).len();
    let err = failback(&session(&c), &FailbackArgs::default())
        .await
        .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    let install = Action::InstallRecreated.step();
    let text = err.to_string();
    assert!(
        text.contains(&format!("{} is not done", install.named())),
        "{text}"
    );
    assert!(text.contains(&install.command(&Fill::default())), "{text}");
    assert_eq!(c.world(mutations).len(), sent, "nothing sent");
}

/// `status`'s report as an operator reads it: summary, procedure line, notes and the text.
fn shown(s: &StatusReport) -> String {
    use c8dr_common::output::Render;
    format!(
        "{}\n{}\n{}\n{}",
        s.summary(),
        s.phase,
        s.notes
            .iter()
            .chain(&s.procedure.notes)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        s.text()
    )
}

/// Nothing shown to an operator cites the specification or a file outside the repository.
fn assert_no_outside_citation(s: &StatusReport) {
    let text = shown(s);
    let machine = format!("/{}/", "work");
    for cited in ["SPEC", machine.as_str(), "seed/"] {
        assert!(!text.contains(cited), "cites {cited}: {text}");
    }
}

/// Issue 19 item 10: the pause observed on every broker (`/actuator/partitions`) decides between
/// failback 3 and 4, and between 6 and 7; no line cites the specification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observed_pause_state_decides_the_failback_step() {
    let c = failed_over_and_recreated().await;
    helm_steps_1_and_2(&c, 1);
    let fill = Fill::of(RegionId::ONE, 4);
    let pause = Action::PauseExporting.step().command(&fill);
    let copy = Action::CopyElasticsearch.step().command(&fill);
    let resume = Action::ResumeExporting.step().command(&fill);
    let add = Action::AddBrokers.step().command(&fill);

    let running = status_of(&c).await;
    assert_eq!(running.procedure.steps, [3], "{}", running.phase);
    assert_eq!(running.procedure.next.as_deref(), Some(pause.as_str()));
    assert_no_outside_citation(&running);

    c8dr_common::commands::exporting::exporting_pause(&session(&c), false)
        .await
        .expect("pause");
    let paused = status_of(&c).await;
    assert_eq!(paused.procedure.steps, [4], "{}", paused.phase);
    assert_eq!(paused.procedure.next.as_deref(), Some(copy.as_str()));
    assert!(
        !shown(&paused).contains("cannot be read from any API"),
        "{}",
        shown(&paused)
    );
    assert_no_outside_citation(&paused);

    // The copy's result (a restore of region 0's indices), then failback 5.
    c.sim.world().lock().regions[1].es = c8dr_sim::es::EsCluster::seeded();
    c8dr_common::commands::exporters::exporter_set(
        &session(&c),
        "camundaregion1",
        true,
        Some("camundaregion0"),
    )
    .await
    .expect("enable");
    let enabled = status_of(&c).await;
    assert_eq!(enabled.procedure.steps, [6], "{}", enabled.phase);
    assert_eq!(enabled.procedure.next.as_deref(), Some(resume.as_str()));
    assert_no_outside_citation(&enabled);

    c8dr_common::commands::exporting::exporting_resume(&session(&c))
        .await
        .expect("resume");
    let resumed = status_of(&c).await;
    assert_eq!(resumed.procedure.steps, [7], "{}", resumed.phase);
    assert_eq!(resumed.procedure.next.as_deref(), Some(add.as_str()));
    assert_no_outside_citation(&resumed);
}

/// Issue 19 item 2: `failover` run again during a failback (the recreated region's exporter
/// enabled again, its brokers not yet members) sends nothing and leaves that exporter enabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_during_a_failback_is_already_done_and_sends_nothing() {
    let c = failed_over_and_recreated().await;
    helm_steps_1_and_2(&c, 1);
    c8dr_common::commands::exporting::exporting_pause(&session(&c), false)
        .await
        .expect("pause");
    c.sim.world().lock().regions[1].es = c8dr_sim::es::EsCluster::seeded();
    c8dr_common::commands::exporters::exporter_set(
        &session(&c),
        "camundaregion1",
        true,
        Some("camundaregion0"),
    )
    .await
    .expect("enable");
    let sent = c.world(mutations);
    let again = failover(&session(&c), None).await;
    assert_eq!(c.world(mutations), sent, "nothing mutating sent: {again:?}");
    assert_eq!(
        c.world(|w| w.zeebe.exporter_status("camundaregion1")),
        "ENABLED"
    );
    let out = again.expect("already done");
    assert_eq!(out.status, Ending::AlreadyDone, "{}", out.summary);
    assert!(
        out.summary
            .contains("failback is under way (at failback step 6 of 8)"),
        "{}",
        out.summary
    );
    assert_eq!(out.summary.matches("next:").count(), 1, "{}", out.summary);
}

/// Issue 19 item 13: while the recreated brokers re-join (`brokers add --no-wait`), the region
/// whose pods run is being rebuilt, not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_whose_brokers_rejoin_is_being_rebuilt_not_lost() {
    let c = Cluster::start(fast()).await;
    c.lose(1);
    failover(&session(&c), None).await.expect("failover");
    c.sim.recreate_region(1);
    helm_steps_1_and_2(&c, 1);
    let s = session(&c);
    c8dr_common::commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");
    c.sim.world().lock().regions[1].es = c8dr_sim::es::EsCluster::seeded();
    c8dr_common::commands::exporters::exporter_set(
        &s,
        "camundaregion1",
        true,
        Some("camundaregion0"),
    )
    .await
    .expect("enable");
    c8dr_common::commands::exporting::exporting_resume(&s)
        .await
        .expect("resume");
    // The re-add takes a while (each of its operations a second): status runs while it does.
    c.sim.world().lock().cfg.operation_duration = Duration::from_secs(1);
    let no_wait = c
        .session()
        .timeout("30s")
        .env("S3_BUCKET_NAME", "camunda-bucket")
        .no_wait()
        .build();
    c8dr_common::commands::brokers::brokers_add(
        &no_wait,
        c8dr_common::zeebe::brokers::Selection::Parity(RegionId::ONE),
        None,
        Some(4),
    )
    .await
    .expect("add, not waited for");
    let rejoining = status_of(&c).await;
    assert_eq!(
        rejoining.procedure.phase,
        Phase::ChangeInProgress,
        "{}",
        rejoining.phase
    );
    let text = shown(&rejoining);
    assert!(!text.contains("region1 lost"), "{text}");
    assert!(!text.contains("looks lost"), "{text}");
    assert!(text.contains("being rebuilt"), "{text}");
}

/// The docs' variables without any for region 1 and without REST credentials: what is left
/// after a completed failback once the operator unset the recreated region's variables.
fn without_region1_variables(c: &Cluster) -> Session {
    let mut b = c.session().timeout("30s");
    for k in [
        "CLUSTER_RECREATED",
        "CAMUNDA_NAMESPACE_RECREATED",
        "REGION_RECREATED",
        "CLUSTER_1",
        "CAMUNDA_NAMESPACE_1",
        "CAMUNDA_CLIENT_AUTH_METHOD",
        "CAMUNDA_CLIENT_AUTH_USERNAME",
        "CAMUNDA_CLIENT_AUTH_PASSWORD",
    ] {
        b = b.without_env(k);
    }
    b.build()
}

/// Issue 19 item 11: a region that is merely not configured is never "lost", and nothing
/// suggests `--skip-liveness-check` for brokers that are alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_that_is_not_configured_is_not_lost() {
    let c = Cluster::start(fast()).await;
    let s = without_region1_variables(&c);
    let report = status(&s, Duration::from_secs(5)).await.expect("status");
    let text = shown(&report);
    assert_ne!(report.procedure.phase, Phase::Failover, "{text}");
    assert!(!text.contains("region1 lost"), "{text}");
    assert!(!text.contains("looks lost"), "{text}");
    assert!(!text.contains("brokers remove"), "{text}");
    assert!(!text.contains("skip-liveness-check"), "{text}");
    assert!(text.contains("not configured"), "{text}");

    let sent = c.world(mutations);
    let err = failover(&s, None).await.expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(!err.to_string().contains("skip-liveness-check"), "{err}");
    assert_eq!(c.world(mutations), sent, "nothing sent");
    assert_eq!(c.world(members), [0, 1, 2, 3, 4, 5, 6, 7]);
}

/// Issue 19 item 12: the docs' variables name the lost region (region 0) as the surviving one.
/// `status` says so first and gives a command that works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_naming_the_lost_region_surviving_are_said_first_with_a_working_command() {
    let c = Cluster::start(fast()).await;
    c.lose(0);
    let report = status_of(&c).await;
    assert_eq!(report.procedure.phase, Phase::Failover, "{}", report.phase);
    let first = report
        .notes
        .iter()
        .chain(&report.procedure.notes)
        .next()
        .cloned()
        .unwrap_or_default();
    assert!(
        first.contains("region0") && first.contains("surviving"),
        "{}",
        shown(&report)
    );
    let next = report.procedure.next.clone().unwrap_or_default();
    assert_eq!(
        next,
        "kubectl c8dr --region recreated brokers remove --even",
        "{}",
        shown(&report)
    );
    // The driver without --region reaches the lost region: it says so, with the command that
    // works, and sends nothing.
    let sent = c.world(mutations);
    let err = failover(&session(&c), None).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("names region0, the lost region, as the surviving one"),
        "{text}"
    );
    assert!(
        text.contains("kubectl c8dr --region recreated failover"),
        "{text}"
    );
    assert_eq!(c.world(mutations), sent, "nothing sent");
    // That command works: both failover steps through the live region's gateway.
    let recreated = c.session().timeout("30s").region("recreated").build();
    let out = failover(&recreated, None)
        .await
        .expect("the suggested command works");
    assert_eq!(out.status, Ending::Done, "{}", out.summary);
    assert_eq!(c.world(members), [1, 3, 5, 7]);
    assert_eq!(
        c.world(|w| w.zeebe.exporter_status("camundaregion0")),
        "DISABLED"
    );
}

/// Issue 19 item 11, the rule behind it: `--skip-liveness-check` is never suggested for brokers
/// that some evidence shows alive. Without REST credentials `/v2/topology` cannot be read, but
/// region 1's broker pods run Ready: the refusal says they are alive instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokers_whose_pods_run_ready_are_alive_and_skipping_the_check_is_not_suggested() {
    let c = Cluster::start(fast()).await;
    let s = c
        .session()
        .timeout("30s")
        .without_env("CAMUNDA_CLIENT_AUTH_METHOD")
        .without_env("CAMUNDA_CLIENT_AUTH_USERNAME")
        .without_env("CAMUNDA_CLIENT_AUTH_PASSWORD")
        .build();
    let err = c8dr_common::commands::brokers::brokers_remove(
        &s,
        c8dr_common::zeebe::brokers::Selection::Parity(RegionId::ONE),
        false,
    )
    .await
    .expect_err("refused");
    assert_eq!(err.exit_code(), 3, "{err}");
    let text = err.to_string();
    assert!(!text.contains("skip-liveness-check"), "{text}");
    assert!(text.contains("alive"), "{text}");
    assert!(text.contains("CAMUNDA_CLIENT_AUTH_METHOD"), "{text}");
    assert_eq!(c.world(members), [0, 1, 2, 3, 4, 5, 6, 7]);
}
