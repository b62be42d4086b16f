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

/// How much longer than its bound a command may take here: the plugin's start, kubectl, the
/// simulator's answers on a loaded machine. Not a speed target (those are in bench/): a run that
/// waits for the silent server twice (or for a fixed 10 s) takes at least twice its bound, past
/// the bound plus this margin.
const MARGIN: Duration = Duration::from_secs(3);

/// The environment's kubeconfig with region 1's API server replaced by a silent one: region 1
/// is a lost region whose API server accepts connections and never answers.
fn region1_silent(env: &mut TestEnv, s: &Silent) {
    let kubeconfig = env
        .env
        .iter()
        .find(|(k, _)| k == "KUBECONFIG")
        .map(|(_, v)| v.clone())
        .expect("KUBECONFIG");
    let context = env
        .env
        .iter()
        .find(|(k, _)| k == "CLUSTER_RECREATED")
        .map(|(_, v)| v.clone())
        .expect("CLUSTER_RECREATED");
    let text = std::fs::read_to_string(&kubeconfig).expect("read kubeconfig");
    let mut out = String::new();
    let mut in_cluster = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("- name: ") {
            in_cluster = name == context;
        }
        if in_cluster && line.trim_start().starts_with("server: ") {
            out.push_str(&format!("    server: http://127.0.0.1:{}\n", s.port));
            in_cluster = false;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert_ne!(
        out.trim_end(),
        text.trim_end(),
        "region 1's server replaced"
    );
    let path = env.cwd.join("region1-silent.kubeconfig");
    std::fs::write(&path, out).expect("write kubeconfig");
    env.set_env("KUBECONFIG", path.display().to_string());
}

/// Run `kubectl-c8dr ARGS` and return it with how long it took.
fn timed(env: &TestEnv, args: &[&str]) -> (Run, Duration) {
    let started = std::time::Instant::now();
    let run = env
        .command(
            "kubectl-c8dr",
            args.iter().map(std::ffi::OsString::from).collect(),
        )
        .run_within(KILL_AFTER);
    (run, started.elapsed())
}

fn within(run: &Run, took: Duration, bound: Duration, args: &[&str]) {
    assert!(!run.killed, "hung past {KILL_AFTER:?}\n{}", run.context());
    assert!(
        took <= bound + MARGIN,
        "{args:?} took {took:?}, more than its bound {bound:?} + {MARGIN:?}: a silent server was \
         waited for more than once\n{}",
        run.context()
    );
}

/// Attack D2: region 1's API server is silent. `status --probe-timeout 3s` waits for it once,
/// for 3 s (not a fixed 10 s for the installation read); `exporting pause` with `--timeout 4s`
/// waits 4 s once (the installation read, then every later read of region 1 ends at once).
/// D3: that pause could not be verified on region 1's member brokers: exit 1, reverted.
#[test]
fn a_silent_region_is_waited_for_once_within_the_commands_bound() {
    let mut env = TestEnv::start();
    let s = silent();
    region1_silent(&mut env, &s);

    // 3 s: region 0's own probes must answer within it on a loaded machine.
    let args = ["status", "--probe-timeout", "3s"];
    let (run, took) = timed(&env, &args);
    within(&run, took, Duration::from_secs(3), &args);
    assert_eq!(run.code, 0, "region 0 answers\n{}", run.context());

    let args = ["--timeout", "4s", "exporting", "pause", "--dry-run"];
    let (run, took) = timed(&env, &args);
    within(&run, took, Duration::from_secs(4), &args);

    let args = ["--timeout", "4s", "exporting", "pause", "--yes"];
    let (run, took) = timed(&env, &args);
    within(&run, took, Duration::from_secs(4), &args);
    assert_eq!(
        run.code,
        1,
        "an unverified pause is not done\n{}",
        run.context()
    );
    assert!(
        run.stderr.contains("could not be verified")
            && run.stderr.contains("exporting was resumed"),
        "{}",
        run.context()
    );
    assert_eq!(
        env.state()["exporting"],
        "Running",
        "the pause was reverted"
    );
}

/// Attack D2 with a silent `--rest-url`: the installation read's `/v2/topology` waits for it
/// once; the command's own reads of it then end at once.
#[test]
fn a_silent_rest_url_is_waited_for_once() {
    let env = TestEnv::start();
    let s = silent();
    let url = format!("http://127.0.0.1:{}", s.port);
    let args = [
        "--rest-url",
        url.as_str(),
        "--timeout",
        "4s",
        "rebalance",
        "--dry-run",
    ];
    let (run, took) = timed(&env, &args);
    within(&run, took, Duration::from_secs(4), &args);
    check(&run, &[&url]);
}

/// A loopback HTTP server that answers every request 200 with a body that never ends (JSON
/// bytes streamed as fast as they are read, no content-length): a server gone wrong.
fn endless() -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = "\"x\",".repeat(16 * 1024);
                // At most 1 GiB, ended by the client closing the connection.
                for _ in 0..(1 << 30) / chunk.len() {
                    if s.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Attack D9: a `/v2/topology` that never ends is read up to the documented bound (16 MiB) and
/// no further: "answer too large", exit 1, long before `--timeout` (memory stays bounded: the
/// read stops at the bound; before the fix it read on until the command's timeout).
#[test]
fn an_endless_answer_is_read_no_further_than_the_bound() {
    let env = TestEnv::start();
    let url = format!("http://127.0.0.1:{}", endless());
    let args = ["--rest-url", url.as_str(), "--timeout", "60s", "topology"];
    let (run, took) = timed(&env, &args);
    assert!(!run.killed, "{}", run.context());
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(
        run.stderr.contains("answer too large (> 16777216 bytes)"),
        "{}",
        run.context()
    );
    // 16 MiB over loopback takes well under a second; the bound here is the kill limit's
    // fraction, not a speed target.
    assert!(
        took < Duration::from_secs(30),
        "took {took:?}\n{}",
        run.context()
    );
}
