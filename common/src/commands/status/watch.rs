//! `status --watch`: poll both regions (or the one of `--context`) every interval and show the
//! view again only when it changed, as `kubectl get -w` does. On a terminal the screen is
//! redrawn; in a pipe each change is appended (text under a timestamp line, `-o json` one compact
//! document a line). SIGINT and SIGTERM (and SIGHUP) end the watch with exit 0, the cursor shown
//! again. A region that stops answering is shown as unreachable, never an exit.
//!
//! What counts as a change is [`fingerprint`]: the document without the fields that move while
//! nothing a person acts on changes (timestamps, positions, lags, document counts, port numbers
//! in error messages).

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::view::StatusReport;
use crate::error::{Error, Result};
use crate::output::{Format, Render, document, render};
use crate::signal::Signals;

/// Fields that change on every poll of a busy installation without anything to act on: when a
/// change started or ended, exported/processed positions, the exporting lag.
const VOLATILE: [&str; 5] = [
    "startedAt",
    "completedAt",
    "exportedPosition",
    "processedPosition",
    "maxLag",
];

/// Runs of digits in `text` replaced by `#`: error messages name local port-forward ports and
/// durations that differ from poll to poll while the error is the same.
fn mask_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

fn normalise(value: &mut Value, key: Option<&str>) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !VOLATILE.contains(&k.as_str()));
            for (k, v) in map.iter_mut() {
                if k == "camundaIndices" {
                    // Restored or not: the counts grow while Camunda exports.
                    if let Value::Object(indices) = v {
                        for count in indices.values_mut() {
                            *count = Value::Bool(!count.is_null());
                        }
                    }
                } else {
                    normalise(v, Some(k));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, key)),
        Value::String(s) if matches!(key, Some("errors" | "error")) => *s = mask_digits(s),
        _ => {}
    }
}

/// What the watch compares from poll to poll: the status document without its volatile fields
/// ([`VOLATILE`], document counts, digits in errors). Equal fingerprints show the same thing to
/// a person: the phase and step, the members, the pause, the restore, a change's progress.
pub fn fingerprint(report: &StatusReport) -> Result<String> {
    let mut doc = document(report)?;
    normalise(&mut doc, None);
    serde_json::to_string(&doc).map_err(|e| Error::failed(format!("fingerprint: {e}")))
}

/// How the watch shows a view.
#[derive(Debug, Clone)]
pub struct Watch {
    pub interval: Duration,
    pub format: Format,
    /// `-q`: the summary line only.
    pub quiet: bool,
    /// stdout is a terminal: redraw the screen instead of appending.
    pub screen: bool,
    /// The command line as typed, for the screen's header.
    pub command: String,
}

/// Clear the screen, cursor home.
const CLEAR: &str = "\x1b[H\x1b[2J";
const HIDE_CURSOR: &str = "\x1b[?25l";
/// The terminal as it was: the cursor shown again.
pub const SHOW_CURSOR: &str = "\x1b[?25h";

/// What one change prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(pub String);

impl Watch {
    /// The text printed for a changed `report` seen at `at`.
    pub fn frame(&self, report: &StatusReport, at: SystemTime) -> Result<Frame> {
        let stamp = humantime::format_rfc3339_seconds(at).to_string();
        let text = match &self.format {
            Format::Text if self.quiet => format!("{}\n", report.summary()),
            Format::Text if self.screen => format!(
                "{CLEAR}Every {}: {}   changed {stamp} (Ctrl-C to stop)\n\n{}",
                humantime::format_duration(self.interval),
                self.command,
                report.text()
            ),
            Format::Text => format!("=== {stamp} ===\n{}", report.text()),
            // One compact document a line: `jq` and line readers take each change as it comes.
            Format::Json => serde_json::to_string(&document(report)?)
                .map(|s| s + "\n")
                .map_err(|e| Error::failed(format!("rendering JSON: {e}")))?,
            Format::Yaml => format!("---\n{}", render(report, &self.format)?),
            other => render(report, other)?,
        };
        Ok(Frame(text))
    }

    fn redraws(&self) -> bool {
        self.screen && !self.quiet && self.format == Format::Text
    }
}

/// Write to stdout; `false` when the reader went away (`| head -1`): the watch ends.
fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

/// Poll with `poll` every `w.interval`, each poll bounded by `bound` (`--timeout`), and print a
/// frame whenever the [`fingerprint`] changed, until a signal (exit 0) or a closed stdout.
/// Bad input seen at the first poll (a kubeconfig that is not one, with no region read) ends it
/// with exit 2, as a single `status` does.
pub async fn watch<F, Fut>(w: &Watch, bound: Duration, mut poll: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<StatusReport>>,
{
    let mut signals =
        Signals::new().map_err(|e| Error::failed(format!("watching for signals: {e}")))?;
    if w.redraws() && !emit(HIDE_CURSOR) {
        return Ok(());
    }
    let result = watch_loop(w, bound, &mut poll, &mut signals).await;
    if w.redraws() {
        // The last view stays on the screen; the prompt starts below it.
        emit(&format!("{SHOW_CURSOR}\n"));
    }
    result
}

async fn watch_loop<F, Fut>(
    w: &Watch,
    bound: Duration,
    poll: &mut F,
    signals: &mut Signals,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<StatusReport>>,
{
    let mut last: Option<String> = None;
    let mut first = true;
    loop {
        let started = Instant::now();
        let polled = tokio::select! {
            r = tokio::time::timeout(bound, poll()) => r,
            _ = signals.recv() => return Ok(()),
        };
        match polled {
            Ok(Ok(report)) => {
                if first
                    && report.nothing_reachable()
                    && let Some(bad) = report.input_error()
                {
                    return Err(Error::usage(bad.to_string()));
                }
                let print = fingerprint(&report)?;
                if last.as_ref() != Some(&print) {
                    let frame = w.frame(&report, SystemTime::now())?;
                    if !emit(&frame.0) {
                        return Ok(());
                    }
                    last = Some(print);
                }
            }
            // Bad input at the start (a context the kubeconfig lacks) will not mend itself.
            Ok(Err(e)) if first && e.exit_code() == 2 => return Err(e),
            Ok(Err(e)) => crate::errln!("warning: status: {e}"),
            Err(_) => crate::errln!(
                "warning: status: the poll took longer than --timeout {}; polling again",
                humantime::format_duration(bound)
            ),
        }
        first = false;
        tokio::select! {
            _ = tokio::time::sleep(w.interval.saturating_sub(started.elapsed())) => {}
            _ = signals.recv() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::commands::status::view::{ClusterView, RegionView, Scope};
    use crate::region::RegionId;
    use crate::zeebe::model::LastChange;

    fn report() -> StatusReport {
        let mut region0 = RegionView::unread(RegionId::ZERO, "surviving");
        region0.reachable = true;
        let mut region1 = RegionView::unread(RegionId::ONE, "recreated");
        region1.errors = vec!["cannot reach http://127.0.0.1:40001 after 5s".into()];
        StatusReport {
            scope: Scope::BothRegions,
            regions: vec![region0, region1],
            cluster: Some(ClusterView {
                source: "region0".into(),
                view: "management".into(),
                members: vec![0, 2],
                cluster_size: 2,
                replication_factor: 2,
                configured_replication_factor: None,
                brokers: vec![],
                exporters: vec![],
                pending_change: None,
                last_change: Some(LastChange {
                    id: 3,
                    status: "COMPLETED".into(),
                    started_at: Some("2026-12-06T04:00:00Z".into()),
                    completed_at: Some("2026-12-06T04:00:01Z".into()),
                }),
                leaders: None,
            }),
            lost_region: None,
            procedure: crate::procedure::Verdict::not_judged("test"),
            phase: "procedure step unknown: test".into(),
            notes: vec![],
            release: crate::release::installation::Judgement {
                line: None,
                evidence: None,
                supported: true,
                refusal: None,
                notes: vec![],
                facts: None,
                installation: Default::default(),
            },
        }
    }

    #[test]
    fn the_fingerprint_ignores_what_moves_by_itself_and_sees_what_a_person_acts_on() {
        let a = report();
        let mut same = report();
        same.regions[1].errors = vec!["cannot reach http://127.0.0.1:45555 after 5s".into()];
        if let Some(c) = same.cluster.as_mut() {
            c.last_change = c.last_change.take().map(|l| LastChange {
                completed_at: Some("2026-12-06T04:09:09Z".into()),
                ..l
            });
        }
        assert_eq!(fingerprint(&a).ok(), fingerprint(&same).ok());
        let mut lost = report();
        lost.regions[0].reachable = false;
        assert_ne!(
            fingerprint(&a).ok(),
            fingerprint(&lost).ok(),
            "a region lost"
        );
        let mut removed = report();
        if let Some(c) = removed.cluster.as_mut() {
            c.members = vec![0];
        }
        assert_ne!(fingerprint(&a).ok(), fingerprint(&removed).ok(), "members");
        let mut progress = report();
        if let Some(c) = progress.cluster.as_mut() {
            c.pending_change = Some(crate::commands::status::view::PendingView {
                id: 4,
                completed: 1,
                pending: 3,
            });
        }
        assert_ne!(
            fingerprint(&a).ok(),
            fingerprint(&progress).ok(),
            "a change"
        );
    }

    #[test]
    fn frames_are_a_redraw_on_a_screen_a_stamped_view_or_one_json_line_in_a_pipe() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_796_531_401);
        let w = |format: Format, quiet: bool, screen: bool| Watch {
            interval: Duration::from_secs(2),
            format,
            quiet,
            screen,
            command: "kubectl c8dr status".into(),
        };
        let frame = |w: Watch| w.frame(&report(), at).map(|f| f.0).unwrap_or_default();
        let screen = frame(w(Format::Text, false, true));
        assert!(
            screen.starts_with(&format!(
                "{CLEAR}Every 2s: kubectl c8dr status   changed 2026-12-06T04:30:01Z"
            )),
            "{screen}"
        );
        let piped = frame(w(Format::Text, false, false));
        assert!(
            piped.starts_with("=== 2026-12-06T04:30:01Z ===\nstatus: "),
            "{piped}"
        );
        assert_eq!(
            frame(w(Format::Text, true, false)),
            "status: procedure step unknown: test\n"
        );
        let json = frame(w(Format::Json, false, false));
        assert_eq!(json.matches('\n').count(), 1, "one line: {json}");
        assert!(
            json.ends_with('\n') && json.starts_with("{\"apiVersion\""),
            "{json}"
        );
    }

    #[test]
    fn masks_every_run_of_digits() {
        assert_eq!(
            mask_digits("cannot reach http://127.0.0.1:43121 after 5s"),
            "cannot reach http://#.#.#.#:# after #s"
        );
    }

    #[test]
    fn volatile_fields_are_dropped_and_the_rest_kept() {
        let mut a = json!({
            "regions": [{"errors": ["port 40001 refused"], "exporting": {"maxLag": 12, "state": "exporting",
                "brokers": [{"partitions": [{"exportedPosition": 10, "processedPosition": 20, "exporterPhase": "EXPORTING"}]}]},
                "elasticsearch": {"camundaIndices": {"operate-x": 10, "tasklist-y": null}, "restoring": true}}],
            "cluster": {"members": [0, 1], "lastChange": {"id": 3, "status": "COMPLETED", "completedAt": "t1"},
                "pendingChange": {"id": 4, "completed": 1, "pending": 3}}
        });
        let mut b = json!({
            "regions": [{"errors": ["port 40777 refused"], "exporting": {"maxLag": 99, "state": "exporting",
                "brokers": [{"partitions": [{"exportedPosition": 11, "processedPosition": 29, "exporterPhase": "EXPORTING"}]}]},
                "elasticsearch": {"camundaIndices": {"operate-x": 15, "tasklist-y": null}, "restoring": true}}],
            "cluster": {"members": [0, 1], "lastChange": {"id": 3, "status": "COMPLETED", "completedAt": "t2"},
                "pendingChange": {"id": 4, "completed": 1, "pending": 3}}
        });
        normalise(&mut a, None);
        normalise(&mut b, None);
        assert_eq!(a, b, "only volatile fields differ");
        // What a person acts on is kept: a change's progress, the restore, an index restored.
        for (path, changed) in [
            ("/cluster/pendingChange/completed", json!(2)),
            ("/regions/0/elasticsearch/restoring", json!(false)),
            ("/regions/0/exporting/state", json!("paused")),
            ("/cluster/members", json!([0])),
            (
                "/regions/0/elasticsearch/camundaIndices/tasklist-y",
                json!(true),
            ),
        ] {
            let mut c = a.clone();
            if let Some(v) = c.pointer_mut(path) {
                *v = changed;
            }
            assert_ne!(a, c, "{path} is a change");
        }
    }
}
