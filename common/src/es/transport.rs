//! How a request reaches Elasticsearch: the [`EsTransport`] trait and its direct HTTP
//! implementation (`--es-url`, e.g. a port-forward or an ingress). The curl-over-exec
//! implementation is in [`super::exec`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http::Method;
use serde_json::Value;

use crate::error::{Error, Result};

/// A boxed `Send` future: keeps the traits dyn-compatible (`&dyn EsTransport`, `Arc<dyn PodExec>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Elasticsearch basic-auth credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct EsCredentials {
    pub username: String,
    pub password: String,
}

impl EsCredentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The bitnami chart's user (SPEC 3.5).
    pub fn elastic(password: impl Into<String>) -> Self {
        Self::new("elastic", password)
    }
}

impl fmt::Debug for EsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EsCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One request to Elasticsearch: `path` is relative to the cluster root and may carry a query
/// (`_cat/indices?format=json`). Answers (HTTP status, JSON body; a non-JSON body becomes a
/// JSON string). Transport failures are [`Error::Unreachable`] (retryable); HTTP error statuses
/// are returned, not raised: the caller decides what they mean.
pub trait EsTransport: Send + Sync {
    fn request<'a>(
        &'a self,
        method: Method,
        path: &'a str,
        body: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<(u16, Value)>>;

    /// What this transport reaches, for messages ("Elasticsearch at http://…").
    fn describe(&self) -> String;
}

/// Parse a response body: JSON, or the raw text as a JSON string.
pub(crate) fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Join a base URL and a relative path with exactly one slash.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Direct HTTP(S) to an Elasticsearch URL (`--es-url`).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: String,
    client: reqwest::Client,
    credentials: Option<EsCredentials>,
}

impl HttpTransport {
    /// `base_url` like `http://localhost:9200`; every request is bounded by `timeout`.
    pub fn new(
        base_url: &str,
        credentials: Option<EsCredentials>,
        timeout: Duration,
    ) -> Result<Self> {
        let parsed = url::Url::parse(base_url)
            .map_err(|e| Error::usage(format!("--es-url {base_url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::usage(format!(
                "--es-url {base_url:?}: the scheme must be http or https"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::failed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            client,
            credentials,
        })
    }
}

impl EsTransport for HttpTransport {
    fn request<'a>(
        &'a self,
        method: Method,
        path: &'a str,
        body: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<(u16, Value)>> {
        Box::pin(async move {
            let url = join_url(&self.base, path);
            let mut req = self.client.request(method, &url);
            if let Some(c) = &self.credentials {
                req = req.basic_auth(&c.username, Some(&c.password));
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| Error::unreachable(self.describe(), e))?;
            let status = resp.status().as_u16();
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| Error::unreachable(self.describe(), e))?;
            Ok((status, parse_body(&bytes)))
        })
    }

    fn describe(&self) -> String {
        format!("Elasticsearch at {}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_redacts() {
        let c = EsCredentials::elastic("hunter2");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("elastic"));
    }

    #[test]
    fn urls_and_bodies() {
        assert_eq!(
            join_url("http://h:9200/", "/_cat/indices"),
            "http://h:9200/_cat/indices"
        );
        assert_eq!(parse_body(b"{\"a\":1}")["a"], 1);
        assert_eq!(parse_body(b"oops"), Value::String("oops".into()));
        assert_eq!(parse_body(b""), Value::Null);
    }
}
