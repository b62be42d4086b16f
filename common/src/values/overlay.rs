//! The generated overlay: the effective `orchestration.env` with the schema-manager variable
//! added or removed by name, and the Operate/Tasklist profiles for `--no-webapps`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The variable that keeps the schema manager from seeding a recreated region's Elasticsearch.
pub const SCHEMA_MANAGER_VAR: &str = "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA";

/// What the overlay is asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverlayOptions {
    /// `--no-webapps`: `orchestration.profiles.operate=false`, `tasklist=false`.
    pub no_webapps: bool,
    /// `--no-schema-manager`: the variable with value `"false"`; without it the variable is removed.
    pub no_schema_manager: bool,
}

/// What happened to the schema-manager variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EnvChange {
    /// Appended to the effective list (`--no-schema-manager`, no user entry of that name).
    Added,
    /// A user entry of that name now holds `"false"` (`--no-schema-manager`).
    Replaced,
    /// A user file still had it and the overlay leaves it out (no `--no-schema-manager`).
    Removed,
    /// Neither asked for nor present.
    Absent,
}

/// The generated overlay document and what it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// The document passed as the last `-f`.
    pub document: Value,
    pub env_change: EnvChange,
    /// Lines the CLI shows the user (e.g. the variable was still in a user file).
    pub notices: Vec<String>,
}

fn is_var(entry: &Value) -> bool {
    entry.get("name").and_then(Value::as_str) == Some(SCHEMA_MANAGER_VAR)
}

/// Whether a values document's `orchestration.env` holds the schema-manager variable.
pub fn sets_schema_manager_var(doc: &Value) -> bool {
    doc.pointer("/orchestration/env")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(is_var))
}

/// The notice for a variable left in the user's files (the docs' "remember to remove it" step),
/// naming the files when they are known.
pub fn still_set_notice(files: &[String]) -> String {
    let place = if files.is_empty() {
        "your values files".to_string()
    } else {
        files.join(", ")
    };
    format!(
        "{SCHEMA_MANAGER_VAR} is still set in {place}: this upgrade leaves it out (the schema \
         manager runs again); remove it from the file"
    )
}

/// Build the overlay from the effective (merged) user values.
pub fn build_overlay(effective: &Value, opts: OverlayOptions) -> Result<Overlay> {
    let orchestration = effective.get("orchestration");
    let user_env = match orchestration.and_then(|o| o.get("env")) {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(list.clone()),
        Some(other) => {
            return Err(Error::usage(format!(
                "orchestration.env in the values files must be a list of {{name, value}} entries, found {}",
                if other.is_object() {
                    "a map"
                } else {
                    "a scalar"
                }
            )));
        }
    };
    let mut notices = vec![];
    let had_var = user_env.as_ref().is_some_and(|l| l.iter().any(is_var));
    let (env, env_change) = if opts.no_schema_manager {
        let wanted = json!({"name": SCHEMA_MANAGER_VAR, "value": "false"});
        let mut list = user_env.unwrap_or_default();
        match list.iter().position(is_var) {
            Some(first) => {
                if list[first].get("value") != Some(&Value::String("false".into())) {
                    notices.push(format!(
                        "{SCHEMA_MANAGER_VAR} in your values files is overridden with \"false\""
                    ));
                }
                list[first] = wanted;
                let mut seen = false;
                list.retain(|e| {
                    if !is_var(e) {
                        return true;
                    }
                    let keep = !seen;
                    seen = true;
                    keep
                });
                (Some(list), EnvChange::Replaced)
            }
            None => {
                list.push(wanted);
                (Some(list), EnvChange::Added)
            }
        }
    } else if had_var {
        notices.push(still_set_notice(&[]));
        let mut list = user_env.unwrap_or_default();
        list.retain(|e| !is_var(e));
        (Some(list), EnvChange::Removed)
    } else {
        (user_env, EnvChange::Absent)
    };

    let mut orch = Map::new();
    if opts.no_webapps {
        orch.insert(
            "profiles".into(),
            json!({"operate": false, "tasklist": false}),
        );
    } else {
        let profiles = orchestration.and_then(|o| o.get("profiles"));
        let off: Vec<&str> = ["operate", "tasklist"]
            .into_iter()
            .filter(|p| profiles.and_then(|v| v.get(*p)) == Some(&Value::Bool(false)))
            .collect();
        if !off.is_empty() {
            notices.push(format!(
                "your values files turn off orchestration.profiles.{}: c8dr keeps that (pass nothing \
                 to restore the chart default)",
                off.join(" and ")
            ));
        }
    }
    if let Some(env) = env {
        orch.insert("env".into(), Value::Array(env));
    }
    let document = if orch.is_empty() {
        json!({})
    } else {
        json!({ "orchestration": orch })
    };
    Ok(Overlay {
        document,
        env_change,
        notices,
    })
}

/// Render a values document as YAML (serde-saphyr's serializer).
pub fn to_yaml(value: &Value) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::failed(format!("rendering YAML: {e}")))
}

/// A written overlay file: removed when dropped, unless it was kept on request.
#[derive(Debug)]
pub struct OverlayFile {
    path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl OverlayFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Whether the file stays after the run (`--keep-overlay DIR`).
    pub fn kept(&self) -> bool {
        self._temp.is_none()
    }
}

/// Write an overlay with mode 0600: into `keep_dir` as `<name>.yaml` (kept), else into a
/// temporary file that is removed when the returned handle is dropped.
pub fn write_overlay(keep_dir: Option<&Path>, name: &str, yaml: &str) -> Result<OverlayFile> {
    let file_err = |path: &Path, e: std::io::Error| Error::File {
        path: path.to_path_buf(),
        message: format!("cannot write the generated overlay: {e}"),
    };
    match keep_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
            let path = dir.join(format!("{name}.yaml"));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&path).map_err(|e| file_err(&path, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| file_err(&path, e))?;
            }
            f.write_all(yaml.as_bytes())
                .map_err(|e| file_err(&path, e))?;
            Ok(OverlayFile { path, _temp: None })
        }
        None => {
            // tempfile creates files with mode 0600.
            let mut f = tempfile::Builder::new()
                .prefix(&format!("{name}-"))
                .suffix(".yaml")
                .tempfile()
                .map_err(|e| file_err(&std::env::temp_dir(), e))?;
            f.write_all(yaml.as_bytes())
                .map_err(|e| file_err(f.path(), e))?;
            let temp = f.into_temp_path();
            Ok(OverlayFile {
                path: temp.to_path_buf(),
                _temp: Some(temp),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{load_chain, parse_yaml};

    fn env_of(doc: &Value) -> Vec<Value> {
        doc["orchestration"]["env"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn names(list: &[Value]) -> Vec<&str> {
        list.iter().filter_map(|e| e["name"].as_str()).collect()
    }

    fn user() -> Value {
        json!({"orchestration": {"env": [
            {"name": "A", "value": "1"},
            {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "B", "value": "2"},
        ]}})
    }

    const ON: OverlayOptions = OverlayOptions {
        no_webapps: false,
        no_schema_manager: true,
    };
    const OFF: OverlayOptions = OverlayOptions {
        no_webapps: false,
        no_schema_manager: false,
    };

    #[test]
    fn no_schema_manager_appends_the_variable_and_keeps_every_entry_in_order() {
        let o = build_overlay(&user(), ON).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Added);
        let env = env_of(&o.document);
        assert_eq!(names(&env), ["A", "SECRET", "B", SCHEMA_MANAGER_VAR]);
        assert_eq!(env[1], user()["orchestration"]["env"][1], "valueFrom kept");
        assert_eq!(env[3]["value"], "false");
    }

    #[test]
    fn an_existing_entry_is_replaced_in_place_and_duplicates_dropped() {
        let mut u = user();
        let list = u["orchestration"]["env"].as_array_mut().expect("list");
        list.insert(1, json!({"name": SCHEMA_MANAGER_VAR, "value": "true"}));
        list.push(json!({"name": SCHEMA_MANAGER_VAR, "value": "false"}));
        let o = build_overlay(&u, ON).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Replaced);
        let env = env_of(&o.document);
        assert_eq!(names(&env), ["A", SCHEMA_MANAGER_VAR, "SECRET", "B"]);
        assert_eq!(
            env[1],
            json!({"name": SCHEMA_MANAGER_VAR, "value": "false"})
        );
        assert_eq!(o.notices.len(), 1);
    }

    #[test]
    fn without_the_flag_the_variable_is_removed_with_a_notice() {
        let mut u = user();
        let list = u["orchestration"]["env"].as_array_mut().expect("list");
        list.insert(2, json!({"name": SCHEMA_MANAGER_VAR, "value": "false"}));
        let o = build_overlay(&u, OFF).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Removed);
        assert_eq!(names(&env_of(&o.document)), ["A", "SECRET", "B"]);
        assert!(o.notices[0].contains(SCHEMA_MANAGER_VAR));
    }

    #[test]
    fn without_the_flag_and_without_the_variable_the_list_passes_unchanged() {
        let o = build_overlay(&user(), OFF).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Absent);
        assert_eq!(o.document, user());
        assert!(o.notices.is_empty());
    }

    #[test]
    fn no_env_at_all_gives_an_empty_overlay_or_just_the_variable() {
        let o = build_overlay(&json!({}), OFF).expect("overlay");
        assert_eq!(o.document, json!({}));
        let o = build_overlay(&json!({}), ON).expect("overlay");
        assert_eq!(
            o.document,
            json!({"orchestration": {"env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}]}})
        );
    }

    #[test]
    fn no_webapps_turns_operate_and_tasklist_off() {
        let opts = OverlayOptions {
            no_webapps: true,
            no_schema_manager: true,
        };
        let o = build_overlay(&user(), opts).expect("overlay");
        assert_eq!(
            o.document["orchestration"]["profiles"],
            json!({"operate": false, "tasklist": false})
        );
    }

    #[test]
    fn an_env_map_is_a_usage_error() {
        let err = build_overlay(&json!({"orchestration": {"env": {"A": "1"}}}), ON)
            .expect_err("not a list");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn the_yaml_keeps_false_a_string() {
        let o = build_overlay(&user(), ON).expect("overlay");
        let yaml = to_yaml(&o.document).expect("yaml");
        let back = parse_yaml(Path::new("overlay.yaml"), &yaml).expect("round trip");
        assert_eq!(back, o.document, "{yaml}");
    }

    #[test]
    fn tricky_strings_and_numbers_survive_the_round_trip() {
        let tricky = [
            "0755",
            "1e3",
            "~",
            "null",
            "",
            "yes",
            "on",
            "NO",
            "12:30",
            "- x",
            "#c",
            "a: b",
            "'q'",
            "\"d\"",
            "${DOLLAR}(K8S_NAME).$X",
            "multi\nline",
            " padded ",
            "0x1F",
            ".5",
        ];
        let env: Vec<Value> = tricky
            .iter()
            .map(|v| json!({"name": "V", "value": v}))
            .chain([
                json!({"name": "N", "value": 10}),
                json!({"name": "F", "value": 1.5}),
            ])
            .collect();
        let doc = json!({"orchestration": {"env": env}});
        let yaml = to_yaml(&doc).expect("yaml");
        let back = parse_yaml(Path::new("overlay.yaml"), &yaml).expect("round trip");
        assert_eq!(back, doc, "{yaml}");
    }

    #[test]
    fn overlays_are_written_0600_and_temporary_ones_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kept =
            write_overlay(Some(dir.path()), "c8dr-overlay-region0", "a: 1\n").expect("written");
        assert!(kept.kept());
        let temp = write_overlay(None, "c8dr-overlay-region1", "a: 1\n").expect("written");
        let temp_path = temp.path().to_path_buf();
        #[cfg(unix)]
        for p in [kept.path(), temp.path()] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
        drop(temp);
        drop(kept);
        assert!(!temp_path.exists());
        assert!(dir.path().join("c8dr-overlay-region0.yaml").exists());
    }

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/values")
            .join(rel)
    }

    fn check_fixture_chain(files: &[PathBuf], expected_entries: usize) {
        let before: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(f).expect("fixture"))
            .collect();
        let effective = load_chain(files).expect("fixtures load");
        let original = effective["orchestration"]["env"]
            .as_array()
            .cloned()
            .expect("env list");
        assert_eq!(original.len(), expected_entries);
        for (opts, with_var) in [(ON, true), (OFF, false)] {
            let o = build_overlay(&effective, opts).expect("overlay");
            let env = env_of(&o.document);
            let vars = env.iter().filter(|e| is_var(e)).count();
            assert_eq!(vars, usize::from(with_var));
            let rest: Vec<Value> = env.into_iter().filter(|e| !is_var(e)).collect();
            assert_eq!(rest, original, "every original entry once, in order");
            // The YAML we write reads back to the same document.
            let yaml = to_yaml(&o.document).expect("yaml");
            assert_eq!(
                parse_yaml(Path::new("overlay.yaml"), &yaml).expect("round trip"),
                o.document
            );
        }
        for (f, b) in files.iter().zip(before) {
            assert_eq!(
                std::fs::read(f).expect("fixture"),
                b,
                "{} unchanged",
                f.display()
            );
        }
    }

    #[test]
    fn the_eks_reference_values_keep_all_15_entries() {
        for region in ["region0", "region1"] {
            check_fixture_chain(
                &[
                    fixture("c8-multi-region-8.8/camunda-values.yml"),
                    fixture(&format!("c8-multi-region-8.8/{region}/camunda-values.yml")),
                ],
                15,
            );
        }
    }

    #[test]
    fn the_openshift_reference_values_keep_all_19_entries() {
        for region in ["values-region-1.yml", "values-region-2.yml"] {
            check_fixture_chain(
                &[
                    fixture("openshift-8.8/values-base.yml"),
                    fixture(&format!("openshift-8.8/{region}")),
                ],
                19,
            );
        }
    }
}
