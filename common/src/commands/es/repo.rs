//! `kubectl c8dr es …` repository commands: `es repo register`, `es repo show`.

use super::{details, reach};
use crate::commands::mutation::{Mutation, Ticket};
use crate::commands::{Ending, Outcome};
use crate::error::Result;
use crate::es::{self, EsAccess, RepoFlags, RepoReport};
use crate::output::Render;
use crate::session::Session;
use serde::Serialize;

/// `es repo register`: register the repository and verify it. Stages: validate and plan (no
/// call) → confirm → register once (a PUT of the same settings is harmless to repeat) and
/// verify → report.
pub async fn repo_register(
    session: &Session,
    access: &EsAccess,
    flags: &RepoFlags,
) -> Result<Outcome> {
    const CMD: &str = "es repo register";
    // Validate, plan.
    access.validate(&session.settings.env)?;
    let spec = flags.spec(&session.settings)?;
    let plan = spec.plan(&access.repository);
    let summary = format!(
        "register repository {} ({}{}) in the {}",
        access.repository,
        spec.kind,
        if spec.readonly { ", read-only" } else { "" },
        session.describe_region()
    );
    let mutation = Mutation::new(session, CMD, summary, plan).always_waits();
    if let Some(dry) = mutation.dry_run() {
        return Ok(dry);
    }
    // Evidence (the cluster answers), then the runner: confirm, register once (a registration
    // is idempotent: PUT of the same settings), verify, report.
    let (t, opts) = reach(session, access).await?;
    mutation
        .run(
            async || es::repo_register(t.t(), &opts, &spec).await,
            async |e| Err(e),
            async |report: RepoReport, plan| {
                Ok(Outcome::new(
                    CMD,
                    Ending::Done,
                    format!(
                        "repository {} registered{} and verified by {} node(s)",
                        report.repository,
                        if report.readonly { " read-only" } else { "" },
                        report.verified_nodes.len()
                    ),
                )
                .with_plan(plan)
                .with_details(details(&report)))
            },
        )
        .await
}

impl Ticket for RepoReport {}

/// `es repo show`.
pub async fn repo_show(session: &Session, access: &EsAccess) -> Result<RepoView> {
    let (t, opts) = reach(session, access).await?;
    Ok(RepoView(es::repo_show(t.t(), &opts).await?))
}

/// A repository registration, rendered.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RepoView(pub RepoReport);

impl Render for RepoView {
    fn text(&self) -> String {
        let r = &self.0;
        let mut out = format!(
            "repository {} (type {}, {})\n",
            r.repository,
            r.kind,
            if r.readonly { "read-only" } else { "writable" }
        );
        for (k, v) in &r.settings {
            let v = v
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string());
            out.push_str(&format!("  {k}: {v}\n"));
        }
        out
    }
}
