//! Commands run through exec in a simulated pod (OWNED BY THE KUBE API WORK: issue 3).

use crate::world::{RegionId, SharedWorld};

/// What a command run in a pod produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

impl ExecOutcome {
    pub fn success(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: stdout.into(),
            stderr: vec![],
            exit_code: 0,
        }
    }
    pub fn failure(exit_code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: vec![],
            stderr: stderr.into(),
            exit_code,
        }
    }
}

/// Run `argv` in `container` of `pod` in `region`.
pub fn run(
    world: &SharedWorld,
    region: RegionId,
    _pod: &str,
    container: &str,
    argv: &[String],
    stdin: &[u8],
) -> ExecOutcome {
    match (container, argv.first().map(String::as_str)) {
        ("elasticsearch", Some("curl")) => crate::es::curl::run(world, region, argv, stdin),
        (_, Some(cmd)) => ExecOutcome::failure(127, format!("{cmd}: command not found\n")),
        (_, None) => ExecOutcome::failure(1, "no command given\n"),
    }
}
