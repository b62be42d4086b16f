//! What differs between the Camunda releases c8dr supports: ONE table, one row per release line
//! (8.8, 8.9, 8.10), read by every command instead of `if version` scattered through them.
//! Adding a release is a new row here plus only what truly behaves differently. Each fact's
//! upstream source is in docs/releases.md.
//!
//! The row an installation uses is never guessed: [`installation`] reads it from the live
//! cluster (the gateway's and brokers' versions, the chart label, the search engine's pods, the
//! broker ids) and judges whether c8dr supports it.

pub mod installation;

use std::fmt;

use serde::Serialize;

/// A Camunda version as the gateway and brokers report it (`8.9.4`, `8.10.0-alpha5`): the
/// release line (major, minor) decides the row; the patch and any suffix are kept for display.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// `-alpha5`, `-SNAPSHOT`, … as reported (without the dash).
    pub suffix: Option<String>,
}

impl Version {
    /// `8.9.4`, `8.10.0-alpha5`, `8.10` (patch 0). `None` for anything else: a version c8dr
    /// cannot read is not guessed.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (numbers, suffix) = match raw.split_once('-') {
            Some((n, s)) if !s.is_empty() => (n, Some(s.to_string())),
            Some(_) => return None,
            None => (raw, None),
        };
        let mut parts = numbers.split('.');
        let number = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            (!p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())?
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            Some(p) => number(Some(p))?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            major,
            minor,
            patch,
            suffix,
        })
    }

    /// The release line: `8.9`.
    pub fn line(&self) -> Line {
        Line(self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(s) = &self.suffix {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

/// A release line, `8.9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line(pub u32, pub u32);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How `CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA`'s job (keep the recreated region's schema
/// manager from creating indices before the restore) is spelled in a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchemaSwitch {
    /// The variable the dual-region procedure documents (all releases honour it).
    pub legacy: &'static str,
    /// The canonical variable, from the release that has one. When it is set it wins over the
    /// legacy one: c8dr sets the spelling the installation uses, never both.
    pub canonical: Option<&'static str>,
}

impl SchemaSwitch {
    /// Every spelling this release reads.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.legacy).chain(self.canonical)
    }
}

/// One release line's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    pub line: Line,
    /// The camunda-platform chart major that ships this line.
    pub chart_major: u32,
    /// The orchestration configuration ConfigMap, as a suffix of the orchestration fullname,
    /// in the order to look for them (the first that exists is the installation's).
    pub configmap_suffixes: &'static [&'static str],
    /// The profile of the admin/identity component in `orchestration.profiles` and
    /// `spring.profiles.active`.
    pub admin_profile: &'static str,
    /// The schema-manager switch.
    pub schema_switch: SchemaSwitch,
    /// The exporters' connection variable of region `N` is `<prefix>CAMUNDAREGION<N>_ARGS_CONNECT_URL`.
    pub exporter_env_prefix: &'static str,
    /// The initial contact points variable.
    pub contact_points_env: &'static str,
    /// The chart can deploy Elasticsearch itself (the Bitnami subchart).
    pub bundled_elasticsearch: bool,
    /// `GET /actuator/cluster/changes/{id}` exists.
    pub change_by_id: bool,
    /// Zone-aware brokers (`<zone>_<n>` ids) exist in this line.
    pub zone_aware_brokers: bool,
    /// The coordinated leader rebalance on the REST port (`/cluster/v2/rebalance`, every
    /// operation `x-added-in-version: "8.10"` in `cluster-admin.yaml`); before it only
    /// `POST /actuator/rebalance`, which gives no feedback.
    pub coordinated_rebalance: bool,
}

const LEGACY_SCHEMA: &str = "CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA";

/// THE table: every release line c8dr supports, oldest first.
pub const KNOWN: [Facts; 3] = [
    Facts {
        line: Line(8, 8),
        chart_major: 13,
        configmap_suffixes: &["-configuration-unified"],
        admin_profile: "identity",
        schema_switch: SchemaSwitch {
            legacy: LEGACY_SCHEMA,
            canonical: None,
        },
        exporter_env_prefix: "ZEEBE_BROKER_EXPORTERS_",
        contact_points_env: "ZEEBE_BROKER_CLUSTER_INITIALCONTACTPOINTS",
        bundled_elasticsearch: true,
        change_by_id: false,
        zone_aware_brokers: false,
        coordinated_rebalance: false,
    },
    Facts {
        line: Line(8, 9),
        chart_major: 14,
        // The first 14.x may still have rendered the 8.8 name: both are looked for.
        configmap_suffixes: &["-configuration", "-configuration-unified"],
        admin_profile: "admin",
        schema_switch: SchemaSwitch {
            legacy: LEGACY_SCHEMA,
            canonical: None,
        },
        exporter_env_prefix: "CAMUNDA_DATA_EXPORTERS_",
        contact_points_env: "CAMUNDA_CLUSTER_INITIALCONTACTPOINTS",
        bundled_elasticsearch: true,
        change_by_id: false,
        zone_aware_brokers: false,
        coordinated_rebalance: false,
    },
    Facts {
        line: Line(8, 10),
        chart_major: 15,
        configmap_suffixes: &["-configuration"],
        admin_profile: "admin",
        schema_switch: SchemaSwitch {
            legacy: LEGACY_SCHEMA,
            canonical: Some("CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA"),
        },
        exporter_env_prefix: "CAMUNDA_DATA_EXPORTERS_",
        contact_points_env: "CAMUNDA_CLUSTER_INITIALCONTACTPOINTS",
        bundled_elasticsearch: false,
        change_by_id: true,
        zone_aware_brokers: true,
        coordinated_rebalance: true,
    },
];

/// The oldest line c8dr supports.
pub const OLDEST: &Facts = &KNOWN[0];
/// The newest line c8dr knows; a newer one is refused unless `--allow-unknown-release`.
pub const NEWEST: &Facts = &KNOWN[KNOWN.len() - 1];

/// The row of a release line, `None` for a line c8dr does not know.
pub fn facts(line: Line) -> Option<&'static Facts> {
    KNOWN.iter().find(|f| f.line == line)
}

/// The row of a chart major, `None` for a chart c8dr does not know.
pub fn facts_for_chart(major: u32) -> Option<&'static Facts> {
    KNOWN.iter().find(|f| f.chart_major == major)
}

/// The chart version of a `helm.sh/chart` label: `camunda-platform-14.8.4` → `14.8.4` (Helm
/// writes `+` as `_` there). `None` for another chart.
pub fn chart_version(label: &str) -> Option<Version> {
    let version = label.strip_prefix("camunda-platform-")?;
    Version::parse(version.split(['_', '+']).next()?)
}

/// Every spelling of the schema-manager switch any known release reads, for reading a running
/// installation before its release is known.
pub fn all_schema_switch_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN.iter().flat_map(|f| f.schema_switch.names()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_the_gateway_reports_them_and_nothing_else() {
        let v = Version::parse("8.10.0-alpha5").expect("alpha");
        assert_eq!((v.line(), v.patch), (Line(8, 10), 0));
        assert_eq!(v.to_string(), "8.10.0-alpha5");
        assert_eq!(
            Version::parse(" 8.9.4 ").map(|v| v.line()),
            Some(Line(8, 9))
        );
        assert_eq!(Version::parse("8.8").map(|v| v.patch), Some(0));
        for bad in [
            "",
            "8",
            "8.",
            "x.9.1",
            "8.9.1.2",
            "8.9.1-",
            "-8.9",
            "8.9.99999999999",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_table_has_one_row_per_line_and_per_chart_major_in_order() {
        for pair in KNOWN.windows(2) {
            assert!(pair[0].line < pair[1].line, "rows ordered by line");
            assert!(pair[0].chart_major < pair[1].chart_major);
        }
        for f in &KNOWN {
            assert_eq!(facts(f.line), Some(f));
            assert_eq!(facts_for_chart(f.chart_major), Some(f));
            assert!(!f.configmap_suffixes.is_empty());
        }
        assert_eq!(facts(Line(8, 7)), None);
        assert_eq!(facts(Line(8, 11)), None);
    }

    #[test]
    fn chart_labels_name_their_version() {
        assert_eq!(
            chart_version("camunda-platform-14.8.4").map(|v| v.line()),
            Some(Line(14, 8))
        );
        assert_eq!(
            chart_version("camunda-platform-15.0.0-alpha4").map(|v| v.major),
            Some(15)
        );
        assert_eq!(chart_version("elasticsearch-21.6.3"), None);
    }

    #[test]
    fn only_810_has_a_canonical_schema_switch() {
        let canon: Vec<_> = KNOWN
            .iter()
            .filter_map(|f| f.schema_switch.canonical.map(|_| f.line))
            .collect();
        assert_eq!(canon, [Line(8, 10)]);
        assert_eq!(all_schema_switch_names().len(), 2);
    }
}
