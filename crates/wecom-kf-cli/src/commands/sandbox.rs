//! `wecom-kf sandbox …`: the built-in emulator, persisted between runs.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use futures_util::TryStreamExt;
use wecom_kf::Client;
use wecom_kf::types::kf::account::UpdateAccount;
use wecom_kf::types::media::{Format as MediaFormat, MediaType};

use crate::context::{sandbox_client, sandbox_db, start_sandbox};
use crate::error::CliError;
use crate::options::Global;
use crate::output::{Format, Output};

/// Sandbox commands.
#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// A guided tour: create, list, update, link and delete accounts in the sandbox.
    /// Run it twice: what it created the first time is still there.
    #[command(after_help = "Example:\n  wecom-kf sandbox demo")]
    Demo,
    /// Print where the sandbox keeps its data.
    Path,
    /// Empty the sandbox.
    #[command(after_help = "Example:\n  wecom-kf sandbox reset")]
    Reset,
    /// Play the corp directory: add (or replace) a member who can become a servicer.
    #[command(after_help = "Example:\n  wecom-kf sandbox member zhangsan --name 张三")]
    Member {
        /// The member's userid.
        userid: String,
        /// Their name.
        #[arg(long, default_value = "")]
        name: String,
        /// Their departments; repeat for several.
        #[arg(long = "department", value_name = "ID")]
        departments: Vec<u32>,
        /// A member who has not activated WeCom (refused as a servicer: 95014).
        #[arg(long)]
        inactive: bool,
    },
    /// Play a WeChat user: a new customer; prints their external_userid.
    #[command(after_help = "Example:\n  wecom-kf sandbox customer --nickname 小明")]
    Customer {
        /// Their WeChat nickname.
        #[arg(long, default_value = "客户")]
        nickname: String,
    },
    /// Play a customer writing to an account: starts (or goes on with) a session. A
    /// customer may send a picture, a voice note or a file instead of text: the file
    /// is uploaded from WeChat's side and `media/get` serves it to the bot.
    #[command(
        after_help = "Examples:\n  wecom-kf sandbox say wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw 你好\n  wecom-kf sandbox say CUSTOMER KFID --image order.png\n  wecom-kf sandbox say CUSTOMER KFID --voice note.amr\n  wecom-kf sandbox say CUSTOMER KFID --file invoice.pdf"
    )]
    #[command(group(clap::ArgGroup::new("what").required(true).args(["text", "image", "voice", "file"])))]
    Say {
        /// The customer.
        external_userid: String,
        /// The account.
        open_kfid: String,
        /// What they write.
        text: Option<String>,
        /// Send this picture (image message).
        #[arg(long, value_name = "PATH")]
        image: Option<PathBuf>,
        /// Send this voice note (voice message; WeChat's are AMR).
        #[arg(long, value_name = "PATH")]
        voice: Option<PathBuf>,
        /// Send this file (file message).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Play a customer opening an account's chat (an enter_session event); prints the
    /// welcome_code when a welcome may be sent (`wecom-kf msg welcome CODE`, 20 s).
    #[command(
        after_help = "Example:\n  wecom-kf sandbox enter wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --scene spring_sale"
    )]
    Enter {
        /// The customer.
        external_userid: String,
        /// The account.
        open_kfid: String,
        /// The scene of the link they came by.
        #[arg(long, default_value = "")]
        scene: String,
    },
    /// Show what a customer saw from an account: the app's messages and the
    /// servicers', oldest first, recalled ones marked.
    #[command(
        after_help = "Example:\n  wecom-kf sandbox inbox wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"
    )]
    Inbox {
        /// The customer.
        external_userid: String,
        /// The account.
        open_kfid: String,
    },
    /// Be a customer: type messages to an account of the sandbox and read the bot's
    /// answers. Each message goes through the emulator, a signed callback, the
    /// receiver, the consumer and the handler (an echo bot, or --exec CMD), then
    /// send_msg. An empty line or Ctrl-D ends.
    #[command(
        after_help = "Examples:\n  wecom-kf sandbox chat\n  wecom-kf sandbox chat --exec 'jq -r \"\\\"收到：\\(.text.content)\\\"\"'"
    )]
    Chat {
        /// The bot: run this for each message, as `wecom-kf serve --exec` does (the
        /// message as JSON on stdin, stdout is the answer). Default: an echo bot.
        #[arg(long, value_name = "CMD")]
        exec: Option<String>,
        /// The account to write to (default: the first one, created if none).
        #[arg(long)]
        account: Option<String>,
    },
    /// Open the sandbox's console in a browser: be the customer, act as a servicer,
    /// watch every call, session move and callback, live. A bot answers (an echo bot,
    /// --exec CMD, or none with --no-bot) through the whole loop. Ctrl-C stops.
    #[command(
        after_help = "Examples:\n  wecom-kf sandbox console                 # then open the printed address\n  wecom-kf sandbox console --listen 127.0.0.1:7700 --exec ./bot.sh\n  wecom-kf sandbox console --no-bot        # your own `wecom-kf --sandbox serve` answers"
    )]
    Console {
        /// Where the sandbox's emulator listens (its API, control plane and console).
        #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
        listen: String,
        /// The bot, as `wecom-kf serve --exec` takes it. Default: an echo bot.
        #[arg(long, value_name = "CMD", conflicts_with = "no_bot")]
        exec: Option<String>,
        /// Run no bot: only the console (the app is yours to run).
        #[arg(long)]
        no_bot: bool,
    },
    /// Route an account's new sessions to its serving servicers (as a corp that lets
    /// servicers take customers does), or leave them to the API (the default).
    #[command(
        after_help = "Example:\n  wecom-kf sandbox routing wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw servicers"
    )]
    Routing {
        /// The account.
        open_kfid: String,
        /// Where new sessions go.
        mode: RoutingMode,
    },
}

/// `sandbox routing`'s modes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoutingMode {
    /// New sessions wait for the app (state 0).
    Api,
    /// New sessions go to a serving servicer (3), or the queue (2).
    Servicers,
}

/// What an inbox message says: a text's content, or its payload as JSON.
fn said(m: &serde_json::Value) -> String {
    let kind = m["msgtype"].as_str().unwrap_or_default();
    m[kind]["content"]
        .as_str()
        .map_or_else(|| m[kind].to_string(), str::to_owned)
}

/// A refusal of the sandbox's emulator, as the CLI reports it.
/// `sandbox say`: a text, or a file uploaded from WeChat's side and sent as a message
/// of its kind. Answers the msgid.
async fn say(
    external_userid: &str,
    open_kfid: &str,
    text: Option<String>,
    media: Option<(MediaType, PathBuf)>,
) -> Result<String, CliError> {
    // Read before the sandbox starts: a bad path is refused with nothing done.
    let media = match media {
        Some((kind, path)) => Some((kind, read_media(kind, &path).await?)),
        None => None,
    };
    let sandbox = start_sandbox().await?;
    let emulator = sandbox.emulator();
    match (media, text) {
        (Some((kind, (filename, content_type, data))), _) => {
            let (media_id, _) = emulator
                .customer_uploads(external_userid, &filename, &content_type, data.into())
                .await
                .map_err(|r| refused(&r))?;
            emulator.customer_sends_media(external_userid, open_kfid, kind, &media_id)
        }
        (None, Some(text)) => emulator.customer_says(external_userid, open_kfid, &text),
        (None, None) => {
            return Err(CliError::Usage(
                "say what? give TEXT, --image, --voice or --file".into(),
            ));
        }
    }
    .map_err(|r| refused(&r))
}

/// A file a customer sends: its name, a Content-Type that gives it the kind asked for
/// (recognised from its bytes, else from its extension), and its bytes.
async fn read_media(kind: MediaType, path: &Path) -> Result<(String, String, Vec<u8>), CliError> {
    let max = wecom_kf_emulator::CUSTOMER_MEDIA_MAX_BYTES;
    let unreadable =
        |e: std::io::Error| CliError::Input(format!("cannot read {}: {e}", path.display()));
    let len = tokio::fs::metadata(path).await.map_err(unreadable)?.len();
    if len == 0 || len > max {
        return Err(CliError::Input(format!(
            "{}: a customer's file must be 1 to {max} bytes; it is {len} bytes",
            path.display()
        )));
    }
    let data = tokio::fs::read(path).await.map_err(unreadable)?;
    let sniffed = MediaFormat::sniff(&data[..data.len().min(16)]).content_type();
    let by_extension = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("amr") => "voice/amr",
        Some("mp3") => "audio/mpeg",
        Some("mp4") => "video/mp4",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    let content_type = [sniffed, by_extension]
        .into_iter()
        .find(|ct| MediaType::from_content_type(ct) == kind)
        .unwrap_or(match kind {
            MediaType::Image => "image/jpeg",
            MediaType::Voice => "voice/amr",
            MediaType::Video => "video/mp4",
            MediaType::File => "application/octet-stream",
        });
    let filename = path
        .file_name()
        .map_or_else(|| "media".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok((filename, content_type.to_owned(), data))
}

fn refused(rejection: &wecom_kf_emulator::Rejection) -> CliError {
    let detail = rejection.detail.as_deref().unwrap_or_default();
    CliError::Input(format!("errcode {}: {detail}", rejection.code))
}

pub async fn run(command: SandboxCommand, global: &Global) -> Result<(), CliError> {
    match command {
        SandboxCommand::Path => Output::new(global.format).line(sandbox_db()?.display()),
        SandboxCommand::Reset => {
            let sandbox = start_sandbox().await?;
            sandbox.emulator().reset().map_err(|code| {
                CliError::Config(format!("cannot reset the sandbox: errcode {code}"))
            })?;
            Output::new(global.format).line(format!("sandbox emptied: {}", sandbox_db()?.display()))
        }
        SandboxCommand::Demo => demo(global).await,
        SandboxCommand::Member {
            userid,
            name,
            departments,
            inactive,
        } => {
            let sandbox = start_sandbox().await?;
            sandbox
                .emulator()
                .put_member(&userid, &name, &departments, !inactive)
                .map_err(|r| refused(&r))?;
            Output::new(global.format).line(format!("member {userid} is in the directory"))
        }
        SandboxCommand::Customer { nickname } => {
            let sandbox = start_sandbox().await?;
            let id = sandbox
                .emulator()
                .add_customer(&nickname)
                .map_err(|r| refused(&r))?;
            Output::new(global.format).line(id)
        }
        SandboxCommand::Say {
            external_userid,
            open_kfid,
            text,
            image,
            voice,
            file,
        } => {
            let media = [
                (MediaType::Image, image),
                (MediaType::Voice, voice),
                (MediaType::File, file),
            ]
            .into_iter()
            .find_map(|(kind, path)| path.map(|p| (kind, p)));
            let msgid = say(&external_userid, &open_kfid, text, media).await?;
            Output::new(global.format).line(format!("sent: {msgid}"))
        }
        SandboxCommand::Enter {
            external_userid,
            open_kfid,
            scene,
        } => {
            let sandbox = start_sandbox().await?;
            let (_, welcome) = sandbox
                .emulator()
                .customer_enters(&external_userid, &open_kfid, &scene)
                .map_err(|r| refused(&r))?;
            let out = Output::new(global.format);
            match (global.format, welcome) {
                (Format::Json, code) => out.json(&serde_json::json!({ "welcome_code": code })),
                (_, Some(code)) => out.line(format!("welcome_code: {code}")),
                (_, None) => out.line("no welcome_code: the customer is in a session, or was welcomed in the last 48 h"),
            }
        }
        SandboxCommand::Inbox {
            external_userid,
            open_kfid,
        } => inbox(global, &external_userid, &open_kfid).await,
        SandboxCommand::Chat { exec, account } => chat(global, exec, account).await,
        SandboxCommand::Console {
            listen,
            exec,
            no_bot,
        } => console(&listen, exec, no_bot).await,
        SandboxCommand::Routing { open_kfid, mode } => {
            let sandbox = start_sandbox().await?;
            sandbox
                .emulator()
                .route_to_servicers(&open_kfid, matches!(mode, RoutingMode::Servicers))
                .map_err(|r| refused(&r))?;
            Output::new(global.format).line(format!("{open_kfid}: new sessions go to {mode:?}"))
        }
    }
}

async fn demo(global: &Global) -> Result<(), CliError> {
    let sandbox = start_sandbox().await?;
    let client = sandbox_client(&sandbox, Client::builder())?;
    let out = Output::new(global.format);
    let accounts = client.account();
    let step = |n: u8, text: &str| out.line(format!("\n[{n}/7] {text}"));

    let before: Vec<_> = accounts.list_all().try_collect().await?;
    out.line(format!(
        "sandbox: {} (emulator at {})",
        sandbox_db()?.display(),
        sandbox.base_url()
    ))?;
    out.line(format!(
        "{} account(s) kept from earlier runs",
        before.len()
    ))?;

    step(1, "upload an avatar and create an account")?;
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("avatar.png", wecom_kf_emulator::DEFAULT_AVATAR_PNG),
        )
        .await?;
    let name = format!("演示客服{}", before.len() + 1);
    let open_kfid = accounts.add(&name, &avatar.media_id).await?;
    out.line(format!("created {name}: {open_kfid}"))?;

    step(2, "list every account")?;
    super::account::print(&out, &accounts.list_all().try_collect::<Vec<_>>().await?)?;

    step(3, "rename it")?;
    let renamed = format!("{name}号");
    accounts
        .update(UpdateAccount::new(&open_kfid).name(&renamed))
        .await?;
    out.line(format!("{name} → {renamed}"))?;

    step(4, "get its contact link for a campaign scene")?;
    out.line(
        accounts
            .contact_link(&open_kfid, Some("sandbox_demo"))
            .await?,
    )?;

    step(5, "create a temporary account and delete it")?;
    let temporary = accounts.add("临时客服", &avatar.media_id).await?;
    accounts.delete(&temporary).await?;
    out.line(format!("created and deleted {temporary}"))?;

    step(6, "what persists")?;
    let after: Vec<_> = accounts.list_all().try_collect().await?;
    super::account::print(&out, &after)?;
    out.line(format!(
        "\n{} account(s) now; run `wecom-kf sandbox demo` again and they are still there.",
        after.len()
    ))?;
    step(
        7,
        "a customer writes, and a bot answers through a signed callback",
    )?;
    let lines = futures_util::stream::iter(["你好，我想查一下我的订单".to_owned()]);
    conversation(
        &sandbox,
        &client,
        &open_kfid,
        super::bot::Sink::Echo,
        lines,
        &out,
    )
    .await?;
    out.line("\nYour turn: wecom-kf sandbox chat   |   wecom-kf sandbox console (in a browser)   |   wecom-kf --sandbox account list --format json   |   wecom-kf sandbox reset")?;
    Ok(())
}

/// The sandbox's client and an account to talk to (the given one, the first one, or a
/// new one).
async fn chat_account(client: &Client, account: Option<String>) -> Result<String, CliError> {
    if let Some(account) = account {
        return Ok(account);
    }
    let existing: Vec<_> = client.account().list_all().try_collect().await?;
    if let Some(first) = existing
        .into_iter()
        .find(|a| a.manage_privilege != Some(false))
    {
        return Ok(first.open_kfid);
    }
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("avatar.png", wecom_kf_emulator::DEFAULT_AVATAR_PNG),
        )
        .await?;
    Ok(client.account().add("客服", &avatar.media_id).await?)
}

/// The sandbox's bot: a receiver the embedded emulator pushes to and a consumer that
/// hands each message to `sink`, its state beside the sandbox's database.
async fn sandbox_bot(
    sandbox: &wecom_kf_emulator::Running,
    client: &Client,
    sink: super::bot::Sink,
) -> Result<super::bot::Pipeline, CliError> {
    let mut store_path = sandbox_db()?;
    store_path.set_file_name("sandbox-consumer.db");
    let mut config = wecom_kf::consumer::ConsumerConfig::default();
    config.poll_interval = std::time::Duration::from_secs(5);
    let parts = super::bot::Parts {
        client: client.clone(),
        sandbox: Some(sandbox),
        crypto: super::bot::sandbox_crypto()?,
        listen: "127.0.0.1:0",
        path: "/callback",
        sink,
        config,
        batch: 1,
        announce: false,
        media_dir: None,
    };
    super::bot::start(parts, super::bot::open_store(&store_path)?).await
}

/// A customer's conversation with the bot, through the whole loop: each line is sent
/// by the customer, and what the customer then sees is printed, with the session's
/// state when it changes.
async fn conversation(
    sandbox: &wecom_kf_emulator::Running,
    client: &Client,
    open_kfid: &str,
    sink: super::bot::Sink,
    lines: impl futures_util::Stream<Item = String>,
    out: &Output,
) -> Result<(), CliError> {
    let em = sandbox.emulator();
    let customer = em.add_customer("你").map_err(|r| refused(&r))?;
    let pipeline = sandbox_bot(sandbox, client, sink).await?;
    let mut state = None;
    let mut seen = 0;
    let mut lines = std::pin::pin!(lines);
    while let Some(line) = futures_util::StreamExt::next(&mut lines).await {
        let line = line.trim().to_owned();
        if line.is_empty() {
            break;
        }
        out.line(format!("你: {line}"))?;
        em.customer_says(&customer, open_kfid, &line)
            .map_err(|r| refused(&r))?;
        // Bounded: the answer comes through the callback in milliseconds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let inbox = em.inbox(&customer, open_kfid).map_err(|r| refused(&r))?;
            if inbox.len() > seen || std::time::Instant::now() > deadline {
                for m in &inbox[seen..] {
                    out.line(format!("客服: {}", said(m)))?;
                }
                if inbox.len() == seen {
                    out.line("(no answer within 10 s)")?;
                }
                seen = inbox.len();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let now = client
            .session()
            .get(open_kfid, &customer)
            .await?
            .service_state;
        if state != Some(now) {
            out.line(format!("  [session: {now}]"))?;
            state = Some(now);
        }
    }
    pipeline.stop().await
}

async fn chat(
    global: &Global,
    exec: Option<String>,
    account: Option<String>,
) -> Result<(), CliError> {
    let sandbox = start_sandbox().await?;
    let client = sandbox_client(&sandbox, Client::builder())?;
    let open_kfid = chat_account(&client, account).await?;
    let out = Output::new(global.format);
    eprintln!(
        "You are a customer writing to {open_kfid}; the bot is {}. An empty line or Ctrl-D ends.",
        exec.as_deref().unwrap_or("an echo bot")
    );
    let sink = exec.map_or(super::bot::Sink::Echo, |cmd| {
        super::bot::Sink::Exec(cmd, super::bot::DEFAULT_HANDLER_TIMEOUT)
    });
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let lines = futures_util::stream::unfold(stdin, |mut stdin| async move {
        use tokio::io::AsyncBufReadExt as _;
        let mut line = String::new();
        match stdin.read_line(&mut line).await {
            Ok(0) | Err(_) => None,
            Ok(_) => Some((line, stdin)),
        }
    });
    conversation(&sandbox, &client, &open_kfid, sink, lines, &out).await
}

/// `sandbox console`: the sandbox's emulator on `listen`, an account to play with, a bot
/// unless `no_bot`, until Ctrl-C or SIGTERM.
async fn console(listen: &str, exec: Option<String>, no_bot: bool) -> Result<(), CliError> {
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|e| CliError::Usage(format!("--listen must be IP:PORT, got {listen:?}: {e}")))?;
    let sandbox = super::super::context::start_sandbox_on(addr).await?;
    let client = sandbox_client(&sandbox, Client::builder())?;
    let open_kfid = chat_account(&client, None).await?;
    let pipeline = if no_bot {
        None
    } else {
        let sink = exec.map_or(super::bot::Sink::Echo, |cmd| {
            super::bot::Sink::Exec(cmd, super::bot::DEFAULT_HANDLER_TIMEOUT)
        });
        Some(sandbox_bot(&sandbox, &client, sink).await?)
    };
    println!("console: {}/__emulator/console", sandbox.base_url());
    eprintln!(
        "The sandbox's emulator is at {} (account {open_kfid}); {}. Ctrl-C stops.",
        sandbox.base_url(),
        if pipeline.is_some() {
            "a bot answers each customer message"
        } else {
            "no bot runs: answer with your own app"
        }
    );
    super::bot::terminated().await;
    if let Some(pipeline) = pipeline {
        pipeline.stop().await?;
    }
    sandbox.shutdown().await;
    Ok(())
}

/// `sandbox inbox`: what a customer saw from an account.
async fn inbox(global: &Global, external_userid: &str, open_kfid: &str) -> Result<(), CliError> {
    let sandbox = start_sandbox().await?;
    let messages = sandbox
        .emulator()
        .inbox(external_userid, open_kfid)
        .map_err(|r| refused(&r))?;
    let out = Output::new(global.format);
    if global.format == Format::Json {
        return out.json(&messages);
    }
    for m in &messages {
        let kind = m["msgtype"].as_str().unwrap_or_default();
        let what = said(m);
        let from = m["servicer_userid"].as_str().unwrap_or("app");
        let recalled = if m["recalled"] == true {
            " (recalled)"
        } else {
            ""
        };
        out.line(format!("{from}: [{kind}] {what}{recalled}"))?;
    }
    Ok(())
}
