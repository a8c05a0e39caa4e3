//! `wecom-kf media …`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::json;
use wecom_kf::types::media::MediaType;

use crate::context::Context;
use crate::error::CliError;
use crate::output::Format;

/// `--type`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// JPG or PNG, ≤ 10 MB.
    Image,
    /// AMR, ≤ 2 MB.
    Voice,
    /// MP4, ≤ 10 MB.
    Video,
    /// Anything, ≤ 20 MB.
    File,
}

/// Media commands.
#[derive(Subcommand, Debug)]
pub enum MediaCommand {
    /// Upload a file as temporary media (usable for 3 days); prints its media_id.
    #[command(
        after_help = "Examples:\n  wecom-kf media upload avatar.png\n  wecom-kf media upload notes.pdf --type file --format json"
    )]
    Upload {
        /// The file.
        file: PathBuf,
        /// The type; guessed from the extension if omitted (jpg/png: image, amr: voice, mp4: video, else file).
        #[arg(long = "type", value_enum)]
        kind: Option<Kind>,
    },
}

fn guess(file: &std::path::Path) -> MediaType {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("jpg" | "jpeg" | "png") => MediaType::Image,
        Some("amr") => MediaType::Voice,
        Some("mp4") => MediaType::Video,
        _ => MediaType::File,
    }
}

pub async fn run(command: MediaCommand, ctx: &Context) -> Result<(), CliError> {
    match command {
        MediaCommand::Upload { file, kind } => {
            let media_type = match kind {
                Some(Kind::Image) => MediaType::Image,
                Some(Kind::Voice) => MediaType::Voice,
                Some(Kind::Video) => MediaType::Video,
                Some(Kind::File) => MediaType::File,
                None => guess(&file),
            };
            let uploaded = ctx.client.media().upload_path(media_type, &file).await?;
            match ctx.out.format {
                Format::Json => ctx.out.json(&json!({ "media_id": uploaded.media_id, "type": uploaded.media_type, "created_at": uploaded.created_at })),
                _ => ctx.out.line(uploaded.media_id),
            }
        }
    }
}
