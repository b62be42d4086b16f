//! The kubeconfig files as kubectl loads them, checked before any call: names kubectl refuses
//! (a cluster, context or user named twice in one file) and two regions that would talk to one
//! cluster.
//!
//! kubectl (client-go `tools/clientcmd/api/v1/conversion.go`) converts each file's lists into
//! maps and fails on a second entry of one name: `error converting *[]NamedContext into
//! *map[string]*api.Context: duplicate name "X" in list` (likewise `NamedCluster` and
//! `NamedAuthInfo`). kube-rs takes the first entry silently, so a file kubectl refuses would make
//! c8dr talk to whichever cluster comes first. Across files, the first file that names a context
//! wins (client-go's merge), which is not an error.

use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

use crate::config::Env;
use crate::error::{Error, Result};

/// The kubeconfig files kubectl reads, with the flag or variable that named them: `--kubeconfig`
/// alone when given, else `$KUBECONFIG`'s list, else `~/.kube/config`.
pub fn files(explicit: Option<&Path>, env: &Env) -> (Vec<PathBuf>, &'static str) {
    if let Some(path) = explicit {
        return (vec![path.to_path_buf()], "--kubeconfig");
    }
    match env.get("KUBECONFIG") {
        Some(list) => (
            std::env::split_paths(list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            "KUBECONFIG",
        ),
        None => (
            env.get("HOME")
                .map(|h| vec![Path::new(h).join(".kube/config")])
                .unwrap_or_default(),
            "~/.kube/config",
        ),
    }
}

/// The files that exist and parse, in kubectl's order. Files that do not parse are left to the
/// checks that report them (the client's own loading, [`crate::location::check_context`]).
pub struct Loaded {
    pub source: &'static str,
    pub configs: Vec<(PathBuf, Kubeconfig)>,
}

/// The largest kubeconfig file c8dr reads. kube-rs reads a file whole, so a device
/// (`KUBECONFIG=/dev/zero`) or a runaway file would take memory without bound; real kubeconfigs,
/// even with hundreds of clusters and embedded certificates, stay far below this.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A kubeconfig file that exists must be a regular file within [`MAX_FILE_BYTES`] (docs/contract.md
/// §4 rule 8): checked before kube-rs reads it. A missing file is left to the loading, which names
/// it.
pub fn check_file(path: &Path, source: &str) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let what = if !meta.is_file() {
        "not a regular file".to_string()
    } else if meta.len() > MAX_FILE_BYTES {
        format!(
            "{} bytes, more than a kubeconfig can be ({} MiB)",
            meta.len(),
            MAX_FILE_BYTES / (1024 * 1024)
        )
    } else {
        return Ok(());
    };
    Err(Error::usage(format!(
        "{source} {}: {what}",
        crate::error::shown(&path.display().to_string())
    )))
}

/// Every kubeconfig file the process would read (`--kubeconfig`, else `$KUBECONFIG`, else
/// `~/.kube/config`), checked with [`check_file`].
pub fn check_files(explicit: Option<&Path>, env: &Env) -> Result<()> {
    // kubectl skips a missing file of `KUBECONFIG`, but a `--kubeconfig` that does not exist is
    // its error (`stat PATH: no such file or directory`), bad input before any call: not two
    // unreachable regions.
    if let Some(path) = explicit
        && std::fs::symlink_metadata(path).is_err()
    {
        return Err(Error::usage(format!(
            "--kubeconfig: stat {}: no such file or directory",
            crate::error::shown(&path.display().to_string())
        )));
    }
    let (paths, source) = files(explicit, env);
    paths.iter().try_for_each(|p| check_file(p, source))
}

/// A file read as kubectl would use it when it can: `None` when it is missing, not a regular
/// file, larger than [`MAX_FILE_BYTES`] or not a kubeconfig (callers that must say why use
/// [`check_file`] and kube-rs's error).
pub fn read_if_usable(path: &Path) -> Option<Kubeconfig> {
    check_file(path, "").ok()?;
    Kubeconfig::read_from(path).ok()
}

impl Loaded {
    /// The files, each checked with [`check_file`] first.
    pub fn read(explicit: Option<&Path>, env: &Env) -> Result<Self> {
        check_files(explicit, env)?;
        let (paths, source) = files(explicit, env);
        let configs = paths
            .into_iter()
            .filter_map(|p| read_if_usable(&p).map(|c| (p, c)))
            .collect();
        Ok(Self { source, configs })
    }

    /// A name kubectl refuses: a cluster, context or user listed twice in one file.
    pub fn check_duplicates(&self) -> Result<()> {
        for (path, config) in &self.configs {
            let lists: [(&str, Vec<&str>); 3] = [
                (
                    "context",
                    config.contexts.iter().map(|c| c.name.as_str()).collect(),
                ),
                (
                    "cluster",
                    config.clusters.iter().map(|c| c.name.as_str()).collect(),
                ),
                (
                    "user",
                    config.auth_infos.iter().map(|c| c.name.as_str()).collect(),
                ),
            ];
            for (kind, names) in lists {
                if let Some(name) = first_duplicate(&names) {
                    return Err(Error::usage(format!(
                        "{} {}: two {kind}s are named {}: kubectl refuses this file (duplicate \
                         name in list); rename or remove one",
                        self.source,
                        path.display(),
                        crate::error::shown(name)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether some file defines the context `name`.
    pub fn has_context(&self, name: &str) -> bool {
        self.configs
            .iter()
            .any(|(_, c)| c.contexts.iter().any(|n| n.name == name))
    }

    /// The current context: the first file that sets one.
    pub fn current_context(&self) -> Option<&str> {
        self.configs.iter().find_map(|(_, c)| {
            c.current_context
                .as_deref()
                .filter(|s| !s.trim().is_empty())
        })
    }

    /// The API server URL a context points at (the first file naming the context, then the first
    /// naming its cluster, as client-go merges), normalised for comparison.
    pub fn server_of(&self, context: &str) -> Option<String> {
        let cluster = self.configs.iter().find_map(|(_, c)| {
            c.contexts
                .iter()
                .find(|n| n.name == context)
                .map(|n| n.context.as_ref().map(|c| c.cluster.clone()))
        })??;
        let server = self.configs.iter().find_map(|(_, c)| {
            c.clusters
                .iter()
                .find(|n| n.name == cluster)
                .map(|n| n.cluster.as_ref().and_then(|c| c.server.clone()))
        })??;
        Some(normalise_server(&server))
    }
}

fn first_duplicate<'a>(names: &[&'a str]) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    names.iter().copied().find(|n| !seen.insert(*n))
}

/// A server URL as compared: scheme and host lower-case, no trailing `/`, the default port of
/// the scheme made explicit.
fn normalise_server(server: &str) -> String {
    match url::Url::parse(server.trim()) {
        Ok(u) => {
            let port = u.port_or_known_default().map(|p| format!(":{p}"));
            format!(
                "{}://{}{}{}",
                u.scheme(),
                u.host_str().unwrap_or_default().to_ascii_lowercase(),
                port.unwrap_or_default(),
                u.path().trim_end_matches('/')
            )
        }
        Err(_) => server.trim().trim_end_matches('/').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_compare_without_trailing_slash_case_or_default_port() {
        assert_eq!(
            normalise_server("https://API.example:443/"),
            normalise_server("https://api.example")
        );
        assert_ne!(
            normalise_server("https://api.example:6443"),
            normalise_server("https://api.example")
        );
    }
}
