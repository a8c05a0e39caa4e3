//! `GET /__emulator/media/{media_id}` and the default avatar: the `avatar` URLs that
//! `kf/account/list` returns; `GET /favicon.ico` for the console's browser. A
//! customer's upload from WeChat is one of the customer's acts, in `customers.rs`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

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

/// `GET /__emulator/media/{media_id}`: the bytes of uploaded media, or 404.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GetMedia {
    /// The media.
    #[serde(default)]
    pub media_id: String,
}

impl Command for GetMedia {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/media/{media_id}";
    type Answer = Option<Asset>;

    fn apply(self, emulator: &Emulator) -> Result<Option<Asset>, Rejection> {
        let found = emulator.world().store().media_bytes(&self.media_id)?;
        Ok(found.map(|(content_type, bytes)| Asset {
            content_type,
            bytes: bytes.into(),
        }))
    }

    fn respond(answer: Option<Asset>) -> Response {
        match answer {
            Some(asset) => asset.respond(),
            None => (StatusCode::NOT_FOUND, "no such media").into_response(),
        }
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
