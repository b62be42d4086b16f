//! The timeline of journaled mutations (pure: records in, a [`Timeline`] and its text out): per
//! mutation its start, duration and a bar scaled to the span shown, and the two windows an
//! operator cares about drawn over the same scale — the webapps off (from the helm upgrade that
//! turns them off in a serving region until the end of the one that turns them back on) and
//! exporting paused (from the pause until the end of the resume). A window that began before
//! the span shown is cut at its start and says so; one not closed yet is drawn to the end.

use serde::Serialize;

use super::Effect;
use super::read::Record;

/// What an entry with a start and no end says.
pub const UNFINISHED: &str = "started, no outcome";

/// The width of a bar, in columns.
pub const BAR: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    pub seconds: f64,
    pub entries: Vec<Entry>,
    pub windows: Vec<Window>,
    #[serde(skip)]
    span: (i64, i64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub run: String,
    pub tool: String,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub request: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Seconds from the timeline's start.
    pub offset_seconds: f64,
    /// `None`: no outcome was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// `done`, `already-done`, `submitted`, `failed`, or [`UNFINISHED`].
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<i64>,
    #[serde(skip)]
    ms: (i64, Option<i64>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// `webapps off` or `exporting paused`.
    pub name: String,
    pub started_at: String,
    /// `None` while open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Its length within the timeline (to the timeline's end while open).
    pub seconds: f64,
    pub open: bool,
    /// It began before the first entry shown (its start is the timeline's start).
    pub began_before: bool,
    #[serde(skip)]
    ms: (i64, i64),
}

const WINDOWS: [(&str, Effect, Effect); 2] = [
    ("webapps off", Effect::WebappsOff, Effect::WebappsOn),
    (
        "exporting paused",
        Effect::ExportingPaused,
        Effect::ExportingResumed,
    ),
];

/// The timeline of the records `shown` picks; the windows are found in every record (one that
/// an earlier command opened is drawn too).
pub fn build(all: &[Record], shown: impl Fn(&Record) -> bool) -> Timeline {
    let picked: Vec<&Record> = all.iter().filter(|r| shown(r)).collect();
    let Some(t0) = picked.iter().map(|r| r.started_ms).min() else {
        return Timeline {
            started_at: None,
            ended_at: None,
            seconds: 0.0,
            entries: vec![],
            windows: vec![],
            span: (0, 0),
        };
    };
    let t1 = picked
        .iter()
        .map(|r| r.ended_ms.unwrap_or(r.started_ms))
        .max()
        .unwrap_or(t0);
    let entries = picked.iter().map(|r| entry(r, t0)).collect();
    let windows = WINDOWS
        .iter()
        .flat_map(|(name, off, on)| windows(all, name, *off, *on, (t0, t1)))
        .collect();
    Timeline {
        started_at: Some(stamp(t0)),
        ended_at: Some(stamp(t1)),
        seconds: secs(t1 - t0),
        entries,
        windows,
        span: (t0, t1),
    }
}

fn entry(r: &Record, t0: i64) -> Entry {
    let s = &r.start;
    Entry {
        id: s.id.clone(),
        run: s.run.clone(),
        tool: s.tool.clone(),
        command: s.command.clone(),
        step: s.step.clone(),
        region: s.region.clone(),
        target: s.target.clone(),
        request: s.request.clone(),
        effect: s.effect,
        started_at: s.at.clone(),
        ended_at: r.end.as_ref().map(|e| e.at.clone()),
        offset_seconds: secs(r.started_ms - t0),
        seconds: r.ended_ms.map(|e| secs(e - r.started_ms)),
        outcome: r
            .end
            .as_ref()
            .map_or(UNFINISHED.to_string(), |e| e.outcome.clone()),
        answer: r.end.as_ref().map(|e| e.answer.clone()),
        change_id: r.end.as_ref().and_then(|e| e.change_id),
        ms: (r.started_ms, r.ended_ms),
    }
}

/// The `off` → `on` windows that overlap `span`. A failed `off` opened nothing (a failed pause is
/// reverted); only an `on` that ended and did not fail closes one.
fn windows(all: &[Record], name: &str, off: Effect, on: Effect, span: (i64, i64)) -> Vec<Window> {
    let failed = |r: &Record| r.end.as_ref().is_some_and(|e| e.outcome == "failed");
    let mut found: Vec<(i64, Option<i64>)> = vec![];
    let mut open: Option<i64> = None;
    for r in all.iter().filter(|r| r.started_ms <= span.1) {
        if r.start.effect == Some(off) && open.is_none() && !failed(r) {
            open = Some(r.started_ms);
        } else if r.start.effect == Some(on)
            && let (Some(from), Some(to)) = (open, r.ended_ms)
            && !failed(r)
        {
            found.push((from, Some(to)));
            open = None;
        }
    }
    found.extend(open.map(|from| (from, None)));
    found
        .into_iter()
        .filter(|(from, to)| to.is_none_or(|t| t >= span.0) && *from <= span.1)
        .map(|(from, to)| {
            let a = from.max(span.0);
            let b = to.unwrap_or(span.1).min(span.1);
            Window {
                name: name.to_string(),
                started_at: stamp(from),
                ended_at: to.map(stamp),
                seconds: secs(b - a),
                open: to.is_none(),
                began_before: from < span.0,
                ms: (a, b),
            }
        })
        .collect()
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn stamp(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0).unsigned_abs());
    humantime::format_rfc3339_millis(t).to_string()
}

/// `HH:MM:SS` (UTC) of a time in ms since the epoch.
fn clock(ms: i64) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `0.4s`, `12.0s`, `2m05s`, `1h02m`.
pub fn took(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let s = seconds.round() as u64;
    if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    }
}

/// A bar of [`BAR`] columns with `fill` from `from` to `to` (ms), scaled to `span`; at least
/// one column, so that a short step is seen.
fn bar(span: (i64, i64), from: i64, to: i64, fill: char) -> String {
    let len = (span.1 - span.0).max(1) as f64;
    let col = |t: i64| ((t - span.0) as f64 / len * BAR as f64).clamp(0.0, BAR as f64);
    let a = (col(from).floor() as usize).min(BAR - 1);
    let b = (col(to).ceil() as usize).clamp(a + 1, BAR);
    (0..BAR)
        .map(|i| if (a..b).contains(&i) { fill } else { ' ' })
        .collect()
}

impl Timeline {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The timeline as text: one line per entry, then one per window.
    pub fn text(&self) -> String {
        let Some(from) = &self.started_at else {
            return String::new();
        };
        let mut out = format!(
            "timeline from {from} ({} mutations, {}; times UTC)\n",
            self.entries.len(),
            took(self.seconds)
        );
        let what = |e: &Entry| match &e.step {
            Some(step) => format!("{step}: {}", e.command),
            None => e.command.clone(),
        };
        let width = self
            .entries
            .iter()
            .map(|e| what(e).len())
            .max()
            .unwrap_or(0);
        let width = width.max("exporting paused".len());
        out.push_str(&format!(
            "{:<8}  {:>7}  {:<width$}  {:<8}  {:<19}  |{}|\n",
            "START",
            "TOOK",
            "MUTATION",
            "REGION",
            "OUTCOME",
            " ".repeat(BAR)
        ));
        for e in &self.entries {
            let (from, to) = e.ms;
            let (took_, fill) = match (e.seconds, to) {
                (Some(s), Some(_)) => (took(s), '█'),
                _ => ("?".to_string(), '░'),
            };
            out.push_str(&format!(
                "{:<8}  {:>7}  {:<width$}  {:<8}  {:<19}  |{}|\n",
                clock(from),
                took_,
                what(e),
                e.region.as_deref().unwrap_or("-"),
                e.outcome,
                bar(self.span, from, to.unwrap_or(self.span.1), fill)
            ));
        }
        for w in &self.windows {
            let state = match (w.open, w.began_before) {
                (true, _) => " (still open)",
                (false, true) => " (began earlier)",
                _ => "",
            };
            out.push_str(&format!(
                "{:<8}  {:>7}  {:<width$}  {:<8}  {:<19}  |{}|\n",
                clock(w.ms.0),
                took(w.seconds),
                w.name,
                "",
                format!("window{state}"),
                bar(self.span, w.ms.0, w.ms.1, '▒')
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{End, Start};

    const T0: i64 = 1_767_261_600_000; // 2026-01-01T10:00:00Z

    fn rec(id: u32, from_s: i64, to_s: Option<i64>, cmd: &str, effect: Option<Effect>) -> Record {
        let at = |s: i64| stamp(T0 + s * 1000);
        Record {
            start: Start {
                v: 1,
                id: format!("r.{id}"),
                run: "r".into(),
                at: at(from_s),
                tool: "kubectl c8dr".into(),
                command: cmd.into(),
                step: None,
                region: Some("region0".into()),
                target: None,
                request: vec![],
                effect,
            },
            end: to_s.map(|t| End {
                v: 1,
                id: format!("r.{id}"),
                at: at(t),
                outcome: "done".into(),
                answer: "ok".into(),
                change_id: None,
                exit: None,
            }),
            started_ms: T0 + from_s * 1000,
            ended_ms: to_s.map(|t| T0 + t * 1000),
        }
    }

    fn failback() -> Vec<Record> {
        vec![
            rec(1, 0, Some(8), "helm upgrade", Some(Effect::WebappsOff)),
            rec(
                2,
                10,
                Some(11),
                "exporting pause",
                Some(Effect::ExportingPaused),
            ),
            rec(3, 11, Some(41), "es copy", None),
            rec(
                4,
                42,
                Some(44),
                "exporting resume",
                Some(Effect::ExportingResumed),
            ),
            rec(5, 50, Some(64), "helm upgrade", Some(Effect::WebappsOn)),
        ]
    }

    #[test]
    fn both_windows_run_from_the_start_of_the_off_step_to_the_end_of_the_on_step() {
        let t = build(&failback(), |_| true);
        assert_eq!(t.seconds, 64.0);
        let w: Vec<(&str, f64, bool)> = t
            .windows
            .iter()
            .map(|w| (w.name.as_str(), w.seconds, w.open))
            .collect();
        assert_eq!(
            w,
            [
                ("webapps off", 64.0, false),
                ("exporting paused", 34.0, false)
            ]
        );
    }

    #[test]
    fn bars_are_scaled_to_the_span_and_a_short_step_still_shows() {
        let text = build(&failback(), |_| true).text();
        let bars: Vec<&str> = text
            .lines()
            .skip(2)
            .map(|l| l.split('|').nth(1).expect("a bar"))
            .collect();
        // 64 s over 32 columns: 2 s a column.
        assert_eq!(bars[0].trim_end(), "████"); // 0-8 s
        assert_eq!(bars[1], format!("{}█{}", " ".repeat(5), " ".repeat(26))); // 10-11 s
        assert_eq!(bars[2].trim().chars().count(), 16); // 11-41 s: columns 5.5 to 20.5, widened
        assert_eq!(bars[5].chars().filter(|c| *c == '▒').count(), BAR); // webapps off
        assert!(text.lines().nth(1).expect("header").starts_with("START"));
        assert!(
            text.contains("00:01:04") || text.contains("1m04s"),
            "{text}"
        );
    }

    #[test]
    fn an_unfinished_entry_says_so_and_keeps_its_window_open() {
        let mut r = failback();
        r.truncate(3);
        r[2] = rec(3, 11, None, "es copy", None);
        let t = build(&r, |_| true);
        assert_eq!(t.entries[2].outcome, UNFINISHED);
        assert_eq!(t.entries[2].seconds, None);
        let text = t.text();
        assert!(text.contains("started, no outcome"), "{text}");
        assert!(text.contains('░'), "{text}");
        assert!(t.windows.iter().all(|w| w.open), "{:?}", t.windows);
        assert!(text.contains("window (still open)"), "{text}");
    }

    #[test]
    fn a_window_opened_before_the_entries_shown_is_cut_at_their_start() {
        let t = build(&failback(), |r| r.started_ms >= T0 + 10_000);
        let webapps = &t.windows[0];
        assert!(webapps.began_before);
        assert_eq!(webapps.seconds, 54.0);
        assert_eq!(t.entries.len(), 4);
        assert!(t.text().contains("window (began earlier)"));
    }

    #[test]
    fn a_failed_pause_opens_no_window() {
        let mut r = failback();
        if let Some(e) = r[1].end.as_mut() {
            e.outcome = "failed".into();
        }
        r.remove(3);
        let t = build(&r, |_| true);
        assert_eq!(t.windows.len(), 1, "{:?}", t.windows);
    }

    #[test]
    fn durations_read_as_an_operator_says_them() {
        assert_eq!(took(0.42), "0.4s");
        assert_eq!(took(125.0), "2m05s");
        assert_eq!(took(3720.0), "1h02m");
        assert_eq!(clock(T0 + 3_723_000), "11:02:03");
        assert_eq!(build(&[], |_| true).text(), "");
    }
}
