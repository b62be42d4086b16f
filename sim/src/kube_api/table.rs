//! Server-side printing: kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` for human
//! output (notes, section 3.6) and prints the columns the server sends. A plain list also works
//! (kubectl then shows NAME and AGE only), but operators read READY and STATUS of pods, so the
//! simulator renders the same columns as the real API server's printers
//! (`pkg/printers/internalversion/printers.go`). Priority-1 columns show with `-o wide`.

use serde_json::{Value, json};

/// Whether the client asked for a Table.
pub fn wants_table(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',')
            .next()
            .is_some_and(|first| first.contains("as=Table"))
    })
}

/// A duration the way kubectl prints ages (`45s`, `12m`, `5h`, `3d`).
pub fn short_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn column(name: &str, kind: &str, priority: u8) -> Value {
    json!({"name": name, "type": kind, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

fn count(v: &Value) -> usize {
    v.as_object().map(|m| m.len()).unwrap_or(0)
}

fn pod_cells(o: &Value, age: &str) -> Vec<Value> {
    let statuses = o["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = o["spec"]["containers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let ready = statuses.iter().filter(|s| s["ready"] == true).count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|s| s["restartCount"].as_i64())
        .sum();
    vec![
        o["metadata"]["name"].clone(),
        json!(format!("{ready}/{total}")),
        o["status"]["phase"].clone(),
        json!(restarts),
        json!(age),
        o["status"]["podIP"].clone(),
        o["spec"]["nodeName"].clone(),
    ]
}

fn service_cells(o: &Value, age: &str) -> Vec<Value> {
    let ports: Vec<String> = o["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
        .collect();
    let selector: Vec<String> = o["spec"]["selector"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    vec![
        o["metadata"]["name"].clone(),
        o["spec"]["type"].clone(),
        o["spec"]["clusterIP"].clone(),
        json!("<none>"),
        json!(ports.join(",")),
        json!(age),
        json!(selector.join(",")),
    ]
}

/// The cells of one object's row, given its age.
type Cells = fn(&Value, &str) -> Vec<Value>;

/// Columns and cells of one resource type.
fn printer(resource: &str) -> (Vec<Value>, Cells) {
    match resource {
        "pods" => (
            vec![
                column("Name", "string", 0),
                column("Ready", "string", 0),
                column("Status", "string", 0),
                column("Restarts", "string", 0),
                column("Age", "string", 0),
                column("IP", "string", 1),
                column("Node", "string", 1),
            ],
            pod_cells,
        ),
        "services" => (
            vec![
                column("Name", "string", 0),
                column("Type", "string", 0),
                column("Cluster-IP", "string", 0),
                column("External-IP", "string", 0),
                column("Port(s)", "string", 0),
                column("Age", "string", 0),
                column("Selector", "string", 1),
            ],
            service_cells,
        ),
        "configmaps" => (
            vec![
                column("Name", "string", 0),
                column("Data", "integer", 0),
                column("Age", "string", 0),
            ],
            |o, age| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(count(&o["data"])),
                    json!(age),
                ]
            },
        ),
        "secrets" => (
            vec![
                column("Name", "string", 0),
                column("Type", "string", 0),
                column("Data", "integer", 0),
                column("Age", "string", 0),
            ],
            |o, age| {
                vec![
                    o["metadata"]["name"].clone(),
                    o["type"].clone(),
                    json!(count(&o["data"])),
                    json!(age),
                ]
            },
        ),
        _ => (
            vec![column("Name", "string", 0), column("Age", "string", 0)],
            |o, age| vec![o["metadata"]["name"].clone(), json!(age)],
        ),
    }
}

/// A `meta.k8s.io/v1` Table of `objects`; each row carries the object's metadata as a
/// `PartialObjectMetadata` (the real server's default `includeObject`), which kubectl uses for
/// `--show-labels` and `-L`.
pub fn table(resource: &str, objects: &[Value], age: &str) -> Value {
    let (columns, cells) = printer(resource);
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": cells(o, age),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_requested_by_the_first_accepted_type() {
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
        assert!(!wants_table(None));
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(short_age(59), "59s");
        assert_eq!(short_age(3600), "60m");
        assert_eq!(short_age(5 * 3600), "5h");
        assert_eq!(short_age(3 * 86_400), "3d");
    }

    #[test]
    fn pod_rows_show_readiness() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c"}], "nodeName": "n"},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [{"ready": false, "restartCount": 0}]},
        });
        let t = table("pods", &[pod], "1m");
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(t["rows"][0]["cells"][2], "Running");
    }
}
