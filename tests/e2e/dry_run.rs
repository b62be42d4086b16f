//! `--dry-run[=client|server]` as kubectl's (issue 12 item 3): `client` (and a plain
//! `--dry-run`) sends nothing that changes or plans a change; `server` also asks the gateway's
//! own dry run (`PATCH /actuator/cluster?dryRun=true`, docs/api-behaviour.md §1) for the topology changes and
//! shows its planned operations; commands without a server-side dry run refuse `server` (exit 2)
//! before any call.

use c8dr_e2e::TestEnv;

/// The PATCH requests the gateways received (path and query).
fn patches(env: &TestEnv) -> Vec<String> {
    env.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.target)
        .collect()
}

#[test]
fn a_client_dry_run_sends_no_patch_at_all() {
    let env = TestEnv::start();
    env.lose_region(1);
    for flag in ["--dry-run", "--dry-run=client"] {
        env.c8dr_direct(0, &format!("brokers remove --odd {flag}"))
            .success()
            .stdout_has("PATCH /actuator/cluster?force=true")
            .stdout_has("--dry-run=server")
            .stdout_has("nothing was changed")
            .stdout_lacks("BROKER_REMOVE");
        env.c8dr(&format!("failover {flag}"))
            .success()
            .stdout_has("brokers remove --odd")
            .stdout_lacks("the gateway plans");
    }
    assert_eq!(patches(&env), Vec::<String>::new());
    assert_eq!(env.state()["members"].as_array().map(Vec::len), Some(8));
}

#[test]
fn a_server_dry_run_shows_the_gateways_own_plan_and_changes_nothing() {
    let env = TestEnv::start();
    env.lose_region(1);
    env.c8dr_direct(0, "brokers remove --odd --dry-run=server")
        .success()
        .stdout_has("BROKER_REMOVE broker 7")
        .stdout_has("nothing was changed");
    env.c8dr("failover --dry-run=server")
        .success()
        .stdout_has("the gateway plans")
        .stdout_has("replication factor 4 -> 2");
    let sent = patches(&env);
    assert!(!sent.is_empty(), "the gateway was asked");
    assert!(
        sent.iter().all(|p| p.contains("dryRun=true")),
        "only dry runs: {sent:?}"
    );
    assert_eq!(env.state()["members"].as_array().map(Vec::len), Some(8));
    // `none`, as kubectl's: not a dry run (refused here only for want of --yes).
    env.c8dr_direct(0, "brokers remove --odd --dry-run=none")
        .code(3)
        .stderr_has("--yes");
}

#[test]
fn commands_without_a_server_dry_run_refuse_it_before_any_call() {
    let env = TestEnv::start();
    for line in [
        "exporters disable camundaregion1 --dry-run=server",
        "exporting pause --dry-run=server",
        "failback --dry-run=server",
        "es copy --dry-run=server",
    ] {
        env.c8dr(line)
            .code(2)
            .stderr_has("--dry-run=server: only brokers remove, brokers add and failover");
    }
    assert!(
        env.requests().is_empty(),
        "a refused dry run called a cluster: {:?}",
        env.requests()
    );
    // A value that is no mode is bad input, named as such.
    env.c8dr("status --dry-run=maybe")
        .code(2)
        .stderr_has("--dry-run");
}
