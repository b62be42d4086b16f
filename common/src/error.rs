//! Errors of the core, each with the exit code SPEC section 5 assigns to it.

use std::path::PathBuf;

/// Exit codes (SPEC section 5).
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const REFUSED: i32 = 3;
    pub const TIMEOUT: i32 = 4;
    pub const UNREACHABLE: i32 = 5;
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

    /// Whether retrying the same request may succeed (SPEC safety rule 7: transient 5xx and
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
