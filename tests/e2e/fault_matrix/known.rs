//! Rows of the fault matrix that do not meet its checks today, with the reason (the defect and
//! whose files it is in). The suite asserts that each still fails, so a fix shows up as "remove
//! the entry". docs/reliability.md lists them.

use super::rows::Row;

/// (fault name, step label, reason), as the matrix prints them.
pub const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// The reason a row is a known failure, if it is one.
pub fn reason(row: &Row) -> Option<&'static str> {
    KNOWN_FAILURES
        .iter()
        .find(|(f, s, _)| row.fault_label() == *f && row.step.label() == *s)
        .map(|(_, _, r)| *r)
}
