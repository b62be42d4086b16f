//! Exec over the WebSocket channel protocol (notes on kubectl/kube-rs, section 3.4).
//!
//! - Negotiate `v5.channel.k8s.io`, else `v4.channel.k8s.io` (kubectl 1.32 offers only v5,
//!   kube-rs both; under v4 kube-rs closes the whole socket at stdin EOF, so v5 is preferred).
//! - Right after the upgrade, an empty frame on the lowest writable channel (apiserver
//!   `createWebSocketStreams`).
//! - stdin (channel 0) is collected until the client half-closes it with `[255, 0]` (v5) or
//!   closes the socket; without `stdin=true` the command runs at once.
//! - stdout on channel 1, stderr on 2, then the `metav1.Status` on channel 3 (kube-rs stops
//!   reading at the status), then a Close frame (1000); the session then waits for the client's
//!   Close so kubectl's readers reach a normal EOF.
//! - A non-zero exit is `reason: NonZeroExitCode` with a cause `{reason: ExitCode, message: N}`:
//!   client-go turns it into exit code N.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::websocket::{self, ServerSocket, V4_CHANNEL, V5_CHANNEL, frame};
use super::{objects, status_error};
use crate::exec::ExecOutcome;
use crate::http::Body;
use crate::server::SimShared;
use crate::world::RegionId;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const STATUS: u8 = 3;
/// v5 only: `[255, ch]` half-closes channel `ch`.
pub const CLOSE: u8 = 255;

/// Output is sent in frames of at most this size.
const CHUNK: usize = 32 * 1024;

/// What the exec query asked for.
#[derive(Debug, Clone)]
struct ExecRequest {
    pod: String,
    container: String,
    command: Vec<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// The status frame payload for an outcome.
pub fn status_json(outcome: &ExecOutcome, command: &[String]) -> Value {
    if outcome.exit_code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command {command:?}, exit code {}",
                outcome.exit_code
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": outcome.exit_code.to_string()}]},
        })
    }
}

/// Validate an exec request and upgrade it.
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
    let container = match objects::resolve_container(pod, &containers, query.param("container")) {
        Ok(c) => c,
        Err(message) => return status_error(400, "BadRequest", message),
    };
    let command: Vec<String> = query
        .query
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    if command.is_empty() {
        return status_error(
            400,
            "BadRequest",
            "you must specify at least one command for the container",
        );
    }
    let exec = ExecRequest {
        pod: pod.to_string(),
        container,
        command,
        stdin: query.flag("stdin"),
        stdout: query.flag("stdout"),
        stderr: query.flag("stderr"),
    };
    if !websocket::is_websocket(&req) {
        return status_error(
            400,
            "BadRequest",
            "the simulated API server speaks exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); SPDY is not simulated",
        );
    }
    let Some(protocol) = websocket::negotiate(&req, &[V5_CHANNEL, V4_CHANNEL]) else {
        return status_error(
            400,
            "BadRequest",
            "unsupported WebSocket subprotocol: v5.channel.k8s.io or v4.channel.k8s.io required",
        );
    };
    websocket::upgrade(req, protocol, move |ws| session(ws, shared, region, exec))
}

async fn session(ws: ServerSocket, shared: SimShared, region: RegionId, exec: ExecRequest) {
    let (mut sink, mut stream) = ws.split();
    let first = if exec.stdout {
        STDOUT
    } else if exec.stderr {
        STDERR
    } else {
        STATUS
    };
    if sink.send(frame(first, &[])).await.is_err() {
        return;
    }
    let mut stdin = vec![];
    let mut client_closed = false;
    if exec.stdin {
        while let Some(msg) = stream.next().await {
            match msg {
                Ok(Message::Binary(b)) => match b.first() {
                    Some(&STDIN) => stdin.extend_from_slice(&b[1..]),
                    Some(&CLOSE) if b.get(1) == Some(&STDIN) => break,
                    _ => {}
                },
                Ok(Message::Close(_)) | Err(_) => {
                    client_closed = true;
                    break;
                }
                Ok(_) => {}
            }
        }
    }
    let world = shared.world.clone();
    let (pod, container, command) = (
        exec.pod.clone(),
        exec.container.clone(),
        exec.command.clone(),
    );
    let outcome = tokio::task::spawn_blocking(move || {
        crate::exec::run(&world, region, &pod, &container, &command, &stdin)
    })
    .await
    .unwrap_or_else(|e| ExecOutcome::failure(126, format!("simulated command panicked: {e}\n")));
    if client_closed {
        return;
    }
    let cut = {
        let mut w = shared.world.lock();
        if w.faults.cut_exec_streams > 0 {
            w.faults.cut_exec_streams -= 1;
            true
        } else {
            false
        }
    };
    if cut {
        // Part of stdout, then the connection drops: no status frame, no Close.
        let part = &outcome.stdout[..outcome.stdout.len() / 2];
        if exec.stdout && !part.is_empty() {
            let _ = sink.send(frame(STDOUT, part)).await;
        }
        return;
    }
    for (wanted, channel, data) in [
        (exec.stdout, STDOUT, &outcome.stdout),
        (exec.stderr, STDERR, &outcome.stderr),
    ] {
        if !wanted {
            continue;
        }
        for chunk in data.chunks(CHUNK) {
            if sink.send(frame(channel, chunk)).await.is_err() {
                return;
            }
        }
    }
    let status = serde_json::to_vec(&status_json(&outcome, &exec.command)).unwrap_or_default();
    if sink.send(frame(STATUS, &status)).await.is_err() {
        return;
    }
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await;
    // Wait (bounded) for the client's Close so the close handshake completes normally.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
