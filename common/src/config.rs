//! Configuration: flags override environment variables, which override defaults (docs/contract.md §2).
//! The environment variables are the ones the Camunda docs have the operator export; [`Env`] is
//! their snapshot. Where a region lives is resolved in [`crate::location`].

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

use crate::error::{Error, Result};

/// Every variable c8dr (or a library it configures, such as kube-rs for the kubeconfig and the
/// proxy) reads as text. A non-UTF-8 value of one of these is bad input ([`Env::check`]); other
/// variables are never looked at. A variable named by a flag (`--es-password-env NAME`) is
/// checked where it is read ([`Env::get_checked`]).
pub const VARIABLES: &[&str] = &[
    "CLUSTER_SURVIVING",
    "CAMUNDA_NAMESPACE_SURVIVING",
    "REGION_SURVIVING",
    "CLUSTER_RECREATED",
    "CAMUNDA_NAMESPACE_RECREATED",
    "REGION_RECREATED",
    "CLUSTER_0",
    "CAMUNDA_NAMESPACE_0",
    "CLUSTER_1",
    "CAMUNDA_NAMESPACE_1",
    "CAMUNDA_RELEASE_NAME",
    "HELM_CHART_VERSION",
    "S3_BUCKET_NAME",
    "CAMUNDA_CLIENT_AUTH_METHOD",
    "CAMUNDA_CLIENT_AUTH_USERNAME",
    "CAMUNDA_CLIENT_AUTH_PASSWORD",
    "CAMUNDA_CLIENT_AUTH_CLIENT_ID",
    "CAMUNDA_CLIENT_AUTH_CLIENT_SECRET",
    "CAMUNDA_CLIENT_AUTH_TOKEN_URL",
    "CAMUNDA_CLIENT_AUTH_AUDIENCE",
    "C8DR_ASSUME_YES",
    "C8DR_JOURNAL",
    "XDG_STATE_HOME",
    "KUBECONFIG",
    "HOME",
    "PATH",
    "TERM",
    "NO_COLOR",
    "HELM_BIN",
    "HELM_KUBECONTEXT",
    "HELM_NAMESPACE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A snapshot of the environment, so that resolution is a pure function (and testable). Read
/// as bytes: variables whose value is not UTF-8 are remembered by name only (their value is
/// never kept, so never shown).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    not_utf8: BTreeSet<String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self::from_os(std::env::vars_os())
    }

    /// The environment as the OS gives it: a variable whose name is not UTF-8 is not one c8dr
    /// reads and is skipped; one whose value is not UTF-8 is remembered by name.
    pub fn from_os(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let mut env = Self::default();
        for (k, v) in vars {
            let Ok(k) = k.into_string() else { continue };
            match v.into_string() {
                Ok(v) => {
                    env.vars.insert(k, v);
                }
                Err(_) => {
                    env.not_utf8.insert(k);
                }
            }
        }
        env
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            not_utf8: BTreeSet::new(),
        }
    }

    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A non-empty variable, or bad input when its value is not UTF-8 (named, never shown).
    pub fn get_checked(&self, key: &str) -> Result<Option<&str>> {
        if self.not_utf8.contains(key) {
            return Err(not_utf8(key));
        }
        Ok(self.get(key))
    }

    /// Every variable of [`VARIABLES`] is text: the first that is not is bad input (exit 2),
    /// named without its value.
    pub fn check(&self) -> Result<()> {
        match VARIABLES.iter().find(|v| self.not_utf8.contains(**v)) {
            Some(v) => Err(not_utf8(v)),
            None => Ok(()),
        }
    }

    /// The variables as `(name, value)` pairs (the UTF-8 ones).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn not_utf8(var: &str) -> Error {
    Error::usage(format!(
        "{var}: the value is not valid UTF-8 (not shown); set it to text or unset it"
    ))
}

/// The command line as the OS gives it, as text: an argument that is not UTF-8 is bad input
/// (exit 2) named by its position, never shown.
pub fn args(os: impl IntoIterator<Item = OsString>) -> Result<Vec<String>> {
    os.into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|_| {
                Error::usage(format!(
                    "argument {i} is not valid UTF-8 (not shown): c8dr takes text arguments"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn bytes(v: &[u8]) -> OsString {
        OsString::from_vec(v.to_vec())
    }

    #[test]
    fn a_non_utf8_value_of_a_used_variable_is_named_never_shown_and_others_are_ignored() {
        let secret = b"s3cr3t-\xff\xfe";
        for var in VARIABLES {
            let env = Env::from_os([(OsString::from(*var), bytes(secret))]);
            let err = env.check().expect_err(var);
            assert_eq!(err.exit_code(), 2);
            let msg = err.to_string();
            assert!(msg.contains(var) && !msg.contains("s3cr3t"), "{msg}");
        }
        let env = Env::from_os([
            (OsString::from("UNRELATED"), bytes(secret)),
            (bytes(b"\xffname"), OsString::from("x")),
            (OsString::from("CLUSTER_0"), OsString::from("ctx")),
        ]);
        assert!(env.check().is_ok());
        assert_eq!(env.get("CLUSTER_0"), Some("ctx"));
        assert!(env.get_checked("UNRELATED").is_err());
    }

    #[test]
    fn a_non_utf8_argument_is_named_by_position() {
        let err = args([OsString::from("c8dr"), bytes(b"--context=\xff")]).expect_err("bad");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("argument 1"), "{err}");
    }
}
