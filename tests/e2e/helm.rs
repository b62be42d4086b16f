//! `helm c8dr redeploy` end to end: the real helm-c8dr with `HELM_BIN` = the simulator's helm
//! stand-in, which records every call and applies it to the simulated region.

use std::path::{Path, PathBuf};

use c8dr_e2e::{TestEnv, copy_tree, values_fixtures};
use serde_json::Value;

const VAR: &str = "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA";

/// A simulator plus the docs' EKS layout in the working directory and a private record dir.
fn setup() -> TestEnv {
    setup_on("8.8")
}

/// [`setup`] with the simulator running Camunda `camunda` (8.8, 8.9, 8.10).
fn setup_on(camunda: &str) -> TestEnv {
    let mut env = TestEnv::builder()
        .camunda(camunda)
        .values_layout("c8-multi-region-8.8")
        .start();
    let records = env.home.path().join("helm-records");
    env.set_env("C8DR_SIM_HELM_RECORD", records.display().to_string());
    env
}

/// One recorded helm call: its argv and the copies of its `-f` files, in order.
struct Call {
    argv: Vec<String>,
    values: Vec<String>,
}

impl Call {
    fn context(&self) -> &str {
        let i = self
            .argv
            .iter()
            .position(|a| a == "--kube-context")
            .expect("--kube-context");
        &self.argv[i + 1]
    }
    /// The generated overlay (the last `-f`), parsed.
    fn overlay(&self) -> Value {
        serde_saphyr::from_str(self.values.last().expect("an overlay")).expect("overlay YAML")
    }
    fn env_names(&self) -> Vec<String> {
        self.overlay()["orchestration"]["env"]
            .as_array()
            .expect("env list")
            .iter()
            .map(|e| e["name"].as_str().expect("name").to_string())
            .collect()
    }
}

fn calls(env: &TestEnv) -> Vec<Call> {
    let dir = env.home.path().join("helm-records");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    let mut dirs: Vec<PathBuf> = entries.map(|e| e.expect("entry").path()).collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            let argv: Vec<String> =
                serde_json::from_slice(&std::fs::read(d.join("argv.json")).expect("argv.json"))
                    .expect("argv JSON");
            let mut values = vec![];
            for i in 0.. {
                match std::fs::read_to_string(d.join(format!("values-{i}.yaml"))) {
                    Ok(text) => values.push(text),
                    Err(_) => break,
                }
            }
            Call { argv, values }
        })
        .collect()
}

fn call_for<'a>(calls: &'a [Call], context: &str) -> &'a Call {
    calls
        .iter()
        .find(|c| c.context() == context)
        .unwrap_or_else(|| panic!("no helm call for {context}"))
}

fn original_env_names() -> Vec<String> {
    let text =
        std::fs::read_to_string(values_fixtures().join("c8-multi-region-8.8/camunda-values.yml"))
            .expect("fixture");
    let v: Value = serde_saphyr::from_str(&text).expect("fixture YAML");
    v["orchestration"]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_string())
        .collect()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).expect("dir") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("region"))
            {
                out.extend(snapshot(&p));
            }
        } else if p.extension().is_some_and(|e| e == "yml") {
            out.push((p.clone(), std::fs::read(&p).expect("read")));
        }
    }
    out.sort();
    out
}

fn assert_unchanged(before: &[(PathBuf, Vec<u8>)]) {
    for (p, bytes) in before {
        assert_eq!(
            &std::fs::read(p).expect("user file"),
            bytes,
            "{} was modified",
            p.display()
        );
    }
}

fn step1(env: &TestEnv) {
    env.helm("redeploy --yes --region recreated --no-webapps --no-schema-manager")
        .success();
}

#[test]
fn failback_step1_installs_the_recreated_region_without_webapps_or_schema_manager() {
    let env = setup();
    env.lose_region(1);
    env.recreate_region(1);
    let before = snapshot(&env.cwd);
    env.helm("redeploy --region recreated --no-webapps --no-schema-manager --wait --yes")
        .success()
        .stderr_has("--wait is not applied to region1");

    let calls = calls(&env);
    assert_eq!(calls.len(), 1, "one helm call");
    let call = &calls[0];
    let overlay_path = call.argv.last().expect("argv").clone();
    assert_eq!(
        call.argv,
        [
            "upgrade",
            "--install",
            "camunda",
            "camunda/camunda-platform",
            "--kube-context",
            "c8dr-sim-region1",
            "--namespace",
            "camunda-region1",
            "-f",
            "camunda-values.yml",
            "-f",
            "region1/camunda-values.yml",
            "-f",
            overlay_path.as_str(),
        ]
    );
    assert!(
        !Path::new(&overlay_path).exists(),
        "the temporary overlay is removed"
    );
    let names = call.env_names();
    assert_eq!(names.iter().filter(|n| *n == VAR).count(), 1);
    let rest: Vec<String> = names.into_iter().filter(|n| n != VAR).collect();
    assert_eq!(rest, original_env_names(), "every original entry, in order");
    assert_eq!(
        call.overlay()["orchestration"]["profiles"],
        serde_json::json!({"operate": false, "tasklist": false})
    );

    let s = env.state();
    let r1 = &s["regions"][1];
    assert_eq!(r1["helmRevision"], 1);
    assert_eq!(r1["schemaManagerDisabled"], true);
    assert_eq!(r1["profiles"], serde_json::json!(["broker", "identity"]));
    assert_eq!(r1["esIndices"], serde_json::json!([]), "no Camunda indices");
    assert_eq!(s["regions"][0]["helmRevision"], 1, "surviving untouched");
    assert_unchanged(&before);
}

#[test]
fn failback_step2_redeploys_the_surviving_region_with_webapps_off() {
    let env = setup();
    env.lose_region(1);
    env.recreate_region(1);
    step1(&env);
    env.helm("redeploy --no-webapps -y").success();
    let calls = calls(&env);
    assert_eq!(calls.len(), 2);
    let call = call_for(&calls, "c8dr-sim-region0");
    assert_eq!(
        &call.argv[6..12],
        [
            "--namespace",
            "camunda-region0",
            "-f",
            "camunda-values.yml",
            "-f",
            "region0/camunda-values.yml"
        ]
    );
    assert!(!call.env_names().iter().any(|n| n == VAR));
    assert!(!call.argv.contains(&"--wait".to_string()));
    let s = env.state();
    assert_eq!(s["regions"][0]["helmRevision"], 2);
    assert_eq!(
        s["regions"][0]["profiles"],
        serde_json::json!(["broker", "identity"])
    );
    assert_eq!(s["regions"][0]["schemaManagerDisabled"], false);
}

#[test]
fn failback_step8_redeploys_both_regions_and_removes_the_variable_with_a_notice() {
    let mut env = setup();
    env.lose_region(1);
    env.recreate_region(1);
    step1(&env);
    // The operator added the variable to the shared file for step 1 and forgot to remove it.
    let base = env.cwd.join("camunda-values.yml");
    let text = std::fs::read_to_string(&base).expect("base");
    let text = text.replacen(
        "    env:\n",
        &format!("    env:\n        - name: {VAR}\n          value: \"false\"\n"),
        1,
    );
    std::fs::write(&base, text).expect("write");
    let before = snapshot(&env.cwd);
    env.set_env("HELM_CHART_VERSION", "13.1.0");
    env.helm("redeploy --region both --wait --yes")
        .success()
        .stderr_has(&format!("{VAR} is still set in camunda-values.yml"));

    let calls = calls(&env);
    assert_eq!(calls.len(), 3, "step 1 plus one call per region");
    for (ctx, ns) in [
        ("c8dr-sim-region0", "camunda-region0"),
        ("c8dr-sim-region1", "camunda-region1"),
    ] {
        let call = call_for(&calls[1..], ctx);
        assert_eq!(
            &call.argv[4..10],
            [
                "--version",
                "13.1.0",
                "--kube-context",
                ctx,
                "--namespace",
                ns
            ]
        );
        assert_eq!(call.env_names(), original_env_names());
        assert!(call.overlay()["orchestration"].get("profiles").is_none());
        let waits = call.argv.contains(&"--wait".to_string());
        assert_eq!(
            waits,
            ctx.ends_with('0'),
            "--wait only on the surviving side"
        );
    }
    let s = env.state();
    for r in 0..2 {
        assert_eq!(
            s["regions"][r]["profiles"],
            serde_json::json!(["broker", "identity", "operate", "tasklist"])
        );
        assert_eq!(s["regions"][r]["schemaManagerDisabled"], false);
    }
    assert_eq!(s["regions"][1]["helmRevision"], 2);
    assert_unchanged(&before);
}

#[test]
fn dry_run_prints_the_commands_and_runs_no_helm() {
    let env = setup();
    env.helm("redeploy --region both --no-webapps --dry-run")
        .success()
        .stdout_has(
            "upgrade --install camunda camunda/camunda-platform --kube-context c8dr-sim-region1",
        )
        .stdout_has("operate: false");
    assert!(calls(&env).is_empty());
    assert_eq!(env.state()["regions"][0]["helmRevision"], 1);
}

#[test]
fn json_output_is_one_document_with_the_exit_codes() {
    let env = setup();
    let run = env.helm("redeploy -o json --yes").success();
    let doc = run.json();
    assert_eq!(doc["regions"][0]["region"], "region0");
    assert_eq!(doc["regions"][0]["exitCode"], 0);
    assert_eq!(doc["regions"][0]["schemaManager"], "absent");
    assert!(
        doc["regions"][0]["argv"][0]
            .as_str()
            .is_some_and(|a| a.ends_with("c8dr-sim-helm"))
    );
}

#[test]
fn bad_input_exits_2_without_calling_helm() {
    let mut env = setup();
    std::fs::write(env.cwd.join("bad.yml"), "orchestration:\n  env: [\n").expect("write");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["redeploy", "--region", "region2"], "--region"),
        (vec!["redeploy", "-f", "missing.yml"], "missing.yml"),
        (vec!["redeploy", "-f", "bad.yml"], "bad.yml: line"),
        (
            vec!["redeploy", "--region-values", "nonsense"],
            "--region-values",
        ),
        (vec!["redeploy", "--timeout", "forever"], "--timeout"),
        (vec!["redeploy", "--bogus-flag"], "--bogus-flag"),
        (vec!["overlay", "-f", "bad.yml"], "bad.yml"),
    ];
    for (args, needle) in cases {
        env.helm_c8dr(args).code(2).stderr_has(needle);
    }
    env.remove_env("CLUSTER_RECREATED");
    env.remove_env("CLUSTER_1");
    env.helm("redeploy --region recreated")
        .code(2)
        .stderr_has("--recreated-context");
    assert!(calls(&env).is_empty(), "no helm call");
}

#[test]
fn without_a_terminal_redeploy_needs_yes() {
    let mut env = setup();
    // The plan is shown before the refusal, as kubectl c8dr does: what --yes would run.
    env.helm("redeploy --region both")
        .code(3)
        .stderr_has("--yes")
        .stderr_has("This will run:")
        .stderr_has("upgrade --install");
    assert!(calls(&env).is_empty(), "no helm call");
    env.set_env("C8DR_ASSUME_YES", "1");
    env.helm("redeploy").success();
    assert_eq!(calls(&env).len(), 1);
}

#[test]
fn a_failing_helm_passes_its_exit_code_through_with_the_region_named() {
    let env = setup();
    env.helm("redeploy --yes --surviving-namespace wrong")
        .code(1)
        .stderr_has("region0")
        .output_has("namespaces \"wrong\" not found");
}

#[test]
fn a_lost_region_stops_the_redeploy_before_any_region_is_upgraded() {
    let env = setup();
    env.lose_region(1);
    for line in ["redeploy --yes --region 1", "redeploy --yes --region both"] {
        env.helm(line)
            .code(5)
            .stderr_has("region1")
            .stderr_has("nothing was upgraded");
        assert!(
            env.helm_calls().is_empty(),
            "`{line}`: no region upgraded while another cannot be reached"
        );
    }
}

#[test]
fn the_openshift_layout_uses_one_file_per_region() {
    let env = setup();
    copy_tree(&values_fixtures().join("openshift-8.8"), &env.cwd);
    let keep = env.home.path().join("kept");
    env.helm_c8dr([
        "redeploy",
        "--region",
        "both",
        "-f",
        "values-base.yml",
        "--region-values",
        "region0=values-region-1.yml",
        "--region-values",
        "region1=values-region-2.yml",
        "--keep-overlay",
        keep.to_str().expect("utf-8"),
        "--yes",
    ])
    .success();
    let calls = calls(&env);
    let call = call_for(&calls, "c8dr-sim-region1");
    assert_eq!(
        &call.argv[8..12],
        ["-f", "values-base.yml", "-f", "values-region-2.yml"]
    );
    assert_eq!(call.env_names().len(), 19);
    let kept = keep.join("c8dr-overlay-camunda-region1.yaml");
    assert_eq!(call.argv.last().map(PathBuf::from), Some(kept.clone()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept)
            .expect("kept overlay")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn the_overlay_command_prints_the_yaml_alone() {
    let env = setup();
    let run = env
        .helm_c8dr(["overlay", "--region", "recreated", "--no-schema-manager"])
        .success();
    let doc: Value = serde_saphyr::from_str(&run.stdout).expect("YAML on stdout");
    let env_list = doc["orchestration"]["env"].as_array().expect("env");
    assert_eq!(env_list.len(), 16);
    assert_eq!(env_list[15]["value"], "false");
    assert!(calls(&env).is_empty());
}

#[test]
fn verify_waits_for_the_profiles_in_the_unified_configmap() {
    let env = setup();
    env.lose_region(1);
    env.recreate_region(1);
    let run = env
        .helm_c8dr([
            "redeploy",
            "--region",
            "recreated",
            "--no-webapps",
            "--no-schema-manager",
            "--verify",
            "--timeout",
            "20s",
            "-o",
            "json",
            "--yes",
        ])
        .success();
    let doc = run.json();
    let v = &doc["regions"][0]["verify"];
    assert_eq!(v["ok"], true, "{doc:#}");
    assert_eq!(v["configmap"], "camunda-zeebe-configuration-unified");
    assert_eq!(
        v["active"],
        serde_json::json!(["broker", "consolidated-auth", "identity"])
    );
}

#[test]
fn forgetting_no_schema_manager_lets_the_recreated_region_seed_its_elasticsearch() {
    // The mistake --no-schema-manager prevents: a fresh install with the schema manager on
    // creates the Camunda indices, and the later restore (failback 4) would then fail.
    let env = setup();
    env.lose_region(1);
    env.recreate_region(1);
    env.helm("redeploy --yes --region recreated --no-webapps")
        .success();
    let s = env.state();
    assert_eq!(s["regions"][1]["schemaManagerDisabled"], false);
    assert!(
        s["regions"][1]["esIndices"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "the schema manager seeded ES: {s:#}"
    );
}

#[test]
fn empty_flags_and_nameless_env_entries_exit_2_without_calling_helm() {
    let env = setup();
    std::fs::write(
        env.cwd.join("noname.yml"),
        "orchestration:\n  env:\n    - name: A\n      value: x\n    - value: \"forgot the name\"\n",
    )
    .expect("write");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["redeploy", "--yes", "--chart", ""], "--chart is empty"),
        (
            vec!["redeploy", "--yes", "--version", ""],
            "--version is empty",
        ),
        (
            vec![
                "redeploy",
                "--yes",
                "-f",
                "camunda-values.yml",
                "-f",
                "noname.yml",
            ],
            "noname.yml: line 5, column 7: orchestration.env[1] has no name",
        ),
        (
            vec!["overlay", "-f", "noname.yml"],
            "noname.yml: line 5, column 7",
        ),
    ];
    for (args, needle) in cases {
        env.helm_c8dr(args).code(2).stderr_has(needle);
    }
    assert!(calls(&env).is_empty(), "no helm call");
}

#[test]
fn extra_helm_args_cannot_send_the_upgrade_to_another_region() {
    // Before: `-- --kube-context c8dr-sim-region1` upgraded region1 while c8dr reported region0.
    let env = setup();
    for extra in [
        &["--kube-context", "c8dr-sim-region1"][..],
        &["--kube-context=c8dr-sim-region1"],
        &["--namespace", "camunda-region1"],
        &["-ncamunda-region1"],
        &["-n", "camunda-region1"],
        &["--kubeconfig", "/dev/null"],
        &["-f", "region1/camunda-values.yml"],
        &["--set", "orchestration.env[0].name=X"],
    ] {
        let mut args = vec!["redeploy", "--yes", "--no-webapps", "--"];
        args.extend_from_slice(extra);
        env.helm_c8dr(args)
            .code(2)
            .stderr_has(extra[0].split('=').next().unwrap_or_default());
    }
    assert!(calls(&env).is_empty(), "no helm call");
    let s = env.state();
    assert_eq!(s["regions"][0]["helmRevision"], 1);
    assert_eq!(s["regions"][1]["helmRevision"], 1, "region1 untouched");
    // Harmless extras still pass through.
    env.helm("redeploy --yes -- --atomic").success();
    assert_eq!(calls(&env).len(), 1);
}

#[test]
fn helm_kube_context_for_another_region_is_refused() {
    // `helm --kube-context c8dr-sim-region1 c8dr redeploy` reaches the plugin as HELM_KUBECONTEXT;
    // the surviving region is region0: upgrading it would not be what was asked.
    let mut env = setup();
    env.set_env("HELM_KUBECONTEXT", "c8dr-sim-region1");
    env.helm("redeploy --yes")
        .code(2)
        .stderr_has("HELM_KUBECONTEXT");
    assert!(calls(&env).is_empty(), "no helm call");
}

/// Secret values that must never be printed, and a values file holding them.
const SECRETS: [&str; 5] = [
    "lic-0123456789",
    "pw-es-s3cr3t",
    "url-pass-42",
    "chart-pass-7",
    "repo-pass-9",
];

fn write_secret_values(env: &TestEnv) {
    std::fs::write(
        env.cwd.join("secrets.yml"),
        "orchestration:\n  env:\n    - name: CAMUNDA_LICENSE_KEY\n      value: \"lic-0123456789\"\n    - name: ES_PWD\n      value: \"pw-es-s3cr3t\"\n    - name: ES_URL\n      value: \"https://elastic:url-pass-42@es:9200\"\n",
    )
    .expect("write");
}

fn assert_no_secret(run: &c8dr_e2e::Run) {
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} was printed by `{}`:\n--- stdout\n{}\n--- stderr\n{}",
            run.shown,
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn secrets_are_hidden_by_value_in_plans_json_and_helm_debug_output() {
    let mut env = setup();
    write_secret_values(&env);
    let values = [
        "-f",
        "camunda-values.yml",
        "-f",
        "region0/camunda-values.yml",
        "-f",
        "secrets.yml",
    ];
    // The plan: the env values by name (ES_PWD, CAMUNDA_LICENSE_KEY), the URL's password, the
    // chart URL's userinfo, a secret reappearing under an innocent --set key, --password.
    let chart = "https://bob:chart-pass-7@charts.example.com/camunda-platform-13.1.0.tgz";
    let extra = [
        "--",
        "--set",
        "global.note=pw-es-s3cr3t",
        "--password",
        "repo-pass-9",
    ];
    for output in ["text", "json"] {
        let mut args = vec!["redeploy", "--dry-run", "-o", output, "--chart", chart];
        args.extend(values);
        args.extend(extra);
        let run = env.helm_c8dr(args).success();
        assert_no_secret(&run);
        assert!(run.stdout.contains("CAMUNDA_LICENSE_KEY"), "{}", run.stdout);
        assert!(run.stdout.contains("charts.example.com"), "{}", run.stdout);
    }
    let mut args = vec!["overlay"];
    args.extend(values);
    assert_no_secret(&env.helm_c8dr(args).success());

    // A real run: helm inherits HELM_DEBUG and prints the user-supplied values.
    env.set_env("HELM_DEBUG", "true");
    for output in ["text", "json"] {
        let mut args = vec!["redeploy", "--yes", "-o", output];
        args.extend(values);
        let run = env.helm_c8dr(args).success();
        assert_no_secret(&run);
        assert!(
            run.stdout.contains("USER-SUPPLIED VALUES"),
            "helm's debug output is shown, redacted: {}",
            run.stdout
        );
    }
}

/// Start `helm c8dr redeploy` with a slow helm, send it `signal` while helm runs, and check what
/// a user would: the exit code, helm cancelled cleanly (not killed), the overlays gone.
#[cfg(unix)]
fn interrupt_redeploy(signal: &str, expected_code: i32) {
    interrupt_redeploy_of("surviving", signal, expected_code);
}

#[cfg(unix)]
fn interrupt_redeploy_of(region: &str, signal: &str, expected_code: i32) {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut env = setup();
    let tmp = env.home.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("TMPDIR");
    env.set_env("TMPDIR", tmp.display().to_string());
    env.set_env("C8DR_SIM_HELM_SLEEP_MS", "30000");
    let mut child = Command::new(c8dr_e2e::bin_dir().join("helm-c8dr"))
        .args(["redeploy", "--yes", "--no-webapps", "--region", region])
        .current_dir(&env.cwd)
        .env_clear()
        .envs(env.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("helm-c8dr starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The stand-in records its argv first (a directory, then argv.json): wait until it parses.
    let helms = if region == "both" { 2 } else { 1 };
    let mut overlays = vec![];
    for n in 1..=helms {
        let argv_file = env
            .home
            .path()
            .join(format!("helm-records/{n:04}/argv.json"));
        let argv: Vec<String> = loop {
            if let Some(argv) = std::fs::read(&argv_file)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                break argv;
            }
            assert!(Instant::now() < deadline, "helm was never called");
            std::thread::sleep(Duration::from_millis(20));
        };
        overlays.push(PathBuf::from(argv.last().expect("overlay path")));
    }
    let overlay = overlays[0].clone();
    let dir = overlay.parent().expect("overlay dir").to_path_buf();
    assert!(overlays.iter().all(|o| o.parent() == Some(dir.as_path())));
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .expect("exists while helm runs")
            .permissions()
            .mode()
            & 0o777
    };
    assert_ne!(dir, tmp, "the overlay is not loose in $TMPDIR");
    assert!(dir.starts_with(&tmp), "{} is under $TMPDIR", dir.display());
    assert_eq!(mode(&dir), 0o700, "private overlay directory");
    assert_eq!(mode(&overlay), 0o600);
    // Let the stand-in install its signal handlers (it records the call first).
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {pid}")])
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(25);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("helm-c8dr did not stop after SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    let context = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(expected_code), "{context}");
    assert!(
        stderr.contains(&format!("interrupted by SIG{signal}")),
        "{context}"
    );
    assert_eq!(
        stdout
            .matches("Release camunda has been cancelled.")
            .count(),
        helms,
        "every helm got SIGINT/SIGTERM and cancelled its upgrade itself: {context}"
    );
    assert!(!overlay.exists(), "overlay removed: {context}");
    assert!(!dir.exists(), "overlay directory removed: {context}");
    assert!(
        std::fs::read_dir(&tmp).expect("tmp").next().is_none(),
        "nothing left in $TMPDIR"
    );
    for r in 0..2 {
        assert_eq!(
            env.state()["regions"][r]["helmRevision"],
            1,
            "the cancelled upgrade changed nothing"
        );
    }
}

#[cfg(unix)]
#[test]
fn sigterm_during_a_both_regions_redeploy_cancels_both_helms() {
    interrupt_redeploy_of("both", "TERM", 143);
}

#[cfg(unix)]
#[test]
fn sigterm_during_redeploy_cancels_helm_removes_the_overlays_and_exits_143() {
    interrupt_redeploy("TERM", 143);
}

#[cfg(unix)]
#[test]
fn sigint_during_redeploy_cancels_helm_removes_the_overlays_and_exits_130() {
    interrupt_redeploy("INT", 130);
}

#[cfg(unix)]
#[test]
fn sighup_during_redeploy_cancels_helm_removes_the_overlays_and_exits_129() {
    interrupt_redeploy("HUP", 129);
}

#[test]
fn a_missing_helm_is_bad_input_before_anything_is_asked_or_run() {
    let mut env = setup();
    env.set_env("HELM_BIN", "/nonexistent/helm");
    env.helm("redeploy --yes")
        .code(2)
        .stderr_has("helm not found");
    assert!(calls(&env).is_empty(), "no helm call");
}

#[test]
fn an_unpinned_chart_version_is_warned_about_in_the_plan() {
    let mut env = setup();
    env.remove_env("HELM_CHART_VERSION");
    env.helm("redeploy --dry-run")
        .success()
        .output_has("no chart version pinned");
    env.helm("redeploy --dry-run --version 13.1.0")
        .success()
        .output_lacks("no chart version pinned");
}

/// `helm c8dr LINE` under a pseudo-terminal (util-linux `script`, as tests/e2e/color.rs), its
/// answer to the prompt typed on it: stdout and stderr both arrive as the terminal showed them.
fn on_a_terminal(env: &TestEnv, line: &str, answer: &str) -> c8dr_e2e::Run {
    env.command(
        "script",
        vec![
            "-qfec".into(),
            format!("helm-c8dr {line}").into(),
            "/dev/null".into(),
        ],
    )
    .stdin(answer)
    .run()
}

/// Where `needle` first appears in the terminal's output.
fn at(run: &c8dr_e2e::Run, needle: &str) -> usize {
    run.stdout
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not shown: {}", run.context()))
}

#[test]
fn the_overlay_and_every_warning_are_shown_before_the_prompt() {
    let mut env = setup();
    env.remove_env("HELM_CHART_VERSION");
    // Declined: what it would change was on the screen before the question, nothing ran.
    let run = on_a_terminal(&env, "redeploy --region both --no-webapps", "n\n").code(3);
    let prompt = at(&run, "Proceed? [y/N]");
    assert!(
        at(&run, "no chart version pinned") < prompt,
        "{}",
        run.context()
    );
    assert!(
        at(&run, "generated overlay for region1") < prompt,
        "{}",
        run.context()
    );
    assert!(at(&run, "operate: false") < prompt, "{}", run.context());
    assert!(
        at(&run, "upgrade --install camunda") < prompt,
        "{}",
        run.context()
    );
    assert!(calls(&env).is_empty(), "declined: no helm call");
    // Accepted: it runs, and the warning is not said a second time after the run.
    let run = on_a_terminal(&env, "redeploy --region both --no-webapps", "y\n").success();
    assert!(at(&run, "no chart version pinned") < at(&run, "Proceed? [y/N]"));
    assert_eq!(
        run.stdout.matches("no chart version pinned").count(),
        1,
        "{}",
        run.context()
    );
    assert_eq!(calls(&env).len(), 2);
    // --yes, no prompt: the warning still comes before helm's output; --dry-run shows it with
    // the overlays; -o json carries both as fields.
    let run = env.helm("redeploy --yes").success();
    assert_eq!(run.stderr.matches("no chart version pinned").count(), 1);
    let doc = env.helm("redeploy --dry-run -o json").success().json();
    assert!(
        doc["notices"]
            .to_string()
            .contains("no chart version pinned"),
        "{doc:#}"
    );
    assert!(doc["regions"][0]["overlay"].is_object(), "{doc:#}");
}

#[test]
fn helm_does_not_inherit_the_zeebe_rest_credentials() {
    // A wrapper around the helm stand-in writes the environment helm runs with.
    let mut env = setup();
    let dump = env.home.path().join("helm-env");
    let wrapper = env.home.path().join("helm-wrapper");
    let real = c8dr_e2e::bin_dir().join("c8dr-sim-helm");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nenv > '{}'\nexec '{}' \"$@\"\n",
            dump.display(),
            real.display()
        ),
    )
    .expect("wrapper written");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    env.set_env("HELM_BIN", wrapper.display().to_string());
    env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", "rest-canary-7f3a");
    env.helm("redeploy --yes").success();
    let seen = std::fs::read_to_string(&dump).expect("helm ran");
    assert!(
        seen.contains("HOME="),
        "the dump is helm's environment: {seen}"
    );
    assert!(!seen.contains("rest-canary-7f3a"), "{seen}");
    for var in [
        "CAMUNDA_CLIENT_AUTH_USERNAME=",
        "CAMUNDA_CLIENT_AUTH_PASSWORD=",
    ] {
        assert!(!seen.contains(var), "{var} reached helm: {seen}");
    }
}

/// 8.10's canonical spelling of the schema switch (it wins over [`VAR`] when set).
const CANONICAL: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";

#[test]
fn an_810_installation_that_uses_the_new_schema_key_never_receives_the_legacy_one() {
    // The user's 8.10 values set the canonical key to "true": --no-schema-manager must turn THAT
    // one off and add no legacy variable (legacy=false next to canonical=true would let the
    // schema manager seed the recreated region and break the restore). The installation runs
    // 8.10: a pinned 15.x on an 8.8 (13.x) one is a chart-major change, refused (exit 3).
    let env = setup_on("8.10");
    std::fs::write(
        env.cwd.join("values-810.yml"),
        format!(
            "orchestration:\n  env:\n    - name: A\n      value: \"1\"\n    - name: {CANONICAL}\n      value: \"true\"\n"
        ),
    )
    .expect("values written");
    let before = snapshot(&env.cwd);
    let run = env
        .helm_c8dr([
            "overlay",
            "--region",
            "recreated",
            "--no-schema-manager",
            "--version",
            "15.0.0",
            "-f",
            "values-810.yml",
        ])
        .success();
    let doc: Value = serde_saphyr::from_str(&run.stdout).expect("YAML on stdout");
    assert_eq!(
        doc["orchestration"]["env"],
        serde_json::json!([{"name": "A", "value": "1"}, {"name": CANONICAL, "value": "false"}])
    );
    assert!(!run.stdout.contains(VAR), "{}", run.stdout);
    env.helm(
        "redeploy --yes --region recreated --no-webapps --no-schema-manager --version 15.0.0 -f values-810.yml",
    )
    .success();
    let calls = calls(&env);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].env_names(), ["A", CANONICAL]);
    assert_eq!(
        calls[0].overlay()["orchestration"]["env"][1]["value"],
        "false"
    );
    assert_unchanged(&before);
}

#[test]
fn the_chart_label_decides_the_release_when_no_version_is_pinned() {
    let env = setup();
    // The recreated region has no release yet: the surviving region's label is read.
    env.lose_region(1);
    env.recreate_region(1);
    env.helm("redeploy --region recreated --no-webapps --no-schema-manager --dry-run")
        .success()
        .stderr_has("planned for Camunda 8.8 (chart 13.x)")
        .stderr_has("helm.sh/chart=camunda-platform-13.")
        .stderr_has(" in region0");
    // Pinned, the version decides and no cluster is asked.
    env.helm("redeploy --region recreated --dry-run --version 13.1.0")
        .success()
        .output_lacks("planned for");
    assert!(calls(&env).is_empty());
}

#[test]
fn a_chart_version_c8dr_does_not_know_or_cannot_tell_is_bad_input() {
    let mut env = setup();
    env.helm("redeploy --dry-run --version 16.0.0")
        .code(2)
        .stderr_has("chart 16.x is not a camunda-platform chart c8dr knows");
    env.set_env("HELM_CHART_VERSION", "12.3.0");
    env.helm("redeploy --dry-run").code(2).stderr_has("12.x");
    env.remove_env("HELM_CHART_VERSION");
    // No label anywhere (no release in either region): --version is asked for.
    env.lose_region(0);
    env.lose_region(1);
    env.recreate_region(0);
    env.recreate_region(1);
    env.helm("redeploy --dry-run --region both")
        .code(2)
        .stderr_has("pass --version");
    assert!(calls(&env).is_empty());
}

#[test]
fn on_89_and_810_verify_reads_the_configuration_configmap_and_expects_admin() {
    for camunda in ["8.9", "8.10"] {
        let env = setup_on(camunda);
        env.lose_region(1);
        env.recreate_region(1);
        let run = env
            .helm_c8dr([
                "redeploy",
                "--region",
                "recreated",
                "--no-webapps",
                "--no-schema-manager",
                "--verify",
                "--timeout",
                "20s",
                "-o",
                "json",
                "--yes",
            ])
            .success();
        let doc = run.json();
        let v = &doc["regions"][0]["verify"];
        assert_eq!(v["ok"], true, "{camunda}: {doc:#}");
        assert_eq!(v["configmap"], "camunda-zeebe-configuration", "{camunda}");
        assert_eq!(
            v["active"],
            serde_json::json!(["admin", "broker", "consolidated-auth"]),
            "{camunda}"
        );
    }
}
