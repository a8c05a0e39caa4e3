//! `/__emulator/…`: the control plane for tests, demos and users, one module per topic.
//! Unauthenticated, like the rest of a loopback test server. Domain changes go through
//! the world, exactly as API calls do; never to the store directly.

mod accounts;
mod callbacks;
mod clock;
mod console;
mod customers;
mod directory;
mod faults;
mod media;
mod servicers;
mod stats;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use wecom_kf_types::ErrCode;

pub use media::CUSTOMER_MEDIA_MAX_BYTES;

use crate::reply::{self, Rejection};
use crate::state::Emulator;

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .merge(stats::routes())
        .merge(accounts::routes())
        .merge(tokens::routes())
        .merge(faults::routes())
        .merge(clock::routes())
        .merge(directory::routes())
        .merge(media::routes())
        .merge(customers::routes())
        .merge(servicers::routes())
        .merge(callbacks::routes())
        .merge(console::routes())
}

/// The answer of a control call: its fields plus `errcode`/`errmsg`, or the rejection.
fn done(result: Result<serde_json::Value, Rejection>) -> Response {
    match result {
        Ok(mut body) => {
            body["errcode"] = json!(0);
            body["errmsg"] = json!("ok");
            reply::json(&body)
        }
        Err(rejection) => rejection.into_response(None),
    }
}

/// Parse an optional JSON body (empty means `{}`).
fn body<T: for<'de> Deserialize<'de> + Default>(bytes: &Bytes) -> Result<T, Rejection> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("Warning: wrong json format. {e}"),
        )
    })
}
