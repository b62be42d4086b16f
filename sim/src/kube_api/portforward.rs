//! Port-forward as kube-rs speaks it: WebSocket channel protocol v4 (the kubelet's
//! `v4.channel.k8s.io` port-forward; notes on kubectl/kube-rs, section 3.4).
//!
//! - `?ports=9600[,8080]`: port index `i` uses data channel `2i` and error channel `2i+1`.
//! - First, on every channel, a 3-byte frame `[ch, port & 0xff, port >> 8]` (little-endian, as
//!   the kubelet's `binary.LittleEndian.PutUint16`); kube-rs rejects anything else.
//! - Then `[2i, bytes…]` both ways, errors as `[2i+1, text]`. There is no half-close: the
//!   session ends with the client's Close (kube-rs's `join()` fails if the server closes first),
//!   except when the forwarded port itself closes the connection.
//!
//! Each port is bridged to a loopback listener: 9600 on broker pod `<release>-zeebe-N` → that
//! broker's own management listener (its `/actuator/partitions`, plus the gateway management API),
//! 8080 → the region's REST API on broker pods, 9200 → Elasticsearch on the Elasticsearch pod. `kubectl
//! port-forward` (SPDY inside the WebSocket, no `ports=`) is refused with a 400, as the notes
//! recommend.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::objects::{self, ELASTICSEARCH_CONTAINER, ORCHESTRATION_CONTAINER};
use super::status_error;
use super::websocket::{self, ServerSocket, V4_CHANNEL, frame};
use crate::http::{Body, SimRequest};
use crate::server::SimShared;
use crate::world::RegionId;

/// The loopback listener that stands for `port` of `pod` with `containers`. Port 9600 of a
/// broker pod is that broker's own management port (its `/actuator/partitions`, and the gateway
/// API, since an 8.8 orchestration pod is broker and gateway at once); a forward to the gateway
/// Service resolves to one such pod, as `kubectl port-forward svc/…` does.
fn target(
    shared: &SimShared,
    region: RegionId,
    pod: &str,
    containers: &[String],
    port: u16,
) -> Option<SocketAddr> {
    let ep = &shared.endpoints[region];
    let has = |c: &str| containers.iter().any(|x| x == c);
    let cfg = shared.world.lock().cfg.clone();
    let broker = ep
        .brokers
        .iter()
        .enumerate()
        .find(|(n, _)| objects::broker_pod_name(&cfg, region, *n as u32) == pod)
        .map(|(_, a)| *a);
    match port {
        9600 if has(ORCHESTRATION_CONTAINER) => broker.or(Some(ep.management)),
        8080 if has(ORCHESTRATION_CONTAINER) => Some(ep.rest),
        9200 if has(ELASTICSEARCH_CONTAINER) => Some(ep.elasticsearch),
        _ => None,
    }
}

/// Parse `ports=` values (repeated and/or comma-separated).
fn parse_ports(query: &SimRequest) -> Result<Vec<u16>, String> {
    let mut ports = vec![];
    for (_, v) in query.query.iter().filter(|(k, _)| k == "ports") {
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let n: u16 = p.parse().map_err(|_| format!("invalid port {p:?}"))?;
            if n == 0 {
                return Err("port 0 is not valid".into());
            }
            ports.push(n);
        }
    }
    Ok(ports)
}

/// Validate a port-forward request and upgrade it.
pub async fn handle(
    shared: SimShared,
    region: RegionId,
    namespace: &str,
    pod: &str,
    req: Request<Incoming>,
) -> Response<Body> {
    let (query, req, containers) =
        match objects::pod_stream_request(&shared, region, namespace, pod, req) {
            Ok(parts) => parts,
            Err(not_found) => return not_found,
        };
    let ports = match parse_ports(&query) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            return status_error(
                400,
                "BadRequest",
                "the simulated API server forwards ports over the v4 channel protocol only (ports= required); SPDY port-forward is not simulated",
            );
        }
        Err(e) => return status_error(400, "BadRequest", e),
    };
    if !websocket::is_websocket(&req) {
        return status_error(
            400,
            "BadRequest",
            "port-forward requires a WebSocket upgrade",
        );
    }
    let Some(protocol) = websocket::negotiate(&req, &[V4_CHANNEL]) else {
        return status_error(
            400,
            "BadRequest",
            "unsupported WebSocket subprotocol: v4.channel.k8s.io required",
        );
    };
    let targets: Vec<(u16, Option<SocketAddr>)> = ports
        .iter()
        .map(|&p| (p, target(&shared, region, pod, &containers, p)))
        .collect();
    let pod = pod.to_string();
    websocket::upgrade(req, protocol, move |ws| session(ws, shared, pod, targets))
}

async fn session(
    ws: ServerSocket,
    shared: SimShared,
    pod: String,
    targets: Vec<(u16, Option<SocketAddr>)>,
) {
    let (mut sink, mut stream) = ws.split();
    for (i, (port, _)) in targets.iter().enumerate() {
        let le = port.to_le_bytes();
        for ch in [2 * i as u8, 2 * i as u8 + 1] {
            if sink.send(frame(ch, &le)).await.is_err() {
                return;
            }
        }
    }
    let (tx, mut rx) = mpsc::channel::<(usize, Option<Vec<u8>>)>(16);
    let mut writers: Vec<Option<OwnedWriteHalf>> = vec![];
    let mut readers = vec![];
    for (i, (port, addr)) in targets.iter().enumerate() {
        let conn = match addr {
            Some(addr) => TcpStream::connect(addr).await.map_err(|e| e.to_string()),
            None => Err("connection refused".to_string()),
        };
        match conn {
            Ok(tcp) => {
                let (mut read, write) = tcp.into_split();
                writers.push(Some(write));
                let tx = tx.clone();
                readers.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    loop {
                        match read.read(&mut buf).await {
                            Ok(0) | Err(_) => {
                                let _ = tx.send((i, None)).await;
                                return;
                            }
                            Ok(n) => {
                                if tx.send((i, Some(buf[..n].to_vec()))).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }));
            }
            Err(e) => {
                writers.push(None);
                // The kubelet's wording for a port nothing listens on.
                let msg = format!(
                    "error forwarding port {port} to pod {pod}, uid : failed to connect to localhost:{port} inside namespace: {e}"
                );
                let _ = sink.send(frame(2 * i as u8 + 1, msg.as_bytes())).await;
            }
        }
    }
    drop(tx);
    let mut server_closes = false;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) if b.len() > 1 && b[0] % 2 == 0 => {
                    // Fault `drop_port_forwards`: a forward dies with the next data chunk it
                    // carries (a new one with its first, a kept-alive one mid-use), and the
                    // chunk never reaches the port — as when a node or the API server drops it.
                    {
                        let mut w = shared.world.lock();
                        if w.faults.drop_port_forwards > 0 {
                            w.faults.drop_port_forwards -= 1;
                            server_closes = true;
                            break;
                        }
                    }
                    let i = usize::from(b[0] / 2);
                    if let Some(Some(w)) = writers.get_mut(i)
                        && w.write_all(&b[1..]).await.is_err()
                    {
                        server_closes = true;
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            data = rx.recv() => match data {
                Some((i, Some(bytes))) => {
                    if sink.send(frame(2 * i as u8, &bytes)).await.is_err() {
                        break;
                    }
                }
                // The forwarded port closed its connection: there is no half-close, so the
                // only way to tell the client is to close the socket.
                Some((_, None)) => {
                    server_closes = true;
                    break;
                }
                None => {
                    // No port is connected: wait for the client's Close only.
                    match stream.next().await {
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    }
                }
            },
        }
    }
    for r in &readers {
        r.abort();
    }
    for w in writers.iter_mut().flatten() {
        let _ = w.shutdown().await;
    }
    if server_closes {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}
