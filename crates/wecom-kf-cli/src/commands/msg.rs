//! `wecom-kf msg sync|send|welcome|recall`: read an account's messages as JSON Lines,
//! and answer customers.
//!
//! `msg sync` writes one message or event per line, in the wire shape of `kf/sync_msg`,
//! and with `--cursor-file` saves the cursor after each page, once its lines are
//! written: a run stopped at any point resumes after the last page it finished.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use futures_util::TryStreamExt;
use serde_json::json;
use wecom_kf::types::kf::message::{Content, Link, Location, Media, Menu};
use wecom_kf::types::kf::send_msg::{SendMsg, validate_url};
use wecom_kf::types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
use wecom_kf::types::kf::sync_msg::SyncMsg;
use wecom_kf::types::media::MediaType;

use crate::context::Context;
use crate::error::CliError;
use crate::output::Format;

/// Message commands.
#[derive(Subcommand, Debug)]
pub enum MsgCommand {
    /// Read an account's messages and events as JSON Lines (kf/sync_msg), from the
    /// saved cursor to the end, or on and on with --follow.
    #[command(
        after_help = "Examples:\n  wecom-kf msg sync wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --cursor-file kf.cursor\n  wecom-kf msg sync wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --cursor-file kf.cursor --follow | jq -c 'select(.origin == 3)'"
    )]
    Sync {
        /// The account.
        open_kfid: String,
        /// Read the cursor from this file (if it exists) and save it after each page.
        #[arg(long, value_name = "FILE")]
        cursor_file: Option<PathBuf>,
        /// Keep reading: poll for new messages until interrupted (Ctrl-C).
        #[arg(long)]
        follow: bool,
        /// Seconds between polls with --follow.
        #[arg(long, default_value_t = 2, value_name = "SECS")]
        interval: u64,
        /// The Token of a kf_msg_or_event callback (valid 10 minutes).
        #[arg(long)]
        token: Option<String>,
        /// Messages per page (1 to 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Save each message's image, voice, video or file in DIR/MSGID/ under the
        /// sender's file name, and name it in the message's line as "path". A page's
        /// cursor is saved only once its media are.
        #[arg(long, value_name = "DIR")]
        download: Option<PathBuf>,
    },
    /// Send a message to a customer (kf/send_msg); prints its msgid.
    #[command(
        after_help = "Examples:\n  wecom-kf msg send wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw wmAJ2GCAAAme1XQRC --text '您好，请问有什么可以帮您？'\n  wecom-kf msg send KFID CUSTOMER --image photo.png\n  wecom-kf msg send KFID CUSTOMER --link https://work.weixin.qq.com --title 帮助中心 --thumb cover.png\n  wecom-kf msg send KFID CUSTOMER --menu menu.json\n  wecom-kf msg send KFID CUSTOMER --location 23.1,113.3 --name 广州塔\n\nmenu.json: {\"head_content\":\"满意吗？\",\"list\":[{\"type\":\"click\",\"click\":{\"id\":\"1\",\"content\":\"满意\"}}]}"
    )]
    Send {
        /// The account.
        open_kfid: String,
        /// The customer.
        external_userid: String,
        #[command(flatten)]
        what: Box<What>,
        #[command(flatten)]
        details: Box<Details>,
        /// A msgid of ours (≤ 32 bytes of [0-9a-zA-Z_-]); one is made up otherwise.
        #[arg(long)]
        msgid: Option<String>,
    },
    /// Send the one message an event's code allows (kf/send_msg_on_event): a welcome
    /// (the enter_session welcome_code), or with --scenario a queue, taken or end note.
    #[command(
        after_help = "Examples:\n  wecom-kf msg welcome CODE --text '欢迎光临，有什么可以帮您？'\n  wecom-kf msg welcome CODE --scenario end --menu survey.json"
    )]
    Welcome {
        /// The welcome_code or msg_code.
        // Codes are `[0-9A-Za-z_-]`: one may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        code: String,
        /// The text.
        #[arg(long, conflicts_with = "menu", required_unless_present = "menu")]
        text: Option<String>,
        /// A menu message, as JSON (welcome and end only).
        #[arg(long, value_name = "FILE")]
        menu: Option<PathBuf>,
        /// Which event the code came from.
        #[arg(long, value_enum, default_value_t = Scenario::Welcome)]
        scenario: Scenario,
    },
    /// Recall a message the app sent, within 2 minutes (kf/recall_msg).
    #[command(
        after_help = "Example:\n  wecom-kf msg recall wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw MSGID"
    )]
    Recall {
        /// The account.
        open_kfid: String,
        /// The msgid kf/send_msg answered.
        msgid: String,
    },
}

/// What to send: exactly one.
#[derive(Args, Debug)]
#[group(required = true, multiple = false, id = "content")]
pub struct What {
    /// A text (≤ 2048 bytes).
    #[arg(long)]
    text: Option<String>,
    /// An image file, uploaded first.
    #[arg(long, value_name = "PATH")]
    image: Option<PathBuf>,
    /// A voice file (AMR), uploaded first.
    #[arg(long, value_name = "PATH")]
    voice: Option<PathBuf>,
    /// A video file (MP4), uploaded first.
    #[arg(long, value_name = "PATH")]
    video: Option<PathBuf>,
    /// Any file, uploaded first.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// A link card to this URL; needs --title and --thumb.
    #[arg(long, value_name = "URL", requires_all = ["title", "thumb"])]
    link: Option<String>,
    /// A menu message, as JSON: {"head_content", "list", "tail_content"}.
    #[arg(long, value_name = "FILE")]
    menu: Option<PathBuf>,
    /// A place: LATITUDE,LONGITUDE (with --name and --address).
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    location: Option<String>,
}

/// The details of a link or a place.
#[derive(Args, Debug)]
pub struct Details {
    /// The link's title.
    #[arg(long, requires = "link")]
    title: Option<String>,
    /// The link's description.
    #[arg(long, requires = "link")]
    desc: Option<String>,
    /// The link's cover image, uploaded first.
    #[arg(long, value_name = "PATH", requires = "link")]
    thumb: Option<PathBuf>,
    /// The place's name.
    #[arg(long, requires = "location")]
    name: Option<String>,
    /// The place's address.
    #[arg(long, requires = "location")]
    address: Option<String>,
}

/// `--scenario`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Scenario {
    /// enter_session's welcome_code: text or menu, 20 s.
    Welcome,
    /// A move to the queue: text, while queued.
    Queued,
    /// Taken by a servicer: text, while served.
    Taken,
    /// An end: text or menu, 20 s.
    End,
}

fn read_menu(path: &Path) -> Result<Content, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    let menu: Menu = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(format!(
            "{} is not a menu message ({{\"head_content\", \"list\", \"tail_content\"}}): {e}",
            path.display()
        ))
    })?;
    Ok(Content::Menu(menu))
}

fn parse_location(text: &str) -> Result<(f64, f64), CliError> {
    let bad = || {
        CliError::Input(format!(
            "--location must be LATITUDE,LONGITUDE (e.g. 23.1,113.3), got {text:?}"
        ))
    };
    let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
    Ok((
        lat.trim().parse().map_err(|_| bad())?,
        lon.trim().parse().map_err(|_| bad())?,
    ))
}

/// The content the flags ask for: local checks first, then the uploads it needs.
async fn content(ctx: &Context, what: What, details: Details) -> Result<Content, CliError> {
    let upload = |kind: MediaType, path: PathBuf| async move {
        let media = ctx.client.media().upload_path(kind, &path).await?;
        Ok::<_, CliError>(media.media_id)
    };
    if let Some(text) = what.text {
        return Ok(Content::text(text));
    }
    if let Some(path) = what.menu {
        return read_menu(&path);
    }
    if let Some(place) = what.location {
        let (lat, lon) = parse_location(&place)?;
        let place = Location::new(lat, lon).named(
            details.name.unwrap_or_default(),
            details.address.unwrap_or_default(),
        );
        return Ok(Content::Location(place));
    }
    if let Some(url) = what.link {
        validate_url("link.url", &url).map_err(wecom_kf::Error::from)?;
        let thumb = upload(MediaType::Image, details.thumb.unwrap_or_default()).await?;
        let link = Link::new(details.title.unwrap_or_default(), url, thumb)
            .desc(details.desc.unwrap_or_default());
        return Ok(Content::Link(link));
    }
    let (kind, path, wrap): (MediaType, PathBuf, fn(Media) -> Content) =
        match (what.image, what.voice, what.video, what.file) {
            (Some(p), ..) => (MediaType::Image, p, Content::Image),
            (_, Some(p), ..) => (MediaType::Voice, p, Content::Voice),
            (_, _, Some(p), _) => (MediaType::Video, p, Content::Video),
            (.., Some(p)) => (MediaType::File, p, Content::File),
            _ => return Err(CliError::Usage("say what to send".into())),
        };
    Ok(wrap(Media::new(upload(kind, path).await?)))
}

fn print_sent(ctx: &Context, msgid: &str) -> Result<(), CliError> {
    match ctx.out.format {
        Format::Json => ctx.out.json(&json!({ "msgid": msgid })),
        Format::Csv => ctx.out.line(format!("msgid\n{msgid}")),
        Format::Table => ctx.out.line(format!("sent: {msgid}")),
    }
}

/// Write the cursor so that a crash leaves the old one or the new one, never half. It
/// reads the customers' messages, so it is created 0600 like the other files holding
/// customer data: a leftover temporary file (maybe wider) goes first, so the one renamed
/// into place is always new.
fn save_cursor(path: &Path, cursor: &str) -> Result<(), CliError> {
    let tmp = path.with_extension("tmp");
    let remove_stale = match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    remove_stale
        .and_then(|()| wecom_kf::private_file::create(&tmp))
        .and_then(|()| std::fs::write(&tmp, cursor))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CliError::Config(format!("cannot save the cursor to {}: {e}", path.display())))
}

fn load_cursor(path: &Path) -> Result<Option<String>, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|c| !c.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::Config(format!(
            "cannot read the cursor file {}: {e}",
            path.display()
        ))),
    }
}

/// Read from `cursor` to the end, printing each message, saving the cursor after each
/// page; answers the cursor reached.
async fn drain(
    ctx: &Context,
    request: SyncMsg,
    cursor_file: Option<&Path>,
    download: Option<&Path>,
) -> Result<Option<String>, CliError> {
    let mut reached = request.cursor.clone();
    let mut pages = std::pin::pin!(ctx.client.message().pages(request));
    while let Some(page) = pages.try_next().await? {
        for message in &page.msg_list {
            let encode =
                |e: serde_json::Error| CliError::Config(format!("cannot encode a message: {e}"));
            let mut line = serde_json::to_string(message).map_err(encode)?;
            if let (Some(dir), Some((_, media_id))) = (download, message.content.media()) {
                let dir = dir.join(wecom_kf::media::safe_file_name(&message.msgid));
                let saved = ctx.client.media().download_into(media_id, &dir).await?;
                // The message as it came, with "path" last.
                line.pop();
                line.push_str(",\"path\":");
                line.push_str(&serde_json::to_string(&saved.path).map_err(encode)?);
                line.push('}');
            }
            ctx.out.line(line)?;
        }
        if let Some(path) = cursor_file {
            save_cursor(path, &page.next_cursor)?;
        }
        reached = Some(page.next_cursor);
    }
    Ok(reached)
}

pub async fn run(command: MsgCommand, ctx: &Context) -> Result<(), CliError> {
    let api = ctx.client.message();
    match command {
        MsgCommand::Sync {
            open_kfid,
            cursor_file,
            follow,
            interval,
            token,
            limit,
            download,
        } => {
            let mut request = SyncMsg::new(open_kfid);
            request.token = token;
            request.limit = limit;
            if let Some(path) = &cursor_file {
                request.cursor = load_cursor(path)?;
            }
            // Listening from the start: a Ctrl-C during a page lets it finish and its
            // cursor be saved, then stops.
            let (stop, mut interrupted) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    let _ = stop.send(true);
                }
            });
            loop {
                let reached = drain(
                    ctx,
                    request.clone(),
                    cursor_file.as_deref(),
                    download.as_deref(),
                )
                .await?;
                if !follow || *interrupted.borrow() {
                    return Ok(());
                }
                request.cursor = reached;
                // The callback's token is for the first drain; later polls go without.
                request.token = None;
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(interval.max(1))) => {}
                    _ = interrupted.changed() => return Ok(()),
                }
            }
        }
        MsgCommand::Send {
            open_kfid,
            external_userid,
            what,
            details,
            msgid,
        } => {
            let mut request = SendMsg::new(&open_kfid, &external_userid, Content::text("-"));
            request.msgid = msgid;
            // Ids and msgid first, before any upload.
            wecom_kf::types::Endpoint::validate(&request).map_err(wecom_kf::Error::from)?;
            request.content = content(ctx, *what, *details).await?;
            let msgid = api.send_request(request).await?;
            print_sent(ctx, &msgid)
        }
        MsgCommand::Welcome {
            code,
            text,
            menu,
            scenario,
        } => {
            let content = match (text, menu) {
                (Some(text), _) => Content::text(text),
                (None, Some(path)) => read_menu(&path)?,
                (None, None) => return Err(CliError::Usage("give --text or --menu".into())),
            };
            let scenario = match scenario {
                Scenario::Welcome => EventScenario::Welcome,
                Scenario::Queued => EventScenario::Queued,
                Scenario::Taken => EventScenario::Taken,
                Scenario::End => EventScenario::End,
            };
            let msgid = api
                .send_on_event(SendMsgOnEvent::new(code, content).scenario(scenario))
                .await?;
            print_sent(ctx, &msgid)
        }
        MsgCommand::Recall { open_kfid, msgid } => {
            api.recall(&open_kfid, &msgid).await?;
            match ctx.out.format {
                Format::Json => ctx.out.json(&json!({ "recalled": msgid })),
                _ => ctx.out.line(format!("recalled: {msgid}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};

    use super::MsgCommand;

    #[test]
    fn a_code_that_begins_with_a_hyphen_is_the_code_not_a_flag() {
        let cli = Cli::try_parse_from(["wecom-kf", "msg", "welcome", "-_x9Qe", "--text", "hi"])
            .expect("parses");
        match cli.command {
            Command::Msg(MsgCommand::Welcome { code, text, .. }) => {
                assert_eq!(code, "-_x9Qe");
                assert_eq!(text.as_deref(), Some("hi"));
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
