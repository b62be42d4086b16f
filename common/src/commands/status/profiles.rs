//! `kubectl c8dr profiles`: a region's active Spring profiles compared with what is expected.

use std::collections::BTreeSet;

use serde::Serialize;

use super::view::set_of;
use crate::chart;
use crate::error::{Error, Result};
use crate::output::{Render, table};
use crate::session::Session;
use crate::values::active_profiles;

/// What the broker logs say.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodProfiles {
    pub pod: String,
    /// `None` when the start-up line was not found.
    pub active: Option<Vec<String>>,
    pub matches: bool,
}

/// `kubectl c8dr profiles`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesReport {
    pub region: String,
    pub configmap: String,
    pub active: Vec<String>,
    pub expected: Vec<String>,
    pub matches: bool,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<Vec<PodProfiles>>,
}

impl ProfilesReport {
    /// The ConfigMap and every log line (with `--logs`) match.
    pub fn ok(&self) -> bool {
        self.matches
            && self
                .logs
                .as_ref()
                .is_none_or(|l| l.iter().all(|p| p.matches))
    }
}

impl Render for ProfilesReport {
    fn text(&self) -> String {
        let mut out = format!(
            "{}: {} {}\n",
            self.region,
            self.configmap,
            if self.matches { "matches" } else { "DIFFERS" }
        );
        out.push_str(&format!("  active:   {}\n", self.active.join(",")));
        out.push_str(&format!("  expected: {}\n", self.expected.join(",")));
        if !self.missing.is_empty() {
            out.push_str(&format!("  missing:  {}\n", self.missing.join(",")));
        }
        if !self.extra.is_empty() {
            out.push_str(&format!("  extra:    {}\n", self.extra.join(",")));
        }
        if let Some(logs) = &self.logs {
            let rows = logs
                .iter()
                .map(|p| {
                    vec![
                        p.pod.clone(),
                        p.active
                            .as_ref()
                            .map(|a| a.join(","))
                            .unwrap_or_else(|| "no start-up line".into()),
                        if p.matches { "yes" } else { "NO" }.into(),
                    ]
                })
                .collect();
            out.push_str(&table(&["POD", "LOGGED PROFILES", "MATCHES"], rows));
        }
        out
    }
}

/// The profiles of the Spring Boot start-up line `The following N profiles are active: "a", "b"`.
pub fn logged_profiles(logs: &str) -> Option<BTreeSet<String>> {
    let line = logs
        .lines()
        .rev()
        .find(|l| l.contains("profiles are active:") || l.contains("profile is active:"))?;
    let (_, list) = line.split_once("active:")?;
    Some(
        list.split(',')
            .map(|p| p.trim().trim_matches('"').trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// Compare a region's active profiles (and, with `logs`, what each broker logged at start-up)
/// with the expected set: Operate/Tasklist on (`webapps`) or off.
pub async fn profiles(session: &Session, webapps: bool, logs: bool) -> Result<ProfilesReport> {
    let s = &session.settings;
    // The row decides the expected set (`identity` in 8.8, `admin` from 8.9) and the
    // ConfigMap's name; an installation c8dr does not support is refused (exit 3).
    let facts = session.facts().await?;
    let kube = session.kube().await?;
    let expected = if webapps {
        chart::full_profiles_of(facts)
    } else {
        chart::no_webapps_profiles_of(facts)
    };
    let key = chart::UNIFIED_CONFIG_KEY;
    let names = chart::configuration_configmaps(&s.release, facts);
    let mut found = None;
    for candidate in &names {
        if let Some(yaml) = chart::unified_config(kube.get_configmap(candidate).await?) {
            found = Some((candidate.clone(), yaml));
            break;
        }
    }
    let (name, yaml) = found.ok_or_else(|| {
        Error::failed(format!(
            "ConfigMap {} (key {key}) not found in {}: is Camunda installed there?",
            names.join(" or "),
            kube.location()
        ))
    })?;
    let active = active_profiles(&yaml).ok_or_else(|| {
        Error::failed(format!(
            "ConfigMap {name} has no spring.profiles.active in {key}"
        ))
    })?;
    let logs = if logs {
        let pods = kube.list_pods(&chart::broker_selector(&s.release)).await?;
        let mut names: Vec<String> = pods
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        names.sort();
        let expected = &expected;
        let reads = names.iter().map(|pod| async move {
            let text = kube
                .pod_logs(pod, chart::ORCHESTRATION_CONTAINER, None)
                .await?;
            let active = logged_profiles(&text);
            Ok::<_, Error>(PodProfiles {
                pod: pod.clone(),
                matches: active.as_ref() == Some(expected),
                active: active.map(|a| set_of(&a)),
            })
        });
        let results = futures_util::future::join_all(reads).await;
        Some(results.into_iter().collect::<Result<Vec<_>>>()?)
    } else {
        None
    };
    let region = s
        .location
        .id
        .map(|r| format!("{r} ({})", s.region))
        .unwrap_or_else(|| s.region.to_string());
    Ok(ProfilesReport {
        region,
        configmap: name,
        matches: active == expected,
        missing: set_of(&expected.difference(&active).cloned().collect()),
        extra: set_of(&active.difference(&expected).cloned().collect()),
        active: set_of(&active),
        expected: set_of(&expected),
        logs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_line_gives_the_logged_profiles_as_a_set() {
        let logs = "x INFO Starting\nx INFO io.camunda.application.StandaloneCamunda - The following 3 profiles are active: \"broker\", \"identity\", \"consolidated-auth\"\n";
        assert_eq!(logged_profiles(logs), Some(chart::no_webapps_profiles()));
        assert_eq!(logged_profiles("nothing here\n"), None);
    }
}
