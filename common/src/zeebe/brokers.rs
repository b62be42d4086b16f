//! Choosing brokers to remove or re-add, and the safety checks around it (SPEC safety rule 2).
//! Pure functions: the command layer gathers the evidence, these decide.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::region::RegionId;

/// Which brokers a command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Parity(RegionId),
    Ids(Vec<u32>),
}

impl Selection {
    /// From the `--odd`/`--even`/`--ids` flags; exactly one must be given.
    pub fn from_flags(odd: bool, even: bool, ids: Option<&str>) -> Result<Self> {
        match (odd, even, ids) {
            (true, false, None) => Ok(Self::Parity(RegionId::ONE)),
            (false, true, None) => Ok(Self::Parity(RegionId::ZERO)),
            (false, false, Some(list)) => parse_ids(list).map(Self::Ids),
            (false, false, None) => Err(Error::usage(
                "name the brokers: --odd, --even or --ids 1,3,5,7",
            )),
            _ => Err(Error::usage(
                "--odd, --even and --ids are mutually exclusive: give exactly one",
            )),
        }
    }
}

/// Parse `1,3,5,7` (spaces allowed); duplicates are removed, order is ascending.
pub fn parse_ids(list: &str) -> Result<Vec<u32>> {
    let mut ids = BTreeSet::new();
    if !list.trim().is_empty() && list.split(',').any(|p| p.trim().is_empty()) {
        return Err(Error::usage(format!(
            "--ids {list:?}: an empty id between commas (expected e.g. 1,3,5,7)"
        )));
    }
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.parse::<u32>().map_err(|_| {
            Error::usage(format!(
                "--ids: '{part}' is not a broker id (expected e.g. 1,3,5,7)"
            ))
        })?;
        ids.insert(id);
    }
    if ids.is_empty() {
        return Err(Error::usage(
            "--ids: no broker ids given (expected e.g. 1,3,5,7)",
        ));
    }
    Ok(ids.into_iter().collect())
}

/// Brokers to force-remove: the members of that parity (or the given ids that are members).
/// Ids that are not members any more are already removed.
pub fn to_remove(selection: &Selection, members: &[u32]) -> Vec<u32> {
    members
        .iter()
        .copied()
        .filter(|m| match selection {
            Selection::Parity(r) => r.holds(*m),
            Selection::Ids(ids) => ids.contains(m),
        })
        .collect()
}

/// Brokers to re-add. For a parity, the cluster size is stated (`--cluster-size`) or derived from
/// the surviving members (each region holds half of the brokers); never a hard-coded 8.
pub fn to_add(
    selection: &Selection,
    members: &[u32],
    cluster_size: Option<u32>,
) -> Result<Vec<u32>> {
    let ids = match selection {
        Selection::Ids(ids) => ids.clone(),
        Selection::Parity(region) => {
            let size = match cluster_size {
                Some(n) => n,
                None => {
                    let survivors = members.iter().filter(|m| !region.holds(**m)).count() as u32;
                    if survivors == 0 {
                        return Err(Error::usage(
                            "cannot derive the cluster size: no surviving members; pass --cluster-size",
                        ));
                    }
                    survivors * 2
                }
            };
            if size % 2 != 0 {
                return Err(Error::usage(format!(
                    "--cluster-size {size}: a dual-region cluster size is even"
                )));
            }
            region.broker_ids(size)
        }
    };
    Ok(ids.into_iter().filter(|id| !members.contains(id)).collect())
}

/// The replication factor to restore on re-add: the stated one, else twice the current one
/// (a forced removal of one region halves it). Returns the factor and why.
pub fn restored_replication_factor(stated: Option<u32>, current: u32) -> (u32, String) {
    match stated {
        Some(rf) => (
            rf,
            format!("replication factor {current} → {rf} (--replication-factor)"),
        ),
        None => (
            current * 2,
            format!(
                "replication factor {current} → {} (twice the current factor; pass --replication-factor to state it)",
                current * 2
            ),
        ),
    }
}

/// What liveness evidence was available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Brokers listed in `/v2/topology` (the gateway reaches them).
    V2Topology,
    /// Broker pods Running and Ready in the region's cluster.
    ReadyPods,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V2Topology => "/v2/topology",
            Self::ReadyPods => "Ready broker pods",
        })
    }
}

/// Brokers known to be alive, and how we know.
#[derive(Debug, Clone, Serialize)]
pub struct Liveness {
    pub evidence: Evidence,
    pub alive: Vec<u32>,
}

/// The region whose member brokers are all unreachable while the other's are alive: judged by
/// broker liveness alone (`procedure::lost_region` judges a whole observation: reachability,
/// membership and exporters).
pub fn region_without_live_members(members: &[u32], alive: &[u32]) -> Option<RegionId> {
    let dead = |r: RegionId| {
        let of_region: Vec<&u32> = members.iter().filter(|m| r.holds(**m)).collect();
        !of_region.is_empty() && of_region.iter().all(|m| !alive.contains(m))
    };
    match (dead(RegionId::ZERO), dead(RegionId::ONE)) {
        (true, false) => Some(RegionId::ZERO),
        (false, true) => Some(RegionId::ONE),
        _ => None,
    }
}

/// Refuse a forced removal that would remove live brokers or every broker (SPEC safety rule 2).
pub fn check_removal(remove: &[u32], members: &[u32], liveness: &Liveness) -> Result<()> {
    if !members.is_empty() && members.iter().all(|m| remove.contains(m)) {
        return Err(Error::refused(format!(
            "removing brokers {remove:?} would remove every member of the cluster"
        )));
    }
    let live: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| liveness.alive.contains(b))
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    let hint = match region_without_live_members(members, &liveness.alive) {
        Some(lost) => format!(
            "; the region that looks lost is {lost} ({} broker ids): did you mean --{}?",
            lost.parity(),
            lost.parity()
        ),
        None => "; no region looks lost: both regions have live brokers".to_string(),
    };
    Err(Error::refused(format!(
        "brokers {live:?} are alive (evidence: {}){hint}",
        liveness.evidence
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [u32; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

    #[test]
    fn flags_select_exactly_one_way() {
        assert_eq!(
            Selection::from_flags(true, false, None).ok(),
            Some(Selection::Parity(RegionId::ONE))
        );
        assert_eq!(
            Selection::from_flags(false, false, Some("3, 1,3")).ok(),
            Some(Selection::Ids(vec![1, 3]))
        );
        for (odd, even, ids) in [
            (true, true, None),
            (true, false, Some("1")),
            (false, false, None),
        ] {
            assert_eq!(
                Selection::from_flags(odd, even, ids)
                    .err()
                    .map(|e| e.exit_code()),
                Some(2)
            );
        }
        assert!(parse_ids("1,x").is_err());
    }

    #[test]
    fn removal_takes_the_members_of_the_parity() {
        assert_eq!(
            to_remove(&Selection::Parity(RegionId::ONE), &ALL),
            vec![1, 3, 5, 7]
        );
        // Already removed: nothing left to do.
        assert!(to_remove(&Selection::Parity(RegionId::ONE), &[0, 2, 4, 6]).is_empty());
        assert_eq!(to_remove(&Selection::Ids(vec![3, 9]), &ALL), vec![3]);
    }

    #[test]
    fn readding_derives_the_cluster_size_from_the_survivors() {
        assert_eq!(
            to_add(&Selection::Parity(RegionId::ONE), &[0, 2, 4, 6], None).ok(),
            Some(vec![1, 3, 5, 7])
        );
        // Six brokers (three per region): not a hard-coded 8.
        assert_eq!(
            to_add(&Selection::Parity(RegionId::ZERO), &[1, 3, 5], None).ok(),
            Some(vec![0, 2, 4])
        );
        assert_eq!(
            to_add(&Selection::Parity(RegionId::ONE), &[0, 2], Some(8)).ok(),
            Some(vec![1, 3, 5, 7])
        );
        assert!(
            to_add(&Selection::Parity(RegionId::ONE), &ALL, None)
                .ok()
                .is_some_and(|v| v.is_empty())
        );
        assert!(to_add(&Selection::Parity(RegionId::ONE), &[0, 2], Some(7)).is_err());
    }

    #[test]
    fn the_replication_factor_is_restored_and_the_reason_stated() {
        assert_eq!(restored_replication_factor(None, 2).0, 4);
        assert!(restored_replication_factor(None, 2).1.contains("twice"));
        assert_eq!(restored_replication_factor(Some(3), 2).0, 3);
    }

    #[test]
    fn removing_live_brokers_is_refused_naming_the_lost_region() {
        // Region 1 is lost; the user picked the wrong parity.
        let liveness = Liveness {
            evidence: Evidence::V2Topology,
            alive: vec![0, 2, 4, 6],
        };
        let err = check_removal(&[0, 2, 4, 6], &ALL, &liveness).err();
        let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err.map(|e| e.exit_code()), Some(3));
        assert!(msg.contains("region1") && msg.contains("--odd"), "{msg}");
        assert!(msg.contains("/v2/topology"), "{msg}");
        assert!(
            check_removal(
                &[1, 3, 5, 7],
                &ALL,
                &Liveness {
                    evidence: Evidence::V2Topology,
                    alive: vec![0, 2, 4, 6]
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn removing_every_member_is_refused() {
        let none_alive = Liveness {
            evidence: Evidence::ReadyPods,
            alive: vec![],
        };
        assert!(check_removal(&ALL, &ALL, &none_alive).is_err());
    }

    #[test]
    fn the_lost_region_is_the_one_with_no_live_member() {
        assert_eq!(
            region_without_live_members(&ALL, &[0, 2, 4, 6]),
            Some(RegionId::ONE)
        );
        assert_eq!(region_without_live_members(&ALL, &ALL), None);
        assert_eq!(region_without_live_members(&ALL, &[]), None);
    }
}
