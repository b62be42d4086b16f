//! The release's files agree with each other: the committed krew manifest is the generator's,
//! a release's manifest follows krew's rules, and the install hook, plugin.yaml and the README
//! name what release.rs makes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::dist::{plugin_yaml_version, root};
use crate::krew::{Manifest, manifest, rbac_caveat};
use crate::release::{
    KREW_FILES, PLATFORMS, RELEASE_URL_ENV, SHA256SUMS, VERSION, archive_name, plugin_archive_name,
};

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_committed_krew_manifest_is_what_the_generator_writes() {
    let generated = manifest(&Manifest::Template);
    assert!(
        read("dist/krew/c8dr.yaml") == generated,
        "dist/krew/c8dr.yaml is not the generator's: run \
         `cargo xtask krew-manifest --template > dist/krew/c8dr.yaml`"
    );
}

/// krew's own rules (sigs.k8s.io/krew v0.4.3, internal/index/validation/validate.go and
/// cmd/validate-krew-manifest/main.go), checked on the manifest of an example release. The
/// real-stack tier runs krew's validate-krew-manifest itself on a real one.
fn krew_rule_violations(file_stem: &str, yaml: &str) -> Vec<String> {
    let doc: Value = serde_saphyr::from_str(yaml).expect("the manifest is YAML");
    let mut bad = vec![];
    let mut rule = |ok: bool, what: &str| {
        if !ok {
            bad.push(what.to_string());
        }
    };
    rule(
        doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2",
        "apiVersion",
    );
    rule(doc["kind"] == "Plugin", "kind");
    let name = doc["metadata"]["name"].as_str().unwrap_or_default();
    rule(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "name matches ^[\\w-]+$",
    );
    rule(name == file_stem, "the name is the file's name");
    let short = doc["spec"]["shortDescription"].as_str().unwrap_or_default();
    rule(
        !short.is_empty() && !short.contains(['\r', '\n']),
        "one-line shortDescription",
    );
    let version = doc["spec"]["version"].as_str().unwrap_or_default();
    let semver = version.strip_prefix('v').unwrap_or("x");
    let core: Vec<&str> = semver
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .collect();
    rule(
        core.len() == 3
            && core
                .iter()
                .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())),
        "version is v + semver",
    );
    let platforms = doc["spec"]["platforms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rule(!platforms.is_empty(), "at least one platform");
    let mut selected = BTreeSet::new();
    for p in &platforms {
        rule(p["uri"].as_str().is_some_and(|u| !u.is_empty()), "uri set");
        let sha = p["sha256"].as_str().unwrap_or_default();
        rule(
            sha.len() == 64 && sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
            "sha256 matches ^[a-f0-9]{64}$",
        );
        let bin = p["bin"].as_str().unwrap_or_default();
        let froms: Vec<&str> = p["files"]
            .as_array()
            .map(|fs| fs.iter().filter_map(|f| f["from"].as_str()).collect())
            .unwrap_or_default();
        rule(!froms.is_empty(), "files non-empty");
        rule(froms.contains(&bin), "bin is one of the files copied");
        rule(
            froms.iter().any(|f| f.eq_ignore_ascii_case("LICENSE")),
            "a LICENSE file is installed",
        );
        let labels = p["selector"]["matchLabels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        rule(
            !labels.is_empty() && labels.keys().all(|k| k == "os" || k == "arch"),
            "selector of os/arch only",
        );
        let os_arch = (labels.get("os").cloned(), labels.get("arch").cloned());
        rule(
            selected.insert(format!("{os_arch:?}")),
            "no two platforms select the same os/arch",
        );
    }
    bad
}

fn example_digests() -> BTreeMap<String, String> {
    PLATFORMS
        .iter()
        .enumerate()
        .map(|(i, p)| (p.target.to_string(), format!("{i:x}").repeat(64)))
        .collect()
}

#[test]
fn a_release_manifest_follows_krews_rules_with_one_platform_per_archive() {
    let digests = example_digests();
    let yaml = manifest(&Manifest::Release {
        url_base: "https://example.com/c8dr/v1/",
        digests: &digests,
    });
    assert_eq!(
        krew_rule_violations("c8dr", &yaml),
        Vec::<String>::new(),
        "{yaml}"
    );
    let doc: Value = serde_saphyr::from_str(&yaml).expect("yaml");
    assert_eq!(doc["spec"]["version"], format!("v{VERSION}"));
    let platforms = doc["spec"]["platforms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(platforms.len(), PLATFORMS.len());
    for (p, want) in platforms.iter().zip(PLATFORMS) {
        assert_eq!(
            p["uri"],
            format!("https://example.com/c8dr/v1/{}", archive_name(want.target))
        );
        assert_eq!(p["sha256"], digests[want.target].as_str());
        assert_eq!(p["selector"]["matchLabels"]["arch"], want.arch);
    }
    // A release of only some targets lists only those.
    let one: BTreeMap<String, String> = digests.into_iter().take(1).collect();
    let yaml = manifest(&Manifest::Release {
        url_base: "http://127.0.0.1:1",
        digests: &one,
    });
    let doc: Value = serde_saphyr::from_str(&yaml).expect("yaml");
    assert_eq!(doc["spec"]["platforms"].as_array().map(Vec::len), Some(1));
    // The rules above do catch a broken manifest.
    let broken = yaml.replace("bin: kubectl-c8dr", "bin: kubectl-c9dr");
    assert!(!krew_rule_violations("c8dr", &broken).is_empty());
    assert!(!krew_rule_violations("c8dr", &manifest(&Manifest::Template)).is_empty());
}

#[test]
fn the_rbac_caveat_grants_exactly_the_readme_table() {
    let doc: Value =
        serde_saphyr::from_str(&manifest(&Manifest::Template)).expect("the template is YAML");
    let caveats = doc["spec"]["caveats"].as_str().unwrap_or_default();
    assert!(caveats.starts_with(&rbac_caveat()), "{caveats}");
    // Every grant of the table, back from the caveat's "verb, verb resource; …" lines.
    let mut granted = BTreeSet::new();
    for line in rbac_caveat().lines().filter(|l| l.starts_with("    ")) {
        for grant in line.trim().split("; ") {
            let (verbs, resource) = grant.rsplit_once(' ').expect("verbs resource");
            for verb in verbs.split(", ") {
                granted.insert(format!("{verb} {resource}"));
            }
        }
    }
    let table: BTreeSet<String> = c8dr_common::kube::rbac::PERMISSIONS
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(granted, table);
}

#[test]
fn plugin_yaml_carries_the_release_version() {
    assert_eq!(plugin_yaml_version(&read("plugin.yaml")), Some(VERSION));
}

#[test]
fn the_install_hook_downloads_the_archives_this_release_makes() {
    let hook = read("scripts/install-binary.sh");
    assert!(
        hook.contains("c8dr-${version}-${target}.tar.gz"),
        "the hook does not build the name c8dr-<version>-<target>.tar.gz (release.rs)"
    );
    assert_eq!(archive_name("T"), format!("c8dr-{VERSION}-T.tar.gz"));
    for p in PLATFORMS {
        assert!(
            hook.contains(p.target),
            "the hook does not know {}",
            p.target
        );
        for m in p.uname_m {
            assert!(hook.contains(m), "the hook does not map uname -m {m}");
        }
        assert!(hook.contains(p.uname_s), "{}", p.uname_s);
    }
    for name in [
        SHA256SUMS,
        RELEASE_URL_ENV,
        crate::release::PLUGIN_RELEASE_URL_FILE,
    ] {
        assert!(hook.contains(name), "the hook does not use {name}");
    }
}

#[test]
fn the_readme_names_the_release_assets() {
    let readme = read("README.md");
    let mut names: Vec<String> = PLATFORMS.iter().map(|p| archive_name(p.target)).collect();
    names.push(plugin_archive_name());
    names.push(SHA256SUMS.into());
    for f in KREW_FILES {
        names.push((*f).to_string());
    }
    for name in names {
        assert!(readme.contains(&name), "README.md does not name {name}");
    }
}
