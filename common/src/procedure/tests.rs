//! Every transition of the procedure, on small fixtures (region 1 lost unless said otherwise).

use super::*;
use crate::chart::{full_profiles, no_webapps_profiles};

const ALL: [u32; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
const EVEN: [u32; 4] = [0, 2, 4, 6];

fn region(profiles: BTreeSet<String>, schema_off: bool, indices: usize) -> RegionObservation {
    RegionObservation {
        reachable: true,
        unconfigured: false,
        installed: Some(true),
        profiles: Some(profiles),
        schema_manager_disabled: Some(schema_off),
        es: Some(EsObservation {
            camunda_indices: indices,
            restoring: false,
            restored_from: None,
        }),
    }
}

fn lost() -> RegionObservation {
    RegionObservation::default()
}

fn empty_recreated() -> RegionObservation {
    RegionObservation {
        reachable: true,
        unconfigured: false,
        installed: Some(false),
        profiles: None,
        schema_manager_disabled: None,
        es: Some(EsObservation::default()),
    }
}

fn cluster(members: &[u32], rf: u32, e0: &str, e1: &str) -> ClusterObservation {
    ClusterObservation {
        members: members.to_vec(),
        replication_factor: rf,
        pending_change: None,
        exporters: vec![
            ("camundaregion0".into(), e0.into()),
            ("camundaregion1".into(), e1.into()),
        ],
    }
}

fn obs(r0: RegionObservation, r1: RegionObservation, c: Option<ClusterObservation>) -> Observation {
    Observation {
        regions: [r0, r1],
        cluster: c,
        cluster_size: Some(8),
        configured_replication_factor: Some(4),
        recreated_hint: Some(RegionId::ONE),
        alive_brokers: None,
        exporting: None,
        region_flags: Default::default(),
    }
}

fn healthy() -> Observation {
    obs(
        region(full_profiles(), false, 30),
        region(full_profiles(), false, 30),
        Some(cluster(&ALL, 4, "ENABLED", "ENABLED")),
    )
}

fn failed_over() -> Observation {
    obs(
        region(full_profiles(), false, 30),
        lost(),
        Some(cluster(&EVEN, 2, "ENABLED", "DISABLED")),
    )
}

/// Failback 1 and 2 done: both regions without webapps, the recreated ES empty.
fn after_step2() -> Observation {
    obs(
        region(no_webapps_profiles(), false, 30),
        region(no_webapps_profiles(), true, 0),
        Some(cluster(&EVEN, 2, "ENABLED", "DISABLED")),
    )
}

fn assert_step(o: &Observation, phase: Phase, steps: &[u8], line: &str) -> Verdict {
    let v = detect(o);
    assert_eq!(v.phase, phase, "{v:#?}");
    assert_eq!(v.steps, steps, "{v:#?}");
    assert_eq!(v.line(), line, "{v:#?}");
    v
}

#[test]
fn healthy_needs_no_action() {
    let v = assert_step(&healthy(), Phase::Healthy, &[], "healthy: no action");
    assert_eq!(v.lost_region, None);
    assert_eq!(v.next, None);
}

/// Attack A9: both regions' APIs answer, every broker is a member, but region1's brokers do not
/// answer the gateway (a split between the regions): not "healthy: no action", and no command.
#[test]
fn members_the_gateway_does_not_reach_are_not_healthy_and_not_a_failover() {
    let mut o = healthy();
    o.alive_brokers = Some(EVEN.to_vec());
    let v = detect(&o);
    assert_eq!(v.phase, Phase::Unknown, "{v:#?}");
    assert_eq!(v.next, None, "{v:#?}");
    assert!(v.what.contains("network split"), "{v:#?}");
    o.alive_brokers = Some(ALL.to_vec());
    assert_eq!(detect(&o).phase, Phase::Healthy);
}

#[test]
fn a_lost_region_whose_brokers_are_members_is_failover_1_by_its_parity() {
    let mut o = healthy();
    o.regions[1] = lost();
    let v = assert_step(
        &o,
        Phase::Failover,
        &[1],
        "failover step 1 of 2: next: kubectl c8dr brokers remove --odd",
    );
    assert_eq!(v.lost_region, Some(RegionId::ONE));
    // Region 0 lost: the even brokers.
    let mut o = healthy();
    o.regions[0] = lost();
    o.recreated_hint = Some(RegionId::ZERO);
    assert_step(
        &o,
        Phase::Failover,
        &[1],
        "failover step 1 of 2: next: kubectl c8dr brokers remove --even",
    );
}

#[test]
fn removed_brokers_with_the_exporter_still_on_is_failover_2() {
    let mut o = failed_over();
    o.cluster = Some(cluster(&EVEN, 2, "ENABLED", "ENABLED"));
    assert_step(
        &o,
        Phase::Failover,
        &[2],
        "failover step 2 of 2: next: kubectl c8dr exporters disable camundaregion1",
    );
    // Region 0 lost (and recreated, as the environment says): its exporter is camundaregion0.
    let mut o = healthy();
    o.regions[0] = lost();
    o.recreated_hint = Some(RegionId::ZERO);
    o.cluster = Some(cluster(&[1, 3, 5, 7], 2, "ENABLED", "ENABLED"));
    assert_step(
        &o,
        Phase::Failover,
        &[2],
        "failover step 2 of 2: next: kubectl c8dr exporters disable camundaregion0",
    );
}

#[test]
fn failover_1_names_the_missing_survivors_instead_of_a_removal_that_would_be_refused() {
    // Found by the model-based test: a surviving broker down (or a gateway listing nobody) makes
    // `brokers remove` refuse for lack of evidence; status must say so, not suggest it.
    let mut o = healthy();
    o.regions[1] = lost();
    o.alive_brokers = Some(vec![0, 4, 6]);
    let v = detect(&o);
    assert_eq!(v.phase, Phase::Failover);
    assert_eq!(v.steps, [1]);
    assert_eq!(v.next, None, "{}", v.line());
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("does not list brokers [2]") && n.contains("brokers remove --odd")),
        "{:?}",
        v.notes
    );
    o.alive_brokers = Some(vec![0, 2, 4, 6]);
    assert!(
        detect(&o)
            .next
            .is_some_and(|n| n.ends_with("brokers remove --odd"))
    );
}

#[test]
fn failover_2_with_the_surviving_exporter_disabled_enables_it_first() {
    // Found by the model-based test: the operator had disabled the surviving region's exporter;
    // `exporters disable` of the lost one would leave none and is refused, so status must not
    // point at it alone.
    let mut o = failed_over();
    o.cluster = Some(cluster(&EVEN, 2, "DISABLED", "ENABLED"));
    let v = assert_step(
        &o,
        Phase::Failover,
        &[2],
        "failover step 2 of 2: next: kubectl c8dr exporters enable camundaregion0, then kubectl c8dr exporters disable camundaregion1",
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("camundaregion0 is disabled")),
        "{:?}",
        v.notes
    );
}

#[test]
fn failover_done_waits_for_the_recreated_region() {
    let v = assert_step(
        &failed_over(),
        Phase::FailedOver,
        &[],
        "failed over: waiting for the lost region to be recreated; next: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
    );
    assert_eq!(v.lost_region, Some(RegionId::ONE));
}

#[test]
fn a_recreated_region_without_release_is_failback_1() {
    let mut o = failed_over();
    o.regions[1] = empty_recreated();
    assert_step(
        &o,
        Phase::Failback,
        &[1],
        "failback step 1 of 8: next: helm c8dr redeploy --region recreated --no-webapps --no-schema-manager",
    );
}

#[test]
fn a_recreated_region_before_failover_still_needs_failover_1() {
    let mut o = healthy();
    o.regions[1] = empty_recreated();
    let v = assert_step(
        &o,
        Phase::Failover,
        &[1],
        "failover step 1 of 2: next: kubectl c8dr brokers remove --odd",
    );
    assert!(v.notes.iter().any(|n| n.contains("no Camunda release")));
}

#[test]
fn recreated_installed_while_the_surviving_runs_webapps_is_failback_2() {
    let mut o = after_step2();
    o.regions[0].profiles = Some(full_profiles());
    assert_step(
        &o,
        Phase::Failback,
        &[2],
        "failback step 2 of 8: next: helm c8dr redeploy --region surviving --no-webapps",
    );
}

#[test]
fn both_without_webapps_and_an_empty_recreated_es_is_failback_3_and_4() {
    let v = assert_step(
        &after_step2(),
        Phase::Failback,
        &[3, 4],
        "failback steps 3-4 of 8: next: kubectl c8dr exporting pause, then kubectl c8dr es copy --from surviving --to recreated",
    );
    assert!(
        v.notes.iter().any(|n| n.contains("could not be read")),
        "{v:#?}"
    );
}

#[test]
fn the_pause_seen_on_the_brokers_tells_failback_3_from_4() {
    let mut o = after_step2();
    o.exporting = Some(Exporting::Running);
    let v = assert_step(
        &o,
        Phase::Failback,
        &[3],
        "failback step 3 of 8: next: kubectl c8dr exporting pause",
    );
    assert!(v.notes.is_empty(), "{v:#?}");
    o.exporting = Some(Exporting::Mixed);
    assert_step(
        &o,
        Phase::Failback,
        &[3],
        "failback step 3 of 8: next: kubectl c8dr exporting pause",
    );
    o.exporting = Some(Exporting::SoftPaused);
    assert_step(
        &o,
        Phase::Failback,
        &[3],
        "failback step 3 of 8: next: kubectl c8dr exporting resume, then kubectl c8dr exporting pause",
    );
    o.exporting = Some(Exporting::Paused);
    let v = assert_step(
        &o,
        Phase::Failback,
        &[4],
        "failback step 4 of 8: next: kubectl c8dr es copy --from surviving --to recreated",
    );
    assert!(v.notes.is_empty(), "{v:#?}");
}

#[test]
fn the_pause_seen_on_the_brokers_tells_failback_6_from_7() {
    let mut o = after_step2();
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 30,
        restoring: false,
        restored_from: None,
    });
    o.cluster = Some(cluster(&EVEN, 2, "ENABLED", "ENABLED"));
    o.exporting = Some(Exporting::Paused);
    assert_step(
        &o,
        Phase::Failback,
        &[6],
        "failback step 6 of 8: next: kubectl c8dr exporting resume",
    );
    o.exporting = Some(Exporting::Running);
    assert_step(
        &o,
        Phase::Failback,
        &[7],
        "failback step 7 of 8: next: kubectl c8dr brokers add --odd --replication-factor 4",
    );
}

#[test]
fn no_note_cites_the_specification() {
    let mut cases = vec![after_step2(), failed_over(), healthy()];
    let mut o = after_step2();
    o.regions[1].es = None;
    cases.push(o);
    let mut o = after_step2();
    o.cluster = Some(cluster(&EVEN, 2, "ENABLED", "ENABLED"));
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 30,
        restoring: false,
        restored_from: None,
    });
    cases.push(o);
    for o in cases {
        let v = detect(&o);
        let text = format!("{} {} {}", v.line(), v.what, v.notes.join(" "));
        assert!(!text.contains("SPEC"), "{text}");
    }
}

#[test]
fn a_region_that_is_not_configured_is_lost_only_on_evidence() {
    let mut o = healthy();
    o.regions[1] = RegionObservation {
        unconfigured: true,
        ..lost()
    };
    let v = detect(&o);
    assert_ne!(v.phase, Phase::Failover, "{v:#?}");
    assert_eq!(v.lost_region, None, "{v:#?}");
    assert!(v.notes[0].contains("region1 is not configured"), "{v:#?}");
    assert!(v.notes[0].contains("CLUSTER_1"), "{v:#?}");
    // Its brokers answer the gateway: not lost, said so.
    o.alive_brokers = Some(ALL.to_vec());
    let v = detect(&o);
    assert!(v.notes[0].contains("is not lost"), "{v:#?}");
    // /v2/topology shows the survivors and none of its brokers: lost indeed.
    o.alive_brokers = Some(EVEN.to_vec());
    assert_step(
        &o,
        Phase::Failover,
        &[1],
        "failover step 1 of 2: next: kubectl c8dr brokers remove --odd",
    );
}

#[test]
fn variables_naming_the_lost_region_surviving_get_the_flag_that_works() {
    let mut o = healthy();
    o.regions[0] = lost();
    o.recreated_hint = Some(RegionId::ONE);
    o.region_flags = [None, Some("recreated".into())];
    let v = assert_step(
        &o,
        Phase::Failover,
        &[1],
        "failover step 1 of 2: next: kubectl c8dr --region recreated brokers remove --even",
    );
    assert!(v.notes[0].contains("names region0, the lost region, as the surviving one"));
    assert_eq!(v.region_flag.as_deref(), Some("recreated"));
    // Failed over: the failback's commands name both regions by role, right only once the
    // variables are swapped.
    let mut o = failed_over();
    o.regions = [lost(), o.regions[0].clone()];
    o.cluster = Some(cluster(&[1, 3, 5, 7], 2, "DISABLED", "ENABLED"));
    o.region_flags = [None, Some("recreated".into())];
    let v = detect(&o);
    assert_eq!(v.phase, Phase::FailedOver, "{v:#?}");
    assert!(
        v.next.as_deref().is_some_and(
            |n| n.starts_with("swap the *_SURVIVING and *_RECREATED variables, then helm c8dr")
        ),
        "{v:#?}"
    );
}

#[test]
fn an_unreadable_recreated_es_is_said_so() {
    let mut o = after_step2();
    o.regions[1].es = None;
    let v = assert_step(
        &o,
        Phase::Failback,
        &[3, 4],
        "failback steps 3-4 of 8: next: kubectl c8dr exporting pause, then kubectl c8dr es copy --from surviving --to recreated",
    );
    assert!(v.notes.iter().any(|n| n.contains("could not be read")));
}

#[test]
fn a_running_restore_is_failback_4() {
    let mut o = after_step2();
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 30,
        restoring: true,
        restored_from: None,
    });
    assert_step(
        &o,
        Phase::Failback,
        &[4],
        "failback step 4 of 8: next: kubectl c8dr es copy --from surviving --to recreated",
    );
}

#[test]
fn restored_indices_with_the_exporter_disabled_is_failback_5() {
    let mut o = after_step2();
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 30,
        restoring: false,
        restored_from: None,
    });
    assert_step(
        &o,
        Phase::Failback,
        &[5],
        "failback step 5 of 8: next: kubectl c8dr exporters enable camundaregion1 --initialize-from camundaregion0",
    );
}

#[test]
fn the_exporter_enabled_with_the_brokers_not_yet_members_is_failback_6_and_7() {
    let mut o = after_step2();
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 30,
        restoring: false,
        restored_from: None,
    });
    o.cluster = Some(cluster(&EVEN, 2, "ENABLED", "ENABLED"));
    let v = assert_step(
        &o,
        Phase::Failback,
        &[6, 7],
        "failback steps 6-7 of 8: next: kubectl c8dr exporting resume, then kubectl c8dr brokers add --odd --replication-factor 4",
    );
    assert!(v.notes.iter().any(|n| n.contains("paused")));
}

#[test]
fn without_a_configured_factor_twice_the_lowered_one_is_restored() {
    let mut o = after_step2();
    o.configured_replication_factor = None;
    o.cluster = Some(cluster(&EVEN, 3, "ENABLED", "ENABLED"));
    assert_step(
        &o,
        Phase::Failback,
        &[6, 7],
        "failback steps 6-7 of 8: next: kubectl c8dr exporting resume, then kubectl c8dr brokers add --odd --replication-factor 6",
    );
}

#[test]
fn members_back_with_the_factor_still_low_is_failback_7() {
    let mut o = after_step2();
    o.cluster = Some(cluster(&ALL, 2, "ENABLED", "ENABLED"));
    assert_step(
        &o,
        Phase::Failback,
        &[7],
        "failback step 7 of 8: next: kubectl c8dr brokers add --odd --replication-factor 4",
    );
}

#[test]
fn all_members_without_webapps_or_with_the_override_is_failback_8() {
    let mut o = after_step2();
    o.cluster = Some(cluster(&ALL, 4, "ENABLED", "ENABLED"));
    let v = assert_step(
        &o,
        Phase::Failback,
        &[8],
        "failback step 8 of 8: next: helm c8dr redeploy --region both",
    );
    assert!(v.notes.iter().any(|n| n.contains("Operate/Tasklist off")));
    // Webapps back on, but the schema-manager variable still set in the recreated region.
    let mut o = healthy();
    o.regions[1].schema_manager_disabled = Some(true);
    let v = assert_step(
        &o,
        Phase::Failback,
        &[8],
        "failback step 8 of 8: next: helm c8dr redeploy --region both",
    );
    assert!(v.notes.iter().any(|n| n.contains("schema-manager")));
}

#[test]
fn a_pending_change_comes_first() {
    let mut o = failed_over();
    if let Some(c) = o.cluster.as_mut() {
        c.pending_change = Some(12);
    }
    assert_step(
        &o,
        Phase::ChangeInProgress,
        &[],
        "a topology change is in progress: next: kubectl c8dr changes wait 12",
    );
}

#[test]
fn no_evidence_is_unknown_not_a_guess() {
    let o = obs(lost(), lost(), None);
    assert_eq!(detect(&o).phase, Phase::Unknown);
    assert_eq!(detect(&o).next, None);
    let mut o = healthy();
    o.cluster = None;
    let v = detect(&o);
    assert_eq!(v.phase, Phase::Unknown);
    assert!(
        v.line().contains("no Zeebe gateway answered"),
        "{}",
        v.line()
    );
}

#[test]
fn the_lost_region_is_found_without_the_environment() {
    let mut o = after_step2();
    o.recreated_hint = None;
    assert_eq!(lost_region(&o), Some(RegionId::ONE));
    let mut o = failed_over();
    o.recreated_hint = Some(RegionId::ZERO);
    assert_eq!(lost_region(&o), Some(RegionId::ONE));
    let v = detect(&o);
    assert!(
        v.notes.iter().any(|n| n.contains("REGION_SURVIVING")),
        "{v:#?}"
    );
}

#[test]
fn legacy_exporter_ids_are_used_when_the_88_ones_are_absent() {
    let mut o = failed_over();
    o.cluster = Some(ClusterObservation {
        members: EVEN.to_vec(),
        replication_factor: 2,
        pending_change: None,
        exporters: vec![
            ("elasticsearchregion0".into(), "ENABLED".into()),
            ("elasticsearchregion1".into(), "ENABLED".into()),
        ],
    });
    assert_step(
        &o,
        Phase::Failover,
        &[2],
        "failover step 2 of 2: next: kubectl c8dr exporters disable elasticsearchregion1",
    );
}

#[test]
fn all_members_with_a_low_factor_and_no_lost_region_is_failback_7() {
    let mut o = healthy();
    o.recreated_hint = None;
    o.cluster = Some(cluster(&ALL, 2, "ENABLED", "ENABLED"));
    let v = assert_step(
        &o,
        Phase::Failback,
        &[7],
        "failback step 7 of 8: next: kubectl c8dr brokers add --odd --replication-factor 4",
    );
    assert_eq!(v.lost_region, None);
}

#[test]
fn brokers_missing_from_both_regions_is_unknown_not_healthy() {
    let mut o = healthy();
    o.recreated_hint = None;
    o.cluster = Some(cluster(&[0, 1, 2, 3, 4, 5], 3, "ENABLED", "ENABLED"));
    let v = detect(&o);
    assert_eq!(v.phase, Phase::Unknown, "{v:#?}");
    assert!(
        v.line().contains("6 of 8 brokers are members"),
        "{}",
        v.line()
    );
}

#[test]
fn the_verdict_serialises_with_region_names() {
    let v = detect(&failed_over());
    let json = serde_json::to_value(&v).expect("json");
    assert_eq!(json["lostRegion"], "region1");
    assert_eq!(json["phase"], "failed-over");
    assert_eq!(
        json["next"],
        "helm c8dr redeploy --region recreated --no-webapps --no-schema-manager"
    );
}

#[test]
fn indices_the_schema_manager_created_are_not_taken_for_a_restore() {
    // Failback 1 ran without --no-schema-manager: the recreated ES has Camunda indices of its own.
    let mut o = after_step2();
    o.regions[1].schema_manager_disabled = Some(false);
    o.regions[1].es = Some(EsObservation {
        camunda_indices: 10,
        restoring: false,
        restored_from: None,
    });
    let v = assert_step(
        &o,
        Phase::Failback,
        &[3, 4],
        "failback steps 3-4 of 8: next: kubectl c8dr exporting pause, then kubectl c8dr es copy --from surviving --to recreated",
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("its schema manager created them")),
        "{v:#?}"
    );
    // The same indices, restored from a snapshot: failback 5.
    if let Some(es) = o.regions[1].es.as_mut() {
        es.restored_from = Some("camunda-failback-1".into());
    }
    assert_step(
        &o,
        Phase::Failback,
        &[5],
        "failback step 5 of 8: next: kubectl c8dr exporters enable camundaregion1 --initialize-from camundaregion0",
    );
}

#[test]
fn an_unanswering_api_server_with_live_brokers_is_not_a_lost_region() {
    let mut o = healthy();
    o.regions[1] = lost();
    o.alive_brokers = Some(ALL.to_vec());
    let v = detect(&o);
    assert_eq!(v.phase, Phase::Unknown, "{v:#?}");
    assert_eq!(v.next, None, "never suggest removing live brokers");
    assert!(v.line().contains("is not lost"), "{}", v.line());
    // Only the surviving brokers answer: region 1 is lost indeed.
    o.alive_brokers = Some(EVEN.to_vec());
    assert_eq!(detect(&o).steps, vec![1]);
}
