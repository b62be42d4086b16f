//! Running the plan: the overlays written (0600, private directory), one helm process per region
//! (concurrently, each in its own process group), signals forwarded to helm, the overlays removed.

use std::time::Duration;

use serde::Serialize;

use super::plan::Plan;
use super::report::RedeployReport;
use crate::error::{Error, Result};
use crate::journal;
use crate::region::RegionRef;
pub use crate::signal::Signal;
use crate::signal::Signals;
use crate::values;
use crate::wait::Poller;

impl Plan {
    /// Write the overlays and run every region's upgrade (concurrently), capturing helm's output
    /// and exit code. Overlays are removed afterwards unless kept.
    ///
    /// SIGINT, SIGTERM and SIGHUP (Ctrl-C, a cancelled CI job, an SSH drop) are handled here
    /// (docs/api-behaviour.md §7): helm runs in its own process group, so the signal reaches it only through
    /// c8dr, which forwards SIGINT as SIGINT and SIGTERM/SIGHUP as SIGTERM. helm handles exactly
    /// SIGINT and SIGTERM by cancelling the upgrade and recording the release as failed (helm/helm
    /// v3.17.0 `cmd/helm/upgrade.go` and `install.go`: `signal.Notify(cSignal, os.Interrupt,
    /// syscall.SIGTERM)`, "Release X has been cancelled."); a SIGHUP or SIGKILL would kill it
    /// mid-upgrade and can leave the release `pending-upgrade`, which blocks every later upgrade
    /// until someone rolls it back. c8dr then waits for helm (at most [`SIGNAL_GRACE`]; a second
    /// signal stops the wait, never kills helm), removes the overlays and reports what ran,
    /// exiting 128 + the signal number (130/143/129).
    pub async fn execute(&self, env: &crate::config::Env) -> Result<RedeployReport> {
        if self.helm_bin.trim().is_empty() {
            return Err(Error::usage(
                "helm not found: set HELM_BIN or put helm on PATH",
            ));
        }
        // Listen before the first file exists: from here on, a signal removes the overlays.
        let mut signals =
            Signals::new().map_err(|e| Error::failed(format!("cannot handle signals: {e}")))?;
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
                let journaled = journal::begin(env, self.journal_intent(region, file.path()));
                async move {
                    let ok = run_helm(&bin, &args, &slot).await;
                    journal_end(journaled, &slot);
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
                crate::errln!(
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
                        crate::errln!("{}: not waiting for helm any longer", again.name());
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
}

impl Plan {
    /// What the journal notes of one region's upgrade: the command line as shown (redacted, the
    /// values' contents never), and the window it opens or closes: the webapps off in a region
    /// that serves (the recreated region's install turns nothing off), or on.
    fn journal_intent(
        &self,
        region: &super::RegionPlan,
        overlay: &std::path::Path,
    ) -> journal::Intent {
        let effect = if region.webapps() {
            Some(journal::Effect::WebappsOn)
        } else if region.side != Some(RegionRef::Recreated) {
            Some(journal::Effect::WebappsOff)
        } else {
            None
        };
        let what = format!(
            "webapps {}, schema manager {}",
            if region.webapps() { "on" } else { "off" },
            match region.overlay.env_change {
                crate::values::EnvChange::Added | crate::values::EnvChange::Replaced => "off",
                _ => "on",
            }
        );
        journal::Intent {
            tool: "helm c8dr",
            command: format!(
                "helm upgrade, webapps {}",
                if region.webapps() { "on" } else { "off" }
            ),
            region: Some(region.label()),
            target: Some(format!("{}/{}", region.context, region.namespace)),
            request: vec![self.shown_argv(region, overlay).join(" "), what],
            effect,
        }
    }
}

/// The journal's outcome of one region's helm run: its exit code (never its output, which
/// `--debug` fills with values).
fn journal_end(journaled: journal::Pending, slot: &std::sync::Mutex<HelmSlot>) {
    let result = slot.lock().ok().and_then(|s| s.result.clone());
    match result {
        Some(Ok((0, _))) => journaled.end("done", "helm exited 0", None, None),
        Some(Ok((code, _))) => {
            journaled.end("failed", &format!("helm exited {code}"), None, Some(code))
        }
        Some(Err(e)) => journaled.end("failed", &format!("cannot run helm: {e}"), None, None),
        None => journaled.end("failed", "helm did not finish", None, None),
    }
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
    // helm needs none of the Zeebe REST credentials the operator exported for kubectl c8dr: they
    // do not reach its environment (docs/security.md).
    for var in crate::zeebe::rest::CREDENTIAL_VARS {
        cmd.env_remove(var);
    }
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
    let mut poll = Poller::with_cadence("helm to stop", HELM_POLL, HELM_POLL, grace);
    loop {
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
        if !poll.tick().await {
            return;
        }
    }
}

/// How often c8dr looks whether helm stopped after a forwarded signal.
const HELM_POLL: Duration = Duration::from_millis(20);

/// How long c8dr waits for helm to stop after forwarding a signal.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(30);

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
    pub(super) fn new(
        signal: Signal,
        removed: Option<std::io::Result<()>>,
        still: Vec<String>,
    ) -> Self {
        Self {
            signal,
            exit_code: signal.exit_code(),
            overlays_removed: removed.is_none_or(|r| r.is_ok()),
            helm_still_running: still,
        }
    }
}
