//! Restores from a snapshot (ES 8.18): restoring over an open index of the same name is a 500
//! `snapshot_restore_exception`.

use std::time::Duration;

use serde_json::{Value, json};

use super::index::{EsIndex, Recovery, RecoverySource, ShardData, epoch_ms, glob_match};
use super::repository::registration;
use super::snapshot::{
    SnapIndex, SnapState, StoredSnapshot, index_filter, select, snapshot_missing,
};
use super::{es_error, shard_duration};
use crate::http::SimRequest;
use crate::world::{RegionId, World};

fn restore_error(repo: &str, snap: &StoredSnapshot, why: String) -> (u16, Value) {
    es_error(
        500,
        "snapshot_restore_exception",
        format!("[{repo}:{}/{}] {why}", snap.name, snap.uuid),
    )
}

/// `POST _snapshot/<repo>/<name>/_restore` (asynchronous: `{"accepted":true}`): the restored
/// indices recover as `es::recovery` models it.
pub fn restore(
    world: &mut World,
    region: RegionId,
    repo: &str,
    name: &str,
    req: &SimRequest,
) -> (u16, Value) {
    let reg = match registration(world, region, repo) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let snap = match select(world, region, &reg, repo, name) {
        Ok(s) => match s
            .into_iter()
            .find(|s| s.name == name && s.state != SnapState::InProgress)
        {
            Some(s) => s.clone(),
            None => return snapshot_missing(repo, name),
        },
        Err(e) => return e,
    };
    let body = match req.json_body() {
        Ok(b) => b,
        Err(e) => return es_error(400, "x_content_parse_exception", e.to_string()),
    };
    // The request is parsed before anything else: a key the engine does not know is a 400.
    if let Some(rejected) = super::opensearch::check_restore_body(&world.regions[region].es, &body)
    {
        return rejected;
    }
    if snap.state == SnapState::Failed {
        return restore_error(repo, &snap, "unsupported snapshot state [FAILED]".into());
    }
    // ES's default for restores is include_global_state: false.
    let global = body
        .get("include_global_state")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let allow_partial = body
        .get("partial")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filter = index_filter(&body);
    let chosen: Vec<(&String, &SnapIndex)> = snap
        .indices
        .iter()
        .filter(|(n, _)| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|p| glob_match(p, n)))
        })
        .collect();
    let es = &world.regions[region].es;
    for (n, i) in &chosen {
        if i.failed.is_some() && !allow_partial {
            return restore_error(
                repo,
                &snap,
                format!("index [{n}] wasn't fully snapshotted - cannot restore"),
            );
        }
        if es.indices.contains_key(*n) {
            return restore_error(
                repo,
                &snap,
                format!(
                    "cannot restore index [{n}] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name"
                ),
            );
        }
    }
    let d: Duration = shard_duration(world);
    let es = &mut world.regions[region].es;
    let now = es.clock();
    if global {
        for (t, v) in &snap.templates {
            es.templates.insert(t.clone(), v.clone());
        }
        // The snapshot's persistent cluster settings replace the cluster's, whole: what was set
        // before the restore and is not in the snapshot is gone (elastic/elasticsearch 8.x
        // `RestoreService.applyGlobalStateRestore`: `mdBuilder.persistentSettings(settings)`;
        // opensearch-project/OpenSearch 2.x `RestoreService` the same). Transient settings stay.
        if let Some(p) = &snap.persistent_settings {
            es.settings.persistent = p.clone();
        }
    }
    // One restore operation: every restored shard carries its `restoreUUID`
    // (RestoreService: one `restoreUUID` per restore request).
    let restore_uuid = es.new_uuid(&format!("restore-{}", snap.name));
    for (n, si) in chosen.iter() {
        if si.failed.is_some() {
            continue;
        }
        // RestoreService creates every index at once with its primaries unassigned
        // (`SnapshotRecoverySource`); the allocator then starts as many recoveries as the
        // throttles allow (`es::recovery`). Every byte of every file is copied: the new
        // cluster holds none of them.
        let uuid = es.new_uuid(n);
        let mut idx = EsIndex::new(
            uuid,
            si.docs,
            si.shards,
            si.replicas,
            es.nodes,
            RecoverySource::EmptyStore,
        );
        idx.data = si
            .shard_files
            .iter()
            .map(|sh| ShardData {
                files: sh.files.clone(),
                ..ShardData::default()
            })
            .collect();
        idx.data.resize(idx.shards as usize, ShardData::default());
        let first = es.next_node;
        es.next_node = es.next_node.wrapping_add(idx.shards);
        let copies = idx.allocate(es.nodes, first, |c| c);
        idx.recovery = Recovery {
            source: RecoverySource::Snapshot {
                repository: repo.to_string(),
                snapshot: snap.name.clone(),
                restore_uuid: restore_uuid.clone(),
                index: (*n).clone(),
            },
            start: now,
            fixed: d,
            start_epoch_ms: epoch_ms(),
            copies,
        };
        es.indices.insert((*n).clone(), idx);
    }
    super::recovery::schedule(es, now);
    world.timeline.restore_started(region, &restore_uuid, now);
    (200, json!({"accepted": true}))
}
