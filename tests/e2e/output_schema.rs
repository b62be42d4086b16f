//! The JSON contract (issue 12 item 4, docs/output.md): every command that prints a document
//! with `-o json` (kubectl c8dr) and `-o yaml` is run against its own simulator through the real
//! binaries, and each document is validated against docs/schema/<kind>.json with the
//! `jsonschema` crate. The commands come from both binaries' `--help`: a command with `-o` that
//! has no case here fails the test, so a new command cannot ship without a documented kind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use c8dr_e2e::cli_help::{self, CliCommand};
use c8dr_e2e::{Run, TestEnv, bin_dir};
use serde_json::Value;

const BUCKET: &str = "camunda-bucket";
/// Cases run in parallel, each with its own simulator.
const WORKERS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bin {
    Kubectl,
    Helm,
}

/// Where a case starts from.
#[derive(Debug, Clone, Copy)]
enum Setup {
    Healthy,
    /// Region 1 lost.
    Lost,
    /// Region 1 lost, failover done, region 1 recreated (installed with the schema manager off).
    Recreated,
    /// [`Setup::Recreated`] and exporting paused: ready for failback 4.
    RecreatedPaused,
    /// [`Setup::Recreated`] after the helm steps 1 and 2 through helm c8dr: ready for `failback`.
    ReadyForFailback,
    /// The S3 repository registered in the surviving region.
    Repository,
    /// [`Setup::Repository`] with snapshot `snap-1`.
    Snapshot,
    /// [`Setup::RecreatedPaused`], snapshot `snap-1` taken, the repository registered read-only in
    /// the recreated region: ready for `es snapshot restore`.
    ReadyToRestore,
    /// A topology change stuck on a lost broker (change 1 pending).
    PendingChange,
    /// Exporter camundaregion1 disabled.
    ExporterDisabled,
    /// Exporting paused.
    Paused,
}

/// One command to run with `-o json` (and `-o yaml` when `yaml`).
struct Case {
    bin: Bin,
    /// The command as `--help` lists it, e.g. `es snapshot list`.
    command: &'static str,
    /// Its arguments (after the command words).
    args: &'static str,
    setup: Setup,
    /// Also run it (again, in the state the first run left) with `-o yaml`.
    yaml: bool,
}

const fn k(command: &'static str, args: &'static str, setup: Setup, yaml: bool) -> Case {
    Case {
        bin: Bin::Kubectl,
        command,
        args,
        setup,
        yaml,
    }
}

const fn h(command: &'static str, args: &'static str) -> Case {
    Case {
        bin: Bin::Helm,
        command,
        args,
        setup: Setup::Healthy,
        yaml: true,
    }
}

fn cases() -> Vec<Case> {
    use Setup::*;
    vec![
        k("status", "", Healthy, true),
        k("status", "", Lost, false),
        k("status", "", ReadyForFailback, false),
        k("status", "--context c8dr-sim-region1", Healthy, true),
        k("profiles", "", Healthy, true),
        k("profiles", "--logs", Healthy, false),
        k("topology", "", Healthy, true),
        k("exporters list", "", Healthy, true),
        k("exporters disable", "camundaregion1 --yes", Healthy, true),
        k(
            "exporters enable",
            "camundaregion1 --initialize-from camundaregion0 --yes",
            ExporterDisabled,
            true,
        ),
        k("exporting pause", "--yes", Healthy, true),
        k("exporting resume", "--yes", Paused, true),
        k("changes show", "", Healthy, true),
        k("changes show", "", PendingChange, false),
        k("changes wait", "", Healthy, true),
        k("changes cancel", "1 --yes", PendingChange, false),
        k("brokers remove", "--odd --yes", Lost, true),
        k("brokers remove", "--odd --dry-run", Lost, false),
        k(
            "brokers add",
            "--odd --replication-factor 4 --yes",
            Recreated,
            true,
        ),
        k("es status", "", Healthy, true),
        k("es repo register", "--yes", Healthy, true),
        k("es repo show", "", Repository, true),
        k("es snapshot create", "snap-1 --yes", Repository, false),
        k("es snapshot list", "", Snapshot, true),
        k("es snapshot show", "snap-1", Snapshot, true),
        k(
            "es snapshot restore",
            "snap-1 --region recreated --yes",
            ReadyToRestore,
            true,
        ),
        k(
            "es copy",
            "--from surviving --to recreated --exporting-paused --dry-run",
            RecreatedPaused,
            false,
        ),
        k(
            "es copy",
            "--from surviving --to recreated --exporting-paused --yes",
            RecreatedPaused,
            true,
        ),
        k("rebalance", "--yes", Healthy, true),
        k("failover", "--dry-run", Lost, false),
        k("failover", "--yes", Lost, true),
        k("failback", "--dry-run", ReadyForFailback, false),
        k("failback", "--yes", ReadyForFailback, true),
        k("preflight", "", Healthy, true),
        k("history", "", Healthy, false),
        k("history", "", ReadyForFailback, true),
        k("version", "", Healthy, true),
        h("redeploy", "--region both --dry-run"),
        h("redeploy", "--region surviving --yes"),
        h("overlay", "--region both"),
        h("version", ""),
    ]
}

/// Commands with `-o` that print no document: a shell script.
const NO_DOCUMENT: &[&str] = &["completion"];

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema")
}

/// Every schema of docs/schema, registered under its `$id` (no network: `common.json` is
/// referenced by the kinds).
struct Schemas {
    registry: jsonschema::Registry<'static>,
    kinds: Vec<(String, Value)>,
}

fn schemas() -> Schemas {
    let mut builder = jsonschema::Registry::new();
    let mut kinds = vec![];
    for entry in std::fs::read_dir(schema_dir()).expect("docs/schema") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("schema file");
        let schema: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let id = schema["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no $id", path.display()))
            .to_string();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            id.ends_with(&format!("/{name}.json")),
            "{}: $id {id} does not name the file",
            path.display()
        );
        if name != "common" {
            kinds.push((name, schema.clone()));
        }
        builder = builder
            .add(id, schema)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let registry = builder.prepare().expect("the schemas resolve");
    Schemas { registry, kinds }
}

impl Schemas {
    /// The problems of `doc` (none: it validates against its kind's schema).
    fn check(&self, doc: &Value) -> Vec<String> {
        let Some(kind) = doc["kind"].as_str() else {
            return vec!["no kind".into()];
        };
        let Some((_, schema)) = self.kinds.iter().find(|(k, _)| k == kind) else {
            return vec![format!("kind {kind} has no docs/schema/{kind}.json")];
        };
        let validator = match jsonschema::options()
            .with_registry(&self.registry)
            .build(schema)
        {
            Ok(v) => v,
            Err(e) => return vec![format!("docs/schema/{kind}.json: {e}")],
        };
        validator
            .iter_errors(doc)
            .map(|e| format!("{kind} at '{}': {e}", e.instance_path()))
            .collect()
    }
}

/// The problems of a document against its kind's schema in docs/schema (none: it is valid), for
/// documents other tests read (e.g. each line of `status --watch -o json`).
pub(crate) fn schema_problems(doc: &Value) -> Vec<String> {
    schemas().check(doc)
}

fn prepare(env: &mut TestEnv, setup: Setup) {
    let ok = |run: Run| {
        run.success();
    };
    let recreated = |env: &TestEnv| {
        env.lose_region(1);
        ok(env.c8dr("failover --yes"));
        env.recreate_region(1);
        let mut w = env.sim.world().lock();
        c8dr_sim::helm::apply_release(
            &mut w,
            1,
            serde_json::json!({"orchestration": {"env": [
                {"name": "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA", "value": "false"}
            ]}}),
        );
    };
    match setup {
        Setup::Healthy => {}
        Setup::Lost => env.lose_region(1),
        Setup::Recreated => recreated(env),
        Setup::RecreatedPaused => {
            recreated(env);
            ok(env.c8dr("exporting pause --yes"));
        }
        Setup::ReadyForFailback => {
            env.lose_region(1);
            ok(env.c8dr("failover --yes"));
            env.recreate_region(1);
            ok(env.helm("redeploy --region recreated --no-webapps --no-schema-manager --yes"));
            ok(env.helm("redeploy --region surviving --no-webapps --yes"));
        }
        Setup::Repository => ok(env.c8dr("es repo register --yes")),
        Setup::Snapshot => {
            ok(env.c8dr("es repo register --yes"));
            ok(env.c8dr("es snapshot create snap-1 --yes"));
        }
        Setup::ReadyToRestore => {
            recreated(env);
            ok(env.c8dr("exporting pause --yes"));
            ok(env.c8dr("es repo register --yes"));
            ok(env.c8dr("es snapshot create snap-1 --yes"));
            ok(env.c8dr("es repo register --readonly --region recreated --yes"));
        }
        Setup::PendingChange => {
            env.lose_region(1);
            // A change stuck on an unreachable broker (a non-forced removal of lost brokers).
            let mut w = env.sim.world().lock();
            let ops = w.zeebe.plan_scale(&[0, 2, 4, 6], 2).expect("plan");
            w.zeebe.start_change(ops, tokio::time::Instant::now());
        }
        Setup::ExporterDisabled => ok(env.c8dr("exporters disable camundaregion1 --yes")),
        Setup::Paused => ok(env.c8dr("exporting pause --yes")),
    }
}

fn id(case: &Case) -> String {
    let bin = match case.bin {
        Bin::Kubectl => "kubectl c8dr",
        Bin::Helm => "helm c8dr",
    };
    format!("{bin} {} {} ({:?})", case.command, case.args, case.setup)
}

fn run_with(env: &TestEnv, case: &Case, output: &str) -> Run {
    let mut args: Vec<String> = case.command.split(' ').map(String::from).collect();
    args.extend(case.args.split_whitespace().map(String::from));
    args.extend(["-o".to_string(), output.to_string()]);
    match case.bin {
        Bin::Kubectl => env.kubectl_c8dr(args),
        Bin::Helm => env.helm_c8dr(args),
    }
}

/// Run one case in its own simulator: the problems found.
fn run_case(case: &Case, schemas: &Schemas) -> Vec<String> {
    let mut env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start()
        .scripted();
    env.set_env("S3_BUCKET_NAME", BUCKET);
    prepare(&mut env, case.setup);
    let mut problems = vec![];
    let mut formats = vec!["json"];
    if case.yaml {
        formats.push("yaml");
    }
    for format in formats {
        let run = run_with(&env, case, format);
        if run.code != 0 {
            problems.push(format!("-o {format}: exit {}\n{}", run.code, run.context()));
            continue;
        }
        let doc: Value = match format {
            "json" => match serde_json::from_str(&run.stdout) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("-o json: stdout is not one JSON document: {e}"));
                    continue;
                }
            },
            _ => match serde_saphyr::from_str(&run.stdout) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("-o yaml: stdout is not one YAML document: {e}"));
                    continue;
                }
            },
        };
        problems.extend(
            schemas
                .check(&doc)
                .into_iter()
                .map(|p| format!("-o {format}: {p}")),
        );
    }
    problems
}

/// Leaf commands of a binary that accept `-o` and print a document.
fn document_commands(binary: &Path) -> Vec<CliCommand> {
    cli_help::commands(binary)
        .into_iter()
        .filter(|c| c.is_leaf() && c.option("output").is_some())
        .filter(|c| !NO_DOCUMENT.contains(&c.name().as_str()))
        .collect()
}

#[test]
fn every_json_document_validates_against_its_schema_in_docs() {
    let schemas = schemas();
    let cases = cases();
    // Coverage: every command with -o has a case; every case names a real command.
    let bins = bin_dir();
    let mut uncovered = vec![];
    let mut listed = vec![];
    for (bin, name) in [(Bin::Kubectl, "kubectl-c8dr"), (Bin::Helm, "helm-c8dr")] {
        for cmd in document_commands(&bins.join(name)) {
            let n = cmd.name();
            if !cases.iter().any(|c| c.bin == bin && c.command == n) {
                uncovered.push(format!("{name} {n}"));
            }
            listed.push((bin, n));
        }
    }
    assert!(
        uncovered.is_empty(),
        "commands with -o and no case in tests/e2e/output_schema.rs (add one, and their kind to docs/output.md): {uncovered:#?}"
    );
    let stale: Vec<String> = cases
        .iter()
        .filter(|c| !listed.iter().any(|(b, n)| *b == c.bin && n == c.command))
        .map(id)
        .collect();
    assert!(
        stale.is_empty(),
        "cases for commands --help does not list: {stale:#?}"
    );

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(vec![]);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let problems = run_case(case, &schemas);
                    if !problems.is_empty() {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{}\n  {}", id(case), problems.join("\n  ")));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "{} of {} cases print documents that do not meet docs/schema:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The check can fail: a document missing a required field, with an undocumented field, or of
/// an unknown kind is rejected.
#[test]
fn the_schema_check_rejects_what_the_contract_does_not_allow() {
    let schemas = schemas();
    let good = serde_json::json!({
        "apiVersion": "c8dr.camunda.io/v1alpha1",
        "kind": "ExporterList",
        "exporters": [{"exporterId": "camundaregion0", "status": "ENABLED", "region": "region0"}]
    });
    assert_eq!(schemas.check(&good), Vec::<String>::new());
    let mut snake = good.clone();
    snake["exporters"][0]["exporter_id"] = "x".into();
    assert!(!schemas.check(&snake).is_empty(), "an undocumented key");
    let mut no_region = good.clone();
    if let Some(e) = no_region["exporters"][0].as_object_mut() {
        e.remove("region");
    }
    assert!(!schemas.check(&no_region).is_empty(), "a missing field");
    let mut other_version = good.clone();
    other_version["apiVersion"] = "c8dr.camunda.io/v1".into();
    assert!(
        !schemas.check(&other_version).is_empty(),
        "another apiVersion"
    );
    let mut unknown = good;
    unknown["kind"] = "Nothing".into();
    assert!(!schemas.check(&unknown).is_empty(), "an unknown kind");
}

/// `-o name` and `-o jsonpath` over the same documents, as a script uses them.
#[test]
fn name_and_jsonpath_outputs_read_the_document() {
    let env = TestEnv::start();
    let names = env.c8dr("exporters list -o name").success();
    assert_eq!(
        names.stdout,
        "exporter/camundaregion0\nexporter/camundaregion1\n"
    );
    let lines = env
        .kubectl_c8dr([
            "exporters",
            "list",
            "-o",
            r#"jsonpath={range .exporters[*]}{.exporterId}={.region}{"\n"}{end}"#,
        ])
        .success();
    assert_eq!(
        lines.stdout,
        "camundaregion0=region0\ncamundaregion1=region1\n"
    );
    let phase = env
        .kubectl_c8dr(["status", "-o", "jsonpath={.kind} {.procedure.phase}"])
        .success();
    assert_eq!(phase.stdout, "Status healthy");
    let names = env.c8dr("topology -o name").success();
    assert_eq!(
        names.stdout.lines().collect::<Vec<_>>(),
        (0..8).map(|i| format!("broker/{i}")).collect::<Vec<_>>()
    );
    env.c8dr("es repo register --bucket camunda-bucket --yes")
        .success();
    env.c8dr("es snapshot create snap-n --yes").success();
    let snapshots = env.c8dr("es snapshot list -o name").success();
    assert_eq!(snapshots.stdout, "snapshot/snap-n\n");
    // -o name where the report names nothing, and a bad template: exit 2, naming -o, no call.
    let before = env.requests().len();
    env.c8dr("status -o name").code(2).stderr_has("-o name");
    env.kubectl_c8dr(["exporters", "list", "-o", "jsonpath={.exporters[}"])
        .code(2)
        .stderr_has("-o jsonpath");
    assert_eq!(env.requests().len(), before, "no call for bad -o");
}
