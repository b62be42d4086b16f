//! Out-of-range numbers are bad input (issue 9 item 6): exit 2, the flag named, and no request
//! reaches the simulator (SPEC 4.8).

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
