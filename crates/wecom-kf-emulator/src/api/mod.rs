//! `/cgi-bin/…`: the emulated service. One module per API family, mirroring the URL;
//! `registry` lists them all.
//!
//! Every JSON endpoint goes through [`endpoint`]: count, fault, authenticate, rate-limit,
//! decode, validate (with the shared rules of `wecom-kf-types`), call the world, answer.
//! Every answer under `/cgi-bin/` is HTTP 200 JSON, whatever the method or path.

mod gettoken;
mod kf;
mod media;
pub(crate) mod registry;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use bytes::BytesMut;
use http_body_util::BodyExt;
use serde_json::error::Category;
use wecom_kf_types::{Endpoint, ErrCode};

use crate::http::accept::Conn;
use crate::http::faults::Fault;
use crate::http::reply;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};
use registry::Route;

/// JSON bodies larger than this are refused (40058); uploads have their own limit.
pub(crate) const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// How much of an oversized body is read and discarded before the connection is closed.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
/// Distinct unknown paths counted in the stats; later ones are counted together.
const UNKNOWN_PATHS_COUNTED: usize = 1000;

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    registry::routes()
        .fold(Router::new(), |router, route| {
            router.route(route.path, (route.handler)())
        })
        .fallback(unknown_api)
}

/// An endpoint the emulator serves: its request type and what it does.
pub(crate) trait Handle: Endpoint + Sized + 'static {
    /// Whether the endpoint also takes the other method: a `POST` endpoint its request
    /// as query parameters with `GET` (`kf/account/list`, for older SDKs), a `GET`
    /// endpoint a JSON body with `POST` (`kf/get_corp_qualification`, whose method the
    /// documents disagree on).
    const ALSO_OTHER_METHOD: bool = false;

    /// Do the call. The request is already validated against the documented limits.
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<Self::Response, Rejection>;

    /// The request to assume for an empty body, if the endpoint tolerates one.
    fn empty() -> Option<Self> {
        None
    }

    /// The success answer's bytes. Endpoints whose answers can be cached override it.
    fn render(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Bytes, Rejection> {
        reply::success(&Self::handle(emulator, caller, request)?)
    }
}

/// 40058 for a method the endpoint does not take (docs/kf-api.md §6.1: "GET used where
/// POST required" is 40058).
pub(crate) fn wrong_method(method: &Method, expected: &str) -> Rejection {
    Rejection::with(
        ErrCode::INVALID_PARAMETER,
        format!("HTTP method {method} is not allowed here; use {expected}"),
    )
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
pub(crate) async fn before(
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
pub(crate) async fn after(
    fault: Option<Fault>,
    response: Response,
    conn: Option<&Conn>,
) -> Response {
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
        Fault::CutBody { after_bytes } => cut(response, after_bytes),
        _ => response,
    }
}

/// The answer as it is (status, headers, `Content-Length`) but the connection closed
/// after `after_bytes` bytes of its body: a connection cut in the middle of a download.
pub(crate) fn cut(response: Response, after_bytes: u64) -> Response {
    use futures_util::StreamExt as _;
    enum Cut<S> {
        Passing(S, u64),
        Failing,
        Done,
    }
    let (parts, body) = response.into_parts();
    let start = Cut::Passing(body.into_data_stream(), after_bytes);
    let stream = futures_util::stream::unfold(start, |state| async move {
        match state {
            Cut::Passing(mut stream, left) => match stream.next().await {
                Some(Ok(bytes)) if (bytes.len() as u64) < left => {
                    let left = left - bytes.len() as u64;
                    Some((Ok(bytes), Cut::Passing(stream, left)))
                }
                Some(Ok(bytes)) => {
                    let head = bytes.slice(..usize::try_from(left).unwrap_or(bytes.len()));
                    Some((Ok(head), Cut::Failing))
                }
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), Cut::Done)),
                None => None,
            },
            // An error from the body makes hyper close the connection mid-answer. Once
            // pending first, so that hyper flushes what was sent before it closes.
            Cut::Failing => Some((
                {
                    tokio::task::yield_now().await;
                    Err(std::io::Error::other("connection cut by fault injection"))
                },
                Cut::Done,
            )),
            Cut::Done => None,
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Decode the request: 40058 "Warning: wrong json format." for broken JSON, 40058 for
/// wrong types, the endpoint's own codes (via validation) for missing or bad values.
fn decode<E: Handle>(method: &Method, query: Option<&str>, body: &[u8]) -> Result<E, Rejection> {
    let is_get = E::METHOD == wecom_kf_types::Method::Get;
    let (takes_get, takes_post) = (
        is_get || E::ALSO_OTHER_METHOD,
        !is_get || E::ALSO_OTHER_METHOD,
    );
    match *method {
        Method::GET if takes_get => {
            return serde_urlencoded::from_str::<E>(query.unwrap_or_default()).map_err(|err| {
                Rejection::with(
                    ErrCode::INVALID_PARAMETER,
                    format!("invalid query parameter: {err}"),
                )
            });
        }
        Method::POST if takes_post => {}
        _ => {
            let expected = match (takes_get, takes_post) {
                (true, true) => "GET or POST",
                (true, false) => "GET",
                _ => "POST",
            };
            return Err(wrong_method(method, expected));
        }
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
        Category::Data => wrong_type::<E>(body),
    })
}

/// 40058 for a value of the wrong JSON type, naming the field. Numbers sent as strings
/// (`"limit":"100"`, common from PHP and Perl) are refused like any wrong type: the
/// official docs type them as numbers and nothing shows the real service accepting
/// strings, so a client that passes here passes there (docs/kf-api.md §6.4).
fn wrong_type<E: Handle>(body: &[u8]) -> Rejection {
    let mut de = serde_json::Deserializer::from_slice(body);
    let Err(err) = serde_path_to_error::deserialize::<_, E>(&mut de) else {
        return Rejection::with(ErrCode::INVALID_PARAMETER, "invalid parameter type");
    };
    let field = err.path().to_string();
    let inner = err.into_inner();
    let text = inner.to_string();
    let expects_number = [
        "expected u",
        "expected i",
        "expected f",
        "integer",
        "number",
    ]
    .iter()
    .any(|what| text.contains(what));
    let hint = if text.starts_with("invalid type: string") && expects_number {
        "; numbers must be sent as JSON numbers, e.g. 100, not \"100\""
    } else {
        ""
    };
    Rejection::with(
        ErrCode::INVALID_PARAMETER,
        format!("invalid parameter type at `{field}`: {text}{hint}"),
    )
}

fn check<E: Handle>(body: &[u8]) -> Result<(), Rejection> {
    let request = decode::<E>(&Method::POST, None, body)?;
    request
        .validate()
        .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))
}

/// Decode and validate a `POST` body for the JSON endpoint at `path` exactly as the
/// emulator does before it touches any state: `Ok`, or the errcode it would answer.
/// Pure, so fuzzers and property tests can drive the request parsing directly.
pub fn check_request(path: &str, body: &[u8]) -> Result<(), Rejection> {
    match registry::routes().find(|route| route.path == path) {
        Some(Route {
            check: Some(check), ..
        }) => check(body),
        Some(_) => Err(Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("{path} does not take a JSON body"),
        )),
        None => Err(not_implemented(path)),
    }
}

/// Every `/cgi-bin/` path the emulator serves, and whether it takes a JSON body that
/// [`check_request`] can check. Tests and fuzzers walk the API from this list.
pub fn api_paths() -> impl Iterator<Item = (&'static str, bool)> {
    registry::routes().map(|route| (route.path, route.check.is_some()))
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
    let mut sent = None;
    let slot = &mut sent;
    let mut response = framed(&emulator, E::PATH, conn, || async {
        // The body first, whatever happens next: an early answer to a client still
        // sending would reach it as a broken pipe instead of the errcode.
        let body = read_body(body).await?;
        *slot = Some(body.clone());
        let caller = caller(&emulator, E::PATH, &parse_query(query.as_deref()), &headers)?;
        let request = decode::<E>(&method, query.as_deref(), &body)?;
        request
            .validate()
            .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))?;
        E::render(&emulator, &caller, request)
    })
    .await;
    // For the console's call log.
    if let Some(body) = sent {
        response
            .extensions_mut()
            .insert(crate::http::calls::Sent(body));
    }
    response
}

/// A path the emulator does not serve. Not 48002: on the real service that means "this
/// app may not call this API" and sends users down the wrong road.
fn not_implemented(path: &str) -> Rejection {
    Rejection::with(
        ErrCode::NOT_IMPLEMENTED_BY_EMULATOR,
        format!("wecom-kf-emulator does not implement {path}; docs/kf-api.md lists what it serves"),
    )
}

/// Any other path: answered in JSON too, and counted under its path.
async fn unknown_api(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    uri: axum::http::Uri,
) -> Response {
    let ip = conn.map(|Extension(c)| c.peer.ip());
    let path = uri.path();
    emulator.count_unknown(path, UNKNOWN_PATHS_COUNTED);
    not_implemented(path).into_response(ip)
}
