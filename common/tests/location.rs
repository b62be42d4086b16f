//! Both plugins answer "where is this region" and "may I proceed without asking" the same way
//! for the same flags and environment: kubectl c8dr through `GlobalFlags::resolve`, helm c8dr
//! through `helm::Plan::new` and `helm::redeploy`.

use std::path::{Path, PathBuf};

use c8dr_common::config::Env;
use c8dr_common::helm::{self, Plan, RedeployRequest};
use c8dr_common::region::{RegionRef, Target};
use c8dr_common::session::GlobalFlags;

fn values_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/values/c8-multi-region-8.8")
}

/// helm's request for one region with explicit values (so the region id need not be known).
fn helm_request(region: RegionRef) -> RedeployRequest {
    RedeployRequest {
        target: Some(Target::One(region)),
        values: vec!["camunda-values.yml".into()],
        ..Default::default()
    }
}

/// (context, namespace) as kubectl c8dr resolves them.
fn kubectl(region: RegionRef, flags: (Option<&str>, Option<&str>), env: &Env) -> (String, String) {
    let global = GlobalFlags {
        region: Some(region.to_string()),
        context: flags.0.map(String::from),
        namespace: flags.1.map(String::from),
        ..Default::default()
    };
    let (settings, _) = global.resolve(env.clone()).expect("kubectl resolves");
    (
        settings.location.context.expect("a context"),
        settings.location.namespace.expect("a namespace"),
    )
}

/// The 8.8 row (what these tests were written for; the row changes no location).
fn row88() -> c8dr_common::helm::ChartRow {
    c8dr_common::helm::ChartRow {
        facts: c8dr_common::release::OLDEST,
        source: c8dr_common::helm::RowSource::Pinned {
            source: "--version",
        },
    }
}

/// (context, namespace) as helm c8dr resolves them, the flags given for the region's side.
fn helm(
    region: RegionRef,
    side: RegionRef,
    flags: (Option<&str>, Option<&str>),
    env: &Env,
) -> (String, String) {
    let mut req = helm_request(region);
    let (context, namespace) = (flags.0.map(String::from), flags.1.map(String::from));
    match side {
        RegionRef::Recreated => {
            req.recreated_context = context;
            req.recreated_namespace = namespace;
        }
        _ => {
            req.surviving_context = context;
            req.surviving_namespace = namespace;
        }
    }
    let plan = Plan::new(&req, env, &values_dir(), row88()).expect("helm plans");
    let r = &plan.regions[0];
    (r.context.clone(), r.namespace.clone())
}

/// (environment, --region, the side whose helm flags stand for kubectl's, (context flag,
/// namespace flag), the expected (context, namespace)).
type Case<'a> = (
    &'a Env,
    RegionRef,
    RegionRef,
    (Option<&'a str>, Option<&'a str>),
    (&'a str, &'a str),
);

#[test]
fn both_plugins_locate_a_region_alike_for_the_same_flags_and_environment() {
    let docs = Env::from_pairs([
        ("CLUSTER_SURVIVING", "ctx-a"),
        ("CAMUNDA_NAMESPACE_SURVIVING", "ns-a"),
        ("REGION_SURVIVING", "region0"),
        ("CLUSTER_RECREATED", "ctx-b"),
        ("CAMUNDA_NAMESPACE_RECREATED", "ns-b"),
    ]);
    let by_index = Env::from_pairs([
        ("CLUSTER_0", "c0"),
        ("CAMUNDA_NAMESPACE_0", "n0"),
        ("CLUSTER_1", "c1"),
        ("CAMUNDA_NAMESPACE_1", "n1"),
        ("REGION_RECREATED", "region0"),
    ]);
    // The recreated region known only by its id and namespace: the context comes from a flag.
    let no_recreated_context = Env::from_pairs([
        ("CLUSTER_SURVIVING", "ctx-a"),
        ("CAMUNDA_NAMESPACE_SURVIVING", "ns-a"),
        ("REGION_SURVIVING", "region0"),
        ("CAMUNDA_NAMESPACE_1", "n1"),
    ]);
    let zero = RegionRef::Index("region0".parse().expect("id"));
    let one = RegionRef::Index("region1".parse().expect("id"));
    let cases: Vec<Case> = vec![
        (
            &docs,
            RegionRef::Surviving,
            RegionRef::Surviving,
            (None, None),
            ("ctx-a", "ns-a"),
        ),
        (
            &docs,
            RegionRef::Recreated,
            RegionRef::Recreated,
            (None, None),
            ("ctx-b", "ns-b"),
        ),
        (
            &docs,
            one,
            RegionRef::Recreated,
            (None, None),
            ("ctx-b", "ns-b"),
        ),
        (
            &docs,
            zero,
            RegionRef::Surviving,
            (Some("flag"), None),
            ("flag", "ns-a"),
        ),
        (
            &docs,
            RegionRef::Recreated,
            RegionRef::Recreated,
            (None, Some("fns")),
            ("ctx-b", "fns"),
        ),
        (
            &by_index,
            RegionRef::Surviving,
            RegionRef::Surviving,
            (None, None),
            ("c1", "n1"),
        ),
        (
            &by_index,
            RegionRef::Recreated,
            RegionRef::Recreated,
            (None, None),
            ("c0", "n0"),
        ),
        (
            &by_index,
            zero,
            RegionRef::Recreated,
            (None, None),
            ("c0", "n0"),
        ),
        (
            &no_recreated_context,
            RegionRef::Recreated,
            RegionRef::Recreated,
            (Some("flag-b"), None),
            ("flag-b", "n1"),
        ),
    ];
    for (env, region, side, flags, (context, namespace)) in cases {
        let expected = (context.to_string(), namespace.to_string());
        assert_eq!(
            kubectl(region, flags, env),
            expected,
            "kubectl {region} {flags:?}"
        );
        assert_eq!(
            helm(region, side, flags, env),
            expected,
            "helm {region} {flags:?}"
        );
    }
}

#[test]
fn a_recreated_region_without_any_context_is_bad_input_in_both_plugins() {
    let env = Env::from_pairs([("REGION_SURVIVING", "region0")]);
    let kubectl = GlobalFlags {
        region: Some("recreated".into()),
        ..Default::default()
    }
    .resolve(env.clone())
    .map(|_| ())
    .map_err(|e| e.exit_code());
    assert_eq!(kubectl, Err(2));
    let helm = Plan::new(
        &helm_request(RegionRef::Recreated),
        &env,
        &values_dir(),
        row88(),
    )
    .map(|_| ())
    .map_err(|e| e.exit_code());
    assert_eq!(helm, Err(2));
}

const YES: &[&str] = &["1", "true", "yes", "y", "Y", "TRUE", "Yes", " 1 "];
const NO: &[&str] = &["0", "false", "no", "n", "off"];

#[test]
fn kubectl_c8dr_takes_the_same_values_of_c8dr_assume_yes_as_helm_c8dr() {
    for (values, expected) in [(YES, true), (NO, false)] {
        for v in values {
            let env = Env::from_pairs([("C8DR_ASSUME_YES", *v)]);
            let (_, ui) = GlobalFlags::default()
                .resolve(env.clone())
                .expect("resolves");
            assert_eq!(ui.assume_yes, expected, "kubectl C8DR_ASSUME_YES={v:?}");
            assert_eq!(
                c8dr_common::ui::assume_yes(false, &env),
                expected,
                "helm C8DR_ASSUME_YES={v:?}"
            );
        }
    }
}

#[tokio::test]
async fn helm_c8dr_redeploys_without_asking_for_every_yes_value() {
    // `true` stands in for helm: the redeploy runs it once per region and it exits 0. The
    // region's Kubernetes API must answer (checked before helm runs): a simulated one.
    let cluster = crate::support::Cluster::start(c8dr_sim::SimConfig::default()).await;
    let kubeconfig = cluster.sim.kubeconfig.display().to_string();
    for v in YES {
        let env = Env::from_pairs([
            ("C8DR_ASSUME_YES", *v),
            ("HELM_BIN", "true"),
            ("CLUSTER_SURVIVING", "c8dr-sim-region0"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-region0"),
            ("KUBECONFIG", kubeconfig.as_str()),
        ]);
        let report = helm::redeploy(&helm_request(RegionRef::Surviving), &env, &values_dir())
            .await
            .unwrap_or_else(|e| panic!("C8DR_ASSUME_YES={v:?}: {e}"));
        assert_eq!(
            report.regions[0].exit_code,
            Some(0),
            "C8DR_ASSUME_YES={v:?}"
        );
        assert!(report.error().is_none());
    }
}

/// A kubeconfig with contexts `a`, `b` (own servers) and `a-alias` (on `a`'s server).
fn two_cluster_kubeconfig(dir: &Path) -> PathBuf {
    let path = dir.join("config");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n\
         - name: ca\n  cluster:\n    server: https://10.0.0.1:6443\n\
         - name: cb\n  cluster:\n    server: https://10.0.0.2:6443\n\
         - name: ca2\n  cluster:\n    server: https://10.0.0.1:6443/\n\
         contexts:\n\
         - name: a\n  context:\n    cluster: ca\n    user: u\n\
         - name: b\n  context:\n    cluster: cb\n    user: u\n\
         - name: a-alias\n  context:\n    cluster: ca2\n    user: u\n\
         users:\n- name: u\n  user:\n    token: t\n",
    )
    .expect("write kubeconfig");
    path
}

fn docs_env(kubeconfig: &Path, extra: &[(&str, &str)]) -> Env {
    let mut pairs: Vec<(String, String)> = vec![
        ("KUBECONFIG".into(), kubeconfig.display().to_string()),
        ("CLUSTER_SURVIVING".into(), "a".into()),
        ("CAMUNDA_NAMESPACE_SURVIVING".into(), "ns-a".into()),
        ("REGION_SURVIVING".into(), "region0".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(pairs)
}

/// The usage error (exit 2) of both plugins for `env`, as text.
fn both_refuse(env: &Env) -> Vec<String> {
    let kubectl = GlobalFlags::default()
        .resolve(env.clone())
        .err()
        .map(|e| (e.exit_code(), e.to_string()));
    let helm = Plan::new(
        &helm_request(RegionRef::Surviving),
        env,
        &values_dir(),
        row88(),
    )
    .err()
    .map(|e| (e.exit_code(), e.to_string()));
    [("kubectl", kubectl), ("helm", helm)]
        .into_iter()
        .map(|(who, r)| {
            let (code, msg) = r.unwrap_or_else(|| panic!("{who} accepted {env:?}"));
            assert_eq!(code, 2, "{who}: {msg}");
            msg
        })
        .collect()
}

#[test]
fn two_region_variables_naming_one_context_are_bad_input_naming_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = two_cluster_kubeconfig(dir.path());
    // The attack: the other region's index variable names the surviving context.
    let env = docs_env(&kc, &[("CLUSTER_1", "a"), ("CAMUNDA_NAMESPACE_1", "ns-b")]);
    for msg in both_refuse(&env) {
        assert!(
            msg.contains("CLUSTER_SURVIVING") && msg.contains("CLUSTER_1"),
            "{msg}"
        );
    }
    // The surviving region left to the current context, the recreated one naming it.
    let env = Env::from_pairs([
        ("KUBECONFIG", kc.display().to_string()),
        ("CLUSTER_RECREATED", "a".into()),
    ]);
    for msg in both_refuse(&env) {
        assert!(
            msg.contains("CLUSTER_RECREATED") && msg.contains("current-context"),
            "{msg}"
        );
    }
    // Distinct clusters are fine.
    let env = docs_env(&kc, &[("CLUSTER_1", "b"), ("CAMUNDA_NAMESPACE_1", "ns-b")]);
    assert!(GlobalFlags::default().resolve(env).is_ok());
}

#[test]
fn two_contexts_on_one_api_server_are_bad_input_naming_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = two_cluster_kubeconfig(dir.path());
    let env = docs_env(&kc, &[("CLUSTER_RECREATED", "a-alias")]);
    for msg in both_refuse(&env) {
        assert!(
            msg.contains("CLUSTER_SURVIVING")
                && msg.contains("CLUSTER_RECREATED")
                && msg.contains("10.0.0.1"),
            "{msg}"
        );
    }
    // The --context flag of kubectl c8dr is compared too.
    let env = docs_env(&kc, &[("CLUSTER_RECREATED", "b")]);
    let err = GlobalFlags {
        region: Some("recreated".into()),
        context: Some("a-alias".into()),
        ..Default::default()
    }
    .resolve(env)
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("--context") && err.contains("CLUSTER_SURVIVING"),
        "{err}"
    );
}

#[test]
fn a_kubeconfig_naming_a_context_cluster_or_user_twice_is_refused_as_kubectl_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = std::fs::read_to_string(two_cluster_kubeconfig(dir.path())).expect("read");
    for (kind, dup) in [
        ("context", base.replace("- name: a-alias\n", "- name: b\n")),
        ("cluster", base.replace("- name: ca2\n", "- name: cb\n")),
        (
            "user",
            base.replace("users:\n", "users:\n- name: u\n  user:\n    token: other\n"),
        ),
    ] {
        let path = dir.path().join(format!("dup-{kind}"));
        std::fs::write(&path, dup).expect("write");
        let env = Env::from_pairs([
            ("KUBECONFIG", path.display().to_string()),
            ("CLUSTER_SURVIVING", "a".into()),
        ]);
        for msg in both_refuse(&env) {
            assert!(
                msg.contains("KUBECONFIG") && msg.contains(&format!("two {kind}s")),
                "{kind}: {msg}"
            );
        }
        let err = GlobalFlags {
            kubeconfig: Some(path.clone()),
            ..Default::default()
        }
        .resolve(Env::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("--kubeconfig"), "{kind}: {err}");
    }
}
