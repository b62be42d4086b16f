//! `kubectl c8dr status --watch` (issue 22 item 1), as `kubectl get -w`: a view again only when
//! something changed, a region lost mid-watch shown (never an exit), Ctrl-C and SIGTERM ending
//! it with exit 0. In a pipe: text under a timestamp line, `-o json` one compact document per
//! line; on a terminal (util-linux `script`, as tests/e2e/color.rs): the screen redrawn, the
//! cursor given back.

use std::io::{BufRead, Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use c8dr_e2e::{TestEnv, finish, send_signal, words};

/// Ends a watch a failed test left running (by its process id); a watch that ended is not
/// touched.
struct Reaper(u32);

impl Drop for Reaper {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::process::Command::new("kill")
                .arg("-KILL")
                .arg(self.0.to_string())
                .status();
        }
    }
}

/// Long enough for several polls at the tests' 200 ms interval.
const QUIET_SPELL: Duration = Duration::from_millis(1500);
const PATIENCE: Duration = Duration::from_secs(30);

/// The child's stdout, line by line, as it prints them.
fn lines(child: &mut std::process::Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let out = child.stdout.take().expect("stdout piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line, waited for (bounded).
fn next(rx: &Receiver<String>, what: &str) -> String {
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("no line for {what}: {e:?}"))
}

/// Lines until one satisfies `pred` (bounded); every line read, that one last.
fn until(rx: &Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = vec![];
    loop {
        let line = next(rx, what);
        let done = pred(&line);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

/// No line for `spell`: nothing changed, nothing printed.
fn silent(rx: &Receiver<String>, spell: Duration, after: &str) {
    match rx.recv_timeout(spell) {
        Err(RecvTimeoutError::Timeout) => {}
        Ok(line) => panic!("printed again although nothing changed ({after}): {line}"),
        Err(e) => panic!("the watch ended ({after}): {e:?}"),
    }
}

fn json_line(line: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not one JSON document a line ({e}): {line}"));
    let problems = crate::output_schema::schema_problems(&v);
    assert!(problems.is_empty(), "{problems:#?}\n{v:#}");
    v
}

#[test]
fn a_piped_json_watch_prints_one_compact_document_per_change() {
    let env = TestEnv::start();
    let (mut child, shown) = env
        .command(
            "kubectl-c8dr",
            words("status --watch --interval 200ms -o json")
                .into_iter()
                .map(Into::into)
                .collect(),
        )
        .spawn_piped();
    let _reaper = Reaper(child.id());
    let rx = lines(&mut child);
    let first = json_line(&next(&rx, "the first document"));
    assert_eq!(first["procedure"]["phase"], "healthy", "{first:#}");
    silent(&rx, QUIET_SPELL, "healthy");

    // Region 1 goes away mid-watch: shown as unreachable, the watch goes on.
    env.lose_region(1);
    let lost = until(&rx, "the lost region", |l| {
        json_line(l)["procedure"]["phase"] == "failover"
    });
    let lost = json_line(lost.last().map(String::as_str).unwrap_or_default());
    assert_eq!(lost["regions"][1]["reachable"], false, "{lost:#}");
    assert_eq!(lost["procedure"]["lostRegion"], "region1", "{lost:#}");
    silent(&rx, QUIET_SPELL, "region1 lost");
    assert!(
        child.try_wait().ok().flatten().is_none(),
        "the watch ended when a region was lost"
    );

    send_signal(&child, "TERM");
    let run = finish(child, shown).success();
    assert!(!run.stderr.contains("interrupted"), "{}", run.context());
}

/// The lines printed together (a view), waited for; done when nothing more comes for a moment
/// (the watch prints a view at once, then waits for its next poll).
fn burst(rx: &Receiver<String>, what: &str) -> Vec<String> {
    let mut seen = vec![next(rx, what)];
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(150)) {
        seen.push(line);
    }
    seen
}

#[test]
fn a_piped_text_watch_prints_the_view_under_a_timestamp_when_the_pause_changes() {
    let env = TestEnv::start();
    let (mut child, shown) = env
        .command(
            "kubectl-c8dr",
            words("status -w --interval 200ms")
                .into_iter()
                .map(Into::into)
                .collect(),
        )
        .spawn_piped();
    let _reaper = Reaper(child.id());
    let rx = lines(&mut child);
    let first = burst(&rx, "the first view");
    let header = first.first().cloned().unwrap_or_default();
    assert!(
        header.starts_with("=== 20") && header.ends_with("Z ==="),
        "a timestamp line first: {first:#?}"
    );
    assert_eq!(
        first.get(1).map(String::as_str),
        Some("status: healthy: no action"),
        "{first:#?}"
    );
    assert!(
        first
            .iter()
            .any(|l| l.contains("exporting:") && l.contains("EXPORTING")),
        "{first:#?}"
    );
    silent(&rx, QUIET_SPELL, "nothing changed yet");

    env.c8dr("exporting pause --yes").success();
    let mut views = vec![];
    loop {
        let view = burst(&rx, "the paused view");
        let paused = view
            .iter()
            .any(|l| l.contains("exporting:") && l.contains("PAUSED"));
        views.push(view);
        if paused {
            break;
        }
    }
    assert!(
        views
            .iter()
            .all(|v| v.first().is_some_and(|l| l.starts_with("=== 20"))),
        "every view under its own timestamp line: {views:#?}"
    );
    silent(&rx, QUIET_SPELL, "paused");

    send_signal(&child, "INT");
    finish(child, shown).success();
}

const ESC: &str = "\x1b[";
const CLEAR: &str = "\x1b[H\x1b[2J";
const SHOW_CURSOR: &str = "\x1b[?25h";
const HIDE_CURSOR: &str = "\x1b[?25l";

/// What a child printed so far, collected by a thread.
fn collect(child: &mut std::process::Child) -> Arc<Mutex<String>> {
    let seen = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().expect("stdout piped");
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    seen
}

fn wait_for(seen: &Arc<Mutex<String>>, what: &str, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = seen.lock().map(|s| s.clone()).unwrap_or_default();
        if pred(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {now:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn on_a_terminal_the_screen_is_redrawn_on_change_and_ctrl_c_gives_it_back() {
    let env = TestEnv::start();
    let (mut child, shown) = env
        .command(
            "script",
            vec![
                "-qec".into(),
                // exec: the watch is the terminal's foreground process, as when typed at a
                // prompt (a waiting `sh -c` would itself die of the Ctrl-C).
                "exec kubectl c8dr status --watch --interval 200ms".into(),
                "/dev/null".into(),
            ],
        )
        .env_remove("NO_COLOR")
        .spawn_interactive();
    let _reaper = Reaper(child.id());
    let seen = collect(&mut child);
    wait_for(&seen, "the healthy view", |s| {
        s.contains("status: healthy") && s.contains("exporters: ")
    });
    std::thread::sleep(QUIET_SPELL);
    let healthy = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        healthy.matches(CLEAR).count(),
        1,
        "drawn once while nothing changes: {healthy:?}"
    );
    assert!(healthy.starts_with(HIDE_CURSOR), "{healthy:?}");
    assert!(
        healthy.contains("Every 200ms: kubectl c8dr status"),
        "the header: {healthy:?}"
    );
    assert!(
        healthy.contains(&format!("{ESC}1;32mstatus: healthy")),
        "coloured as a single status: {healthy:?}"
    );

    env.lose_region(1);
    wait_for(&seen, "the lost view", |s| {
        s.rsplit(CLEAR).next().is_some_and(|v| {
            v.contains("region1") && v.contains("lost)") && v.contains("exporters: ")
        })
    });
    // Ctrl-C typed on the terminal: SIGINT from the terminal's line discipline.
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin.write_all(b"\x03").expect("typing Ctrl-C");
    stdin.flush().expect("flush");
    let run = finish(child, shown);
    drop(stdin);
    let all = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        run.code,
        0,
        "Ctrl-C ends the watch with 0: {all:?}\n{}",
        run.context()
    );
    let tail = all.rsplit(CLEAR).next().unwrap_or_default();
    assert!(
        tail.contains(SHOW_CURSOR),
        "the cursor is shown again after the last view: {all:?}"
    );
    assert!(
        !all.contains("interrupted"),
        "a watch ends quietly: {all:?}"
    );
}

/// Bad input ends a watch at once (exit 2, nothing on stdout), as it ends a single status: a
/// watch of a context the kubeconfig lacks would otherwise poll it forever.
#[test]
fn bad_input_ends_a_watch_at_once_with_exit_2() {
    let env = TestEnv::start();
    env.c8dr("status -w --interval 200ms --context nowhere")
        .code(2)
        .stderr_has("nowhere")
        .stdout_lacks("status:");
    env.c8dr("status --interval 5s")
        .code(2)
        .stderr_has("--interval");
    env.c8dr("status -w --interval 0")
        .code(2)
        .stderr_has("--interval");
}
