//! Every fact c8dr relies on about the Camunda Helm chart (camunda/camunda-platform-helm,
//! `charts/camunda-platform-8.8`, chart 13.x, and what later charts change through the release
//! table's row, [`crate::release::Facts`]): resource names, labels, ports, containers, Secrets and
//! the Spring profile sets it renders; and the facts of the Elasticsearch the reference
//! installations run (the chart's Bitnami subchart, or ECK). One home, so that a chart change is a
//! change here or in the row only. Sources per fact in docs/api-behaviour.md §5–§6.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::region::RegionId;
use crate::release::Facts;

/// The release name without `--release` or `CAMUNDA_RELEASE_NAME` (the chart's documented one).
pub const DEFAULT_RELEASE: &str = "camunda";

/// The Elasticsearch snapshot repository the procedure registers and uses (`--repo` default),
/// the name Camunda's dual-region procedure gives it.
pub const REPOSITORY: &str = "camunda_backup";

/// The chart `helm c8dr redeploy` upgrades unless told otherwise.
pub const DEFAULT_CHART: &str = "camunda/camunda-platform";

/// Helm's release-name rule (helm/helm `pkg/chartutil/validate_name.go`, `ValidateReleaseName`:
/// a DNS-1123 subdomain of at most 53 characters). Checked before any call, naming where the
/// name came from (`source`: a flag or a variable), because the name goes into kube API paths and
/// file names.
pub fn check_release(source: &str, name: &str) -> Result<()> {
    let labels_ok = !name.is_empty() && name.split('.').all(dns1123_label);
    if labels_ok && name.len() <= 53 {
        return Ok(());
    }
    let name = crate::error::shown(name);
    Err(Error::usage(format!(
        "{source} {name}: not a valid Helm release name (lowercase letters, digits, '-' and '.', \
         starting and ending with a letter or digit, at most 53 characters)"
    )))
}

/// The release a command works on: `--release`, else `CAMUNDA_RELEASE_NAME`, else `camunda`;
/// checked against Helm's rule, naming where it came from.
pub fn release(flag: Option<&str>, env: &crate::config::Env) -> Result<String> {
    let (source, name) = match (flag, env.get("CAMUNDA_RELEASE_NAME")) {
        (Some(f), _) => ("--release", f),
        (None, Some(v)) => ("CAMUNDA_RELEASE_NAME", v),
        (None, None) => return Ok(DEFAULT_RELEASE.to_string()),
    };
    check_release(source, name)?;
    Ok(name.to_string())
}

/// A DNS-1123 label without its length limit: lowercase alphanumerics and '-', alphanumeric at
/// both ends (k8s.io/apimachinery `validation.IsDNS1123Label`).
pub fn dns1123_label(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.chars().all(|c| alnum(c) || c == '-')
        && s.starts_with(alnum)
        && s.ends_with(alnum)
}

/// The chart's `orchestration.fullname`: `<release>-zeebe`, or `<release>` alone when the release
/// name already contains `zeebe` (camunda/camunda-platform-helm, the chart's orchestration
/// `_helpers.tpl`, `orchestration.fullname`).
pub fn orchestration_fullname(release: &str) -> String {
    if release.contains("zeebe") {
        release.to_string()
    } else {
        format!("{release}-zeebe")
    }
}

/// The gateway Service of a release: `<fullname>-gateway`.
pub fn gateway_service(release: &str) -> String {
    format!("{}-gateway", orchestration_fullname(release))
}

/// The unified configuration ConfigMap of a chart 13.x (Camunda 8.8) release
/// (`<fullname>-configuration-unified`), whose `application.yaml` holds `spring.profiles.active`
/// and the cluster sizes. A caller that knows the row uses [`configuration_configmaps`].
pub fn unified_configmap(release: &str) -> String {
    format!("{}-configuration-unified", orchestration_fullname(release))
}

/// The names the orchestration configuration ConfigMap of a release may have in the row's
/// release, in the order to look for them: chart 13.x renders `<fullname>-configuration-unified`,
/// charts 14.x/15.x `<fullname>-configuration` (camunda-platform-helm 743be3fb2a "drop the
/// -unified suffix (#4938)"; the first 14.x may still render the old name).
pub fn configuration_configmaps(release: &str, facts: &Facts) -> Vec<String> {
    let fullname = orchestration_fullname(release);
    facts
        .configmap_suffixes
        .iter()
        .map(|suffix| format!("{fullname}{suffix}"))
        .collect()
}

/// The key of the unified ConfigMap that holds the rendered `application.yaml`.
pub const UNIFIED_CONFIG_KEY: &str = "application.yaml";

/// The rendered `application.yaml` of a unified ConfigMap, `None` when the ConfigMap or the key
/// is missing.
pub fn unified_config(cm: Option<k8s_openapi::api::core::v1::ConfigMap>) -> Option<String> {
    cm?.data?.remove(UNIFIED_CONFIG_KEY)
}

/// The label every orchestration (broker) pod carries.
pub const BROKER_SELECTOR: &str = "app.kubernetes.io/component=zeebe-broker";

/// The orchestration pods of one release.
pub fn broker_selector(release: &str) -> String {
    format!("{BROKER_SELECTOR},app.kubernetes.io/instance={release}")
}

/// The container of the orchestration pods (logs, env).
pub const ORCHESTRATION_CONTAINER: &str = "orchestration";

/// The gateway's management API port (actuator: cluster, exporters, exporting, partitions).
pub const MANAGEMENT_PORT: u16 = 9600;
/// The gateway's v2 REST API port (`/v2/topology`).
pub const REST_PORT: u16 = 8080;

/// The Elasticsearch pods of the bitnami subchart (chart 13.x/14.x `elasticsearch.enabled`,
/// bitnami/elasticsearch `app.kubernetes.io/name`), the 8.8 reference installation's.
pub const ES_SELECTOR: &str = "app.kubernetes.io/name=elasticsearch";
/// The container curl runs in: the subchart's and ECK's Elasticsearch container are both named
/// `elasticsearch` (bitnami/elasticsearch `master` StatefulSet; elastic/cloud-on-k8s
/// `pkg/controller/elasticsearch/nodespec` `esv1.ElasticsearchContainerName`).
pub const ES_CONTAINER: &str = "elasticsearch";

/// ECK's label naming the Elasticsearch cluster of a pod (elastic/cloud-on-k8s
/// `pkg/controller/elasticsearch/label` `ClusterNameLabelName`).
pub const ECK_CLUSTER_LABEL: &str = "elasticsearch.k8s.elastic.co/cluster-name";
/// ECK's Elasticsearch pods (elastic/cloud-on-k8s `pkg/controller/common/label` `TypeLabelName`
/// = `elasticsearch`): the 8.9/8.10 reference installations run Elasticsearch under ECK, pods
/// `elasticsearch-es-masters-N` (camunda/camunda-deployment-references stable/8.9
/// `generic/kubernetes/dual-region`; camunda-docs version-8.9 dual-region-ops.md), security on,
/// plain http on 9200 (HTTP TLS disabled there).
pub const ECK_SELECTOR: &str = "common.k8s.elastic.co/type=elasticsearch";
/// The Elasticsearch cluster name of the 8.9/8.10 reference installations (same sources).
pub const ECK_REFERENCE_CLUSTER: &str = "elasticsearch";
/// The key of ECK's `elastic` user Secret that holds the password (elastic/cloud-on-k8s
/// `pkg/controller/elasticsearch/user` `ElasticUserName`).
pub const ECK_ELASTIC_USER_KEY: &str = "elastic";

/// ECK's Secret holding the `elastic` user's password of cluster `cluster`:
/// `<cluster>-es-elastic-user` (elastic/cloud-on-k8s `pkg/controller/elasticsearch/user`
/// `esv1.ElasticUserSecret`).
pub fn eck_elastic_user_secret(cluster: &str) -> String {
    format!("{cluster}-es-elastic-user")
}

/// The bitnami subchart's Secret holding the `elastic` password: `<release>-elasticsearch`, key
/// `elasticsearch-password` (bitnami/elasticsearch `templates/secrets.yaml`).
pub fn subchart_password_secret(release: &str) -> (String, &'static str) {
    (format!("{release}-elasticsearch"), "elasticsearch-password")
}

/// Where the Elasticsearch `elastic` password lives, in order: the bitnami subchart's Secret
/// `<release>-elasticsearch` (key `elasticsearch-password`), then ECK's Secret of the reference
/// cluster ([`ECK_REFERENCE_CLUSTER`]).
pub fn es_password_secrets(release: &str) -> [(String, &'static str); 2] {
    [
        subchart_password_secret(release),
        (
            eck_elastic_user_secret(ECK_REFERENCE_CLUSTER),
            ECK_ELASTIC_USER_KEY,
        ),
    ]
}

/// The StatefulSet ordinal of a pod (`camunda-zeebe-3` → 3).
pub fn pod_ordinal(pod_name: &str) -> Option<u32> {
    pod_name.rsplit('-').next()?.parse().ok()
}

/// The Zeebe node id of the broker at `ordinal` in `region`: the dual-region values give each
/// region every other id (`nodeId = ordinal * 2 + regionId`, docs/api-behaviour.md §1).
pub fn node_id(ordinal: u32, region: RegionId) -> u32 {
    ordinal * 2 + region.index() as u32
}

/// The node id of a broker pod, from its name.
pub fn pod_node_id(pod_name: &str, region: RegionId) -> Option<u32> {
    pod_ordinal(pod_name).map(|o| node_id(o, region))
}

/// The chart's `orchestration.profiles` defaults of the row's release: the admin component's
/// profile (`identity` in chart 13.x, `admin` in 14.x/15.x: the row's `admin_profile`), `broker`,
/// `operate`, `tasklist` (camunda-platform-helm `charts/camunda-platform-8.8/values.yaml` and
/// `charts/camunda-platform-8.9/values.yaml` `orchestration.profiles`).
pub fn default_profiles(facts: &Facts) -> [&'static str; 4] {
    [facts.admin_profile, "broker", "operate", "tasklist"]
}
/// The webapps `--no-webapps` turns off (the failback's redeploys before the last): the keys
/// `orchestration.profiles.operate`/`.tasklist`, the same in charts 13.x, 14.x and 15.x.
pub const WEBAPP_PROFILES: [&str; 2] = ["operate", "tasklist"];
/// Always appended to `spring.profiles.active` by the chart (`files/_application.yaml` renders
/// the enabled profiles, then `,consolidated-auth`; charts 13.x through 15.x).
pub const AUTH_PROFILE: &str = "consolidated-auth";

/// The profiles a region of the row's release with Operate and Tasklist on renders.
pub fn full_profiles_of(facts: &Facts) -> BTreeSet<String> {
    default_profiles(facts)
        .into_iter()
        .chain([AUTH_PROFILE])
        .map(String::from)
        .collect()
}

/// The profiles a region of the row's release redeployed with `--no-webapps` renders.
pub fn no_webapps_profiles_of(facts: &Facts) -> BTreeSet<String> {
    default_profiles(facts)
        .into_iter()
        .filter(|p| !WEBAPP_PROFILES.contains(p))
        .chain([AUTH_PROFILE])
        .map(String::from)
        .collect()
}

/// [`full_profiles_of`] Camunda 8.8 (chart 13.x, [`crate::release::OLDEST`]); a caller that knows
/// the installation's row passes it to [`full_profiles_of`].
pub fn full_profiles() -> BTreeSet<String> {
    full_profiles_of(crate::release::OLDEST)
}

/// [`no_webapps_profiles_of`] Camunda 8.8 (chart 13.x, [`crate::release::OLDEST`]); a caller that
/// knows the installation's row passes it to [`no_webapps_profiles_of`].
pub fn no_webapps_profiles() -> BTreeSet<String> {
    no_webapps_profiles_of(crate::release::OLDEST)
}

/// Whether a set of active profiles serves a webapp (Operate or Tasklist).
pub fn serves_webapps<'a>(profiles: impl IntoIterator<Item = &'a String>) -> bool {
    profiles
        .into_iter()
        .any(|p| WEBAPP_PROFILES.contains(&p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_charts_fullname_rule() {
        assert_eq!(gateway_service("camunda"), "camunda-zeebe-gateway");
        assert_eq!(gateway_service("my-zeebe"), "my-zeebe-gateway");
        assert_eq!(
            unified_configmap("camunda"),
            "camunda-zeebe-configuration-unified"
        );
        assert_eq!(
            broker_selector("camunda"),
            "app.kubernetes.io/component=zeebe-broker,app.kubernetes.io/instance=camunda"
        );
    }

    #[test]
    fn release_names_follow_helms_rule_and_name_their_source() {
        for ok in ["camunda", "my-release", "a.b", "c8", &"a".repeat(53)] {
            assert!(check_release("--release", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../camunda",
            "Camunda",
            "-x",
            "x-",
            "a..b",
            "a b",
            "a\n",
            &"a".repeat(54),
        ] {
            let e = check_release("CAMUNDA_RELEASE_NAME", bad).expect_err(bad);
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("CAMUNDA_RELEASE_NAME "), "{e}");
            assert_eq!(e.to_string().lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn node_ids_interleave_the_regions() {
        assert_eq!(pod_node_id("camunda-zeebe-0", RegionId::ZERO), Some(0));
        assert_eq!(pod_node_id("camunda-zeebe-1", RegionId::ONE), Some(3));
        assert_eq!(pod_node_id("camunda-zeebe-x", RegionId::ONE), None);
    }

    #[test]
    fn the_profile_sets_differ_by_the_webapps_only() {
        let full = full_profiles();
        let off = no_webapps_profiles();
        assert!(serves_webapps(&full));
        assert!(!serves_webapps(&off));
        let diff: Vec<&String> = full.difference(&off).collect();
        assert_eq!(diff, ["operate", "tasklist"]);
        assert!(off.contains(AUTH_PROFILE) && off.contains("broker"));
        assert_eq!(full, full_profiles_of(crate::release::OLDEST));
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_profiles_follow_the_rows_admin_profile() {
        use crate::release::{KNOWN, Line, facts};
        let r88 = facts(Line(8, 8)).expect("8.8");
        assert_eq!(
            full_profiles_of(r88),
            set(&[
                "broker",
                "identity",
                "operate",
                "tasklist",
                "consolidated-auth"
            ])
        );
        for line in [Line(8, 9), Line(8, 10)] {
            let row = facts(line).expect("row");
            assert_eq!(
                full_profiles_of(row),
                set(&[
                    "admin",
                    "broker",
                    "operate",
                    "tasklist",
                    "consolidated-auth"
                ]),
                "{line}"
            );
            assert_eq!(
                no_webapps_profiles_of(row),
                set(&["admin", "broker", "consolidated-auth"]),
                "{line}"
            );
        }
        for row in &KNOWN {
            let diff: Vec<String> = full_profiles_of(row)
                .difference(&no_webapps_profiles_of(row))
                .cloned()
                .collect();
            assert_eq!(diff, ["operate", "tasklist"], "{}", row.line);
        }
    }

    #[test]
    fn the_configuration_configmap_is_named_by_the_row() {
        use crate::release::{Line, facts};
        let name = |line| configuration_configmaps("camunda", facts(line).expect("row"));
        assert_eq!(name(Line(8, 8)), ["camunda-zeebe-configuration-unified"]);
        assert_eq!(
            name(Line(8, 9)),
            [
                "camunda-zeebe-configuration",
                "camunda-zeebe-configuration-unified"
            ]
        );
        assert_eq!(name(Line(8, 10)), ["camunda-zeebe-configuration"]);
    }

    #[test]
    fn ecks_secret_is_named_after_the_cluster() {
        assert_eq!(
            eck_elastic_user_secret("elasticsearch"),
            "elasticsearch-es-elastic-user"
        );
        let [(bitnami, bitnami_key), (eck, eck_key)] = es_password_secrets("camunda");
        assert_eq!(
            (bitnami.as_str(), bitnami_key),
            ("camunda-elasticsearch", "elasticsearch-password")
        );
        assert_eq!(
            (eck.as_str(), eck_key),
            ("elasticsearch-es-elastic-user", "elastic")
        );
    }
}
