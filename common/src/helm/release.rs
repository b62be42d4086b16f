//! Which release table row a `helm c8dr` run plans with ([`chart_row`], the one place it is
//! decided): the chart version pinned with `--version`/`HELM_CHART_VERSION` names the chart
//! major and so the row ([`crate::release::facts_for_chart`]); unpinned, the `helm.sh/chart`
//! label of the release's objects in the targeted region (read as `kubectl c8dr` reads it,
//! [`crate::commands::installation::read_region`]), else in the other region; else the run is
//! refused (exit 2) asking for `--version`. The row decides the schema-manager switch's spelling,
//! the profiles the upgrade renders and the configuration ConfigMap `--verify` reads.

use std::time::Duration;

use serde::Serialize;

use super::plan::RedeployRequest;
use crate::config::Env;
use crate::error::{Error, Result};
use crate::kube::{KubeTarget, RegionClient};
use crate::location::{self, Plugin, RegionLocation};
use crate::region::{RegionRef, Target};
use crate::release::{self, Facts, KNOWN};

/// How long reading one region's chart label may take (a lost region does not hold the run).
const READ_LIMIT: Duration = Duration::from_secs(10);

/// The row a run plans with and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRow {
    pub facts: &'static Facts,
    pub source: RowSource,
}

/// Where the row came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum RowSource {
    /// `--version` or `HELM_CHART_VERSION` (named).
    Pinned { source: &'static str },
    /// The `helm.sh/chart` label read in a region.
    Label { region: String, label: String },
    /// Not decided yet: only while the plan's input is checked, never run.
    Unresolved,
}

impl std::fmt::Display for RowSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pinned { source } => write!(f, "{source}"),
            Self::Label { region, label } => write!(f, "helm.sh/chart={label} in {region}"),
            Self::Unresolved => f.write_str("not decided"),
        }
    }
}

fn known_charts() -> String {
    KNOWN
        .iter()
        .map(|f| format!("{}.x for Camunda {}", f.chart_major, f.line))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one chart major a version constraint allows, `None` when it allows several or does not
/// say (`*`, `13.x || 14.x`, `>= 13`). An exclusive upper bound `< N` / `< N.0(.0)` does not
/// count as major `N` (`>= 13.0, < 14` is chart 13).
pub fn pinned_major(constraint: &str) -> Option<u32> {
    let mut majors = std::collections::BTreeSet::new();
    for part in constraint.split("||") {
        // (operator, version) pairs; an operator may stand apart from its version (`>= 13`).
        let mut tokens = vec![];
        let mut pending = String::new();
        for raw in part.split([',', ' ', '\t', '\n', '\r', '\u{c}']) {
            // Hyphen ranges `A - B`: the '-' alone is no version.
            if raw.is_empty() || raw == "-" {
                continue;
            }
            let ops: String = raw.chars().take_while(|c| "=!<>~^".contains(*c)).collect();
            let version = &raw[ops.len()..];
            if version.is_empty() {
                pending = ops;
                continue;
            }
            let ops = if ops.is_empty() {
                std::mem::take(&mut pending)
            } else {
                pending.clear();
                ops
            };
            tokens.push((ops, version.trim_start_matches('v').to_string()));
        }
        let (mut fixed, mut lower, mut upper) = (vec![], None::<u32>, None::<u32>);
        for (ops, version) in tokens {
            let version = version.split(['-', '+']).next().unwrap_or_default();
            let mut parts = version.split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let rest_zero = parts.all(|p| p.chars().all(|c| c == '0'));
            match ops.as_str() {
                "!=" => {}
                ">" | ">=" | "=>" => lower = Some(lower.map_or(major, |l| l.max(major))),
                // `< 14` / `< 14.0.0` ends before chart 14.
                "<" | "<=" | "=<" => {
                    let last = if ops == "<" && rest_zero {
                        major.checked_sub(1)?
                    } else {
                        major
                    };
                    upper = Some(upper.map_or(last, |u| u.min(last)));
                }
                _ => fixed.push(major),
            }
        }
        match (fixed.is_empty(), lower, upper) {
            (false, _, _) => majors.extend(fixed),
            (true, Some(l), Some(u)) if l <= u => majors.extend(l..=u.min(l.saturating_add(1))),
            // Open on one side, empty, or nothing: no single major.
            _ => return None,
        }
    }
    let mut it = majors.into_iter();
    match (it.next(), it.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The pinned version (`--version`, else `HELM_CHART_VERSION`) and its source.
pub(super) fn pinned<'a>(
    req: &'a RedeployRequest,
    env: &'a Env,
) -> Option<(&'static str, &'a str)> {
    match (&req.version, env.get("HELM_CHART_VERSION")) {
        (Some(v), _) if !v.trim().is_empty() => Some(("--version", v.as_str())),
        (None, Some(v)) if !v.trim().is_empty() => Some(("HELM_CHART_VERSION", v)),
        _ => None,
    }
}

/// The row of a pinned chart version: `Ok(None)` when nothing is pinned or the constraint names
/// no single major (the cluster decides); a major c8dr does not know is bad input (exit 2).
pub fn pinned_row(req: &RedeployRequest, env: &Env) -> Result<Option<ChartRow>> {
    let Some((source, version)) = pinned(req, env) else {
        return Ok(None);
    };
    let Some(major) = pinned_major(version) else {
        return Ok(None);
    };
    match release::facts_for_chart(major) {
        Some(facts) => Ok(Some(ChartRow {
            facts,
            source: RowSource::Pinned { source },
        })),
        None => Err(Error::usage(format!(
            "{source} {}: chart {major}.x is not a camunda-platform chart c8dr knows ({})",
            crate::error::shown(version),
            known_charts()
        ))),
    }
}

/// The row of a `helm.sh/chart` label read in `region`: `None` for a label of another chart;
/// a camunda-platform major c8dr does not know is refused (exit 3).
pub fn label_row(region: &str, label: &str) -> Result<Option<ChartRow>> {
    let Some(version) = release::chart_version(label) else {
        return Ok(None);
    };
    match release::facts_for_chart(version.major) {
        Some(facts) => Ok(Some(ChartRow {
            facts,
            source: RowSource::Label {
                region: region.to_string(),
                label: label.to_string(),
            },
        })),
        None => Err(Error::refused(format!(
            "{region} runs chart {label} (helm.sh/chart): c8dr knows {}; nothing was upgraded",
            known_charts()
        ))),
    }
}

/// The regions to read the chart label in, in order: the targeted ones, then the other.
pub(super) fn regions_to_read(req: &RedeployRequest, env: &Env) -> Vec<RegionLocation> {
    let flags = req.location_flags();
    let order = match req.target.unwrap_or(Target::One(RegionRef::Surviving)) {
        Target::One(RegionRef::Recreated) => vec![RegionRef::Recreated, RegionRef::Surviving],
        Target::One(RegionRef::Index(i)) => vec![RegionRef::Index(i), RegionRef::Index(i.other())],
        _ => vec![RegionRef::Surviving, RegionRef::Recreated],
    };
    let mut out: Vec<RegionLocation> = vec![];
    for r in order {
        if let Ok(loc) = location::resolve(r, &flags, env, Plugin::Helm)
            && loc.context.is_some()
            && !out
                .iter()
                .any(|o| o.context == loc.context && o.namespace == loc.namespace)
        {
            out.push(loc);
        }
    }
    out
}

async fn read_label(loc: &RegionLocation, release: &str, env: &Env) -> Option<String> {
    let target = KubeTarget {
        kubeconfig: super::verify::helm_kubeconfig(env),
        context: loc.context.clone(),
        context_source: loc.context_source.clone(),
        namespace: loc.namespace.clone(),
    };
    let read = tokio::time::timeout(READ_LIMIT, async {
        let kube = RegionClient::connect(&target).await?;
        crate::commands::installation::read_region(&kube, release, loc.id).await
    })
    .await;
    match read {
        Ok(Ok(evidence)) => evidence.chart,
        Ok(Err(e)) => {
            tracing::debug!("no chart label from {:?}: {e}", loc.context);
            None
        }
        Err(_) => None,
    }
}

/// THE decision: the row `helm c8dr` plans with (see the module's documentation).
pub async fn chart_row(req: &RedeployRequest, env: &Env, release: &str) -> Result<ChartRow> {
    if let Some(row) = pinned_row(req, env)? {
        return Ok(row);
    }
    for loc in regions_to_read(req, env) {
        let name = loc
            .id
            .map(|i| i.name())
            .or(loc.side.map(|s| s.to_string()))
            .unwrap_or_else(|| "the region".into());
        if let Some(label) = read_label(&loc, release, env).await
            && let Some(row) = label_row(&name, &label)?
        {
            return Ok(row);
        }
    }
    Err(Error::usage(format!(
        "cannot tell which Camunda chart release {release} runs (no helm.sh/chart label of its \
         orchestration pods or gateway Service could be read in either region): pass --version \
         (or set HELM_CHART_VERSION) with the chart version the installation runs ({})",
        known_charts()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::Line;

    #[test]
    fn a_pinned_version_names_one_chart_major() {
        for (v, major) in [
            ("13.1.0", Some(13)),
            ("v14.0.2", Some(14)),
            ("15", Some(15)),
            ("15.0.0-alpha4", Some(15)),
            ("14.x", Some(14)),
            ("~14.1", Some(14)),
            ("^13", Some(13)),
            (">= 13.0, < 14", Some(13)),
            (">=13.0 <14.0.0", Some(13)),
            ("13.0 - 13.4", Some(13)),
            ("=14.2.0", Some(14)),
            ("13.1.0 || 14.x", None),
            ("*", None),
            (">= 13", None),
            ("< 14", None),
            (">= 13.1, <= 13.5", Some(13)),
            (">= 13.1, < 15", None),
            ("x", None),
        ] {
            assert_eq!(pinned_major(v), major, "{v}");
        }
    }

    #[test]
    fn the_pinned_row_comes_before_the_cluster_and_unknown_majors_are_refused() {
        let env = Env::from_pairs([("HELM_CHART_VERSION", "14.0.1")]);
        let row = pinned_row(&RedeployRequest::default(), &env)
            .expect("known")
            .expect("pinned");
        assert_eq!(row.facts.line, Line(8, 9));
        assert_eq!(row.source.to_string(), "HELM_CHART_VERSION");
        let req = RedeployRequest {
            version: Some("15.1.0".into()),
            ..Default::default()
        };
        let row = pinned_row(&req, &env).expect("known").expect("pinned");
        assert_eq!(row.facts.line, Line(8, 10), "--version wins");
        let req = RedeployRequest {
            version: Some("16.0.0".into()),
            ..Default::default()
        };
        let err = pinned_row(&req, &Env::default()).expect_err("unknown");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("13.x for Camunda 8.8"), "{err}");
        assert_eq!(
            pinned_row(&RedeployRequest::default(), &Env::default()).expect("none"),
            None
        );
    }

    #[test]
    fn chart_labels_name_the_row() {
        let row = label_row("region0", "camunda-platform-13.0.0")
            .expect("known")
            .expect("camunda");
        assert_eq!(row.facts.line, Line(8, 8));
        assert_eq!(
            row.source.to_string(),
            "helm.sh/chart=camunda-platform-13.0.0 in region0"
        );
        let row = label_row("region1", "camunda-platform-15.0.0-alpha4")
            .expect("known")
            .expect("camunda");
        assert_eq!(row.facts.line, Line(8, 10));
        assert_eq!(
            label_row("region0", "elasticsearch-21.6.3").expect("ok"),
            None
        );
        let err = label_row("region0", "camunda-platform-12.7.0").expect_err("old");
        assert_eq!(err.exit_code(), 3);
    }
}
