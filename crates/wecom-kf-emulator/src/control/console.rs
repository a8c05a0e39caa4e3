//! `/__emulator/console`: the console, a page served by the emulator itself (its files
//! are embedded in the binary: no build step, works offline), and the read-only
//! commands it reads: a snapshot, one conversation, the API call log, the deliveries,
//! and a stream of server-sent events saying what changed. It changes the world only
//! through the control plane and the API, as any other client does.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::service_state::DIAGNOSED;

use super::registry::Route;
use super::{Asset, Command, Verb, guard, lenient};
use crate::http::accept::Conn;
use crate::http::calls::Call;
use crate::http::faults::FaultRule;
use crate::rejection::Rejection;
use crate::state::Emulator;
pub use crate::world::{ThreadView, WorldView};

const INDEX: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/console.js");
const STYLE: &str = include_str!("../../console/console.css");

/// How often the event stream looks for changes: changes within one tick go out as
/// one event, so a burst of messages costs the page one refresh per tick.
const TICK: Duration = Duration::from_millis(100);
/// Calls and attempts one answer carries at most.
const PAGE: usize = 500;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<Page>(),
    Route::command::<Script>(),
    Route::command::<Style>(),
    Route::command::<Snapshot>(),
    Route::command::<Thread>(),
    Route::command::<Calls>(),
    Route::command::<RecentDeliveries>(),
    Route::custom::<Live>(live_handler),
    Route::command::<Resend>(),
];

fn asset(text: &'static str, content_type: &str) -> Asset {
    Asset {
        content_type: content_type.to_owned(),
        bytes: Bytes::from_static(text.as_bytes()),
    }
}

macro_rules! page {
    ($(#[$doc:meta])* $name:ident = $path:literal, $text:expr, $type:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, Deserialize)]
        pub struct $name {}

        impl Command for $name {
            const METHOD: Verb = Verb::Get;
            const PATH: &'static str = $path;
            type Answer = Asset;

            fn apply(self, _: &Emulator) -> Result<Asset, Rejection> {
                Ok(asset($text, $type))
            }

            fn respond(answer: Asset) -> Response {
                answer.respond()
            }
        }
    };
}

page!(
    /// `GET /__emulator/console`: the page.
    Page = "/__emulator/console", INDEX, "text/html; charset=utf-8"
);
page!(
    /// `GET /__emulator/console/console.js`.
    Script = "/__emulator/console/console.js", SCRIPT, "text/javascript; charset=utf-8"
);
page!(
    /// `GET /__emulator/console/console.css`.
    Style = "/__emulator/console/console.css", STYLE, "text/css; charset=utf-8"
);

/// `GET /__emulator/console/snapshot`: everything the console lists, and the numbers
/// it must not restate.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Snapshot {}

/// The console's snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct SnapshotView {
    /// Accounts, customers, sessions.
    #[serde(flatten)]
    pub world: WorldView,
    /// Where callbacks go, if set.
    pub callback_url: Option<String>,
    /// The standing fault rules.
    pub faults: Vec<FaultRule>,
    /// The id of the last API call logged.
    pub last_call: u64,
    /// The refusals a session's state explains (`thread?errcode=`).
    pub diagnosed: Vec<i64>,
    /// How many calls the log keeps; the page keeps no more.
    pub kept_calls: usize,
    /// The largest file a customer may send from the page.
    pub customer_media_max_bytes: u64,
}

impl Command for Snapshot {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/console/snapshot";
    type Answer = SnapshotView;

    fn apply(self, emulator: &Emulator) -> Result<SnapshotView, Rejection> {
        let world = emulator.world().console_snapshot();
        Ok(SnapshotView {
            world,
            callback_url: emulator.callbacks().current().map(|s| s.url.clone()),
            faults: emulator.fault_rules(),
            last_call: emulator.calls().last_id(),
            diagnosed: DIAGNOSED.iter().map(|c| c.get()).collect(),
            kept_calls: crate::http::calls::KEPT,
            customer_media_max_bytes: super::CUSTOMER_MEDIA_MAX_BYTES,
        })
    }
}

/// `GET /__emulator/console/thread?open_kfid&external_userid&errcode?`: one
/// conversation in full.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Thread {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// Explain this refusal from the session's state.
    #[serde(default, deserialize_with = "lenient::i64_opt")]
    pub errcode: Option<i64>,
}

impl Command for Thread {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/console/thread";
    type Answer = ThreadView;

    fn apply(self, emulator: &Emulator) -> Result<ThreadView, Rejection> {
        emulator
            .world()
            .console_thread(&self.open_kfid, &self.external_userid, self.errcode)
    }
}

/// `GET /__emulator/console/calls?after&errcode?`: the API call log.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Calls {
    /// Only calls after this id.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub after: u64,
    /// Only calls that answered this errcode.
    #[serde(default, deserialize_with = "lenient::i64_opt")]
    pub errcode: Option<i64>,
}

/// A page of the call log.
#[derive(Clone, Debug, Serialize)]
pub struct CallLog {
    /// Oldest first, at most 500.
    pub calls: Vec<Call>,
    /// The id of the last call logged.
    pub last_call: u64,
}

impl Command for Calls {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/console/calls";
    type Answer = CallLog;

    fn apply(self, emulator: &Emulator) -> Result<CallLog, Rejection> {
        Ok(CallLog {
            calls: emulator.calls().since(self.after, self.errcode, PAGE),
            last_call: emulator.calls().last_id(),
        })
    }
}

/// `GET /__emulator/console/deliveries`: the last 500 delivery attempts.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RecentDeliveries {}

impl Command for RecentDeliveries {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/console/deliveries";
    type Answer = super::callbacks::DeliveryLog;

    fn apply(self, emulator: &Emulator) -> Result<Self::Answer, Rejection> {
        let mut all = emulator.callbacks().deliveries();
        let recent = all.split_off(all.len().saturating_sub(PAGE));
        Ok(super::callbacks::DeliveryLog { deliveries: recent })
    }
}

/// `POST /__emulator/callback/deliveries/{id}/resend`: push a delivery again, as a
/// new one, to the URL set now.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Resend {
    /// The delivery.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub id: u64,
}

/// The new delivery.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Resent {
    /// Its id.
    pub id: u64,
}

impl Command for Resend {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/callback/deliveries/{id}/resend";
    type Answer = Resent;

    fn apply(self, emulator: &Emulator) -> Result<Resent, Rejection> {
        let corp_id = emulator.config().corp_id.clone();
        emulator
            .callbacks()
            .resend(self.id, &corp_id, emulator.now())
            .map(|id| Resent { id })
            .map_err(|why| Rejection::with(ErrCode::INVALID_PARAMETER, why))
    }
}

/// `GET /__emulator/console/live`: an `event: change` with
/// `{"world":bool,"last_call":N,"deliveries":bool}` whenever something the page shows
/// changed, checked every 100 ms. In process, the command answers what the page has
/// seen now; its route streams the changes of that answer.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Live {}

/// What the page has seen; an event goes out when any part moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Seen {
    /// Moves with every write to the world, the clock and the faults.
    pub world: (u64, i64, usize),
    /// The last API call's id.
    pub last_call: u64,
    /// Delivery attempts so far.
    pub attempts: usize,
}

/// One `change` event.
#[derive(Serialize)]
struct Change {
    world: bool,
    last_call: u64,
    deliveries: bool,
}

impl Command for Live {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/console/live";
    type Answer = Seen;

    fn apply(self, emulator: &Emulator) -> Result<Seen, Rejection> {
        Ok(seen(emulator))
    }
}

fn seen(emulator: &Emulator) -> Seen {
    Seen {
        world: emulator.world_version(),
        last_call: emulator.calls().last_id(),
        attempts: emulator.callbacks().attempts(),
    }
}

fn live_handler() -> MethodRouter<Arc<Emulator>> {
    get(live)
}

async fn live(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    headers: HeaderMap,
) -> Response {
    let conn = conn.map(|Extension(c)| c);
    if let Err(refused) = guard::admit(&emulator, conn.as_ref(), &headers, Live::METHOD, Live::BODY)
    {
        return refused.into_response();
    }
    let first = seen(&emulator);
    let stream = futures_util::stream::unfold((emulator, first), |(emulator, before)| async move {
        loop {
            tokio::time::sleep(TICK).await;
            let now = seen(&emulator);
            if now != before {
                let change = Change {
                    world: now.world != before.world,
                    last_call: now.last_call,
                    deliveries: now.attempts != before.attempts,
                };
                let data = serde_json::to_string(&change).unwrap_or_default();
                let event = Event::default().event("change").data(data);
                return Some((Ok::<_, Infallible>(event), (emulator, now)));
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
