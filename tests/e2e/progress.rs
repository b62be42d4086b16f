//! Progress of the long Elasticsearch waits (issue 22 item 3): in a pipe, a line every 30 s that
//! says how far (a percentage of the bytes, in binary units), how fast and how long still, with
//! no terminal escape codes; on a terminal (util-linux `script`, as tests/e2e/color.rs), a bar.

use c8dr_e2e::TestEnv;

const BUCKET: &str = "camunda-backups";
const MIB: u64 = 1 << 20;

/// A simulator whose regions hold `bytes` of Elasticsearch primaries and the repository
/// registered: a snapshot uploads half of them from each of the two data nodes at the
/// repository's default 40mb per second (sim `es::snapshot`).
fn with_data(bytes: u64) -> TestEnv {
    let env = TestEnv::builder()
        .config(|c| c.es_data_bytes = bytes)
        .start();
    env.kubectl_c8dr(["es", "repo", "register", "--bucket", BUCKET, "--yes"])
        .success();
    env
}

#[test]
fn a_snapshot_in_a_pipe_says_every_30_seconds_how_far_how_fast_and_how_long_still() {
    // 2.6 GiB over two nodes at 40 MiB/s: about 33 s, one line at 30 s.
    let env = with_data(2662 * MIB);
    let run = env
        .kubectl_c8dr(["es", "snapshot", "create", "snap-1", "--yes"])
        .success();
    assert!(
        !run.stderr.contains('\x1b'),
        "escape codes in a pipe: {}",
        run.context()
    );
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("still waiting for the snapshot: 30s: "))
        .collect();
    let [line] = lines.as_slice() else {
        panic!("one line at 30 s expected: {}", run.context());
    };
    // `90% of 2.60 GiB, 80.00 MiB/s, ETA 3s, 2.34 GiB uploaded, shards 0/30`
    let detail = line.trim_start_matches("still waiting for the snapshot: 30s: ");
    let (percent, rest) = detail.split_once("% of 2.60 GiB, ").unwrap_or_else(|| {
        panic!("percentage of the bytes in GiB: {line}");
    });
    let percent: u32 = percent.parse().unwrap_or_else(|_| panic!("{line}"));
    assert!((70..100).contains(&percent), "{line}");
    assert!(
        rest.contains(" MiB/s, ETA "),
        "a rate and a time left: {line}"
    );
    assert!(rest.contains(" GiB uploaded, shards "), "{line}");
    assert!(
        !run.stderr.contains("bytes"),
        "no raw byte counts: {}",
        run.context()
    );
}

#[test]
fn a_snapshot_on_a_terminal_draws_a_bar_with_the_rate() {
    // 256 MiB: about 3 s of upload, many frames of the bar.
    let env = with_data(256 * MIB);
    let run = env
        .command(
            "script",
            vec![
                "-qfec".into(),
                "kubectl c8dr es snapshot create snap-1 --yes".into(),
                "/dev/null".into(),
            ],
        )
        // A terminal names its type (indicatif draws nothing under no TERM or TERM=dumb: the
        // lines every 30 s take over there).
        .env("TERM", "xterm")
        .run()
        .success();
    // The pseudo-terminal carries stdout and stderr: frames redrawn in place, a bar in them.
    let frames: Vec<&str> = run
        .stdout
        .split(['\r', '\n'])
        .filter(|f| f.contains("] snapshot "))
        .collect();
    assert!(!frames.is_empty(), "no bar drawn: {}", run.context());
    assert!(
        frames
            .iter()
            .any(|f| f.contains("[====") && f.contains("% of 256.00 MiB, ")),
        "a bar that moved, in binary units: {frames:#?}"
    );
    assert!(
        frames.iter().any(|f| f.contains(" MiB/s, ETA ")),
        "a rate and a time left, within 80 columns: {frames:#?}"
    );
    assert!(
        run.stdout.contains("snapshot snap-1 is SUCCESS"),
        "{}",
        run.context()
    );
}
