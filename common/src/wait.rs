//! The one way c8dr waits and retries: a deadline poller for "until the server says it is done"
//! and a bounded retry for "this read may fail transiently". Every wait loop uses these, so the
//! cadence (docs/contract.md §5: completion noticed within 0.5 s), the timeout error (exit 4) and the retry
//! rule (docs/contract.md §4 rule 7: transient failures of reads only) live here.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// The command's `--timeout`, as the bound of every network wait (0: not set, no bound).
static NETWORK_BOUND_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Bound every network wait of this process by `limit` (the command's `--timeout`): set once by
/// the binary before its first call. A server that accepts a connection and never answers (or
/// answers a byte at a time) then ends each call after `limit` with exit 4, whatever stage it is
/// in (connect, TLS, upgrade, first byte, each read), instead of after the transport's own
/// timeouts times the retries.
pub fn set_network_bound(limit: Duration) {
    let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
    NETWORK_BOUND_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
}

/// The bound set by [`set_network_bound`], if any.
pub fn network_bound() -> Option<Duration> {
    match NETWORK_BOUND_MS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    }
}

/// Run one network operation (retries included) within the process's network bound: past it,
/// [`Error::Timeout`] (exit 4) saying what was waited for (`waiting for {what}`).
pub async fn within<T>(
    what: impl FnOnce() -> String,
    op: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(limit) = network_bound() else {
        return op.await;
    };
    match tokio::time::timeout(limit, op).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: format!(
                "waiting for {} (no answer; --timeout bounds every call)",
                what()
            ),
            after: humantime::format_duration(limit).to_string(),
        }),
    }
}

/// Servers that did not answer within a bound earlier in this command, with that bound: each is
/// waited for once per command (docs/contract.md §4 rule 11). Keyed by what the server is (a
/// Kubernetes API server's URL, an HTTP API's origin).
static HUNG: std::sync::Mutex<Vec<(String, Duration)>> = std::sync::Mutex::new(Vec::new());

/// The bound `server` did not answer within earlier in this command, if it did not.
pub fn hung(server: &str) -> Option<Duration> {
    let hung = HUNG.lock().unwrap_or_else(|e| e.into_inner());
    hung.iter().find(|(k, _)| k == server).map(|(_, d)| *d)
}

/// Record that `server` did not answer within `after`: later waits on it end at once.
pub fn mark_hung(server: &str, after: Duration) {
    let mut hung = HUNG.lock().unwrap_or_else(|e| e.into_inner());
    if !hung.iter().any(|(k, _)| k == server) {
        tracing::debug!(
            server,
            ?after,
            "no answer: not waited for again in this command"
        );
        hung.push((server.to_string(), after));
    }
}

/// Forget every server recorded by [`mark_hung`]: a repair (a resume after a failure, a
/// put-back, the work on a signal) tries every server again, since only trying tells whether
/// it can still repair.
pub fn forget_hung() {
    HUNG.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// Run one operation on `server` within `limit` (when given) and the process's network bound,
/// whichever is shorter. A server that did not answer within such a bound before in this
/// command is not waited for again: [`Error::Timeout`] at once, saying so. One that does not
/// answer now is recorded for the rest of the command.
/// The operation is boxed: reads nest (a region's read holds its calls), and each level would
/// otherwise hold the whole of the level below on the stack.
pub fn within_server<'a, T: 'a>(
    server: &'a str,
    limit: Option<Duration>,
    what: impl FnOnce() -> String + 'a,
    op: impl Future<Output = Result<T>> + 'a,
) -> impl Future<Output = Result<T>> + 'a {
    let op = Box::pin(op);
    async move {
        if let Some(after) = hung(server) {
            return Err(Error::Timeout {
                what: format!(
                    "waiting for {} (it did not answer earlier in this command: not waited for again)",
                    what()
                ),
                after: humantime::format_duration(after).to_string(),
            });
        }
        let bound = match (limit, network_bound()) {
            (Some(l), Some(n)) => Some(l.min(n)),
            (l, n) => l.or(n),
        };
        let Some(bound) = bound else {
            return op.await;
        };
        match tokio::time::timeout(bound, op).await {
            Ok(r) => r,
            Err(_) => {
                mark_hung(server, bound);
                let why = if network_bound() == Some(bound) {
                    "no answer; --timeout bounds every call"
                } else {
                    "no answer"
                };
                Err(Error::Timeout {
                    what: format!("waiting for {} ({why})", what()),
                    after: humantime::format_duration(bound).to_string(),
                })
            }
        }
    }
}

/// First interval of a default poller: a fast operation is noticed within ~20 ms.
pub const FIRST_POLL: Duration = Duration::from_millis(20);
/// Cap of a default poller's interval: completion is noticed within this of the server finishing.
pub const MAX_POLL: Duration = Duration::from_millis(400);

/// Adaptive polling bounded by a deadline: short first intervals, growing by half up to a cap.
#[derive(Debug, Clone)]
pub struct Poller {
    what: String,
    interval: Duration,
    max: Duration,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
}

impl Poller {
    /// A poller for `what` (named in the timeout error) with the default cadence.
    pub fn new(what: impl Into<String>, timeout: Duration) -> Self {
        Self::with_cadence(what, FIRST_POLL, MAX_POLL, timeout)
    }

    /// A poller with its own first interval and cap.
    pub fn with_cadence(
        what: impl Into<String>,
        first: Duration,
        max: Duration,
        timeout: Duration,
    ) -> Self {
        let started = Instant::now();
        Self {
            what: what.into(),
            interval: first,
            max,
            started,
            deadline: started + timeout,
            timeout,
        }
    }

    /// Sleep before the next poll, or [`Error::Timeout`] once the deadline has passed.
    pub async fn wait(&mut self) -> Result<()> {
        self.wait_eta(None).await
    }

    /// Like [`Self::wait`], but when the work is expected to finish sooner than the next interval
    /// (`eta`, from progress so far), poll just after that instead (never more often than every
    /// 20 ms): the end of a wait is what the operator notices.
    pub async fn wait_eta(&mut self, eta: Option<Duration>) -> Result<()> {
        if self.tick_eta(eta).await {
            Ok(())
        } else {
            Err(self.timeout_error())
        }
    }

    /// Sleep before the next poll; `false` (without sleeping) once the deadline has passed, for
    /// callers that report the timeout in their own words.
    pub async fn tick(&mut self) -> bool {
        self.tick_eta(None).await
    }

    async fn tick_eta(&mut self, eta: Option<Duration>) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let mut sleep = self.interval;
        if let Some(eta) = eta {
            sleep = sleep.min((eta + Duration::from_millis(5)).max(FIRST_POLL));
        }
        tokio::time::sleep(sleep.min(self.deadline - now)).await;
        self.interval = (self.interval + self.interval / 2).min(self.max);
        true
    }

    /// The timeout error this poller gives (exit 4), naming what was awaited and for how long.
    pub fn timeout_error(&self) -> Error {
        self.timeout_saying(self.what.clone())
    }

    /// The timeout error (exit 4) in the caller's words: what was seen last, how to follow it.
    pub fn timeout_saying(&self, what: impl Into<String>) -> Error {
        Error::Timeout {
            what: what.into(),
            after: humantime::format_duration(self.timeout).to_string(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now() - self.started
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// How often and how patiently a transient failure is retried.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(attempts: u32, first: Duration, max: Duration) -> Self {
        Self {
            attempts,
            first,
            max,
        }
    }
}

/// Run `attempt` (given the attempt number, from 1) until it succeeds, fails with an error that is
/// not transient ([`Error::is_transient`]), or `backoff.attempts` are spent; the delay doubles from
/// `backoff.first` up to `backoff.max`. Only for reads and other requests that are safe to repeat
/// (docs/contract.md §4 rule 7): a mutation is sent once.
pub async fn retry<T, F, Fut>(what: &str, backoff: Backoff, attempt: F) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_if(what, backoff, Error::is_transient, attempt).await
}

/// [`retry`] with the caller's rule for which errors deserve another attempt (e.g. an exporting
/// pause the brokers refused: sending it again is safe and is how it completes, docs/api-behaviour.md §3).
pub async fn retry_if<T, F, Fut>(
    what: &str,
    backoff: Backoff,
    again: impl Fn(&Error) -> bool,
    attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_when(
        what,
        backoff,
        |r: &Result<T>| r.as_ref().err().is_some_and(&again),
        attempt,
    )
    .await
}

/// The general form: retry while `again` judges the result worth another attempt (an HTTP client
/// retries a 503 *answer*, which is not an error to it) and attempts are left.
pub async fn retry_when<T, F, Fut>(
    what: &str,
    backoff: Backoff,
    again: impl Fn(&T) -> bool,
    mut attempt: F,
) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = T>,
{
    let mut delay = backoff.first;
    let mut n = 0;
    loop {
        n += 1;
        let result = attempt(n).await;
        if n >= backoff.attempts || !again(&result) {
            return result;
        }
        tracing::debug!(what, attempt = n, ?delay, "transient failure, retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(backoff.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_interval_grows_by_half_up_to_the_cap_and_the_deadline_is_an_exit_4() {
        let mut p = Poller::with_cadence(
            "change 7",
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(500),
        );
        let mut slept = vec![];
        loop {
            let t = Instant::now();
            match p.wait().await {
                Ok(()) => slept.push((Instant::now() - t).as_millis()),
                Err(e) => {
                    assert_eq!(e.exit_code(), crate::error::exit::TIMEOUT);
                    assert!(e.to_string().contains("change 7"), "{e}");
                    break;
                }
            }
        }
        assert_eq!(slept, [100, 150, 200, 50]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_near_eta_shortens_the_sleep() {
        let mut p = Poller::with_cadence(
            "restore",
            Duration::from_millis(250),
            Duration::from_secs(1),
            Duration::from_secs(60),
        );
        let t = Instant::now();
        p.wait_eta(Some(Duration::from_millis(30)))
            .await
            .expect("ok");
        assert_eq!(Instant::now() - t, Duration::from_millis(35));
        let t = Instant::now();
        p.wait_eta(Some(Duration::ZERO)).await.expect("ok");
        assert_eq!(Instant::now() - t, FIRST_POLL);
    }

    #[tokio::test(start_paused = true)]
    async fn only_transient_failures_are_retried_and_only_so_often() {
        let backoff = Backoff::new(3, Duration::from_millis(10), Duration::from_millis(15));
        let mut calls = 0;
        let r: Result<()> = retry("read", backoff, |_| {
            calls += 1;
            async { Err(Error::unreachable("gateway", "connection refused")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);

        let mut calls = 0;
        let r: Result<()> = retry("read", backoff, |_| {
            calls += 1;
            async { Err(Error::refused("no")) }
        })
        .await;
        assert_eq!(r.map_err(|e| e.exit_code()), Err(3));
        assert_eq!(calls, 1, "a refusal is not retried");

        let r = retry("read", backoff, |n| async move {
            if n < 2 {
                Err(Error::unreachable("gateway", "reset"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(r.ok(), Some(2));
    }

    #[tokio::test(start_paused = true)]
    async fn polling_backs_off_to_the_cap_and_stops_at_the_deadline() {
        let mut p = Poller::new("change 1", Duration::from_secs(2));
        let start = Instant::now();
        let mut gaps = vec![];
        let mut last = start;
        while p.tick().await {
            gaps.push(Instant::now() - last);
            last = Instant::now();
        }
        assert!(gaps.iter().all(|g| *g <= MAX_POLL));
        assert_eq!(gaps.first().copied(), Some(FIRST_POLL));
        assert!(Instant::now() - start >= Duration::from_secs(2));
    }
}
