//! The WebSocket upgrade shared by exec and port-forward: subprotocol negotiation, the `101`
//! reply (`Sec-WebSocket-Accept` per RFC 6455, one chosen `Sec-WebSocket-Protocol` echoed, as
//! kube-rs requires), and a task that runs the session on the upgraded connection. Only binary
//! frames carry data; client-go treats text frames as errors (notes, section 3.4).

use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::status_error;
use crate::http::Body;

/// Exec/attach channel protocol v5: adds the `[255, ch]` half-close frame.
pub const V5_CHANNEL: &str = "v5.channel.k8s.io";
/// Channel protocol v4 (exec with JSON status; the kubelet's port-forward protocol).
pub const V4_CHANNEL: &str = "v4.channel.k8s.io";

/// A server-side WebSocket on an upgraded HTTP/1.1 connection.
pub type ServerSocket = WebSocketStream<TokioIo<Upgraded>>;

/// The subprotocols a client offers, in order. kube-rs sends one comma-separated header;
/// several headers are accepted too.
pub fn offered_protocols<B>(req: &Request<B>) -> Vec<String> {
    req.headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The first of `supported` (in server preference order) that the client offers.
pub fn negotiate<B>(req: &Request<B>, supported: &[&'static str]) -> Option<&'static str> {
    let offered = offered_protocols(req);
    supported
        .iter()
        .copied()
        .find(|s| offered.iter().any(|o| o == s))
}

/// Whether the request asks for a WebSocket upgrade.
pub fn is_websocket<B>(req: &Request<B>) -> bool {
    let has = |name: &str, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    has("upgrade", "websocket") && has("connection", "upgrade")
}

/// Reply `101 Switching Protocols` with `protocol` and run `session` on the upgraded socket.
pub fn upgrade<B, F, Fut>(mut req: Request<B>, protocol: &'static str, session: F) -> Response<Body>
where
    F: FnOnce(ServerSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(key) = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec())
    else {
        return status_error(400, "BadRequest", "missing Sec-WebSocket-Key");
    };
    let accept = derive_accept_key(&key);
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                session(ws).await;
            }
            Err(e) => tracing::debug!("websocket upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .header("sec-websocket-protocol", protocol)
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| status_error(500, "InternalError", "building the upgrade reply"))
}

/// A binary frame `[channel, payload…]`.
pub fn frame(channel: u8, payload: &[u8]) -> tokio_tungstenite::tungstenite::Message {
    let mut v = Vec::with_capacity(payload.len() + 1);
    v.push(channel);
    v.extend_from_slice(payload);
    tokio_tungstenite::tungstenite::Message::Binary(v.into())
}
