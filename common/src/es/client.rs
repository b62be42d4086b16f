//! A thin client over an [`EsTransport`]: retries of transient failures (SPEC safety rule 7),
//! ES error bodies turned into [`Error`]s, and the adaptive poller every wait uses.

use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::time::Instant;

use super::model::error_reason;
use super::transport::EsTransport;
use crate::error::{Error, Result};

/// Knobs of the Elasticsearch operations.
#[derive(Debug, Clone)]
pub struct EsOptions {
    /// The snapshot repository name (the docs' `camunda_backup`).
    pub repository: String,
    /// Upper bound of every wait (snapshot, restore, health, visibility).
    pub wait_timeout: Duration,
    /// Extra attempts for a transient failure (cut exec stream, 502/503/504).
    pub retries: u32,
    /// First poll interval; it grows by half each poll up to `poll_max`. The cap is 250 ms so
    /// that a wait notices completion well within 0.5 s of the server finishing and a whole copy
    /// stays within ~0.5 s of the server-side time (SPEC 5, speed), at 4 requests per second at
    /// most. Waits also poll just after the completion their progress predicts ([`Poller::wait_eta`]).
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// `feature_states` of the restore request: `None` leaves ES's default (all feature states
    /// of the snapshot); `["none"]` keeps the target's system indices (e.g. its security index
    /// when ES security is on; camunda-sources notes section 5).
    pub restore_feature_states: Option<Vec<String>>,
}

impl Default for EsOptions {
    fn default() -> Self {
        Self {
            repository: "camunda_backup".into(),
            wait_timeout: Duration::from_secs(30 * 60),
            retries: 5,
            poll_initial: Duration::from_millis(50),
            poll_max: Duration::from_millis(250),
            restore_feature_states: None,
        }
    }
}

/// Whether a request may be sent again blindly after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and idempotent writes (PUT of a repository, DELETE of named indices).
    Safe,
    /// A request whose effect must be checked before sending it again (snapshot, restore).
    Never,
}

/// A transport plus options.
pub(crate) struct EsClient<'a> {
    pub transport: &'a dyn EsTransport,
    pub opts: &'a EsOptions,
}

fn transient_status(status: u16) -> bool {
    matches!(status, 502..=504)
}

impl<'a> EsClient<'a> {
    pub fn new(transport: &'a dyn EsTransport, opts: &'a EsOptions) -> Self {
        Self { transport, opts }
    }

    /// Send a request; transient failures are retried with backoff when `retry` allows.
    /// HTTP error statuses other than 502–504 are returned as they are.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<(u16, Value)> {
        let mut backoff = Duration::from_millis(100);
        let attempts = match retry {
            Retry::Safe => self.opts.retries + 1,
            Retry::Never => 1,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.transport.request(method.clone(), path, body).await;
            let transient = match &result {
                Ok((status, _)) => transient_status(*status),
                Err(e) => e.is_transient(),
            };
            if !transient || attempt >= attempts {
                return match result {
                    Ok((status, body)) if transient_status(status) => Err(self.api(status, &body)),
                    other => other,
                };
            }
            tracing::debug!(%method, path, attempt, "transient failure, retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Send and require a 2xx answer.
    pub async fn ok(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Value> {
        let (status, v) = self.send(method, path, body, retry).await?;
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            Err(self.api(status, &v))
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.ok(Method::GET, path, None, Retry::Safe).await
    }

    pub fn api(&self, status: u16, body: &Value) -> Error {
        if status == 401 {
            return Error::Api {
                service: "Elasticsearch",
                status,
                message: format!(
                    "{} (check the Elasticsearch credentials)",
                    error_reason(body)
                ),
            };
        }
        Error::Api {
            service: "Elasticsearch",
            status,
            message: error_reason(body),
        }
    }

    pub fn poller(&self, what: impl Into<String>) -> Poller {
        Poller::new(
            what,
            self.opts.poll_initial,
            self.opts.poll_max,
            self.opts.wait_timeout,
        )
    }
}

/// Adaptive polling: short first intervals (a fast operation is noticed within ~50 ms), growing
/// by half up to a cap, bounded by a deadline.
#[derive(Debug)]
pub struct Poller {
    what: String,
    interval: Duration,
    max: Duration,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
}

impl Poller {
    pub fn new(
        what: impl Into<String>,
        initial: Duration,
        max: Duration,
        timeout: Duration,
    ) -> Self {
        let started = Instant::now();
        Self {
            what: what.into(),
            interval: initial,
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

    /// Like [`Self::wait`], but when the work is expected to finish sooner than the next
    /// interval (`eta`, from progress so far), poll just after that instead (never more often
    /// than every 20 ms): the end of a wait is what the operator notices.
    pub async fn wait_eta(&mut self, eta: Option<Duration>) -> Result<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(Error::Timeout {
                what: self.what.clone(),
                after: humantime::format_duration(self.timeout).to_string(),
            });
        }
        let mut sleep = self.interval;
        if let Some(eta) = eta {
            sleep = sleep.min((eta + Duration::from_millis(5)).max(Duration::from_millis(20)));
        }
        tokio::time::sleep(sleep.min(self.deadline - now)).await;
        self.interval = (self.interval + self.interval / 2).min(self.max);
        Ok(())
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now() - self.started
    }
}

/// Expected time left for work `percent` done after `elapsed`, assuming a steady pace.
pub fn eta(elapsed: Duration, percent: f64) -> Option<Duration> {
    if !(percent > 0.0 && percent < 100.0) {
        return None;
    }
    Some(elapsed.mul_f64((100.0 - percent) / percent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn poller_grows_and_times_out() {
        let mut p = Poller::new(
            "x",
            Duration::from_millis(50),
            Duration::from_secs(1),
            Duration::from_secs(3),
        );
        let mut waits = 0;
        let err = loop {
            match p.wait().await {
                Ok(()) => waits += 1,
                Err(e) => break e,
            }
        };
        assert!(matches!(err, Error::Timeout { .. }));
        assert_eq!(err.exit_code(), crate::error::exit::TIMEOUT);
        // 50, 75, 112, 168, 253, 379, 569, 854, then 1 s steps up to 3 s.
        assert!((8..=12).contains(&waits), "{waits}");
        assert!(p.elapsed() >= Duration::from_secs(3));
    }

    #[test]
    fn eta_from_progress() {
        assert_eq!(
            eta(Duration::from_secs(1), 50.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            eta(Duration::from_secs(3), 75.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(eta(Duration::from_secs(1), 0.0), None);
        assert_eq!(eta(Duration::from_secs(1), 100.0), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_near_eta_shortens_the_sleep() {
        let mut p = Poller::new(
            "x",
            Duration::from_millis(250),
            Duration::from_millis(250),
            Duration::from_secs(3),
        );
        let t = Instant::now();
        p.wait_eta(Some(Duration::from_millis(30)))
            .await
            .expect("wait");
        assert_eq!(Instant::now() - t, Duration::from_millis(35));
        let t = Instant::now();
        p.wait_eta(Some(Duration::ZERO)).await.expect("wait");
        assert_eq!(Instant::now() - t, Duration::from_millis(20));
        let t = Instant::now();
        p.wait_eta(Some(Duration::from_secs(5)))
            .await
            .expect("wait");
        assert_eq!(Instant::now() - t, Duration::from_millis(250));
    }
}
