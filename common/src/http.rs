//! One HTTP client for every API c8dr calls: a timeout on every call, retries with backoff for
//! transient failures (connection errors, 502, 503, 504), never for 4xx (docs/contract.md §4 rule 7).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::wait::{Backoff, retry_when};

/// The largest answer c8dr reads from any HTTP API (and from a command run in a pod): 16 MiB.
/// The largest answer it needs is far smaller (a `/v2/topology` or `/actuator/cluster` of
/// hundreds of brokers is tens of KB, `_cat/indices` of thousands of indices a few MB); a larger
/// one is read no further and is an error (docs/reliability.md "Bounded input").
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The error of an answer larger than [`MAX_ANSWER_BYTES`] (exit 1: the server answered, and
/// what it said cannot be used; the same request would get the same answer, so it is not retried).
pub fn too_large(what: &str) -> Error {
    Error::failed(format!(
        "{what} answered with more than {} MiB: answer too large (> {MAX_ANSWER_BYTES} bytes), not read",
        MAX_ANSWER_BYTES / (1024 * 1024)
    ))
}

/// A response body read chunk by chunk, never more than [`MAX_ANSWER_BYTES`] held: a declared
/// `content-length` above it ends the read before any byte, a body that grows past it ends the
/// read there. `what` names the server for the error; transport failures while reading are
/// `transport`'s errors.
pub async fn read_bounded(
    mut resp: reqwest::Response,
    what: &str,
    transport: impl Fn(reqwest::Error) -> Error,
) -> Result<Vec<u8>> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large(what));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(&transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large(what));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Authentication added to every request of a client.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never appear in output or logs (docs/contract.md §4 rule 6).
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { username, .. } => write!(f, "Basic({username}:<redacted>)"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Retry policy for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// A JSON-over-HTTP client for one base URL.
#[derive(Debug, Clone)]
pub struct JsonClient {
    /// What this client talks to, for messages ("Zeebe management API").
    pub service: &'static str,
    base: Url,
    http: reqwest::Client,
    auth: Auth,
    retry: Retry,
}

/// An HTTP answer: status and body (JSON, or a string for non-JSON bodies; Null when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The message of an error body (`{"message": …}`, ES `error.reason`, problem `detail`).
    pub fn message(&self) -> String {
        let b = &self.body;
        b.get("message")
            .or_else(|| b.pointer("/error/reason"))
            .or_else(|| b.get("detail"))
            .or_else(|| b.get("error"))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| match b {
                Value::Null => StatusCode::from_u16(self.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("no body")
                    .to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

/// Whether a method only reads (and so may be retried after a transient failure).
pub fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// `raw` with the userinfo of its authority (`user:password@`) masked, for messages about a URL
/// that may not even parse: a password written into a URL is never echoed.
pub fn redact_userinfo(raw: &str) -> String {
    let Some(start) = raw.find("://").map(|i| i + 3) else {
        return raw.to_string();
    };
    let rest = &raw[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}***@{}", &raw[..start], &rest[at + 1..]),
        None => raw.to_string(),
    }
}

/// Parse and check a base URL given by the user (`--gateway-url` and friends).
pub fn parse_base_url(flag: &str, raw: &str) -> Result<Url> {
    let shown = crate::error::shown(&redact_userinfo(raw));
    // The URL parser drops tabs and newlines (WHATWG rules): a value holding them was not meant.
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::usage(format!(
            "{flag} {shown}: not a URL (it holds whitespace or a control character)"
        )));
    }
    let url = Url::parse(raw)
        .map_err(|e| Error::usage(format!("{flag} {shown}: not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::usage(format!(
            "{flag} {shown}: expected an http:// or https:// URL with a host, e.g. http://127.0.0.1:9600"
        )));
    }
    Ok(url)
}

/// Whether a URL points at this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl JsonClient {
    pub fn new(service: &'static str, base: Url, timeout: Duration) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30));
        if is_loopback(&base) {
            // c8dr's own port-forwards (and a gateway the operator forwarded to loopback) are
            // never sent to HTTP_PROXY/HTTPS_PROXY, whatever NO_PROXY says (docs/api-behaviour.md §7).
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| Error::failed(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            service,
            base,
            http,
            auth: Auth::None,
            retry: Retry::default(),
        })
    }

    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The full URL of `path` (which starts with `/`) under the base URL's path.
    pub fn url(&self, path: &str) -> Result<Url> {
        let joined = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        Url::parse(&joined).map_err(|e| Error::usage(format!("invalid URL {joined}: {e}")))
    }

    /// Send one request. Reads (GET, HEAD) are retried on transient failures; a mutation (PATCH,
    /// POST, PUT, DELETE) goes out exactly once, since a lost answer does not mean the request was
    /// not applied (docs/contract.md §4 rule 7): the caller re-reads the state to learn what happened.
    /// Returns every HTTP answer (4xx and 5xx included) for the caller to judge; only transport
    /// failures are errors here.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let url = self.url(path)?;
        let attempts = if is_read(&method) {
            self.retry.attempts
        } else {
            1
        };
        let backoff = Backoff::new(attempts, self.retry.first_backoff, self.retry.max_backoff);
        let transient = |r: &Result<Answer>| match r {
            Ok(a) => matches!(a.status, 502..=504),
            Err(e) => e.is_transient(),
        };
        let what = || {
            format!(
                "{} at {} to answer {method} {path}",
                self.service,
                redact_userinfo(&url.origin().ascii_serialization())
            )
        };
        crate::wait::within_server(
            &self.server_key(),
            None,
            what,
            retry_when(self.service, backoff, transient, |_| {
                self.send_once(method.clone(), url.clone(), query, body)
            }),
        )
        .await
    }

    /// What identifies this client's server for [`crate::wait::within_server`]: its origin.
    fn server_key(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// Run `op` (calls of this client) within `limit`: past it, or at once when this server did
    /// not answer earlier in this command, [`Error::Timeout`] naming `what`.
    pub async fn bounded<T>(
        &self,
        limit: Duration,
        what: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let key = self.server_key();
        crate::wait::within_server(
            &key,
            Some(limit),
            || format!("{} at {} ({what})", self.service, redact_userinfo(&key)),
            op,
        )
        .await
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let mut req = self.http.request(method.clone(), url.clone());
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Basic { username, password } => req.basic_auth(username, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
        };
        // A password written into the base URL (`http://user:pw@host`) is never logged.
        let shown = redact_userinfo(url.as_str());
        tracing::debug!(%method, url = %shown, "request");
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = resp.status().as_u16();
        let what = format!(
            "{} at {} ({method} {})",
            self.service,
            redact_userinfo(&url.origin().ascii_serialization()),
            url.path()
        );
        let bytes = read_bounded(resp, &what, |e| self.transport_error(&url, e)).await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        tracing::debug!(status, "response");
        Ok(Answer { status, body })
    }

    fn transport_error(&self, url: &Url, e: reqwest::Error) -> Error {
        let what = format!("{} at {}", self.service, url.origin().ascii_serialization());
        if e.is_timeout() {
            Error::unreachable(what, "the request timed out")
        } else if e.is_connect() {
            Error::unreachable(what, "connection refused or failed")
        } else {
            Error::unreachable(what, e)
        }
    }

    /// Send and require a 2xx answer; anything else becomes `Error::Api` with the body's message.
    pub async fn expect_ok(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let answer = self.send(method, path, query, body).await?;
        if answer.is_success() {
            Ok(answer)
        } else {
            Err(Error::Api {
                service: self.service,
                status: answer.status,
                message: answer.message(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        for (raw, expected) in [
            ("http://127.0.0.1:9600", true),
            ("http://127.1.2.3:1", true),
            ("http://localhost:8080", true),
            ("http://[::1]:9200", true),
            ("https://gateway.example:9600", false),
            ("http://10.0.0.1:9600", false),
        ] {
            let url = Url::parse(raw).expect("url");
            assert_eq!(is_loopback(&url), expected, "{raw}");
        }
    }

    #[test]
    fn base_urls_are_checked_with_the_flag_named() {
        assert!(parse_base_url("--gateway-url", "http://127.0.0.1:9600").is_ok());
        let err = parse_base_url("--gateway-url", "127.0.0.1:9600")
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("--gateway-url"));
        assert!(parse_base_url("--gateway-url", "not a url").is_err());
        assert!(parse_base_url("--es-url", "ftp://host").is_err());
    }

    #[test]
    fn a_password_in_a_url_is_masked_in_messages() {
        for (raw, shown) in [
            ("http://u:pw@[::1", "http://***@[::1"),
            (
                "http://u:p@w@host:1/p@th?q=a@b",
                "http://***@host:1/p@th?q=a@b",
            ),
            ("https://host/x@y", "https://host/x@y"),
            ("no-scheme@host", "no-scheme@host"),
        ] {
            assert_eq!(redact_userinfo(raw), shown);
        }
        let err = parse_base_url("--es-url", "ftp://u:pw-canary@host")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("--es-url") && !err.contains("pw-canary"),
            "{err}"
        );
    }

    #[test]
    fn error_messages_come_from_the_body_shapes_each_api_uses() {
        let zeebe = Answer {
            status: 409,
            body: serde_json::json!({"message": "Another topology change is in progress"}),
        };
        assert_eq!(zeebe.message(), "Another topology change is in progress");
        let es = Answer {
            status: 400,
            body: serde_json::json!({"error": {"reason": "snapshot exists"}}),
        };
        assert_eq!(es.message(), "snapshot exists");
        let empty = Answer {
            status: 502,
            body: Value::Null,
        };
        assert_eq!(empty.message(), "Bad Gateway");
    }

    #[tokio::test]
    async fn a_mutation_is_sent_once_and_a_read_is_retried() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let base = Url::parse(&format!("http://{addr}")).expect("url");
        let client = JsonClient::new("test", base, Duration::from_secs(2))
            .expect("client")
            .with_retry(Retry {
                attempts: 3,
                first_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(1),
            });
        let a = client
            .send(Method::POST, "/x", &[], None)
            .await
            .expect("answer");
        assert_eq!(a.status, 504);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "a POST goes out once");
        let _ = client.send(Method::GET, "/x", &[], None).await;
        assert_eq!(hits.load(Ordering::SeqCst), 4, "a GET is retried");
    }

    /// An answer larger than [`MAX_ANSWER_BYTES`] is read no further: declared by its
    /// content-length (nothing read) or streamed without one (read up to the bound), it is
    /// "answer too large", exit 1, not retried.
    #[tokio::test]
    async fn an_answer_past_the_bound_is_an_error_and_read_no_further() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let n = h.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    if n == 0 {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            MAX_ANSWER_BYTES + 1
                        );
                        let _ = sock.write_all(head.as_bytes()).await;
                        return;
                    }
                    let head = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n";
                    let _ = sock.write_all(head.as_bytes()).await;
                    let chunk = vec![b'x'; 64 * 1024];
                    // Up to 4 GiB: the client stops reading long before.
                    for _ in 0..65_536 {
                        if sock.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let base = Url::parse(&format!("http://{addr}")).expect("url");
        let client = JsonClient::new("test", base, Duration::from_secs(30)).expect("client");
        for case in ["declared", "streamed"] {
            let started = std::time::Instant::now();
            let err = client
                .send(Method::GET, "/big", &[], None)
                .await
                .expect_err(case);
            assert_eq!(err.exit_code(), 1, "{case}: {err}");
            assert!(
                err.to_string()
                    .contains("answer too large (> 16777216 bytes)"),
                "{case}: {err}"
            );
            assert!(started.elapsed() < Duration::from_secs(20), "{case}");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2, "not retried");
    }

    #[test]
    fn auth_debug_never_shows_secrets() {
        let a = Auth::Basic {
            username: "demo".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{a:?}").contains("s3cret"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }
}
