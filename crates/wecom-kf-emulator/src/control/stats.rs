//! `GET /__emulator/stats`, `POST /__emulator/reset`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use super::done;
use crate::reply::{self, Rejection};
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset", post(reset))
}

async fn stats(State(emulator): State<Arc<Emulator>>) -> Response {
    reply::json(&emulator.stats())
}

async fn reset(State(emulator): State<Arc<Emulator>>) -> Response {
    done(
        emulator
            .reset()
            .map(|()| json!({}))
            .map_err(Rejection::from),
    )
}
