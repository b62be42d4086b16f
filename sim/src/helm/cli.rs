//! The stand-in's main: `version`, and `upgrade --install` posted to the simulator.

use std::time::Duration;

use serde_json::json;

use super::APPLY_PATH;
use super::args::parse_upgrade;
use super::client::post_json;
use super::kubeconfig::kube_server;
use super::record::{record, record_dir};
use super::values::{apply_set, merge_values, parse_yaml_file};

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
