//! Reading the journal: its lines parsed (a line that is not one is counted and skipped: a
//! journal written by a newer c8dr, or a disk that filled up mid-line), then each start joined
//! with its end into a [`Record`].

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use super::{End, Line, Start};
use crate::error::{Error, Result};

/// The parsed lines of a journal.
#[derive(Debug, Default)]
pub struct Lines {
    pub lines: Vec<Line>,
    /// Lines that are not journal lines.
    pub skipped: usize,
}

pub fn parse(text: &str) -> Lines {
    let mut out = Lines::default();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Line>(l) {
            Ok(line) => out.lines.push(line),
            Err(_) => out.skipped += 1,
        }
    }
    out
}

/// The journal at `path`: `None` when there is none.
pub fn load(path: &Path) -> Result<Option<Lines>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::failed(format!(
            "reading the journal {}: {e}",
            path.display()
        ))),
    }
}

/// One mutation: its start, and its end when one was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub start: Start,
    pub end: Option<End>,
    /// Milliseconds since the epoch.
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn epoch_ms(at: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(at).ok()?;
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// Every start with its end, in the order they started; starts whose time cannot be read are
/// skipped (counted in `skipped`).
pub fn records(lines: &Lines) -> (Vec<Record>, usize) {
    let mut ends: HashMap<&str, &End> = HashMap::new();
    for l in &lines.lines {
        if let Line::End(e) = l {
            ends.insert(e.id.as_str(), e);
        }
    }
    let mut skipped = lines.skipped;
    let mut out = vec![];
    for l in &lines.lines {
        let Line::Start(s) = l else { continue };
        let Some(started_ms) = epoch_ms(&s.at) else {
            skipped += 1;
            continue;
        };
        let end = ends.get(s.id.as_str()).map(|e| (*e).clone());
        let ended_ms = end.as_ref().and_then(|e| epoch_ms(&e.at));
        out.push(Record {
            start: s.clone(),
            end,
            started_ms,
            ended_ms,
        });
    }
    out.sort_by_key(|r| r.started_ms);
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_without_an_end_is_a_record_without_an_outcome_and_garbage_is_counted() {
        let text = r#"{"event":"start","v":1,"id":"a.1","run":"a","at":"2026-01-01T10:00:00.000Z","tool":"kubectl c8dr","command":"exporting pause","request":[]}
{"event":"start","v":1,"id":"a.2","run":"a","at":"2026-01-01T10:00:05.000Z","tool":"kubectl c8dr","command":"es copy","request":[]}
{"event":"end","v":1,"id":"a.1","at":"2026-01-01T10:00:01.500Z","outcome":"done","answer":"paused"}
{"event":"start","v":1,"id":"a.3","run":"a","at":"2026-01-01T10:00:0
"#;
        let (r, skipped) = records(&parse(text));
        assert_eq!(skipped, 1);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].ended_ms.map(|e| e - r[0].started_ms), Some(1500));
        assert!(r[1].end.is_none());
    }
}
