//! Planning, pure: a request, the environment snapshot and the values files (read, never
//! written) → one `helm upgrade --install` per targeted region, with its context, namespace,
//! values chain and generated overlay. Nothing reaches a cluster before every region's plan is
//! valid.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::extra_args::check_extra_args;
use super::release::ChartRow;
use crate::config::Env;
use crate::duration::parse_go_duration;
use crate::error::{Error, Result};
use crate::location::{self, Flags, LocationFlags, Plugin, RegionLocation};
use crate::region::{RegionId, RegionRef, Target};
use crate::values::{self, EnvChange, Overlay, OverlayOptions};

/// The chart the Camunda docs install.
/// The docs' EKS layout, relative to `aws/dual-region/kubernetes`.
pub const DEFAULT_BASE_VALUES: &str = "camunda-values.yml";

/// Everything `helm c8dr redeploy`/`overlay` was asked (flags only; the environment is separate).
#[derive(Debug, Clone, Default)]
pub struct RedeployRequest {
    pub target: Option<Target>,
    pub overlay: OverlayOptions,
    pub chart: Option<String>,
    pub version: Option<String>,
    pub release: Option<String>,
    /// `-f FILE`, for every region, before the region's own file.
    pub values: Vec<PathBuf>,
    /// `--region-values REGION=FILE`, raw.
    pub region_values: Vec<String>,
    pub keep_overlay: Option<PathBuf>,
    pub dry_run: bool,
    /// `--yes`: run without asking (also `C8DR_ASSUME_YES`, see [`crate::ui::assume_yes`]).
    pub yes: bool,
    pub wait: bool,
    pub timeout: Option<String>,
    /// `--verify`: after each upgrade, wait until the unified ConfigMap shows the profiles.
    pub verify: bool,
    pub surviving_context: Option<String>,
    pub surviving_namespace: Option<String>,
    pub recreated_context: Option<String>,
    pub recreated_namespace: Option<String>,
    /// Arguments after `--`, passed to every `helm upgrade` unchanged.
    pub extra_args: Vec<String>,
}

/// One region's planned upgrade.
#[derive(Debug, Clone)]
pub struct RegionPlan {
    pub id: Option<RegionId>,
    /// `Surviving` or `Recreated` when the environment says which side the region is on.
    pub side: Option<RegionRef>,
    pub context: String,
    /// Where the context came from (a flag, a variable, the kubeconfig), for messages.
    pub context_source: String,
    pub namespace: String,
    /// The user's values files, in order (as given, relative to the working directory).
    pub values_files: Vec<PathBuf>,
    pub overlay: Overlay,
    pub wait: bool,
    /// `spring.profiles.active` the upgrade should render (sorted, the row's profiles).
    pub expected_profiles: Vec<String>,
}

impl RegionPlan {
    /// `region1`, or the side's name when the region id is unknown.
    pub fn label(&self) -> String {
        match (self.id, self.side) {
            (Some(id), _) => id.name(),
            (None, Some(side)) => side.to_string(),
            (None, None) => "region".to_string(),
        }
    }
    pub(super) fn describe(&self) -> String {
        match (self.id, self.side) {
            (Some(id), Some(side)) => format!("{id} ({side})"),
            _ => self.label(),
        }
    }
}

/// The whole plan: one upgrade per targeted region.
#[derive(Debug, Clone)]
pub struct Plan {
    pub helm_bin: String,
    pub release: String,
    pub chart: String,
    pub version: Option<String>,
    pub timeout: Option<String>,
    pub extra_args: Vec<String>,
    pub keep_overlay: Option<PathBuf>,
    /// `--verify` and how long to wait for the ConfigMap (helm's `--timeout`, else 15m).
    pub verify: Option<Duration>,
    pub regions: Vec<RegionPlan>,
    pub notices: Vec<String>,
    /// The release table's row the plan was made with, and where it came from
    /// ([`super::release::chart_row`]).
    pub row: ChartRow,
    /// The secrets of the values, the chart reference and the extra arguments, hidden by value
    /// in everything shown (argv, overlays, helm's output, messages).
    pub redactor: values::Redactor,
}

impl RedeployRequest {
    /// The location flags: helm's are per side (helm strips its own `--kube-context`/`-n` from a
    /// plugin's argv; they arrive as HELM_KUBECONTEXT/HELM_NAMESPACE, see [`crate::location`]).
    pub(super) fn location_flags(&self) -> LocationFlags {
        LocationFlags {
            surviving: Flags {
                context: self.surviving_context.clone(),
                namespace: self.surviving_namespace.clone(),
            },
            recreated: Flags {
                context: self.recreated_context.clone(),
                namespace: self.recreated_namespace.clone(),
            },
            ..Default::default()
        }
    }
}

/// Where helm is: `$HELM_BIN` (set by helm for its plugins), else `helm` on PATH.
pub fn helm_bin(env: &Env) -> Option<String> {
    if let Some(bin) = env.get("HELM_BIN") {
        return Some(bin.to_string());
    }
    let path = env.get("PATH").map(String::from).unwrap_or_default();
    let cwd = std::env::current_dir().ok()?;
    which::which_in("helm", Some(path), cwd)
        .ok()
        .map(|p| p.display().to_string())
}

/// How long `--verify` waits when no `--timeout` is given.
pub const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// `--region-values REGION=FILE`: the region (a side or an id) and its file.
fn parse_region_values(raw: &[String]) -> Result<Vec<(RegionRef, PathBuf)>> {
    raw.iter()
        .map(|item| {
            let (key, file) = item.split_once('=').ok_or_else(|| {
                Error::usage(format!(
                    "--region-values '{item}': expected REGION=FILE (REGION: region0, region1, surviving or recreated)"
                ))
            })?;
            let key: RegionRef = key.trim().parse().map_err(|_| {
                Error::usage(format!(
                    "--region-values '{item}': unknown region '{}' (expected region0, region1, surviving or recreated)",
                    key.trim()
                ))
            })?;
            if file.trim().is_empty() {
                return Err(Error::usage(format!("--region-values '{item}': no file given")));
            }
            Ok((key, PathBuf::from(file)))
        })
        .collect()
}

fn values_chain(
    req: &RedeployRequest,
    region_values: &[(RegionRef, PathBuf)],
    loc: &RegionLocation,
) -> Result<Vec<PathBuf>> {
    let mut files = req.values.clone();
    if !region_values.is_empty() {
        let mine: Vec<&PathBuf> = region_values
            .iter()
            .filter(|(k, _)| match k {
                RegionRef::Index(i) => loc.id == Some(*i),
                side => loc.side == Some(*side),
            })
            .map(|(_, f)| f)
            .collect();
        match mine.as_slice() {
            [] => {
                return Err(Error::usage(format!(
                    "--region-values: no file for {} (add --region-values {}=FILE)",
                    loc.id
                        .map(|i| i.name())
                        .or(loc.side.map(|s| s.to_string()))
                        .unwrap_or_else(|| "this region".into()),
                    loc.id.map(|i| i.name()).unwrap_or_else(|| "REGION".into()),
                )));
            }
            [one] => files.push((*one).clone()),
            _ => {
                return Err(Error::usage(format!(
                    "--region-values: more than one file for {}",
                    loc.id.map(|i| i.name()).unwrap_or_default()
                )));
            }
        }
    } else if req.values.is_empty() {
        // The docs' EKS layout, run from aws/dual-region/kubernetes.
        let id = loc.id.ok_or_else(|| {
            Error::usage(format!(
                "cannot tell whether the {} region is region0 or region1 for the default values layout: \
                 set REGION_SURVIVING/REGION_RECREATED, use --region 0|1, or pass -f/--region-values",
                loc.side.map(|s| s.to_string()).unwrap_or_else(|| "targeted".into())
            ))
        })?;
        files.push(PathBuf::from(DEFAULT_BASE_VALUES));
        files.push(Path::new(&id.name()).join("camunda-values.yml"));
    }
    Ok(files)
}

/// One region's plan: its context and namespace (required here), its values chain (read), the
/// overlay built from the effective values, the profiles it should render. Secrets of the
/// rendered values go into `redactor`; plan-wide notices into `notices`.
fn plan_region(
    req: &RedeployRequest,
    row: &ChartRow,
    cwd: &Path,
    region_values: &[(RegionRef, PathBuf)],
    loc: RegionLocation,
    redactor: &mut values::Redactor,
    notices: &mut Vec<String>,
) -> Result<RegionPlan> {
    let label = loc
        .id
        .map(|i| i.name())
        .or(loc.side.map(|s| s.to_string()))
        .unwrap_or_default();
    let flag = match loc.side {
        Some(RegionRef::Recreated) => "--recreated-context",
        _ => "--surviving-context",
    };
    let context = loc.context.clone().ok_or_else(|| {
        Error::usage(format!(
            "{label} has no kube context: pass {flag} or set the docs' CLUSTER_* variables"
        ))
    })?;
    let namespace = loc.namespace.clone().ok_or_else(|| {
        Error::usage(format!(
            "{label} has no namespace: pass {} or set the docs' CAMUNDA_NAMESPACE_* variables",
            flag.replace("context", "namespace")
        ))
    })?;
    let values_files = values_chain(req, region_values, &loc)?;
    let resolved: Vec<PathBuf> = values_files.iter().map(|f| cwd.join(f)).collect();
    let effective = values::load_chain(&resolved).map_err(|e| match e {
        // Name the file as the user gave it, not joined with the working directory.
        Error::File { path, message } => Error::File {
            path: values_files
                .iter()
                .find(|f| cwd.join(f) == path)
                .cloned()
                .unwrap_or(path),
            message: if message == "no such values file" && req.values.is_empty() && req.region_values.is_empty() {
                format!("{message} (the default layout expects camunda-values.yml and region<N>/camunda-values.yml in the working directory; pass -f or --region-values otherwise)")
            } else {
                message
            },
        },
        other => other,
    })?;
    let switch = &row.facts.schema_switch;
    let mut overlay = values::build_overlay(&effective, req.overlay, switch)?;
    if overlay.env_change == EnvChange::Removed {
        // Name the files that still set the variable (they parsed above, so they read).
        let files: Vec<String> = values_files
            .iter()
            .filter(|f| {
                values::load_file(&cwd.join(f))
                    .is_ok_and(|doc| values::sets_schema_manager_var(&doc, switch))
            })
            .map(|f| f.display().to_string())
            .collect();
        let generic = values::still_set_notice(&overlay.switch_names, &[]);
        let named = values::still_set_notice(&overlay.switch_names, &files);
        for n in overlay.notices.iter_mut().filter(|n| **n == generic) {
            *n = named.clone();
        }
    }
    let mut rendered = effective;
    values::merge_into(&mut rendered, overlay.document.clone());
    redactor.add_values(&rendered);
    let expected_profiles = values::expected_profiles(&rendered, row.facts)
        .into_iter()
        .collect();
    // Brokers of a recreated region are not Ready until re-added: never wait on them.
    let wait = req.wait && loc.side != Some(RegionRef::Recreated);
    if req.wait && !wait {
        notices.push(format!(
            "--wait is not applied to {label} (recreated): its brokers are not Ready until they are re-added ({})",
            crate::procedure::Action::AddBrokers.step().named()
        ));
    }
    Ok(RegionPlan {
        id: loc.id,
        side: loc.side,
        context,
        context_source: loc
            .context_source
            .clone()
            .unwrap_or_else(|| flag.to_string()),
        namespace,
        values_files,
        overlay,
        wait,
        expected_profiles,
    })
}

/// A flag given with an empty value (`--chart ""`, e.g. an unset variable in a script) is bad
/// input, never silently replaced by a default.
fn non_empty_flag(flag: &str, value: &Option<String>) -> Result<()> {
    match value {
        Some(v) if v.trim().is_empty() => Err(Error::usage(format!(
            "{flag} is empty: give a value or leave the flag out"
        ))),
        _ => Ok(()),
    }
}

/// A value c8dr hands to helm as the argument of a flag (`--chart`, `--version`): helm would read
/// one that starts with '-' as a flag of its own, and a control character is never part of a
/// chart reference or a version constraint.
fn helm_value(source: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.starts_with('-') || v.chars().any(char::is_control) => {
            Err(Error::usage(format!(
                "{source} {}: not a chart reference or version (it starts with '-' or holds a \
                 control character)",
                crate::error::shown(v)
            )))
        }
        _ => Ok(()),
    }
}

impl Plan {
    /// Plan the upgrades with the row `row`. Reads the values files (relative paths against
    /// `cwd`); calls no cluster.
    pub fn new(req: &RedeployRequest, env: &Env, cwd: &Path, row: ChartRow) -> Result<Plan> {
        env.check()?;
        non_empty_flag("--chart", &req.chart)?;
        non_empty_flag("--version", &req.version)?;
        non_empty_flag("--release", &req.release)?;
        let release = crate::chart::release(req.release.as_deref(), env)?;
        helm_value("--chart", req.chart.as_deref())?;
        helm_value("--version", req.version.as_deref())?;
        super::version::check("--version", req.version.as_deref())?;
        if req.version.is_none() {
            helm_value("HELM_CHART_VERSION", env.get("HELM_CHART_VERSION"))?;
            super::version::check("HELM_CHART_VERSION", env.get("HELM_CHART_VERSION"))?;
        }
        check_extra_args(&req.extra_args)?;
        let timeout = req.timeout.as_deref().map(parse_go_duration).transpose()?;
        let region_values = parse_region_values(&req.region_values)?;
        let target = req.target.unwrap_or(Target::One(RegionRef::Surviving));
        let flags = req.location_flags();
        let locate = |region| location::resolve(region, &flags, env, Plugin::Helm);
        let located = match target {
            Target::One(region) => vec![locate(region)?],
            Target::Both => {
                let s = locate(RegionRef::Surviving)?;
                let r = locate(RegionRef::Recreated)?;
                if s.id.is_some() && s.id == r.id {
                    return Err(Error::usage(
                        "REGION_SURVIVING and REGION_RECREATED name the same region",
                    ));
                }
                vec![s, r]
            }
        };
        // Two regions on one cluster (context or API server), and a kubeconfig kubectl refuses.
        location::check_distinct(&located, None, env)?;
        let mut notices = vec![];
        let mut regions = vec![];
        let mut redactor = values::Redactor::new();
        redactor.add_args(&req.extra_args);
        if let Some(chart) = &req.chart {
            redactor.add_args(std::slice::from_ref(chart));
        }
        for loc in located {
            regions.push(plan_region(
                req,
                &row,
                cwd,
                &region_values,
                loc,
                &mut redactor,
                &mut notices,
            )?);
        }
        // `helm --kube-context X c8dr ...` arrives as HELM_KUBECONTEXT. It may pick the surviving
        // region's context (above) but never override a region's own: when it names none of the
        // targeted regions, the user meant another cluster than the one c8dr would upgrade.
        if let Some(helm_ctx) = env.get("HELM_KUBECONTEXT")
            && !regions.iter().any(|r| r.context == helm_ctx)
        {
            let targeted = regions
                .iter()
                .map(|r| format!("{} = context {}", r.label(), r.context))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::usage(format!(
                "helm's --kube-context {helm_ctx} (HELM_KUBECONTEXT) is none of the regions this \
             redeploy targets ({targeted}): drop it, or name the region with --region and \
             --surviving-context/--recreated-context"
            )));
        }
        let version = req
            .version
            .clone()
            .or_else(|| env.get("HELM_CHART_VERSION").map(String::from))
            .filter(|v| !v.trim().is_empty());
        if let super::release::RowSource::Label { .. } = &row.source {
            notices.push(format!(
                "planned for Camunda {} (chart {}.x) as {} shows",
                row.facts.line, row.facts.chart_major, row.source
            ));
        }
        if version.is_none() {
            // During an outage an unpinned upgrade takes whatever chart is newest in the repo.
            notices.push(
                "no chart version pinned (--version or HELM_CHART_VERSION): helm upgrade will take \
                 the newest chart in the repository; pin the version the installation runs"
                    .to_string(),
            );
        }
        // --keep-overlay names a directory: a file there is bad input, found before any call.
        if let Some(dir) = &req.keep_overlay
            && dir.exists()
            && !dir.is_dir()
        {
            return Err(Error::File {
                path: dir.clone(),
                message: "--keep-overlay: not a directory (it takes the directory to keep the \
                          generated overlays in)"
                    .to_string(),
            });
        }
        Ok(Plan {
            helm_bin: helm_bin(env).unwrap_or_else(|| "helm".to_string()),
            release,
            chart: req
                .chart
                .clone()
                .unwrap_or_else(|| crate::chart::DEFAULT_CHART.to_string()),
            version,
            timeout: req.timeout.clone(),
            extra_args: req.extra_args.clone(),
            keep_overlay: req.keep_overlay.clone(),
            verify: req
                .verify
                .then_some(timeout.unwrap_or(DEFAULT_VERIFY_TIMEOUT)),
            regions,
            notices,
            row,
            redactor,
        })
    }
}

impl Plan {
    /// The arguments of one region's `helm upgrade --install` (without the program).
    pub fn upgrade_args(&self, region: &RegionPlan, overlay: &Path) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "upgrade".into(),
            "--install".into(),
            self.release.clone(),
            self.chart.clone(),
        ];
        if let Some(v) = &self.version {
            args.extend(["--version".into(), v.clone()]);
        }
        args.extend([
            "--kube-context".into(),
            region.context.clone(),
            "--namespace".into(),
            region.namespace.clone(),
        ]);
        for f in &region.values_files {
            args.extend(["-f".into(), f.display().to_string()]);
        }
        args.extend(["-f".into(), overlay.display().to_string()]);
        if region.wait {
            args.push("--wait".into());
        }
        if let Some(t) = &self.timeout {
            args.extend(["--timeout".into(), t.clone()]);
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The overlay file name of a region.
    pub fn overlay_name(&self, region: &RegionPlan) -> String {
        format!("c8dr-overlay-{}-{}", self.release, region.label())
    }

    /// Where a region's overlay goes: the kept path, or a placeholder for a temporary file.
    pub(super) fn overlay_display_path(&self, region: &RegionPlan) -> PathBuf {
        match &self.keep_overlay {
            Some(dir) => dir.join(format!("{}.yaml", self.overlay_name(region))),
            None => PathBuf::from(format!("<tmp>/{}.yaml", self.overlay_name(region))),
        }
    }

    /// The helm command line of a region as shown to the user: secrets hidden by key
    /// (`--set x.password=`) and by value (wherever a known secret or URL userinfo appears).
    pub fn shown_argv(&self, region: &RegionPlan, overlay_path: &Path) -> Vec<String> {
        let argv = std::iter::once(self.helm_bin.clone())
            .chain(self.upgrade_args(region, overlay_path))
            .collect::<Vec<_>>();
        self.redactor.args(&argv)
    }

    /// A region's overlay document, redacted unless `show_secrets`.
    pub fn overlay_document(&self, region: &RegionPlan, show_secrets: bool) -> Value {
        if show_secrets {
            region.overlay.document.clone()
        } else {
            self.redactor.values(&region.overlay.document)
        }
    }

    /// Each region's overlay as YAML (redacted unless `show_secrets`), one document per region.
    pub fn overlays(&self, show_secrets: bool) -> Result<Vec<(String, String)>> {
        self.regions
            .iter()
            .map(|r| {
                let doc = self.overlay_document(r, show_secrets);
                Ok((r.describe(), values::to_yaml(&doc)?))
            })
            .collect()
    }
}

impl RegionPlan {
    /// Whether the overlay leaves Operate and Tasklist on (no `--no-webapps`).
    pub fn webapps(&self) -> bool {
        self.overlay.document["orchestration"]["profiles"]["operate"] != Value::Bool(false)
    }
}

/// A command line as shown (plans, prompts), each argument quoted where a shell would read it
/// otherwise, so that it can be pasted: `--version '<15'`, not a redirection (attack A5).
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
            if plain {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
