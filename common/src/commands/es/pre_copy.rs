//! The pre-copy of `es copy`: a full snapshot of the source taken while Camunda still runs,
//! before the pause, so that the copy's own snapshot (taken while paused) is incremental. The
//! failback driver runs it as its own step (before its pause, or before the surviving region's redeploy without webapps).

use super::Bars;
use super::copy::{CopyArgs, Preview, validate};
use crate::error::Result;
use crate::es::{self, CopySpec, EsAccess, RepoFlags};
use crate::session::Session;

/// The pre-copy of this run, before its pause.
pub(super) async fn run_pre_copy(
    session: &Session,
    st: &es::EsConn,
    p: &Preview,
) -> Result<es::precopy::PreCopyReport> {
    let bars = Bars::new(session);
    let journaled = journal_pre_copy(session, &p.pre_copy_name);
    let r = es::precopy::pre_copy(
        st.t(),
        &p.opts,
        &p.copy_spec.repo,
        p.copy_spec.snapshot_rate.as_deref(),
        &p.pre_copy_name,
        &|ph, pr| bars.update(ph, pr),
    )
    .await;
    bars.finish();
    journal_end(journaled, &r);
    let r = r?;
    session.ui.note(pre_copy_note(&r));
    Ok(r)
}

/// The journal's start line of a pre-copy (a snapshot of the surviving search engine).
fn journal_pre_copy(session: &Session, name: &str) -> crate::journal::Pending {
    crate::journal::begin(
        &session.settings.env,
        session.journal(
            "es pre-copy",
            &[format!("snapshot {name} of the surviving search engine")],
        ),
    )
}

fn journal_end(journaled: crate::journal::Pending, r: &Result<es::precopy::PreCopyReport>) {
    match r {
        Ok(report) => journaled.end("done", &pre_copy_note(report), None, None),
        Err(e) => journaled.failed(e),
    }
}

/// The pre-copy's plan lines: reuse of a pre-copy found in the repository, or a new one named
/// `name` (the name the act then uses).
pub(super) async fn pre_copy_plan(
    st: &es::EsConn,
    opts: &es::EsOptions,
    spec: &CopySpec,
    name: &str,
) -> Vec<String> {
    let writable = spec.repo.clone().with_readonly(false);
    // The repository may not be registered on the source yet: then there is nothing to reuse.
    match es::precopy::find_pre_copy(st.t(), opts).await {
        Ok(Some(found)) => vec![format!(
            "source: (pre-copy: reuse {} of repository {}, {}{})",
            found.snapshot,
            opts.repository,
            found.state,
            found
                .start_time
                .as_deref()
                .map(|t| format!(", started {t}"))
                .unwrap_or_default()
        )],
        _ => es::precopy::pre_copy_calls(
            &opts.repository,
            &writable,
            spec.snapshot_rate.as_deref(),
            name,
        ),
    }
}

/// One line about a pre-copy that is done.
pub(super) fn pre_copy_note(r: &es::precopy::PreCopyReport) -> String {
    format!(
        "pre-copy: snapshot {} {}{}",
        r.snapshot.snapshot,
        if r.reused {
            "reused (taken earlier)"
        } else {
            "taken while Camunda runs"
        },
        r.stats
            .map(|s| format!(
                ", {} in {} files",
                indicatif::HumanBytes(s.total_bytes),
                s.total_files
            ))
            .unwrap_or_default()
    )
}

/// The pre-copy as its own step (the failback driver runs it before its pause, or before
/// the surviving region's redeploy without webapps): the plan lines, with reads only. `name`
/// is the snapshot a new pre-copy gets: the caller passes the same one to [`pre_copy_run`].
pub async fn pre_copy_preview(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
    name: &str,
) -> Result<Vec<String>> {
    let (from, _, spec) = validate(session, access, repo, args)?;
    let source = Session::new(from, session.ui.clone());
    let st = es::connect(&source, access).await?;
    let opts = access.options(session);
    let copy_spec = CopySpec {
        repo: spec,
        snapshot: None,
        delete_existing: false,
        snapshot_rate: args.snapshot_rate.clone(),
    };
    Ok(pre_copy_plan(&st, &opts, &copy_spec, name).await)
}

/// Run the pre-copy (no confirmation here: the caller's plan showed it, naming `name`); returns
/// its report and a one-line note.
pub async fn pre_copy_run(
    session: &Session,
    access: &EsAccess,
    repo: &RepoFlags,
    args: &CopyArgs,
    name: &str,
) -> Result<(es::precopy::PreCopyReport, String)> {
    let (from, _, spec) = validate(session, access, repo, args)?;
    let source = Session::new(from, session.ui.clone());
    let st = es::connect(&source, access).await?;
    let opts = access.options(session);
    let bars = Bars::new(session);
    let journaled = journal_pre_copy(&source, name);
    let r = es::precopy::pre_copy(
        st.t(),
        &opts,
        &spec,
        args.snapshot_rate.as_deref(),
        name,
        &|ph, p| bars.update(ph, p),
    )
    .await;
    bars.finish();
    journal_end(journaled, &r);
    let r = r?;
    let note = pre_copy_note(&r);
    Ok((r, note))
}
