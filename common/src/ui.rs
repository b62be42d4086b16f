//! Talking to the operator: confirmation prompts, progress bars for waits, notes on stderr.
//! stdout is reserved for the command's result (one document with `-o json|yaml`).

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Env;
use crate::error::{Error, Result};

/// A line on stderr that never panics: a closed or broken stderr (`… 2>&1 | head -1`) must not
/// turn a command that already applied its change into a crash (`eprintln!` panics on EPIPE).
/// The write's failure is ignored; the command ends with its own exit code.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($t)*);
    }};
}

/// Text on stderr without a newline that never panics (see [`errln!`]).
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stderr(), $($t)*);
    }};
}

/// A line on stdout that never panics (see [`errln!`]).
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout(), $($t)*);
    }};
}

/// Text on stdout that never panics (see [`errln!`]): a reader that went away (`| head -1`) ends
/// the output, not the command.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let mut stdout = ::std::io::stdout();
        let _ = ::std::write!(stdout, $($t)*);
        let _ = stdout.flush();
    }};
}

/// Whether a value means yes, for `C8DR_ASSUME_YES` and for the answer to "Proceed? [y/N]":
/// `1`, `true`, `yes` or `y`, in any case, surrounding blanks ignored. Anything else (`0`,
/// `false`, `no`, an empty answer) is no. This is the union of what the two plugins accepted
/// before they shared it: kubectl c8dr took `1`/`true`/`yes` (exact case) from the variable and
/// `y`/`yes` as an answer; helm c8dr took all four, in any case, for both.
pub fn is_yes(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "y"
    )
}

/// `--yes`, or `C8DR_ASSUME_YES` set to a yes value ([`is_yes`]): the one rule of both plugins.
pub fn assume_yes(flag: bool, env: &Env) -> bool {
    flag || env.get("C8DR_ASSUME_YES").is_some_and(is_yes)
}

/// The one confirmation prompt (docs/contract.md §4 rule 1). Without a terminal on stdin it refuses
/// (exit 3) with `refusal`, before printing anything; otherwise it prints `plan` (a title and
/// its lines, if given) and "Proceed? [y/N] " on stderr and reads one line: [`is_yes`] proceeds,
/// anything else aborts (exit 3).
pub fn ask(refusal: &str, plan: Option<(&str, &[String])>) -> Result<()> {
    let stdin = std::io::stdin();
    // The plan first, also when the answer cannot be asked: what --yes would run is shown.
    let mut err = std::io::stderr().lock();
    if let Some((title, lines)) = plan {
        let _ = writeln!(err, "{title}");
        for line in lines {
            let _ = writeln!(err, "  {line}");
        }
    }
    if !stdin.is_terminal() {
        return Err(Error::refused(refusal));
    }
    let _ = write!(err, "Proceed? [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::failed(format!("reading the answer: {e}")))?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(Error::Aborted)
    }
}

/// `--color`: when text output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// On a terminal only, unless `NO_COLOR` is set (no-color.org) or `TERM=dumb`.
    #[default]
    Auto,
    Always,
    Never,
}

impl std::str::FromStr for ColorChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(Error::usage(format!(
                "--color {other:?}: expected auto, always or never"
            ))),
        }
    }
}

/// The one colour decision, for every stream: `terminal` says whether that stream (stdout for
/// results, stderr for `-v` logs) is a terminal; `document` is a JSON/YAML result, which stays
/// one plain document whatever was asked. `NO_COLOR` set to anything but the empty string
/// turns `auto` off (no-color.org: "when present and not an empty string"); an explicit
/// `--color always` wins over it, as no-color.org lets command-line flags do.
pub fn use_color(choice: ColorChoice, terminal: bool, document: bool, env: &Env) -> bool {
    if document {
        return false;
    }
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal && env.get("NO_COLOR").is_none() && env.get("TERM") != Some("dumb")
        }
    }
}

/// Whether results on stdout are coloured: decided once at start ([`set_color`]), read by the
/// text renderers through [`paint`].
static COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Colour stdout's text from now on (the result of [`use_color`] for stdout).
pub fn set_color(on: bool) {
    COLOR.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A colour of text on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Healthy, done.
    Green,
    /// In progress: a procedure under way, something to do.
    Yellow,
    /// Lost, unreachable, failed.
    Red,
    Bold,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Self::Green => "1;32",
            Self::Yellow => "1;33",
            Self::Red => "1;31",
            Self::Bold => "1",
        }
    }
}

/// `text` in `paint` when stdout is coloured ([`set_color`]), else unchanged.
pub fn paint(paint: Paint, text: &str) -> String {
    if COLOR.load(std::sync::atomic::Ordering::Relaxed) && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", paint.code())
    } else {
        text.to_string()
    }
}

/// How the operator is asked and told things.
#[derive(Debug, Clone)]
pub struct Ui {
    /// `--yes` or `C8DR_ASSUME_YES=1` ([`assume_yes`]).
    pub assume_yes: bool,
    /// A composite command confirmed its whole plan once; its steps do not ask again.
    confirmed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub quiet: bool,
    /// Progress bars only where indicatif draws them (a terminal on stderr, `TERM` not dumb).
    pub interactive: bool,
}

impl Ui {
    pub fn new(assume_yes: bool, quiet: bool) -> Self {
        Self {
            assume_yes,
            confirmed: Default::default(),
            quiet,
            // indicatif's own decision: a terminal whose TERM is set and not `dumb` draws the
            // bar; anywhere else (a pipe, `TERM=dumb`, no TERM) the heartbeat lines speak.
            interactive: !indicatif::ProgressDrawTarget::stderr().is_hidden(),
        }
    }

    /// A note for the operator (stderr), unless `--quiet`.
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            crate::errln!("{}", msg.as_ref());
        }
    }

    /// A warning (stderr), even with `--quiet`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        crate::errln!("warning: {}", msg.as_ref());
    }

    /// Print the plan (stderr) and ask for confirmation (docs/contract.md §4 rule 1): `--yes` skips the
    /// prompt; without a TTY and without `--yes` the command refuses.
    pub fn confirm(&self, title: &str, plan: &[String]) -> Result<()> {
        self.print_plan(title, plan);
        if self.assume_yes || self.confirmed.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        ask(
            "this command changes the cluster and there is no terminal to confirm on: pass --yes (or set C8DR_ASSUME_YES=1)",
            None,
        )
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
        crate::errln!("{title}");
        for line in plan {
            crate::errln!("  {line}");
        }
    }

    /// A progress display for a wait of `total` steps (0 = not known yet: a spinner that turns
    /// into a bar at the first [`Progress::update`]). Hidden without a TTY.
    pub fn progress(&self, label: &str, total: u64) -> Progress {
        if self.quiet {
            return Progress::default();
        }
        if !self.interactive {
            // No terminal (CI logs, a redirected run): a line every HEARTBEAT instead of a bar,
            // so a long wait is never silent.
            return Progress {
                heartbeat: Heartbeat::start(label, total),
                ..Progress::default()
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let progress = Progress {
            bar: Some(bar),
            ..Progress::default()
        };
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

/// The bar of [`Progress::show`]: thousandths, the text says the rest, cut to the terminal's
/// width at its end (the counts) rather than wrapped.
fn detail_style() -> ProgressStyle {
    ProgressStyle::with_template("[{bar:16}] {prefix} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The bar's length for [`Progress::show`].
const PERMILLE: u64 = 1000;

/// How often a wait without a terminal says it is still waiting.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// What a heartbeat line reports: the label (the latest message) and the progress so far.
#[derive(Debug, Default)]
struct Beat {
    label: String,
    done: u64,
    total: u64,
    /// What [`Progress::show`] last said, instead of `done/total`.
    detail: Option<String>,
    lines: u64,
}

/// The heartbeat of a wait without a terminal: a task printing one line every [`HEARTBEAT`].
struct Heartbeat {
    state: std::sync::Arc<std::sync::Mutex<Beat>>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    fn start(label: &str, total: u64) -> Option<Self> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let state = std::sync::Arc::new(std::sync::Mutex::new(Beat {
            label: label.to_string(),
            total,
            ..Beat::default()
        }));
        let shared = state.clone();
        let task = handle.spawn(async move {
            let started = tokio::time::Instant::now();
            let mut tick = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
            loop {
                tick.tick().await;
                let line = match shared.lock() {
                    Ok(mut b) => {
                        b.lines += 1;
                        heartbeat_line(&b, started.elapsed())
                    }
                    Err(_) => return,
                };
                crate::errln!("{line}");
            }
        });
        Some(Self { state, task })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `still waiting for change 12: force-remove brokers [1, 3]: 1m 30s (3/8)`.
fn heartbeat_line(b: &Beat, elapsed: Duration) -> String {
    let elapsed = humantime::format_duration(Duration::from_secs(elapsed.as_secs()));
    if let Some(detail) = &b.detail {
        format!("still waiting for {}: {elapsed}: {detail}", b.label)
    } else if b.total > 0 {
        format!(
            "still waiting for {}: {elapsed} ({}/{})",
            b.label, b.done, b.total
        )
    } else {
        format!("still waiting for {}: {elapsed}", b.label)
    }
}

/// A running progress display: a bar on a terminal, a heartbeat line every [`HEARTBEAT`]
/// without one, nothing with `--quiet`.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    heartbeat: Option<Heartbeat>,
}

impl Progress {
    pub fn update(&self, done: u64, total: u64) {
        if let Some(h) = &self.heartbeat
            && let Ok(mut b) = h.state.lock()
        {
            b.done = done;
            b.total = total;
        }
        if let Some(b) = &self.bar {
            if b.length().is_none() {
                b.set_style(bar_style());
            }
            b.set_length(total.max(1));
            b.set_position(done);
        }
    }
    /// A position in thousandths and the text that says what it is (a job that reports a
    /// percentage, a rate, a time left): on a terminal the bar, `name` (a word) and the text,
    /// without one the heartbeat's text.
    pub fn show(&self, permille: u64, name: &str, text: &str) {
        if let Some(h) = &self.heartbeat
            && let Ok(mut b) = h.state.lock()
        {
            b.detail = Some(text.to_string());
        }
        if let Some(b) = &self.bar {
            if b.length() != Some(PERMILLE) {
                b.set_prefix(name.to_string());
                b.set_style(detail_style());
                b.set_length(PERMILLE);
            }
            b.set_position(permille.min(PERMILLE));
            b.set_message(text.to_string());
        }
    }

    pub fn message(&self, msg: impl Into<String>) {
        let msg = msg.into();
        if let Some(h) = &self.heartbeat
            && let Ok(mut b) = h.state.lock()
        {
            b.label = msg.clone();
        }
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// Heartbeat lines printed so far (none on a terminal or with `--quiet`).
    pub fn heartbeats(&self) -> u64 {
        self.heartbeat
            .as_ref()
            .and_then(|h| h.state.lock().ok().map(|b| b.lines))
            .unwrap_or(0)
    }
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_wait_without_a_terminal_says_it_is_still_waiting_every_30_seconds() {
        let ui = Ui {
            interactive: false,
            ..Ui::new(true, false)
        };
        let p = ui.progress("change 12: force-remove brokers [1, 3]", 0);
        tokio::time::sleep(HEARTBEAT - Duration::from_secs(1)).await;
        assert_eq!(p.heartbeats(), 0, "nothing before the first 30 s");
        p.update(3, 8);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(p.heartbeats(), 1);
        tokio::time::sleep(HEARTBEAT * 2).await;
        assert_eq!(p.heartbeats(), 3);
        p.finish();
        let quiet = Ui {
            interactive: false,
            ..Ui::new(true, true)
        };
        let q = quiet.progress("x", 0);
        tokio::time::sleep(HEARTBEAT * 2).await;
        assert_eq!(q.heartbeats(), 0, "--quiet: no heartbeat");
    }

    #[test]
    fn a_heartbeat_line_names_what_is_awaited_and_for_how_long() {
        let b = Beat {
            label: "change 12: force-remove brokers [1, 3]".into(),
            done: 3,
            total: 8,
            detail: None,
            lines: 0,
        };
        assert_eq!(
            heartbeat_line(&b, Duration::from_millis(90_400)),
            "still waiting for change 12: force-remove brokers [1, 3]: 1m 30s (3/8)"
        );
        let b = Beat {
            label: "the restore".into(),
            detail: Some("43% of ~50.59 GiB, 223.16 MiB/s".into()),
            ..b
        };
        assert_eq!(
            heartbeat_line(&b, Duration::from_secs(30)),
            "still waiting for the restore: 30s: 43% of ~50.59 GiB, 223.16 MiB/s"
        );
    }

    #[test]
    fn colour_is_on_a_terminal_only_and_never_in_documents_or_with_no_color() {
        let none = Env::default();
        let no_color = Env::from_pairs([("NO_COLOR", "1")]);
        let empty = Env::from_pairs([("NO_COLOR", "")]);
        let dumb = Env::from_pairs([("TERM", "dumb")]);
        use ColorChoice::*;
        assert!(use_color(Auto, true, false, &none));
        assert!(!use_color(Auto, false, false, &none), "a pipe or a file");
        assert!(!use_color(Auto, true, false, &no_color));
        assert!(use_color(Auto, true, false, &empty), "an empty NO_COLOR");
        assert!(!use_color(Auto, true, false, &dumb));
        assert!(use_color(Always, false, false, &no_color), "the flag wins");
        assert!(!use_color(Never, true, false, &none));
        for choice in [Auto, Always, Never] {
            assert!(!use_color(choice, true, true, &none), "-o json|yaml");
        }
        assert_eq!("always".parse::<ColorChoice>().ok(), Some(Always));
        assert!("rainbow".parse::<ColorChoice>().is_err());
    }

    #[test]
    fn yes_is_one_true_yes_or_y_in_any_case() {
        for v in ["1", "true", "yes", "y", "Y", "TRUE", "Yes", " yes\n", "y\n"] {
            assert!(is_yes(v), "{v:?}");
        }
        for v in ["0", "false", "no", "n", "", "\n", "yess", "on", "2"] {
            assert!(!is_yes(v), "{v:?}");
        }
    }

    #[test]
    fn the_flag_or_a_yes_value_of_the_variable_assumes_yes() {
        let env = |v: &str| Env::from_pairs([("C8DR_ASSUME_YES", v)]);
        assert!(assume_yes(true, &Env::default()));
        assert!(assume_yes(true, &env("0")), "--yes wins over a no value");
        assert!(assume_yes(false, &env("Y")));
        assert!(!assume_yes(false, &env("0")));
        assert!(!assume_yes(false, &env("  ")));
        assert!(!assume_yes(false, &Env::default()));
    }
}
