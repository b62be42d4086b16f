//! Bad values per kind of flag. A value is here only when a real rule makes it invalid; the rule
//! is named beside it. A flag whose kind is unknown is reported by the suite ("classify it"), so a
//! new flag cannot stay untested.

/// One bad value and what is wrong with it.
#[derive(Debug, Clone)]
pub struct Bad {
    pub value: String,
    pub what: &'static str,
}

fn bad(list: &[(&str, &'static str)]) -> Vec<Bad> {
    list.iter()
        .map(|(v, w)| Bad {
            value: v.to_string(),
            what: w,
        })
        .collect()
}

/// Kubernetes names: a namespace is a DNS-1123 label (lowercase alphanumerics and '-', at most
/// 63; kubernetes/kubernetes `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`
/// `IsDNS1123Label`).
fn namespaces() -> Vec<Bad> {
    let long = "a".repeat(64);
    let mut v = bad(&[
        ("Camunda_NS", "not a DNS-1123 label (uppercase, '_')"),
        ("../kube-system", "path traversal"),
        ("", "empty"),
        ("ns;rm -rf ~", "shell metacharacters"),
        ("námespace", "unicode"),
    ]);
    v.push(Bad {
        value: long,
        what: "longer than 63 characters",
    });
    v
}

/// Helm release names: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`, at
/// most 53 characters (helm/helm v3.17.0 `pkg/chartutil/validate_name.go`).
fn releases() -> Vec<Bad> {
    let mut v = bad(&[
        ("../camunda", "'../' in a release name"),
        ("Camunda", "uppercase"),
        ("", "empty"),
        ("camunda;id", "shell metacharacters"),
        ("cam\nunda", "a newline"),
        ("camündа", "unicode (and a Cyrillic a)"),
    ]);
    v.push(Bad {
        value: "a".repeat(54),
        what: "longer than 53 characters",
    });
    v
}

/// Kube contexts: any string, but it must exist in the kubeconfig (kubectl: `context "x" does
/// not exist`).
fn contexts() -> Vec<Bad> {
    bad(&[
        ("nowhere", "no such context in the kubeconfig"),
        ("", "empty"),
        ("c8dr-sim-region0\n", "a newline (no such context)"),
    ])
}

fn regions(helm: bool) -> Vec<Bad> {
    let mut v = bad(&[
        ("region7", "no such region"),
        ("", "empty"),
        ("../region0", "path traversal"),
        ("régión0", "unicode"),
        ("surviving\n", "a newline"),
    ]);
    if helm {
        v.extend(bad(&[("3", "no such region index")]));
    }
    v
}

fn urls() -> Vec<Bad> {
    bad(&[
        ("notaurl", "not a URL"),
        ("ftp://127.0.0.1:9600", "not http(s)"),
        ("http://", "no host"),
        ("http://127.0.0.1:99999", "port out of range"),
        ("", "empty"),
        (
            "http://127.0.0.1:9600/\n$(id)",
            "a newline and a command substitution",
        ),
    ])
}

/// Durations (`15m`, `90s`): must parse and be above zero.
fn durations() -> Vec<Bad> {
    bad(&[
        ("soon", "not a duration"),
        ("0", "zero"),
        ("-5m", "negative"),
        ("", "empty"),
        ("99999999999999999999h", "out of range"),
        ("１５m", "unicode (full-width) digits"),
    ])
}

/// Whole numbers of at least 1 (replication factor, cluster size).
fn counts() -> Vec<Bad> {
    bad(&[
        ("0", "zero"),
        ("-1", "negative"),
        ("four", "not a number"),
        ("1.5", "not a whole number"),
        ("", "empty"),
        ("99999999999", "out of range"),
    ])
}

/// Exporter ids go into a URL path (`/actuator/exporters/{id}/disable`).
fn exporter_ids() -> Vec<Bad> {
    bad(&[
        ("", "empty"),
        ("../camundaregion0", "path traversal"),
        ("camunda region1", "whitespace"),
        ("camundaregion1\n", "a newline"),
        ("camundaregion1?x=1", "a query string"),
    ])
}

/// Elasticsearch repository and snapshot names: not empty, no whitespace, no `,` `#` `\` `/`
/// `*` `?` `"` `<` `>` `|`, not starting with `_`; snapshot names also lowercase
/// (elastic/elasticsearch 8.x `RepositoriesService.validateRepositoryName`,
/// `SnapshotsService.validate`).
fn es_names(snapshot: bool) -> Vec<Bad> {
    let mut v = bad(&[
        ("", "empty"),
        ("_backup", "starts with '_'"),
        ("back up", "whitespace"),
        ("a/b", "'/'"),
        ("../x", "path traversal"),
        ("a,b", "','"),
    ]);
    if snapshot {
        v.extend(bad(&[("Upper", "uppercase")]));
    }
    v
}

/// S3 bucket names: 3-63 characters, lowercase letters, digits, '.' and '-' (AWS "Bucket naming
/// rules").
fn buckets() -> Vec<Bad> {
    bad(&[
        ("", "empty"),
        ("Bad_Bucket", "uppercase and '_'"),
        ("ab", "shorter than 3"),
        ("../bucket", "path traversal"),
        ("bucket;id", "shell metacharacters"),
    ])
}

fn change_ids() -> Vec<Bad> {
    bad(&[
        ("x", "not a number"),
        ("-1", "negative"),
        ("1.5", "not a whole number"),
        ("", "empty"),
        ("99999999999999999999", "out of range"),
    ])
}

/// What the bad values of a flag (or positional) are, or `None` when its kind is unknown.
/// `helm` tells the binary (their flags of one name can differ: `--region both`).
pub fn for_flag(helm: bool, flag: &str, value_name: &str) -> Option<Vec<Bad>> {
    Some(match flag {
        "context" | "surviving-context" | "recreated-context" => contexts(),
        "namespace" | "surviving-namespace" | "recreated-namespace" => namespaces(),
        "region" => regions(helm),
        "from" | "to" | "lost" => bad(&[
            ("region7", "no such region"),
            ("", "empty"),
            ("../region1", "path traversal"),
        ]),
        "release" => releases(),
        "gateway-url" | "rest-url" | "es-url" | "from-es-url" | "to-es-url" => urls(),
        // -o jsonpath=TEMPLATE: kubectl's template syntax, its paths RFC 9535 JSONPath.
        "output" => bad(&[
            ("xml", "not a format"),
            ("", "empty"),
            ("json;id", "shell metacharacters"),
            ("jsonpath={.exporters", "an unclosed '{' in the template"),
            ("jsonpath={.exporters[}", "not a JSONPath"),
        ]),
        "timeout" | "probe-timeout" | "interval" => durations(),
        // history --since: a humantime duration back from now, or an RFC 3339 time.
        "since" => bad(&[
            ("", "empty"),
            ("yesterday", "neither a duration nor a time"),
            ("2026-13-01T00:00:00Z", "month 13"),
            ("2h;id", "shell metacharacters"),
        ]),
        "color" => bad(&[
            ("rainbow", "not auto, always or never"),
            ("", "empty"),
            ("yes", "not a mode (kubectl's values only)"),
        ]),
        // kubectl's `--dry-run[=none|client|server]`; given with `=` only.
        "dry-run" => bad(&[("true", "not a mode"), ("", "empty"), ("Server", "case")]),
        "replication-factor" | "cluster-size" => counts(),
        "ids" => bad(&[
            ("", "empty"),
            ("a", "not a broker id"),
            ("1,,3", "an empty id"),
            ("-1", "negative"),
            ("1;3", "shell metacharacters"),
            ("99999999999", "out of range"),
        ]),
        "initialize-from" => exporter_ids(),
        "repo" => es_names(false),
        "snapshot" => es_names(true),
        // RFC 7617: a basic-auth user-id cannot contain ':'.
        "es-user" => bad(&[
            ("", "empty"),
            ("us:er", "':' (RFC 7617)"),
            ("user\n", "a newline"),
        ]),
        // POSIX environment variable names: letters, digits, '_', not starting with a digit.
        "es-password-env" => bad(&[
            ("", "empty"),
            ("1BAD", "starts with a digit"),
            ("A=B", "'=' in a variable name"),
            ("C8DR_UNSET_VARIABLE", "the variable is not set"),
        ]),
        "repo-type" => bad(&[("hdfs", "not a supported type"), ("", "empty")]),
        "bucket" => buckets(),
        "location" => bad(&[("", "empty"), ("/shared\n/x", "a newline")]),
        "base-path" => bad(&[("backups\n../x", "a newline")]),
        "client" => bad(&[("", "empty"), ("cli ent", "whitespace (not a setting key)")]),
        "setting" => bad(&[
            ("novalue", "not KEY=VALUE"),
            ("=x", "empty key"),
            ("", "empty"),
        ]),
        // elastic/elasticsearch `RestoreSnapshotRequest.validate`: "none" cannot be combined.
        "feature-states" => bad(&[("none,security", "'none' combined with another state")]),
        // helm: `--version` is a semver constraint (Masterminds/semver); a leading '-' would be
        // read by helm as a flag.
        "version" if helm => bad(&[
            ("", "empty"),
            ("--atomic", "a helm flag in a value"),
            ("not a version", "not a semver constraint"),
        ]),
        "chart" => bad(&[
            ("", "empty"),
            ("--set=x", "a helm flag in a value"),
            ("chart\nx", "a newline"),
        ]),
        "region-values" => bad(&[
            ("noequals", "not REGION=FILE"),
            ("region7=camunda-values.yml", "no such region"),
            ("region0=", "no file"),
            ("=camunda-values.yml", "no region"),
            ("region0=missing.yml", "the file does not exist"),
        ]),
        "keep-overlay" => bad(&[
            ("", "empty"),
            ("camunda-values.yml", "a file, not a directory"),
        ]),
        _ => match value_name {
            "EXPORTER_ID" => exporter_ids(),
            "CHANGE_ID" => change_ids(),
            "NAME" => es_names(true),
            "SHELL" => bad(&[("cmd.exe", "not a supported shell")]),
            _ => return None,
        },
    })
}

/// A valid value for a required positional, so that the flag under test is the only problem.
pub fn valid_positional(value_name: &str) -> Option<&'static str> {
    Some(match value_name {
        "EXPORTER_ID" => "camundaregion1",
        "CHANGE_ID" => "1",
        "NAME" => "snap-1",
        "SHELL" => "bash",
        _ => return None,
    })
}
