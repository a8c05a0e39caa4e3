//! `POST /__emulator/accounts`: an account "created in the admin console", which no app
//! manages.

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
    Router::new().route("/__emulator/accounts", post(seed_account))
}

#[derive(Deserialize, Default)]
struct Seed {
    #[serde(default)]
    name: String,
}

async fn seed_account(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(
        body::<Seed>(&bytes)
            .and_then(|seed| emulator.world().add_console_account(&seed.name))
            .map(|open_kfid| json!({ "open_kfid": open_kfid })),
    )
}
