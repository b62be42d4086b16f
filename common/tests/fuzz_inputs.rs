//! Everything c8dr parses from outside, fed generated input (issue 19 §2; docs/security.md):
//! values files, kubeconfigs, the environment and the flags' values, durations, broker id lists,
//! chart version constraints. Each property: nothing panics; a refusal is bad input (exit 2,
//! never a crash or another class); what is echoed back is bounded and never carries a secret.
//! Cases per property are fixed in [`config`] (256 for the pure parsers).

use c8dr_common::config::Env;
use c8dr_common::duration::{parse_duration, parse_go_duration};
use c8dr_common::session::GlobalFlags;
use c8dr_common::values::{OverlayOptions, build_overlay, load_file};
use c8dr_common::zeebe::brokers::parse_ids;
use proptest::prelude::*;

/// The longest error line a user should ever get for one bad value (a terminal or two).
const MAX_ERROR: usize = 4096;

fn usage_or_ok<T>(r: c8dr_common::Result<T>, what: &str) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert_eq!(e.exit_code(), 2, "{}: {}", what, e);
        prop_assert!(
            e.to_string().len() <= MAX_ERROR,
            "{}: an error of {} bytes",
            what,
            e.to_string().len()
        );
    }
    Ok(())
}

/// Text that looks like a values file: YAML fragments a user might write, and some that no one
/// would, in any order and nesting.
fn values_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("orchestration:\n".to_string()),
        Just("  env:\n".to_string()),
        Just("  env: {}\n".to_string()),
        Just("  env: 5\n".to_string()),
        Just("  env: null\n".to_string()),
        Just("    - name: CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA\n".to_string()),
        Just("      value: \"false\"\n".to_string()),
        Just("    - {name: X, valueFrom: {secretKeyRef: {name: s, key: k}}}\n".to_string()),
        Just("    - 42\n".to_string()),
        Just("    - name: [a]\n".to_string()),
        Just("  profiles: {operate: false, tasklist: yes}\n".to_string()),
        Just("  replicationFactor: '4'\n".to_string()),
        Just("global: &a {multiregion: {regions: 2}}\n".to_string()),
        Just("other: *a\n".to_string()),
        Just("other: *missing\n".to_string()),
        Just("- list at top\n".to_string()),
        Just("key: !!binary aGVsbG8=\n".to_string()),
        Just("key: [1, 2\n".to_string()),
        Just("\t tab: indent\n".to_string()),
        Just("---\n".to_string()),
        Just("? complex\n: key\n".to_string()),
        "[ -~]{0,40}\n",
        "\\PC{0,20}\n",
    ];
    prop::collection::vec(fragment, 0..12).prop_map(|v| v.concat())
}

/// Generated cases; a failing one is printed (minimal input), not written into the checkout.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]
    #[test]
    fn values_files_never_panic_and_refusals_are_bad_input(text in values_text(), no_webapps: bool, no_schema: bool) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("values.yaml");
        std::fs::write(&path, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match load_file(&path) {
            Ok(doc) => {
                for row in &c8dr_common::release::KNOWN {
                    usage_or_ok(
                        build_overlay(
                            &doc,
                            OverlayOptions { no_webapps, no_schema_manager: no_schema },
                            &row.schema_switch,
                        ),
                        "overlay",
                    )?;
                }
            }
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2, "{}", e);
                prop_assert!(e.to_string().contains("values.yaml"), "names the file: {}", e);
            }
        }
    }

    #[test]
    fn durations_never_panic(raw in "\\PC{0,24}|[0-9]{1,30}[a-z]{0,3}") {
        usage_or_ok(parse_duration("--timeout", &raw), "duration")?;
        usage_or_ok(parse_go_duration(&raw), "go duration")?;
    }

    #[test]
    fn broker_id_lists_never_panic_and_come_out_sorted(raw in "[0-9, ]{0,30}|\\PC{0,20}") {
        match parse_ids(&raw) {
            Ok(ids) => prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "{:?}", ids),
            Err(e) => prop_assert_eq!(e.exit_code(), 2, "{}", e),
        }
    }

    #[test]
    fn chart_version_constraints_never_panic(raw in "[0-9.<>=~^*x, |-]{0,24}|\\PC{0,24}") {
        usage_or_ok(c8dr_common::helm::version::check("--version", Some(&raw)), "--version")?;
    }
}

/// A kubeconfig with generated contexts: duplicated names, missing clusters, odd types.
fn kubeconfig_text() -> impl Strategy<Value = (String, bool)> {
    let ctx_name = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("a".to_string()),
        "[a-z]{1,6}",
        "\\PC{0,8}"
    ];
    let context = (
        ctx_name,
        prop_oneof![Just("c1"), Just("c2"), Just("missing")],
        prop::option::of("[a-z-]{0,10}"),
    )
        .prop_map(|(name, cluster, ns)| {
            let ns = ns
                .map(|n| format!(", namespace: {n:?}"))
                .unwrap_or_default();
            (
                name.clone(),
                format!("- name: {name:?}\n  context: {{cluster: {cluster}, user: u{ns}}}\n"),
            )
        });
    (
        prop::collection::vec(context, 0..5),
        prop::option::of(prop_oneof![Just("a"), Just("b"), Just("zz")]),
        prop::bool::ANY,
    )
        .prop_map(|(contexts, current, broken)| {
            let mut s = String::from("apiVersion: v1\nkind: Config\n");
            s.push_str(
                "clusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:1'}\n\
                 - name: c2\n  cluster: {server: 'https://127.0.0.2:1'}\n",
            );
            s.push_str("users:\n- name: u\n  user: {token: t}\n");
            let mut names: Vec<&String> = contexts.iter().map(|(n, _)| n).collect();
            names.sort();
            let duplicated = !broken && names.windows(2).any(|w| w[0] == w[1]);
            if broken {
                s.push_str("contexts: {not: a list}\n");
            } else {
                s.push_str("contexts:\n");
                for (_, c) in &contexts {
                    s.push_str(c);
                }
            }
            if let Some(c) = current {
                s.push_str(&format!("current-context: {c}\n"));
            }
            (s, duplicated)
        })
}

/// The variables of the docs and the flags, each given a generated value (or left unset).
fn environment() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("region0".to_string()),
        Just("region1".to_string()),
        Just("camunda".to_string()),
        "[a-z0-9-]{0,12}",
        "\\PC{0,16}",
        "[ -~]{200,300}",
    ];
    // Every variable c8dr reads, but the secrets: those carry the canaries below.
    let keys: Vec<&str> = c8dr_common::config::VARIABLES
        .iter()
        .copied()
        .filter(|k| !CANARIES.iter().any(|(c, _)| c == k))
        .collect();
    let n = keys.len();
    prop::collection::vec(prop::option::of(value), n).prop_map(move |values| {
        keys.iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect()
    })
}

/// Secrets set in every generated environment: no error may print them.
const CANARIES: [(&str, &str); 2] = [
    ("CAMUNDA_CLIENT_AUTH_PASSWORD", "cnry-fuzz-pw-7Hq2x"),
    (
        "CAMUNDA_CLIENT_AUTH_CLIENT_SECRET",
        "cnry-fuzz-secret-3Vb8n",
    ),
];

proptest! {
    #![proptest_config(config(128))]
    #[test]
    fn kubeconfig_environment_and_flags_resolve_or_are_refused_as_bad_input(
        (kubeconfig, duplicated) in kubeconfig_text(),
        env in environment(),
        context in prop::option::of(prop_oneof![Just("a".to_string()), Just("b".to_string()), "\\PC{0,10}"]),
        namespace in prop::option::of("[a-z0-9-]{0,10}|\\PC{0,10}"),
        region in prop::option::of(prop_oneof![Just("surviving".to_string()), Just("recreated".to_string()), Just("0".to_string()), Just("1".to_string()), "\\PC{0,10}"]),
        release in prop::option::of("[a-z0-9-]{0,10}|[ -~]{100,200}"),
        timeout in prop::option::of("[0-9]{1,4}[smh]|\\PC{0,10}"),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, &kubeconfig).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut pairs = env;
        pairs.push(("KUBECONFIG".into(), path.display().to_string()));
        pairs.push(("HOME".into(), dir.path().display().to_string()));
        for (k, v) in CANARIES {
            pairs.push((k.into(), v.into()));
        }
        // Two region variables naming one context: both regions would be one cluster.
        let named = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let same_cluster = [("CLUSTER_SURVIVING", "CLUSTER_RECREATED"), ("CLUSTER_0", "CLUSTER_1")]
            .iter()
            .any(|(a, b)| named(a).is_some() && named(a) == named(b));
        let flags = GlobalFlags {
            context,
            namespace,
            region,
            release,
            timeout,
            yes: true,
            quiet: true,
            ..GlobalFlags::default()
        };
        let resolved = flags.resolve(Env::from_pairs(pairs));
        // kubectl refuses a kubeconfig with two contexts of one name (client-go's v1 conversion:
        // `duplicate name … in list`), whichever context is used.
        if duplicated {
            prop_assert!(resolved.is_err(), "a kubeconfig with a duplicated context name was accepted");
        }
        if same_cluster {
            prop_assert!(resolved.is_err(), "two regions naming one context were accepted");
        }
        if let Err(e) = resolved {
            let text = e.to_string();
            prop_assert_eq!(e.exit_code(), 2, "{}", text);
            prop_assert!(text.len() <= MAX_ERROR, "an error of {} bytes", text.len());
            for (k, secret) in CANARIES {
                prop_assert!(!text.contains(secret), "{} printed: {}", k, text);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]
    /// With an otherwise valid set-up, exactly the mistakes that make c8dr talk to the wrong
    /// cluster are refused: a context name given twice in the kubeconfig, and two regions that
    /// name one context or two contexts of one API server.
    #[test]
    fn the_two_regions_are_two_clusters_or_the_setup_is_refused(
        surviving in 0usize..3,
        recreated in 0usize..3,
        duplicate_name: bool,
        region in prop_oneof![Just("surviving"), Just("recreated")],
    ) {
        // Contexts a and b are two clusters; c is a second name for a's API server.
        let contexts = ["a", "b", "c"];
        let servers = ["https://127.0.0.1:1", "https://127.0.0.2:1", "https://127.0.0.1:1"];
        let mut kubeconfig = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
        for (i, s) in servers.iter().enumerate() {
            kubeconfig.push_str(&format!("- name: k{i}\n  cluster: {{server: '{s}'}}\n"));
        }
        kubeconfig.push_str("users:\n- name: u\n  user: {token: t}\ncontexts:\n");
        for (i, c) in contexts.iter().enumerate() {
            kubeconfig.push_str(&format!("- name: {c}\n  context: {{cluster: k{i}, user: u}}\n"));
        }
        if duplicate_name {
            kubeconfig.push_str("- name: a\n  context: {cluster: k1, user: u}\n");
        }
        kubeconfig.push_str("current-context: a\n");
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, &kubeconfig).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let env = Env::from_pairs([
            ("KUBECONFIG", path.display().to_string()),
            ("HOME", dir.path().display().to_string()),
            ("CLUSTER_SURVIVING", contexts[surviving].to_string()),
            ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-region0".into()),
            ("REGION_SURVIVING", "region0".into()),
            ("CLUSTER_RECREATED", contexts[recreated].to_string()),
            ("CAMUNDA_NAMESPACE_RECREATED", "camunda-region1".into()),
            ("REGION_RECREATED", "region1".into()),
        ]);
        let flags = GlobalFlags {
            region: Some(region.into()),
            yes: true,
            quiet: true,
            ..GlobalFlags::default()
        };
        let one_server = servers[surviving] == servers[recreated];
        let resolved = flags.resolve(env);
        if duplicate_name || one_server {
            match resolved {
                Ok(_) => prop_assert!(
                    false,
                    "accepted: surviving {} recreated {} duplicate name {}",
                    contexts[surviving], contexts[recreated], duplicate_name
                ),
                Err(e) => prop_assert_eq!(e.exit_code(), 2, "{}", e),
            }
        } else {
            prop_assert!(resolved.is_ok(), "{:?}", resolved.err().map(|e| e.to_string()));
        }
    }
}
