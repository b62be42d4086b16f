//! How fast shard copies recover: allocation throttling and byte-rate limits, evaluated as a
//! discrete-event simulation between two requests (rates are constant between requests, since
//! only a request can change a setting).
//!
//! Rules (elastic/elasticsearch 8.18):
//! - **Which copies may recover at once** (`server/.../cluster/routing/allocation/decider/ThrottlingAllocationDecider.java`):
//!   a primary recovering from a snapshot (or a store) starts only while fewer than
//!   `cluster.routing.allocation.node_initial_primaries_recoveries` (4) primaries initialise on its
//!   node; a replica (a `PEER` recovery) starts only once its primary is active
//!   (`ReplicaAfterPrimaryActiveAllocationDecider`) and while its node has fewer than
//!   `node_concurrent_incoming_recoveries` and its primary's node fewer than
//!   `node_concurrent_outgoing_recoveries` peer recoveries (both default to
//!   `node_concurrent_recoveries`, 2). Only peer recoveries count as incoming/outgoing
//!   (`RoutingNodes.updateRecoveryCounts`).
//! - **How fast bytes flow**: a restore reads every file of the shard from the repository
//!   through the repository's `max_restore_bytes_per_sec` limiter (unlimited by default in ES 8,
//!   `BlobStoreRepository.MAX_RESTORE_BYTES_PER_SEC = ByteSizeValue.ZERO`) *and* the node's
//!   `indices.recovery.max_bytes_per_sec` limiter (`BlobStoreRepository.maybeRateLimitRestores`);
//!   a peer recovery sends the primary's files through the sending node's
//!   `indices.recovery.max_bytes_per_sec` limiter (`RecoverySettings.rateLimiter()`, used by the
//!   source's `RecoverySourceHandler`). Each limiter is one per node, shared by every transfer
//!   through it; the simulator shares it equally. A node also has a physical limit (disk and
//!   network, `SimConfig::es_node_bytes_per_sec`) shared by every transfer it sends or receives:
//!   "unlimited" settings are not instant.
//! - Merges and the translog phase are not modelled: a copy's bytes are its files.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::EsCluster;
use super::index::RecoverySource;
use super::settings::parse_byte_size;

/// A shared limiter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Limiter {
    /// `indices.recovery.max_bytes_per_sec` of a node.
    Recovery(u32),
    /// A repository's `max_restore_bytes_per_sec` on a node.
    RepoRestore(String, u32),
    /// The node's disk/network.
    Physical(u32),
}

/// Bytes per second of a repository's `max_restore_bytes_per_sec` (`None`: unlimited).
fn repo_restore_rate(es: &EsCluster, repo: &str) -> Option<f64> {
    let reg = es.repositories.get(repo)?;
    let v = reg.settings.get("max_restore_bytes_per_sec")?;
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match parse_byte_size(&text) {
        Some(b) if b > 0 => Some(b as f64),
        _ => None,
    }
}

/// Start every copy the throttles allow at `t`.
pub fn schedule(es: &mut EsCluster, t: Instant) {
    let initial = es.settings.initial_primaries_recoveries() as usize;
    let incoming = es.settings.incoming_recoveries() as usize;
    let outgoing = es.settings.outgoing_recoveries() as usize;
    let nodes = es.nodes.max(1) as usize;
    let mut primaries = vec![0usize; nodes];
    let mut ins = vec![0usize; nodes];
    let mut outs = vec![0usize; nodes];
    for idx in es.indices.values() {
        for c in idx.copies(0) {
            if c.in_flight(t) {
                let n = c.node as usize % nodes;
                if c.primary {
                    primaries[n] += 1;
                } else {
                    ins[n] += 1;
                    outs[c.source_node as usize % nodes] += 1;
                }
            }
        }
    }
    // The allocator walks the unassigned shards index by index (primaries before replicas).
    for idx in es.indices.values_mut() {
        let primaries_done: Vec<bool> = (0..idx.shards)
            .map(|j| {
                idx.recovery
                    .copies
                    .iter()
                    .any(|c| c.primary && c.shard == j && c.done(t))
            })
            .collect();
        for c in idx.recovery.copies.iter_mut() {
            if c.started.is_some() {
                continue;
            }
            let n = c.node as usize % nodes;
            if c.primary {
                if primaries[n] < initial {
                    primaries[n] += 1;
                    c.started = Some(t);
                }
            } else {
                let s = c.source_node as usize % nodes;
                if primaries_done
                    .get(c.shard as usize)
                    .copied()
                    .unwrap_or(false)
                    && ins[n] < incoming
                    && outs[s] < outgoing
                {
                    ins[n] += 1;
                    outs[s] += 1;
                    c.started = Some(t);
                }
            }
        }
    }
}

/// The limiters a transferring copy goes through, and their capacities.
fn limiters_of(
    es: &EsCluster,
    source: &RecoverySource,
    primary: bool,
    node: u32,
    source_node: u32,
) -> Vec<Limiter> {
    match (primary, source) {
        (true, RecoverySource::Snapshot { repository, .. }) => vec![
            Limiter::Recovery(node),
            Limiter::RepoRestore(repository.clone(), node),
            Limiter::Physical(node),
        ],
        (true, RecoverySource::EmptyStore) => vec![Limiter::Physical(node)],
        (false, _) => {
            let _ = es;
            vec![
                Limiter::Recovery(source_node),
                Limiter::Physical(source_node),
                Limiter::Physical(node),
            ]
        }
    }
}

fn capacity(es: &EsCluster, physical: f64, l: &Limiter) -> Option<f64> {
    match l {
        Limiter::Recovery(_) => es.settings.recovery_bytes_per_sec().map(|b| b as f64),
        Limiter::RepoRestore(repo, _) => repo_restore_rate(es, repo),
        Limiter::Physical(_) => Some(physical),
    }
}

/// Run the recoveries of `es` from its last evaluation to `to`. `physical`: a node's disk and
/// network limit in bytes per second.
/// `scale`: the time scale (every real-world rate is multiplied by it).
pub fn run(es: &mut EsCluster, from: Instant, to: Instant, physical: f64, scale: f64) {
    let mut t = from;
    // Bounded: every iteration either reaches `to` or completes an event.
    for _ in 0..1_000_000 {
        schedule(es, t);
        // Transfers in flight and the limiters they share.
        let mut users: BTreeMap<Limiter, usize> = BTreeMap::new();
        let mut transfers: Vec<(String, usize, Vec<Limiter>)> = vec![];
        for (name, idx) in &es.indices {
            let fixed = idx.recovery.fixed;
            for (k, c) in idx.recovery.copies.iter().enumerate() {
                if c.transferring(t, fixed) {
                    let ls =
                        limiters_of(es, &idx.recovery.source, c.primary, c.node, c.source_node);
                    for l in &ls {
                        *users.entry(l.clone()).or_default() += 1;
                    }
                    transfers.push((name.clone(), k, ls));
                }
            }
        }
        let rates: Vec<f64> = transfers
            .iter()
            .map(|(_, _, ls)| {
                ls.iter()
                    .filter_map(|l| {
                        capacity(es, physical, l).map(|c| c * scale / users[l].max(1) as f64)
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        // The next event: a transfer ends, an INIT part ends, a copy becomes active.
        let mut next = to;
        for ((name, k, _), rate) in transfers.iter().zip(&rates) {
            let c = &es.indices[name].recovery.copies[*k];
            let left = (c.bytes_total as f64 - c.bytes_done).max(0.0);
            if *rate > 0.0 && rate.is_finite() {
                // At least a nanosecond: a rest shorter than that would round to no time, no
                // progress, and the clock would stand still.
                let end = t + Duration::from_secs_f64(left / rate).max(Duration::from_nanos(1));
                next = next.min(end);
            } else if left <= 0.0 {
                next = t;
            }
        }
        for idx in es.indices.values() {
            let fixed = idx.recovery.fixed;
            for c in &idx.recovery.copies {
                if let Some(e) = c.init_end(fixed)
                    && e > t
                    && c.transfer_end.is_none()
                {
                    next = next.min(e);
                }
                if let Some(d) = c.done_at
                    && d > t
                {
                    next = next.min(d);
                }
            }
        }
        let dt = next.saturating_duration_since(t).as_secs_f64();
        for ((name, k, _), rate) in transfers.iter().zip(&rates) {
            let Some(idx) = es.indices.get_mut(name) else {
                continue;
            };
            let fixed = idx.recovery.fixed;
            let c = &mut idx.recovery.copies[*k];
            let gained = if rate.is_finite() {
                rate * dt
            } else {
                f64::INFINITY
            };
            c.bytes_done = (c.bytes_done + gained).min(c.bytes_total as f64);
            // Within a byte: done (float rounding of the event time).
            if c.bytes_total as f64 - c.bytes_done < 1.0 {
                c.finish_transfer(next, fixed);
            }
        }
        t = next;
        if t >= to {
            schedule(es, t);
            break;
        }
    }
}

/// Some copy of the cluster is still recovering (or waiting to) at `now`.
pub fn busy(es: &EsCluster, now: Instant) -> bool {
    es.indices
        .values()
        .any(|i| i.copies(0).iter().any(|c| !c.done(now)))
}
