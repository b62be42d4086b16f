//! Bad inputs that do not meet SPEC §4.8 today, with the reason. Each entry is a pattern over
//! case ids (`*` matches any text) so that one defect seen on many commands is one entry; the
//! suite asserts that every case an entry matches still fails, so a fix shows up as "remove the
//! entry". docs/reliability.md lists them. The core is being refactored by others (issue 11);
//! the lead fixes these after that merge.

/// (patterns over case ids, reason).
pub const KNOWN_EXCEPTIONS: &[(&[&str], &str)] = &[
    (
        &[r#"kubectl c8dr status --yes --context *"#],
        "status ignores the global --context (it reads both regions from the docs' variables) and reports as usual, exit 0",
    ),
    (
        &[r#"kubectl c8dr status --yes --probe-timeout 0"#],
        "a zero --probe-timeout is accepted: every probe times out and status exits 5 instead of 2",
    ),
    (
        &[r#"* --*-url "http://127.0.0.1:9600/\n$(id)""#],
        "the URL parser drops newlines (WHATWG URL rules), so the URL is accepted and used",
    ),
    (
        &[r#"kubectl c8dr * --context nowhere"#],
        "exit 2 and no call, but the error names the kube context, not --context (kube context \"nowhere\" is not in the kubeconfig)",
    ),
    (
        &[r#"kubectl c8dr es copy --yes --snapshot *"#],
        "exit 2 and no call, but the error says 'snapshot name', not --snapshot",
    ),
    (
        &[r#"CLUSTER_*=nowhere helm c8dr *"#],
        "the context variables are not looked up in the kubeconfig first: helm runs and fails (exit 1)",
    ),
    (
        &[r#"CLUSTER_*=nowhere kubectl c8dr *"#],
        "exit 2 and no call, but the error names the kube context, not the variable it came from",
    ),
    (
        &[r#"-u * CLUSTER_1=nowhere kubectl c8dr *"#],
        "exit 2 and no call, but the error names the kube context, not CLUSTER_1",
    ),
    (
        &[r#"helm c8dr redeploy --yes -- --set-string *"#],
        "refused (exit 2, no call), but the error calls the extra argument --set, not --set-string",
    ),
    (
        &[
            r#"helm c8dr redeploy * --surviving-context *"#,
            r#"helm c8dr redeploy * --recreated-context *"#,
        ],
        "--surviving-/--recreated-context are not looked up in the kubeconfig first: helm runs and fails (exit 1)",
    ),
    (
        &[r#"helm c8dr redeploy --yes --version "not a version""#],
        "--version is passed to helm unchecked (not a semver constraint, or a helm flag)",
    ),
    (
        &[r#"HELM_CHART_VERSION="not a version" helm c8dr redeploy --yes"#],
        "HELM_CHART_VERSION is passed to helm unchecked",
    ),
    (
        &[r#"KUBECONFIG=* helm c8dr redeploy --yes*"#],
        "helm-c8dr does not read KUBECONFIG itself: a missing, unreadable or context-less kubeconfig reaches helm (exit 1)",
    ),
    (
        &[r#"kubectl c8dr brokers * --ids 1,,3"#],
        "an empty id in --ids is skipped instead of refused",
    ),
    (
        &[r#"kubectl c8dr es snapshot show * --yes"#],
        "the snapshot name of `es snapshot show` is not checked against Elasticsearch's naming rules before Elasticsearch is called",
    ),
    (
        &[r#"kubectl c8dr es * --feature-states none,security"#],
        "'none' combined with another feature state is left for Elasticsearch to refuse",
    ),
    (
        &[
            r#"kubectl c8dr * --bucket Bad_Bucket"#,
            r#"kubectl c8dr * --bucket ab"#,
            r#"kubectl c8dr * --bucket ../bucket"#,
            r#"kubectl c8dr * --bucket "bucket;id""#,
            r#"kubectl c8dr * --location "/shared\n/x""#,
            r#"kubectl c8dr * --base-path *"#,
            r#"kubectl c8dr * --client *"#,
        ],
        "repository settings (S3 bucket-naming rules, control characters, an empty or blank client name) are not checked before the cluster is read: `es repo register` registers them (the simulated S3 accepts any bucket), `es copy` is refused later (exit 3), `failback` reports the installation's state",
    ),
    (
        &[r#"kubectl c8dr failback --yes --es-password-env *"#],
        "failback checks its ES password variable only when it reaches the copy step, after reading the cluster",
    ),
    (
        &[r#"S3_BUCKET_NAME=*"#],
        "S3_BUCKET_NAME is not checked against the S3 bucket-naming rules before the first call",
    ),
    (
        &[r#"CAMUNDA_CLIENT_AUTH_METHOD=oidc * CAMUNDA_CLIENT_AUTH_TOKEN_URL=notaurl *"#],
        "the OIDC token URL is checked only when a token is needed, after the kube API was called",
    ),
    (
        &[r#"REGION_RECREATED=region0 kubectl c8dr *"#],
        "REGION_SURVIVING and REGION_RECREATED naming one region is not detected",
    ),
    (
        &[
            r#"helm c8dr redeploy --yes -f huge.yml [huge.yml: Huge]"#,
            r#"helm c8dr redeploy --yes --region-values region0=huge.yml [huge.yml: Huge]"#,
        ],
        "no size limit: a values file over 1 MiB (more than a Kubernetes Secret holds; real ones are a few KiB) is parsed for seconds (a minute in a debug build on a loaded machine) and passed to helm",
    ),
    (
        &[
            r#"*kubectl c8dr * [list.yml: List]"#,
            r#"*kubectl c8dr * [scalar.yml: Scalar]"#,
            r#"*kubectl c8dr * [malformed.yml: Malformed]"#,
        ],
        "exit 2 and no call, but the kubeconfig's YAML error is printed over several lines (a source snippet)",
    ),
    (
        &[r#"helm c8dr overlay --keep-overlay camunda-values.yml"#],
        "`overlay` ignores --keep-overlay (it writes no file), so a file given as the directory is not refused",
    ),
];

/// Whether `id` matches `pattern`, where `*` matches any text (anchored at both ends).
pub fn matches(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return id.is_empty(),
    };
    let Some(mut tail) = id.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

#[test]
fn patterns_match_as_globs() {
    assert!(matches(
        "kubectl c8dr * --context nowhere",
        "kubectl c8dr status --yes --context nowhere"
    ));
    assert!(!matches(
        "kubectl c8dr * --context nowhere",
        "kubectl c8dr status --context nowhere2"
    ));
    assert!(matches("a*b*c", "abc"));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
    assert!(!matches("ab*ba", "aba"));
}
