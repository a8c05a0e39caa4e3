//! `wecom-kf session get|to-bot|to-queue|end|assign|diagnose OPEN_KFID EXTERNAL_USERID`.
//!
//! A refused move or send of the session family is followed by its diagnosis: the
//! session's state, why, and what to do.

use clap::{Args, Subcommand};
use serde::Serialize;
use wecom_kf::Error;
use wecom_kf::kf::service_state::{DIAGNOSED, Diagnosis, Moved};
use wecom_kf::types::ErrCode;
use wecom_kf::types::kf::service_state::ServiceStateInfo;

use crate::context::Context;
use crate::error::{CliError, render_client_error};
use crate::output::Format;

/// Session commands.
#[derive(Subcommand, Debug)]
pub enum SessionCommand {
    /// Where the session stands: 0 new, 1 bot, 2 queued, 3 human, 4 ended.
    #[command(
        after_help = "Example:\n  wecom-kf session get wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"
    )]
    Get(Session),
    /// Hand the session to the bot (the API): → 1.
    ToBot(Session),
    /// Put the session in the queue for a servicer: → 2.
    ToQueue(Session),
    /// End the session: → 4 (prints the end msg_code for kf/send_msg_on_event).
    End(Session),
    /// Give the session to a serving servicer: → 3 (from 3, a transfer).
    #[command(
        after_help = "Example:\n  wecom-kf session assign wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw --servicer zhangsan"
    )]
    Assign {
        #[command(flatten)]
        session: Session,
        /// The servicer's userid.
        #[arg(long, value_name = "USERID")]
        servicer: String,
    },
    /// Explain an errcode of the session family (95018, 95001, 95002, 95013, 95014,
    /// 95016, 95019, 95031) from the session's state now.
    #[command(
        after_help = "Example:\n  wecom-kf session diagnose wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw --errcode 95018"
    )]
    Diagnose {
        #[command(flatten)]
        session: Session,
        /// The errcode to explain.
        #[arg(long)]
        errcode: i64,
    },
}

/// Whose session.
#[derive(Args, Debug)]
pub struct Session {
    /// The account.
    open_kfid: String,
    /// The customer.
    external_userid: String,
}

#[derive(Serialize)]
struct StateJson<'a> {
    service_state: u8,
    name: &'static str,
    servicer_userid: Option<&'a str>,
}

fn state_json(info: &ServiceStateInfo) -> StateJson<'_> {
    StateJson {
        service_state: info.service_state.number(),
        name: info.service_state.names().1,
        servicer_userid: info.servicer_userid.as_deref(),
    }
}

fn print_state(ctx: &Context, info: &ServiceStateInfo) -> Result<(), CliError> {
    match ctx.out.format {
        Format::Json => ctx.out.json(&state_json(info)),
        Format::Csv => {
            let servicer = info.servicer_userid.as_deref().unwrap_or_default();
            let name = info.service_state.names().1;
            ctx.out.line(format!(
                "service_state,name,servicer_userid\n{},{name},{servicer}",
                info.service_state.number()
            ))
        }
        Format::Table => match &info.servicer_userid {
            Some(servicer) => ctx.out.line(format!(
                "state {}, served by {servicer}",
                info.service_state
            )),
            None => ctx.out.line(format!("state {}", info.service_state)),
        },
    }
}

fn print_moved(ctx: &Context, moved: &Moved) -> Result<(), CliError> {
    let code = moved.msg_code.as_deref().unwrap_or_default();
    match ctx.out.format {
        Format::Json => ctx.out.json(&serde_json::json!({
            "from": moved.from.number(),
            "to": moved.to.number(),
            "msg_code": moved.msg_code,
        })),
        Format::Csv => ctx.out.line(format!(
            "from,to,msg_code\n{},{},{code}",
            moved.from.number(),
            moved.to.number()
        )),
        Format::Table => {
            ctx.out
                .line(format!("moved: {} → {}", moved.from, moved.to))?;
            if !code.is_empty() {
                ctx.out
                    .line(format!("msg_code (for kf/send_msg_on_event): {code}"))?;
            }
            Ok(())
        }
    }
}

fn print_diagnosis(ctx: &Context, diagnosis: &Diagnosis) -> Result<(), CliError> {
    if ctx.out.format == Format::Json {
        return ctx.out.json(&serde_json::json!({
            "errcode": diagnosis.code.get(),
            "state": diagnosis.state.as_ref().map(state_json),
            "cause": diagnosis.cause,
            "action": diagnosis.action,
        }));
    }
    ctx.out.line(diagnosis)
}

/// A move, and on a refusal of the session family, the error and then its diagnosis
/// (on stderr, like the error).
async fn moved(
    ctx: &Context,
    session: &Session,
    result: Result<Moved, Error>,
) -> Result<(), CliError> {
    match result {
        Ok(moved) => print_moved(ctx, &moved),
        Err(err) => {
            let code = err.api_code().filter(|c| DIAGNOSED.contains(c));
            if let Some(code) = code {
                let diagnosis = ctx
                    .client
                    .session()
                    .diagnose(&session.open_kfid, &session.external_userid, code)
                    .await;
                eprintln!("{}\n\ndiagnosis: {diagnosis}", render_client_error(&err));
                return Err(CliError::Reported(Box::new(err)));
            }
            Err(err.into())
        }
    }
}

pub async fn run(command: SessionCommand, ctx: &Context) -> Result<(), CliError> {
    let api = ctx.client.session();
    match command {
        SessionCommand::Get(s) => {
            let info = api.get(&s.open_kfid, &s.external_userid).await?;
            print_state(ctx, &info)
        }
        SessionCommand::ToBot(s) => {
            let result = api.to_bot(&s.open_kfid, &s.external_userid).await;
            moved(ctx, &s, result).await
        }
        SessionCommand::ToQueue(s) => {
            let result = api.to_queue(&s.open_kfid, &s.external_userid).await;
            moved(ctx, &s, result).await
        }
        SessionCommand::End(s) => {
            let result = api.end(&s.open_kfid, &s.external_userid).await;
            moved(ctx, &s, result).await
        }
        SessionCommand::Assign { session, servicer } => {
            let result = api
                .assign(&session.open_kfid, &session.external_userid, &servicer)
                .await;
            moved(ctx, &session, result).await
        }
        SessionCommand::Diagnose { session, errcode } => {
            let code = ErrCode(errcode);
            if !DIAGNOSED.contains(&code) {
                let known: Vec<String> = DIAGNOSED.iter().map(|c| c.get().to_string()).collect();
                return Err(CliError::Input(format!(
                    "--errcode {errcode} is not of the session family; give one of {}",
                    known.join(", ")
                )));
            }
            let diagnosis = api
                .diagnose(&session.open_kfid, &session.external_userid, code)
                .await;
            print_diagnosis(ctx, &diagnosis)
        }
    }
}
