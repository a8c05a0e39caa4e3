//! A running emulator: the router built from state, the server, and its handle.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::{accept, calls};
use crate::state::Emulator;
use crate::{api, control};

/// The routes, built from state. Serve them with [`serve`] to get fault injection that
/// drops connections; any other server works for everything else.
pub fn router(emulator: Arc<Emulator>) -> Router {
    // Every API call goes to the console's call log.
    let api = api::routes().layer(axum::middleware::from_fn_with_state(
        emulator.clone(),
        calls::record,
    ));
    api.merge(control::routes()).with_state(emulator)
}

/// Serve the emulator on `listener` until `shutdown` changes.
pub async fn serve(listener: TcpListener, emulator: Arc<Emulator>, shutdown: watch::Receiver<()>) {
    accept::serve(listener, router(emulator), shutdown).await;
}

/// A running emulator: its base URL, its state, and the switch that stops it.
/// Dropping it stops the server too.
pub struct Running {
    base_url: String,
    addr: SocketAddr,
    emulator: Arc<Emulator>,
    shutdown: watch::Sender<()>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state, for the control plane in process.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Stop accepting, close every connection and wait for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown.send(());
    }
}

/// Start an emulator on `127.0.0.1:0`, for tests: returns once it is listening.
pub async fn spawn(config: Config) -> std::io::Result<Running> {
    spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
}

/// Start an emulator on `addr`.
pub async fn spawn_on(addr: SocketAddr, config: Config) -> std::io::Result<Running> {
    let emulator = Arc::new(Emulator::new(config)?);
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = watch::channel(());
    let task = tokio::spawn(serve(listener, emulator.clone(), rx));
    Ok(Running {
        base_url: format!("http://{addr}"),
        addr,
        emulator,
        shutdown,
        task: Some(task),
    })
}
