//! `wecom-kf account import FILE`: resumable bulk creation.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::error::{CliError, render_client_error};
use crate::output::{self, Format};

/// One row of the file.
#[derive(Deserialize, Debug)]
struct Row {
    name: String,
    avatar: PathBuf,
}

#[derive(Serialize)]
struct Failure {
    row: usize,
    name: String,
    error: String,
}

#[derive(Serialize, Default)]
struct Summary {
    created: Vec<Created>,
    skipped: Vec<String>,
    failed: Vec<Failure>,
}

#[derive(Serialize)]
struct Created {
    name: String,
    open_kfid: String,
}

/// Read CSV (`name,avatar` header) or JSON (`[{"name": …, "avatar": …}]`).
fn read_rows(file: &Path) -> Result<Vec<Row>, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    let bad = |e: &dyn std::fmt::Display| CliError::Input(format!("{}: {e}", file.display()));
    let mut rows: Vec<Row> = if is_json {
        serde_json::from_str(&text).map_err(|e| bad(&e))?
    } else {
        csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(&e))?
    };
    // Avatar paths are relative to the file.
    let base = file.parent().unwrap_or_else(|| Path::new("."));
    for row in &mut rows {
        if row.avatar.is_relative() {
            row.avatar = base.join(&row.avatar);
        }
    }
    Ok(rows)
}

pub async fn run(ctx: &Context, file: &Path) -> Result<(), CliError> {
    let rows = read_rows(file)?;
    let accounts = ctx.client.account();
    // Names that already exist are skipped: a re-run after a failure resumes.
    let mut existing: HashSet<String> =
        accounts.list_all().map_ok(|a| a.name).try_collect().await?;
    let progress = if output::stderr_is_terminal() {
        ProgressBar::new(rows.len() as u64)
    } else {
        ProgressBar::with_draw_target(Some(rows.len() as u64), ProgressDrawTarget::hidden())
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    for (index, row) in rows.into_iter().enumerate() {
        let number = index + 1;
        progress.set_message(row.name.clone());
        if existing.contains(&row.name) {
            summary.skipped.push(row.name);
        } else {
            match accounts.add_with_avatar(&row.name, &row.avatar).await {
                Ok(open_kfid) => {
                    existing.insert(row.name.clone());
                    summary.created.push(Created {
                        name: row.name,
                        open_kfid,
                    });
                }
                Err(err) => {
                    progress.suspend(|| {
                        eprintln!("row {number} ({}): {}", row.name, render_client_error(&err));
                    });
                    summary.failed.push(Failure {
                        row: number,
                        name: row.name,
                        error: err.to_string(),
                    });
                }
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let out = &ctx.out;
    if out.format == Format::Json {
        out.json(&summary)?;
    } else {
        for created in &summary.created {
            out.line(format!("created {}: {}", created.name, created.open_kfid))?;
        }
        out.line(format!(
            "imported {}, skipped {} (already exist), failed {}",
            summary.created.len(),
            summary.skipped.len(),
            summary.failed.len()
        ))?;
    }
    match summary.failed.len() {
        0 => Ok(()),
        failed => Err(CliError::Partial { failed }),
    }
}
