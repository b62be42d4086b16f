//! `GET/PUT _cluster/settings`: the dynamic cluster settings that govern recovery and restore
//! throughput, as Elasticsearch 8.18 handles them.
//!
//! Behaviour (elastic/elasticsearch 8.18):
//! - `persistent` and `transient` maps; the effective value is transient, else persistent, else
//!   the default (`server/.../action/admin/cluster/settings/SettingsUpdater.java`: transient
//!   settings override persistent ones).
//! - PUT accepts nested objects or flat dotted keys (`Settings.Builder.loadFromMap` flattens);
//!   values are stored as strings; `null` resets a key to its default, and a key ending in `*`
//!   with `null` resets every matching key
//!   (`server/.../common/settings/AbstractScopedSettings.java` `updateSettings`: `isDelete`, wildcard).
//! - An unknown key is a 400 `illegal_argument_exception`
//!   "`persistent setting [x], not recognized`" (same method, `get(key) == null`).
//! - A value is validated by the setting's parser: byte sizes as `ByteSizeValue.parseBytesSizeValue`
//!   reads them (`server/.../common/unit/ByteSizeValue.java`: units b, k/kb, m/mb, g/gb, t/tb,
//!   p/pb, case-insensitive; `-1` and `0` need no unit; `-1` means unlimited for the recovery rate),
//!   integers as `Setting.parseInt(s, min, key)` ("Failed to parse value [v] for setting [k] must
//!   be >= 0").
//! - GET renders nested objects unless `flat_settings=true`; `include_defaults=true` adds a
//!   `defaults` map of the settings that are not set.
//!
//! The settings modelled, with their defaults:
//! - `indices.recovery.max_bytes_per_sec` = `40mb` (`server/.../indices/recovery/RecoverySettings.java`
//!   `INDICES_RECOVERY_MAX_BYTES_PER_SEC_SETTING`: 40 MB for every node that is not a dedicated
//!   cold/frozen node; a value `<= 0` removes the rate limiter, i.e. unlimited). A per-node limit:
//!   peer recoveries and, since ES 7.x, snapshot restores are throttled by it
//!   (`BlobStoreRepository.maybeRateLimitRestores` wraps the restore stream in
//!   `recoverySettings.rateLimiter()` as well as the repository's own restore limiter).
//! - `cluster.routing.allocation.node_concurrent_recoveries` = `2`, and
//!   `node_concurrent_incoming_recoveries` / `node_concurrent_outgoing_recoveries`, which default
//!   to it (`server/.../cluster/routing/allocation/decider/ThrottlingAllocationDecider.java`):
//!   they limit PEER recoveries (replicas) per node.
//! - `cluster.routing.allocation.node_initial_primaries_recoveries` = `4` (same class): the limit
//!   for primaries recovering from the store or **from a snapshot** on a node — the restore's
//!   primaries are throttled by this one, not by `node_concurrent_recoveries`.
//! - `indices.recovery.max_concurrent_file_chunks` = `2` (1..=5) and
//!   `indices.recovery.max_concurrent_operations` = `1` (1..=4) (`RecoverySettings.java`): accepted
//!   and reported; they do not change the simulated rate (the byte limit dominates).
//!
//! - `cluster.metadata.*`: user-defined strings (`ClusterService.USER_DEFINED_METADATA`).
//!
//! Any other key is rejected as unknown: the simulator models only these (a real cluster knows
//! hundreds more and would accept them).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{EsCluster, es_error};
use crate::http::SimRequest;

/// How a setting's value is parsed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    ByteSize,
    Text,
    Int { min: i64, max: i64 },
}

/// A modelled setting: key, default (or the key it falls back to), parser.
struct Def {
    key: &'static str,
    default: Default,
    kind: Kind,
}

enum Default {
    Value(&'static str),
    FallbackTo(&'static str),
}

pub const MAX_BYTES_PER_SEC: &str = "indices.recovery.max_bytes_per_sec";
pub const NODE_CONCURRENT_RECOVERIES: &str =
    "cluster.routing.allocation.node_concurrent_recoveries";
pub const NODE_CONCURRENT_INCOMING: &str =
    "cluster.routing.allocation.node_concurrent_incoming_recoveries";
pub const NODE_CONCURRENT_OUTGOING: &str =
    "cluster.routing.allocation.node_concurrent_outgoing_recoveries";
pub const NODE_INITIAL_PRIMARIES: &str =
    "cluster.routing.allocation.node_initial_primaries_recoveries";

const DEFS: &[Def] = &[
    Def {
        key: MAX_BYTES_PER_SEC,
        default: Default::Value("40mb"),
        kind: Kind::ByteSize,
    },
    Def {
        key: NODE_CONCURRENT_RECOVERIES,
        default: Default::Value("2"),
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
    },
    Def {
        key: NODE_CONCURRENT_INCOMING,
        default: Default::FallbackTo(NODE_CONCURRENT_RECOVERIES),
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
    },
    Def {
        key: NODE_CONCURRENT_OUTGOING,
        default: Default::FallbackTo(NODE_CONCURRENT_RECOVERIES),
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
    },
    Def {
        key: NODE_INITIAL_PRIMARIES,
        default: Default::Value("4"),
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
    },
    Def {
        key: "indices.recovery.max_concurrent_file_chunks",
        default: Default::Value("2"),
        kind: Kind::Int { min: 1, max: 5 },
    },
    Def {
        key: "indices.recovery.max_concurrent_operations",
        default: Default::Value("1"),
        kind: Kind::Int { min: 1, max: 4 },
    },
];

/// User-defined cluster metadata: any `cluster.metadata.<name>` key holds a string
/// (elastic/elasticsearch 8.18 `server/.../cluster/service/ClusterService.java`
/// `USER_DEFINED_METADATA = Setting.prefixKeySetting("cluster.metadata.", simpleString, Dynamic)`).
const USER_METADATA: Def = Def {
    key: "cluster.metadata.",
    default: Default::Value(""),
    kind: Kind::Text,
};

fn def(key: &str) -> Option<&'static Def> {
    if key.len() > USER_METADATA.key.len() && key.starts_with(USER_METADATA.key) {
        return Some(&USER_METADATA);
    }
    DEFS.iter().find(|d| d.key == key)
}

/// The cluster's dynamic settings as set through `PUT _cluster/settings` (flat keys, string values).
#[derive(Debug, Clone, Default)]
pub struct ClusterSettings {
    pub persistent: BTreeMap<String, String>,
    pub transient: BTreeMap<String, String>,
}

impl ClusterSettings {
    /// The effective raw value of a modelled key: transient, persistent, then its default.
    pub fn get(&self, key: &str) -> String {
        if let Some(v) = self.transient.get(key).or_else(|| self.persistent.get(key)) {
            return v.clone();
        }
        match def(key).map(|d| &d.default) {
            Some(Default::Value(v)) => (*v).to_string(),
            Some(Default::FallbackTo(other)) => self.get(other),
            None => String::new(),
        }
    }

    /// `indices.recovery.max_bytes_per_sec` in bytes per second; `None` = unlimited (`<= 0`).
    pub fn recovery_bytes_per_sec(&self) -> Option<u64> {
        match parse_byte_size(&self.get(MAX_BYTES_PER_SEC)) {
            Some(b) if b > 0 => Some(b as u64),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> u32 {
        self.get(key).trim().parse::<u32>().unwrap_or(0)
    }

    /// Concurrent incoming PEER recoveries per node.
    pub fn incoming_recoveries(&self) -> u32 {
        self.int(NODE_CONCURRENT_INCOMING)
    }

    /// Concurrent outgoing PEER recoveries per node.
    pub fn outgoing_recoveries(&self) -> u32 {
        self.int(NODE_CONCURRENT_OUTGOING)
    }

    /// Concurrent initial primary recoveries (store or snapshot) per node.
    pub fn initial_primaries_recoveries(&self) -> u32 {
        self.int(NODE_INITIAL_PRIMARIES)
    }
}

/// Bytes of an ES byte-size string (`40mb`, `1.5gb`, `512k`, `0`, `-1`); `None` when ES would
/// refuse it. Fractions are accepted as ES 8 does (with a deprecation warning there).
pub fn parse_byte_size(s: &str) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    if s == "-1" {
        return Some(-1);
    }
    if s == "0" {
        return Some(0);
    }
    const UNITS: &[(&str, f64)] = &[
        ("pb", 1_125_899_906_842_624.0),
        ("tb", 1_099_511_627_776.0),
        ("gb", 1_073_741_824.0),
        ("mb", 1_048_576.0),
        ("kb", 1024.0),
        ("p", 1_125_899_906_842_624.0),
        ("t", 1_099_511_627_776.0),
        ("g", 1_073_741_824.0),
        ("m", 1_048_576.0),
        ("k", 1024.0),
        ("b", 1.0),
    ];
    let (num, mult) = UNITS
        .iter()
        .find_map(|(u, m)| s.strip_suffix(u).map(|n| (n.trim(), *m)))?;
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some((n * mult) as i64)
}

fn value_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A flat key and its new value (`None`: reset).
type Update = (String, Option<String>);

/// Flatten nested settings into dotted keys; `None` values are resets.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Option<String>)>) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out)?;
            }
            Ok(())
        }
        Value::Null => {
            out.push((prefix.to_string(), None));
            Ok(())
        }
        Value::Array(a) => {
            // Settings.Builder stores lists as `key.0`, `key.1`…; none of the modelled keys is a
            // list, so they end up unknown.
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}.{i}"), v, out)?;
            }
            Ok(())
        }
        other => {
            let v = value_string(other).ok_or("unsupported value")?;
            out.push((prefix.to_string(), Some(v)));
            Ok(())
        }
    }
}

/// Why ES refuses `value` for `d`, or `None` when it parses.
fn invalid(d: &Def, value: &str) -> Option<String> {
    match d.kind {
        Kind::Text => None,
        Kind::ByteSize => match parse_byte_size(value) {
            Some(b) if b >= -1 => None,
            Some(_) => Some(format!(
                "failed to parse setting [{}] with value [{value}] as a size in bytes",
                d.key
            )),
            None => Some(format!(
                "failed to parse setting [{}] with value [{value}] as a size in bytes: unit is missing or unrecognized",
                d.key
            )),
        },
        Kind::Int { min, max } => match value.trim().parse::<i64>() {
            Err(_) => Some(format!(
                "Failed to parse value [{value}] for setting [{}]",
                d.key
            )),
            Ok(n) if n < min => Some(format!(
                "Failed to parse value [{value}] for setting [{}] must be >= {min}",
                d.key
            )),
            Ok(n) if n > max => Some(format!(
                "Failed to parse value [{value}] for setting [{}] must be <= {max}",
                d.key
            )),
            Ok(_) => None,
        },
    }
}

/// `*` glob of a reset key.
fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

/// Render flat settings nested (`a.b.c: v` -> `{"a":{"b":{"c":v}}}`) or flat.
fn render(map: &BTreeMap<String, String>, flat: bool) -> Value {
    let mut out = Map::new();
    for (k, v) in map {
        if flat {
            out.insert(k.clone(), Value::String(v.clone()));
            continue;
        }
        let parts: Vec<&str> = k.split('.').collect();
        let mut node = &mut out;
        for p in &parts[..parts.len() - 1] {
            let entry = node
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(m) = entry else {
                unreachable!("just made an object")
            };
            node = m;
        }
        node.insert(parts[parts.len() - 1].to_string(), Value::String(v.clone()));
    }
    Value::Object(out)
}

/// `GET _cluster/settings[?flat_settings=true][&include_defaults=true]`.
pub fn get(es: &EsCluster, req: &SimRequest) -> (u16, Value) {
    let flat = req.flag("flat_settings");
    let s = &es.settings;
    let mut body = json!({
        "persistent": render(&s.persistent, flat),
        "transient": render(&s.transient, flat),
    });
    if req.flag("include_defaults") {
        let defaults: BTreeMap<String, String> = DEFS
            .iter()
            .filter(|d| !s.persistent.contains_key(d.key) && !s.transient.contains_key(d.key))
            .map(|d| {
                let v = match d.default {
                    Default::Value(v) => v.to_string(),
                    Default::FallbackTo(other) => s.get(other),
                };
                (d.key.to_string(), v)
            })
            .collect();
        body["defaults"] = render(&defaults, flat);
    }
    (200, body)
}

/// `PUT _cluster/settings {"persistent":{…},"transient":{…}}`: validate everything first, then
/// apply (an invalid key changes nothing). Answers the applied updates.
pub fn put(es: &mut EsCluster, req: &SimRequest) -> (u16, Value) {
    let body = match req.json_body() {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => {
            return es_error(400, "parse_exception", "request body is required");
        }
        Ok(_) => {
            return es_error(
                400,
                "x_content_parse_exception",
                "[1:1] [cluster_update_settings_request] Expected START_OBJECT",
            );
        }
        Err(e) => return es_error(400, "x_content_parse_exception", e.to_string()),
    };
    if let Some(k) = body
        .keys()
        .find(|k| k.as_str() != "persistent" && k.as_str() != "transient")
    {
        return es_error(
            400,
            "x_content_parse_exception",
            format!("[1:2] [cluster_update_settings_request] unknown field [{k}]"),
        );
    }
    // SettingsUpdater applies the transient updates, then the persistent ones.
    let mut updates: Vec<(&str, Vec<Update>)> = vec![];
    for scope in ["transient", "persistent"] {
        let mut flat = vec![];
        if let Some(v) = body.get(scope)
            && let Err(e) = flatten("", v, &mut flat)
        {
            return es_error(400, "x_content_parse_exception", e);
        }
        for (key, value) in &flat {
            if value.is_none() && key.ends_with('*') {
                continue;
            }
            let Some(d) = def(key) else {
                return es_error(
                    400,
                    "illegal_argument_exception",
                    format!("{scope} setting [{key}], not recognized"),
                );
            };
            if let Some(v) = value
                && let Some(why) = invalid(d, v)
            {
                return es_error(400, "illegal_argument_exception", why);
            }
        }
        updates.push((scope, flat));
    }
    if updates.iter().all(|(_, u)| u.is_empty()) {
        return es_error(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: no settings to update;",
        );
    }
    let flat_out = req.flag("flat_settings");
    let mut out = json!({"acknowledged": true});
    for (scope, flat) in updates {
        let target = if scope == "transient" {
            &mut es.settings.transient
        } else {
            &mut es.settings.persistent
        };
        let mut applied = BTreeMap::new();
        for (key, value) in flat {
            match value {
                None => target.retain(|k, _| !matches(&key, k)),
                Some(v) => {
                    target.insert(key.clone(), v.clone());
                    applied.insert(key, v);
                }
            }
        }
        out[scope] = render(&applied, flat_out);
    }
    (200, out)
}
