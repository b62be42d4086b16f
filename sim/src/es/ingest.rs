//! Exported data arriving in a region's Elasticsearch.
//!
//! Each region's exporter (`camundaregion0` writes to region 0's Elasticsearch, `camundaregion1`
//! to region 1's; the exporter id names its target, docs/api-behaviour.md §2) runs on the leader of every
//! partition. Records reach Elasticsearch while the exporter is enabled in the dynamic
//! configuration and exporting is not paused on the partition: a hard pause stops the exporters
//! (`ExporterDirector` in phase `PAUSED`), a soft pause does not stop exporting, it only stops
//! acknowledging positions (`SOFT_PAUSED`; camunda/camunda
//! `zeebe/broker/src/main/java/io/camunda/zeebe/broker/exporter/stream/ExporterDirector.java`,
//! `softPauseExporting` keeps exporting, `pauseExporting` stops it). Nothing arrives in a region
//! that is down.
//!
//! The rate is `SimConfig::es_ingest_bytes_per_sec` for the whole cluster, split evenly over the
//! partitions; the bytes go to the live Camunda indices (not the dated archive ones) in equal
//! shares, as un-flushed data of their primaries (a snapshot flushes it into a new segment).

use tokio::time::Instant;

use crate::world::{RegionId, World};
use crate::zeebe::Exporting;

/// The fraction of partitions whose records reach `region`'s Elasticsearch now.
pub fn exporting_fraction(world: &World, region: RegionId) -> f64 {
    if !world.regions[region].running() {
        return 0.0;
    }
    let digit = char::from(b'0' + region as u8);
    let enabled = world
        .zeebe
        .exporter_ids()
        .iter()
        .any(|id| id.ends_with(digit) && world.zeebe.exporter_status(id) == "ENABLED");
    if !enabled {
        return 0.0;
    }
    let alive = world.alive_brokers();
    let members = world.zeebe.partition_members();
    let total = world.zeebe.partitions_count.max(1);
    let exporting = members
        .iter()
        .filter(|(p, brokers)| {
            brokers.iter().any(|b| {
                alive.contains(b)
                    && world.zeebe.exporting.replica(*b, **p).phase != Exporting::Paused
            })
        })
        .count();
    exporting as f64 / f64::from(total)
}

/// Let the data of `[from, to)` arrive in `region`'s Elasticsearch.
pub fn arrive(world: &mut World, region: RegionId, from: Instant, to: Instant) {
    if world.cfg.es_ingest_bytes_per_sec == 0 {
        return;
    }
    let rate = world
        .cfg
        .byte_rate(world.cfg.es_ingest_bytes_per_sec as f64);
    let fraction = exporting_fraction(world, region);
    if fraction <= 0.0 {
        return;
    }
    let bytes = rate * fraction * to.saturating_duration_since(from).as_secs_f64();
    let es = &mut world.regions[region].es;
    let live: Vec<String> = es
        .indices
        .iter()
        .filter(|(n, i)| n.ends_with('_') && !n.starts_with('.') && i.primaries_active(to))
        .map(|(n, _)| n.clone())
        .collect();
    let shards: u64 = live
        .iter()
        .filter_map(|n| es.indices.get(n))
        .map(|i| u64::from(i.shards))
        .sum();
    if shards == 0 {
        return;
    }
    let per_shard = bytes / shards as f64;
    for n in live {
        if let Some(idx) = es.indices.get_mut(&n) {
            for (j, d) in idx.data.iter_mut().enumerate() {
                d.pending_fraction += per_shard;
                let whole = d.pending_fraction.floor();
                d.pending_fraction -= whole;
                d.unflushed += whole as u64;
                let total = d.bytes();
                for c in idx.recovery.copies.iter_mut() {
                    if c.shard as usize == j && c.done(to) {
                        c.bytes_total = total;
                        c.bytes_done = total as f64;
                    }
                }
            }
        }
    }
}
