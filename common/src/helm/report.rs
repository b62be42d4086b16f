//! What `helm c8dr redeploy` did (or, in a dry run, would do), for text and JSON rendering, and
//! the exit code it maps to.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::plan::{Plan, RegionPlan};
use super::run::Interrupted;
use super::verify::VerifyReport;
use crate::error::{Error, Result};
use crate::region::RegionRef;
use crate::values::{self, EnvChange};

/// The outcome of `redeploy`, for text and JSON rendering.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeployReport {
    pub dry_run: bool,
    pub release: String,
    pub chart: String,
    pub version: Option<String>,
    pub notices: Vec<String>,
    pub regions: Vec<UpgradeReport>,
    /// Set when a signal stopped the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interrupted>,
    /// The notices were shown before the run (on stderr, before the prompt): the text output
    /// does not repeat them.
    #[serde(skip)]
    pub notices_shown: bool,
}

/// `helm c8dr overlay -o json`: the generated overlay of each region.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverlayList {
    pub overlays: Vec<RegionOverlay>,
}

/// One region's generated values overlay (secrets redacted unless asked).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionOverlay {
    /// `region0`/`region1` (or the side when the region's id is not known).
    pub region: String,
    /// The values document passed to helm as the last `-f`.
    pub overlay: Value,
}

/// One region's upgrade: what was (or would be) run and what came of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeReport {
    pub region: String,
    pub side: Option<RegionRef>,
    pub context: String,
    pub namespace: String,
    pub values_files: Vec<String>,
    pub overlay_file: String,
    pub overlay_kept: bool,
    /// The helm command line, secrets redacted.
    pub argv: Vec<String>,
    pub wait: bool,
    pub schema_manager: EnvChange,
    pub webapps: bool,
    /// The generated overlay, secrets redacted.
    pub overlay: Value,
    pub notices: Vec<String>,
    /// helm's exit code (absent in a dry run).
    pub exit_code: Option<i32>,
    /// helm's stdout and stderr.
    pub output: String,
    /// `--verify`: what the unified ConfigMap showed.
    pub verify: Option<VerifyReport>,
}

impl RedeployReport {
    /// The error to exit with: the first failing region's helm exit code, every failure named.
    pub fn error(&self) -> Option<Error> {
        if let Some(i) = &self.interrupted {
            let done: Vec<String> = self
                .regions
                .iter()
                .map(|r| match r.exit_code {
                    Some(0) => format!("{} upgraded", r.region),
                    Some(c) => format!("{}: helm exited {c} (cancelled: no change, or the release is marked failed)", r.region),
                    None if i.helm_still_running.contains(&r.region) => {
                        format!("{}: helm still finishing (see above)", r.region)
                    }
                    None => format!("{}: not started", r.region),
                })
                .collect();
            return Some(Error::Command(
                format!(
                    "interrupted by {}: {}; {}",
                    i.signal.name(),
                    done.join("; "),
                    if i.overlays_removed {
                        "the generated overlays were removed"
                    } else {
                        "the generated overlays could NOT be removed"
                    }
                ),
                i.exit_code,
            ));
        }
        let failed: Vec<&UpgradeReport> = self
            .regions
            .iter()
            .filter(|r| r.exit_code.is_some_and(|c| c != 0))
            .collect();
        if failed.is_empty() {
            return self.regions.iter().find_map(|r| {
                let v = r.verify.as_ref().filter(|v| !v.ok)?;
                Some(Error::Command(
                    format!("{}: {}", r.region, v.message.clone().unwrap_or_default()),
                    v.exit_code,
                ))
            });
        }
        let code = failed.first()?.exit_code.unwrap_or(1);
        let msg = failed
            .iter()
            .map(|r| {
                let last = r
                    .output
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                format!(
                    "helm upgrade failed in {} (context {}, exit {}){}",
                    r.region,
                    r.context,
                    r.exit_code.unwrap_or(1),
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(": {last}")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        // What to do next (issue 13 fault matrix: helm failing in one region of `--region both`).
        let upgraded: Vec<&str> = self
            .regions
            .iter()
            .filter(|r| r.exit_code == Some(0))
            .map(|r| r.region.as_str())
            .collect();
        let done = if upgraded.is_empty() {
            String::new()
        } else {
            format!("; {} upgraded", upgraded.join(", "))
        };
        Some(Error::Command(
            format!(
                "{msg}{done}. Fix the cause, then run the same helm c8dr redeploy again \
                 (an upgrade with the same values is safe to repeat)"
            ),
            code,
        ))
    }
}

impl Plan {
    pub(super) fn region_report(
        &self,
        region: &RegionPlan,
        overlay_path: &Path,
        kept: bool,
    ) -> UpgradeReport {
        UpgradeReport {
            region: region.label(),
            side: region.side,
            context: region.context.clone(),
            namespace: region.namespace.clone(),
            values_files: region
                .values_files
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
            overlay_file: overlay_path.display().to_string(),
            overlay_kept: kept,
            argv: self.shown_argv(region, overlay_path),
            wait: region.wait,
            schema_manager: region.overlay.env_change,
            webapps: region.webapps(),
            overlay: self.redactor.values(&region.overlay.document),
            notices: region
                .overlay
                .notices
                .iter()
                .map(|n| self.redactor.text(n))
                .collect(),
            exit_code: None,
            output: String::new(),
            verify: None,
        }
    }

    /// The report of a dry run: the exact commands and overlays; nothing runs. Overlays are
    /// written only when they are kept (`--keep-overlay DIR`), so they can be inspected.
    pub fn dry_run(&self) -> Result<RedeployReport> {
        let mut regions = vec![];
        for region in &self.regions {
            let path = self.overlay_display_path(region);
            let kept = if let Some(dir) = &self.keep_overlay {
                let yaml = values::to_yaml(&region.overlay.document)?;
                values::write_overlay(Some(dir), None, &self.overlay_name(region), &yaml)?;
                true
            } else {
                false
            };
            regions.push(self.region_report(region, &path, kept));
        }
        Ok(self.report(regions, true))
    }

    pub(super) fn report(&self, regions: Vec<UpgradeReport>, dry_run: bool) -> RedeployReport {
        RedeployReport {
            dry_run,
            release: self.release.clone(),
            chart: self.redactor.text(&self.chart),
            version: self.version.clone(),
            notices: self.notices.iter().map(|n| self.redactor.text(n)).collect(),
            regions,
            interrupted: None,
            notices_shown: false,
        }
    }
}
