//! What `preflight` reports, as data, and the judgements that need no I/O: one [`Check`] per
//! line (ok, or a problem with its fix), and the report's text and document.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::es::EsStatus;
use crate::kube::rbac::Permission;
use crate::output::Render;
use crate::region::RegionId;
use crate::release::installation::Judgement;
use crate::zeebe::model::ExporterStatus;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    Ok,
    Problem,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked: `context`, `distinct`, `permissions`, `rest-credentials`,
    /// `management`, `search-engine`, `snapshot-repository`, `helm`, `release`, `exporters`.
    pub check: &'static str,
    /// `region0`/`region1`, absent for a check of the whole installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub result: CheckResult,
    /// What was found.
    pub detail: String,
    /// What to do about a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(check: &'static str, region: Option<RegionId>, detail: impl Into<String>) -> Self {
        Self {
            check,
            region: region.map(|r| r.to_string()),
            result: CheckResult::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn problem(
        check: &'static str,
        region: Option<RegionId>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check,
            region: region.map(|r| r.to_string()),
            result: CheckResult::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.result == CheckResult::Ok
    }
}

/// The whole fire drill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// Every check passed: a failover and a failback have what they need.
    pub ready: bool,
    pub passed: usize,
    pub problems: usize,
    pub checks: Vec<Check>,
}

impl PreflightReport {
    pub fn of(checks: Vec<Check>) -> Self {
        let passed = checks.iter().filter(|c| c.is_ok()).count();
        Self {
            ready: passed == checks.len(),
            passed,
            problems: checks.len() - passed,
            checks,
        }
    }
}

impl Render for PreflightReport {
    fn text(&self) -> String {
        let rows = self
            .checks
            .iter()
            .map(|c| {
                let detail = match &c.fix {
                    Some(fix) => format!("{}; fix: {fix}", c.detail),
                    None => c.detail.clone(),
                };
                vec![
                    c.check.to_string(),
                    c.region.clone().unwrap_or_else(|| "both".into()),
                    match c.result {
                        CheckResult::Ok => "ok".into(),
                        CheckResult::Problem => "PROBLEM".into(),
                    },
                    detail,
                ]
            })
            .collect();
        let mut out = crate::output::table(&["CHECK", "REGION", "RESULT", "DETAIL"], rows);
        if self.ready {
            out.push_str(&format!(
                "all {} checks passed: a failover and a failback have what they need\n",
                self.passed
            ));
        } else {
            out.push_str(&format!(
                "{} of {} checks found a problem (fix them before you need a failover)\n",
                self.problems,
                self.checks.len()
            ));
        }
        out
    }
}

/// The RBAC check of one region from the permissions the API server denied (`denied`) out of
/// `asked`, in `namespace`.
pub fn permissions(
    region: RegionId,
    namespace: &str,
    asked: usize,
    denied: &[Permission],
) -> Check {
    if denied.is_empty() {
        return Check::ok(
            "permissions",
            Some(region),
            format!("all {asked} permissions of the RBAC table granted in namespace {namespace}"),
        );
    }
    let named: Vec<String> = denied
        .iter()
        .map(|p| format!("{p} ({})", p.needed_by))
        .collect();
    Check::problem(
        "permissions",
        Some(region),
        format!("denied in namespace {namespace}: {}", named.join(", ")),
        format!(
            "grant them to your account in namespace {namespace} (README \"RBAC in a real \
             cluster\", as a Role: tests/real-stack/rbac/role.yaml)"
        ),
    )
}

/// The search engine's check, once it answered: a red cluster is a problem (a snapshot of it
/// fails: Elasticsearch refuses a snapshot with a missing primary unless `partial`).
pub fn search_engine(region: RegionId, how: &str, secured: bool, status: &EsStatus) -> Check {
    let detail = format!(
        "reachable {how}{}: health {}, {} Camunda indices",
        if secured { " with credentials" } else { "" },
        status.health,
        status.camunda_indices.len()
    );
    if status.health.eq_ignore_ascii_case("red") {
        return Check::problem(
            "search-engine",
            Some(region),
            detail,
            "a red cluster cannot be snapshotted whole: bring its primaries back \
             (GET _cluster/allocation/explain)",
        );
    }
    Check::ok("search-engine", Some(region), detail)
}

/// The release check: both regions read, one Camunda version and one chart, supported.
pub fn release(judgement: &Judgement) -> Check {
    const FIX_READ: &str = "make both regions reachable (and set CAMUNDA_CLIENT_AUTH_* so that \
                            /v2/topology shows the versions)";
    let i = &judgement.installation;
    if let Some(why) = &judgement.refusal {
        return Check::problem(
            "release",
            None,
            format!("c8dr would refuse this installation: {why}"),
            "bring both regions to one supported Camunda release and chart (docs/releases.md)",
        );
    }
    let unread: Vec<String> = i
        .regions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_none())
        .map(|(n, _)| format!("region{n}"))
        .collect();
    if !unread.is_empty() {
        return Check::problem(
            "release",
            None,
            format!(
                "{} could not be read: cannot tell that both regions run the same release",
                unread.join(" and ")
            ),
            FIX_READ,
        );
    }
    let charts: Vec<Option<&str>> = i
        .regions
        .iter()
        .flatten()
        .map(|r| r.chart.as_deref())
        .collect();
    let distinct: BTreeSet<&Option<&str>> = charts.iter().collect();
    if distinct.len() > 1 {
        let shown: Vec<String> = charts
            .iter()
            .enumerate()
            .map(|(n, c)| format!("region{n} {}", c.unwrap_or("no chart label")))
            .collect();
        return Check::problem(
            "release",
            None,
            format!("the regions run different charts: {}", shown.join(", ")),
            "upgrade both regions to the same chart version (helm c8dr redeploy --region both --version …)",
        );
    }
    let versions: BTreeSet<&String> = i.gateway_version.iter().chain(&i.broker_versions).collect();
    if versions.len() > 1 {
        let shown: Vec<&str> = versions.iter().map(|v| v.as_str()).collect();
        return Check::problem(
            "release",
            None,
            format!(
                "the brokers run different Camunda versions: {}",
                shown.join(", ")
            ),
            "finish the upgrade so that every broker runs the same version",
        );
    }
    let mut detail = format!("both regions: {}", judgement.line());
    if let Some(e) = &judgement.evidence {
        detail.push_str(&format!(" (from {e})"));
    }
    Check::ok("release", None, detail)
}

/// The exporters check: on a healthy installation each region's exporter is enabled.
pub fn exporters(exporters: &[ExporterStatus]) -> Check {
    let mut problems = vec![];
    let mut seen = vec![];
    for region in [RegionId::ZERO, RegionId::ONE] {
        let id = region.exporter_id();
        match exporters.iter().find(|e| e.exporter_id == id) {
            Some(e) if e.status.eq_ignore_ascii_case("ENABLED") => seen.push(id),
            Some(e) => problems.push(format!("{id} is {}", e.status.to_ascii_lowercase())),
            None => problems.push(format!("{id} is not configured")),
        }
    }
    if problems.is_empty() {
        return Check::ok("exporters", None, format!("{} enabled", seen.join(" and ")));
    }
    Check::problem(
        "exporters",
        None,
        problems.join(", "),
        "on a healthy installation both regions' exporters are enabled: finish the failback \
         (kubectl c8dr status names the next step) or enable it (kubectl c8dr exporters enable ID \
         --initialize-from OTHER)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::installation::{Installation, RegionEvidence};

    fn exporter(id: &str, status: &str) -> ExporterStatus {
        ExporterStatus {
            exporter_id: id.into(),
            status: status.into(),
        }
    }

    #[test]
    fn both_exporters_must_be_enabled() {
        let ok = exporters(&[
            exporter("camundaregion0", "ENABLED"),
            exporter("camundaregion1", "ENABLED"),
        ]);
        assert!(ok.is_ok(), "{ok:?}");
        let disabled = exporters(&[
            exporter("camundaregion0", "ENABLED"),
            exporter("camundaregion1", "DISABLED"),
        ]);
        assert!(!disabled.is_ok());
        assert!(
            disabled.detail.contains("camundaregion1 is disabled"),
            "{}",
            disabled.detail
        );
        let missing = exporters(&[exporter("camundaregion0", "ENABLED")]);
        assert!(missing.detail.contains("camundaregion1 is not configured"));
    }

    #[test]
    fn denied_permissions_are_named_with_what_needs_them() {
        let exec = crate::kube::rbac::PERMISSIONS
            .iter()
            .copied()
            .find(|p| p.to_string() == "create pods/exec")
            .expect("in the table");
        let c = permissions(RegionId::ONE, "camunda-r1", 30, &[exec]);
        assert!(!c.is_ok());
        assert_eq!(c.region.as_deref(), Some("region1"));
        assert!(
            c.detail.contains("create pods/exec (es commands"),
            "{}",
            c.detail
        );
        assert!(permissions(RegionId::ZERO, "ns", 30, &[]).is_ok());
    }

    fn judged(charts: [Option<&str>; 2], versions: &[&str]) -> Judgement {
        let mut i = Installation::default();
        for (n, c) in charts.iter().enumerate() {
            i.regions[n] = Some(RegionEvidence {
                chart: c.map(String::from),
                search: None,
                secondary_storage: Some("elasticsearch".into()),
                storage_unreadable: None,
            });
        }
        i.gateway_version = versions.first().map(|v| v.to_string());
        i.broker_versions = versions.iter().map(|v| v.to_string()).collect();
        i.judge(false)
    }

    #[test]
    fn the_release_check_wants_one_version_and_one_chart_in_both_regions() {
        let chart = Some("camunda-platform-13.1.0");
        assert!(release(&judged([chart, chart], &["8.8.3"])).is_ok());
        let charts = release(&judged(
            [chart, Some("camunda-platform-13.0.0")],
            &["8.8.3"],
        ));
        assert!(!charts.is_ok());
        assert!(
            charts.detail.contains("different charts"),
            "{}",
            charts.detail
        );
        let patch = release(&judged([chart, chart], &["8.8.3", "8.8.2"]));
        assert!(
            patch.detail.contains("different Camunda versions"),
            "{}",
            patch.detail
        );
        let lines = release(&judged([chart, chart], &["8.8.3", "8.9.0"]));
        assert!(lines.detail.contains("would refuse"), "{}", lines.detail);
        let mut one = judged([chart, chart], &["8.8.3"]);
        one.installation.regions[1] = None;
        let unread = release(&one);
        assert!(
            unread.detail.contains("region1 could not be read"),
            "{}",
            unread.detail
        );
    }

    #[test]
    fn a_red_search_engine_is_a_problem_yellow_is_not() {
        let status = |health: &str| EsStatus {
            health: health.into(),
            indices: 3,
            camunda_indices: Default::default(),
            restored_from: None,
            restoring: false,
        };
        assert!(
            search_engine(
                RegionId::ZERO,
                "through kubectl exec",
                true,
                &status("yellow")
            )
            .is_ok()
        );
        let red = search_engine(RegionId::ZERO, "through kubectl exec", true, &status("red"));
        assert!(!red.is_ok());
        assert!(
            red.detail.contains("with credentials: health red"),
            "{}",
            red.detail
        );
    }

    #[test]
    fn the_report_is_ready_only_when_every_check_passed() {
        let ok = PreflightReport::of(vec![Check::ok("helm", None, "v3.18.0")]);
        assert!(ok.ready);
        assert!(ok.text().contains("all 1 checks passed"));
        let bad = PreflightReport::of(vec![
            Check::ok("helm", None, "v3.18.0"),
            Check::problem("context", Some(RegionId::ONE), "refused", "start it"),
        ]);
        assert!(!bad.ready);
        assert_eq!((bad.passed, bad.problems), (1, 1));
        let text = bad.text();
        assert!(
            text.contains("PROBLEM") && text.contains("fix: start it"),
            "{text}"
        );
    }
}
