//! `--context` and `--namespace` as kubectl users expect them (issue 22 item 4): without
//! `--region`, `--context X` targets the region whose docs' variables name X, in that region's
//! namespace; never the surviving region's namespace in another region's cluster.

use c8dr_e2e::TestEnv;

#[test]
fn a_context_flag_targets_the_region_it_names_in_its_own_namespace() {
    let env = TestEnv::start();
    let before = env.requests().len();
    env.c8dr("exporters list --context c8dr-sim-region1 -o json")
        .success();
    let sent: Vec<_> = env.requests().into_iter().skip(before).collect();
    assert!(!sent.is_empty(), "the command reached no cluster");
    for r in &sent {
        assert_eq!(r.region, 1, "a request went to region0: {r:?}");
        if r.listener == "kube-api" && r.target.starts_with("/api/v1/namespaces/") {
            assert!(
                r.target.starts_with("/api/v1/namespaces/camunda-region1/"),
                "another region's namespace in region1's cluster: {r:?}"
            );
        }
    }
}

#[test]
fn a_context_flag_with_a_namespace_flag_uses_that_namespace() {
    let env = TestEnv::start();
    // No such namespace in region1: the flag is used as given, and the error names it.
    env.c8dr("exporters list --context c8dr-sim-region1 -n elsewhere")
        .code(1)
        .output_has(
            "no Service camunda-zeebe-gateway in namespace elsewhere (context c8dr-sim-region1)",
        );
}
