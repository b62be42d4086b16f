//! A thin client over an [`EsTransport`]: retries of transient failures (docs/contract.md §4 rule 7),
//! ES error bodies turned into [`Error`]s, and the adaptive poller every wait uses.

use std::future::Future;
use std::time::Duration;

use http::Method;
use serde_json::Value;

use super::model::error_reason;
use super::transport::EsTransport;
use crate::error::{Error, Result};
use crate::wait::{self, Backoff, Poller};

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
    /// stays within ~0.5 s of the server-side time (docs/contract.md §5, speed), at 4 requests per second at
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
            repository: crate::chart::REPOSITORY.into(),
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
        let attempts = match retry {
            Retry::Safe => self.opts.retries + 1,
            Retry::Never => 1,
        };
        let backoff = Backoff::new(attempts, Duration::from_millis(100), Duration::from_secs(2));
        // A 502–504 answer is as transient as a cut stream: an error, so that it is retried.
        wait::retry(path, backoff, |_| {
            let method = method.clone();
            async move {
                match self.transport.request(method, path, body).await {
                    Ok((status, body)) if transient_status(status) => Err(self.api(status, &body)),
                    other => other,
                }
            }
        })
        .await
    }

    /// Send a request that must not be repeated blindly (starting a snapshot or a restore):
    /// once; after a transient failure, `landed` looks whether it arrived anyway before it is
    /// sent again, at most [`EsOptions::retries`] more times, spaced by `poller`. A non-2xx
    /// answer is an error naming `what`. (The "submit once, recover" stage of a mutation.)
    pub async fn submit_once<F, Fut>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
        poller: &mut Poller,
        mut landed: F,
    ) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .send(method.clone(), path, Some(body), Retry::Never)
                .await
            {
                Ok((status, _)) if (200..300).contains(&status) => return Ok(()),
                Ok((status, b)) => {
                    return Err(Error::failed(format!(
                        "{what} in {}: HTTP {status}: {}",
                        self.transport.describe(),
                        error_reason(&b)
                    )));
                }
                // The request may have arrived before the stream was cut: look before resending.
                Err(e) if e.is_transient() => {
                    if landed().await? {
                        return Ok(());
                    }
                    if attempt > self.opts.retries {
                        return Err(e);
                    }
                    poller.wait().await?;
                }
                Err(e) => return Err(e),
            }
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
        Poller::with_cadence(
            what,
            self.opts.poll_initial,
            self.opts.poll_max,
            self.opts.wait_timeout,
        )
    }
}
