//! `kubectl c8dr preflight` end to end: the fire drill on a healthy installation passes, and each
//! thing a failover or failback would trip over (a denied permission, wrong REST credentials, a
//! lost region, two regions that are one cluster) is a named problem with its fix and a non-zero
//! exit, without hanging and without sending a single mutating request.

use std::time::{Duration, Instant};

use c8dr_e2e::{Run, TestEnv, count_requests};
use c8dr_sim::server::LoggedRequest;
use serde_json::Value;

fn healthy() -> TestEnv {
    let mut env = TestEnv::start();
    env.set_env("S3_BUCKET_NAME", "camunda-bucket");
    env
}

/// The check `name` of `region` (`None`: of the whole installation) in a Preflight document.
fn check<'a>(doc: &'a Value, name: &str, region: Option<&str>) -> &'a Value {
    doc["checks"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["check"] == name && c["region"].as_str() == region)
        })
        .unwrap_or_else(|| panic!("no check {name} {region:?} in {doc:#}"))
}

fn problems(doc: &Value) -> Vec<String> {
    doc["checks"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|c| c["result"] == "problem")
                .map(|c| format!("{} {}", c["check"], c["region"]))
                .collect()
        })
        .unwrap_or_default()
}

/// `%XX` decoded (the exec request's query carries the command's argv that way).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let v = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match v {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The requests of `log` that could change something: anything but a GET, except an access
/// review (a question, stored nowhere) and an exec whose curl reads (no `-X`, or `-X GET`) or
/// verifies the snapshot repository (`POST _snapshot/<repo>/_verify`, the check asked for).
fn mutations(log: &[LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| {
            let path = r.target.split('?').next().unwrap_or_default();
            if path.ends_with("/exec") {
                let argv: Vec<String> = r
                    .target
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or_default()
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("command="))
                    .map(percent_decoded)
                    .collect();
                let method = argv
                    .iter()
                    .position(|a| a == "-X" || a == "--request")
                    .and_then(|i| argv.get(i + 1))
                    .map(String::as_str)
                    .unwrap_or("GET");
                let url = argv.last().map(String::as_str).unwrap_or_default();
                return !(method == "GET" || (method == "POST" && url.ends_with("/_verify")));
            }
            if r.method == "POST"
                && path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
            {
                return false;
            }
            r.method != "GET"
        })
        .map(|r| format!("{} {} {}", r.listener, r.method, r.target))
        .collect()
}

#[test]
fn a_healthy_installation_passes_every_check_and_nothing_is_changed() {
    let env = healthy();
    let before = env.requests().len();
    let zeebe_before = env.state();
    let run = env.c8dr("preflight").success();
    for line in [
        "context",
        "distinct",
        "permissions",
        "rest-credentials",
        "management",
        "search-engine",
        "snapshot-repository",
        "helm",
        "release",
        "exporters",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(line) && l.contains(" ok ")),
            "no ok line for {line}:\n{}",
            run.stdout
        );
    }
    run.stdout_lacks("PROBLEM")
        .stdout_has("all 16 checks passed")
        .stdout_has("all 30 permissions of the RBAC table granted")
        .stdout_has("camundaregion0 and camundaregion1 enabled");

    let log = env.requests();
    let sent = &log[before..];
    // Every permission was asked of both API servers, and nothing was changed anywhere.
    let reviews = sent
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.target.split('?').next()
                    == Some("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        })
        .count();
    assert_eq!(reviews, 60, "30 permissions in each region");
    assert!(
        sent.iter().any(|r| r.target.contains("/exec?")),
        "the search engine was reached through exec"
    );
    assert_eq!(mutations(sent), Vec::<String>::new(), "read-only");
    let after = env.state();
    for method in ["POST", "PATCH", "PUT", "DELETE"] {
        assert_eq!(
            count_requests(&after, method, "/"),
            count_requests(&zeebe_before, method, "/"),
            "no {method} reached a broker"
        );
    }
    // helm was only asked its version.
    let helm: Vec<Vec<String>> = env.helm_calls();
    assert!(
        helm.iter()
            .all(|argv| argv.first().map(String::as_str) == Some("version")),
        "{helm:?}"
    );

    let doc = env.c8dr("preflight -o json").success().json();
    assert_eq!(doc["kind"], "Preflight");
    assert_eq!(doc["ready"], true);
    assert_eq!(problems(&doc), Vec::<String>::new());
}

/// The log's read-only check can fail: it sees a registration, a pause and a helm apply.
#[test]
fn the_read_only_check_sees_a_mutation() {
    let env = healthy();
    let before = env.requests().len();
    env.c8dr("exporting pause --yes").success();
    env.c8dr("es repo register --yes").success();
    let sent = env.requests();
    let found = mutations(&sent[before..]);
    assert!(found.iter().any(|m| m.contains("exporting")), "{found:?}");
    assert!(found.iter().any(|m| m.contains("/exec")), "{found:?}");
}

#[test]
fn a_denied_permission_is_named_with_what_needs_it() {
    let env = healthy();
    {
        let mut w = env.sim.world().lock();
        w.faults
            .denied_permissions
            .insert("create pods/exec".to_string());
        w.faults
            .denied_permissions
            .insert("patch statefulsets.apps".to_string());
    }
    let run = env.c8dr("preflight").code(1);
    run.stdout_has("PROBLEM")
        .stdout_has("create pods/exec (es commands")
        .stdout_has("patch statefulsets.apps (helm c8dr redeploy")
        .stdout_has("RBAC in a real cluster")
        .stderr_has("preflight: 2 of 16 checks found a problem");
    let doc = env.c8dr("preflight -o json").code(1).json();
    assert_eq!(doc["ready"], false);
    assert_eq!(
        problems(&doc),
        vec!["\"permissions\" \"region0\"", "\"permissions\" \"region1\""]
    );
    let c = check(&doc, "permissions", Some("region1"));
    let detail = c["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("create pods/exec"), "{detail}");
    assert!(
        !detail.contains("list pods"),
        "only the denied ones: {detail}"
    );
}

#[test]
fn wrong_rest_credentials_fail_the_credentials_check_with_the_fix() {
    let mut env = healthy();
    env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", "not-the-password");
    let doc = env.c8dr("preflight -o json").code(1).json();
    assert_eq!(
        problems(&doc),
        vec![
            "\"rest-credentials\" \"region0\"",
            "\"rest-credentials\" \"region1\""
        ]
    );
    let c = check(&doc, "rest-credentials", Some("region0"));
    let detail = c["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("refused the credentials"), "{detail}");
    assert!(detail.contains("401"), "{detail}");
    let fix = c["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("CAMUNDA_CLIENT_AUTH_USERNAME"), "{fix}");
    // The password is never shown.
    let text = env.c8dr("preflight").code(1);
    text.output_lacks("not-the-password");
}

#[test]
fn a_lost_region_fails_its_checks_within_the_timeout() {
    let env = healthy();
    env.lose_region(1);
    let started = Instant::now();
    let run: Run = env
        .command(
            "kubectl",
            ["c8dr", "preflight", "-o", "json", "--timeout", "5s"]
                .into_iter()
                .map(Into::into)
                .collect(),
        )
        .run_within(Duration::from_secs(60))
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded by --timeout: {:?}",
        started.elapsed()
    );
    let doc = run.json();
    for name in [
        "context",
        "permissions",
        "rest-credentials",
        "management",
        "search-engine",
        "snapshot-repository",
    ] {
        assert_eq!(
            check(&doc, name, Some("region1"))["result"],
            "problem",
            "{name}"
        );
        assert_eq!(
            check(&doc, name, Some("region0"))["result"],
            "ok",
            "{name}: {doc:#}"
        );
    }
    assert_eq!(check(&doc, "release", None)["result"], "problem");
    let release = check(&doc, "release", None)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(release.contains("region1 could not be read"), "{release}");
}

#[test]
fn two_regions_that_are_one_cluster_are_a_problem_not_a_refusal() {
    let mut env = healthy();
    let context0 = env
        .env
        .iter()
        .find(|(k, _)| k == "CLUSTER_0")
        .map(|(_, v)| v.clone())
        .expect("CLUSTER_0");
    env.set_env("CLUSTER_1", context0.clone());
    env.set_env("CLUSTER_RECREATED", context0);
    let doc = env.c8dr("preflight -o json").code(1).json();
    let c = check(&doc, "distinct", None);
    assert_eq!(c["result"], "problem");
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("two regions cannot be one cluster"),
        "{c:#}"
    );
    // Every other command still refuses it before any call (docs/contract.md §4 rule 2b).
    env.c8dr("status").code(2);
}

#[test]
fn a_registered_repository_is_verified_and_a_failing_verification_is_a_problem() {
    let env = healthy();
    env.c8dr("es repo register --yes").success();
    let doc = env.c8dr("preflight -o json").success().json();
    let c = check(&doc, "snapshot-repository", Some("region0"));
    let detail = c["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("registered (s3), _verify passed"),
        "{detail}"
    );
    // A registration es copy would refuse (another bucket) is named before it is needed.
    env.c8dr("preflight --bucket other-bucket")
        .code(1)
        .stdout_has("other settings");
    env.sim.world().lock().faults.repo_verify_fails = true;
    let doc = env.c8dr("preflight -o json").code(1).json();
    let c = check(&doc, "snapshot-repository", Some("region0"));
    assert_eq!(c["result"], "problem", "{c:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("failed verification"),
        "{c:#}"
    );
}

/// No bucket at all is a check's problem (the fire drill reports it); a bad repository flag is
/// bad input, exit 2 before any call, as for es copy.
#[test]
fn no_bucket_is_a_problem_and_a_bad_bucket_is_bad_input() {
    let env = TestEnv::start();
    let doc = env.c8dr("preflight -o json").code(1).json();
    assert_eq!(
        problems(&doc),
        vec![
            "\"snapshot-repository\" \"region0\"",
            "\"snapshot-repository\" \"region1\""
        ]
    );
    let fix = check(&doc, "snapshot-repository", Some("region1"))["fix"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fix.contains("S3_BUCKET_NAME"), "{fix}");
    let before = env.requests().len();
    env.c8dr("preflight --bucket Bad_Bucket")
        .code(2)
        .stderr_has("--bucket");
    assert_eq!(env.requests().len(), before, "no call");
}

/// API servers that accept and never answer in time (a black-holed region, not a refused port):
/// every check is bounded by --timeout, the drill ends with problems instead of hanging.
#[test]
fn api_servers_that_do_not_answer_are_problems_within_the_timeout() {
    let env = healthy();
    env.sim.world().lock().faults.kube_api_delay = Some(Duration::from_secs(120));
    let started = Instant::now();
    let run = env
        .command(
            "kubectl",
            ["c8dr", "preflight", "-o", "json", "--timeout", "2s"]
                .into_iter()
                .map(Into::into)
                .collect(),
        )
        .run_within(Duration::from_secs(60))
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded by --timeout 2s: {:?}",
        started.elapsed()
    );
    let doc = run.json();
    for region in ["region0", "region1"] {
        let c = check(&doc, "context", Some(region));
        assert_eq!(c["result"], "problem", "{c:#}");
    }
}
