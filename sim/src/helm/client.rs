//! The stand-in's HTTP client: the POST of the merged values to the region's API server.

use std::time::Duration;

use serde_json::Value;

/// POST JSON over HTTP/1.1 (hyper) to an `http://` server; `Err` means unreachable.
pub(super) fn post_json(server: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    let url = url::Url::parse(server).map_err(|e| format!("invalid server {server}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("the helm stand-in speaks http only, not {server}"));
    }
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let target = format!("{host}:{port}");
    let unreachable =
        |e: &dyn std::fmt::Display| format!("Get \"{server}/version\": dial tcp {target}: {e}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| unreachable(&e))?;
    let payload = serde_json::to_vec(body).unwrap_or_default();
    let send = crate::http::send(&target, "POST", path, Some(payload));
    // Connecting and the answer together: the raw client allowed 5 s to connect, then 30 s to read.
    let (status, answer) = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(35), send).await })
        .map_err(|_| unreachable(&"i/o timeout"))?
        .map_err(|e| unreachable(&e))?;
    Ok((
        status,
        serde_json::from_slice(&answer).unwrap_or(Value::Null),
    ))
}
