//! The stand-in's HTTP client: the POST of the merged values to the region's API server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// POST JSON over plain HTTP/1.1 to an `http://` server; `Err` means unreachable.
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
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&target)
        .map_err(|e| unreachable(&e))?
        .next()
        .ok_or_else(|| unreachable(&"no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| unreachable(&e))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let payload = serde_json::to_vec(body).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&payload))
        .map_err(|e| unreachable(&e))?;
    let mut raw = vec![];
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| unreachable(&"connection closed by the server"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| unreachable(&"malformed response"))?;
    // The simulator answers with Content-Length; a chunked body is not expected here.
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}
