//! The in-process command harness works end to end: a read command and a dry-run mutation.

use crate::support::Cluster;
use c8dr_common::commands::{self, Ending};
use c8dr_sim::SimConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topology_in_process_shows_both_regions_brokers() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().timeout("10s").build();
    let view = commands::topology::topology(&s).await.expect("topology");
    let ids: Vec<u32> = view.0.brokers.iter().map(|b| b.node_id).collect();
    assert_eq!(ids.len(), c.world(|w| w.cfg.cluster_size) as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_pause_changes_nothing_on_the_brokers() {
    let c = Cluster::start(SimConfig::default()).await;
    let s = c.session().dry_run().timeout("10s").build();
    let out = commands::exporting::exporting_pause(&s, false)
        .await
        .expect("dry run");
    assert_eq!(out.status, Ending::DryRun);
    let exporting = c.world(|w| c8dr_sim::state_json(w)["exporting"].clone());
    assert_eq!(exporting, "Running", "nothing paused");

    // The same command without --dry-run does pause: the assertion above can fail.
    let s = c.session().timeout("10s").build();
    let out = commands::exporting::exporting_pause(&s, false)
        .await
        .expect("pause");
    assert_eq!(out.status, Ending::Done);
    let exporting = c.world(|w| c8dr_sim::state_json(w)["exporting"].clone());
    assert_eq!(exporting, "Paused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_reads_each_releases_configmap_and_expects_its_profiles() {
    use c8dr_sim::CamundaRelease;
    for (camunda, configmap, admin) in [
        (
            CamundaRelease::V8_8,
            "camunda-zeebe-configuration-unified",
            "identity",
        ),
        (CamundaRelease::V8_9, "camunda-zeebe-configuration", "admin"),
        (
            CamundaRelease::V8_10,
            "camunda-zeebe-configuration",
            "admin",
        ),
    ] {
        let c = Cluster::start(SimConfig {
            camunda,
            ..SimConfig::default()
        })
        .await;
        let s = c.session().region("region0").timeout("10s").build();
        let report = commands::status::profiles(&s, true, false)
            .await
            .unwrap_or_else(|e| panic!("{camunda:?}: {e}"));
        assert_eq!(report.configmap, configmap, "{camunda:?}");
        assert!(report.matches, "{camunda:?}: {report:?}");
        assert!(
            report.expected.iter().any(|p| p == admin),
            "{camunda:?}: {report:?}"
        );
    }
}
