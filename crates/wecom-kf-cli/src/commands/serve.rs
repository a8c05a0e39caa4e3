//! `wecom-kf serve`: the callback receiver and the consumer as one production process.
//!
//! Callbacks arrive at `--path`; each `kf_msg_or_event` makes its account sync at once
//! with the callback's Token, and every account is polled as the fallback. Each message
//! or event is handed over as JSON: to `--exec CMD` on stdin, to `--webhook URL`, or as
//! a JSON line on stdout. A reply goes out with a msgid derived from the message it
//! answers, so a message handled again after a crash is not answered twice. `/healthz`
//! and a Prometheus `/metrics` are served beside the callback; SIGTERM or Ctrl-C lets
//! the message in hand finish.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use clap::Args;
use futures_util::TryStreamExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::{mpsc, watch};
use wecom_kf::Client;
use wecom_kf::callback::{Crypto, Receiver};
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, HandlerError, SqliteStore, forward_callbacks, reply_msgid,
};
use wecom_kf::types::kf::message::{Content, Message, Origin};
use wecom_kf::types::kf::send_msg::SendMsg;

use crate::config::{ServeSettings, config_path, load_profile};
use crate::context::Context;
use crate::error::CliError;
use crate::options::Global;

/// `wecom-kf serve`. Each setting comes from its flag, else its `WECOM_KF_SERVE_*`
/// variable, else the profile's `[PROFILE.serve]` table, else the default.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  wecom-kf serve --listen 0.0.0.0:8080 --exec ./bot.sh\n  wecom-kf serve --listen 0.0.0.0:8080 --webhook http://127.0.0.1:9000/kf --store sqlite:/var/lib/wecom-kf/consumer.db\n  wecom-kf --sandbox serve --exec 'jq -r .text.content'   # an echo bot, offline\n\nEvery flag can also be set in the environment (WECOM_KF_SERVE_LISTEN, …_STORE, …) or\nin the config file, under [PROFILE.serve]:\n  [default.serve]\n  listen = \"0.0.0.0:8080\"\n  store = \"redis://10.0.0.5:6379\"\n  webhook = \"http://127.0.0.1:9000/kf\"\n\nThe callback Token and EncodingAESKey come from WECOM_KF_CALLBACK_TOKEN and\nWECOM_KF_CALLBACK_AES_KEY (or the profile's callback_token and callback_aes_key),\nnever from flags."
)]
pub struct Serve {
    /// Where to listen for callbacks, /healthz and /metrics. Default 127.0.0.1:8080.
    #[arg(long, env = "WECOM_KF_SERVE_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// The callback path configured in the admin console. Default /callback.
    #[arg(long, env = "WECOM_KF_SERVE_PATH", value_name = "PATH")]
    path: Option<String>,
    /// Where the cursors, handled msgids, dead letters and leases live: sqlite:PATH (one
    /// machine), or redis://… for a fleet (one process per account at a time). Default:
    /// sqlite in the data directory.
    #[arg(
        long,
        env = "WECOM_KF_SERVE_STORE",
        value_name = "sqlite:PATH|redis://…"
    )]
    store: Option<String>,
    /// Run this for each message (`sh -c`), the message as JSON on stdin. Exit 0:
    /// handled; otherwise retried. A non-empty stdout is sent back to the customer.
    #[arg(
        long,
        env = "WECOM_KF_SERVE_EXEC",
        conflicts_with = "webhook",
        value_name = "CMD"
    )]
    exec: Option<String>,
    /// POST each message as JSON here. A 2xx: handled; a JSON answer may carry a reply:
    /// {"reply":"text"} or {"messages":[{"msgtype":"text","text":{"content":"…"}}]}.
    #[arg(long, env = "WECOM_KF_SERVE_WEBHOOK", value_name = "URL")]
    webhook: Option<String>,
    /// Seconds between polls of each account (the fallback when no callback comes).
    /// Default 10.
    #[arg(long, env = "WECOM_KF_SERVE_POLL", value_name = "SECS")]
    poll: Option<u64>,
    /// Attempts per message before it goes to the dead letters. Default 5.
    #[arg(long, env = "WECOM_KF_SERVE_MAX_ATTEMPTS", value_name = "N")]
    max_attempts: Option<u32>,
    /// Seconds an account's lease lasts: how long a fleet waits for a dead process
    /// before another takes its accounts over. Longer than one handler run. Default 30.
    #[arg(long, env = "WECOM_KF_SERVE_LEASE", value_name = "SECS")]
    lease: Option<u64>,
}

/// Serve's settings, resolved: flag, environment, profile, default.
#[derive(Debug, PartialEq, Eq)]
struct Settings {
    listen: String,
    path: String,
    store: Option<String>,
    sink: SinkSpec,
    poll: Duration,
    max_attempts: u32,
    lease: Duration,
}

#[derive(Debug, PartialEq, Eq)]
enum SinkSpec {
    Exec(String),
    Webhook(String),
    Stdout,
}

impl Serve {
    /// Fill what the flags and environment left open from the profile's `serve` table.
    fn resolve(self, file: ServeSettings) -> Result<Settings, CliError> {
        let positive = |name: &str, value: u64| {
            if value == 0 {
                Err(CliError::Usage(format!("{name} must be at least 1, got 0")))
            } else {
                Ok(value)
            }
        };
        // A flag's --exec replaces the file's webhook and the other way round.
        let sink = match (self.exec, self.webhook) {
            (Some(cmd), _) => SinkSpec::Exec(cmd),
            (None, Some(url)) => SinkSpec::Webhook(url),
            (None, None) => match (file.exec, file.webhook) {
                (Some(_), Some(_)) => {
                    return Err(CliError::Config(
                        "the [serve] table sets both exec and webhook; keep one".into(),
                    ));
                }
                (Some(cmd), None) => SinkSpec::Exec(cmd),
                (None, Some(url)) => SinkSpec::Webhook(url),
                (None, None) => SinkSpec::Stdout,
            },
        };
        let path = self
            .path
            .or(file.path)
            .unwrap_or_else(|| "/callback".into());
        if !path.starts_with('/') {
            return Err(CliError::Usage(format!(
                "--path must start with /, got {path:?}"
            )));
        }
        let poll = positive("--poll", self.poll.or(file.poll).unwrap_or(10))?;
        let lease = positive("--lease", self.lease.or(file.lease).unwrap_or(30))?;
        let max_attempts = self.max_attempts.or(file.max_attempts).unwrap_or(5);
        positive("--max-attempts", u64::from(max_attempts))?;
        Ok(Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            path,
            store: self.store.or(file.store),
            sink,
            poll: Duration::from_secs(poll),
            max_attempts,
            lease: Duration::from_secs(lease),
        })
    }
}

/// What the process counts, for /metrics.
#[derive(Default)]
struct Metrics {
    handled: AtomicU64,
    failures: AtomicU64,
    replies: AtomicU64,
    /// Seconds between a message's send_time and its handling, last seen.
    lag_secs: AtomicI64,
}

/// Where messages go.
pub(crate) enum Sink {
    /// `sh -c CMD`, the message on stdin, stdout replied.
    Exec(String),
    /// POST the message; a JSON answer may carry replies.
    Webhook(String, reqwest::Client),
    /// A JSON line on stdout.
    Stdout,
    /// Answer each text with itself: the sandbox's default bot.
    Echo,
}

struct Bot {
    client: Client,
    sink: Sink,
    metrics: Arc<Metrics>,
}

impl Bot {
    /// Send the handler's answers to the customer, each with a msgid derived from the
    /// message, so a second run of the same message sends nothing twice.
    async fn reply(&self, message: &Message, replies: Vec<Content>) -> Result<(), HandlerError> {
        let (Some(open_kfid), Some(customer)) = (message.open_kfid(), message.external_userid())
        else {
            return Ok(());
        };
        for (n, content) in replies.into_iter().enumerate() {
            let msgid = reply_msgid(message, u32::try_from(n).unwrap_or(u32::MAX));
            let send = SendMsg::new(open_kfid, customer, content).msgid(msgid);
            match self.client.message().send_request(send).await {
                Ok(_) => {
                    self.metrics.replies.fetch_add(1, Ordering::Relaxed);
                }
                // Sent by an earlier run: the service refused the duplicate msgid.
                Err(err)
                    if err.api_code() == Some(wecom_kf::types::kf::send_msg::DUPLICATE_MSGID) => {}
                // The session does not allow it (a servicer has it, quota, window): the
                // reply cannot be sent by retrying; say so and go on.
                Err(err) if err.diagnosis().is_some() || err.is_validation() => {
                    eprintln!("warning: reply not sent: {err}");
                }
                Err(err) => return Err(HandlerError::new(format!("reply failed: {err}"))),
            }
        }
        Ok(())
    }

    async fn handle(&self, message: Message) -> Result<(), HandlerError> {
        let json = serde_json::to_string(&message).map_err(|e| HandlerError::new(e.to_string()))?;
        let replies = match &self.sink {
            Sink::Stdout => {
                let mut out = tokio::io::stdout();
                out.write_all(format!("{json}\n").as_bytes())
                    .await
                    .map_err(|e| HandlerError::new(format!("stdout: {e}")))?;
                Vec::new()
            }
            Sink::Exec(cmd) => exec(cmd, &json).await?,
            Sink::Echo => message
                .content
                .as_text()
                .map(|text| vec![Content::text(format!("你说的是：{text}"))])
                .unwrap_or_default(),
            Sink::Webhook(url, http) => webhook(http, url, &json).await?,
        };
        // Only customers' messages are answered; events and servicers' messages are not.
        if message.origin == Origin::Customer {
            self.reply(&message, replies).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        self.metrics
            .lag_secs
            .store(now - message.send_time, Ordering::Relaxed);
        self.metrics.handled.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

async fn exec(cmd: &str, json: &str) -> Result<Vec<Content>, HandlerError> {
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", cmd])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| HandlerError::new(format!("cannot run {cmd:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is fine.
        let _ = stdin.write_all(json.as_bytes()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| HandlerError::new(format!("{cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(HandlerError::new(format!(
            "{cmd:?} exited with {}",
            out.status
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(text)]
    })
}

async fn webhook(
    http: &reqwest::Client,
    url: &str,
    json: &str,
) -> Result<Vec<Content>, HandlerError> {
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .body(json.to_owned())
        .send()
        .await
        .map_err(|e| HandlerError::new(format!("webhook: {}", e.without_url())))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(HandlerError::new(format!("webhook answered HTTP {status}")));
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut replies = Vec::new();
    if let Some(text) = body["reply"].as_str().filter(|t| !t.is_empty()) {
        replies.push(Content::text(text));
    }
    for m in body["messages"].as_array().into_iter().flatten() {
        let msgtype = m["msgtype"].as_str().unwrap_or_default();
        replies.push(Content::from_wire(msgtype, m[msgtype].clone()));
    }
    Ok(replies)
}

fn metrics_text(metrics: &Metrics, receiver: &Receiver) -> String {
    let stats = receiver.stats();
    format!(
        "# HELP wecom_kf_messages_handled_total Messages and events handed to the handler successfully.\n# TYPE wecom_kf_messages_handled_total counter\nwecom_kf_messages_handled_total {}\n\
         # HELP wecom_kf_replies_total Replies sent to customers.\n# TYPE wecom_kf_replies_total counter\nwecom_kf_replies_total {}\n\
         # HELP wecom_kf_handler_failures_total Handler attempts that failed.\n# TYPE wecom_kf_handler_failures_total counter\nwecom_kf_handler_failures_total {}\n\
         # HELP wecom_kf_sync_lag_seconds Seconds from the last handled message's send_time to its handling.\n# TYPE wecom_kf_sync_lag_seconds gauge\nwecom_kf_sync_lag_seconds {}\n\
         # HELP wecom_kf_callbacks_received_total Callbacks checked and queued.\n# TYPE wecom_kf_callbacks_received_total counter\nwecom_kf_callbacks_received_total {}\n\
         # HELP wecom_kf_callbacks_deduplicated_total Repeated deliveries not queued again.\n# TYPE wecom_kf_callbacks_deduplicated_total counter\nwecom_kf_callbacks_deduplicated_total {}\n\
         # HELP wecom_kf_callbacks_refused_total Callbacks refused (forged, stale, malformed).\n# TYPE wecom_kf_callbacks_refused_total counter\nwecom_kf_callbacks_refused_total {}\n",
        metrics.handled.load(Ordering::Relaxed),
        metrics.replies.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed),
        metrics.lag_secs.load(Ordering::Relaxed),
        stats.received,
        stats.deduplicated,
        stats.refused,
    )
}

fn store_path(spec: Option<&str>) -> Result<PathBuf, CliError> {
    if let Some(spec) = spec {
        return spec
            .strip_prefix("sqlite:")
            .map(PathBuf::from)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "--store must be sqlite:PATH or redis://…, got {spec:?}"
                ))
            });
    }
    let dir = dirs::data_dir()
        .ok_or_else(|| CliError::Config("no data directory; pass --store sqlite:PATH".into()))?;
    Ok(dir.join("wecom-kf").join("consumer.db"))
}

/// The callback crypto: the settings, or in the sandbox a fresh random pair.
fn crypto(global: &Global) -> Result<Crypto, CliError> {
    match super::callback::crypto(global) {
        // No settings at all: in the sandbox, a pair of its own.
        Err(CliError::Config(_)) if global.sandbox => sandbox_crypto(),
        other => other,
    }
}

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
    stop: watch::Sender<bool>,
    consumer: tokio::task::JoinHandle<Result<(), wecom_kf::consumer::StoreError>>,
    server: tokio::task::JoinHandle<()>,
}

impl Pipeline {
    /// Stop: the message in hand finishes and is recorded, the server closes.
    pub(crate) async fn stop(self) -> Result<(), CliError> {
        let _ = self.stop.send(true);
        let result = self.consumer.await;
        let _ = self.server.await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CliError::Config(format!(
                "the consumer's store failed: {e}"
            ))),
            Err(e) => Err(CliError::Config(format!("the consumer stopped: {e}"))),
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
    /// Print where it listens (serve does; the sandbox's chat does not).
    pub announce: bool,
}

/// Start the receiver, its HTTP server and the consumer of every managed account.
pub(crate) async fn start<S: wecom_kf::consumer::Store>(
    parts: Parts<'_>,
    store: S,
) -> Result<Pipeline, CliError> {
    let (receiver, events) = Receiver::new(parts.crypto.clone());
    let metrics = Arc::new(Metrics::default());
    let app = http_app(&receiver, &metrics, parts.path);
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
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
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
    // Every account the app manages, and any account a callback names.
    let accounts: Vec<String> = parts
        .client
        .account()
        .list_all()
        .try_filter(|a| std::future::ready(a.manage_privilege != Some(false)))
        .map_ok(|a| a.open_kfid)
        .try_collect()
        .await?;
    let (triggers, trigger_rx) = mpsc::channel(1024);
    tokio::spawn(forward_callbacks(events, triggers));
    let bot = Arc::new(Bot {
        client: parts.client.clone(),
        sink: parts.sink,
        metrics: metrics.clone(),
    });
    let handler = {
        let (bot, metrics) = (bot, metrics.clone());
        move |message: Message| {
            let (bot, metrics) = (bot.clone(), metrics.clone());
            async move {
                let result = bot.handle(message).await;
                if result.is_err() {
                    metrics.failures.fetch_add(1, Ordering::Relaxed);
                }
                result
            }
        }
    };
    let consumer = Consumer::new(parts.client, store, handler, parts.config);
    let consumer = tokio::spawn(consumer.run(accounts, trigger_rx, shutdown));
    Ok(Pipeline {
        stop,
        consumer,
        server,
    })
}

pub async fn run(serve: Serve, global: &Global) -> Result<(), CliError> {
    let file = match config_path() {
        Some(path) => load_profile(&path, &global.profile)?.serve,
        None => ServeSettings::default(),
    };
    let settings = serve.resolve(file)?;
    let crypto = crypto(global)?;
    let ctx = Context::new(global).await?;
    let sink = match settings.sink {
        SinkSpec::Exec(cmd) => Sink::Exec(cmd),
        SinkSpec::Webhook(url) => Sink::Webhook(url, reqwest::Client::new()),
        SinkSpec::Stdout => Sink::Stdout,
    };
    let mut config = ConsumerConfig::default();
    config.poll_interval = settings.poll;
    config.max_attempts = settings.max_attempts;
    config.lease_ttl = settings.lease;
    let parts = Parts {
        client: ctx.client.clone(),
        sandbox: ctx.sandbox(),
        crypto,
        listen: &settings.listen,
        path: &settings.path,
        sink,
        config,
        announce: true,
    };
    let pipeline = match settings.store.as_deref() {
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = wecom_kf::consumer::RedisStore::open(url, "wecom-kf")
                .map_err(|e| CliError::Config(format!("--store: {e}")))?;
            start(parts, store).await?
        }
        spec => start(parts, open_store(&store_path(spec)?)?).await?,
    };
    terminated().await;
    pipeline.stop().await
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
fn http_app(receiver: &Receiver, metrics: &Arc<Metrics>, path: &str) -> Router {
    Router::new()
        .merge(receiver.router(path))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get({
                let (metrics, receiver) = (metrics.clone(), receiver.clone());
                move || {
                    let text = metrics_text(&metrics, &receiver);
                    async move { text }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn flags(args: &[&str]) -> Serve {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            serve: Serve,
        }
        Wrapper::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .unwrap()
            .serve
    }

    #[test]
    fn flags_come_before_the_file_and_the_file_before_the_defaults() {
        let file: ServeSettings = toml::from_str(
            "listen = \"0.0.0.0:9000\"\nstore = \"redis://10.0.0.5\"\nwebhook = \"http://h/kf\"\npoll = 3\nlease = 7",
        )
        .unwrap();
        let settings = flags(&["--poll", "2", "--exec", "./bot.sh"])
            .resolve(file)
            .unwrap();
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.store.as_deref(), Some("redis://10.0.0.5"));
        assert_eq!(settings.sink, SinkSpec::Exec("./bot.sh".into()));
        assert_eq!(settings.poll, Duration::from_secs(2));
        assert_eq!(settings.lease, Duration::from_secs(7));
        assert_eq!(settings.path, "/callback");
        assert_eq!(settings.max_attempts, 5);
    }

    fn message(err: CliError) -> String {
        match err {
            CliError::Usage(m) | CliError::Config(m) => m,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_file_with_both_sinks_or_a_zero_is_refused_by_name() {
        let both: ServeSettings = toml::from_str("exec = \"a\"\nwebhook = \"b\"").unwrap();
        let err = message(flags(&[]).resolve(both).unwrap_err());
        assert!(err.contains("both exec and webhook"), "{err}");
        let err = message(
            flags(&["--lease", "0"])
                .resolve(ServeSettings::default())
                .unwrap_err(),
        );
        assert!(err.contains("--lease must be at least 1, got 0"), "{err}");
        let err = message(
            flags(&["--path", "callback"])
                .resolve(ServeSettings::default())
                .unwrap_err(),
        );
        assert!(err.contains("--path must start with /"), "{err}");
        assert!(toml::from_str::<ServeSettings>("secret = \"x\"").is_err());
    }
}
