//! Durations on the command line. Two grammars on purpose, in one place:
//! - [`parse_duration`]: `kubectl c8dr --timeout` and the other c8dr flags, humantime's grammar
//!   (`15m`, `90s`, `1h 30m`, `2days`).
//! - [`parse_go_duration`]: `helm c8dr redeploy --timeout`, which is passed on to helm unchanged,
//!   so it must be what helm accepts: Go's `time.ParseDuration` (`10m`, `1h30m`, `600s`, `1.5h`;
//!   units ns, us, µs, ms, s, m, h).

use std::time::Duration;

use crate::error::{Error, Result};

/// Parse a c8dr duration flag like `15m`, `90s`, `1h30m` (humantime's grammar).
pub fn parse_duration(flag: &str, raw: &str) -> Result<Duration> {
    humantime::parse_duration(raw)
        .map_err(|e| Error::usage(format!("{flag} '{raw}': {e} (expected e.g. 15m, 90s)")))
}

/// Parse a Go duration as helm's `--timeout` takes it (`10m`, `1h30m`, `600s`, `1.5h`).
pub fn parse_go_duration(s: &str) -> Result<Duration> {
    let bad = || {
        Error::usage(format!(
            "--timeout '{s}': expected a duration such as 10m, 600s or 1h30m"
        ))
    };
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let (unit, seconds) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("h", 3600.0),
            ("m", 60.0),
            ("s", 1.0),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))
        .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
        total += number * seconds;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_are_what_helm_takes() {
        for (ok, secs) in [
            ("10m", 600.0),
            ("600s", 600.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
        ] {
            assert_eq!(
                parse_go_duration(ok).map(|d| d.as_secs_f64()).ok(),
                Some(secs),
                "{ok}"
            );
        }
        assert_eq!(
            parse_go_duration("250ms").ok(),
            Some(Duration::from_millis(250))
        );
        for bad in ["", "ten minutes", "10", "10x", "1h 30m"] {
            let err = parse_go_duration(bad).expect_err(bad);
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().starts_with("--timeout '"), "{err}");
        }
    }

    #[test]
    fn c8dr_durations_use_humantime_and_name_the_flag() {
        assert_eq!(
            parse_duration("--timeout", "1h 30m").ok(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            parse_duration("--timeout", "90s").ok(),
            Some(Duration::from_secs(90))
        );
        let err = parse_duration("--wait-for", "soon").expect_err("bad");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("--wait-for 'soon': "), "{err}");
    }
}
