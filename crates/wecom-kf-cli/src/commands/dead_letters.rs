//! `wecom-kf dead-letters list|show|retry|drop`: the messages that failed every
//! attempt, in serve's store, seen and sent through again.

use clap::{Args, Subcommand};
use serde::Serialize;
use wecom_kf::consumer::{DeadLetter, Store};
use wecom_kf::types::kf::message::Message;

use super::bot::{DEFAULT_HANDLER_TIMEOUT, Sink, handle_once, webhook_client};
use super::serve::HandlerArgs;
use crate::config::{ServeSettings, config_path, load_profile};
use crate::context::Context;
use crate::error::CliError;
use crate::options::Global;
use crate::output::Row;

/// Which store: the same as serve's.
#[derive(Args, Debug)]
pub struct StoreArg {
    /// serve's store: sqlite:PATH or redis://… (default: as serve, from
    /// WECOM_KF_SERVE_STORE, the profile's serve table, or the data directory).
    #[arg(
        long,
        env = "WECOM_KF_SERVE_STORE",
        hide_env_values = true,
        value_name = "sqlite:PATH|redis://…",
        global = true
    )]
    store: Option<String>,
}

/// `dead-letters …`.
#[derive(Args, Debug)]
pub struct DeadLettersCommand {
    #[command(flatten)]
    store: StoreArg,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// The dead letters, oldest first: account, msgid, attempts, when, last error.
    List,
    /// One dead letter in full, the message included (JSON).
    Show {
        /// The message's msgid.
        msgid: String,
    },
    /// Hand the message to the bot again; on success the letter is removed.
    #[command(
        mut_arg("exec", |a| a.help("Run this for the message (`sh -c`), as serve --exec does")),
        mut_arg("webhook", |a| a.help("POST the message here, as serve --webhook does"))
    )]
    Retry {
        /// The message's msgid (or --all).
        #[arg(required_unless_present = "all")]
        msgid: Option<String>,
        /// Every dead letter, oldest first.
        #[arg(long, conflicts_with = "msgid")]
        all: bool,
        /// The bot, as serve's.
        #[command(flatten)]
        handler: HandlerArgs,
    },
    /// Remove a dead letter for good.
    Drop {
        /// The message's msgid.
        msgid: String,
    },
}

#[derive(Serialize)]
struct LetterRow {
    open_kfid: String,
    msgid: String,
    attempts: u32,
    at: i64,
    error: String,
}

impl Row for LetterRow {
    const FIELDS: &'static [&'static str] = &["open_kfid", "msgid", "attempts", "at", "error"];
    const COLUMNS: &'static [&'static str] = &["ACCOUNT", "MSGID", "ATTEMPTS", "AT", "ERROR"];
    const NOUN: &'static str = "dead letter";
    fn cells(&self) -> Vec<String> {
        vec![
            self.open_kfid.clone(),
            self.msgid.clone(),
            self.attempts.to_string(),
            self.at.to_string(),
            self.error.clone(),
        ]
    }
}

pub async fn run(command: DeadLettersCommand, global: &Global) -> Result<(), CliError> {
    let file = match config_path() {
        Some(path) => load_profile(&path, &global.profile)?.serve,
        None => ServeSettings::default(),
    };
    let spec = command.store.store.or_else(|| file.store.clone());
    match spec.as_deref() {
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = wecom_kf::consumer::RedisStore::open(url, "wecom-kf")
                .map_err(|e| CliError::Config(format!("--store: {e}")))?;
            act(command.action, &store, &file, global).await
        }
        spec => {
            let path = super::serve::store_path(spec)?;
            if !path.exists() {
                return Err(CliError::Config(format!(
                    "no store at {} (serve has not run with it)",
                    path.display()
                )));
            }
            let store = super::bot::open_store(&path)?;
            act(command.action, &store, &file, global).await
        }
    }
}

fn store_error(e: &wecom_kf::consumer::StoreError) -> CliError {
    CliError::Runtime(e.to_string())
}

async fn find(store: &impl Store, msgid: &str) -> Result<DeadLetter, CliError> {
    store
        .dead_letters()
        .await
        .map_err(|e| store_error(&e))?
        .into_iter()
        .find(|l| l.msgid == msgid)
        .ok_or_else(|| CliError::Input(format!("no dead letter with msgid {msgid:?}")))
}

async fn act(
    action: Action,
    store: &impl Store,
    file: &ServeSettings,
    global: &Global,
) -> Result<(), CliError> {
    let out = crate::output::Output::new(global.format);
    match action {
        Action::List => {
            let rows: Vec<LetterRow> = store
                .dead_letters()
                .await
                .map_err(|e| store_error(&e))?
                .into_iter()
                .map(|l| LetterRow {
                    open_kfid: l.open_kfid,
                    msgid: l.msgid,
                    attempts: l.attempts,
                    at: l.at,
                    error: l.error,
                })
                .collect();
            out.rows(&rows)
        }
        Action::Show { msgid } => out.json(&find(store, &msgid).await?),
        Action::Drop { msgid } => {
            let letter = find(store, &msgid).await?;
            store
                .drop_dead_letter(&letter.open_kfid, &letter.msgid)
                .await
                .map_err(|e| store_error(&e))?;
            out.line(format!("dropped {msgid}"))
        }
        Action::Retry {
            msgid,
            all,
            handler: HandlerArgs { exec, webhook },
        } => {
            let letters = if all {
                store.dead_letters().await.map_err(|e| store_error(&e))?
            } else {
                vec![find(store, msgid.as_deref().unwrap_or_default()).await?]
            };
            let ctx = Context::new(global).await?;
            let (exec, webhook) = match (exec, webhook) {
                (None, None) => (file.exec.clone(), file.webhook.clone()),
                given => given,
            };
            // The bot is held to the limit serve would give it.
            let timeout = file
                .handler_timeout
                .map_or(DEFAULT_HANDLER_TIMEOUT, std::time::Duration::from_secs);
            let mut failed = 0;
            for letter in letters {
                let sink = match (&exec, &webhook) {
                    (Some(cmd), _) => Sink::Exec(cmd.clone(), timeout),
                    (None, Some(url)) => Sink::Webhook(
                        url.clone(),
                        webhook_client(timeout).map_err(CliError::Config)?,
                    ),
                    (None, None) => {
                        return Err(CliError::Usage(
                            "retry needs the bot: --exec CMD or --webhook URL (or serve's in the profile)"
                                .into(),
                        ));
                    }
                };
                let message: Message = serde_json::from_str(&letter.message).map_err(|e| {
                    CliError::Input(format!(
                        "dead letter {}: the message does not decode: {e}",
                        letter.msgid
                    ))
                })?;
                match handle_once(ctx.client.clone(), sink, message).await {
                    Ok(()) => {
                        store
                            .drop_dead_letter(&letter.open_kfid, &letter.msgid)
                            .await
                            .map_err(|e| store_error(&e))?;
                        out.line(format!("retried {}: handled", letter.msgid))?;
                    }
                    Err(err) => {
                        failed += 1;
                        eprintln!(
                            "error: retry of {} failed: {err}; it stays a dead letter",
                            letter.msgid
                        );
                    }
                }
            }
            if failed > 0 {
                Err(CliError::Partial { failed })
            } else {
                Ok(())
            }
        }
    }
}
