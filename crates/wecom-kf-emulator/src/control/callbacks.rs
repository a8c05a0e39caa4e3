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
use wecom_kf_types::callback::Crypto;

use super::{body, done};
use crate::callbacks::Setting;
use crate::reply::Rejection;
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/callback", post(register).delete(clear))
        .route("/__emulator/callback/deliveries", get(deliveries))
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

/// The setting a registration asks for: its URL and crypto checked first.
pub(crate) fn setting(
    corp_id: &str,
    url: &str,
    token: &str,
    key: &str,
    timeout_ms: Option<u64>,
    attempts: Option<u32>,
    retry_ms: Option<u64>,
) -> Result<Setting, Rejection> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("url must be http:// or https://, got {url:?}"),
        ));
    }
    let crypto = Crypto::new(token, key, corp_id)
        .map_err(|e| Rejection::with(ErrCode::INVALID_PARAMETER, e.to_string()))?;
    Ok(Setting {
        url: url.to_owned(),
        crypto,
        timeout: Duration::from_millis(timeout_ms.unwrap_or(5000)),
        attempts: attempts.unwrap_or(3).max(1),
        retry: Duration::from_millis(retry_ms.unwrap_or(1000)),
    })
}

async fn register(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    let setting = body::<Register>(&bytes).and_then(|r| {
        setting(
            &emulator.config().corp_id,
            &r.url,
            &r.token,
            &r.encoding_aes_key,
            r.timeout_ms,
            r.attempts,
            r.retry_ms,
        )
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
