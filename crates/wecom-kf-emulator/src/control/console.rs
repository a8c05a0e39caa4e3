//! `/__emulator/console`: the console, a page served by the emulator itself (its files
//! are embedded in the binary: no build step, works offline), and the read-only
//! endpoints it reads: a snapshot, one conversation, the API call log, the deliveries,
//! and a stream of server-sent events saying what changed. It changes the world only
//! through the control plane and the API, as any other client does.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use wecom_kf_types::ErrCode;

use super::done;
use crate::reply::Rejection;
use crate::state::Emulator;

const INDEX: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/console.js");
const STYLE: &str = include_str!("../../console/console.css");

/// How often the event stream looks for changes: changes within one tick go out as
/// one event, so a burst of messages costs the page one refresh per tick.
const TICK: Duration = Duration::from_millis(100);
/// Calls and attempts one answer carries at most.
const PAGE: usize = 500;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route(
            "/__emulator/console",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/__emulator/console/console.js",
            get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/__emulator/console/console.css",
            get(|| async { page(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/__emulator/console/snapshot", get(snapshot))
        .route("/__emulator/console/thread", get(thread))
        .route("/__emulator/console/calls", get(calls))
        .route("/__emulator/console/deliveries", get(deliveries))
        .route("/__emulator/console/live", get(live))
        .route("/__emulator/callback/deliveries/{id}/resend", post(resend))
}

fn page(text: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn snapshot(State(emulator): State<Arc<Emulator>>) -> Response {
    let mut body = emulator.world().console_snapshot();
    body["callback_url"] = json!(emulator.callbacks().current().map(|s| s.url.clone()));
    body["faults"] = json!(emulator.faults());
    body["last_call"] = json!(emulator.calls().last_id());
    done(Ok(body))
}

#[derive(Deserialize)]
struct Conversation {
    open_kfid: String,
    external_userid: String,
    /// Explain this refusal from the session's state.
    errcode: Option<i64>,
}

async fn thread(State(emulator): State<Arc<Emulator>>, Query(q): Query<Conversation>) -> Response {
    done(
        emulator
            .world()
            .console_thread(&q.open_kfid, &q.external_userid, q.errcode),
    )
}

#[derive(Deserialize, Default)]
struct CallsQuery {
    /// Only calls after this id.
    #[serde(default)]
    after: u64,
    /// Only calls that answered this errcode.
    errcode: Option<i64>,
}

async fn calls(State(emulator): State<Arc<Emulator>>, Query(q): Query<CallsQuery>) -> Response {
    let calls = emulator.calls().since(q.after, q.errcode, PAGE);
    done(Ok(
        json!({ "calls": calls, "last_call": emulator.calls().last_id() }),
    ))
}

async fn deliveries(State(emulator): State<Arc<Emulator>>) -> Response {
    let all = emulator.callbacks().deliveries();
    let recent = &all[all.len().saturating_sub(PAGE)..];
    done(Ok(json!({ "deliveries": recent })))
}

async fn resend(State(emulator): State<Arc<Emulator>>, Path(id): Path<u64>) -> Response {
    let corp_id = emulator.config().corp_id.clone();
    done(
        emulator
            .callbacks()
            .resend(id, &corp_id, emulator.now())
            .map(|new_id| json!({ "id": new_id }))
            .map_err(|why| Rejection::with(ErrCode::INVALID_PARAMETER, why)),
    )
}

/// What the page has seen; an event goes out when any part moves.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Seen {
    world: (u64, i64, usize),
    last_call: u64,
    attempts: usize,
}

fn look(emulator: &Emulator) -> Seen {
    Seen {
        world: emulator.world_version(),
        last_call: emulator.calls().last_id(),
        attempts: emulator.callbacks().attempts(),
    }
}

/// `GET /__emulator/console/live`: an `event: change` with
/// `{"world":bool,"last_call":N,"deliveries":bool}` whenever something the page shows
/// changed, checked every 100 ms.
async fn live(
    State(emulator): State<Arc<Emulator>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let first = look(&emulator);
    let stream = futures_util::stream::unfold((emulator, first), |(emulator, seen)| async move {
        loop {
            tokio::time::sleep(TICK).await;
            let now = look(&emulator);
            if now != seen {
                let data = json!({
                    "world": now.world != seen.world,
                    "last_call": now.last_call,
                    "deliveries": now.attempts != seen.attempts,
                });
                let event = Event::default().event("change").data(data.to_string());
                return Some((Ok(event), (emulator, now)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
