//! Bad inputs that do not meet docs/contract.md §4 rule 8 today, with the reason. Each entry is a pattern over
//! case ids (`*` matches any text) so that one defect seen on many commands is one entry; the
//! suite asserts that every case an entry matches still fails, so a fix shows up as "remove the
//! entry". docs/reliability.md lists them (none today).

/// (patterns over case ids, reason).
pub const KNOWN_EXCEPTIONS: &[(&[&str], &str)] = &[];

/// Whether `id` matches `pattern`, where `*` matches any text (anchored at both ends).
pub fn matches(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return id.is_empty(),
    };
    let Some(mut tail) = id.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

#[test]
fn patterns_match_as_globs() {
    assert!(matches(
        "kubectl c8dr * --context nowhere",
        "kubectl c8dr status --yes --context nowhere"
    ));
    assert!(!matches(
        "kubectl c8dr * --context nowhere",
        "kubectl c8dr status --context nowhere2"
    ));
    assert!(matches("a*b*c", "abc"));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
    assert!(!matches("ab*ba", "aba"));
}
