//! `kubectl c8dr status` on a terminal and in scripts (issue 12 item 1): colour by phase only
//! where a person reads it (`--color auto|always|never`, `NO_COLOR`), never in a pipe, in
//! `-o json|yaml` or in `-v` logs written to a file; and the status fits 80 columns. `auto` is
//! run under a real pseudo-terminal: util-linux `script -qec CMD /dev/null`.

use c8dr_e2e::{Run, TestEnv};

const ESC: &str = "\x1b[";

/// `kubectl c8dr ARGS` under a pseudo-terminal (stdout and stderr are the pty unless `line`
/// redirects them), with `NO_COLOR` as given (the harness sets it; `None` removes it).
fn on_a_terminal(env: &TestEnv, line: &str, no_color: Option<&str>) -> Run {
    let cmd = env.command(
        "script",
        vec![
            "-qec".into(),
            format!("kubectl c8dr {line}").into(),
            "/dev/null".into(),
        ],
    );
    let cmd = match no_color {
        Some(v) => cmd.env("NO_COLOR", v),
        None => cmd.env_remove("NO_COLOR"),
    };
    cmd.run().success()
}

#[test]
fn auto_colours_a_terminal_only_and_no_color_turns_it_off() {
    let env = TestEnv::start();
    env.lose_region(1);
    let tty = on_a_terminal(&env, "status", None);
    assert!(
        tty.stdout.contains(&format!(
            "{ESC}1;31mstatus: failover step 1 of 2: next: kubectl c8dr brokers remove --odd{ESC}0m ({ESC}1;31mregion1{ESC}0m lost)"
        )),
        "the headline red, the lost region red: {}",
        tty.context()
    );
    assert!(
        tty.stdout
            .contains(&format!("region0 (surviving): {ESC}1;32mreachable"))
    );
    assert!(
        tty.stdout
            .contains(&format!("region1 (recreated): {ESC}1;31mUNREACHABLE"))
    );
    assert!(
        tty.stdout
            .contains(&format!("looks lost: {ESC}1;31mregion1"))
    );
    // NO_COLOR (no-color.org: any non-empty value) turns auto off; an empty one does not.
    let run = on_a_terminal(&env, "status", Some("1"));
    assert!(!run.stdout.contains(ESC), "{}", run.context());
    let run = on_a_terminal(&env, "status", Some(""));
    assert!(run.stdout.contains(ESC), "{}", run.context());
    // A pipe (the harness's stdout), NO_COLOR unset: none.
    let run = env
        .command("kubectl", vec!["c8dr".into(), "status".into()])
        .env_remove("NO_COLOR")
        .run()
        .success();
    assert!(!run.stdout.contains(ESC), "{}", run.context());
}

#[test]
fn always_and_never_are_obeyed_but_documents_stay_plain() {
    let env = TestEnv::start();
    // always: in a pipe, and over NO_COLOR=1 (the harness sets it): the flag wins.
    env.c8dr("status --color always")
        .success()
        .stdout_has(&format!("{ESC}1;32mstatus: healthy: no action{ESC}0m\n"));
    env.c8dr("status --color=always")
        .success()
        .stdout_has(&format!("{ESC}1;32mstatus: healthy"));
    // never: on a terminal, without NO_COLOR.
    let run = on_a_terminal(&env, "status --color never", None);
    assert!(run.stdout.contains("status: healthy"), "{}", run.context());
    assert!(!run.stdout.contains(ESC), "{}", run.context());
    // -o json|yaml: one plain document, whatever --color says, on a terminal too.
    let json = env.c8dr("status -o json --color always").success();
    assert!(!json.stdout.contains(ESC), "{}", json.context());
    json.json();
    let run = on_a_terminal(&env, "status -o yaml --color always", None);
    assert!(!run.stdout.contains(ESC), "{}", run.context());
}

#[test]
fn verbose_logs_written_to_a_file_are_never_coloured() {
    let env = TestEnv::start();
    let log = env.home.path().join("c8dr-v.log");
    let run = on_a_terminal(&env, &format!("status -v 2>{}", log.display()), None);
    let logged = std::fs::read_to_string(&log).expect("the log file");
    assert!(logged.contains("DEBUG"), "-v logged: {logged}");
    assert!(!logged.contains(ESC), "escapes in the log file: {logged:?}");
    assert!(
        run.stdout.contains(ESC),
        "stdout is the terminal: coloured\n{}",
        run.context()
    );
}

/// Every line of a full 8-broker status (8 partitions, replication factor 4) within 80 columns,
/// except the lines that carry a command to copy (the summary, the procedure line, the driver
/// hint, notes), which are never broken.
fn assert_fits_80_columns(run: &Run) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let command_lines = |l: &str| {
        l.starts_with("status: ")
            || l.contains("next: ")
            || l.starts_with("  or every remaining")
            || l.starts_with("  note: ")
    };
    let wide: Vec<&&str> = lines
        .iter()
        .filter(|l| !command_lines(l) && l.chars().count() > 80)
        .collect();
    assert!(
        wide.is_empty(),
        "lines over 80 columns: {wide:#?}\n{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("BROKER ")),
        "the broker table is shown: {}",
        run.stdout
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .count(),
        8,
        "eight broker rows: {}",
        run.stdout
    );
}

#[test]
fn status_fits_80_columns_with_the_compact_partition_form() {
    let env = TestEnv::start();
    let healthy = env.c8dr("status").success();
    assert_fits_80_columns(&healthy);
    // The compact form of `topology`: partition id and role initial, e.g. `1L 6F`.
    let row = healthy
        .stdout
        .lines()
        .find(|l| l.starts_with("0 "))
        .unwrap_or_default()
        .to_string();
    let cells: Vec<&str> = row.split_whitespace().skip(4).take(4).collect();
    assert!(
        cells.len() == 4 && cells.iter().all(|c| c.ends_with('L') || c.ends_with('F')),
        "{row}"
    );
    let _ = healthy.stdout_has("partitions: L leader, F follower");

    env.lose_region(1);
    let lost = env.c8dr("status").success();
    assert_fits_80_columns(&lost);
    // The unreachable region's error is wrapped, not cut.
    let lost = lost.stdout_has("cannot reach the Kubernetes API of c8dr-sim-region1");
    // The summary keeps its command whole.
    assert!(
        lost.stdout.starts_with(
            "status: failover step 1 of 2: next: kubectl c8dr brokers remove --odd (region1 lost)\n"
        ),
        "{}",
        lost.stdout
    );
}
