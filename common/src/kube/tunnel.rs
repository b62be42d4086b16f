//! A local TCP port forwarded to a Service port, the way `kubectl port-forward svc/…` resolves it
//! but with kube-rs: a `TcpListener` on `127.0.0.1:0` whose accepted connections are each carried
//! by their own port-forward WebSocket (the channel protocol has one stream per port per
//! connection and no half-close; notes, section 3.2, after kube-rs's
//! `examples/pod_portforward_bind.rs`).
//!
//! A dropped WebSocket breaks only the one connection it carried: the HTTP client sees a closed
//! connection and its retry opens a new one. Opening a port-forward that fails re-resolves the
//! pod (it may have been rescheduled) and retries with backoff.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use super::RegionClient;
use crate::{Error, Result};

/// Attempts to open a port-forward for one local connection.
const OPEN_ATTEMPTS: u32 = 4;
/// First backoff between attempts; doubled each time.
const OPEN_BACKOFF: Duration = Duration::from_millis(100);

/// A running forward; dropping it stops accepting (open connections end with their peers).
#[derive(Debug)]
pub struct Tunnel {
    local: SocketAddr,
    service: String,
    port: u16,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Tunnel {
    /// `http://127.0.0.1:<port>`, for an HTTP client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The Service and port this tunnel reaches.
    pub fn remote(&self) -> (&str, u16) {
        (&self.service, self.port)
    }
}

/// What each connection needs: the client, the Service port, and the pod last resolved.
struct Forward {
    client: RegionClient,
    service: String,
    port: u16,
    target: Mutex<Option<(String, u16)>>,
    /// Forward to this pod itself (no Service to re-resolve).
    pinned: bool,
}

impl Forward {
    async fn target(&self, refresh: bool) -> Result<(String, u16)> {
        let mut cached = self.target.lock().await;
        if (refresh && !self.pinned) || cached.is_none() {
            *cached = Some(
                self.client
                    .resolve_service(&self.service, self.port)
                    .await?,
            );
        }
        cached
            .clone()
            .ok_or_else(|| Error::failed("port-forward target missing"))
    }

    /// Carry one local connection over a fresh port-forward.
    async fn carry(self: Arc<Self>, mut local: TcpStream) {
        let mut refresh = false;
        let mut backoff = OPEN_BACKOFF;
        for attempt in 1..=OPEN_ATTEMPTS {
            let opened = async {
                let (pod, port) = self.target(refresh).await?;
                let mut pf = self
                    .client
                    .pods_api()
                    .portforward(&pod, &[port])
                    .await
                    .map_err(|e| {
                        super::errors::map(
                            &self.client.location(),
                            &format!("port-forward to {pod}:{port}"),
                            e,
                        )
                    })?;
                let stream = pf
                    .take_stream(port)
                    .ok_or_else(|| Error::failed("port-forward without a stream"))?;
                let error = pf.take_error(port);
                Ok::<_, Error>((pf, stream, error, pod, port))
            }
            .await;
            match opened {
                Ok((pf, mut remote, error, pod, port)) => {
                    let copy = tokio::io::copy_bidirectional(&mut local, &mut remote);
                    match error {
                        Some(error) => {
                            tokio::select! {
                                r = copy => if let Err(e) = r {
                                    tracing::debug!("port-forward to {pod}:{port} ended: {e}");
                                },
                                Some(msg) = error => {
                                    tracing::warn!("port-forward to {pod}:{port}: {msg}");
                                }
                            }
                        }
                        None => {
                            if let Err(e) = copy.await {
                                tracing::debug!("port-forward to {pod}:{port} ended: {e}");
                            }
                        }
                    }
                    drop(remote);
                    // An error here after an exchange (e.g. the server closed first) is routine.
                    if let Err(e) = pf.join().await {
                        tracing::debug!("port-forward to {pod}:{port} closed: {e}");
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(
                        "opening a port-forward to service {}:{} (attempt {attempt}/{OPEN_ATTEMPTS}): {e}",
                        self.service,
                        self.port
                    );
                    if attempt == OPEN_ATTEMPTS {
                        tracing::warn!(
                            "cannot open a port-forward to service {}:{}: {e}",
                            self.service,
                            self.port
                        );
                        return;
                    }
                    refresh = true;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
}

impl RegionClient {
    /// Forward a local port to `port` of `service`. The Service is resolved to a pod at once, so
    /// a missing Service, no matching pod or an unreachable cluster fail here.
    pub async fn tunnel(&self, service: &str, port: u16) -> Result<Tunnel> {
        let target = self.resolve_service(service, port).await?;
        self.forward(service, port, target, false).await
    }

    /// Forward a local port to `port` of the pod `pod` itself (e.g. one broker's own management
    /// port, which a Service would spread over every broker).
    pub async fn tunnel_pod(&self, pod: &str, port: u16) -> Result<Tunnel> {
        self.forward(&format!("pod/{pod}"), port, (pod.to_string(), port), true)
            .await
    }

    async fn forward(
        &self,
        service: &str,
        port: u16,
        target: (String, u16),
        pinned: bool,
    ) -> Result<Tunnel> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| {
            Error::failed(format!(
                "cannot listen on a local port for the port-forward: {e}"
            ))
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::failed(format!("local port-forward address: {e}")))?;
        let forward = Arc::new(Forward {
            client: self.clone(),
            service: service.to_string(),
            port,
            target: Mutex::new(Some(target)),
            pinned,
        });
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((conn, _)) => {
                        let _ = conn.set_nodelay(true);
                        tokio::spawn(forward.clone().carry(conn));
                    }
                    Err(e) => {
                        tracing::debug!("port-forward listener: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(Tunnel {
            local,
            service: service.to_string(),
            port,
            accept,
        })
    }
}
