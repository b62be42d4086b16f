//! Rendering results: `-o text` for people, `-o json|yaml` as one stable document on stdout.

use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Yaml,
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "text" | "wide" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "yaml" => Ok(Self::Yaml),
            other => Err(Error::usage(format!(
                "-o {other}: expected text, json or yaml"
            ))),
        }
    }
}

/// A command result that can be shown to people.
pub trait Render: Serialize {
    fn text(&self) -> String;
}

/// Render a result in the requested format.
pub fn render<T: Render>(value: &T, format: Format) -> Result<String> {
    match format {
        Format::Text => Ok(value.text()),
        Format::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::failed(format!("rendering JSON: {e}"))),
        Format::Yaml => {
            let json = serde_json::to_value(value)
                .map_err(|e| Error::failed(format!("rendering YAML: {e}")))?;
            serde_saphyr::to_string(&json)
                .map_err(|e| Error::failed(format!("rendering YAML: {e}")))
        }
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
