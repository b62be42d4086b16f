//! Planning, reporting and --verify of `helm c8dr`, without helm or a cluster.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::config::Env;
use crate::duration::parse_go_duration;
use crate::error::Error;
use crate::region::{RegionId, Target};
use crate::values::{OverlayOptions, redact_args};

fn plan(req: &RedeployRequest, env: &Env, cwd: &Path) -> crate::Result<Plan> {
    Plan::new(req, env, cwd, row(crate::release::Line(8, 8)))
}

fn row(line: crate::release::Line) -> ChartRow {
    ChartRow {
        facts: crate::release::facts(line).expect("row"),
        source: RowSource::Pinned {
            source: "--version",
        },
    }
}

fn docs_env() -> Env {
    docs_env_with(&[])
}

fn docs_env_with(extra: &[(&str, &str)]) -> Env {
    Env::from_pairs(extra.iter().copied().chain([
        ("CLUSTER_SURVIVING", "ctx-a"),
        ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-a"),
        ("REGION_SURVIVING", "region0"),
        ("CLUSTER_RECREATED", "ctx-b"),
        ("CAMUNDA_NAMESPACE_RECREATED", "camunda-b"),
        ("REGION_RECREATED", "region1"),
        ("HELM_BIN", "/usr/bin/helm"),
    ]))
}

fn eks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/values/c8-multi-region-8.8")
}

fn req(target: &str) -> RedeployRequest {
    RedeployRequest {
        target: Some(target.parse().expect("target")),
        ..Default::default()
    }
}

#[test]
fn the_recreated_region_gets_the_exact_docs_argv_and_never_waits() {
    let mut r = req("recreated");
    r.overlay = OverlayOptions {
        no_webapps: true,
        no_schema_manager: true,
    };
    r.wait = true;
    r.timeout = Some("10m".into());
    let plan = plan(&r, &docs_env(), &eks_dir()).expect("plan");
    assert_eq!(plan.regions.len(), 1);
    let region = &plan.regions[0];
    assert_eq!(region.label(), "region1");
    let args = plan.upgrade_args(region, Path::new("/tmp/o.yaml"));
    assert_eq!(
        args,
        [
            "upgrade",
            "--install",
            "camunda",
            "camunda/camunda-platform",
            "--kube-context",
            "ctx-b",
            "--namespace",
            "camunda-b",
            "-f",
            "camunda-values.yml",
            "-f",
            "region1/camunda-values.yml",
            "-f",
            "/tmp/o.yaml",
            "--timeout",
            "10m",
        ]
    );
    assert!(
        plan.notices
            .iter()
            .any(|n| n.contains("--wait is not applied")),
        "--wait dropped with a notice: {:?}",
        plan.notices
    );
    assert!(
        plan.notices
            .iter()
            .any(|n| n.contains("no chart version pinned")),
        "no --version: the unpinned chart is warned about: {:?}",
        plan.notices
    );
}

#[test]
fn both_regions_wait_only_on_the_surviving_side_and_pass_version_and_extras() {
    let mut r = req("both");
    r.wait = true;
    r.version = Some("13.1.0".into());
    r.extra_args = vec!["--set".into(), "x.password=hunter2".into()];
    let plan = plan(&r, &docs_env(), &eks_dir()).expect("plan");
    let labels: Vec<String> = plan.regions.iter().map(RegionPlan::label).collect();
    assert_eq!(labels, ["region0", "region1"]);
    assert!(plan.regions[0].wait && !plan.regions[1].wait);
    let args = plan.upgrade_args(&plan.regions[0], Path::new("o.yaml"));
    assert_eq!(&args[4..6], ["--version", "13.1.0"]);
    assert!(args.contains(&"--wait".to_string()));
    let shown = redact_args(&args);
    assert_eq!(
        shown.last().map(String::as_str),
        Some("x.password=<redacted>")
    );
}

#[test]
fn flags_override_env_and_helm_variables_serve_only_the_surviving_side() {
    let env = Env::from_pairs([
        ("HELM_KUBECONTEXT", "helm-ctx"),
        ("HELM_NAMESPACE", "helm-ns"),
        ("REGION_SURVIVING", "region1"),
    ]);
    let p = plan(&req("surviving"), &env, &eks_dir()).expect("plan");
    assert_eq!(p.regions[0].context, "helm-ctx");
    assert_eq!(p.regions[0].namespace, "helm-ns");
    assert_eq!(
        p.regions[0].values_files[1],
        Path::new("region1/camunda-values.yml")
    );
    let err = plan(&req("recreated"), &env, &eks_dir()).expect_err("no context");
    assert_eq!(err.exit_code(), 2);
    let mut r = req("recreated");
    r.recreated_context = Some("flag-ctx".into());
    r.recreated_namespace = Some("flag-ns".into());
    // helm's --kube-context names another cluster than the one upgraded: refused.
    let err = plan(&r, &env, &eks_dir()).expect_err("helm-ctx is not targeted");
    assert_eq!(err.exit_code(), 2);
    let env = Env::from_pairs([
        ("HELM_NAMESPACE", "helm-ns"),
        ("REGION_SURVIVING", "region1"),
    ]);
    let p = plan(&r, &env, &eks_dir()).expect("plan");
    assert_eq!(p.regions[0].context, "flag-ctx");
    assert_eq!(p.regions[0].id, Some(RegionId::ZERO));
}

#[test]
fn the_surviving_region_defaults_to_the_current_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\ncurrent-context: cur\ncontexts:\n- name: cur\n  context:\n    cluster: c\n    namespace: cur-ns\n",
    )
    .expect("write");
    let env = Env::from_pairs([
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("REGION_SURVIVING", "region0".to_string()),
    ]);
    let p = plan(&req("surviving"), &env, &eks_dir()).expect("plan");
    assert_eq!(p.regions[0].context, "cur");
    assert_eq!(p.regions[0].namespace, "cur-ns");
}

#[test]
fn region_values_select_one_file_per_region_after_the_f_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/values/openshift-8.8");
    let mut r = req("both");
    r.values = vec!["values-base.yml".into()];
    r.region_values = vec![
        "region0=values-region-1.yml".into(),
        "region1=values-region-2.yml".into(),
    ];
    let p = plan(&r, &docs_env(), &dir).expect("plan");
    assert_eq!(
        p.regions[1].values_files,
        [
            Path::new("values-base.yml"),
            Path::new("values-region-2.yml")
        ]
    );
    r.region_values.pop();
    let err = plan(&r, &docs_env(), &dir).expect_err("region1 missing");
    assert!(err.to_string().contains("no file for region1"), "{err}");
    r.region_values = vec!["nonsense".into()];
    assert_eq!(
        plan(&r, &docs_env(), &dir)
            .map(|_| ())
            .map_err(|e| e.exit_code()),
        Err(2)
    );
}

#[test]
fn bad_input_is_a_usage_error() {
    let mut r = req("surviving");
    r.timeout = Some("ten minutes".into());
    assert!(plan(&r, &docs_env(), &eks_dir()).is_err());
    assert!("region2".parse::<Target>().is_err());
    let missing =
        plan(&req("surviving"), &docs_env(), Path::new("/nonexistent")).expect_err("no values");
    assert_eq!(missing.exit_code(), 2);
    assert!(
        missing
            .to_string()
            .starts_with("camunda-values.yml: no such values file"),
        "{missing}"
    );
    for ok in ["10m", "600s", "1h30m", "1.5h"] {
        assert!(parse_go_duration(ok).is_ok(), "{ok}");
    }
}

#[test]
fn empty_flags_are_refused_by_name() {
    for (flag, set) in [
        (
            "--chart",
            (|r: &mut RedeployRequest| r.chart = Some(String::new())) as fn(&mut RedeployRequest),
        ),
        ("--version", |r| r.version = Some(" ".into())),
        ("--release", |r| r.release = Some(String::new())),
    ] {
        let mut r = req("surviving");
        set(&mut r);
        let err = plan(&r, &docs_env(), &eks_dir()).expect_err(flag);
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().starts_with(&format!("{flag} is empty")),
            "{err}"
        );
    }
}

#[test]
fn extra_args_that_override_the_region_or_the_overlay_are_refused() {
    for bad in [
        &["--kube-context", "region0"][..],
        &["--kube-context=region0"],
        &["--namespace", "x"],
        &["--namespace=x"],
        &["-n", "x"],
        &["-nx"],
        &["-n=x"],
        &["-in", "x"],
        &["--kubeconfig", "/k"],
        &["--kube-apiserver=https://x"],
        &["-f", "late.yaml"],
        &["--values=late.yaml"],
        &["-if", "late.yaml"],
        &["--version", "1.0.0"],
        &["--set", "orchestration.env[0].name=X"],
        &["--set", "a=b,orchestration.profiles.operate=true"],
        &["--set-string=orchestration.env=x"],
        &["--atomic", "--set-json", "orchestration.profiles={}"],
    ] {
        let extra: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        let err = check_extra_args(&extra).expect_err(&format!("{bad:?}"));
        assert_eq!(err.exit_code(), 2);
        let mut r = req("surviving");
        r.extra_args = extra;
        assert!(plan(&r, &docs_env(), &eks_dir()).is_err(), "{bad:?}");
    }
    for refused in [
        vec![
            "--set".to_string(),
            "orchestration.env[2].value=hunter2".to_string(),
        ],
        vec!["--set-string=orchestration.env[2].value=hunter2".to_string()],
    ] {
        let err = check_extra_args(&refused).expect_err("refused");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(
            err.to_string().contains("orchestration.env[2].value"),
            "{err}"
        );
    }
    for good in [
        &["--atomic", "--set", "orchestration.resources.limits.cpu=2"][..],
        &["--set", "orchestration.environment=x"],
        &["--timeout=5m", "--wait-for-jobs", "-i"],
        &["--description", "failback"],
    ] {
        let extra: Vec<String> = good.iter().map(|s| s.to_string()).collect();
        assert!(check_extra_args(&extra).is_ok(), "{good:?}");
    }
}

#[test]
fn helm_kube_context_naming_no_targeted_region_is_refused() {
    let env = docs_env_with(&[("HELM_KUBECONTEXT", "ctx-b")]);
    let err = plan(&req("surviving"), &env, &eks_dir()).expect_err("names region1");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("region0 = context ctx-a"), "{err}");
    assert!(plan(&req("both"), &env, &eks_dir()).is_ok());
    assert!(plan(&req("recreated"), &env, &eks_dir()).is_ok());
}

#[test]
fn a_failing_region_passes_its_exit_code_through_by_name() {
    let p = plan(&req("both"), &docs_env(), &eks_dir()).expect("plan");
    let mut report = p.dry_run().expect("dry run");
    assert!(report.error().is_none());
    report.regions[1].exit_code = Some(3);
    report.regions[1].output = "Error: UPGRADE FAILED: boom\n".into();
    let err = report.error().expect("failed");
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("region1"), "{err}");
    assert!(err.to_string().contains("boom"), "{err}");
}

const OLD: &str =
    "spring:\n  profiles:\n    active: \"broker,identity,operate,tasklist,consolidated-auth\"\n";
const NEW: &str = "spring:\n  profiles:\n    active: \"identity,consolidated-auth,broker\"\n";

fn no_webapps() -> std::collections::BTreeSet<String> {
    ["broker", "identity", "consolidated-auth"]
        .map(String::from)
        .into_iter()
        .collect()
}

#[tokio::test(start_paused = true)]
async fn verification_waits_until_the_profiles_match_as_a_set() {
    let mut n = 0;
    let fetch = || {
        n += 1;
        let k = n;
        async move {
            Ok(match k {
                1 => None,
                2 | 3 => Some(OLD.to_string()),
                _ => Some(NEW.to_string()),
            })
        }
    };
    let (result, seen) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(60)).await;
    assert!(result.is_ok());
    assert_eq!(seen, Some(no_webapps()));
}

#[tokio::test(start_paused = true)]
async fn verification_times_out_with_what_it_saw() {
    let fetch = || async { Ok(Some(OLD.to_string())) };
    let (result, seen) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(5)).await;
    let err = result.expect_err("times out");
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("operate"), "{err}");
    assert_eq!(seen.map(|s| s.len()), Some(5));
    let fetch = || async { Err(Error::unreachable("api", "connection refused")) };
    let (result, _) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(5)).await;
    assert_eq!(result.map_err(|e| e.exit_code()), Err(5));
}

#[test]
fn the_plan_knows_which_profiles_to_expect() {
    let mut r = req("recreated");
    r.overlay.no_webapps = true;
    let p = plan(&r, &docs_env(), &eks_dir()).expect("plan");
    assert_eq!(
        p.regions[0].expected_profiles,
        ["broker", "consolidated-auth", "identity"]
    );
    assert_eq!(
        crate::chart::unified_configmap("camunda"),
        "camunda-zeebe-configuration-unified"
    );
}

/// A values chain of one file in a temporary directory, planned for `line`.
fn plan_with_values(
    line: crate::release::Line,
    yaml: &str,
    overlay: OverlayOptions,
) -> (tempfile::TempDir, Plan) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("values.yml"), yaml).expect("values written");
    let mut r = req("recreated");
    r.values = vec!["values.yml".into()];
    r.overlay = overlay;
    let p = Plan::new(&r, &docs_env(), dir.path(), row(line)).expect("plan");
    (dir, p)
}

#[test]
fn from_89_the_plan_expects_the_admin_profile() {
    use crate::release::Line;
    for line in [Line(8, 9), Line(8, 10)] {
        let off = OverlayOptions {
            no_webapps: true,
            no_schema_manager: true,
        };
        let (_dir, p) = plan_with_values(line, "global: {}\n", off);
        assert_eq!(
            p.regions[0].expected_profiles,
            ["admin", "broker", "consolidated-auth"],
            "{line}"
        );
        // --no-webapps turns off the same keys in every chart.
        assert_eq!(
            p.regions[0].overlay.document["orchestration"]["profiles"],
            serde_json::json!({"operate": false, "tasklist": false})
        );
        let (_dir, p) = plan_with_values(line, "global: {}\n", OverlayOptions::default());
        assert_eq!(
            p.regions[0].expected_profiles,
            [
                "admin",
                "broker",
                "consolidated-auth",
                "operate",
                "tasklist"
            ]
        );
    }
    let (_dir, p) = plan_with_values(Line(8, 8), "global: {}\n", OverlayOptions::default());
    assert_eq!(
        p.regions[0].expected_profiles,
        [
            "broker",
            "consolidated-auth",
            "identity",
            "operate",
            "tasklist"
        ]
    );
}

const CANONICAL: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";

#[test]
fn an_810_plan_turns_off_the_users_canonical_switch_and_never_adds_the_legacy_one() {
    use crate::release::Line;
    let values = format!(
        "orchestration:\n  env:\n    - name: {CANONICAL}\n      value: \"true\"\n    - name: A\n      value: \"1\"\n"
    );
    let on = OverlayOptions {
        no_webapps: true,
        no_schema_manager: true,
    };
    let (_dir, p) = plan_with_values(Line(8, 10), &values, on);
    let yaml = &p.overlays(false).expect("overlays")[0].1;
    assert!(
        yaml.contains(CANONICAL) && !yaml.contains(crate::values::SCHEMA_MANAGER_VAR),
        "{yaml}"
    );
    let env = &p.regions[0].overlay.document["orchestration"]["env"];
    assert_eq!(
        env[0],
        serde_json::json!({"name": CANONICAL, "value": "false"})
    );
    // Without the flag, the spelling is removed and the file that still sets it is named.
    let (_dir, p) = plan_with_values(Line(8, 10), &values, OverlayOptions::default());
    let notices = &p.regions[0].overlay.notices;
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with(CANONICAL) && n.contains("values.yml")),
        "{notices:?}"
    );
    assert_eq!(
        p.regions[0].overlay.document["orchestration"]["env"],
        serde_json::json!([{"name": "A", "value": "1"}])
    );
    // The same file planned for 8.8: the canonical name means nothing there, the legacy one is
    // added (the behaviour of 8.8, unchanged).
    let (_dir, p) = plan_with_values(Line(8, 8), &values, on);
    let names: Vec<&str> = p.regions[0].overlay.document["orchestration"]["env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, [CANONICAL, "A", crate::values::SCHEMA_MANAGER_VAR]);
}

#[test]
fn a_plan_from_the_chart_label_says_which_release_it_planned_for() {
    let labelled = release::label_row("region0", "camunda-platform-14.0.3")
        .expect("known")
        .expect("camunda");
    let mut r = req("surviving");
    r.version = Some("14.0.3".into());
    let p = Plan::new(&r, &docs_env(), &eks_dir(), labelled).expect("plan");
    assert!(
        p.notices
            .iter()
            .any(|n| n.contains("Camunda 8.9 (chart 14.x)") && n.contains("in region0")),
        "{:?}",
        p.notices
    );
    let p = plan(&r, &docs_env(), &eks_dir()).expect("plan");
    assert!(!p.notices.iter().any(|n| n.contains("planned for")));
}

/// Attack A5: a printed plan pasted into a shell runs what was shown (`<15` is a redirection).
#[test]
fn a_shown_command_line_quotes_what_a_shell_would_read_otherwise() {
    let argv: Vec<String> = [
        "helm",
        "upgrade",
        "--version",
        "<15",
        "-f",
        "<generated overlay>",
        "it's",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        super::command_line(&argv),
        r"helm upgrade --version '<15' -f '<generated overlay>' 'it'\''s'"
    );
}
