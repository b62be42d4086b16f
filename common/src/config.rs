//! Configuration: flags override environment variables, which override defaults (SPEC section 2).
//! The environment variables are the ones the Camunda docs have the operator export; [`Env`] is
//! their snapshot. Where a region lives is resolved in [`crate::location`].

use std::collections::BTreeMap;

/// A snapshot of the environment, so that resolution is a pure function (and testable).
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}
