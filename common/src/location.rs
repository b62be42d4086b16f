//! Where a region lives: flags and environment → kube context, namespace and region id. The one
//! implementation behind both plugins (`kubectl c8dr --region/--context/--namespace` and
//! `helm c8dr --region/--surviving-context/...`) and behind a command that reaches the other
//! region ([`locate`]).
//!
//! Precedence (docs/contract.md §2): flags, then the docs' variables (`CLUSTER_SURVIVING`,
//! `CAMUNDA_NAMESPACE_SURVIVING`, `REGION_SURVIVING`, the same for `RECREATED`, and the index
//! variables `CLUSTER_0/1`, `CAMUNDA_NAMESPACE_0/1`), then what the kubeconfig says. The plugins
//! differ only in that last step, because of what they do with the answer:
//! - kubectl c8dr leaves an unset context/namespace unset; kube-rs applies the kubeconfig's
//!   current context and its namespace (else `default`) when it connects, as kubectl does.
//! - helm c8dr passes the names to `helm upgrade`, so it needs them up front: for the surviving
//!   region it takes helm's own `--kube-context`/`-n` (they reach a plugin only as
//!   `HELM_KUBECONTEXT`/`HELM_NAMESPACE`), else the kubeconfig's current context and namespace.

use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

use crate::config::Env;
use crate::error::{Error, Result};
use crate::region::{RegionId, RegionRef};

/// Where a region lives: its kube context and namespace (None = kubeconfig's current ones).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionLocation {
    pub id: Option<RegionId>,
    /// `Surviving` or `Recreated` when the environment (or the reference itself) says which
    /// side of the procedure the region is on; `None` otherwise.
    pub side: Option<RegionRef>,
    pub context: Option<String>,
    /// Where the context came from (a flag, a variable, the kubeconfig), for messages.
    pub context_source: Option<String>,
    pub namespace: Option<String>,
}

/// A context and a namespace given as flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// The location flags of a command line.
#[derive(Debug, Clone, Default)]
pub struct LocationFlags {
    /// `kubectl c8dr --context/--namespace`: the targeted region, whichever side it is on.
    pub target: Flags,
    /// `helm c8dr --surviving-context/--surviving-namespace`.
    pub surviving: Flags,
    /// `helm c8dr --recreated-context/--recreated-namespace`.
    pub recreated: Flags,
}

impl LocationFlags {
    /// kubectl c8dr's flags: they name the targeted region.
    pub fn target(context: Option<String>, namespace: Option<String>) -> Self {
        Self {
            target: Flags { context, namespace },
            ..Default::default()
        }
    }

    /// Every namespace flag is a valid namespace, named as the plugin spells the flag.
    fn check(&self, plugin: Plugin) -> Result<()> {
        let target = match plugin {
            Plugin::Kubectl => "--namespace",
            Plugin::Helm => "-n/--namespace",
        };
        for (flag, ns) in [
            (target, &self.target.namespace),
            ("--surviving-namespace", &self.surviving.namespace),
            ("--recreated-namespace", &self.recreated.namespace),
        ] {
            if let Some(ns) = ns {
                check_namespace(flag, ns)?;
            }
        }
        Ok(())
    }

    /// The flags that apply to a region on `side`: the target's, then the side's own; and the
    /// name of the flag the context comes from.
    fn for_side(&self, side: Option<RegionRef>, plugin: Plugin) -> (Flags, &'static str) {
        let (own, own_flag) = match side {
            Some(RegionRef::Surviving) => (self.surviving.clone(), "--surviving-context"),
            Some(RegionRef::Recreated) => (self.recreated.clone(), "--recreated-context"),
            _ => (Flags::default(), ""),
        };
        let context_flag = match (&self.target.context, plugin) {
            (Some(_), Plugin::Kubectl) => "--context",
            (Some(_), Plugin::Helm) => "--kube-context",
            (None, _) => own_flag,
        };
        (
            Flags {
                context: self.target.context.clone().or(own.context),
                namespace: self.target.namespace.clone().or(own.namespace),
            },
            context_flag,
        )
    }
}

/// Which plugin resolves: see the module documentation for the one step where they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    Kubectl,
    Helm,
}

impl Plugin {
    fn no_recreated_context(self) -> Error {
        Error::usage(match self {
            Self::Kubectl => {
                "the recreated region has no kube context: set CLUSTER_RECREATED (and \
                 CAMUNDA_NAMESPACE_RECREATED) or CLUSTER_0/CLUSTER_1 with REGION_RECREATED, or \
                 pass the context flag"
            }
            Self::Helm => {
                "the recreated region has no kube context: pass --recreated-context (and \
                 --recreated-namespace) or set CLUSTER_RECREATED and CAMUNDA_NAMESPACE_RECREATED"
            }
        })
    }
}

/// Resolve a region from the environment alone (no flags): what a command uses to reach the
/// other region. The recreated region must have a context.
pub fn locate(region: RegionRef, env: &Env) -> Result<RegionLocation> {
    resolve(region, &LocationFlags::default(), env, Plugin::Kubectl)
}

/// Resolve a region: flags, then the docs' variables, then (helm) helm's variables and the
/// kubeconfig. A recreated region without any context is bad input (exit 2): c8dr never guesses
/// which cluster replaced the lost one.
pub fn resolve(
    region: RegionRef,
    flags: &LocationFlags,
    env: &Env,
    plugin: Plugin,
) -> Result<RegionLocation> {
    flags.check(plugin)?;
    if plugin == Plugin::Helm {
        // helm's own -n reaches a plugin as HELM_NAMESPACE: bad input even when not needed.
        namespace_var(env, "HELM_NAMESPACE")?;
    }
    let mut loc = from_env(region, env)?;
    let (flags, context_flag) = flags.for_side(loc.side, plugin);
    if flags.context.is_some() {
        loc.context_source = Some(context_flag.to_string());
    }
    loc.context = flags.context.or(loc.context);
    loc.namespace = flags.namespace.or(loc.namespace);
    if region == RegionRef::Recreated && loc.context.is_none() {
        return Err(plugin.no_recreated_context());
    }
    if plugin == Plugin::Helm && loc.side == Some(RegionRef::Surviving) {
        helm_defaults(env, &mut loc)?;
    }
    Ok(loc)
}

/// Where the region of `context` is, by the docs' variables alone: of the surviving, the
/// recreated, region 0 and region 1, one whose context it is, one with a region id if any has it.
pub fn located_context(context: &str, env: &Env) -> Option<RegionLocation> {
    with_context(context, env)
        // A side without REGION_* names no id; the index variables do.
        .max_by_key(|l| l.id.is_some())
}

/// The region a command targets when `--context` names a context and no `--region` is given:
/// the region whose docs' variables name that context (by its id when they give one), as
/// kubectl users expect `--context` to choose the cluster. None: the variables do not name it.
pub fn region_of_context(context: &str, env: &Env) -> Option<RegionRef> {
    located_context(context, env).and_then(|l| l.id.map(RegionRef::Index).or(l.side))
}

/// Every side and index whose docs' variables name `context`.
fn with_context<'a>(context: &'a str, env: &'a Env) -> impl Iterator<Item = RegionLocation> + 'a {
    EVERY_REF
        .into_iter()
        .filter_map(|r| from_env(r, env).ok())
        .filter(move |l| l.context.as_deref() == Some(context))
}

/// Both sides and both indexes: every way the docs' variables name a region.
const EVERY_REF: [RegionRef; 4] = [
    RegionRef::Surviving,
    RegionRef::Recreated,
    RegionRef::Index(RegionId::ZERO),
    RegionRef::Index(RegionId::ONE),
];

/// Whether two locations are known to be different regions: different ids, else different sides.
fn different_regions(a: &RegionLocation, b: &RegionLocation) -> bool {
    match (a.id, b.id) {
        (Some(x), Some(y)) => x != y,
        _ => matches!(
            (a.side, b.side),
            (Some(RegionRef::Surviving), Some(RegionRef::Recreated))
                | (Some(RegionRef::Recreated), Some(RegionRef::Surviving))
        ),
    }
}

/// Two regions that resolve to one cluster are bad input, found before any call: the same
/// context, or two contexts on the same API server URL. A command that reads "the other region"
/// would otherwise read the region it stands in (pods listed in the wrong cluster count as
/// evidence). `located` are the regions a command resolved (with its flags); every region the
/// environment locates is compared with them and with each other. Also refuses a kubeconfig file
/// kubectl refuses ([`crate::kube::kubeconfig::Loaded::check_duplicates`]).
pub fn check_distinct(
    located: &[RegionLocation],
    kubeconfig: Option<&Path>,
    env: &Env,
) -> Result<()> {
    let loaded = crate::kube::kubeconfig::Loaded::read(kubeconfig, env)?;
    loaded.check_duplicates()?;
    // (location, whether it talks to the current context when it names none): the command's own
    // regions do; of the regions the environment locates, only the surviving one does (the
    // others without a context are refused by whatever needs them).
    let mut all: Vec<(RegionLocation, bool)> = located.iter().map(|l| (l.clone(), true)).collect();
    for region in EVERY_REF {
        // A region the environment cannot locate is reported by the command that needs it.
        if let Ok(l) = locate(region, env) {
            let current = l.side == Some(RegionRef::Surviving);
            all.push((l, current));
        }
    }
    let current = loaded.current_context();
    let effective = |(l, uses_current): &(RegionLocation, bool)| -> Option<(String, String)> {
        match (&l.context, &l.context_source) {
            (Some(c), Some(s)) => Some((c.clone(), s.clone())),
            (Some(c), None) => Some((c.clone(), "the context".into())),
            (None, _) if *uses_current => {
                current.map(|c| (c.to_string(), "the kubeconfig's current-context".into()))
            }
            (None, _) => None,
        }
    };
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            if !different_regions(&a.0, &b.0) {
                continue;
            }
            let (Some((ca, sa)), Some((cb, sb))) = (effective(a), effective(b)) else {
                continue;
            };
            if ca == cb {
                return Err(Error::usage(format!(
                    "{sa} and {sb} both name context {}: two regions cannot be one cluster \
                     (each region variable must name its own region's context)",
                    crate::error::shown(&ca)
                )));
            }
            if let (Some(x), Some(y)) = (loaded.server_of(&ca), loaded.server_of(&cb))
                && same_server(&x, &y)
            {
                return Err(Error::usage(format!(
                    "{sa} (context {}) and {sb} (context {}) point at the same API server {}: \
                     two regions cannot be one cluster",
                    crate::error::shown(&ca),
                    crate::error::shown(&cb),
                    crate::error::shown(&x)
                )));
            }
        }
    }
    Ok(())
}

/// Whether two API server URLs name one server, as far as their text tells: scheme, host
/// (case, a trailing dot, `localhost` and the loopback addresses, an IPv4-mapped IPv6 address),
/// the port with its default, and the path (proxies such as Rancher's route clusters by path).
/// Names that DNS resolves to one address are not looked up (a lookup could hang on the lost
/// region's DNS); the regions' own answers catch those later (docs/contract.md §4 rule 2b).
pub fn same_server(a: &str, b: &str) -> bool {
    a == b || matches!((server_key(a), server_key(b)), (Some(x), Some(y)) if x == y)
}

fn server_key(raw: &str) -> Option<(String, String, u16, String)> {
    use std::net::IpAddr;
    let url = url::Url::parse(raw.trim()).ok()?;
    let loopback = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let host = match url.host()? {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" {
                "loopback".to_string()
            } else {
                d
            }
        }
        url::Host::Ipv4(ip) => match loopback(IpAddr::V4(ip)) {
            ip if ip == IpAddr::from([127, 0, 0, 1]) => "loopback".to_string(),
            ip => ip.to_string(),
        },
        url::Host::Ipv6(ip) => match loopback(IpAddr::V6(ip)) {
            ip if ip == IpAddr::from([127, 0, 0, 1]) || ip.is_loopback() => "loopback".to_string(),
            ip => ip.to_string(),
        },
    };
    Some((
        url.scheme().to_string(),
        host,
        url.port_or_known_default()?,
        url.path().trim_end_matches('/').to_string(),
    ))
}

/// Which region id the docs' `REGION_SURVIVING`/`REGION_RECREATED` name for a side, if any
/// (the other side's variable names the other region).
pub fn side_id(env: &Env, side: RegionRef) -> Result<Option<RegionId>> {
    let (own, other) = match side {
        RegionRef::Recreated => ("REGION_RECREATED", "REGION_SURVIVING"),
        _ => ("REGION_SURVIVING", "REGION_RECREATED"),
    };
    if let (Some(a), Some(b)) = (env.get(own), env.get(other))
        && a == b
    {
        return Err(Error::usage(format!(
            "{own}={} and {other}={} name the same region: one region survives, the other is recreated",
            crate::error::shown(a),
            crate::error::shown(b)
        )));
    }
    if let Some(v) = env.get(own) {
        return v.parse().map(Some).map_err(|_| {
            Error::usage(format!(
                "{own}={}: expected region0 or region1",
                crate::error::shown(v)
            ))
        });
    }
    match env.get(other) {
        Some(v) => v.parse::<RegionId>().map(|r| Some(r.other())).map_err(|_| {
            Error::usage(format!(
                "{other}={}: expected region0 or region1",
                crate::error::shown(v)
            ))
        }),
        None => Ok(None),
    }
}

/// A namespace must be a DNS-1123 label of at most 63 characters (k8s.io/apimachinery
/// `ValidateNamespaceName`): checked before any call, naming the flag or variable it came from,
/// since it goes into kube API paths and helm's argv.
pub fn check_namespace(source: &str, namespace: &str) -> Result<()> {
    if namespace.len() <= 63 && crate::chart::dns1123_label(namespace) {
        return Ok(());
    }
    let namespace = crate::error::shown(namespace);
    Err(Error::usage(format!(
        "{source} {namespace}: not a valid Kubernetes namespace (lowercase letters, digits and \
         '-', starting and ending with a letter or digit, at most 63 characters)"
    )))
}

/// A namespace variable, checked.
fn namespace_var(env: &Env, var: &str) -> Result<Option<String>> {
    env.get(var)
        .map(|ns| check_namespace(var, ns).map(|()| ns.to_string()))
        .transpose()
}

/// A context and the variable it came from.
type Sourced = Option<(String, String)>;

fn context_var(env: &Env, var: String) -> Sourced {
    env.get(&var).map(|c| (c.to_string(), var))
}

/// `CLUSTER_<i>` and `CAMUNDA_NAMESPACE_<i>`.
fn by_index(env: &Env, id: RegionId) -> Result<(Sourced, Option<String>)> {
    let i = id.index();
    Ok((
        context_var(env, format!("CLUSTER_{i}")),
        namespace_var(env, &format!("CAMUNDA_NAMESPACE_{i}"))?,
    ))
}

/// `CLUSTER_<SIDE>` and `CAMUNDA_NAMESPACE_<SIDE>`.
fn by_side(env: &Env, side: RegionRef) -> Result<(Sourced, Option<String>)> {
    let side = match side {
        RegionRef::Recreated => "RECREATED",
        _ => "SURVIVING",
    };
    Ok((
        context_var(env, format!("CLUSTER_{side}")),
        namespace_var(env, &format!("CAMUNDA_NAMESPACE_{side}"))?,
    ))
}

/// The docs' variables: a side's own variables first, then the index variables of the region the
/// side names; an index's own variables first, then those of the side that names it.
fn from_env(region: RegionRef, env: &Env) -> Result<RegionLocation> {
    match region {
        RegionRef::Index(id) => {
            let (context, namespace) = by_index(env, id)?;
            let side = if side_id(env, RegionRef::Surviving)? == Some(id) {
                Some(RegionRef::Surviving)
            } else if side_id(env, RegionRef::Recreated)? == Some(id) {
                Some(RegionRef::Recreated)
            } else {
                None
            };
            let (sc, sn) = match side {
                Some(s) => by_side(env, s)?,
                None => Default::default(),
            };
            let context = context.or(sc);
            Ok(RegionLocation {
                id: Some(id),
                side,
                context_source: context.as_ref().map(|(_, s)| s.clone()),
                context: context.map(|(c, _)| c),
                namespace: namespace.or(sn),
            })
        }
        side => {
            let id = side_id(env, side)?;
            let (mut context, mut namespace) = by_side(env, side)?;
            if let Some(id) = id {
                let (ic, ins) = by_index(env, id)?;
                context = context.or(ic);
                namespace = namespace.or(ins);
            }
            Ok(RegionLocation {
                id,
                side: Some(side),
                context_source: context.as_ref().map(|(_, s)| s.clone()),
                context: context.map(|(c, _)| c),
                namespace,
            })
        }
    }
}

/// helm's last resort for the surviving region: `helm --kube-context`/`-n` (HELM_KUBECONTEXT,
/// HELM_NAMESPACE), else the kubeconfig's current context and, when that is the context used,
/// its namespace.
fn helm_defaults(env: &Env, loc: &mut RegionLocation) -> Result<()> {
    if loc.context.is_none() {
        loc.context = env.get("HELM_KUBECONTEXT").map(String::from);
        loc.context_source = loc.context.as_ref().map(|_| "HELM_KUBECONTEXT".into());
    }
    let current = current_context(env);
    if loc.context.is_none() {
        loc.context = current.as_ref().map(|(c, _)| c.clone());
        loc.context_source = loc
            .context
            .as_ref()
            .map(|_| "the kubeconfig's current-context".into());
    }
    if loc.namespace.is_none() {
        loc.namespace = namespace_var(env, "HELM_NAMESPACE")?.or_else(|| {
            current
                .filter(|(c, _)| Some(c) == loc.context.as_ref())
                .and_then(|(_, ns)| ns)
        });
    }
    Ok(())
}

/// The kubeconfig files kubectl reads: `$KUBECONFIG` (a list), else `~/.kube/config`.
fn kubeconfig_paths(env: &Env) -> Vec<PathBuf> {
    crate::kube::kubeconfig::files(None, env).0
}

/// Before anything is handed to a tool that would only fail later (helm), check that `context`
/// is in the kubeconfig kubectl would read, naming where the context came from (`source`: a flag,
/// a variable) and which file could not be read. A missing file of a `KUBECONFIG` list is
/// skipped, as kubectl skips it; a file that exists but does not parse is bad input.
pub fn check_context(context: &str, source: &str, env: &Env) -> Result<()> {
    let shown_context = crate::error::shown(context);
    let paths = kubeconfig_paths(env);
    let var = if env.get("KUBECONFIG").is_some() {
        "KUBECONFIG"
    } else {
        "the kubeconfig"
    };
    let mut found_file = false;
    for path in &paths {
        if !path.exists() {
            continue;
        }
        found_file = true;
        crate::kube::kubeconfig::check_file(path, var)?;
        let config = Kubeconfig::read_from(path).map_err(|e| {
            let detail = e.to_string();
            let first = detail.lines().next().unwrap_or_default().to_string();
            Error::usage(format!(
                "{var} {}: not a kubeconfig ({first})",
                path.display()
            ))
        })?;
        if config.contexts.iter().any(|c| c.name == context) {
            return Ok(());
        }
    }
    let files = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if paths.is_empty() {
        return Err(Error::usage(format!(
            "no kubeconfig: set KUBECONFIG (or HOME for ~/.kube/config), needed for {source} {shown_context}"
        )));
    }
    if !found_file {
        return Err(Error::usage(format!(
            "{var} {files:?}: no kubeconfig file found (needed for {source} {shown_context})"
        )));
    }
    Err(Error::usage(format!(
        "{source} {shown_context}: no such context in {var} ({files})"
    )))
}

/// Every context of the kubeconfig kubectl would read (`$KUBECONFIG`'s files, else
/// `~/.kube/config`) with the namespace it names, for shell completion: files that cannot be read
/// are skipped, a context named twice is listed once (the first file wins, as in kubectl).
pub fn kubeconfig_contexts(env: &Env) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for config in kubeconfig_paths(env)
        .iter()
        .filter_map(|p| crate::kube::kubeconfig::read_if_usable(p))
    {
        for c in config.contexts {
            if !out.iter().any(|(name, _)| *name == c.name) {
                out.push((c.name, c.context.and_then(|c| c.namespace)));
            }
        }
    }
    out
}

/// The kubeconfig's current context and that context's namespace, as kubectl finds them:
/// `$KUBECONFIG` (a list of files; the first that sets a value wins), else `~/.kube/config`.
/// Files are read with kube-rs ([`Kubeconfig::read_from`]); a file that cannot be read counts as
/// absent, as kubectl skips missing files of the list.
pub fn current_context(env: &Env) -> Option<(String, Option<String>)> {
    let paths = kubeconfig_paths(env);
    let configs: Vec<Kubeconfig> = paths
        .iter()
        .filter_map(|p| crate::kube::kubeconfig::read_if_usable(p))
        .collect();
    let name = configs
        .iter()
        .find_map(|c| c.current_context.clone().filter(|s| !s.is_empty()))?;
    let namespace = configs.iter().find_map(|c| {
        c.contexts
            .iter()
            .find(|n| n.name == name)?
            .context
            .as_ref()?
            .namespace
            .clone()
    });
    Some((name, namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_spelled_two_ways_is_one_server() {
        for (a, b) in [
            ("http://127.0.0.1:6443/", "http://localhost:6443"),
            ("https://127.0.0.1", "https://[::ffff:127.0.0.1]:443/"),
            ("https://[::1]:6443", "https://LOCALHOST.:6443"),
            ("https://API.example.com:443", "https://api.example.com"),
        ] {
            assert!(same_server(a, b), "{a} {b}");
        }
        for (a, b) in [
            ("http://127.0.0.1:6443", "http://127.0.0.1:6444"),
            ("http://127.0.0.1:6443", "https://127.0.0.1:6443"),
            (
                "https://rancher/k8s/clusters/c-1",
                "https://rancher/k8s/clusters/c-2",
            ),
            ("http://127.0.0.2:6443", "http://127.0.0.1:6443"),
        ] {
            assert!(!same_server(a, b), "{a} {b}");
        }
    }

    fn docs_env() -> Env {
        Env::from_pairs([
            ("CLUSTER_SURVIVING", "ctx-a"),
            ("CAMUNDA_NAMESPACE_SURVIVING", "camunda-a"),
            ("REGION_SURVIVING", "region0"),
            ("CLUSTER_RECREATED", "ctx-b"),
            ("CAMUNDA_NAMESPACE_RECREATED", "camunda-b"),
            ("REGION_RECREATED", "region1"),
        ])
    }

    /// Issue 22 item 4: without `--region`, `--context X` chooses the region whose variables name
    /// X; a context they do not name chooses none.
    #[test]
    fn a_context_flag_chooses_the_region_its_variables_name() {
        let env = docs_env();
        assert_eq!(
            region_of_context("ctx-b", &env),
            Some(RegionRef::Index(RegionId::ONE))
        );
        assert_eq!(region_of_context("elsewhere", &env), None);
    }

    #[test]
    fn surviving_and_recreated_come_from_the_docs_variables() {
        let env = docs_env();
        let s = locate(RegionRef::Surviving, &env).ok();
        assert_eq!(
            s,
            Some(RegionLocation {
                id: Some(RegionId::ZERO),
                side: Some(RegionRef::Surviving),
                context: Some("ctx-a".into()),
                context_source: Some("CLUSTER_SURVIVING".into()),
                namespace: Some("camunda-a".into())
            })
        );
        let r = locate(RegionRef::Recreated, &env)
            .ok()
            .and_then(|l| l.context);
        assert_eq!(r.as_deref(), Some("ctx-b"));
    }

    #[test]
    fn an_index_falls_back_to_the_side_that_names_it() {
        let l = locate(RegionRef::Index(RegionId::ONE), &docs_env()).ok();
        assert_eq!(l.as_ref().and_then(|l| l.side), Some(RegionRef::Recreated));
        assert_eq!(l.and_then(|l| l.namespace).as_deref(), Some("camunda-b"));
    }

    #[test]
    fn index_variables_serve_the_sides_when_only_region_names_are_given() {
        let env = Env::from_pairs([
            ("CLUSTER_0", "c0"),
            ("CAMUNDA_NAMESPACE_0", "n0"),
            ("CLUSTER_1", "c1"),
            ("CAMUNDA_NAMESPACE_1", "n1"),
            ("REGION_SURVIVING", "region1"),
        ]);
        let s = locate(RegionRef::Surviving, &env).ok();
        assert_eq!(s.as_ref().and_then(|l| l.context.as_deref()), Some("c1"));
        let r = locate(RegionRef::Recreated, &env).ok();
        assert_eq!(r.as_ref().and_then(|l| l.id), Some(RegionId::ZERO));
        assert_eq!(r.and_then(|l| l.namespace).as_deref(), Some("n0"));
    }

    #[test]
    fn a_recreated_region_without_context_is_a_usage_error_in_each_plugins_words() {
        let err = locate(RegionRef::Recreated, &Env::default()).err();
        assert_eq!(err.as_ref().map(|e| e.exit_code()), Some(2));
        assert!(
            err.is_some_and(|e| e.to_string().ends_with("or pass the context flag")),
            "kubectl's words"
        );
        let err = resolve(
            RegionRef::Recreated,
            &LocationFlags::default(),
            &Env::default(),
            Plugin::Helm,
        )
        .expect_err("no context");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--recreated-context"), "{err}");
    }

    #[test]
    fn a_context_flag_locates_a_recreated_region_without_its_variables() {
        let env = Env::from_pairs([
            ("REGION_SURVIVING", "region0"),
            ("CAMUNDA_NAMESPACE_1", "n1"),
        ]);
        for (flags, plugin) in [
            (
                LocationFlags::target(Some("flag-ctx".into()), None),
                Plugin::Kubectl,
            ),
            (
                LocationFlags {
                    recreated: Flags {
                        context: Some("flag-ctx".into()),
                        namespace: None,
                    },
                    ..Default::default()
                },
                Plugin::Helm,
            ),
        ] {
            let l = resolve(RegionRef::Recreated, &flags, &env, plugin).expect("located");
            assert_eq!(l.context.as_deref(), Some("flag-ctx"), "{plugin:?}");
            assert_eq!(l.namespace.as_deref(), Some("n1"), "{plugin:?}");
            assert_eq!(l.id, Some(RegionId::ONE), "{plugin:?}");
        }
    }

    #[test]
    fn the_surviving_region_defaults_to_the_current_context() {
        assert_eq!(
            locate(RegionRef::Surviving, &Env::default()).ok(),
            Some(RegionLocation {
                side: Some(RegionRef::Surviving),
                ..Default::default()
            })
        );
    }

    #[test]
    fn the_current_context_comes_from_the_first_kubeconfig_that_sets_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        std::fs::write(
            &first,
            "apiVersion: v1\ncontexts:\n- name: cur\n  context:\n    cluster: c\n    namespace: first-ns\n",
        )
        .expect("write");
        std::fs::write(
            &second,
            "apiVersion: v1\ncurrent-context: cur\ncontexts:\n- name: cur\n  context:\n    cluster: c\n    namespace: second-ns\n",
        )
        .expect("write");
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &first, &second]).expect("join");
        let env = Env::from_pairs([("KUBECONFIG", list.to_string_lossy().to_string())]);
        assert_eq!(
            current_context(&env),
            Some(("cur".to_string(), Some("first-ns".to_string())))
        );
        let env = Env::from_pairs([("HOME", dir.path().display().to_string())]);
        assert_eq!(current_context(&env), None, "no ~/.kube/config");
    }
}
