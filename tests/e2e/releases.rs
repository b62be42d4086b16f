//! Every Camunda release an operator runs (8.8, 8.9, 8.10), detected from the installation and
//! never guessed: `status` shows what was read; an installation c8dr does not support (RDBMS
//! secondary storage, three zones) is refused before any change, naming what to follow instead
//! (docs/contract.md §4 rule 13); a zone-aware 8.10 cluster goes through the Zones API.

use c8dr_e2e::{TestEnv, count_requests};
use c8dr_sim::SecondaryStorage;

/// Requests that change something (anything but GET), by path part.
fn mutations(env: &TestEnv) -> usize {
    let s = env.state();
    ["PATCH", "POST", "PUT", "DELETE"]
        .iter()
        .map(|m| count_requests(&s, m, "/"))
        .sum()
}

#[test]
fn status_shows_the_release_chart_and_search_engine_of_each_release() {
    for (release, version, chart, search) in [
        ("8.8", "8.8.", "camunda-platform-13.", "Bitnami subchart"),
        ("8.9", "8.9.", "camunda-platform-14.", "ECK (cluster"),
        ("8.10", "8.10.", "camunda-platform-15.", "ECK (cluster"),
    ] {
        let env = TestEnv::builder().camunda(release).start();
        let run = env.c8dr("status").success();
        run.clone()
            .stdout_has(&format!("release: Camunda {version}"))
            .stdout_has(chart)
            .stdout_has(search)
            .stdout_has("supported");
        let doc = env.c8dr("status -o json").success().json();
        assert_eq!(doc["release"]["supported"], true, "{release}");
        assert_eq!(doc["release"]["line"], release, "{release}");
        assert_eq!(
            doc["release"]["installation"]["identity"]["kind"], "numbered",
            "{release}"
        );
        let eck = doc["release"]["installation"]["regions"][0]["search"].clone();
        assert_eq!(eck["kind"] == "eck", release != "8.8", "{release}: {eck}");
    }
}

#[test]
fn an_rdbms_installation_is_refused_before_any_change_with_its_runbook() {
    let env = TestEnv::builder()
        .camunda("8.10")
        .config(|c| c.secondary_storage = SecondaryStorage::Rdbms)
        .start();
    env.lose_region(1);
    let before = mutations(&env);
    for line in [
        "failover --yes",
        "brokers remove --odd --yes",
        "exporters disable camundaregion1 --yes",
        "brokers remove --odd --dry-run",
    ] {
        env.c8dr(line)
            .code(3)
            .stderr_has("Multi-Region RDBMS")
            .stderr_has("not one c8dr supports");
    }
    assert_eq!(mutations(&env), before, "nothing was sent");
    let doc = env.c8dr("status -o json").success().json();
    assert_eq!(doc["release"]["supported"], false);
    assert!(
        doc["release"]["refusal"]
            .as_str()
            .is_some_and(|r| r.contains("RDBMS")),
        "{}",
        doc["release"]
    );
    assert_eq!(
        doc["procedure"]["next"],
        serde_json::Value::Null,
        "status suggests no command that would be refused"
    );
}

/// Every mutating request's method and path (with its query), in order.
fn sent(env: &TestEnv) -> Vec<String> {
    env.state()["requests"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|r| r["method"] != "GET")
                .filter(|r| !r["path"].as_str().unwrap_or("").contains("dryRun"))
                .map(|r| {
                    format!(
                        "{} {}",
                        r["method"].as_str().unwrap_or(""),
                        r["path"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A zone-aware 8.10 cluster (docs/zone-aware.md): the same procedure, with the Zones API where
/// the numbered one sends broker ids — the lost region's zone force-removed, then re-added with
/// the replicas and priority of the installation's configuration — never a PATCH by broker id
/// (whose ids would not be the zone's brokers) nor a replication factor (the zones decide it).
#[test]
fn a_zone_aware_cluster_fails_over_and_back_through_the_zones_api() {
    // The simulator's zones: region 0 runs us-east1, region 1 eu-west1 (names that do not
    // follow the region order, so nothing can be guessed from them).
    for (lost, zone, other) in [(1, "eu-west1", "us-east1"), (0, "us-east1", "eu-west1")] {
        let env = TestEnv::builder()
            .camunda("8.10")
            .config(|c| c.zone_aware = true)
            .surviving(1 - lost)
            .start()
            .scripted();
        let doc = env.c8dr("status -o json").success().json();
        assert_eq!(doc["release"]["supported"], true, "{}", doc["release"]);
        assert_eq!(
            doc["release"]["installation"]["identity"]["kind"],
            "zoneAware"
        );
        env.lose_region(lost);
        let parity = if lost == 1 { "odd" } else { "even" };
        // The plan names the zone and its brokers as the cluster does; nothing is sent.
        env.c8dr(&format!("brokers remove --{parity} --dry-run"))
            .success()
            .stdout_has(&format!("DELETE /actuator/cluster/zones/{zone}?force=true"))
            .stdout_has(&format!("{zone}_0"));
        assert!(sent(&env).is_empty(), "{:?}", sent(&env));
        // A region's brokers leave together: a part of the zone is refused.
        env.c8dr(&format!("brokers remove --ids {lost}"))
            .code(2)
            .stderr_has("whole zone");
        // The failover's plan is the gateway's dry run of the zone removal, in the cluster's
        // ids (attack A2: a dry-run PATCH by c8dr's numbers was refused, the plan missing).
        env.c8dr("failover --dry-run=server")
            .success()
            .stdout_has("the gateway plans")
            .stdout_has(&format!("brokers {zone}_0, "))
            .stdout_lacks("dry run of the removal failed");
        env.c8dr("failover").success();
        let removal = format!("DELETE /actuator/cluster/zones/{zone}?force=true");
        assert_eq!(
            sent(&env).iter().filter(|r| **r == removal).count(),
            1,
            "{:?}",
            sent(&env)
        );
        // A re-run is done already: nothing is sent twice.
        let before = sent(&env).len();
        env.c8dr("failover").success();
        assert_eq!(sent(&env).len(), before, "{:?}", sent(&env));
        env.c8dr("status")
            .success()
            .stdout_has(&format!("{other}_0"));

        env.recreate_region(lost);
        let env = env.helm_failback_steps();
        env.c8dr("failback").success();
        let add = format!("POST /actuator/cluster/zones/{zone}");
        let requests = sent(&env);
        assert_eq!(
            requests.iter().filter(|r| **r == add).count(),
            1,
            "{requests:?}"
        );
        assert!(
            !requests
                .iter()
                .any(|r| r.starts_with("PATCH /actuator/cluster")),
            "no broker-id change on a zone-aware cluster: {requests:?}"
        );
        let state = env.state();
        let body = state["requests"]
            .as_array()
            .and_then(|r| {
                r.iter()
                    .find(|r| r["method"] == "POST" && r["path"] == add.trim_start_matches("POST "))
            })
            .map(|r| r["body"].clone())
            .unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"numberOfReplicas": 2, "priority": if lost == 0 { 100 } else { 90 },
                "brokers": (0..4).map(|n| format!("{zone}_{n}")).collect::<Vec<_>>()}),
            "the zone as the configuration lists it"
        );
        env.helm("redeploy --region both").success();
        env.c8dr("status").success().stdout_has("healthy");
        let doc = env.c8dr("status -o json").success().json();
        assert_eq!(doc["cluster"]["replicationFactor"], 4, "{}", doc["cluster"]);
    }
}

/// A physical tenant removed from the configuration stays in the cluster, disabled, holding
/// partitions: every removal is refused by the cluster (camunda/camunda#60344). c8dr refuses
/// the failover before sending anything and names what discards the tenant; it does not
/// discard it itself.
#[test]
fn a_disabled_physical_tenant_refuses_the_failover_before_any_change() {
    let env = TestEnv::builder()
        .camunda("8.10")
        .config(|c| c.disabled_tenant = Some("tenanta".into()))
        .start()
        .scripted();
    env.lose_region(1);
    for line in [
        "failover",
        "brokers remove --odd",
        "brokers remove --odd --dry-run",
    ] {
        env.c8dr(line)
            .code(3)
            .stderr_has("tenanta")
            .stderr_has("DELETE /actuator/cluster/physical-tenants/<id>?force=true");
    }
    assert!(sent(&env).is_empty(), "{:?}", sent(&env));
    // status shows the tenant and does not suggest the removal the cluster would refuse.
    let doc = env.c8dr("status -o json").success().json();
    assert_eq!(
        doc["procedure"]["next"],
        serde_json::Value::Null,
        "{}",
        doc["procedure"]
    );
    assert!(
        doc["notes"].to_string().contains("tenanta"),
        "{}",
        doc["notes"]
    );
}

/// The values layout the docs use, written into the test's working directory.
fn values_layout(env: &TestEnv) {
    std::fs::write(env.cwd.join("camunda-values.yml"), "{}\n").expect("values");
    for r in 0..2 {
        std::fs::create_dir_all(env.cwd.join(format!("region{r}"))).expect("dir");
        std::fs::write(
            env.cwd.join(format!("region{r}/camunda-values.yml")),
            "{}\n",
        )
        .expect("values");
    }
}

/// Whether the helm stand-in was asked to upgrade anything.
fn upgrades(env: &TestEnv) -> Vec<String> {
    env.helm_calls()
        .into_iter()
        .map(|argv| argv.join(" "))
        .filter(|l| l.contains("upgrade"))
        .collect()
}

/// `helm c8dr redeploy` passes the gate every kubectl c8dr mutating command passes
/// (docs/contract.md §4 rule 13): an RDBMS installation is not upgraded, in `--dry-run` neither,
/// and the operator is not left with the surviving region's webapps off.
#[test]
fn helm_redeploy_refuses_what_kubectl_c8dr_refuses_before_helm_runs() {
    let env = TestEnv::builder()
        .camunda("8.10")
        .config(|c| c.secondary_storage = SecondaryStorage::Rdbms)
        .start();
    values_layout(&env);
    env.lose_region(1);
    env.recreate_region(1);
    for line in [
        "redeploy --region recreated --no-webapps --no-schema-manager --yes",
        "redeploy --region surviving --no-webapps --yes",
        "redeploy --region both --dry-run",
    ] {
        env.helm(line)
            .code(3)
            .stderr_has("Multi-Region RDBMS")
            .stderr_has("nothing upgraded");
    }
    assert_eq!(upgrades(&env), Vec::<String>::new());
}

/// A pinned chart version of another major than the installed one (a `HELM_CHART_VERSION` left
/// exported from another installation) is a Camunda upgrade or downgrade, not a failback step:
/// refused before helm runs, in `--dry-run` too; the installed major pinned runs.
#[test]
fn helm_redeploy_refuses_a_pinned_chart_major_that_is_not_the_installed_one() {
    let mut env = TestEnv::builder().camunda("8.10").start();
    values_layout(&env);
    env.helm("redeploy --region surviving --no-webapps --version 13.12.7 --yes")
        .code(3)
        .stderr_has("chart 13.x")
        .stderr_has("camunda-platform-15.")
        .stderr_has("downgrade")
        .stderr_has("Unset --version");
    env.set_env("HELM_CHART_VERSION", "13.12.7");
    env.helm("redeploy --region both --dry-run")
        .code(3)
        .stderr_has("HELM_CHART_VERSION");
    assert_eq!(upgrades(&env), Vec::<String>::new());
    env.set_env("HELM_CHART_VERSION", "15.0.0-alpha4");
    env.helm("redeploy --region both --dry-run").success();
    // A range that admits another major (or is open on one side) is refused the same way:
    // helm would resolve it to another major (attack A5). One within the installed major runs.
    for range in ["<15", "13.x || 14.x", "<=14.99", ">=16", ">=15", "*"] {
        env.helm_c8dr([
            "redeploy",
            "--region",
            "surviving",
            "--no-webapps",
            "--version",
            range,
            "--dry-run",
        ])
        .code(3)
        .stderr_has("does not pin one chart major");
    }
    env.remove_env("HELM_CHART_VERSION");
    env.helm_c8dr([
        "redeploy",
        "--region",
        "surviving",
        "--no-webapps",
        "--version",
        "15.x",
        "--dry-run",
    ])
    .success();
    assert_eq!(upgrades(&env), Vec::<String>::new());
}

/// `PATCH /actuator/cluster?force=true` by broker ids, sent as an operator following the numbered
/// docs by hand would (a raw HTTP/1.1 request: the tests need no HTTP client crate).
fn force_remove_by_ids(env: &TestEnv, region: usize, ids: &[&str]) {
    use std::io::{Read, Write};
    let host = env
        .gateway_url(region)
        .trim_start_matches("http://")
        .to_string();
    let body = serde_json::json!({"brokers": {"remove": ids}}).to_string();
    let mut stream = std::net::TcpStream::connect(&host).expect("management port");
    write!(
        stream,
        "PATCH /actuator/cluster?force=true HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.get(..12).unwrap_or_default();
    assert!(status.starts_with("HTTP/1.1 20"), "{status}");
}

/// Attack A4: a zone removed by broker ids (the numbered docs followed by hand) stays in the
/// cluster's layout, and the Zones API cannot re-add it: the failback refuses before its first
/// mutation, in a dry run too, instead of pausing, copying and enabling first.
#[test]
fn a_failback_that_could_not_re_add_the_zone_refuses_before_pausing() {
    let env = TestEnv::builder()
        .camunda("8.10")
        .config(|c| c.zone_aware = true)
        .start()
        .scripted();
    env.lose_region(1);
    force_remove_by_ids(
        &env,
        0,
        &["eu-west1_0", "eu-west1_1", "eu-west1_2", "eu-west1_3"],
    );
    env.wait_for_state("the removal by ids done", |s| s["pendingChange"].is_null());
    env.c8dr("exporters disable camundaregion1").success();
    env.recreate_region(1);
    let env = env.helm_failback_steps();
    for line in ["failback --dry-run", "failback"] {
        env.c8dr(line)
            .code(3)
            .stderr_has("is in the cluster's layout but brokers");
    }
    let s = env.state();
    assert_eq!(s["exporting"], "Running", "nothing was paused: {s:#}");
    assert_eq!(
        count_requests(&s, "POST", "/actuator/exporting/pause"),
        0,
        "{s:#}"
    );
}
