//! The README's main job: `c8dr-sim demo` runs the whole procedure through the real binaries.

use c8dr_e2e::{TestEnv, bin_dir};

fn demo(lose: &str) {
    demo_with(lose, &[]).stdout_has("failback 3/8: kubectl c8dr exporting pause");
}

fn demo_with(lose: &str, extra: &[&str]) -> c8dr_e2e::Run {
    let env = TestEnv::start();
    let work = env.home.path().join(format!("demo-{lose}"));
    let mut args: Vec<std::ffi::OsString> =
        ["demo", "--lose", lose, "--operation-duration", "10ms"]
            .iter()
            .chain(extra)
            .map(Into::into)
            .collect();
    args.push("--dir".into());
    args.push(work.into_os_string());
    env.run(&bin_dir().join("c8dr-sim").display().to_string(), args)
        .success()
        .stdout_has("✓ failed over")
        .stdout_has("failback 8/8")
        .stdout_has("failback complete: both regions healthy")
}

#[test]
fn the_demo_fails_over_and_back_when_region1_is_lost() {
    demo("region1");
}

#[test]
fn the_demo_fails_over_and_back_when_region0_is_lost() {
    demo("region0");
}

/// The whole procedure on each release c8dr supports, both lost regions (issue: every release
/// an operator runs, detected; docs/releases.md).
#[test]
fn the_demo_fails_over_and_back_on_camunda_8_9_and_8_10_for_both_lost_regions() {
    for release in ["8.9", "8.10"] {
        for lose in ["region0", "region1"] {
            demo_with(lose, &["--camunda", release])
                .stdout_has("failback 3/8: kubectl c8dr exporting pause");
        }
    }
}

/// Zone-aware brokers (8.10): the same demo, the forced removal and the re-add through the
/// Zones API (docs/zone-aware.md); single steps for both lost regions, and the drivers.
#[test]
fn the_demo_fails_over_and_back_on_a_zone_aware_8_10_cluster() {
    for lose in ["region0", "region1"] {
        demo_with(lose, &["--camunda", "8.10", "--zone-aware"])
            .stdout_has("zone-aware: zones us-east1 and eu-west1")
            .stdout_has("failback complete");
    }
    demo_with(
        "region1",
        &["--camunda", "8.10", "--zone-aware", "--drivers"],
    )
    .stdout_has("failback 3-7: kubectl c8dr failback")
    .stdout_has("failback complete");
}

#[test]
fn the_demo_with_the_composite_drivers() {
    demo_with("region0", &["--drivers"])
        .stdout_has("failover 1-2: kubectl c8dr failover")
        .stdout_has("failback 3-7: kubectl c8dr failback");
}

#[test]
fn the_demo_with_region0_lost_and_a_coordinator_that_times_out() {
    demo_with(
        "region0",
        &["--dead-coordinator", "504", "--gateway-timeout", "200ms"],
    )
    .stdout_has("failback 3/8: kubectl c8dr exporting pause");
}

/// `demo --dir D` with files of the user's in D: refused before anything starts, and D with
/// its files is left as it was (the demo removes only a directory it created itself).
#[test]
fn the_demo_refuses_a_non_empty_dir_and_leaves_it_alone() {
    let env = TestEnv::start();
    let work = env.home.path().join("my-project");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(work.join("notes.txt"), "mine").expect("write");
    let args = vec![
        "demo".into(),
        "--operation-duration".into(),
        "10ms".into(),
        "--dir".into(),
        work.clone().into_os_string(),
    ];
    env.run(&bin_dir().join("c8dr-sim").display().to_string(), args)
        .code(2)
        .stderr_has("not empty");
    assert_eq!(
        std::fs::read_to_string(work.join("notes.txt"))
            .ok()
            .as_deref(),
        Some("mine"),
        "the user's file in --dir must survive the demo"
    );
}

/// An existing empty `--dir` is used and kept after a successful run (the demo did not create
/// it); a `--dir` that did not exist is created and removed again.
#[test]
fn the_demo_keeps_an_existing_empty_dir_and_removes_one_it_created() {
    let env = TestEnv::start();
    let existing = env.home.path().join("empty");
    std::fs::create_dir_all(&existing).expect("mkdir");
    let created = env.home.path().join("new");
    for dir in [&existing, &created] {
        let args = vec![
            "demo".into(),
            "--operation-duration".into(),
            "10ms".into(),
            "--dir".into(),
            dir.clone().into_os_string(),
        ];
        env.run(&bin_dir().join("c8dr-sim").display().to_string(), args)
            .success()
            .stdout_has("failback complete");
    }
    assert!(existing.is_dir(), "an existing --dir must not be deleted");
    assert!(
        !created.exists(),
        "a --dir the demo created is removed after success"
    );
}
