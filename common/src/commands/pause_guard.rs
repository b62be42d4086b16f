//! Signals never leave exporting paused (docs/api-behaviour.md §3, 3.7). A paused exporter stops log compaction
//! and can fill the brokers' disks; an SSH drop (SIGHUP), a cancelled CI job (SIGTERM) or Ctrl-C
//! (SIGINT) in the middle of `failback` or `es copy --pause-exporting` must not leave it so.
//!
//! A command that pauses arms a [`PauseGuard`] right after the pause and drops it once exporting
//! runs again (or once the pause is meant to outlive the command). The binary runs
//! [`watch_signals`] beside the command: on a signal, when a guard is armed, it resumes exporting
//! (bounded by [`RESUME_BOUND`]), prints what was done and what was not, and returns the exit code
//! (128 + signal: 130, 143, 129). When the resume cannot be sent it prints the exact command.
//!
//! The same holds for the recovery settings a restore raises on the recreated region's
//! Elasticsearch ([`SettingsGuard`], [`crate::es::tuning`]): a signal puts them back.

use std::sync::Mutex;
use std::time::Duration;

use crate::session::Session;
pub use crate::signal::Signal;
use crate::signal::Signals;
use crate::zeebe::ManagementClient;

/// How long the resume on a signal may take.
pub const RESUME_BOUND: Duration = Duration::from_secs(5);

struct Armed {
    mgmt: ManagementClient,
    command: String,
    done: Vec<String>,
    pending: Vec<String>,
    resume_command: String,
    /// Where the resume on a signal is journaled, and as what.
    env: crate::config::Env,
    journal: crate::journal::Intent,
}

static ARMED: Mutex<Option<Armed>> = Mutex::new(None);

/// Recovery settings raised on an Elasticsearch for a restore (see [`crate::es::tuning`]).
struct Tuned {
    transport: std::sync::Arc<dyn crate::es::EsTransport>,
    opts: crate::es::EsOptions,
    changes: Vec<crate::es::tuning::SettingChange>,
    /// The command that puts them back too (a rerun finds the marker).
    rerun: String,
}

static TUNED: Mutex<Option<Tuned>> = Mutex::new(None);

fn tuned() -> std::sync::MutexGuard<'static, Option<Tuned>> {
    TUNED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The recovery settings of an Elasticsearch are raised by this run while the guard lives: a
/// signal puts them back (as a failure does through [`SettingsGuard::put_back`]).
pub struct SettingsGuard(());

impl SettingsGuard {
    /// Arm before the settings are sent (a signal between the send and the arming would leave
    /// them; arming first at worst puts back what was never raised, which is harmless).
    pub fn arm(
        transport: std::sync::Arc<dyn crate::es::EsTransport>,
        opts: &crate::es::EsOptions,
        changes: Vec<crate::es::tuning::SettingChange>,
        rerun: &str,
    ) -> Self {
        *tuned() = Some(Tuned {
            transport,
            opts: opts.clone(),
            changes,
            rerun: rerun.to_string(),
        });
        SettingsGuard(())
    }

    /// Put the settings back now (success or failure of the restore); the guard is disarmed
    /// first so that a signal during the put-back does not send it twice.
    pub async fn put_back(self) -> crate::error::Result<Vec<crate::es::tuning::SettingChange>> {
        crate::wait::forget_hung();
        let Some(t) = tuned().take() else {
            return Ok(vec![]);
        };
        crate::es::tuning::revert(t.transport.as_ref(), &t.opts, &t.changes)
            .await
            .map_err(|e| {
                crate::error::Error::failed(format!(
                    "putting back the recovery settings of {} FAILED ({e}): run `{}` again, or send {}",
                    t.transport.describe(),
                    t.rerun,
                    crate::es::tuning::revert_request(&t.changes)
                ))
            })?;
        Ok(t.changes)
    }
}

impl Drop for SettingsGuard {
    fn drop(&mut self) {
        tuned().take();
    }
}

/// On a signal: put back recovery settings this run raised, bounded by [`RESUME_BOUND`].
async fn put_back_on_signal() {
    crate::wait::forget_hung();
    let Some(t) = tuned().take() else {
        return;
    };
    let what: Vec<String> = t.changes.iter().map(|c| c.key.clone()).collect();
    let sent = tokio::time::timeout(
        RESUME_BOUND,
        crate::es::tuning::revert(t.transport.as_ref(), &t.opts, &t.changes),
    )
    .await;
    match sent {
        Ok(Ok(())) => crate::errln!(
            "  the recovery settings raised for the restore were put back on {} ({})",
            t.transport.describe(),
            what.join(", ")
        ),
        Ok(Err(e)) => crate::errln!(
            "  putting back the recovery settings on {} FAILED ({e}): run `{}` again (it finds and puts them back), or send {}",
            t.transport.describe(),
            t.rerun,
            crate::es::tuning::revert_request(&t.changes)
        ),
        Err(_) => crate::errln!(
            "  putting back the recovery settings on {} got no answer within {}s: run `{}` again (it finds and puts them back), or send {}",
            t.transport.describe(),
            RESUME_BOUND.as_secs(),
            t.rerun,
            crate::es::tuning::revert_request(&t.changes)
        ),
    }
}

/// A request this run sent (or follows) that the cluster carries on when c8dr stops: what a
/// signal says on the way out, with how to follow it (attack A10: "interrupted" alone reads as
/// "not done" while a forced removal goes on).
static IN_FLIGHT: Mutex<Option<String>> = Mutex::new(None);

/// While `command`'s request (change `id`, when known) runs in the cluster; `None` when it ended.
pub fn in_flight(sent: Option<(&str, &str, Option<i64>)>) {
    let line = sent.map(|(command, summary, id)| {
        let follow = match id {
            Some(id) => format!("kubectl c8dr changes wait {id}"),
            None => "kubectl c8dr status -w".to_string(),
        };
        let change = id.map(|id| format!("change {id}, ")).unwrap_or_default();
        format!(
            "`{command}` was sent ({change}{summary}) and goes on in the cluster: stopping c8dr \
             does not stop it; follow it with `{follow}`, or run `{command}` again to follow it"
        )
    });
    *IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()) = line;
}

fn armed() -> std::sync::MutexGuard<'static, Option<Armed>> {
    ARMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The command that resumes exporting for this session's region, flags included.
pub fn resume_command(session: &Session) -> String {
    let s = &session.settings;
    let mut cmd = vec!["kubectl c8dr".to_string()];
    if let Some(k) = &s.kubeconfig {
        cmd.push(format!("--kubeconfig {}", k.display()));
    }
    if let Some(c) = &s.location.context {
        cmd.push(format!("--context {c}"));
    }
    if let Some(n) = &s.location.namespace {
        cmd.push(format!("--namespace {n}"));
    }
    if s.release != "camunda" {
        cmd.push(format!("--release {}", s.release));
    }
    if let Some(u) = &s.gateway_url {
        cmd.push(format!("--gateway-url {u}"));
    }
    cmd.push("exporting resume".into());
    cmd.join(" ")
}

/// A step failed while exporting was paused: disarm `guard`, resume exporting, and say what
/// happened, for the failure's message (`resumed` says whose pause was resumed). When the resume
/// fails too, the line names the exact command to run.
pub async fn resume_after_failure(session: &Session, guard: PauseGuard, resumed: &str) -> String {
    drop(guard);
    // A repair tries every server again (a server that timed out in the failed step too).
    crate::wait::forget_hung();
    match crate::commands::exporting::exporting_resume(session).await {
        Ok(_) => resumed.to_string(),
        Err(r) => format!(
            "resuming exporting ALSO failed ({r}): run now: {}",
            resume_command(session)
        ),
    }
}

/// Exporting is paused by this run while the guard lives.
pub struct PauseGuard(());

impl PauseGuard {
    /// Arm after a pause: `pending` names the steps still to run while paused.
    pub fn arm(
        session: &Session,
        mgmt: &ManagementClient,
        command: &str,
        pending: Vec<String>,
    ) -> Self {
        *armed() = Some(Armed {
            mgmt: mgmt.clone(),
            command: command.to_string(),
            done: vec!["exporting paused".into()],
            pending,
            resume_command: resume_command(session),
            env: session.settings.env.clone(),
            journal: session.journal("exporting resume", &[]),
        });
        PauseGuard(())
    }

    /// A step finished while paused.
    pub fn done(&self, step: impl Into<String>) {
        let step = step.into();
        if let Some(a) = armed().as_mut() {
            a.pending
                .retain(|p| !step.starts_with(p.as_str()) && *p != step);
            a.done.push(step);
        }
    }
}

impl Drop for PauseGuard {
    fn drop(&mut self) {
        armed().take();
    }
}

/// What to do on `signal`: resume exporting if this run paused it, report, and return the exit
/// code. Every line goes to stderr.
pub async fn on_signal(signal: Signal) -> i32 {
    crate::wait::forget_hung();
    let taken = armed().take();
    let sent = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(a) = taken else {
        crate::errln!("interrupted by {}", signal.name());
        if let Some(line) = sent {
            crate::errln!("  {line}");
        }
        put_back_on_signal().await;
        return signal.exit_code();
    };
    crate::errln!(
        "interrupted by {} while exporting was paused by `{}`:",
        signal.name(),
        a.command
    );
    for d in &a.done {
        crate::errln!("  done:     {d}");
    }
    for p in &a.pending {
        crate::errln!("  not done: {p}");
    }
    if let Some(line) = sent {
        crate::errln!("  {line}");
    }
    let mut intent = a.journal.clone();
    intent.request = vec![format!(
        "POST /actuator/exporting/resume (on {})",
        signal.name()
    )];
    let journaled = crate::journal::begin(&a.env, intent);
    // Both at once: neither waits for the other's timeout.
    let (resumed, ()) = tokio::join!(
        tokio::time::timeout(RESUME_BOUND, a.mgmt.exporting_resume()),
        put_back_on_signal()
    );
    match &resumed {
        Ok(Ok(())) => journaled.end("done", "exporting resumed", None, None),
        Ok(Err(e)) => journaled.failed(e),
        Err(_) => journaled.end("failed", "no answer", None, None),
    }
    match resumed {
        Ok(Ok(())) => crate::errln!(
            "  exporting was resumed, so log compaction goes on; run `{}` again to continue",
            a.command
        ),
        Ok(Err(e)) => crate::errln!(
            "  resuming exporting FAILED ({e}): exporting is still PAUSED; run now: {}",
            a.resume_command
        ),
        Err(_) => crate::errln!(
            "  resuming exporting got no answer within {}s: exporting may still be PAUSED; run now: {}",
            RESUME_BOUND.as_secs(),
            a.resume_command
        ),
    }
    signal.exit_code()
}

/// Wait for the first SIGINT, SIGTERM or SIGHUP. Registering replaces the default action, so a
/// binary runs this for its whole life and exits with [`on_signal`]'s code.
pub async fn wait_for_signal() -> std::io::Result<Signal> {
    Ok(Signals::new()?.recv().await)
}

/// Run beside a command (on the runtime's worker threads, so a blocking prompt cannot starve it):
/// on a signal, undo an armed pause and exit with the signal's code.
pub fn watch_signals() {
    tokio::spawn(async {
        match wait_for_signal().await {
            Ok(signal) => {
                let code = on_signal(signal).await;
                std::process::exit(code);
            }
            Err(e) => tracing::warn!("cannot watch for signals: {e}"),
        }
    });
}
