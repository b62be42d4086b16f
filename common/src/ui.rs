//! Talking to the operator: confirmation prompts, progress bars for waits, notes on stderr.
//! stdout is reserved for the command's result (one document with `-o json|yaml`).

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};

/// How the operator is asked and told things.
#[derive(Debug, Clone)]
pub struct Ui {
    /// `--yes` or `C8DR_ASSUME_YES=1`.
    pub assume_yes: bool,
    /// A composite command confirmed its whole plan once; its steps do not ask again.
    confirmed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub quiet: bool,
    /// Progress bars only on a TTY (stderr).
    pub interactive: bool,
}

impl Ui {
    pub fn new(assume_yes: bool, quiet: bool) -> Self {
        Self {
            assume_yes,
            confirmed: Default::default(),
            quiet,
            interactive: std::io::stderr().is_terminal(),
        }
    }

    /// A note for the operator (stderr), unless `--quiet`.
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A warning (stderr), even with `--quiet`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("warning: {}", msg.as_ref());
    }

    /// Print the plan (stderr) and ask for confirmation (SPEC safety rule 1): `--yes` skips the
    /// prompt; without a TTY and without `--yes` the command refuses.
    pub fn confirm(&self, title: &str, plan: &[String]) -> Result<()> {
        self.print_plan(title, plan);
        if self.assume_yes || self.confirmed.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::refused(
                "this command changes the cluster and there is no terminal to confirm on: pass --yes (or set C8DR_ASSUME_YES=1)",
            ));
        }
        eprint!("Proceed? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| Error::failed(format!("reading the answer: {e}")))?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(Error::Aborted),
        }
    }

    /// After a composite command's plan was confirmed, its steps proceed without asking again.
    pub fn confirm_all(&self, title: &str, plan: &[String]) -> Result<()> {
        self.confirm(title, plan)?;
        self.confirmed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    pub fn print_plan(&self, title: &str, plan: &[String]) {
        if self.quiet && self.assume_yes {
            return;
        }
        eprintln!("{title}");
        for line in plan {
            eprintln!("  {line}");
        }
    }

    /// A progress display for a wait of `total` steps (0 = not known yet: a spinner that turns
    /// into a bar at the first [`Progress::update`]). Hidden without a TTY.
    pub fn progress(&self, label: &str, total: u64) -> Progress {
        if !self.interactive || self.quiet {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let progress = Progress { bar: Some(bar) };
        if total > 0 {
            progress.update(0, total);
        }
        progress
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A running progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn update(&self, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            if b.length().is_none() {
                b.set_style(bar_style());
            }
            b.set_length(total.max(1));
            b.set_position(done);
        }
    }
    pub fn message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
