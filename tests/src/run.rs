//! Running one command: a builder for its environment and stdin, a bounded wait, and the
//! finished [`Run`] with fluent assertions.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct RunBuilder {
    cmd: Command,
    shown: String,
    stdin: Option<Vec<u8>>,
}

impl RunBuilder {
    pub(crate) fn new(cmd: Command, shown: String) -> Self {
        Self {
            cmd,
            shown,
            stdin: None,
        }
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }
    /// Start the command without waiting (stdout and stderr discarded), e.g. to kill it mid-run.
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `{}`: {e}", self.shown))
    }

    /// Start the command with stdout and stderr piped (stdin closed), e.g. to send it a signal
    /// and then read what it printed with [`finish`].
    pub fn spawn_piped(mut self) -> (std::process::Child, String) {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `{}`: {e}", self.shown));
        (child, self.shown)
    }

    /// Start the command with stdin, stdout and stderr piped: to type into it (a Ctrl-C through
    /// `script`'s terminal) while reading what it prints.
    pub fn spawn_interactive(mut self) -> (std::process::Child, String) {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `{}`: {e}", self.shown));
        (child, self.shown)
    }

    /// Run to the end; a command still running after [`COMMAND_DEADLINE`] is killed and fails
    /// the test.
    pub fn run(self) -> Run {
        let run = self.run_within(COMMAND_DEADLINE);
        assert!(
            !run.killed,
            "killed after {COMMAND_DEADLINE:?}\n{}",
            run.context()
        );
        run
    }

    /// Run to the end, or kill the command after `limit` (then [`Run::killed`] is set and the
    /// code is -1): for suites that report a hung case instead of failing on it at once.
    pub fn run_within(mut self, limit: Duration) -> Run {
        use std::io::{Read, Write};
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `{}`: {e}", self.shown));
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(self.stdin.as_deref().unwrap_or_default());
        }
        // Drain both pipes on threads so a chatty child cannot block, and bound the run so a
        // hung command fails its test instead of stalling the suite.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let status = wait_bounded(&mut child, limit);
        Run {
            shown: self.shown,
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            killed: status.is_none(),
        }
    }
}

/// Wait for `child` at most `limit`; kill it then (`None`).
fn wait_bounded(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Wait (bounded) for a child started with [`RunBuilder::spawn_piped`] and collect its output.
pub fn finish(mut child: std::process::Child, shown: String) -> Run {
    use std::io::Read;
    let status = wait_bounded(&mut child, COMMAND_DEADLINE);
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut p) = child.stdout.take() {
        let _ = p.read_to_string(&mut stdout);
    }
    if let Some(mut p) = child.stderr.take() {
        let _ = p.read_to_string(&mut stderr);
    }
    let run = Run {
        shown,
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout,
        stderr,
        killed: status.is_none(),
    };
    assert!(
        status.is_some(),
        "killed after {COMMAND_DEADLINE:?}\n{}",
        run.context()
    );
    run
}

/// Send a signal (`TERM`, `INT`, `HUP`) to a process with the system's `kill`.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{signal} {} failed", child.id());
}

/// No single command of a test may take longer than this.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(90);

/// A finished command, with fluent assertions that print everything on failure.
#[derive(Debug, Clone)]
pub struct Run {
    pub shown: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Killed at the deadline instead of exiting.
    pub killed: bool,
}

impl Run {
    /// The command, its exit code and its whole output, for failure messages.
    pub fn context(&self) -> String {
        format!(
            "`{}` exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.shown, self.code, self.stdout, self.stderr
        )
    }
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            expected,
            "unexpected exit code\n{}",
            self.context()
        );
        self
    }
    pub fn success(self) -> Self {
        self.code(0)
    }
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.context()
        );
        self
    }
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.context()
        );
        self
    }
    /// stdout or stderr contains the text.
    pub fn output_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "output lacks {needle:?}\n{}",
            self.context()
        );
        self
    }
    pub fn stdout_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout unexpectedly has {needle:?}\n{}",
            self.context()
        );
        self
    }
    pub fn output_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "output unexpectedly has {needle:?}\n{}",
            self.context()
        );
        self
    }
    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{}", self.context()))
    }
}
