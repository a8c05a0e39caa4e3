//! `wecom-kf-emulator`: the local 微信客服 server as a process, for clients in any language.
//!
//! Its first line on stdout is `listening on http://127.0.0.1:PORT`; the second gives the
//! console's address (`console: http://127.0.0.1:PORT/__emulator/console`).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Emulator};
use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::{CALLS_PER_HOUR, CALLS_PER_MINUTE, TOKEN_TTL_SECS};

/// A faithful local WeCom 微信客服 server, persisted in SQLite.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    after_help = "Example:\n  wecom-kf-emulator --addr 127.0.0.1:8080 --db kf.db\n  curl 'http://127.0.0.1:8080/cgi-bin/gettoken?corpid=wwdemo00000000kf01&corpsecret=DEMO-SECRET-wecom-kf-emulator-0000000000000'"
)]
struct Args {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// SQLite file (WAL mode), or `:memory:`.
    #[arg(long, default_value = ":memory:")]
    db: String,
    /// The corp id to accept.
    #[arg(long, default_value = DEMO_CORP_ID)]
    corp_id: String,
    /// An app secret to accept; repeat for several apps of the corp.
    #[arg(long = "secret", default_value = DEMO_SECRET)]
    secrets: Vec<String>,
    /// Behave as an unverified corp: at most 10 accounts (95027) and 100 customers
    /// served (95003).
    #[arg(long)]
    unverified: bool,
    /// Behave as a corp with no 视频号 bound: `kf/get_corp_qualification` says so, and
    /// a verified corp may serve 10 000 customers (95003).
    #[arg(long)]
    no_wechat_channels: bool,
    /// Lifetime of new access tokens, in seconds.
    #[arg(long, default_value_t = TOKEN_TTL_SECS)]
    token_ttl: u64,
    /// Override the account cap (5000 verified, 10 unverified).
    #[arg(long)]
    max_accounts: Option<usize>,
    /// Calls per API per minute before 45009.
    #[arg(long, default_value_t = CALLS_PER_MINUTE)]
    rate_limit: u32,
    /// Calls per API per hour before 45009.
    #[arg(long, default_value_t = CALLS_PER_HOUR)]
    rate_limit_hour: u32,
    /// Answer expired tokens with 40014 instead of 42001 (real servers do both).
    #[arg(long)]
    expired_as_40014: bool,
    /// Push kf_msg_or_event callbacks to this URL (checked at start, as the admin
    /// console checks it; a failed check stops the start).
    #[arg(long, requires_all = ["callback_token", "callback_aes_key"])]
    callback_url: Option<String>,
    /// The callback Token (letters and digits, ≤ 32).
    #[arg(long, env = "WECOM_KF_CALLBACK_TOKEN", hide_env_values = true)]
    callback_token: Option<String>,
    /// The callback EncodingAESKey (43 characters).
    #[arg(long, env = "WECOM_KF_CALLBACK_AES_KEY", hide_env_values = true)]
    callback_aes_key: Option<String>,
    /// A `Host` the control plane answers to besides loopback and the address bound
    /// (`name` or `name:port`; repeat for more). Any other is refused.
    #[arg(long = "control-host")]
    control_hosts: Vec<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env(
            "WECOM_KF_EMULATOR_LOG",
        ))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = Config::with_db(args.db);
    config.corp_id = args.corp_id;
    config.secrets = args.secrets;
    config.verified = !args.unverified;
    config.wechat_channels_bound = !args.no_wechat_channels;
    config.max_accounts = args.max_accounts;
    config.token_ttl = args.token_ttl;
    config.calls_per_minute = args.rate_limit;
    config.calls_per_hour = args.rate_limit_hour;
    config.control_hosts = args.control_hosts;
    if args.expired_as_40014 {
        config.expired_token_errcode = ErrCode::INVALID_ACCESS_TOKEN;
    }
    let callback = args.callback_url.map(|url| {
        (
            url,
            args.callback_token.unwrap_or_default(),
            args.callback_aes_key.unwrap_or_default(),
        )
    });
    match run(args.addr, config, callback).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wecom-kf-emulator: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(
    addr: SocketAddr,
    config: Config,
    callback: Option<(String, String, String)>,
) -> std::io::Result<()> {
    let emulator = Arc::new(Emulator::new(config)?);
    if let Some((url, token, key)) = callback {
        let setting =
            wecom_kf_emulator::CallbackSetting::new(&emulator.config().corp_id, &url, &token, &key)
                .map_err(std::io::Error::other)?;
        emulator
            .set_callback(setting)
            .await
            .map_err(|why| std::io::Error::other(format!("--callback-url: {why}")))?;
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let mut stdout = std::io::stdout();
    let addr = listener.local_addr()?;
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    // A reader that stops after the first line (as the contract allows) closes the pipe:
    // that must not stop the server.
    let _ =
        writeln!(stdout, "console: http://{addr}/__emulator/console").and_then(|()| stdout.flush());
    let (stop, stopped) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(());
    });
    wecom_kf_emulator::serve(listener, emulator, stopped).await;
    Ok(())
}
