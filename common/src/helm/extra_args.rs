//! Extra helm arguments (after `--`): refused when they would override what c8dr decides.

use crate::error::{Error, Result};

/// Flags that pick the cluster or the namespace. helm's plugin loader (`manuallyProcessArgs`,
/// helm/helm v3.17.0 `cmd/helm/load_plugins.go`, the same list in v4.0.0
/// `pkg/cmd/load_plugins.go`) strips exactly these, in the `--flag value` and `--flag=value`
/// forms, from a plugin's argv; what it does not strip (`-nfoo`, `-n=foo` via a shorthand
/// cluster, or anything when helm-c8dr runs directly) would reach `helm upgrade` after c8dr's own
/// `--kube-context`/`--namespace` and win (pflag keeps the last value): the upgrade would go to
/// another cluster or namespace than the one c8dr planned and reports.
const CLUSTER_FLAGS: &[&str] = &[
    "--kube-context",
    "--namespace",
    "--kubeconfig",
    "--kube-apiserver",
    "--kube-token",
    "--kube-as-user",
    "--kube-as-group",
    "--kube-ca-file",
    "--kube-insecure-skip-tls-verify",
    "--kube-tls-server-name",
];

/// `--set` flavours of `helm upgrade` (v3.17.0 `cmd/helm/flags.go` `addValueOptionsFlags`).
const SET_FLAGS: &[&str] = &[
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--set-literal",
];

/// The values c8dr's overlay decides; an extra `--set` on them would override the overlay.
const DECIDED_KEYS: &[&str] = &["orchestration.env", "orchestration.profiles"];

/// Refuse extra helm arguments (after `--`) that would override what c8dr decides: the cluster
/// and namespace of each region, the values chain whose last file is the generated overlay, and
/// the chart version. Every argument is checked, including values of other flags: a false
/// refusal costs a re-run, a missed override upgrades the wrong region.
pub fn check_extra_args(extra: &[String]) -> Result<()> {
    let refuse = |arg: &str, why: &str| Err(refusal(arg, why));
    // Name the key only: the value may be a secret.
    let refuse_decided = |flag: &str, key: &str| {
        Err(refusal(
            &format!("{flag}{key}=..."),
            &format!(
                "overrides {key}, which the generated overlay sets (use --no-webapps / \
                 --no-schema-manager, or put the change in a -f file: c8dr merges it)"
            ),
        ))
    };
    // The --set flavour whose value comes as the next argument (named as given).
    let mut set_value_next: Option<&str> = None;
    for arg in extra {
        let a = arg.as_str();
        if let Some(set_flag) = set_value_next.take()
            && let Some(key) = decided_set_key(a)
        {
            return refuse_decided(&format!("{set_flag} "), &key);
        }
        if a == "--" {
            continue;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        if CLUSTER_FLAGS.contains(&flag) {
            return refuse(
                a,
                "would send the upgrade to another cluster or namespace than the one c8dr plans \
                 and reports (use --region, --surviving-context/--surviving-namespace, \
                 --recreated-context/--recreated-namespace or the CLUSTER_*/CAMUNDA_NAMESPACE_* \
                 variables)",
            );
        }
        if matches!(flag, "--values") {
            return refuse(
                a,
                "would come after the generated overlay and override it (pass values files to c8dr's own -f/--region-values)",
            );
        }
        if flag == "--version" {
            return refuse(a, "overrides the chart version (use c8dr's --version)");
        }
        if SET_FLAGS.contains(&flag) {
            match inline {
                Some(v) => {
                    if let Some(key) = decided_set_key(v) {
                        return refuse_decided(&format!("{flag}="), &key);
                    }
                }
                None => set_value_next = Some(flag),
            }
            continue;
        }
        // A pflag shorthand cluster: `-n foo`, `-nfoo`, `-n=foo`, `-in foo`, `-f x`, `-ifx`.
        // helm upgrade's shorthands: -i (--install), -h (--help) take no value; -n
        // (--namespace), -f (--values) and -o (--output) take the rest or the next argument.
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            for c in cluster.chars() {
                match c {
                    'i' | 'h' => continue,
                    'n' => {
                        return refuse(
                            a,
                            "sets the namespace (-n) of every upgrade, overriding the one c8dr plans \
                             and reports per region (use --surviving-namespace/--recreated-namespace)",
                        );
                    }
                    'f' => {
                        return refuse(
                            a,
                            "adds a values file (-f) after the generated overlay, overriding it (pass \
                             values files to c8dr's own -f/--region-values)",
                        );
                    }
                    _ => break,
                }
            }
        }
    }
    Ok(())
}

fn refusal(arg: &str, why: &str) -> Error {
    Error::usage(format!(
        "extra helm argument '{arg}' (after --) {why}; c8dr refuses it"
    ))
}

/// The key of a `--set` value that touches what the overlay decides, if any.
fn decided_set_key(value: &str) -> Option<String> {
    value.split(',').find_map(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k).trim();
        DECIDED_KEYS
            .iter()
            .find(|d| {
                key == **d
                    || key
                        .strip_prefix(**d)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
            .map(|_| key.to_string())
    })
}
