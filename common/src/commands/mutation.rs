//! The one way a command changes a cluster: plan → validate → confirm → submit once → recover →
//! wait. The command plans and validates (it reads what it needs and refuses what is unsafe, exit
//! 3, before anything is sent); [`Mutation::run`] does the rest the same way for every command:
//!
//! - `--dry-run`: the plan, nothing sent ([`Ending::DryRun`]);
//! - the confirmation prompt (docs/contract.md §4 rule 1), skipped when an earlier or concurrent run
//!   already does exactly this and is only followed ([`Mutation::following`]);
//! - `submit`, called ONCE: a mutation is never sent again by the runner (docs/contract.md §4 rule 7);
//! - `recover`, given the error of `submit`: after a lost answer or a conflict it re-reads the
//!   state and learns what happened (a change to follow, or an error saying whether anything
//!   was applied); it never sends the request again;
//! - `--no-wait`: the submission, not waited for ([`Ending::Submitted`]), unless the command
//!   always verifies ([`Mutation::always_waits`]);
//! - `finish`: wait until it really happened and report it ([`Ending::Done`]);
//! - the journal ([`crate::journal`]): a start line before `submit`, the outcome after.
//!
//! The Zeebe topology changes pass a [`Follow`] as their ticket (`commands::follow::recover`
//! is their recovery); an Elasticsearch mutation (repository, snapshot, restore) passes its own
//! ticket type, e.g. the snapshot name, and re-reads the snapshot in `recover`.

use super::{Ending, Outcome};
use crate::error::{Error, Result};
use crate::journal;
use crate::session::Session;
use crate::zeebe::change::Follow;

/// What a submission leaves to follow.
pub trait Ticket {
    /// The change id reported as `changeId` and in a `--no-wait` summary.
    fn change_id(&self) -> Option<i64> {
        None
    }
}

/// A request whose effect is verified right away (exporting pause/resume, a cancel).
impl Ticket for () {}

impl Ticket for Follow {
    fn change_id(&self) -> Option<i64> {
        self.id()
    }
}

/// One mutating command's run, planned and validated.
#[must_use = "a mutation does nothing until it is run"]
pub struct Mutation<'a, T> {
    session: &'a Session,
    command: &'a str,
    summary: String,
    plan: Vec<String>,
    prompt: String,
    following: Option<T>,
    always_waits: bool,
    confirm: bool,
    details: serde_json::Value,
}

impl<'a, T: Ticket> Mutation<'a, T> {
    /// `command` as shown in the outcome, a one-line `summary`, and the `plan`: the exact calls.
    pub fn new(
        session: &'a Session,
        command: &'a str,
        summary: impl Into<String>,
        plan: Vec<String>,
    ) -> Self {
        let summary = summary.into();
        Self {
            session,
            command,
            prompt: format!("Plan: {summary}"),
            summary,
            plan,
            following: None,
            always_waits: false,
            confirm: true,
            details: serde_json::Value::Null,
        }
    }

    /// Details for the dry run's outcome (e.g. the indices a restore would delete).
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// Nothing new will be sent: `submit` only follows an operation that is already running or
    /// done (an Elasticsearch restore found in place), so there is nothing to confirm.
    pub fn without_confirmation(mut self) -> Self {
        self.confirm = false;
        self
    }

    /// The `--dry-run` outcome, when this is a dry run: for commands that must stop before their
    /// evidence is gathered (a dry run of `es snapshot create` reaches no cluster).
    pub fn dry_run(&self) -> Option<Outcome> {
        self.session.settings.dry_run.then(|| {
            let summary = match self.following.as_ref().and_then(Ticket::change_id) {
                Some(id) => format!("{}: already in progress as change {id}", self.summary),
                None => self.summary.clone(),
            };
            Outcome::new(self.command, Ending::DryRun, summary)
                .with_plan(self.plan.clone())
                .with_details(self.details.clone())
        })
    }

    /// The confirmation title, when more than "Plan: SUMMARY" is worth saying.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// Something already does exactly this (another c8dr run, or an earlier run whose answer was
    /// lost): follow it instead of asking and sending.
    pub fn following(mut self, ticket: Option<T>) -> Self {
        self.following = ticket;
        self
    }

    /// `--no-wait` does not apply: the command is done only once its effect is verified, which
    /// takes seconds (exporting pause/resume, a cancel).
    pub fn always_waits(mut self) -> Self {
        self.always_waits = true;
        self
    }

    /// Run it: dry run, confirm, `submit` once, `recover` from its error, then `finish` (wait and
    /// report; it gets the ticket and the plan) unless `--no-wait`.
    pub async fn run(
        self,
        submit: impl AsyncFnOnce() -> Result<T>,
        recover: impl AsyncFnOnce(Error) -> Result<T>,
        finish: impl AsyncFnOnce(T, Vec<String>) -> Result<Outcome>,
    ) -> Result<Outcome> {
        // An installation c8dr does not support is refused before anything is sent, in a dry
        // run too (docs/contract.md §4 rules 9 and 13).
        self.session.facts().await?;
        if let Some(dry) = self.dry_run() {
            return Ok(dry);
        }
        let Self {
            session,
            command,
            summary,
            plan,
            prompt,
            following,
            always_waits,
            confirm,
            details: _,
        } = self;
        // Journaled before it is sent, completed once its outcome is known (a run killed in
        // between leaves a start without an outcome); a change only followed sends nothing.
        let (ticket, journaled) = match following {
            Some(t) => (t, None),
            None => {
                if confirm {
                    session.ui.confirm(&prompt, &plan)?;
                }
                let pending =
                    journal::begin(&session.settings.env, session.journal(command, &plan));
                let sent = match submit().await {
                    Ok(t) => Ok(t),
                    Err(e) => recover(e).await,
                };
                match sent {
                    Ok(t) => (t, Some(pending)),
                    Err(e) => {
                        pending.failed(&e);
                        return Err(e);
                    }
                }
            }
        };
        super::pause_guard::in_flight(Some((command, &summary, ticket.change_id())));
        let result = if session.settings.no_wait && !always_waits {
            let id = ticket.change_id();
            let summary = match id {
                Some(id) => format!("change {id}: {summary}"),
                None => summary,
            };
            Ok(Outcome::new(command, Ending::Submitted, summary)
                .with_plan(plan)
                .with_change(id))
        } else {
            finish(ticket, plan).await
        };
        super::pause_guard::in_flight(None);
        if let Some(p) = journaled {
            p.end_with(&result);
        }
        result
    }
}

/// The `recover` of a request that has nothing to re-read: its error stands.
pub async fn no_recovery<T>(e: Error) -> Result<T> {
    Err(e)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::config::Env;
    use crate::session::GlobalFlags;

    fn session(f: impl FnOnce(&mut GlobalFlags)) -> Session {
        let mut flags = GlobalFlags {
            yes: true,
            quiet: true,
            ..GlobalFlags::default()
        };
        f(&mut flags);
        let (settings, ui) = flags
            .resolve(Env::from_pairs(Vec::<(String, String)>::new()))
            .expect("flags");
        let session = Session::new(settings, ui);
        session.known_release(crate::release::installation::Judgement::of(
            crate::release::OLDEST,
            "the test",
        ));
        session
    }

    /// Runs `m` with a submit that counts its calls and answers `answer`, a recover that counts
    /// its calls and follows change 9, and a finish that reports Done.
    async fn run(
        m: Mutation<'_, Follow>,
        answer: Result<Follow>,
        sent: &Cell<u32>,
        recovered: &Cell<u32>,
    ) -> Result<Outcome> {
        m.run(
            async || {
                sent.set(sent.get() + 1);
                answer
            },
            async |_e| {
                recovered.set(recovered.get() + 1);
                Ok(Follow::Change(9))
            },
            async |f: Follow, plan| {
                Ok(Outcome::new("t", Ending::Done, "done")
                    .with_plan(plan)
                    .with_change(f.id()))
            },
        )
        .await
    }

    #[tokio::test]
    async fn a_dry_run_sends_nothing_and_shows_the_plan() {
        let s = session(|f| f.dry_run = true);
        let (sent, rec) = (Cell::new(0), Cell::new(0));
        let m = Mutation::new(&s, "t", "do it", vec!["POST /x".into()]);
        let out = run(m, Ok(Follow::Change(1)), &sent, &rec)
            .await
            .expect("dry run");
        assert_eq!(out.status, Ending::DryRun);
        assert_eq!(out.plan, ["POST /x"]);
        assert_eq!(sent.get(), 0);
    }

    #[tokio::test]
    async fn the_request_is_sent_once_and_its_error_goes_to_recover() {
        let s = session(|_| {});
        let (sent, rec) = (Cell::new(0), Cell::new(0));
        let m = Mutation::new(&s, "t", "do it", vec![]);
        let lost = Err(Error::unreachable("gateway", "the request timed out"));
        let out = run(m, lost, &sent, &rec).await.expect("recovered");
        assert_eq!((sent.get(), rec.get()), (1, 1));
        assert_eq!(out.status, Ending::Done);
        assert_eq!(out.change_id, Some(9));
    }

    #[tokio::test]
    async fn a_change_already_in_progress_is_followed_without_sending() {
        let s = session(|_| {});
        let (sent, rec) = (Cell::new(0), Cell::new(0));
        let m = Mutation::new(&s, "t", "do it", vec![]).following(Some(Follow::Change(4)));
        let out = run(m, Ok(Follow::Change(1)), &sent, &rec)
            .await
            .expect("followed");
        assert_eq!(sent.get(), 0);
        assert_eq!(out.change_id, Some(4));
    }

    #[tokio::test]
    async fn no_wait_reports_the_submission_unless_the_command_always_waits() {
        let s = session(|f| f.no_wait = true);
        let (sent, rec) = (Cell::new(0), Cell::new(0));
        let m = Mutation::new(&s, "t", "do it", vec![]);
        let out = run(m, Ok(Follow::Change(5)), &sent, &rec)
            .await
            .expect("submitted");
        assert_eq!(out.status, Ending::Submitted);
        assert_eq!(out.summary, "change 5: do it");
        assert_eq!(out.change_id, Some(5));
        let m = Mutation::new(&s, "t", "do it", vec![]).always_waits();
        let out = run(m, Ok(Follow::Change(5)), &sent, &rec)
            .await
            .expect("done");
        assert_eq!(out.status, Ending::Done);
    }
}
