//! A thin client over an [`EsTransport`]: retries of transient failures (SPEC safety rule 7),
//! ES error bodies turned into [`Error`]s, and the adaptive poller every wait uses.

use std::time::Duration;

use http::Method;
use serde_json::Value;

use super::model::error_reason;
use super::transport::EsTransport;
use crate::error::{Error, Result};
use crate::wait::Poller;

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
        Poller::with_cadence(
            what,
            self.opts.poll_initial,
            self.opts.poll_max,
            self.opts.wait_timeout,
        )
    }
}
