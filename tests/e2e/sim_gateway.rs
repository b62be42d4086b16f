//! The harness itself: the simulator starts and the binaries are found.

use c8dr_e2e::TestEnv;

#[test]
fn the_simulator_starts_healthy_with_both_regions() {
    let env = TestEnv::start();
    let s = env.state();
    assert_eq!(s["members"].as_array().map(Vec::len), Some(8));
    assert_eq!(s["replicationFactor"], 4);
    assert_eq!(s["exporters"]["camundaregion1"], "ENABLED");
}
