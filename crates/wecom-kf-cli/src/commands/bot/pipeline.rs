//! A running receiver, its HTTP server and the consumer of every managed account.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::sync::{mpsc, watch};
use wecom_kf::Client;
use wecom_kf::callback::{Crypto, Receiver};
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, ConsumerMetrics, SqliteStore, forward_callbacks, managed_accounts,
};

use super::handler::Bot;
use super::metrics::{Metrics, metrics_text};
use super::sink::Sink;
use crate::error::CliError;

/// A Token and EncodingAESKey made for one run of the sandbox: only its own emulator
/// signs with them, and they are never shown.
pub(crate) fn sandbox_crypto() -> Result<Crypto, CliError> {
    use rand::Rng as _;
    use rand::distr::Alphanumeric;
    let random = |n| {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(char::from)
            .collect::<String>()
    };
    Crypto::new(random(16), &random(43), wecom_kf_emulator::DEMO_CORP_ID)
        .map_err(|e| CliError::Config(e.to_string()))
}

/// A running receiver and consumer.
pub(crate) struct Pipeline {
    /// The callback receiver, to rotate its key on SIGHUP.
    pub receiver: Receiver,
    stop: watch::Sender<bool>,
    consumer: tokio::task::JoinHandle<Result<(), wecom_kf::consumer::StoreError>>,
    server: tokio::task::JoinHandle<()>,
}

impl Pipeline {
    /// Stop: the message in hand finishes and is recorded, the server closes. A failure
    /// of the running consumer is a runtime error, not a configuration one.
    pub(crate) async fn stop(self) -> Result<(), CliError> {
        let _ = self.stop.send(true);
        let result = self.consumer.await;
        let _ = self.server.await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CliError::Runtime(format!(
                "the consumer's store failed: {e}"
            ))),
            Err(e) => Err(CliError::Runtime(format!("the consumer stopped: {e}"))),
        }
    }
}

/// What a pipeline is made of.
pub(crate) struct Parts<'a> {
    pub client: Client,
    pub sandbox: Option<&'a wecom_kf_emulator::Running>,
    pub crypto: Crypto,
    pub listen: &'a str,
    pub path: &'a str,
    pub sink: Sink,
    pub config: ConsumerConfig,
    /// Messages of one customer handed over together at most (1: one at a time).
    pub batch: usize,
    /// Print where it listens (serve does; the sandbox's chat does not).
    pub announce: bool,
    /// Download messages' media here before the handler runs (`serve --media-dir`).
    pub media_dir: Option<std::path::PathBuf>,
}

/// Start the receiver, its HTTP server and the consumer of every managed account.
pub(crate) async fn start<S: wecom_kf::consumer::Store>(
    parts: Parts<'_>,
    store: S,
) -> Result<Pipeline, CliError> {
    let (receiver, events) = Receiver::new(parts.crypto.clone());
    let metrics = Arc::new(Metrics::default());
    let bot = Bot {
        client: parts.client.clone(),
        sink: parts.sink,
        metrics: metrics.clone(),
        batch: parts.batch.max(1),
        media_dir: parts.media_dir,
    };
    // Shared: the consumer writes it, /metrics counts its dead letters.
    let store = Arc::new(store);
    let consumer = Consumer::with(parts.client.clone(), store.clone(), bot, parts.config);
    let app = http_app(&receiver, &metrics, &consumer.metrics(), &store, parts.path);
    let listener = tokio::net::TcpListener::bind(parts.listen)
        .await
        .map_err(|e| CliError::Config(format!("cannot listen on {}: {e}", parts.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Config(e.to_string()))?;
    if parts.announce {
        eprintln!(
            "listening on http://{addr} (callbacks at {}, /healthz, /metrics)",
            parts.path
        );
    }
    let (stop, shutdown) = watch::channel(false);
    let server = {
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            // Not axum::serve: it has no header-read or idle timeout.
            let limits = wecom_kf::callback::ServeLimits::default();
            wecom_kf::callback::serve(listener, app, limits, async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
            .await;
        })
    };
    // In the sandbox, the embedded emulator pushes its callbacks here.
    if let Some(sandbox) = parts.sandbox {
        let setting = wecom_kf_emulator::CallbackSetting::with_crypto(
            format!("http://{addr}{}", parts.path),
            parts.crypto.clone(),
        );
        sandbox
            .emulator()
            .set_callback(setting)
            .await
            .map_err(|why| {
                CliError::Config(format!("the sandbox could not reach the receiver: {why}"))
            })?;
    }
    // Every account the app manages, listed again on a period and on an
    // authorisation change, and any account a callback names. Listed once here
    // first: credentials that do not work stop serve at start, not later.
    let accounts = managed_accounts(&parts.client).await?;
    let (triggers, trigger_rx) = mpsc::channel(1024);
    tokio::spawn(forward_callbacks(events, triggers));
    let consumer = tokio::spawn(consumer.run_managed(accounts, trigger_rx, shutdown));
    Ok(Pipeline {
        receiver,
        stop,
        consumer,
        server,
    })
}

/// Open the consumer's SQLite store, creating its folder.
pub(crate) fn open_store(path: &std::path::Path) -> Result<SqliteStore, CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::Config(format!("cannot create {}: {e}", parent.display())))?;
    }
    SqliteStore::open(path).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))
}

/// The HTTP side: the receiver at `path`, `/healthz` and `/metrics`.
fn http_app<S: wecom_kf::consumer::Store>(
    receiver: &Receiver,
    metrics: &Arc<Metrics>,
    consumer: &Arc<ConsumerMetrics>,
    store: &Arc<S>,
    path: &str,
) -> Router {
    Router::new()
        .merge(receiver.router(path))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get({
                let (metrics, consumer, receiver, store) = (
                    metrics.clone(),
                    consumer.clone(),
                    receiver.clone(),
                    store.clone(),
                );
                move || async move {
                    // A scrape must not hang on a store that is down: bounded.
                    let dead = tokio::time::timeout(
                        std::time::Duration::from_secs(2),
                        store.dead_letter_count(),
                    )
                    .await
                    .ok()
                    .and_then(Result::ok);
                    metrics_text(&metrics, &consumer, &receiver, dead)
                }
            }),
        )
}

/// SIGTERM or Ctrl-C.
pub(crate) async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
