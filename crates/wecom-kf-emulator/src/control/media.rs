//! `GET /__emulator/media/{id}` and the default avatar: the `avatar` URLs that
//! `kf/account/list` returns.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::DEFAULT_AVATAR_PNG;
use crate::reply::Rejection;
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/media/{media_id}", get(media))
        .route("/__emulator/avatar/default.png", get(default_avatar))
}

async fn media(State(emulator): State<Arc<Emulator>>, Path(media_id): Path<String>) -> Response {
    match emulator.world().store().media_bytes(&media_id) {
        Ok(Some((content_type, data))) => {
            ([(header::CONTENT_TYPE, content_type)], data).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such media").into_response(),
        Err(code) => Rejection::from(code).into_response(None),
    }
}

async fn default_avatar() -> Response {
    ([(header::CONTENT_TYPE, "image/png")], DEFAULT_AVATAR_PNG).into_response()
}
