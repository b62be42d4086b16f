//! Errors of the core, each with the exit code docs/contract.md §5 assigns to it.

use std::path::PathBuf;

/// Exit codes (docs/contract.md §5).
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const REFUSED: i32 = 3;
    pub const TIMEOUT: i32 = 4;
    pub const UNREACHABLE: i32 = 5;
    /// c8dr itself failed (a bug: a panic). Nothing about the input is printed.
    pub const INTERNAL: i32 = 70;
}

/// Both binaries' panic hook: a panic is a bug, never a way to report input. It prints where
/// (file and line) and a request to report it, never the panic's message (which may hold input
/// or a secret), and exits with [`exit::INTERNAL`].
pub fn install_panic_hook(binary: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::errln!(
            "error: internal error in {binary}{at} (details withheld: they may hold your input); \
             please report it at https://github.com/c8dr/c8dr/issues with the command you ran"
        );
        std::process::exit(exit::INTERNAL);
    }));
}

/// How much of a value an error message echoes.
pub const ECHO_LIMIT: usize = 80;

/// A value as an error message echoes it: quoted with escapes, cut to [`ECHO_LIMIT`] characters
/// (with how much was left out), so that a huge or binary input gives a readable one-line error.
pub fn shown(value: &str) -> String {
    let count = value.chars().count();
    if count <= ECHO_LIMIT {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(ECHO_LIMIT).collect();
    format!("{head:?}… ({} more characters)", count - ECHO_LIMIT)
}

/// The longest word of a message the binaries print whole; see [`bound_message`].
pub const WORD_LIMIT: usize = 200;

/// A message as the binaries print it: every word (a run without whitespace) longer than
/// [`WORD_LIMIT`] characters is cut to [`ECHO_LIMIT`] with how much was left out. This is the
/// backstop at the output for input echoed by any layer (clap's own "invalid value '…'", an
/// error that quotes a flag's value, a path): one readable line whatever the input.
pub fn bound_message(message: &str) -> String {
    if message
        .split_whitespace()
        .all(|w| w.chars().count() <= WORD_LIMIT)
    {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let count = word.chars().count();
        if count > WORD_LIMIT {
            out.extend(word.chars().take(ECHO_LIMIT));
            out.push_str(&format!("… ({} more characters)", count - ECHO_LIMIT));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Everything that can go wrong in c8dr, typed so that the binaries map it to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a flag, an env var, a file. Nothing was sent to any cluster.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or parsed (YAML errors carry line and column).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// A safety check refused the operation.
    #[error("refused: {0}")]
    Refused(String),
    /// The operation was attempted and failed (an API said no, a change failed).
    #[error("{0}")]
    Failed(String),
    /// An API answered with an error status.
    #[error("{service} answered HTTP {status}: {message}")]
    Api {
        service: &'static str,
        status: u16,
        message: String,
    },
    /// Waiting for something to happen took longer than allowed.
    #[error("timed out after {after}: {what}")]
    Timeout { what: String, after: String },
    /// The cluster, gateway or Elasticsearch could not be reached.
    #[error("cannot reach {what}: {detail}")]
    Unreachable { what: String, detail: String },
    /// An external command (helm) exited non-zero; its exit code passes through.
    #[error("{0}")]
    Command(String, i32),
    /// The user declined the confirmation prompt.
    #[error("aborted: nothing was changed")]
    Aborted,
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }
    pub fn refused(msg: impl Into<String>) -> Self {
        Self::Refused(msg.into())
    }
    pub fn failed(msg: impl Into<String>) -> Self {
        Self::Failed(msg.into())
    }
    pub fn unreachable(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Unreachable {
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    /// Add context in front of the message while keeping the kind (and so the exit code): a
    /// timeout inside `failover` stays a timeout (exit 4), an unreachable gateway stays exit 5.
    pub fn context(self, ctx: impl std::fmt::Display) -> Self {
        let ctx = ctx.to_string();
        match self {
            Self::Usage(m) => Self::Usage(format!("{ctx}: {m}")),
            Self::File { path, message } => Self::File {
                path,
                message: format!("{ctx}: {message}"),
            },
            Self::Refused(m) => Self::Refused(format!("{ctx}: {m}")),
            Self::Failed(m) => Self::Failed(format!("{ctx}: {m}")),
            Self::Api {
                service,
                status,
                message,
            } => Self::Api {
                service,
                status,
                message: format!("{ctx}: {message}"),
            },
            Self::Timeout { what, after } => Self::Timeout {
                what: format!("{ctx}: {what}"),
                after,
            },
            Self::Unreachable { what, detail } => Self::Unreachable {
                what: format!("{what} ({ctx})"),
                detail,
            },
            Self::Command(m, code) => Self::Command(format!("{ctx}: {m}"), code),
            Self::Aborted => Self::Aborted,
        }
    }

    /// Add `more` after the message while keeping the kind (and so the exit code): a failure
    /// followed by what was undone (`…; exporting was resumed`) stays a timeout (exit 4), an
    /// unreachable gateway (exit 5), a refusal (exit 3) or bad input (exit 2); any other kind
    /// becomes a failure with the whole message.
    pub fn also(self, more: impl std::fmt::Display) -> Self {
        match self {
            Self::Usage(m) => Self::Usage(format!("{m}; {more}")),
            Self::Refused(m) => Self::Refused(format!("{m}; {more}")),
            Self::Timeout { what, after } => Self::Timeout {
                what: format!("{what}; {more}"),
                after,
            },
            Self::Unreachable { what, detail } => Self::Unreachable {
                what,
                detail: format!("{detail}; {more}"),
            },
            other => Self::failed(format!("{other}; {more}")),
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) | Self::File { .. } => exit::USAGE,
            Self::Refused(_) | Self::Aborted => exit::REFUSED,
            Self::Failed(_) | Self::Api { .. } => exit::FAILED,
            Self::Timeout { .. } => exit::TIMEOUT,
            Self::Unreachable { .. } => exit::UNREACHABLE,
            Self::Command(_, code) => *code,
        }
    }

    /// Whether an API refused the request because another change is in progress (HTTP 409): for
    /// a mutation sent once, a reason to re-read the state, not to send it again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Api { status: 409, .. })
    }

    /// Whether the answer to a request was lost: it may or may not have been applied (a dropped
    /// connection, a timeout, a gateway's 502/503/504). A mutation is then judged by re-reading
    /// the state, never by sending it again (docs/contract.md §4 rule 7).
    pub fn answer_lost(&self) -> bool {
        self.is_transient()
    }

    /// Whether retrying the same request may succeed (docs/contract.md §4 rule 7: transient 5xx and
    /// connection problems yes, 4xx no).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(status, 502..=504),
            Self::Unreachable { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `result.context("step 1")` for any `Result<T, Error>`.
pub trait ResultExt<T> {
    fn context(self, ctx: impl std::fmt::Display) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, ctx: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hook in a child process (this test binary, run again for this one test): a panic
    /// whose message holds a secret prints the location and the request to report, never the
    /// message, and exits 70.
    #[test]
    fn the_panic_hook_prints_no_payload_and_exits_70() {
        const SECRET: &str = "cnry-panic-payload-Mx31";
        if std::env::var_os("C8DR_PANIC_HOOK_CHILD").is_some() {
            install_panic_hook("test-binary");
            let payload = std::hint::black_box(SECRET.to_string());
            panic!("{payload}");
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "error::tests::the_panic_hook_prints_no_payload_and_exits_70",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("C8DR_PANIC_HOOK_CHILD", "1")
            .output()
            .expect("child runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(exit::INTERNAL), "{stderr}");
        assert!(
            stderr.contains("internal error in test-binary at "),
            "{stderr}"
        );
        assert!(stderr.contains("please report"), "{stderr}");
        assert!(
            !stderr.contains(SECRET) && !stdout.contains(SECRET),
            "the payload was printed: {stderr}"
        );
    }

    #[test]
    fn printed_messages_cut_every_overlong_word() {
        let long = "z".repeat(20 * 1024);
        let msg = bound_message(&format!(
            "error: invalid value '{long}' for '--timeout'\n  tip: x"
        ));
        assert!(msg.len() < 300, "{msg}");
        assert!(msg.ends_with("for '--timeout'\n  tip: x"), "{msg}");
        assert_eq!(bound_message("short words stay"), "short words stay");
    }

    #[test]
    fn echoed_input_is_quoted_and_cut_to_a_readable_length() {
        assert_eq!(shown("camunda"), "\"camunda\"");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        let long = shown(&"x".repeat(120 * 1024));
        assert!(long.len() < 200, "{long}");
        assert!(long.ends_with(&format!("({} more characters)", 120 * 1024 - ECHO_LIMIT)));
    }

    /// The kinds an operator acts on by exit code: timeout (4), unreachable (5), refused (3),
    /// bad input (2).
    fn acted_on() -> Vec<Error> {
        vec![
            Error::Timeout {
                what: "change 3".into(),
                after: "15m".into(),
            },
            Error::unreachable("Zeebe gateway", "connection refused"),
            Error::refused("broker 1 is alive"),
            Error::usage("bad flag"),
        ]
    }

    #[test]
    fn also_appends_and_keeps_the_kind_of_the_kinds_an_operator_acts_on() {
        for e in acted_on() {
            let code = e.exit_code();
            let with = e.also("exporting was resumed");
            assert_eq!(with.exit_code(), code, "{with}");
            assert!(
                with.to_string().ends_with("; exporting was resumed"),
                "{with}"
            );
        }
        let api = Error::Api {
            service: "Zeebe management API",
            status: 409,
            message: "busy".into(),
        }
        .also("x");
        assert_eq!(api.exit_code(), 1);
        assert_eq!(
            api.to_string(),
            "Zeebe management API answered HTTP 409: busy; x"
        );
    }

    #[test]
    fn context_keeps_the_kind_and_the_exit_code() {
        let mut cases = acted_on();
        cases.extend([
            Error::failed("change failed"),
            Error::Api {
                service: "Zeebe management API",
                status: 409,
                message: "busy".into(),
            },
            Error::Command("helm".into(), 7),
        ]);
        for e in cases {
            let code = e.exit_code();
            let with = e.context("failover step 1");
            assert_eq!(with.exit_code(), code, "{with}");
            assert!(with.to_string().contains("failover step 1"), "{with}");
        }
        let r: Result<()> = Err(Error::Timeout {
            what: "x".into(),
            after: "1s".into(),
        });
        assert_eq!(
            r.context("step").err().map(|e| e.exit_code()),
            Some(exit::TIMEOUT)
        );
    }

    #[test]
    fn a_lost_answer_and_a_conflict_are_told_apart_by_kind() {
        let api = |status| Error::Api {
            service: "Zeebe management API",
            status,
            message: "x".into(),
        };
        assert!(api(409).is_conflict() && !api(409).answer_lost());
        assert!(api(504).answer_lost() && !api(504).is_conflict());
        assert!(Error::unreachable("gateway", "reset").answer_lost());
        assert!(!api(400).answer_lost() && !Error::failed("no").is_conflict());
    }
}
