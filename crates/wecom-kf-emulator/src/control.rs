//! `/__emulator/…`: the control plane for tests and demos. Unauthenticated, like the
//! rest of a loopback-only test server.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use wecom_kf_types::ErrCode;

use crate::reply::{self, Rejection};
use crate::{Emulator, FaultRule};

const DEFAULT_AVATAR: &[u8] = include_bytes!("default-avatar.png");

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/accounts", post(seed_account))
        .route("/__emulator/tokens/revoke", post(revoke))
        .route("/__emulator/tokens/expire", post(expire))
        .route(
            "/__emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__emulator/clock", post(clock))
        .route("/__emulator/media/{media_id}", get(media))
        .route("/__emulator/avatar/default.png", get(default_avatar))
}

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

#[derive(Deserialize, Default)]
struct Seed {
    #[serde(default)]
    name: String,
}

/// Seed an account "created in the admin console": no app manages it.
async fn seed_account(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(
        body::<Seed>(&bytes)
            .and_then(|seed| emulator.seed_console_account(&seed.name))
            .map(|open_kfid| json!({ "open_kfid": open_kfid })),
    )
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

/// Uploaded media, served back: this is the `avatar` URL that `list` returns.
async fn media(State(emulator): State<Arc<Emulator>>, Path(media_id): Path<String>) -> Response {
    match emulator.store().media_bytes(&media_id) {
        Ok(Some((content_type, data))) => {
            ([(header::CONTENT_TYPE, content_type)], data).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such media").into_response(),
        Err(code) => Rejection::from(code).into_response(None),
    }
}

async fn default_avatar() -> Response {
    ([(header::CONTENT_TYPE, "image/png")], DEFAULT_AVATAR).into_response()
}
