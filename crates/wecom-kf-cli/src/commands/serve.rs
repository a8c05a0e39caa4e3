//! `wecom-kf serve`: the callback receiver and the consumer as one production process.
//!
//! Callbacks arrive at `--path`; each `kf_msg_or_event` makes its account sync at once
//! with the callback's Token, and every account is polled as the fallback. The
//! accounts are listed again every `--relist` seconds and on a `kf_account_auth_change`
//! callback, so an account created later is served and a deleted one stops. With a
//! Redis store, the processes of a fleet share the accounts fairly. Each message
//! or event is handed over as JSON: to `--exec CMD` on stdin, to `--webhook URL`, or as
//! a JSON line on stdout. A reply goes out with a msgid derived from the message it
//! answers, so a message handled again after a crash is not answered twice. `/healthz`
//! and a Prometheus `/metrics` are served beside the callback; SIGTERM or Ctrl-C lets
//! the message in hand finish.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use wecom_kf::callback::Crypto;
use wecom_kf::consumer::ConsumerConfig;

use super::bot::{Parts, Sink, open_store, sandbox_crypto, start, terminated, webhook_client};
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
    /// machine), or redis://… for a fleet (one process per account at a time, each
    /// process its fair share of the accounts). Default: sqlite in the data directory.
    #[arg(
        long,
        env = "WECOM_KF_SERVE_STORE",
        // A Redis URL may hold a password: --help never shows the value.
        hide_env_values = true,
        value_name = "sqlite:PATH|redis://…"
    )]
    store: Option<String>,
    #[command(flatten)]
    handler: HandlerArgs,
    /// Seconds between polls of each account (the fallback when no callback comes).
    /// Default 10.
    #[arg(long, env = "WECOM_KF_SERVE_POLL", value_name = "SECS")]
    poll: Option<u64>,
    /// Seconds between listings of the corp's accounts: an account created later is
    /// consumed, a deleted one stops (also at once on a kf_account_auth_change
    /// callback). Default 300.
    #[arg(long, env = "WECOM_KF_SERVE_RELIST", value_name = "SECS")]
    relist: Option<u64>,
    /// Attempts per message before it goes to the dead letters. Default 5.
    #[arg(long, env = "WECOM_KF_SERVE_MAX_ATTEMPTS", value_name = "N")]
    max_attempts: Option<u32>,
    /// Seconds an account's lease lasts: how long a fleet waits for a dead process
    /// before another takes its accounts over. Longer than one handler run. Default 30.
    #[arg(long, env = "WECOM_KF_SERVE_LEASE", value_name = "SECS")]
    lease: Option<u64>,
    /// Seconds one handler run (`--exec`, `--webhook`) may take; then it is a failed
    /// attempt (`--exec`: killed with its whole process group). Shorter than the lease.
    /// Default: two thirds of the lease.
    #[arg(long, env = "WECOM_KF_SERVE_HANDLER_TIMEOUT", value_name = "SECS")]
    handler_timeout: Option<u64>,
    /// Handler runs at once (customers side by side; each customer's messages stay in
    /// order, one after another). Default 64.
    #[arg(long, env = "WECOM_KF_SERVE_CONCURRENCY", value_name = "N")]
    concurrency: Option<u64>,
    /// Batch mode: a customer's waiting messages (up to N, default 10) go to the
    /// handler together as a JSON array, answered once.
    #[arg(
        long,
        env = "WECOM_KF_SERVE_BATCH",
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "10"
    )]
    batch: Option<u64>,
    /// Download each message's image, voice, video or file into DIR/MSGID/ before the
    /// handler runs, and add its local path as "path" to the JSON the handler gets.
    /// A download that fails is retried like a failed handler run.
    #[arg(long, env = "WECOM_KF_SERVE_MEDIA_DIR", value_name = "DIR")]
    media_dir: Option<PathBuf>,
    /// Check the configuration, the callback Token and EncodingAESKey, the credentials
    /// (one gettoken) and the store, say what is wrong, and exit without serving.
    #[arg(long)]
    check: bool,
}

/// The handler a message goes to, `--exec` or `--webhook`: serve's, and `dead-letters
/// retry`'s, which hands a letter to the same bot (it words the help its own way).
#[derive(Args, Debug)]
pub(super) struct HandlerArgs {
    /// Run this for each message (`sh -c`), the message as JSON on stdin. Exit 0:
    /// handled; otherwise retried. A non-empty stdout is sent back to the customer.
    #[arg(
        long,
        env = "WECOM_KF_SERVE_EXEC",
        hide_env_values = true,
        conflicts_with = "webhook",
        value_name = "CMD"
    )]
    pub(super) exec: Option<String>,
    /// POST each message as JSON here. A 2xx: handled; a JSON answer may carry a reply:
    /// {"reply":"text"} or {"messages":[{"msgtype":"text","text":{"content":"…"}}]}.
    // A webhook URL often carries a key (`?key=…`).
    #[arg(
        long,
        env = "WECOM_KF_SERVE_WEBHOOK",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(super) webhook: Option<String>,
}

/// Serve's settings, resolved: flag, environment, profile, default.
#[derive(Debug, PartialEq, Eq)]
struct Settings {
    listen: String,
    path: String,
    store: Option<String>,
    sink: SinkSpec,
    poll: Duration,
    relist: Duration,
    max_attempts: u32,
    lease: Duration,
    handler_timeout: Duration,
    concurrency: usize,
    /// 1: one message at a time.
    batch: usize,
    /// Where messages' media are saved before the handler runs.
    media_dir: Option<PathBuf>,
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
        let sink = match (self.handler.exec, self.handler.webhook) {
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
        let relist = positive("--relist", self.relist.or(file.relist).unwrap_or(300))?;
        let lease = positive("--lease", self.lease.or(file.lease).unwrap_or(30))?;
        let handler_timeout = match self.handler_timeout.or(file.handler_timeout) {
            Some(secs) => Duration::from_secs(positive("--handler-timeout", secs)?),
            None => Duration::from_secs(lease) * 2 / 3,
        };
        if handler_timeout >= Duration::from_secs(lease) {
            return Err(CliError::Usage(format!(
                "--handler-timeout must be shorter than --lease ({lease} s), got {} s: a run that outlasts the lease runs beside the next holder's",
                handler_timeout.as_secs()
            )));
        }
        let max_attempts = self.max_attempts.or(file.max_attempts).unwrap_or(5);
        positive("--max-attempts", u64::from(max_attempts))?;
        let concurrency = positive(
            "--concurrency",
            self.concurrency.or(file.concurrency).unwrap_or(64),
        )?;
        let batch = match self.batch.or(file.batch) {
            Some(n) => positive("--batch", n)?,
            None => 1,
        };
        let bounded = |name: &str, n: u64, max: u64| {
            if n > max {
                Err(CliError::Usage(format!(
                    "{name} must be at most {max}, got {n}"
                )))
            } else {
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        };
        let concurrency = bounded("--concurrency", concurrency, 10_000)?;
        let batch = bounded("--batch", batch, 1000)?;
        Ok(Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            path,
            store: self.store.or(file.store),
            sink,
            poll: Duration::from_secs(poll),
            relist: Duration::from_secs(relist),
            max_attempts,
            lease: Duration::from_secs(lease),
            handler_timeout,
            concurrency,
            batch,
            media_dir: self.media_dir.or(file.media_dir),
        })
    }
}

pub(crate) fn store_path(spec: Option<&str>) -> Result<PathBuf, CliError> {
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

pub async fn run(serve: Serve, global: &Global) -> Result<(), CliError> {
    let file = match config_path() {
        Some(path) => load_profile(&path, &global.profile)?.serve,
        None => ServeSettings::default(),
    };
    let check = serve.check;
    let settings = serve.resolve(file)?;
    if check {
        return self::check(&settings, global).await;
    }
    let crypto = crypto(global)?;
    let ctx = Context::new(global).await?;
    let sink = match settings.sink {
        SinkSpec::Exec(cmd) => Sink::Exec(cmd, settings.handler_timeout),
        SinkSpec::Webhook(url) => Sink::Webhook(
            url,
            webhook_client(settings.handler_timeout).map_err(CliError::Config)?,
        ),
        SinkSpec::Stdout => Sink::Stdout,
    };
    let mut config = ConsumerConfig::default();
    config.poll_interval = settings.poll;
    config.relist_interval = settings.relist;
    config.max_attempts = settings.max_attempts;
    config.lease_ttl = settings.lease;
    config.max_in_flight = settings.concurrency;
    let parts = Parts {
        client: ctx.client.clone(),
        sandbox: ctx.sandbox(),
        crypto,
        listen: &settings.listen,
        path: &settings.path,
        sink,
        config,
        batch: settings.batch,
        announce: true,
        media_dir: settings.media_dir.clone(),
    };
    let pipeline = match settings.store.as_deref() {
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = wecom_kf::consumer::RedisStore::open(url, "wecom-kf")
                .map_err(|e| CliError::Config(format!("--store: {e}")))?;
            start(parts, store).await?
        }
        spec => start(parts, open_store(&store_path(spec)?)?).await?,
    };
    reload_until_terminated(&pipeline, &ctx.client, global).await;
    pipeline.stop().await
}

/// How long callbacks signed with the previous key stay accepted after a reload: WeCom
/// retries a delivery for a few minutes, signed as it was first sent.
const KEY_GRACE: Duration = Duration::from_secs(600);

/// Serve until SIGTERM or Ctrl-C; on each SIGHUP re-read the secret and the callback
/// settings and switch to them without dropping a callback. A reload whose settings
/// are invalid changes nothing and says why.
async fn reload_until_terminated(
    pipeline: &super::bot::Pipeline,
    client: &wecom_kf::Client,
    global: &Global,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut hup) = signal(SignalKind::hangup()) {
            let mut stop = std::pin::pin!(terminated());
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    _ = hup.recv() => match reload(pipeline, client, global).await {
                        Ok(what) => eprintln!("reloaded: {what}"),
                        Err(err) => eprintln!("reload refused, nothing changed: {}", err.render().trim_start_matches("error: ")),
                    },
                }
            }
        }
    }
    terminated().await;
}

/// Read the settings again; switch the callback key and the secret when they changed.
async fn reload(
    pipeline: &super::bot::Pipeline,
    client: &wecom_kf::Client,
    global: &Global,
) -> Result<String, CliError> {
    // Everything is read and checked before anything changes.
    let crypto = crypto(global)?;
    let secret = if global.sandbox {
        None
    } else {
        let profile = match config_path() {
            Some(path) => load_profile(&path, &global.profile)?,
            None => crate::config::Profile::default(),
        };
        Some(crate::config::credentials(&profile)?.secret)
    };
    pipeline.receiver.rotate(crypto, KEY_GRACE);
    let mut what = format!(
        "the callback Token and EncodingAESKey (the previous ones accepted for {} more minutes)",
        KEY_GRACE.as_secs() / 60
    );
    if let Some(secret) = secret {
        client.set_secret(secret).await?;
        what.push_str(" and the app secret");
    }
    Ok(what)
}

/// `serve --check`: each thing serve needs, in the order serve needs it, one line
/// each; the first that fails ends the check with what is wrong.
async fn check(settings: &Settings, global: &Global) -> Result<(), CliError> {
    let fail = |what: &str, why: &dyn std::fmt::Display| {
        CliError::Config(format!("serve --check: {what}: {why}"))
    };
    let plain = |e: &CliError| e.render().trim_start_matches("error: ").to_owned();
    eprintln!(
        "ok: configuration (listen {}, path {})",
        settings.listen, settings.path
    );
    crypto(global).map_err(|e| fail("the callback Token and EncodingAESKey", &plain(&e)))?;
    eprintln!("ok: the callback Token and EncodingAESKey");
    let ctx = Context::new(global)
        .await
        .map_err(|e| fail("the credentials", &plain(&e)))?;
    ctx.client
        .token_provider()
        .token()
        .await
        .map_err(|e| fail("the credentials were refused", &e))?;
    eprintln!("ok: the credentials (an access_token was issued)");
    // The store: reachable, and readable (its dead letters counted).
    let timeout = Duration::from_secs(5);
    let count = match settings.store.as_deref() {
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = wecom_kf::consumer::RedisStore::open(url, "wecom-kf")
                .map_err(|e| fail("the store", &e))?;
            tokio::time::timeout(
                timeout,
                wecom_kf::consumer::Store::dead_letter_count(&store),
            )
            .await
            .map_err(|_| fail("the store", &"no answer within 5 s"))?
            .map_err(|e| fail("the store is unreachable", &e))?
        }
        spec => {
            let store =
                open_store(&store_path(spec)?).map_err(|e| fail("the store", &plain(&e)))?;
            wecom_kf::consumer::Store::dead_letter_count(&store)
                .await
                .map_err(|e| fail("the store", &e))?
        }
    };
    eprintln!("ok: the store ({count} dead letters)");
    Ok(())
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
            "listen = \"0.0.0.0:9000\"\nstore = \"redis://10.0.0.5\"\nwebhook = \"http://h/kf\"\npoll = 3\nlease = 7\nmedia_dir = \"/srv/media\"",
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
        assert_eq!(settings.relist, Duration::from_secs(300));
        assert_eq!(settings.media_dir, Some(PathBuf::from("/srv/media")));
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
