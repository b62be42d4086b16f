//! HTTP plumbing shared by every fake endpoint: a request as plain data, JSON responses, and a
//! loopback server that can be switched off (a lost region refuses connections).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

pub type Body = Full<Bytes>;

/// Marks a response that must never reach the client: the connection is closed instead of
/// answering (a tunnel or proxy that died after the request was handled). Set it with
/// `response.extensions_mut().insert(DropConnection)`.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// The error a handler's dropped answer turns into, so hyper closes the connection unanswered.
#[derive(Debug)]
struct AnswerDropped;

impl std::fmt::Display for AnswerDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answer was dropped (injected fault)")
    }
}

impl std::error::Error for AnswerDropped {}

/// A buffered request, for handlers that are plain functions of their input.
#[derive(Debug, Clone)]
pub struct SimRequest {
    pub method: String,
    pub path: String,
    /// Query pairs in order; repeated keys are kept (kubectl repeats `command=`).
    pub query: Vec<(String, String)>,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

impl SimRequest {
    /// The first value of a query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query flag (`?dryRun=true`, `?force`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("" | "true" | "1"))
    }

    pub fn json_body(&self) -> Result<Value, serde_json::Error> {
        if self.body.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_slice(&self.body)
        }
    }

    /// Buffer a hyper request.
    pub async fn read(req: Request<Incoming>) -> Result<Self, hyper::Error> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Self::from_parts(&parts, body))
    }

    pub fn from_parts(parts: &http::request::Parts, body: Bytes) -> Self {
        let query = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .filter(|(k, _)| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.to_string(),
                ))
            })
            .collect();
        Self {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query,
            headers,
            body,
        }
    }
}

/// A JSON response with the given status.
pub fn json(status: u16, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A plain-text response.
pub fn text(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "text/plain")
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// An empty response (e.g. a genuine 204).
pub fn empty(status: u16) -> Response<Body> {
    text(status, Bytes::new())
}

/// One HTTP/1.1 request to a loopback server at `authority` (`host:port`), over hyper: the status
/// and the whole body. `body` is sent as JSON. The simulator's own clients (the helm stand-in,
/// `c8dr-sim ctl`) use it; connecting, writing and reading errors are all `io::Error`s.
pub async fn send(
    authority: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> std::io::Result<(u16, Bytes)> {
    let stream = tokio::net::TcpStream::connect(authority).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    let conn = tokio::spawn(conn);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, authority);
    if body.is_some() {
        request = request.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(std::io::Error::other)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    conn.abort();
    Ok((status, bytes))
}

/// Whether a region's listeners accept connections; off means the region is lost.
#[derive(Debug, Clone)]
pub struct Switch(Arc<tokio::sync::watch::Sender<bool>>);

impl Switch {
    pub fn on() -> Self {
        Self(Arc::new(tokio::sync::watch::channel(true).0))
    }
    pub fn set(&self, on: bool) {
        self.0.send_replace(on);
    }
    pub fn is_on(&self) -> bool {
        *self.0.borrow()
    }
    fn subscribe(&self) -> tokio::sync::watch::Receiver<bool> {
        self.0.subscribe()
    }
}

/// Bind a loopback listener on a free port.
pub async fn bind_loopback() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serve HTTP/1.1 on `listener` with upgrades enabled (exec and port-forward use them). While
/// `switch` is off the listening socket is closed, so connections are refused as an unreachable
/// region's are (an accept-then-close makes client-go retry for ~45 s); it is bound again on the
/// same port when the switch comes back on.
///
/// While off, the port stays reserved by a socket that is bound but not listening: the kernel
/// refuses connections to it (RST) exactly as for a closed port, but no other listener — another
/// test's simulator binding port 0 — can take the port in the meantime and receive this region's
/// traffic (a cross-talk seen as one test getting another test's injected faults).
pub fn serve<F, Fut>(
    listener: TcpListener,
    switch: Switch,
    handler: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    tokio::spawn(async move {
        let Ok(addr) = listener.local_addr() else {
            return;
        };
        let mut listener = Some(listener);
        let mut reserved: Option<tokio::net::TcpSocket> = None;
        let mut changes = switch.subscribe();
        loop {
            if !switch.is_on() {
                if listener.take().is_some() {
                    reserved = reserve(addr);
                }
            } else if listener.is_none() {
                drop(reserved.take());
                listener = listen_again(addr);
            }
            let Some(l) = listener.as_ref() else {
                if changes.changed().await.is_err() {
                    return;
                }
                continue;
            };
            let stream = tokio::select! {
                accepted = l.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move {
                        let response = handler(req).await;
                        if response.extensions().get::<DropConnection>().is_some() {
                            return Err(AnswerDropped);
                        }
                        Ok(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    })
}

/// A socket bound to `addr` without listening: connections to it are refused, and the kernel
/// hands the port to no other socket that binds port 0 (what other simulators do). SO_REUSEADDR,
/// as the listener had, so that connections still open from before the loss (kept-alive clients)
/// or lingering in TIME_WAIT do not prevent it — and do not prevent listening again later (a
/// placeholder without it made the re-listen fail with EADDRINUSE under load).
fn reserve(addr: SocketAddr) -> Option<tokio::net::TcpSocket> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.set_reuseaddr(true).ok()?;
    socket.bind(addr).ok()?;
    Some(socket)
}

/// Listen on `addr` again after [`reserve`] let go of it.
fn listen_again(addr: SocketAddr) -> Option<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.set_reuseaddr(true).ok()?;
    socket.bind(addr).ok()?;
    socket.listen(1024).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_switched_off_port_refuses_connections_and_stays_reserved() {
        let Ok((listener, addr)) = bind_loopback().await else {
            panic!("bind");
        };
        let switch = Switch::on();
        let task = serve(listener, switch.clone(), |_req| async {
            Response::new(Body::from("ok"))
        });
        switch.set(false);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Refused, as a lost region's port is.
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        // The port is held meanwhile: a socket that does not share ports cannot bind it.
        let other = tokio::net::TcpSocket::new_v4().expect("socket");
        other.set_reuseaddr(false).expect("no reuse");
        assert!(other.bind(addr).is_err());
        drop(other);
        switch.set(true);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
        task.abort();
    }
}
