//! Zeebe's share of the data-volume model: a broker joining a partition first receives the
//! partition's snapshot from the leader, so re-adding brokers takes time proportional to the
//! partition size (`zeebe::operation_time`); and the timeline the recovery benchmark reads.

use std::time::Duration;

use c8dr_sim::{SimConfig, World};
use tokio::time::Instant;

const GIB: u64 = 1024 * 1024 * 1024;

/// Force-remove the odd brokers, then re-add them with RF 4: (time of the re-add, its joins).
fn readd(cfg: SimConfig) -> (Duration, usize) {
    let mut w = World::healthy(cfg);
    let t0 = Instant::now();
    w.advance(t0);
    let ops = w.zeebe.plan_force_remove(&[1, 3, 5, 7]).expect("plan");
    w.zeebe.start_change(ops, t0).expect("change");
    w.advance(t0 + Duration::from_secs(60));
    assert!(w.zeebe.pending.is_none(), "the removal completed");
    let t1 = t0 + Duration::from_secs(60);
    let all: Vec<u32> = (0..8).collect();
    let ops = w.zeebe.plan_scale(&all, 4).expect("plan");
    let joins = ops
        .iter()
        .filter(|o| o.operation == "PARTITION_JOIN")
        .count();
    w.zeebe.start_change(ops, t1).expect("change");
    let mut t = t1;
    while w.zeebe.pending.is_some() {
        t += Duration::from_millis(50);
        w.advance(t);
        assert!(t < t1 + Duration::from_secs(7200), "never completed");
    }
    (t - t1, joins)
}

#[test]
fn re_adding_brokers_takes_time_proportional_to_the_partition_size() {
    let small = SimConfig::default();
    let (quick, joins) = readd(small.clone());
    assert_eq!(joins, 16, "8 partitions, two new replicas each");
    assert!(quick < Duration::from_secs(10), "{quick:?}");
    // 1 GiB partitions at 100 MiB/s: about 10.24 s per join, one operation after the other.
    let big = SimConfig {
        partition_bytes: GIB,
        ..small.clone()
    };
    let (slow, _) = readd(big.clone());
    let per_join = GIB as f64 / (100.0 * 1024.0 * 1024.0);
    let expected = quick.as_secs_f64() + joins as f64 * per_join;
    assert!(
        (slow.as_secs_f64() - expected).abs() < 0.5,
        "{slow:?}, expected about {expected:.1} s"
    );
    // Ten times faster with --time-scale 10.
    let (scaled, _) = readd(big.with_time_scale(10.0));
    assert!(
        (scaled.as_secs_f64() * 10.0 - slow.as_secs_f64()).abs() < 1.5,
        "{scaled:?} vs {slow:?}"
    );
}

#[test]
fn the_timeline_reports_webapps_off_exporting_paused_and_server_work() {
    use c8dr_sim::zeebe::Exporting;
    let mut w = World::healthy(SimConfig::default().with_time_scale(4.0));
    let t0 = Instant::now();
    w.advance(t0);
    w.timeline.reset(t0);
    // Webapps off in both regions for 2 s (real), exporting paused for 1 s.
    for r in 0..2 {
        w.regions[r].profiles = vec!["broker".into(), "identity".into()];
    }
    w.observe(t0 + Duration::from_millis(500));
    let replicas: Vec<(u32, u32)> = w
        .zeebe
        .members
        .iter()
        .flat_map(|(b, m)| m.partitions.keys().map(move |p| (*b, *p)))
        .collect();
    for (b, p) in &replicas {
        w.zeebe
            .exporting
            .set(*b, *p, Exporting::Paused, t0 + Duration::from_secs(1));
    }
    w.observe(t0 + Duration::from_secs(1));
    let ops = w.zeebe.plan_force_remove(&[7]).expect("plan");
    w.zeebe
        .start_change(ops, t0 + Duration::from_secs(1))
        .expect("change");
    for (b, p) in &replicas {
        w.zeebe
            .exporting
            .set(*b, *p, Exporting::Running, t0 + Duration::from_secs(2));
    }
    w.advance(t0 + Duration::from_secs(2));
    for r in 0..2 {
        w.regions[r].profiles = vec![
            "broker".into(),
            "identity".into(),
            "operate".into(),
            "tasklist".into(),
        ];
    }
    w.observe(t0 + Duration::from_millis(2500));
    let j = w.timeline.json(&w, t0 + Duration::from_secs(3));
    let win = &j["windows"];
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap_or(-1.0) - want).abs() < 0.01;
    // Simulated seconds: real × 4.
    assert!(close(&win["webapps_off_s"], 8.0), "{j:#}");
    assert!(close(&win["exporting_paused_s"], 4.0), "{j:#}");
    assert!(win["busy_s"].as_f64().unwrap_or(0.0) > 0.0, "{j:#}");
    assert_eq!(j["time_scale"], 4.0);
}
