//! `kubectl c8dr history`: the journal ([`crate::journal`]) as a timeline — every mutation c8dr
//! sent from this machine, with its start, duration and outcome, and the windows the webapps
//! were off and exporting paused. Reads one local file; reaches no cluster.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::journal::read::{self, Record};
use crate::journal::timeline::{self, Timeline};
use crate::output::Render;
use crate::session::Session;

/// `kubectl c8dr history`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryReport {
    /// The journal file read.
    pub journal: String,
    /// Whether the file exists.
    pub found: bool,
    /// Lines that were not journal lines (skipped).
    pub skipped_lines: usize,
    /// `--since`, as an RFC 3339 time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(flatten)]
    pub timeline: Timeline,
}

impl Render for HistoryReport {
    fn text(&self) -> String {
        if !self.found {
            return format!(
                "no journal at {}: c8dr has changed nothing from here yet\n",
                self.journal
            );
        }
        let mut s = if self.timeline.is_empty() {
            match &self.since {
                Some(since) => format!("no mutation in {} since {since}\n", self.journal),
                None => format!("the journal {} is empty\n", self.journal),
            }
        } else {
            format!("journal {}\n{}", self.journal, self.timeline.text())
        };
        if self.skipped_lines > 0 {
            s.push_str(&format!(
                "({} lines of the journal are not journal lines and were skipped)\n",
                self.skipped_lines
            ));
        }
        s
    }
}

/// `--since`: a duration back from now (`2h`, `30m`) or an RFC 3339 time; bad input is exit 2.
pub fn since(raw: &str, now: SystemTime) -> Result<SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339_weak(raw) {
        return Ok(t);
    }
    let d: Duration = crate::duration::parse_duration("--since", raw).map_err(|_| {
        Error::usage(format!(
            "--since {}: expected a duration (2h, 30m) or a time (2026-01-01T10:00:00Z)",
            crate::error::shown(raw)
        ))
    })?;
    Ok(now.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH))
}

/// `kubectl c8dr history [--since S]`: an empty or missing journal says so (exit 0).
pub async fn history(session: &Session, since_flag: Option<&str>) -> Result<HistoryReport> {
    let from = since_flag
        .map(|s| since(s, SystemTime::now()))
        .transpose()?;
    let path = crate::journal::path(&session.settings.env).ok_or_else(|| {
        Error::usage(format!(
            "no journal: set {} (or HOME or XDG_STATE_HOME)",
            crate::journal::VARIABLE
        ))
    })?;
    let lines = read::load(&path)?;
    let found = lines.is_some();
    let (records, skipped) = read::records(&lines.unwrap_or_default());
    let from_ms = from.map(|t| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    });
    let shown = |r: &Record| from_ms.is_none_or(|f| r.started_ms >= f);
    Ok(HistoryReport {
        journal: path.display().to_string(),
        found,
        skipped_lines: skipped,
        since: from.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
        timeline: timeline::build(&records, shown),
    })
}

/// The timeline of this process's run, for a driver's closing lines (`None` when it sent
/// nothing, or the journal cannot be read).
pub fn this_run(session: &Session) -> Option<Timeline> {
    let path = crate::journal::path(&session.settings.env)?;
    let lines = read::load(&path).ok()??;
    let (records, _) = read::records(&lines);
    let run = crate::journal::run_id();
    let t = timeline::build(&records, |r| r.start.run == run);
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_duration_back_or_a_time() {
        let now = humantime::parse_rfc3339("2026-01-01T12:00:00Z").expect("now");
        let at = |raw: &str| since(raw, now).map(|t| humantime::format_rfc3339(t).to_string());
        assert_eq!(at("2h").expect("2h"), "2026-01-01T10:00:00Z");
        assert_eq!(
            at("2026-01-01T11:30:00Z").expect("a time"),
            "2026-01-01T11:30:00Z"
        );
        assert_eq!(at("yesterday").map_err(|e| e.exit_code()), Err(2));
    }
}
