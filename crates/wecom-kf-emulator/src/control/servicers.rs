//! `/__emulator/servicers/{userid}/…`: servicers in the WeCom app (emulator-control.md,
//! "Servicers"): serving status, taking a queued session, transferring, ending, and
//! writing to the customer. Each obeys the rules and codes of the API's moves.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::customers::Message;
use super::{body, done};
use crate::reply::Rejection;
use crate::state::Emulator;
use crate::world::{World, content};

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/servicers/{userid}/status", post(status))
        .route("/__emulator/servicers/{userid}/take", post(take))
        .route("/__emulator/servicers/{userid}/transfer", post(transfer))
        .route("/__emulator/servicers/{userid}/end", post(end))
        .route("/__emulator/servicers/{userid}/send", post(send))
        .route("/__emulator/servicers/{userid}/recall", post(recall))
        .route("/__emulator/servicers/{userid}/reject", post(reject))
}

#[derive(Deserialize, Default)]
struct StatusChange {
    #[serde(default)]
    open_kfid: String,
    #[serde(default)]
    status: u8,
    #[serde(default)]
    stop_type: u8,
}

async fn status(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<StatusChange>(&bytes).and_then(|s| {
        emulator
            .world()
            .set_serving_status(&userid, &s.open_kfid, s.status, s.stop_type)
            .map(|()| json!({}))
    }))
}

#[derive(Deserialize, Default)]
struct Session {
    #[serde(default)]
    open_kfid: String,
    #[serde(default)]
    external_userid: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    msgid: String,
    #[serde(default)]
    reject: bool,
}

fn with_code(code: Option<String>) -> Value {
    code.map_or_else(|| json!({}), |code| json!({ "msg_code": code }))
}

/// Decode a session body and apply a servicer's move to it, under one world lock.
fn on_session(
    emulator: &Emulator,
    bytes: &Bytes,
    apply: impl FnOnce(&mut World<'_>, Session) -> Result<Value, Rejection>,
) -> Response {
    done(body::<Session>(bytes).and_then(|s| apply(&mut emulator.world(), s)))
}

async fn take(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    on_session(&emulator, &bytes, |world, s| {
        world
            .servicer_take(&userid, &s.open_kfid, &s.external_userid)
            .map(with_code)
    })
}

async fn transfer(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    on_session(&emulator, &bytes, |world, s| {
        world
            .servicer_transfer(&userid, &s.open_kfid, &s.external_userid, &s.to)
            .map(|()| json!({}))
    })
}

async fn end(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    on_session(&emulator, &bytes, |world, s| {
        world
            .servicer_end(&userid, &s.open_kfid, &s.external_userid)
            .map(with_code)
    })
}

async fn send(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Message>(&bytes).and_then(|m| {
        let content = content(&m.msgtype, &Value::Object(m.rest))?;
        emulator
            .world()
            .servicer_send(&userid, &m.open_kfid, &m.external_userid, content)
            .map(|msgid| json!({ "msgid": msgid }))
    }))
}

/// Added to the agreed plane: a servicer recalls a message from the app
/// (`servicer_recall_msg`).
async fn recall(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    on_session(&emulator, &bytes, |world, s| {
        world
            .servicer_recalls(&userid, &s.open_kfid, &s.msgid)
            .map(|()| json!({}))
    })
}

/// Added to the agreed plane: a servicer rejects a customer's messages, or stops
/// (`reject_customer_msg_switch_change`).
async fn reject(
    State(emulator): State<Arc<Emulator>>,
    Path(userid): Path<String>,
    bytes: Bytes,
) -> Response {
    on_session(&emulator, &bytes, |world, s| {
        world
            .servicer_reject_switch(&userid, &s.open_kfid, &s.external_userid, s.reject)
            .map(|()| json!({}))
    })
}
