//! The release gate of `helm c8dr redeploy` (docs/contract.md §4 rule 13), before helm runs and
//! in `--dry-run` too: the judgement every `kubectl c8dr` mutating command passes (read by
//! [`crate::commands::installation::read_at`] through a [`Session`] on the surviving region,
//! judged by [`crate::release::installation`]), with the regions where `helm c8dr` locates them;
//! and a pinned chart version (`--version`, `HELM_CHART_VERSION`) must be the chart major the
//! region being upgraded runs: a change of chart major (a downgrade 15.x → 13.x, or an upgrade)
//! is an upgrade of Camunda, not a step of the failback.

use std::time::Duration;

use super::plan::{Plan, RedeployRequest, RegionPlan};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::kube::KubeTarget;
use crate::location::RegionLocation;
use crate::region::RegionRef;
use crate::release::installation::Installation;
use crate::session::{Session, Settings};
use crate::ui::Ui;

/// Read the installation as `kubectl c8dr` does, judge it, and check the pinned chart major:
/// exit 3 with the reason before anything is upgraded.
pub async fn check(plan: &Plan, req: &RedeployRequest, env: &Env) -> Result<()> {
    let locations = super::release::regions_to_read(req, env);
    let mut slots: [Option<RegionLocation>; 2] = [None, None];
    for loc in locations.iter().filter(|l| l.id.is_some()) {
        if let Some(id) = loc.id {
            slots[id.index()].get_or_insert_with(|| loc.clone());
        }
    }
    // A region whose id is not known takes a free slot: the index only names it.
    for loc in locations.iter().filter(|l| l.id.is_none()) {
        if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
            *free = Some(loc.clone());
        }
    }
    let kubeconfig = super::verify::helm_kubeconfig(env);
    let targets = slots.clone().map(|s| {
        s.map(|l| KubeTarget {
            kubeconfig: kubeconfig.clone(),
            context: l.context,
            context_source: l.context_source,
            namespace: l.namespace,
        })
    });
    // The surviving region's gateway answers /v2/topology (the recreated one may not run yet).
    let home = locations
        .iter()
        .find(|l| l.side == Some(RegionRef::Surviving))
        .or(locations.first())
        .cloned()
        .unwrap_or_default();
    let session = Session::new(
        settings(home, kubeconfig, &plan.release, env),
        Ui::new(true, true),
    );
    let limit = crate::commands::installation::read_limit(&session.settings);
    let installation = crate::commands::installation::read_at(&session, targets, limit).await;
    installation
        .judge(false)
        .facts()
        .map_err(|e| e.context("helm c8dr redeploy: nothing upgraded"))?;
    for region in &plan.regions {
        pinned_major_matches(req, env, region, &slots, &installation)?;
    }
    Ok(())
}

/// `kubectl c8dr`'s settings for reading the installation from `home`.
fn settings(
    home: RegionLocation,
    kubeconfig: Option<std::path::PathBuf>,
    release: &str,
    env: &Env,
) -> Settings {
    Settings {
        kubeconfig,
        region: home
            .id
            .map(RegionRef::Index)
            .or(home.side)
            .unwrap_or(RegionRef::Surviving),
        location: home,
        release: release.to_string(),
        gateway_url: None,
        rest_url: None,
        es_url: None,
        output: Default::default(),
        dry_run: true,
        server_dry_run: false,
        timeout: Duration::from_secs(60),
        no_wait: true,
        allow_unknown_release: false,
        env: env.clone(),
    }
}

/// A pinned chart version whose major is not the one `region` runs (its own `helm.sh/chart`
/// label, else, for a region not installed yet, the other region's) is refused (exit 3).
fn pinned_major_matches(
    req: &RedeployRequest,
    env: &Env,
    region: &RegionPlan,
    slots: &[Option<RegionLocation>; 2],
    installation: &Installation,
) -> Result<()> {
    let Some((source, version)) = super::release::pinned(req, env) else {
        return Ok(());
    };
    let own = slots.iter().position(|s| {
        s.as_ref().is_some_and(|l| {
            l.context.as_deref() == Some(region.context.as_str())
                && l.namespace.as_deref().is_none_or(|n| n == region.namespace)
        })
    });
    let label_of = |i: usize| {
        let label = installation.regions[i].as_ref()?.chart.clone()?;
        let installed = crate::release::chart_version(&label)?;
        Some((i, label, installed.major))
    };
    let installed = own
        .and_then(label_of)
        .or_else(|| (0..2).filter(|i| Some(*i) != own).find_map(label_of));
    let Some((i, label, installed)) = installed else {
        return Ok(());
    };
    // A constraint that allows more than one major, or is open on one side (`<15`, `>=16`,
    // `13.x || 14.x`), would let helm pick another major: refused as one that names it (attack A5).
    let Some(major) = super::release::pinned_major(version) else {
        return Err(Error::refused(format!(
            "{source} {} does not pin one chart major: helm may pick another major than region{i}              runs ({}, chart {installed}.x), which is a Camunda upgrade or downgrade, not a step of              the failback; nothing was upgraded. Unset {source} to keep the installed chart, or              pin the installed major ({installed}.x or an exact {installed}.y.z)",
            crate::error::shown(version),
            crate::error::shown(&label)
        )));
    };
    if installed == major {
        return Ok(());
    }
    let change = if major < installed {
        "downgrade"
    } else {
        "upgrade"
    };
    Err(Error::refused(format!(
        "{source} {} is chart {major}.x but region{i} runs {} (chart {installed}.x): a chart \
         {change} across majors is a Camunda upgrade, not a step of the failback (Zeebe cannot \
         go back across minors); nothing was upgraded. Unset {source} to keep the installed \
         chart, or pin the installed major ({installed}.x); change the major afterwards with \
         Camunda's upgrade guide",
        crate::error::shown(version),
        crate::error::shown(&label)
    )))
}
