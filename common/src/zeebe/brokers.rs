//! Choosing brokers to remove or re-add, and the safety checks around it (docs/contract.md §4 rule 2).
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

/// A replication factor must lie between 1 and the number of brokers the cluster will have
/// (a partition cannot have more replicas than brokers): bad input (exit 2) otherwise, checked
/// before any call.
pub fn check_replication_factor(rf: u32, brokers_after: usize) -> Result<()> {
    if rf == 0 || rf as usize > brokers_after {
        return Err(Error::usage(format!(
            "--replication-factor {rf}: must be between 1 and the cluster size after the change \
             ({brokers_after} brokers); a partition cannot have more replicas than brokers"
        )));
    }
    Ok(())
}

/// What was seen of the brokers before a forced removal: the gateway's `/v2/topology` and the
/// Ready broker pods of the regions whose Kubernetes API answered. Only the topology can show
/// that a broker is down (it is absent while the brokers that remain are listed); a Ready pod
/// only ever shows that a broker is alive.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Liveness {
    /// Brokers `/v2/topology` lists (the gateway reaches them).
    pub listed: Vec<u32>,
    /// Brokers whose pods run Ready, in the regions whose Kubernetes API answered.
    pub ready: Vec<u32>,
    /// Regions whose broker pods could not be checked, and why.
    pub unchecked: Vec<(RegionId, String)>,
    /// Listed or Ready: alive.
    pub alive: Vec<u32>,
}

impl Liveness {
    pub fn new(listed: Vec<u32>, ready: Vec<u32>, unchecked: Vec<(RegionId, String)>) -> Self {
        let mut alive: Vec<u32> = listed.iter().chain(&ready).copied().collect();
        alive.sort_unstable();
        alive.dedup();
        Self {
            listed,
            ready,
            unchecked,
            alive,
        }
    }

    /// The evidence that `remove` is down, in words (for a plan or a note): what the topology
    /// lists and does not list, and what the pods said.
    pub fn evidence_for(&self, remove: &[u32], members: &[u32]) -> String {
        let remain: Vec<u32> = members
            .iter()
            .copied()
            .filter(|m| !remove.contains(m))
            .collect();
        let mut s =
            format!("/v2/topology lists the brokers that remain {remain:?} and not {remove:?}");
        let mut regions: Vec<RegionId> = remove.iter().map(|b| RegionId::of_broker(*b)).collect();
        regions.sort_by_key(|r| r.index());
        regions.dedup();
        for r in regions {
            match self.unchecked.iter().find(|(u, _)| *u == r) {
                Some((_, why)) => s.push_str(&format!("; broker pods of {r} not checked ({why})")),
                None => s.push_str(&format!("; no broker pod of them Ready in {r}")),
            }
        }
        s
    }
}

/// THE rule of a forced removal, pure: it is allowed only when something remains, no broker to
/// remove is listed by `/v2/topology` or runs a Ready pod, and every broker that remains is
/// listed. A topology that does not show the brokers that will remain (a gateway just restarted,
/// or cut off from every broker, lists none) proves nothing about the ones to remove. Nothing to
/// remove needs no evidence.
pub fn removal_allowed(
    remove: &[u32],
    members: &[u32],
    listed: &[u32],
    ready: &[u32],
) -> Result<()> {
    if remove.is_empty() {
        return Ok(());
    }
    let remain: Vec<u32> = members
        .iter()
        .copied()
        .filter(|m| !remove.contains(m))
        .collect();
    if remain.is_empty() {
        return Err(Error::refused(format!(
            "removing brokers {remove:?} would remove every member of the cluster"
        )));
    }
    let is_listed: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| listed.contains(b))
        .collect();
    let is_ready: Vec<u32> = remove
        .iter()
        .copied()
        .filter(|b| ready.contains(b) && !listed.contains(b))
        .collect();
    if !is_listed.is_empty() || !is_ready.is_empty() {
        let mut alive: Vec<u32> = listed.iter().chain(ready).copied().collect();
        alive.sort_unstable();
        alive.dedup();
        let hint = match region_without_live_members(members, &alive) {
            Some(lost) => format!(
                "; the region that looks lost is {lost} ({} broker ids): did you mean --{}?",
                lost.parity(),
                lost.parity()
            ),
            None => "; no region looks lost: both regions have live brokers".to_string(),
        };
        let (mut kinds, mut what) = (vec![], vec![]);
        if !is_listed.is_empty() {
            kinds.push("/v2/topology");
            what.push(format!("/v2/topology lists {is_listed:?}"));
        }
        if !is_ready.is_empty() {
            kinds.push("Ready broker pods");
            what.push(format!("the pods of {is_ready:?} are Ready"));
        }
        let mut live = [is_listed, is_ready].concat();
        live.sort_unstable();
        return Err(Error::refused(format!(
            "brokers {live:?} are alive (evidence: {}): {}{hint}",
            kinds.join(", "),
            what.join(", ")
        )));
    }
    let unlisted: Vec<u32> = remain
        .iter()
        .copied()
        .filter(|m| !listed.contains(m))
        .collect();
    if !unlisted.is_empty() {
        let shown = if unlisted.len() == remain.len() {
            "none".to_string()
        } else {
            format!(
                "only {:?}",
                remain
                    .iter()
                    .filter(|m| listed.contains(m))
                    .collect::<Vec<_>>()
            )
        };
        return Err(Error::refused(format!(
            "no evidence that brokers {remove:?} are down: /v2/topology lists {shown} of the brokers that would \
             remain {remain:?} (missing: {unlisted:?}), so its silence about {remove:?} proves nothing (a gateway \
             that just restarted, or is cut off from the brokers, lists none). Run again once /v2/topology lists \
             the brokers that remain; pass --skip-liveness-check only if you have verified yourself that brokers \
             {remove:?} are gone: removing live brokers by force splits the cluster and can lose data"
        )));
    }
    Ok(())
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

/// Refuse a forced removal that would remove live brokers or every broker, or that the evidence
/// does not support ([`removal_allowed`]).
pub fn check_removal(remove: &[u32], members: &[u32], liveness: &Liveness) -> Result<()> {
    removal_allowed(remove, members, &liveness.listed, &liveness.ready)
}

/// `--skip-liveness-check`: the evidence is not looked at, but removing every member is still
/// refused.
pub fn check_removal_unverified(remove: &[u32], members: &[u32]) -> Result<()> {
    if !members.is_empty() && members.iter().all(|m| remove.contains(m)) {
        return Err(Error::refused(format!(
            "removing brokers {remove:?} would remove every member of the cluster"
        )));
    }
    Ok(())
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
    fn a_replication_factor_above_the_cluster_size_is_bad_input() {
        assert!(check_replication_factor(4, 8).is_ok());
        assert!(check_replication_factor(8, 8).is_ok());
        for (rf, size) in [(9, 8), (100, 8), (0, 8), (1, 0)] {
            assert_eq!(
                check_replication_factor(rf, size)
                    .err()
                    .map(|e| e.exit_code()),
                Some(2),
                "{rf} {size}"
            );
        }
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
        let liveness = Liveness::new(vec![0, 2, 4, 6], vec![], vec![]);
        let err = check_removal(&[0, 2, 4, 6], &ALL, &liveness).err();
        let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err.map(|e| e.exit_code()), Some(3));
        assert!(msg.contains("region1") && msg.contains("--odd"), "{msg}");
        assert!(msg.contains("/v2/topology"), "{msg}");
        assert!(check_removal(&[1, 3, 5, 7], &ALL, &liveness).is_ok());
        // A Ready pod is alive even when the topology does not list it.
        let pods = Liveness::new(vec![0, 2, 4, 6], vec![3], vec![]);
        let msg = check_removal(&[1, 3, 5, 7], &ALL, &pods)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("(evidence: Ready broker pods): the pods of [3] are Ready"),
            "{msg}"
        );
    }

    #[test]
    fn removing_every_member_is_refused() {
        let none_alive = Liveness::new(vec![], vec![], vec![]);
        assert!(check_removal(&ALL, &ALL, &none_alive).is_err());
        assert!(check_removal_unverified(&ALL, &ALL).is_err());
        assert!(check_removal_unverified(&[1, 3, 5, 7], &ALL).is_ok());
    }

    #[test]
    fn a_topology_that_lists_none_of_the_survivors_proves_nothing() {
        // A gateway just restarted, or cut off from every broker: it lists nobody, and the
        // survivors' own Ready pods say nothing about the other region.
        let blind = Liveness::new(vec![], vec![0, 2, 4, 6], vec![]);
        let err = check_removal(&[1, 3, 5, 7], &ALL, &blind).err();
        let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err.map(|e| e.exit_code()), Some(3), "{msg}");
        assert!(
            msg.contains("lists none of the brokers that would remain [0, 2, 4, 6]"),
            "{msg}"
        );
        // Half of the survivors listed is not enough either.
        let partial = Liveness::new(vec![0, 2], vec![], vec![]);
        let msg = check_removal(&[1, 3, 5, 7], &ALL, &partial)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("only [0, 2]") && msg.contains("missing: [4, 6]"),
            "{msg}"
        );
        // Nothing to remove needs no evidence (a re-run after the removal).
        assert!(check_removal(&[], &[0, 2, 4, 6], &blind).is_ok());
    }

    /// Every subset of five broker ids as members, every split of them into removed and
    /// remaining, every listed set and every Ready set: the removal is allowed exactly when
    /// nothing is to be removed, or when something remains, every remaining member is listed and
    /// no broker to remove is listed or Ready. Refusals are exit 3.
    #[test]
    fn the_removal_rule_holds_for_every_member_listed_and_ready_set() {
        const N: u32 = 5;
        let set = |bits: u32| -> Vec<u32> { (0..N).filter(|i| bits & (1 << i) != 0).collect() };
        let mut checked = 0u32;
        for m in 0..(1u32 << N) {
            let members = set(m);
            // Every subset of the members as the brokers to remove.
            let mut r = m;
            loop {
                let remove = set(r);
                let remain: Vec<u32> = members
                    .iter()
                    .copied()
                    .filter(|b| !remove.contains(b))
                    .collect();
                for l in 0..(1u32 << N) {
                    let listed = set(l);
                    for rd in 0..(1u32 << N) {
                        let ready = set(rd);
                        let expected = remove.is_empty()
                            || (!remain.is_empty()
                                && remain.iter().all(|b| listed.contains(b))
                                && remove
                                    .iter()
                                    .all(|b| !listed.contains(b) && !ready.contains(b)));
                        let got = removal_allowed(&remove, &members, &listed, &ready);
                        assert_eq!(
                            got.is_ok(),
                            expected,
                            "remove {remove:?} members {members:?} listed {listed:?} ready {ready:?}: {got:?}"
                        );
                        if let Err(e) = got {
                            assert_eq!(e.exit_code(), 3);
                        }
                        checked += 1;
                    }
                }
                if r == 0 {
                    break;
                }
                r = (r - 1) & m;
            }
        }
        assert!(checked > 200_000, "{checked}");
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
