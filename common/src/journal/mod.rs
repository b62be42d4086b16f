//! The journal: every mutation c8dr sends, as JSON lines in one file (docs/output.md "The
//! journal"). A mutation is journaled in two lines: a `start` line written BEFORE the request is
//! sent, and an `end` line (same `id`) once its outcome is known. A run killed in between (SIGKILL,
//! a power cut) leaves a start without an end, which `kubectl c8dr history` shows as "started, no
//! outcome".
//!
//! - where: `C8DR_JOURNAL` (a file), else `$XDG_STATE_HOME/c8dr/journal.jsonl`, else
//!   `~/.local/state/c8dr/journal.jsonl` ([`path`]);
//! - what: time, tool and command, the step of a driver, region, target, the request as the plan
//!   shows it, the answer, the change id. Never a secret: what is written is what c8dr already
//!   prints (plans and summaries, redacted, docs/contract.md §4 rule 6), run once more through
//!   [`crate::values::redact::redact_text`]; no values contents, no headers;
//! - how: each line is one `write(2)` on a file opened with `O_APPEND` (mode 0600), so two
//!   terminals writing at once never interleave partial lines;
//! - a journal that cannot be written never stops a command: one warning on stderr per process,
//!   and the command goes on.
//!
//! Reading it: [`read`]; the timeline drawn from it (pure): [`timeline`].

pub mod read;
pub mod timeline;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::commands::Outcome;
use crate::config::Env;
use crate::error::Error;
use crate::values::redact_text;

/// The variable that names the journal file.
pub const VARIABLE: &str = "C8DR_JOURNAL";

/// The format version of a journal line.
pub const VERSION: u32 = 1;

/// What a mutation does to the two windows the timeline draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    /// A helm upgrade that turns the webapps (Operate, Tasklist) off in a serving region.
    WebappsOff,
    /// A helm upgrade with the webapps on.
    WebappsOn,
    /// `exporting pause`.
    ExportingPaused,
    /// `exporting resume` (also the resume on a failure or a signal).
    ExportingResumed,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Line {
    /// Written before the request is sent.
    Start(Start),
    /// Written once the outcome is known.
    End(End),
}

/// A mutation about to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub v: u32,
    /// Unique in the journal: `<run>.<n>`.
    pub id: String,
    /// The process that sent it (one command line).
    pub run: String,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// `kubectl c8dr` or `helm c8dr`.
    pub tool: String,
    /// e.g. `exporting pause`, `helm upgrade`.
    pub command: String,
    /// The step of the procedure a driver runs it for, as `Step::tag` names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Where it goes: `context/namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What was asked: the plan's lines (redacted).
    #[serde(default)]
    pub request: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
}

/// The outcome of a mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct End {
    pub v: u32,
    pub id: String,
    pub at: String,
    /// `done`, `already-done`, `submitted`, or `failed`.
    pub outcome: String,
    /// The answer, as the command summarises it (or the error).
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<i64>,
    /// The exit code the failure maps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
}

/// The journal file for `env` (`None`: no HOME and no override, nowhere to write).
pub fn path(env: &Env) -> Option<PathBuf> {
    if let Some(p) = env.get(VARIABLE) {
        return Some(PathBuf::from(p));
    }
    let state = match env.get("XDG_STATE_HOME") {
        Some(s) if Path::new(s).is_absolute() => PathBuf::from(s),
        _ => Path::new(env.get("HOME")?).join(".local/state"),
    };
    Some(state.join("c8dr/journal.jsonl"))
}

/// This process's run id: the pid and the time it started.
pub fn run_id() -> &'static str {
    static RUN: OnceLock<String> = OnceLock::new();
    RUN.get_or_init(|| format!("{}-{}", std::process::id(), millis(SystemTime::now())))
}

fn millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// Now, as journal lines write it.
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// The step a driver is running, noted in every start line until the scope ends.
static STEP: Mutex<Option<String>> = Mutex::new(None);

/// While alive, mutations are journaled as part of `step` (a driver's step tag).
#[must_use = "the step ends when this is dropped"]
pub struct StepScope(());

pub fn in_step(step: impl Into<String>) -> StepScope {
    *STEP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(step.into());
    StepScope(())
}

impl Drop for StepScope {
    fn drop(&mut self) {
        *STEP
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

fn current_step() -> Option<String> {
    STEP.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// What a caller knows before it sends.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    pub tool: &'static str,
    pub command: String,
    pub region: Option<String>,
    pub target: Option<String>,
    pub request: Vec<String>,
    pub effect: Option<Effect>,
}

impl Intent {
    pub fn kubectl(command: &str, request: &[String]) -> Self {
        Self {
            tool: "kubectl c8dr",
            command: command.to_string(),
            request: request.to_vec(),
            effect: effect_of(command),
            ..Self::default()
        }
    }

    pub fn at(mut self, region: Option<String>, target: Option<String>) -> Self {
        self.region = region;
        self.target = target;
        self
    }
}

/// The windows a kubectl command opens or closes, by its name.
fn effect_of(command: &str) -> Option<Effect> {
    match command {
        "exporting pause" => Some(Effect::ExportingPaused),
        "exporting resume" => Some(Effect::ExportingResumed),
        _ => None,
    }
}

/// A started mutation, waiting for its outcome.
#[must_use = "a mutation's outcome is journaled with end()"]
pub struct Pending {
    path: Option<PathBuf>,
    id: String,
}

/// Journal the start of a mutation (before it is sent).
pub fn begin(env: &Env, intent: Intent) -> Pending {
    static N: AtomicU64 = AtomicU64::new(0);
    let id = format!("{}.{}", run_id(), N.fetch_add(1, Ordering::Relaxed) + 1);
    let path = path(env);
    let start = Start {
        v: VERSION,
        id: id.clone(),
        run: run_id().to_string(),
        at: now(),
        tool: intent.tool.to_string(),
        command: intent.command,
        step: current_step(),
        region: intent.region,
        target: intent.target,
        request: intent.request.iter().map(|l| redact_text(l)).collect(),
        effect: intent.effect,
    };
    append(path.as_deref(), &Line::Start(start));
    Pending { path, id }
}

impl Pending {
    /// Journal the outcome.
    pub fn end(self, outcome: &str, answer: &str, change_id: Option<i64>, exit: Option<i32>) {
        let end = End {
            v: VERSION,
            id: self.id,
            at: now(),
            outcome: outcome.to_string(),
            answer: redact_text(answer),
            change_id,
            exit,
        };
        append(self.path.as_deref(), &Line::End(end));
    }

    /// Journal a failure.
    pub fn failed(self, e: &Error) {
        self.end("failed", &e.to_string(), None, Some(e.exit_code()));
    }

    /// Journal a command's result.
    pub fn end_with(self, result: &Result<Outcome, Error>) {
        match result {
            Ok(o) => self.end(o.status.as_str(), &o.summary, o.change_id, None),
            Err(e) => self.failed(e),
        }
    }
}

/// Append one line: one write on an `O_APPEND` file, so concurrent writers never interleave.
/// A failure is said once per process and ignored.
fn append(path: Option<&Path>, line: &Line) {
    let Some(path) = path else {
        warn_once("no HOME, XDG_STATE_HOME or C8DR_JOURNAL: nowhere to write it");
        return;
    };
    let mut text = match serde_json::to_string(line) {
        Ok(t) => t,
        Err(e) => return warn_once(&format!("{e}")),
    };
    text.push('\n');
    if let Err(e) = write_line(path, text.as_bytes()) {
        warn_once(&format!("{}: {e}", path.display()));
    }
}

fn write_line(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    // One write(2): with O_APPEND the kernel places the whole buffer at the end.
    let n = f.write(bytes)?;
    if n != bytes.len() {
        return Err(std::io::Error::other("the line was written in part"));
    }
    Ok(())
}

fn warn_once(why: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        crate::errln!("warning: the journal cannot be written ({why}); going on without it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn concurrent_writers_never_interleave_partial_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("journal.jsonl");
        let e = env(&[("C8DR_JOURNAL", &file.display().to_string())]);
        // Long lines (a long plan), several writers at once: each line must stay whole.
        let plan: Vec<String> = (0..40)
            .map(|i| format!("PUT /_snapshot/r/s-{i} {}", "x".repeat(100)))
            .collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        begin(&e, Intent::kubectl("es copy", &plan)).end("done", "ok", None, None);
                    }
                });
            }
        });
        let lines = read::parse(&std::fs::read_to_string(&file).expect("read"));
        assert_eq!((lines.lines.len(), lines.skipped), (400, 0));
        let (records, _) = read::records(&lines);
        assert!(
            records
                .iter()
                .all(|r| r.end.is_some() && r.start.request == plan)
        );
    }

    #[test]
    fn the_path_is_the_override_else_xdg_state_else_home() {
        let p = |e: &[(&str, &str)]| path(&env(e)).map(|p| p.display().to_string());
        assert_eq!(
            p(&[("C8DR_JOURNAL", "/j"), ("HOME", "/h")]).as_deref(),
            Some("/j")
        );
        assert_eq!(
            p(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")]).as_deref(),
            Some("/s/c8dr/journal.jsonl")
        );
        // The XDG spec: a relative path is ignored.
        assert_eq!(
            p(&[("XDG_STATE_HOME", "s"), ("HOME", "/h")]).as_deref(),
            Some("/h/.local/state/c8dr/journal.jsonl")
        );
        assert_eq!(p(&[]), None);
    }

    #[test]
    fn a_mutation_is_a_start_line_then_an_end_line_with_its_id() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("sub/journal.jsonl");
        let e = env(&[("C8DR_JOURNAL", &file.display().to_string())]);
        let p = begin(
            &e,
            Intent::kubectl(
                "exporting pause",
                &["POST /actuator/exporting/pause".into()],
            ),
        );
        let text = std::fs::read_to_string(&file).expect("start written before the end");
        assert_eq!(text.lines().count(), 1);
        p.end("done", "paused", Some(3), None);
        let lines = read::parse(&std::fs::read_to_string(&file).expect("read"));
        assert_eq!(lines.skipped, 0);
        let [Line::Start(s), Line::End(end)] = lines.lines.as_slice() else {
            panic!("two lines: {lines:?}");
        };
        assert_eq!(s.id, end.id);
        assert_eq!(s.effect, Some(Effect::ExportingPaused));
        assert_eq!(end.change_id, Some(3));
    }
}
