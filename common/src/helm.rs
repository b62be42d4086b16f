//! The helm runner: plan a `helm upgrade --install` per region (contexts, values chain, generated
//! overlay), print it for `--dry-run`, or run it (both regions concurrently) and report.
//!
//! Planning is a pure function of the request, the environment snapshot and the values files
//! (read, never written); nothing reaches a cluster before every region's plan is valid.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Env, locate};
use crate::duration::parse_go_duration;
use crate::error::{Error, Result};
use crate::region::{RegionId, RegionRef};
use crate::values::{self, EnvChange, Overlay, OverlayOptions};

/// The chart the Camunda docs install.
/// The docs' EKS layout, relative to `aws/dual-region/kubernetes`.
pub const DEFAULT_BASE_VALUES: &str = "camunda-values.yml";

/// Which regions `redeploy` targets (`--region`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    One(RegionRef),
    Both,
}

impl FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "both" => Ok(Self::Both),
            other => other.parse().map(Self::One).map_err(|_| {
                Error::usage(format!(
                    "--region '{other}': expected surviving, recreated, both, 0 or 1"
                ))
            }),
        }
    }
}

/// Which side of the procedure a region is on, when the environment says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    Surviving,
    Recreated,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Self::Surviving => "surviving",
            Self::Recreated => "recreated",
        }
    }
}

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
    pub side: Option<Side>,
    pub context: String,
    pub namespace: String,
    /// The user's values files, in order (as given, relative to the working directory).
    pub values_files: Vec<PathBuf>,
    pub overlay: Overlay,
    pub wait: bool,
    /// `spring.profiles.active` the upgrade should render (sorted).
    pub expected_profiles: Vec<String>,
}

impl RegionPlan {
    /// `region1`, or the side's name when the region id is unknown.
    pub fn label(&self) -> String {
        match (self.id, self.side) {
            (Some(id), _) => id.name(),
            (None, Some(side)) => side.name().to_string(),
            (None, None) => "region".to_string(),
        }
    }
    fn describe(&self) -> String {
        match (self.id, self.side) {
            (Some(id), Some(side)) => format!("{id} ({})", side.name()),
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
    /// The secrets of the values, the chart reference and the extra arguments, hidden by value
    /// in everything shown (argv, overlays, helm's output, messages).
    pub redactor: values::Redactor,
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

/// The region id a side variable names (`REGION_SURVIVING`, or the other of `REGION_RECREATED`).
fn side_region(env: &Env, side: Side) -> Result<Option<RegionId>> {
    let (own, other) = match side {
        Side::Surviving => ("REGION_SURVIVING", "REGION_RECREATED"),
        Side::Recreated => ("REGION_RECREATED", "REGION_SURVIVING"),
    };
    if let Some(v) = env.get(own) {
        return v
            .parse::<RegionId>()
            .map(Some)
            .map_err(|_| Error::usage(format!("{own}={v}: expected region0 or region1")));
    }
    match env.get(other) {
        Some(v) => v
            .parse::<RegionId>()
            .map(|r| Some(r.other()))
            .map_err(|_| Error::usage(format!("{other}={v}: expected region0 or region1"))),
        None => Ok(None),
    }
}

struct Located {
    id: Option<RegionId>,
    side: Option<Side>,
    context: Option<String>,
    namespace: Option<String>,
}

/// The surviving region's last resort: helm's own `--kube-context`/`-n` (they reach a plugin only
/// as HELM_KUBECONTEXT/HELM_NAMESPACE), else the kubeconfig's current context and its namespace.
fn surviving_fallback(env: &Env, context: &mut Option<String>, namespace: &mut Option<String>) {
    if context.is_none() {
        *context = env.get("HELM_KUBECONTEXT").map(String::from);
    }
    let current = current_context(env);
    if context.is_none() {
        *context = current.as_ref().map(|(c, _)| c.clone());
    }
    if namespace.is_none() {
        *namespace = env.get("HELM_NAMESPACE").map(String::from).or_else(|| {
            current
                .filter(|(c, _)| Some(c) == context.as_ref())
                .and_then(|(_, ns)| ns)
        });
    }
}

/// The kubeconfig's current context and that context's namespace (`$KUBECONFIG`, a list of
/// files where the first definition wins, else `~/.kube/config`). Unreadable files count as none.
pub fn current_context(env: &Env) -> Option<(String, Option<String>)> {
    let paths: Vec<PathBuf> = match env.get("KUBECONFIG") {
        Some(list) => std::env::split_paths(list).collect(),
        None => vec![Path::new(env.get("HOME")?).join(".kube/config")],
    };
    let docs: Vec<Value> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| serde_saphyr::from_str::<Value>(&text).ok())
        .collect();
    let name = docs
        .iter()
        .find_map(|d| d.get("current-context")?.as_str().filter(|s| !s.is_empty()))?
        .to_string();
    let namespace = docs.iter().find_map(|d| {
        d.get("contexts")?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name.as_str()))?
            .pointer("/context/namespace")?
            .as_str()
            .map(String::from)
    });
    Some((name, namespace))
}

fn locate_side(req: &RedeployRequest, env: &Env, side: Side) -> Result<Located> {
    let (flag_ctx, flag_ns) = match side {
        Side::Surviving => (&req.surviving_context, &req.surviving_namespace),
        Side::Recreated => (&req.recreated_context, &req.recreated_namespace),
    };
    let region_ref = match side {
        Side::Surviving => RegionRef::Surviving,
        Side::Recreated => RegionRef::Recreated,
    };
    let loc = match locate(region_ref, env) {
        Ok(loc) => loc,
        // The only refusal of `locate` is a recreated region without context: a flag fixes it.
        Err(_) if flag_ctx.is_some() => {
            let id = side_region(env, side)?;
            let ns = env
                .get("CAMUNDA_NAMESPACE_RECREATED")
                .map(String::from)
                .or_else(|| {
                    id.and_then(|i| env.get(&format!("CAMUNDA_NAMESPACE_{}", i.index())))
                        .map(String::from)
                });
            crate::config::RegionLocation {
                id,
                context: None,
                namespace: ns,
            }
        }
        Err(_) => {
            return Err(Error::usage(
                "the recreated region has no kube context: pass --recreated-context (and \
                 --recreated-namespace) or set CLUSTER_RECREATED and CAMUNDA_NAMESPACE_RECREATED",
            ));
        }
    };
    let mut context = flag_ctx.clone().or(loc.context);
    let mut namespace = flag_ns.clone().or(loc.namespace);
    if side == Side::Surviving {
        surviving_fallback(env, &mut context, &mut namespace);
    }
    Ok(Located {
        id: loc.id,
        side: Some(side),
        context,
        namespace,
    })
}

fn locate_index(req: &RedeployRequest, env: &Env, id: RegionId) -> Result<Located> {
    let side = if side_region(env, Side::Surviving)? == Some(id) {
        Some(Side::Surviving)
    } else if side_region(env, Side::Recreated)? == Some(id) {
        Some(Side::Recreated)
    } else {
        None
    };
    let loc = locate(RegionRef::Index(id), env)?;
    let (flag_ctx, flag_ns) = match side {
        Some(Side::Surviving) => (
            req.surviving_context.clone(),
            req.surviving_namespace.clone(),
        ),
        Some(Side::Recreated) => (
            req.recreated_context.clone(),
            req.recreated_namespace.clone(),
        ),
        None => (None, None),
    };
    let mut context = flag_ctx.or(loc.context);
    let mut namespace = flag_ns.or(loc.namespace);
    if side == Some(Side::Surviving) {
        surviving_fallback(env, &mut context, &mut namespace);
    }
    Ok(Located {
        id: Some(id),
        side,
        context,
        namespace,
    })
}

/// A `--region-values` key: which region it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegionKey {
    Side(Side),
    Id(RegionId),
}

fn parse_region_values(raw: &[String]) -> Result<Vec<(RegionKey, PathBuf)>> {
    raw.iter()
        .map(|item| {
            let (key, file) = item.split_once('=').ok_or_else(|| {
                Error::usage(format!(
                    "--region-values '{item}': expected REGION=FILE (REGION: region0, region1, surviving or recreated)"
                ))
            })?;
            let key = match key.trim() {
                "surviving" => RegionKey::Side(Side::Surviving),
                "recreated" => RegionKey::Side(Side::Recreated),
                other => RegionKey::Id(other.parse().map_err(|_| {
                    Error::usage(format!(
                        "--region-values '{item}': unknown region '{other}' (expected region0, region1, surviving or recreated)"
                    ))
                })?),
            };
            if file.trim().is_empty() {
                return Err(Error::usage(format!("--region-values '{item}': no file given")));
            }
            Ok((key, PathBuf::from(file)))
        })
        .collect()
}

fn values_chain(
    req: &RedeployRequest,
    region_values: &[(RegionKey, PathBuf)],
    loc: &Located,
) -> Result<Vec<PathBuf>> {
    let mut files = req.values.clone();
    if !region_values.is_empty() {
        let mine: Vec<&PathBuf> = region_values
            .iter()
            .filter(|(k, _)| match k {
                RegionKey::Side(s) => loc.side == Some(*s),
                RegionKey::Id(i) => loc.id == Some(*i),
            })
            .map(|(_, f)| f)
            .collect();
        match mine.as_slice() {
            [] => {
                return Err(Error::usage(format!(
                    "--region-values: no file for {} (add --region-values {}=FILE)",
                    loc.id
                        .map(|i| i.name())
                        .or(loc.side.map(|s| s.name().to_string()))
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
                loc.side.map(Side::name).unwrap_or("targeted")
            ))
        })?;
        files.push(PathBuf::from(DEFAULT_BASE_VALUES));
        files.push(Path::new(&id.name()).join("camunda-values.yml"));
    }
    Ok(files)
}

/// Flags that pick the cluster or the namespace. helm's plugin loader (`manuallyProcessArgs`,
/// helm/helm v3.17.0 `cmd/helm/load_plugins.go`, the same list in v4.0.0
/// `pkg/cmd/load_plugins.go`) strips exactly these, in the `--flag value` and `--flag=value`
/// forms, from a plugin's argv; what it does not strip (`-nfoo`, `-n=foo` via a shorthand
/// cluster, or anything when helm-c8dr runs directly) would reach `helm upgrade` after c8dr's own
/// `--kube-context`/`--namespace` and win (pflag keeps the last value): the upgrade would go to
/// another cluster or namespace than the one c8dr planned and reports.
const CLUSTER_FLAGS: &[&str] = &[
    "--kube-context",
    "--namespace",
    "--kubeconfig",
    "--kube-apiserver",
    "--kube-token",
    "--kube-as-user",
    "--kube-as-group",
    "--kube-ca-file",
    "--kube-insecure-skip-tls-verify",
    "--kube-tls-server-name",
];

/// `--set` flavours of `helm upgrade` (v3.17.0 `cmd/helm/flags.go` `addValueOptionsFlags`).
const SET_FLAGS: &[&str] = &[
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--set-literal",
];

/// The values c8dr's overlay decides; an extra `--set` on them would override the overlay.
const DECIDED_KEYS: &[&str] = &["orchestration.env", "orchestration.profiles"];

/// Refuse extra helm arguments (after `--`) that would override what c8dr decides: the cluster
/// and namespace of each region, the values chain whose last file is the generated overlay, and
/// the chart version. Every argument is checked, including values of other flags: a false
/// refusal costs a re-run, a missed override upgrades the wrong region.
pub fn check_extra_args(extra: &[String]) -> Result<()> {
    let refuse = |arg: &str, why: &str| {
        Err(Error::usage(format!(
            "extra helm argument '{arg}' (after --) {why}; c8dr refuses it"
        )))
    };
    let mut set_value_next = false;
    for arg in extra {
        let a = arg.as_str();
        if set_value_next {
            set_value_next = false;
            if let Some(key) = decided_set_key(a) {
                // Name the key only: the value may be a secret.
                return refuse(
                    &format!("--set {key}=..."),
                    &format!(
                        "overrides {key}, which the generated overlay sets (use --no-webapps / \
                         --no-schema-manager, or put the change in a -f file: c8dr merges it)"
                    ),
                );
            }
        }
        if a == "--" {
            continue;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        if CLUSTER_FLAGS.contains(&flag) {
            return refuse(
                a,
                "would send the upgrade to another cluster or namespace than the one c8dr plans \
                 and reports (use --region, --surviving-context/--surviving-namespace, \
                 --recreated-context/--recreated-namespace or the CLUSTER_*/CAMUNDA_NAMESPACE_* \
                 variables)",
            );
        }
        if matches!(flag, "--values") {
            return refuse(
                a,
                "would come after the generated overlay and override it (pass values files to c8dr's own -f/--region-values)",
            );
        }
        if flag == "--version" {
            return refuse(a, "overrides the chart version (use c8dr's --version)");
        }
        if SET_FLAGS.contains(&flag) {
            match inline {
                Some(v) => {
                    if let Some(key) = decided_set_key(v) {
                        return refuse(
                            &format!("{flag}={key}=..."),
                            &format!(
                                "overrides {key}, which the generated overlay sets (use --no-webapps / \
                                 --no-schema-manager, or put the change in a -f file: c8dr merges it)"
                            ),
                        );
                    }
                }
                None => set_value_next = true,
            }
            continue;
        }
        // A pflag shorthand cluster: `-n foo`, `-nfoo`, `-n=foo`, `-in foo`, `-f x`, `-ifx`.
        // helm upgrade's shorthands: -i (--install), -h (--help) take no value; -n
        // (--namespace), -f (--values) and -o (--output) take the rest or the next argument.
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            for c in cluster.chars() {
                match c {
                    'i' | 'h' => continue,
                    'n' => {
                        return refuse(
                            a,
                            "sets the namespace (-n) of every upgrade, overriding the one c8dr plans \
                             and reports per region (use --surviving-namespace/--recreated-namespace)",
                        );
                    }
                    'f' => {
                        return refuse(
                            a,
                            "adds a values file (-f) after the generated overlay, overriding it (pass \
                             values files to c8dr's own -f/--region-values)",
                        );
                    }
                    _ => break,
                }
            }
        }
    }
    Ok(())
}

/// The key of a `--set` value that touches what the overlay decides, if any.
fn decided_set_key(value: &str) -> Option<String> {
    value.split(',').find_map(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k).trim();
        DECIDED_KEYS
            .iter()
            .find(|d| {
                key == **d
                    || key
                        .strip_prefix(**d)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
            .map(|_| key.to_string())
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

/// Plan the upgrades. Reads the values files (relative paths against `cwd`); calls no cluster.
pub fn plan(req: &RedeployRequest, env: &Env, cwd: &Path) -> Result<Plan> {
    non_empty_flag("--chart", &req.chart)?;
    non_empty_flag("--version", &req.version)?;
    non_empty_flag("--release", &req.release)?;
    check_extra_args(&req.extra_args)?;
    let timeout = req.timeout.as_deref().map(parse_go_duration).transpose()?;
    let region_values = parse_region_values(&req.region_values)?;
    let target = req.target.unwrap_or(Target::One(RegionRef::Surviving));
    let located = match target {
        Target::One(RegionRef::Surviving) => vec![locate_side(req, env, Side::Surviving)?],
        Target::One(RegionRef::Recreated) => vec![locate_side(req, env, Side::Recreated)?],
        Target::One(RegionRef::Index(id)) => vec![locate_index(req, env, id)?],
        Target::Both => {
            let s = locate_side(req, env, Side::Surviving)?;
            let r = locate_side(req, env, Side::Recreated)?;
            if s.id.is_some() && s.id == r.id {
                return Err(Error::usage(
                    "REGION_SURVIVING and REGION_RECREATED name the same region",
                ));
            }
            if s.context.is_some() && s.context == r.context && s.namespace == r.namespace {
                return Err(Error::usage(format!(
                    "--region both: the surviving and the recreated region are both context '{}' namespace '{}'",
                    s.context.as_deref().unwrap_or_default(),
                    s.namespace.as_deref().unwrap_or_default()
                )));
            }
            vec![s, r]
        }
    };
    let mut notices = vec![];
    let mut regions = vec![];
    let mut redactor = values::Redactor::new();
    redactor.add_args(&req.extra_args);
    if let Some(chart) = &req.chart {
        redactor.add_args(std::slice::from_ref(chart));
    }
    for loc in located {
        let label = loc
            .id
            .map(|i| i.name())
            .or(loc.side.map(|s| s.name().to_string()))
            .unwrap_or_default();
        let flag = match loc.side {
            Some(Side::Recreated) => "--recreated-context",
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
        let values_files = values_chain(req, &region_values, &loc)?;
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
        let mut overlay = values::build_overlay(&effective, req.overlay)?;
        if overlay.env_change == EnvChange::Removed {
            // Name the files that still set the variable (they parsed above, so they read).
            let files: Vec<String> = values_files
                .iter()
                .filter(|f| {
                    values::load_file(&cwd.join(f))
                        .is_ok_and(|doc| values::sets_schema_manager_var(&doc))
                })
                .map(|f| f.display().to_string())
                .collect();
            let generic = values::still_set_notice(&[]);
            for n in overlay.notices.iter_mut().filter(|n| **n == generic) {
                *n = values::still_set_notice(&files);
            }
        }
        let mut rendered = effective;
        values::merge_into(&mut rendered, overlay.document.clone());
        redactor.add_values(&rendered);
        let expected_profiles = values::expected_profiles(&rendered).into_iter().collect();
        // Brokers of a recreated region are not Ready until re-added: never wait on them.
        let wait = req.wait && loc.side != Some(Side::Recreated);
        if req.wait && !wait {
            notices.push(format!(
                "--wait is not applied to {label} (recreated): its brokers are not Ready until they are re-added (failback step 7)"
            ));
        }
        regions.push(RegionPlan {
            id: loc.id,
            side: loc.side,
            context,
            namespace,
            values_files,
            overlay,
            wait,
            expected_profiles,
        });
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
    Ok(Plan {
        helm_bin: helm_bin(env).unwrap_or_else(|| "helm".to_string()),
        release: req
            .release
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| env.release()),
        chart: req
            .chart
            .clone()
            .unwrap_or_else(|| crate::chart::DEFAULT_CHART.to_string()),
        version: req
            .version
            .clone()
            .or_else(|| env.get("HELM_CHART_VERSION").map(String::from))
            .filter(|v| !v.trim().is_empty()),
        timeout: req.timeout.clone(),
        extra_args: req.extra_args.clone(),
        keep_overlay: req.keep_overlay.clone(),
        verify: req
            .verify
            .then_some(timeout.unwrap_or(DEFAULT_VERIFY_TIMEOUT)),
        regions,
        notices,
        redactor,
    })
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
    fn overlay_display_path(&self, region: &RegionPlan) -> PathBuf {
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
        redact_args(&argv)
            .iter()
            .map(|a| self.redactor.text(a))
            .collect()
    }

    fn region_report(&self, region: &RegionPlan, overlay_path: &Path, kept: bool) -> RegionReport {
        RegionReport {
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
            webapps: !region_no_webapps(region),
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

    fn report(&self, regions: Vec<RegionReport>, dry_run: bool) -> RedeployReport {
        RedeployReport {
            dry_run,
            release: self.release.clone(),
            chart: self.redactor.text(&self.chart),
            version: self.version.clone(),
            notices: self.notices.iter().map(|n| self.redactor.text(n)).collect(),
            regions,
            interrupted: None,
        }
    }

    /// Write the overlays and run every region's upgrade (concurrently), capturing helm's output
    /// and exit code. Overlays are removed afterwards unless kept.
    ///
    /// SIGINT, SIGTERM and SIGHUP (Ctrl-C, a cancelled CI job, an SSH drop) are handled here
    /// (SPEC 3.7): helm runs in its own process group, so the signal reaches it only through
    /// c8dr, which forwards SIGINT as SIGINT and SIGTERM/SIGHUP as SIGTERM. helm handles exactly
    /// SIGINT and SIGTERM by cancelling the upgrade and recording the release as failed (helm/helm
    /// v3.17.0 `cmd/helm/upgrade.go` and `install.go`: `signal.Notify(cSignal, os.Interrupt,
    /// syscall.SIGTERM)`, "Release X has been cancelled."); a SIGHUP or SIGKILL would kill it
    /// mid-upgrade and can leave the release `pending-upgrade`, which blocks every later upgrade
    /// until someone rolls it back. c8dr then waits for helm (at most [`SIGNAL_GRACE`]; a second
    /// signal stops the wait, never kills helm), removes the overlays and reports what ran,
    /// exiting 128 + the signal number (130/143/129).
    pub async fn execute(&self) -> Result<RedeployReport> {
        if self.helm_bin.trim().is_empty() {
            return Err(Error::usage(
                "helm not found: set HELM_BIN or put helm on PATH",
            ));
        }
        // Listen before the first file exists: from here on, a signal removes the overlays.
        let mut signals = Signals::new()?;
        let mut temp_dir = match &self.keep_overlay {
            Some(_) => None,
            None => Some(values::OverlayDir::new()?),
        };
        let mut files = vec![];
        for region in &self.regions {
            let yaml = values::to_yaml(&region.overlay.document)?;
            files.push(values::write_overlay(
                self.keep_overlay.as_deref(),
                temp_dir.as_ref(),
                &self.overlay_name(region),
                &yaml,
            )?);
        }
        // A signal that came while the overlays were written: run nothing.
        if let Some(signal) = signals.pending() {
            let removed = temp_dir.as_mut().map(values::OverlayDir::remove);
            let mut regions = vec![];
            for (region, file) in self.regions.iter().zip(&files) {
                let mut report = self.region_report(region, file.path(), file.kept());
                report.output = "not started".into();
                regions.push(report);
            }
            let mut report = self.report(regions, false);
            report.interrupted = Some(Interrupted::new(signal, removed, vec![]));
            return Ok(report);
        }
        let slots: Vec<std::sync::Arc<std::sync::Mutex<HelmSlot>>> =
            self.regions.iter().map(|_| Default::default()).collect();
        let runs = self
            .regions
            .iter()
            .zip(&files)
            .zip(&slots)
            .map(|((region, file), slot)| {
                let args = self.upgrade_args(region, file.path());
                let bin = self.helm_bin.clone();
                let slot = slot.clone();
                async move {
                    let ok = run_helm(&bin, &args, &slot).await;
                    match (ok, self.verify) {
                        (true, Some(timeout)) => Some(self.verify_region(region, timeout).await),
                        _ => None,
                    }
                }
            });
        let mut all = Box::pin(futures_util::future::join_all(runs));
        let (verified, signal) = tokio::select! {
            verified = &mut all => (Some(verified), None),
            signal = signals.recv() => {
                let pids = forward(signal, &slots);
                eprintln!(
                    "{}: {}",
                    signal.name(),
                    if pids.is_empty() {
                        "helm is not running; stopping".to_string()
                    } else {
                        format!(
                            "sent {} to helm (pid {}); waiting up to {}s for it to stop, then \
                             removing the overlays",
                            signal.forwarded().name(),
                            pids.join(", "),
                            SIGNAL_GRACE.as_secs()
                        )
                    },
                );
                // Wait for helm only (a --verify in progress is abandoned). `all` is still
                // polled: it is what reaps helm and records its outcome.
                let verified = tokio::select! {
                    verified = &mut all => Some(verified),
                    () = helms_done(&slots, signal, pids, SIGNAL_GRACE) => None,
                    again = signals.recv() => {
                        eprintln!("{}: not waiting for helm any longer", again.name());
                        None
                    }
                };
                (verified, Some(signal))
            }
        };
        drop(all);
        let mut regions = vec![];
        let mut still_running = vec![];
        let verified = verified.unwrap_or_else(|| self.regions.iter().map(|_| None).collect());
        for (((region, file), slot), verified) in
            self.regions.iter().zip(&files).zip(&slots).zip(verified)
        {
            let mut report = self.region_report(region, file.path(), file.kept());
            report.verify = verified.map(|mut v| {
                v.message = v.message.map(|m| self.redactor.text(&m));
                v
            });
            let (pid, helm) = match slot.lock() {
                Ok(s) => (s.pid, s.result.clone()),
                Err(_) => (None, None),
            };
            match (helm, pid) {
                (Some(Ok((code, output))), _) => {
                    report.exit_code = Some(code);
                    // helm --debug (or HELM_DEBUG, inherited) prints the user-supplied values.
                    report.output = self.redactor.text(&output);
                }
                (Some(Err(e)), _) => {
                    report.exit_code = Some(127);
                    report.output = format!("cannot run {}: {e}", self.helm_bin);
                }
                (None, Some(pid)) => {
                    still_running.push(region.label());
                    report.output = format!(
                        "helm (pid {pid}) was still running when c8dr stopped waiting; it \
                         finishes on its own. Check the release with: helm status {} \
                         --kube-context {} --namespace {}",
                        self.release, region.context, region.namespace
                    );
                }
                (None, None) => report.output = "not started".into(),
            }
            regions.push(report);
        }
        let removed = temp_dir.as_mut().map(values::OverlayDir::remove);
        drop(files);
        let mut report = self.report(regions, false);
        if let Some(signal) = signal {
            report.interrupted = Some(Interrupted::new(signal, removed, still_running));
        }
        Ok(report)
    }

    /// Each region's overlay as YAML (redacted unless `show_secrets`), one document per region.
    pub fn overlays(&self, show_secrets: bool) -> Result<Vec<(String, String)>> {
        self.regions
            .iter()
            .map(|r| {
                let doc = if show_secrets {
                    r.overlay.document.clone()
                } else {
                    self.redactor.values(&r.overlay.document)
                };
                Ok((r.describe(), values::to_yaml(&doc)?))
            })
            .collect()
    }
}

fn region_no_webapps(region: &RegionPlan) -> bool {
    region.overlay.document["orchestration"]["profiles"]["operate"] == Value::Bool(false)
}

/// One region's helm run, as seen from outside its future: the pid while helm runs, then its
/// exit code and output (or why it could not start).
#[derive(Debug, Default)]
struct HelmSlot {
    pid: Option<u32>,
    result: Option<std::result::Result<(i32, String), String>>,
}

/// Run helm in its own process group (a terminal's SIGINT/SIGHUP reach it only through c8dr),
/// its output into an unlinked temporary file rather than a pipe: if c8dr stops waiting after
/// a signal, helm's last words never hit a closed pipe (a Go program writing to a broken
/// stdout dies of SIGPIPE, mid-cancellation). Records the outcome in `slot`; true when helm
/// exited 0.
async fn run_helm(bin: &str, args: &[String], slot: &std::sync::Mutex<HelmSlot>) -> bool {
    let result = run_helm_inner(bin, args, slot).await;
    let ok = matches!(result, Ok((0, _)));
    if let Ok(mut s) = slot.lock() {
        s.pid = None;
        s.result = Some(result.map_err(|e| e.to_string()));
    }
    ok
}

async fn run_helm_inner(
    bin: &str,
    args: &[String],
    slot: &std::sync::Mutex<HelmSlot>,
) -> std::io::Result<(i32, String)> {
    use std::io::{Read, Seek};
    let mut output = tempfile::tempfile()?;
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output.try_clone()?)
        // Never SIGKILL helm mid-upgrade (a release left pending-upgrade blocks later upgrades).
        .kill_on_drop(false);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    if let Ok(mut s) = slot.lock() {
        s.pid = child.id();
    }
    let status = child.wait().await?;
    let mut text = String::new();
    output.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = vec![];
    output.read_to_end(&mut bytes)?;
    text.push_str(&String::from_utf8_lossy(&bytes));
    #[cfg(unix)]
    let code = {
        use std::os::unix::process::ExitStatusExt;
        status.code().or_else(|| status.signal().map(|s| 128 + s))
    };
    #[cfg(not(unix))]
    let code = status.code();
    Ok((code.unwrap_or(1), text))
}

/// Resolves when no helm runs any more, or after `grace`. A helm that started after the
/// signal was forwarded (`signalled` holds the pids that got it) gets it too.
async fn helms_done(
    slots: &[std::sync::Arc<std::sync::Mutex<HelmSlot>>],
    signal: Signal,
    mut signalled: Vec<String>,
    grace: Duration,
) {
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline {
        let pids: Vec<String> = slots
            .iter()
            .filter_map(|s| s.lock().ok()?.pid.map(|p| p.to_string()))
            .collect();
        if pids.is_empty() {
            return;
        }
        if pids.iter().any(|p| !signalled.contains(p)) {
            signalled.extend(
                forward(signal, slots)
                    .into_iter()
                    .filter(|p| !signalled.contains(p))
                    .collect::<Vec<_>>(),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long c8dr waits for helm to stop after forwarding a signal.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(30);

/// The signals `helm c8dr` handles while helm runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Signal {
    #[serde(rename = "SIGINT")]
    Interrupt,
    #[serde(rename = "SIGTERM")]
    Terminate,
    #[serde(rename = "SIGHUP")]
    Hangup,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }
    /// The shell's exit code for a process ended by this signal (128 + its number).
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
            Self::Hangup => 129,
        }
    }
    /// What helm gets: it cancels cleanly on SIGINT and SIGTERM only (a SIGHUP kills it).
    pub fn forwarded(self) -> Self {
        match self {
            Self::Interrupt => Self::Interrupt,
            Self::Terminate | Self::Hangup => Self::Terminate,
        }
    }
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind| {
            signal(kind).map_err(|e| Error::failed(format!("cannot handle signals: {e}")))
        };
        Ok(Self {
            int: listen(SignalKind::interrupt())?,
            term: listen(SignalKind::terminate())?,
            hup: listen(SignalKind::hangup())?,
        })
    }
    async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Interrupt,
            _ = self.term.recv() => Signal::Terminate,
            _ = self.hup.recv() => Signal::Hangup,
        }
    }
    /// A signal already received, without waiting.
    fn pending(&mut self) -> Option<Signal> {
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        [
            (&mut self.int, Signal::Interrupt),
            (&mut self.term, Signal::Terminate),
            (&mut self.hup, Signal::Hangup),
        ]
        .into_iter()
        .find_map(|(s, name)| s.poll_recv(&mut cx).is_ready().then_some(name))
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Result<Self> {
        Ok(Self)
    }
    async fn recv(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
    fn pending(&mut self) -> Option<Signal> {
        None
    }
}

/// Send the forwarded signal to every helm still running; returns their pids.
fn forward(signal: Signal, slots: &[std::sync::Arc<std::sync::Mutex<HelmSlot>>]) -> Vec<String> {
    let mut sent = vec![];
    for slot in slots {
        let Ok(guard) = slot.lock() else { continue };
        let Some(p) = guard.pid else { continue };
        #[cfg(unix)]
        {
            let sig = match signal.forwarded() {
                Signal::Interrupt => rustix::process::Signal::INT,
                _ => rustix::process::Signal::TERM,
            };
            let target = i32::try_from(p)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            if let Some(target) = target
                && rustix::process::kill_process(target, sig).is_ok()
            {
                sent.push(p.to_string());
            }
        }
        #[cfg(not(unix))]
        {
            // Ctrl-C reaches helm directly on this platform.
            let _ = signal;
            sent.push(p.to_string());
        }
    }
    sent
}

/// What a signal interrupted: `helm c8dr` exits with `exit_code` after reporting it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Interrupted {
    pub signal: Signal,
    pub exit_code: i32,
    /// Whether the temporary overlays were removed (always true unless the removal failed;
    /// kept overlays stay).
    pub overlays_removed: bool,
    /// Regions whose helm was still running when c8dr stopped waiting.
    pub helm_still_running: Vec<String>,
}

impl Interrupted {
    fn new(signal: Signal, removed: Option<std::io::Result<()>>, still: Vec<String>) -> Self {
        Self {
            signal,
            exit_code: signal.exit_code(),
            overlays_removed: removed.is_none_or(|r| r.is_ok()),
            helm_still_running: still,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// --verify: the unified ConfigMap shows the expected Spring profiles.

/// What `--verify` saw in one region.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub configmap: String,
    pub expected: Vec<String>,
    /// The last `spring.profiles.active` seen (sorted), if any.
    pub active: Option<Vec<String>>,
    pub ok: bool,
    pub message: Option<String>,
    /// The exit code a failed verification maps to (4 timeout, 5 unreachable, ...).
    #[serde(skip)]
    pub exit_code: i32,
}

/// Longest pause between two polls: completion is noticed within half a second.
const MAX_POLL: Duration = Duration::from_millis(400);

/// Poll `fetch` (the ConfigMap's `application.yaml`, `None` while absent) until its active
/// profiles equal `expected` as a set. Transient errors are retried until the deadline.
pub async fn wait_for_profiles<F, Fut>(
    mut fetch: F,
    expected: &std::collections::BTreeSet<String>,
    timeout: Duration,
) -> (Result<()>, Option<std::collections::BTreeSet<String>>)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    let mut seen = None;
    loop {
        let transient = match fetch().await {
            Ok(Some(yaml)) => {
                if let Some(active) = values::active_profiles(&yaml) {
                    if &active == expected {
                        return (Ok(()), Some(active));
                    }
                    seen = Some(active);
                }
                None
            }
            Ok(None) => None,
            Err(e) if e.is_transient() => Some(e),
            Err(e) => return (Err(e), seen),
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            let err = transient.unwrap_or_else(|| Error::Timeout {
                what: format!(
                    "spring.profiles.active to be {} (it is {})",
                    expected.iter().cloned().collect::<Vec<_>>().join(","),
                    seen.as_ref()
                        .map(|s| s.iter().cloned().collect::<Vec<_>>().join(","))
                        .unwrap_or_else(|| "not rendered yet".into())
                ),
                after: humantime::format_duration(timeout).to_string(),
            });
            return (Err(err), seen);
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(MAX_POLL);
    }
}

fn kube_error(context: &str, e: kube::Error) -> Error {
    match e {
        kube::Error::Api(status) => Error::Api {
            service: "Kubernetes API",
            status: status.code,
            message: status.message.clone(),
        },
        other => Error::unreachable(format!("the Kubernetes API of context {context}"), other),
    }
}

/// A ConfigMap client for a region (kubeconfig from `KUBECONFIG` or `~/.kube/config`).
async fn configmaps(
    context: &str,
    namespace: &str,
) -> Result<kube::Api<k8s_openapi::api::core::v1::ConfigMap>> {
    let kubeconfig = kube::config::Kubeconfig::read()
        .map_err(|e| Error::usage(format!("cannot read the kubeconfig: {e}")))?;
    let options = kube::config::KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::usage(format!("kube context {context}: {e}")))?;
    let client = kube::Client::try_from(config)
        .map_err(|e| Error::failed(format!("cannot build a client for {context}: {e}")))?;
    Ok(kube::Api::namespaced(client, namespace))
}

impl Plan {
    /// Wait until a region's unified ConfigMap shows the profiles its upgrade should render.
    async fn verify_region(&self, region: &RegionPlan, timeout: Duration) -> VerifyReport {
        let name = crate::chart::unified_configmap(&self.release);
        let expected: std::collections::BTreeSet<String> =
            region.expected_profiles.iter().cloned().collect();
        let (result, seen) = match configmaps(&region.context, &region.namespace).await {
            Ok(api) => {
                let fetch = || {
                    let api = api.clone();
                    let name = name.clone();
                    let context = region.context.clone();
                    async move {
                        let cm = api
                            .get_opt(&name)
                            .await
                            .map_err(|e| kube_error(&context, e))?;
                        Ok(cm.and_then(|c| c.data?.get("application.yaml").cloned()))
                    }
                };
                wait_for_profiles(fetch, &expected, timeout).await
            }
            Err(e) => (Err(e), None),
        };
        VerifyReport {
            configmap: name,
            expected: region.expected_profiles.clone(),
            active: seen.map(|s| s.into_iter().collect()),
            ok: result.is_ok(),
            exit_code: result.as_ref().err().map(Error::exit_code).unwrap_or(0),
            message: result.err().map(|e| format!("verification failed: {e}")),
        }
    }
}

/// Hide secret-looking `--set key=value` values in a displayed argv.
pub fn redact_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut after_set = false;
    for arg in argv {
        let (flag_inline, pairs) = match arg.split_once('=') {
            Some((flag, rest)) if flag.starts_with("--set") => (Some(flag), rest),
            _ => (None, arg.as_str()),
        };
        if after_set || flag_inline.is_some() {
            let redacted = pairs
                .split(',')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if values::looks_secret(k) => format!("{k}={}", values::REDACTED),
                    _ => pair.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",");
            out.push(match flag_inline {
                Some(flag) => format!("{flag}={redacted}"),
                None => redacted,
            });
            after_set = false;
        } else {
            after_set = matches!(arg.as_str(), "--set" | "--set-string" | "--set-literal");
            out.push(arg.clone());
        }
    }
    out
}

/// The outcome of `redeploy`, for text and JSON rendering.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeployReport {
    pub dry_run: bool,
    pub release: String,
    pub chart: String,
    pub version: Option<String>,
    pub notices: Vec<String>,
    pub regions: Vec<RegionReport>,
    /// Set when a signal stopped the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interrupted>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionReport {
    pub region: String,
    pub side: Option<Side>,
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
        let failed: Vec<&RegionReport> = self
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
        Some(Error::Command(msg, code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs_env() -> Env {
        docs_env_with(&[])
    }

    fn docs_env_with(extra: &[(&str, &str)]) -> Env {
        Env::from_pairs(extra.iter().copied().chain([
            ("CLUSTER_SURVIVING", "ctx-a"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-a"),
            ("REGION_SURVIVING", "region0"),
            ("CLUSTER_RECREATED", "ctx-b"),
            ("CAMUNDA_NAMESPACE_RECREATED", "camunda-b"),
            ("REGION_RECREATED", "region1"),
            ("HELM_BIN", "/usr/bin/helm"),
        ]))
    }

    fn eks_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/values/c8-multi-region-8.8")
    }

    fn req(target: &str) -> RedeployRequest {
        RedeployRequest {
            target: Some(target.parse().expect("target")),
            ..Default::default()
        }
    }

    #[test]
    fn the_recreated_region_gets_the_exact_docs_argv_and_never_waits() {
        let mut r = req("recreated");
        r.overlay = OverlayOptions {
            no_webapps: true,
            no_schema_manager: true,
        };
        r.wait = true;
        r.timeout = Some("10m".into());
        let plan = plan(&r, &docs_env(), &eks_dir()).expect("plan");
        assert_eq!(plan.regions.len(), 1);
        let region = &plan.regions[0];
        assert_eq!(region.label(), "region1");
        let args = plan.upgrade_args(region, Path::new("/tmp/o.yaml"));
        assert_eq!(
            args,
            [
                "upgrade",
                "--install",
                "camunda",
                "camunda/camunda-platform",
                "--kube-context",
                "ctx-b",
                "--namespace",
                "camunda-b",
                "-f",
                "camunda-values.yml",
                "-f",
                "region1/camunda-values.yml",
                "-f",
                "/tmp/o.yaml",
                "--timeout",
                "10m",
            ]
        );
        assert_eq!(plan.notices.len(), 1, "--wait dropped with a notice");
    }

    #[test]
    fn both_regions_wait_only_on_the_surviving_side_and_pass_version_and_extras() {
        let mut r = req("both");
        r.wait = true;
        r.version = Some("13.1.0".into());
        r.extra_args = vec!["--set".into(), "x.password=hunter2".into()];
        let plan = plan(&r, &docs_env(), &eks_dir()).expect("plan");
        let labels: Vec<String> = plan.regions.iter().map(RegionPlan::label).collect();
        assert_eq!(labels, ["region0", "region1"]);
        assert!(plan.regions[0].wait && !plan.regions[1].wait);
        let args = plan.upgrade_args(&plan.regions[0], Path::new("o.yaml"));
        assert_eq!(&args[4..6], ["--version", "13.1.0"]);
        assert!(args.contains(&"--wait".to_string()));
        let shown = redact_args(&args);
        assert_eq!(
            shown.last().map(String::as_str),
            Some("x.password=<redacted>")
        );
    }

    #[test]
    fn flags_override_env_and_helm_variables_serve_only_the_surviving_side() {
        let env = Env::from_pairs([
            ("HELM_KUBECONTEXT", "helm-ctx"),
            ("HELM_NAMESPACE", "helm-ns"),
            ("REGION_SURVIVING", "region1"),
        ]);
        let p = plan(&req("surviving"), &env, &eks_dir()).expect("plan");
        assert_eq!(p.regions[0].context, "helm-ctx");
        assert_eq!(p.regions[0].namespace, "helm-ns");
        assert_eq!(
            p.regions[0].values_files[1],
            Path::new("region1/camunda-values.yml")
        );
        let err = plan(&req("recreated"), &env, &eks_dir()).expect_err("no context");
        assert_eq!(err.exit_code(), 2);
        let mut r = req("recreated");
        r.recreated_context = Some("flag-ctx".into());
        r.recreated_namespace = Some("flag-ns".into());
        // helm's --kube-context names another cluster than the one upgraded: refused.
        let err = plan(&r, &env, &eks_dir()).expect_err("helm-ctx is not targeted");
        assert_eq!(err.exit_code(), 2);
        let env = Env::from_pairs([
            ("HELM_NAMESPACE", "helm-ns"),
            ("REGION_SURVIVING", "region1"),
        ]);
        let p = plan(&r, &env, &eks_dir()).expect("plan");
        assert_eq!(p.regions[0].context, "flag-ctx");
        assert_eq!(p.regions[0].id, Some(RegionId::ZERO));
    }

    #[test]
    fn the_surviving_region_defaults_to_the_current_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("config");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\ncurrent-context: cur\ncontexts:\n- name: cur\n  context:\n    cluster: c\n    namespace: cur-ns\n",
        )
        .expect("write");
        let env = Env::from_pairs([
            ("KUBECONFIG", kubeconfig.display().to_string()),
            ("REGION_SURVIVING", "region0".to_string()),
        ]);
        let p = plan(&req("surviving"), &env, &eks_dir()).expect("plan");
        assert_eq!(p.regions[0].context, "cur");
        assert_eq!(p.regions[0].namespace, "cur-ns");
    }

    #[test]
    fn region_values_select_one_file_per_region_after_the_f_files() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/values/openshift-8.8");
        let mut r = req("both");
        r.values = vec!["values-base.yml".into()];
        r.region_values = vec![
            "region0=values-region-1.yml".into(),
            "region1=values-region-2.yml".into(),
        ];
        let p = plan(&r, &docs_env(), &dir).expect("plan");
        assert_eq!(
            p.regions[1].values_files,
            [
                Path::new("values-base.yml"),
                Path::new("values-region-2.yml")
            ]
        );
        r.region_values.pop();
        let err = plan(&r, &docs_env(), &dir).expect_err("region1 missing");
        assert!(err.to_string().contains("no file for region1"), "{err}");
        r.region_values = vec!["nonsense".into()];
        assert_eq!(
            plan(&r, &docs_env(), &dir)
                .map(|_| ())
                .map_err(|e| e.exit_code()),
            Err(2)
        );
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        let mut r = req("surviving");
        r.timeout = Some("ten minutes".into());
        assert!(plan(&r, &docs_env(), &eks_dir()).is_err());
        assert!("region2".parse::<Target>().is_err());
        let missing =
            plan(&req("surviving"), &docs_env(), Path::new("/nonexistent")).expect_err("no values");
        assert_eq!(missing.exit_code(), 2);
        assert!(
            missing
                .to_string()
                .starts_with("camunda-values.yml: no such values file"),
            "{missing}"
        );
        for ok in ["10m", "600s", "1h30m", "1.5h"] {
            assert!(parse_go_duration(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn empty_flags_are_refused_by_name() {
        for (flag, set) in [
            (
                "--chart",
                (|r: &mut RedeployRequest| r.chart = Some(String::new()))
                    as fn(&mut RedeployRequest),
            ),
            ("--version", |r| r.version = Some(" ".into())),
            ("--release", |r| r.release = Some(String::new())),
        ] {
            let mut r = req("surviving");
            set(&mut r);
            let err = plan(&r, &docs_env(), &eks_dir()).expect_err(flag);
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.to_string().starts_with(&format!("{flag} is empty")),
                "{err}"
            );
        }
    }

    #[test]
    fn extra_args_that_override_the_region_or_the_overlay_are_refused() {
        for bad in [
            &["--kube-context", "region0"][..],
            &["--kube-context=region0"],
            &["--namespace", "x"],
            &["--namespace=x"],
            &["-n", "x"],
            &["-nx"],
            &["-n=x"],
            &["-in", "x"],
            &["--kubeconfig", "/k"],
            &["--kube-apiserver=https://x"],
            &["-f", "late.yaml"],
            &["--values=late.yaml"],
            &["-if", "late.yaml"],
            &["--version", "1.0.0"],
            &["--set", "orchestration.env[0].name=X"],
            &["--set", "a=b,orchestration.profiles.operate=true"],
            &["--set-string=orchestration.env=x"],
            &["--atomic", "--set-json", "orchestration.profiles={}"],
        ] {
            let extra: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            let err = check_extra_args(&extra).expect_err(&format!("{bad:?}"));
            assert_eq!(err.exit_code(), 2);
            let mut r = req("surviving");
            r.extra_args = extra;
            assert!(plan(&r, &docs_env(), &eks_dir()).is_err(), "{bad:?}");
        }
        for refused in [
            vec![
                "--set".to_string(),
                "orchestration.env[2].value=hunter2".to_string(),
            ],
            vec!["--set-string=orchestration.env[2].value=hunter2".to_string()],
        ] {
            let err = check_extra_args(&refused).expect_err("refused");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(
                err.to_string().contains("orchestration.env[2].value"),
                "{err}"
            );
        }
        for good in [
            &["--atomic", "--set", "orchestration.resources.limits.cpu=2"][..],
            &["--set", "orchestration.environment=x"],
            &["--timeout=5m", "--wait-for-jobs", "-i"],
            &["--description", "failback"],
        ] {
            let extra: Vec<String> = good.iter().map(|s| s.to_string()).collect();
            assert!(check_extra_args(&extra).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn helm_kube_context_naming_no_targeted_region_is_refused() {
        let env = docs_env_with(&[("HELM_KUBECONTEXT", "ctx-b")]);
        let err = plan(&req("surviving"), &env, &eks_dir()).expect_err("names region1");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("region0 = context ctx-a"), "{err}");
        assert!(plan(&req("both"), &env, &eks_dir()).is_ok());
        assert!(plan(&req("recreated"), &env, &eks_dir()).is_ok());
    }

    #[test]
    fn a_failing_region_passes_its_exit_code_through_by_name() {
        let p = plan(&req("both"), &docs_env(), &eks_dir()).expect("plan");
        let mut report = p.dry_run().expect("dry run");
        assert!(report.error().is_none());
        report.regions[1].exit_code = Some(3);
        report.regions[1].output = "Error: UPGRADE FAILED: boom\n".into();
        let err = report.error().expect("failed");
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("region1"), "{err}");
        assert!(err.to_string().contains("boom"), "{err}");
    }

    const OLD: &str = "spring:\n  profiles:\n    active: \"broker,identity,operate,tasklist,consolidated-auth\"\n";
    const NEW: &str = "spring:\n  profiles:\n    active: \"identity,consolidated-auth,broker\"\n";

    fn no_webapps() -> std::collections::BTreeSet<String> {
        ["broker", "identity", "consolidated-auth"]
            .map(String::from)
            .into_iter()
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn verification_waits_until_the_profiles_match_as_a_set() {
        let mut n = 0;
        let fetch = || {
            n += 1;
            let k = n;
            async move {
                Ok(match k {
                    1 => None,
                    2 | 3 => Some(OLD.to_string()),
                    _ => Some(NEW.to_string()),
                })
            }
        };
        let (result, seen) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(60)).await;
        assert!(result.is_ok());
        assert_eq!(seen, Some(no_webapps()));
    }

    #[tokio::test(start_paused = true)]
    async fn verification_times_out_with_what_it_saw() {
        let fetch = || async { Ok(Some(OLD.to_string())) };
        let (result, seen) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(5)).await;
        let err = result.expect_err("times out");
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains("operate"), "{err}");
        assert_eq!(seen.map(|s| s.len()), Some(5));
        let fetch = || async { Err(Error::unreachable("api", "connection refused")) };
        let (result, _) = wait_for_profiles(fetch, &no_webapps(), Duration::from_secs(5)).await;
        assert_eq!(result.map_err(|e| e.exit_code()), Err(5));
    }

    #[test]
    fn the_plan_knows_which_profiles_to_expect() {
        let mut r = req("recreated");
        r.overlay.no_webapps = true;
        let p = plan(&r, &docs_env(), &eks_dir()).expect("plan");
        assert_eq!(
            p.regions[0].expected_profiles,
            ["broker", "consolidated-auth", "identity"]
        );
        assert_eq!(
            crate::chart::unified_configmap("camunda"),
            "camunda-zeebe-configuration-unified"
        );
    }
}
