//! `helm c8dr`: plan a `helm upgrade --install` per region (contexts, values chain, generated
//! overlay), show it for `--dry-run`, or run it (both regions concurrently) and report.
//!
//! - [`plan`]: pure, request + environment + values files → [`Plan`] (with [`extra_args`], the
//!   refusal of helm arguments that would override what c8dr decides);
//! - [`run`]: helm processes, their slots, signal forwarding, [`Interrupted`];
//! - [`verify`]: `--verify`, the unified ConfigMap's profiles awaited;
//! - [`version`]: the chart version constraint, checked as helm's semver library checks it;
//! - [`gate`]: the release gate every `kubectl c8dr` mutating command passes, and a pinned
//!   chart major that is not the installed one, refused before helm runs (and in `--dry-run`);
//! - [`release`]: which release table row the run plans with (pinned version, else the
//!   `helm.sh/chart` label in the regions, else refused);
//! - [`report`]: [`RedeployReport`], what ran and the exit code it maps to.

pub mod binary;
pub mod extra_args;
pub mod gate;
pub mod plan;
pub mod release;
pub mod report;
pub mod run;
pub mod verify;
pub mod version;

pub use extra_args::check_extra_args;
pub use plan::{
    DEFAULT_BASE_VALUES, DEFAULT_VERIFY_TIMEOUT, Plan, RedeployRequest, RegionPlan, command_line,
};
pub use release::{ChartRow, RowSource, chart_row};
pub use report::{OverlayList, RedeployReport, RegionOverlay, UpgradeReport};
pub use run::{Interrupted, SIGNAL_GRACE, Signal};
pub use verify::{VerifyReport, wait_for_profiles};

use std::path::Path;

use crate::config::Env;
use crate::error::Result;

/// `helm c8dr redeploy`: plan (nothing reaches a cluster before every region's plan is valid),
/// then show the plan (`--dry-run`), or confirm it (`--yes`/`C8DR_ASSUME_YES` by the rule both
/// plugins share, [`crate::ui::assume_yes`]) and run it.
pub async fn redeploy(request: &RedeployRequest, env: &Env, cwd: &Path) -> Result<RedeployReport> {
    let plan = plan(request, env, cwd).await?;
    // A context that is not in the kubeconfig is bad input, found before helm runs (in a dry run
    // too); helm would only fail later, region by region.
    for region in &plan.regions {
        crate::location::check_context(&region.context, &region.context_source, env)?;
    }
    // docs/contract.md §4 rule 13: what kubectl c8dr refuses, helm c8dr does not upgrade (nor
    // plan, in a dry run); an unreachable region is said as such first (exit 5), not as a
    // release that could not be read.
    if request.dry_run {
        gate::check(&plan, request, env).await?;
        return plan.dry_run();
    }
    // helm must be there before anyone is asked to confirm running it.
    if which::which(&plan.helm_bin).is_err() {
        return Err(crate::error::Error::usage(format!(
            "helm not found ({}): install helm 3.x or 4.x, or point HELM_BIN at it",
            plan.helm_bin
        )));
    }
    plan.check_reachable(env).await?;
    gate::check(&plan, request, env).await?;
    // Every warning before anything is asked or run (helm may take minutes): on stderr, so a
    // document on stdout stays one document; the report then does not repeat them.
    for n in plan.all_notices() {
        crate::errln!("note: {n}");
    }
    plan.confirm(crate::ui::assume_yes(request.yes, env))?;
    let mut report = plan.execute(env).await?;
    report.notices_shown = true;
    Ok(report)
}

/// Plan a run (`redeploy`, `overlay`): every bad input is found first with no cluster reached
/// (planned with the pinned row, or provisionally with the oldest when none is pinned); then the
/// row is decided ([`chart_row`]: reads the chart label in the regions unless pinned) and the
/// plan made with it.
pub async fn plan(request: &RedeployRequest, env: &Env, cwd: &Path) -> Result<Plan> {
    let pinned = release::pinned_row(request, env);
    let provisional = match &pinned {
        Ok(Some(row)) => row.clone(),
        _ => ChartRow {
            facts: crate::release::OLDEST,
            source: RowSource::Unresolved,
        },
    };
    let draft = Plan::new(request, env, cwd, provisional)?;
    if pinned?.is_some() {
        return Ok(draft);
    }
    for region in &draft.regions {
        crate::location::check_context(&region.context, &region.context_source, env)?;
    }
    let row = chart_row(request, env, &draft.release).await?;
    Plan::new(request, env, cwd, row)
}

impl Plan {
    /// The plan's notices and every region's (the unpinned chart version, the variable removed
    /// by name, …), redacted: what the operator must read before saying yes.
    pub fn all_notices(&self) -> Vec<String> {
        self.notices
            .iter()
            .chain(self.regions.iter().flat_map(|r| &r.overlay.notices))
            .map(|n| self.redactor.text(n))
            .collect()
    }

    /// What the prompt shows of each region: the helm command line, then the generated overlay
    /// it passes last (secrets redacted), so that what will change is read before the answer.
    pub fn prompt_lines(&self) -> Result<Vec<String>> {
        let mut lines = vec![];
        for r in &self.regions {
            lines.push(command_line(
                &self.shown_argv(r, Path::new("<generated overlay>")),
            ));
            lines.push(format!("  generated overlay for {}:", r.describe()));
            let yaml = crate::values::to_yaml(&self.overlay_document(r, false))?;
            lines.extend(yaml.lines().map(|l| format!("    {l}")));
        }
        Ok(lines)
    }

    /// docs/contract.md §4 rule 1 through the one prompt ([`crate::ui::ask`]): `--yes` (or
    /// `C8DR_ASSUME_YES`) skips it silently; otherwise the helm command lines and the overlays
    /// are shown ([`Plan::prompt_lines`]; the notices came before), and without a terminal the
    /// redeploy is then refused, else the answer decides.
    pub fn confirm(&self, assume_yes: bool) -> Result<()> {
        if assume_yes {
            return Ok(());
        }
        let lines = self.prompt_lines()?;
        crate::ui::ask(
            "helm c8dr redeploy changes releases and stdin is not a terminal: pass --yes (or set \
             C8DR_ASSUME_YES=1), or --dry-run to see the plan",
            Some(("This will run:", &lines)),
        )
    }
}

#[cfg(test)]
mod tests;
