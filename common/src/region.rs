//! Regions of a dual-region installation and the broker ids they hold.
//!
//! `nodeId = podOrdinal * regions + regionId`: region 0 holds the even ids, region 1 the odd.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// A region by index (0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RegionId(u8);

impl RegionId {
    pub const ZERO: Self = Self(0);
    pub const ONE: Self = Self(1);
    /// Both regions, in index order.
    pub const ALL: [Self; 2] = [Self::ZERO, Self::ONE];

    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// The other region.
    pub fn other(self) -> Self {
        Self(1 - self.0)
    }
    /// The region a broker id belongs to.
    pub fn of_broker(id: u32) -> Self {
        Self((id % 2) as u8)
    }
    /// Whether a broker id belongs to this region.
    pub fn holds(self, broker: u32) -> bool {
        Self::of_broker(broker) == self
    }
    /// The docs' region name (`region0`/`region1`).
    pub fn name(self) -> String {
        format!("region{}", self.0)
    }
    /// "odd" or "even": the parity of this region's broker ids.
    pub fn parity(self) -> &'static str {
        if self.0 == 0 { "even" } else { "odd" }
    }
    /// The broker ids of this region in a cluster of `cluster_size` brokers.
    pub fn broker_ids(self, cluster_size: u32) -> Vec<u32> {
        (0..cluster_size).filter(|id| self.holds(*id)).collect()
    }
    /// The exporter id the 8.8 reference setup gives this region's Elasticsearch.
    pub fn exporter_id(self) -> String {
        format!("camundaregion{}", self.0)
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region{}", self.0)
    }
}

impl FromStr for RegionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "0" | "region0" => Ok(Self(0)),
            "1" | "region1" => Ok(Self(1)),
            other => Err(Error::usage(format!(
                "unknown region {}: expected region0 or region1 (or 0/1)",
                crate::error::shown(other)
            ))),
        }
    }
}

/// Map an exporter id to its region by its trailing digit (`camundaregion1`, `elasticsearchregion0`).
pub fn region_of_exporter(id: &str) -> Option<RegionId> {
    match id.chars().last()? {
        '0' => Some(RegionId::ZERO),
        '1' => Some(RegionId::ONE),
        _ => None,
    }
}

/// A region as the user names it on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRef {
    Surviving,
    Recreated,
    Index(RegionId),
}

impl FromStr for RegionRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "surviving" => Ok(Self::Surviving),
            "recreated" => Ok(Self::Recreated),
            other => other.parse().map(Self::Index).map_err(|_| {
                Error::usage(format!(
                    "unknown region {}: expected surviving, recreated, region0 or region1",
                    crate::error::shown(other)
                ))
            }),
        }
    }
}

/// Serialized as it is written on the command line (`surviving`, `recreated`, `region1`).
impl Serialize for RegionRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Which regions a command targets: `helm c8dr redeploy --region` takes both at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    One(RegionRef),
    Both,
}

impl FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "both" => Ok(Self::Both),
            other => other.parse().map(Self::One).map_err(|_| {
                Error::usage(format!(
                    "--region {}: expected surviving, recreated, both, 0 or 1",
                    crate::error::shown(other)
                ))
            }),
        }
    }
}

impl fmt::Display for RegionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Surviving => f.write_str("surviving"),
            Self::Recreated => f.write_str("recreated"),
            Self::Index(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_parity_follows_the_node_id_formula() {
        assert_eq!(RegionId::ZERO.broker_ids(8), vec![0, 2, 4, 6]);
        assert_eq!(RegionId::ONE.broker_ids(8), vec![1, 3, 5, 7]);
        assert_eq!(RegionId::of_broker(7), RegionId::ONE);
        assert_eq!(RegionId::ONE.parity(), "odd");
    }

    #[test]
    fn exporter_ids_map_to_regions_by_trailing_digit() {
        assert_eq!(region_of_exporter("camundaregion1"), Some(RegionId::ONE));
        assert_eq!(
            region_of_exporter("elasticsearchregion0"),
            Some(RegionId::ZERO)
        );
        assert_eq!(region_of_exporter("camunda"), None);
    }

    #[test]
    fn region_names_parse_and_bad_ones_are_usage_errors() {
        assert_eq!(
            "region1".parse::<RegionRef>().ok(),
            Some(RegionRef::Index(RegionId::ONE))
        );
        assert_eq!(
            "surviving".parse::<RegionRef>().ok(),
            Some(RegionRef::Surviving)
        );
        let err = "region2".parse::<RegionRef>().err().map(|e| e.exit_code());
        assert_eq!(err, Some(2));
        assert_eq!("both".parse::<Target>().ok(), Some(Target::Both));
        assert_eq!(
            "1".parse::<Target>().ok(),
            Some(Target::One(RegionRef::Index(RegionId::ONE)))
        );
        let err = "region2".parse::<Target>().expect_err("bad");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("--region \"region2\""), "{err}");
    }

    #[test]
    fn a_side_serializes_as_it_is_written() {
        assert_eq!(
            serde_json::to_value(RegionRef::Surviving).ok(),
            Some(serde_json::json!("surviving"))
        );
        assert_eq!(
            serde_json::to_value(RegionRef::Index(RegionId::ONE)).ok(),
            Some(serde_json::json!("region1"))
        );
    }
}
