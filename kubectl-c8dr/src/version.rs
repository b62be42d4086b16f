//! `kubectl c8dr version`: this binary's version, git commit, target and compiler (from
//! build.rs). No kubeconfig read, no cluster call; `-o json|yaml|jsonpath` as every report.

use std::process::ExitCode;

use c8dr_common::output::{Format, VersionInfo, render};

/// The facts build.rs recorded.
pub fn info() -> VersionInfo {
    VersionInfo {
        binary: "kubectl-c8dr".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("C8DR_GIT_COMMIT").into(),
        target: env!("C8DR_TARGET").into(),
        rustc_version: env!("C8DR_RUSTC_VERSION").into(),
    }
}

/// Print the version in the `-o` format; a bad `-o` is exit 2.
pub fn run(output: Option<&str>) -> ExitCode {
    let shown = output
        .map(str::parse::<Format>)
        .transpose()
        .and_then(|f| render(&info(), &f.unwrap_or_default()));
    match shown {
        Ok(text) => {
            c8dr_common::out!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            c8dr_common::errln!(
                "error: {}",
                c8dr_common::error::bound_message(&e.to_string())
            );
            crate::exit_code(e.exit_code())
        }
    }
}
