//! The README's main job: `c8dr-sim demo` runs the whole procedure through the real binaries.

use c8dr_e2e::{TestEnv, bin_dir};

fn demo(lose: &str) {
    let env = TestEnv::start();
    let work = env.home.path().join(format!("demo-{lose}"));
    env.run(
        &bin_dir().join("c8dr-sim").display().to_string(),
        [
            "demo",
            "--lose",
            lose,
            "--operation-duration",
            "10ms",
            "--dir",
        ]
        .iter()
        .map(Into::into)
        .chain(std::iter::once(work.into_os_string()))
        .collect(),
    )
    .success()
    .stdout_has("✓ failed over")
    .stdout_has("failback 8/8")
    .stdout_has("failback complete: both regions healthy");
}

#[test]
fn the_demo_fails_over_and_back_when_region1_is_lost() {
    demo("region1");
}

#[test]
fn the_demo_fails_over_and_back_when_region0_is_lost() {
    demo("region0");
}
