//! `/cgi-bin/…`: the emulated service. One module per API family, mirroring the URL.
//!
//! Every JSON endpoint goes through [`endpoint`]: count, fault, authenticate, rate-limit,
//! decode, validate (with the shared rules of `wecom-kf-types`), handle, answer.

mod gettoken;
mod kf;
mod media;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use bytes::BytesMut;
use http_body_util::BodyExt;
use serde_json::error::Category;
use wecom_kf_types::{Endpoint, ErrCode};

use crate::reply::{self, Rejection};
use crate::server::Conn;
use crate::{Caller, Emulator, Fault};

/// JSON bodies larger than this are refused (40058); uploads have their own limit.
pub(crate) const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// How much of an oversized body is read and discarded before the connection is closed.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route(gettoken::PATH, any(gettoken::handle))
        .merge(kf::routes())
        .merge(media::routes())
        .fallback(unknown_api)
}

/// An endpoint the emulator serves: its request type and what it does.
pub(crate) trait Handle: Endpoint + Sized {
    /// Do the call. The request is already validated against the documented limits.
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<Self::Response, Rejection>;

    /// Build the request from the query string when called with `GET` (only
    /// `kf/account/list` allows that); `None`: GET is refused.
    fn from_query(_query: &HashMap<String, String>) -> Option<Result<Self, Rejection>> {
        None
    }

    /// The request to assume for an empty body, if the endpoint tolerates one.
    fn empty() -> Option<Self> {
        None
    }

    /// The success answer's bytes. Endpoints whose answers can be cached override it.
    fn render(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Bytes, Rejection> {
        reply::success(&Self::handle(emulator, caller, request)?)
    }
}

pub(crate) fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

/// A fault that acts before the call is handled; `Some` is the whole answer.
async fn before(
    fault: Option<&Fault>,
    conn: Option<&Conn>,
    ip: Option<IpAddr>,
) -> Option<Response> {
    match fault? {
        Fault::Errcode { errcode } => Some(Rejection::from(ErrCode(*errcode)).into_response(ip)),
        Fault::Http502 => Some(
            (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            )
                .into_response(),
        ),
        Fault::DropBeforeCommit => match conn {
            Some(conn) => conn.drop_now().await,
            None => Some(StatusCode::OK.into_response()),
        },
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            None
        }
        _ => None,
    }
}

/// A fault that acts after the call was handled (and committed).
async fn after(fault: Option<Fault>, response: Response, conn: Option<&Conn>) -> Response {
    let Some(fault) = fault else { return response };
    match fault {
        Fault::DropAfterCommit => match conn {
            Some(conn) => conn.drop_now().await,
            None => StatusCode::OK.into_response(),
        },
        Fault::Truncate => {
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            reply::raw_json(bytes[..bytes.len() / 2].to_vec())
        }
        Fault::NonJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>系统维护中 / under maintenance</body></html>",
        )
            .into_response(),
        Fault::Oversized => {
            let mut body = br#"{"errcode":0,"errmsg":"ok","padding":""#.to_vec();
            body.resize(body.len() + 8 * 1024 * 1024, b'x');
            body.extend_from_slice(br#""}"#);
            reply::raw_json(body)
        }
        _ => response,
    }
}

/// Decode the request: 40058 "Warning: wrong json format." for broken JSON, 40058 for
/// wrong types, the endpoint's own codes (via validation) for missing or bad values.
fn decode<E: Handle>(
    method: &Method,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<E, Rejection> {
    if method == Method::GET {
        return E::from_query(query).unwrap_or_else(|| {
            Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                "this API must be called with POST",
            ))
        });
    }
    if method != Method::POST {
        return Err(Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("{method} is not allowed; use POST"),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace)
        && let Some(request) = E::empty()
    {
        return Ok(request);
    }
    // serde would also read a struct from a JSON array; the service wants an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => {
                    Rejection::with(ErrCode::INVALID_PARAMETER, "the body must be a JSON object")
                }
                Err(err) => Rejection::with(
                    ErrCode::INVALID_PARAMETER,
                    format!("Warning: wrong json format. {err}"),
                ),
            },
        );
    }
    serde_json::from_slice::<E>(body).map_err(|err| match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("Warning: wrong json format. {err}"),
        ),
        Category::Data => Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("invalid parameter type: {err}"),
        ),
    })
}

fn check<E: Handle>(body: &[u8]) -> Result<(), Rejection> {
    let request = decode::<E>(&Method::POST, &HashMap::new(), body)?;
    request
        .validate()
        .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))
}

/// Decode and validate a `POST` body for the JSON endpoint at `path` exactly as the
/// emulator does before it touches any state: `Ok`, or the errcode it would answer.
/// Pure, so fuzzers and property tests can drive the request parsing directly.
pub fn check_request(path: &str, body: &[u8]) -> Result<(), Rejection> {
    use wecom_kf_types::kf::account::{AddAccount, DeleteAccount, ListAccounts, UpdateAccount};
    use wecom_kf_types::kf::contact_way::AddContactWay;
    match path {
        AddAccount::PATH => check::<AddAccount>(body),
        DeleteAccount::PATH => check::<DeleteAccount>(body),
        UpdateAccount::PATH => check::<UpdateAccount>(body),
        ListAccounts::PATH => check::<ListAccounts>(body),
        AddContactWay::PATH => check::<AddContactWay>(body),
        other => Err(Rejection::with(
            ErrCode::API_FORBIDDEN,
            format!("no such API: {other}"),
        )),
    }
}

/// The frame of every call: count it, inject the fault that applies (before or after
/// the work), and answer the result, or the rejection in the service's shape.
pub(crate) async fn framed<Fut>(
    emulator: &Emulator,
    path: &'static str,
    conn: Option<Extension<Conn>>,
    call: impl FnOnce() -> Fut,
) -> Response
where
    Fut: Future<Output = Result<Bytes, Rejection>>,
{
    let conn = conn.map(|Extension(c)| c);
    let ip = conn.as_ref().map(|c| c.peer.ip());
    emulator.count(path);
    let fault = emulator.pick_fault(path);
    if let Some(response) = before(fault.as_ref(), conn.as_ref(), ip).await {
        return response;
    }
    let response = match call().await {
        Ok(body) => reply::raw_json(body),
        Err(rejection) => rejection.into_response(ip),
    };
    after(fault, response, conn.as_ref()).await
}

/// The caller behind the query's access_token, within the API's rate limit.
pub(crate) fn caller(
    emulator: &Emulator,
    path: &'static str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Caller, Rejection> {
    let caller =
        emulator.authenticate(query.get("access_token").map(String::as_str), host(headers))?;
    emulator.rate_limit(path, query.get("debug").is_some_and(|d| d == "1"))?;
    Ok(caller)
}

/// Read a JSON body of at most [`JSON_BODY_LIMIT`] bytes. A larger one is read to its
/// end (up to [`DRAIN_LIMIT`], without keeping it) and refused with 40058, so the client
/// finishes sending and reads the answer.
async fn read_body(mut body: Body) -> Result<Bytes, Rejection> {
    let mut kept = BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("request body refused: {e}"),
            )
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total += chunk.len();
        if total <= JSON_BODY_LIMIT {
            kept.extend_from_slice(&chunk);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > JSON_BODY_LIMIT {
        return Err(Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("request body over {JSON_BODY_LIMIT} bytes"),
        ));
    }
    Ok(kept.freeze())
}

/// The pipeline every JSON endpoint shares.
pub(crate) async fn endpoint<E: Handle>(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    framed(&emulator, E::PATH, conn, || async {
        // The body first, whatever happens next: an early answer to a client still
        // sending would reach it as a broken pipe instead of the errcode.
        let body = read_body(body).await?;
        let query = parse_query(query.as_deref());
        let caller = caller(&emulator, E::PATH, &query, &headers)?;
        let request = decode::<E>(&method, &query, &body)?;
        request
            .validate()
            .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))?;
        E::render(&emulator, &caller, request)
    })
    .await
}

/// Any other path: the service answers JSON even here.
async fn unknown_api(
    conn: Option<Extension<Conn>>,
    method: Method,
    uri: axum::http::Uri,
) -> Response {
    let ip = conn.map(|Extension(c)| c.peer.ip());
    Rejection::with(
        ErrCode::API_FORBIDDEN,
        format!("no such API: {method} {}", uri.path()),
    )
    .into_response(ip)
}
