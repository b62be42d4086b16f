//! The end-to-end test harness: a simulator in-process, the real `kubectl-c8dr`/`helm-c8dr`
//! binaries on PATH, run through the real `kubectl`, each test with its own HOME and ports.
//!
//! ```ignore
//! let env = TestEnv::start();
//! env.kubectl_c8dr(["brokers", "remove", "--odd", "--yes"]).success().stdout_has("completed");
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use c8dr_sim::{Sim, SimConfig, state_json};
use serde_json::Value;

pub mod cli_help;
mod run;
pub use run::{COMMAND_DEADLINE, Run, RunBuilder, finish, send_signal};

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

/// `tests/fixtures/values`: the reference values layouts (`c8-multi-region-8.8` is the docs' EKS
/// layout, `openshift-8.8` one generated file per region).
pub fn values_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/values")
}

/// Copy a directory tree (fixtures into a test's working directory).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture");
        }
    }
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
    layout: Option<&'static str>,
}

impl TestEnvBuilder {
    pub fn config(mut self, f: impl FnOnce(&mut SimConfig)) -> Self {
        f(&mut self.cfg);
        self
    }
    /// The Camunda release the simulator models: "8.8" (default), "8.9" or "8.10"
    /// (`c8dr_sim::CamundaRelease`). Panics on any other string (a test's own mistake).
    pub fn camunda(mut self, release: &str) -> Self {
        self.cfg.camunda = c8dr_sim::CamundaRelease::parse(release)
            .unwrap_or_else(|e| panic!("TestEnvBuilder::camunda: {e}"));
        self
    }
    /// Which region the docs' `*_SURVIVING` variables name (default region0).
    pub fn surviving(mut self, region: usize) -> Self {
        self.surviving = region;
        self
    }
    /// Copy a values layout of [`values_fixtures`] (e.g. `c8-multi-region-8.8`, the docs' EKS
    /// layout helm c8dr uses by default) into the working directory.
    pub fn values_layout(mut self, layout: &'static str) -> Self {
        self.layout = Some(layout);
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
        if let Some(layout) = self.layout {
            copy_tree(&values_fixtures().join(layout), &cwd);
        }
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
            layout: None,
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

    /// `kubectl c8dr` with the words of `line` (split at white space), e.g.
    /// `env.c8dr("es copy --from surviving --to recreated --yes")`.
    pub fn c8dr(&self, line: &str) -> Run {
        self.kubectl_c8dr(words(line))
    }

    /// `kubectl c8dr` with the words of `line`, straight to region `r`'s gateway
    /// (`--gateway-url`, `--rest-url`: direct mode, no port-forward).
    pub fn c8dr_direct(&self, r: usize, line: &str) -> Run {
        self.kubectl_c8dr(words(line).into_iter().chain(self.direct_flags(r)))
    }

    /// The global flags that point kubectl c8dr at region `r`'s gateway directly.
    pub fn direct_flags(&self, r: usize) -> Vec<String> {
        vec![
            "--gateway-url".into(),
            self.gateway_url(r),
            "--rest-url".into(),
            self.rest_url(r),
        ]
    }

    /// `cmd` followed by [`TestEnv::direct_flags`].
    pub fn direct_args(&self, r: usize, cmd: &[&str]) -> Vec<String> {
        cmd.iter()
            .map(|s| s.to_string())
            .chain(self.direct_flags(r))
            .collect()
    }

    /// `helm c8dr` with the words of `line`, e.g. `env.helm("redeploy --region both --yes")`.
    pub fn helm(&self, line: &str) -> Run {
        self.helm_c8dr(words(line))
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
        RunBuilder::new(cmd, shown)
    }

    /// The simulator's state summary (see `c8dr_sim::state_json`).
    pub fn state(&self) -> Value {
        state_json(&self.sim.world().lock())
    }

    /// Every HTTP request the simulator's listeners received so far (its request log: kube API
    /// servers, gateways, REST, Elasticsearch, broker pods).
    pub fn requests(&self) -> Vec<c8dr_sim::server::LoggedRequest> {
        self.sim.shared.requests.all()
    }

    /// The argv of every call the helm stand-in recorded (`HELM_BIN`), in order; `helm version`
    /// included (it reaches no cluster).
    pub fn helm_calls(&self) -> Vec<Vec<String>> {
        let dir = self
            .env
            .iter()
            .find(|(k, _)| k == "C8DR_SIM_HELM_RECORD")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| self.home.path().join(".c8dr-sim-helm"));
        let mut calls: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        calls.sort();
        calls
            .iter()
            .filter_map(|c| std::fs::read(c.join("argv.json")).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
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
        // The region's listeners are re-bound by the simulator's serving tasks (its own runtime
        // thread), which under load can take a moment: the next command must not meet a refused
        // port. Wait (bounded) until each accepts again.
        let e = &self.sim.shared.endpoints[region];
        let addrs: Vec<std::net::SocketAddr> = [e.kube_api, e.management, e.rest, e.elasticsearch]
            .into_iter()
            .chain(e.brokers.iter().copied())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        for addr in addrs {
            while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
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

    /// Confirmations answered (`C8DR_ASSUME_YES=1`) and the docs' `S3_BUCKET_NAME` exported, as
    /// a script running the procedure has them.
    pub fn scripted(mut self) -> Self {
        self.set_env("C8DR_ASSUME_YES", "1");
        self.set_env("S3_BUCKET_NAME", "camunda-bucket");
        self
    }

    /// Region 1 lost, `kubectl c8dr failover` run (it must succeed), region 1 recreated empty:
    /// where the failback starts. Confirmations must be answered (see [`TestEnv::scripted`]).
    pub fn failed_over_and_recreated(self) -> Self {
        self.lose_region(1);
        self.c8dr("failover").success();
        self.recreate_region(1);
        self
    }

    /// The helm steps of the failback (1 and 2) on the failed-over installation: the values
    /// layout the docs use (RF 4 in the shared file, one file per region), then
    /// `helm c8dr redeploy` of the recreated region (no webapps, no schema manager) and of the
    /// surviving one (no webapps). Where `kubectl c8dr failback` starts.
    pub fn helm_failback_steps(self) -> Self {
        std::fs::write(
            self.cwd.join("camunda-values.yml"),
            "orchestration:\n  replicationFactor: '4'\n",
        )
        .expect("values");
        for r in 0..2 {
            std::fs::create_dir_all(self.cwd.join(format!("region{r}"))).expect("dir");
            std::fs::write(
                self.cwd.join(format!("region{r}/camunda-values.yml")),
                "{}\n",
            )
            .expect("values");
        }
        self.helm("redeploy --region recreated --no-webapps --no-schema-manager")
            .success();
        self.helm("redeploy --region surviving --no-webapps")
            .success();
        self
    }

    /// Apply a helm release with `values` to a region directly in the simulator, as
    /// `helm upgrade --install` would (no helm c8dr run).
    pub fn apply_release(&self, region: usize, values: Value) {
        c8dr_sim::helm::apply_release(&mut self.sim.world().lock(), region, values);
    }

    /// The docs' exports without the `CAMUNDA_CLIENT_AUTH_*` lines: `/v2/topology` answers 401.
    pub fn remove_rest_credentials(&mut self) {
        self.env
            .retain(|(k, _)| !k.starts_with("CAMUNDA_CLIENT_AUTH_"));
    }
}

/// The words of a command line, split at white space (no quoting: for literal test commands).
pub fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

/// How many non-dry-run Zeebe requests of `method` whose path contains `part` the simulator's
/// state (see [`TestEnv::state`]) records.
pub fn count_requests(state: &Value, method: &str, part: &str) -> usize {
    state["requests"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|r| r["method"] == method)
                .filter_map(|r| r["path"].as_str())
                .filter(|p| p.contains(part) && !p.contains("dryRun"))
                .count()
        })
        .unwrap_or(0)
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
