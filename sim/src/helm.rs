//! The helm stand-in's effect on the world (OWNED BY THE HELM WORK: issue 5). Stub interface.

use serde_json::Value;

use crate::world::{HelmRelease, RegionId, World};

/// Apply an `upgrade --install` with the merged `values` to `region`.
pub fn apply_release(world: &mut World, region: RegionId, values: Value) {
    let r = &mut world.regions[region];
    let revision = r.release.as_ref().map(|h| h.revision).unwrap_or(0) + 1;
    r.release = Some(HelmRelease { revision, values });
}
