//! The callback receiver (feature `callback`): WeCom's encrypted `kf_msg_or_event`
//! pushes, verified, decrypted, acknowledged at once and handed on through a bounded
//! channel (docs/kf-api.md §5).
//!
//! WeCom waits about 5 s for an answer and retries otherwise; a handler that drains
//! `sync_msg` before answering gets retried and answers twice. So the receiver answers
//! HTTP 200 as soon as the callback is checked and queued, and your task reads the
//! queue. The same delivery arriving again within the dedup window is queued once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wecom_kf::callback::{CallbackEvent, Crypto, Receiver};
//!
//! let token = std::env::var("WECOM_KF_CALLBACK_TOKEN")?;
//! let key = std::env::var("WECOM_KF_CALLBACK_AES_KEY")?;
//! let (receiver, mut events) = Receiver::new(Crypto::new(token, &key, "ww1234567890abcdef")?);
//! let app = receiver.router("/callback");
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//! while let Some(event) = events.recv().await {
//!     if let CallbackEvent::KfMsgOrEvent { open_kfid, token, .. } = event {
//!         // sync_msg for open_kfid with token, from the saved cursor
//!         # let _ = (open_kfid, token);
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::mpsc;
pub use wecom_kf_types::callback::{
    CallbackEvent, CallbackQuery, Crypto, CryptoError, Envelope, MAX_BODY_BYTES, Sealed,
};

/// How the receiver checks and queues.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// A callback whose timestamp is further than this from now is refused (-40001):
    /// a replay, or a clock far off. Default 5 minutes.
    pub max_skew: Duration,
    /// The same delivery (the same decrypted XML, so the same sync Token, however it
    /// was signed) within this window is queued once. Default 10 minutes (WeCom retries within seconds).
    pub dedup_window: Duration,
    /// Deliveries remembered for deduplication at most (the oldest go first).
    pub dedup_capacity: usize,
    /// Largest body read (default 64 KiB; an envelope is under 1 KiB).
    pub max_body: usize,
    /// Events queued and not yet read before the receiver answers 503, so that WeCom
    /// retries later instead of the event being lost. Default 1024.
    pub queue: usize,
    /// Time to read a request's body (by [`Receiver::router`]); a client slower than
    /// this is answered 408. Default 10 s (WeCom sends an envelope in one packet).
    pub body_timeout: Duration,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            max_skew: Duration::from_secs(300),
            dedup_window: Duration::from_secs(600),
            dedup_capacity: 100_000,
            max_body: MAX_BODY_BYTES,
            queue: 1024,
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// What the receiver did, so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Callbacks checked and queued.
    pub received: u64,
    /// Repeats of a delivery already queued, answered 200 and not queued again.
    pub deduplicated: u64,
    /// Refused: forged, stale, oversized or malformed.
    pub refused: u64,
    /// Answered 503 because the queue was full (WeCom retries them).
    pub queue_full: u64,
    /// URL checks answered.
    pub url_checks: u64,
}

/// An HTTP answer of [`Receiver::handle`], for any server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The status: 200, or 400/403/405/413/503.
    pub status: u16,
    /// The body: the echostr's plaintext, `success`, or why it was refused.
    pub body: String,
}

impl Answer {
    fn new(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            body: body.into(),
        }
    }
}

/// Deliveries seen lately, oldest first, by a hash of their decrypted XML: a retry
/// carries the same XML (the same sync Token) even when it is signed afresh.
#[derive(Default)]
struct Seen {
    order: VecDeque<(Instant, u64)>,
    keys: HashSet<u64>,
    hasher: std::hash::RandomState,
}

impl Seen {
    fn forget_before(&mut self, cutoff: Instant, capacity: usize) {
        while let Some((at, key)) = self.order.front() {
            if *at >= cutoff && self.order.len() < capacity {
                break;
            }
            self.keys.remove(key);
            self.order.pop_front();
        }
    }
}

/// The callback key in use, and the one before it while its grace lasts.
struct Keys {
    current: Crypto,
    previous: Option<(Crypto, Instant)>,
}

impl Keys {
    /// `f` with the current key; if that fails and the previous key's grace has not
    /// run out, `f` with the previous one. The current key's error otherwise.
    fn try_each<T>(&self, f: impl Fn(&Crypto) -> Result<T, CryptoError>) -> Result<T, CryptoError> {
        match f(&self.current) {
            Ok(value) => Ok(value),
            Err(err) => match &self.previous {
                Some((previous, until)) if Instant::now() < *until => f(previous).map_err(|_| err),
                _ => Err(err),
            },
        }
    }
}

struct Inner {
    keys: std::sync::RwLock<Keys>,
    config: ReceiverConfig,
    seen: Mutex<Seen>,
    queue: mpsc::Sender<CallbackEvent>,
    received: AtomicU64,
    deduplicated: AtomicU64,
    refused: AtomicU64,
    queue_full: AtomicU64,
    url_checks: AtomicU64,
}

/// The receiver: cheap to clone. See the module docs.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("crypto", &self.keys().current)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Receiver {
    /// A receiver with the default settings, and the queue its events arrive on.
    pub fn new(crypto: Crypto) -> (Receiver, mpsc::Receiver<CallbackEvent>) {
        Receiver::with_config(crypto, ReceiverConfig::default())
    }

    /// A receiver with these settings, and its queue.
    pub fn with_config(
        crypto: Crypto,
        config: ReceiverConfig,
    ) -> (Receiver, mpsc::Receiver<CallbackEvent>) {
        let (queue, events) = mpsc::channel(config.queue.max(1));
        let receiver = Receiver {
            inner: Arc::new(Inner {
                keys: std::sync::RwLock::new(Keys {
                    current: crypto,
                    previous: None,
                }),
                config,
                seen: Mutex::default(),
                queue,
                received: AtomicU64::new(0),
                deduplicated: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                queue_full: AtomicU64::new(0),
                url_checks: AtomicU64::new(0),
            }),
        };
        (receiver, events)
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Switch to a new callback Token and EncodingAESKey (e.g. on SIGHUP) without
    /// dropping a callback: from now on callbacks and URL checks signed with `crypto`
    /// are accepted, and those signed with the key in use until now for `grace` more
    /// (WeCom's retries of deliveries it signed before the admin console switched).
    pub fn rotate(&self, crypto: Crypto, grace: Duration) {
        let mut keys = self
            .inner
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = std::mem::replace(&mut keys.current, crypto);
        keys.previous = Some((old, Instant::now() + grace));
        tracing::info!(
            grace_secs = grace.as_secs(),
            "callback key rotated; the previous one is accepted during the grace"
        );
    }

    /// What it did so far.
    pub fn stats(&self) -> ReceiverStats {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        ReceiverStats {
            received: load(&self.inner.received),
            deduplicated: load(&self.inner.deduplicated),
            refused: load(&self.inner.refused),
            queue_full: load(&self.inner.queue_full),
            url_checks: load(&self.inner.url_checks),
        }
    }

    fn refuse(&self, status: u16, err: &CryptoError) -> Answer {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
        // The error names the failed check; it never holds the Token or the key.
        tracing::warn!(code = err.code(), reason = %err, "callback refused");
        Answer::new(status, err.to_string())
    }

    /// Handle one request in any server: `GET` is the URL check (answers the
    /// echostr's plaintext), `POST` a callback (answers `success` once checked and
    /// queued). Never blocks, never panics on what it is sent.
    pub fn handle(&self, method: &str, query: &str, body: &[u8]) -> Answer {
        let query = match CallbackQuery::parse(query) {
            Ok(query) => query,
            Err(err) => return self.refuse(400, &err),
        };
        let get = method.eq_ignore_ascii_case("GET");
        if !get && !method.eq_ignore_ascii_case("POST") {
            return Answer::new(405, "GET (URL check) or POST (callback) only");
        }
        // The window holds for the URL check too: its echostr is signed like a POST's
        // Encrypt, so without it a captured callback replayed as a GET years later would
        // come back decrypted.
        let window = i64::try_from(self.inner.config.max_skew.as_secs()).unwrap_or(i64::MAX);
        let stale = query.unix_time().and_then(|timestamp| {
            let off = (now_unix() - timestamp).abs();
            if off > window {
                Err(CryptoError::Stale {
                    timestamp,
                    off,
                    window,
                })
            } else {
                Ok(())
            }
        });
        if let Err(err) = stale {
            return self.refuse(403, &err);
        }
        if get {
            return match self.keys().try_each(|c| c.verify_url(&query)) {
                Ok(plain) => {
                    self.inner.url_checks.fetch_add(1, Ordering::Relaxed);
                    Answer::new(200, plain)
                }
                Err(err) => self.refuse(403, &err),
            };
        }
        if body.len() > self.inner.config.max_body {
            let err = CryptoError::ParseXml(format!(
                "the body is {} bytes, over the {} accepted",
                body.len(),
                self.inner.config.max_body
            ));
            return self.refuse(413, &err);
        }
        let parsed = self
            .keys()
            .try_each(|c| c.open(&query, body))
            .and_then(|xml| CallbackEvent::parse(&xml).map(|event| (xml, event)));
        let (xml, event) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => {
                let status = if err.code() == -40001 { 403 } else { 400 };
                return self.refuse(status, &err);
            }
        };
        self.queue(&xml, event)
    }

    /// Queue a checked event once per delivery.
    fn queue(&self, xml: &str, event: CallbackEvent) -> Answer {
        use std::hash::BuildHasher as _;
        let mut seen = self
            .inner
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let cutoff = now
            .checked_sub(self.inner.config.dedup_window)
            .unwrap_or(now);
        seen.forget_before(cutoff, self.inner.config.dedup_capacity);
        let key = seen.hasher.hash_one(xml);
        if seen.keys.contains(&key) {
            self.inner.deduplicated.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("a repeated delivery, already queued");
            return Answer::new(200, "success");
        }
        match self.inner.queue.try_send(event) {
            Ok(()) => {
                seen.keys.insert(key);
                seen.order.push_back((now, key));
                self.inner.received.fetch_add(1, Ordering::Relaxed);
                Answer::new(200, "success")
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.inner.queue_full.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("callback queue full: answering 503 so WeCom retries");
                Answer::new(503, "busy: retry")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!("nobody reads the callback queue: answering 503");
                Answer::new(503, "not accepting callbacks")
            }
        }
    }

    /// An axum router serving the receiver at `path` (GET and POST).
    pub fn router(&self, path: &str) -> Router {
        let limit = self.inner.config.max_body;
        Router::new()
            .route(path, any(answer))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self.clone())
    }
}

async fn answer(
    State(receiver): State<Receiver>,
    method: Method,
    RawQuery(query): RawQuery,
    body: axum::body::Body,
) -> Response {
    let config = &receiver.inner.config;
    // A client that trickles its body must not hold the handler: bounded in time and size.
    let body = match tokio::time::timeout(
        config.body_timeout,
        axum::body::to_bytes(body, config.max_body),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "body too large or broken").into_response();
        }
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "body not sent in time").into_response(),
    };
    let answer = receiver.handle(method.as_str(), query.as_deref().unwrap_or_default(), &body);
    (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST),
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        answer.body,
    )
        .into_response()
}

/// How [`serve`] treats slow and idle clients.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeLimits {
    /// Time for a client to send its request headers, and for a kept-alive connection
    /// to start its next request; past it the connection is closed. Default 10 s.
    pub header_read_timeout: Duration,
    /// On shutdown, how long open connections may finish their request. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serve `app` (e.g. [`Receiver::router`]) on `listener` until `shutdown` completes,
/// like `axum::serve(..).with_graceful_shutdown(..)` but with a header-read and idle
/// timeout, so slow clients cannot hold connections open when it is exposed directly.
/// On shutdown it stops accepting, lets open requests finish within the grace, and
/// returns.
///
/// ```no_run
/// # async fn demo(receiver: wecom_kf::callback::Receiver) -> std::io::Result<()> {
/// use wecom_kf::callback::{ServeLimits, serve};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, receiver.router("/callback"), ServeLimits::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await;
/// # Ok(()) }
/// ```
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Reap finished connections so the set does not grow with the process's age.
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        let header_read_timeout = limits.header_read_timeout;
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = async { let _ = stopped.wait_for(|s| *s).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}
