//! `wecom-kf servicer list|add|remove OPEN_KFID [--user U]… [--department D]…`.

use clap::{Args, Subcommand};
use serde::Serialize;
use wecom_kf::kf::servicer::ServicerChanges;
use wecom_kf::types::kf::servicer::{Servicer, Target};

use crate::context::Context;
use crate::error::CliError;
use crate::output::Row;

/// Servicer commands.
#[derive(Subcommand, Debug)]
pub enum ServicerCommand {
    /// The servicers of an account, with each member's serving status.
    #[command(after_help = "Example:\n  wecom-kf servicer list wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw")]
    List {
        /// The account.
        open_kfid: String,
    },
    /// Make members and departments servicers (any number: sent 100 at a time).
    #[command(
        after_help = "Example:\n  wecom-kf servicer add wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --user zhangsan --user lisi --department 2\n\nEach item is reported: added, already, or failed with its errcode (exit 1 if any failed)."
    )]
    Add(Change),
    /// Stop members and departments from serving an account.
    #[command(
        after_help = "Example:\n  wecom-kf servicer remove wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --user lisi"
    )]
    Remove(Change),
}

/// Who to add or remove.
#[derive(Args, Debug)]
pub struct Change {
    /// The account.
    open_kfid: String,
    /// A member, by userid; repeat for several.
    #[arg(long = "user", value_name = "USERID")]
    users: Vec<String>,
    /// A department, by id; repeat for several.
    #[arg(long = "department", value_name = "ID")]
    departments: Vec<u32>,
}

fn who(target: &Target) -> (&'static str, String) {
    match target {
        Target::User { userid } => ("user", userid.clone()),
        Target::Department { department_id } => ("department", department_id.to_string()),
    }
}

/// A servicer as the CLI prints it.
#[derive(Serialize)]
struct ServicerRow {
    kind: &'static str,
    id: String,
    /// 0 serving, 1 stopped; absent for departments, or without management rights.
    status: Option<u8>,
    /// With status 1: 0 stopped, 1 suspended.
    stop_type: Option<u8>,
}

impl From<&Servicer> for ServicerRow {
    fn from(s: &Servicer) -> Self {
        let (kind, id) = who(&s.target);
        ServicerRow {
            kind,
            id,
            status: s.status,
            stop_type: s.stop_type,
        }
    }
}

impl Row for ServicerRow {
    const FIELDS: &'static [&'static str] = &["kind", "id", "status", "stop_type"];
    const COLUMNS: &'static [&'static str] = &["KIND", "ID", "STATUS"];
    const NOUN: &'static str = "servicer";

    fn cells(&self) -> Vec<String> {
        let status = match (self.status, self.stop_type) {
            (Some(0), _) => "serving (接待中)",
            (Some(_), Some(1)) => "suspended (暂时挂起)",
            (Some(_), _) => "stopped (停止接待)",
            (None, _) => "-",
        };
        vec![self.kind.to_owned(), self.id.clone(), status.to_owned()]
    }
}

/// One item of an add or a removal.
#[derive(Serialize)]
struct ResultRow {
    kind: &'static str,
    id: String,
    result: &'static str,
    errcode: i64,
    errmsg: String,
}

impl Row for ResultRow {
    const FIELDS: &'static [&'static str] = &["kind", "id", "result", "errcode", "errmsg"];
    const COLUMNS: &'static [&'static str] = &["KIND", "ID", "RESULT", "ERRCODE", "ERRMSG"];
    const NOUN: &'static str = "item";

    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.to_owned(),
            self.id.clone(),
            self.result.to_owned(),
            self.errcode.to_string(),
            self.errmsg.clone(),
        ]
    }
}

fn report(ctx: &Context, changes: &ServicerChanges, done: &'static str) -> Result<(), CliError> {
    let rows: Vec<ResultRow> = changes
        .results
        .iter()
        .map(|r| {
            let (kind, id) = who(&r.target);
            ResultRow {
                kind,
                id,
                result: if !r.is_ok() {
                    "failed"
                } else if r.is_ignored() {
                    "already"
                } else {
                    done
                },
                errcode: r.errcode.get(),
                errmsg: r.errmsg.clone(),
            }
        })
        .collect();
    ctx.out.rows(&rows)?;
    let failed = changes.failed().count();
    if failed > 0 {
        return Err(CliError::Partial { failed });
    }
    Ok(())
}

fn nothing_given(change: &Change) -> Result<(), CliError> {
    if change.users.is_empty() && change.departments.is_empty() {
        return Err(CliError::Usage(
            "give at least one --user USERID or --department ID".into(),
        ));
    }
    Ok(())
}

pub async fn run(command: ServicerCommand, ctx: &Context) -> Result<(), CliError> {
    let servicers = ctx.client.servicer();
    match command {
        ServicerCommand::List { open_kfid } => {
            let list = servicers.list(open_kfid).await?;
            ctx.out
                .rows(&list.iter().map(ServicerRow::from).collect::<Vec<_>>())
        }
        ServicerCommand::Add(change) => {
            nothing_given(&change)?;
            let changes = servicers
                .add(&change.open_kfid, &change.users, &change.departments)
                .await?;
            report(ctx, &changes, "added")
        }
        ServicerCommand::Remove(change) => {
            nothing_given(&change)?;
            let changes = servicers
                .remove(&change.open_kfid, &change.users, &change.departments)
                .await?;
            report(ctx, &changes, "removed")
        }
    }
}
