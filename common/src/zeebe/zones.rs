//! Zone-aware brokers (Camunda 8.10): which region runs which zone, the broker ids on the wire,
//! and the zone layout the Zones API changes.
//!
//! A zone-aware cluster names its brokers `<zone>_<n>` (`n` the pod ordinal of the zone's
//! StatefulSet, camunda/camunda ADR-0010 "The broker always builds its ID from configuration
//! (`camunda.cluster.zone` plus the node index)"). Everything else in c8dr reasons about a
//! region's brokers by number, `ordinal * 2 + region` as in a numbered dual-region cluster, so
//! the management and REST clients translate zone ids at the wire: `<zone of region r>_<n>` is
//! broker `2n + r` inside c8dr and `<zone>_<n>` again in what it sends and shows.
//!
//! Which region runs which zone is read from the installation, never from the names: a region's
//! orchestration pods carry `camunda.io/zone` (chart 15, camunda/camunda-platform-helm#6949),
//! and the rendered configuration lists every zone (`camunda.cluster.partitioning.zone-aware.zones`,
//! the same list in both releases: camunda-docs zone-aware-migration.md "identical list in every
//! release"), which also gives the replicas and priority a zone is re-added with after a forced
//! removal dropped it from the cluster's own layout.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::region::RegionId;

/// One zone as the installation's configuration lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledZone {
    pub name: String,
    pub brokers: u32,
    pub replicas: u32,
    pub priority: u32,
}

/// One zone of the cluster's persisted layout (`GET /actuator/cluster` `partitioning.zones`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutZone {
    pub name: String,
    #[serde(default)]
    pub number_of_replicas: u32,
    #[serde(default)]
    pub priority: u32,
}

/// `partitioning` of `GET /actuator/cluster` (named `partitionDistribution` with `type` before
/// 8.10.0: camunda/camunda `dist/src/main/resources/api/cluster/components.yaml` @ 0206810afc56;
/// both are read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partitioning {
    #[serde(default, alias = "type")]
    pub scheme: String,
    #[serde(default)]
    pub zones: Vec<LayoutZone>,
}

impl Partitioning {
    pub fn has_zone(&self, zone: &str) -> bool {
        self.zones.iter().any(|z| z.name == zone)
    }
}

/// `POST /actuator/cluster/zones/{zone}`: the zone's brokers listed (the form every 8.10 build
/// accepts; `numberOfBrokers` came later, camunda-deployment-references eks-multi-region-rdbms
/// failback.sh @ 04b4f9aed4f7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddZone {
    pub number_of_replicas: u32,
    pub priority: u32,
    pub brokers: Vec<String>,
}

/// Which region runs which zone, and the zones the installation configures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneMap {
    /// Per region index.
    zones: [Option<String>; 2],
    installed: Vec<InstalledZone>,
}

impl ZoneMap {
    /// The map of a region that runs `own_zone`, given the configured zone list: the other
    /// region runs the other zone. A dual-region installation has two zones.
    pub fn new(own: RegionId, own_zone: &str, installed: Vec<InstalledZone>) -> Result<Self> {
        if installed.len() > 2 {
            return Err(Error::refused(format!(
                "the configuration lists {} zones ({}): c8dr automates the dual-region procedure, two zones",
                installed.len(),
                installed
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !installed.is_empty() && !installed.iter().any(|z| z.name == own_zone) {
            return Err(Error::refused(format!(
                "this region's brokers run in zone '{own_zone}', which the configuration's zone list ({}) does not name",
                installed
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut zones = [None, None];
        zones[own.index()] = Some(own_zone.to_string());
        zones[own.other().index()] = installed
            .iter()
            .find(|z| z.name != own_zone)
            .map(|z| z.name.clone());
        Ok(Self { zones, installed })
    }

    /// The zone of a region, when known.
    pub fn zone(&self, region: RegionId) -> Option<&str> {
        self.zones[region.index()].as_deref()
    }

    /// The zone of a region, or why it is not known.
    pub fn require_zone(&self, region: RegionId) -> Result<&str> {
        self.zone(region).ok_or_else(|| {
            Error::refused(format!(
                "which zone {} runs is not known: its pods carry no camunda.io/zone label here and \
                 the configuration's camunda.cluster.partitioning.zone-aware.zones does not list a second zone",
                region.name()
            ))
        })
    }

    /// How the installation configures a zone (replicas, priority, brokers).
    pub fn installed(&self, zone: &str) -> Option<&InstalledZone> {
        self.installed.iter().find(|z| z.name == zone)
    }

    fn region_of(&self, zone: &str) -> Option<RegionId> {
        RegionId::ALL
            .into_iter()
            .find(|r| self.zone(*r) == Some(zone))
    }

    /// c8dr's number of a wire id `<zone>_<n>` (`None`: not a zone id of this installation).
    pub fn number(&self, wire: &str) -> Option<u32> {
        let (zone, n) = wire.rsplit_once('_')?;
        let region = self.region_of(zone)?;
        let n = n.parse::<u32>().ok()?;
        n.checked_mul(2)?.checked_add(region.index() as u32)
    }

    /// The wire id of c8dr's broker `b` (its number when its region's zone is not known).
    pub fn label(&self, b: u32) -> String {
        match self.zone(RegionId::of_broker(b)) {
            Some(zone) => format!("{zone}_{}", b / 2),
            None => b.to_string(),
        }
    }

    /// Brokers as the user knows them: `us-east1_0, us-east1_1`.
    pub fn labels(&self, brokers: &[u32]) -> String {
        brokers
            .iter()
            .map(|b| self.label(*b))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Rewrite every zone id of a management or REST document to c8dr's numbers: `id`,
    /// `brokerId` and `nodeId` fields and `brokers` lists. In `/v2/topology` a zoned broker's
    /// `nodeId` is its index within its zone, ambiguous across zones: its `brokerId` decides.
    pub fn normalise(&self, doc: &mut Value) -> Result<()> {
        match doc {
            Value::Array(items) => items.iter_mut().try_for_each(|v| self.normalise(v)),
            Value::Object(map) => {
                let mut zoned_broker = None;
                for key in ["id", "brokerId", "nodeId"] {
                    if let Some(Value::String(s)) = map.get(key)
                        && let Some(n) = self.translate(s)?
                    {
                        if key == "brokerId" {
                            zoned_broker = Some(n);
                        }
                        map.insert(key.into(), Value::from(n));
                    }
                }
                if let (Some(n), Some(node)) = (zoned_broker, map.get_mut("nodeId")) {
                    *node = Value::from(n);
                }
                if let Some(Value::Array(list)) = map.get_mut("brokers") {
                    for item in list.iter_mut() {
                        if let Value::String(s) = item
                            && let Some(n) = self.translate(s)?
                        {
                            *item = Value::from(n);
                        }
                    }
                }
                map.values_mut().try_for_each(|v| self.normalise(v))
            }
            _ => Ok(()),
        }
    }

    /// A zone id's number; `None` for what is not a zone id (a number in a string); an error for
    /// a zone this installation does not run.
    fn translate(&self, s: &str) -> Result<Option<u32>> {
        let Some((zone, _)) = s.rsplit_once('_').filter(|_| is_zone_id(s)) else {
            return Ok(None);
        };
        self.number(s).map(Some).ok_or_else(|| {
            Error::refused(format!(
                "broker '{s}' is in zone '{zone}', which is neither region's zone ({}): c8dr automates \
                 two zones, one per region",
                RegionId::ALL
                    .iter()
                    .map(|r| format!("{}: {}", r.name(), self.zone(*r).unwrap_or("unknown")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// Whether a document holds zone ids (`<zone>_<n>` strings), which only a [`ZoneMap`] can read.
pub fn has_zone_ids(doc: &Value) -> bool {
    match doc {
        Value::Array(items) => items.iter().any(has_zone_ids),
        Value::Object(map) => map.iter().any(|(k, v)| {
            (matches!(k.as_str(), "id" | "brokerId" | "nodeId")
                && v.as_str().is_some_and(is_zone_id))
                || has_zone_ids(v)
        }),
        _ => false,
    }
}

fn is_zone_id(s: &str) -> bool {
    s.parse::<u32>().is_err()
        && s.rsplit_once('_')
            .is_some_and(|(z, n)| !z.is_empty() && n.parse::<u32>().is_ok())
}

/// The zones an application configuration lists under
/// `camunda.cluster.partitioning.zone-aware.zones` (`name`, `number-of-brokers`,
/// `number-of-replicas`, `priority`; camunda-docs `zone-aware-clusters.md` @ 2feba5f25a2a).
/// Relaxed binding: `-`, `_` and case do not matter; nested or dotted keys.
pub fn installed_zones(application_yaml: &str) -> Vec<InstalledZone> {
    let Ok(doc) = serde_saphyr::from_str::<Value>(application_yaml) else {
        return vec![];
    };
    // One relaxed-binding reader for the whole core (`values::property_values`): the property
    // as its environment variable names it.
    let first = |doc: &'_ Value, var: &str| -> Option<Value> {
        crate::values::property_values(doc, var)
            .first()
            .map(|v| (*v).clone())
    };
    let Some(Value::Array(zones)) = first(&doc, "CAMUNDA_CLUSTER_PARTITIONING_ZONEAWARE_ZONES")
    else {
        return vec![];
    };
    zones
        .iter()
        .filter_map(|z| {
            let num = |var: &str| {
                first(z, var).and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                        .and_then(|n| u32::try_from(n).ok())
                })
            };
            Some(InstalledZone {
                name: first(z, "NAME")?.as_str()?.to_string(),
                brokers: num("NUMBEROFBROKERS")?,
                replicas: num("NUMBEROFREPLICAS")?,
                priority: num("PRIORITY").unwrap_or(0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn installed() -> Vec<InstalledZone> {
        installed_zones(
            "camunda:\n  cluster:\n    partitioning:\n      scheme: ZONE_AWARE\n      zone-aware:\n        zones:\n          - name: us-east1\n            number-of-brokers: 4\n            number-of-replicas: 2\n            priority: 100\n          - name: eu-west1\n            number-of-brokers: 4\n            number-of-replicas: 2\n            priority: 90\n",
        )
    }

    #[test]
    fn the_configuration_lists_the_zones_nested_or_dotted() {
        let zones = installed();
        assert_eq!(zones.len(), 2);
        assert_eq!(
            zones[1],
            InstalledZone {
                name: "eu-west1".into(),
                brokers: 4,
                replicas: 2,
                priority: 90
            }
        );
        let dotted = installed_zones(
            "camunda.cluster.partitioning.zoneAware.zones:\n  - {name: a, numberOfBrokers: \"3\", numberOfReplicas: 1}\n",
        );
        assert_eq!(dotted[0].brokers, 3);
        assert!(installed_zones("camunda:\n  cluster:\n    size: 8\n").is_empty());
    }

    #[test]
    fn a_region_maps_its_own_zone_and_the_configured_other_one() {
        let map = ZoneMap::new(RegionId::ONE, "eu-west1", installed()).expect("map");
        assert_eq!(map.zone(RegionId::ZERO), Some("us-east1"));
        assert_eq!(map.number("us-east1_3"), Some(6));
        assert_eq!(map.number("eu-west1_0"), Some(1));
        assert_eq!(map.label(7), "eu-west1_3");
        assert_eq!(map.number("ap-south1_0"), None);
        // An own zone the list does not name, or three zones, are refused.
        assert!(ZoneMap::new(RegionId::ONE, "ap-south1", installed()).is_err());
        let mut three = installed();
        three.push(InstalledZone {
            name: "c".into(),
            ..three[0].clone()
        });
        assert!(ZoneMap::new(RegionId::ZERO, "us-east1", three).is_err());
    }

    #[test]
    fn documents_are_rewritten_to_numbers_and_nodeid_follows_brokerid() {
        let map = ZoneMap::new(RegionId::ZERO, "us-east1", installed()).expect("map");
        let mut cluster = json!({
            "brokers": [{"id": "eu-west1_2", "partitions": [{"id": 3}]}],
            "pendingChange": {"pending": [{"operation": "BROKER_REMOVE", "brokerId": "us-east1_0",
                                           "brokers": ["eu-west1_0", "eu-west1_1"]}]},
        });
        assert!(has_zone_ids(&cluster));
        map.normalise(&mut cluster).expect("normalise");
        assert_eq!(cluster["brokers"][0]["id"], 5);
        assert_eq!(cluster["brokers"][0]["partitions"][0]["id"], 3);
        assert_eq!(cluster["pendingChange"]["pending"][0]["brokerId"], 0);
        assert_eq!(
            cluster["pendingChange"]["pending"][0]["brokers"],
            json!([1, 3])
        );
        assert!(!has_zone_ids(&cluster));
        // /v2/topology: the index within the zone is not the broker.
        let mut topo = json!({"brokers": [{"nodeId": 1, "brokerId": "eu-west1_1"}]});
        map.normalise(&mut topo).expect("normalise");
        assert_eq!(topo["brokers"][0]["nodeId"], 3);
        // A numbered 8.10 cluster's string ids are left alone; a foreign zone is refused.
        let mut numbered = json!({"brokers": [{"nodeId": 3, "brokerId": "3"}]});
        map.normalise(&mut numbered).expect("normalise");
        assert_eq!(numbered["brokers"][0]["nodeId"], 3);
        assert!(!has_zone_ids(&numbered));
        let mut foreign = json!({"brokers": [{"id": "ap-south1_0"}]});
        assert!(map.normalise(&mut foreign).is_err());
    }
}
