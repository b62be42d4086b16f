//! The journal and `kubectl c8dr history` (docs/output.md "The journal"): a failback run with
//! the drivers leaves a journal whose timeline shows every step and both windows; a run killed
//! between a start and its outcome leaves an entry that says so; a journal that cannot be
//! written does not stop a command.

use c8dr_e2e::TestEnv;
use serde_json::Value;

fn entries(doc: &Value) -> Vec<Value> {
    doc["entries"].as_array().cloned().unwrap_or_default()
}

fn window<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["name"] == name))
        .unwrap_or_else(|| panic!("no {name} window: {doc:#}"))
}

#[test]
fn a_failback_with_the_drivers_shows_its_steps_and_both_windows_in_history() {
    let env = TestEnv::builder()
        .start()
        .scripted()
        .failed_over_and_recreated()
        .helm_failback_steps();
    // The driver ends with the timeline of what it just did.
    env.c8dr("failback")
        .success()
        .stdout_has("failback 3: exporting pause")
        .stdout_has("failback 7: brokers add")
        .stdout_has("exporting paused");
    env.helm("redeploy --region both --yes").success();
    let text = env.c8dr("history").success();
    for line in [
        "failover 1: brokers remove",
        "failover 2: exporters disable",
        "helm upgrade, webapps off",
        "failback 3: exporting pause",
        "failback 4: es copy",
        "failback 5: exporters enable",
        "failback 6: exporting resume",
        "failback 7: brokers add",
        "helm upgrade, webapps on",
        "webapps off",
        "exporting paused",
    ] {
        assert!(text.stdout.contains(line), "{line}: {}", text.stdout);
    }
    assert!(!text.stdout.contains("still open"), "{}", text.stdout);
    let doc = env.c8dr("history -o json").success().json();
    assert_eq!(doc["kind"], "History");
    let all = entries(&doc);
    assert!(
        all.iter().all(|e| e["outcome"] != "started, no outcome"),
        "{doc:#}"
    );
    // The webapps were off from the surviving region's redeploy without them (step 2; the
    // recreated region's install turns nothing off) to the end of the last redeploy.
    let off = all
        .iter()
        .find(|e| e["command"] == "helm upgrade, webapps off" && e["region"] == "region0")
        .expect("step 2's upgrade");
    let webapps = window(&doc, "webapps off");
    assert_eq!(webapps["startedAt"], off["startedAt"]);
    assert_eq!(webapps["open"], false);
    let on_ends: Vec<&Value> = all
        .iter()
        .filter(|e| e["command"] == "helm upgrade, webapps on")
        .map(|e| &e["endedAt"])
        .collect();
    assert!(on_ends.contains(&&webapps["endedAt"]), "{doc:#}");
    // Exporting was paused from the pause to the end of the resume.
    let by_step = |s: &str| {
        all.iter()
            .find(|e| e["step"] == s)
            .unwrap_or_else(|| panic!("{s}: {doc:#}"))
            .clone()
    };
    let paused = window(&doc, "exporting paused");
    assert_eq!(paused["startedAt"], by_step("failback 3")["startedAt"]);
    assert_eq!(paused["endedAt"], by_step("failback 6")["endedAt"]);
    assert!(paused["seconds"].as_f64() < webapps["seconds"].as_f64());
    // The change id of the re-add is in the journal.
    assert!(by_step("failback 7")["changeId"].is_number(), "{doc:#}");
    // --since: a time after everything shows nothing, and says so.
    env.c8dr("history --since 2099-01-01T00:00:00Z")
        .success()
        .stdout_has("no mutation in");
    env.c8dr("history --since yesterday")
        .code(2)
        .stderr_has("--since");
}

#[test]
fn history_without_a_journal_says_so() {
    let env = TestEnv::builder().start();
    env.c8dr("history").success().stdout_has("no journal at");
    let doc = env.c8dr("history -o json").success().json();
    assert_eq!(doc["found"], false);
    assert_eq!(entries(&doc).len(), 0);
    // A read-only command journals nothing.
    env.c8dr("status").success();
    env.c8dr("history").success().stdout_has("no journal at");
}

#[test]
fn a_run_killed_between_a_start_and_its_outcome_leaves_a_visible_unfinished_entry() {
    let env = TestEnv::builder()
        .config(|c| c.es_shard_duration = std::time::Duration::from_millis(80))
        .start()
        .scripted()
        .failed_over_and_recreated()
        .helm_failback_steps();
    let mut child = env
        .command(
            "kubectl",
            vec!["c8dr".into(), "failback".into(), "--no-pre-copy".into()],
        )
        .spawn();
    env.wait_for_state("during the Elasticsearch copy", |s| {
        s["exporting"] == "Paused"
    });
    // Give the copy's start line time to be written after the pause's end line.
    let journal = env.home.path().join(".local/state/c8dr/journal.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .contains("\"es copy\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy was never journaled"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill(); // SIGKILL: nothing is put back, nothing more written
    let _ = child.wait();
    let run = env.c8dr("history").success();
    let copy = run
        .stdout
        .lines()
        .find(|l| l.contains("failback 4: es copy"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(copy.contains("started, no outcome"), "{copy}");
    assert!(copy.contains('░'), "{copy}");
    assert!(
        run.stdout.contains("window (still open)"),
        "exporting is still paused: {}",
        run.stdout
    );
    let doc = env.c8dr("history -o json").success().json();
    let copy = entries(&doc)
        .into_iter()
        .find(|e| e["step"] == "failback 4" && e["command"] == "es copy")
        .expect("the copy's entry");
    assert!(
        copy["seconds"].is_null() && copy["endedAt"].is_null(),
        "{copy:#}"
    );
    assert_eq!(window(&doc, "exporting paused")["open"], true);
}

#[test]
fn a_journal_that_cannot_be_written_warns_once_and_the_command_goes_on() {
    let mut env = TestEnv::builder().start().scripted();
    // A directory that cannot be made (a regular file is in the way; root cannot either).
    let blocker = env.home.path().join("not-a-dir");
    std::fs::write(&blocker, "x").expect("file");
    env.set_env(
        "C8DR_JOURNAL",
        blocker.join("journal.jsonl").display().to_string(),
    );
    let run = env.c8dr("exporting pause").success();
    assert_eq!(
        run.stderr.matches("the journal cannot be written").count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(env.state()["exporting"], "Paused");
    env.c8dr("exporting resume").success();
}
