//! Rendering results: `-o text` for people; `-o json|yaml` as one stable document on stdout, with
//! `apiVersion` and `kind` (docs/output.md); `-o jsonpath=TEMPLATE` (kubectl's template syntax
//! over that document) and `-o name` (`kind/name` lines) for scripts.

mod jsonpath;

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub use jsonpath::Template;

/// The `apiVersion` of every document. Within `v1alpha1` changes are additive only (new fields,
/// new kinds, new enum values); a renamed or removed field means a new version (docs/output.md).
pub const API_VERSION: &str = "c8dr.camunda.io/v1alpha1";

/// The `kind` of each report document, one per report type: the one home of these names.
/// docs/schema/<kind>.json describes each (a test checks every `-o json` document against it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `kubectl c8dr status`.
    Status,
    /// `kubectl c8dr profiles`.
    Profiles,
    /// `kubectl c8dr topology`.
    Topology,
    /// `kubectl c8dr exporters list`.
    ExporterList,
    /// `kubectl c8dr changes show`.
    Changes,
    /// `kubectl c8dr es status`.
    EsStatus,
    /// `kubectl c8dr es repo show`.
    SnapshotRepository,
    /// `kubectl c8dr es snapshot list`.
    SnapshotList,
    /// `kubectl c8dr es snapshot show`.
    Snapshot,
    /// Every mutating command (brokers, exporters enable/disable, exporting, changes
    /// wait/cancel, es repo register, snapshot create/restore, es copy, failover, failback).
    Outcome,
    /// `kubectl c8dr version`, `helm c8dr version`.
    Version,
    /// `helm c8dr redeploy`.
    Redeploy,
    /// `helm c8dr overlay`.
    OverlayList,
    /// `kubectl c8dr preflight`.
    Preflight,
    /// `kubectl c8dr history`.
    History,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Status,
        Kind::Profiles,
        Kind::Topology,
        Kind::ExporterList,
        Kind::Changes,
        Kind::EsStatus,
        Kind::SnapshotRepository,
        Kind::SnapshotList,
        Kind::Snapshot,
        Kind::Outcome,
        Kind::Version,
        Kind::Redeploy,
        Kind::OverlayList,
        Kind::Preflight,
        Kind::History,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Status => "Status",
            Kind::Profiles => "Profiles",
            Kind::Topology => "Topology",
            Kind::ExporterList => "ExporterList",
            Kind::Changes => "Changes",
            Kind::EsStatus => "EsStatus",
            Kind::SnapshotRepository => "SnapshotRepository",
            Kind::SnapshotList => "SnapshotList",
            Kind::Snapshot => "Snapshot",
            Kind::Outcome => "Outcome",
            Kind::Version => "Version",
            Kind::Redeploy => "Redeploy",
            Kind::OverlayList => "OverlayList",
            Kind::Preflight => "Preflight",
            Kind::History => "History",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `-o FORMAT`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Yaml,
    /// `-o jsonpath=TEMPLATE`, checked when the flag is read (exit 2, no call).
    JsonPath(Template),
    /// `-o name`: `kind/name`, one a line (only reports that list named things).
    Name,
}

impl Format {
    /// A document format (json or yaml): one document with apiVersion and kind.
    pub fn is_document(&self) -> bool {
        matches!(self, Self::Json | Self::Yaml)
    }
}

/// The values of `-o`, for help and errors.
pub const FORMATS: &str = "text, json, yaml, name or jsonpath=TEMPLATE";

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "text" | "wide" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "yaml" => Ok(Self::Yaml),
            "name" => Ok(Self::Name),
            other => match other.strip_prefix("jsonpath=") {
                Some(t) => Template::parse(t)
                    .map(Self::JsonPath)
                    .map_err(|e| Error::usage(format!("-o jsonpath: {e}"))),
                None if other == "jsonpath" => Err(Error::usage(
                    "-o jsonpath: give a template, e.g. -o jsonpath='{.exporters[*].exporterId}'",
                )),
                None => Err(Error::usage(format!("-o {other}: expected {FORMATS}"))),
            },
        }
    }
}

/// A report as a document for scripts: its `kind` and, for `-o name`, what it names. Every
/// report type's kind is given here, in one place (see the impls at the end of this file).
pub trait Document: Serialize {
    /// The document's `kind`.
    fn kind(&self) -> Kind;
    /// `-o name`: the named things the report lists, as `kind/name` (kubectl's form), or `None`
    /// when the report has no such list.
    fn names(&self) -> Option<Vec<String>> {
        None
    }
}

/// A command result that can be shown to people (and, as a [`Document`], read by scripts).
pub trait Render: Document {
    fn text(&self) -> String;
}

/// The document of `-o json|yaml|jsonpath`: `apiVersion`, `kind`, then the report's fields.
pub fn document<T: Document + ?Sized>(value: &T) -> Result<Value> {
    let body = serde_json::to_value(value)
        .map_err(|e| Error::failed(format!("rendering the document: {e}")))?;
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), Value::String(API_VERSION.into()));
    doc.insert("kind".into(), Value::String(value.kind().as_str().into()));
    match body {
        Value::Object(fields) => doc.extend(fields),
        // Every report is a struct; anything else would break the contract.
        other => {
            return Err(Error::failed(format!(
                "rendering the document: {} is not an object: {other}",
                value.kind()
            )));
        }
    }
    Ok(Value::Object(doc))
}

/// An error as both binaries print it on stderr (docs/output.md): `error: MESSAGE`, or with
/// `-o json|yaml` one document `{"error": MESSAGE, "exitCode": N}` (JSON on one line), so that a
/// script reading the format it asked for gets one on failure too. The message is redacted and
/// each overlong word cut ([`crate::error::bound_message`]).
pub fn error_text(e: &Error, format: &Format) -> String {
    let message = crate::error::bound_message(&crate::values::redact_text(&e.to_string()));
    let doc = serde_json::json!({"error": message, "exitCode": e.exit_code()});
    match format {
        Format::Json => format!("{doc}\n"),
        Format::Yaml => serde_saphyr::to_string(&doc).unwrap_or_else(|_| format!("{doc}\n")),
        _ => format!("error: {message}\n"),
    }
}

/// Render a result in the requested format.
pub fn render<T: Render>(value: &T, format: &Format) -> Result<String> {
    match format {
        Format::Text => Ok(value.text()),
        other => render_document(value, other),
    }
}

/// Render a report for scripts: `-o json|yaml|jsonpath|name` (a report without a text form,
/// such as helm c8dr's, uses this directly).
pub fn render_document<T: Document + ?Sized>(value: &T, format: &Format) -> Result<String> {
    match format {
        // A report without a text form has nothing else to show for `text`.
        Format::Json | Format::Text => serde_json::to_string_pretty(&document(value)?)
            .map(|s| s + "\n")
            .map_err(|e| Error::failed(format!("rendering JSON: {e}"))),
        Format::Yaml => serde_saphyr::to_string(&document(value)?)
            .map_err(|e| Error::failed(format!("rendering YAML: {e}"))),
        Format::JsonPath(t) => t.render(&document(value)?),
        Format::Name => match value.names() {
            Some(names) => Ok(names.iter().map(|n| format!("{n}\n")).collect()),
            None => Err(Error::usage(format!(
                "-o name: {} lists no named objects; use -o json, yaml or jsonpath",
                value.kind()
            ))),
        },
    }
}

/// A table with a header row, for lists in text output.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(header.iter().map(|h| h.to_string()));
    for r in rows {
        t.add_row(r);
    }
    // comfy-table pads with a leading space per column; trim the left edge for kubectl-like output.
    t.to_string()
        .lines()
        .map(|l| l.trim_end().strip_prefix(' ').unwrap_or(l).to_string())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `version`: what a binary is and how it was built.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// `kubectl-c8dr` or `helm-c8dr`.
    pub binary: String,
    pub version: String,
    /// The commit it was built from (`HEAD` of the checkout), `unknown` outside git.
    pub git_commit: String,
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: String,
    /// `rustc --version` of the compiler.
    pub rustc_version: String,
}

impl Render for VersionInfo {
    fn text(&self) -> String {
        format!(
            "{} {}
commit: {}
target: {}
rustc:  {}
",
            self.binary, self.version, self.git_commit, self.target, self.rustc_version
        )
    }
}

// The kind of every report type, and what `-o name` lists.

impl Document for VersionInfo {
    fn kind(&self) -> Kind {
        Kind::Version
    }
}

use crate::commands as c;

impl Document for c::status::StatusReport {
    fn kind(&self) -> Kind {
        Kind::Status
    }
}

impl Document for c::preflight::PreflightReport {
    fn kind(&self) -> Kind {
        Kind::Preflight
    }
}

impl Document for c::status::ProfilesReport {
    fn kind(&self) -> Kind {
        Kind::Profiles
    }
}

impl Document for c::topology::TopologyView {
    fn kind(&self) -> Kind {
        Kind::Topology
    }
    /// `broker/<nodeId>` per broker the gateway lists, by node id (as the table).
    fn names(&self) -> Option<Vec<String>> {
        let mut ids: Vec<u32> = self.0.brokers.iter().map(|b| b.node_id).collect();
        ids.sort_unstable();
        Some(ids.iter().map(|id| format!("broker/{id}")).collect())
    }
}

impl Document for c::exporters::ExporterList {
    fn kind(&self) -> Kind {
        Kind::ExporterList
    }
    /// `exporter/<exporterId>`.
    fn names(&self) -> Option<Vec<String>> {
        Some(
            self.exporters
                .iter()
                .map(|e| format!("exporter/{}", e.exporter_id))
                .collect(),
        )
    }
}

impl Document for c::history::HistoryReport {
    fn kind(&self) -> Kind {
        Kind::History
    }
}

impl Document for c::changes::ChangesView {
    fn kind(&self) -> Kind {
        Kind::Changes
    }
}

impl Document for c::es::StatusView {
    fn kind(&self) -> Kind {
        Kind::EsStatus
    }
}

impl Document for c::es::RepoView {
    fn kind(&self) -> Kind {
        Kind::SnapshotRepository
    }
}

impl Document for c::es::SnapshotListView {
    fn kind(&self) -> Kind {
        Kind::SnapshotList
    }
    /// `snapshot/<name>`.
    fn names(&self) -> Option<Vec<String>> {
        Some(
            self.0
                .snapshots
                .iter()
                .map(|s| format!("snapshot/{}", s.snapshot))
                .collect(),
        )
    }
}

impl Document for c::es::SnapshotView {
    fn kind(&self) -> Kind {
        Kind::Snapshot
    }
}

impl Document for c::Outcome {
    fn kind(&self) -> Kind {
        Kind::Outcome
    }
}

impl Document for crate::helm::RedeployReport {
    fn kind(&self) -> Kind {
        Kind::Redeploy
    }
}

impl Document for crate::helm::OverlayList {
    fn kind(&self) -> Kind {
        Kind::OverlayList
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        exporter_ids: Vec<&'static str>,
    }
    impl Document for Sample {
        fn kind(&self) -> Kind {
            Kind::ExporterList
        }
    }
    impl Render for Sample {
        fn text(&self) -> String {
            "text\n".into()
        }
    }

    #[test]
    fn every_document_starts_with_api_version_and_kind() {
        let s = Sample {
            exporter_ids: vec!["a"],
        };
        let json = render(&s, &Format::Json).expect("json");
        let doc: Value = serde_json::from_str(&json).expect("valid");
        let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "exporterIds"]);
        assert_eq!(doc["apiVersion"], API_VERSION);
        assert_eq!(doc["kind"], "ExporterList");
        let yaml = render(&s, &Format::Yaml).expect("yaml");
        assert!(yaml.starts_with("apiVersion: c8dr.camunda.io/v1alpha1\nkind: ExporterList\n"));
    }

    #[test]
    fn formats_parse_and_bad_ones_are_usage_errors_naming_o() {
        assert_eq!("name".parse::<Format>().expect("name"), Format::Name);
        assert!(matches!(
            "jsonpath={.kind}".parse::<Format>(),
            Ok(Format::JsonPath(_))
        ));
        for bad in ["xml", "", "jsonpath", "jsonpath={.a", "jsonpath={.a[}"] {
            let e = bad.parse::<Format>().expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().starts_with("-o "), "{bad}: {e}");
        }
    }

    #[test]
    fn name_is_refused_by_reports_without_names() {
        let s = Sample {
            exporter_ids: vec![],
        };
        let e = render(&s, &Format::Name).expect_err("no names");
        assert_eq!(e.exit_code(), 2);
    }
}
