//! A server that accepts a connection and never answers (issue 19 item 6): used as the API
//! server of a kubeconfig, as `--gateway-url`, `--rest-url` and `--es-url`. Each command must
//! end within its `--timeout` (plus slack) with exit 4 or 5 saying what it waited for. The
//! kill limit is generous: this asserts the exit code and the message, never wall time.
//!
//! Rerun with `cargo test -p c8dr-e2e --test e2e hang`.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use c8dr_e2e::{Run, TestEnv};

/// Far above `--timeout 2s`: a run still going then is a hang.
const KILL_AFTER: Duration = Duration::from_secs(60);

/// A loopback listener that accepts every connection and holds it open, silent.
struct Silent {
    port: u16,
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

fn silent() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap_or_else(|e| e.into_inner()).push(s);
        }
    });
    Silent { port, _held: held }
}

fn check(run: &Run, names: &[&str]) {
    assert!(!run.killed, "hung past {KILL_AFTER:?}\n{}", run.context());
    assert!(
        run.code == 4 || run.code == 5,
        "expected exit 4 or 5\n{}",
        run.context()
    );
    assert!(
        names.iter().any(|n| run.stderr.contains(n)),
        "the error names none of {names:?}\n{}",
        run.context()
    );
}

#[test]
fn a_silent_gateway_rest_or_es_url_ends_within_the_timeout() {
    let env = TestEnv::start();
    let s = silent();
    let url = format!("http://127.0.0.1:{}", s.port);
    let addr = format!("127.0.0.1:{}", s.port);
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--gateway-url".into(),
            url.clone(),
            "exporters".into(),
            "list".into(),
        ],
        vec!["--rest-url".into(), url.clone(), "topology".into()],
        vec!["--es-url".into(), url.clone(), "es".into(), "status".into()],
    ];
    run_all(&env, &[], cases, &[&addr, &url]);
}

#[test]
fn a_silent_kubernetes_api_server_ends_within_the_timeout() {
    let env = TestEnv::start();
    let s = silent();
    let kubeconfig = env.cwd.join("silent.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: silent\n  cluster:\n    server: http://127.0.0.1:{}\n\
             contexts:\n- name: silent\n  context:\n    cluster: silent\n    user: u\n    namespace: camunda\n\
             current-context: silent\nusers:\n- name: u\n  user:\n    token: t\n",
            s.port
        ),
    )
    .expect("write kubeconfig");
    let kc = kubeconfig.display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["exporters", "list"],
        vec!["topology"],
        vec!["es", "status"],
    ];
    let cases: Vec<Vec<String>> = cases
        .into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect();
    let flags = ["--kubeconfig", kc.as_str(), "--context", "silent"];
    run_all(&env, &flags, cases, &["Kubernetes API"]);
}

/// Each case (`kubectl-c8dr FLAGS --timeout 2s ARGS`) at once, each killed after
/// [`KILL_AFTER`]; then every run must end by itself naming one of `names`.
fn run_all(env: &TestEnv, flags: &[&str], cases: Vec<Vec<String>>, names: &[&str]) {
    let runs: Vec<(Vec<String>, Run)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .into_iter()
            .map(|args| {
                scope.spawn(move || {
                    let mut all: Vec<std::ffi::OsString> = flags.iter().map(Into::into).collect();
                    all.extend(["--timeout".into(), "2s".into()]);
                    all.extend(args.iter().map(Into::into));
                    let run = env.command("kubectl-c8dr", all).run_within(KILL_AFTER);
                    (args, run)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("case thread"))
            .collect()
    });
    for (args, run) in &runs {
        eprintln!("{args:?}: exit {}", run.code);
    }
    for (_, run) in &runs {
        check(run, names);
    }
}
