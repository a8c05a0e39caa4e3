//! `GET /__emulator/media/{media_id}`: any media's bytes, for the `avatar` URLs that
//! `kf/account/list` returns and the console's pictures and links; the default avatar;
//! `GET /favicon.ico` for the console's browser. A
//! customer's upload from WeChat is one of the customer's acts, in `customers.rs`.

use axum::body::{Body, HttpBody as _};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::content_disposition;

use super::registry::Route;
use super::{Asset, Command, Verb};
use crate::DEFAULT_AVATAR_PNG;
use crate::rejection::Rejection;
use crate::state::Emulator;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<GetMedia>(),
    Route::command::<DefaultAvatar>(),
    Route::command::<Favicon>(),
];

/// `GET /__emulator/media/{media_id}`: the bytes of any media the emulator holds, an
/// app's upload or a customer's, with its Content-Type, Content-Length and
/// Content-Disposition (the uploader's filename), or 404. No token and no expiry: the
/// `avatar` URLs and the console's pictures and download links read it. A customer's
/// file is streamed from the blob store, never held whole.
#[derive(Debug, Default, Deserialize)]
pub struct GetMedia {
    /// The media.
    #[serde(default)]
    pub media_id: String,
    /// What [`Command::prepare`] found.
    #[serde(skip)]
    found: Option<MediaFile>,
}

/// The file `GET /__emulator/media/{media_id}` serves.
#[derive(Debug, Serialize)]
pub struct MediaFile {
    /// e.g. `image/png`.
    pub content_type: String,
    /// The uploader's name for it.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// The bytes, streamed.
    #[serde(skip)]
    pub body: Body,
}

impl Command for GetMedia {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/media/{media_id}";
    type Answer = Option<MediaFile>;

    async fn prepare(mut self, emulator: &Emulator) -> Result<Self, Rejection> {
        let (row, blobs) = {
            let world = emulator.world();
            let Some(row) = world.store().media(&self.media_id).cloned() else {
                return Ok(self);
            };
            (row, emulator.blobs())
        };
        let body = if row.customer.is_some() {
            blobs.read(&self.media_id, 0, row.size).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read a stored media file");
                Rejection::from(ErrCode::SYSTEM_BUSY)
            })?
        } else {
            let found = emulator.world().store().media_bytes(&self.media_id)?;
            Body::from(found.map(|(_, bytes)| bytes).unwrap_or_default())
        };
        self.found = Some(MediaFile {
            content_type: row.content_type,
            filename: row.filename,
            size: row.size,
            body,
        });
        Ok(self)
    }

    /// Answers what [`Command::prepare`] found: in process, use [`Emulator::run`].
    fn apply(self, _: &Emulator) -> Result<Option<MediaFile>, Rejection> {
        Ok(self.found)
    }

    fn respond(answer: Option<MediaFile>) -> Response {
        let Some(file) = answer else {
            return (StatusCode::NOT_FOUND, "no such media").into_response();
        };
        // A body of known size (bytes in memory) gets its Content-Length from hyper;
        // a streamed file gets the recorded size.
        let streamed = file.body.size_hint().exact().is_none();
        let mut response = Response::new(file.body);
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&file.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if streamed {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
        }
        if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&file.filename)) {
            h.insert(header::CONTENT_DISPOSITION, disposition);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

fn png() -> Asset {
    Asset {
        content_type: "image/png".to_owned(),
        bytes: axum::body::Bytes::from_static(DEFAULT_AVATAR_PNG),
    }
}

/// `GET /__emulator/avatar/default.png`: the avatar of accounts made in the console.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DefaultAvatar {}

impl Command for DefaultAvatar {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/avatar/default.png";
    type Answer = Asset;

    fn apply(self, _: &Emulator) -> Result<Asset, Rejection> {
        Ok(png())
    }

    fn respond(answer: Asset) -> Response {
        answer.respond()
    }
}

/// `GET /favicon.ico`: what a browser on the console asks for by itself. Served (the
/// avatar), so it is never counted or logged as a call to an unknown API.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Favicon {}

impl Command for Favicon {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/favicon.ico";
    type Answer = Asset;

    fn apply(self, _: &Emulator) -> Result<Asset, Rejection> {
        Ok(png())
    }

    fn respond(answer: Asset) -> Response {
        let mut response = answer.respond();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("max-age=86400"),
        );
        response
    }
}
