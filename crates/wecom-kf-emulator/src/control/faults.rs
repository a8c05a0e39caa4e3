//! `GET|POST|DELETE /__emulator/faults`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;
use wecom_kf_types::ErrCode;

use super::done;
use crate::faults::FaultRule;
use crate::reply::Rejection;
use crate::state::Emulator;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new().route(
        "/__emulator/faults",
        get(list_faults).post(add_fault).delete(clear_faults),
    )
}

async fn list_faults(State(emulator): State<Arc<Emulator>>) -> Response {
    done(Ok(json!({ "faults": emulator.faults() })))
}

async fn add_fault(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(
        serde_json::from_slice::<FaultRule>(&bytes)
            .map_err(|e| {
                Rejection::with(ErrCode::INVALID_PARAMETER, format!("bad fault rule: {e}"))
            })
            .map(|rule| {
                emulator.add_fault(rule);
                json!({ "faults": emulator.faults() })
            }),
    )
}

async fn clear_faults(State(emulator): State<Arc<Emulator>>) -> Response {
    emulator.clear_faults();
    done(Ok(json!({})))
}
