//! Exec in a container through kube-rs (WebSocket channel protocol, v5 preferred).
//!
//! kube-rs's stdout and stderr are 1 KiB simplex buffers, so both are drained concurrently; the
//! result is the `metav1.Status` of `take_status()`; a non-zero exit is `NonZeroExitCode` with
//! an `ExitCode` cause (notes, sections 3.2, 3.4 and 3.7). A stream cut before the status
//! arrives is `Unreachable`, so callers retry it like any connection problem.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::AttachParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::RegionClient;
use crate::{Error, Result};

/// What a command run in a container produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

impl ExecOutput {
    pub fn stdout_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The exit code a status stands for: `Ok(0)` on success, `Ok(n)` for `NonZeroExitCode`, an
/// error for any other failure (e.g. the container does not exist).
pub fn exit_code_of(status: &Status) -> Result<i32, String> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.reason.as_deref() == Some("ExitCode"))
                    .and_then(|c| c.message.as_deref())
                    .and_then(|m| m.trim().parse::<i32>().ok())
            });
        if let Some(code) = code {
            return Ok(code);
        }
    }
    Err(status
        .message
        .clone()
        .unwrap_or_else(|| "the command failed without a message".to_string()))
}

/// Read a command's output to its end, keeping at most [`crate::http::MAX_ANSWER_BYTES`]: the
/// rest is read and dropped (so the command is not blocked writing), and the answer is then
/// `Err(n)` with the number of bytes it wrote.
async fn read_all<R: tokio::io::AsyncRead + Unpin>(
    reader: Option<R>,
) -> std::io::Result<Result<Vec<u8>, u64>> {
    let limit = crate::http::MAX_ANSWER_BYTES;
    let mut buf = vec![];
    let mut total: u64 = 0;
    if let Some(mut r) = reader {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = r.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total <= limit as u64 {
                buf.extend_from_slice(&chunk[..n]);
            } else if !buf.is_empty() {
                buf = Vec::new();
            }
        }
    }
    Ok(if total > limit as u64 {
        Err(total)
    } else {
        Ok(buf)
    })
}

impl RegionClient {
    /// Run `argv` in `container` of `pod`, feeding `stdin` if given, within `timeout`.
    pub async fn exec(
        &self,
        pod: &str,
        container: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<ExecOutput> {
        let what = format!(
            "exec {} in {pod}/{container}",
            argv.first().map(String::as_str).unwrap_or("")
        );
        let location = self.location();
        let run = async {
            let params = AttachParams::default()
                .container(container)
                .stdin(stdin.is_some())
                .stdout(true)
                .stderr(true);
            let mut process = self
                .pods_api()
                .exec(pod, argv.clone(), &params)
                .await
                .map_err(|e| super::errors::map(&location, &what, e))?;
            let status = process.take_status();
            let (input, out, err) = (process.stdin(), process.stdout(), process.stderr());
            let write = async {
                if let (Some(mut w), Some(data)) = (input, stdin.as_ref()) {
                    w.write_all(data).await?;
                    // Shutting the writer down sends the v5 stdin half-close `[255, 0]`.
                    w.shutdown().await?;
                }
                Ok::<_, std::io::Error>(())
            };
            let io = async { tokio::join!(write, read_all(out), read_all(err)) };
            let status = async {
                match status {
                    Some(s) => s.await,
                    None => None,
                }
            };
            tokio::pin!(io, status);
            // kube-rs shuts the stdout/stderr pipes down only when the stream ends normally; when
            // the connection breaks it drops the status sender without closing the pipes, so
            // the readers would wait forever. A status future that resolves to `None` is that
            // signal: the stream ended without an exit status.
            let (io_result, status) = tokio::select! {
                done = &mut io => (Some(done), status.await),
                status = &mut status => match status {
                    Some(s) => (Some(io.await), Some(s)),
                    None => (None, None),
                },
            };
            if let Err(e) = process.join().await {
                tracing::debug!("{what}: closing the exec stream: {e}");
            }
            let Some(status) = status else {
                return Err(Error::unreachable(
                    format!("{what} in {location}"),
                    "the exec stream was cut before the command's exit status arrived",
                ));
            };
            let Some((written, stdout, stderr)) = io_result else {
                return Err(Error::unreachable(
                    format!("{what} in {location}"),
                    "the exec stream ended before the command's exit status arrived",
                ));
            };
            if let Err(e) = written {
                tracing::debug!("{what}: writing stdin: {e}");
            }
            let bounded = |out: std::io::Result<Result<Vec<u8>, u64>>, name: &str| match out {
                Ok(Err(_)) => Err(crate::http::too_large(&format!(
                    "{what} in {location} ({name})"
                ))),
                Ok(Ok(bytes)) => Ok(bytes),
                Err(_) => Ok(vec![]),
            };
            let (stdout, stderr) = (bounded(stdout, "stdout")?, bounded(stderr, "stderr")?);
            match exit_code_of(&status) {
                Ok(exit_code) => Ok(ExecOutput {
                    stdout,
                    stderr,
                    exit_code,
                }),
                Err(message) => Err(Error::failed(format!("{what} in {location}: {message}"))),
            }
        };
        // The command's --timeout bounds an exec that never answers too (the upgrade, each read).
        let timeout = crate::wait::network_bound().map_or(timeout, |b| b.min(timeout));
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| Error::Timeout {
                what: format!("{what} in {}", self.location()),
                after: humantime::format_duration(timeout).to_string(),
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_map_to_exit_codes() {
        let ok: Status =
            serde_json::from_value(json!({"metadata": {}, "status": "Success"})).expect("status");
        assert_eq!(exit_code_of(&ok), Ok(0));
        let seven: Status = serde_json::from_value(json!({
            "metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}
        }))
        .expect("status");
        assert_eq!(exit_code_of(&seven), Ok(7));
        let other: Status = serde_json::from_value(json!({
            "metadata": {}, "status": "Failure", "message": "container not found", "reason": "InternalError"
        }))
        .expect("status");
        assert_eq!(exit_code_of(&other), Err("container not found".to_string()));
    }
}
