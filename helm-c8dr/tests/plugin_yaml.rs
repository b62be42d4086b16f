//! plugin.yaml must load in Helm 3, which decodes it strictly (an unknown key, such as
//! `apiVersion`, makes Helm 3 load no plugin at all) and in Helm 4 (legacy format, strict semver).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// Helm 3's `plugin.Metadata` keys that we use, decoded strictly as Helm 3 does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Metadata {
    name: String,
    version: String,
    usage: String,
    description: String,
    platform_command: Vec<PlatformCommand>,
    platform_hooks: BTreeMap<String, Vec<PlatformCommand>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformCommand {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    arch: Option<String>,
    command: String,
    #[serde(default)]
    args: Vec<String>,
}

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn metadata() -> Metadata {
    let text = std::fs::read_to_string(repo_root().join("plugin.yaml")).expect("plugin.yaml");
    serde_saphyr::from_str(&text).expect("plugin.yaml decodes strictly")
}

#[test]
fn plugin_yaml_is_helm3_legacy_format() {
    let m = metadata();
    assert_eq!(m.name, "c8dr");
    assert!(
        m.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    // Helm 4 checks strict semver: no leading v, three numeric parts.
    let parts: Vec<&str> = m.version.split('.').collect();
    assert_eq!(parts.len(), 3, "{}", m.version);
    assert!(
        parts.iter().all(|p| p.parse::<u64>().is_ok()),
        "{}",
        m.version
    );
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    assert!(!m.usage.is_empty() && !m.description.is_empty());
}

#[test]
fn the_command_is_the_built_binary_in_the_plugin_dir() {
    let m = metadata();
    let default = m
        .platform_command
        .iter()
        .find(|c| c.os.is_none() && c.arch.is_none())
        .expect("an entry for every platform");
    assert_eq!(default.command, "${HELM_PLUGIN_DIR}/bin/helm-c8dr");
    assert!(default.args.is_empty());
}

#[test]
fn install_and_update_hooks_run_the_install_script() {
    let m = metadata();
    for hook in ["install", "update"] {
        let cmds = m.platform_hooks.get(hook).expect(hook);
        assert!(
            cmds.iter()
                .any(|c| c.command == "${HELM_PLUGIN_DIR}/scripts/install-binary.sh"),
            "{hook}"
        );
    }
    let script = repo_root().join("scripts/install-binary.sh");
    let text = std::fs::read_to_string(&script).expect("install script");
    assert!(text.starts_with("#!/bin/sh"));
    assert!(text.contains("cargo build --release -p helm-c8dr"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script)
            .expect("meta")
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "the hook script is executable");
    }
}
