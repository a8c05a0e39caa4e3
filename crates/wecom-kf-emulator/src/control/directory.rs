//! `POST /__emulator/members` and `POST /__emulator/departments`: the corp directory
//! that servicers come from (emulator-control.md, "Corp directory").

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
use crate::store::MemberRow;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/__emulator/members", post(member))
        .route("/__emulator/departments", post(department))
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Member {
    userid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    department_id: Vec<u32>,
    #[serde(default = "yes")]
    activated: bool,
}

impl Default for Member {
    fn default() -> Self {
        Member {
            userid: String::new(),
            name: String::new(),
            department_id: Vec::new(),
            activated: true,
        }
    }
}

async fn member(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<Member>(&bytes).and_then(|m| {
        let row = MemberRow {
            name: m.name,
            department_ids: m.department_id,
            activated: m.activated,
        };
        emulator
            .world()
            .put_member(&m.userid, row)
            .map(|()| json!({}))
    }))
}

#[derive(Deserialize, Default)]
struct Department {
    #[serde(default)]
    department_id: u32,
    #[serde(default)]
    name: String,
}

async fn department(State(emulator): State<Arc<Emulator>>, bytes: Bytes) -> Response {
    done(body::<Department>(&bytes).and_then(|d| {
        emulator
            .world()
            .put_department(d.department_id, &d.name)
            .map(|()| json!({}))
    }))
}
