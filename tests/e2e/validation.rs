//! Out-of-range numbers are bad input (issue 9 item 6): exit 2, the flag named, and no request
//! reaches the simulator (docs/contract.md §4 rule 8).

use c8dr_e2e::TestEnv;

fn hits(env: &TestEnv) -> u64 {
    env.sim
        .shared
        .hits
        .load(std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn out_of_range_numbers_are_exit_2_with_no_call() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.set_env("S3_BUCKET_NAME", "camunda-bucket");
    let cases: &[(&[&str], &str)] = &[
        (
            &["failback", "--replication-factor", "0"],
            "--replication-factor",
        ),
        (
            &["brokers", "add", "--odd", "--replication-factor", "0"],
            "--replication-factor",
        ),
        (&["failback", "--cluster-size", "0"], "--cluster-size"),
        (
            &["brokers", "add", "--odd", "--cluster-size", "0"],
            "--cluster-size",
        ),
        // Aborted with an allocation failure before (memory for 4 billion broker ids).
        (
            &["failback", "--cluster-size", "4294967294"],
            "--cluster-size",
        ),
        (
            &["brokers", "add", "--odd", "--cluster-size", "4294967294"],
            "--cluster-size",
        ),
        (
            &["brokers", "add", "--even", "--cluster-size", "7"],
            "--cluster-size 7",
        ),
        (&["failback", "--cluster-size", "7"], "--cluster-size 7"),
        (
            &[
                "failback",
                "--cluster-size",
                "8",
                "--replication-factor",
                "9",
            ],
            "--replication-factor 9",
        ),
        (
            &[
                "brokers",
                "add",
                "--odd",
                "--cluster-size",
                "8",
                "--replication-factor",
                "9",
            ],
            "--replication-factor 9",
        ),
        (&["--timeout", "0", "failback"], "--timeout"),
        (&["--timeout", "0", "brokers", "add", "--odd"], "--timeout"),
        (&["--timeout", "0s", "exporting", "pause"], "--timeout"),
    ];
    for (args, flag) in cases {
        let before = hits(&env);
        env.kubectl_c8dr(args.iter().copied())
            .code(2)
            .stderr_has(flag);
        assert_eq!(hits(&env), before, "`{}` made a call", args.join(" "));
    }
}

#[test]
fn failback_without_a_bucket_refuses_before_any_call_in_real_and_dry_runs() {
    let mut env = TestEnv::start();
    env.set_env("C8DR_ASSUME_YES", "1");
    env.remove_env("S3_BUCKET_NAME");
    for extra in [None, Some("--dry-run")] {
        let before = hits(&env);
        let mut args = vec!["failback"];
        args.extend(extra);
        env.kubectl_c8dr(args).code(2).stderr_has("S3_BUCKET_NAME");
        assert_eq!(hits(&env), before, "{extra:?}: a call was made");
    }
}

/// Two regions in one cluster (issue 19 item 3): the other region's index variable names the
/// surviving context with the other region's namespace. A forced removal would list the
/// "recreated" pods in the surviving cluster and take that as evidence; it is bad input, found
/// before any call, naming both variables.
#[test]
fn two_regions_resolving_to_one_cluster_are_exit_2_with_no_call() {
    let mut env = TestEnv::start();
    let ns1 = env.sim.shared.world.lock().regions[1].namespace.clone();
    env.set_env("CLUSTER_1", c8dr_sim::context_name(0));
    env.set_env("CAMUNDA_NAMESPACE_1", ns1);
    env.set_env("C8DR_ASSUME_YES", "1");
    for args in [
        &["brokers", "remove", "--odd", "--skip-liveness-check"][..],
        &["exporters", "list"][..],
    ] {
        let run = env.kubectl_c8dr(args.iter().copied());
        assert_eq!(run.code, 2, "{args:?}\n{}", run.context());
        assert!(
            run.stderr.contains("CLUSTER_SURVIVING") && run.stderr.contains("CLUSTER_1"),
            "{}",
            run.context()
        );
    }
    let run = env.helm_c8dr(["redeploy", "--yes", "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.context());
    assert_eq!(hits(&env), 0, "no call reached the simulator");
}

/// A kubeconfig naming one context twice (issue 19 item 4), the first entry on the other
/// region's cluster: kubectl refuses the file (client-go `duplicate name ... in list`), and so
/// does c8dr instead of talking to the first entry's cluster.
#[test]
fn a_kubeconfig_with_two_contexts_of_one_name_is_exit_2_with_no_call() {
    let mut env = TestEnv::start();
    let text = std::fs::read_to_string(&env.sim.kubeconfig).expect("kubeconfig");
    let ctx0 = c8dr_sim::context_name(0);
    let ctx1 = c8dr_sim::context_name(1);
    // A copy of region 1's context entry, renamed to region 0's, placed first.
    let start = text.find("contexts:\n").expect("contexts") + "contexts:\n".len();
    let entry_at = text
        .find(&format!("- name: {ctx1}\n  context:"))
        .expect("region 1 context");
    let entry_end = text[entry_at..]
        .find("namespace:")
        .and_then(|i| {
            text[entry_at + i..]
                .find('\n')
                .map(|j| entry_at + i + j + 1)
        })
        .expect("entry end");
    let dup = text[entry_at..entry_end].replacen(&ctx1, &ctx0, 1);
    let doubled = format!("{}{dup}{}", &text[..start], &text[start..]);
    let path = env.cwd.join("doubled.kubeconfig");
    std::fs::write(&path, doubled).expect("write");
    env.set_env("KUBECONFIG", path.display().to_string());
    let kubectl = env.kubectl(["--context", ctx0.as_str(), "get", "pods"]);
    assert_ne!(kubectl.code, 0, "kubectl refuses it: {}", kubectl.context());
    let run = env.kubectl_c8dr(["exporters", "list"]);
    assert_eq!(run.code, 2, "{}", run.context());
    assert!(
        run.stderr.contains("KUBECONFIG") && run.stderr.contains("two contexts"),
        "{}",
        run.context()
    );
    let run = env.helm_c8dr(["redeploy", "--yes", "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.context());
    assert_eq!(hits(&env), 0, "no call reached the simulator");
}

/// Two regions on one API server spelled two ways (`localhost` for `127.0.0.1`) are one cluster:
/// refused before any call (docs/contract.md §4 rule 2b), as the same spelling is.
#[test]
fn two_contexts_on_one_api_server_spelled_differently_are_refused() {
    let mut env = TestEnv::start();
    let original = std::fs::read_to_string(&env.sim.kubeconfig).expect("kubeconfig");
    let doc: serde_json::Value = serde_saphyr::from_str(&original).expect("yaml");
    let server = |i: usize| {
        doc["clusters"][i]["cluster"]["server"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (s0, s1) = (server(0), server(1));
    assert!(s0.contains("127.0.0.1"), "{s0}");
    for alias in [s0.replace("127.0.0.1", "localhost"), s0.clone()] {
        let path = env.home.path().join("aliased-kubeconfig");
        std::fs::write(&path, original.replace(&s1, &alias)).expect("write");
        env.set_env("KUBECONFIG", path.display().to_string());
        env.c8dr("exporting pause --dry-run")
            .code(2)
            .stderr_has("point at the same API server");
    }
}
