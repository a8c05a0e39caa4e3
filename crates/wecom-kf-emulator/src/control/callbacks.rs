//! `/__emulator/callback…`: where the emulator pushes `kf_msg_or_event`
//! (emulator-control.md, "Callbacks").

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use wecom_kf_types::ErrCode;

use super::{body, done};
use crate::callbacks::Setting;
use crate::reply::Rejection;
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/callback", post(register).delete(clear))
        .route("/__emulator/callback/deliveries", get(deliveries))
        .route("/__emulator/sync_token", post(sync_token))
}

#[derive(Deserialize, Default)]
struct Register {
    #[serde(default)]
    url: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    encoding_aes_key: String,
    timeout_ms: Option<u64>,
    attempts: Option<u32>,
    retry_ms: Option<u64>,
}

async fn register(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    let setting = body::<Register>(&bytes).and_then(|r| {
        let mut setting = Setting::new(
            &emulator.config().corp_id,
            &r.url,
            &r.token,
            &r.encoding_aes_key,
        )
        .map_err(|why| Rejection::with(ErrCode::INVALID_PARAMETER, why))?;
        if let Some(ms) = r.timeout_ms {
            setting.timeout = Duration::from_millis(ms);
        }
        if let Some(attempts) = r.attempts {
            setting.attempts = attempts.max(1);
        }
        if let Some(ms) = r.retry_ms {
            setting.retry = Duration::from_millis(ms);
        }
        Ok(setting)
    });
    let result = match setting {
        Ok(setting) => emulator
            .set_callback(setting)
            .await
            .map(|()| json!({ "verified": true }))
            .map_err(|why| Rejection::with(ErrCode::INVALID_PARAMETER, why)),
        Err(rejection) => Err(rejection),
    };
    done(result)
}

async fn clear(State(emulator): State<Arc<Emulator>>) -> Response {
    emulator.clear_callback();
    done(Ok(json!({})))
}

async fn deliveries(State(emulator): State<Arc<Emulator>>) -> Response {
    done(Ok(json!({ "deliveries": emulator.deliveries() })))
}

#[derive(Deserialize, Default)]
struct SyncTokenFor {
    #[serde(default)]
    open_kfid: String,
}

/// Added to the agreed plane: the `Token` a `kf_msg_or_event` callback would carry for
/// the account, for a sync without a callback receiver.
async fn sync_token(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<SyncTokenFor>(&bytes).and_then(|r| {
        emulator
            .world()
            .issue_sync_token(&r.open_kfid)
            .map(|token| json!({ "token": token }))
    }))
}
