//! The accept loop. It is ours rather than `axum::serve` for one reason: fault
//! injection must be able to drop a connection without answering, before or after a
//! change is committed. Each connection carries a [`Conn`] that a handler can trip.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// The connection a request arrived on.
#[derive(Clone)]
pub(crate) struct Conn {
    pub peer: SocketAddr,
    /// The address the client reached (the control plane's own `Host`).
    pub local: SocketAddr,
    kill: Arc<Notify>,
}

impl Conn {
    /// Close the connection without an answer (the handler then never completes).
    pub async fn drop_now(&self) -> ! {
        self.kill.notify_one();
        std::future::pending().await
    }
}

pub(crate) async fn serve(listener: TcpListener, router: Router, shutdown: watch::Receiver<()>) {
    let mut stop = shutdown.clone();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        let router = router.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let conn = Conn {
                peer,
                local,
                kill: kill.clone(),
            };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(conn.clone());
                    router.clone().oneshot(request)
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = kill.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}
