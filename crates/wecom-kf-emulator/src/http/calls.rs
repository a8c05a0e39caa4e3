//! The API call log the console shows: every `/cgi-bin/` call with its path, its
//! errcode and errmsg, and how long it took. Kept in memory, newest last, bounded.
//! Secrets never enter it: the query's `access_token` and `corpsecret` are masked
//! before the entry is made.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::state::{Emulator, lock};

/// Calls kept; older ones are dropped.
pub(crate) const KEPT: usize = 2000;
/// Request bodies are kept up to this many bytes (enough for any kf request but a
/// big menu), for the console to show what was sent and to link a refusal to its session.
const BODY_KEPT: usize = 4096;
/// Query parameters whose values are secrets.
const SECRET_PARAMETERS: [&str; 2] = ["access_token", "corpsecret"];

/// One call.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    /// Its number, from 1.
    pub id: u64,
    /// When it came, in Unix milliseconds (the real clock).
    pub at_ms: u64,
    /// `GET` or `POST`.
    pub method: String,
    /// The path, e.g. `/cgi-bin/kf/send_msg`.
    pub path: String,
    /// The query with secrets masked (`access_token=***`).
    pub query: String,
    /// The request body as text (cut at 4 KiB), if any. Kept as the bytes the endpoint
    /// read (no copy on the call's path) and made text when the log is read.
    #[serde(serialize_with = "body_text")]
    pub body: axum::body::Bytes,
    /// The HTTP status (200 but for injected faults).
    pub status: u16,
    /// The answer's errcode, when it was JSON with one.
    pub errcode: Option<i64>,
    /// The answer's errmsg.
    pub errmsg: Option<String>,
    /// Microseconds from the request to the answer.
    pub latency_us: u64,
}

/// What a rejection answered, put on the response by [`crate::http::reply`] so the log need
/// not read the body back.
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub errcode: i64,
    pub errmsg: String,
}

/// The request body an endpoint read, put on its response for the log.
#[derive(Clone, Debug)]
pub(crate) struct Sent(pub axum::body::Bytes);

/// The log.
pub(crate) struct Calls {
    kept: Mutex<VecDeque<Call>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Default for Calls {
    fn default() -> Self {
        Calls {
            kept: Mutex::new(VecDeque::with_capacity(KEPT)),
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

impl Calls {
    fn push(&self, mut call: Call) {
        call.id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut kept = lock(&self.kept);
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back(call);
    }

    /// The newest `limit` of the calls after `after` (by id), oldest first, optionally
    /// only those that answered `errcode`. A reader that fell further behind skips the
    /// older ones: the console shows the recent past, not every call.
    pub(crate) fn since(&self, after: u64, errcode: Option<i64>, limit: usize) -> Vec<Call> {
        let kept = lock(&self.kept);
        let mut calls: Vec<Call> = kept
            .iter()
            .rev()
            .filter(|c| c.id > after && errcode.is_none_or(|code| c.errcode == Some(code)))
            .take(limit)
            .cloned()
            .collect();
        calls.reverse();
        calls
    }

    /// The id of the newest call (0 when none).
    pub(crate) fn last_id(&self) -> u64 {
        self.next_id.load(std::sync::atomic::Ordering::Relaxed) - 1
    }

    pub(crate) fn clear(&self) {
        lock(&self.kept).clear();
    }
}

fn body_text<S: serde::Serializer>(
    body: &axum::body::Bytes,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

/// Mask the values of secret parameters in a raw query string.
pub(crate) fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            // Compare the decoded name, as the API reads it (`access%5Ftoken` too).
            let secret = form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_some_and(|(name, _)| SECRET_PARAMETERS.contains(&name.as_ref()));
            match pair.split_once('=') {
                Some((name, _)) if secret => format!("{name}=***"),
                _ => pair.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The middleware on `/cgi-bin/`: time the call and log its answer.
pub(crate) async fn record(
    State(emulator): State<Arc<Emulator>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let at_ms = unix_ms();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = mask_query(request.uri().query().unwrap_or_default());
    let response = next.run(request).await;
    let outcome = response.extensions().get::<Outcome>();
    let body = response
        .extensions()
        .get::<Sent>()
        // A small body is shared, not copied; of a large one only the head is kept, so
        // the log never holds whole request bodies.
        .map(|Sent(bytes)| {
            if bytes.len() <= BODY_KEPT {
                bytes.clone()
            } else {
                axum::body::Bytes::copy_from_slice(&bytes[..BODY_KEPT])
            }
        })
        .unwrap_or_default();
    let status = response.status().as_u16();
    let (errcode, errmsg) = match outcome {
        Some(o) => (Some(o.errcode), Some(o.errmsg.clone())),
        None if status == 200 => (Some(0), Some("ok".to_owned())),
        None => (None, None),
    };
    emulator.calls().push(Call {
        id: 0,
        at_ms,
        method,
        path,
        query,
        body,
        status,
        errcode,
        errmsg,
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_the_query_are_masked() {
        assert_eq!(
            mask_query("corpid=ww1&corpsecret=s3cr3t&debug=1"),
            "corpid=ww1&corpsecret=***&debug=1"
        );
        assert_eq!(mask_query("access_token=TOKEN"), "access_token=***");
        assert_eq!(mask_query(""), "");
        // Encoded names are what the API decodes: masked as well.
        assert_eq!(mask_query("access%5Ftoken=T&x=1"), "access%5Ftoken=***&x=1");
        assert_eq!(mask_query("corp%73ecret=S"), "corp%73ecret=***");
    }
}
