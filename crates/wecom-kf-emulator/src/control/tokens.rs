//! `POST /__emulator/tokens/{revoke,expire}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::{body, done};
use crate::reply::Rejection;
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/tokens/revoke", post(revoke))
        .route("/__emulator/tokens/expire", post(expire))
}

#[derive(Deserialize, Default)]
struct Revoke {
    #[serde(default)]
    access_token: Option<String>,
}

async fn revoke(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(
        body::<Revoke>(&bytes)
            .and_then(|r| {
                emulator
                    .revoke_tokens(r.access_token.as_deref())
                    .map_err(Rejection::from)
            })
            .map(|n| json!({ "revoked": n })),
    )
}

async fn expire(State(emulator): State<Arc<Emulator>>) -> Response {
    done(
        emulator
            .expire_tokens()
            .map(|()| json!({}))
            .map_err(Rejection::from),
    )
}
