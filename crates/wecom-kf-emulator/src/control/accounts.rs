//! `POST /__emulator/accounts`: an account "created in the admin console", which no app
//! manages; `POST /__emulator/accounts/{open_kfid}/routing`: how its new sessions are
//! routed; `POST /__emulator/upgrade_service_config`: the 升级服务 ranges.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::{body, done};
use wecom_kf_types::kf::customer::UpgradeServiceConfig;

use crate::state::Emulator;
use crate::world::RoutingMode;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/accounts", post(seed_account))
        .route("/__emulator/accounts/{open_kfid}/routing", post(routing))
        .route("/__emulator/upgrade_service_config", post(upgrade_config))
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

#[derive(Deserialize)]
struct Routing {
    mode: RoutingMode,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            mode: RoutingMode::Api,
        }
    }
}

async fn routing(
    State(emulator): State<Arc<Emulator>>,
    Path(open_kfid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Routing>(&bytes).and_then(|r| {
        emulator
            .world()
            .set_routing(&open_kfid, r.mode)
            .map(|()| json!({}))
    }))
}

async fn upgrade_config(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<UpgradeServiceConfig>(&bytes).and_then(|config| {
        emulator
            .world()
            .set_upgrade_service_config(&config)
            .map(|()| json!({}))
    }))
}
