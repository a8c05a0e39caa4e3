//! `wecom-kf media …`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
    /// Download temporary media by its media_id (what a customer sent: an image, a
    /// voice note in AMR, a video, a file), in Range chunks of at most 20 MB; a
    /// download that fails is resumed by running the same command again.
    #[command(
        after_help = "Examples:\n  wecom-kf media get MEDIA_ID                 # saved under the sender's file name\n  wecom-kf media get MEDIA_ID -o order.jpg\n  wecom-kf media get MEDIA_ID -o - | file -"
    )]
    Get {
        /// From a message of `wecom-kf msg sync` (image.media_id, voice.media_id, …).
        media_id: String,
        /// Where to write it; `-` for stdout. Default: the sender's file name (made
        /// safe) in the current directory.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn progress_bar() -> ProgressBar {
    let bar = if crate::output::stderr_is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

async fn get(ctx: &Context, media_id: &str, output: Option<PathBuf>) -> Result<(), CliError> {
    use futures_util::TryStreamExt as _;
    use std::io::Write as _;
    let media = ctx.client.media();
    if output.as_deref() == Some(std::path::Path::new("-")) {
        let mut download = media.download(media_id).await?;
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = download.try_next().await? {
            out.write_all(&chunk).map_err(|e| crate::output::io(&e))?;
        }
        return out.flush().map_err(|e| crate::output::io(&e));
    }
    let bar = progress_bar();
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let saved = match output {
        Some(path) => media.download_to_with(media_id, &path, progress).await,
        None => media.download_into_with(media_id, ".", progress).await,
    };
    bar.finish_and_clear();
    let saved = saved?;
    match ctx.out.format {
        Format::Json => ctx.out.json(&json!({
            "path": saved.path,
            "len": saved.len,
            "content_type": saved.content_type,
            "filename": saved.filename,
            "type": saved.media_type(),
        })),
        _ => ctx.out.line(saved.path.display()),
    }
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
        MediaCommand::Get { media_id, output } => get(ctx, &media_id, output).await,
    }
}
