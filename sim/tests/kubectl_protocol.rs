//! The REAL `kubectl` against the simulator's fake API servers: the proof that the fake speaks
//! the real protocol (discovery, lists with label selectors, get, logs, exec over v5).
//!
//! `kubectl` must be on PATH. Each test gets its own HOME (kubectl caches discovery per host).

use std::path::Path;
use std::process::{Command, Output};

use c8dr_sim::{Sim, SimConfig};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sim: Option<Sim>,
    home: tempfile::TempDir,
}

impl Fixture {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let home = tempfile::tempdir().expect("temp HOME");
        let dir = home.path().join("sim");
        let sim = runtime
            .block_on(Sim::start(SimConfig::default(), &dir))
            .expect("simulator starts");
        Self {
            runtime,
            sim: Some(sim),
            home,
        }
    }

    fn sim(&self) -> &Sim {
        self.sim.as_ref().expect("sim running")
    }

    /// Run kubectl with `args` against region `region`'s context.
    fn kubectl(&self, region: usize, args: &[&str]) -> Output {
        let sim = self.sim();
        let kubeconfig: &Path = &sim.kubeconfig;
        Command::new("kubectl")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", kubeconfig)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--context")
            .arg(c8dr_sim::context_name(region))
            .arg("--request-timeout=10s")
            .args(args)
            .output()
            .expect("kubectl runs")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Stop the simulator's tasks inside the runtime that owns them.
        let _guard = self.runtime.enter();
        self.sim.take();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "kubectl failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

#[test]
fn get_pods_by_label_lists_the_four_brokers() {
    let f = Fixture::start();
    let out = f.kubectl(
        1,
        &[
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component=zeebe-broker",
            "-o",
            "name",
        ],
    );
    assert_ok(&out);
    let names: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(
        names,
        [
            "pod/camunda-zeebe-0",
            "pod/camunda-zeebe-1",
            "pod/camunda-zeebe-2",
            "pod/camunda-zeebe-3"
        ]
    );
    // Human output too (kubectl asks for a Table and accepts a plain list).
    let out = f.kubectl(
        1,
        &["get", "pods", "-l", "app.kubernetes.io/name=elasticsearch"],
    );
    assert_ok(&out);
    let table = stdout(&out);
    assert!(
        table.contains("READY") && table.contains("STATUS"),
        "{table}"
    );
    let es_row = table
        .lines()
        .find(|l| l.starts_with("camunda-elasticsearch-master-0"))
        .unwrap_or_else(|| panic!("no ES row in {table}"));
    assert!(
        es_row.contains("1/1") && es_row.contains("Running"),
        "{es_row}"
    );
    // Existence selector.
    let out = f.kubectl(
        0,
        &[
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component",
            "-o",
            "name",
        ],
    );
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 5);
}

#[test]
fn get_configmap_shows_the_profiles() {
    let f = Fixture::start();
    let out = f.kubectl(
        0,
        &[
            "get",
            "cm",
            "camunda-zeebe-configuration-unified",
            "-o",
            "yaml",
        ],
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains("broker,identity,operate,tasklist,consolidated-auth"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn missing_objects_are_not_found() {
    let f = Fixture::start();
    let out = f.kubectl(0, &["get", "pod", "no-such-pod"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("NotFound") && stderr(&out).contains("no-such-pod"),
        "{}",
        stderr(&out)
    );
    // Another namespace holds nothing.
    let out = f.kubectl(0, &["get", "pods", "-n", "other", "-o", "name"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "");
}

#[test]
fn broker_logs_name_the_active_profiles() {
    let f = Fixture::start();
    let out = f.kubectl(0, &["logs", "camunda-zeebe-1", "-c", "orchestration"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(
            r#"The following 5 profiles are active: "broker", "identity", "operate", "tasklist", "consolidated-auth""#
        ),
        "{}",
        stdout(&out)
    );
    let out = f.kubectl(
        0,
        &[
            "logs",
            "camunda-zeebe-1",
            "-c",
            "orchestration",
            "--tail",
            "1",
        ],
    );
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn exec_passes_the_exit_code_through() {
    let f = Fixture::start();
    let out = f.kubectl(
        0,
        &[
            "exec",
            "camunda-elasticsearch-master-0",
            "-c",
            "elasticsearch",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("exit code 7"), "{}", stderr(&out));
}

#[test]
fn exec_separates_stdout_and_stderr() {
    let f = Fixture::start();
    let out = f.kubectl(
        0,
        &[
            "exec",
            "camunda-zeebe-0",
            "-c",
            "orchestration",
            "--",
            "echo",
            "hello",
            "world",
        ],
    );
    assert_ok(&out);
    assert_eq!(stdout(&out), "hello world\n");
    assert_eq!(stderr(&out), "");

    let out = f.kubectl(
        0,
        &[
            "exec",
            "camunda-zeebe-0",
            "-c",
            "orchestration",
            "--",
            "no-such-command",
        ],
    );
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("no-such-command: command not found"),
        "{}",
        stderr(&out)
    );

    let out = f.kubectl(
        1,
        &[
            "exec",
            "camunda-zeebe-2",
            "-c",
            "orchestration",
            "--",
            "env",
        ],
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains("VALUES_ORCHESTRATION_NODE_ID=5"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn exec_with_stdin() {
    let f = Fixture::start();
    let sim = f.sim();
    let mut child = Command::new("kubectl")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", f.home.path())
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args([
            "exec",
            "-i",
            "camunda-zeebe-0",
            "-c",
            "orchestration",
            "--",
            "cat",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"from stdin\n").expect("write stdin");
    }
    let out = child.wait_with_output().expect("kubectl ends");
    assert_ok(&out);
    assert_eq!(stdout(&out), "from stdin\n");
}

#[test]
fn a_recreated_region_has_no_pods_until_installed() {
    let f = Fixture::start();
    f.sim().lose_region(1);
    f.sim().recreate_region(1);
    let out = f.kubectl(1, &["get", "pods", "-o", "name"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "");
}

#[test]
fn a_lost_region_is_unreachable() {
    let f = Fixture::start();
    f.sim().lose_region(1);
    let out = f.kubectl(1, &["get", "pods"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    // Region 0 still answers.
    let out = f.kubectl(0, &["get", "pods", "-o", "name"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 5);
}

#[test]
fn kubectl_port_forward_is_refused_not_faked() {
    let f = Fixture::start();
    let out = f.kubectl(
        0,
        &[
            "port-forward",
            "camunda-zeebe-0",
            "19600:9600",
            "--pod-running-timeout=5s",
        ],
    );
    assert!(!out.status.success());
}

#[test]
fn a_cut_exec_stream_fails_kubectl_with_partial_output() {
    let f = Fixture::start();
    f.sim().world().lock().faults.cut_exec_streams = 1;
    let out = f.kubectl(
        0,
        &[
            "exec",
            "camunda-zeebe-0",
            "-c",
            "orchestration",
            "--",
            "echo",
            "abcdef",
        ],
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    let partial = stdout(&out);
    assert!(
        "abcdef\n".starts_with(&partial) && partial.len() < "abcdef\n".len(),
        "{partial:?}"
    );
    assert_eq!(f.sim().world().lock().faults.cut_exec_streams, 0);
    // The next exec is whole again.
    let out = f.kubectl(
        0,
        &[
            "exec",
            "camunda-zeebe-0",
            "-c",
            "orchestration",
            "--",
            "echo",
            "abcdef",
        ],
    );
    assert_ok(&out);
    assert_eq!(stdout(&out), "abcdef\n");
}
