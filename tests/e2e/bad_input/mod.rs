//! The bad-input suite (issue 13 item 1, docs/contract.md §4 rule 8): cases generated from both binaries'
//! `--help`, plus files, the environment variables of docs/contract.md §2 and conflicting flags. Each case
//! runs the real binary against its own simulator with its own HOME (`kubectl c8dr` through the
//! real kubectl for files, variables and conflicts; the generated flag cases run `kubectl-c8dr`
//! with the argv kubectl would pass it, which kubectl passes verbatim) and asserts:
//!
//! - exit code 2;
//! - one error line on stderr (clap's hints aside: `Usage:`, `[possible values: …]`, `tip:`,
//!   `For more information, try '--help'.`) naming the flag, variable or file, and for invalid
//!   YAML its line and column;
//! - no call to any cluster: the simulator's request log is empty (every kube API, gateway,
//!   REST, Elasticsearch and broker-pod request) and the helm stand-in ran no `helm upgrade`.
//!
//! Cases that do not meet this today are listed in [`exceptions::KNOWN_EXCEPTIONS`] with the reason; the
//! suite asserts that they still fail, so a fix shows up as "remove it from the list".
//!
//! Figures for docs/reliability.md: `cargo test -p c8dr-e2e --test e2e bad_input -- --nocapture`.

mod bounds;
mod cases;
mod exceptions;
mod non_utf8;
mod specials;
mod values;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use c8dr_e2e::{Run, TestEnv};
use cases::{Bin, Case, FileKind};

/// A case that has not exited by then is a failure of its own ("hung").
const CASE_LIMIT: Duration = Duration::from_secs(90);
/// The same for a case with a huge file: parsing one takes seconds, and a minute on a loaded
/// machine in a debug build.
const HUGE_CASE_LIMIT: Duration = Duration::from_secs(300);
/// The longest error line that is still one readable line.
const MAX_ERROR_LINE: usize = 1000;
/// Cases run in parallel, each with its own simulator.
const WORKERS: usize = 4;

/// Every case of the suite, and how many of them each source gave.
fn all_cases() -> (Vec<Case>, Vec<String>, String) {
    let (kubectl, helm) = cases::definitions();
    let (mut all, mut unclassified) = cases::generated(Bin::Kubectl, &kubectl);
    let (h, hu) = cases::generated(Bin::Helm, &helm);
    all.extend(h);
    unclassified.extend(hu);
    let mut sources = format!("{} generated from --help", all.len());
    for (name, part) in [
        ("files", specials::files()),
        ("environment variables", specials::env_vars()),
        ("conflicts", specials::conflicts()),
        ("input bounds", specials::input_bounds()),
    ] {
        sources.push_str(&format!(", {} {name}", part.len()));
        all.extend(part);
    }
    (all, unclassified, sources)
}

fn write_file(dir: &Path, name: &str, kind: FileKind, kubeconfig: &Path) {
    let path = dir.join(name);
    let written = match kind {
        FileKind::Directory => std::fs::create_dir_all(&path),
        FileKind::Binary => std::fs::write(
            &path,
            [0u8, 0x9f, 0x92, 0x96, 0xff, 0xfe, 0, b'\n'].repeat(512),
        ),
        FileKind::List => std::fs::write(&path, "- a\n- b\n"),
        FileKind::Scalar => std::fs::write(&path, "just a string\n"),
        // Line 3: a second ':' after a plain scalar value.
        FileKind::Malformed => std::fs::write(
            &path,
            "orchestration:\n  profiles:\n    operate: false: x\n",
        ),
        FileKind::Huge => {
            let mut s = String::with_capacity((1 << 20) + 64);
            let mut i = 0u64;
            while s.len() <= 1 << 20 {
                s.push_str(&format!("key{i}: value\n"));
                i += 1;
            }
            std::fs::write(&path, s)
        }
        FileKind::Fifo => std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .and_then(|s| {
                s.success()
                    .then_some(())
                    .ok_or_else(|| std::io::Error::other("mkfifo failed"))
            }),
        FileKind::Device => std::os::unix::fs::symlink("/dev/zero", &path),
        FileKind::EnvMap => std::fs::write(&path, "orchestration:\n  env:\n    FOO: bar\n"),
        FileKind::EnvScalar => std::fs::write(&path, "orchestration:\n  env: just-a-string\n"),
        FileKind::KubeconfigWithoutContext => {
            let text = std::fs::read_to_string(kubeconfig).expect("simulator kubeconfig");
            let start = text.find("contexts:").expect("contexts");
            let end = text.find("current-context:").expect("current-context");
            std::fs::write(
                &path,
                format!("{}contexts: []\n{}", &text[..start], &text[end..]),
            )
        }
    };
    written.unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Run one case in a fresh simulator; the problems found (none: the case passes).
fn run_case(case: &Case) -> (Vec<String>, Run) {
    let mut env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start();
    // The docs export the bucket too; a valid one, so that only the case's input is bad.
    env.set_env("S3_BUCKET_NAME", "camunda-bucket");
    for (name, kind) in &case.files {
        write_file(&env.cwd, name, *kind, &env.sim.kubeconfig);
    }
    for (k, v) in &case.env {
        match v {
            Some(v) => env.set_env(k, v.clone()),
            None => env.remove_env(k),
        }
    }
    let run = match case.bin {
        Bin::Kubectl if case.direct => {
            env.command("kubectl-c8dr", case.args.iter().map(Into::into).collect())
        }
        Bin::Kubectl => {
            let mut args = vec!["c8dr".into()];
            args.extend(case.args.iter().map(Into::into));
            env.command("kubectl", args)
        }
        Bin::Helm => env.command("helm-c8dr", case.args.iter().map(Into::into).collect()),
    }
    .run_within(limit(case));
    (problems(case, &run, &env), run)
}

fn limit(case: &Case) -> Duration {
    if case.files.iter().any(|(_, k)| *k == FileKind::Huge) {
        HUGE_CASE_LIMIT
    } else {
        CASE_LIMIT
    }
}

/// Lines of clap's that are hints, not errors.
fn is_hint(line: &str, after_usage: bool) -> bool {
    let t = line.trim();
    t.starts_with("For more information")
        || t.starts_with("Usage:")
        || t.starts_with("[possible values")
        || t.starts_with("tip:")
        || (after_usage && line.starts_with(' '))
}

fn problems(case: &Case, run: &Run, env: &TestEnv) -> Vec<String> {
    let mut p = vec![];
    if run.killed {
        p.push(format!("hung (killed after {:?})", limit(case)));
    } else if run.code != 2 {
        p.push(format!("exit {}", run.code));
    }
    let mut errors = vec![];
    let mut after_usage = false;
    for line in run.stderr.lines().filter(|l| !l.trim().is_empty()) {
        if is_hint(line, after_usage) {
            after_usage |= line.trim().starts_with("Usage:");
            continue;
        }
        after_usage = false;
        errors.push(line);
    }
    match errors.first() {
        None => p.push("no error line".into()),
        Some(first) => {
            let lower = first.to_lowercase();
            if !case
                .names
                .iter()
                .any(|n| first.contains(n.as_str()) || lower.contains(&n.to_lowercase()))
            {
                p.push(format!("the error line names none of {:?}", case.names));
            }
            if let Some(line) = case.yaml_line {
                let named =
                    first.contains(&format!("line {line}")) || first.contains(&format!(":{line}:"));
                let column = lower.contains("column") || first.contains(&format!(":{line}:"));
                if !(named && column) {
                    p.push(format!("no line {line} and column in the error"));
                }
            }
        }
    }
    // Echoed input is cut to a readable length (a 120 KiB flag value was echoed whole).
    if let Some(long) = errors.iter().find(|l| l.chars().count() > MAX_ERROR_LINE) {
        p.push(format!(
            "an error line of {} characters (echoes its input whole)",
            long.chars().count()
        ));
    }
    if errors.len() > 1 {
        p.push(format!("{} error lines", errors.len()));
    }
    let requests = env.requests();
    if let Some(first) = requests.first() {
        p.push(format!(
            "reached the cluster: {} request(s), first {} {} {} (region {})",
            requests.len(),
            first.listener,
            first.method,
            first.target,
            first.region
        ));
    }
    let upgrades = env
        .helm_calls()
        .into_iter()
        .filter(|argv| argv.first().map(String::as_str) != Some("version"))
        .count();
    if upgrades > 0 {
        p.push(format!("ran helm {upgrades} time(s)"));
    }
    p
}

/// Run `cases` on [`WORKERS`] threads; results in case order.
fn run_all(cases: &[Case]) -> Vec<(Vec<String>, Run, Duration)> {
    // The slow ones (huge files) first, so that they overlap with the rest.
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by_key(|&i| !cases[i].files.iter().any(|(_, k)| *k == FileKind::Huge));
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let case = &cases[i];
                    let t = Instant::now();
                    let (p, run) = run_case(case);
                    let r = (p, run, t.elapsed());
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(i, r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_values()
        .collect()
}

#[test]
fn bad_input_is_exit_2_with_one_line_naming_it_and_no_call() {
    let started = Instant::now();
    let (cases, unclassified, sources) = all_cases();
    assert!(
        unclassified.is_empty(),
        "options with no bad values defined (add them to bad_input/values.rs): {unclassified:#?}"
    );
    let mut ids = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(ids.insert(c.id()), "two cases with one id: {}", c.id());
    }
    let results = run_all(&cases);

    let mut unexpected = vec![];
    let mut fixed = vec![];
    // Per exception pattern: the cases it matched that still fail.
    let mut still: Vec<Vec<(String, String)>> = vec![vec![]; exceptions::KNOWN_EXCEPTIONS.len()];
    let mut slowest: Vec<(Duration, String)> = cases
        .iter()
        .zip(&results)
        .map(|(c, r)| (r.2, c.id()))
        .collect();
    slowest.sort();
    for (case, (problems, run, _)) in cases.iter().zip(&results) {
        let id = case.id();
        let known = exceptions::KNOWN_EXCEPTIONS
            .iter()
            .position(|(patterns, _)| patterns.iter().any(|p| exceptions::matches(p, &id)));
        match (known, problems.is_empty()) {
            (None, true) => {}
            (None, false) => unexpected.push(format!(
                "{id}\n  ({}) {}\n  {}",
                case.what,
                problems.join("; "),
                run.context().replace('\n', "\n  ")
            )),
            (Some(_), true) => fixed.push(id),
            (Some(k), false) => still[k].push((id, problems.join("; "))),
        }
    }
    // C8DR_BAD_INPUT_LIST=FILE: every case with its verdict (`ok` or the problems), one a line.
    if let Some(path) = std::env::var_os("C8DR_BAD_INPUT_LIST") {
        let list: String = cases
            .iter()
            .zip(&results)
            .map(|(c, (p, _, _))| {
                let verdict = if p.is_empty() {
                    "ok".into()
                } else {
                    p.join("; ")
                };
                format!("{}\t{}\t{verdict}\n", c.id(), c.what)
            })
            .collect();
        std::fs::write(&path, list).expect("writing C8DR_BAD_INPUT_LIST");
    }
    let stale: Vec<&str> = exceptions::KNOWN_EXCEPTIONS
        .iter()
        .flat_map(|(patterns, _)| patterns.iter().copied())
        .filter(|p| !cases.iter().any(|c| exceptions::matches(p, &c.id())))
        .collect();
    let excepted: usize = still.iter().map(Vec::len).sum();
    let kubectl = cases.iter().filter(|c| c.bin == Bin::Kubectl).count();
    println!(
        "bad-input suite: {} cases ({kubectl} kubectl c8dr, {} helm c8dr): {} meet docs/contract.md §4 rule 8, {} known exceptions in {} groups, {} unexpected failures; {:.1} s",
        cases.len(),
        cases.len() - kubectl,
        cases.len() - excepted - unexpected.len(),
        excepted,
        still.iter().filter(|s| !s.is_empty()).count(),
        unexpected.len(),
        started.elapsed().as_secs_f64()
    );
    println!("sources: {sources}");
    for (d, id) in slowest.iter().rev().take(5) {
        println!("slowest: {:.1} s {id}", d.as_secs_f64());
    }
    println!("\n| cases | reason | e.g. | what the run shows |\n|---|---|---|---|");
    for ((_, reason), cases) in exceptions::KNOWN_EXCEPTIONS.iter().zip(&still) {
        if let Some((id, problems)) = cases.first() {
            println!(
                "| {} | {reason} | `{}` | {problems} |",
                cases.len(),
                id.replace('|', "\\|")
            );
        }
    }
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    assert!(
        stale.is_empty(),
        "exceptions for cases that no longer exist: {stale:#?}"
    );
    assert!(
        fixed.is_empty(),
        "these known exceptions meet docs/contract.md §4 rule 8 now: remove them from bad_input/exceptions.rs and docs/reliability.md: {fixed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} bad inputs do not meet docs/contract.md §4 rule 8 (exit 2, one line naming it, no call):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// The check "no call to any cluster" can fail: the base command of every case, with valid
/// input, does reach the simulator (or run helm).
#[test]
fn bad_input_base_commands_reach_the_cluster_when_the_input_is_valid() {
    let (kubectl, helm) = cases::definitions();
    let mut bases = vec![];
    for (bin, defs) in [(Bin::Kubectl, &kubectl), (Bin::Helm, &helm)] {
        for cmd in defs.iter().filter(|c| c.is_leaf()) {
            // completion, version, overlay and history (the local journal) reach no cluster
            // even with valid input.
            if ["completion", "version", "overlay", "history"].contains(&cmd.name().as_str()) {
                continue;
            }
            bases.push(Case {
                bin,
                args: cases::base_args(cmd, ""),
                env: vec![],
                files: vec![],
                names: vec![],
                yaml_line: None,
                what: "valid".into(),
                direct: false,
            });
        }
    }
    let results = run_all(&bases);
    for (case, (problems, run, _)) in bases.iter().zip(&results) {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("reached the cluster") || p.starts_with("ran helm")),
            "{} made no call with valid input: the no-call check would prove nothing\n{}",
            case.id(),
            run.context()
        );
    }
}
