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
