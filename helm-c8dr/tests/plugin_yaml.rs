//! plugin.yaml must load, and resolve its command and hooks, in every Helm an operator may run.
//!
//! Each Helm line reads the manifest differently (helm/helm, read at the tags named below):
//!
//! - 3.0.0–3.3.x `pkg/plugin/plugin.go`: `yaml.Unmarshal` (unknown keys ignored). Command
//!   resolution (`getPlatformCommand`) takes only `platformCommand` entries whose `os` equals
//!   GOOS; an entry without `os` never matches, and then the top-level `command` is used.
//! - 3.4.0–3.17.x `pkg/plugin/plugin.go` (v3.17.0): `yaml.UnmarshalStrict` into `Metadata`. An
//!   unknown key (e.g. `platformHooks`, or `args` in a `platformCommand` entry) fails the plugin,
//!   and `LoadAll` returns on the first failure, so every other installed plugin is lost too.
//!   Same command resolution as 3.0. `hooks` is `map[string]string`, run as `sh -c HOOK` with
//!   HELM_PLUGIN_DIR in the environment (`cmd/helm/plugin.go` `runHook`).
//! - 3.18.0–3.19.x `pkg/plugin/plugin.go` (v3.18.0): still strict; adds `platformHooks` and
//!   `args`; `validatePluginData` rejects `platformCommand` together with `command` and
//!   `platformHooks` together with `hooks`. Resolution: exact os+arch, else os with empty arch,
//!   else the first entry with neither.
//! - 4.0.0 `internal/plugin/loader.go` + `metadata_legacy.go`: without `apiVersion` the legacy
//!   loader (non-strict yaml decoder, keys as below); same two "both ... are set" refusals;
//!   `hooks` become `sh -c HOOK` (`buildLegacyRuntimeConfig`); resolution as 3.18
//!   (`subprocess_commands.go`).
//!
//! The tests encode those key sets and rules and check the manifest against each of them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// How a Helm line picks the `platformCommand` entry.
#[derive(Debug, Clone, Copy)]
enum Resolution {
    /// 3.0–3.17 `getPlatformCommand`: only entries whose `os` equals GOOS (an exact os+arch
    /// match wins, else the last os match); nothing found falls back to `command`.
    OsOnly,
    /// 3.18+/4.x `getPlatformCommand`: exact os+arch; else the first entry with matching os and
    /// no arch; else the first entry with neither os nor arch. `command` only when
    /// `platformCommand` is empty.
    WithDefault,
}

struct Helm {
    name: &'static str,
    /// Unknown keys are an error (sigs.k8s.io/yaml UnmarshalStrict).
    strict: bool,
    top_keys: &'static [&'static str],
    /// Keys of a `platformCommand` (and `platformHooks`) entry.
    entry_keys: &'static [&'static str],
    /// `validatePluginData`/`MetadataLegacy.Validate` refuse both forms of command and of hooks.
    rejects_both: bool,
    resolution: Resolution,
    /// Helm 4 `loadMetadata`: any `apiVersion` leaves the legacy format (`v1` or an error).
    api_version_selects_format: bool,
}

/// v3.0.0 `pkg/plugin/plugin.go` `Metadata` (decoded with `yaml.Unmarshal`, not strict).
const HELM_3_0: Helm = Helm {
    name: "Helm 3.0-3.3",
    strict: false,
    top_keys: &[
        "name",
        "version",
        "usage",
        "description",
        "platformCommand",
        "command",
        "ignoreFlags",
        "hooks",
        "downloaders",
    ],
    entry_keys: &["os", "arch", "command"],
    rejects_both: false,
    resolution: Resolution::OsOnly,
    api_version_selects_format: false,
};

/// v3.17.0 `pkg/plugin/plugin.go` `Metadata`/`PlatformCommand` (UnmarshalStrict since 3.4.0).
const HELM_3_17: Helm = Helm {
    name: "Helm 3.4-3.17",
    strict: true,
    top_keys: &[
        "name",
        "version",
        "usage",
        "description",
        "platformCommand",
        "command",
        "ignoreFlags",
        "hooks",
        "downloaders",
        "useTunnel",
    ],
    entry_keys: &["os", "arch", "command"],
    rejects_both: false,
    resolution: Resolution::OsOnly,
    api_version_selects_format: false,
};

/// v3.18.0 `pkg/plugin/plugin.go` (same keys in v3.19.0).
const HELM_3_18: Helm = Helm {
    name: "Helm 3.18-3.19",
    strict: true,
    top_keys: &[
        "name",
        "version",
        "usage",
        "description",
        "platformCommand",
        "command",
        "ignoreFlags",
        "platformHooks",
        "hooks",
        "downloaders",
        "useTunnel",
    ],
    entry_keys: &["os", "arch", "command", "args"],
    rejects_both: true,
    resolution: Resolution::WithDefault,
    api_version_selects_format: false,
};

/// v4.0.0 `internal/plugin/metadata_legacy.go` `MetadataLegacy` (non-strict decoder).
const HELM_4: Helm = Helm {
    name: "Helm 4",
    strict: false,
    top_keys: &[
        "name",
        "version",
        "usage",
        "description",
        "platformCommand",
        "command",
        "ignoreFlags",
        "platformHooks",
        "hooks",
        "downloaders",
    ],
    entry_keys: &["os", "arch", "command", "args"],
    rejects_both: true,
    resolution: Resolution::WithDefault,
    api_version_selects_format: true,
};

const HELMS: [Helm; 4] = [HELM_3_0, HELM_3_17, HELM_3_18, HELM_4];

/// The platforms Camunda operators run helm on (GOOS, GOARCH).
const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn manifest_text() -> String {
    std::fs::read_to_string(repo_root().join("plugin.yaml")).expect("plugin.yaml")
}

fn parse(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("plugin.yaml is YAML")
}

fn str_field<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Why `helm` would refuse to load the manifest, or `None` if it loads.
fn load_error(helm: &Helm, m: &Value) -> Option<String> {
    let Some(top) = m.as_object() else {
        return Some("not a map".into());
    };
    if helm.api_version_selects_format && top.contains_key("apiVersion") {
        return Some("apiVersion selects the v1 format, not the legacy one".into());
    }
    for (key, value) in top {
        if !helm.top_keys.contains(&key.as_str()) {
            if helm.strict {
                return Some(format!("unknown field \"{key}\""));
            }
            continue;
        }
        // Type checks apply in every decoder.
        match key.as_str() {
            "name" | "version" | "usage" | "description" | "command" if !value.is_string() => {
                return Some(format!("{key}: expected a string"));
            }
            "ignoreFlags" | "useTunnel" if !value.is_boolean() => {
                return Some(format!("{key}: expected a boolean"));
            }
            "hooks" => {
                let Some(map) = value.as_object() else {
                    return Some("hooks: expected a map".into());
                };
                if let Some((k, _)) = map.iter().find(|(_, v)| !v.is_string()) {
                    return Some(format!("hooks.{k}: expected a string (map[string]string)"));
                }
            }
            "platformCommand" => {
                if let Some(e) = entries_error(helm, value) {
                    return Some(format!("platformCommand: {e}"));
                }
            }
            "platformHooks" => {
                let Some(map) = value.as_object() else {
                    return Some("platformHooks: expected a map".into());
                };
                for (k, v) in map {
                    if let Some(e) = entries_error(helm, v) {
                        return Some(format!("platformHooks.{k}: {e}"));
                    }
                }
            }
            _ => {}
        }
    }
    let name = str_field(m, "name");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Some("invalid plugin name".into());
    }
    let non_empty = |k: &str| match m.get(k) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(l)) => !l.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        _ => false,
    };
    if helm.rejects_both {
        if non_empty("platformCommand") && non_empty("command") {
            return Some("both platformCommand and command are set".into());
        }
        if non_empty("platformHooks") && non_empty("hooks") {
            return Some("both platformHooks and hooks are set".into());
        }
    }
    None
}

fn entries_error(helm: &Helm, value: &Value) -> Option<String> {
    let Some(list) = value.as_array() else {
        return Some("expected a list".into());
    };
    for entry in list {
        let Some(map) = entry.as_object() else {
            return Some("expected a list of maps".into());
        };
        for (k, v) in map {
            if !helm.entry_keys.contains(&k.as_str()) {
                if helm.strict {
                    return Some(format!("unknown field \"{k}\""));
                }
                continue;
            }
            let ok = if k == "args" {
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            } else {
                v.is_string()
            };
            if !ok {
                return Some(format!("{k}: wrong type"));
            }
        }
    }
    None
}

/// The command line `helm c8dr` runs on a platform, before environment expansion, as each
/// Helm line resolves it (`PrepareCommand`).
fn resolve(helm: &Helm, m: &Value, os: &str, arch: &str) -> Option<Vec<String>> {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let entries: Vec<&Value> = m
        .get("platformCommand")
        .and_then(Value::as_array)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let line = |e: &Value| -> Vec<String> {
        let mut parts: Vec<String> = str_field(e, "command")
            .split(' ')
            .map(String::from)
            .collect();
        if helm.entry_keys.contains(&"args") {
            parts.extend(
                e.get("args")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from),
            );
        }
        parts
    };
    let command = || -> Option<Vec<String>> {
        let c = str_field(m, "command");
        (!c.is_empty()).then(|| c.split(' ').map(String::from).collect())
    };
    match helm.resolution {
        Resolution::OsOnly => {
            let mut found = None;
            for e in &entries {
                if eq(str_field(e, "os"), os) {
                    if eq(str_field(e, "arch"), arch) {
                        return Some(line(e));
                    }
                    found = Some(line(e));
                }
            }
            found.or_else(command)
        }
        Resolution::WithDefault => {
            if entries.is_empty() {
                return command();
            }
            let mut found = None;
            let mut found_os = false;
            for e in &entries {
                let (e_os, e_arch) = (str_field(e, "os"), str_field(e, "arch"));
                if eq(e_os, os) && eq(e_arch, arch) {
                    return Some(line(e));
                }
                if (!e_os.is_empty() && !eq(e_os, os)) || !e_arch.is_empty() {
                    continue;
                }
                if !found_os && !e_os.is_empty() {
                    found = Some(line(e));
                    found_os = true;
                } else if found.is_none() {
                    found = Some(line(e));
                }
            }
            found
        }
    }
}

fn expected_binary(os: &str) -> &'static str {
    if os == "windows" {
        "${HELM_PLUGIN_DIR}\\bin\\helm-c8dr.exe"
    } else {
        "${HELM_PLUGIN_DIR}/bin/helm-c8dr"
    }
}

/// Every problem the manifest has in any Helm line, on any platform.
fn problems(m: &Value) -> Vec<String> {
    let mut out = vec![];
    for helm in &HELMS {
        if let Some(e) = load_error(helm, m) {
            out.push(format!("{}: the plugin does not load: {e}", helm.name));
            continue;
        }
        for (os, arch) in PLATFORMS {
            match resolve(helm, m, os, arch) {
                Some(line) if line == [expected_binary(os)] => {}
                other => out.push(format!(
                    "{} on {os}/{arch}: runs {other:?}, not {}",
                    helm.name,
                    expected_binary(os)
                )),
            }
        }
        let hooks = m.get("hooks").and_then(Value::as_object);
        let platform_hooks = m
            .get("platformHooks")
            .and_then(Value::as_object)
            .filter(|_| helm.top_keys.contains(&"platformHooks"));
        for event in ["install", "update"] {
            let has = hooks.and_then(|h| h.get(event)).is_some()
                || platform_hooks
                    .and_then(|h| h.get(event)?.as_array())
                    .is_some_and(|l| !l.is_empty());
            if !has {
                out.push(format!("{}: no {event} hook", helm.name));
            }
        }
    }
    out
}

#[test]
fn the_manifest_loads_and_runs_the_binary_in_every_helm_on_every_platform() {
    let found = problems(&parse(&manifest_text()));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_checks_catch_what_broke_helm_3_17() {
    // The manifest as it was before this fix: platformHooks with args (unknown to Helm <= 3.17,
    // which then loads no plugin at all) and a default platformCommand entry without `os`
    // (never chosen by Helm <= 3.17, which then has no command).
    let old = parse(
        "name: c8dr\nversion: 0.1.0\nusage: u\ndescription: d\nplatformCommand:\n  - os: windows\n    command: \"${HELM_PLUGIN_DIR}\\\\bin\\\\helm-c8dr.exe\"\n  - command: \"${HELM_PLUGIN_DIR}/bin/helm-c8dr\"\nplatformHooks:\n  install:\n    - command: \"${HELM_PLUGIN_DIR}/scripts/install-binary.sh\"\n  update:\n    - command: \"${HELM_PLUGIN_DIR}/scripts/install-binary.sh\"\n      args: [\"-u\"]\n",
    );
    let found = problems(&old);
    assert!(
        found.iter().any(|p| p.starts_with(
            "Helm 3.4-3.17: the plugin does not load: unknown field \"platformHooks\""
        )),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("Helm 3.0-3.3 on linux/amd64: runs None")),
        "{found:#?}"
    );
    // Helm 3.18+ and 4 refuse `command` next to `platformCommand`.
    let both = parse(
        "name: c8dr\nversion: 0.1.0\nusage: u\ndescription: d\ncommand: x\nplatformCommand:\n  - os: linux\n    command: x\nhooks:\n  install: x\n  update: x\n",
    );
    let found = problems(&both);
    assert!(
        found
            .iter()
            .any(|p| p
                == "Helm 4: the plugin does not load: both platformCommand and command are set"),
        "{found:#?}"
    );
    assert!(
        problems(&parse("apiVersion: v1\nname: c8dr\n"))
            .iter()
            .any(|p| p.starts_with(
                "Helm 3.4-3.17: the plugin does not load: unknown field \"apiVersion\""
            )),
    );
}

#[test]
fn name_and_version_suit_helm_4() {
    let m = parse(&manifest_text());
    assert_eq!(str_field(&m, "name"), "c8dr");
    // Helm 4 checks strict semver: no leading v, three numeric parts.
    let version = str_field(&m, "version");
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(parts.len(), 3, "{version}");
    assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()), "{version}");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(!str_field(&m, "usage").is_empty());
    assert!(!str_field(&m, "description").is_empty());
}

/// Run a hook as every Helm line does (`sh -c HOOK`, HELM_PLUGIN_DIR set) against a stand-in
/// install script in a plugin directory whose path has a space, and return its argv.
#[cfg(unix)]
fn run_hook(hook: &str) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let plugin_dir = tmp.path().join("helm plugins/c8dr");
    std::fs::create_dir_all(plugin_dir.join("scripts")).expect("mkdir");
    let script = plugin_dir.join("scripts/install-binary.sh");
    let out = tmp.path().join("argv");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{}'\n",
            out.display()
        ),
    )
    .expect("stub script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let status = std::process::Command::new("sh")
        .args(["-c", hook])
        .env("HELM_PLUGIN_DIR", &plugin_dir)
        .status()
        .expect("sh");
    assert!(status.success(), "{hook}");
    let text = std::fs::read_to_string(&out).expect("the hook ran the script");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert_eq!(
        lines.first().map(String::as_str),
        Some(script.to_str().expect("utf-8"))
    );
    lines.remove(0);
    lines
}

#[cfg(unix)]
#[test]
fn install_and_update_hooks_run_the_install_script() {
    let m = parse(&manifest_text());
    let hooks: BTreeMap<String, String> =
        serde_json::from_value(m["hooks"].clone()).expect("hooks: map of strings");
    assert_eq!(run_hook(&hooks["install"]), Vec::<String>::new());
    assert_eq!(run_hook(&hooks["update"]), ["-u"]);

    let script = repo_root().join("scripts/install-binary.sh");
    let text = std::fs::read_to_string(&script).expect("install script");
    assert!(text.starts_with("#!/bin/sh"));
    // What the script does is exercised in tests/e2e/install_hook.rs; here only that it builds the
    // plugin binary with the locked dependency versions when it has to build.
    assert!(text.contains("cargo build --release --locked -p helm-c8dr"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&script)
        .expect("meta")
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0, "the hook script is executable");
}
