//! The generated overlay: the effective `orchestration.env` with the schema-manager switch added
//! or removed by name, and the Operate/Tasklist profiles for `--no-webapps`.
//!
//! The switch is spelled as the row's release spells it ([`SchemaSwitch`]): 8.8 and 8.9 read
//! `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA`; 8.10 also reads the canonical
//! `CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA`, which wins when set (camunda/camunda
//! `configuration/` `UnifiedConfigurationHelper`: the new property's value over the legacy one).
//! So `--no-schema-manager` sets the spelling the installation uses (the canonical one when the
//! user's values already set it, else the legacy one) and never adds both: `legacy=false` next to
//! the user's `canonical=true` would let the schema manager run and break the restore.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::release::SchemaSwitch;

/// The variable that keeps the schema manager from seeding a recreated region's Elasticsearch,
/// as every release spells it (the legacy spelling; 8.10's canonical one is in the row).
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
    /// The spellings of the switch the change is about: the one set to `"false"` (Added,
    /// Replaced), those removed (Removed); empty for Absent.
    pub switch_names: Vec<&'static str>,
    /// Lines the CLI shows the user (e.g. the variable was still in a user file).
    pub notices: Vec<String>,
}

fn entry_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

fn is_named(entry: &Value, name: &str) -> bool {
    entry_name(entry) == Some(name)
}

fn is_switch(entry: &Value, switch: &SchemaSwitch) -> bool {
    entry_name(entry).is_some_and(|n| switch.names().any(|s| s == n))
}

/// The spellings of the switch a values document's `orchestration.env` holds (in the row's order).
pub fn schema_switch_names_set(doc: &Value, switch: &SchemaSwitch) -> Vec<&'static str> {
    let list = doc
        .pointer("/orchestration/env")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    switch
        .names()
        .filter(|n| list.iter().any(|e| is_named(e, n)))
        .collect()
}

/// Whether a values document's `orchestration.env` holds any spelling of the switch.
pub fn sets_schema_manager_var(doc: &Value, switch: &SchemaSwitch) -> bool {
    !schema_switch_names_set(doc, switch).is_empty()
}

/// The notice for a variable left in the user's files (the docs' "remember to remove it" step),
/// naming the spellings and the files when they are known.
pub fn still_set_notice(names: &[&str], files: &[String]) -> String {
    let place = if files.is_empty() {
        "your values files".to_string()
    } else {
        files.join(", ")
    };
    let names = if names.is_empty() {
        SCHEMA_MANAGER_VAR.to_string()
    } else {
        names.join(" and ")
    };
    format!(
        "{names} is still set in {place}: this upgrade leaves it out (the schema manager runs \
         again); remove it from the file"
    )
}

/// The spelling `--no-schema-manager` sets: the canonical one when the row has one and the
/// user's values already set it (in the env list, or as a property of an application
/// configuration the values carry, which the legacy variable would lose to), else the legacy one.
pub fn switch_to_set(effective: &Value, user_env: &[Value], switch: &SchemaSwitch) -> &'static str {
    match switch.canonical {
        Some(canonical)
            if user_env.iter().any(|e| is_named(e, canonical))
                || super::configuration_sets(effective, canonical) =>
        {
            canonical
        }
        _ => switch.legacy,
    }
}

/// The user's effective `orchestration.env` (`None` when unset), or why it is not a list.
pub fn user_env(effective: &Value) -> Result<Option<Vec<Value>>> {
    match effective.get("orchestration").and_then(|o| o.get("env")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list.clone())),
        Some(other) => Err(Error::usage(format!(
            "orchestration.env in the values files must be a list of {{name, value}} entries, found {}",
            if other.is_object() {
                "a map"
            } else {
                "a scalar"
            }
        ))),
    }
}

/// Build the overlay from the effective (merged) user values, with the switch spelled as the
/// row's release spells it.
pub fn build_overlay(
    effective: &Value,
    opts: OverlayOptions,
    switch: &SchemaSwitch,
) -> Result<Overlay> {
    let orchestration = effective.get("orchestration");
    let user_env = user_env(effective)?;
    let mut notices = vec![];
    let present: Vec<&'static str> = switch
        .names()
        .filter(|n| {
            user_env
                .as_ref()
                .is_some_and(|l| l.iter().any(|e| is_named(e, n)))
        })
        .collect();
    let (env, env_change, switch_names) = if opts.no_schema_manager {
        let mut list = user_env.unwrap_or_default();
        let name = switch_to_set(effective, &list, switch);
        let wanted = json!({"name": name, "value": "false"});
        match list.iter().position(|e| is_named(e, name)) {
            Some(first) => {
                if list[first].get("value") != Some(&Value::String("false".into())) {
                    notices.push(format!(
                        "{name} in your values files is overridden with \"false\""
                    ));
                }
                list[first] = wanted;
                let mut seen = false;
                list.retain(|e| {
                    if !is_named(e, name) {
                        return true;
                    }
                    let keep = !seen;
                    seen = true;
                    keep
                });
                (Some(list), EnvChange::Replaced, vec![name])
            }
            None => {
                list.push(wanted);
                (Some(list), EnvChange::Added, vec![name])
            }
        }
    } else if !present.is_empty() {
        notices.push(still_set_notice(&present, &[]));
        let mut list = user_env.unwrap_or_default();
        list.retain(|e| !is_switch(e, switch));
        (Some(list), EnvChange::Removed, present)
    } else {
        (user_env, EnvChange::Absent, vec![])
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
        switch_names,
        notices,
    })
}

/// Render a values document as YAML (serde-saphyr's serializer).
pub fn to_yaml(value: &Value) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::failed(format!("rendering YAML: {e}")))
}

/// A written overlay file. Temporary ones live in an [`OverlayDir`] and go with it.
#[derive(Debug)]
pub struct OverlayFile {
    path: PathBuf,
    kept: bool,
}

impl OverlayFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Whether the file stays after the run (`--keep-overlay DIR`).
    pub fn kept(&self) -> bool {
        self.kept
    }
}

/// A private directory for the temporary overlays of one run: created in `$TMPDIR` with mode
/// 0700 (nobody else can list or open what is in it), removed with everything in it when
/// dropped, and by [`OverlayDir::remove`] on a signal. Overlays are never loose in /tmp.
#[derive(Debug)]
pub struct OverlayDir {
    dir: Option<tempfile::TempDir>,
}

impl OverlayDir {
    pub fn new() -> Result<Self> {
        let base = std::env::temp_dir();
        let mut builder = tempfile::Builder::new();
        builder.prefix("c8dr-overlays-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(&base).map_err(|e| Error::File {
            path: base.clone(),
            message: format!("cannot create a private directory for the generated overlays: {e}"),
        })?;
        #[cfg(unix)]
        {
            // The umask cannot widen 0700, but make the mode explicit and checked.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(
                |e| Error::File {
                    path: dir.path().to_path_buf(),
                    message: format!("cannot make the overlay directory private: {e}"),
                },
            )?;
        }
        Ok(Self { dir: Some(dir) })
    }

    pub fn path(&self) -> Option<&Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }

    /// Remove the directory and its overlays now (idempotent).
    pub fn remove(&mut self) -> std::io::Result<()> {
        match self.dir.take() {
            Some(d) => d.close(),
            None => Ok(()),
        }
    }
}

fn write_private(path: &Path, yaml: &str, replace: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(yaml.as_bytes())?;
    f.sync_all()
}

/// Write an overlay with mode 0600 as `<name>.yaml`: into `keep_dir` (kept, created if needed),
/// else into the run's private [`OverlayDir`].
pub fn write_overlay(
    keep_dir: Option<&Path>,
    temp: Option<&OverlayDir>,
    name: &str,
    yaml: &str,
) -> Result<OverlayFile> {
    let file_err = |path: &Path, e: std::io::Error| Error::File {
        path: path.to_path_buf(),
        message: format!("cannot write the generated overlay: {e}"),
    };
    let (dir, kept) = match keep_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
            (dir.to_path_buf(), true)
        }
        None => (
            temp.and_then(OverlayDir::path)
                .ok_or_else(|| Error::failed("the overlay directory was already removed"))?
                .to_path_buf(),
            false,
        ),
    };
    let path = dir.join(format!("{name}.yaml"));
    write_private(&path, yaml, kept).map_err(|e| file_err(&path, e))?;
    Ok(OverlayFile { path, kept })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{Line, OLDEST, facts};
    use crate::values::{load_chain, parse_yaml};

    const S88: &SchemaSwitch = &OLDEST.schema_switch;
    const CANONICAL: &str = "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA";

    fn switch_of(line: Line) -> &'static SchemaSwitch {
        &facts(line).expect("row").schema_switch
    }

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
        let o = build_overlay(&user(), ON, S88).expect("overlay");
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
        let o = build_overlay(&u, ON, S88).expect("overlay");
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
        let o = build_overlay(&u, OFF, S88).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Removed);
        assert_eq!(names(&env_of(&o.document)), ["A", "SECRET", "B"]);
        assert!(o.notices[0].contains(SCHEMA_MANAGER_VAR));
    }

    #[test]
    fn without_the_flag_and_without_the_variable_the_list_passes_unchanged() {
        let o = build_overlay(&user(), OFF, S88).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Absent);
        assert_eq!(o.document, user());
        assert!(o.notices.is_empty());
    }

    #[test]
    fn no_env_at_all_gives_an_empty_overlay_or_just_the_variable() {
        let o = build_overlay(&json!({}), OFF, S88).expect("overlay");
        assert_eq!(o.document, json!({}));
        let o = build_overlay(&json!({}), ON, S88).expect("overlay");
        assert_eq!(
            o.document,
            json!({"orchestration": {"env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}]}})
        );
    }

    fn with_env(entries: &[(&str, &str)]) -> Value {
        let env: Vec<Value> = entries
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        json!({"orchestration": {"env": env}})
    }

    #[test]
    fn an_810_installation_that_uses_the_new_schema_key_never_receives_the_legacy_one() {
        // The acceptance test: the user's 8.10 values set the canonical key to "true";
        // --no-schema-manager must turn THAT one off (it wins over the legacy one in 8.10), and
        // must not add the legacy one next to it.
        let user = with_env(&[("A", "1"), (CANONICAL, "true"), ("B", "2")]);
        let o = build_overlay(&user, ON, switch_of(Line(8, 10))).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Replaced);
        assert_eq!(o.switch_names, [CANONICAL]);
        let env = env_of(&o.document);
        assert_eq!(names(&env), ["A", CANONICAL, "B"]);
        assert_eq!(env[1], json!({"name": CANONICAL, "value": "false"}));
        assert!(!names(&env).contains(&SCHEMA_MANAGER_VAR), "{env:?}");
        assert!(o.notices[0].starts_with(CANONICAL), "{:?}", o.notices);
        // Through the YAML helm reads, the same.
        let yaml = to_yaml(&o.document).expect("yaml");
        assert!(!yaml.contains(SCHEMA_MANAGER_VAR), "{yaml}");
    }

    #[test]
    fn an_810_installation_without_the_new_key_gets_the_legacy_one_only() {
        let o = build_overlay(&user(), ON, switch_of(Line(8, 10))).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Added);
        let env = env_of(&o.document);
        assert_eq!(names(&env), ["A", "SECRET", "B", SCHEMA_MANAGER_VAR]);
        assert!(!names(&env).contains(&CANONICAL));
        // Both set by the user: the canonical one (which wins) is the one turned off, the legacy
        // entry is left as the user wrote it and nothing is added.
        let both = with_env(&[(SCHEMA_MANAGER_VAR, "true"), (CANONICAL, "true")]);
        let o = build_overlay(&both, ON, switch_of(Line(8, 10))).expect("overlay");
        let env = env_of(&o.document);
        assert_eq!(names(&env), [SCHEMA_MANAGER_VAR, CANONICAL]);
        assert_eq!(env[1]["value"], "false");
        assert_eq!(o.switch_names, [CANONICAL]);
    }

    #[test]
    fn an_810_installation_that_sets_the_new_key_in_its_application_config_gets_the_new_env_var() {
        // The canonical property set in the application configuration the chart mounts (a YAML
        // string in the values): the legacy variable would lose to it (the new property wins) and
        // the schema manager would run during the restore. The canonical variable overrides the
        // file (Spring: OS environment over config data) and is the one set.
        for config in [
            "camunda:\n  data:\n    secondary-storage:\n      elasticsearch:\n        create-schema: true\n",
            "camunda.data.secondaryStorage.elasticsearch.createSchema: true\n",
            "camunda:\n  data.secondary-storage:\n    elasticsearch.create_schema: true\n",
        ] {
            let mut values = user();
            values["orchestration"]["configuration"] = json!(config);
            let o = build_overlay(&values, ON, switch_of(Line(8, 10))).expect("overlay");
            let env = env_of(&o.document);
            assert_eq!(names(&env), ["A", "SECRET", "B", CANONICAL], "{config}");
            assert_eq!(o.switch_names, [CANONICAL]);
            // A list of extra files (`extraConfiguration: [{file, content}]`) is read the same way.
            let mut values = user();
            values["orchestration"]["extraConfiguration"] =
                json!([{"file": "x.yaml", "content": config}]);
            let o = build_overlay(&values, ON, switch_of(Line(8, 10))).expect("overlay");
            assert_eq!(o.switch_names, [CANONICAL], "{config}");
        }
        // Another property under the same prefix is not the switch; 8.9 has no canonical key.
        let mut values = user();
        values["orchestration"]["configuration"] = json!(
            "camunda:\n  data:\n    secondary-storage:\n      elasticsearch:\n        url: http://x\n"
        );
        let o = build_overlay(&values, ON, switch_of(Line(8, 10))).expect("overlay");
        assert_eq!(o.switch_names, [SCHEMA_MANAGER_VAR]);
        values["orchestration"]["configuration"] =
            json!("camunda.data.secondary-storage.elasticsearch.create-schema: true");
        let o = build_overlay(&values, ON, switch_of(Line(8, 9))).expect("overlay");
        assert_eq!(o.switch_names, [SCHEMA_MANAGER_VAR]);
    }

    #[test]
    fn releases_without_a_canonical_key_always_set_the_legacy_one() {
        // 8.8/8.9 do not read the canonical key: a stray one is no switch there.
        let user = with_env(&[(CANONICAL, "true")]);
        for line in [Line(8, 8), Line(8, 9)] {
            let o = build_overlay(&user, ON, switch_of(line)).expect("overlay");
            assert_eq!(o.env_change, EnvChange::Added, "{line}");
            assert_eq!(
                names(&env_of(&o.document)),
                [CANONICAL, SCHEMA_MANAGER_VAR],
                "{line}"
            );
        }
    }

    #[test]
    fn without_the_flag_every_spelling_the_row_knows_is_removed() {
        let user = with_env(&[
            ("A", "1"),
            (SCHEMA_MANAGER_VAR, "false"),
            (CANONICAL, "false"),
        ]);
        let o = build_overlay(&user, OFF, switch_of(Line(8, 10))).expect("overlay");
        assert_eq!(o.env_change, EnvChange::Removed);
        assert_eq!(names(&env_of(&o.document)), ["A"]);
        assert_eq!(o.switch_names, [SCHEMA_MANAGER_VAR, CANONICAL]);
        assert!(o.notices[0].contains(CANONICAL) && o.notices[0].contains(SCHEMA_MANAGER_VAR));
        assert_eq!(
            schema_switch_names_set(&user, switch_of(Line(8, 10))),
            [SCHEMA_MANAGER_VAR, CANONICAL]
        );
        // 8.8 knows one spelling: the other is the user's own variable, kept.
        let o = build_overlay(&user, OFF, S88).expect("overlay");
        assert_eq!(names(&env_of(&o.document)), ["A", CANONICAL]);
        assert!(!sets_schema_manager_var(
            &with_env(&[(CANONICAL, "x")]),
            S88
        ));
    }

    #[test]
    fn no_webapps_turns_operate_and_tasklist_off() {
        let opts = OverlayOptions {
            no_webapps: true,
            no_schema_manager: true,
        };
        let o = build_overlay(&user(), opts, S88).expect("overlay");
        assert_eq!(
            o.document["orchestration"]["profiles"],
            json!({"operate": false, "tasklist": false})
        );
    }

    #[test]
    fn an_env_map_is_a_usage_error() {
        let err = build_overlay(&json!({"orchestration": {"env": {"A": "1"}}}), ON, S88)
            .expect_err("not a list");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn the_yaml_keeps_false_a_string() {
        let o = build_overlay(&user(), ON, S88).expect("overlay");
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
    fn overlays_are_written_0600_in_a_private_0700_directory_removed_afterwards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut temp_dir = OverlayDir::new().expect("private dir");
        let private = temp_dir.path().expect("dir").to_path_buf();
        assert!(private.starts_with(std::env::temp_dir()));
        let kept = write_overlay(Some(dir.path()), None, "c8dr-overlay-region0", "a: 1\n")
            .expect("written");
        assert!(kept.kept());
        let temp = write_overlay(None, Some(&temp_dir), "c8dr-overlay-region1", "a: 1\n")
            .expect("written");
        assert!(!temp.kept());
        assert_eq!(temp.path().parent(), Some(private.as_path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&private), 0o700);
            assert_eq!(mode(kept.path()), 0o600);
            assert_eq!(mode(temp.path()), 0o600);
        }
        temp_dir.remove().expect("removed");
        assert!(!private.exists());
        temp_dir.remove().expect("idempotent");
        assert!(dir.path().join("c8dr-overlay-region0.yaml").exists());
        let dropped = OverlayDir::new().expect("dir");
        let p = dropped.path().expect("dir").to_path_buf();
        drop(dropped);
        assert!(!p.exists(), "removed on drop");
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
            let o = build_overlay(&effective, opts, S88).expect("overlay");
            let env = env_of(&o.document);
            let vars = env
                .iter()
                .filter(|e| is_named(e, SCHEMA_MANAGER_VAR))
                .count();
            assert_eq!(vars, usize::from(with_var));
            let rest: Vec<Value> = env
                .into_iter()
                .filter(|e| !is_named(e, SCHEMA_MANAGER_VAR))
                .collect();
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
