//! Reading values files. They are only ever read: c8dr never writes a user's file.

use std::path::Path;

use serde_json::{Map, Value};

use super::merge::merge_into;
use crate::error::{Error, Result};

/// Parse one values document. An empty document is an empty map, as Helm treats it; anything
/// but a map at the top level is an error naming the file.
pub fn parse_yaml(path: &Path, text: &str) -> Result<Value> {
    let value: Value = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value),
        other => Err(Error::File {
            path: path.to_path_buf(),
            message: format!(
                "line 1, column 1: expected a map of values at the top level, found {}",
                kind(&other)
            ),
        }),
    }
}

/// Read and parse one values file.
/// The largest values file c8dr reads: Helm stores a release (chart, values, manifest) in one
/// Secret, and the API server refuses a Secret over 1 MiB (kubernetes `core/validation`
/// `MaxSecretSize`), so a larger values file cannot be installed anyway.
pub const MAX_VALUES_FILE: u64 = 1024 * 1024;

pub fn load_file(path: &Path) -> Result<Value> {
    let text = read_bounded(path)?;
    let doc = parse_yaml(path, &text)?;
    check_env_entries(path, &text, &doc)?;
    Ok(doc)
}

fn too_large(path: &Path, size: u64) -> Error {
    Error::File {
        path: path.to_path_buf(),
        message: format!(
            "{size} bytes: larger than a Helm release can hold (a release is stored in one Secret, \
             at most 1 MiB)"
        ),
    }
}

/// A values file's text: only a regular file (a FIFO, a device or a socket would block or never
/// end), read with the [`MAX_VALUES_FILE`] bound even if it grows while read.
fn read_bounded(path: &Path) -> Result<String> {
    use std::io::Read;
    let file_error = |message: String| Error::File {
        path: path.to_path_buf(),
        message,
    };
    let io_error = |e: std::io::Error| {
        file_error(match e.kind() {
            std::io::ErrorKind::NotFound => "no such values file".to_string(),
            _ => format!("cannot read values file: {e}"),
        })
    };
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if !meta.is_file() {
        let kind = file_kind(&meta.file_type());
        return Err(file_error(format!(
            "not a regular file ({kind}): a values file must be a regular YAML file"
        )));
    }
    if meta.len() > MAX_VALUES_FILE {
        return Err(too_large(path, meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_VALUES_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_VALUES_FILE {
        return Err(too_large(path, bytes.len() as u64));
    }
    String::from_utf8(bytes)
        .map_err(|_| file_error("cannot read values file: it is not UTF-8 text".to_string()))
}

/// What a file that is not a regular file is, for messages.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Every `orchestration.env` entry of a user's file must be a map with a `name` (Kubernetes
/// refuses an env var without one, and c8dr adds or removes the schema-manager variable by
/// name). The error names the file, and the entry's line and column.
pub fn check_env_entries(path: &Path, text: &str, doc: &Value) -> Result<()> {
    let list = match doc.pointer("/orchestration/env") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        // The chart renders the list into the container's `env:`: a map or a scalar there is
        // refused by the API server at upgrade time; here it is refused naming the file and line.
        Some(other) => {
            let location = env_value_location(text)
                .filter(|(line, _)| *line > 0)
                .map(|(line, column)| format!("line {line}, column {column}: "))
                .unwrap_or_default();
            return Err(Error::File {
                path: path.to_path_buf(),
                message: format!(
                    "{location}orchestration.env must be a list of entries (`- name: VAR` with \
                     `value:` or `valueFrom:`), found {}",
                    kind(other)
                ),
            });
        }
    };
    let Some(bad) = list.iter().position(|e| {
        e.get("name")
            .and_then(Value::as_str)
            .is_none_or(|n| n.trim().is_empty())
    }) else {
        return Ok(());
    };
    let location = env_entry_locations(text)
        .and_then(|l| l.get(bad).copied())
        .filter(|(line, _)| *line > 0)
        .map(|(line, column)| format!("line {line}, column {column}: "))
        .unwrap_or_default();
    Err(Error::File {
        path: path.to_path_buf(),
        message: format!(
            "{location}orchestration.env[{bad}] has no name (every env entry needs `name:`, \
             e.g. `- name: VAR` with `value:` or `valueFrom:`)"
        ),
    })
}

/// Line and column of the `orchestration.env` value, when the parser can tell.
fn env_value_location(text: &str) -> Option<(usize, usize)> {
    #[derive(serde::Deserialize)]
    struct Doc {
        orchestration: Option<Orchestration>,
    }
    #[derive(serde::Deserialize)]
    struct Orchestration {
        env: Option<serde_saphyr::Spanned<serde::de::IgnoredAny>>,
    }
    let env = serde_saphyr::from_str::<Doc>(text)
        .ok()?
        .orchestration?
        .env?;
    Some((
        env.referenced.line() as usize,
        env.referenced.column() as usize,
    ))
}

/// Line and column of each `orchestration.env` entry, when the parser can tell.
fn env_entry_locations(text: &str) -> Option<Vec<(usize, usize)>> {
    #[derive(serde::Deserialize)]
    struct Doc {
        orchestration: Option<Orchestration>,
    }
    #[derive(serde::Deserialize)]
    struct Orchestration {
        env: Option<Vec<serde_saphyr::Spanned<serde::de::IgnoredAny>>>,
    }
    let doc: Doc = serde_saphyr::from_str(text).ok()?;
    Some(
        doc.orchestration?
            .env?
            .iter()
            .map(|e| (e.referenced.line() as usize, e.referenced.column() as usize))
            .collect(),
    )
}

/// Read the `-f` chain in order and merge it as Helm does.
pub fn load_chain<P: AsRef<Path>>(paths: &[P]) -> Result<Value> {
    let mut merged = Value::Object(Map::new());
    for path in paths {
        merge_into(&mut merged, load_file(path.as_ref())?);
    }
    Ok(merged)
}

fn yaml_error(path: &Path, err: &serde_saphyr::Error) -> Error {
    let plain = err.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    // One line: the first line of the plain message, without its own location suffix.
    let first = plain.lines().next().unwrap_or("invalid YAML").trim();
    let message = match err.location() {
        Some(loc) => {
            let suffix = format!(" at line {}, column {}", loc.line(), loc.column());
            let text = first.strip_suffix(suffix.as_str()).unwrap_or(first);
            format!("line {}, column {}: {text}", loc.line(), loc.column())
        }
        None => first.to_string(),
    };
    Error::File {
        path: path.to_path_buf(),
        message,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_types_survive_parsing() {
        let v = parse_yaml(
            Path::new("v.yml"),
            "---\na:\n  size: '8'\n  on: true\n  n: 3\n  f: 0.1\n  s: 5m\n",
        )
        .expect("parses");
        assert_eq!(
            v,
            json!({"a": {"size": "8", "on": true, "n": 3, "f": 0.1, "s": "5m"}})
        );
    }

    #[test]
    fn an_empty_file_is_an_empty_map() {
        assert_eq!(
            parse_yaml(Path::new("e.yml"), "").expect("parses"),
            json!({})
        );
        assert_eq!(
            parse_yaml(Path::new("e.yml"), "# only a comment\n").expect("parses"),
            json!({})
        );
    }

    #[test]
    fn yaml_errors_name_file_line_and_column() {
        let err = parse_yaml(Path::new("bad.yml"), "a:\n  b: 1\n c: [\n").expect_err("malformed");
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.starts_with("bad.yml: line "), "{msg}");
        assert!(msg.contains("column "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn a_list_at_the_top_is_refused() {
        let err = parse_yaml(Path::new("l.yml"), "- a\n- b\n").expect_err("not a map");
        assert!(err.to_string().contains("expected a map"), "{err}");
    }

    #[test]
    fn an_env_entry_without_name_names_file_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("values.yml");
        std::fs::write(
            &path,
            "orchestration:\n  env:\n    - name: A\n      value: x\n    - value: \"no name\"\n",
        )
        .expect("write");
        let err = load_file(&path).expect_err("an entry without name");
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
        assert!(msg.contains("line 5, column 7"), "{msg}");
        assert!(msg.contains("orchestration.env[1] has no name"), "{msg}");
        std::fs::write(&path, "orchestration:\n  env:\n    - name: \"\"\n").expect("write");
        assert!(load_file(&path).is_err(), "an empty name");
        std::fs::write(&path, "orchestration:\n  env:\n    - name: A\n").expect("write");
        assert!(load_file(&path).is_ok());
    }

    #[test]
    fn a_missing_file_is_a_file_error() {
        let err = load_file(Path::new("/nonexistent/c8dr/values.yml")).expect_err("missing");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("no such values file"), "{err}");
    }
}
