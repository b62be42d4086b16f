//! Every Camunda release an operator runs (8.8, 8.9, 8.10), detected from the installation and
//! never guessed: `status` shows what was read; an installation c8dr does not support (RDBMS
//! secondary storage, zone-aware brokers) is refused before any change, naming what to follow
//! instead (docs/contract.md §4 rule 13).

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

#[test]
fn zone_aware_brokers_are_refused_before_any_change_naming_the_zones_api() {
    let env = TestEnv::builder()
        .camunda("8.10")
        .config(|c| c.zone_aware = true)
        .start();
    env.lose_region(1);
    let before = mutations(&env);
    for line in ["failover --yes", "exporting pause --yes"] {
        env.c8dr(line)
            .code(3)
            .stderr_has("zone-aware")
            .stderr_has("/actuator/cluster/zones/");
    }
    assert_eq!(mutations(&env), before, "nothing was sent");
}
