//! `/__emulator/customers…`: the WeChat side (emulator-control.md, "Customers"). A
//! customer appears, opens an account's chat, writes, and reads what they were sent.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{body, done};
use crate::state::Emulator;
use crate::store::CustomerRow;
use crate::world::content;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/customers", post(create))
        .route("/__emulator/customers/{external_userid}/enter", post(enter))
        .route("/__emulator/customers/{external_userid}/send", post(send))
        .route(
            "/__emulator/customers/{external_userid}/recall",
            post(recall),
        )
        .route(
            "/__emulator/customers/{external_userid}/reject",
            post(reject),
        )
        .route("/__emulator/customers/{external_userid}/inbox", get(inbox))
}

#[derive(Deserialize, Default)]
struct NewCustomer {
    external_userid: Option<String>,
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    gender: u8,
    #[serde(default)]
    unionid: String,
    #[serde(default)]
    avatar: String,
}

async fn create(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<NewCustomer>(&bytes).and_then(|c| {
        let row = CustomerRow {
            nickname: c.nickname,
            gender: c.gender,
            unionid: c.unionid,
            avatar: c.avatar,
            created_at: 0,
        };
        emulator
            .world()
            .put_customer(c.external_userid, row)
            .map(|id| json!({ "external_userid": id }))
    }))
}

#[derive(Deserialize, Default)]
struct Enter {
    #[serde(default)]
    open_kfid: String,
    #[serde(default)]
    scene: String,
    #[serde(default)]
    scene_param: String,
}

async fn enter(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Enter>(&bytes).and_then(|e| {
        emulator
            .world()
            .customer_enters(&external_userid, &e.open_kfid, &e.scene, &e.scene_param)
            .map(|(msgid, welcome_code)| json!({ "msgid": msgid, "welcome_code": welcome_code }))
    }))
}

/// A message as the control plane takes it: `open_kfid`, `msgtype` and the object
/// under the msgtype's key (the same shape `kf/send_msg` uses).
#[derive(Deserialize, Default)]
pub(super) struct Message {
    #[serde(default)]
    pub open_kfid: String,
    #[serde(default)]
    pub external_userid: String,
    #[serde(default)]
    pub msgtype: String,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

async fn send(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Message>(&bytes).and_then(|m| {
        let content = content(&m.msgtype, &Value::Object(m.rest))?;
        emulator
            .world()
            .customer_sends(&external_userid, &m.open_kfid, content)
            .map(|msgid| json!({ "msgid": msgid }))
    }))
}

#[derive(Deserialize, Default)]
struct Recall {
    #[serde(default)]
    open_kfid: String,
    #[serde(default)]
    msgid: String,
}

async fn recall(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Recall>(&bytes).and_then(|r| {
        emulator
            .world()
            .customer_recalls(&external_userid, &r.open_kfid, &r.msgid)
            .map(|()| json!({}))
    }))
}

#[derive(Deserialize, Default)]
struct Reject {
    #[serde(default)]
    open_kfid: String,
    #[serde(default)]
    reject: bool,
}

async fn reject(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    bytes: Bytes,
) -> Response {
    done(body::<Reject>(&bytes).and_then(|r| {
        emulator
            .world()
            .customer_rejects(&external_userid, &r.open_kfid, r.reject)
            .map(|()| json!({}))
    }))
}

#[derive(Deserialize)]
struct InboxQuery {
    #[serde(default)]
    open_kfid: String,
}

async fn inbox(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Response {
    done(
        emulator
            .world()
            .inbox(&q.open_kfid, &external_userid)
            .map(|messages| json!({ "messages": messages })),
    )
}
