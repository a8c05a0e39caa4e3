//! `wecom-kf token check`.

use clap::Subcommand;
use serde_json::json;

use crate::context::Context;
use crate::error::CliError;
use crate::output::Format;

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Fetch a token with the configured credentials; print it masked, with its time left.
    #[command(
        after_help = "Examples:\n  WECOM_CORP_ID=ww… WECOM_KF_SECRET=… wecom-kf token check\n  wecom-kf --sandbox token check --format json"
    )]
    Check,
}

fn human(secs: u64) -> String {
    format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60)
}

pub async fn run(command: TokenCommand, ctx: &Context) -> Result<(), CliError> {
    match command {
        TokenCommand::Check => {
            let token = ctx.client.token_provider().token().await?;
            let left = token.expires_at().map(|at| {
                at.saturating_duration_since(tokio::time::Instant::now())
                    .as_secs()
            });
            let masked = token.secret().masked();
            match ctx.out.format {
                Format::Json => ctx
                    .out
                    .json(&json!({ "ok": true, "token": masked, "expires_in": left })),
                _ => ctx.out.line(format!(
                    "ok: credentials work; token {masked}, expires in {}",
                    left.map_or_else(|| "unknown".to_owned(), human)
                )),
            }
        }
    }
}
