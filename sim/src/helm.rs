//! The helm stand-in (`c8dr-sim-helm`) and its effect on the simulated world.
//!
//! The stand-in behaves as `helm upgrade --install` would against a simulated region: it parses
//! helm's argv, records it (and copies of every `-f` file, which may be temporary) for the tests,
//! merges the values with Helm's semantics, finds the region's API server through the kubeconfig
//! context as helm does, and POSTs the result to `<server>/c8dr-sim/helm/apply`. The simulator
//! applies it with [`apply_release`]. This module does not depend on c8dr-common on purpose: the
//! merge here is an independent implementation to test the product's against.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::world::{HelmRelease, RegionId, World};

/// The variable whose value `"false"` keeps the schema manager from creating indices.
pub const SCHEMA_MANAGER_VAR: &str = "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA";

/// The chart's `orchestration.profiles` defaults (camunda-platform 13.x).
const DEFAULT_PROFILES: [&str; 4] = ["broker", "identity", "operate", "tasklist"];

/// The path the stand-in POSTs to on the region's API server.
pub const APPLY_PATH: &str = "/c8dr-sim/helm/apply";

/// Apply an `upgrade --install` with the merged `values` to `region`: bump the revision, render
/// the profiles and the schema-manager setting; a fresh install whose schema manager is not
/// disabled seeds the region's Elasticsearch with the Camunda indices.
pub fn apply_release(world: &mut World, region: RegionId, values: Value) {
    let r = &mut world.regions[region];
    let fresh = r.release.is_none();
    let revision = r.release.as_ref().map(|h| h.revision).unwrap_or(0) + 1;
    r.profiles = enabled_profiles(&values);
    r.schema_manager_disabled = schema_manager_disabled(&values);
    let seed = fresh && !r.schema_manager_disabled;
    r.release = Some(HelmRelease { revision, values });
    if seed {
        r.es.seed_schema();
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `orchestration.profiles` that are true over the chart defaults, sorted.
pub fn enabled_profiles(values: &Value) -> Vec<String> {
    let mut profiles: Map<String, Value> = DEFAULT_PROFILES
        .iter()
        .map(|p| (p.to_string(), Value::Bool(true)))
        .collect();
    if let Some(Value::Object(user)) = values.pointer("/orchestration/profiles") {
        for (k, v) in user {
            profiles.insert(k.clone(), v.clone());
        }
    }
    let mut on: Vec<String> = profiles
        .into_iter()
        .filter(|(_, v)| as_bool(v) == Some(true))
        .map(|(k, _)| k)
        .collect();
    on.sort();
    on
}

/// Whether `orchestration.env` holds the schema-manager variable with value `"false"`.
pub fn schema_manager_disabled(values: &Value) -> bool {
    values
        .pointer("/orchestration/env")
        .and_then(Value::as_array)
        .is_some_and(|env| {
            env.iter().any(|e| {
                e.get("name").and_then(Value::as_str) == Some(SCHEMA_MANAGER_VAR)
                    && e.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
            })
        })
}

/// The helm stand-in's channel into a running simulator: `POST /c8dr-sim/helm/apply` on the
/// region's fake Kubernetes API server (the stand-in finds it through the kube context, as helm
/// would). Body: `{namespace, release, values, argv}`.
pub fn handle_http(
    world: &crate::world::SharedWorld,
    region: RegionId,
    req: &crate::http::SimRequest,
) -> hyper::Response<crate::http::Body> {
    if req.method != "POST" || req.path != APPLY_PATH {
        return crate::http::json(
            404,
            &json!({"message": format!("no helm stand-in endpoint {} {}", req.method, req.path)}),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return crate::http::json(400, &json!({"message": format!("bad body: {e}")})),
    };
    let namespace = body["namespace"].as_str().unwrap_or_default();
    let release = body["release"].as_str().unwrap_or_default();
    let mut w = world.lock();
    if namespace != w.regions[region].namespace {
        return crate::http::json(
            404,
            &json!({"message": format!("create: failed to create: namespaces \"{namespace}\" not found")}),
        );
    }
    if release != w.cfg.release {
        return crate::http::json(
            400,
            &json!({"message": format!(
                "the simulator runs release \"{}\", not \"{release}\"", w.cfg.release
            )}),
        );
    }
    if w.faults.helm_fails_region == Some(region) {
        // Fault `helm_fails_region`: another helm operation holds the release (helm/helm v3.17.0
        // pkg/action/upgrade.go `errPending`); nothing is applied.
        return crate::http::json(
            409,
            &json!({"message": "another operation (install/upgrade/rollback) is in progress"}),
        );
    }
    let installed = w.regions[region].release.is_some();
    apply_release(&mut w, region, body["values"].clone());
    let r = &w.regions[region];
    crate::http::json(
        200,
        &json!({
            "installed": !installed,
            "revision": r.release.as_ref().map(|h| h.revision),
            "profiles": r.profiles,
            "schemaManagerDisabled": r.schema_manager_disabled,
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// The stand-in's command line.

/// A parsed `helm upgrade --install` command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpgradeArgs {
    pub release: String,
    pub chart: String,
    pub kube_context: Option<String>,
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub version: Option<String>,
    pub wait: bool,
    pub timeout: Option<String>,
    /// `--debug` (HELM_DEBUG is read in `upgrade`).
    pub debug: bool,
}

/// Boolean flags of `helm upgrade` that the stand-in accepts and ignores.
const IGNORED_BOOL_FLAGS: &[&str] = &[
    "--atomic",
    "--rollback-on-failure",
    "--wait-for-jobs",
    "--create-namespace",
    "--reset-values",
    "--force",
    "--no-hooks",
    "--skip-crds",
    "--devel",
];

/// Shorthand flags of `helm upgrade` and whether they take a value (`-i` --install, `-h`
/// --help; `-n` --namespace, `-f` --values, `-o` --output).
const SHORTHANDS: &[(char, bool)] = &[
    ('i', false),
    ('h', false),
    ('n', true),
    ('f', true),
    ('o', true),
];

/// Split pflag shorthand clusters as spf13/pflag `parseShortArg`/`parseSingleShortArg` do
/// (flag.go): `-nfoo` and `-n=foo` are `-n foo`, `-in foo` is `-i -n foo`, `-ffile` is
/// `-f file`; a value-taking shorthand takes the rest of the cluster (after an optional `=`).
fn expand_shorthands(args: &[String]) -> Vec<String> {
    let mut out = vec![];
    let mut rest_positional = false;
    for arg in args {
        if rest_positional || arg == "-" || arg.starts_with("--") || !arg.starts_with('-') {
            rest_positional |= arg == "--";
            out.push(arg.clone());
            continue;
        }
        let cluster: Vec<char> = arg.chars().skip(1).collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            match SHORTHANDS.iter().find(|(s, _)| *s == c) {
                Some((_, true)) => {
                    out.push(format!("-{c}"));
                    let mut value: String = cluster[k + 1..].iter().collect();
                    if let Some(v) = value.strip_prefix('=') {
                        value = v.to_string();
                    }
                    if k + 1 < cluster.len() {
                        out.push(value);
                    }
                    break;
                }
                Some((_, false)) => out.push(format!("-{c}")),
                // helm: "unknown shorthand flag: 'x' in -x..."
                None => {
                    out.push(format!("-{c}"));
                    break;
                }
            }
            k += 1;
        }
    }
    out
}

/// Parse `upgrade --install REL CHART [flags]`. Errors read as helm's.
pub fn parse_upgrade(args: &[String]) -> Result<UpgradeArgs, String> {
    let mut out = UpgradeArgs::default();
    let mut positional = vec![];
    let mut install = false;
    let args = &expand_shorthands(args);
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            // pflag: everything after a bare `--` is positional.
            positional.extend(args[i + 1..].iter().cloned());
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let first = i == 0;
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: {name}"))
        };
        match flag {
            "upgrade" if first => {}
            "--install" | "-i" => install = true,
            "--kube-context" => out.kube_context = Some(value(flag)?),
            "--namespace" | "-n" => out.namespace = Some(value(flag)?),
            "-f" | "--values" => out.values.push(PathBuf::from(value(flag)?)),
            "--set" | "--set-string" => out.set.push(value(flag)?),
            "--version" => out.version = Some(value(flag)?),
            "--timeout" => out.timeout = Some(value(flag)?),
            "--wait" => out.wait = true,
            "--debug" => out.debug = true,
            f if IGNORED_BOOL_FLAGS.contains(&f) => {}
            f if f.starts_with('-') => return Err(format!("unknown flag: {f}")),
            _ => positional.push(arg.to_string()),
        }
        i += 1;
    }
    if args.first().map(String::as_str) != Some("upgrade") {
        return Err("the helm stand-in only simulates `upgrade --install` and `version`".into());
    }
    if !install {
        return Err("the helm stand-in only simulates `upgrade --install`".into());
    }
    match positional.as_slice() {
        [release, chart] => {
            out.release = release.clone();
            out.chart = chart.clone();
            Ok(out)
        }
        _ => Err(format!(
            "\"helm upgrade\" requires 2 arguments\n\nUsage:  helm upgrade [RELEASE] [CHART] [flags] (got {})",
            positional.len()
        )),
    }
}

/// Helm's merge of a later `-f` file into the earlier ones: maps deep-merged, lists and scalars
/// replaced, `null` deleting a key.
pub fn merge_values(base: &mut Value, later: Value) {
    let Value::Object(later) = later else {
        if !later.is_null() {
            *base = later;
        }
        return;
    };
    if !base.is_object() {
        *base = Value::Object(Map::new());
    }
    let Value::Object(base) = base else { return };
    for (k, v) in later {
        match v {
            Value::Null => {
                base.remove(&k);
            }
            Value::Object(_) if base.get(&k).is_some_and(Value::is_object) => {
                if let Some(existing) = base.get_mut(&k) {
                    merge_values(existing, v);
                }
            }
            Value::Object(_) => {
                let mut fresh = Value::Object(Map::new());
                merge_values(&mut fresh, v);
                base.insert(k, fresh);
            }
            other => {
                base.insert(k, other);
            }
        }
    }
}

/// Apply one `--set a.b[0].c=v,x=y` argument (typed as helm's strvals: bools and integers).
pub fn apply_set(values: &mut Value, set: &str) -> Result<(), String> {
    for pair in set.split(',') {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| format!("failed parsing --set data: key \"{pair}\" has no value"))?;
        let typed = match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n if n.parse::<i64>().is_ok() => json!(n.parse::<i64>().unwrap_or_default()),
            s => Value::String(s.to_string()),
        };
        let mut node = &mut *values;
        let parts: Vec<&str> = key.split('.').collect();
        for (idx, part) in parts.iter().enumerate() {
            let last = idx + 1 == parts.len();
            let (name, index) =
                match part.split_once('[') {
                    Some((n, rest)) => (
                        n,
                        Some(rest.trim_end_matches(']').parse::<usize>().map_err(|_| {
                            format!("failed parsing --set data: bad index in {key}")
                        })?),
                    ),
                    None => (*part, None),
                };
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(map) = node else {
                return Err(format!("failed parsing --set data: {key}"));
            };
            let entry = map.entry(name.to_string()).or_insert(Value::Null);
            node = match index {
                None if last => {
                    *entry = typed.clone();
                    break;
                }
                None => entry,
                Some(i) => {
                    if !entry.is_array() {
                        *entry = Value::Array(vec![]);
                    }
                    let Value::Array(list) = entry else {
                        return Err(format!("failed parsing --set data: {key}"));
                    };
                    while list.len() <= i {
                        list.push(Value::Null);
                    }
                    if last {
                        list[i] = typed.clone();
                        break;
                    }
                    &mut list[i]
                }
            };
        }
    }
    Ok(())
}

fn parse_yaml_file(path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let v: Value = serde_saphyr::from_str(&text)
        .map_err(|e| format!("failed to parse {}: {e}", path.display()))?;
    Ok(if v.is_null() { json!({}) } else { v })
}

/// The API server URL and namespace of a kube context, read from `$KUBECONFIG` (a list of files,
/// as kubectl reads it; the first file defining a name wins).
pub fn kube_server(
    kubeconfig: &str,
    context: Option<&str>,
) -> Result<(String, Option<String>), String> {
    let mut docs = vec![];
    for file in std::env::split_paths(kubeconfig) {
        if file.as_os_str().is_empty() {
            continue;
        }
        docs.push(parse_yaml_file(&file)?);
    }
    let find = |section: &str, name: &str| -> Option<Value> {
        docs.iter().find_map(|d| {
            d[section]
                .as_array()?
                .iter()
                .find_map(|e| (e["name"].as_str() == Some(name)).then(|| e.clone()))
        })
    };
    let current = docs
        .iter()
        .find_map(|d| d["current-context"].as_str().map(String::from));
    let name = context
        .map(String::from)
        .or(current)
        .ok_or("invalid configuration: no configuration has been provided")?;
    let ctx =
        find("contexts", &name).ok_or_else(|| format!("context \"{name}\" does not exist"))?;
    let cluster_name = ctx["context"]["cluster"].as_str().unwrap_or_default();
    let cluster = find("clusters", cluster_name)
        .ok_or_else(|| format!("cluster \"{cluster_name}\" does not exist"))?;
    let server = cluster["cluster"]["server"]
        .as_str()
        .ok_or_else(|| format!("cluster \"{cluster_name}\" has no server"))?;
    Ok((
        server.to_string(),
        ctx["context"]["namespace"].as_str().map(String::from),
    ))
}

/// Record a call: `<dir>/<NNNN>/argv.json` and `values-<i>.yaml` copies of every `-f` file.
fn record(dir: &Path, argv: &[String], files: &[PathBuf]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    // Calls run concurrently (`--region both`): create_dir is the atomic claim of a number.
    let mut n = 1u32;
    let call = loop {
        let candidate = dir.join(format!("{n:04}"));
        match std::fs::create_dir(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    };
    std::fs::write(
        call.join("argv.json"),
        serde_json::to_vec_pretty(argv).unwrap_or_default(),
    )?;
    for (i, f) in files.iter().enumerate() {
        // A missing file is reported by the upgrade itself.
        let _ = std::fs::copy(f, call.join(format!("values-{i}.yaml")));
    }
    Ok(call)
}

fn record_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match env("C8DR_SIM_HELM_RECORD").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env("HOME").unwrap_or_else(|| ".".into())).join(".c8dr-sim-helm"),
    }
}

/// POST JSON over plain HTTP/1.1 to an `http://` server; `Err` means unreachable.
fn post_json(server: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    let url = url::Url::parse(server).map_err(|e| format!("invalid server {server}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("the helm stand-in speaks http only, not {server}"));
    }
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let target = format!("{host}:{port}");
    let unreachable =
        |e: &dyn std::fmt::Display| format!("Get \"{server}/version\": dial tcp {target}: {e}");
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&target)
        .map_err(|e| unreachable(&e))?
        .next()
        .ok_or_else(|| unreachable(&"no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| unreachable(&e))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let payload = serde_json::to_vec(body).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&payload))
        .map_err(|e| unreachable(&e))?;
    let mut raw = vec![];
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| unreachable(&"connection closed by the server"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| unreachable(&"malformed response"))?;
    // The simulator answers with Content-Length; a chunked body is not expected here.
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The stand-in's main: `args` without the program name, `env` the process environment.
/// Returns the exit code; output goes to stdout/stderr as helm's does.
pub fn run_cli(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> i32 {
    let files = parse_upgrade(args).map(|a| a.values).unwrap_or_default();
    if let Err(e) = record(&record_dir(env), args, &files) {
        eprintln!("c8dr-sim-helm: cannot record the call: {e}");
    }
    if args.first().map(String::as_str) == Some("version") {
        if args.iter().any(|a| a.starts_with("--template")) {
            println!("v3.18.0");
        } else {
            println!(
                "version.BuildInfo{{Version:\"v3.18.0\", GitCommit:\"c8dr-sim\", GitTreeState:\"clean\", GoVersion:\"go1.24\"}}"
            );
        }
        return 0;
    }
    match upgrade(args, env) {
        Ok(out) => {
            print!("{out}");
            0
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

/// Sleep for `duration`; `Some(signal name)` when SIGINT or SIGTERM came first.
fn sleep_unless_cancelled(duration: Duration) -> Option<&'static str> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        std::thread::sleep(duration);
        return None;
    };
    rt.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                tokio::time::sleep(duration).await;
                return None;
            };
            tokio::select! {
                () = tokio::time::sleep(duration) => None,
                _ = int.recv() => Some("SIGINT"),
                _ = term.recv() => Some("SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::select! {
                () = tokio::time::sleep(duration) => None,
                _ = tokio::signal::ctrl_c() => Some("SIGINT"),
            }
        }
    })
}

fn upgrade(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let up = parse_upgrade(args)?;
    let mut values = json!({});
    for f in &up.values {
        merge_values(&mut values, parse_yaml_file(f)?);
    }
    for s in &up.set {
        apply_set(&mut values, s)?;
    }
    let kubeconfig = env("KUBECONFIG")
        .filter(|k| !k.is_empty())
        .or_else(|| env("HOME").map(|h| format!("{h}/.kube/config")))
        .unwrap_or_default();
    let context = up
        .kube_context
        .clone()
        .or_else(|| env("HELM_KUBECONTEXT").filter(|c| !c.is_empty()));
    let (server, ctx_ns) = kube_server(&kubeconfig, context.as_deref())
        .map_err(|e| format!("Kubernetes cluster unreachable: {e}"))?;
    let namespace = up
        .namespace
        .clone()
        .or_else(|| env("HELM_NAMESPACE").filter(|n| !n.is_empty()))
        .or(ctx_ns)
        .unwrap_or_else(|| "default".into());
    // C8DR_SIM_HELM_SLEEP_MS: the upgrade takes that long before it is applied (a test knob for
    // signal handling). Meanwhile SIGINT/SIGTERM cancel it as helm does: helm/helm v3.17.0
    // cmd/helm/upgrade.go (and install.go) `signal.Notify(cSignal, os.Interrupt,
    // syscall.SIGTERM)` prints "Release <name> has been cancelled." and cancels the context; the
    // action fails the release and helm exits 1 with "UPGRADE FAILED: context canceled". Other
    // signals (SIGHUP) are not handled by helm: the Go runtime's default ends the process.
    if let Some(ms) = env("C8DR_SIM_HELM_SLEEP_MS").and_then(|v| v.parse::<u64>().ok())
        && sleep_unless_cancelled(Duration::from_millis(ms)).is_some()
    {
        println!("Release {} has been cancelled.", up.release);
        return Err("UPGRADE FAILED: context canceled".into());
    }
    let body = json!({
        "namespace": namespace,
        "release": up.release,
        "chart": up.chart,
        "values": values,
        "argv": args,
    });
    let (status, answer) = post_json(&server, APPLY_PATH, &body)
        .map_err(|e| format!("Kubernetes cluster unreachable: {e}"))?;
    let message = answer["message"].as_str().unwrap_or("unexpected answer");
    match status {
        200 => {
            let revision = answer["revision"].as_u64().unwrap_or(1);
            let mut out = String::new();
            if answer["installed"].as_bool() == Some(true) {
                out.push_str(&format!(
                    "Release \"{}\" does not exist. Installing it now.\n",
                    up.release
                ));
            } else {
                out.push_str(&format!(
                    "Release \"{}\" has been upgraded. Happy Helming!\n",
                    up.release
                ));
            }
            out.push_str(&format!(
                "NAME: {}\nNAMESPACE: {namespace}\nSTATUS: deployed\nREVISION: {revision}\n",
                up.release
            ));
            // helm prints the release's values in debug mode: helm/helm v3.17.0
            // cmd/helm/status.go `statusPrinter.WriteTable` (`if s.debug`: "USER-SUPPLIED
            // VALUES:" then "COMPUTED VALUES:"), with `settings.Debug` from `--debug` or the
            // HELM_DEBUG variable (pkg/cli/environment.go, strconv.ParseBool), which a plugin's
            // child helm inherits. The stand-in has no chart defaults: both are the user's values.
            let debug = up.debug
                || env("HELM_DEBUG").is_some_and(|v| {
                    matches!(v.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True")
                });
            if debug {
                let yaml = serde_saphyr::to_string(&values).unwrap_or_default();
                out.push_str(&format!(
                    "USER-SUPPLIED VALUES:\n{yaml}\nCOMPUTED VALUES:\n{yaml}"
                ));
            }
            Ok(out)
        }
        404 => Err(message.to_string()),
        _ => Err(format!("UPGRADE FAILED: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_the_upgrade_command_line() {
        let a = parse_upgrade(&s(&[
            "upgrade",
            "--install",
            "camunda",
            "camunda/camunda-platform",
            "--version",
            "13.1.0",
            "--kube-context",
            "c",
            "--namespace=n",
            "-f",
            "a.yml",
            "-f",
            "b.yml",
            "--set",
            "x=1",
            "--wait",
            "--timeout",
            "10m",
        ]))
        .expect("parses");
        assert_eq!(a.release, "camunda");
        assert_eq!(a.namespace.as_deref(), Some("n"));
        assert_eq!(a.values, [PathBuf::from("a.yml"), PathBuf::from("b.yml")]);
        assert!(a.wait);
        assert!(parse_upgrade(&s(&["upgrade", "--install", "r", "c", "--bogus"])).is_err());
        // pflag shorthand forms, the last --namespace wins.
        for form in [
            &["-nother"][..],
            &["-n=other"],
            &["-n", "other"],
            &["--namespace=other"],
        ] {
            let mut argv = s(&["upgrade", "--install", "r", "c", "--namespace", "n"]);
            argv.extend(s(form));
            let a = parse_upgrade(&argv).expect("parses");
            assert_eq!(a.namespace.as_deref(), Some("other"), "{form:?}");
        }
        let a = parse_upgrade(&s(&["upgrade", "r", "c", "-in", "x", "-fv.yml"])).expect("parses");
        assert_eq!(a.namespace.as_deref(), Some("x"));
        assert_eq!(a.values, [PathBuf::from("v.yml")]);
        assert!(parse_upgrade(&s(&["upgrade", "r", "c"])).is_err());
    }

    #[test]
    fn merges_as_helm() {
        let mut v = json!({"a": {"b": 1, "l": [1, 2]}, "c": 1});
        merge_values(&mut v, json!({"a": {"l": [3], "d": 2}, "c": null}));
        assert_eq!(v, json!({"a": {"b": 1, "l": [3], "d": 2}}));
        apply_set(&mut v, "orchestration.profiles.operate=false,a.l[1]=x").expect("set");
        assert_eq!(v["orchestration"]["profiles"]["operate"], false);
        assert_eq!(v["a"]["l"], json!([3, "x"]));
    }

    #[test]
    fn profiles_and_schema_manager_come_from_the_values() {
        assert_eq!(
            enabled_profiles(&json!({})),
            ["broker", "identity", "operate", "tasklist"]
        );
        let v = json!({"orchestration": {
            "profiles": {"operate": false, "tasklist": false},
            "env": [{"name": "A", "value": "x"}, {"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }});
        assert_eq!(enabled_profiles(&v), ["broker", "identity"]);
        assert!(schema_manager_disabled(&v));
        assert!(!schema_manager_disabled(
            &json!({"orchestration": {"env": []}})
        ));
    }

    #[test]
    fn records_are_numbered_per_call() {
        let dir = std::env::temp_dir().join(format!("c8dr-sim-helm-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = record(&dir, &s(&["version"]), &[]).expect("record");
        let b = record(&dir, &s(&["version"]), &[]).expect("record");
        assert_ne!(a, b);
        assert!(b.join("argv.json").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn request(body: Value) -> crate::http::SimRequest {
        crate::http::SimRequest {
            method: "POST".into(),
            path: APPLY_PATH.into(),
            query: vec![],
            headers: Default::default(),
            body: serde_json::to_vec(&body).unwrap_or_default().into(),
        }
    }

    #[test]
    fn installing_into_a_recreated_region_starts_its_brokers_without_seeding_when_disabled() {
        let mut w = World::healthy(crate::world::SimConfig::default());
        w.lose_region(1);
        w.recreate_region(1);
        assert!(!w.alive_brokers().contains(&1));
        let values = json!({"orchestration": {
            "profiles": {"operate": false, "tasklist": false},
            "env": [{"name": SCHEMA_MANAGER_VAR, "value": "false"}],
        }});
        apply_release(&mut w, 1, values);
        let r = &w.regions[1];
        assert_eq!(r.release.as_ref().map(|h| h.revision), Some(1));
        assert!(r.schema_manager_disabled);
        assert_eq!(r.profiles, ["broker", "identity"]);
        assert!(w.alive_brokers().contains(&1));
        apply_release(&mut w, 1, json!({}));
        assert_eq!(w.regions[1].release.as_ref().map(|h| h.revision), Some(2));
        assert!(!w.regions[1].schema_manager_disabled);
    }

    #[test]
    fn the_endpoint_refuses_a_foreign_namespace() {
        let world = crate::world::SharedWorld::new(World::healthy(Default::default()));
        let resp = handle_http(
            &world,
            0,
            &request(json!({"namespace": "camunda-region1", "release": "camunda", "values": {}})),
        );
        assert_eq!(resp.status(), 404);
        let resp = handle_http(
            &world,
            0,
            &request(json!({"namespace": "camunda-region0", "release": "camunda", "values": {}})),
        );
        assert_eq!(resp.status(), 200);
        assert_eq!(
            world.lock().regions[0].release.as_ref().map(|h| h.revision),
            Some(2)
        );
    }
}
