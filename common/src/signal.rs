//! The terminating signals c8dr handles (SIGINT, SIGTERM, SIGHUP: Ctrl-C, a cancelled CI job, an
//! SSH drop), their exit codes (128 + the number, `docs/contract.md §5`) and the one listener.
//! Both plugins use it: `kubectl c8dr` to put back what a run changed
//! ([`crate::commands::pause_guard`]), `helm c8dr` to forward the signal to helm
//! ([`crate::helm::run`]). Registering a listener replaces the default action (ending the
//! process), so whoever listens decides how the process ends.

use serde::Serialize;

/// A terminating signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Signal {
    #[serde(rename = "SIGINT")]
    Interrupt,
    #[serde(rename = "SIGTERM")]
    Terminate,
    #[serde(rename = "SIGHUP")]
    Hangup,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }
    /// The shell's exit code for a process ended by this signal (128 + its number).
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
            Self::Hangup => 129,
        }
    }
    /// What a child helm gets: it cancels cleanly on SIGINT and SIGTERM only (a SIGHUP kills
    /// it mid-upgrade).
    pub fn forwarded(self) -> Self {
        match self {
            Self::Interrupt => Self::Interrupt,
            Self::Terminate | Self::Hangup => Self::Terminate,
        }
    }
}

/// Listens for SIGINT, SIGTERM and SIGHUP from its creation on.
#[cfg(unix)]
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    pub fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
    /// The next signal.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Interrupt,
            _ = self.term.recv() => Signal::Terminate,
            _ = self.hup.recv() => Signal::Hangup,
        }
    }
    /// A signal already received, without waiting.
    pub fn pending(&mut self) -> Option<Signal> {
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        [
            (&mut self.int, Signal::Interrupt),
            (&mut self.term, Signal::Terminate),
            (&mut self.hup, Signal::Hangup),
        ]
        .into_iter()
        .find_map(|(s, name)| s.poll_recv(&mut cx).is_ready().then_some(name))
    }
}

/// Ctrl-C only, elsewhere.
#[cfg(not(unix))]
pub struct Signals;

#[cfg(not(unix))]
impl Signals {
    pub fn new() -> std::io::Result<Self> {
        Ok(Self)
    }
    pub async fn recv(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
    pub fn pending(&mut self) -> Option<Signal> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_exit_with_128_plus_their_number() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
        assert_eq!(Signal::Hangup.forwarded(), Signal::Terminate);
        assert_eq!(
            serde_json::to_value(Signal::Terminate).ok(),
            Some(serde_json::json!("SIGTERM"))
        );
    }
}
