//! `wecom-kf account …`.

mod import;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::json;
use wecom_kf::types::kf::account::{Account, UpdateAccount};
use wecom_kf::types::limits::LIST_LIMIT_MAX;

use crate::context::Context;
use crate::error::{CliError, render_client_error};
use crate::output::{self, Format, Output, Row};

/// An account as the CLI prints it (`--format json|csv`): stable field names, every
/// field always present.
#[derive(Serialize)]
pub struct AccountRow<'a> {
    pub open_kfid: &'a str,
    pub name: &'a str,
    pub avatar: &'a str,
    pub manage_privilege: Option<bool>,
}

impl<'a> From<&'a Account> for AccountRow<'a> {
    fn from(a: &'a Account) -> Self {
        AccountRow {
            open_kfid: &a.open_kfid,
            name: &a.name,
            avatar: &a.avatar,
            manage_privilege: a.manage_privilege,
        }
    }
}

impl Row for AccountRow<'_> {
    const FIELDS: &'static [&'static str] = &["open_kfid", "name", "avatar", "manage_privilege"];
    const COLUMNS: &'static [&'static str] = &["OPEN_KFID", "NAME", "MANAGED", "AVATAR"];
    const NOUN: &'static str = "account";

    fn cells(&self) -> Vec<String> {
        let managed = match self.manage_privilege {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        vec![
            self.open_kfid.to_owned(),
            self.name.to_owned(),
            managed.to_owned(),
            self.avatar.to_owned(),
        ]
    }
}

/// Print accounts in `out`'s format.
pub fn print(out: &Output, accounts: &[Account]) -> Result<(), CliError> {
    out.rows(&accounts.iter().map(AccountRow::from).collect::<Vec<_>>())
}

/// Account commands.
#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// List accounts: one page, or all of them.
    #[command(
        after_help = "Examples:\n  wecom-kf account list\n  wecom-kf account list --all --format json\n  wecom-kf account list --offset 100 --limit 50 --format csv"
    )]
    List {
        /// Every page, not just one.
        #[arg(long, conflicts_with_all = ["offset", "limit"])]
        all: bool,
        /// 0-based offset of the page.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Page size, 1–100.
        #[arg(long, default_value_t = LIST_LIMIT_MAX)]
        limit: u32,
    },
    /// Create an account: uploads the avatar, then adds the account.
    #[command(
        after_help = "Examples:\n  wecom-kf account add --name 售后客服 --avatar avatar.png\n  wecom-kf account add --name 售后客服 --media-id MEDIA_ID --format json"
    )]
    Add {
        /// Name, 1–16 characters.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        avatar: Avatar,
    },
    /// Rename an account and/or change its avatar.
    #[command(
        after_help = "Examples:\n  wecom-kf account update wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --name 值班客服\n  wecom-kf account update wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --avatar new.png"
    )]
    Update {
        /// The account.
        open_kfid: String,
        /// New name, 1–16 characters.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        avatar: OptionalAvatar,
    },
    /// Delete accounts. Asks first on a terminal; elsewhere needs --yes.
    #[command(
        after_help = "Examples:\n  wecom-kf account delete wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw\n  wecom-kf account delete wkA… wkB… --yes"
    )]
    Delete {
        /// The accounts.
        #[arg(required = true)]
        open_kfids: Vec<String>,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Print the link customers open to chat with an account.
    #[command(
        after_help = "Examples:\n  wecom-kf account link wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw\n  wecom-kf account link wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --scene spring_sale --qr"
    )]
    Link {
        /// The account.
        open_kfid: String,
        /// Scene, ≤ 32 bytes of [0-9a-zA-Z_-]; you may then append &scene_param=… to the link.
        #[arg(long)]
        scene: Option<String>,
        /// Also draw the link as a QR code.
        #[arg(long)]
        qr: bool,
    },
    /// Create accounts from a CSV (name,avatar) or JSON ([{"name","avatar"}]) file.
    /// Existing names are skipped, so it can be re-run after a failure.
    #[command(
        after_help = "Examples:\n  wecom-kf account import accounts.csv\n  wecom-kf account import accounts.json --format json\n\nCSV:\n  name,avatar\n  售前咨询,avatars/presale.png\n\nAvatar paths are relative to the file."
    )]
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Print every account (JSON unless --format csv).
    #[command(
        after_help = "Examples:\n  wecom-kf account export > accounts.json\n  wecom-kf account export --format csv > accounts.csv"
    )]
    Export,
}

/// `--avatar FILE | --media-id ID`, one required.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Avatar {
    /// Image file (JPG or PNG, ≤ 10 MB) to upload as the avatar.
    #[arg(long)]
    avatar: Option<PathBuf>,
    /// An uploaded image's media_id.
    #[arg(long)]
    media_id: Option<String>,
}

/// `[--avatar FILE | --media-id ID]`.
#[derive(Args, Debug)]
#[group(required = false, multiple = false)]
pub struct OptionalAvatar {
    /// Image file (JPG or PNG, ≤ 10 MB) to upload as the new avatar.
    #[arg(long)]
    avatar: Option<PathBuf>,
    /// An uploaded image's media_id.
    #[arg(long)]
    media_id: Option<String>,
}

pub async fn run(command: AccountCommand, ctx: &Context) -> Result<(), CliError> {
    match command {
        AccountCommand::List { all, offset, limit } => {
            let accounts = ctx.client.account();
            let list = if all {
                accounts.list_all().try_collect().await?
            } else {
                accounts.list(offset, limit).await?
            };
            print(&ctx.out, &list)
        }
        AccountCommand::Export => {
            let list: Vec<_> = ctx.client.account().list_all().try_collect().await?;
            let format = if ctx.out.format == Format::Csv {
                Format::Csv
            } else {
                Format::Json
            };
            print(
                &Output {
                    format,
                    fancy: false,
                },
                &list,
            )
        }
        AccountCommand::Add { name, avatar } => add(ctx, name, avatar).await,
        AccountCommand::Update {
            open_kfid,
            name,
            avatar,
        } => update(ctx, open_kfid, name, avatar).await,
        AccountCommand::Delete { open_kfids, yes } => delete(ctx, &open_kfids, yes).await,
        AccountCommand::Link {
            open_kfid,
            scene,
            qr,
        } => link(ctx, &open_kfid, scene.as_deref(), qr).await,
        AccountCommand::Import { file } => import::run(ctx, &file).await,
    }
}

async fn add(ctx: &Context, name: String, avatar: Avatar) -> Result<(), CliError> {
    let accounts = ctx.client.account();
    let open_kfid = match (avatar.avatar, avatar.media_id) {
        (Some(path), _) => accounts.add_with_avatar(&name, path).await?,
        (None, media_id) => accounts.add(&name, media_id.unwrap_or_default()).await?,
    };
    match ctx.out.format {
        Format::Table => ctx.out.line(format!("created {name}: {open_kfid}")),
        Format::Json => ctx.out.json(&json!({ "open_kfid": open_kfid })),
        Format::Csv => ctx.out.line(format!("open_kfid\n{open_kfid}")),
    }
}

async fn update(
    ctx: &Context,
    open_kfid: String,
    name: Option<String>,
    avatar: OptionalAvatar,
) -> Result<(), CliError> {
    if name.is_none() && avatar.avatar.is_none() && avatar.media_id.is_none() {
        return Err(CliError::Usage(
            "nothing to change: give --name, --avatar or --media-id".into(),
        ));
    }
    let mut request = UpdateAccount::new(&open_kfid);
    request.name = name;
    let accounts = ctx.client.account();
    if let Some(path) = avatar.avatar {
        accounts.update_with_avatar(request, path).await?;
    } else {
        request.media_id = avatar.media_id;
        accounts.update(request).await?;
    }
    match ctx.out.format {
        Format::Json => ctx
            .out
            .json(&json!({ "open_kfid": open_kfid, "updated": true })),
        _ => ctx.out.line(format!("updated {open_kfid}")),
    }
}

async fn delete(ctx: &Context, open_kfids: &[String], yes: bool) -> Result<(), CliError> {
    if !yes {
        confirm(open_kfids)?;
    }
    let out = &ctx.out;
    let mut results = Vec::new();
    let mut failed = 0;
    for open_kfid in open_kfids {
        match ctx.client.account().delete(open_kfid).await {
            Ok(()) => {
                if out.format != Format::Json {
                    out.line(format!("deleted {open_kfid}"))?;
                }
                results.push(json!({ "open_kfid": open_kfid, "deleted": true }));
            }
            // One account: its error is the command's error, with its own exit code.
            Err(err) if open_kfids.len() == 1 => return Err(err.into()),
            Err(err) => {
                failed += 1;
                eprintln!("{open_kfid}: {}", render_client_error(&err));
                results.push(
                    json!({ "open_kfid": open_kfid, "deleted": false, "error": err.to_string() }),
                );
            }
        }
    }
    if out.format == Format::Json {
        out.json(&results)?;
    }
    if failed > 0 {
        Err(CliError::Partial { failed })
    } else {
        Ok(())
    }
}

async fn link(
    ctx: &Context,
    open_kfid: &str,
    scene: Option<&str>,
    qr: bool,
) -> Result<(), CliError> {
    let url = ctx.client.account().contact_link(open_kfid, scene).await?;
    match ctx.out.format {
        Format::Json => ctx
            .out
            .json(&json!({ "open_kfid": open_kfid, "url": url }))?,
        _ => ctx.out.line(&url)?,
    }
    if qr {
        use qrcode::render::unicode::Dense1x2;
        let code = qrcode::QrCode::new(url.as_bytes())
            .map_err(|e| CliError::Input(format!("cannot draw a QR code: {e}")))?;
        // Light modules drawn dark: scannable on a dark terminal background.
        let drawing = code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build();
        // With JSON on stdout, keep stdout parseable: the drawing goes to stderr.
        if ctx.out.format == Format::Json {
            eprintln!("{drawing}");
        } else {
            ctx.out.line(drawing)?;
        }
    }
    Ok(())
}

/// Ask on a terminal; refuse without one.
fn confirm(open_kfids: &[String]) -> Result<(), CliError> {
    if !output::stdin_is_terminal() {
        return Err(CliError::Usage(
            "refusing to delete without --yes: stdin is not a terminal, so nobody can confirm"
                .into(),
        ));
    }
    eprint!(
        "Delete {} account(s): {}? [y/N] ",
        open_kfids.len(),
        open_kfids.join(", ")
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Usage(format!("cannot read the answer: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES") {
        Ok(())
    } else {
        Err(CliError::Usage("not confirmed; nothing was deleted".into()))
    }
}
