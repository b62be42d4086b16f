//! Elasticsearch through `kubectl exec`-style command execution: `curl` run in the
//! `elasticsearch` container against `http://localhost:9200` (docs/api-behaviour.md §5).
//!
//! The command is an argv array (no shell). Credentials and the request body travel in a curl
//! config file on stdin (`-K -`), so neither appears in any process's argv (docs/contract.md §4 rule 6):
//!
//! ```text
//! curl -sS -K - --max-time 30 -X PUT -H 'Content-Type: application/json' -w '\n%{http_code}' http://localhost:9200/_snapshot/camunda_backup
//! stdin: user = "elastic:…"
//!        data-raw = "{\"type\":\"s3\",…}"
//! ```
//!
//! `data-raw` is used because `data`/`data-binary` read a file when the value starts with `@`.
//! The `-w` trailer (newline + status code) also detects truncated output: an exec stream cut
//! mid-way (which `kubectl exec` may report as success, kubernetes/kubernetes#73056) has no
//! trailer and is reported as [`Error::Unreachable`], which the client retries.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde_json::Value;

use super::transport::{BoxFuture, EsCredentials, EsTransport, join_url, parse_body};
use crate::error::{Error, Result};

/// What a command run in a pod produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// Run a command in a fixed pod and container (the kube layer implements it over the exec
/// subresource). A cut or failed stream is [`Error::Unreachable`]; `timeout` bounds the whole
/// call.
pub trait PodExec: Send + Sync {
    fn exec<'a>(
        &'a self,
        argv: Vec<String>,
        stdin: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<ExecOutput>>;

    /// The pod and container, for messages.
    fn describe(&self) -> String;
}

/// Quote a value for a curl config file: double quotes with `\\ \" \n \r \t \v` escaped
/// (curl's manual, option `-K, --config`).
pub fn curl_config_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The curl config (stdin) for a request: credentials and body, nothing else.
pub fn curl_config(credentials: Option<&EsCredentials>, body: Option<&Value>) -> String {
    let mut cfg = String::new();
    if let Some(c) = credentials {
        let user = format!("{}:{}", c.username, c.password);
        cfg.push_str(&format!("user = {}\n", curl_config_quote(&user)));
    }
    if let Some(b) = body {
        cfg.push_str(&format!(
            "data-raw = {}\n",
            curl_config_quote(&b.to_string())
        ));
    }
    cfg
}

/// The argv for a request (never a secret or a body in it).
pub fn curl_argv(method: &Method, url: &str, max_time: Duration, insecure: bool) -> Vec<String> {
    let mut argv: Vec<String> = vec!["curl".into(), "-sS".into(), "-K".into(), "-".into()];
    if insecure {
        argv.push("-k".into());
    }
    argv.extend([
        "--max-time".into(),
        max_time.as_secs().max(1).to_string(),
        "-X".into(),
        method.as_str().into(),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-w".into(),
        "\\n%{http_code}".into(),
        url.into(),
    ]);
    argv
}

/// Interpret curl's result: (status, body), or why it failed.
pub fn parse_curl_output(out: &ExecOutput, what: &str) -> Result<(u16, Value)> {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.exit_code {
        0 => {}
        // 6: cannot resolve, 7: cannot connect, 28: timed out, 52/56: empty reply / recv error.
        6 | 7 | 28 | 52 | 56 => return Err(Error::unreachable(what, stderr)),
        code => {
            return Err(Error::failed(format!(
                "curl in {what} exited with {code}: {stderr}"
            )));
        }
    }
    let text = &out.stdout;
    let split = text.iter().rposition(|b| *b == b'\n');
    let parsed = split.and_then(|pos| {
        let code = std::str::from_utf8(&text[pos + 1..]).ok()?.trim();
        if code.len() != 3 {
            return None;
        }
        let status: u16 = code.parse().ok()?;
        Some((status, &text[..pos]))
    });
    match parsed {
        Some((0, _)) | None => Err(Error::unreachable(
            what,
            "the exec stream ended before curl's status line (cut connection)",
        )),
        Some((status, body)) => Ok((status, parse_body(body))),
    }
}

/// Elasticsearch reached by running curl in its pod.
#[derive(Clone)]
pub struct CurlTransport {
    exec: Arc<dyn PodExec>,
    base_url: String,
    credentials: Option<EsCredentials>,
    timeout: Duration,
    insecure: bool,
}

impl std::fmt::Debug for CurlTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurlTransport")
            .field("pod", &self.exec.describe())
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl CurlTransport {
    /// The in-pod URL of the bitnami chart (docs/api-behaviour.md §5).
    pub const DEFAULT_URL: &'static str = "http://localhost:9200";

    /// curl against [`Self::DEFAULT_URL`] in the pod `exec` reaches; each call bounded by `timeout`.
    pub fn new(
        exec: Arc<dyn PodExec>,
        credentials: Option<EsCredentials>,
        timeout: Duration,
    ) -> Self {
        Self {
            exec,
            base_url: Self::DEFAULT_URL.into(),
            credentials,
            timeout,
            insecure: false,
        }
    }

    /// Another in-pod URL (e.g. `https://localhost:9200` when REST TLS is on); `insecure` adds
    /// `-k` for the chart's self-signed certificates.
    pub fn with_url(mut self, base_url: impl Into<String>, insecure: bool) -> Self {
        self.base_url = base_url.into();
        self.insecure = insecure;
        self
    }
}

impl EsTransport for CurlTransport {
    fn request<'a>(
        &'a self,
        method: Method,
        path: &'a str,
        body: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<(u16, Value)>> {
        super::transport::bounded(self, method.clone(), path, async move {
            let url = join_url(&self.base_url, path);
            let argv = curl_argv(&method, &url, self.timeout, self.insecure);
            let stdin = curl_config(self.credentials.as_ref(), body).into_bytes();
            // The exec gets a little more than curl's own limit, so curl reports its timeout.
            let out = self
                .exec
                .exec(argv, stdin, self.timeout + Duration::from_secs(2))
                .await?;
            parse_curl_output(&out, &self.describe())
        })
    }

    fn describe(&self) -> String {
        format!("Elasticsearch in {}", self.exec.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(curl_config_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(curl_config_quote("x\ny\t"), r#""x\ny\t""#);
    }

    #[test]
    fn secrets_only_on_stdin() {
        let creds = EsCredentials::elastic("s3cr\"et");
        let body = serde_json::json!({"a": "b\"c"});
        let cfg = curl_config(Some(&creds), Some(&body));
        assert_eq!(
            cfg,
            "user = \"elastic:s3cr\\\"et\"\ndata-raw = \"{\\\"a\\\":\\\"b\\\\\\\"c\\\"}\"\n"
        );
        let argv = curl_argv(
            &Method::PUT,
            "http://localhost:9200/x",
            Duration::from_secs(30),
            false,
        );
        assert!(argv.iter().all(|a| !a.contains("s3cr")));
        assert!(argv.contains(&"-K".to_string()));
    }

    #[test]
    fn output_parsing() {
        let ok = ExecOutput {
            stdout: b"{\"a\":1}\n200".to_vec(),
            ..Default::default()
        };
        assert_eq!(
            parse_curl_output(&ok, "pod").expect("ok"),
            (200, serde_json::json!({"a": 1}))
        );
        let cut = ExecOutput {
            stdout: b"{\"a\":".to_vec(),
            ..Default::default()
        };
        assert!(matches!(
            parse_curl_output(&cut, "pod"),
            Err(Error::Unreachable { .. })
        ));
        let refused = ExecOutput {
            stdout: b"\n000".to_vec(),
            stderr: b"curl: (7) Failed to connect".to_vec(),
            exit_code: 7,
        };
        assert!(matches!(
            parse_curl_output(&refused, "pod"),
            Err(Error::Unreachable { .. })
        ));
        let usage = ExecOutput {
            exit_code: 2,
            ..Default::default()
        };
        assert!(matches!(
            parse_curl_output(&usage, "pod"),
            Err(Error::Failed(_))
        ));
    }
}
