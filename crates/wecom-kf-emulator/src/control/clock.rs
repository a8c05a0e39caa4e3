//! `POST /__emulator/clock {"advance_secs": N}`: moves every window of the emulator.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::{body, done};
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new().route("/__emulator/clock", post(clock))
}

#[derive(Deserialize, Default)]
struct Clock {
    #[serde(default)]
    advance_secs: i64,
}

async fn clock(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<Clock>(&bytes).map(|c| {
        emulator.advance_clock(c.advance_secs);
        json!({ "now": emulator.now() })
    }))
}
