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

    /// The bitnami chart's user (docs/api-behaviour.md §5).
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

/// One request of a transport, bounded by the command's deadline (`wait::within`) and named by
/// what it waited for: "Elasticsearch at … to answer GET /_cluster/health".
pub(crate) fn bounded<'a, T: EsTransport + ?Sized>(
    transport: &'a T,
    method: Method,
    path: &'a str,
    request: impl Future<Output = Result<(u16, Value)>> + Send + 'a,
) -> BoxFuture<'a, Result<(u16, Value)>> {
    let what = move || format!("{} to answer {method} {path}", transport.describe());
    Box::pin(crate::wait::within(what, request))
}

/// Parse a response body: JSON, or the raw text as a JSON string.
pub(crate) fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Percent-decoding of URL userinfo (`+` stays a plus, unlike form encoding).
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Join a base URL and a relative path with exactly one slash.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// TLS options of [`HttpTransport`].
#[derive(Debug, Clone, Default)]
pub struct EsTls {
    /// A PEM CA certificate to trust in addition to the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (self-signed chart certificates; explicit opt-in only).
    pub insecure: bool,
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
        Self::with_tls(base_url, credentials, timeout, &EsTls::default())
    }

    /// Like [`Self::new`], for https with the chart's own CA (`ca_pem`) or, on explicit request,
    /// without certificate verification.
    pub fn with_tls(
        base_url: &str,
        credentials: Option<EsCredentials>,
        timeout: Duration,
        tls: &EsTls,
    ) -> Result<Self> {
        let mut parsed =
            url::Url::parse(base_url).map_err(|e| Error::usage(format!("--es-url: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::usage(
                "--es-url: the scheme must be http or https".to_string(),
            ));
        }
        // Credentials written into the URL move to basic auth, and out of every message.
        let mut credentials = credentials;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            let user = url_decode(parsed.username());
            let password = url_decode(parsed.password().unwrap_or_default());
            if credentials.is_none() {
                credentials = Some(EsCredentials::new(user, password));
            }
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
        }
        let base_url = parsed.as_str();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
        if url::Url::parse(base_url).is_ok_and(|u| crate::http::is_loopback(&u)) {
            // A search engine forwarded to loopback is never reached through a proxy (docs/api-behaviour.md §7).
            builder = builder.no_proxy();
        }
        if let Some(pem) = &tls.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                Error::usage(format!("the CA certificate for --es-url is not PEM: {e}"))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        if tls.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
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
        bounded(self, method.clone(), path, async move {
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
            let what = format!("{} ({path})", self.describe());
            let bytes =
                crate::http::read_bounded(resp, &what, |e| Error::unreachable(self.describe(), e))
                    .await?;
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

    #[test]
    fn credentials_in_the_url_move_to_basic_auth() {
        let t = HttpTransport::new(
            "http://elastic:p%40s+s@localhost:9200/",
            None,
            Duration::from_secs(1),
        )
        .expect("transport");
        assert!(!t.describe().contains("p%40s"));
        assert_eq!(t.credentials, Some(EsCredentials::elastic("p@s+s")));
        assert!(HttpTransport::new("ftp://x", None, Duration::from_secs(1)).is_err());
    }
}
