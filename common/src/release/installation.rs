//! What an installation is, as read from the live cluster, and whether c8dr supports it: pure
//! types and the judgement; the reading is `commands::installation`.
//!
//! Evidence, strongest first: the versions the gateway and the brokers report in `/v2/topology`,
//! then the `helm.sh/chart` label of the release's objects. How the search engine is deployed,
//! the secondary storage kind (`camunda.data.secondary-storage.type` in the rendered
//! configuration) and the broker identity (numbers, or `<zone>_<n>` strings) decide what the
//! procedure can do. An installation c8dr does not support is refused before any change (exit
//! 3) with the reason and what to follow instead (docs/contract.md §4 rule 13).

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Facts, Line, Version};
use crate::error::{Error, Result};

/// How a region's Elasticsearch/OpenSearch is deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SearchDeployment {
    /// The chart's Bitnami subchart (`<release>-elasticsearch-master-N`,
    /// `app.kubernetes.io/name=elasticsearch`).
    Subchart,
    /// The ECK operator (`elasticsearch.k8s.elastic.co/cluster-name=<cluster>`).
    Eck { cluster: String },
    /// No search-engine pod in the namespace: an external URL (`--es-url`) or another namespace.
    External,
    /// More than one ECK cluster and the exporter URL names none of them: not picked from
    /// (the `es` commands refuse without `--es-url`).
    Ambiguous { clusters: Vec<String> },
}

impl std::fmt::Display for SearchDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subchart => f.write_str("Bitnami subchart"),
            Self::Eck { cluster } => write!(f, "ECK (cluster {cluster})"),
            Self::External => f.write_str("external (no pod here)"),
            Self::Ambiguous { clusters } => write!(
                f,
                "{} ECK clusters ({}), none named by the exporter URL: pass --es-url",
                clusters.len(),
                clusters.join(", ")
            ),
        }
    }
}

/// How brokers are identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum BrokerIdentity {
    /// Numbers, each region every other one (`nodeId = ordinal * 2 + regionId`).
    Numbered,
    /// `<zone>_<n>` strings (8.10+ zone-aware clusters).
    ZoneAware { zones: Vec<String> },
}

/// What one region shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionEvidence {
    /// The `helm.sh/chart` label of the release's orchestration objects.
    pub chart: Option<String>,
    pub search: Option<SearchDeployment>,
    /// The secondary storage kind the orchestration reads: `CAMUNDA_DATA_SECONDARYSTORAGE_TYPE`
    /// of its pods, else `camunda.data.secondary-storage.type` of the rendered configuration.
    pub secondary_storage: Option<String>,
    /// Why the secondary storage kind could not be read (a configuration that does not parse,
    /// is several documents, or sets the kind to something that is not a string): not "no
    /// information", a refusal (docs/contract.md §4 rule 13, detect, never assume).
    pub storage_unreadable: Option<String>,
}

/// An installation as read: both regions where they answered, and the gateway's view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    /// Per region id (0, 1); `None` when the region could not be read.
    pub regions: [Option<RegionEvidence>; 2],
    /// `/v2/topology` `gatewayVersion`, when readable.
    pub gateway_version: Option<String>,
    /// Every version a broker reports in `/v2/topology`.
    pub broker_versions: BTreeSet<String>,
    /// `None` when no broker id could be read.
    pub identity: Option<BrokerIdentity>,
    /// The parts that timed out or could not be reached (a region's objects, `/v2/topology`):
    /// when they leave the release unknown, that is exit 4 or 5 naming them, not a refusal
    /// with advice about credentials (docs/contract.md §4 rule 11).
    #[serde(skip)]
    pub unread: Vec<Unread>,
}

/// A part of the installation that did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// It did not answer within the bound (`after`, as `--timeout`/`--probe-timeout` gave it).
    TimedOut { what: String, after: String },
    /// Its server could not be reached.
    Unreachable { what: String, detail: String },
}

impl Unread {
    /// The part `what` failed with `e`: kept when it is a timeout or an unreachable server.
    pub fn of(what: &str, e: &Error) -> Option<Self> {
        match e {
            Error::Timeout { what: w, after } => Some(Self::TimedOut {
                what: format!("{what} ({w})"),
                after: after.clone(),
            }),
            Error::Unreachable { what: w, detail } => Some(Self::Unreachable {
                what: format!("{what} ({w})"),
                detail: detail.clone(),
            }),
            _ => None,
        }
    }
}

/// The judgement: the row to use, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judgement {
    /// The release line the evidence shows (the newest seen), if any.
    pub line: Option<Line>,
    /// Where the line came from (`/v2/topology`, `the chart label`).
    pub evidence: Option<String>,
    pub supported: bool,
    /// Why not, and what to follow instead.
    pub refusal: Option<String>,
    /// What to know even though it is supported (a newer line allowed, a region unread).
    pub notes: Vec<String>,
    #[serde(skip)]
    pub facts: Option<&'static Facts>,
    /// What was read.
    pub installation: Installation,
}

/// The runbook for what the parity procedure must not be run on.
const ZONES_RUNBOOK: &str = "a cluster of three or more zones needs no forced removal: \
     follow Camunda's Multi-Region runbook for your release";
const RDBMS_RUNBOOK: &str = "follow Camunda's Multi-Region RDBMS runbook: the dual-region \
     procedure copies Elasticsearch/OpenSearch and must not be run on RDBMS secondary storage";

impl Installation {
    /// Every Camunda version seen (gateway, brokers, per-region), parsed; unreadable ones are
    /// returned apart.
    fn versions(&self) -> (BTreeSet<Version>, Vec<String>) {
        let mut ok = BTreeSet::new();
        let mut bad = vec![];
        let all = self.gateway_version.iter().chain(&self.broker_versions);
        for raw in all {
            match Version::parse(raw) {
                Some(v) => {
                    ok.insert(v);
                }
                None => bad.push(raw.clone()),
            }
        }
        (ok, bad)
    }

    /// The chart versions the regions' labels show.
    fn charts(&self) -> BTreeSet<Version> {
        self.region_charts()
            .into_iter()
            .map(|(_, _, v)| v)
            .collect()
    }

    /// Each region that was read and shows a camunda-platform chart label: (region name, label,
    /// its version). A region that could not be read shows nothing and counts for nothing.
    fn region_charts(&self) -> Vec<(String, &str, Version)> {
        self.regions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let label = r.as_ref()?.chart.as_deref()?;
                Some((format!("region{i}"), label, super::chart_version(label)?))
            })
            .collect()
    }

    /// Why the chart labels show more than one release, or one too old (docs/contract.md §4
    /// rule 13): regions on different chart majors, a region on a chart older than the oldest
    /// supported, or a chart that is not the row of the release line `/v2/topology` reports.
    fn chart_refusal(&self, topology: Option<(Line, &BTreeSet<Version>)>) -> Option<String> {
        let charts = self.region_charts();
        let shown = |c: &[(String, &str, Version)]| {
            c.iter()
                .map(|(r, label, _)| format!("{r}: chart {}", crate::error::shown(label)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let majors: BTreeSet<u32> = charts.iter().map(|(_, _, v)| v.major).collect();
        if majors.len() > 1 {
            return Some(format!(
                "the installation runs more than one Camunda release ({}): finish the upgrade \
                 before a failover or failback",
                shown(&charts)
            ));
        }
        if let Some(old) = charts
            .iter()
            .find(|(_, _, v)| v.major < super::OLDEST.chart_major)
        {
            return Some(format!(
                "{} runs chart {}, older than the oldest release c8dr supports (chart {}.x, \
                 Camunda {}): follow the dual-region procedure of your release's documentation",
                old.0,
                crate::error::shown(old.1),
                super::OLDEST.chart_major,
                super::OLDEST.line
            ));
        }
        let (line, versions) = topology?;
        let disagrees = charts.iter().find(|(_, _, v)| {
            match (super::facts_for_chart(v.major), super::facts(line)) {
                (Some(f), _) => f.line != line,
                // A chart c8dr does not know with a line it knows: not that line's chart.
                (None, known) => known.is_some(),
            }
        })?;
        let seen: Vec<String> = versions.iter().map(Version::to_string).collect();
        Some(format!(
            "the installation runs more than one Camunda release (/v2/topology: {}; {}): finish \
             the upgrade before a failover or failback",
            seen.join(", "),
            shown(std::slice::from_ref(disagrees))
        ))
    }

    /// The judgement (`allow_unknown`: `--allow-unknown-release`, a line newer than the newest
    /// known is worked on with the newest row).
    pub fn judge(&self, allow_unknown: bool) -> Judgement {
        let mut j = Judgement {
            line: None,
            evidence: None,
            supported: false,
            refusal: None,
            notes: vec![],
            facts: None,
            installation: self.clone(),
        };
        let (versions, unreadable) = self.versions();
        if let Some(raw) = unreadable.first() {
            j.refusal = Some(format!(
                "the installation reports a Camunda version c8dr cannot read ({}): it does not guess",
                crate::error::shown(raw)
            ));
            return j;
        }
        let lines: BTreeSet<Line> = versions.iter().map(Version::line).collect();
        if lines.len() > 1 {
            let seen: Vec<String> = versions.iter().map(Version::to_string).collect();
            j.refusal = Some(format!(
                "the installation runs more than one Camunda release ({}): finish the upgrade \
                 before a failover or failback",
                seen.join(", ")
            ));
            return j;
        }
        let from_topology = lines.iter().next().map(|l| (*l, &versions));
        if let Some(why) = self.chart_refusal(from_topology) {
            j.refusal = Some(why);
            return j;
        }
        // The line: from the versions, else from the chart label (one major by now; a chart
        // major c8dr does not know is placed before the oldest or after the newest row).
        let line = match lines.into_iter().next() {
            Some(l) => {
                j.evidence = Some("/v2/topology".into());
                l
            }
            None => match self.charts().into_iter().next_back() {
                Some(chart) => {
                    j.evidence = Some(format!("the chart label (camunda-platform {chart})"));
                    match super::facts_for_chart(chart.major) {
                        Some(f) => f.line,
                        None if chart.major > super::NEWEST.chart_major => {
                            Line(super::NEWEST.line.0, u32::MAX)
                        }
                        None => Line(super::OLDEST.line.0, 0),
                    }
                }
                None => {
                    j.refusal = Some(
                        "the Camunda release could not be read: neither /v2/topology (set \
                         CAMUNDA_CLIENT_AUTH_* for the v2 REST API) nor a camunda-platform chart \
                         label on the release's objects (check --release and the namespace)"
                            .to_string(),
                    );
                    return j;
                }
            },
        };
        let shown = if line.1 == u32::MAX {
            "a release after the newest chart".to_string()
        } else {
            format!("Camunda {line}")
        };
        j.line = (line.1 != u32::MAX && line.1 != 0).then_some(line);
        let facts = match super::facts(line) {
            Some(f) => f,
            None if line > super::NEWEST.line && allow_unknown => {
                j.notes.push(format!(
                    "{shown} is newer than the newest release c8dr knows ({}): working with its \
                     facts (--allow-unknown-release)",
                    super::NEWEST.line
                ));
                super::NEWEST
            }
            None if line > super::NEWEST.line => {
                j.refusal = Some(format!(
                    "{shown} is newer than the newest release c8dr knows ({}): pass \
                     --allow-unknown-release to work with {}'s facts, at your own risk",
                    super::NEWEST.line,
                    super::NEWEST.line
                ));
                return j;
            }
            None => {
                j.refusal = Some(format!(
                    "{shown} is older than the oldest release c8dr supports ({}): follow the \
                     dual-region procedure of your release's documentation",
                    super::OLDEST.line
                ));
                return j;
            }
        };
        if let Some(BrokerIdentity::ZoneAware { zones }) = &self.identity {
            if !facts.zone_aware_brokers {
                j.refusal = Some(format!(
                    "the brokers are zone-aware (zones {}) but Camunda {} has no zone-aware \
                     brokers: c8dr does not guess what they are",
                    zones.join(", "),
                    facts.line
                ));
                return j;
            }
            if zones.len() > 2 {
                j.refusal = Some(format!(
                    "the brokers run in {} zones ({}): the dual-region procedure is for two; \
                     {ZONES_RUNBOOK}",
                    zones.len(),
                    zones.join(", ")
                ));
                return j;
            }
            j.notes.push(format!(
                "zone-aware brokers (zones {}): the forced removal and the re-add go through the \
                 Zones API instead of broker ids (docs/zone-aware.md)",
                zones.join(", ")
            ));
        }
        let storage: BTreeSet<&str> = self
            .regions
            .iter()
            .flatten()
            .filter_map(|r| r.secondary_storage.as_deref())
            .collect();
        if let Some(other) = storage
            .iter()
            .find(|s| !matches!(**s, "elasticsearch" | "opensearch"))
        {
            j.refusal = Some(match *other {
                "rdbms" => format!("the secondary storage is RDBMS: {RDBMS_RUNBOOK}"),
                s => format!(
                    "the secondary storage is {}: the dual-region procedure needs \
                     Elasticsearch or OpenSearch",
                    crate::error::shown(s)
                ),
            });
            return j;
        }
        if let Some((i, why)) = self
            .regions
            .iter()
            .enumerate()
            .find_map(|(i, r)| Some((i, r.as_ref()?.storage_unreadable.as_deref()?)))
        {
            j.refusal = Some(format!(
                "the secondary storage kind of region{i} could not be read ({why}): c8dr does \
                 not guess that it is Elasticsearch/OpenSearch; fix the orchestration \
                 configuration (camunda.data.secondary-storage.type) or, on RDBMS, {RDBMS_RUNBOOK}"
            ));
            return j;
        }
        j.supported = true;
        j.facts = Some(facts);
        j
    }
}

impl Judgement {
    /// One line for people: the release and how it was read, or why it is not supported.
    pub fn line(&self) -> String {
        let i = &self.installation;
        let version = i
            .gateway_version
            .clone()
            .or_else(|| i.broker_versions.iter().next_back().cloned())
            .map(|v| format!("Camunda {v}"))
            .or_else(|| self.line.map(|l| format!("Camunda {l}")))
            .unwrap_or_else(|| "Camunda (version unknown)".to_string());
        let charts: BTreeSet<&str> = i
            .regions
            .iter()
            .flatten()
            .filter_map(|r| r.chart.as_deref())
            .collect();
        let chart = match charts.len() {
            0 => String::new(),
            _ => format!(
                ", chart {}",
                charts.into_iter().collect::<Vec<_>>().join(" / ")
            ),
        };
        match &self.refusal {
            Some(why) => format!("{version}{chart}: not supported: {why}"),
            None => format!("{version}{chart}: supported"),
        }
    }

    /// A release already known to be this row (a test, or a caller that judged it).
    pub fn of(facts: &'static Facts, evidence: &str) -> Self {
        Self {
            line: Some(facts.line),
            evidence: Some(evidence.to_string()),
            supported: true,
            refusal: None,
            notes: vec![],
            facts: Some(facts),
            installation: Installation::default(),
        }
    }

    /// The facts to work with, or the refusal (exit 3); a release left unknown because parts of
    /// the installation timed out or could not be reached is that error (exit 4 or 5).
    pub fn facts(&self) -> Result<&'static Facts> {
        match (&self.refusal, self.facts) {
            (None, Some(f)) => Ok(f),
            (Some(_), None) if self.line.is_none() && !self.installation.unread.is_empty() => {
                Err(self.unread_error())
            }
            (Some(why), _) => Err(Error::refused(format!(
                "this installation is not one c8dr supports: {why}"
            ))),
            (None, None) => Err(Error::refused(
                "this installation is not one c8dr supports: its release could not be read",
            )),
        }
    }
    /// Why the release is unknown when parts did not answer: a timeout (exit 4) when one timed
    /// out, else unreachable (exit 5), naming every part that did not answer.
    fn unread_error(&self) -> Error {
        let unread = &self.installation.unread;
        let parts: Vec<String> = unread
            .iter()
            .map(|u| match u {
                Unread::TimedOut { what, after } => format!("{what}: no answer within {after}"),
                Unread::Unreachable { what, detail } => format!("{what}: {detail}"),
            })
            .collect();
        let what = format!(
            "reading the Camunda release to judge the installation: {}",
            parts.join("; ")
        );
        match unread.iter().find_map(|u| match u {
            Unread::TimedOut { after, .. } => Some(after.clone()),
            Unread::Unreachable { .. } => None,
        }) {
            Some(after) => Error::Timeout { what, after },
            None => Error::unreachable("the installation", what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(chart: &str) -> Option<RegionEvidence> {
        Some(RegionEvidence {
            chart: Some(chart.to_string()),
            search: Some(SearchDeployment::Subchart),
            secondary_storage: Some("elasticsearch".into()),
            storage_unreadable: None,
        })
    }

    /// Both regions on the chart of the first version's line (8.8 → 13.x, 8.10 → 15.x).
    fn install(versions: &[&str]) -> Installation {
        let minor: u32 = versions[0]
            .split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or(9);
        let chart = format!("camunda-platform-{}.1.0", minor + 5);
        Installation {
            regions: [region(&chart), region(&chart)],
            gateway_version: Some(versions[0].to_string()),
            broker_versions: versions.iter().map(|v| v.to_string()).collect(),
            identity: Some(BrokerIdentity::Numbered),
            unread: vec![],
        }
    }

    /// Attack D16: parts that timed out leave the release unknown; that is a timeout (exit 4)
    /// naming them, not a refusal advising credentials (exit 3). Unreachable alone: exit 5.
    /// Parts that did not answer while others gave the release change nothing.
    #[test]
    fn a_release_unknown_because_parts_did_not_answer_is_that_error_not_a_refusal() {
        let timed_out = Unread::TimedOut {
            what: "region0's objects".into(),
            after: "5s".into(),
        };
        let unreachable = Unread::Unreachable {
            what: "/v2/topology".into(),
            detail: "connection refused".into(),
        };
        let unknown = |unread: Vec<Unread>| {
            Installation {
                unread,
                ..Default::default()
            }
            .judge(false)
            .facts()
            .expect_err("unknown release")
        };
        let e = unknown(vec![timed_out.clone(), unreachable.clone()]);
        assert_eq!(e.exit_code(), 4, "{e}");
        assert!(
            e.to_string()
                .contains("region0's objects: no answer within 5s"),
            "{e}"
        );
        assert!(!e.to_string().contains("CAMUNDA_CLIENT_AUTH"), "{e}");
        assert_eq!(unknown(vec![unreachable.clone()]).exit_code(), 5);
        assert_eq!(unknown(vec![]).exit_code(), 3);
        let mut known = install(&["8.9.4"]);
        known.unread = vec![timed_out];
        assert!(known.judge(false).facts().is_ok());
    }

    #[test]
    fn each_known_line_is_supported_with_its_row() {
        for (v, line) in [
            ("8.8.9", Line(8, 8)),
            ("8.9.4", Line(8, 9)),
            ("8.10.1", Line(8, 10)),
        ] {
            let j = install(&[v]).judge(false);
            assert!(j.supported, "{v}: {j:?}");
            assert_eq!(j.facts().map(|f| f.line).ok(), Some(line));
            assert_eq!(j.evidence.as_deref(), Some("/v2/topology"));
        }
    }

    #[test]
    fn unknown_old_mixed_and_unreadable_releases_are_refused_before_any_change() {
        let refused = |i: Installation, allow: bool, needle: &str| {
            let j = i.judge(allow);
            let e = j.facts().expect_err("refused");
            assert_eq!(e.exit_code(), 3);
            assert!(e.to_string().contains(needle), "{e}");
        };
        refused(install(&["8.11.0"]), false, "--allow-unknown-release");
        refused(install(&["8.7.3"]), true, "older than");
        refused(install(&["8.8.9", "8.9.4"]), false, "more than one");
        refused(install(&["8.9.x"]), false, "cannot read");
        let mut none = install(&["8.9.4"]);
        none.gateway_version = None;
        none.broker_versions.clear();
        for r in none.regions.iter_mut().flatten() {
            r.chart = None;
        }
        refused(none, false, "CAMUNDA_CLIENT_AUTH_");
        let j = install(&["8.11.0"]).judge(true);
        assert_eq!(j.facts().map(|f| f.line).ok(), Some(Line(8, 10)));
        assert!(j.notes[0].contains("8.11"), "{:?}", j.notes);
    }

    #[test]
    fn the_chart_label_decides_when_the_topology_cannot_be_read() {
        let mut i = install(&["8.9.4"]);
        i.gateway_version = None;
        i.broker_versions.clear();
        for r in i.regions.iter_mut().flatten() {
            r.chart = Some("camunda-platform-14.8.4".into());
        }
        let j = i.judge(false);
        assert_eq!(j.facts().map(|f| f.line).ok(), Some(Line(8, 9)));
        assert_eq!(
            j.evidence.as_deref(),
            Some("the chart label (camunda-platform 14.8.4)")
        );
        for r in i.regions.iter_mut().flatten() {
            r.chart = Some("camunda-platform-12.7.0".into());
        }
        assert!(i.judge(true).facts().is_err(), "chart 12 (8.7) refused");
    }

    fn set_chart(i: &mut Installation, region: usize, chart: impl Into<String>) {
        if let Some(r) = i.regions[region].as_mut() {
            r.chart = Some(chart.into());
        }
    }

    #[test]
    fn regions_on_different_charts_or_a_chart_off_the_topologys_line_are_more_than_one_release() {
        let refusal = |i: &Installation| {
            let e = i.judge(true).facts().expect_err("refused");
            assert_eq!(e.exit_code(), 3);
            e.to_string()
        };
        // No readable topology: the labels alone must agree.
        let mut labels = install(&["8.10.1"]);
        labels.gateway_version = None;
        labels.broker_versions.clear();
        for (chart, other) in [
            ("camunda-platform-13.12.7", "camunda-platform-15.0.0-alpha4"),
            ("camunda-platform-14.8.4", "camunda-platform-15.0.0-alpha4"),
        ] {
            set_chart(&mut labels, 0, chart);
            set_chart(&mut labels, 1, other);
            let e = refusal(&labels);
            assert!(e.contains("more than one"), "{e}");
            assert!(e.contains(chart) && e.contains(other), "names both: {e}");
        }
        // A region on a chart older than the oldest supported, alone or with a newer one.
        set_chart(&mut labels, 1, "camunda-platform-12.7.0");
        let e = refusal(&labels);
        assert!(e.contains("12.7.0"), "{e}");
        set_chart(&mut labels, 0, "camunda-platform-12.7.0");
        let e = refusal(&labels);
        assert!(e.contains("older than"), "{e}");
        // The topology says 8.10; a label says chart 13 (8.8), or 12 (8.7): more than one.
        for chart in ["camunda-platform-13.12.7", "camunda-platform-12.7.0"] {
            let mut mixed = install(&["8.10.1"]);
            set_chart(&mut mixed, 0, "camunda-platform-15.0.0");
            set_chart(&mut mixed, 1, chart);
            let e = refusal(&mixed);
            assert!(e.contains(chart), "{e}");
        }
        let mut one = install(&["8.10.1"]);
        one.regions[1] = None;
        set_chart(&mut one, 0, "camunda-platform-13.12.7");
        let e = refusal(&one);
        assert!(
            e.contains("/v2/topology: 8.10.1") && e.contains("13.12.7"),
            "{e}"
        );
        // Only a region that was read counts; an unlabelled one (not installed yet) neither.
        let mut fine = install(&["8.10.1"]);
        set_chart(&mut fine, 0, "camunda-platform-15.0.0");
        fine.regions[1] = None;
        assert!(fine.judge(false).supported);
        fine.regions[1] = Some(RegionEvidence::default());
        assert!(fine.judge(false).supported);
    }

    #[test]
    fn two_zones_on_8_10_are_supported_more_zones_or_older_releases_and_rdbms_are_refused() {
        let two = BrokerIdentity::ZoneAware {
            zones: vec!["us-east1".into(), "eu-west1".into()],
        };
        let mut zoned = install(&["8.10.1"]);
        zoned.identity = Some(two.clone());
        let j = zoned.judge(false);
        assert!(j.facts().is_ok(), "{:?}", j.refusal);
        assert!(
            j.notes.iter().any(|n| n.contains("Zones API")),
            "{:?}",
            j.notes
        );
        let mut three = zoned.clone();
        three.identity = Some(BrokerIdentity::ZoneAware {
            zones: vec!["a".into(), "b".into(), "c".into()],
        });
        let e = three.judge(false).facts().expect_err("three zones");
        assert!(e.to_string().contains("3 zones"), "{e}");
        let mut older = install(&["8.9.4"]);
        older.identity = Some(two);
        let e = older.judge(false).facts().expect_err("8.9 has no zones");
        assert!(e.to_string().contains("no zone-aware"), "{e}");
        let mut rdbms = install(&["8.10.1"]);
        if let Some(r) = rdbms.regions[0].as_mut() {
            r.secondary_storage = Some("rdbms".into());
        }
        let e = rdbms.judge(false).facts().expect_err("rdbms");
        assert!(e.to_string().contains("Multi-Region RDBMS"), "{e}");
    }

    #[test]
    fn a_storage_kind_that_could_not_be_read_is_refused_not_taken_for_elasticsearch() {
        let mut unreadable = install(&["8.10.1"]);
        if let Some(r) = unreadable.regions[1].as_mut() {
            r.secondary_storage = None;
            r.storage_unreadable = Some("the configuration does not parse".into());
        }
        let e = unreadable.judge(false).facts().expect_err("fail closed");
        assert_eq!(e.exit_code(), 3);
        assert!(
            e.to_string().contains("region1 could not be read") && e.to_string().contains("parse"),
            "{e}"
        );
    }
}
