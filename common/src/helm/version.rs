//! The chart version helm is given (`--version`, `HELM_CHART_VERSION`), checked before helm runs.
//!
//! Helm hands the value to Masterminds/semver's `NewConstraint` (helm.sh/helm/v3 v3.17.4
//! `pkg/repo/index.go` `IndexFile.Get`, and for OCI charts after `NewVersion`; helm v3.17 pins
//! Masterminds/semver v3.3.0, the grammar is unchanged through v3.5.0 `constraints.go`): hyphen
//! ranges `A - B` are rewritten to `>= A, <= B`, the string is split on `||`, and each part must
//! match `validConstraintRegex`, comparisons separated by spaces or commas, each an optional
//! operator (`= != > < >= => <= =< ~ ~> ^`) and a version whose parts may be `x`, `X` or `*`.
//! The expressions below are those, with Go's `\s` (ASCII: tab, newline, form feed, carriage
//! return, space) spelled out.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};

const SPACE: &str = r"[\t\n\f\r ]";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

static RANGE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("{SPACE}*({CV}){SPACE}+-{SPACE}+({CV}){SPACE}*")).ok());
static VALID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let one = format!("({OPS}){SPACE}*({CV}){SPACE}*");
    Regex::new(&format!("^({SPACE}*{one})((?:{SPACE}+|,{SPACE}*){one})*$")).ok()
});

/// Whether helm accepts `v` as a chart version constraint.
pub fn is_constraint(v: &str) -> bool {
    let (Some(range), Some(valid)) = (RANGE.as_ref(), VALID.as_ref()) else {
        return false;
    };
    // `rewriteRange`: every `A - B` becomes `>= A, <= B ` (group 11 is the second version).
    let mut rewritten = v.to_string();
    for c in range.captures_iter(v) {
        if let (Some(all), Some(a), Some(b)) = (c.get(0), c.get(1), c.get(11)) {
            rewritten = rewritten.replacen(
                all.as_str(),
                &format!(">= {}, <= {} ", a.as_str(), b.as_str()),
                1,
            );
        }
    }
    rewritten.split("||").all(|part| valid.is_match(part))
}

/// `--version` or `HELM_CHART_VERSION` (named by `source`): a constraint helm accepts.
pub fn check(source: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if !is_constraint(v) => Err(Error::usage(format!(
            "{source} {}: not a chart version or version constraint helm accepts (e.g. 13.1.0, \
             ~13.1, \">= 13.0, < 14\", 13.x)",
            crate::error::shown(v)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_constraints_helm_accepts() {
        for v in [
            "13.1.0",
            "v13.1.0",
            "13",
            "13.1",
            "13.x",
            "13.1.*",
            "*",
            "~13.1",
            "~>13.1.0",
            "^13",
            ">= 13.0, < 14",
            ">=13.0 <14",
            "13.0 - 13.4",
            "13.1.0 || 14.x",
            "13.1.0-alpha.1",
            "13.1.0+build.5",
            "!=13.0.1",
            "=13.1.0",
            // Go's `\s` after a version: accepted by NewConstraint (helm_value refuses the
            // control character before this check).
            "13.1.0\n",
        ] {
            assert!(is_constraint(v), "{v}");
        }
    }

    #[test]
    fn what_newconstraint_refuses() {
        for v in [
            "not a version",
            "latest",
            "13.1.0; rm -rf /",
            "--devel",
            "13..1",
            ">",
            "13.1.0 ||",
            "1.2.3.4",
            "",
        ] {
            assert!(!is_constraint(v), "{v:?}");
        }
        assert!(check("--version", Some("latest")).is_err());
        assert!(check("--version", None).is_ok());
    }
}
