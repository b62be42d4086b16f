//! The end-to-end test harness: a simulator in-process, the real `kubectl-c8dr`/`helm-c8dr`
//! binaries on PATH, run through the real `kubectl`, each test with its own HOME and ports.
//!
//! ```ignore
//! let env = TestEnv::start();
//! env.kubectl_c8dr(["brokers", "remove", "--odd", "--yes"]).success().stdout_has("completed");
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use c8dr_sim::{Sim, SimConfig, state_json};
use serde_json::Value;

/// The directory cargo put the workspace binaries in (target/debug).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/e2e-<hash> -> target/debug
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf();
    for bin in ["kubectl-c8dr", "helm-c8dr", "c8dr-sim", "c8dr-sim-helm"] {
        assert!(
            dir.join(bin).exists(),
            "{bin} is not built in {}: run `cargo test --workspace` (or `cargo build --workspace --bins` first)",
            dir.display()
        );
    }
    dir
}

/// A simulator plus an isolated environment to run the plugins in.
pub struct TestEnv {
    pub sim: Sim,
    pub home: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    runtime: Option<tokio::runtime::Runtime>,
    pub cwd: PathBuf,
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Options for [`TestEnv`].
pub struct TestEnvBuilder {
    cfg: SimConfig,
    surviving: usize,
}

impl TestEnvBuilder {
    pub fn config(mut self, f: impl FnOnce(&mut SimConfig)) -> Self {
        f(&mut self.cfg);
        self
    }
    /// Which region the docs' `*_SURVIVING` variables name (default region0).
    pub fn surviving(mut self, region: usize) -> Self {
        self.surviving = region;
        self
    }
    pub fn start(self) -> TestEnv {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let home = tempfile::tempdir().expect("temp HOME");
        let sim = runtime
            .block_on(Sim::start(self.cfg, &home.path().join("sim")))
            .expect("simulator starts");
        let bins = bin_dir();
        let path = std::env::join_paths(std::iter::once(bins.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("PATH");
        let mut env: Vec<(String, String)> = sim.docs_env(self.surviving);
        env.push(("HOME".into(), home.path().display().to_string()));
        env.push(("PATH".into(), path.to_string_lossy().into_owned()));
        env.push((
            "HELM_BIN".into(),
            bins.join("c8dr-sim-helm").display().to_string(),
        ));
        env.push(("NO_COLOR".into(), "1".into()));
        let cwd = home.path().to_path_buf();
        TestEnv {
            sim,
            home,
            env,
            runtime: Some(runtime),
            cwd,
        }
    }
}

impl TestEnv {
    pub fn builder() -> TestEnvBuilder {
        TestEnvBuilder {
            cfg: fast_config(),
            surviving: 0,
        }
    }

    /// A healthy dual-region installation with fast server-side durations.
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// `kubectl c8dr ARGS…` through the real kubectl.
    pub fn kubectl_c8dr<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut all: Vec<OsString> = vec!["c8dr".into()];
        all.extend(args.into_iter().map(Into::into));
        self.run("kubectl", all)
    }

    /// `kubectl ARGS…` (the real one), e.g. `get pods`.
    pub fn kubectl<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.run("kubectl", args.into_iter().map(Into::into).collect())
    }

    /// `helm-c8dr ARGS…` as helm would run it (HELM_BIN is the simulator's helm stand-in).
    pub fn helm_c8dr<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.run("helm-c8dr", args.into_iter().map(Into::into).collect())
    }

    /// Run any program with this test's environment.
    pub fn run(&self, program: &str, args: Vec<OsString>) -> Run {
        self.command(program, args).run()
    }

    /// A command with this test's environment, for tweaking (extra env, stdin) before running.
    pub fn command(&self, program: &str, args: Vec<OsString>) -> RunBuilder {
        let mut cmd = Command::new(program);
        cmd.args(&args).current_dir(&self.cwd).env_clear();
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let shown = std::iter::once(program.to_string())
            .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" ");
        RunBuilder {
            cmd,
            shown,
            stdin: None,
        }
    }

    /// The simulator's state summary (see `c8dr_sim::state_json`).
    pub fn state(&self) -> Value {
        state_json(&self.sim.world().lock())
    }

    /// `http://` URL of a region's management API (for `--gateway-url`).
    pub fn gateway_url(&self, region: usize) -> String {
        format!("http://{}", self.sim.endpoints(region).management)
    }
    /// `http://` URL of a region's v2 REST API (for `--rest-url`).
    pub fn rest_url(&self, region: usize) -> String {
        format!("http://{}", self.sim.endpoints(region).rest)
    }
    /// `http://` URL of a region's Elasticsearch (for `--es-url`).
    pub fn es_url(&self, region: usize) -> String {
        format!("http://{}", self.sim.endpoints(region).elasticsearch)
    }

    pub fn lose_region(&self, region: usize) {
        self.sim.lose_region(region);
    }
    pub fn recreate_region(&self, region: usize) {
        self.sim.recreate_region(region);
    }

    /// Wait (bounded) until the simulator state satisfies `pred`; panics with the last state.
    pub fn wait_for_state(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.state();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; state: {s:#}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Set an environment variable for later runs (or override one).
    pub fn set_env(&mut self, key: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }
    pub fn remove_env(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
    }

    /// The docs' exports without the `CAMUNDA_CLIENT_AUTH_*` lines: `/v2/topology` answers 401.
    pub fn remove_rest_credentials(&mut self) {
        self.env
            .retain(|(k, _)| !k.starts_with("CAMUNDA_CLIENT_AUTH_"));
    }
}

/// Server-side durations short enough for tests, long enough to observe progress.
pub fn fast_config() -> SimConfig {
    SimConfig {
        operation_duration: Duration::from_millis(20),
        exporter_status_lag: Duration::from_millis(100),
        es_shard_duration: Duration::from_millis(10),
        ..SimConfig::default()
    }
}

pub struct RunBuilder {
    cmd: Command,
    shown: String,
    stdin: Option<Vec<u8>>,
}

impl RunBuilder {
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

    pub fn run(mut self) -> Run {
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
        let deadline = Instant::now() + COMMAND_DEADLINE;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let run = Run {
            shown: self.shown,
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        };
        assert!(
            status.is_some(),
            "killed after {COMMAND_DEADLINE:?}\n{}",
            run.context()
        );
        run
    }
}

/// Wait (bounded) for a child started with [`RunBuilder::spawn_piped`] and collect its output.
pub fn finish(mut child: std::process::Child, shown: String) -> Run {
    use std::io::Read;
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
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
}

impl Run {
    fn context(&self) -> String {
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
